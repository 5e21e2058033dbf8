// The benchmark's tesseract.js worker (served as /tw/worker.js, passed as workerPath): the WASM heap
// probe (the app's web/wasm-heap.js), then tesseract.js's own worker script, from our origin.
importScripts("../wasm-heap.js", "../tesseract/worker.min.js");
