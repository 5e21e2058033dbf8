// tesseract.js (global Tesseract from ../tesseract/tesseract.min.js), every file from this origin:
// without workerPath/corePath/langPath it would fetch its worker, core and data from a CDN.
// The app's CSP requires Trusted Types for script URLs: tesseract.js passes plain ones to new Worker,
// so the page gets the app's default policy (files of this origin only), as localocr's workers do.
import { installDefaultPolicy } from "../trusted-types.js";
import { run } from "./bench-page.js";

installDefaultPolicy();

const here = (path) => new URL(path, location.href).href;
let worker = null;
run({
  async create() {
    worker = await Tesseract.createWorker("eng", 1, {   // 1: OEM LSTM only, tesseract.js's default
      workerPath: here("../tw/worker.js"),
      workerBlobURL: false,                  // a blob: worker would need 'blob:' in the page's CSP
      corePath: here("../tesseract/core/"),  // it picks the (relaxed-)SIMD LSTM build the browser supports
      langPath: here("../tesseract/lang"),
      gzip: false,                           // plain eng.traineddata; our server sends it compressed
    });
    // 3: fully automatic page segmentation, the tesseract CLI's default (the API's own default is 6).
    await worker.setParameters({ tessedit_pageseg_mode: "3" });
    return { version: Tesseract.version || "" };
  },
  async recognize(blob) {
    return (await worker.recognize(blob)).data.text;
  },
});
