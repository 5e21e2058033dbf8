"""The whole pipeline on the numpy fake models: stages, drivers, geometry, timings."""

import asyncio

import numpy as np
import pytest
from localocr import OCR, LocalOCRError
from localocr.backends.fake import FakeBackend, fake_model_bytes
from localocr.detection import detect_steps
from localocr.metrics import polygon_iou
from localocr.pipeline import run_async, run_sync
from PIL import Image, ImageDraw
from pipeline_fakes import page_with_words


@pytest.fixture
def ocr():
    return OCR(fake_model_bytes("detector"), fake_model_bytes("recognizer"), FakeBackend())


def box_quad(b):
    x0, y0, x1, y1 = b
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)


def test_read_words_lines_and_quads(ocr):
    im, boxes = page_with_words()
    page = ocr.read(im)
    assert page.text == "xxx xx\n\nxxxx"
    assert (page.width, page.height) == (400, 200)
    words = page.words
    assert [w.text for w in words] == ["xxx", "xx", "xxxx"]
    for w, b in zip(words, [b for row in boxes for b in row]):
        # word quads come from CTC step positions mapped back through the crop
        assert polygon_iou(w.quad, box_quad(b)) > 0.5
        assert 0.85 < w.confidence <= 1
    assert page.backend == "fake"
    for key in (
        "decode",
        "detect_pre",
        "detect_run",
        "detect_post",
        "recognize_pre",
        "recognize_run",
        "recognize_post",
        "layout",
        "total",
    ):
        assert page.timings[key] >= 0
    assert page.timings["total"] >= page.timings["detect_run"]


def test_async_driver_gives_the_same_page(ocr):
    im, _ = page_with_words()
    a = ocr.read(im).to_dict()
    b = asyncio.run(ocr.read_async(im)).to_dict()
    a.pop("timings"), b.pop("timings")
    assert a == b


class AsyncOnly:
    """A session like the Pyodide one: run() raises, run_async() works."""

    def __init__(self, inner):
        self.inner = inner
        self.input_names, self.output_names, self.metadata = inner.input_names, inner.output_names, inner.metadata

    def run(self, feeds):
        raise RuntimeError("async only")

    async def run_async(self, feeds):
        await asyncio.sleep(0)
        return self.inner.run(feeds)


def test_ready_sessions_and_async_only_sessions():
    be = FakeBackend()
    det = AsyncOnly(be.load(fake_model_bytes("detector"), "d"))
    rec = AsyncOnly(be.load(fake_model_bytes("recognizer"), "r"))
    ocr = OCR(det, rec, be)
    im, _ = page_with_words()
    assert asyncio.run(ocr.read_async(im)).text == "xxx xx\n\nxxxx"
    # a session that fails in an unforeseen way: the generic "internal" error, its cause chained
    with pytest.raises(LocalOCRError) as e:
        ocr.read(im)
    assert e.value.code == "internal" and isinstance(e.value.__cause__, RuntimeError)


def test_detector_input_is_normalised_with_metadata_and_padded(ocr):
    im = Image.new("RGB", (100, 50), (255, 255, 255))
    gen = detect_steps(im, ocr.detector)
    session, feeds = next(gen)
    x = feeds["image"]
    # tiny image: upscaled to a 640 px long side (3x at most), padded to x32
    assert x.shape == (1, 3, 160, 320)
    assert x.shape[2] % 32 == 0 and x.shape[3] % 32 == 0
    mean, std = np.array([0.4, 0.5, 0.6]), np.array([0.2, 0.25, 0.3])
    np.testing.assert_allclose(x[0, :, 0, 0], (1 - mean) / std, rtol=1e-5)
    np.testing.assert_allclose(x[0, :, 155, 310], 0.0)  # padding: the mean colour
    with pytest.raises(StopIteration):
        gen.send(session.run(feeds))


def test_big_image_downscaled_and_refined_for_small_text():
    # 4000 x 3000 (12 MP) with 8 px text: the first pass at ~2 MP shrinks it to ~3 px.
    # orientation=False: a page with this little text is also detected turned by 90 (test_orientation.py)
    ocr = OCR(fake_model_bytes("detector"), fake_model_bytes("recognizer"), FakeBackend(), orientation=False)
    im = Image.new("L", (4000, 3000), 255)
    d = ImageDraw.Draw(im)
    for k in range(6):
        d.rectangle([100 + 18 * k, 200, 100 + 18 * k + 13, 208], fill=0)
    page = ocr.read(im)
    calls = ocr.detector.session.calls
    assert len(calls) >= 3, calls  # a second, finer pass (in tiles: test_bounded_memory.py) ...
    fine = calls[1:-1]
    assert len(set(fine)) == 1 and sum(h * w for *_, h, w in fine) > calls[0][2] * calls[0][3]
    assert calls[-1][2:] == (320, 448)  # ... and the coarse pass, the short side at 320 (test_big_text.py)
    assert page.text == "xxxxxx"


def test_rotated_page_gives_rotated_quads(ocr):
    im, _ = page_with_words(size=(300, 300), lines=((60, 100, (3, 2)),))
    rot = im.rotate(30, expand=False, fillcolor=255, resample=Image.BILINEAR)
    page = ocr.read(rot)
    assert page.text == "xxx xx"
    ln = page.lines[0]
    d = ln.quad[1] - ln.quad[0]
    # Image.rotate turns counter-clockwise: the text now rises to the right by 30 degrees
    assert np.degrees(np.arctan2(-d[1], d[0])) == pytest.approx(30, abs=3)


def test_upside_down_line_read_by_flip_check():
    """A recognizer that is only confident when the line's 'top mark' is at the top."""
    be = FakeBackend()
    rec = be.load(fake_model_bytes("recognizer"), "r")
    plain = rec.run

    def oriented(feeds):
        out = plain(feeds)
        x = feeds["image"]
        top_darker = x[:, 0, :8].mean(axis=(1, 2)) < x[:, 0, -8:].mean(axis=(1, 2))
        lp = out["logits"]
        # upside down: flatten the distribution (low confidence)
        lp[~top_darker] = np.log(np.full(lp.shape[-1], 1 / lp.shape[-1], np.float32))
        return out

    rec.run = oriented
    ocr = OCR(fake_model_bytes("detector"), rec, be)
    im = Image.new("L", (300, 120), 255)
    d = ImageDraw.Draw(im)
    for i in range(4):
        d.rectangle([40 + 12 * i, 60, 45 + 12 * i, 76], fill=0)
    d.rectangle([40, 74, 90, 76], fill=0)  # a bar at the bottom: the text is upside down
    page = ocr.read(im)
    assert page.text == "x"  # the bars joined by the underline read as one mark
    q = page.lines[0].quad
    assert q[0][1] > q[3][1]  # reading top-left is at the image's bottom
    # read only the right way up: nothing confident (orientation off: it would turn the page by 180)
    ocr_nf = OCR(fake_model_bytes("detector"), rec, be, flip_check=False, orientation=False)
    assert ocr_nf.read(im).text == ""


def test_recognize_line(ocr):
    im, _ = page_with_words(size=(150, 30), lines=((5, 7, (3, 2)),))
    text, conf = ocr.recognize_line(im)
    assert text == "xxx xx"
    assert conf == pytest.approx(0.9, abs=1e-4)
    assert asyncio.run(ocr.recognize_line_async(np.asarray(im))) == (text, conf)


def test_blank_and_tiny_images(ocr):
    assert ocr.read(Image.new("L", (1, 1), 255)).text == ""
    assert ocr.read(Image.new("RGB", (5, 3), (255, 255, 255))).blocks == []
    assert ocr.recognize_line(Image.new("L", (3, 3), 255))[0] == ""


def test_bad_inputs_raise_localocr_error(ocr):
    with pytest.raises(LocalOCRError):
        ocr.read(b"%PDF-1.4")
    with pytest.raises(LocalOCRError):
        ocr.read(b"")


def test_bundled_models_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCALOCR_MODELS", str(tmp_path))
    with pytest.raises(LocalOCRError) as e:
        OCR(backend=FakeBackend())
    assert e.value.code == "no_model" and str(tmp_path) in str(e.value)


def test_bundled_models_prefers_int8(tmp_path):
    from localocr.pipeline import bundled_model

    (tmp_path / "detector.onnx").write_bytes(fake_model_bytes("detector"))
    assert bundled_model("detector", tmp_path).name == "detector.onnx"
    (tmp_path / "detector.int8.onnx").write_bytes(fake_model_bytes("detector"))
    assert bundled_model("detector", tmp_path).name == "detector.int8.onnx"
    (tmp_path / "recognizer.onnx").write_bytes(fake_model_bytes("recognizer"))
    ocr = OCR(models=tmp_path, backend=FakeBackend())
    assert ocr.detector.spec.granularity == "line"


def test_run_sync_returns_stage_value():
    def stage():
        out = yield FakeSession(), {"a": 1}
        return out["a"] + 1

    class FakeSession:
        def run(self, feeds):
            return {"a": feeds["a"] * 10}

    assert run_sync(stage()) == 11
    assert asyncio.run(run_async(stage())) == 11


def test_model_breaking_its_contract_at_run_time():
    be = FakeBackend()
    rec = be.load(fake_model_bytes("recognizer"), "r")
    plain = rec.run
    rec.run = lambda feeds: {"logits": plain(feeds)["logits"][:, ::2]}  # T = W / 8, not W / 4
    ocr = OCR(fake_model_bytes("detector"), rec, be)
    im, _ = page_with_words()
    with pytest.raises(LocalOCRError, match="logits of shape"):
        ocr.read(im)
    det = be.load(fake_model_bytes("detector"), "d")
    plain_d = det.run
    det.run = lambda feeds: {"prob": plain_d(feeds)["prob"][:, :, ::2, ::2]}  # downsample 4, not 2
    with pytest.raises(LocalOCRError, match="downsample 2"):
        OCR(det, fake_model_bytes("recognizer"), be).read(im)


def test_upside_down_page_flips_confident_lines_too():
    """Upside-down lines: half read as confident garbage upright, all read better flipped."""
    be = FakeBackend()
    rec = be.load(fake_model_bytes("recognizer"), "r")
    plain = rec.run

    def oriented(feeds):
        out = plain(feeds)
        x = feeds["image"]
        lp = out["logits"]
        top_darker = x[:, 0, :8].mean(axis=(1, 2)) < x[:, 0, -8:].mean(axis=(1, 2))
        wide = x.shape[3] > 100  # the long lines read "confidently" even upside down
        for i in np.flatnonzero(~top_darker):
            p = 0.85 if wide else 0.3  # upright reading of upside-down text
            lp[i] = np.log(np.full(lp.shape[-1], (1 - p) / (lp.shape[-1] - 1), np.float32))
            lp[i, :, 0] = np.log(p)  # all blank except one confident mark
            lp[i, 0, 0], lp[i, 0, 2] = np.log((1 - p) / 2), np.log(p)
        return out

    rec.run = oriented
    ocr = OCR(fake_model_bytes("detector"), rec, be)
    im = Image.new("L", (400, 300), 255)
    d = ImageDraw.Draw(im)
    for row, n in enumerate((2, 2, 6, 6)):
        y = 30 + 60 * row
        for i in range(n):
            d.rectangle([40 + 14 * i, y, 45 + 14 * i, y + 16], fill=0)
        d.rectangle([40, y + 14, 45 + 14 * (n - 1), y + 16], fill=0)  # bottom bar: upside down
    page = ocr.read(im)
    assert all(ln.quad[0][1] > ln.quad[3][1] for ln in page.lines)  # every line read flipped
    assert len(page.lines) == 4
