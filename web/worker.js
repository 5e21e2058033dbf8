// localocr worker: Pyodide + onnxruntime-web in one module worker (no second proxy worker).
//
// Protocol (all messages are plain objects):
//   page -> worker  {cmd: "init", options: {numThreads?, backend?, models?, allowSoftwareWebGPU?}}  once, first
//                       models: as in "read" below; fetched and started beside Pyodide (startModels)
//                       backend "auto" | "wasm" | "webgpu" (see chooseBackend)
//                   {id, cmd: "read", image: ArrayBuffer, options}  OCR one image (needs the pipeline + models)
//                       options.tag: echoed in this read's {type: "progress", stage: "image", tag, step,
//                         lines} messages (step "detect" | "recognize"; lines: lines sent to the recognizer so far)
//                       options.render: also return page.exports = {text, json, hocr}, the Python renderers'
//                         output (options.name: the image name written into the hOCR)
//                       options.fields: "receipt" | "mrz" | "auto": also return page.fields, the key fields
//                         (py/localocr/fields; the json export then carries them too, as the CLI's --fields)
//                   {id, cmd: "fields", page, kind}                 the fields object of a page JSON read before
//                       options.keep: a document key: the page (and its picture) is kept in that document,
//                         for "export"; options.source: {number, dpi, text_layer} of a page rendered from a
//                         PDF (web/pdfpages.js), options.document: {name, kind, page_count} of its document
//                   {id, cmd: "read_document", image, options}     every page/frame of a multi-page TIFF or
//                       animated GIF/WebP (a plain image: one page), kept under options.keep; options.pages
//                       ("1-3,7"); {type: "progress", stage: "page", tag, index, count} after each page
//                   {id, cmd: "plan", facts}                       a PDF page's {dpi, width, height, native}
//                   {id, cmd: "export", key, format}               a kept document as text | json | hocr | alto |
//                                                                   page (a list, one per page) | pdf (bytes)
//                   {id, cmd: "forget", key}                       drop a kept document
//                   {id, cmd: "prepare", options}                   fetch the models and build the pipeline now
//                   {cmd: "abort", id}                              stop read `id` at its next stage (before the
//                       detector, between its runs, before each recognizer batch): it answers with an
//                       error of code "aborted"; a read already answered is not affected
//   worker -> page  {type: "progress", stage, message, bytes}      while loading (bytes = body bytes so far)
//                   {type: "ready", info}                          runtime versions, threads, timings (ms)
//                   {type: "result", id, value, heap} | {type: "error", id, error: {message, code}, heap}
//                                                                   heap: this worker's WASM memory, bytes
//                   {type: "fatal", error}                          the runtime is broken: the page must
//                                                                   reject pending calls and start afresh
// No message runs code of the sender's choosing. For developers and the tests there is
// `self.localocrDiagnostics.exec(code)` (below): a property of this worker's own global scope, which
// devtools and Playwright (tools/browser.py worker_exec) can reach and no page script can.
// Every file comes from this worker's own origin: vendor/ holds the runtime laid out by tools/runtime.py.

import { installDefaultPolicy } from "./trusted-types.js";

installDefaultPolicy();     // onnxruntime-web starts its thread workers from plain URLs
const BASE = new URL("./", import.meta.url);
const VENDOR = new URL("./vendor/", import.meta.url);
const t0 = performance.now();

// boot.json (tools/boot.py): the packages to load, the model per kind, and every file the first
// image needs. Those are requested at once, in this worker's first moment (preload.js hands each
// response to the fetch() of Pyodide or onnxruntime-web that asks for it later). Its helpers are
// imported beside it, not as static imports, which would delay this first fetch by a round trip;
// Pyodide and onnxruntime-web start only once they are in: wasm-heap.js must see every WebAssembly
// memory they create (self.__wasmHeapBytes), preload.js must wrap fetch() before they use it.
const plan = fetch(new URL("boot.json", BASE)).then(async (response) => {
  if (!response.ok) {
    throw Object.assign(new Error(`${new URL("boot.json", BASE).href}: HTTP ${response.status} (the runtime is not ` +
      "set up here: run `python -m tools.runtime install`, or copy the output of `serve.py --build`)"), { code: "no_runtime" });
  }
  return response.json();
});
plan.catch(() => {});                  // reported by boot()
const helpers = Promise.all([import("./wasm-heap.js"), import("./preload.js")]).then(([, { installPreloads }]) => {
  const preloads = installPreloads();
  plan.then((p) => preloads.add(p.preload, BASE), () => {});
  return preloads;
});
helpers.catch(() => {});
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

// Each step is also a User Timing measure "localocr:<step>" (tools/bench_startup.py draws the
// start-up waterfall from them and from resource timing).
async function measured(name, fn) {
  const start = performance.now();
  const value = await fn();
  performance.measure(`localocr:${name}`, { start, end: performance.now() });
  return value;
}

async function timed(name, fn) {
  const start = performance.now();
  const value = await measured(name.replace(/_ms$/, ""), fn);
  timings[name] = performance.now() - start;
  return value;
}

// Only a finite thread count that the host allows: SharedArrayBuffer exists only when the page is
// cross-origin isolated (COOP+COEP). By default half the cores (onnxruntime-web's own rule: the other
// half stays with the page, the browser and Python in this worker), but 2 on a 2-core machine, at
// most 4. On 2 saturated cores 1 thread was faster (receipt 1.05 s vs 1.63 s: WASM threads wait on
// each other when a core is taken); on 2 cores that are not, 2 threads are (below).
// `requested` (createOCR's numThreads) sets the count, up to the number of cores.
function chooseThreads(requested) {
  if (!self.crossOriginIsolated) return { threads: 1, why: "not cross-origin isolated (host sends no COOP/COEP)" };
  const cores = navigator.hardwareConcurrency || 1;
  if (requested) return { threads: Math.max(1, Math.min(requested, cores)), why: `${requested} requested, ${cores} cores` };
  // Half the cores, at least 2 where there are 2, at most 4 (beyond that WASM threads add little
  // for these models). Both cores of an idle 2-core machine pay: a receipt in 380 ms with 2 threads
  // against 582 ms with 1, a form in 658 against 849 ms (make bench-app, session 2); only when
  // other jobs saturate both cores is 1 thread faster.
  const threads = cores >= 2 ? Math.max(2, Math.min(Math.ceil(cores / 2), 4)) : 1;
  return { threads, why: cores >= 2 && cores < 4 ? `${cores} cores` : `half of ${cores} cores` };
}

// WebGPU where the browser offers a real (hardware) adapter, WASM otherwise; always with the reason.
// A software adapter (SwiftShader, `isFallbackAdapter`) is never chosen: it runs these models ~500x
// slower than WASM. `allowSoftwareWebGPU` accepts one anyway, for tests of the WebGPU path only.
// backend "wasm" skips the probe; "webgpu" fails the start when no adapter qualifies.
// Returns {backend, why, adapter?}.
async function chooseBackend(options) {
  const requested = options.backend || "auto";
  if (requested === "wasm") return { backend: "wasm", why: "WASM was requested" };
  let why = null;
  let adapter = null;
  if (!("gpu" in navigator) || !navigator.gpu) why = "this browser has no WebGPU";
  else {
    try {
      adapter = await navigator.gpu.requestAdapter();
      if (!adapter) why = "WebGPU offers no adapter on this device (no usable GPU or driver)";
    } catch (e) {
      why = `WebGPU did not start (${e.message || e})`;
    }
  }
  if (adapter) {
    const info = adapter.info || {};
    const software = info.isFallbackAdapter !== undefined ? info.isFallbackAdapter : adapter.isFallbackAdapter;
    const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") || "unnamed";
    if (software && !options.allowSoftwareWebGPU) {
      why = `WebGPU offers only a software adapter (${name}), slower than WASM`;
    } else {
      return { backend: "webgpu", why: `WebGPU adapter: ${name}${software ? " (software, allowed for testing)" : ""}`, adapter };
    }
  }
  if (requested === "webgpu") throw Object.assign(new Error(`backend "webgpu" was requested, but ${why}`), { code: "no_backend" });
  return { backend: "wasm", why };
}

// onnxruntime-web: its WebGPU build (27 MB, vendor/ort-webgpu/) only when WebGPU was chosen, so WASM
// users download nothing extra; its WASM build (14 MB, vendor/ort/) otherwise, or when the WebGPU
// build cannot be loaded (offline before it was ever fetched: it is not precached).
async function loadOrt(choice) {
  if (choice.backend === "webgpu") {
    try {
      const mod = await import(new URL("ort-webgpu/ort.webgpu.min.mjs", VENDOR).href);
      mod.env.wasm.wasmPaths = new URL("ort-webgpu/", VENDOR).href;
      mod.env.webgpu.adapter = choice.adapter;      // the adapter checked above, not another one
      return mod;
    } catch (e) {
      choice.backend = "wasm";
      choice.why = `the WebGPU build of onnxruntime-web could not be loaded (${e.message || e})`;
    }
  }
  const mod = await import(new URL("ort/ort.wasm.min.mjs", VENDOR).href);
  mod.env.wasm.wasmPaths = new URL("ort/", VENDOR).href;
  return mod;
}

// The JS half of the bridge (py/localocr/backends/pyodide.py is the Python half).
// A session is {name, gpu, cpu, model}: on WebGPU `gpu` runs; if creating or running it fails, a WASM
// session of the same model (`cpu`) takes over at once, for that image and the ones after it, and the
// failure is recorded: info() then names "wasm" and says why.
function makeBridge(threadInfo, choice) {
  const threads = () => `${ort.env.wasm.numThreads} thread${ort.env.wasm.numThreads > 1 ? "s" : ""} (${threadInfo.why})`;
  let fellBack = null;          // why WebGPU stopped being used, once it has
  const wasmSession = (model, name) =>
    ort.InferenceSession.create(model, { executionProviders: ["wasm"], graphOptimizationLevel: "all" })
      .catch((e) => { throw new Error(`cannot load model ${name}: ${e.message || e}`); });
  const toWasm = async (session) => {
    const gpu = session.gpu;
    session.gpu = null;
    if (gpu) gpu.release().catch(() => {});
    session.cpu = await wasmSession(session.model, session.name);
    session.model = null;
  };
  // The first failure is the reason recorded; every session moves to WASM (this one now, the
  // others at their next run), so a page is never read half on a failing GPU.
  const fallBack = async (session, what, e) => {
    if (!fellBack) {
      fellBack = `WebGPU failed (${session.name} ${what}: ${e.message || e}); WASM took over`;
      console.warn(`localocr: ${fellBack}`);
    }
    await toWasm(session);
  };
  let creating = Promise.resolve();
  const createOne = async (model, name) => {
    const session = { name, gpu: null, cpu: null, model: null };
    if (choice.backend === "webgpu" && !fellBack) {
      session.model = model;   // kept for a WASM session should WebGPU fail later
      try {
        // logSeverityLevel 3 (errors only): the WebGPU EP warns, on every model, that it leaves shape
        // ops to the CPU (by design), and its warnings reach the console as errors
        session.gpu = await ort.InferenceSession.create(model, { executionProviders: ["webgpu"],
          graphOptimizationLevel: "all", logSeverityLevel: 3 });
      } catch (e) {
        await fallBack(session, "could not be loaded", e);
      }
      return session;
    }
    session.cpu = await wasmSession(model, name);
    return session;
  };
  return {
    // threads: what onnxruntime-web holds after its start (it would drop to 1 without isolation).
    info: () => {
      if (choice.backend === "webgpu" && !fellBack) {
        return { name: "webgpu", detail: choice.why, threads: ort.env.wasm.numThreads };
      }
      return { name: "wasm", detail: `${threads()}; WebGPU not used: ${fellBack || choice.why}`, threads: ort.env.wasm.numThreads };
    },
    // model: Uint8Array. Resolves to a session object for run(). One creation at a time: the WebGPU
    // EP refuses a second while one is being created ("another WebGPU EP inference session is
    // being created"), and the pipeline starts both models' creation at once.
    // A session started early (startModels) for the same bytes is handed over instead.
    createSession: (model, name) => {
      const early = earlySession(model);
      if (early) return early;
      const made = creating.then(() => createOne(model, name));
      creating = made.catch(() => {});
      return made;
    },
    // view: a PyProxy of a C-contiguous numpy array; its buffer is viewed, not copied (see pyodide.py).
    tensorFromBuffer: (view, ortType, bufType, dims) => {
      const buf = view.getBuffer(bufType);
      const tensor = new ort.Tensor(ortType, buf.data, Array.from(dims));
      return { tensor, release: () => buf.release() };
    },
    run: async (session, feeds) => {
      const inputs = Object.fromEntries(feeds);
      if (session.gpu && fellBack) await toWasm(session);
      if (session.gpu) {
        try {
          return await session.gpu.run(inputs);
        } catch (e) {
          await fallBack(session, "failed to run", e);
        }
      }
      return session.cpu.run(inputs);
    },
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

// onnxruntime-web: the backend choice, its module and settings, and the bridge. Resolves to
// {choice, threadInfo}; sets `ort` and `bridge`.
async function startOrt(options) {
  const choice = await timed("backend_probe_ms", () => chooseBackend(options));
  const preloads = await helpers;
  // onnxruntime-web fetches its wasm only when the first session is created: ask for it now
  plan.then((p) => p.ort[choice.backend] && preloads.add([{ url: p.ort[choice.backend] }], BASE), () => {});
  ort = await timed("ort_import_ms", () => loadOrt(choice));   // wasmPaths: our origin, never a CDN
  const threadInfo = chooseThreads(options.numThreads);
  ort.env.wasm.numThreads = threadInfo.threads;
  ort.env.wasm.proxy = false;                              // we already are the worker
  bridge = makeBridge(threadInfo, choice);
  return { choice, threadInfo };
}

// Started at init, beside Pyodide's start-up (which needs seconds): fetching the models that
// createOCR's `models` option names, creating their sessions (which loads and compiles onnxruntime's
// wasm) and one small warm-up run each. The first runs of a session are several times slower than
// later ones (wasm code is compiled to its optimised tier as it gets hot): done here, this work
// overlaps Python's start instead of delaying the first image. buildOCR takes the bytes, and the
// bridge the sessions, when the same models are asked for.
let early = null;   // {key, kinds: {detector|recognizer: {bytes, value, session}}}
let bridge = null;

// The accurate recognizer tier (models/accurate.int8.onnx) is optional: used when the app ships it
// and the page names no models of its own (its re-read threshold was calibrated for the bundled fast
// recognizer), or when the page names one (`models.accurate`), as localocr.OCR does on CPython.
const OPTIONAL_KINDS = new Set(["accurate"]);

function modelKinds(models) {
  const custom = models && (models.detector || models.recognizer) && !models.accurate;
  return custom ? ["detector", "recognizer"] : ["detector", "recognizer", "accurate"];
}

function startModels(models, runtime) {
  const key = JSON.stringify(models || null);   // as prepareOCR keys its builds
  const kinds = {};
  // One model after the other, and the warm-up runs only once all exist: onnxruntime-web 1.30's
  // WebGPU build corrupted its memory ("memory access out of bounds") when a WebGPU session was
  // created after another one had run.
  let previous = runtime;
  for (const kind of modelKinds(models)) {
    const entry = { bytes: measured(`fetch_${kind}`, () => fetchModel(kind, models && models[kind])), value: null, session: null };
    const created = Promise.all([entry.bytes, previous]).then(([bytes]) => {
      if (!bytes) return null;          // an optional model the app does not ship
      const made = measured(`session_${kind}`, () => bridge.createSession(bytes, kind));
      entry.value = bytes;            // only now: the call above must not be handed this very promise
      return made;
    });
    entry.bytes.catch(() => {});        // reported by prepare/read, which await them again
    entry.created = created;
    previous = created.catch(() => {});
    kinds[kind] = entry;
  }
  for (const entry of Object.values(kinds)) {
    entry.session = Promise.all([entry.created, previous]).then(([session]) => session && measured(`warmup_${session.name}`, () => warmUp(session)));
    entry.session.catch(() => {});
    previous = entry.session.catch(() => {});
  }
  return { key, kinds };
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function earlySession(model) {
  if (!early) return null;
  for (const entry of Object.values(early.kinds)) {
    if (entry.value && sameBytes(entry.value, model)) return entry.session;
  }
  return null;
}

// One run on a zero input of the model's own input shape, its free dimensions set to 1 (the first,
// the batch) or 64 (a multiple of both models' size steps, 32 and 4). A model that rejects it is
// left alone: the pipeline's contract checks say what is wrong with it.
async function warmUp(session) {
  // Not on WebGPU: with a warm-up run, onnxruntime-web 1.30's WebGPU build later failed its real
  // runs ("memory access out of bounds", SwiftShader adapter); without one it reads correctly.
  if (session.gpu) return session;
  const s = session.cpu;
  try {
    const feeds = {};
    for (const m of s.inputMetadata || []) {
      if (!m.isTensor || m.type !== "float32") return session;
      const dims = m.shape.map((d, i) => (typeof d === "number" && d > 0 ? d : i === 0 ? 1 : 64));
      feeds[m.name] = new ort.Tensor("float32", new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
    }
    if (!Object.keys(feeds).length) return session;
    const start = performance.now();
    const out = await s.run(feeds);
    timings[`warmup_${session.name}_ms`] = performance.now() - start;
    for (const t of Object.values(out)) t.dispose();
  } catch (e) {
    console.debug(`localocr: no warm-up run for ${session.name}: ${e.message || e}`);
  }
  return session;
}

async function boot(options) {
  await checkWebAssembly();
  const runtime = startOrt(options);
  runtime.catch(() => {});             // awaited below, after Pyodide
  early = startModels(options.models, runtime);
  progress("pyodide", "loading Python (Pyodide)");
  const { loadPyodide } = await measured("pyodide_import", () => import(new URL("pyodide/pyodide.mjs", VENDOR).href));
  await helpers;
  pyodide = await timed("pyodide_boot_ms", () => loadPyodide({
    indexURL: new URL("pyodide/", VENDOR).href,
    stdout: (s) => console.log(s),
    stderr: (s) => console.warn(s),
  }));
  const { packages, localocr_wheel: wheel } = await plan;
  progress("packages", "loading numpy and Pillow");
  // Resolved by name from pyodide-lock.json; the wheels sit beside it and Pyodide checks their sha256.
  await timed("packages_load_ms", () => pyodide.loadPackage(packages, { messageCallback: () => {} }));
  await timed("packages_import_ms", () => pyodide.runPythonAsync("import numpy, PIL.Image"));

  progress("localocr", "installing localocr");
  await timed("localocr_install_ms", () =>
    pyodide.loadPackage(new URL(wheel, BASE).href, { messageCallback: () => {} }));

  progress("onnxruntime", "loading onnxruntime-web");
  const { choice, threadInfo } = await runtime;      // started first, usually ready by now
  pyodide.registerJsModule("localocr_js", bridge);
  await warmUpPipeline(options);
  timings.total_ms = performance.now() - t0;
  return {
    backend: choice.backend,
    backendWhy: choice.why,
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

// Before "ready": the pipeline built (the same build a read of these models uses). Nothing here is
// fatal: a model that breaks the contract is reported by the prepare or read that asks for it.
async function warmUpPipeline(options) {
  progress("models", "loading the OCR models");
  try {
    await prepareOCR(options);
    pipelineBuilt = true;
  } catch (e) {
    console.debug(`localocr: the pipeline is built at the first call instead: ${e.message || e}`);
  }
}

// Just after "ready": one read of a small generated page (localocr.worker.warm_up), so that the first
// image is not the one that pays for code run the first time (Python's, Pillow's JPEG decoder,
// onnxruntime-web's kernels before their optimised tier: an image given 3 s after a first visit's
// "ready" read in 0.50 s with it, 1.01 s without). It runs while nothing is asked: every call waits
// for it (`settled`), and one that comes stops it at its next model run (`calls`); a call made
// within WARM_UP_AFTER_MS of "ready" (a page that reads at once) means no warm-up at all. Before 4
// December it ran before "ready", which it delayed by ~0.45 s (a first visit's first text 3.72 s
// without it, 4.14-4.25 s with it before "ready").
const WARM_UP_AFTER_MS = 100;
let pipelineBuilt = false;
let calls = 0;          // calls received and not yet answered (diagnostics' exec not counted: it waits)
let warming = null;     // the warm-up read while it runs
let warmedUp = null;    // settles once the warm-up after "ready" is over (skipped, stopped or done)
function startWarmUp() {
  if (!pipelineBuilt || calls > 0) return;     // the first call came at once: it warms up itself
  warming = timed("warmup_read_ms", () => callPython("warm_up", [() => calls > 0]))
    .then((warm) => {
      if (warm.stopped) timings.warmup_read_stopped = true;
      for (const [step, ms] of Object.entries(warm.steps_ms || {})) timings[`warmup_read_${step}_ms`] = ms;
    }, (e) => console.debug(`localocr: no warm-up read: ${e.message || e}`))
    .finally(() => { warming = null; });
}

// Ready for a call: booted, and the warm-up read stopped or done.
async function settled() {
  await ready;
  while (warming) await warming;
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
// models/ beside this worker, the one boot.json names per kind (by localocr.contract.models.model_file: the
// int8 file, smaller, for WASM, if present, else fp32; where it is missing, the other names of that
// rule, boot.json's `model_file_names`, are tried); `options.models` ({detector, recognizer} URLs) overrides.
// An optional kind (the accurate tier) the app does not ship resolves to null: with a boot.json that
// does not list it, it is not asked for at all.
async function fetchModel(kind, explicit) {
  const booted = explicit ? null : await plan.catch(() => null);
  const listed = booted ? booted.models[kind] : null;
  if (!explicit && !listed && booted && OPTIONAL_KINDS.has(kind)) return null;
  // the listed file first; the fallback names only where it is missing (a host that serves other files)
  const names = (booted && booted.model_file_names) || [];
  const fallback = names.map((n) => `models/${n.replace("{kind}", kind)}`).filter((f) => f !== listed);
  const candidates = explicit ? [explicit] : listed ? [listed, ...fallback] : fallback;
  for (const path of candidates) {
    const response = await fetch(new URL(path, BASE));
    if (response.ok) return new Uint8Array(await response.arrayBuffer());
  }
  if (!explicit && OPTIONAL_KINDS.has(kind)) return null;
  throw Object.assign(new Error(`no ${kind} model (tried ${candidates.join(", ") || "none: boot.json did not load"})`),
    { code: "no_model" });
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

// The models' bytes: those fetched at start when the same models are asked for, else fetched now.
function modelBytes(kind, explicit, key) {
  if (early && early.key === key && early.kinds[kind]) return early.kinds[kind].bytes;
  return fetchModel(kind, explicit);
}

function buildOCR(options, key) {
  return measured("pipeline_build", () => buildPipeline(options, key));
}

async function buildPipeline(options, key) {
  const models = options.models || {};
  const detector = await modelBytes("detector", models.detector, key);
  const recognizer = await modelBytes("recognizer", models.recognizer, key);
  const accurate = modelKinds(options.models).includes("accurate")
    ? await modelBytes("accurate", models.accurate, key) : null;
  const build = pythonFunction("build");
  try {
    build(detector, recognizer, accurate).destroy();   // a model off the contract: a LocalOCRError, raised
  } finally {
    build.destroy();
  }
  // for devtools and the tests (localocrDiagnostics.exec): the worker module's pipeline and documents
  await execPython("from localocr import worker as _worker\n_ocr, _docs = _worker.ocr, _worker.docs\ndel _worker");
  ocrModels = key;
}

// The Python half of this worker: py/localocr/worker.py (its functions answer {value} or {error, code}).
let workerModule = null;
function pythonFunction(name) {
  workerModule ||= pyodide.pyimport("localocr.worker");
  return workerModule[name];
}

// localocr.worker.<name>(...args, **kwargs) -> its value, or a rejected Error with the answer's code.
async function callPython(name, args = [], kwargs = {}) {
  const fn = pythonFunction(name);
  let out;
  try {
    out = toPlain(await fn.callKwargs(...args, kwargs));
  } finally {
    fn.destroy();
  }
  if (out.error) throw Object.assign(new Error(out.error), { code: out.code });
  return out.value;
}

// Reads being run, and those of them the page aborted ({cmd: "abort"}): the ids.
const reading = new Set();
const abortedReads = new Set();

function abortedError() {
  return Object.assign(new Error("The read was aborted."), { code: "aborted" });
}

// aborted(): whether the page aborted this read; checked before it starts and at each stage
// (localocr.worker.reporting).
async function readImage(image, options, aborted = () => false) {
  if (aborted()) throw abortedError();
  await prepareOCR(options);
  if (aborted()) throw abortedError();
  const tag = options.tag === undefined ? null : options.tag;
  const report = (step, lines) => postMessage({ type: "progress", stage: "image", tag, step, lines });
  // localocr.worker.read passes the pipeline's own steps through, telling the page which model runs;
  // before each model run it asks whether the page aborted the read, and stops it there if so.
  const out = await callPython("read", [new Uint8Array(image), report, aborted], {
    render: options.render ? String(options.name || "") : null,
    fields: options.fields ? String(options.fields) : null,
    keep: options.keep === undefined ? null : String(options.keep),
    source: options.source ? JSON.stringify(options.source) : null,
    document: options.document ? JSON.stringify(options.document) : null,
  });
  if (out.fields_json) out.page.fields = JSON.parse(out.fields_json);
  return out.page;
}

const heapBytes = () => (self.__wasmHeapBytes ? self.__wasmHeapBytes() : null);

// The fields of a page read before (its page JSON), for another kind: no OCR runs again.
async function pageFields(page, kind) {
  return JSON.parse(await callPython("page_fields", [JSON.stringify(page), String(kind)]));
}

// Documents kept in Python for "export" (localocr.worker: the app's results, the embed API's readDocument).
const planPage = (facts) => callPython("plan", [JSON.stringify(facts)]);
const exportDoc = (key, format) => callPython("export", [String(key), String(format)]);
// "1-3,7" of a document of `count` pages -> [1, 2, 3, 7] (localocr.document.parse_pages, page limit).
const pageNumbers = (spec, count) =>
  callPython("page_numbers", [spec === undefined || spec === null ? null : String(spec), Number(count)]);
const forgetDoc = (key) => callPython("forget", [String(key)]);

// A multi-page TIFF / animated GIF or WebP (or a plain image: one page), read whole in Python.
async function readDocument(image, options) {
  await prepareOCR(options);
  const tag = options.tag === undefined ? null : options.tag;
  const report = (index, count) => postMessage({ type: "progress", stage: "page", tag, index, count });
  return callPython("read_document", [new Uint8Array(image), String(options.keep || "document")], {
    pages: options.pages === undefined || options.pages === null ? null : String(options.pages),
    name: String(options.name || ""), report,
  });
}

// Run Python in this worker (resolves to its last value): for devtools and the tests only, see the top.
// Benchmark hooks (tools/bench_runtime.py, export/bench_det_wasm.py), not part of the bridge the
// pipeline uses: the Python module `localocr_bench`, registered by the first diagnostics call.
function benchHooks() {
  return {
    now: () => performance.now(),
    tensorFromArray: (ortType, data, dims) => new ort.Tensor(ortType, data, Array.from(dims)),
    // the same run timed from JS alone (no Python), median of n, in ms
    timeRuns: async (session, name, tensor, n) => {
      const times = [];
      for (let i = 0; i < n; i++) {
        const start = performance.now();
        const out = await (session.gpu || session.cpu).run({ [name]: tensor });
        times.push(performance.now() - start);
        for (const t of Object.values(out)) t.dispose();
      }
      return times.sort((a, b) => a - b)[Math.floor(n / 2)];
    },
  };
}

let benchRegistered = false;
self.localocrDiagnostics = {
  exec: async (code) => {
    if (!ready) throw new Error("worker not initialised");
    await ready;
    await warmedUp;      // not a call: it lets the warm-up run (and waits for it to start and end)
    await settled();
    if (!benchRegistered) {
      pyodide.registerJsModule("localocr_bench", benchHooks());
      benchRegistered = true;
    }
    return execPython(code);
  },
};

// A message for the page: one line. A Python exception that escaped (a bug, e.g. while building the
// pipeline) is logged with its traceback to the console and sent as the generic "internal" error.
function errorOf(e) {
  const message = String((e && e.message) || e);
  if (e && e.type && message.includes("Traceback")) {
    console.error(`localocr: ${message}`);
    const last = message.trim().split("\n").pop().slice(0, 160);
    return { message: `Something went wrong inside localocr (${last}); this is a bug, not a problem with your image.`,
      code: "internal" };
  }
  return { message, code: (e && e.code) || "error" };
}

self.onmessage = async ({ data }) => {
  if (data.cmd === "init") {
    ready = boot(data.options || {});
    // what was preloaded and never asked for (e.g. a build of onnxruntime-web not used) is let go
    ready.then(() => Promise.allSettled(Object.values(early ? early.kinds : {}).map((k) => k.session)), () => {})
      .then(() => helpers).then((preloads) => preloads.drop(), () => {});
    ready.then(
      (info) => postMessage({ type: "ready", info }),
      (e) => postMessage({ type: "fatal", error: errorOf(e) }),
    );
    // once "ready" has gone out, and a page that calls at once has had time to (it goes first)
    ready.then(() => {
      warmedUp = new Promise((resolve) => setTimeout(() => {
        startWarmUp();
        Promise.resolve(warming).then(resolve, resolve);
      }, WARM_UP_AFTER_MS));
    }, () => {});
    return;
  }
  const { id } = data;
  if (data.cmd === "abort") {                     // at once, while the read it names awaits a model run
    if (reading.has(id)) abortedReads.add(id);
    return;
  }
  if (data.cmd === "read") reading.add(id);
  calls += 1;
  try {
    if (!ready) throw new Error("worker not initialised");
    await settled();
    let value;
    if (data.cmd === "read") value = await measured("read", () => readImage(data.image, data.options || {}, () => abortedReads.has(id)));
    else if (data.cmd === "fields") value = await pageFields(data.page, data.kind);
    else if (data.cmd === "read_document") value = await readDocument(data.image, data.options || {});
    else if (data.cmd === "pages") value = await pageNumbers(data.spec, data.count);
    else if (data.cmd === "plan") value = (await prepareOCR(data.options || {}), await planPage(data.facts));
    else if (data.cmd === "export") value = await exportDoc(data.key, data.format);
    else if (data.cmd === "forget") value = await forgetDoc(data.key);
    else if (data.cmd === "prepare") value = (await prepareOCR(data.options || {}), true);
    else if (data.cmd === "resources") value = resources;
    else throw new Error(`unknown command ${data.cmd}`);
    postMessage({ type: "result", id, value, heap: heapBytes() });
  } catch (e) {
    postMessage({ type: "error", id, error: errorOf(e), heap: heapBytes() });
    // A Pyodide fatal error leaves the interpreter unusable: tell the page to start afresh.
    if (e && e.pyodide_fatal_error) {
      postMessage({ type: "fatal", error: errorOf(e) });
    }
  } finally {
    calls -= 1;
    reading.delete(id);
    abortedReads.delete(id);
  }
};
