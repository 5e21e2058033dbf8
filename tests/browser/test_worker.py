"""The worker runtime end to end in headless Chromium: Pyodide + numpy + Pillow + onnxruntime-web,
from our own origin, under the app's CSP, with and without cross-origin isolation."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper
from PIL import Image, ImageDraw

from tools.browser import worker_exec


def conv_model() -> bytes:
    """A small real conv net: Conv(3->4, 3x3, pad 1) + bias -> Relu -> Conv(4->2, 1x1), dynamic H/W."""
    rng = np.random.default_rng(7)
    w1 = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b1 = rng.standard_normal(4).astype(np.float32)
    w2 = rng.standard_normal((2, 4, 1, 1)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["x", "w1", "b1"], ["h"], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", ["h"], ["r"]),
            helper.make_node("Conv", ["r", "w2"], ["y"]),
        ],
        "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, "H", "W"])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"), numpy_helper.from_array(w2, "w2")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by every onnxruntime(-web) release we pin
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _png_page() -> bytes:
    import io

    im = Image.new("L", (200, 60), 255)
    ImageDraw.Draw(im).text((10, 20), "PENDING", fill=0)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


PNG_PAGE = _png_page()

WORKER_CODE = """
import base64
import json
import numpy as np
from PIL import Image
from localocr.backends.pyodide import PyodideBackend

backend = PyodideBackend()
session = await backend.load_async(base64.b64decode(MODEL), "conv")
pixels = np.frombuffer(base64.b64decode(PIXELS), np.uint8).reshape(SHAPE)
# Through Pillow and back, as the pipeline's images go: proves PIL works in the worker.
rgb = np.asarray(Image.fromarray(pixels, "RGB"), dtype=np.float32) / 255.0
x = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None])
out = await session.run_async({"x": x})
{"y": base64.b64encode(out["y"].tobytes()).decode(), "shape": list(out["y"].shape),
 "dtype": str(out["y"].dtype), "inputs": session.input_names, "outputs": session.output_names,
 "backend": backend.name, "detail": backend.detail, "threads": backend.threads}
"""


def test_conv_model_matches_cpython_onnxruntime(app):
    model = conv_model()
    pixels = np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    code = (
        f"MODEL = {base64.b64encode(model).decode()!r}\nPIXELS = {base64.b64encode(pixels.tobytes()).decode()!r}\n"
        f"SHAPE = {pixels.shape!r}\n" + WORKER_CODE
    )
    got = app.exec(code)
    assert got["inputs"] == ["x"] and got["outputs"] == ["y"]
    assert got["dtype"] == "float32" and got["shape"] == [1, 2, 48, 64]
    y = np.frombuffer(base64.b64decode(got["y"]), np.float32).reshape(got["shape"])
    x = (pixels.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
    expected = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)
    assert got["backend"] == "wasm" and got["threads"] == app.info["threads"]


def test_imports_numpy_and_pillow_of_the_pinned_versions(app):
    assert app.exec("import numpy, PIL; [numpy.__version__, PIL.__version__]") == ["2.0.2", "10.2.0"]
    assert app.info["pyodide"] == "0.27.7"


def test_threads_follow_cross_origin_isolation(app):
    isolated = app.server.handler_class.isolation
    assert app.page.evaluate("crossOriginIsolated") is isolated
    assert app.info["crossOriginIsolated"] is isolated
    # After the model test: onnxruntime-web has started and kept (or lowered) the thread count.
    ort_threads = app.exec("from localocr.backends.pyodide import PyodideBackend\nPyodideBackend().threads")
    assert ort_threads == app.info["threads"]
    if not isolated:
        assert app.info["threads"] == 1, app.info
        return
    # default: half the cores, at least 2 where there are 2, at most 4 (worker.js chooseThreads)
    cores = app.info["hardwareConcurrency"]
    assert app.info["threads"] == (max(2, min(-(-cores // 2), 4)) if cores >= 2 else 1), app.info
    # a requested count is honoured when isolated: onnxruntime-web starts and keeps that many
    app.page.evaluate(
        """async (cores) => {
        const { createOCR } = await import("./localocr.js");
        globalThis.__threadsOCR = createOCR({ numThreads: cores });
        await globalThis.__threadsOCR.prepare();
    }""",
        cores,
    )
    try:
        got = worker_exec(
            app.page,
            "await _ocr.detector.session.ready()\n"
            "from localocr.backends.pyodide import PyodideBackend\nPyodideBackend().threads",
            which=-1,
        )
    finally:
        app.page.evaluate("globalThis.__threadsOCR.terminate()")
    assert got == cores


def test_every_request_goes_to_the_own_origin(app):
    # After the model test, so that onnxruntime-web's wasm (fetched at first session) is included.
    app.exec("1")
    assert any(u.endswith("/ort-wasm-simd-threaded.wasm") for u in app.requests), app.requests
    assert any(u.endswith(".whl") for u in app.requests)
    foreign = [u for u in app.requests if not u.startswith(app.base)]
    assert foreign == [], foreign


def test_no_csp_violation(app):
    # The server sends `report-uri /csp-report`; Chromium posts any violation there (worker included).
    app.page.evaluate("fetch('/csp-report').then(r => r.ok)")
    assert app.server.handler_class.csp_reports == []
    # A control: an inline script must be refused and reported, or the check above proves nothing.
    # It runs on a fresh page of its own, so that no state of the long-lived app page is involved.
    if app.server.handler_class.isolation:
        from tools.browser import open_app

        context, page = open_app(app.page.context.browser, app.base + "?csp-control")
        try:
            # Trusted Types refuse the script text itself (a TypeError and a report); script-src
            # would refuse the inline script next
            seen = page.evaluate("""() => new Promise((resolve) => {
                document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), {once: true});
                const s = document.createElement('script');
                try { s.textContent = 'window.__inline = ' + Date.now(); } catch (e) { /* refused */ }
                document.body.append(s);
            })""")
            assert seen == "require-trusted-types-for", seen
            reports = poll_reports(app.server, timeout=60)  # Chromium may send reports late on a loaded machine
            assert any("require-trusted-types-for" in str(r) for r in reports), reports
            assert page.evaluate("window.__inline === undefined")
        finally:
            app.server.handler_class.csp_reports.clear()
            context.close()


def poll_reports(server, timeout: float = 10.0):
    import time

    deadline = time.monotonic() + timeout
    while not server.handler_class.csp_reports and time.monotonic() < deadline:
        time.sleep(0.1)
    return list(server.handler_class.csp_reports)


def test_worker_crash_rejects_pending_calls_and_restarts(app):
    if not app.server.handler_class.isolation:
        return  # one mode is enough: the crash path does not depend on isolation
    page = app.page
    # a read left pending (its detector run never returns), then an error raised outside any call
    page.evaluate("localocr.prepare()")
    worker_exec(
        page,
        "import asyncio\n_s = _ocr.detector.session\n_r = _s.run_async\n"
        "async def _never(feeds):\n    await asyncio.sleep(120)\n_s.run_async = _never\n1",
    )
    page.evaluate(
        """(b64) => {
        window.__pending = localocr.read(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)))
            .then(() => 'resolved', (e) => e.code);
    }""",
        base64.b64encode(PNG_PAGE).decode(),
    )
    worker_exec(
        page,
        "from js import setTimeout\nfrom pyodide.ffi import create_once_callable\n"
        "def boom():\n    raise RuntimeError('boom')\nsetTimeout(create_once_callable(boom), 10)\n1",
    )
    assert page.evaluate("window.__pending") == "worker_crashed"
    # The next call starts a fresh worker.
    page.evaluate("localocr.prepare()")
    assert worker_exec(page, "6 * 7") == 42


def test_csp_without_wasm_unsafe_eval_stops_the_runtime(browser):
    """'wasm-unsafe-eval' is the one relaxation the CSP has: show that it is needed. The browser's own
    compile error (quoted in the status) names the CSP; the violation report that Chromium sends to the
    report-uri is checked too when it arrives, but its delivery from a worker is not guaranteed in time
    (a CI run once closed the page before it came)."""
    import serve
    from tools.browser import open_app, poll, serving

    web = Path(__file__).resolve().parents[2] / "web"

    policy = dict(serve.CSP, **{"script-src": "'self'"})
    with serving(web, policy=policy) as (base, server):
        context, page = open_app(browser, base)
        try:
            assert poll(page, "document.documentElement.dataset.ready", timeout=60) == "error"
            status = page.text_content("#status-text")
            reports = poll_reports(server, timeout=10)
        finally:
            context.close()
    assert "wasm-unsafe-eval" in status
    # Chromium's message: "WebAssembly.compile(): Refused to compile or instantiate WebAssembly module
    # because 'unsafe-eval' is not an allowed source of script in the following Content Security Policy
    # directive: ...".
    assert "Content Security Policy" in status, status
    assert "script-src 'self'" in status, status
    if reports:
        assert any("wasm-eval" in json.dumps(r) for r in reports), reports


def test_read_in_the_worker_gives_the_same_page_as_cpython(app):
    """The app's read path: image bytes -> worker -> localocr.OCR.read_async over onnxruntime-web.
    The models are the tiny contract-shaped graphs of the onnxruntime backend tests."""
    import io

    from localocr import OCR
    from localocr.backends.onnxruntime import OnnxRuntimeBackend
    from pipeline_fakes import page_with_words

    from tools.contract_models import detector_bytes, recognizer_bytes

    models = {"detector": detector_bytes(), "recognizer": recognizer_bytes()}
    app.context.route(
        "**/test-models/*.onnx",
        lambda route: route.fulfill(
            body=models[route.request.url.rsplit("/", 1)[1][:-5]],
            content_type="application/octet-stream",
            headers={"Cross-Origin-Resource-Policy": "same-origin"},
        ),
    )
    im, _ = page_with_words(size=(400, 200), lines=((20, 30, (5,)), (20, 100, (3,))))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    options = {"models": {"detector": "test-models/detector.onnx", "recognizer": "test-models/recognizer.onnx"}}
    page = app.page.evaluate(
        """([b64, options]) => localocr.read(
        Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)), options)""",
        [base64.b64encode(buf.getvalue()).decode(), options],
    )
    expected = OCR(models["detector"], models["recognizer"], OnnxRuntimeBackend(threads=1)).read(buf.getvalue())
    assert page["text"] == expected.text and page["text"]
    # A bad input comes back as localocr's error, with its code, not as a traceback.
    err = app.page.evaluate(
        """(options) => localocr.read(new TextEncoder().encode('just text'), options)
        .then(() => null, (e) => [e.code, e.message])""",
        options,
    )
    assert err[0] == "not_an_image" and "Traceback" not in err[1], err


def test_the_worker_reads_a_generated_page_once_it_is_ready(app):
    """The warm-up (localocr.worker.warm_up, just after "ready"): it ran with the app's models, whole
    (diagnostics' exec waits for it without stopping it), and the first real read after it is a read
    like the others. "ready" no longer waits for it."""
    assert "warmup_read_ms" not in app.info["timings"]
    warm = worker_exec(app.page, "from localocr import worker\nworker.last_warm_up")
    assert warm["words"] > 0 and warm["stopped"] is False and warm["steps_ms"]["detect_run"] > 0, warm
    page = app.page.evaluate(
        """(b64) => localocr.read(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)))""",
        base64.b64encode(JPEGS[0].read_bytes()).decode(),
    )
    assert "TOTAL" in page["text"].upper()


# Real colour JPEGs of ../shared/data: receipts, scene photos, plates, handwritten letters.
JPEGS = [
    Path(__file__).resolve().parents[3] / "shared" / "data" / p
    for p in (
        "sroie_train/images/001.jpg",
        "sroie_train/images/008.jpg",
        "ic15_train/images/img_10.jpg",
        "openalpr_plates/images/eu_eu1.jpg",
        "poilus_hw/images/batch-2__TestamentsDePoilus_will_AN_0092-0.jpg",
    )
]


def test_jpegs_decode_to_the_same_pixels_as_cpython(app):
    """localocr.image reads colour JPEGs as luma: identical bytes in Pyodide (libjpeg 9) and here
    (libjpeg-turbo), where RGB differs (chroma upsampling). The pipeline's browser/CPython text
    equality rests on this."""
    import hashlib

    from localocr.image import load_image

    jpegs = [p for p in JPEGS if p.exists()]
    assert jpegs, "no JPEGs in ../shared/data"
    for path in jpegs:
        data = path.read_bytes()
        got = app.exec(
            f"import base64, hashlib\nfrom localocr.image import load_image\n"
            f"_im = load_image(base64.b64decode({base64.b64encode(data).decode()!r}))\n"
            f"[_im.mode, list(_im.size), hashlib.sha256(_im.tobytes()).hexdigest()]"
        )
        im = load_image(data)
        assert got == [im.mode, list(im.size), hashlib.sha256(im.tobytes()).hexdigest()], path.name


# ---- start-up and memory (issue 17): the worker preloads exactly what boot.json lists, each file
# once; a worker whose WASM heap passed its ceiling is replaced between calls, with no call lost.
def _worker_fetches(app) -> dict:
    from tools.browser import poll

    poll(app.page, "document.documentElement.dataset.models", 180)
    counts: dict = {}
    for entry in app.page.evaluate("localocr.resources()"):
        url = entry["url"].split("?")[0]
        counts[url] = counts.get(url, 0) + 1
    return counts


def test_the_worker_fetches_what_boot_json_lists_each_file_once(app):
    import urllib.request

    plan = json.loads(urllib.request.urlopen(app.base + "boot.json").read())
    fetched = _worker_fetches(app)
    listed = [app.base + p["url"] for p in plan["preload"]]
    listed += [app.base + plan["ort"][app.info["backend"]], *(app.base + m for m in plan["models"].values())]
    for url in listed:
        # once: the preloaded response was handed to the code that asked (else it would be fetched twice)
        assert fetched.get(url) == 1, (url, fetched.get(url))
    # and nothing the first image needs is fetched outside the list (scripts load through import())
    # (other tests here read with models of their own, from test-models/)
    own = (app.base + "vendor/", app.base + "models/")
    unlisted = [u for u in fetched if u.startswith(own) and u not in listed and not u.endswith((".mjs", ".js"))]
    assert unlisted == [], unlisted
    # no probe for a model that is not there: boot.json names the one per kind
    assert not any(u.startswith(own) and u.endswith(".onnx") and u not in listed for u in app.requests)


def test_worker_past_its_heap_ceiling_is_replaced_and_no_read_is_lost(app):
    if not app.server.handler_class.isolation:
        return  # one mode is enough: the recycling is localocr.js's, the same in both
    got = app.page.evaluate("""async () => {
        const { createOCR } = await import("./localocr.js");
        const ocr = createOCR({ heapLimitMB: 1 });       // every call leaves more: replaced after each
        const image = () => {
            const c = new OffscreenCanvas(320, 80);
            const g = c.getContext("2d");
            g.fillStyle = "white"; g.fillRect(0, 0, 320, 80);
            g.fillStyle = "black"; g.font = "32px sans-serif"; g.fillText("HELLO 42", 20, 52);
            return c;
        };
        try {
            // sent together: the second waits in localocr.js while the first worker is replaced
            const pages = await Promise.all([ocr.read(image()), ocr.read(image()), ocr.prepare()]);
            return { texts: pages.slice(0, 2).map((p) => p.text), third: pages[2], after: ocr.memory };
        } finally {
            ocr.terminate();
        }
    }""")
    assert got["third"] is True  # answered by the third worker
    assert got["texts"][0] == got["texts"][1] and got["texts"][0].strip()
    assert got["after"]["restarts"] >= 2 and got["after"]["limitBytes"] == 2**20


def test_heap_limit_option_is_checked(app):
    if not app.server.handler_class.isolation:
        return
    message = app.page.evaluate("""async () => {
        const { createOCR } = await import("./localocr.js");
        try { createOCR({ heapLimitMB: -5 }); return null; } catch (e) { return `${e.name}: ${e.message}`; }
    }""")
    assert message.startswith("TypeError: createOCR: heapLimitMB must be a positive number")
