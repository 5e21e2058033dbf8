"""The Python half of the browser's worker (web/worker.js): the pipeline built from the model bytes,
an image read with progress and abort, the fields of a page read before, and the documents kept for
export (searchable PDF, ALTO, ...). worker.js keeps the message loop, the backend choice and the
onnxruntime-web bridge, and calls these functions with plain values (bytes, str, numbers, JSON text,
JS callables).

Every call answers a dict: {"value": ...} or {"error": message, "code": code} for a LocalOCRError
(bad image, bad model, aborted read), so that worker.js turns it into a rejected Error with its code;
an unexpected exception is a bug: its traceback goes to the console (stderr) and the answer is the
generic one-line "internal" error. The same functions run on CPython (tests/test_worker_module.py,
with the fake backend).
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Generator
from typing import Any

from .contract import keys as mm
from .document import Document, PageFacts, check_page_count, choose_dpi, is_native, parse_pages, render_size, source_of
from .errors import LocalOCRError, internal_error
from .pipeline import OCR, run_async
from .result import Page

# The worker's state: one pipeline (rebuilt when the page names other models) and the documents
# kept by key. worker.js binds `_ocr` and `_docs` in its Python namespace to these, for devtools.
ocr: OCR | None = None
docs: dict[str, Document] = {}


def _answer(fn: Callable[[], Any]) -> dict:
    try:
        return {"value": fn()}
    except LocalOCRError as err:
        return {"error": str(err), "code": err.code}
    except Exception as err:  # a bug: the traceback for developers, one line for the page
        traceback.print_exc()
        return {"error": str(internal_error(err)), "code": "internal"}


def _bytes(data) -> bytes:
    """bytes from what worker.js passes (a JsProxy of a Uint8Array: one copy) or a bytes-like."""
    return data.to_bytes() if hasattr(data, "to_bytes") else bytes(data)


def _pipeline() -> OCR:
    if ocr is None:
        raise LocalOCRError("The OCR pipeline is not built yet.", "not_ready")
    return ocr


def build(detector: bytes, recognizer: bytes, accurate: bytes | None = None, backend=None) -> OCR:
    """The pipeline from the models' bytes (accurate: the optional second recognizer tier). Raises
    LocalOCRError for a model that breaks the contract (worker.js reports it as the start's error)."""
    global ocr
    if backend is None:
        from .backends.pyodide import PyodideBackend

        backend = PyodideBackend()
    ocr = OCR(
        detector=_bytes(detector),
        recognizer=_bytes(recognizer),
        backend=backend,
        accurate=_bytes(accurate) if accurate else False,
    )
    return ocr


async def warm_up(aborted: Callable[[], bool] = lambda: False) -> dict:
    """One read of the pipeline's small generated page (`OCR.warm_up_steps`), which worker.js runs
    just after it says it is ready, while nothing else is asked of it: {"value": {"ms", "words",
    "stopped", "steps_ms": the read's own timings}} or an error answer (which worker.js only logs).
    `aborted()` is asked before each model run (as `reporting` does for a read): true when a call is
    waiting, which then goes first (the warm-up stops there; what it ran so far has warmed that much)."""
    import time

    t = time.perf_counter()
    try:
        pipe = _pipeline()
        page = await run_async(reporting(pipe.warm_up_steps(), pipe.detector.session, lambda *_: None, aborted))
    except LocalOCRError as err:
        if err.code != "aborted":
            return {"error": str(err), "code": err.code}
        page = None
    except Exception as err:
        traceback.print_exc()
        return {"error": str(internal_error(err)), "code": "internal"}
    ms = (time.perf_counter() - t) * 1000
    steps = {k: round(v * 1000, 1) for k, v in page.timings.items()} if page else {}
    value = {"ms": ms, "words": len(page.words) if page else 0, "stopped": page is None, "steps_ms": steps}
    global last_warm_up
    last_warm_up = value
    return {"value": value}


last_warm_up: dict | None = None  # what the last `warm_up` did (for diagnostics and the tests)


def reporting(
    gen: Generator, detector_session, report: Callable[[str, int], Any], aborted: Callable[[], bool]
) -> Generator:
    """The pipeline's own steps, passed through unchanged, telling the page which model runs next:
    report("detect", 0) before a detector run, report("recognize", lines so far) before a recognizer
    batch. Before each model run it asks `aborted()`, and stops the read there (code "aborted")."""
    lines = 0
    try:
        step = next(gen)
        while True:
            if aborted():
                gen.close()
                raise LocalOCRError("The read was aborted.", "aborted")
            if step[0] is detector_session:
                report("detect", 0)
            else:
                lines += int(step[1][mm.RECOGNIZER_INPUT].shape[0])
                report("recognize", lines)
            step = gen.send((yield step))
    except StopIteration as stop:
        return stop.value


async def read(
    image: bytes,
    report: Callable[[str, int], Any] = lambda step, lines: None,
    aborted: Callable[[], bool] = lambda: False,
    *,
    render: str | None = None,
    fields: str | None = None,
    keep: str | None = None,
    source: str | None = None,
    document: str | None = None,
) -> dict:
    """Read one image: {"value": {"page": page JSON, "fields_json": ...}} or an error answer.

    render: the image's name, to add the CLI's renderings (`page["exports"]`: text, hOCR, JSON);
    fields: "receipt" | "mrz" | "auto", to add the key fields (as JSON text: null stays null), the
    lines they come from read by the accurate tier too (`OCR.read`'s `fields`);
    keep: a document key under which the page is kept for export, with `source` (JSON: its page
    number, dpi, text layer, for a page of a PDF) and `document` (JSON: name, kind, page count)."""
    try:
        pipe = _pipeline()
        # the lines the fields come from are read by the accurate tier too (OCR.read's fields)
        steps = pipe.read_steps(_bytes(image), fields=fields)
        page = await run_async(reporting(steps, pipe.detector.session, report, aborted))
        out: dict[str, Any] = {"page": page.to_dict()}
        d = dict(out["page"])
        if fields is not None:
            d["fields"] = page.fields(fields)
            out["fields_json"] = json.dumps(d["fields"], ensure_ascii=False)
        if render is not None:
            # the same renderers as the CLI's --format text|json|hocr (and --fields)
            out["page"]["exports"] = {
                "text": page.to_text(),
                "hocr": page.to_hocr(image_name=render),
                "json": json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n",
            }
        if keep is not None:
            keep_page(keep, page, json.loads(source) if source else None, json.loads(document) if document else None)
            if source:
                out["page"]["source"] = source_of(page).to_dict()
        return {"value": out}
    except LocalOCRError as err:
        return {"error": str(err), "code": err.code}
    except Exception as err:
        traceback.print_exc()
        return {"error": str(internal_error(err)), "code": "internal"}


def page_fields(page_json: str, kind: str) -> dict:
    """The fields of a page read before (its page JSON), as JSON text: no OCR runs again."""
    return _answer(lambda: json.dumps(Page.from_dict(json.loads(page_json)).fields(kind), ensure_ascii=False))


# ---------------------------------------------------------------- documents kept for export


def keep_page(key: str, page: Page, source: dict | None = None, document: dict | None = None) -> None:
    """Add a read page to document `key` (its picture compacted to JPEG: memory stays small)."""
    doc = docs.setdefault(key, Document([]))
    page.source = src = source_of(page)
    if source is not None:
        src.number = int(source["number"])
        src.dpi = float(source["dpi"])
        src.text_layer = str(source.get("text_layer", "none"))
    if src.image is not None:
        src.image.compact()
    doc.pages.append(page)
    if document is not None:
        doc.name = str(document.get("name", ""))
        doc.kind = str(document.get("kind", "pdf"))
        doc.page_count = int(document.get("page_count", 0))


def plan(facts_json: str) -> dict:
    """How pdf.js draws a page: {dpi, width, height, native} from the page's facts (JSON), exactly
    as localocr.pdfread draws it on CPython (document.choose_dpi, render_size)."""

    def run() -> dict:
        f = PageFacts(**json.loads(facts_json))
        dpi = choose_dpi(f, _pipeline().max_pixels)
        w, h = render_size(f, dpi)
        return {"dpi": 72.0 * w / f.width_pt, "width": w, "height": h, "native": is_native(f, dpi)}

    return _answer(run)


def page_numbers(spec: str | None, count: int) -> dict:
    """ "1-3,7" of a document of `count` pages -> [1, 2, 3, 7], within the page limit."""

    def run() -> list[int]:
        numbers = parse_pages(spec, int(count))
        check_page_count(numbers, int(count))
        return numbers

    return _answer(run)


def export(key: str, fmt: str) -> dict:
    """Document `key` in `fmt` (Document.export: text, json, hocr, alto, page, pdf)."""

    def run():
        doc = docs.get(key)
        if doc is None or not doc.pages:
            raise LocalOCRError("Nothing to export: this document has no pages read.", "no_document")
        return doc.export(fmt)

    return _answer(run)


def forget(key: str) -> dict:
    """Drop document `key`; the value says whether there was one."""
    return _answer(lambda: docs.pop(key, None) is not None)


async def read_document(
    image: bytes,
    key: str,
    pages: str | None = None,
    name: str = "",
    report: Callable[[int, int], Any] = lambda index, count: None,
) -> dict:
    """A multi-page TIFF / animated GIF or WebP (or a plain image: one page), read whole and kept
    as document `key`: its JSON, with each page's picture (JPEG bytes) under "pictures"."""

    def on_page(p, i, n):
        p.source.image.compact()
        report(i, n)

    try:
        d = await _pipeline().read_document_async(_bytes(image), pages, name=name, on_page=on_page)
        docs[key] = d
        value = d.to_dict()
        value["pictures"] = [p.source.image.jpeg for p in d.pages]
        return {"value": value}
    except LocalOCRError as err:
        return {"error": str(err), "code": err.code}
