"""The web app (web/index.html, app.js, view.js, inputs.js) end to end in headless Chromium.

Two pages are booted per run (a boot costs seconds on this machine's busy cores):
  - `app`: the contract-shaped tiny models of tools/contract_models.py, routed in for
    models/*.onnx, so every UI path is tested with or without trained weights: drop, paste, picker,
    a queue of 5, copy-all, downloads, bad files, a crashed worker, the CSP, the origin, the console;
    its results are compared with CPython's pipeline on the same models.
  - `real`: the models in web/models (skipped, saying so, when there are none): a SROIE receipt and a
    FUNSD form, compared with `python -m localocr.cli IMAGE --format json`.
A third, short one checks the message when the server has no models.
Screenshots go to test-artifacts/screenshots/ (empty, loading, result, error, narrow, dark).
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tools.browser import poll, route_models, serving, wait_ready, worker_exec

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
SHOTS = ROOT / "test-artifacts" / "screenshots"
DATA = ROOT.parent / "shared" / "data"
RECEIPT = DATA / "sroie_train" / "images" / "001.jpg"
FORM = DATA / "funsd_train" / "images" / "0000971160.png"

# Boxes drawn must match CPython's within this many pixels (the tolerance).
BOX_TOLERANCE = 1.0


# ---------------------------------------------------------------- helpers


def synthetic_png(lines) -> bytes:
    from pipeline_fakes import page_with_words

    im, _ = page_with_words(size=(420, 60 + 50 * len(lines)), lines=lines)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


# Five distinct pages (rows of bar-"words" the tiny models read as runs of "x").
PAGES = [
    synthetic_png(tuple((20, 30 + 50 * k, sizes) for k, sizes in enumerate(rows)))
    for rows in (((5, 3), (2,)), ((4,), (3, 3), (1,)), ((6,),), ((2, 2, 2), (4, 1)), ((3,), (5,), (2, 4)))
]


def files_arg(files):
    return [{"name": n, "type": t, "b64": base64.b64encode(b).decode()} for n, t, b in files]


DROP_JS = """([files, kind]) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))],
                                                 f.name, { type: f.type }));
    if (kind === "paste") {
        document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
    } else {
        const target = document.getElementById("drop");
        for (const type of ["dragenter", "dragover", "drop"])
            target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
}"""


def add_files(page, files, kind="drop"):
    page.evaluate(DROP_JS, [files_arg(files), kind])


def settled(page, count, timeout=180):
    """Wait until `count` items exist and none is queued or being read; returns their states."""
    poll(
        page,
        f"""(() => {{ const it = localocrApp.items;
        return it.length === {count} && it.every((i) => i.state === 'done' || i.state === 'error')
            && !document.querySelector('#result[data-state=reading]'); }})()""",
        timeout,
    )
    # the last result is drawn after its state changes: wait for the draw too
    poll(
        page,
        "localocrApp.items.filter((i) => i.state === 'done').every((i) => i.drawMs !== undefined "
        "|| i.id !== localocrApp.state.selected)",
        timeout,
    )
    return page.evaluate("localocrApp.items.map((i) => [i.name, i.state, i.code || null, i.error])")


def shown(page, index):
    """What the app shows for item `index` (selected first): panel text, drawn quads, the page JSON."""
    page.evaluate("(i) => localocrApp.select(localocrApp.items[i].id)", index)
    poll(page, f"localocrApp.items[{index}].drawMs !== undefined")
    return page.evaluate("""() => ({
        text: document.getElementById('text').innerText,
        lines: Array.from(document.querySelectorAll('#overlay polygon.line'), (p) => p.getAttribute('points')),
        words: Array.from(document.querySelectorAll('#overlay polygon.word'), (p) => p.getAttribute('points')),
        layer: Array.from(document.querySelectorAll('#textlayer .tl-line'), (d) => d.textContent),
        page: localocrApp.items.find((i) => i.id === localocrApp.state.selected).page,
    })""")


def points(attr):
    return [[float(v) for v in p.split(",")] for p in attr.split()]


def assert_same_result(got, expected: dict):
    """Shown text == expected text word for word; every drawn quad within BOX_TOLERANCE px."""
    exp_lines = [ln for b in expected["blocks"] for ln in b["lines"]]
    assert got["text"].split() == expected["text"].split()
    assert got["text"].strip() == expected["text"].strip()
    assert got["layer"] == [ln["text"] for ln in exp_lines]
    assert len(got["lines"]) == len(exp_lines)
    for attr, ln in zip(got["lines"], exp_lines):
        assert max(abs(a - b) for p, q in zip(points(attr), ln["quad"]) for a, b in zip(p, q)) <= BOX_TOLERANCE
    exp_words = [w for ln in exp_lines for w in ln["words"]]
    assert len(got["words"]) == len(exp_words)
    for attr, w in zip(got["words"], exp_words):
        assert max(abs(a - b) for p, q in zip(points(attr), w["quad"]) for a, b in zip(p, q)) <= BOX_TOLERANCE
    assert (got["page"]["width"], got["page"]["height"]) == (expected["width"], expected["height"])


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


class Booted:
    def __init__(self, base, server, context, page, requests, console):
        self.base, self.server, self.context, self.page = base, server, context, page
        self.requests, self.console = requests, console


def boot(browser, base, server, models=None, loading_shot=None):
    """A fresh context (empty cache: a first visit) on the app. models: {name: bytes} routed for
    models/<name> (a name missing from it answers 404), or None for the server's own files."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base.rstrip("/"))
    requests: list[str] = []

    def record(route):
        requests.append(route.request.url)
        route.continue_()

    context.route("**/*", record)
    if models is not None:
        route_models(context, models, requests)  # registered last: matched first
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: m.type == "error" and console.append(m.text))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    page.goto(base)
    if loading_shot:
        poll(page, "!document.getElementById('download').hidden || document.documentElement.dataset.ready")
        shot(page, loading_shot)
    wait_ready(page)
    return Booted(base, server, context, page, requests, console)


def contract_models():
    from tools.contract_models import detector_bytes, recognizer_bytes

    det, rec = detector_bytes(), recognizer_bytes()
    return {"detector.int8.onnx": det, "recognizer.int8.onnx": rec}


def cpython_contract(data: bytes) -> dict:
    from localocr import OCR
    from localocr.backends.onnxruntime import OnnxRuntimeBackend

    m = contract_models()
    page = OCR(m["detector.int8.onnx"], m["recognizer.int8.onnx"], OnnxRuntimeBackend(threads=1)).read(data)
    return page


@pytest.fixture(scope="module")
def app(browser):
    with serving(WEB, isolation=True) as (base, server):
        booted = boot(browser, base, server, models=contract_models(), loading_shot="loading")
        assert poll(booted.page, "document.documentElement.dataset.models") == "ready", booted.page.text_content(
            "#status-text"
        )
        shot(booted.page, "empty")
        yield booted
        booted.context.close()


# ---------------------------------------------------------------- the app with contract models


def test_drop_shows_what_cpython_reads(app):
    page = app.page
    add_files(page, [("page-1.png", "image/png", PAGES[0])])
    assert settled(page, 1) == [["page-1.png", "done", None, None]]
    got = shown(page, 0)
    expected = cpython_contract(PAGES[0])
    assert expected.text and "x" in expected.text
    assert_same_result(got, expected.to_dict())
    assert page.get_attribute("#result", "data-state") == "done"
    assert "WASM" in page.text_content("#result-meta")
    shot(page, "result-contract")


def test_hover_highlights_line_in_picture_and_panel(app):
    page = app.page
    page.hover("#textlayer .tl-line[data-line='1']")
    assert page.evaluate("document.querySelector('#text .line[data-line=\"1\"]').classList.contains('hl')")
    assert page.evaluate("document.querySelector('#overlay polygon.line[data-line=\"1\"]').classList.contains('hl')")
    page.hover("#text .line[data-line='0']")
    assert page.evaluate("document.querySelector('#overlay polygon.line[data-line=\"0\"]').classList.contains('hl')")
    assert page.evaluate("!document.querySelector('#overlay polygon.line[data-line=\"1\"]').classList.contains('hl')")


def test_text_layer_is_selectable_on_the_picture(app):
    page = app.page
    text = page.evaluate("""() => {
        const sel = getSelection();
        sel.selectAllChildren(document.getElementById('textlayer'));
        const s = sel.toString();
        sel.removeAllRanges();
        return s;
    }""")
    lines = [ln.text for ln in cpython_contract(PAGES[0]).lines]
    assert [s.strip() for s in text.strip().splitlines() if s.strip()] == lines
    # a selection made on the picture covers the words it shows (screenshot: selection.png)
    page.evaluate("getSelection().selectAllChildren(document.getElementById('textlayer'))")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#figure").screenshot(path=str(SHOTS / "selection.png"))
    page.evaluate("getSelection().removeAllRanges()")


def test_copy_all_puts_the_text_on_the_clipboard(app):
    page = app.page
    page.click("#copy")
    assert page.evaluate("navigator.clipboard.readText()") == cpython_contract(PAGES[0]).text


def test_downloads_are_the_python_renderers_output(app):
    page = app.page
    expected = cpython_contract(PAGES[0])
    got = {}
    for button, ext in (("#dl-txt", "txt"), ("#dl-json", "json"), ("#dl-hocr", "hocr")):
        with page.expect_download() as info:
            page.click(button)
        dl = info.value
        assert dl.suggested_filename == f"page-1.{ext}"
        got[ext] = Path(dl.path()).read_text(encoding="utf-8")
    assert got["txt"] == expected.to_text()
    assert got["hocr"] == expected.to_hocr(image_name="page-1.png")
    data = json.loads(got["json"])
    want = expected.to_dict()
    want["fields"] = expected.fields("auto")  # the app reads with fields "auto": as the CLI's --fields auto
    for d in (data, want):
        d.pop("timings")
        d.pop("backend")
        d.pop("backend_detail")
    assert data == want


def test_paste_and_the_keyboard_file_picker(app):
    page = app.page
    add_files(page, [("image.png", "image/png", PAGES[1])], kind="paste")
    settled(page, 2)
    assert page.evaluate("localocrApp.items[1].name").startswith("pasted-")
    assert_same_result(shown(page, 1), cpython_contract(PAGES[1]).to_dict())
    with page.expect_file_chooser() as chooser:
        page.locator("#drop").press("Enter")  # focuses the drop zone, then Enter
    chooser.value.set_files([{"name": "picked.png", "mimeType": "image/png", "buffer": PAGES[2]}])
    settled(page, 3)
    assert_same_result(shown(page, 2), cpython_contract(PAGES[2]).to_dict())


def test_a_queue_of_five(app):
    page = app.page
    n0 = page.evaluate("localocrApp.items.length")
    add_files(page, [(f"q{i}.png", "image/png", data) for i, data in enumerate(PAGES)])
    # while it runs, the queue shows every item's own state
    states = page.evaluate("Array.from(document.querySelectorAll('#queue .item'), (li) => li.dataset.state)")
    assert len(states) == n0 + 5 and "queued" in states, states
    result = settled(page, n0 + 5)
    assert [r[1] for r in result[n0:]] == ["done"] * 5, result
    for i, data in enumerate(PAGES):
        assert_same_result(shown(page, n0 + i), cpython_contract(data).to_dict())
    assert page.evaluate(f"localocrApp.items[{n0}].times.result > 0")


def test_bad_files_show_errors_and_the_next_image_still_works(app):
    page = app.page
    n0 = page.evaluate("localocrApp.items.length")
    jpeg = io.BytesIO()
    Image.open(io.BytesIO(PAGES[3])).convert("RGB").save(jpeg, "JPEG", quality=90)
    truncated = jpeg.getvalue()[: len(jpeg.getvalue()) // 2]
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    add_files(
        page,
        [
            ("scan.pdf", "application/pdf", pdf),
            ("empty.png", "image/png", b""),
            ("cut.jpg", "image/jpeg", truncated),
            ("good.png", "image/png", PAGES[3]),
        ],
    )
    result = settled(page, n0 + 4)[n0:]
    assert [r[1:3] for r in result] == [
        ["error", "bad_pdf"],
        ["error", "empty"],
        ["error", "truncated"],
        ["done", None],
    ], result
    assert "PDF" in result[0][3] and "empty" in result[1][3] and "truncated" in result[2][3]
    # the error is next to its image, and the earlier results are still there
    page.evaluate(f"localocrApp.select(localocrApp.items[{n0}].id)")
    poll(page, "!document.getElementById('result-error').hidden")
    assert "PDF" in page.text_content("#result-error")
    assert "PDF" in page.text_content(f"#queue .item:nth-child({n0 + 1}) .item-state")
    shot(page, "error")
    assert_same_result(shown(page, 0), cpython_contract(PAGES[0]).to_dict())
    assert_same_result(shown(page, n0 + 3), cpython_contract(PAGES[3]).to_dict())


def test_narrow_screen_and_dark_theme(app):
    page = app.page
    page.set_viewport_size({"width": 360, "height": 780})
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.click("#about summary")
        threads = page.evaluate("localocr.ready.then((i) => i.threads)")
        assert f"WASM, {threads} thread" in page.text_content("#runtime-info")
        shot(page, "narrow-360")
        page.emulate_media(color_scheme="dark")
        bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert bg == "rgb(17, 19, 21)", bg
        # the drop zone eases its colours (0.15 s): wait for the dark surface before the screenshot
        poll(page, "getComputedStyle(document.getElementById('drop')).backgroundColor === 'rgb(27, 30, 34)'", 5)
        shot(page, "dark-narrow")
    finally:
        page.emulate_media(color_scheme="light")
        page.set_viewport_size({"width": 1280, "height": 900})


def test_no_foreign_request_no_console_error_no_csp_violation(app):
    foreign = [u for u in app.requests if not u.startswith(app.base)]
    assert foreign == []
    # the models boot.json names, and no probing for others (a 404 offline is a failed request)
    boot = json.loads((WEB / "boot.json").read_text())
    for path in boot["models"].values():
        assert any(u.endswith("/" + path) for u in app.requests), path
    assert not any(u.endswith("/models/detector.int8.onnx") for u in app.requests)
    assert app.console == []
    assert app.server.handler_class.csp_reports == []


def test_a_crashed_worker_is_shown_and_restarted(app):
    page = app.page
    n0 = page.evaluate("localocrApp.items.length")
    # The next detector run starts a timer whose callback raises outside any call: the worker dies
    # (as it would on an out-of-memory abort) while that image is being read.
    worker_exec(
        page,
        """
import asyncio
from js import setTimeout
from pyodide.ffi import create_once_callable
_session = _ocr.detector.session
_run = _session.run_async
async def _dying(feeds):
    def boom():
        raise RuntimeError("boom")
    setTimeout(create_once_callable(boom), 10)
    await asyncio.sleep(30)
    return await _run(feeds)
_session.run_async = _dying
1""",
    )
    add_files(page, [("doomed.png", "image/png", PAGES[4])])
    assert settled(page, n0 + 1)[n0][1:3] == ["error", "worker_crashed"]
    assert "restarted" in page.text_content("#result-error")
    add_files(page, [("after.png", "image/png", PAGES[4])])
    assert settled(page, n0 + 2)[n0 + 1][1] == "done"
    assert_same_result(shown(page, n0 + 1), cpython_contract(PAGES[4]).to_dict())


def test_camera_snapshot_joins_the_queue(browser):
    """The live camera (getUserMedia) with Chromium's fake device: the snapshot becomes a queued JPEG."""
    from tools.browser import CHROMIUM, CHROMIUM_ARGS

    cam = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + ["--use-fake-device-for-media-stream"]
    )
    try:
        with serving(WEB, isolation=True) as (base, server):
            context = cam.new_context()
            context.grant_permissions(["camera"], origin=base.rstrip("/"))
            page = context.new_page()
            page.goto(base)
            poll(page, "typeof localocrApp === 'object'")
            page.click("#camera")
            poll(page, "document.getElementById('camera-video').videoWidth > 0", timeout=60)
            page.click("#camera-snap")
            name = poll(page, "localocrApp.items.length && localocrApp.items[0].name", timeout=30)
            assert name.startswith("camera-") and name.endswith(".jpg")
            assert page.evaluate("localocrApp.items[0].file.type") == "image/jpeg"
            assert page.evaluate("document.getElementById('camera-dialog').open") is False
            context.close()
    finally:
        cam.close()


# ---------------------------------------------------------------- no models on the server


def test_missing_models_say_so(browser):
    with serving(WEB, isolation=False) as (base, server):
        booted = boot(browser, base, server, models={})
        try:
            page = booted.page
            assert poll(page, "document.documentElement.dataset.models") == "error"
            assert "models are missing" in page.text_content("#status-text")
            add_files(page, [("page.png", "image/png", PAGES[0])])
            assert settled(page, 1)[0][1:3] == ["error", "no_model"]
            assert "models are missing" in page.text_content("#result-error")
            shot(page, "error-no-models")
            assert "1:" in page.text_content("#runtime-info") and "not cross-origin isolated" in page.text_content(
                "#runtime-info"
            )
        finally:
            booted.context.close()


# ---------------------------------------------------------------- the trained models

# $LOCALOCR_MODELS (as the CLI reads it) points both sides at another model folder: the page gets
# its files routed in under models/, the CLI subprocess inherits the variable.
MODELS = Path(os.environ.get("LOCALOCR_MODELS") or WEB / "models")


def real_models_present() -> bool:
    return all(any(MODELS.glob(f"{k}*.onnx")) for k in ("detector", "recognizer"))


def routed_models():
    if MODELS.resolve() == (WEB / "models").resolve():
        return None
    return {p.name: p.read_bytes() for p in MODELS.glob("*.onnx")}


def cli_json(path: Path) -> dict:
    """The CLI's page JSON of `path`, read as the app reads it: for its fields ("auto": a receipt's
    field lines read by the accurate tier too)."""
    out = subprocess.run(
        [sys.executable, "-m", "localocr.cli", str(path), "--format", "json", "--fields", "auto"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout)


def dump(name, got, expected):
    if os.environ.get("LOCALOCR_APP_DUMP"):  # a folder: what each side read, for a diff by hand
        Path(os.environ["LOCALOCR_APP_DUMP"], f"{name}.json").write_text(json.dumps({"got": got, "expected": expected}))


needs_models = pytest.mark.skipif(
    not real_models_present(),
    reason=f"no trained models in {MODELS} (detector*.onnx, recognizer*.onnx): the real-image comparison needs them",
)


@pytest.fixture(scope="module")
def real(browser):
    for path in (RECEIPT, FORM):
        if not path.exists():
            pytest.skip(f"{path} is missing (../shared/data)")
    with serving(WEB, isolation=True) as (base, server):
        booted = boot(browser, base, server, models=routed_models())
        assert poll(booted.page, "document.documentElement.dataset.models", timeout=300) == "ready", (
            booted.page.text_content("#status-text")
        )
        yield booted
        assert [u for u in booted.requests if not u.startswith(base)] == []
        assert booted.console == []
        assert server.handler_class.csp_reports == []
        booted.context.close()


@needs_models
def test_real_receipt_and_form_match_the_cli(real):
    """Word for word and boxes within 1 px, for a SROIE receipt (its original colour JPEG) and a FUNSD
    form (a PNG, as scanned). JPEGs are read as their luma channel, which Pyodide's libjpeg 9 and
    CPython's libjpeg-turbo decode to identical pixels (localocr.image)."""
    page = real.page
    files = [(RECEIPT.name, "image/jpeg", RECEIPT.read_bytes()), (FORM.name, "image/png", FORM.read_bytes())]
    n0 = page.evaluate("localocrApp.items.length")
    add_files(page, files)
    assert [r[1] for r in settled(page, n0 + 2, timeout=600)[n0:]] == ["done", "done"]
    for i, (path, shot_name) in enumerate(((RECEIPT, "result-receipt"), (FORM, "result-form"))):
        got = shown(page, n0 + i)
        expected = cli_json(path)
        dump(path.stem, got, expected)
        assert_same_result(got, expected)
        assert got["page"]["text"], "the trained models read nothing"
        shot(page, shot_name)


@needs_models
def test_fields_panel_shows_the_receipt_fields(real):
    """The Fields panel (web/fields.js) shows the receipt's fields as the CLI's --fields computes them,
    outlines a field's boxes on the image when its row is hovered, copies CSV, and switches kind."""
    page = real.page
    n0 = page.evaluate("localocrApp.items.length")
    add_files(page, [(RECEIPT.name, "image/jpeg", RECEIPT.read_bytes())])
    assert settled(page, n0 + 1, timeout=600)[n0][1] == "done"
    shown(page, n0)
    out = subprocess.run(
        [sys.executable, "-m", "localocr.cli", str(RECEIPT), "--format", "json", "--fields", "auto"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    expected = json.loads(out.stdout)["fields"]
    assert expected["kind"] == "receipt" and expected["date"]["value"] == "19/10/2018"
    rows = dict(
        page.evaluate("""() => Array.from(document.querySelectorAll('#fields-body tr'),
        (r) => [r.dataset.field, r.querySelector('.field-value').firstChild.textContent])""")
    )
    for name in ("company", "date", "address", "total"):
        assert rows[name] == (expected[name]["value"] if expected[name] else "not found"), name
    got = page.evaluate("localocrApp.items[localocrApp.items.length - 1].page.fields")
    assert {k: v and v["value"] for k, v in got.items() if k != "kind"} == {
        k: v and v["value"] for k, v in expected.items() if k != "kind"
    }
    page.hover("#fields-body tr[data-field=total]")
    assert page.locator("#overlay .fields polygon.on").count() == len(expected["total"]["quads"]) > 0
    shot(page, "fields-receipt")
    page.click("#fields-csv")
    csv = page.evaluate("navigator.clipboard.readText()")
    assert csv.splitlines()[0] == "field,value,normalized,confidence"
    assert f"total,{expected['total']['value']},{expected['total']['normalized']}," in csv
    page.select_option("#fields-kind", "mrz")
    poll(page, "document.getElementById('fields-summary').textContent.includes('No machine-readable zone')")
    page.select_option("#fields-kind", "auto")
    poll(page, "document.getElementById('fields-summary').textContent.startsWith('Receipt')")
