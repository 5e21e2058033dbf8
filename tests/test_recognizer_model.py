"""Recognizer: alphabet, synthetic lines, CTC loss, export contract, torch/ONNX parity,
int8 drift, a tiny training run; and the committed web/models files (marker `models`).

Fast (< 30 s in all, torch on one thread); torch and the export code live in export/.
"""

from __future__ import annotations

import json
import os
import random

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from localocr.contract import keys as mm  # noqa: E402
from localocr.metrics import levenshtein as edit_distance  # noqa: E402

from export.charset import ALPHABET, clean_label, decode_greedy, encode  # noqa: E402
from export.recognizer.model import CONFIG, CRNN, export_onnx, metadata, normalise  # noqa: E402
from export.recognizer.train import (  # noqa: E402
    MIX,
    Pool,  # noqa: E402
    batches,
    ctc_loss,
    pad_batch,
    parse_mix,
    score,
)
from export.shards import CASE_FOLD, read_shard, write_shard  # noqa: E402
from export.synth import lines, text  # noqa: E402

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "web", "models")


def _session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def _meta(path):
    return {p.key: p.value for p in onnx.load(path).metadata_props}


# ------------------------------------------------------------------ alphabet


def test_alphabet_is_ascii_plus_listed_latin1_without_duplicates():
    assert len(set(ALPHABET)) == len(ALPHABET)
    assert all(chr(c) in ALPHABET for c in range(0x20, 0x7F))
    for c in "éèêëàâäçîïôöùûüÿñßæøåÉÇÑÆØÅ€£¥¢©®°§µ½¼¾«»“”‘’–—•…":
        assert c in ALPHABET
    assert encode("aé€") == [ALPHABET.index(c) + 1 for c in "aé€"]


def test_clean_label_maps_equivalents_and_rejects_unknown():
    assert clean_label("  12\u00a0500\u2212x\t ") == "12 500-x"
    assert clean_label("cœur") == "coeur"
    assert clean_label("東京") is None
    assert clean_label("   ") is None


def test_greedy_decode_merges_repeats_and_drops_blanks():
    a, b = encode("a")[0], encode("b")[0]
    assert decode_greedy([0, a, a, 0, a, b, b, 0]) == "aab"


# ------------------------------------------------------------------ generator


def test_text_stream_stays_in_alphabet_and_covers_it():
    rng = random.Random(0)
    seen = set()
    for _ in range(20000):
        s = text.sample_text(rng, 70)
        assert 1 <= len(s) <= 70 and clean_label(s) == s
        seen.update(s)
    assert seen == set(ALPHABET)


def test_every_character_has_a_font_and_fonts_only_get_text_they_cover():
    cov = lines.coverage()
    assert len(cov) >= 50
    assert set().union(*cov.values()) == set(ALPHABET)
    rng = random.Random(1)
    for s in ("€ 12,50", "Straße ½ «ok»", "P<UTOERIKSSON<<ANNA"):
        for _ in range(20):
            assert set(s) <= cov[lines.pick_font(rng, s)]


def test_rendered_line_shape_and_label_is_the_drawn_text():
    rng = random.Random(2)
    for _ in range(30):
        img, label = lines.sample_line(rng)
        assert img.dtype == np.uint8 and img.shape[0] == lines.HEIGHT == CONFIG["height"]
        assert img.shape[1] // CONFIG["downsample"] >= lines.ctc_min_frames(label)
        assert clean_label(label) == label
    # the image depends on the text (same font, same random stream, different text)
    font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    a = lines.render_line(random.Random(3), "Total 12.50", font)
    b = lines.render_line(random.Random(3), "Total 12.80", font)
    assert a.shape == b.shape and np.abs(a.astype(int) - b.astype(int)).sum() > 0


def test_shard_roundtrip(tmp_path):
    ims = [np.full((32, w), w, np.uint8) for w in (5, 9, 40)]
    path = str(tmp_path / "s.npz")
    write_shard(path, ims, ["a", "bé", "C D"], [0, CASE_FOLD, 0])
    got, labels, flags = read_shard(path)
    assert labels == ["a", "bé", "C D"] and list(flags) == [0, CASE_FOLD, 0]
    assert all((g == i).all() for g, i in zip(got, ims))


# ------------------------------------------------------------------ loss and metrics


def _confident(s: str, t: int) -> torch.Tensor:
    """log-probs [1, t, C] that read `s` (one frame per char, blanks between)."""
    logits = torch.full((1, t, len(ALPHABET) + 1), -10.0)
    logits[0, :, 0] = 10.0
    for i, k in enumerate(encode(s)):
        logits[0, 2 * i + 1, 0] = -10.0
        logits[0, 2 * i + 1, k] = 10.0
    return torch.log_softmax(logits, -1)


def test_mix_override_changes_the_sources_drawn():
    assert parse_mix("") == pytest.approx(MIX)
    mix = parse_mix("synth=0.3,sroie_train=0.2")
    assert sum(mix.values()) == pytest.approx(1.0)
    assert mix["synth"] / mix["sroie_train"] == pytest.approx(1.5)
    assert mix["funsd_train"] / mix["iiit5k_train"] == pytest.approx(MIX["funsd_train"] / MIX["iiit5k_train"])
    with pytest.raises(ValueError, match="unknown source"):
        parse_mix("sroie=0.2")
    # the batches follow the shares: with synth switched off none is drawn, SROIE ~ 3x IIIT5K
    pools = {}
    for name, ch in (("synth", "s"), ("sroie_train", "r"), ("iiit5k_train", "i")):
        pools[name] = Pool()
        pools[name].add([np.full((32, 40), 200, np.uint8)] * 50, [ch * 3] * 50, [0] * 50)

    class Args:
        mix = "synth=0,sroie_train=0.6,iiit5k_train=0.2"
        max_len = 1000
        start_len, curr_steps, early_batch, early_steps, max_batch, pool, cols = 1000, 0, 32, 0, 32, 512, 4096

    it = batches(pools, Args(), [10], seed=0)
    drawn = [lab[0] for _ in range(30) for lab in next(it)[1]]
    assert "s" not in drawn
    assert 2.2 < drawn.count("r") / drawn.count("i") < 4.0


def test_case_folded_ctc_accepts_either_case_only_when_flagged():
    logp = _confident("Total", 12)
    plain = ctc_loss(logp, ["TOTAL"], [0])
    folded = ctc_loss(logp, ["TOTAL"], [CASE_FOLD])
    assert folded < 0.01 < plain
    assert ctc_loss(_confident("TOTAL", 12), ["TOTAL"], [CASE_FOLD]) < 0.01


def test_scores_sroie_case_insensitively_and_iiit5k_alnum():
    assert score("sroie_train", ["Total 1"], ["TOTAL 1"])["cer"] == 0
    assert score("funsd_train", ["Total"], ["TOTAL"])["cer"] == pytest.approx(4 / 5)
    assert score("iiit5k_train", ["you!"], ["YOU"])["acc_ci_alnum"] == 1


# ------------------------------------------------------------------ export contract and parity


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    net = CRNN().eval()
    with torch.no_grad():  # non-trivial BN statistics so parity exercises them
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    path = str(tmp_path_factory.mktemp("rec") / "recognizer.onnx")
    export_onnx(net, path)
    return net, path


def _check_contract(path):
    m = onnx.load(path)
    (inp,), (out,) = m.graph.input, m.graph.output
    assert inp.name == mm.RECOGNIZER_INPUT and out.name == mm.RECOGNIZER_OUTPUT
    assert m.opset_import[0].version >= 17
    meta = _meta(path)
    assert meta[mm.KIND] == "recognizer" and meta[mm.BLANK] == "0"
    assert meta[mm.ALPHABET] == ALPHABET and meta[mm.HEIGHT] == "32" and meta[mm.DOWNSAMPLE] == "4"
    assert meta[mm.MEAN] == "[0.5]" and meta[mm.STD] == "[0.5]" and meta[mm.VERSION]
    sess = _session(path)
    for n, w in ((1, 8), (3, 100), (2, 260)):
        y = sess.run(None, {"image": np.zeros((n, 1, 32, w), np.float32)})[0]
        assert y.shape == (n, w // 4, len(meta[mm.ALPHABET]) + 1)
        np.testing.assert_allclose(np.exp(y).sum(-1), 1, atol=1e-4)  # log-softmax


def test_export_contract(exported):
    _check_contract(exported[1])
    assert metadata()[mm.ALPHABET] == ALPHABET


def test_torch_onnx_parity(exported):
    net, path = exported
    sess = _session(path)
    x = np.random.default_rng(0).uniform(-1, 1, (4, 1, 32, 132)).astype(np.float32)
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(sess.run(None, {"image": x})[0], ref, atol=1e-4)


def test_int8_dynamic_drift_is_small(exported, tmp_path):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    _, path = exported
    q = str(tmp_path / "r.int8.onnx")
    quantize_dynamic(path, q, op_types_to_quantize=["LSTM", "MatMul", "Gemm"], weight_type=QuantType.QInt8)
    assert os.path.getsize(q) < 0.6 * os.path.getsize(path)  # LSTM+linear weights 4x smaller, convs stay fp32
    x = np.random.default_rng(1).uniform(-1, 1, (4, 1, 32, 96)).astype(np.float32)
    a = np.exp(_session(path).run(None, {"image": x})[0])
    b = np.exp(_session(q).run(None, {"image": x})[0])
    assert np.abs(a - b).max() < 0.05  # probabilities, random weights: int8 rounding only


# ------------------------------------------------------------------ training


def test_tiny_training_run_lowers_the_loss():
    torch.manual_seed(0)
    net = CRNN()
    rng = random.Random(4)
    samples = [lines.sample_line(rng, max_chars=6) for _ in range(8)]
    x, _ = pad_batch([im for im, _ in samples], rng, train=False)
    x = normalise(torch.from_numpy(x))
    labels = [s for _, s in samples]
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3)
    losses = []
    for _ in range(12):
        loss = ctc_loss(net(x), labels, [0] * len(labels))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


# ------------------------------------------------------------------ committed model files


def _model(name):
    path = os.path.join(MODELS, name)
    if not os.path.exists(path):
        pytest.skip(f"{name} not in web/models")
    return path


@pytest.mark.models
@pytest.mark.parametrize("name", ["recognizer.onnx", "recognizer.int8.onnx"])
def test_committed_model_contract(name):
    _check_contract(_model(name))


@pytest.mark.models
def test_committed_int8_is_small_and_reads_like_fp32():
    fp32, int8 = _model("recognizer.onnx"), _model("recognizer.int8.onnx")
    assert os.path.getsize(int8) <= 4 * 1024 * 1024
    font = "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf"
    words = ["Invoice", "TOTAL 12.50", "Straße", "2024-03-15", "café crème", "hello world"]
    rng = random.Random(5)
    ims = []
    for w in words:
        # clean rendering: the model must read these exactly
        pil = Image.new("L", (400, 48), 255)
        f = ImageFont.truetype(font, 26)
        ImageDraw.Draw(pil).text((6, 8), w, font=f, fill=0)
        box = pil.point(lambda v: 255 - v).getbbox()
        crop = pil.crop((max(0, box[0] - 4), 4, box[2] + 4, 44))
        ims.append(np.asarray(crop.resize((max(4, round(crop.width * 32 / crop.height)), 32), Image.BILINEAR)))
    x, _ = pad_batch(ims, rng, train=False)
    meta = _meta(fp32)
    mean, std = json.loads(meta[mm.MEAN])[0], json.loads(meta[mm.STD])[0]
    x = ((x.astype(np.float32) / 255 - mean) / std).astype(np.float32)
    reads = {}
    for name, path in (("fp32", fp32), ("int8", int8)):
        best = _session(path).run(None, {"image": x})[0].argmax(-1)
        reads[name] = [decode_greedy(b.tolist()) for b in best]
    # int8 may differ from fp32 by one character of these 57 (the step-19,074 file reads
    # 'café creme' where fp32 reads 'crème'); the 0.5-point bound is checked on the validation
    # sets at export (export_recognizer.choose_int8), where 57 characters could not resolve it
    drift = sum(edit_distance(a, b) for a, b in zip(reads["int8"], reads["fp32"]))
    assert drift <= 1, (reads["int8"], reads["fp32"])
    # A sanity bound (a trained reader, not noise), not the target: the 12:45 model reads
    # 4 of these 6 exactly ('caté creme', 'helo worid': 4 edits in 57 characters).
    edits = sum(edit_distance(r, w) for r, w in zip(reads["fp32"], words))
    assert edits / sum(len(w) for w in words) <= 0.10


def test_funsd_words_group_into_lines_with_spaces_where_the_ink_has_gaps():
    """FUNSD's words become line crops for training; a space only where the page shows one."""
    from export.recognizer.data import word_lines

    grey = np.full((60, 300), 255, np.uint8)
    # ink: "Name" 10..50, "/" 52..56 (touching), "Phone" 70..120 (a word space), all rows 10..22;
    # a second line below at rows 40..52: "12" 10..30 and, far right, "x" 250..260 (another column)
    for x0, x1, y0, y1 in ((10, 50, 10, 22), (52, 56, 10, 22), (70, 120, 10, 22), (10, 30, 40, 52), (250, 260, 40, 52)):
        grey[y0:y1, x0:x1] = 0
    # boxes keep margins that overlap their neighbours' (as FUNSD's do)
    words = [
        {"text": "Phone", "quad": [66, 8, 124, 8, 124, 24, 66, 24]},
        {"text": "Name", "quad": [8, 8, 53, 8, 53, 24, 8, 24]},
        {"text": "/", "quad": [50, 8, 60, 8, 60, 24, 50, 24]},
        {"text": "12", "quad": [8, 38, 32, 38, 32, 54, 8, 54]},
        {"text": "x", "quad": [248, 38, 262, 38, 262, 54, 248, 54]},
        {"text": None, "ignore": True, "quad": [130, 8, 140, 8, 140, 24, 130, 24]},
    ]
    lines = word_lines(words, grey)
    assert [ln["text"] for ln in lines] == ["Name/ Phone"]
    assert lines[0]["quad"] == [8.0, 8.0, 124.0, 8.0, 124.0, 24.0, 8.0, 24.0]


def test_int8_choice_bound_is_half_a_point_or_one_character_of_a_small_set():
    from export.recognizer.export import INT8_DEFAULT, choose_int8

    def res(cpu_ms, big_cer, small_cer):
        return {
            "latency_32x256_1thread": {"cpu_ms": cpu_ms},
            "metrics": {"big": {"chars": 10000, "cer": big_cer}, "small": {"chars": 190, "cer": small_cer}},
        }

    base = res(90, 0.040, 0.170)
    one_char = 0.170 + 1 / 190  # 0.53 points: one more error on the small set
    assert choose_int8({"fp32": base, "fast": res(40, 0.044, one_char), "slow": res(70, 0.040, 0.170)}) == "fast"
    # two more characters on the small set, or 0.6 points on the big one: not within the bound
    assert choose_int8({"fp32": base, "fast": res(40, 0.040, 0.170 + 2 / 190), "slow": res(70, 0.040, 0.170)}) == "slow"
    assert choose_int8({"fp32": base, "fast": res(40, 0.046, 0.170)}) == INT8_DEFAULT


def test_int8_choice_ranks_by_wasm_time_when_every_candidate_has_one():
    from export.recognizer.export import choose_int8

    def res(cpu_ms, wasm_ms=None):
        r = {"latency_32x256_1thread": {"cpu_ms": cpu_ms}, "metrics": {"s": {"chars": 5000, "cer": 0.05}}}
        if wasm_ms is not None:
            r["wasm_ms_32x256"] = wasm_ms
        return r

    assert choose_int8({"fp32": res(90), "a": res(60, 300), "b": res(70, 190)}) == "b"
    assert choose_int8({"fp32": res(90), "a": res(60, 300), "b": res(70)}) == "a"  # CPython then


def test_restart_schedule_counts_warmup_and_cosine_from_the_resumed_step():
    import argparse

    from export.recognizer.train import lr_at

    args = argparse.Namespace(lr=1e-3, min_lr=0.0, warmup=100, total_steps=1000, schedule_from=5000)
    assert lr_at(5000, args) == pytest.approx(1e-5)  # first warm-up step
    assert lr_at(5099, args) == pytest.approx(1e-3)  # warm-up done: the peak
    assert lr_at(5550, args) == pytest.approx(5e-4)  # half-way down the cosine
    assert lr_at(6000, args) == pytest.approx(0.0)
    args.schedule_from = 0  # absolute: step 5000 is past the end
    assert lr_at(5000, args) == pytest.approx(0.0)
