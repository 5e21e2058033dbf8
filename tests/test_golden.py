"""Golden end-to-end tests: the bundled models on a few real validation images, and on the
repository's own images (tests/golden/images/, drawn by tools/make_golden.py: they run in a clone
without ../shared).

Each real case compares `OCR().read(image).text` with tests/golden/<set>__<name>.expected.txt.
Each own image compares its text with images/<name>.expected.txt and its lines with
images/<name>.expected.json: the same lines in the same order, each line's and word's corners within
GEOMETRY_TOLERANCE_PX of the expected ones, confidences within CONFIDENCE_TOLERANCE.
After a deliberate change (new models, a pipeline change) refresh them with

    LOCALOCR_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py

and review the diff like code. The images are validation images of ../shared/data
(never trained on); the tests skip when the data or the models are not there.
"""

import os
from pathlib import Path

import pytest
from localocr.errors import LocalOCRError

DATA = Path(os.environ.get("LOCALOCR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("LOCALOCR_UPDATE_GOLDEN") == "1"

CASES = [
    ("sroie_train", "images/003.jpg"),  # a receipt
    ("funsd_train", "images/0001118259.png"),  # a scanned form
    ("ic15_train", "images/img_8.jpg"),  # a street scene
    ("openalpr_plates", "images/us_us1.jpg"),  # a licence plate
]

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def ocr():
    from localocr import OCR

    try:
        return OCR()
    except LocalOCRError as e:
        pytest.skip(f"no bundled models: {e}")


@pytest.mark.parametrize("dataset,image", CASES, ids=[c[0] for c in CASES])
def test_golden(ocr, dataset, image):
    path = DATA / dataset / image
    if not path.is_file():
        pytest.skip(f"{path} not available")
    text = ocr.read(str(path)).to_text()
    expected = GOLDEN / f"{dataset}__{Path(image).stem}.expected.txt"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        expected.write_text(text, encoding="utf-8")
        return
    if not expected.exists():
        pytest.skip(f"{expected.name} missing: run with LOCALOCR_UPDATE_GOLDEN=1 to create it")
    assert text == expected.read_text(encoding="utf-8")


# ---------------------------------------------------------------- the repository's own images

OWN = GOLDEN / "images"
OWN_IMAGES = sorted(p for p in OWN.glob("*") if p.suffix in (".png", ".jpg"))
GEOMETRY_TOLERANCE_PX = 2.0  # onnxruntime builds and CPUs differ in the last bits of a map
CONFIDENCE_TOLERANCE = 0.02


def lines_of(page) -> list[dict]:
    return [
        {
            "text": ln.text,
            "confidence": round(float(ln.confidence), 4),
            "quad": [[round(float(v), 1) for v in pt] for pt in ln.quad],
            "words": [{"text": w.text, "quad": [[round(float(v), 1) for v in pt] for pt in w.quad]} for w in ln.words],
        }
        for ln in page.lines
    ]


def test_the_repository_carries_its_own_golden_images():
    assert {p.stem for p in OWN_IMAGES} >= {"receipt", "screenshot", "sign"}
    for p in OWN_IMAGES:
        assert p.stat().st_size < 100_000, p  # small enough to live in git


def _close(got, want, tol) -> bool:
    import numpy as np

    return bool(np.all(np.abs(np.asarray(got, float) - np.asarray(want, float)) <= tol))


@pytest.mark.parametrize("image", OWN_IMAGES, ids=[p.stem for p in OWN_IMAGES])
def test_own_golden(ocr, image):
    import json

    page = ocr.read(str(image))
    text, lines = page.to_text(), lines_of(page)
    txt, js = OWN / f"{image.stem}.expected.txt", OWN / f"{image.stem}.expected.json"
    if UPDATE:
        txt.write_text(text, encoding="utf-8")
        js.write_text(
            json.dumps({"width": page.width, "height": page.height, "lines": lines}, indent=1) + "\n", encoding="utf-8"
        )
        return
    assert txt.exists() and js.exists(), f"run with LOCALOCR_UPDATE_GOLDEN=1 to create {txt.name}, {js.name}"
    assert text == txt.read_text(encoding="utf-8")
    want = json.loads(js.read_text(encoding="utf-8"))
    assert (page.width, page.height) == (want["width"], want["height"])
    assert [ln["text"] for ln in lines] == [ln["text"] for ln in want["lines"]]
    for got, exp in zip(lines, want["lines"]):
        assert _close(got["quad"], exp["quad"], GEOMETRY_TOLERANCE_PX), (got["text"], got["quad"], exp["quad"])
        assert abs(got["confidence"] - exp["confidence"]) <= CONFIDENCE_TOLERANCE, got["text"]
        assert [w["text"] for w in got["words"]] == [w["text"] for w in exp["words"]]
        for gw, ew in zip(got["words"], exp["words"]):
            assert _close(gw["quad"], ew["quad"], GEOMETRY_TOLERANCE_PX), (gw["text"], gw["quad"], ew["quad"])
