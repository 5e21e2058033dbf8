"""The side-by-side benchmark (tools/bench/): output: Markdown, chart, README."""

from __future__ import annotations

import numpy as np

from tools import bench_rapidocr
from tools.bench.browser import WEBGPU_ENGINE, webgpu_reason
from tools.bench.common import README_END, README_START, SEGMENT_GAP, TESSDATA_JS


def _f3(x) -> str:
    return "" if x is None else f"{x:.3f}"


def _mb(n) -> str:
    return "" if n is None else f"{n / 1e6:.1f} MB"


def _mib(n) -> str:
    return "" if n is None else f"{n / 2**20:.0f} MiB"


def accuracy_table(rows: list[dict]) -> str:
    head = (
        "| set (validation split) | n | engine | e2e word F1 | BoW F1 | det hmean | CER | crop acc | s/img (CPython) |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    out = [head]
    for r in rows:
        if r["kind"] == "crop":
            cells = ["", "", "", _f3(r["cer"]), _f3(r["accuracy"])]
        else:
            cells = [_f3(r["e2e_f1"]), _f3(r["bow_f1"]), _f3(r["det"]["hmean"]), _f3(r["cer"]), ""]
        n = f"{r['images']}" + (f" ({r['failures']} failed)" if r.get("failures") else "")
        out.append(f"| {r['set']} | {n} | {r['engine']} | " + " | ".join(cells) + f" | {r['sec_median']:.3f} |")
    return "\n".join(out)


def speed_table(res: dict) -> str:
    head = (
        "| engine | where | cold start | warm start | per image (median / p90) | vs tesseract.js per image "
        "(median, range) | downloaded on a cold start | memory |\n|---|---|---|---|---|---|---|---|"
    )
    out = [head]
    web = res.get("browser")
    if web:
        for name, e in web["engines"].items():
            ratio = (
                "1"
                if name == "tesseract.js"
                else (f"{e['ratio_median']:.2f}x ({e['ratio_range'][0]:.2f}-{e['ratio_range'][1]:.2f})")
            )
            heap = (
                f"WASM heap {_mib(e['heap_after_bytes'])} after {e['heap_after_reads']} images"
                if e.get("heap_after_bytes")
                else "WASM heap: not readable"
            )
            parts = e.get("heap_after_parts") or {}
            if parts.get("shared") and name.startswith("localocr"):
                # the thread memory is onnxruntime-web's; the rest Pyodide's
                heap += f" (onnxruntime {_mib(parts['shared'])}, Pyodide {_mib(parts.get('other', 0))})"
            out.append(
                f"| {name} | Chromium {web['chromium'].split('.')[0]} | {e['cold_ms'] / 1000:.2f} s | "
                f"{e['warm_ms'] / 1000:.2f} s | {e['median_ms'] / 1000:.2f} / {e['p90_ms'] / 1000:.2f} s | "
                f"{ratio} | {_mb(e['cold_bytes'])} | {heap} |"
            )
        if WEBGPU_ENGINE[0] not in web["engines"]:
            out.append(
                f"| {WEBGPU_ENGINE[0]} | Chromium {web['chromium'].split('.')[0]} | not measured: "
                f"{webgpu_reason(web['webgpu'])} | | | | | |"
            )
    cp = res.get("cpython")
    if cp:
        for name, e in cp["engines"].items():
            rss = cp["peak_rss_kib"].get(name)
            out.append(
                f"| {name} | CPython, 1 thread | | | {e['median_s']:.2f} / {e['p90_s']:.2f} s | | | "
                + (f"peak RSS {rss / 1024:.0f} MiB |" if rss else " |")
            )
    return "\n".join(out)


def notes(res: dict) -> list[str]:
    m, v = res["machine"], res["versions"]
    web, cp = res.get("browser"), res.get("cpython")
    lines = [
        f"{res['date']}, {m['cpu']} ({m['cores']} cores, {m['memory_gib']:.0f} GiB), {m['os']}; load average "
        f"{m['load_start'][0]} at the start, {m['load_end'][0]} at the end"
        + (
            " (after each part: " + ", ".join(f"{k} {v}" for k, v in m["load_phases"].items()) + ")"
            if m.get("load_phases")
            else ""
        )
        + f"; other jobs shared the cores, so figures are medians of interleaved runs. "
        f"This run took {res['wall_s'] / 60:.1f} min (tools/bench/, after make's set-up steps)"
        + (" (--quick: a smoke test, not for comparison)." if res["quick"] else "."),
        f"Versions: localocr {v['localocr']} (models: {v['models']}), onnxruntime {v['onnxruntime']}, "
        f"onnxruntime-web {v['onnxruntime_web']}, Pyodide {v['pyodide']}; Tesseract {v['tesseract']} (Debian "
        f"tesseract-ocr {v['tesseract_deb']}, tesseract-ocr-eng {v['tesseract_eng_deb']}); tesseract.js "
        f"{v['npm'].get('tesseract.js')}, tesseract.js-core {v['npm'].get('tesseract.js-core')}, "
        f"@tesseract.js-data/eng {v['npm'].get('@tesseract.js-data/eng')} ({TESSDATA_JS}).",
        "Accuracy: `localocr.evaluate` (the `localocr-eval` code) on each set's validation split"
        + (f" (at most {res['limit']} per set)" if res.get("limit") else " (all of it)")
        + "; Tesseract's TSV words (boxes) feed the same metrics, its lines split into segments at gaps "
        f"wider than {SEGMENT_GAP} word heights for line-level sets; crop sets with --psm 7. "
        '"tesseract (js data)" is the CLI with the English data tesseract.js loads; Tesseract reads every set '
        "with English data (tapuscorpus and poilus_hw are French). CER: per ground-truth region; BoW: bag of "
        "words per page; case-sensitive except SROIE (all-capitals labels of mixed-case receipts). s/img: wall time per image on one thread, the CLI's own start-up "
        "included.",
    ]
    rapid = v.get("rapidocr")
    if rapid:
        lines.append(
            rapidocr_note(rapid, [r for r in res.get("accuracy", []) if r["engine"] == bench_rapidocr.ENGINE_NAME])
        )
    if cp:
        lines.append(
            f"CPython: the {len(cp['images'])} speed images (SROIE, FUNSD, IC15 validation), "
            f"median of {cp['rounds']} interleaved reads each; the tesseract CLI starts once per image "
            f"(its start-up alone: {cp['tesseract_startup_s']:.2f} s); the models of "
            + " and ".join(n for n in cp["engines"] if n != "tesseract")
            + " are loaded once."
        )
    if web:
        req = web["requests"]
        lines.append(
            f"Browser: headless Chromium {web['chromium']}, cross-origin isolated, the app's CSP, every file from "
            f"our origin ({req['seen']} requests logged, pages and workers, {len(req['off_origin'])} to another "
            f"origin; {len(web['csp_reports'])} CSP violations). Cold: a fresh context, navigation start to the "
            f"first result (median of {web['cold_rounds']}); warm: reload in that context; per image: "
            f"{web['reads']} reads per engine cycling the {len(web['images'])} images, engines interleaved. "
            "Downloaded: body bytes our server sent (br/gzip as served), bench harness and image excluded. "
            "tesseract.js runs OEM 1 (LSTM) with --psm 3 like the CLI; localocr 1 thread = createOCR({numThreads: 1})."
        )
    return lines


def partial_markdown(res: dict) -> str:
    """The tables of a partial run (--skip / --only), without the notes, which describe a whole run."""
    out = [accuracy_table(res["accuracy"]), ""] if res.get("accuracy") else []
    if res.get("cpython"):
        out += [speed_table(res), ""]
    return "\n".join(out)


def rapidocr_note(rapid: dict, rows: list[dict]) -> str:
    """The PP-OCRv6 small peer: what runs, and how its line boxes became words (per word-level set)."""
    split = [
        f"{r['set']} {r['peer_stats']['split_lines']}/{r['peer_stats']['lines']}"
        for r in rows
        if r["kind"] == "page" and r.get("peer_stats", {}).get("lines")
    ]
    models = ", ".join(f"{name} ({info})" for name, info in rapid["models"].items())
    return (
        f"{bench_rapidocr.ENGINE_NAME}: rapidocr {rapid['rapidocr']} (PyPI, Apache-2.0) with the models its wheel "
        f"bundles: {models}; `RapidOCR()`'s defaults on onnxruntime, 1 thread (OpenCV too). Each detected region "
        "is a line (and a line segment for line-level sets); its words are rapidocr's own word boxes "
        "(`return_word_box`, from the recognizer's CTC columns) where they are the line's whitespace-separated "
        "words, else the region is cut by character count at the spaces"
        + (f" (lines cut that way: {', '.join(split)})" if split else "")
        + ". Crop sets: its recognizer alone (no detector, no direction classifier)."
    )


def render_markdown(res: dict) -> str:
    out = [
        "### Accuracy",
        "",
        accuracy_table(res["accuracy"]),
        "",
        "### Speed, download and memory",
        "",
        speed_table(res),
        "",
    ]
    out += [f"- {line}" for line in notes(res)]
    return "\n".join(out) + "\n"


ENGINE_COLOURS = {
    "localocr": "#1f77b4",
    "tesseract": "#d62728",
    "tesseract (js data)": "#ff7f0e",
    bench_rapidocr.ENGINE_NAME: "#2ca02c",
}


def chart_svg(rows: list[dict], width: int = 640, height: int = 400) -> str:
    """Accuracy (e2e word F1 for page sets, accuracy for crop sets) against CPython seconds per image
    (log scale), one marker per (engine, set), as a standalone SVG document."""
    used = [r for r in rows if r["sec_median"] > 0]
    pts = [
        (r["engine"], r["set"], r["sec_median"], r["accuracy"] if r["kind"] == "crop" else r["e2e_f1"]) for r in used
    ]
    kinds = [r["kind"] for r in used]
    left, right, top, bottom = 60, 170, 20, 50
    pw, ph = width - left - right, height - top - bottom
    xs = [p[2] for p in pts] or [0.1, 1]
    lo, hi = np.log10(min(xs)) - 0.1, np.log10(max(xs)) + 0.1
    x_of = lambda s: left + (np.log10(s) - lo) / (hi - lo) * pw
    y_of = lambda a: top + (1 - a) * ph
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>',
    ]
    for a in np.linspace(0, 1, 6):
        y = y_of(a)
        svg.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#eee"/>')
        svg.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{a:.1f}</text>')
    for e in range(int(np.floor(lo)), int(np.ceil(hi)) + 1):
        for m in (1, 2, 5):
            s = m * 10.0**e
            if lo <= np.log10(s) <= hi:
                x = x_of(s)
                svg.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#eee"/>')
                svg.append(f'<text x="{x:.1f}" y="{top + ph + 15}" text-anchor="middle">{s:g}</text>')
    svg.append(
        f'<text x="{left + pw / 2}" y="{height - 12}" text-anchor="middle">seconds per image, CPython, '
        f"1 thread (log scale)</text>"
    )
    svg.append(
        f'<text transform="translate(16 {top + ph / 2}) rotate(-90)" text-anchor="middle">'
        f"e2e word F1 (pages) / accuracy (crops)</text>"
    )
    by_set: dict = {}
    for _engine, name, s, a in pts:
        by_set.setdefault(name, []).append((x_of(s), y_of(a)))
    for xy in by_set.values():  # a thin line joins the engines' points of one set
        if len(xy) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in sorted(xy))
            svg.append(f'<polyline points="{path}" fill="none" stroke="#bbb" stroke-width="1"/>')
    placed: list = []  # label boxes so far: a label that would overlap one moves up
    labelled: set = set()
    labels: list = []
    for (engine, name, s, a), kind in zip(pts, kinds):
        colour = ENGINE_COLOURS.get(engine, "#555")
        x, y = x_of(s), y_of(a)
        tip = f"<title>{esc(engine)}, {esc(name)}: {a:.3f} at {s:.3f} s</title>"
        if kind == "crop":  # squares: crop sets (accuracy), circles: page sets (e2e F1)
            svg.append(
                f'<rect x="{x - 4.5:.1f}" y="{y - 4.5:.1f}" width="9" height="9" fill="{colour}" '
                f'fill-opacity="0.8">{tip}</rect>'
            )
        else:
            svg.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}" fill-opacity="0.8">{tip}</circle>')
        if name in labelled:  # one label per set, at its first engine's point; lines join the rest
            continue
        labelled.add(name)
        label = name.replace("_train", "")
        lx, ly, lw = x + 7, y + 4, 6.2 * len(label)  # ~6.2 px per character at font-size 11
        while any(abs(ly - py) < 11 and lx < px + pw_ and px < lx + lw for px, py, pw_ in placed):
            ly -= 11  # upwards: the crowded points sit at the bottom (F1 0)
        placed.append((lx, ly, lw))
        labels.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" fill="#333" stroke="white" stroke-width="3" '
            f'paint-order="stroke">{esc(label)}</text>'
        )
    svg += labels  # over the markers
    for i, engine in enumerate(dict.fromkeys(p[0] for p in pts)):
        y = top + 10 + 18 * i
        colour = ENGINE_COLOURS.get(engine, "#555")
        svg.append(f'<circle cx="{left + pw + 16}" cy="{y}" r="5" fill="{colour}"/>')
        svg.append(f'<text x="{left + pw + 26}" y="{y + 4}">{esc(engine)}</text>')
    y = top + 10 + 18 * len(ENGINE_COLOURS) + 8
    for i, line in enumerate(["circles: page sets", "squares: crop sets", "a grey line joins", "one set's engines"]):
        svg.append(f'<text x="{left + pw + 12}" y="{y + 14 * i}" fill="#555">{line}</text>')
    svg.append("</svg>")
    return "\n".join(svg) + "\n"


def update_readme(text: str, section: str) -> str:
    """README text with `section` between the benchmark markers; a "## Benchmark" section holding the
    markers is appended when the README has none. Text outside the markers is left as it is."""
    block = f"{README_START}\n{section.rstrip()}\n{README_END}"
    start, end = text.find(README_START), text.find(README_END)
    if start == -1 and end == -1:
        return text.rstrip("\n") + "\n\n## Benchmark\n\n" + block + "\n"
    if start == -1 or end == -1 or end < start:
        raise ValueError("README.md: the benchmark markers are incomplete or out of order")
    return text[:start] + block + text[end + len(README_END) :]


def readme_section(res: dict) -> str:
    return (
        "Side by side with Tesseract, tesseract.js and PP-OCRv6 small on this machine, measured by `make bench` "
        "(`tools/bench/`, which says what each figure is; `make bench-quick` is a smoke test of the same "
        "steps; `python -m tools.bench --only localocr rapidocr --quick` looks at some engines alone). It "
        "installs the peers from the registries (Debian's tesseract, npm's tesseract.js pinned by "
        "`tools/bench_peers/package-lock.json`, PyPI's rapidocr 3.10.0 with its bundled PP-OCRv6 small "
        "models) and serves tesseract.js from our own origin. Full results: "
        "[bench/results.md](bench/results.md), [bench/results.json](bench/results.json).\n\n"
        "![accuracy vs seconds per image](bench/chart.svg)\n\n" + render_markdown(res)
    )
