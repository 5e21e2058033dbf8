"""localocr.worker, the Python half of the browser's worker, on CPython with the fake backend: what
web/worker.js calls, with the values it passes (bytes, JSON text, callables), and the answers it
turns into results or rejected Errors. The browser tests (tests/browser/test_worker.py, test_app.py,
test_read_abort.py) run the same module in Pyodide."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from localocr import OCR
from localocr import worker as W
from localocr.backends.fake import FakeBackend, fake_model_bytes
from pipeline_fakes import page_with_words


def png(im) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def built():
    W.docs.clear()
    ocr = W.build(fake_model_bytes("detector"), fake_model_bytes("recognizer"), None, backend=FakeBackend())
    yield ocr
    W.ocr = None
    W.docs.clear()


def without_timings(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "timings"}


def test_read_gives_what_ocr_read_gives_and_reports_each_model_run(built):
    data = png(page_with_words()[0])
    steps = []
    answer = asyncio.run(W.read(data, lambda step, lines: steps.append((step, lines))))
    page = answer["value"]["page"]
    expected = OCR(fake_model_bytes("detector"), fake_model_bytes("recognizer"), FakeBackend()).read(data).to_dict()
    assert without_timings(page) == without_timings(expected)
    assert page["text"] == "xxx xx\n\nxxxx"  # two blocks
    assert steps[0] == ("detect", 0) and steps[-1][0] == "recognize" and steps[-1][1] >= 2  # crops read so far


def test_an_abort_stops_the_read_before_its_next_model_run(built):
    runs = []
    answer = asyncio.run(
        W.read(png(page_with_words()[0]), lambda step, lines: runs.append(step), lambda: len(runs) >= 1)
    )
    assert answer == {"error": "The read was aborted.", "code": "aborted"}
    assert runs == ["detect"]  # the detector ran, no recognizer batch did


def test_bad_input_is_its_error_and_a_bug_is_internal(built, monkeypatch, capsys):
    assert asyncio.run(W.read(b""))["code"] == "empty"
    monkeypatch.setattr(built, "read_steps", lambda data, **kw: 1 / 0)
    answer = asyncio.run(W.read(png(page_with_words()[0])))
    assert answer["code"] == "internal" and "\n" not in answer["error"]
    assert "ZeroDivisionError" in capsys.readouterr().err  # the traceback, for developers


def test_render_fields_and_keep_then_export_and_forget(built, monkeypatch):
    data = png(page_with_words()[0])
    asked = []
    real = built.read_steps
    monkeypatch.setattr(built, "read_steps", lambda image, **kw: asked.append(kw) or real(image, **kw))
    answer = asyncio.run(
        W.read(
            data,
            render="page.png",
            fields="receipt",
            keep="doc",
            source=json.dumps({"number": 3, "dpi": 150.0}),
            document=json.dumps({"name": "scan.pdf", "kind": "pdf", "page_count": 4}),
        )
    )
    value = answer["value"]
    assert asked == [{"fields": "receipt"}]  # read for the fields: their lines by the accurate tier too
    assert set(value["page"]["exports"]) == {"text", "hocr", "json"}
    assert json.loads(value["page"]["exports"]["json"])["fields"] == json.loads(value["fields_json"])
    assert value["page"]["source"] == {"page_number": 3, "dpi": 150.0, "text_layer": "none"}
    doc = W.docs["doc"]
    assert (doc.name, doc.kind, doc.page_count, len(doc.pages)) == ("scan.pdf", "pdf", 4, 1)
    assert W.export("doc", "pdf")["value"].startswith(b"%PDF-")
    assert "xxx xx" in W.export("doc", "text")["value"]
    assert W.forget("doc") == {"value": True} and W.forget("doc") == {"value": False}
    assert W.export("doc", "alto")["code"] == "no_document"


def test_pages_plan_and_fields_of_a_page_read_before(built):
    assert W.page_numbers("1-3,7", 9) == {"value": [1, 2, 3, 7]}
    assert W.page_numbers("12", 9)["code"] == "bad_pages"
    plan = W.plan(json.dumps({"width_pt": 595.0, "height_pt": 842.0}))["value"]
    assert plan["native"] is False and plan["width"] < plan["height"]
    page = asyncio.run(W.read(png(page_with_words()[0])))["value"]["page"]
    assert json.loads(W.page_fields(json.dumps(page), "receipt")["value"])["kind"] == "receipt"
    assert W.page_fields(json.dumps(page), "passport")["code"] == "bad_fields_kind"


def test_not_built_yet_is_said():
    W.ocr = None
    assert asyncio.run(W.read(b"x"))["code"] == "not_ready"


def test_read_document_keeps_every_frame(built):
    from PIL import Image

    frames = [page_with_words()[0].convert("RGB"), Image.new("RGB", (200, 100), "white")]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:])
    reported = []
    value = asyncio.run(W.read_document(buf.getvalue(), "tiff", report=lambda i, n: reported.append((i, n))))["value"]
    assert len(value["pages"]) == 2 and len(value["pictures"]) == 2
    assert all(p.startswith(b"\xff\xd8") for p in value["pictures"])  # compacted to JPEG
    assert len(W.docs["tiff"].pages) == 2 and reported[-1][1] == 2


def test_the_warm_up_reads_its_generated_page_with_the_real_models():
    """worker.js runs warm_up just after it says ready: the generated page is read (its words found), and
    the first real read after it is not slower than later ones by much (measured in make bench-startup)."""
    from localocr.pipeline import WARM_UP_LINES

    W.ocr = OCR()
    try:
        answer = asyncio.run(W.warm_up())["value"]
        assert not answer["stopped"] and answer["ms"] > 0
        if W.ocr.accurate is not None:  # the accurate tier re-reads nothing in the warm-up (its cost, no gain)
            assert "reread_run" not in answer["steps_ms"] and answer["steps_ms"]["recognize_run"] > 0
        words = {w for line in WARM_UP_LINES for w in line.split()}
        assert answer["words"] >= len(words) // 2
        assert answer["steps_ms"]["fields"] > 0  # the key-field rules imported and run once too
    finally:
        W.ocr = None


def test_a_waiting_read_stops_the_warm_up_at_its_next_model_run(built):
    asked = []

    def waiting():
        asked.append(1)
        return len(asked) >= 2  # a read arrives after the first model run

    answer = asyncio.run(W.warm_up(waiting))["value"]
    assert answer == {"ms": answer["ms"], "words": 0, "stopped": True, "steps_ms": {}}
    assert len(asked) == 2


def test_the_warm_up_before_a_build_is_an_error_answer():
    W.ocr = None
    assert asyncio.run(W.warm_up())["code"] == "not_ready"
