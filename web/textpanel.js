// textpanel.js: the text of a result as a screen reader can walk it, used by the app (view.js) and
// by <local-ocr>.
//
//   one list per block (role=list on a <p>: the panel's innerText, and a selection copied from it,
//   stay the page's own text, a blank line between blocks), one list item per line, so a reader
//   announces "list, 4 items" and moves line by line; several blocks are named "Block 2 of 5";
//   each low-confidence word is a <mark class="low"> whose CSS adds a visually hidden
//   " (low confidence)" (app.css, local-ocr.css): generated content is in the accessibility tree,
//   so it is announced, but not in innerText or in a copied selection.

// Words read with less confidence than this are marked. 0.6: picked by eye on the contract's
// [0, 1] confidences (mean per-character probability); below it a word is worth a second look.
export const LOW_CONFIDENCE = 0.6;

// Reading-order lines of a page: [{line, block, index}].
export function linesOf(page) {
  const out = [];
  page.blocks.forEach((block, b) => block.lines.forEach((line) => out.push({ line, block: b, index: out.length })));
  return out;
}

function el(doc, tag, className, text) {
  const node = doc.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Fills `panel` (emptied first) with the lines of `page`; each line element carries data-line=index.
export function renderText(panel, page, lines = linesOf(page)) {
  const doc = panel.ownerDocument;
  panel.replaceChildren();
  if (!lines.length) {
    panel.append(el(doc, "p", "empty", "No text was found in this image."));
    return;
  }
  const blocks = new Set(lines.map((l) => l.block)).size;
  let list = null;
  let lastBlock = -1;
  let nth = 0;
  for (const { line, block, index } of lines) {
    if (block !== lastBlock) {
      list = el(doc, "p", "block");
      list.setAttribute("role", "list");
      nth += 1;
      if (blocks > 1) list.setAttribute("aria-label", `Block ${nth} of ${blocks}`);
      panel.append(list);
      lastBlock = block;
    }
    const row = el(doc, "span", "line");
    row.setAttribute("role", "listitem");
    row.dataset.line = index;
    line.words.forEach((word, i) => {
      if (i) row.append(" ");
      if (word.confidence < LOW_CONFIDENCE) {
        const mark = el(doc, "mark", "low", word.text);
        mark.title = `read with ${Math.round(word.confidence * 100)}% confidence`;
        row.append(mark);
      } else {
        row.append(word.text);
      }
    });
    list.append(row);
  }
}
