// Loaded first in each engine's worker by the benchmark (tools/bench.py), never by the app: keeps a
// reference to every WebAssembly.Memory the worker creates or instantiates, so that the benchmark can
// read the worker's WASM heap from outside (self.__wasmHeapBytes(), bytes; shared thread memories once).
(() => {
  const memories = new Set();
  const { Memory, Instance } = WebAssembly;
  const keep = (result) => {
    const instance = result instanceof Instance ? result : result && result.instance;
    if (instance) for (const v of Object.values(instance.exports)) if (v instanceof Memory) memories.add(v);
    return result;
  };
  function TrackedMemory(descriptor) {
    const memory = new Memory(descriptor);
    memories.add(memory);
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
  self.__wasmHeapBytes = () => [...memories].reduce((n, m) => n + m.buffer.byteLength, 0);
})();
