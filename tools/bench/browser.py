"""The side-by-side benchmark (tools/bench/): browser."""

from __future__ import annotations

import contextlib
import io
import os
import statistics
from functools import partial
from pathlib import Path

import numpy as np

from tools.bench.data import load_avg
from tools.bench.site import image_key

WEB_ENGINES = {  # name -> bench page (tools/bench_peers)
    "localocr WASM threads": "localocr.html?backend=wasm&",
    "localocr WASM 1 thread": "localocr.html?backend=wasm&threads=1&",
    "tesseract.js": "tesseract.html?",
}
WEBGPU_ENGINE = ("localocr WebGPU", "localocr.html?backend=webgpu&")  # only on a real adapter
WORKER_SCRIPTS = ("/lo/worker.js", "/tw/worker.js")  # the engines' own workers (heap probe inside)

FIRST_JS = "window.bench && (bench.first || (bench.error && {error: bench.error}))"
WEBGPU_JS = """async () => {
    if (!navigator.gpu) return { adapter: false, why: "navigator.gpu is undefined" };
    const a = await navigator.gpu.requestAdapter();
    if (!a) return { adapter: false, why: "navigator.gpu.requestAdapter() returned null" };
    const info = a.info || {};
    return { adapter: true, fallback: Boolean(info.isFallbackAdapter ?? a.isFallbackAdapter),
             vendor: info.vendor || "", architecture: info.architecture || "", description: info.description || "" };
}"""


@contextlib.contextmanager
def counting_server(site: Path):
    """serve.py's server (cross-origin isolated, the app's CSP) on a free port, counting the body bytes
    it sends per request: yields (base URL, [(path, bytes)], server)."""
    from tools.browser import serving

    with serving(site, isolation=True) as (base, server):
        sent: list = []

        class Counting(server.handler_class):
            def copyfile(self, source, outputfile):
                size = (
                    source.getbuffer().nbytes if isinstance(source, io.BytesIO) else os.fstat(source.fileno()).st_size
                )
                sent.append((self.path.split("?")[0], size))
                super().copyfile(source, outputfile)

        # the handler class is looked up per request: no request has been made yet
        server.RequestHandlerClass = partial(Counting, directory=str(site))
        yield base, sent, server


def _worker_eval(page, expression: str):
    """`expression` evaluated in the engine's own worker (None when it has none)."""
    for worker in page.workers:
        if worker.url.endswith(WORKER_SCRIPTS):
            return worker.evaluate(expression)
    return None


def _worker_heap(page) -> int | None:
    return _worker_eval(page, "self.__wasmHeapBytes ? self.__wasmHeapBytes() : null")


def _worker_heap_parts(page) -> dict | None:
    """The worker's WASM memories by kind (web/wasm-heap.js): {"shared": bytes (onnxruntime-web's
    threaded build), "other": bytes (Pyodide's, or a one-thread onnxruntime-web's)}."""
    return _worker_eval(page, "self.__wasmHeaps ? self.__wasmHeaps() : null")


def summarize_ms(values: list[float]) -> dict:
    return {"median": statistics.median(values), "p90": float(np.percentile(values, 90))}


def web_bench(site: Path, images: list[Path], cold_rounds: int, reads: int, log, timeout: float = 900) -> dict:
    """The browser figures (see the module docstring); engines interleaved at every step."""
    from tools.browser import chromium, poll

    keys = [image_key(i) for i in images]
    engines = dict(WEB_ENGINES)
    res = {
        name: {
            "cold_ms": [],
            "warm_ms": [],
            "cold_bytes": [],
            "cold_files": None,
            "reads": {k: [] for k in keys},
            "words": {},
            "texts": {},
        }
        for name in [*WEB_ENGINES, WEBGPU_ENGINE[0]]
    }
    urls: list[str] = []
    with counting_server(site) as (base, sent, server), chromium() as browser:

        def page_of(name):
            ctx = browser.new_context()
            ctx.on("request", lambda r: urls.append(r.url))
            page = ctx.new_page()
            page.goto(f"{base}bench/{engines[name]}first={keys[0]}")
            got = poll(page, FIRST_JS, timeout)
            if "error" in got:
                ctx.close()
                raise RuntimeError(f"{name}: {got['error']}")
            return ctx, page, got

        # WebGPU: measured only on a real (hardware) adapter that localocr then starts on
        ctx = browser.new_context()
        page = ctx.new_page()
        page.goto(f"{base}bench/localocr.html")  # any page of our origin (a secure context)
        webgpu = page.evaluate(WEBGPU_JS)
        ctx.close()
        if webgpu.get("adapter") and not webgpu.get("fallback"):
            engines[WEBGPU_ENGINE[0]] = WEBGPU_ENGINE[1]
            try:
                page_of(WEBGPU_ENGINE[0])[0].close()
            except RuntimeError as e:
                webgpu["error"] = str(e)
                del engines[WEBGPU_ENGINE[0]]
        log(f"  WebGPU: {webgpu}")

        for r in range(cold_rounds):
            for name in engines:
                mark = len(sent)
                ctx, page, got = page_of(name)  # fresh context: empty HTTP cache and IndexedDB
                res[name]["cold_ms"].append(got["doneMs"])
                files = [(p, n) for p, n in sent[mark:] if not p.startswith("/bench/")]
                res[name]["cold_bytes"].append(sum(n for _, n in files))
                res[name]["cold_files"] = res[name]["cold_files"] or files
                page.reload()  # warm: the same context's caches
                got = poll(page, FIRST_JS, timeout)
                if "error" in got:
                    raise RuntimeError(f"{name} (warm): {got['error']}")
                res[name]["warm_ms"].append(got["doneMs"])
                ctx.close()
                log(
                    f"  cold/warm round {r + 1}: {name:24s} cold {res[name]['cold_ms'][-1] / 1000:6.2f} s  "
                    f"warm {res[name]['warm_ms'][-1] / 1000:6.2f} s  {res[name]['cold_bytes'][-1] / 1e6:5.2f} MB "
                    f"(load {load_avg()[0]})"
                )
        open_pages = {name: page_of(name) for name in engines}
        for name, (_, page, _) in open_pages.items():
            res[name]["info"] = page.evaluate("bench.info")
            res[name]["heap_start_bytes"] = _worker_heap(page)
        for k in range(reads):
            key = keys[k % len(keys)]
            for name, (_, page, _) in open_pages.items():
                out = page.evaluate("(name) => bench.read(name)", key)
                res[name]["reads"][key].append(out["ms"])
                res[name]["words"][key] = out["words"]
                res[name]["texts"].setdefault(key, out["text"])
            if (k + 1) % 10 == 0 or k + 1 == reads:
                log(f"  reads {k + 1}/{reads} (load {load_avg()[0]})")
        for name, (_ctx, page, _) in open_pages.items():
            res[name]["heap_after_bytes"] = _worker_heap(page)
            res[name]["heap_after_parts"] = _worker_heap_parts(page)
            res[name]["heap_after_reads"] = reads
        for ctx, _, _ in open_pages.values():
            ctx.close()
        chromium_version = browser.version
        csp_reports = list(server.handler_class.csp_reports)
    foreign = sorted({u for u in urls if not u.startswith(base) and not u.startswith(("data:", "blob:"))})
    out = {
        "images": keys,
        "cold_rounds": cold_rounds,
        "reads": reads,
        "chromium": chromium_version,
        "webgpu": webgpu,
        "csp_reports": csp_reports,
        "requests": {
            "seen": len(urls),
            "off_origin": foreign,
            # the traineddata is fetched by tesseract.js's worker: seeing it proves that the
            # log covers worker requests too
            "worker_requests_logged": any(u.endswith("/eng.traineddata") for u in urls),
        },
        "engines": {},
    }
    for name, r in res.items():
        if name not in engines:
            continue
        per_image = {k: statistics.median(v) for k, v in r["reads"].items() if v}
        out["engines"][name] = {
            "cold_ms": statistics.median(r["cold_ms"]),
            "cold_all_ms": r["cold_ms"],
            "warm_ms": statistics.median(r["warm_ms"]),
            "warm_all_ms": r["warm_ms"],
            "cold_bytes": statistics.median(r["cold_bytes"]),
            "cold_bytes_all": r["cold_bytes"],
            "cold_files": r["cold_files"],
            "per_image_ms": per_image,
            **{f"{k}_ms": v for k, v in summarize_ms(list(per_image.values())).items()},
            "words": r["words"],
            "texts": r["texts"],
            "info": r.get("info"),
            "heap_start_bytes": r.get("heap_start_bytes"),
            "heap_after_bytes": r.get("heap_after_bytes"),
            "heap_after_parts": r.get("heap_after_parts"),
            "heap_after_reads": r.get("heap_after_reads"),
        }
    ref = out["engines"]["tesseract.js"]["per_image_ms"]
    for e in out["engines"].values():
        ratios = {k: v / ref[k] for k, v in e["per_image_ms"].items() if ref.get(k)}
        e["ratio_vs_tesseract_js"] = ratios
        e["ratio_median"] = statistics.median(ratios.values()) if ratios else None
        e["ratio_range"] = [min(ratios.values()), max(ratios.values())] if ratios else None
    return out


def webgpu_reason(probe: dict) -> str:
    """Why no WebGPU row holds figures (probe: WEBGPU_JS's answer, plus "error" if localocr failed)."""
    if probe.get("error"):
        return f"WebGPU did not start: {probe['error']}"
    if not probe.get("adapter"):
        return f"no WebGPU adapter in this headless Chromium ({probe.get('why', '')})"
    if probe.get("fallback"):
        return (
            f"only a software (fallback) WebGPU adapter ({probe.get('vendor')} {probe.get('architecture')}); "
            "localocr does not use one (hundreds of times slower than WASM)"
        )
    return "measured above"
