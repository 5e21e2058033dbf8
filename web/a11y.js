// a11y.js: the app's read-aloud controls, "Copy as alt text", and where the keyboard focus goes
// after a read. app.js calls show/clear as results come and go, and afterRead when one is done.
//
// Keyboard order of the page (DOM order, nothing re-ordered by CSS): drop zone (Enter: choose
// files; Ctrl/Cmd+V pastes anywhere) -> "Choose images" -> "Take a photo" -> the queue -> the text
// found (a focusable region; focus lands here after a read) -> copy / alt text / downloads ->
// read aloud (play/pause, previous/next line, voice, speed).

import { altText } from "./alttext.js";
import { ReadAloud, readAloudBar } from "./readaloud.js";
import { linesOf, markReading } from "./view.js";

const $ = (id) => document.getElementById(id);

export function setupAccess({ say, selected }) {
  let bar = null;
  const reader = new ReadAloud({
    onChange: (r) => {
      bar?.update();
      markReading(r.line);
    },
  });
  bar = readAloudBar(document, reader);
  $("readaloud").append(bar.root);
  globalThis.localocrApp && (globalThis.localocrApp.reader = reader);   // for tests and the console

  $("copy-alt").addEventListener("click", async () => {
    const item = selected();
    if (!item || !item.page) return;
    const alt = altText(item.page);
    if (!alt) {
      say(`${item.name} has no text to describe.`);
      return;
    }
    try {
      await navigator.clipboard.writeText(alt);
      say(`Copied alt text for ${item.name} (${alt.length} characters): ${alt}`);
    } catch (e) {
      say(`The browser did not allow copying (${e.message || e}).`, "error");
    }
  });

  return {
    // A result is on screen: its lines are what read aloud speaks.
    show(page) {
      const lines = linesOf(page);
      const n = lines.length;
      $("text").setAttribute("aria-label", `Text found, ${n} line${n === 1 ? "" : "s"}, in reading order`);
      reader.load(lines.map(({ line, index }) => ({ text: line.text, index })), page.language || null);
    },
    clear() {
      reader.load([]);
    },
    // A read finished and is shown: focus goes to its text (or its error), unless the person has
    // moved on to something else (another control, the camera, the details below).
    afterRead(item) {
      const active = document.activeElement;
      const free = !active || active === document.body || $("input").contains(active) ||
        $("result").contains(active);
      if (!free) return;
      const target = item.state === "done" ? $("text") : $("result-error");
      if (!target.hidden) target.focus();
    },
  };
}
