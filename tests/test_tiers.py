"""Two recognizer tiers: lines the fast tier reads with low confidence are read again by the
accurate one (`recognition.reread_steps`), on the fake models, and the contract of the new keys."""

import numpy as np
import pytest
from localocr import OCR, LocalOCRError, recognition
from localocr.backends.fake import FakeBackend, FakeRecognizer, fake_model_bytes
from localocr.contract import keys as mm
from localocr.contract.onnxfile import read_model_info
from pipeline_fakes import page_with_words


class Unsure(FakeRecognizer):
    """The fake recognizer, but crops with more than `sure_steps` marks are read with less
    confidence the more marks they have (0.6 for sure_steps + 1, then 0.05 less a mark)."""

    def __init__(self, metadata, sure_steps: int, **kw):
        super().__init__(metadata, **kw)
        self.sure_steps = sure_steps

    def run(self, feeds):
        out = super().run(feeds)
        logits = out[mm.RECOGNIZER_OUTPUT]
        best = logits.argmax(axis=2)
        for i in range(len(logits)):
            marks = int((best[i] > 0).sum())
            if marks > self.sure_steps:
                p = 0.6 - 0.05 * (marks - self.sure_steps - 1)
                np.put_along_axis(logits[i], best[i][:, None], np.log(p), axis=1)
        return out


def _session(data: bytes, cls=FakeRecognizer, **kw):
    return cls(read_model_info(data).metadata, **kw)


def accurate_bytes(height: int = 48, **overrides):
    """A fake accurate tier (`height`: the metadata's; the fake file's input stays 32 high)."""
    return fake_model_bytes(
        "recognizer", **{mm.ROLE: "accurate", mm.HEIGHT: str(height), mm.REREAD_BELOW: "0.8", **overrides}
    )


def test_low_confidence_lines_are_read_again_and_confident_ones_are_not(monkeypatch):
    # line 1: words of 3 and 2 bars (5 marks: confident); line 2: one word of 8 bars (unsure); the
    # model's own threshold (the few-lines rule, below 0.99 on a page this short, off)
    monkeypatch.setattr(recognition, "REREAD_ALL_UP_TO", 0)
    im, _ = page_with_words(lines=((20, 30, (3, 2)), (20, 120, (8,))))
    fast = _session(fake_model_bytes("recognizer"), Unsure, sure_steps=6)
    accurate = _session(accurate_bytes(), mark="y")
    # the reread mechanism alone: no flip check, no orientation vote (which reads with the accurate tier)
    ocr = OCR(fake_model_bytes("detector"), fast, FakeBackend(), accurate=accurate, flip_check=False, orientation=False)
    page = ocr.read(im)
    texts = [ln.text for b in page.blocks for ln in b.lines]
    assert texts == ["xxx xx", "yyyyyyyy"]
    # the accurate model saw one crop, at its own height
    assert [c[0] for c in accurate.calls] == [1] and all(c[2] == 48 for c in accurate.calls)
    assert page.timings["reread_run"] > 0


def test_threshold_option_overrides_the_models_own():
    im, _ = page_with_words(lines=((20, 30, (3, 2)), (20, 120, (8,))))
    fast = _session(fake_model_bytes("recognizer"), Unsure, sure_steps=6)
    accurate = _session(accurate_bytes(), mark="y")
    ocr = OCR(
        fake_model_bytes("detector"),
        fast,
        FakeBackend(),
        accurate=accurate,
        flip_check=False,
        orientation=False,
        reread_below=0.0,
    )
    assert [ln.text for b in ocr.read(im).blocks for ln in b.lines] == ["xxx xx", "xxxxxxxx"]
    assert accurate.calls == []
    ocr.reread_below = 1.0  # everything is read again
    assert [ln.text for b in ocr.read(im).blocks for ln in b.lines] == ["yyy yy", "yyyyyyyy"]


def test_without_an_accurate_tier_nothing_is_read_again():
    im, _ = page_with_words()
    ocr = OCR(fake_model_bytes("detector"), fake_model_bytes("recognizer"), FakeBackend())
    assert ocr.accurate is None
    assert "reread_run" not in ocr.read(im).timings


def test_a_fast_model_given_as_the_accurate_tier_is_refused():
    with pytest.raises(LocalOCRError, match="role"):
        OCR(
            fake_model_bytes("detector"),
            fake_model_bytes("recognizer"),
            FakeBackend(),
            accurate=fake_model_bytes("recognizer"),
        )


@pytest.mark.parametrize(
    "key,value,match", [(mm.ROLE, "slow", "role"), (mm.CHANNELS, "3", "channels"), (mm.REREAD_BELOW, "high", "number")]
)
def test_contract_checks_the_tier_keys(key, value, match):
    with pytest.raises(LocalOCRError, match=match):
        OCR(
            fake_model_bytes("detector"),
            fake_model_bytes("recognizer"),
            FakeBackend(),
            accurate=accurate_bytes(32, **{key: value}),
        )


def test_at_most_reread_max_lines_are_read_again_the_least_confident_first(monkeypatch):
    # three unsure lines of 8, 7 and 9 bars (confidence 0.55, 0.6, 0.5): at most 2 are read again,
    # the 9 and the 8 (the few-lines rule off: it would read all three)
    monkeypatch.setattr(recognition, "REREAD_ALL_UP_TO", 0)
    im, _ = page_with_words(size=(400, 300), lines=((20, 30, (8,)), (20, 120, (7,)), (20, 210, (9,))))
    fast = _session(fake_model_bytes("recognizer"), Unsure, sure_steps=6)
    accurate = _session(accurate_bytes(**{mm.REREAD_MAX: "2"}), mark="y")
    ocr = OCR(fake_model_bytes("detector"), fast, FakeBackend(), accurate=accurate, flip_check=False, orientation=False)
    texts = [ln.text for b in ocr.read(im).blocks for ln in b.lines]
    assert texts == ["yyyyyyyy", "xxxxxxx", "yyyyyyyyy"]
    assert sum(c[0] for c in accurate.calls) == 2


def test_a_page_of_few_lines_has_every_unsure_line_read_again_without_the_cap(monkeypatch):
    """Up to REREAD_ALL_UP_TO lines, lines below REREAD_FEW_BELOW are read again whatever the model's
    threshold and cap; a page with more lines keeps them."""
    lines = ((20, 30, (8,)), (20, 120, (7,)), (20, 210, (9,)))
    im, _ = page_with_words(size=(400, 300), lines=lines)
    fast = _session(fake_model_bytes("recognizer"), Unsure, sure_steps=6)
    # the model: below 0.58 and at most 1; the page's lines are read at 0.55, 0.6 and 0.5
    accurate = _session(accurate_bytes(**{mm.REREAD_MAX: "1", mm.REREAD_BELOW: "0.58"}), mark="y")
    ocr = OCR(fake_model_bytes("detector"), fast, FakeBackend(), accurate=accurate, flip_check=False, orientation=False)
    assert recognition.REREAD_ALL_UP_TO >= 3 and recognition.REREAD_FEW_BELOW > 0.6
    assert [ln.text for b in ocr.read(im).blocks for ln in b.lines] == ["yyyyyyyy", "yyyyyyy", "yyyyyyyyy"]
    assert sum(c[0] for c in accurate.calls) == 3
    monkeypatch.setattr(recognition, "REREAD_ALL_UP_TO", 2)  # now the page has "many" lines
    accurate.calls.clear()
    assert [ln.text for b in ocr.read(im).blocks for ln in b.lines] == ["xxxxxxxx", "xxxxxxx", "yyyyyyyyy"]
    assert sum(c[0] for c in accurate.calls) == 1
