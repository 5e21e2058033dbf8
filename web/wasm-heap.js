// wasm-heap.js: keeps a reference to every WebAssembly.Memory this realm creates or instantiates,
// so that the WASM heap can be read: self.__wasmHeapBytes() (bytes; a shared thread memory once).
// Loaded first by web/worker.js (it reports its heap after each call, and localocr.js recycles a
// worker whose heap passed its ceiling), and by the benchmark's tesseract.js worker
// (tools/bench_peers), which reads both engines' heaps through it. A classic script without exports,
// so that both `import` and `importScripts` can load it.
(() => {
  // memory -> "shared" (a thread memory: in our worker only onnxruntime-web's threaded build makes
  // one) or "other" (Pyodide's, a single-threaded onnxruntime-web's, tesseract.js's)
  const memories = new Map();
  const { Memory, Instance } = WebAssembly;
  const keep = (result) => {
    const instance = result instanceof Instance ? result : result && result.instance;
    if (instance) {
      for (const v of Object.values(instance.exports)) if (v instanceof Memory && !memories.has(v)) memories.set(v, "other");
    }
    return result;
  };
  function TrackedMemory(descriptor) {
    const memory = new Memory(descriptor);
    memories.set(memory, descriptor && descriptor.shared ? "shared" : "other");
    return memory;
  }
  TrackedMemory.prototype = Memory.prototype;
  function TrackedInstance(module, imports) {
    return keep(new Instance(module, imports));
  }
  TrackedInstance.prototype = Instance.prototype;
  WebAssembly.Memory = TrackedMemory;
  WebAssembly.Instance = TrackedInstance;
  const { instantiate, instantiateStreaming } = WebAssembly;
  WebAssembly.instantiate = (...args) => instantiate.apply(WebAssembly, args).then(keep);
  if (instantiateStreaming) {
    WebAssembly.instantiateStreaming = (...args) => instantiateStreaming.apply(WebAssembly, args).then(keep);
  }
  self.__wasmHeapBytes = () => [...memories.keys()].reduce((n, m) => n + m.buffer.byteLength, 0);
  // bytes by kind: {shared, other}
  self.__wasmHeaps = () => {
    const out = {};
    for (const [m, name] of memories) out[name] = (out[name] || 0) + m.buffer.byteLength;
    return out;
  };
})();
