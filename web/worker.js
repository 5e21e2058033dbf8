// localocr worker: Pyodide + onnxruntime-web in one module worker (no second proxy worker).
//
// Protocol (all messages are plain objects):
//   page -> worker  {cmd: "init", options: {numThreads?}}          once, first
//                   {id, cmd: "exec", code}                         run Python (async), reply its value
//                   {id, cmd: "read", image: ArrayBuffer, options}  OCR one image (needs the pipeline + models)
//                       options.tag: echoed in this read's {type: "progress", stage: "image", tag, step,
//                         lines} messages (step "detect" | "recognize"; lines: lines sent to the recognizer so far)
//                       options.render: also return page.exports = {text, json, hocr}, the Python renderers'
//                         output (options.name: the image name written into the hOCR)
//                   {id, cmd: "prepare", options}                   fetch the models and build the pipeline now
//   worker -> page  {type: "progress", stage, message, bytes}      while loading (bytes = body bytes so far)
//                   {type: "ready", info}                          runtime versions, threads, timings (ms)
//                   {type: "result", id, value} | {type: "error", id, error: {message, code}}
//                   {type: "fatal", error}                          the runtime is broken: the page must
//                                                                   reject pending calls and start afresh
// Every file comes from this worker's own origin: vendor/ holds the runtime laid out by tools/runtime.py.

const VENDOR = new URL("./vendor/", import.meta.url);
const t0 = performance.now();
const timings = {};
let pyodide = null;
let ort = null;
let ready = null;
let bytesLoaded = 0;

function progress(stage, message) {
  postMessage({ type: "progress", stage, message, bytes: bytesLoaded });
}

// Resource timing sees every fetch this worker makes (Pyodide's and ORT's included): count the bytes.
// encodedBodySize is what crossed the wire (compressed), decodedBodySize what it unpacked to.
const resources = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    resources.push({ url: e.name, transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize });
    bytesLoaded += e.encodedBodySize;
    postMessage({ type: "progress", stage: "file", message: e.name.replace(VENDOR.href, "vendor/"), bytes: bytesLoaded });
  }
}).observe({ type: "resource", buffered: true });

async function timed(name, fn) {
  const start = performance.now();
  const value = await fn();
  timings[name] = performance.now() - start;
  return value;
}

// Only a finite thread count that the host allows: SharedArrayBuffer exists only when the page is
// cross-origin isolated (COOP+COEP). ORT defaults to 1 thread on 2 cores, so set it explicitly.
function chooseThreads(requested) {
  if (!self.crossOriginIsolated) return { threads: 1, why: "not cross-origin isolated (host sends no COOP/COEP)" };
  const cores = navigator.hardwareConcurrency || 1;
  // 4: ORT's own cap for its default; beyond that WASM threads add little for these models.
  const threads = Math.max(1, Math.min(requested || cores, 4));
  return { threads, why: `${cores} cores` };
}

// The JS half of the bridge (py/localocr/backends/pyodide.py is the Python half).
function makeBridge(threadInfo) {
  const detail = `${threadInfo.threads} thread${threadInfo.threads > 1 ? "s" : ""} (${threadInfo.why}); ` +
    "WebGPU not used: the WASM build is the one loaded";
  return {
    // threads: what onnxruntime-web holds after its start (it would drop to 1 without isolation).
    info: () => ({ name: "wasm", detail, threads: ort.env.wasm.numThreads }),
    // model: Uint8Array. Resolves to an ort.InferenceSession.
    createSession: (model, name) =>
      ort.InferenceSession.create(model, { executionProviders: ["wasm"], graphOptimizationLevel: "all" })
        .catch((e) => { throw new Error(`cannot load model ${name}: ${e.message || e}`); }),
    // view: a PyProxy of a C-contiguous numpy array; its buffer is viewed, not copied (see pyodide.py).
    tensorFromBuffer: (view, ortType, bufType, dims) => {
      const buf = view.getBuffer(bufType);
      const tensor = new ort.Tensor(ortType, buf.data, Array.from(dims));
      return { tensor, release: () => buf.release() };
    },
    tensorFromArray: (ortType, data, dims) => new ort.Tensor(ortType, data, Array.from(dims)),
    run: (session, feeds) => session.run(Object.fromEntries(feeds)),
    // For tools/bench_runtime.py: the same run timed from JS alone (no Python), median of n, in ms.
    timeRuns: async (session, name, tensor, n) => {
      const times = [];
      for (let i = 0; i < n; i++) {
        const start = performance.now();
        const out = await session.run({ [name]: tensor });
        times.push(performance.now() - start);
        for (const t of Object.values(out)) t.dispose();
      }
      return times.sort((a, b) => a - b)[Math.floor(n / 2)];
    },
    now: () => performance.now(),
  };
}

// The smallest valid WebAssembly module (magic number + version 1).
const EMPTY_WASM = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

// A page whose Content-Security-Policy forbids WebAssembly would otherwise hang inside Pyodide's
// start-up (it swallows the compile error): say so at once, with the fix.
async function checkWebAssembly() {
  try {
    await WebAssembly.compile(EMPTY_WASM);
  } catch (e) {
    throw Object.assign(new Error("this page may not run WebAssembly: its Content-Security-Policy needs " +
      `'wasm-unsafe-eval' in script-src (${e.message})`), { code: "csp_blocks_wasm" });
  }
}

async function boot(options) {
  await checkWebAssembly();
  progress("pyodide", "loading Python (Pyodide)");
  const { loadPyodide } = await import(new URL("pyodide/pyodide.mjs", VENDOR).href);
  pyodide = await timed("pyodide_boot_ms", () => loadPyodide({
    indexURL: new URL("pyodide/", VENDOR).href,
    stdout: (s) => console.log(s),
    stderr: (s) => console.warn(s),
  }));
  progress("packages", "loading numpy and Pillow");
  // Resolved by name from pyodide-lock.json; the wheels sit beside it and Pyodide checks their sha256.
  await timed("packages_load_ms", () => pyodide.loadPackage(["numpy", "pillow"], { messageCallback: () => {} }));
  await timed("packages_import_ms", () => pyodide.runPythonAsync("import numpy, PIL.Image"));

  progress("localocr", "installing localocr");
  const index = await (await fetch(new URL("runtime.json", VENDOR))).json();
  await timed("localocr_install_ms", () =>
    pyodide.loadPackage(new URL(index.localocr_wheel, VENDOR).href, { messageCallback: () => {} }));

  progress("onnxruntime", "loading onnxruntime-web");
  ort = await timed("ort_import_ms", () => import(new URL("ort/ort.wasm.min.mjs", VENDOR).href));
  const threadInfo = chooseThreads(options.numThreads);
  ort.env.wasm.wasmPaths = new URL("ort/", VENDOR).href;  // our origin, never a CDN
  ort.env.wasm.numThreads = threadInfo.threads;
  ort.env.wasm.proxy = false;                              // we already are the worker
  pyodide.registerJsModule("localocr_js", makeBridge(threadInfo));
  timings.total_ms = performance.now() - t0;
  return {
    pyodide: pyodide.version,
    ort: ort.env.versions ? ort.env.versions.web : "",
    crossOriginIsolated: self.crossOriginIsolated,
    threads: threadInfo.threads,
    threadsWhy: threadInfo.why,
    hardwareConcurrency: navigator.hardwareConcurrency,
    timings,
    bytes: bytesLoaded,
  };
}

const namespace = () => (self._ns ||= pyodide.globals.get("dict")());

function toPlain(value) {
  if (value && typeof value.toJs === "function") {
    const out = value.toJs({ dict_converter: Object.fromEntries, create_pyproxies: false });
    value.destroy();
    return out;
  }
  return value;
}

async function execPython(code) {
  return toPlain(await pyodide.runPythonAsync(code, { globals: namespace() }));
}

// The page's "read" call: decode + OCR in Python (py/localocr's OCR.read_async). Models come from
// models/ beside this worker: `<kind>.int8.onnx` (smaller, for WASM) if present, else `<kind>.onnx`,
// as localocr.pipeline.bundled_model picks them; `options.models` ({detector, recognizer} URLs) overrides.
async function fetchModel(kind, explicit) {
  const base = new URL("./", import.meta.url);
  const candidates = explicit ? [explicit] : [`models/${kind}.int8.onnx`, `models/${kind}.onnx`];
  for (const path of candidates) {
    const response = await fetch(new URL(path, base));
    if (response.ok) return new Uint8Array(await response.arrayBuffer());
  }
  throw Object.assign(new Error(`no ${kind} model (tried ${candidates.join(", ")})`), { code: "no_model" });
}

let ocrModels = null;   // the model URLs the Python-side OCR object was built with

// One build at a time: a "prepare" and a "read" that arrive together share it.
let ocrBuilding = null;   // {key, promise}
function prepareOCR(options) {
  const key = JSON.stringify(options.models || null);
  if (ocrModels === key) return Promise.resolve();
  if (!ocrBuilding || ocrBuilding.key !== key) {
    const promise = buildOCR(options, key);
    ocrBuilding = { key, promise };
    const done = () => { if (ocrBuilding && ocrBuilding.promise === promise) ocrBuilding = null; };
    promise.then(done, done);
  }
  return ocrBuilding.promise;
}

async function buildOCR(options, key) {
  const ns = namespace();
  const models = options.models || {};
  ns.set("_detector", await fetchModel("detector", models.detector));
  ns.set("_recognizer", await fetchModel("recognizer", models.recognizer));
  await execPython(`
from localocr import OCR
from localocr.backends.pyodide import PyodideBackend
_ocr = OCR(detector=_detector.to_bytes(), recognizer=_recognizer.to_bytes(), backend=PyodideBackend())
del _detector, _recognizer
`);
  ocrModels = key;
}

async function readImage(image, options) {
  await prepareOCR(options);
  const ns = namespace();
  const tag = options.tag === undefined ? null : options.tag;
  ns.set("_image", new Uint8Array(image));
  ns.set("_report", (step, lines) => postMessage({ type: "progress", stage: "image", tag, step, lines }));
  ns.set("_render", options.render ? String(options.name || "") : null);
  // A LocalOCRError (bad image, bad model) comes back as its message and code, not a traceback.
  // _reporting passes the pipeline's own steps through unchanged, telling the page which model runs.
  const out = await execPython(`
import json
from localocr import LocalOCRError, modelmeta
from localocr.pipeline import run_async

def _reporting(gen, detector, report):
    lines = 0
    try:
        step = next(gen)
        while True:
            if step[0] is detector:
                report("detect", 0)
            else:
                lines += int(step[1][modelmeta.RECOGNIZER_INPUT].shape[0])
                report("recognize", lines)
            step = gen.send((yield step))
    except StopIteration as stop:
        return stop.value

try:
    _page = await run_async(_reporting(_ocr.read_steps(_image.to_bytes()), _ocr.detector.session, _report))
    _out = {"page": _page.to_dict()}
    if _render is not None:
        # the same renderers as the CLI's --format text|json|hocr
        _out["page"]["exports"] = {"text": _page.to_text(), "hocr": _page.to_hocr(image_name=_render),
                                   "json": json.dumps(_page.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\\n"}
    del _page
except LocalOCRError as err:
    _out = {"error": str(err), "code": err.code}
del _image, _report, _render
_out
`);
  if (out.error) throw Object.assign(new Error(out.error), { code: out.code });
  return out.page;
}

function errorOf(e) {
  return { message: String((e && e.message) || e), code: (e && e.code) || "error" };
}

self.onmessage = async ({ data }) => {
  if (data.cmd === "init") {
    ready = boot(data.options || {});
    ready.then(
      (info) => postMessage({ type: "ready", info }),
      (e) => postMessage({ type: "fatal", error: errorOf(e) }),
    );
    return;
  }
  const { id } = data;
  try {
    if (!ready) throw new Error("worker not initialised");
    await ready;
    let value;
    if (data.cmd === "exec") value = await execPython(data.code);
    else if (data.cmd === "read") value = await readImage(data.image, data.options || {});
    else if (data.cmd === "prepare") value = (await prepareOCR(data.options || {}), true);
    else if (data.cmd === "resources") value = resources;
    else throw new Error(`unknown command ${data.cmd}`);
    postMessage({ type: "result", id, value });
  } catch (e) {
    postMessage({ type: "error", id, error: errorOf(e) });
    // A Pyodide fatal error leaves the interpreter unusable: tell the page to start afresh.
    if (e && e.pyodide_fatal_error) {
      postMessage({ type: "fatal", error: errorOf(e) });
    }
  }
};
