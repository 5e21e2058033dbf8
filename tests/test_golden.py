"""Golden end-to-end tests: the bundled models on a few real validation images.

Each case compares `OCR().read(image).text` with tests/golden/<set>__<name>.expected.txt.
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
    ("sroie_train", "images/003.jpg"),          # a receipt
    ("funsd_train", "images/0001118259.png"),   # a scanned form
    ("ic15_train", "images/img_8.jpg"),         # a street scene
    ("openalpr_plates", "images/us_us1.jpg"),   # a licence plate
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
