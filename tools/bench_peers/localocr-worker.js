// The benchmark's localocr worker (served as /lo/worker.js; createOCR({base: "/lo/"}) starts it):
// the app's own worker, unchanged (it finds vendor/ and models/ beside itself and carries the WASM
// heap probe, web/wasm-heap.js, that the benchmark reads).
import "../worker.js";
