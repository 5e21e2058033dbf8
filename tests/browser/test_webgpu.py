"""Backend choice in headless Chromium: WebGPU only on a real adapter, WASM otherwise, and why.

Chromium here (`--enable-unsafe-webgpu`, no GPU) offers only SwiftShader, a software ("fallback")
WebGPU adapter that runs these models ~500x slower than WASM. So:
  - the app must NOT choose it: it runs WASM, says why in "Know what ran", and never downloads the
    WebGPU build of onnxruntime-web (vendor/ort-webgpu/);
  - the WebGPU code path itself is tested on the tiny contract models, with the test-only option
    `allowSoftwareWebGPU`: same text and boxes as CPython, and a WebGPU failure mid-page falls back
    to WASM for that image with the reason in the result.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from tools.browser import CHROMIUM, CHROMIUM_ARGS, poll, route_models, serving, wait_ready, worker_exec

WEB = Path(__file__).resolve().parents[2] / "web"

# The contract models' results must match CPython's within this many pixels (the app's tolerance).
BOX_TOLERANCE = 1.0


def contract_models() -> dict:
    from tools.contract_models import detector_bytes, recognizer_bytes

    return {"detector.int8.onnx": detector_bytes(), "recognizer.int8.onnx": recognizer_bytes()}


def page_png() -> bytes:
    from pipeline_fakes import page_with_words

    im, _ = page_with_words(size=(420, 160), lines=((20, 30, (5, 3)), (20, 90, (2, 4))))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def cpython_page(data: bytes) -> dict:
    from localocr import OCR
    from localocr.backends.onnxruntime import OnnxRuntimeBackend

    m = contract_models()
    return OCR(m["detector.int8.onnx"], m["recognizer.int8.onnx"], OnnxRuntimeBackend(threads=1)).read(data).to_dict()


def assert_same(got: dict, expected: dict):
    assert got["text"] == expected["text"] and got["text"]
    lines = lambda p: [ln for b in p["blocks"] for ln in b["lines"]]
    words = lambda p: [w for ln in lines(p) for w in ln["words"]]
    for a, b in ((lines(got), lines(expected)), (words(got), words(expected))):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert x["text"] == y["text"]
            assert max(abs(u - v) for p, q in zip(x["quad"], y["quad"]) for u, v in zip(p, q)) <= BOX_TOLERANCE


@pytest.fixture(scope="module")
def gpu_page(browser):
    """The app in a Chromium with WebGPU enabled (software adapter only), contract models routed in."""
    gpu = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + ["--enable-unsafe-webgpu"]
    )
    models = contract_models()
    try:
        with serving(WEB, isolation=True) as (base, server):
            context = gpu.new_context(service_workers="block")
            requests: list[str] = []

            def record(route):
                requests.append(route.request.url)
                route.continue_()

            context.route("**/*", record)
            route_models(context, models, requests)
            page = context.new_page()
            console: list[str] = []
            page.on("console", lambda m: m.type == "error" and console.append(m.text))
            page.goto(base)
            info = wait_ready(page)
            assert poll(page, "document.documentElement.dataset.models") == "ready"
            yield page, info, requests, console
            context.close()
    finally:
        gpu.close()


def test_a_software_adapter_is_not_chosen_and_the_reason_is_shown(gpu_page):
    page, info, requests, _ = gpu_page
    # the adapter exists (so the flag took effect) and is a fallback one
    adapter = page.evaluate("""async () => { const a = await navigator.gpu.requestAdapter();
        return a && { fallback: a.info ? a.info.isFallbackAdapter : a.isFallbackAdapter }; }""")
    assert adapter == {"fallback": True}, adapter
    assert info["backend"] == "wasm"
    assert "software adapter" in info["backendWhy"], info["backendWhy"]
    page.click("#about summary")
    shown = page.text_content("#runtime-info")
    assert "not used: WebGPU offers only a software adapter" in shown, shown
    assert "WASM" in shown
    assert not any("/ort-webgpu/" in u for u in requests), "the WebGPU build was downloaded for WASM"


def test_wasm_app_reads_and_says_what_ran(gpu_page):
    page, _, _, _ = gpu_page
    data = page_png()
    got = page.evaluate(
        "async (b64) => localocr.read(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)))",
        base64.b64encode(data).decode(),
    )
    assert got["backend"] == "wasm" and "software adapter" in got["backend_detail"]
    assert_same(got, cpython_page(data))


GPU_START_JS = """async () => {
    const { createOCR } = await import("./localocr.js");
    const ocr = globalThis.gpuOCR ||= createOCR({ backend: "webgpu", allowSoftwareWebGPU: true });
    await ocr.prepare();
    return ocr.ready;
}"""

GPU_READ_JS = """async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return { info: await globalThis.gpuOCR.ready, page: await globalThis.gpuOCR.read(bytes) };
}"""


def gpu_read(page, b64, patch=None):
    page.evaluate(GPU_START_JS)
    if patch:
        worker_exec(page, patch, which=-1)  # the WebGPU instance's worker: the last one started
    return page.evaluate(GPU_READ_JS, b64)


# Makes the detector's WebGPU session fail its next run (as a lost device would).
FAIL_WEBGPU = """
from pyodide.ffi import create_proxy
def _boom(*args):
    raise RuntimeError("injected WebGPU failure")
_ocr.detector.session._js.gpu.run = create_proxy(_boom)
1
"""


def test_webgpu_path_reads_as_cpython_and_falls_back_to_wasm(gpu_page):
    page, _, requests, console = gpu_page
    data = page_png()
    expected = cpython_page(data)
    b64 = base64.b64encode(data).decode()
    got = gpu_read(page, b64)
    assert got["info"]["backend"] == "webgpu", got["info"]
    assert got["page"]["backend"] == "webgpu"
    assert_same(got["page"], expected)
    assert any(u.endswith("/vendor/ort-webgpu/ort-wasm-simd-threaded.asyncify.wasm") for u in requests)

    got = gpu_read(page, b64, FAIL_WEBGPU)
    assert got["page"]["backend"] == "wasm"
    detail = got["page"]["backend_detail"]
    assert "WebGPU failed" in detail and "injected WebGPU failure" in detail and "WASM took over" in detail, detail
    assert_same(got["page"], expected)
    assert console == []


def test_webgpu_requested_without_a_real_adapter_fails_clearly(gpu_page):
    page, _, _, _ = gpu_page
    err = page.evaluate("""async () => {
        const { createOCR } = await import("./localocr.js");
        const ocr = createOCR({ backend: "webgpu" });
        try { await ocr.ready; return null; } catch (e) { return [e.message, e.code]; } finally { ocr.terminate(); }
    }""")
    assert err is not None and "software adapter" in err[0] and err[1] == "no_backend", err
