// <local-ocr>: a drop zone that reads the text of an image on this device, for pages that want a
// widget without code.
//
//   <script type="module" src="/tools/ocr/local-ocr-element.js"></script>
//   <local-ocr backend="auto" formats="image/png image/jpeg"></local-ocr>
//
// Attributes: backend ("auto" | "wasm" | "webgpu", as createOCR), formats (accepted MIME types or
// extensions, space or comma separated; default: common raster images), base (folder of localocr.js,
// default: this module's folder), threads (WASM thread cap).
// Events (bubbling, composed): `ready` {detail: runtime info}, `result` {detail: page JSON},
// `error` {detail: {message, code}}. Properties: `result` (the last page JSON), `read(file)`.
// Parts for ::part() styling: dropzone, choose, status, text, actions, readaloud.
// Works under `default-src 'self'`: no inline script or style (its CSS is local-ocr.css, linked).
//
// Keyboard and screen readers, as in the app: drop zone (Enter or Space: choose a file; Ctrl/Cmd+V
// pastes while focus is in the element) -> "Choose an image" -> the text found (a focusable
// region, a list per block; focus lands here after a read) -> copy / copy as alt text -> read
// aloud (local voices only). The status line is a polite live region ("12 lines read ...").

import { createOCR } from "./localocr.js";
import { altText } from "./alttext.js";
import { ReadAloud, readAloudBar } from "./readaloud.js";
import { linesOf, renderText } from "./textpanel.js";

const CSS = new URL("local-ocr.css", import.meta.url).href;
const DEFAULT_FORMATS = ["image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp", "image/tiff"];

function parseFormats(value) {
  const list = (value || "").split(/[\s,]+/).filter(Boolean);
  return list.length ? list : DEFAULT_FORMATS;
}

// A file matches "image/png", "image/*" or ".png".
function accepts(formats, file) {
  const name = (file.name || "").toLowerCase();
  const type = (file.type || "").toLowerCase();
  return formats.some((f) => {
    f = f.toLowerCase();
    if (f.startsWith(".")) return name.endsWith(f);
    if (f.endsWith("/*")) return type.startsWith(f.slice(0, -1));
    return type === f;
  });
}

export class LocalOCRElement extends HTMLElement {
  static observedAttributes = ["backend", "formats", "base", "threads"];

  #ocr = null;
  #result = null;
  #parts;

  constructor() {
    super();
    const root = this.attachShadow({ mode: "open" });
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = CSS;
    const zone = document.createElement("div");
    zone.part = "dropzone";
    zone.className = "zone";
    zone.tabIndex = 0;
    zone.setAttribute("role", "button");
    const input = document.createElement("input");
    input.type = "file";
    input.hidden = true;
    const hint = document.createElement("span");
    // the zone's name is this text (label in name): it says what Enter does
    hint.textContent = "Drop an image here, paste one, or press to choose a file. It is read on this device.";
    zone.append(hint);
    const choose = part("button", "choose", { type: "button" }, "Choose an image…");
    const status = part("p", "status", { role: "status", "aria-live": "polite" });
    const text = part("div", "text", { tabindex: "0", role: "region", "aria-label": "Text found, in reading order" });
    const copy = part("button", "copy", { type: "button" }, "Copy text");
    const copyAlt = part("button", "copy-alt", { type: "button" }, "Copy as alt text");
    const actions = part("div", "actions", { role: "group", "aria-label": "Copy" });
    actions.append(copy, copyAlt);
    const reader = new ReadAloud({ onChange: (r) => this.#reading(r) });
    const bar = readAloudBar(document, reader);
    bar.root.part = "readaloud";
    const result = document.createElement("div");
    result.className = "result";
    result.hidden = true;
    result.append(text, actions, bar.root);
    root.append(css, zone, input, choose, status, result);
    this.#parts = { zone, input, status, text, result, reader, bar };

    const pick = () => input.click();
    zone.addEventListener("click", pick);
    zone.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(); }
    });
    choose.addEventListener("click", pick);
    copy.addEventListener("click", () => this.#copy(this.#result?.text, "the text"));
    copyAlt.addEventListener("click", () => this.#copy(this.#result && altText(this.#result), "alt text"));
    input.addEventListener("change", () => { if (input.files[0]) this.#take(input.files[0]); input.value = ""; });
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      const file = e.dataTransfer && e.dataTransfer.files[0];
      if (file) this.#take(file);
    });
    this.addEventListener("paste", (e) => {
      const file = [...(e.clipboardData ? e.clipboardData.files : [])][0];
      if (file) { e.preventDefault(); this.#take(file); }
    });
    this.#syncAccept();
  }

  get result() { return this.#result; }

  connectedCallback() { this.#engine(); }     // start loading while the user picks a file

  disconnectedCallback() { this.#stop(); }

  attributeChangedCallback(name) {
    if (name === "formats") this.#syncAccept();
    else this.#stop();                          // backend/base/threads: the next read starts afresh
  }

  // Read an image (anything createOCR's read() takes); resolves to the page JSON, also sent as `result`.
  async read(image) {
    const name = (image && image.name) || "the image";
    this.#status(`Reading ${name}…`);
    const started = performance.now();
    try {
      const page = await this.#engine().read(image);
      this.#result = page;
      const lines = linesOf(page);
      const n = `${lines.length} line${lines.length === 1 ? "" : "s"}`;
      this.#status(`${n} read from ${name} in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
      this.#show(page, lines, n);
      this.#emit("result", page);
      return page;
    } catch (err) {
      this.#fail(err);
      throw err;
    }
  }

  #show(page, lines, n) {
    const { text, result, reader } = this.#parts;
    const focused = this.shadowRoot.activeElement !== null || document.activeElement === document.body;
    renderText(text, page, lines);
    text.setAttribute("aria-label", `Text found, ${n}, in reading order`);
    result.hidden = false;
    reader.load(lines.map(({ line, index }) => ({ text: line.text, index })), page.language || null);
    if (focused) text.focus();     // unless the person has moved on elsewhere in the page
  }

  // The line read aloud, highlighted in the text.
  #reading(reader) {
    const { text, bar } = this.#parts || {};
    if (!text) return;
    bar.update();
    for (const node of text.querySelectorAll(".reading")) node.classList.remove("reading");
    text.querySelector("[aria-current]")?.removeAttribute("aria-current");
    const row = reader.line === null ? null : text.querySelector(`[data-line="${reader.line}"]`);
    if (!row) return;
    row.classList.add("reading");
    row.setAttribute("aria-current", "true");
    row.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  async #copy(value, what) {
    if (!value) return;
    try {
      await navigator.clipboard.writeText(value);
      this.#status(`Copied ${what} (${value.length} characters).`);
    } catch (err) {
      this.#status(`The browser did not allow copying (${err.message || err}).`, true);
    }
  }

  #engine() {
    if (!this.#ocr) {
      try {
        const options = { backend: this.getAttribute("backend") || "auto", onProgress: (p) => this.#status(p.message) };
        if (this.hasAttribute("base")) options.base = this.getAttribute("base");
        if (this.hasAttribute("threads")) options.numThreads = Number(this.getAttribute("threads"));
        this.#ocr = createOCR(options);
      } catch (err) {
        this.#fail(err);
        return { read: () => Promise.reject(err) };
      }
      this.#ocr.ready.then(
        (info) => { this.#status("Ready. Nothing leaves this device."); this.#emit("ready", info); },
        () => {},                               // reported by the read that meets it
      );
    }
    return this.#ocr;
  }

  #stop() {
    this.#parts.reader.stop();
    if (this.#ocr) this.#ocr.terminate();
    this.#ocr = null;
  }

  #take(file) {
    const formats = parseFormats(this.getAttribute("formats"));
    if (!accepts(formats, file)) {
      this.#fail(Object.assign(new Error(`"${file.name}" is ${file.type || "of an unknown type"}; ` +
        `this reader accepts ${formats.join(", ")}`), { code: "unsupported_format" }));
      return;
    }
    this.read(file).catch(() => {});            // reported through the `error` event
  }

  #syncAccept() { this.#parts.input.accept = parseFormats(this.getAttribute("formats")).join(","); }

  #status(message, isError = false) {
    this.#parts.status.textContent = message;
    this.#parts.status.classList.toggle("error", isError);
  }

  #fail(err) {
    this.#status(`Could not read: ${err.message}`, true);
    this.#emit("error", { message: err.message, code: err.code || "error" });
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

// An element of the shadow tree, exposed for ::part() styling under its class name.
function part(tag, name, attrs = {}, text) {
  const node = document.createElement(tag);
  node.part = name;
  node.className = name;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

if (!customElements.get("local-ocr")) customElements.define("local-ocr", LocalOCRElement);
