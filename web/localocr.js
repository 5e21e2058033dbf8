// localocr.js: the ES module API around the worker. It sits at the root of the app and of the
// `serve.py --build` output; embed it in any page of the same origin:
//
//   import { createOCR } from "/tools/ocr/localocr.js";
//   const ocr = await createOCR({ backend: "auto", onProgress: (p) => console.log(p.stage, p.message) });
//   const page = await ocr.read(fileOrBlobOrImageBitmapOrCanvas);
//   console.log(page.text, page.blocks[0].lines[0].words[0]);   // {text, quad, confidence}
//   ocr.terminate();
//
// Options, by name only (a misspelt or positional option throws a TypeError that names it):
//   base        URL of the folder holding worker.js, vendor/ and models/ (default: this module's
//               folder). Must be on the page's origin: browsers start workers only from there.
//   backend     "auto" | "wasm" | "webgpu". "auto": WebGPU where the browser offers a real (hardware)
//               adapter, WASM otherwise; the WebGPU build of onnxruntime-web is downloaded only then.
//               "wasm": never WebGPU. "webgpu": the start fails (code "no_backend") without a real adapter.
//               `ready` gives {backend, backendWhy}; each result's backend/backend_detail say what ran
//               and why (a WebGPU failure switches to WASM at once, for that image, and says so).
//   allowSoftwareWebGPU  for tests only: accept a software (fallback) WebGPU adapter, ~500x slower.
//   numThreads  WASM threads, up to the number of cores (default: half the cores, at least 2
//               where there are 2, at most 4; more than
//               one only when the page is cross-origin isolated).
//   models      {detector, recognizer, accurate?}: model URLs relative to base (default: models/ beside
//               worker.js; naming your own detector/recognizer without `accurate` turns the second,
//               accurate recognizer tier off, since its threshold is calibrated for the bundled pair).
//   onProgress  called with {stage, message, bytes} while the runtime loads.
//   heapLimitMB the worker's WASM heap ceiling (default 512). WASM memory never shrinks: when a call
//               leaves the heap above it, the worker is replaced by a fresh one between calls (the
//               calls waiting are sent to the new worker: nothing is lost). `memory` says how often.
//
// `read()` takes a File, Blob, ImageBitmap, HTMLCanvasElement, OffscreenCanvas, ImageData,
// HTMLImageElement, ArrayBuffer or typed array, and resolves to the page JSON of py/localocr/result.py:
// {text, blocks: [{lines: [{text, words: [{text, quad, confidence}]}]}], timings, backend, ...}.
// Calls may overlap; they run one after the other in the one worker (Python there is single-threaded).
// A bad image rejects with localocr's own message and code (e.g. code "not_an_image"). If the worker
// dies, every pending call rejects with code "worker_crashed" and the next call starts a fresh worker.
// `terminate()` stops the worker at once; pending and later calls reject with code "terminated".
// `ready` resolves once the runtime started and the models (of createOCR's `models`) are loaded; the
// worker then reads one small generated page with them while nothing is asked of it (a warm-up: a
// read a moment later is about as fast as later ones; a read sent at once stops it). `prepare()` loads the models ahead of the first read where
// that start-up could not (e.g. other models than createOCR's; the app calls it at start).
// `read(image, {signal})`: an AbortSignal (AbortController, AbortSignal.timeout(ms)) that cancels this
// read: it rejects at once with an Error of code "aborted" (name "AbortError", the signal's reason as
// its cause); one not yet sent to the worker is never sent, one in the worker stops at its next stage
// (before the detector, between its runs, before each recognizer batch). Other reads go on.
// read's options are checked like createOCR's (by name; a misspelt key or a wrong type rejects with a
// TypeError of code "bad_option"): signal, fields, keep, models, and the app's tag (echoed in this
// read's progress events), render (page.exports: the text, json and hOCR renderings) and name.
// Types: localocr.d.ts beside this file; the page JSON's schema: page.schema.json.
// `read(image, {fields: "receipt" | "mrz" | "auto"})` also gives page.fields, the key fields of a
// receipt or an ID document's MRZ (py/localocr/fields), and reads the lines they come from (a
// receipt's company, address and total lines) with the accurate recognizer tier too; `fields(page, kind)`
// computes them again for a page read before, for another kind, without reading the image again.
//
// Documents: `readDocument(file, {pages, onPage, name, models})` reads every page of a PDF (rendered here with
// pdf.js, loaded on first use from vendor/pdfjs/), a multi-page TIFF or an animated GIF/WebP (every
// frame), or the one page of an image. `pages`: "1-3,7" (default all, at most 300). onPage(page, i, n) is
// called as each page is read. Resolves to {name, kind, page_count, pages: [page JSON + source:
// {page_number, dpi, text_layer}], export(format), close()}: export("pdf") gives a searchable PDF
// (Uint8Array), "alto" | "hocr" | "text" | "json" a string, "page" one PAGE XML string per page; close()
// frees the pages kept for export in the worker. `read()` given a PDF rejects with code "pdf" and says to
// use readDocument (a PDF has pages; read() gives one). Each page of readDocument carries `image`, a Blob
// of its picture (PNG of the rendered PDF page, JPEG of a frame). `read(image, {keep: true})` keeps the
// page in the worker too: its result then has export(format) and close() as well.
// Nothing here runs code of the caller's choosing in the worker (no `exec`): a page passes images.

import { scriptURL } from "./trusted-types.js";

const OPTIONS = ["base", "backend", "numThreads", "models", "onProgress", "allowSoftwareWebGPU", "heapLimitMB"];
const HEAP_LIMIT_MB = 512;   // a page leaves ~100-300 MiB (make bench: 291 MiB after 50 images)
const BACKENDS = ["auto", "wasm", "webgpu"];
const READ_OPTIONS = ["signal", "fields", "keep", "models", "tag", "render", "name"];
const FIELDS = ["receipt", "mrz", "auto"];

function fail(message, code, Type = Error) {
  return Object.assign(new Type(message), { code });
}

function describe(value) {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return (value.constructor && value.constructor.name) || "object";
}

// Options by name only: an object of known keys, else a TypeError (code "bad_option") that names the key.
function named(where, options, known, example) {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options) || options instanceof URL ||
      (typeof AbortSignal !== "undefined" && options instanceof AbortSignal)) {
    throw fail(`${where} takes its options by name, e.g. ${example}; got ${describe(options)}`, "bad_option", TypeError);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw fail(`${where}: unknown option "${key}" (known: ${known.join(", ")})`, "bad_option", TypeError);
    }
  }
  return options;
}

function checkOptions(options) {
  named("createOCR", options, OPTIONS, 'createOCR({ base: "/tools/ocr/" })');
  const { backend = "auto", numThreads, onProgress, heapLimitMB } = options || {};
  if (heapLimitMB !== undefined && !(typeof heapLimitMB === "number" && heapLimitMB > 0)) {
    throw fail(`createOCR: heapLimitMB must be a positive number; got ${JSON.stringify(heapLimitMB)}`, "bad_option", TypeError);
  }
  if (!BACKENDS.includes(backend)) {
    throw fail(`createOCR: backend must be one of ${BACKENDS.join(", ")}; got ${JSON.stringify(backend)}`, "bad_option", TypeError);
  }
  if (numThreads !== undefined && !(Number.isInteger(numThreads) && numThreads > 0)) {
    throw fail(`createOCR: numThreads must be a positive integer; got ${JSON.stringify(numThreads)}`, "bad_option", TypeError);
  }
  if (onProgress !== undefined && typeof onProgress !== "function") {
    throw fail(`createOCR: onProgress must be a function; got ${describe(onProgress)}`, "bad_option", TypeError);
  }
  return options || {};
}

// read()'s options (see the top): by name, each of its type.
function checkReadOptions(options) {
  const { signal, fields, keep, models, render, name } = named("read", options, READ_OPTIONS, "read(image, { signal })");
  const wrong = (key, what, value) => fail(`read: ${key} must be ${what}; got ${describe(value)}` +
    (typeof value === "string" ? ` ${JSON.stringify(value)}` : ""), "bad_option", TypeError);
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw wrong("signal", "an AbortSignal (new AbortController().signal)", signal);
  if (fields !== undefined && fields !== null && !FIELDS.includes(fields)) throw wrong("fields", `one of ${FIELDS.join(", ")}`, fields);
  for (const [key, value] of [["keep", keep], ["render", render]]) {
    if (value !== undefined && typeof value !== "boolean") throw wrong(key, "true or false", value);
  }
  if (name !== undefined && typeof name !== "string") throw wrong("name", "a string", name);
  if (models !== undefined && (models === null || typeof models !== "object" || Array.isArray(models))) {
    throw wrong("models", "an object {detector, recognizer, accurate?} of model URLs", models);
  }
  return options || {};
}

// The rejection of a read whose signal was aborted: code "aborted", named like the DOM's AbortError
// (what fetch() rejects with), the signal's reason as its cause.
function abortError(signal) {
  const reason = signal.reason;
  const why = reason instanceof Error ? reason.message : reason === undefined ? "" : String(reason);
  const error = fail(`read: aborted${why ? ` (${why})` : ""}`, "aborted");
  error.name = "AbortError";
  error.cause = reason;
  return error;
}

// The folder URL: relative to the page, with a trailing slash, on the page's own origin.
function resolveBase(base) {
  const url = new URL(base === undefined ? new URL("./", import.meta.url) : String(base), document.baseURI);
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  if (url.origin !== location.origin) {
    throw fail(`createOCR: base ${url.href} is not on this page's origin (${location.origin}); browsers start ` +
      "workers only from the page's own origin, so host localocr's files on this origin", "bad_option");
  }
  return url;
}

// Encode pixels as PNG (lossless) so that they go through the same decoder (Pillow) as files do.
async function pngOf(source) {
  const width = source.width;
  const height = source.height;
  if (!width || !height) {
    throw fail(`read: the ${describe(source)} has no pixels (${width}x${height}; a closed ImageBitmap?)`, "empty");
  }
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d");
  if (typeof ImageData !== "undefined" && source instanceof ImageData) ctx.putImageData(source, 0, 0);
  else ctx.drawImage(source, 0, 0);
  return (await canvas.convertToBlob({ type: "image/png" })).arrayBuffer();
}

// Any accepted input -> an ArrayBuffer of encoded image bytes, transferred to the worker (not copied).
// An ArrayBuffer passed in is transferred as it is (it is detached afterwards); a typed array is copied.
async function bytesOf(image) {
  if (image instanceof ArrayBuffer) return image;
  if (ArrayBuffer.isView(image)) return new Uint8Array(image.buffer, image.byteOffset, image.byteLength).slice().buffer;
  if (image instanceof Blob) return image.arrayBuffer();
  if (typeof HTMLImageElement !== "undefined" && image instanceof HTMLImageElement) {
    await image.decode().catch(() => { throw fail(`read: the <img> ${image.currentSrc || image.src} could not be decoded`, "not_an_image"); });
    return pngOf(await createImageBitmap(image));
  }
  const pixels = [globalThis.ImageBitmap, globalThis.HTMLCanvasElement, globalThis.OffscreenCanvas, globalThis.ImageData];
  if (pixels.some((T) => T && image instanceof T)) return pngOf(image);
  throw fail("read: expected a File, Blob, ImageBitmap, canvas, ImageData, <img>, ArrayBuffer or typed array; " +
    `got ${describe(image)}`, "bad_input", TypeError);
}

const isPdf = (bytes) => {
  const head = new Uint8Array(bytes, 0, Math.min(1024, bytes.byteLength));
  for (let i = 0; i + 4 < head.length; i++) {
    if (head[i] === 0x25 && head[i + 1] === 0x50 && head[i + 2] === 0x44 && head[i + 3] === 0x46 && head[i + 4] === 0x2d) return true;
  }
  return false;
};

export function createOCR(options) {
  const { backend = "auto", numThreads, models, onProgress, allowSoftwareWebGPU = false,
    heapLimitMB = HEAP_LIMIT_MB } = checkOptions(options);
  const base = resolveBase(options && options.base);
  const memory = { heapBytes: null, limitBytes: heapLimitMB * 2 ** 20, restarts: 0 };
  const keptKeys = new Set();       // results kept in the worker for export (see withExport)
  let worker = null;
  let readyPromise = null;
  let terminated = false;
  let nextId = 1;
  let queue = Promise.resolve();    // reads run one after the other
  const pending = new Map();

  function failAll(error) {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  }

  function start() {
    const own = new Worker(scriptURL(new URL("worker.js", base)), { type: "module", name: "localocr" });
    worker = own;
    let settle;
    readyPromise = new Promise((resolve, reject) => { settle = { resolve, reject }; });
    // code: the start-up error's own (e.g. "no_backend", "csp_blocks_wasm"), else "worker_crashed"
    const crash = (message, code = "worker_crashed") => {
      const error = fail(`localocr worker stopped: ${message}`, code);
      settle.reject(error);
      failAll(error);
      own.terminate();
      if (worker === own) worker = null;           // the next call starts a fresh one
    };
    own.onmessage = ({ data }) => {
      if (data.type === "progress") onProgress && onProgress(data);
      else if (data.type === "ready") settle.resolve({ ...data.info, backendRequested: backend });
      else if (data.type === "fatal") crash(data.error.message, data.error.code === "error" ? undefined : data.error.code);
      else if (data.type === "result" || data.type === "error") {
        if (typeof data.heap === "number") memory.heapBytes = data.heap;
        const call = pending.get(data.id);
        if (!call) return;
        pending.delete(data.id);
        if (data.type === "result") call.resolve(data.value);
        else call.reject(fail(data.error.message, data.error.code));
        // not while results are kept in this worker for export (readDocument, read's keep): close() them
        if (memory.heapBytes > memory.limitBytes && pending.size === 0 && worker === own && !keptKeys.size) recycle(own);
      }
    };
    own.onerror = (event) => { event.preventDefault(); crash(event.message || `cannot start ${new URL("worker.js", base).href}`); };
    own.onmessageerror = () => crash("a message could not be decoded");
    own.postMessage({ cmd: "init", options: { numThreads, backend, models, allowSoftwareWebGPU: allowSoftwareWebGPU === true } });
    readyPromise.catch(() => {});                  // a crash is reported through the calls
  }

  // The heap passed its ceiling and no call is in flight: a fresh worker now, so that it starts
  // while the page has nothing for it; reads sent from here on go to it (read() chains them).
  function recycle(old) {
    memory.restarts += 1;
    memory.heapBytes = null;
    old.terminate();
    worker = null;
    start();
    call({ cmd: "prepare", options: { models } }).catch(() => {});   // the pipeline, before the next read
  }

  // sent(id): told the id of the call as it is sent (read() aborts it by that id)
  function call(message, transfer = [], sent = null) {
    if (terminated) return Promise.reject(fail("this localocr instance was terminated; call createOCR() again", "terminated"));
    if (!worker) start();
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, worker });
      worker.postMessage({ ...message, id }, transfer);
      if (sent) sent(id);
    });
  }

  // Ask the worker that has call `id` to stop it at its next stage (it answers with code "aborted").
  function abortCall(id) {
    const c = pending.get(id);
    if (c) c.worker.postMessage({ cmd: "abort", id });
  }

  // A PDF: pages drawn here by pdf.js (web/pdfpages.js), at the resolution the worker's Python
  // chooses (localocr.document.choose_dpi), then read one by one like images and kept for export.
  async function readPdf(buffer, { pages, onPage, name, kept, serial }) {
    const { openPdf } = await import(new URL("pdfpages.js", import.meta.url).href);
    const pdf = await openPdf(buffer, base);
    try {
      const numbers = await serial(() => call({ cmd: "pages", spec: pages, count: pdf.pageCount }));
      const out = [];
      for (let i = 0; i < numbers.length; i++) {
        const n = numbers[i];
        const facts = await pdf.facts(n);
        const { _scan, ...plain } = facts;
        const plan = await serial(() => call({ cmd: "plan", facts: plain, options: { models: kept.models } }));
        const png = await pdf.image(n, plan, facts);
        const image = new Blob([png], { type: "image/png" });      // png itself goes to the worker
        const source = { number: n, dpi: plan.dpi, text_layer: facts.has_text ? "present" : "none" };
        const document_ = { name, kind: "pdf", page_count: pdf.pageCount };
        const page = await serial(() => call({ cmd: "read", image: png,
          options: { ...kept, source, document: document_, render: false } }, [png]));
        page.image = image;
        out.push(page);
        if (onPage) onPage(page, i, numbers.length);
      }
      return { name, kind: "pdf", page_count: pdf.pageCount, pages: out };
    } finally {
      await pdf.close();
    }
  }

  // export(format) / close() of a result kept in the worker (read's keep, readDocument).
  // While a result is kept, its worker is not replaced for memory (heapLimitMB): close() lets it go.
  function withExport(result, key) {
    const serial = (fn) => { const job = queue.then(fn); queue = job.catch(() => {}); return job; };
    return Object.defineProperties(result, {
      export: { value: (format) => serial(() => call({ cmd: "export", key, format })) },
      close: { value: () => { keptKeys.delete(key); return serial(() => call({ cmd: "forget", key })); } },
    });
  }

  start();
  return {
    // Resolves to {pyodide, ort, backend, backendWhy, threads, crossOriginIsolated, timings, ...} once started.
    get ready() {
      if (terminated) return Promise.reject(fail("this localocr instance was terminated", "terminated"));
      if (!worker) start();
      return readyPromise;
    },
    async read(image, readOptions) {
      const { signal, keep, ...rest } = checkReadOptions(readOptions);
      if (image === undefined || image === null) {
        throw fail(`read: needs an image (File, Blob, ImageBitmap, canvas, ...); got ${describe(image)}`, "bad_input", TypeError);
      }
      if (signal && signal.aborted) throw abortError(signal);          // nothing is sent
      const buffer = await bytesOf(image);
      if (isPdf(buffer)) {
        throw fail("read: this is a PDF; read() gives one page: use readDocument(file) to read its pages", "pdf");
      }
      if (signal && signal.aborted) throw abortError(signal);
      const key = keep ? `page-${nextId++}` : undefined;
      if (key) keptKeys.add(key);
      let sentId = null;
      // Aborted while waiting its turn: never sent. Sent: the worker stops it at its next stage; the
      // queue goes on once the worker has answered (Python there reads one image at a time).
      const job = queue.then(() => {
        if (signal && signal.aborted) throw abortError(signal);
        return call({ cmd: "read", image: buffer, options: { models, ...rest, keep: key } }, [buffer], (id) => { sentId = id; });
      });
      queue = job.catch(() => {});
      if (!signal) return key ? withExport(await job, key) : job;
      let onAbort;
      const aborted = new Promise((_, reject) => {
        onAbort = () => {
          reject(abortError(signal));
          if (sentId !== null) abortCall(sentId);
          if (key) {          // a page the worker kept before it saw the abort is let go
            keptKeys.delete(key);
            const forget = queue.then(() => call({ cmd: "forget", key }));
            queue = forget.catch(() => {});
          }
        };
        signal.addEventListener("abort", onAbort, { once: true });
      });
      try {
        const page = await Promise.race([job, aborted]);
        return key ? withExport(page, key) : page;
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    },
    async readDocument(source, docOptions = {}) {
      if (source === undefined || source === null) {
        throw fail(`readDocument: needs a PDF or image (File, Blob, ArrayBuffer, ...); got ${describe(source)}`, "bad_input", TypeError);
      }
      const { pages = null, onPage, name = source.name || "", tag, models: docModels = models } = docOptions;
      const buffer = await bytesOf(source);
      const key = `doc-${nextId++}`;
      keptKeys.add(key);
      const serial = (fn) => { const job = queue.then(fn); queue = job.catch(() => {}); return job; };
      const kept = { models: docModels, tag, keep: key, name };
      let result;
      const release = (e) => { keptKeys.delete(key); serial(() => call({ cmd: "forget", key })).catch(() => {}); throw e; };
      if (isPdf(buffer)) result = await readPdf(buffer, { pages, onPage, name, kept, serial }).catch(release);
      else {
        result = await serial(() => call({ cmd: "read_document", image: buffer, options: { ...kept, pages } }, [buffer]))
          .catch(release);
        // each page's picture, as kept for the PDF (JPEG): for showing it
        result.pages.forEach((p, i) => { p.image = new Blob([result.pictures[i]], { type: "image/jpeg" }); });
        delete result.pictures;
        if (onPage) result.pages.forEach((p, i) => onPage(p, i, result.pages.length));
      }
      return withExport(result, key);
    },
    // Fetch the models and build the pipeline now (read() does it on first use otherwise).
    prepare(prepareOptions = {}) { return call({ cmd: "prepare", options: { models, ...prepareOptions } }); },
    fields(page, kind = "auto") { return call({ cmd: "fields", page, kind }); },
    resources() { return call({ cmd: "resources" }); },
    // {heapBytes: the worker's WASM heap after its last call, limitBytes, restarts: workers replaced}
    get memory() { return { ...memory }; },
    terminate() {
      terminated = true;
      if (worker) worker.terminate();
      worker = null;
      failAll(fail("localocr terminated", "terminated"));
    },
  };
}
