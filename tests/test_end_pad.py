"""The accurate tier's re-reads reach past a tight box's ends (recognition.END_PAD): a line's last
comma or full stop, outside the detector's box, is read; a neighbour on the row is not."""

import numpy as np
import pytest
from localocr import recognition as R
from localocr.pipeline import OCR, run_sync
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def box(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def test_a_lone_line_reaches_pad_times_its_height_both_ways():
    m = R.end_margins([box(100, 100, 300, 120)], (1000, 1000), pad=0.3)
    assert m[0] == pytest.approx([6.0, 6.0])


def test_the_image_edge_and_half_the_gap_to_a_neighbour_on_the_row_bound_it():
    quads = [box(3, 100, 200, 140), box(210, 102, 400, 138), box(205, 300, 400, 340)]
    m = R.end_margins(quads, (1000, 1000), pad=0.3)
    # the first: 3 px to the image's left edge; its end 10 px from the second, on its row
    assert m[0] == pytest.approx([3.0, 5.0])
    # the second: 5 px back towards the first, 12 px past its end (0.3 x 40)
    assert m[1] == pytest.approx([5.0, 10.8])
    # the third line lies under the second, on a row of its own
    assert m[2] == pytest.approx([12.0, 12.0])
    # the margins of some of the quads are those of the whole page's
    assert R.end_margins(quads, (1000, 1000), [2, 0], pad=0.3) == pytest.approx(m[[2, 0]])


def test_a_turned_line_measures_along_its_own_reading_direction():
    # a vertical line read top to bottom (its top edge runs down the page) and a box under it
    down = np.array([[140, 100], [140, 300], [100, 300], [100, 100]], np.float32)
    under = box(100, 310, 140, 400)
    m = R.end_margins([down, under], (1000, 1000), pad=0.3)
    assert m[0] == pytest.approx([12.0, 5.0])


def test_nothing_reaches_past_when_the_pad_is_zero():
    assert not R.end_margins([box(100, 100, 300, 120)], (1000, 1000), pad=0.0).any()


def _line(text, *rest, size=(900, 120)):
    """A grey line of `text` (and more words on its row) and the tight box of its ink less its last mark."""
    im = Image.new("L", size, 255)
    d = ImageDraw.Draw(im)
    font = ImageFont.truetype(FONT, 28)
    d.text((40, 40), text, font=font, fill=0)
    left, top, right, bottom = d.textbbox((40, 40), text[:-1], font=font)
    quads = [box(left - 2, top - 4, right + 2, bottom + 4)]
    x = d.textbbox((40, 40), text, font=font)[2]
    for word, gap in rest:
        x += gap
        d.text((x, 40), word, font=font, fill=0)
        wl, wt, wr, wb = d.textbbox((x, 40), word, font=font)
        quads.append(box(wl - 2, wt - 4, wr + 2, wb + 4))
        x = wr
    return im, quads


@pytest.fixture(scope="module")
def accurate():
    return OCR().accurate


@pytest.mark.parametrize("text", ["JALAN KPB 6,", "SELANGOR DARUL EHSAN."])
def test_the_mark_after_a_tight_box_is_read_again_with_the_line_keeping_its_box(accurate, text, monkeypatch):
    im, (quad,) = _line(text)
    read = {}
    for pad in (0.0, R.END_PAD):
        monkeypatch.setattr(R, "END_PAD", pad)
        lines = [R.LineRead(quad, "", 0.0)]
        assert run_sync(R.reread_steps(im, lines, accurate, below=2.0, most=0)) == 1
        read[pad] = lines[0]
    assert read[0.0].text == text[:-1]
    wide = read[R.END_PAD]
    assert wide.text == text and wide.reread
    np.testing.assert_array_equal(wide.quad, quad)
    # the words lie in the line's box, the last one reaching the mark read past it
    x0, x1 = quad[:, 0].min(), quad[:, 0].max()
    assert all(w.quad[:, 0].min() >= x0 - 0.5 for w in wide.words)
    assert x1 - 0.5 <= wide.words[-1].quad[:, 0].max() <= x1 + R.END_PAD * 40


def test_a_neighbour_close_on_the_row_is_not_read_into_the_line(accurate, monkeypatch):
    # a reach of a whole line height: without the neighbour's bound each would read the other's glyphs
    monkeypatch.setattr(R, "END_PAD", 1.0)
    im, quads = _line("TAMAN SEGAR,", ("RM", 4))
    lines = [R.LineRead(q, "", 0.0) for q in quads]
    run_sync(R.reread_steps(im, lines, accurate, below=2.0, most=0))
    assert [ln.text for ln in lines] == ["TAMAN SEGAR,", "RM"]
    monkeypatch.setattr(R, "ROW_OVERLAP", 9.0)  # no box counts as on the row
    lines = [R.LineRead(q, "", 0.0) for q in quads]
    run_sync(R.reread_steps(im, lines, accurate, below=2.0, most=0))
    assert [ln.text for ln in lines] != ["TAMAN SEGAR,", "RM"]
