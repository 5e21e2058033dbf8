// pdfpages.js: PDF pages as images in the browser, with pdf.js (npm pdfjs-dist, vendor/pdfjs/, pinned in
// tools/runtime.json). Imported by localocr.js only when a PDF is opened: first visits never load it.
//
//   const pdf = await openPdf(bytes, base);        // base: the folder holding vendor/
//   pdf.pageCount
//   const facts = await pdf.facts(n);               // n: 1-based; {width_pt, height_pt, images, has_text, font_sizes}
//   const png = await pdf.image(n, plan);           // plan: the worker's {dpi, width, height, native}
//   pdf.close();
//
// The page is drawn exactly as py/localocr/pdfread.py draws it on CPython: the resolution and pixel
// size come from the same Python code (localocr.document.choose_dpi, render_size, run in the
// worker), from the same facts; a scan (one upright image over the whole page, at its own
// resolution) is taken as its image's own pixels, not re-sampled.
// pdf.js's worker is its own module worker, from this origin. pdf.js 6 has no eval path left
// (`isEvalSupported` is passed anyway, for older builds); fonts are drawn as paths
// (disableFontFace: no FontFace, so no font-src), the standard fonts and the JPEG 2000 / JBIG2 /
// ICC decoders (wasm) come from vendor/pdfjs/.

import { scriptURL } from "./trusted-types.js";
let loaded = null;

async function pdfjsOf(base) {
  if (!loaded) {
    loaded = import(new URL("vendor/pdfjs/pdf.min.mjs", base).href).then((lib) => {
      // a TrustedScriptURL: the app runs under `require-trusted-types-for 'script'` (trusted-types.js)
      lib.GlobalWorkerOptions.workerPort = new Worker(scriptURL(new URL("vendor/pdfjs/pdf.worker.min.mjs", base)),
        { type: "module", name: "localocr-pdfjs" });
      return lib;
    });
    loaded.catch(() => { loaded = null; });
  }
  return loaded;
}

function fail(message, code) {
  return Object.assign(new Error(message), { code });
}

// pdf.js's exceptions -> localocr's codes and messages (as pdfread.py gives them on CPython).
function explain(e) {
  const name = (e && e.name) || "";
  if (name === "PasswordException") return fail("This PDF is encrypted with a password; it cannot be read without it.", "pdf_encrypted");
  return fail(`This PDF is damaged or not a PDF (${(e && e.message) || e}).`, "bad_pdf");
}

// The current transformation matrix at each image drawn, from the operator list.
function imagesDrawn(lib, ops) {
  const { OPS } = lib;
  const mul = (m, n) => [m[0] * n[0] + m[2] * n[1], m[1] * n[0] + m[3] * n[1], m[0] * n[2] + m[2] * n[3],
    m[1] * n[2] + m[3] * n[3], m[0] * n[4] + m[2] * n[5] + m[4], m[1] * n[4] + m[3] * n[5] + m[5]];
  let ctm = [1, 0, 0, 1, 0, 0];
  const stack = [];
  const images = [];
  for (let i = 0; i < ops.fnArray.length; i++) {
    const fn = ops.fnArray[i];
    const args = ops.argsArray[i];
    if (fn === OPS.save) stack.push(ctm);
    else if (fn === OPS.restore) ctm = stack.pop() || [1, 0, 0, 1, 0, 0];
    else if (fn === OPS.transform) ctm = mul(ctm, args);
    else if (fn === OPS.paintImageXObject) images.push({ id: args[0], width: args[1], height: args[2], ctm });
    else if (fn === OPS.paintInlineImageXObject) images.push({ id: null, width: args[0].width, height: args[0].height, ctm });
  }
  return images;
}

async function pngOfCanvas(canvas) {
  return (await canvas.convertToBlob({ type: "image/png" })).arrayBuffer();
}

// A decoded pdf.js image object -> PNG bytes of its own pixels.
async function pngOfImage(lib, img) {
  const canvas = new OffscreenCanvas(img.width, img.height);
  const ctx = canvas.getContext("2d");
  if (img.bitmap) {
    ctx.drawImage(img.bitmap, 0, 0);
    return pngOfCanvas(canvas);
  }
  const { ImageKind } = lib;
  const out = new ImageData(img.width, img.height);
  const px = out.data;
  const src = img.data;
  const n = img.width * img.height;
  if (img.kind === ImageKind.RGBA_32BPP) px.set(src.subarray(0, n * 4));
  else if (img.kind === ImageKind.RGB_24BPP) {
    for (let i = 0, j = 0; i < n; i++, j += 3) { px[4 * i] = src[j]; px[4 * i + 1] = src[j + 1]; px[4 * i + 2] = src[j + 2]; px[4 * i + 3] = 255; }
  } else if (img.kind === ImageKind.GRAYSCALE_1BPP) {
    const rowBytes = (img.width + 7) >> 3;
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        const v = (src[y * rowBytes + (x >> 3)] >> (7 - (x & 7))) & 1 ? 255 : 0;
        const i = 4 * (y * img.width + x);
        px[i] = px[i + 1] = px[i + 2] = v;
        px[i + 3] = 255;
      }
    }
  } else return null;
  ctx.putImageData(out, 0, 0);
  return pngOfCanvas(canvas);
}

function objectOf(page, id) {
  const store = id.startsWith("g_") ? page.commonObjs : page.objs;
  return new Promise((resolve) => {
    try {
      store.get(id, resolve);
    } catch (e) {
      resolve(null);
    }
  });
}

export async function openPdf(bytes, base) {
  const lib = await pdfjsOf(base);
  const vendor = new URL("vendor/pdfjs/", base).href;
  let doc;
  let task;
  try {
    task = lib.getDocument({
      data: new Uint8Array(bytes), isEvalSupported: false, disableFontFace: true, useSystemFonts: false,
      standardFontDataUrl: vendor, wasmUrl: vendor, iccUrl: vendor, enableXfa: false, stopAtErrors: false,
    });
    // pdf.js asks for a password through onPassword (and waits): the answer here is an error
    const password = new Promise((_, reject) => {
      task.onPassword = () => reject(Object.assign(new Error("password"), { name: "PasswordException" }));
    });
    doc = await Promise.race([task.promise, password]);
  } catch (e) {
    if (task) await task.destroy();   // awaited: the next document reuses pdf.js's worker
    throw explain(e);
  }
  const pages = new Map();
  const pageOf = async (n) => {
    if (!pages.has(n)) pages.set(n, doc.getPage(n));
    return pages.get(n);
  };
  return {
    pageCount: doc.numPages,
    async facts(n) {
      const page = await pageOf(n);
      const view = page.getViewport({ scale: 1 });
      const ops = await page.getOperatorList();
      const images = imagesDrawn(lib, ops);
      const text = await page.getTextContent();
      const items = text.items.filter((it) => it.str && it.str.trim());
      const sizes = items.map((it) => Math.hypot(it.transform[2], it.transform[3]));
      return {
        width_pt: view.width, height_pt: view.height,
        images: images.map((im) => [im.width, im.height]),
        has_text: items.length > 0, font_sizes: sizes,
        // for image(): whether the one image is drawn upright over the whole (unrotated) page
        _scan: page.rotate % 360 === 0 && images.length === 1 && upright(images[0].ctm, view) ? images[0] : null,
      };
    },
    // PNG bytes of page n as the plan says: the scan's own image, or the page drawn at plan.width x plan.height.
    async image(n, plan, facts) {
      const page = await pageOf(n);
      if (plan.native && facts && facts._scan && facts._scan.id) {
        const img = await objectOf(page, facts._scan.id);
        if (img && img.width === facts._scan.width && img.height === facts._scan.height) {
          const png = await pngOfImage(lib, img);
          if (png) return png;
        }
      }
      const canvas = new OffscreenCanvas(plan.width, plan.height);
      const ctx = canvas.getContext("2d");
      const view = page.getViewport({ scale: 1 });
      const viewport = page.getViewport({ scale: plan.width / view.width });
      await page.render({ canvas: null, canvasContext: ctx, viewport, background: "white" }).promise;
      return pngOfCanvas(canvas);
    },
    close() {
      return task.destroy();
    },
  };
}

function upright(ctm, view) {
  const [a, b, c, d, e, f] = ctm;
  const tol = 0.01 * Math.max(view.width, view.height);
  return Math.abs(b) < 1e-6 && Math.abs(c) < 1e-6 && Math.abs(a - view.width) <= tol &&
    Math.abs(d - view.height) <= tol && Math.abs(e) <= tol && Math.abs(f) <= tol;
}
