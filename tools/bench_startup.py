"""Start-up waterfall: localocr against tesseract.js, cold and warm, side by side (issue 17).

    python -m tools.bench_startup [--runs 3] [--image PATH] [--json FILE]     (or: make bench-startup)

One server (serve.py's, cross-origin isolated, the app's CSP, brotli/gzip siblings as served) gives
both engines from our own origin, through the pages `make bench` uses (tools/bench_peers: each
creates its engine at once and reads `--image` as soon as it can). Per run, engines interleaved
(localocr, tesseract.js, localocr, ...):
- cold: a fresh browser context (empty HTTP cache, no service worker, no IndexedDB), navigation
  start -> the first text back in the page;
- warm: a reload in that context (HTTP cache: revalidated with 304s; tesseract.js's data from its
  IndexedDB copy), the same clock;
- `--cold-reads` N: N more reads in the cold page before the reload (how soon a first visit's
  reads settle; off by default, since they also warm what the reload finds cached);
- `--drop-after` S: one more first visit per run, whose image is given S seconds after the engine
  is ready (as a user drops one), and that read's time;
- then `--reads` more reads of the same image in the warm page: the steady per-image time; then one
  blank A4 page at 300 dpi (2480 x 3508, white) and the WASM heap after it.
For each start it prints a waterfall, from the run whose first text is the median: every file
fetched by the page and its workers (resource timing: start, end, bytes on the wire = `transferSize`,
body as sent = `encodedBodySize`, unpacked = `decodedBodySize`) and every step the localocr worker
measures (User Timing "localocr:<step>": ort_import, pyodide_import, pyodide_boot, packages_load,
packages_import, localocr_install, fetch_/session_/warmup_<model>, pipeline_build, read), with
times in ms since navigation start (worker clocks moved onto the page's). Then a summary table of
medians with localocr / tesseract.js ratios, the bytes our server sent, the workers' WASM heap after
the reads (the bench pages' heap probe), and the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
from pathlib import Path

from tools.bench.browser import FIRST_JS, counting_server
from tools.bench.common import DATA
from tools.bench.site import build_site, image_key, npm_install
from tools.bench_app import load_average

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "build" / "bench-startup-site"  # this worktree's own copy (build_site)
IMAGE = DATA / "sroie_train" / "images" / "001.jpg"
ENGINES = {  # name -> (bench page, the engine's own worker script, site variant)
    "localocr": ("localocr.html?backend=wasm&", "/lo/worker.js", "site"),
    "tesseract.js": ("tesseract.html?", "/tw/worker.js", "site"),
    # the same, without boot.json's preloading (the worker fetches each file when its code asks)
    "localocr-no-preload": ("localocr.html?backend=wasm&", "/lo/worker.js", "no-preload"),
}
DEFAULT_ENGINES = ["localocr", "tesseract.js"]


def no_preload_site(site: Path) -> Path:
    """A copy of `site` (its links) whose boot.json lists nothing to preload."""
    import shutil

    out = site.with_name(site.name + "-no-preload")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(site, out, symlinks=True, ignore=shutil.ignore_patterns("tesseract"))
    plan = json.loads((site / "boot.json").read_text())
    plan["preload"], plan["ort"] = [], {}
    (out / "boot.json").unlink()
    (out / "boot.json").write_text(json.dumps(plan))
    return out


# Resource timing and localocr's own step measures of one realm (page or worker), on its own clock.
ENTRIES_JS = """() => ({
    origin: performance.timeOrigin,
    resources: performance.getEntriesByType("resource").map((e) => ({ url: e.name, start: e.startTime,
        end: e.responseEnd, transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize })),
    measures: performance.getEntriesByType("measure").filter((m) => m.name.startsWith("localocr:"))
        .map((m) => ({ name: m.name.slice(9), start: m.startTime, end: m.startTime + m.duration })),
    heap: self.__wasmHeapBytes ? self.__wasmHeapBytes() : null,
})"""


def short(url: str, base: str) -> str:
    return url[len(base) :] if url.startswith(base) else url


def collect(page, base: str, worker_script: str) -> dict:
    """Every resource and step of the page and its workers, on the page's clock (ms since navigation)."""
    own = page.evaluate(ENTRIES_JS)
    rows, heap = [], None
    realms = [("page", own)]
    # Only the engine's own worker: onnxruntime-web's thread workers sit in Atomics.wait, where an
    # evaluate would never return (their few fetches are the .mjs they start from).
    for worker in page.workers:
        if worker.url.split("?")[0].endswith(worker_script):
            realms.append((short(worker.url, base), worker.evaluate(ENTRIES_JS)))
    for where, realm in realms:
        shift = realm["origin"] - own["origin"]
        if where != "page":
            heap = realm["heap"]
        for r in realm["resources"]:
            rows.append(
                {
                    "kind": "fetch",
                    "where": where,
                    "what": short(r["url"].split("?")[0], base),
                    "start": r["start"] + shift,
                    "end": r["end"] + shift,
                    "wire": r["transfer"],
                    "body": r["encoded"],
                    "unpacked": r["decoded"],
                }
            )
        for m in realm["measures"]:
            rows.append(
                {
                    "kind": "step",
                    "where": where,
                    "what": m["name"],
                    "start": m["start"] + shift,
                    "end": m["end"] + shift,
                }
            )
    rows.sort(key=lambda r: (r["start"], r["end"]))
    return {"rows": rows, "heap": heap}


def start_once(page, timeout: float) -> dict:
    from tools.browser import poll

    got = poll(page, FIRST_JS, timeout, 0.02)
    if "error" in got:
        raise RuntimeError(got["error"])
    return {"first_ms": got["doneMs"], "created_ms": got.get("createdMs"), "words": got["words"]}


def run_engine(
    browser,
    base: str,
    sent: list,
    name: str,
    key: str,
    reads: int,
    timeout: float,
    blank: str | None = None,
    cold_reads: int = 0,
    drop_after: float = 0.0,
) -> dict:
    page_url, worker_script, _ = ENGINES[name]
    out = {}
    context = browser.new_context(service_workers="block")
    try:
        page = context.new_page()
        for phase in ("cold", "warm"):
            mark = len(sent)
            if phase == "cold":
                page.goto(f"{base}bench/{page_url}first={key}")
            else:
                page.reload()
            got = start_once(page, timeout)
            got["server_bytes"] = sum(n for p, n in sent[mark:] if not p.startswith("/bench/"))
            got["server_files"] = sum(1 for p, _ in sent[mark:] if not p.startswith("/bench/"))
            got.update(collect(page, base, worker_script))
            if phase == "cold" and cold_reads:  # before the reload: how soon a first visit's reads settle
                got["next_ms"] = [page.evaluate("(name) => bench.read(name)", key)["ms"] for _ in range(cold_reads)]
            out[phase] = got
        steady = [page.evaluate("(name) => bench.read(name)", key)["ms"] for _ in range(reads)]
        out["steady_ms"] = statistics.median(steady) if steady else None
        out["heap_after"] = collect(page, base, worker_script)["heap"]
        if blank:
            out["blank_ms"] = page.evaluate("(name) => bench.read(name)", blank)["ms"]
            out["heap_after_blank"] = collect(page, base, worker_script)["heap"]
    finally:
        context.close()
    if drop_after:  # a first visit again, the image given `drop_after` s after the engine is ready
        context = browser.new_context(service_workers="block")
        try:
            page = context.new_page()
            page.goto(f"{base}bench/{page_url}first={key}&wait={int(drop_after * 1000)}")
            got = start_once(page, timeout + drop_after)
            out["dropped_read_ms"] = got["first_ms"] - got["created_ms"]
        finally:
            context.close()
    return out


def median_run(runs: list[dict], phase: str) -> dict:
    ordered = sorted(runs, key=lambda r: r[phase]["first_ms"])
    return ordered[len(ordered) // 2][phase]


def waterfall(name: str, phase: str, run: dict) -> str:
    lines = [
        f"{name}, {phase} start (the median run): first text at {run['first_ms']:.0f} ms, "
        f"{run['server_bytes'] / 1e6:.2f} MB sent by the server in {run['server_files']} responses",
        f"  {'start':>7} {'end':>7} {'ms':>6} {'wire':>10} {'body':>10} {'unpacked':>10}  what",
    ]
    for r in run["rows"]:
        if r["kind"] == "fetch":
            sizes = f"{r['wire']:>10,} {r['body']:>10,} {r['unpacked']:>10,}"
            what = f"fetch {r['what']}" + ("" if r["where"] == "page" else f"  ({r['where']})")
        else:
            sizes = " " * 32
            what = f"step  {r['what']}"
        lines.append(f"  {r['start']:7.0f} {r['end']:7.0f} {r['end'] - r['start']:6.0f} {sizes}  {what}")
    if run.get("created_ms") is not None:
        lines.append(
            f"  {run['created_ms']:7.0f} {'':>7} {'':>6} {'':>32}  engine created (createOCR().ready / createWorker)"
        )
    lines.append(f"  {run['first_ms']:7.0f} {'':>7} {'':>6} {'':>32}  first text in the page")
    return "\n".join(lines)


def summary(results: dict) -> dict:
    med = statistics.median
    out = {}
    for name, runs in results.items():
        out[name] = {
            "cold_ms": med(r["cold"]["first_ms"] for r in runs),
            "warm_ms": med(r["warm"]["first_ms"] for r in runs),
            "cold_first_read_ms": med(r["cold"]["first_ms"] - r["cold"]["created_ms"] for r in runs),
            "warm_first_read_ms": med(r["warm"]["first_ms"] - r["warm"]["created_ms"] for r in runs),
            "steady_ms": med(r["steady_ms"] for r in runs),
            "cold_bytes": med(r["cold"]["server_bytes"] for r in runs),
            "cold_files": med(r["cold"]["server_files"] for r in runs),
            **{
                k: (
                    med(r[k] for r in runs if r.get(k) is not None) if any(r.get(k) is not None for r in runs) else None
                )
                for k in ("heap_after", "blank_ms", "heap_after_blank", "dropped_read_ms")
            },
            "cold_next_ms": [statistics.median(col) for col in zip(*(r["cold"].get("next_ms", []) for r in runs))],
            "cold_all_ms": [r["cold"]["first_ms"] for r in runs],
            "warm_all_ms": [r["warm"]["first_ms"] for r in runs],
        }
    return out


def summary_table(s: dict, runs: int, reads: int) -> str:
    """Medians per engine, each with its ratio to tesseract.js where that ran."""
    rows = [
        ("cold start: navigation -> first text", "cold_ms", "s"),
        ("warm start (reload, cached) -> first text", "warm_ms", "s"),
        ("cold: engine created -> first text", "cold_first_read_ms", "s"),
        ("warm: engine created -> first text", "warm_first_read_ms", "s"),
        ("cold: the first read when the image comes --drop-after s after ready", "dropped_read_ms", "s"),
        (f"steady read (median of {reads} in the warm page)", "steady_ms", "s"),
        ("bytes sent by the server, cold", "cold_bytes", "MB"),
        ("responses, cold", "cold_files", "n"),
        ("WASM heap of the engine's worker after the reads", "heap_after", "MiB"),
        ("then a blank A4 page at 300 dpi: its read", "blank_ms", "s"),
        ("WASM heap after it", "heap_after_blank", "MiB"),
    ]
    fmt = {
        "s": lambda v: f"{v / 1000:.2f} s",
        "MB": lambda v: f"{v / 1e6:.2f} MB",
        "n": lambda v: f"{v:.0f}",
        "MiB": lambda v: f"{v / 2**20:.0f} MiB",
    }
    ref = s.get("tesseract.js")
    names = list(s)
    head = [f"median of {runs} runs"] + [
        n + (" (/ tesseract.js)" if ref and n != "tesseract.js" else "") for n in names
    ]
    out = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for label, key, unit in rows:
        cells = [label]
        for name in names:
            v = s[name].get(key)
            cell = fmt[unit](v) if v is not None else "n/a"
            if ref and name != "tesseract.js" and v is not None and ref.get(key):
                cell += f" ({v / ref[key]:.2f}x)"
            cells.append(cell)
        out.append("| " + " | ".join(cells) + " |")
    for name in names:
        if s[name].get("cold_next_ms"):
            later = ", ".join(f"{v / 1000:.2f}" for v in s[name]["cold_next_ms"])
            out.append(f"{name}, cold page: the reads after its first one (medians, in order): {later} s")
    for name in names:
        if name.startswith("localocr") and s[name]["steady_ms"]:
            out.append(
                f"{name}, warm: first read after the engine is ready = "
                f"{s[name]['warm_first_read_ms'] / s[name]['steady_ms']:.2f}x a steady read"
            )
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--reads", type=int, default=3, help="steady reads after each warm start")
    ap.add_argument("--image", type=Path, default=IMAGE)
    ap.add_argument("--engines", nargs="+", choices=list(ENGINES), default=DEFAULT_ENGINES)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument(
        "--cold-reads", type=int, default=0, help="reads of the image in the cold page after its first text"
    )
    ap.add_argument(
        "--drop-after",
        type=float,
        default=0.0,
        help="also a first visit whose image comes this many seconds after the engine is ready",
    )
    ap.add_argument("--no-blank", action="store_true", help="skip the blank A4 page read after the steady reads")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    from tools.browser import chromium

    loads = [load_average()]
    images = [args.image]
    if not args.no_blank:
        from PIL import Image

        images.append(SITE.parent / "bench-startup-images" / "blank" / "a4_300dpi.png")
        images[-1].parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (2480, 3508), "white").save(images[-1])
    site = build_site(npm_install(), images, SITE)
    key = image_key(args.image)
    blank = None if args.no_blank else image_key(images[-1])
    results = {name: [] for name in args.engines}
    sites = {"site": site}
    if any(ENGINES[name][2] == "no-preload" for name in args.engines):
        sites["no-preload"] = no_preload_site(site)
    with contextlib.ExitStack() as stack:
        servers = {k: stack.enter_context(counting_server(v)) for k, v in sites.items()}
        browser = stack.enter_context(chromium())
        for r in range(args.runs):
            for name in args.engines:
                base, sent, _server = servers[ENGINES[name][2]]
                got = run_engine(
                    browser,
                    base,
                    sent,
                    name,
                    key,
                    args.reads,
                    args.timeout,
                    blank,
                    cold_reads=args.cold_reads,
                    drop_after=args.drop_after,
                )
                results[name].append(got)
                print(
                    f"run {r + 1}: {name:13s} cold {got['cold']['first_ms'] / 1000:6.2f} s  warm "
                    f"{got['warm']['first_ms'] / 1000:6.2f} s  steady {got['steady_ms'] or 0:5.0f} ms  "
                    f"{got['cold']['server_bytes'] / 1e6:5.2f} MB  (load {load_average()})",
                    flush=True,
                )
        chromium_version = browser.version
    loads.append(load_average())
    for name, runs in results.items():
        for phase in ("cold", "warm"):
            print()
            print(waterfall(name, phase, median_run(runs, phase)))
    s = summary(results)
    print()
    print(summary_table(s, args.runs, args.reads))
    print(
        f"\n{args.image.name}; headless Chromium {chromium_version}, cross-origin isolated; "
        f"load average (1/5/15 min) before | after: {' | '.join(loads)}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"summary": s, "runs": results, "load": loads}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
