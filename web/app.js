// app.js: the localocr web app. Boots the worker through localocr.js, keeps a queue of images
// (read one after another, each with its own state, stage and time), and shows the selected result
// (view.js). The OCR runs in the worker; this thread only moves bytes and draws.
//
// For tests and the console: globalThis.localocr (the createOCR instance), globalThis.localocrApp
// ({items, info, select}); <html data-ready="true|error"> once the runtime is up (or failed) and
// data-models="ready|error" once the models are loaded (or not).
import { createOCR } from "./localocr.js";
import { setupInputs } from "./inputs.js";
import { clearView, setupHighlight, showImageOnly, showPage } from "./view.js";
import { clearFields, fieldsKind, setupFields, showFields } from "./fields.js";
import { setupAccess } from "./a11y.js";

const $ = (id) => document.getElementById(id);

// Files larger than this are refused before they are read: 64 MB is far beyond any photo or scan
// (a 50 MP JPEG is ~25 MB) and keeps a mistaken drop of a video from filling the tab's memory.
const MAX_FILE_BYTES = 64 * 1024 * 1024;

// Start-up steps as the worker reports them, in order; the bar advances one step per stage.
const BOOT_STAGES = ["pyodide", "packages", "localocr", "onnxruntime", "models"];
const STAGE_WORDS = {
  pyodide: "Downloading the Python runtime (Pyodide)",
  packages: "Loading numpy and Pillow",
  localocr: "Installing localocr",
  onnxruntime: "Loading onnxruntime-web",
  models: "Downloading the OCR models",
};

const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const seconds = (ms) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`);

const state = {
  items: [],            // {id, name, file, url, state: queued|reading|done|error, stage, page, error, times}
  selected: null,       // id of the item on screen
  pinned: false,        // the person chose an item: finished reads no longer take over the view
  busy: false,
  info: null,           // the worker's runtime info
  bootStage: null,
  bytes: 0,
  modelsReady: false,
};

// ---------------------------------------------------------------- status and progress

function say(text, kind = "") {
  $("status-text").textContent = text;
  $("status").dataset.kind = kind;
}

function showDownload(stage, bytes) {
  const at = Math.max(0, BOOT_STAGES.indexOf(stage));
  $("download").hidden = false;
  $("status-bar").value = (at + 0.5) / BOOT_STAGES.length;
  $("download-bytes").textContent = `${mb(bytes)} downloaded`;
}

function onProgress(p) {
  if (p.stage === "page") {       // a multi-page image: pages read so far
    const item = state.items.find((it) => it.id === p.tag);
    if (item && item.state === "reading") { item.stage = `read page ${p.index + 1} of ${p.count}`; renderItem(item); }
    return;
  }
  if (p.stage === "image") {
    const item = state.items.find((it) => it.id === p.tag);
    if (!item || item.state !== "reading") return;
    item.stage = p.step === "detect" ? "finding text" : `reading ${p.lines} line${p.lines === 1 ? "" : "s"}`;
    renderItem(item);
    return;
  }
  state.bytes = p.bytes || state.bytes;
  if (BOOT_STAGES.includes(p.stage)) state.bootStage = p.stage;
  if (state.bootStage && !state.info) {
    say(`${STAGE_WORDS[state.bootStage]}… (first visit only; later visits start from the cache)`, "busy");
    showDownload(state.bootStage, state.bytes);
  } else if (state.bootStage === "models" && !state.modelsReady) {
    showDownload("models", state.bytes);
  }
}

// ---------------------------------------------------------------- backend and runtime info

// "WebGPU" or "WASM, N threads": what the worker chose (info), or what ran for one page.
function backendSummary(page) {
  const info = state.info;
  if (!info) return "";
  const name = page ? page.backend : info.backend;
  if (name === "webgpu") return "WebGPU";
  return `WASM, ${info.threads} thread${info.threads === 1 ? "" : "s"}`;
}

function showInfo() {
  const info = state.info;
  const rows = [
    ["Engine", `${backendSummary()} (onnxruntime-web ${info.ort})`],
    ["Threads", info.crossOriginIsolated
      ? `${info.threads}: ${info.threadsWhy}`
      : `1: the page is not cross-origin isolated (the server sends no COOP/COEP headers), so WASM cannot use threads`],
    ["WebGPU", info.backend === "webgpu" ? `used: ${info.backendWhy}` : `not used: ${info.backendWhy}`],
    ["Python", `Pyodide ${info.pyodide}, numpy + Pillow, localocr`],
    ["Downloaded", `${mb(state.bytes)} (runtime${state.modelsReady ? " and models" : ""})`],
    ["Start-up", seconds(info.timings.total_ms)],
    ["Privacy", "Images are read in this tab. Nothing is uploaded."],
  ];
  const dl = $("runtime-info");
  dl.replaceChildren();
  for (const [k, v] of rows) {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = k;
    dd.textContent = v;
    dl.append(dt, dd);
  }
}

// ---------------------------------------------------------------- errors in plain words

function explain(err) {
  const code = err && err.code;
  const message = String((err && err.message) || err);
  if (code === "no_model") {
    return "The OCR models are missing on this server (web/models/ holds no detector/recognizer .onnx), " +
      "so no image can be read. Whoever runs this site needs to add them.";
  }
  if (code === "bad_model") return `The OCR model on this server is broken or of the wrong kind: ${message}`;
  if (code === "worker_crashed") {
    return "The OCR engine stopped while reading this image (it may have run out of memory). " +
      "It has been restarted for the next image.";
  }
  if (code === "too_large_file") return message;
  return message;   // localocr's own messages are written for people (py/localocr/image.py)
}

// ---------------------------------------------------------------- the queue

let nextId = 1;
let access = null;      // a11y.js: read aloud, alt text, focus after a read

function add(files) {
  for (const file of files) {
    const item = { id: nextId++, name: file.name || "image", file, url: URL.createObjectURL(file),
      state: "queued", stage: "", page: null, error: null, times: { queued: performance.now() } };
    state.items.push(item);
    $("queue").append(itemNode(item));
    renderItem(item);
  }
  $("queue-section").hidden = false;
  document.body.classList.add("has-items");
  // New images take the view again: the first of them is shown, and each as it is read.
  state.pinned = false;
  select(state.items[state.items.length - files.length].id, false);
  say(`${files.length} image${files.length === 1 ? "" : "s"} added.`);
  pump();
}

function itemNode(item) {
  const li = document.createElement("li");
  li.className = "item";
  li.id = `item-${item.id}`;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "item-button";
  const thumb = document.createElement("img");
  thumb.className = "thumb";
  thumb.alt = "";
  thumb.src = item.url;
  thumb.addEventListener("error", () => thumb.classList.add("broken"));
  const text = document.createElement("span");
  text.className = "item-text";
  const name = document.createElement("span");
  name.className = "item-name";
  name.textContent = item.name;
  const status = document.createElement("span");
  status.className = "item-state";
  text.append(name, status);
  button.append(thumb, text);
  button.addEventListener("click", () => select(item.id, true));
  li.append(button);
  return li;
}

function itemStateText(item) {
  if (item.state === "queued") return "waiting";
  if (item.state === "reading") return item.stage ? `${item.stage}…` : "starting…";
  if (item.state === "done") {
    const n = item.page.blocks.reduce((s, b) => s + b.lines.length, 0);
    return `${n} line${n === 1 ? "" : "s"} · ${seconds(item.times.result - item.times.start)}`;
  }
  return `error: ${item.error}`;
}

function renderItem(item) {
  const li = $(`item-${item.id}`);
  if (!li) return;
  li.dataset.state = item.state;
  li.querySelector(".item-state").textContent = itemStateText(item);
  li.querySelector(".item-button").setAttribute("aria-current", String(item.id === state.selected));
  if (item.id === state.selected) renderHead(item);
}

async function pump() {
  if (state.busy) return;
  state.busy = true;
  try {
    let item;
    while ((item = state.items.find((it) => it.state === "queued"))) await readOne(item);
  } finally {
    state.busy = false;
  }
}

async function readOne(item) {
  item.state = "reading";
  item.times.start = performance.now();
  renderItem(item);
  say(`Reading ${item.name}…`, "busy");
  try {
    if (item.file.size > MAX_FILE_BYTES) {
      throw Object.assign(new Error(`This file is ${mb(item.file.size)}; files up to ${mb(MAX_FILE_BYTES)} can be read.`),
        { code: "too_large_file" });
    }
    // localocr.js reads the File into one ArrayBuffer and transfers it to the worker (no copy).
    if (await isDocument(item.file)) return await readDocumentItem(item);
    item.page = await ocr.read(item.file, { tag: item.id, render: true, name: item.name, fields: fieldsKind() });
    item.times.result = performance.now();
    item.state = "done";
    const n = item.page.blocks.reduce((s, b) => s + b.lines.length, 0);
    say(`Read ${item.name}: ${n} line${n === 1 ? "" : "s"} in ${seconds(item.times.result - item.times.start)}.`);
  } catch (err) {
    item.times.result = performance.now();
    item.state = "error";
    item.code = err.code || "error";
    item.error = explain(err);
    say(`Could not read ${item.name}: ${item.error}`, "error");
    if (err.code === "worker_crashed") restartEngine();
  }
  if (!state.pinned || state.selected === item.id) await select(item.id, false);
  else renderItem(item);
  if (state.selected === item.id) access.afterRead(item);
}

// ---------------------------------------------------------------- the result on screen

// A PDF, a TIFF, a GIF or a WebP: read as a document (web/localocr.js readDocument), each page a result of
// its own in the queue (the first takes the file's place); downloads give the whole document.
const PDF_MAGIC = [0x25, 0x50, 0x44, 0x46, 0x2d];        // %PDF- (within the first 1024 bytes)

async function isDocument(file) {
  const head = new Uint8Array(await file.slice(0, 1024).arrayBuffer());
  const at = (i, bytes) => bytes.every((b, k) => head[i + k] === b);
  for (let i = 0; i + 5 <= head.length; i++) if (at(i, PDF_MAGIC)) return true;
  return at(0, [0x49, 0x49, 0x2a, 0x00]) || at(0, [0x4d, 0x4d, 0x00, 0x2a])      // TIFF
    || at(0, [0x47, 0x49, 0x46, 0x38])                                            // GIF
    || (at(0, [0x52, 0x49, 0x46, 0x46]) && at(8, [0x57, 0x45, 0x42, 0x50]));     // WebP
}

async function readDocumentItem(item) {
  const pageItems = [];
  const fileName = item.name;
  let pageStart = item.times.start;          // each page's time runs from the previous page's result
  const place = (page, i, n) => {
    const own = i === 0 ? item : { id: nextId++, file: item.file, state: "done", stage: "", error: null,
      times: { queued: item.times.queued } };
    own.times.start = pageStart;
    pageStart = performance.now();
    own.name = n > 1 || page.source.page_number > 1 ? `${fileName} · page ${page.source.page_number}` : fileName;
    own.fileName = fileName;
    own.page = page;
    if (page.image) own.url = URL.createObjectURL(page.image);
    own.times.result = performance.now();
    own.state = "done";
    if (i > 0) {
      state.items.splice(state.items.indexOf(pageItems[pageItems.length - 1]) + 1, 0, own);
      $(`item-${pageItems[pageItems.length - 1].id}`).after(itemNode(own));
    } else {
      const thumb = $(`item-${item.id}`).querySelector(".thumb");
      thumb.classList.remove("broken");         // the PDF itself was no picture
      thumb.src = own.url || item.url;
      $(`item-${item.id}`).querySelector(".item-name").textContent = own.name;
    }
    pageItems.push(own);
    renderItem(own);
    say(`Read page ${i + 1} of ${n} of ${fileName}…`, "busy");
  };
  const doc = await ocr.readDocument(item.file, { name: fileName, tag: item.id, onPage: place });
  for (const it of pageItems) it.doc = doc;
  say(`Read ${fileName}: ${doc.pages.length} page${doc.pages.length === 1 ? "" : "s"}` +
    (doc.page_count > doc.pages.length ? ` of ${doc.page_count}` : "") + ".");
  const shown = state.items.find((it) => it.id === state.selected);
  if (!state.pinned || pageItems.includes(shown)) await select(item.id, false);
  else renderItem(item);
}

function renderHead(item) {
  $("result-title").textContent = item.name;
  const meta = [];
  if (item.state === "done") {
    const p = item.page;
    const words = p.blocks.reduce((s, b) => s + b.lines.reduce((t, l) => t + l.words.length, 0), 0);
    meta.push(`${p.width} × ${p.height} px`, `${words} word${words === 1 ? "" : "s"}`,
      `read in ${seconds(item.times.result - item.times.start)}`, backendSummary(p));
    // a page that fell back from WebGPU says why, next to it
    if (state.info && p.backend !== state.info.backend) meta.push(p.backend_detail);
    if (item.drawMs !== undefined) meta.push(`drawn in ${seconds(item.drawMs)}`);
    if (p.source) meta.push(`page ${p.source.page_number}${item.doc ? ` of ${item.doc.page_count}` : ""}, ${Math.round(p.source.dpi)} dpi` +
      (p.source.text_layer === "present" ? ", has a text layer (read by OCR)" : ""));
    // a page read turned or straightened says so (its boxes are on the image as given all the same)
    if (p.rotation) meta.push(`read turned ${p.rotation}° clockwise`);
    if (p.deskew) meta.push(`straightened by ${Math.abs(p.deskew).toFixed(1)}°`);
    // what was done to the input on the way (reduced to the working size, read as noise, ...)
    for (const note of p.notes || []) meta.push(note.message);
  } else if (item.state === "reading") meta.push(itemStateText(item));
  else if (item.state === "queued") meta.push("waiting for its turn");
  $("result-meta").textContent = meta.join(" · ");
}

async function select(id, byPerson) {
  if (byPerson) state.pinned = true;
  const item = state.items.find((it) => it.id === id);
  if (!item) return;
  const changed = state.selected !== id;
  state.selected = id;
  for (const it of state.items) renderItem(it);
  if (changed) $(`item-${id}`)?.scrollIntoView({ block: "nearest", inline: "nearest" });
  $("result").hidden = false;
  const error = $("result-error");
  error.hidden = item.state !== "error";
  error.textContent = item.state === "error" ? item.error : "";
  const done = item.state === "done";
  for (const b of ["copy", "copy-alt", ...Object.keys(EXPORTS)]) {
    $(b).disabled = !done || (b !== "copy" && b !== "copy-alt" && !exportable(item));
  }
  $("result").dataset.state = item.state;
  if (done) {
    const drawStart = performance.now();
    await showPage(item.page, item.url, item.name);
    showFields(item.page.fields);
    access.show(item.page);
    if (item.drawMs === undefined) {
      item.drawMs = performance.now() - drawStart;
      item.times.drawn = performance.now();
    }
    renderHead(item);
  } else if (changed || item.state === "error") {
    access.clear();
    clearView();
    clearFields();
    await showImageOnly(item.url, item.name);
  }
  if (byPerson) $("result").scrollIntoView({ block: "nearest" });
}

function selectedItem() {
  return state.items.find((it) => it.id === state.selected);
}

async function copyAll() {
  const item = selectedItem();
  if (!item || !item.page) return;
  try {
    await navigator.clipboard.writeText(item.page.text);
    say(`Copied the text of ${item.name} to the clipboard.`);
  } catch (e) {
    say(`The browser did not allow copying (${e.message || e}). Select the text and copy it yourself.`, "error");
  }
}

const EXPORTS = {
  "dl-txt": ["text", "txt", "text/plain;charset=utf-8"],
  "dl-json": ["json", "json", "application/json"],
  "dl-hocr": ["hocr", "hocr", "application/xhtml+xml"],
  "dl-alto": ["alto", "alto.xml", "application/xml"],
  "dl-pdf": ["pdf", "pdf", "application/pdf"],
};

// An image's text/json/hocr came with its result; its ALTO and PDF are made by reading it again as a
// document of one page (the same pages: the pipeline is deterministic), so that no image result holds
// the worker (a kept result stops its replacement for memory). A PDF's (or TIFF's) pages are kept
// for export, and exportable once all of them are read; downloads give the whole document.
const exportable = (item) => Boolean(item.doc || (item.page && item.page.exports));

async function exportOf(item, key) {
  if (item.doc) return item.doc.export(key);
  if (item.page.exports[key] !== undefined) return item.page.exports[key];
  const doc = await ocr.readDocument(item.file, { name: item.name });
  try {
    return await doc.export(key);
  } finally {
    doc.close();
  }
}

async function download(kind) {
  const item = selectedItem();
  if (!item || !item.page || !exportable(item)) return;
  const [key, ext, type] = EXPORTS[kind];
  let data;
  try {
    data = await exportOf(item, key);
  } catch (err) {
    say(`Could not make the ${ext} file: ${explain(err)}`, "error");
    return;
  }
  const blob = new Blob([data], { type });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `${(item.fileName || item.name).replace(/\.[^.]*$/, "") || "image"}.${ext}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);   // 10 s: long after the download started
  say(`Saved ${a.download}.`);
}

// Another kind of fields chosen: computed again in the worker from each page read (no OCR again).
async function changeFieldsKind(kind) {
  for (const item of state.items.filter((it) => it.state === "done")) {
    try {
      item.page.fields = await ocr.fields(item.page, kind);
    } catch (err) {
      say(`Could not find the fields of ${item.name}: ${explain(err)}`, "error");
    }
    if (item.id === state.selected) showFields(item.page.fields);
  }
}

// ---------------------------------------------------------------- start-up

// ?threads=N sets the WASM thread count (default: half the cores, 2 on 2 cores; see worker.js chooseThreads).
const threadsParam = Number(new URLSearchParams(location.search).get("threads"));
const ocr = createOCR({ onProgress, ...(Number.isInteger(threadsParam) && threadsParam > 0 ? { numThreads: threadsParam } : {}) });
globalThis.localocr = ocr;
globalThis.localocrApp = { state, items: state.items, select: (id) => select(id, true) };

async function loadModels() {
  state.bootStage = "models";
  say(`${STAGE_WORDS.models}…`, "busy");
  showDownload("models", state.bytes);
  try {
    await ocr.prepare();
    state.modelsReady = true;
    document.documentElement.dataset.models = "ready";
    $("download").hidden = true;
    say(state.items.length ? "Ready." : "Ready. Drop, paste or choose an image.");
  } catch (err) {
    document.documentElement.dataset.models = "error";
    $("download").hidden = true;
    say(explain(err), "error");
  }
  showInfo();
}

function restartEngine() {
  state.modelsReady = false;
  ocr.ready.then(() => loadModels(), () => {});
}

function boot() {
  // Apple keyboards paste with Cmd, not Ctrl.
  if (/Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent)) {
    for (const kbd of document.querySelectorAll(".drop-main kbd:first-of-type")) kbd.textContent = "⌘";
  }
  setupInputs({ add, say });
  setupHighlight();
  setupFields({ onKind: changeFieldsKind, say });
  access = setupAccess({ say, selected: selectedItem });
  $("copy").addEventListener("click", copyAll);
  for (const id of Object.keys(EXPORTS)) $(id).addEventListener("click", () => download(id));

  ocr.ready.then(
    (info) => {
      state.info = info;
      document.documentElement.dataset.ready = "true";
      showInfo();
      return loadModels();
    },
    (err) => {
      $("download").hidden = true;
      say(`Could not start: ${err.message}`, "error");
      document.documentElement.dataset.ready = "error";
    },
  );
}

boot();
