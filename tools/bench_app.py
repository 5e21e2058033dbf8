"""Measure the web app end to end in headless Chromium: a SROIE receipt and a FUNSD form, WASM with
threads (cross-origin isolated, `--threads` of them: the app's ?threads=N) and without (no COOP/COEP:
one thread).

    python -m tools.bench_app [--runs 5] [--threads 2] [--images RECEIPT FORM] [--json out.json]
    (or: make bench-app)
    python -m tools.bench_app --contract      # the tiny contract models (checks the tool, not the figures)
    python -m tools.bench_app --models DIR    # models from DIR instead of web/models

Per image, mode and run:
- cold: a fresh browser context (empty HTTP cache, no service worker) opens the app, the image is
  dropped as soon as the app's module has run, and the clock stops when its result is drawn:
  navigation start -> result on screen (runtime + models downloaded and started, then the read);
- warm: the same context reloads the page (runtime and models in the browser's cache) and does the same;
- per image: that warm page then reads the same image `--runs` more times; each read's time from the
  drop to its result (`read`: the worker call, transfer included), the pipeline's own stage timings
  (py/localocr page.timings) and the time to draw it (`draw`: image decode, boxes, text layer, panel).
Figures are medians over the runs (cold and warm: one per run; per image: every read of every run).

Stages: decode (Pillow, EXIF), detect (input prep + detector run), post-process (probability map ->
quads), crop (rectified line crops), recognize (batches + recognizer run + CTC decode), layout,
draw (UI thread).
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
from pathlib import Path

from tools.browser import chromium, poll, route_models, serving, wait_ready

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
DATA = ROOT.parent / "shared" / "data"
IMAGES = [DATA / "sroie_train" / "images" / "001.jpg", DATA / "funsd_train" / "images" / "0000971160.png"]
MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}

DROP_JS = """([name, type, b64]) => {
    const dt = new DataTransfer();
    dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type }));
    document.getElementById("drop").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
}"""

# The item's figures, once drawn: times are performance.now() (ms since navigation start).
ITEM_JS = """(i) => { const it = localocrApp.items[i];
    if (!it || it.state === 'error') return it ? { error: it.error } : null;
    if (it.state !== 'done' || it.drawMs === undefined) return null;
    return { drawn: it.times.drawn, read: it.times.result - it.times.start, draw: it.drawMs,
             timings: it.page.timings, lines: it.page.blocks.reduce((s, b) => s + b.lines.length, 0) }; }"""

STAGES = {  # reported stage: the page.timings keys (seconds) it sums
    "decode": ["decode"],
    "detect": ["detect_pre", "detect_run"],
    "post-process": ["detect_post"],
    "crop": ["recognize_pre"],
    "recognize": ["recognize_run", "recognize_post"],
    "layout": ["layout"],
}


def contract_models() -> dict:
    from tools.contract_models import detector_bytes, recognizer_bytes

    return {"detector.int8.onnx": detector_bytes(), "recognizer.int8.onnx": recognizer_bytes()}


def read_once(page, image: Path, index: int, timeout: float) -> dict:
    page.evaluate(DROP_JS, [image.name, MIME[image.suffix.lower()], base64.b64encode(image.read_bytes()).decode()])
    got = poll(page, f"({ITEM_JS})({index})", timeout)
    if "error" in got:
        raise RuntimeError(f"{image.name}: {got['error']}")
    return got


def start_page(page, base):
    page.goto(base)
    poll(page, "typeof localocrApp === 'object'", 60, 0.02)


def load_average() -> str:
    """The machine's 1/5/15-minute load averages (the figures depend on what else runs)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def measure(browser, base, image: Path, runs: int, models: dict | None, timeout: float) -> dict:
    cold, warm, per = [], [], []
    for _ in range(runs):
        context = browser.new_context()
        if models is not None:
            route_models(context, models)
        page = context.new_page()
        try:
            start_page(page, base)
            cold.append(read_once(page, image, 0, timeout)["drawn"])
            start_page(page, base)  # reload: the runtime and models come from the browser's cache
            warm.append(read_once(page, image, 0, timeout)["drawn"])
            info = wait_ready(page)
            for k in range(runs):
                per.append(read_once(page, image, k + 1, timeout))
        finally:
            context.close()
    med = statistics.median
    stages = {
        name: med(sum(r["timings"].get(k, 0.0) for k in keys) * 1000 for r in per) for name, keys in STAGES.items()
    }
    stages["draw"] = med(r["draw"] for r in per)
    return {
        "image": image.name,
        "threads": info["threads"],
        "runs": runs,
        "lines": per[0]["lines"],
        "cold_ms": med(cold),
        "warm_ms": med(warm),
        "per_image_ms": med(r["read"] + r["draw"] for r in per),
        "read_ms": med(r["read"] for r in per),
        "pipeline_total_ms": med(r["timings"]["total"] * 1000 for r in per),
        "stages_ms": stages,
        "cold_all_ms": cold,
        "warm_all_ms": warm,
    }


def table(results: list[dict]) -> str:
    head = ["image", "threads", "cold start", "warm start", "per image"] + list(STAGES) + ["draw"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [
            r["image"],
            str(r["threads"]),
            f"{r['cold_ms'] / 1000:.2f} s",
            f"{r['warm_ms'] / 1000:.2f} s",
            f"{r['per_image_ms']:.0f} ms",
        ] + [f"{r['stages_ms'][s]:.0f}" for s in list(STAGES) + ["draw"]]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n(stages in ms, medians; per image = drop to result drawn)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--images", nargs="+", type=Path, default=IMAGES)
    ap.add_argument("--modes", nargs="+", choices=["isolated", "not-isolated"], default=["isolated", "not-isolated"])
    ap.add_argument("--contract", action="store_true", help="use the tiny contract models (tests the tool only)")
    ap.add_argument("--models", type=Path, help="a folder of models to use instead of web/models (routed in)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds to wait for one result")
    ap.add_argument(
        "--threads",
        type=int,
        default=2,
        help="WASM threads when isolated (the app's ?threads=N; default 2, this machine's cores)",
    )
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    models = contract_models() if args.contract else None
    if args.models:
        models = {p.name: p.read_bytes() for p in args.models.glob("*.onnx")}
    results = []
    loads = [load_average()]
    with chromium() as browser:
        for mode in args.modes:
            with serving(WEB, isolation=mode == "isolated") as (base, _server):
                url = base + (f"?threads={args.threads}" if mode == "isolated" else "")
                for image in args.images:
                    r = measure(browser, url, image, args.runs, models, args.timeout)
                    r["mode"] = mode
                    r["load"] = load_average()
                    loads.append(r["load"])
                    results.append(r)
                    print(json.dumps({k: v for k, v in r.items() if not k.endswith("_all_ms")}), flush=True)
    print(table(results))
    print(f"load average (1/5/15 min) at start and after each row: {' | '.join(loads)}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
