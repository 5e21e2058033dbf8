"""The testable parts of the benchmark (tools/bench/), with no browser, no tesseract binary and no
data sets: Tesseract TSV -> Page, line segments, scoring through localocr.evaluate, the tables, the
chart and the README updater."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from localocr.evaluate import page_scores

from tools import bench_rapidocr
from tools.bench import browser, common, report, tesseract

HEAD = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"


def tsv(*words):
    """A Tesseract TSV document of a 400x200 page: words as (block, line, left, top, width, height, conf, text)."""
    rows = [HEAD, "1\t1\t0\t0\t0\t0\t0\t0\t400\t200\t-1\t"]
    for n, (block, line, left, top, width, height, conf, text) in enumerate(words, 1):
        rows.append(f"2\t1\t{block}\t0\t0\t0\t0\t0\t400\t200\t-1\t")  # structure rows carry no text
        rows.append(f"5\t1\t{block}\t1\t{line}\t{n}\t{left}\t{top}\t{width}\t{height}\t{conf}\t{text}")
    return "\n".join(rows) + "\n"


def quad(left, top, width, height):
    return [left, top, left + width, top, left + width, top + height, left, top + height]


def test_parse_tsv_types_and_missing_text():
    rows = tesseract.parse_tsv(HEAD + "\n1\t1\t0\t0\t0\t0\t0\t0\t40\t20\t-1\n")  # trailing empty text cell cut off
    assert rows == [
        {
            "level": 1,
            "page_num": 1,
            "block_num": 0,
            "par_num": 0,
            "line_num": 0,
            "word_num": 0,
            "left": 0,
            "top": 0,
            "width": 40,
            "height": 20,
            "conf": -1.0,
            "text": "",
        }
    ]
    with pytest.raises(ValueError):
        tesseract.parse_tsv("TOTAL 12.50\n")


def test_tsv_to_page_builds_blocks_lines_words_in_order():
    page = tesseract.tsv_to_page(
        tsv(
            (1, 1, 60, 10, 40, 20, 91.5, "world"),
            (1, 1, 10, 10, 40, 20, 96, "hello"),
            (1, 2, 10, 40, 30, 20, 80, "again"),
            (2, 1, 10, 100, 30, 20, -1, " "),
            (2, 1, 10, 150, 50, 20, 70, "below"),
        )
    )
    assert (page.width, page.height) == (400, 200)
    assert [[ln.text for ln in b.lines] for b in page.blocks] == [["hello world", "again"], ["below"]]
    w = page.words[0]
    assert w.text == "hello" and w.confidence == pytest.approx(0.96)
    np.testing.assert_array_equal(w.quad, [[10, 10], [50, 10], [50, 30], [10, 30]])
    np.testing.assert_array_equal(page.lines[0].quad, [[10, 10], [100, 10], [100, 30], [10, 30]])
    assert page.lines[0].parts == [page.lines[0]]  # a normal space: one segment


def test_wide_gaps_split_a_line_into_segments():
    # height 20: a 20 px gap (1.0 heights) stays inside the segment, a 100 px gap (5 heights) splits
    page = tesseract.tsv_to_page(
        tsv(
            (1, 1, 10, 10, 60, 20, 90, "TOTAL"), (1, 1, 90, 10, 40, 20, 90, "AMT"), (1, 1, 230, 10, 50, 20, 90, "60.31")
        )
    )
    (line,) = page.lines
    assert line.text == "TOTAL AMT 60.31"
    assert [seg.text for seg in line.parts] == ["TOTAL AMT", "60.31"]
    np.testing.assert_array_equal(line.parts[1].quad, [[230, 10], [280, 10], [280, 30], [230, 30]])
    assert tesseract.split_segments([]) == []


def test_tesseract_pages_score_through_the_evaluation_code():
    page = tesseract.tsv_to_page(
        tsv(
            (1, 1, 10, 10, 60, 20, 90, "TOTAL"),
            (1, 1, 230, 10, 50, 20, 90, "60.31"),
            (1, 2, 10, 50, 60, 20, 90, "CASH"),
        )
    )
    line_gt = {
        "lines": [
            {"text": "TOTAL", "quad": quad(10, 10, 60, 20)},
            {"text": "60.31", "quad": quad(230, 10, 50, 20)},
            {"text": "CASH", "quad": quad(10, 50, 60, 20)},
        ]
    }
    s = page_scores(page, line_gt)
    assert s["e2e"] == (3, 3, 3) and s["det"] == (3, 3, 3) and s["cer"] == (0, 14)
    word_gt = {
        "words": [
            {"text": "TOTAL", "quad": quad(10, 10, 60, 20)},
            {"text": "60.30", "quad": quad(230, 10, 50, 20)},
            {"text": None, "ignore": True, "quad": quad(10, 50, 60, 20)},
        ]
    }
    s = page_scores(page, word_gt)
    assert s["e2e"] == (1, 2, 2)  # 60.31 read for 60.30; CASH lies on an ignored region: not counted
    assert s["det"] == (2, 2, 2)
    assert s["bow"] == (1, 3, 2)


def fake_results(quick=False):
    acc = [
        {
            "kind": "page",
            "set": "sroie_train",
            "engine": e,
            "images": 40,
            "failures": f,
            "e2e_f1": a,
            "bow_f1": a + 0.1,
            "det": {"hmean": a + 0.2},
            "cer": 0.2,
            "sec_median": s,
        }
        for e, a, s, f in (("localocr", 0.5, 0.3, 0), ("tesseract", 0.4, 0.6, 1))
    ]
    acc.append(
        {
            "kind": "crop",
            "set": "iiit5k_train",
            "engine": "localocr",
            "images": 358,
            "accuracy": 0.8,
            "cer": 0.07,
            "sec_median": 0.004,
        }
    )
    web = {
        "chromium": "156.0.1",
        "cold_rounds": 3,
        "reads": 50,
        "images": ["a"] * 20,
        "csp_reports": [],
        "webgpu": {"adapter": False, "why": "navigator.gpu.requestAdapter() returned null"},
        "requests": {"seen": 120, "off_origin": [], "worker_requests_logged": True},
        "engines": {},
    }
    for name, ms in (("localocr WASM threads", 900.0), ("tesseract.js", 600.0)):
        web["engines"][name] = {
            "cold_ms": 9000 + ms,
            "warm_ms": 7000 + ms,
            "median_ms": ms,
            "p90_ms": 2 * ms,
            "ratio_median": ms / 600,
            "ratio_range": [1.1, 2.0],
            "cold_bytes": 17.4e6,
            "heap_after_bytes": 180 * 2**20,
            "heap_after_reads": 50,
        }
    cp = {
        "images": ["a"] * 20,
        "rounds": 3,
        "tesseract_startup_s": 0.12,
        "engines": {"localocr": {"median_s": 0.25, "p90_s": 0.4}, "tesseract": {"median_s": 0.5, "p90_s": 0.9}},
        "peak_rss_kib": {"localocr": 130 * 1024, "tesseract": 41 * 1024},
    }
    return {
        "date": "2026-11-23 15:00 UTC",
        "quick": quick,
        "limit": None,
        "wall_s": 900.0,
        "accuracy": acc,
        "browser": web,
        "cpython": cp,
        "machine": {
            "cpu": "Some CPU",
            "cores": 2,
            "memory_gib": 23.5,
            "os": "Debian 12",
            "load_start": [6.9],
            "load_end": [7.2],
        },
        "versions": {
            "localocr": "0.1.0",
            "models": "detector.onnx 1, 3.7 MB",
            "onnxruntime": "1.32",
            "onnxruntime_web": "1.30.0",
            "pyodide": "0.27.7",
            "tesseract": "5.3.0",
            "tesseract_deb": "5.3.0-2",
            "tesseract_eng_deb": "1:4.1.0-2",
            "npm": {"tesseract.js": "7.0.0", "tesseract.js-core": "7.0.0", "@tesseract.js-data/eng": "1.0.0"},
        },
    }


def test_tables_render_every_engine_and_figure():
    md = report.render_markdown(fake_results())
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert "| sroie_train | 40 | localocr | 0.500 | 0.600 | 0.700 | 0.200 |  | 0.300 |" in rows
    assert "| sroie_train | 40 (1 failed) | tesseract | 0.400 |" in md
    assert "| iiit5k_train | 358 | localocr |  |  |  | 0.070 | 0.800 | 0.004 |" in rows
    web = next(r for r in rows if r.startswith("| localocr WASM threads"))
    assert (
        "| 9.90 s | 7.90 s | 0.90 / 1.80 s | 1.50x (1.10-2.00) | 17.4 MB | WASM heap 180 MiB after 50 images |" in web
    )
    assert any(r.startswith("| localocr WebGPU") and "not measured: no WebGPU adapter" in r for r in rows)
    res = fake_results()  # the worker's memories by kind: onnxruntime-web's thread memory, the rest
    res["browser"]["engines"]["localocr WASM threads"]["heap_after_parts"] = {
        "shared": 120 * 2**20,
        "other": 60 * 2**20,
    }
    res["browser"]["engines"]["tesseract.js"]["heap_after_parts"] = {"other": 100 * 2**20}
    md2 = report.render_markdown(res)
    assert "WASM heap 180 MiB after 50 images (onnxruntime 120 MiB, Pyodide 60 MiB) |" in md2
    assert next(r for r in md2.splitlines() if r.startswith("| tesseract.js")).endswith("after 50 images |")
    assert "| localocr | CPython, 1 thread | | | 0.25 / 0.40 s | | | peak RSS 130 MiB |" in rows
    assert "load average 6.9 at the start, 7.2 at the end" in md and "took 15.0 min" in md
    res = fake_results()
    res["machine"]["load_phases"] = {"accuracy": 5.1, "browser": 8.2}
    assert "(after each part: accuracy 5.1, browser 8.2)" in report.render_markdown(res)
    assert "0 to another origin" in md
    # every table row has as many cells as its header
    for table in md.split("\n\n"):
        lines = [line for line in table.splitlines() if line.startswith("|")]
        if lines:
            assert {line.count("|") for line in lines} == {lines[0].count("|")}, table


def test_quick_results_say_so():
    assert "--quick: a smoke test" in report.render_markdown(fake_results(quick=True))


def test_webgpu_reason_names_the_cause():
    assert "software (fallback)" in browser.webgpu_reason({"adapter": True, "fallback": True, "vendor": "google"})
    assert "did not start: boom" in browser.webgpu_reason({"adapter": True, "fallback": False, "error": "boom"})


def test_a_measured_webgpu_engine_is_a_row_of_its_own():
    res = fake_results()
    res["browser"]["engines"][browser.WEBGPU_ENGINE[0]] = dict(res["browser"]["engines"]["tesseract.js"])
    rows = [r for r in report.speed_table(res).splitlines() if r.startswith("| localocr WebGPU")]
    assert len(rows) == 1 and "not measured" not in rows[0] and "| 0.60 / 1.20 s |" in rows[0]


def test_chart_is_svg_with_a_point_per_engine_and_set():
    svg = report.chart_svg(fake_results()["accuracy"])
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    marks = [(c.tag[len(ns) :], c.find(ns + "title").text) for c in root.iter() if c.find(ns + "title") is not None]
    assert marks == [
        ("circle", "localocr, sroie_train: 0.500 at 0.300 s"),
        ("circle", "tesseract, sroie_train: 0.400 at 0.600 s"),
        ("rect", "localocr, iiit5k_train: 0.800 at 0.004 s"),
    ]  # squares: crop sets


def test_readme_updater_touches_only_its_section():
    original = "# localocr\n\nIntro.\n\n## Python library\n\nText.\n"
    once = report.update_readme(original, "table v1")
    assert once.startswith(original.rstrip("\n"))
    assert once.endswith(f"## Benchmark\n\n{common.README_START}\ntable v1\n{common.README_END}\n")
    edited = once.replace("Intro.", "Intro, edited by someone else.") + "\n## Later section\n"
    twice = report.update_readme(edited, "table v2\n")
    assert twice == edited.replace("table v1", "table v2")
    assert twice.count(common.README_START) == 1
    with pytest.raises(ValueError):
        report.update_readme(f"{common.README_END}\n{common.README_START}\n", "x")
    with pytest.raises(ValueError):
        report.update_readme(f"{common.README_START}\n", "x")


# ------------------------------------------------------------------------------------------------
# the PP-OCRv6 small peer (tools/bench_rapidocr.py): rapidocr's output -> Page, with no rapidocr


class FakeRapidOutput:
    """The fields of rapidocr's RapidOCROutput that the peer reads (boxes float32 [N, 4, 2])."""

    def __init__(self, lines, word_results=()):
        self.boxes = np.array([b for b, _, _ in lines], np.float32).reshape(-1, 4, 2)
        self.txts = tuple(t for _, t, _ in lines)
        self.scores = tuple(s for _, _, s in lines)
        self.word_results = word_results


def corners(left, top, width, height):
    return np.array(quad(left, top, width, height), np.float64).reshape(4, 2)


def test_line_split_cuts_the_quad_by_character_count():
    # "AB CDEF" over 70 px: 10 px a character; the space takes its share but belongs to no word
    (a, qa), (b, qb) = bench_rapidocr.split_line_words("AB CDEF", corners(100, 10, 70, 20))
    assert (a, b) == ("AB", "CDEF")
    np.testing.assert_allclose(qa, corners(100, 10, 20, 20))
    np.testing.assert_allclose(qb, corners(130, 10, 40, 20))
    # a slanted line: the cuts follow its top and bottom edges
    slanted = np.array([[0, 10], [100, 0], [100, 20], [0, 30]], np.float64)
    (_, q1), (_, q2) = bench_rapidocr.split_line_words("ab  cd", slanted)  # two spaces: 6 characters
    np.testing.assert_allclose(q1, [[0, 10], [100 / 3, 10 - 10 / 3], [100 / 3, 30 - 10 / 3], [0, 30]])
    np.testing.assert_allclose(q2[:2], [[200 / 3, 10 - 20 / 3], [100, 0]])
    assert bench_rapidocr.split_line_words("   ", slanted) == []


def test_rapidocr_word_boxes_are_used_when_they_are_the_lines_words():
    out = FakeRapidOutput(
        [
            (corners(10, 10, 200, 20), "TOTAL  60.31", 0.9),  # rapidocr's own words: used
            (corners(10, 50, 100, 20), "RM60.31", 0.8),
        ],  # its words cut "RM60.31": split ourselves
        word_results=(
            (("TOTAL", 0.99, quad(12, 10, 60, 20)), ("60.31", 0.98, quad(150, 10, 55, 20))),
            (("RM", 0.9, quad(10, 50, 20, 20)), ("60.31", 0.9, quad(60, 50, 50, 20))),
        ),
    )
    page, split = bench_rapidocr.output_to_page(out, 400, 200)
    assert split == 1 and (page.width, page.height, page.backend) == (400, 200, "PP-OCRv6 small")
    assert [ln.text for ln in page.lines] == ["TOTAL 60.31", "RM60.31"]
    total, amount, rm = page.words
    np.testing.assert_array_equal(amount.quad, corners(150, 10, 55, 20))
    assert total.confidence == pytest.approx(0.9)  # the line's score
    np.testing.assert_allclose(rm.quad, corners(10, 50, 100, 20))  # one word: the whole region
    np.testing.assert_array_equal(page.blocks[0].quad, corners(10, 10, 200, 60))
    # word lists that do not line up with the lines (rapidocr drops an empty one): every line split
    out.word_results = out.word_results[:1]
    assert bench_rapidocr.output_to_page(out, 400, 200)[1] == 2


def test_empty_rapidocr_output_is_an_empty_page():
    class Nothing:  # RapidOCROutput() when nothing is found: every field None
        boxes = txts = scores = None
        word_results = (("", 1.0, None),)

    page, split = bench_rapidocr.output_to_page(Nothing(), 64, 32)
    assert page.blocks == [] and page.text == "" and split == 0
    out = FakeRapidOutput([(corners(0, 0, 10, 10), " ", 0.7)])
    assert bench_rapidocr.output_to_page(out, 64, 32)[0].lines == []


def test_rapidocr_pages_score_through_the_evaluation_code():
    out = FakeRapidOutput([(corners(10, 10, 200, 20), "TOTAL 60.31", 0.9)])  # no word boxes: split
    page, _ = bench_rapidocr.output_to_page(out, 400, 200)
    word_gt = {
        "words": [{"text": "TOTAL", "quad": quad(10, 10, 90, 20)}, {"text": "60.31", "quad": quad(120, 10, 90, 20)}]
    }
    assert page_scores(page, word_gt)["e2e"] == (2, 2, 2)
    line_gt = {"lines": [{"text": "TOTAL 60.31", "quad": quad(10, 10, 200, 20)}]}
    s = page_scores(page, line_gt)
    assert s["e2e"] == (1, 1, 1) and s["cer"] == (0, 11)


def test_the_peer_note_says_how_lines_became_words():
    rows = [
        {
            "kind": "page",
            "set": "funsd_train",
            "engine": "PP-OCRv6 small",
            "peer_stats": {"lines": 40, "split_lines": 3},
        },
        {
            "kind": "crop",
            "set": "iiit5k_train",
            "engine": "PP-OCRv6 small",
            "peer_stats": {"lines": 0, "split_lines": 0},
        },
    ]
    note = report.rapidocr_note({"rapidocr": "3.10.0", "models": {"PP-OCRv6_rec_small.onnx": "21.2 MB"}}, rows)
    assert "rapidocr 3.10.0" in note and "PP-OCRv6_rec_small.onnx (21.2 MB)" in note
    assert "cut by character count" in note and "funsd_train 3/40" in note and "iiit5k" not in note
    res = fake_results()
    res["versions"]["rapidocr"] = {"rapidocr": "3.10.0", "models": {}}
    assert "rapidocr 3.10.0" in report.render_markdown(res)
    assert "rapidocr 3" not in report.render_markdown(fake_results())  # no peer, no note


def test_partial_runs_print_their_tables_only():
    res = fake_results()
    res["cpython"]["engines"]["PP-OCRv6 small"] = {"median_s": 3.2, "p90_s": 5.0}  # no RSS measured
    md = report.partial_markdown({"accuracy": res["accuracy"], "cpython": res["cpython"]})
    assert "| sroie_train | 40 | localocr | 0.500 |" in md and "Versions" not in md
    assert "| PP-OCRv6 small | CPython, 1 thread | | | 3.20 / 5.00 s | | |  |" in md
    assert report.partial_markdown({"accuracy": []}) == ""


# Run in a child process: the peer's ~500 MiB of models would otherwise raise this process's peak RSS,
# which every later child forked from it inherits (tests/test_bounded_memory.py measures one).
PEER_CHILD = """
import json, sys
from localocr.errors import LocalOCRError
from tools.bench_rapidocr import RapidOCRPeer
peer = RapidOCRPeer()
crop = peer.recognize_line(sys.argv[1])
page = peer.read(sys.argv[2])
stats = [peer.take_stats(), peer.take_stats()]
try:
    peer.read(sys.argv[3])
    error = None
except LocalOCRError as e:
    error = [e.code, str(e)]
print(json.dumps({"crop": crop, "size": [page.width, page.height], "words": [w.text for w in page.words],
                  "quads": [w.quad.tolist() for w in page.words], "stats": stats, "error": error}))
"""


def test_the_rapidocr_peer_reads_a_page_after_a_crop(tmp_path):
    """The real peer (skipped without the bench extra): a crop runs the recognizer alone, and the page
    read after it still runs the detector (RapidOCR keeps a call's steps for the next calls)."""
    import json
    import subprocess
    import sys

    pytest.importorskip("rapidocr")
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 40)
    page_img = Image.new("RGB", (480, 160), "white")
    ImageDraw.Draw(page_img).text((40, 50), "TOTAL 12.50", font=font, fill="black")
    page_img.save(tmp_path / "page.png")
    page_img.crop((30, 40, 330, 110)).save(tmp_path / "crop.png")
    run = subprocess.run(
        [sys.executable, "-c", PEER_CHILD, *(str(tmp_path / n) for n in ("crop.png", "page.png", "missing.png"))],
        capture_output=True,
        text=True,
        cwd=common.ROOT,
        check=True,
    )
    got = json.loads(run.stdout)
    text, conf = got["crop"]
    assert text == "TOTAL 12.50" and 0.5 < conf <= 1
    assert got["size"] == [480, 160] and got["words"] == ["TOTAL", "12.50"]
    total, amount = (np.array(q) for q in got["quads"])
    assert 30 <= total[:, 0].min() < total[:, 0].max() < amount[:, 0].min() < amount[:, 0].max() <= 340
    assert got["stats"] == [{"lines": 1, "split_lines": 0}, {"lines": 0, "split_lines": 0}]
    assert got["error"][0] == "rapidocr_failed" and "missing.png" in got["error"][1]
