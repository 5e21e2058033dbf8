"""Offline figures of the PWA: bytes the service worker caches, and the time from a cached reload
(server gone) to the first OCR result. Headless Chromium, the app as served from web/ with its models.

    python -m tools.bench_pwa [--image PATH] [--runs 3] [--web DIR]

What is timed: from `page.reload()` with the server stopped (everything comes from the service worker's
cache) to (a) the runtime being ready (`data-ready`), (b) the first `localocr.read(image)` result, which
includes fetching the models from the cache and building the pipeline. Median of --runs reloads.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
DEFAULT_IMAGE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sroie_train" / "images" / "001.jpg"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", type=Path, default=DEFAULT_IMAGE)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--web", type=Path, default=WEB, help="the app folder (web/, or a --build output)")
    args = ap.parse_args(argv)
    web = args.web.resolve()
    from tools import precache
    from tools.browser import chromium, poll, serving

    manifest = precache.write(web)
    if not any(f["url"].startswith("models/") for f in manifest["files"]):
        print(f"{web}/models/ holds no models: nothing to read offline", file=sys.stderr)
        return 1
    image = base64.b64encode(args.image.read_bytes()).decode()
    with chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        with serving(web) as (base, _server):
            page.goto(base)
            poll(page, "document.documentElement.dataset.pwa === 'offline-ready'", timeout=300)
            poll(page, "document.documentElement.dataset.models", timeout=300)
            status = page.evaluate("localocrPWA.status()")
            usage = page.evaluate("navigator.storage.estimate().then((e) => e.usage)")
        ready, first, text = [], [], ""
        for _ in range(args.runs):
            start = time.monotonic()
            page.reload()
            poll(page, "document.documentElement.dataset.ready === 'true'", timeout=300)
            ready.append(time.monotonic() - start)
            result = page.evaluate("(b) => localocr.read(Uint8Array.from(atob(b), (c) => c.charCodeAt(0)))", image)
            first.append(time.monotonic() - start)
            text = result["text"]
        context.close()
    models = [f["url"] for f in manifest["files"] if f["url"].startswith("models/")]
    print(
        f"precache {status['version']}: {status['files']} files, {status['bytes']:,} bytes "
        f"(storage estimate {usage:,} bytes); models {models}"
    )
    print(
        f"cached reload, server gone, median of {args.runs}: runtime ready {statistics.median(ready):.2f} s, "
        f"first result {statistics.median(first):.2f} s ({args.image.name}, {len(text)} characters)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
