// Types of localocr.js, the ES module API (its comment at the top says how each option behaves).
//
// The page JSON (PageJSON and what it holds, DocumentJSON) is written down once, as JSON Schema, in
// page.schema.json beside this file: Python's Page.to_dict() meets it (tests/test_result.py) and the
// interfaces below are checked against it (tests/test_types.py), so neither can drift alone.

// ---------------------------------------------------------------- the page JSON (page.schema.json)

/** [x, y] in the original image's pixels (after EXIF orientation), rounded to 0.1 px. */
export type Point = [number, number];
/** Four corners, clockwise from the text's reading top-left. */
export type Quad = [Point, Point, Point, Point];

/** Something done to the input on the way ("reduced", "exif_ignored", "junk", "blank"). */
export interface Note {
  code: string;
  /** one line, for a person */
  message: string;
}

export interface Word {
  text: string;
  quad: Quad;
  /** in [0, 1] */
  confidence: number;
}

export interface Line {
  text: string;
  quad: Quad;
  confidence: number;
  words: Word[];
}

export interface Block {
  quad: Quad;
  confidence: number;
  lines: Line[];
}

/** Page.to_dict() of py/localocr/result.py, version 1: the CLI's --format json. */
export interface PageJSON {
  version: 1;
  /** image size in pixels (after EXIF orientation and any reduction, see notes) */
  width: number;
  height: number;
  /** the clockwise quarter turn that made the text upright; quads stay on the image as given */
  rotation: 0 | 90 | 180 | 270;
  /** then the degrees counter-clockwise that levelled tilted lines (0: none) */
  deskew: number;
  /** what ran the models: "wasm" or "webgpu" here */
  backend: string;
  /** threads, and why a faster backend was not used */
  backend_detail: string;
  /** seconds per stage: decode, detect_*, recognize_*, layout, total */
  timings: { [stage: string]: number };
  /** lines in reading order, one per line; a blank line between blocks */
  text: string;
  notes: Note[];
  blocks: Block[];
}

/** Where a page of a document came from. */
export interface PageSource {
  /** 1-based page (or frame) number in the source */
  page_number: number;
  /** pixels per inch of the page as read */
  dpi: number;
  /** a PDF page's own text: none, present (OCR ran anyway), used (its text was kept) */
  text_layer: "none" | "present" | "used";
}

export interface DocumentPageJSON extends PageJSON {
  source: PageSource;
}

/** Document.to_dict() of py/localocr/document.py. */
export interface DocumentJSON {
  version: 1;
  name: string;
  kind: "pdf" | "tiff" | "gif" | "webp" | "image" | "images";
  /** the pages the source has, read or not */
  page_count: number;
  /** each page's text, a form feed between pages */
  text: string;
  pages: DocumentPageJSON[];
}

// ---------------------------------------------------------------- what the API gives

/** Key fields of a receipt (company, date, address, total) or of an ID document's MRZ. */
export interface Fields {
  kind: "receipt" | "mrz";
  [field: string]: unknown;
}

/** What read() resolves to: the page JSON, with page.fields when read with `fields`. */
export interface Page extends PageJSON {
  fields?: Fields;
  /** with read's `render`: the page as the CLI's --format text, json and hocr write it */
  exports?: { text: string; json: string; hocr: string };
}

export type ExportFormat = "text" | "json" | "hocr" | "alto" | "page" | "pdf";

/** Results kept in the worker (read's `keep`, readDocument) export in any format until close(). */
export interface Exportable {
  export(format: "pdf"): Promise<Uint8Array>;
  export(format: "page"): Promise<string[]>;
  export(format: "text" | "json" | "hocr" | "alto"): Promise<string>;
  export(format: ExportFormat): Promise<Uint8Array | string | string[]>;
  /** frees what the worker keeps for export */
  close(): Promise<boolean>;
}

export type KeptPage = Page & Exportable;

export interface DocumentPage extends Page {
  source: PageSource;
  /** the page's picture: PNG of a rendered PDF page, JPEG of a frame */
  image: Blob;
}

export interface OCRDocument extends Exportable {
  name: string;
  kind: DocumentJSON["kind"];
  page_count: number;
  pages: DocumentPage[];
}

// ---------------------------------------------------------------- errors

/** Stable codes (py/localocr/errors.py's, and the JS API's own); branch on these, not on messages. */
export type ErrorCode =
  | "aborted"             // read's signal was aborted
  | "bad_option"          // an unknown option, or one of the wrong type (a TypeError)
  | "bad_input"           // not something read() takes (a TypeError)
  | "empty" | "not_found" | "not_an_image" | "pdf" | "heic" | "truncated" | "bad_image" | "too_large"
  | "bad_pdf" | "pdf_encrypted" | "bad_fields_kind" | "no_document"
  | "no_model" | "bad_model" | "no_runtime" | "no_backend" | "csp_blocks_wasm"
  | "worker_crashed"      // every pending call rejects; the next call starts a fresh worker
  | "terminated"          // terminate() was called
  | "internal";           // a bug in localocr

/** Every rejection of the API is an Error (a TypeError for bad_option/bad_input) with a code. */
export interface LocalOCRError extends Error {
  code: ErrorCode | (string & {});
}

// ---------------------------------------------------------------- progress

/** While the runtime loads: stage "pyodide" | "packages" | "localocr" | "onnxruntime" | "file" | ... */
export interface LoadProgress {
  type: "progress";
  stage: string;
  message: string;
  /** bytes fetched so far (compressed, as on the wire) */
  bytes: number;
}

/** During a read, per stage: "detect", then "recognize" with the lines read so far. */
export interface ImageProgress {
  type: "progress";
  stage: "image";
  /** read's `tag` option, or null */
  tag: unknown;
  step: "detect" | "recognize";
  lines: number;
}

/** readDocument of a multi-page TIFF or animated image: after each page. */
export interface PageProgress {
  type: "progress";
  stage: "page";
  tag: unknown;
  index: number;
  count: number;
}

export type Progress = LoadProgress | ImageProgress | PageProgress;

// ---------------------------------------------------------------- createOCR

export type Backend = "auto" | "wasm" | "webgpu";

export interface ModelURLs {
  detector?: string;
  recognizer?: string;
  /** the accurate recognizer tier; naming your own pair without it turns the tier off */
  accurate?: string;
}

export interface CreateOptions {
  /** folder of worker.js, vendor/ and models/, on the page's origin (default: localocr.js's folder) */
  base?: string | URL;
  backend?: Backend;
  /** WASM threads, up to the number of cores (more than one only when cross-origin isolated) */
  numThreads?: number;
  models?: ModelURLs;
  onProgress?: (progress: Progress) => void;
  /** for tests only: accept a software WebGPU adapter (~500x slower) */
  allowSoftwareWebGPU?: boolean;
  /** the worker's WASM heap ceiling, MiB (default 512): past it, the worker is replaced between calls */
  heapLimitMB?: number;
}

/** Anything read() takes: encoded image bytes, or pixels (encoded as PNG here). */
export type ImageInput =
  | Blob | ArrayBuffer | ArrayBufferView | ImageBitmap | HTMLCanvasElement | OffscreenCanvas | ImageData
  | HTMLImageElement;

export interface ReadOptions {
  /** aborting it rejects this read with code "aborted"; the worker stops at its next stage */
  signal?: AbortSignal;
  /** also compute page.fields (a receipt's company, address and total lines are then read by the accurate tier too) */
  fields?: "receipt" | "mrz" | "auto";
  /** keep the page in the worker: the result has export() and close() */
  keep?: boolean;
  models?: ModelURLs;
  /** echoed in this read's ImageProgress events */
  tag?: unknown;
  /** the app's: also page.exports, the Python renderers' text, json and hOCR */
  render?: boolean;
  /** the image name written into the hOCR of `render` */
  name?: string;
}

export interface ReadDocumentOptions {
  /** "1-3,7" (default: all, at most 300) */
  pages?: string | null;
  onPage?: (page: DocumentPage, index: number, count: number) => void;
  name?: string;
  tag?: unknown;
  models?: ModelURLs;
}

/** What `ready` resolves to once the runtime started, its models loaded and one generated page read (warm-up). */
export interface RuntimeInfo {
  backend: "wasm" | "webgpu";
  backendWhy: string;
  backendRequested: Backend;
  pyodide: string;
  ort: string;
  crossOriginIsolated: boolean;
  threads: number;
  threadsWhy: string;
  hardwareConcurrency: number;
  /** milliseconds per start-up step */
  timings: { [step: string]: number };
  bytes: number;
}

export interface ResourceEntry {
  url: string;
  transfer: number;
  encoded: number;
  decoded: number;
}

export interface MemoryInfo {
  /** the worker's WASM heap after its last call, or null */
  heapBytes: number | null;
  limitBytes: number;
  /** workers replaced for memory so far */
  restarts: number;
}

export interface OCR {
  readonly ready: Promise<RuntimeInfo>;
  read(image: ImageInput, options: ReadOptions & { keep: true }): Promise<KeptPage>;
  read(image: ImageInput, options?: ReadOptions): Promise<Page>;
  readDocument(source: Blob | ArrayBuffer | ArrayBufferView, options?: ReadDocumentOptions): Promise<OCRDocument>;
  /** fetch the models and build the pipeline now (read() does it on first use otherwise) */
  prepare(options?: { models?: ModelURLs }): Promise<true>;
  /** the fields of a page read before, for another kind, without reading the image again */
  fields(page: PageJSON, kind?: "receipt" | "mrz" | "auto"): Promise<Fields>;
  resources(): Promise<ResourceEntry[]>;
  readonly memory: MemoryInfo;
  /** stops the worker at once: pending and later calls reject with code "terminated" */
  terminate(): void;
}

/** Starts the worker (options by name; a misspelt one throws a TypeError with code "bad_option"). */
export function createOCR(options?: CreateOptions): OCR;
