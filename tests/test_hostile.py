"""Hostile and odd files (tests/hostile_corpus.py) through the Python API and the CLI: each gives a
Page or a LocalOCRError with its expected code and a one-line message, within a time limit, and a
batch goes on past every bad file."""

import json
import time

import pytest
from hostile_corpus import PAGE, corpus, save, text_image
from localocr import OCR, LocalOCRError, cli
from localocr.backends.fake import FakeBackend, fake_model_bytes
from test_cli_eval import fake_models  # noqa: F401  (fixture)

CASES = corpus()
# CPU seconds (not wall time: a shared CI machine may be loaded): the slowest case, a 64 MP bomb
# decoded and reduced, takes ~2.5 s here.
SECONDS = 20


@pytest.fixture(scope="module")
def ocr():
    return OCR(fake_model_bytes("detector"), fake_model_bytes("recognizer"), FakeBackend())


def outcome(ocr, data):
    try:
        return ocr.read(data), PAGE
    except LocalOCRError as e:
        return e, e.code


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_python_api(ocr, case):
    t0 = time.process_time()
    got, code = outcome(ocr, case.data)
    assert time.process_time() - t0 < SECONDS
    assert case.allows(code), f"{case.name}: {code}: {got}"
    if code == PAGE:
        assert got.width > 0 and got.height > 0
        if case.note:
            assert case.note in [n.code for n in got.notes]
            assert case.note in [n["code"] for n in got.to_dict()["notes"]]
    else:
        msg = str(got)
        assert msg and "\n" not in msg and "Traceback" not in msg and len(msg) < 300
        assert code != "internal"


def test_exif_orientations_turn_the_page(ocr):
    sizes = {c.name[-1]: outcome(ocr, c.data)[0] for c in CASES if "exif-orientation" in c.name}
    for o, page in sizes.items():
        # orientations 5-8 swap the sides (a 64 x 32 image stored sideways)
        assert (page.width, page.height) == ((32, 64) if int(o) >= 5 else (64, 32)), o


def test_cli_reads_the_whole_corpus_in_one_batch(fake_models, tmp_path, capsys):  # noqa: F811
    paths = []
    for i, c in enumerate(CASES):
        p = tmp_path / f"{i:02d}-{c.name}.png"  # renamed as images, whatever they are
        p.write_bytes(c.data)
        paths.append(p)
    status = cli.main([str(p) for p in paths] + ["--format", "json"])
    out = capsys.readouterr()
    entries = json.loads(out.out)
    assert [e["image"] for e in entries] == [str(p) for p in paths]
    err_lines = out.err.splitlines()
    bad = 0
    for c, e in zip(CASES, entries):
        code = e["error"]["code"] if "error" in e else PAGE
        assert c.allows(code), f"{c.name}: {e}"
        if "error" in e:
            bad += 1
            assert any(
                line.startswith(f"localocr: {e['image']}: ") and line.endswith(f"[{code}]") for line in err_lines
            )
    assert bad and status == 1
    assert len(err_lines) == bad and "Traceback" not in out.err


def test_cli_batch_good_bad_good(fake_models, tmp_path, capsys):  # noqa: F811
    good = tmp_path / "good.png"
    good.write_bytes(save(text_image(), "PNG"))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(save(text_image(), "JPEG")[:600])
    assert cli.main([str(good), str(bad), str(good)]) == 1
    out = capsys.readouterr()
    assert out.out.count("==> ") == 2
    assert out.err.count("\n") == 1 and f"{bad}: " in out.err and "[truncated]" in out.err
    # one image, JSON: the error object takes the page's place
    assert cli.main([str(bad), "--format", "json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["image"] == str(bad) and d["error"]["code"] == "truncated"
    # --out: the error is written where the page would be
    assert cli.main([str(good), str(bad), "--format", "json", "--out", str(tmp_path / "o")]) == 1
    assert json.loads((tmp_path / "o" / "bad.json").read_text())["error"]["code"] == "truncated"
    assert "blocks" in json.loads((tmp_path / "o" / "good.json").read_text())


def test_internal_errors_are_one_line_and_debug_shows_the_traceback(
    fake_models,
    tmp_path,
    capsys,  # noqa: F811
    monkeypatch,
):
    good = tmp_path / "good.png"
    good.write_bytes(save(text_image(), "PNG"))
    import localocr.pipeline as pipeline

    def broken(*a, **kw):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(pipeline, "build_blocks", broken)
    assert cli.main([str(good), str(good)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and err.count("[internal]") == 2 and "Traceback" not in err
    assert cli.main([str(good), "--debug"]) == 1
    err = capsys.readouterr().err
    assert "[internal]" in err and "Traceback" in err and "ZeroDivisionError: a bug" in err
