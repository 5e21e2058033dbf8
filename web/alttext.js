// alttext.js: a short text alternative for an image, built from its result (the Page JSON of
// py/localocr/result.py), for people who post screenshots: "Copy as alt text".
//
// The most prominent lines come first: lines are put in tiers of text size (the height of the
// line's quad, the font size the detector saw) relative to the page's median line, biggest tier
// first, and inside a tier from the top of the image down, then left to right. A poster's or a
// web page's headline leads even below a menu bar; on a receipt, whose lines are mostly of one
// size, the shop's name at the top does.
//
// It lives next to the UI (not in py/localocr) because it is a view of a result the page already
// holds: no round trip to the worker, and the <local-ocr> element uses it as it is.

// A tier spans this factor of line height: body text is tier 0 (up to 1.8x the median line),
// headings of 1.8x-3.2x tier 1, and so on. 1.8: on 60 SROIE receipts read by the shipped models
// it kept the shop's name first as often as plain top-down order (30 vs 31, in the first three
// 51 vs 52), where a finer 1.3 (or tiers of 20% from the tallest line) let bold totals and
// "THANK YOU" footers jump ahead (26, 25); a web page's h1 is 2x its body text.
export const TIER_STEP = 1.8;

// Default length of the description: 250 characters read aloud take ~15 s, about what a
// screen-reader user expects of an image's alt text; sites allow more (1,000-1,500 characters),
// pass maxChars for them.
export const MAX_CHARS = 250;

// Lines read with less mean confidence than this are left out: a description should not guess.
// 0.5: below view.js's LOW_CONFIDENCE (0.6) mark, so a line with a few marked words still counts.
export const MIN_LINE_CONFIDENCE = 0.5;

const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]);

// A line's text height: the mean of its quad's left and right edges (clockwise from top-left).
export function lineHeight(quad) {
  return (dist(quad[0], quad[3]) + dist(quad[1], quad[2])) / 2;
}

// Lines worth describing, each {text, height, top, left}.
function candidates(page) {
  const out = [];
  for (const block of page.blocks || []) {
    for (const line of block.lines || []) {
      const text = (line.text || "").replace(/\s+/g, " ").trim();
      // no letter or digit (a rule, a dash, stray dots): nothing to say; nor a guess
      if (!/[\p{L}\p{N}]/u.test(text) || (line.confidence ?? 1) < MIN_LINE_CONFIDENCE) continue;
      const q = line.quad;
      out.push({ text, height: lineHeight(q), top: Math.min(...q.map((p) => p[1])),
        left: Math.min(...q.map((p) => p[0])) });
    }
  }
  return out;
}

// The lines of `page` in order of prominence: [{text, height, top, left, tier}].
export function prominentLines(page) {
  const lines = candidates(page);
  if (!lines.length) return lines;
  const heights = lines.map((l) => l.height).sort((a, b) => a - b);
  const median = heights[heights.length >> 1] || 1;
  for (const line of lines) line.tier = Math.max(0, Math.floor(Math.log(line.height / median) / Math.log(TIER_STEP)));
  return lines.sort((a, b) => b.tier - a.tier || a.top - b.top || a.left - b.left);
}

const ENDS_SENTENCE = /[.!?:;…]$/;

const more = (n) => (n ? ` (${n} more line${n === 1 ? "" : "s"})` : "");

// The text alternative: "Text in the image: A. B. C." with the most prominent lines first, at most
// `maxChars` characters; when lines are left out it says how many. "" when the image has no text.
export function altText(page, { maxChars = MAX_CHARS, prefix = "Text in the image: " } = {}) {
  const lines = prominentLines(page);
  if (!lines.length) return "";
  const parts = lines.map((line) => (ENDS_SENTENCE.test(line.text) ? line.text : `${line.text}.`));
  let n = parts.length;
  const build = (k) => prefix + parts.slice(0, k).join(" ") + more(lines.length - k);
  while (n > 1 && build(n).length > maxChars) n -= 1;
  let text = build(n);
  if (text.length > maxChars) {   // one line longer than the whole budget: cut it at a word
    const tail = more(lines.length - 1);
    const cut = (prefix + parts[0]).slice(0, maxChars - tail.length - 1);
    text = `${cut.replace(/\s+\S*$/, "") || cut}…${tail}`;
  }
  return text;
}
