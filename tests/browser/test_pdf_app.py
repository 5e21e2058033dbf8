"""Documents in the browser: PDFs rendered by pdf.js (web/pdfpages.js), multi-page TIFFs read in the worker,
searchable PDF / ALTO exports made by the worker's Python, and the app's drop of a PDF.

Compared with CPython (pypdfium2) on the same PDF and the same (tiny contract-shaped) models: the
same text page for page. A first visit loads nothing of pdf.js; it comes when a PDF is opened.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from tools.browser import open_app, poll, serving, wait_ready

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
DATA = ROOT.parent / "shared" / "data"
REAL = [DATA / "funsd_train/images/0000971160.png", DATA / "funsd_train/images/0001118259.png"]

OPTIONS = {"models": {"detector": "test-models/detector.onnx", "recognizer": "test-models/recognizer.onnx"}}


def models():
    from tools.contract_models import detector_bytes, recognizer_bytes

    return {"detector": detector_bytes(), "recognizer": recognizer_bytes()}


def cpython_ocr():
    from localocr import OCR
    from localocr.backends.onnxruntime import OnnxRuntimeBackend

    m = models()
    return OCR(m["detector"], m["recognizer"], OnnxRuntimeBackend(threads=1))


def pages():
    """Real scanned forms when ../shared/data has them, else drawn bar pages the tiny models read."""
    ims = [Image.open(p).convert("L") for p in REAL if p.is_file()]
    if len(ims) < 2:
        from pipeline_fakes import page_with_words

        ims = [page_with_words(size=(600, 300), lines=((20, 30, (k + 2, 3)), (20, 150, (4,))))[0] for k in range(2)]
    return ims


def lossless_pdf(ims) -> bytes:
    """An image-only PDF (Pillow) whose pages are lossless (palette images: hex-encoded, no JPEG), so
    both renderers start from the same pixels."""
    conv = [im.convert("RGB").quantize(256) if im.mode != "L" else im.convert("P") for im in ims]
    buf = io.BytesIO()
    conv[0].save(buf, "PDF", save_all=True, append_images=conv[1:], resolution=150)
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def doc_app(browser):
    with serving(WEB, isolation=True) as (base, server):
        requests: list[str] = []
        context, page = open_app(browser, base, requests)
        m = models()
        context.route(
            "**/test-models/*.onnx",
            lambda route: route.fulfill(
                body=m[route.request.url.rsplit("/", 1)[1][:-5]],
                content_type="application/octet-stream",
                headers={"Cross-Origin-Resource-Policy": "same-origin"},
            ),
        )
        wait_ready(page)
        # a first visit loads nothing of pdf.js
        assert not [u for u in requests if "/vendor/pdfjs/" in u or "pdfpages.js" in u]
        page.evaluate("(o) => localocr.prepare(o)", OPTIONS)
        yield page, requests, server
        assert [u for u in requests if not u.startswith(base)] == []
        assert server.handler_class.csp_reports == []
        context.close()


READ_DOC = """async ([data, options, pages]) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const seen = [];
    const doc = await localocr.readDocument(bytes, { ...options, pages, onPage: (p, i, n) => seen.push([i, n]) });
    const pdf = await doc.export("pdf");
    let s = ""; for (let i = 0; i < pdf.length; i += 8192) s += String.fromCharCode(...pdf.subarray(i, i + 8192));
    const out = { kind: doc.kind, page_count: doc.page_count, seen, pdf: btoa(s), alto: await doc.export("alto"),
                  pages: doc.pages.map((p) => ({ text: p.text, width: p.width, height: p.height, source: p.source,
                                                 image: p.image instanceof Blob })) };
    await doc.close();
    return out;
}"""


def test_pdf_reads_as_on_cpython_and_exports(doc_app, tmp_path):
    page, requests, _ = doc_app
    ims = pages()
    pdf = lossless_pdf(ims)
    got = page.evaluate(READ_DOC, [b64(pdf), OPTIONS, None])
    expected = cpython_ocr().read_pdf(pdf)
    assert (
        got["kind"] == "pdf"
        and got["page_count"] == len(ims)
        and got["seen"] == [[i, len(ims)] for i in range(len(ims))]
    )
    assert [p["text"] for p in got["pages"]] == [p.text for p in expected.pages]
    assert any(p["text"] for p in got["pages"])
    for p, e, im in zip(got["pages"], expected.pages, ims):
        assert (p["width"], p["height"]) == (e.width, e.height) == im.size
        assert (
            p["source"] == {"page_number": e.source.number, "dpi": pytest.approx(150, abs=0.01), "text_layer": "none"}
            and p["image"]
        )
    assert any("/vendor/pdfjs/pdf.worker.min.mjs" in u for u in requests)
    # the searchable PDF made in the worker holds the words, and the ALTO validates
    # the searchable PDF made in the worker has the words CPython's has, in the same places
    from test_document import pdftotext_words, validate

    browser_words = pdftotext_words(base64.b64decode(got["pdf"]), tmp_path)
    cpython_words = pdftotext_words(expected.to_pdf(), tmp_path)
    assert [[w for w, _ in pg] for pg in browser_words] == [[w for w, _ in pg] for pg in cpython_words]
    # onnxruntime-web and onnxruntime differ in the last float bits: boxes within 0.5 pt
    assert (
        max(
            abs(a - b)
            for pb, pc in zip(browser_words, cpython_words)
            for (_, ba), (_, bc) in zip(pb, pc)
            for a, b in zip(ba, bc)
        )
        <= 0.5
    )
    assert sum(map(len, browser_words)) >= 0.9 * sum(len(p.words) for p in expected.pages)

    validate("alto-4-4.xsd", got["alto"])
    some = page.evaluate(READ_DOC, [b64(pdf), OPTIONS, "2"])
    assert [p["source"]["page_number"] for p in some["pages"]] == [2]


def test_multi_page_tiff_in_the_worker(doc_app):
    page, _, _ = doc_app
    ims = pages()
    buf = io.BytesIO()
    ims[0].save(buf, "TIFF", save_all=True, append_images=[im.copy() for im in ims[1:]], compression="tiff_deflate")
    got = page.evaluate(READ_DOC, [b64(buf.getvalue()), OPTIONS, None])
    ocr = cpython_ocr()
    assert got["kind"] == "tiff" and got["page_count"] == len(ims)
    assert [p["text"] for p in got["pages"]] == [ocr.read(im).text for im in ims]


def test_bad_pdfs_and_read_of_a_pdf_say_so(doc_app):
    from test_document import encrypted_pdf

    page, _, _ = doc_app
    errors = page.evaluate(
        """async ([cases, options]) => {
        const out = [];
        for (const c of cases) {
            const bytes = Uint8Array.from(atob(c), (ch) => ch.charCodeAt(0));
            out.push(await localocr.readDocument(bytes, options).then(() => null, (e) => [e.code, e.message]));
        }
        out.push(await localocr.read(Uint8Array.from(atob(cases[0]), (ch) => ch.charCodeAt(0)), options)
            .then(() => null, (e) => [e.code, e.message]));
        return out;
    }""",
        [[b64(b"%PDF-1.5 nothing else"), b64(encrypted_pdf())], OPTIONS],
    )
    assert [e[0] for e in errors] == ["bad_pdf", "pdf_encrypted", "pdf"], errors
    assert "readDocument" in errors[2][1]


# ---------------------------------------------------------------- the app: drop a PDF


def test_app_reads_a_dropped_pdf_page_by_page(browser, tmp_path):
    from test_app import add_files, boot, contract_models, settled, shot, shown

    ims = pages()
    pdf = lossless_pdf(ims)
    with serving(WEB, isolation=True) as (base, server):
        m = contract_models()
        # boot.json names the model files the worker asks for (detector.onnx where web/models has no int8)
        routed = {**m, **{k.replace(".int8", ""): v for k, v in m.items()}}
        app = boot(browser, base, server, models=routed)
        page = app.page
        assert poll(page, "document.documentElement.dataset.models") == "ready", page.text_content("#status-text")
        assert not [u for u in app.requests if "/vendor/pdfjs/" in u]
        add_files(page, [("scan.pdf", "application/pdf", pdf)])
        result = settled(page, len(ims))
        assert [r[:2] for r in result] == [[f"scan.pdf · page {i + 1}", "done"] for i in range(len(ims))]
        from localocr import OCR
        from localocr.backends.onnxruntime import OnnxRuntimeBackend

        expected = OCR(m["detector.int8.onnx"], m["recognizer.int8.onnx"], OnnxRuntimeBackend(threads=1)).read_pdf(pdf)
        for i, e in enumerate(expected.pages):
            got = shown(page, i)
            assert got["page"]["text"] == e.text
            assert "page %d of %d" % (i + 1, len(ims)) in page.text_content("#result-meta")
        shot(page, "result-pdf")
        downloads = {}
        for button in ("#dl-pdf", "#dl-alto", "#dl-txt"):
            with page.expect_download() as info:
                page.click(button)
            downloads[button] = (info.value.suggested_filename, Path(info.value.path()).read_bytes())
        assert [d[0] for d in downloads.values()] == ["scan.pdf", "scan.alto.xml", "scan.txt"]
        assert downloads["#dl-txt"][1].decode() == expected.to_text()
        assert downloads["#dl-pdf"][1].startswith(b"%PDF-1.7")
        from test_document import pdftotext_words, validate

        got_words = pdftotext_words(downloads["#dl-pdf"][1], tmp_path)
        assert [[w for w, _ in p] for p in got_words] == [
            [w for w, _ in p] for p in pdftotext_words(expected.to_pdf(), tmp_path)
        ]
        validate("alto-4-4.xsd", downloads["#dl-alto"][1].decode())
        # an image's ALTO and searchable PDF too (made by reading it again as a one-page document)
        from test_app import PAGES

        add_files(page, [("one.png", "image/png", PAGES[0])])
        settled(page, len(ims) + 1)
        shown(page, len(ims))
        with page.expect_download() as info:
            page.click("#dl-pdf")
        assert info.value.suggested_filename == "one.pdf"
        one = pdftotext_words(Path(info.value.path()).read_bytes(), tmp_path)
        single = OCR(m["detector.int8.onnx"], m["recognizer.int8.onnx"], OnnxRuntimeBackend(threads=1)).read(PAGES[0])
        assert [[w for w, _ in p] for p in one] == [[w.text for w in single.words]]
        assert [u for u in app.requests if not u.startswith(base)] == []
        assert server.handler_class.csp_reports == []
        assert app.console == []
        app.context.close()
