# localocr: the two commands of the README, and the steps they are made of.
#   make run    virtualenv + app packages + browser runtime (fetched, verified), then serve :8000
#   make test   as run, plus Chromium, fonts, training/dev/ray packages, then every test
# Re-running either is fast: each step is skipped while its inputs are unchanged (stamps).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
SERVE_FLAGS ?=
# apt-get needs root; as another user, go through sudo.
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Fonts the synthetic-data generators of the training helpers draw text with (Debian packages).
FONT_PACKAGES := fonts-noto-core fonts-noto-mono fonts-liberation2 fonts-liberation fonts-urw-base35 \
  fonts-freefont-ttf fonts-crosextra-carlito fonts-crosextra-caladea fonts-roboto fonts-open-sans \
  wamerican wbritish fonts-ocr-b fonts-dejavu-extra fonts-inconsolata fonts-firacode

# (defined before setup-test names it: make expands a rule's prerequisites as it reads the rule)
A11Y_NPM := tests/a11y/node_modules/.package-lock.json
TYPES_NPM := tests/types/node_modules/.package-lock.json

PACKAGE_SOURCES := $(shell find py/localocr -name '*.py' 2>/dev/null)

.PHONY: run test setup setup-test runtime chromium fonts poppler bench-runtime site fuzz

run: setup
	$(PY) serve.py --host $(HOST) --port $(PORT) $(SERVE_FLAGS)

test: setup-test
	$(PY) -m pytest

setup: $(VENV)/.stamp-run runtime

# Byte-level fuzzing of the image decoding (tests/test_fuzz.py) with any number of random examples;
# `make test` runs a fixed 300.
FUZZ_EXAMPLES ?= 5000
fuzz: setup-test
	LOCALOCR_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/test_fuzz.py -q -p no:warnings

setup-test: setup chromium fonts poppler $(VENV)/.stamp-test $(A11Y_NPM) $(TYPES_NPM)

# The app needs only numpy, Pillow and onnxruntime (pyproject's dependencies); brotli compresses the
# runtime for the wire once, at set-up.
$(VENV)/.stamp-run: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e . brotli
	touch $@

# torch first, pinned: this machine carries the 2.13.0 CPU wheel; an unpinned torch (pulled by an
# extra) would download a multi-GB CUDA build.
$(VENV)/.stamp-test: pyproject.toml $(VENV)/.stamp-run
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[train,dev,ray]'
	touch $@

# Fetch (once, into .cache/runtime) and verify the browser runtime, lay it out in web/vendor/;
# also the models' .br/.gz siblings (web/models/*.onnx.br, git-ignored).
runtime: web/vendor/runtime.json
web/vendor/runtime.json: tools/runtime.json tools/runtime.py tools/repack.py $(PACKAGE_SOURCES) $(wildcard web/models/*.onnx) $(VENV)/.stamp-run
	$(PY) -m tools.runtime install
	touch $@

# axe-core for the accessibility browser tests (tests/browser/test_a11y.py), from npm, pinned by
# tests/a11y/package-lock.json (npm ci checks its integrity hash); served by the tests only, never in web/.
$(A11Y_NPM): tests/a11y/package.json tests/a11y/package-lock.json
	@command -v npm >/dev/null || { echo "make test needs npm (Node.js) for axe-core (tests/a11y)"; exit 1; }
	cd tests/a11y && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# TypeScript's compiler for the type tests of web/localocr.d.ts (tests/test_types.py), from npm, pinned
# by tests/types/package-lock.json, as axe-core above; never in web/.
$(TYPES_NPM): tests/types/package.json tests/types/package-lock.json
	@command -v npm >/dev/null || { echo "make test needs npm (Node.js) for typescript (tests/types)"; exit 1; }
	cd tests/types && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
chromium:
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

# pdftotext/pdfinfo: the tests read the searchable PDFs back with poppler.
poppler:
	@test -x /usr/bin/pdftotext || { $(SUDO) apt-get update && $(SUDO) apt-get install -y poppler-utils; }

fonts:
	@dpkg -s $(FONT_PACKAGES) >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y $(FONT_PACKAGES); }

# ---- hosting
# Static site for any host (see README "Hosting"): make site DIR=build/site
DIR ?= build/site
site: setup
	$(PY) serve.py --build $(DIR)

# ---- benchmarks: the runtime and the app in the browser (make bench, below, is the side-by-side one).
# Runtime figures (download size, boot, package load, ORT session, bridge overhead), median of 5.
bench-runtime: setup-test
	$(PY) -m tools.bench_runtime --runs 5

# The app end to end: SROIE receipt + FUNSD form, threads on/off, cold/warm/per image by stage.
.PHONY: bench-app
bench-app: setup-test
	$(PY) -m tools.bench_app --runs 5 --json test-artifacts/bench-app.json

# ---- models: the detector: shards -> training -> export. See web/models/README.md "Detector".
.PHONY: det-data det-train det-export det-gpu-pack
DET_RUN   ?= runs/det
DET_SYNTH ?= 2400
DET_CKPT  ?= $(DET_RUN)/last.pt
# Pre-render synthetic pages and pre-compute real-page DB targets into .cache/det/ (uint8 shards).
det-data: setup-test
	$(PY) -m export.detector.data --real --synth $(DET_SYNTH)
# Train (resumes from $(DET_RUN)/last.pt); one CPU thread, the recognizer trains on the other core.
DET_TRAIN_FLAGS ?= --threads 1 --total-steps 5000
det-train: det-data
	$(PY) -m export.detector.train --run $(DET_RUN) $(DET_TRAIN_FLAGS)
# Re-export the latest checkpoint into web/models (fp32; int8 only if as fast and within 1 point).
det-export: setup-test
	$(PY) -m export.detector.export --ckpt $(DET_CKPT) --out web/models

# ---- models: the recognizer: shards -> training -> export. See web/models/README.md "Recognizer".
.PHONY: rec-data rec-train rec-export
REC_RUN    ?= runs/rec
REC_SHARDS ?= 40
REC_CKPT   ?= $(REC_RUN)/last.pt
# Real crops (train/val split by image) + the synthetic validation shard, then synthetic shards,
# all uint8 under .cache/rec/. Re-running adds synthetic shards after the existing ones.
rec-data: setup-test
	$(PY) -m export.recognizer.data real
	$(PY) -m export.recognizer.data synth --shards $(REC_SHARDS) --per-shard 5000
# Train (resumes from $(REC_RUN)/last.pt); one CPU thread, the detector trains on the other core.
REC_TRAIN_FLAGS ?= --threads 1 --total-steps 12000
rec-train: setup-test
	$(PY) -m export.recognizer.train --run $(REC_RUN) $(REC_TRAIN_FLAGS)
# Re-export the latest checkpoint (REC_CKPT=runs/rec/best.pt: the best validated) into web/models:
# fp32 + int8 (fastest variant within 0.5 CER points of fp32), parity, CER and speed in $(REC_RUN)/export.
REC_EXPORT_FLAGS ?=
rec-export: setup-test
	$(PY) -m export.recognizer.export --ckpt $(REC_CKPT) --out web/models --work $(REC_RUN)/export $(REC_EXPORT_FLAGS)
# What the one-command GPU job (export/recognizer/gpu_job.sh) carries: the real shards, compressed.
.PHONY: rec-gpu-pack
rec-gpu-pack: setup-test
	$(PY) -m export.recognizer.data pack --out .cache/rec-gpu
# What the one-command GPU job (export/detector/gpu_job.sh) carries: real train pages, fonts, words.
det-gpu-pack: setup-test
	$(PY) -m export.detector.data --pack .cache/det_gpu

# ---- models: the accurate recognizer tier: PP-OCRv6 small's backbone (rapidocr 3.10.0 wheel, Apache-2.0)
# + our BiLSTM head. See web/models/README.md "Accurate recognizer tier".
.PHONY: acc-features acc-train acc-export acc-calibrate
ACC_RUN ?= runs/rec48
# Backbone features + teacher log-probabilities of the real crops (train/val by image; IIIT5K all
# test), 2 synthetic shards and the MRZ validation lines, into .cache/rec48/ (~25 min on one core).
# The features are those of the int8-stored backbone the shipped file computes with; the teacher
# reads the fp32 backbone's.
acc-features: setup-test
	$(PY) -m export.pretrained.features real --backbone int8
	$(PY) -m export.pretrained.features synth --shard 0 --count 2 --backbone int8
	$(PY) -m export.pretrained.features mrz-val --backbone int8
acc-train: setup-test
	$(PY) -m export.pretrained.head --run $(ACC_RUN) --epochs 7
# The shipped file (int8-stored weights) + its NOTICE; parity, accuracy and speed in $(ACC_RUN)/export.
ACC_REREAD ?= 0.95
ACC_REREAD_MAX ?= 4
acc-export: setup-test
	$(PY) -m export.pretrained.build --ckpt $(ACC_RUN)/last.pt --out web/models --reread-below $(ACC_REREAD) --reread-max $(ACC_REREAD_MAX)
# e2e F1 and the share of lines read again, per threshold, on validation pages.
acc-calibrate: setup-test
	$(PY) -m export.pretrained.calibrate

# ---- app assets: the offline app's icons. Icons are committed; redraw them with `make icons`.
.PHONY: icons bench-pwa
icons: setup
	$(PY) -m tools.make_icons
# Bytes the service worker caches, and a cached reload (server gone) -> first result, median of 3.
bench-pwa: setup-test
	$(PY) -m tools.bench_pwa --runs 3

# ---- benchmarks: the start-up waterfall: cold and warm start, every fetch and worker step with bytes and
# times, localocr vs tesseract.js (npm, as for make bench), interleaved, median of 3. See tools/bench_startup.py.
.PHONY: bench-startup
bench-startup: setup chromium $(VENV)/.stamp-bench
	@command -v npm >/dev/null || { echo "make bench-startup needs npm (Node.js) for tesseract.js"; exit 1; }
	$(PY) -m tools.bench_startup --runs 3 --json test-artifacts/bench-startup.json

# ---- benchmarks: side by side, localocr vs the Tesseract 5 CLI, tesseract.js and PP-OCRv6 small,
# see tools/bench/. Peers from the registries only: Debian's tesseract (installed when missing), npm's
# tesseract.js pinned by tools/bench_peers/package-lock.json (npm ci, into .cache/bench), PyPI's rapidocr
# (pyproject's `bench` extra, pinned). Writes bench/ and README's section.
.PHONY: bench bench-quick tesseract
TESSERACT_PACKAGES := tesseract-ocr tesseract-ocr-eng
BENCH_FLAGS ?=
bench: setup chromium tesseract $(VENV)/.stamp-bench
	$(PY) -m tools.bench $(BENCH_FLAGS)
# Smoke test of the same steps (a few images; writes bench/out/quick/ only).
bench-quick: setup chromium tesseract $(VENV)/.stamp-bench
	$(PY) -m tools.bench --quick
tesseract:
	@dpkg -s $(TESSERACT_PACKAGES) >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y $(TESSERACT_PACKAGES); }
	@command -v npm >/dev/null || { echo "make bench needs npm (Node.js) for tesseract.js"; exit 1; }
# Playwright (the dev extra) drives Chromium, the bench extra is rapidocr; torch and the training extras
# are not needed here.
$(VENV)/.stamp-bench: pyproject.toml $(VENV)/.stamp-run
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $@

# ---- benchmarks: batch OCR on Ray: images/s of 1 and 2 Ray actors vs the plain CLI, same 200 images.
.PHONY: bench-ray
BENCH_RAY_FLAGS ?=
bench-ray: setup-test
	$(PY) -m tools.bench_ray $(BENCH_RAY_FLAGS)
