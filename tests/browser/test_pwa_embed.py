"""The offline PWA and the embeddable component (issue 8), in headless Chromium, on the `serve.py --build`
output served by a plain static server (serve.py's handler): installability, offline reload under
/tools/ocr/, integrity repair, the share target, a clean cache swap on update (and a failed update that
changes nothing), the embed example under its own strict CSP (at the root with isolation, under
/tools/ocr/ without), and the ES module API.

The models are the tiny contract-shaped graphs of tools/contract_models.py, so the expected
text comes from CPython onnxruntime on the same image."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

import serve
from tools import precache
from tools.browser import poll as _poll


def poll(page, expression: str, timeout: float = 120.0):
    """tools.browser.poll that also waits through a reload (evaluate fails while the page navigates)."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            return _poll(page, expression, timeout=max(0.1, deadline - time.monotonic()))
        except Error:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


ROOT = Path(__file__).resolve().parents[2]
SUB = "tools/ocr"  # the sub-path an intranet host mounts the build under


def png(lines) -> bytes:
    from pipeline_fakes import page_with_words

    im, _ = page_with_words(size=(400, 200), lines=lines)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


IMAGES = {"a": ((20, 30, (5,)), (20, 100, (3,))), "b": ((30, 40, (2, 4)),)}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(host root, build dir = root/tools/ocr, {name: (png bytes, expected text)})."""
    from localocr import OCR
    from localocr.backends.onnxruntime import OnnxRuntimeBackend

    from tools.contract_models import detector_bytes, recognizer_bytes

    root = tmp_path_factory.mktemp("host")
    dest = root / SUB
    serve.build_site(dest)
    models = dest / "models"
    shutil.rmtree(models, ignore_errors=True)
    models.mkdir()
    (models / "detector.onnx").write_bytes(detector_bytes())
    (models / "recognizer.onnx").write_bytes(recognizer_bytes())
    precache.write(dest)
    ocr = OCR(detector_bytes(), recognizer_bytes(), OnnxRuntimeBackend(threads=1))
    images = {}
    for name, lines in IMAGES.items():
        data = png(lines)
        images[name] = (data, ocr.read(data).text)
        assert images[name][1], name  # a test on empty text would prove little
    return root, dest, images


class Server:
    """serve.py's handler in a thread, stoppable mid-test (the "server gone" case)."""

    def __init__(self, directory, isolation=True, policy=None, plain=False):
        if plain:  # any static server: Python's own, no security headers, no .br/.gz, no CSP reports
            from functools import partial
            from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

            handler = type("Quiet", (SimpleHTTPRequestHandler,), {"log_message": lambda *a: None, "csp_reports": []})
            self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(directory)))
            self.httpd.handler_class = handler
        else:
            self.httpd = serve.make_server("127.0.0.1", 0, directory, isolation=isolation, policy=policy)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def reports(self):
        return self.httpd.handler_class.csp_reports

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def copy_site(dest: Path, to: Path) -> Path:
    """A private copy of the build whose app files a test may change (the runtime is linked, not copied)."""
    shutil.copytree(dest, to, ignore=shutil.ignore_patterns("vendor"))
    (to / "vendor").symlink_to(dest / "vendor")
    return to


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


READ_JS = """([b64]) => localocr.read(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)))"""
CACHE_KEYS_JS = "caches.keys().then((k) => k.filter((n) => n.startsWith('localocr:')).sort())"


def test_offline_reload_reads_an_image_and_repairs_the_cache(browser, site, tmp_path):
    from tools.browser import CHROMIUM, CHROMIUM_ARGS

    root, dest, images = site
    server = Server(root)  # the app under /tools/ocr/
    base = server.base + SUB + "/"
    # A persistent profile, as an installed app has (an incognito one is never installable).
    context = browser.browser_type.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    context.add_init_script("""addEventListener('localocr:open-files',
        (e) => { window.__opened = e.detail.files.map((f) => `${f.name} ${f.type} ${f.size}`); });""")
    try:
        page = context.new_page()
        page.goto(base)
        assert poll(page, "document.documentElement.dataset.pwa === 'offline-ready'", timeout=240)
        cdp = context.new_cdp_session(page)
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        assert cdp.send("Page.getAppManifest")["errors"] == []
        status = page.evaluate("localocrPWA.status()")
        manifest = precache.manifest(dest)
        assert status["version"] == manifest["version"] and status["files"] == len(manifest["files"])
        assert page.evaluate(CACHE_KEYS_JS) == [f"localocr:/{SUB}/:{manifest['version']}"]
        # Integrity: a damaged entry is dropped and fetched again.
        page.evaluate("""async () => {
            const c = await caches.open((await caches.keys()).find((n) => n.startsWith('localocr:')));
            await c.put(new URL('app.css', location.href).href, new Response('damaged'));
        }""")
        report = page.evaluate("localocrPWA.verify()")
        assert report["dropped"] == ["app.css"] and report["refetched"] == ["app.css"], report
        assert report["missing"] == [] and report["bytes"] == manifest["bytes"], report
        assert page.evaluate("fetch('app.css').then((r) => r.text())") == (dest / "app.css").read_text()
        # Share target: the OS posts the image to share-target; the app opens with it.
        page.evaluate(
            """(b64) => { const form = new FormData();
            form.append('image', new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'shared.png',
                                          {type: 'image/png'}));
            return fetch('share-target', {method: 'POST', body: form}).then((r) => r.ok); }""",
            b64(images["b"][0]),
        )
        page.goto(base + "?source=share-target")
        assert poll(page, "window.__opened && window.__opened.join()") == f"shared.png image/png {len(images['b'][0])}"
        assert page.evaluate(f"caches.open('localocr-inbox:/{SUB}/').then((c) => c.keys()).then((k) => k.length)") == 0

        assert server.reports == []  # the app's CSP: nothing refused (sw.js included)
        server.stop()  # the server is gone
        started = time.monotonic()
        page.reload()
        assert poll(page, "document.documentElement.dataset.ready", timeout=240) == "true"
        booted = time.monotonic()
        got = page.evaluate(READ_JS, [b64(images["a"][0])])
        done = time.monotonic()
        assert got["text"] == images["a"][1]
        assert page.evaluate("crossOriginIsolated") is True  # the cached responses kept COOP/COEP
        print(
            f"\noffline: {manifest['bytes']:,} bytes cached ({len(manifest['files'])} files); cached reload -> "
            f"runtime ready {booted - started:.2f} s, first result {done - started:.2f} s (tiny models)"
        )
    finally:
        context.close()
        server.stop()


def test_update_swaps_caches_cleanly(browser, site, tmp_path):
    _, dest, _ = site
    web = copy_site(dest, tmp_path / "site")
    server = Server(web)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.base)
        assert poll(page, "document.documentElement.dataset.pwa === 'offline-ready'", timeout=240)
        a = page.evaluate("localocrPWA.status()")["version"]
        old_css = (web / "app.css").read_text()

        # Version B: one app file changed.
        (web / "app.css").write_text(old_css + "\n/* version B */\n")
        b = precache.write(web)["version"]
        assert b != a
        page.evaluate("localocrPWA.update()")
        assert poll(page, "document.documentElement.dataset.pwa === 'update-ready'", timeout=120)
        # B is complete beside A, and the page is still served A, whole.
        assert page.evaluate(CACHE_KEYS_JS) == sorted([f"localocr:/:{a}", f"localocr:/:{b}"])
        n = page.evaluate(f"caches.open('localocr:/:{b}').then((c) => c.keys()).then((k) => k.length)")
        assert n == len(precache.manifest(web)["files"])
        assert page.evaluate("fetch('app.css').then((r) => r.text())") == old_css

        page.click(".localocr-update button")  # the prompt: activate B, reload
        assert (
            poll(
                page,
                "document.documentElement.dataset.pwa === 'offline-ready' "
                "&& localocrPWA.status().then((s) => s.version)",
                timeout=120,
            )
            == b
        )
        assert page.evaluate(CACHE_KEYS_JS) == [f"localocr:/:{b}"]
        assert page.evaluate("fetch('app.css').then((r) => r.text())").endswith("/* version B */\n")

        # Version C whose served app.css does not match its manifest: the install fails, B stays
        # whole and alone, and no update is offered.
        manifest = precache.manifest(web)
        for f in manifest["files"]:
            if f["url"] == "app.css":
                f["sha256"] = "0" * 64
        manifest["version"] += "-c"
        (web / "precache.js").write_text(f"self.LOCALOCR_PRECACHE = {json.dumps(manifest)};\n")
        page.evaluate("localocrPWA.update().catch(() => null)")
        assert poll(page, "document.documentElement.dataset.pwaUpdate", timeout=120) == "failed"
        assert page.evaluate("!localocrPWA.registration.installing && !localocrPWA.registration.waiting")
        assert page.evaluate(CACHE_KEYS_JS) == [f"localocr:/:{b}"]
        assert page.evaluate("document.documentElement.dataset.pwa") == "offline-ready"
        assert server.reports == []
    finally:
        context.close()
        server.stop()


def embed_policy(dest: Path) -> dict:
    """The CSP of embed-example.html's meta tag, as directives (sent as a header too, for reports)."""
    meta = re.search(
        r'http-equiv="Content-Security-Policy" content="([^"]+)"', (dest / "embed-example.html").read_text()
    )
    return dict(d.strip().split(" ", 1) for d in meta.group(1).split(";"))


COUNT_VIOLATIONS = """window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.mark.parametrize("where", ["root-isolated", "subpath-not-isolated", "subpath-plain-static-server"])
def test_embed_example_under_its_csp(browser, site, where):
    """The page's meta CSP, also sent as a header for every file (worker included) so that the server
    collects reports; the plain server sends no header: the meta tag alone applies to the page."""
    root, dest, images = site
    policy = embed_policy(dest)
    assert (
        policy["default-src"] == "'self'"
        and "'unsafe-inline'" not in str(policy)
        and "'unsafe-eval'" not in str(policy)
    )
    subpath = where.startswith("subpath")
    server = Server(
        root if subpath else dest, isolation=not subpath, policy=policy, plain=where.endswith("plain-static-server")
    )
    base = server.base + (SUB + "/" if subpath else "")
    context = browser.new_context()
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    context.add_init_script(COUNT_VIOLATIONS)
    try:
        page = context.new_page()
        page.goto(base + "embed-example.html")
        data, expected = images["a"]
        page.set_input_files(
            "local-ocr input[type=file]", files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": data}]
        )
        assert poll(page, "document.documentElement.dataset.result", timeout=240) == "ok", page.text_content(
            "#embed-status"
        )
        assert page.input_value("#claim-text") == expected
        assert page.evaluate("crossOriginIsolated") is (not subpath)
        # A file of another type is refused by the element, with an `error` event naming it.
        page.set_input_files(
            "local-ocr input[type=file]", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}]
        )
        assert poll(
            page,
            "document.documentElement.dataset.result === 'error' "
            "&& document.getElementById('embed-status').textContent",
        )
        assert "notes.txt" in page.text_content("#embed-status")

        if where == "subpath-not-isolated":
            es_module_api(page, images)

        assert any(u.endswith("ort-wasm-simd-threaded.wasm") for u in requests), requests  # worker fetches seen
        foreign = [u for u in requests if not u.startswith(server.base)]
        assert foreign == [], foreign
        assert page.evaluate("window.__violations") == []
        time.sleep(1)  # let a late report arrive
        assert server.reports == []
        # Control: the policy is live and violations are seen (else the checks above prove nothing).
        # (Trusted Types refuse the script text itself: a TypeError and a violation)
        page.evaluate("""() => { const s = document.createElement('script');
                                 try { s.textContent = '1'; } catch (e) { /* refused */ }
                                 document.body.append(s); }""")
        assert poll(page, "window.__violations.length", timeout=10)
    finally:
        context.close()
        server.stop()


def es_module_api(page, images):
    """createOCR from the page's origin, two reads at once (a Blob and an ImageBitmap), a bad image,
    options by name only, and terminate() ending the worker."""
    (a, text_a), (b, text_b) = images["a"], images["b"]
    workers_before = len(page.workers)
    got = page.evaluate(
        """async ([a, b]) => {
        const bytes = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
        const { createOCR } = await import('./localocr.js');
        const errors = {};
        try { createOCR('./'); } catch (e) { errors.positional = e.message; }
        try { createOCR({ bakend: 'wasm' }); } catch (e) { errors.unknown = e.message; }
        const ocr = await createOCR({ backend: 'auto', onProgress: () => {} });
        window.__ocr = ocr;
        const bitmap = await createImageBitmap(new Blob([bytes(b)], { type: 'image/png' }));
        const [pa, pb] = await Promise.all([ocr.read(new Blob([bytes(a)], { type: 'image/png' })), ocr.read(bitmap)]);
        const bad = await ocr.read(new Blob(['just some text'])).then(() => null, (e) => [e.code, e.message]);
        return { a: pa.text, b: pb.text, backend: pa.backend, detail: pa.backend_detail, timings: pa.timings,
                 words: pa.blocks[0].lines[0].words[0], bad, errors };
    }""",
        [b64(a), b64(b)],
    )
    assert got["a"] == text_a and got["b"] == text_b
    assert got["backend"] == "wasm" and "WebGPU" in got["detail"] and got["timings"]["total"] > 0
    assert set(got["words"]) == {"text", "quad", "confidence"}
    assert got["bad"][0] == "not_an_image" and "not an image" in got["bad"][1], got["bad"]
    assert "by name" in got["errors"]["positional"] and '"bakend"' in got["errors"]["unknown"], got["errors"]
    assert len(page.workers) == workers_before + 1
    after = page.evaluate("""async () => { window.__ocr.terminate();
        return window.__ocr.read(new Blob(['x'])).then(() => null, (e) => e.code); }""")
    assert after == "terminated"
    deadline = time.monotonic() + 10
    while len(page.workers) > workers_before and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert len(page.workers) == workers_before  # the worker is gone
