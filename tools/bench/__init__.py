"""Side-by-side benchmark: localocr against Tesseract 5 (CLI), tesseract.js and PP-OCRv6 small, in one run
(the package: common settings, tesseract (its CLI and TSV -> Page), site (the peers and the served
site), data, measure (accuracy, CPython speed), browser, report (Markdown, chart, README), run).

    python -m tools.bench            # or: make bench   (the full run: 20-23 min on 2 shared cores, 25 min
                                     # from a fresh clone with make's set-up, before the PP-OCRv6 peer: it
                                     # reads a page 7-15x slower than localocr and adds ~10 min, estimated)
    python -m tools.bench --quick    # smoke test (~5 min): 5 images per set, 3 speed images, 1 cold round;
                                     # its results go to bench/out/quick/ only (README untouched)
    python -m tools.bench --render-only   # rewrite bench/results.*, chart and README from bench/out/raw.json
    python -m tools.bench --only localocr rapidocr --skip cpython   # some engines' accuracy alone (no
                                     # browser part; a partial run: bench/out/partial/ only)

Peers come from the registries only: the Debian packages `tesseract-ocr` + `tesseract-ocr-eng` (the
Makefile installs them when missing), PyPI's rapidocr (pyproject's `bench` extra, pinned) and the npm
packages pinned in tools/bench_peers/package.json,
installed with `npm ci` (npm checks every tarball against package-lock.json's integrity hashes) into
.cache/bench/npm and served by serve.py's server from our own origin, never a CDN.

What it measures (every engine on the same machine, in the same run, interleaved A B A B):
- accuracy on the validation split (localocr.splits) of every set in ../shared/data, with
  `localocr.evaluate.evaluate_set` (the `localocr-eval` code) for every engine: localocr (CPython,
  the models in web/models), the tesseract CLI with Debian's English data, and the same CLI with the
  English data tesseract.js loads (@tesseract.js-data/eng 4.0.0_best_int), and PP-OCRv6 small
  (rapidocr 3.10.0 from PyPI with its bundled models, tools/bench_rapidocr.py). Tesseract's TSV output
  becomes a `Page` (words with boxes, lines, blocks) that the same metrics read; crop sets run the CLI
  with --psm 7 (one text line); rapidocr's regions become lines of a `Page` the same way, and crop
  sets run its recognizer alone. All run on one thread (OMP_THREAD_LIMIT=1, onnxruntime intra-op 1):
  on 2 busy cores more threads only contend.
- CPython speed on the 20 browser images: seconds per image, localocr (models loaded once) vs the
  tesseract CLI (one process per image, as a user runs it; its start-up alone is reported too) vs
  rapidocr (models loaded once), and peak RSS (localocr, rapidocr: a fresh process that reads the 20
  images; tesseract: the largest CLI process).
- browser speed in headless Debian Chromium, one page per engine: localocr with WASM threads and on
  one WASM thread, tesseract.js 7; cold start (fresh context: empty cache) from navigation to the
  first result, warm start (reload: HTTP cache / tesseract.js's IndexedDB copy of its data), then 50
  reads per engine cycling the 20 images (per image: the median of its reads), the bytes our server
  sent for each cold start, and the worker's WASM heap after the 50 reads. WebGPU runs only on a real
  (non-fallback) adapter; otherwise the table says why it was not measured.

Writes bench/results.json, bench/results.md and bench/chart.svg (accuracy vs time per page), and the
README's Benchmark section between its marker comments; raw per-image figures go to bench/out/.
"""
