"""Reading for key fields (`OCR.read(image, fields=...)`): the lines a receipt's fields come from
(its company, address and total lines, `fields.reread_lines`) are read by the accurate tier whatever the fast
tier's confidence; other lines, other kinds and other pages keep the plain read."""

import pytest
from localocr import OCR, LocalOCRError
from localocr.backends.onnxruntime import OnnxRuntimeBackend
from localocr.fields import receipt as rc
from localocr.fields import reread_lines
from localocr.pipeline import run_sync, warm_up_image
from localocr.result import Page
from test_fields_mrz import page_of
from test_fields_receipt import RECEIPT as RECEIPT_ROWS

RECEIPT = [*RECEIPT_ROWS, "THANK YOU"]


def test_the_lines_of_a_receipts_fields_are_chosen():
    page = page_of(RECEIPT)
    f = page.fields("receipt")
    assert f["company"]["value"] == "INDAH GIFT & HOME DECO" and f["total"]["value"] == "60.30"
    # the company with the line on either side, the address and the line after it, the total's line,
    # the cash and change lines; not the date, the items, the sub-total or the tax lines
    assert rc.reread_lines(page) == [0, 1, 2, 3, 4, 5, 15, 16, 17]
    assert reread_lines(page, "receipt") == reread_lines(page, "auto") == [0, 1, 2, 3, 4, 5, 15, 16, 17]


def test_without_a_company_the_first_lines_of_the_page():
    page = page_of(["RECEIPT"] + ["12.00 9.00"] * 11 + ["TOTAL 5.00"])
    assert page.fields("receipt")["company"] is None
    # the first lines, and the total's line
    assert rc.reread_lines(page) == list(range(rc.REREAD_HEAD)) + [12]


def test_other_kinds_and_pages_are_not_read_again():
    scene = page_of(["EXIT", "OPEN 24 HOURS", "TOTAL", "5.00"])  # a keyword, the amount on another line
    assert reread_lines(scene, "auto") == []
    assert reread_lines(scene, "receipt") != []  # asked for a receipt: its first lines all the same
    mrz = page_of(
        ["TOTAL 12.50", "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
    )
    assert reread_lines(mrz, "auto") == [] and reread_lines(page_of(RECEIPT), "mrz") == []
    assert rc.reread_lines(Page(100, 100)) == []
    with pytest.raises(LocalOCRError) as e:
        reread_lines(page_of(RECEIPT), "invoice")
    assert e.value.code == "bad_fields_kind"


@pytest.fixture(scope="module")
def ocr():
    o = OCR(backend=OnnxRuntimeBackend(threads=1))
    if o.accurate is None:
        pytest.skip("no accurate tier in web/models")
    return o


def _accurate_crops(ocr, steps):
    """Drive a read's generator as run_sync does, counting the crops sent to the accurate tier."""
    seen = [0]
    session = ocr.accurate.session

    def counting(gen):
        reply = None
        try:
            while True:
                sess, feeds = gen.send(reply)
                if sess is session:
                    seen[0] += len(next(iter(feeds.values())))
                reply = yield sess, feeds
        except StopIteration as stop:
            return stop.value

    page = run_sync(counting(steps))
    return page, seen[0]


@pytest.mark.parametrize("orientation", [True, False])
def test_a_receipt_read_for_its_fields_has_every_header_line_read_by_the_accurate_tier(ocr, orientation):
    ocr.orientation = orientation
    try:
        plain, n_plain = _accurate_crops(ocr, ocr.read_steps(warm_up_image()))
        page, n_fields = _accurate_crops(ocr, ocr.read_steps(warm_up_image(), fields="receipt"))
        auto, n_auto = _accurate_crops(ocr, ocr.read_steps(warm_up_image(), fields="auto"))
        _, n_mrz = _accurate_crops(ocr, ocr.read_steps(warm_up_image(), fields="mrz"))
    finally:
        ocr.orientation = True
    lines = len(page.lines)
    assert lines >= 5  # the six printed lines, as detected
    # the plain read re-reads at most its cap; a read for the fields every line of this short receipt
    # (all of them within the header) once: a line of the page may be two boxes read apart
    # ("TOTAL" and "12.50"), each read once (a document's path through orientation: no four-way
    # vote, whose crops the accurate tier reads too)
    assert n_plain <= ocr.accurate.spec.reread_max < lines <= n_fields <= 2 * lines
    assert n_fields == n_auto
    assert n_mrz == n_plain
    assert "TOTAL" in page.text.upper() and page.fields("receipt")["total"]["normalized"] == "12.50"
    assert auto.text == page.text and plain.lines


def test_an_unknown_kind_of_fields_is_refused_before_any_read(ocr):
    with pytest.raises(LocalOCRError) as e:
        ocr.read(warm_up_image(), fields="invoice")
    assert e.value.code == "bad_fields_kind"


def test_documents_and_the_cli_read_for_the_fields_asked(ocr, tmp_path, monkeypatch, capsys):
    import json

    from localocr import cli

    seen = []
    real = OCR.page_steps

    def spy(self, *a, **kw):
        seen.append(kw.get("fields"))
        return (yield from real(self, *a, **kw))

    monkeypatch.setattr(OCR, "page_steps", spy)
    path = tmp_path / "r.jpg"
    path.write_bytes(warm_up_image())
    doc = ocr.read_document(str(path), fields="receipt")
    assert seen == ["receipt"] and doc.pages[0].fields("receipt")["total"]["normalized"] == "12.50"
    assert doc.pages[0].timings["reread_run"] > 0
    assert cli.main([str(path), "--fields", "auto", "--format", "json"]) == 0
    assert seen == ["receipt", "auto"]
    assert json.loads(capsys.readouterr().out)["fields"]["total"]["normalized"] == "12.50"
