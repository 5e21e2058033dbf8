"""localocr.batch (inputs -> pages -> rows, resuming) and the CLI's `batch` dispatch, without Ray."""

import io
import json

import pytest
from localocr import batch as B
from localocr import cli
from localocr.errors import LocalOCRError
from localocr.result import Page
from pipeline_fakes import fake_ocr, page_with_words  # noqa: F401 - fixture
from test_cli_eval import fake_models  # noqa: F401 - fixture


def png_bytes(im) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def test_expand_inputs_folders_globs_files(tmp_path):
    (tmp_path / "a" / "deep").mkdir(parents=True)
    for name in ("a/1.png", "a/deep/2.JPG", "a/notes.txt", "b.tif", "c.parquet"):
        (tmp_path / name).write_bytes(b"x")
    got = B.expand_inputs(
        [str(tmp_path / "a"), str(tmp_path / "*.tif"), str(tmp_path / "c.parquet"), str(tmp_path / "a" / "1.png")]
    )
    assert got.files == [str(tmp_path / "a" / "1.png"), str(tmp_path / "a" / "deep" / "2.JPG"), str(tmp_path / "b.tif")]
    assert got.parquet == [str(tmp_path / "c.parquet")]
    assert B.expand_inputs([str(tmp_path / "a" / ".." / "b.tif"), str(tmp_path / "b.tif")]).files == [
        str(tmp_path / "b.tif")
    ]
    with pytest.raises(LocalOCRError) as e:
        B.expand_inputs([str(tmp_path / "nothing-*.png")])
    assert e.value.code == "no_input"
    (tmp_path / "empty").mkdir()
    with pytest.raises(LocalOCRError, match="no image or Parquet files"):
        B.expand_inputs([str(tmp_path / "empty")])


def test_rows_for_image_corrupt_and_missing(fake_ocr, tmp_path):
    im, _ = page_with_words()
    page = fake_ocr.read(im)
    (row,) = B.rows_for(fake_ocr, "p.png", png_bytes(im))
    assert row["page"] == 1 and row["error"] is None
    assert row["text"] == page.text and row["text"]
    assert (row["width"], row["height"]) == im.size
    assert (row["rotation"], row["deskew"]) == (page.rotation, round(page.deskew, 2))
    assert [ln["text"] for ln in row["lines"]] == [ln.text for ln in page.lines]
    assert row["lines"][0]["words"][0]["quad"] == page.lines[0].words[0].to_dict()["quad"]
    assert set(row["timings"]) == set(B.TIMING_KEYS) and row["timings"]["total"] > 0
    assert set(row) == set(B.ROW_KEYS)

    (bad,) = B.rows_for(fake_ocr, "bad.png", b"\x89PNG\r\n\x1a\n truncated")
    assert bad["page"] is None and bad["text"] is None
    assert bad["error"]["code"] and bad["error"]["message"]

    (gone,) = B.rows_for(fake_ocr, str(tmp_path / "gone.png"))  # read from the path
    assert gone["error"]["code"] == "not_found"
    p = tmp_path / "here.png"
    p.write_bytes(png_bytes(im))
    assert B.rows_for(fake_ocr, str(p))[0]["text"] == page.text


def test_rows_for_unexpected_exception_is_an_error_row(fake_ocr, monkeypatch):
    monkeypatch.setattr(fake_ocr, "read", lambda data: 1 / 0)
    (row,) = B.rows_for(fake_ocr, "x.png", b"whatever")
    assert row["error"] == {"code": "internal_error", "message": "ZeroDivisionError: division by zero"}


def test_multi_frame_tiff_gives_a_row_per_page(fake_ocr):
    one, _ = page_with_words()
    two, _ = page_with_words(lines=((20, 30, (2,)),))
    buf = io.BytesIO()
    one.save(buf, "TIFF", save_all=True, append_images=[two])
    rows = B.rows_for(fake_ocr, "scan.tif", buf.getvalue())
    assert [r["page"] for r in rows] == [1, 2]
    assert [r["text"] for r in rows] == [fake_ocr.read(one).text, fake_ocr.read(two).text]
    assert rows[0]["text"] != rows[1]["text"]
    # a single-frame TIFF is read like any image
    buf = io.BytesIO()
    one.save(buf, "TIFF")
    assert [r["page"] for r in B.rows_for(fake_ocr, "one.tif", buf.getvalue())] == [1]


def test_pdf_gives_a_row_per_page(fake_ocr):
    one, _ = page_with_words()
    two, _ = page_with_words(lines=((20, 30, (2,)),))
    buf = io.BytesIO()
    one.save(buf, "PDF", save_all=True, append_images=[two.copy()], resolution=150)
    rows = B.rows_for(fake_ocr, "scan.pdf", buf.getvalue())
    assert [r["page"] for r in rows] == [1, 2]
    assert [r["error"] for r in rows] == [None, None]
    assert rows[0]["text"] and rows[0]["text"] != rows[1]["text"]


def test_done_inputs_skips_a_line_cut_short(tmp_path):
    (tmp_path / "rows-1.jsonl").write_text(
        json.dumps({"path": "a.png", "page": 1})
        + "\n"
        + json.dumps({"path": "b.png", "page": None})
        + "\n"
        + '{"path": "c.pn',
        encoding="utf-8",
    )
    (tmp_path / ".rows-2.parquet.tmp").write_bytes(b"partial")  # hidden: ignored
    assert B.done_inputs(str(tmp_path)) == {"a.png", "b.png"}
    assert B.done_inputs(str(tmp_path / "missing")) == set()


def test_cli_batch_needs_out_and_a_file_named_batch_still_reads(fake_models, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    im, _ = page_with_words()
    im.save(tmp_path / "batch", "PNG")
    with pytest.raises(SystemExit) as e:
        cli.main(["batch"])
    assert e.value.code == 2
    assert "./batch" in capsys.readouterr().err
    assert cli.main(["./batch"]) == 0
    assert capsys.readouterr().out.strip()
    assert cli.main(["-f", "json", "batch"]) == 0  # not first: an image, as before
    assert json.loads(capsys.readouterr().out)["version"] == 1


def test_cli_batch_bad_input_is_one_line(tmp_path, capsys):
    assert cli.main(["batch", str(tmp_path / "nothing-*.png"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file, folder or glob match" in err


def test_actors_get_the_models_ocr_would_load(tmp_path):
    """localocr.ray.model_files (Ray itself is not needed for it): detector, recognizer and the
    optional accurate tier, as paths or bytes."""
    from localocr.backends.fake import fake_model_bytes
    from localocr.ray import model_files
    from test_tiers import accurate_bytes

    for kind in ("detector", "recognizer"):
        (tmp_path / f"{kind}.onnx").write_bytes(fake_model_bytes(kind))
    assert model_files(tmp_path) == {
        "detector": str(tmp_path / "detector.onnx"),
        "recognizer": str(tmp_path / "recognizer.onnx"),
        "accurate": False,
    }
    (tmp_path / "accurate.onnx").write_bytes(accurate_bytes())
    shipped = model_files(tmp_path, ship=True)
    assert shipped["accurate"] == accurate_bytes() and shipped["detector"] == fake_model_bytes("detector")


def test_fields_kind_is_checked_before_any_work(tmp_path, capsys):
    from localocr.ray import check_fields_kind

    with pytest.raises(LocalOCRError) as e:
        check_fields_kind("no-such-kind")
    assert e.value.code == "unsupported"  # without page.fields, and with it for a bad kind
    im, _ = page_with_words()
    im.save(tmp_path / "p.png")
    assert cli.main(["batch", str(tmp_path / "p.png"), "--out", str(tmp_path / "out"), "--fields", "no-such-kind"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not hasattr(Page, "fields"), reason="page.fields (receipt/MRZ fields) is not here yet")
def test_rows_carry_the_fields_of_their_page(fake_ocr):
    im, _ = page_with_words()
    (row,) = B.rows_for(fake_ocr, "p.png", png_bytes(im), fields="auto")
    assert row["fields"] == fake_ocr.read(im).fields("auto")
