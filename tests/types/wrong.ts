// Wrong uses of the API: tests/test_types.py expects tsc to refuse this file, with these errors (and
// so proves that its check of example.ts can fail).

import { createOCR } from "../../web/localocr.js";

export async function wrong(file: File): Promise<number> {
  const ocr = createOCR({ threads: 2 });                      // TS2353: no option "threads"
  const page = await ocr.read(file, { signal: "stop" });      // TS2769: not an AbortSignal
  return page.lines.length;                                   // TS2339: lines are in blocks
}
