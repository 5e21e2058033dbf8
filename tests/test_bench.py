"""The testable parts of the benchmark (tools/bench.py), with no browser, no tesseract binary and no
data sets: Tesseract TSV -> Page, line segments, scoring through localocr.evaluate, the tables, the
chart and the README updater."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from localocr.evaluate import page_scores
from tools import bench

HEAD = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"


def tsv(*words):
    """A Tesseract TSV document of a 400x200 page: words as (block, line, left, top, width, height, conf, text)."""
    rows = [HEAD, "1\t1\t0\t0\t0\t0\t0\t0\t400\t200\t-1\t"]
    for n, (block, line, left, top, width, height, conf, text) in enumerate(words, 1):
        rows.append(f"2\t1\t{block}\t0\t0\t0\t0\t0\t400\t200\t-1\t")    # structure rows carry no text
        rows.append(f"5\t1\t{block}\t1\t{line}\t{n}\t{left}\t{top}\t{width}\t{height}\t{conf}\t{text}")
    return "\n".join(rows) + "\n"


def quad(left, top, width, height):
    return [left, top, left + width, top, left + width, top + height, left, top + height]


def test_parse_tsv_types_and_missing_text():
    rows = bench.parse_tsv(HEAD + "\n1\t1\t0\t0\t0\t0\t0\t0\t40\t20\t-1\n")   # trailing empty text cell cut off
    assert rows == [{"level": 1, "page_num": 1, "block_num": 0, "par_num": 0, "line_num": 0, "word_num": 0,
                     "left": 0, "top": 0, "width": 40, "height": 20, "conf": -1.0, "text": ""}]
    with pytest.raises(ValueError):
        bench.parse_tsv("TOTAL 12.50\n")


def test_tsv_to_page_builds_blocks_lines_words_in_order():
    page = bench.tsv_to_page(tsv((1, 1, 60, 10, 40, 20, 91.5, "world"), (1, 1, 10, 10, 40, 20, 96, "hello"),
                                 (1, 2, 10, 40, 30, 20, 80, "again"), (2, 1, 10, 100, 30, 20, -1, " "),
                                 (2, 1, 10, 150, 50, 20, 70, "below")))
    assert (page.width, page.height) == (400, 200)
    assert [[ln.text for ln in b.lines] for b in page.blocks] == [["hello world", "again"], ["below"]]
    w = page.words[0]
    assert w.text == "hello" and w.confidence == pytest.approx(0.96)
    np.testing.assert_array_equal(w.quad, [[10, 10], [50, 10], [50, 30], [10, 30]])
    np.testing.assert_array_equal(page.lines[0].quad, [[10, 10], [100, 10], [100, 30], [10, 30]])
    assert page.lines[0].parts == [page.lines[0]]          # a normal space: one segment


def test_wide_gaps_split_a_line_into_segments():
    # height 20: a 20 px gap (1.0 heights) stays inside the segment, a 100 px gap (5 heights) splits
    page = bench.tsv_to_page(tsv((1, 1, 10, 10, 60, 20, 90, "TOTAL"), (1, 1, 90, 10, 40, 20, 90, "AMT"),
                                 (1, 1, 230, 10, 50, 20, 90, "60.31")))
    (line,) = page.lines
    assert line.text == "TOTAL AMT 60.31"
    assert [seg.text for seg in line.parts] == ["TOTAL AMT", "60.31"]
    np.testing.assert_array_equal(line.parts[1].quad, [[230, 10], [280, 10], [280, 30], [230, 30]])
    assert bench.split_segments([]) == []


def test_tesseract_pages_score_through_the_evaluation_code():
    page = bench.tsv_to_page(tsv((1, 1, 10, 10, 60, 20, 90, "TOTAL"), (1, 1, 230, 10, 50, 20, 90, "60.31"),
                                 (1, 2, 10, 50, 60, 20, 90, "CASH")))
    line_gt = {"lines": [{"text": "TOTAL", "quad": quad(10, 10, 60, 20)}, {"text": "60.31", "quad": quad(230, 10, 50, 20)},
                         {"text": "CASH", "quad": quad(10, 50, 60, 20)}]}
    s = page_scores(page, line_gt)
    assert s["e2e"] == (3, 3, 3) and s["det"] == (3, 3, 3) and s["cer"] == (0, 14)
    word_gt = {"words": [{"text": "TOTAL", "quad": quad(10, 10, 60, 20)}, {"text": "60.30", "quad": quad(230, 10, 50, 20)},
                         {"text": None, "ignore": True, "quad": quad(10, 50, 60, 20)}]}
    s = page_scores(page, word_gt)
    assert s["e2e"] == (1, 2, 2)      # 60.31 read for 60.30; CASH lies on an ignored region: not counted
    assert s["det"] == (2, 2, 2)
    assert s["bow"] == (1, 3, 2)


def fake_results(quick=False):
    acc = [{"kind": "page", "set": "sroie_train", "engine": e, "images": 40, "failures": f, "e2e_f1": a,
            "bow_f1": a + 0.1, "det": {"hmean": a + 0.2}, "cer": 0.2, "sec_median": s}
           for e, a, s, f in (("localocr", 0.5, 0.3, 0), ("tesseract", 0.4, 0.6, 1))]
    acc.append({"kind": "crop", "set": "iiit5k_train", "engine": "localocr", "images": 358, "accuracy": 0.8,
                "cer": 0.07, "sec_median": 0.004})
    web = {"chromium": "156.0.1", "cold_rounds": 3, "reads": 50, "images": ["a"] * 20, "csp_reports": [],
           "webgpu": {"adapter": False, "why": "navigator.gpu.requestAdapter() returned null"},
           "requests": {"seen": 120, "off_origin": [], "worker_requests_logged": True}, "engines": {}}
    for name, ms in (("localocr WASM threads", 900.0), ("tesseract.js", 600.0)):
        web["engines"][name] = {"cold_ms": 9000 + ms, "warm_ms": 7000 + ms, "median_ms": ms, "p90_ms": 2 * ms,
                                "ratio_median": ms / 600, "ratio_range": [1.1, 2.0], "cold_bytes": 17.4e6,
                                "heap_after_bytes": 180 * 2**20, "heap_after_reads": 50}
    cp = {"images": ["a"] * 20, "rounds": 3, "tesseract_startup_s": 0.12,
          "engines": {"localocr": {"median_s": 0.25, "p90_s": 0.4}, "tesseract": {"median_s": 0.5, "p90_s": 0.9}},
          "peak_rss_kib": {"localocr": 130 * 1024, "tesseract": 41 * 1024}}
    return {"date": "2026-11-23 15:00 UTC", "quick": quick, "limit": None, "wall_s": 900.0, "accuracy": acc,
            "browser": web, "cpython": cp,
            "machine": {"cpu": "Some CPU", "cores": 2, "memory_gib": 23.5, "os": "Debian 12", "load_start": [6.9],
                        "load_end": [7.2]},
            "versions": {"localocr": "0.1.0", "models": "detector.onnx 1, 3.7 MB", "onnxruntime": "1.32",
                         "onnxruntime_web": "1.30.0", "pyodide": "0.27.7", "tesseract": "5.3.0",
                         "tesseract_deb": "5.3.0-2", "tesseract_eng_deb": "1:4.1.0-2",
                         "npm": {"tesseract.js": "7.0.0", "tesseract.js-core": "7.0.0", "@tesseract.js-data/eng": "1.0.0"}}}


def test_tables_render_every_engine_and_figure():
    md = bench.render_markdown(fake_results())
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert "| sroie_train | 40 | localocr | 0.500 | 0.600 | 0.700 | 0.200 |  | 0.300 |" in rows
    assert "| sroie_train | 40 (1 failed) | tesseract | 0.400 |" in md
    assert "| iiit5k_train | 358 | localocr |  |  |  | 0.070 | 0.800 | 0.004 |" in rows
    web = next(r for r in rows if r.startswith("| localocr WASM threads"))
    assert "| 9.90 s | 7.90 s | 0.90 / 1.80 s | 1.50x (1.10-2.00) | 17.4 MB | WASM heap 180 MiB after 50 images |" in web
    assert any(r.startswith("| localocr WebGPU") and "not measured: no WebGPU adapter" in r for r in rows)
    assert "| localocr | CPython, 1 thread | | | 0.25 / 0.40 s | | | peak RSS 130 MiB |" in rows
    assert "load average 6.9 at the start, 7.2 at the end" in md and "took 15.0 min" in md
    res = fake_results()
    res["machine"]["load_phases"] = {"accuracy": 5.1, "browser": 8.2}
    assert "(after each part: accuracy 5.1, browser 8.2)" in bench.render_markdown(res)
    assert "0 to another origin" in md
    # every table row has as many cells as its header
    for table in md.split("\n\n"):
        lines = [line for line in table.splitlines() if line.startswith("|")]
        if lines:
            assert {line.count("|") for line in lines} == {lines[0].count("|")}, table


def test_quick_results_say_so():
    assert "--quick: a smoke test" in bench.render_markdown(fake_results(quick=True))


def test_webgpu_reason_names_the_cause():
    assert "software (fallback)" in bench.webgpu_reason({"adapter": True, "fallback": True, "vendor": "google"})
    assert "did not start: boom" in bench.webgpu_reason({"adapter": True, "fallback": False, "error": "boom"})


def test_a_measured_webgpu_engine_is_a_row_of_its_own():
    res = fake_results()
    res["browser"]["engines"][bench.WEBGPU_ENGINE[0]] = dict(res["browser"]["engines"]["tesseract.js"])
    rows = [r for r in bench.speed_table(res).splitlines() if r.startswith("| localocr WebGPU")]
    assert len(rows) == 1 and "not measured" not in rows[0] and "| 0.60 / 1.20 s |" in rows[0]


def test_chart_is_svg_with_a_point_per_engine_and_set():
    svg = bench.chart_svg(fake_results()["accuracy"])
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    marks = [(c.tag[len(ns):], c.find(ns + "title").text) for c in root.iter() if c.find(ns + "title") is not None]
    assert marks == [("circle", "localocr, sroie_train: 0.500 at 0.300 s"),
                     ("circle", "tesseract, sroie_train: 0.400 at 0.600 s"),
                     ("rect", "localocr, iiit5k_train: 0.800 at 0.004 s")]     # squares: crop sets


def test_readme_updater_touches_only_its_section():
    original = "# localocr\n\nIntro.\n\n## Python library\n\nText.\n"
    once = bench.update_readme(original, "table v1")
    assert once.startswith(original.rstrip("\n"))
    assert once.endswith(f"## Benchmark\n\n{bench.README_START}\ntable v1\n{bench.README_END}\n")
    edited = once.replace("Intro.", "Intro, edited by someone else.") + "\n## Later section\n"
    twice = bench.update_readme(edited, "table v2\n")
    assert twice == edited.replace("table v1", "table v2")
    assert twice.count(bench.README_START) == 1
    with pytest.raises(ValueError):
        bench.update_readme(f"{bench.README_END}\n{bench.README_START}\n", "x")
    with pytest.raises(ValueError):
        bench.update_readme(f"{bench.README_START}\n", "x")
