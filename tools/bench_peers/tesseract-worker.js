// The benchmark's tesseract.js worker (served as /tw/worker.js, passed as workerPath): the WASM heap
// probe, then tesseract.js's own worker script, from our origin.
importScripts("../bench/wasm-heap.js", "../tesseract/worker.min.js");
