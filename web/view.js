// view.js: draws one result, the Page JSON of py/localocr/result.py (`Page.to_dict()`), as it came
// from the worker: no layout is recomputed here.
//
//   the image (an <img>, which the browser draws scaled and decodes off the main thread)
//   an SVG overlay whose viewBox is the image's full-resolution pixel grid: line and word quads are
//     drawn with their own coordinates, whatever size the image is shown at
//   an invisible text layer: one element per line over its quad, so the browser's own selection and
//     copy work on the picture
//   the text panel: blocks and lines in reading order; low-confidence words marked
//   hover (or focus) on a line in the picture or in the panel highlights it in both

import { LOW_CONFIDENCE, linesOf, renderText } from "./textpanel.js";

export { LOW_CONFIDENCE, linesOf };

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

// Each line's text is drawn this fraction of its box height: glyphs with ascenders and descenders
// then fit the detector's box, which hugs the ink.
const TEXT_HEIGHT = 0.8;

export const quadPoints = (quad) => quad.map(([x, y]) => `${x},${y}`).join(" ");

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function svgEl(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

let current = null;   // {page, lines} of the result on screen

export function clearView() {
  $("overlay").replaceChildren();
  $("textlayer").replaceChildren();
  $("text").replaceChildren();
  current = null;
}

// Draws `page` over the image at `url`. Resolves once the image is decoded and every layer is in
// place; returns the milliseconds spent drawing (image decode included).
export async function showPage(page, url, name) {
  const start = performance.now();
  clearView();
  const img = $("image");
  img.alt = `${name}, with the text found in it outlined`;
  img.src = url;
  const figure = $("figure");
  figure.hidden = false;
  const decoded = img.decode().then(() => true, () => false);

  const lines = linesOf(page);
  current = { page, lines };
  drawOverlay(page, lines);
  drawPanel(page, lines);
  drawTextLayer(page, lines);
  if (!(await decoded)) figure.classList.add("no-image");
  else figure.classList.remove("no-image");
  fitTextLayer();
  return performance.now() - start;
}

// Shows only the image (an error, or a result not there yet); hides it if the browser cannot decode it.
export async function showImageOnly(url, name) {
  clearView();
  const img = $("image");
  img.alt = name;
  img.src = url;
  $("figure").classList.remove("no-image");
  const ok = await img.decode().then(() => true, () => false);
  $("figure").hidden = !ok;
}

function drawOverlay(page, lines) {
  const svg = $("overlay");
  svg.setAttribute("viewBox", `0 0 ${page.width} ${page.height}`);
  const words = svgEl("g", { class: "words" });
  const lineGroup = svgEl("g", { class: "lines" });
  for (const { line, index } of lines) {
    lineGroup.append(svgEl("polygon", { points: quadPoints(line.quad), class: "line", "data-line": index }));
    for (const word of line.words) {
      const low = word.confidence < LOW_CONFIDENCE;
      words.append(svgEl("polygon", { points: quadPoints(word.quad), class: low ? "word low" : "word",
        "data-line": index }));
    }
  }
  svg.append(lineGroup, words);
}

// The text panel: a list per block, a list item per line (textpanel.js).
function drawPanel(page, lines) {
  renderText($("text"), page, lines);
}

function drawTextLayer(page, lines) {
  const layer = $("textlayer");
  for (const { line, index } of lines) {
    const [p0, p1, , p3] = line.quad;
    const width = Math.hypot(p1[0] - p0[0], p1[1] - p0[1]);
    const height = Math.hypot(p3[0] - p0[0], p3[1] - p0[1]);
    const angle = Math.atan2(p1[1] - p0[1], p1[0] - p0[0]);
    const box = el("div", "tl-line");
    box.dataset.line = index;
    // Positions in % of the image: the layer scales with the image; font size in container units
    // (the layer is a size container) for the same reason. CSSOM writes, allowed under style-src 'self'.
    box.style.setProperty("left", `${(p0[0] / page.width) * 100}%`);
    box.style.setProperty("top", `${(p0[1] / page.height) * 100}%`);
    box.style.setProperty("width", `${(width / page.width) * 100}%`);
    box.style.setProperty("height", `${(height / page.height) * 100}%`);
    box.style.setProperty("--fh", String((height / page.height) * 100 * TEXT_HEIGHT));
    if (Math.abs(angle) > 1e-3) box.style.setProperty("transform", `rotate(${angle}rad)`);
    const text = el("span", "tl-text", line.text);
    box.append(text);
    layer.append(box);
  }
}

// Stretch each line's text to its box width, so a selection on the picture covers the words it
// shows. Both sizes are in container units, so the ratio holds at any display size: done once.
function fitTextLayer() {
  const boxes = Array.from($("textlayer").children);
  const widths = boxes.map((box) => [box.clientWidth, box.firstChild.offsetWidth]);   // read all, then write
  boxes.forEach((box, i) => {
    const [target, natural] = widths[i];
    if (target > 0 && natural > 0) box.firstChild.style.setProperty("transform", `scaleX(${target / natural})`);
  });
}

// Highlight line `index` in the picture, the text layer and the panel (null: none).
let lit = null;
function highlight(index) {
  if (lit === index) return;
  for (const node of document.querySelectorAll(".hl")) node.classList.remove("hl");
  lit = index;
  if (index === null) return;
  for (const node of document.querySelectorAll(`[data-line="${index}"]`)) node.classList.add("hl");
}

export function setupHighlight() {
  const over = (event) => {
    const target = event.target.closest?.("[data-line]");
    highlight(target ? Number(target.dataset.line) : null);
  };
  for (const id of ["textlayer", "text"]) {
    const node = $(id);
    node.addEventListener("pointerover", over);
    node.addEventListener("pointerleave", () => highlight(null));
  }
  // Keyboard: moving the caret/selection in the panel highlights the line it is in.
  document.addEventListener("selectionchange", () => {
    const node = document.getSelection()?.focusNode;
    const line = node && (node.nodeType === 1 ? node : node.parentElement)?.closest?.("#text [data-line]");
    if (line) highlight(Number(line.dataset.line));
  });
}

export function currentPage() {
  return current && current.page;
}

// The line being read aloud (readaloud.js) in the picture and the panel; null: none. A class of
// its own, so that hovering other lines does not clear it. The panel scrolls to keep it in view.
export function markReading(index) {
  for (const node of document.querySelectorAll(".reading")) node.classList.remove("reading");
  $("text").querySelector("[aria-current]")?.removeAttribute("aria-current");
  if (index === null) return;
  for (const node of document.querySelectorAll(`#overlay .line[data-line="${index}"], #text [data-line="${index}"]`)) {
    node.classList.add("reading");
  }
  const row = $("text").querySelector(`[data-line="${index}"]`);
  if (!row) return;
  row.setAttribute("aria-current", "true");
  const smooth = !matchMedia("(prefers-reduced-motion: reduce)").matches;
  row.scrollIntoView({ block: "nearest", inline: "nearest", behavior: smooth ? "smooth" : "auto" });
}
