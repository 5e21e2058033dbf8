"""The command line and the evaluation command, on the fake models."""

import io
import json
import os
import sys

import localocr.pipeline as pipeline
import numpy as np
import pytest
from localocr import cli, evaluate
from localocr.backends.fake import FakeBackend, fake_model_bytes
from localocr.result import Block, Line, Page, Word
from pipeline_fakes import page_with_words


@pytest.fixture
def fake_models(tmp_path, monkeypatch):
    """web/models stand-in with fake models, and the fake backend as the default."""
    d = tmp_path / "models"
    d.mkdir()
    (d / "detector.onnx").write_bytes(fake_model_bytes("detector"))
    (d / "recognizer.onnx").write_bytes(fake_model_bytes("recognizer"))
    monkeypatch.setenv("LOCALOCR_MODELS", str(d))
    real = pipeline.OCR

    def with_fake(*a, **kw):
        kw.setdefault("backend", FakeBackend())
        return real(*a, **kw)

    monkeypatch.setattr(pipeline, "OCR", with_fake)
    return d


@pytest.fixture
def image_file(tmp_path):
    im, _ = page_with_words()
    p = tmp_path / "page.png"
    im.save(p)
    return p


def test_cli_text(fake_models, image_file, capsys):
    assert cli.main([str(image_file)]) == 0
    assert capsys.readouterr().out == "xxx xx\n\nxxxx\n"


def test_cli_json_and_hocr(fake_models, image_file, capsys):
    assert cli.main([str(image_file), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["text"] == "xxx xx\n\nxxxx" and d["backend"] == "fake"
    assert cli.main([str(image_file), "-f", "hocr"]) == 0
    assert 'class="ocrx_word"' in capsys.readouterr().out


def test_cli_several_images_and_out_dir(fake_models, image_file, tmp_path, capsys):
    assert cli.main([str(image_file), str(image_file), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [x["image"] for x in d] == [str(image_file)] * 2
    out = tmp_path / "out"
    assert cli.main([str(image_file), "--format", "hocr", "--out", str(out)]) == 0
    assert (out / "page.hocr").read_text().startswith("<?xml")
    assert cli.main([str(image_file), str(image_file), "-f", "hocr"]) == 2


def test_cli_stdin(fake_models, image_file, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(image_file.read_bytes())))
    assert cli.main(["-"]) == 0
    assert capsys.readouterr().out == "xxx xx\n\nxxxx\n"


def test_cli_errors_are_one_line_and_exit_1(fake_models, image_file, tmp_path, capsys):
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(b"%PDF-1.5 ...")
    assert cli.main([str(pdf), str(image_file)]) == 1
    out = capsys.readouterr()
    assert "xxx xx" in out.out
    assert out.err.count("\n") == 1 and "PDF" in out.err and "Traceback" not in out.err


def test_cli_without_models(tmp_path, monkeypatch, image_file, capsys):
    monkeypatch.setenv("LOCALOCR_MODELS", str(tmp_path))
    assert cli.main([str(image_file)]) == 1
    assert "No detector model" in capsys.readouterr().err


# ---------------------------------------------------------------- evaluation


def q(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def test_page_scores_hand_computed():
    # predicted: "TOTAL" right place, "12.5O" right place wrong text, "extra" nowhere
    words = [
        Word("TOTAL", q(10, 10, 60, 30), 0.9),
        Word("12.5O", q(100, 10, 150, 30), 0.9),
        Word("extra", q(300, 300, 350, 320), 0.9),
    ]
    page = Page(
        500,
        500,
        [
            Block(
                [Line(words[:2], q(10, 10, 150, 30), 0.9), Line(words[2:], q(300, 300, 350, 320), 0.9)],
                q(10, 10, 350, 320),
            )
        ],
    )
    rec = {
        "words": [
            {"text": "TOTAL", "quad": q(11, 10, 61, 30).ravel().tolist()},
            {"text": "12.50", "quad": q(100, 11, 150, 31).ravel().tolist()},
            {"text": "Date", "quad": q(10, 100, 60, 120).ravel().tolist()},
            {"text": None, "ignore": True, "quad": q(290, 290, 360, 330).ravel().tolist()},
        ]
    }
    s = evaluate.page_scores(page, rec)
    assert s["det"] == (2, 2, 3)  # "extra" lies on the ignore region: dropped
    assert s["e2e"] == (1, 2, 3)
    assert s["bow"] == (1, 3, 3)  # TOTAL; predicted tokens include "extra"
    # CER: TOTAL 0/5, 12.50 vs 12.5O 1/5, Date vs "" 4/4
    assert s["cer"] == (5, 14)


def test_line_ground_truth_compares_segments():
    a, b = Word("TOTAL", q(10, 10, 60, 30), 0.9), Word("7.50", q(300, 10, 340, 30), 0.9)
    segs = [Line([a], q(10, 10, 60, 30), 0.9), Line([b], q(300, 10, 340, 30), 0.9)]
    line = Line([a, b], q(10, 10, 340, 30), 0.9, segments=segs)
    page = Page(400, 100, [Block([line], q(10, 10, 340, 30))])
    rec = {
        "lines": [
            {"text": "TOTAL", "quad": q(10, 10, 62, 30).ravel().tolist()},
            {"text": "7.50", "quad": q(300, 10, 340, 30).ravel().tolist()},
        ]
    }
    assert evaluate.page_scores(page, rec)["e2e"] == (2, 2, 2)


def write_set(folder, kind, records):
    os.makedirs(folder / "images", exist_ok=True)
    (folder / "meta.json").write_text(json.dumps({"name": folder.name, "kind": kind, "granularity": "word"}))
    with open(folder / "labels.jsonl", "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")


def test_evaluate_set_on_fake_models(fake_models, tmp_path, capsys):
    from localocr.splits import is_validation

    # pick file names on both sides of the fixed validation split
    names = [f"p{i}" for i in range(40)]
    val = [n for n in names if is_validation(n + ".png")][:2]
    train = [n for n in names if not is_validation(n + ".png")][:1]
    pages = tmp_path / "pages"
    os.makedirs(pages / "images")
    recs = []
    for n in val + train:
        im, boxes = page_with_words()
        im.save(pages / "images" / f"{n}.png")
        words = [
            {"text": "x" * ((b[2] - b[0] + 8) // 14), "quad": q(*b).ravel().tolist()} for row in boxes for b in row
        ]
        recs.append({"image": f"images/{n}.png", "width": 400, "height": 200, "words": words})
    write_set(pages, "page", recs)
    crops = tmp_path / "crops"
    os.makedirs(crops / "images")
    im, _ = page_with_words(size=(150, 30), lines=((5, 7, (3, 2)),))
    im.save(crops / "images" / f"{val[0]}.png")
    im.save(crops / "images" / f"{val[1]}.png")
    write_set(
        crops,
        "crop",
        [{"image": f"images/{val[0]}.png", "text": "xxx xx"}, {"image": f"images/{val[1]}.png", "text": "XXX XX"}],
    )
    assert evaluate.main(["--set", str(pages), "--set", str(crops), "--json", str(tmp_path / "r.json")]) == 0
    res = json.loads((tmp_path / "r.json").read_text())
    assert res[0]["images"] == 2  # the validation split only
    assert res[0]["det"]["hmean"] == pytest.approx(1.0)
    assert res[0]["bow_f1"] == pytest.approx(1.0)
    assert res[0]["cer"] == pytest.approx(0.0)
    assert res[1]["accuracy"] == 0.5 and res[1]["accuracy_ci"] == 1.0
    table = capsys.readouterr().out
    assert table.startswith("| set |") and "| pages | 2 |" in table
    evaluate.main(["--set", str(pages), "--split", "all", "--limit", "2", "--json", str(tmp_path / "r.json")])
    assert json.loads((tmp_path / "r.json").read_text())[0]["images"] == 2
