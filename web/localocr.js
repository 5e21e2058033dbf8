// localocr.js: the ES module API around the worker (embed it in any page of your origin).
//
//   import { createOCR } from "./localocr.js";
//   const ocr = createOCR({ onProgress: (p) => console.log(p.stage, p.message, p.bytes) });
//   const info = await ocr.ready;            // {pyodide, ort, threads, crossOriginIsolated, timings}
//   const page = await ocr.read(fileOrBlobOrArrayBuffer);
//   ocr.terminate();
//
// Options (by name): base - URL of the folder holding worker.js and vendor/ (default: this module's
// folder); backend - "wasm" (the only one loaded today); numThreads - cap on WASM threads;
// onProgress - called with {stage, message, bytes}. If the worker dies, every pending call rejects
// with an Error whose code is "worker_crashed", and the next call starts a fresh worker.

export function createOCR({ base = new URL("./", import.meta.url), backend = "wasm", numThreads, onProgress } = {}) {
  if (backend !== "wasm") throw Object.assign(new Error(`backend ${backend} is not available`), { code: "no_backend" });
  let worker = null;
  let readyPromise = null;
  let nextId = 1;
  const pending = new Map();

  function failAll(error) {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  }

  function start() {
    worker = new Worker(new URL("worker.js", base), { type: "module", name: "localocr" });
    let settle;
    readyPromise = new Promise((resolve, reject) => { settle = { resolve, reject }; });
    const crash = (message) => {
      const error = Object.assign(new Error(`localocr worker stopped: ${message}`), { code: "worker_crashed" });
      settle.reject(error);
      failAll(error);
      worker.terminate();
      worker = null;                               // the next call starts a fresh one
    };
    worker.onmessage = ({ data }) => {
      if (data.type === "progress") onProgress && onProgress(data);
      else if (data.type === "ready") settle.resolve(data.info);
      else if (data.type === "fatal") crash(data.error.message);
      else if (data.type === "result" || data.type === "error") {
        const call = pending.get(data.id);
        if (!call) return;
        pending.delete(data.id);
        if (data.type === "result") call.resolve(data.value);
        else call.reject(Object.assign(new Error(data.error.message), { code: data.error.code }));
      }
    };
    worker.onerror = (event) => { event.preventDefault(); crash(event.message || "error in worker"); };
    worker.onmessageerror = () => crash("a message could not be decoded");
    worker.postMessage({ cmd: "init", options: { numThreads } });
    readyPromise.catch(() => {});                  // a crash is reported through the calls
  }

  function call(message, transfer = []) {
    if (!worker) start();
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id }, transfer);
    });
  }

  start();
  return {
    get ready() { if (!worker) start(); return readyPromise; },
    // image: File | Blob | ArrayBuffer | Uint8Array. The bytes are transferred to the worker, not copied.
    async read(image, options = {}) {
      let buffer;
      if (image instanceof ArrayBuffer) buffer = image;
      else if (ArrayBuffer.isView(image)) buffer = image.slice().buffer;
      else buffer = await image.arrayBuffer();
      return call({ cmd: "read", image: buffer, options }, [buffer]);
    },
    // Python code run in the worker (tests, benchmarks, diagnostics); resolves to its last value.
    exec(code) { return call({ cmd: "exec", code }); },
    resources() { return call({ cmd: "resources" }); },
    terminate() {
      if (worker) worker.terminate();
      worker = null;
      failAll(Object.assign(new Error("localocr terminated"), { code: "terminated" }));
    },
  };
}
