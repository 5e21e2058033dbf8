// What a TypeScript user of localocr writes; tests/test_types.py type-checks it (tsc --noEmit --strict)
// against web/localocr.d.ts. Each @ts-expect-error is a wrong use the types must refuse: were a type
// too loose (any), the directive would be unused, and tsc fails on that too.

import { createOCR } from "../../web/localocr.js";
import type { LocalOCRError, Page, Progress, Quad } from "../../web/localocr.js";
import type { LocalOCRElement } from "../../web/local-ocr-element.js";

function onProgress(p: Progress): void {
  if (p.stage === "image" && "step" in p) console.log(p.step, p.lines);
  else if ("message" in p) console.log(p.stage, p.message, p.bytes);
}

export async function main(file: File, canvas: OffscreenCanvas): Promise<string> {
  const ocr = createOCR({ backend: "auto", numThreads: 2, onProgress, heapLimitMB: 512 });
  const info = await ocr.ready;
  const backend: "wasm" | "webgpu" = info.backend;
  console.log(backend, info.backendWhy, info.threads);

  const controller = new AbortController();
  const reading = ocr.read(file, { signal: controller.signal, fields: "auto" });
  controller.abort();
  try {
    await reading;
  } catch (e) {
    const error = e as LocalOCRError;
    if (error.code === "aborted") console.log("cancelled:", error.message);
  }

  const page: Page = await ocr.read(canvas, { signal: AbortSignal.timeout(30_000) });
  const quad: Quad = page.blocks[0].lines[0].words[0].quad;
  const [x, y] = quad[0];
  const words = page.blocks.flatMap((b) => b.lines.flatMap((l) => l.words.map((w) => `${w.text} ${w.confidence}`)));
  console.log(page.version, page.width, page.height, page.timings.total, page.notes.map((n) => n.code), x + y, words);
  if (page.fields) console.log(page.fields.kind);

  const kept = await ocr.read(file, { keep: true });
  const pdf: Uint8Array = await kept.export("pdf");
  const alto: string = await kept.export("alto");
  await kept.close();

  const doc = await ocr.readDocument(file, { pages: "1-3", onPage: (p, i, n) => console.log(p.source.page_number, i, n) });
  console.log(doc.kind, doc.page_count, doc.pages[0].image.size, pdf.length, alto.length);
  await doc.close();

  const element = document.querySelector("local-ocr") as LocalOCRElement;
  element.addEventListener("result", (event) => console.log(event.detail.text));
  element.addEventListener("error", (event) => console.log(event.detail.code));

  // @ts-expect-error: options go by name, and this one is misspelt
  createOCR({ backnd: "wasm" });
  // @ts-expect-error: backend is one of "auto" | "wasm" | "webgpu"
  createOCR({ backend: "gpu" });
  // @ts-expect-error: a signal is an AbortSignal, not a controller
  ocr.read(file, { signal: controller });
  // @ts-expect-error: no such option of read()
  ocr.read(file, { timeout: 5 });
  // @ts-expect-error: words live in lines, not in blocks
  console.log(page.blocks[0].words);
  // @ts-expect-error: a word's box is its quad
  console.log(page.blocks[0].lines[0].words[0].bbox);
  // @ts-expect-error: a page without keep has no export()
  page.export("text");

  ocr.terminate();
  return page.text;
}
