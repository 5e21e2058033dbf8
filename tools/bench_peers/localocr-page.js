// localocr through its module API (web/localocr.js). ?backend=wasm|webgpu (default wasm, so that
// "auto" never picks another backend than the row says), ?threads=N caps the WASM threads,
// ?fields=auto|receipt|mrz reads as the app does (the key fields too: their lines read by the accurate tier).
import { createOCR } from "../localocr.js";
import { param, run } from "./bench-page.js";

let ocr = null;
run({
  async create() {
    const threads = param("threads");
    ocr = createOCR({ base: "../lo/", backend: param("backend") || "wasm", ...(threads ? { numThreads: Number(threads) } : {}) });
    return ocr.ready;
  },
  async recognize(blob) {
    const fields = param("fields");
    return (await ocr.read(blob, fields ? { fields } : {})).text;
  },
});
