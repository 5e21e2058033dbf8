// The benchmark's localocr worker (served as /lo/worker.js; createOCR({base: "/lo/"}) starts it):
// the WASM heap probe, then the app's own worker, unchanged (it finds vendor/ and models/ beside itself).
import "../bench/wasm-heap.js";
import "../worker.js";
