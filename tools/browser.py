"""Helpers shared by the browser tests (tests/browser) and tools/bench_runtime.py: serve.py's server
in a thread, headless Debian Chromium through Playwright, and polling that works under a strict CSP."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# As the probe of this machine kind runs it: no background connections (the network is closed, and
# they would be requests to other origins), no first-run or sync, no QUIC.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@contextlib.contextmanager
def serving(directory: Path, isolation: bool = True, policy: dict | None = None):
    """Run serve.py's server on a free loopback port; yields (base URL, server)."""
    import serve

    server = serve.make_server("127.0.0.1", 0, directory, isolation=isolation, policy=policy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", server
    finally:
        server.shutdown()
        server.server_close()


def _alive(worker) -> bool:
    """False for a worker that is gone: Playwright lists a terminated worker until its close event
    arrives, a little after a fresh one can already have started (a crashed worker's replacement)."""
    from playwright.sync_api import Error

    try:
        worker.evaluate("1")
        return True
    except Error:
        return False


def worker_exec(page, code: str, which: int = 0):
    """Run Python in one of the page's localocr workers (`which`: in the order they started) and
    return its last value: through `self.localocrDiagnostics` in the worker's own global scope,
    which Playwright (like devtools) reaches and page scripts cannot."""
    workers = [w for w in page.workers if w.url.split("?")[0].endswith("/worker.js") and _alive(w)]
    if not workers:
        raise RuntimeError("the page has no localocr worker")
    return workers[which].evaluate("(code) => self.localocrDiagnostics.exec(code)", code)


@contextlib.contextmanager
def chromium():
    """A headless Chromium (Debian's, never a downloaded one) with a fresh profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def poll(page, expression: str, timeout: float = 120.0, interval: float = 0.1):
    """Evaluate `expression` until it is truthy; return its value. (page.wait_for_function evaluates
    a string with eval, which the app's CSP forbids; page.evaluate does not.)"""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{expression!r} still falsy after {timeout} s")
        time.sleep(interval)


def open_app(browser, base: str, requests: list | None = None):
    """A new page on the app; every request URL is appended to `requests` (workers included:
    context-level routing sees the worker's fetches too). Returns (context, page)."""
    # No service worker here: these pages test the runtime and the app, not the offline cache
    # (tests/browser/test_pwa_embed.py does), and a worker-served page would hide requests from routing.
    context = browser.new_context(service_workers="block")
    if requests is not None:
        record_requests(context, requests)
    page = context.new_page()
    page.goto(base)
    return context, page


def record_requests(context, requests: list) -> list:
    """Append the URL of every request of `context` (its workers' too) to `requests`; returns it.
    A catch-all route: register more specific routes after it (the last registered is matched first)."""

    def record(route):
        requests.append(route.request.url)
        route.continue_()

    context.route("**/*", record)
    return requests


def wait_ready(page, timeout: float = 180.0) -> dict:
    state = poll(page, "document.documentElement.dataset.ready", timeout)
    if state != "true":
        raise RuntimeError(f"app did not start: {page.text_content('#status-text')}")
    return page.evaluate("localocr.ready")


def route_models(context, models: dict, requests: list | None = None):
    """Serve models/<name>.onnx from `models` ({file name: bytes}; other names answer 404) to every
    page of `context`, as if they were in web/models; each such URL is appended to `requests`.
    Register it after any catch-all route: Playwright matches the route registered last first."""

    def handle(route):
        if requests is not None:
            requests.append(route.request.url)
        name = route.request.url.rsplit("/", 1)[1]
        # boot.json names the file of each kind that web/models holds (detector.onnx, say): the routed
        # model of that kind answers for it, whatever its own name (detector.int8.onnx)
        kind = name.split(".", 1)[0]
        body = models.get(name, next((b for n, b in models.items() if n.split(".", 1)[0] == kind), None))
        if body is None:
            route.fulfill(status=404, body=b"not found")
        else:
            route.fulfill(
                body=body,
                content_type="application/octet-stream",
                headers={"Cross-Origin-Resource-Policy": "same-origin"},
            )

    context.route("**/models/*.onnx", handle)
