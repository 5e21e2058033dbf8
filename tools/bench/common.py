"""Shared settings and paths of the side-by-side benchmark (tools/bench/)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
WEB = ROOT / "web"
PEERS = ROOT / "tools" / "bench_peers"
CACHE = ROOT / ".cache" / "bench"
NPM_DIR = CACHE / "npm"
SITE = CACHE / "site"
RESULTS = ROOT / "bench"
README = ROOT / "README.md"
README_START = "<!-- bench:start (written by `make bench`, tools/bench/) -->"
README_END = "<!-- bench:end -->"

TESSDATA_JS = "4.0.0_best_int"  # the data tesseract.js loads for OEM 1 (LSTM only), its default
# A gap between two words of a Tesseract line wider than this many times the line's median word
# height splits the line into segments, the unit of line-level ground truth (SROIE's "TOTAL ....... RM"
# and "60.31" are two regions, as localocr's detector finds them). 1.5: fewest wrong cuts plus wrong
# joins against the ground-truth regions of 36 TRAINING-split pages (SROIE, plates, tapuscorpus; 1.0:
# 623, 1.2: 187, 1.5: 132, 2.0: 128 but twice the wrong joins); never tuned on validation pages.
SEGMENT_GAP = 1.5

# The 20 browser/CPython speed images: the first of each validation split, sorted by name.
SPEED_IMAGES = {"sroie_train": 7, "funsd_train": 7, "ic15_train": 6}
BROWSER_READS = 50  # reads per engine in the warm page (the 20 images cycled): heap after 50
COLD_ROUNDS = 3  # cold + warm starts per engine (medians of 3)
CPYTHON_ROUNDS = 3  # reads of each speed image per engine on CPython (median)
