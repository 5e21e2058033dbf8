"""Recognition: known logits -> known text, confidences, positions; crops and batches."""

import numpy as np
import pytest
from localocr.recognition import batch_input, buckets, ctc_greedy, make_crop, split_words
from PIL import Image

ALPHA = "ab c"  # classes: 0 blank, 1 'a', 2 'b', 3 ' ', 4 'c'


def logits_for(path, p=0.8, classes=5):
    """log-probabilities with `p` on the given class per step, the rest spread evenly."""
    out = np.full((len(path), classes), np.log((1 - p) / (classes - 1)), np.float32)
    out[np.arange(len(path)), path] = np.log(p)
    return out


def test_ctc_collapses_repeats_and_blanks():
    #         a  a  -  a  b  b  -  -  ' ' c
    path = [1, 1, 0, 1, 2, 2, 0, 0, 3, 4]
    lp = logits_for(path)
    lp[1, 1] = np.log(0.95)  # a higher step inside the first 'a'
    d = ctc_greedy(lp, ALPHA)
    assert d.text == "aab c"
    np.testing.assert_allclose(d.char_conf, [0.95, 0.8, 0.8, 0.8, 0.8], rtol=1e-5)
    assert d.char_steps.tolist() == [[0, 1], [3, 3], [4, 5], [8, 8], [9, 9]]
    assert d.confidence == pytest.approx(np.mean([0.95, 0.8, 0.8, 0.8, 0.8]))


def test_ctc_empty_and_all_blank():
    assert ctc_greedy(np.zeros((0, 5), np.float32), ALPHA).text == ""
    d = ctc_greedy(logits_for([0, 0, 0]), ALPHA)
    assert d.text == "" and d.confidence == 0.0 and d.char_steps.shape == (0, 2)


def test_split_words_maps_steps_through_the_quad():
    # a 100 x 32 crop of an axis-aligned quad 200 x 64 at (10, 20): image x = 10 + 2 * crop x
    path = [0, 1, 0, 2, 0, 0, 3, 0, 0, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    d = ctc_greedy(logits_for(path), ALPHA)
    assert d.text == "ab ca"
    quad = np.array([[10, 20], [210, 20], [210, 84], [10, 84]], np.float32)
    words = split_words(d, quad, content_width=100, offset=0, downsample=4, height=32)
    assert [w.text for w in words] == ["ab", "ca"]
    # centres: a=6, b=14 (pitch 8) -> word [2, 18]; c=38, a=46 -> [34, 50] crop px
    np.testing.assert_allclose(words[0].quad, [[14, 20], [46, 20], [46, 84], [14, 84]], atol=1e-4)
    np.testing.assert_allclose(words[1].quad, [[78, 20], [110, 20], [110, 84], [78, 84]], atol=1e-4)
    assert words[0].confidence == pytest.approx(0.8)


def test_split_words_rotated_quad_and_offset():
    path = [0, 0, 1, 0, 0]  # one 'a' at step 2: centre x = 10 in the padded input
    d = ctc_greedy(logits_for(path), ALPHA)
    # crop 12 px wide centred in a 20 px input: offset 4, centre 6 of 12 -> u = 0.5
    quad = np.array([[0, 0], [0, 24], [-8, 24], [-8, 0]], np.float32)  # text running downwards
    (w,) = split_words(d, quad, content_width=12, offset=4, downsample=4, height=32)
    mid = (w.quad[0] + w.quad[1]) / 2
    np.testing.assert_allclose(mid, [0, 12], atol=1e-4)


def test_buckets_group_similar_widths():
    widths = [100, 30, 105, 400, 32, 120, 35]
    b = buckets(widths)
    assert sorted(sum(b, [])) == list(range(7))
    for batch in b:
        ws = [widths[i] for i in batch]
        assert max(ws) <= 1.25 * min(ws) + 16
    assert buckets([50] * 10, max_batch=4) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_batch_input_normalises_pads_and_centres():
    a = np.full((32, 10), 200, np.uint8)
    a[:, 4] = 0
    b = np.full((32, 50), 100, np.uint8)
    x, off = batch_input([a, b], mean=0.5, std=0.25, downsample=4, min_width=32)
    assert x.shape == (2, 1, 32, 52)
    assert off.tolist() == [11, 0]
    norm = lambda v: (v / 255 - 0.5) / 0.25
    assert x[0, 0, 0, 0] == pytest.approx(norm(200))  # padded with the crop's background
    assert x[0, 0, 0, 11 + 4] == pytest.approx(norm(0))
    assert x[1, 0, 5, 51] == pytest.approx(norm(100))


def test_make_crop_height_and_aspect():
    im = Image.new("L", (300, 100), 255)
    c = make_crop(im, [[10, 10], [210, 10], [210, 50], [10, 50]], height=32)
    assert c.pixels.shape == (32, 160)
    c = make_crop(im, [[10, 10], [290, 10], [290, 12], [10, 12]], height=32, max_width=500)
    assert c.pixels.shape == (32, 500)


def test_word_boxes_take_the_rows_of_their_ink_with_a_margin():
    # crop 32 x 100: ink rows 10..21, columns 5..20 and 40..60 (light text on dark also works)
    px = np.full((32, 100), 230, np.uint8)
    px[10:22, 5:21] = 20
    px[10:22, 40:61] = 20
    px[2, 70:72] = 20  # a speck far from the band
    path = [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0, 2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    d = ctc_greedy(logits_for(path), ALPHA)
    assert d.text == "a bb"
    quad = np.array([[0, 0], [100, 0], [100, 32], [0, 32]], np.float32)
    margin = 5  # WORD_BAND_MARGIN of a 32-row crop
    for pixels in (px, 255 - px):
        words = split_words(d, quad, 100, 0, 4, 32, pixels)
        # ends where the characters put them: centres (step + 0.5) * 4, widened by half the pitch
        # (8 px, from "bb"); top and bottom: the ink rows 10..21 widened by the margin
        np.testing.assert_allclose(
            words[0].quad, [[10, 10 - margin], [18, 10 - margin], [18, 22 + margin], [10, 22 + margin]], atol=1e-4
        )
        np.testing.assert_allclose(
            words[1].quad, [[46, 10 - margin], [62, 10 - margin], [62, 22 + margin], [46, 22 + margin]], atol=1e-4
        )
    flat = np.full((32, 100), 128, np.uint8)  # no contrast: boxes keep the line height
    words = split_words(d, quad, 100, 0, 4, 32, flat)
    assert words[0].quad[0, 1] == 0 and words[0].quad[2, 1] == 32


def test_percentiles_u8_equal_numpy_bit_for_bit():
    from localocr.recognition import percentiles_u8

    rng = np.random.default_rng(5)
    qs = (5, 50, 95, 0, 100, 37.5)
    for shape in [(1, 1), (1, 2), (32, 7), (32, 301), (3, 1000)]:
        for a in (
            rng.integers(0, 256, shape, dtype=np.uint8),
            np.full(shape, 200, np.uint8),
            (rng.random(shape) > 0.8).astype(np.uint8) * 255,
        ):
            assert percentiles_u8(a, qs) == [float(v) for v in np.percentile(a, qs)]
            assert percentiles_u8(a, (50,))[0] == float(np.median(a))


def test_batched_ctc_equals_per_row():
    from localocr.recognition import ctc_greedy_batch

    rng = np.random.default_rng(6)
    logits = np.log(rng.dirichlet(np.ones(5) * 0.3, size=(4, 12))).astype(np.float32)
    for got, row in zip(ctc_greedy_batch(logits, ALPHA), logits):
        want = ctc_greedy(row, ALPHA)
        assert (got.text, got.confidence) == (want.text, want.confidence)
        assert np.array_equal(got.char_conf, want.char_conf) and np.array_equal(got.char_steps, want.char_steps)


def test_character_positions_barely_move_when_an_edge_step_flips():
    """Two engines' rounding can flip a near-tied step at a run's edge between the character and
    the blank; the character's position (and so its word box) must then move by a fraction of a
    step, not by a whole one as the steps' midpoint does."""
    path = [0, 0, 1, 1, 0, 0, 0]
    a = logits_for(path)
    a[4] = np.log([0.49, 0.47, 0.01, 0.02, 0.01])  # step 4: blank just ahead of 'a'
    b = a.copy()
    b[4] = np.log([0.47, 0.49, 0.01, 0.02, 0.01])  # ... and just behind it
    da, db = ctc_greedy(a, ALPHA), ctc_greedy(b, ALPHA)
    assert da.text == db.text == "a"
    assert da.char_steps.tolist() == [[2, 3]] and db.char_steps.tolist() == [[2, 4]]
    assert abs(da.char_pos[0] - db.char_pos[0]) < 0.1  # the midpoint moves by 0.5 steps
    # a symmetric run sits at its midpoint
    assert ctc_greedy(logits_for([0, 1, 1, 1, 0]), ALPHA).char_pos[0] == pytest.approx(2.5)


def test_space_bias_turns_a_near_miss_into_a_space_and_keeps_true_confidences():
    from localocr.recognition import ctc_greedy_batch

    #        a  -  ?  b      step 2: blank 0.6, space 0.3 -> no space unbiased
    path = [1, 0, 0, 2]
    lp = logits_for(path)
    lp[2] = np.log([0.6, 0.04, 0.03, 0.3, 0.03])
    (plain,) = ctc_greedy_batch(lp[None], ALPHA)
    assert plain.text == "ab"
    # log(0.6 / 0.3) = 0.69: a bias of 0.5 is not enough, 1.0 is
    assert ctc_greedy_batch(lp[None], ALPHA, space_bias=0.5)[0].text == "ab"
    (biased,) = ctc_greedy_batch(lp[None], ALPHA, space_bias=1.0)
    assert biased.text == "a b"
    np.testing.assert_allclose(biased.char_conf, [0.8, 0.3, 0.8], rtol=1e-5)  # the model's 0.3, not biased
    assert biased.char_steps.tolist() == [[0, 0], [2, 2], [3, 3]]
    # no space in the alphabet: the bias is ignored
    assert ctc_greedy_batch(lp[None, :, :4], "abc", space_bias=5.0)[0].text == "ab"
