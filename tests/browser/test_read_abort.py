"""read(image, {signal}) and read()'s option checks, in headless Chromium on the app's own instance
(`localocr`, the app's bundled models): an aborted signal rejects with code "aborted" at once; a read
not yet sent is never sent; one in the worker stops at its next stage; the other reads go on and the
worker stays healthy. The worker's pipeline is slowed and watched from Python (tools.browser.worker_exec)."""

from __future__ import annotations

import time

import pytest

from tools.browser import open_app, poll, serving, wait_ready, worker_exec

# An image with a line of text, made in the page (read() encodes a canvas as PNG).
IMAGE = """window.__image = (text = "HELLO 42") => {
    const c = new OffscreenCanvas(320, 80);
    const g = c.getContext("2d");
    g.fillStyle = "white"; g.fillRect(0, 0, 320, 80);
    g.fillStyle = "black"; g.font = "32px sans-serif"; g.fillText(text, 20, 52);
    return c;
}"""

# The worker's pipeline, watched: each read that starts (read_steps), each detector run (slowed by
# _delay seconds) and each recognizer run (slowed by _rdelay), in order, into _log.
WATCH = """
import asyncio
_log = []
_delay = 0.0
_rdelay = 0.0
_orig = (_ocr.read_steps, _ocr.detector.session.run_async, _ocr.recognizer.session.run_async)

def _steps(image, **kw):
    _log.append("read")
    return _orig[0](image, **kw)

async def _detect(feeds):
    _log.append("detect")
    await asyncio.sleep(_delay)
    return await _orig[1](feeds)

async def _recognize(feeds):
    _log.append("recognize")
    await asyncio.sleep(_rdelay)
    return await _orig[2](feeds)

_ocr.read_steps = _steps
_ocr.detector.session.run_async = _detect
_ocr.recognizer.session.run_async = _recognize
1
"""
UNWATCH = """
del _ocr.read_steps, _ocr.detector.session.run_async, _ocr.recognizer.session.run_async
1
"""


@pytest.fixture(scope="module")
def page(browser):
    web = __import__("pathlib").Path(__file__).resolve().parents[2] / "web"
    with serving(web) as (base, _):
        context, page = open_app(browser, base)
        wait_ready(page)
        poll(page, "document.documentElement.dataset.models", 180)  # the app prepared its pipeline
        page.evaluate(IMAGE)
        yield page
        context.close()


@pytest.fixture
def watched(page):
    worker_exec(page, WATCH)
    yield lambda code: worker_exec(page, code)
    worker_exec(page, UNWATCH)


def test_read_options_are_checked_like_createOCRs(page):
    got = page.evaluate("""async () => {
        const out = {};
        const attempt = async (name, options) => {
            try { await localocr.read(__image(), options); out[name] = null; }
            catch (e) { out[name] = [e.name, e.code, e.message]; }
        };
        await attempt("misspelt", { signl: new AbortController().signal });
        await attempt("signal_string", { signal: "stop" });
        await attempt("signal_controller", { signal: new AbortController() });
        await attempt("positional", new AbortController().signal);
        await attempt("fields", { fields: "passport" });
        await attempt("keep", { keep: "yes" });
        await attempt("models", { models: "models/detector.onnx" });
        try { (await import("./localocr.js")).createOCR({ backnd: "wasm" }); out.create = null; }
        catch (e) { out.create = [e.name, e.code, e.message]; }
        const page = await localocr.read(__image(), { signal: new AbortController().signal, fields: "auto" });
        out.valid = [page.text, typeof page.fields];
        return out;
    }""")
    for name in ("misspelt", "signal_string", "signal_controller", "positional", "fields", "keep", "models"):
        assert got[name] and got[name][:2] == ["TypeError", "bad_option"], (name, got[name])
    assert got["misspelt"][2] == (
        'read: unknown option "signl" (known: signal, fields, keep, models, tag, render, name)'
    )
    assert (
        got["signal_string"][2].startswith("read: signal must be an AbortSignal")
        and '"stop"' in got["signal_string"][2]
    )
    assert "AbortController" in got["signal_controller"][2]
    assert got["positional"][2] == "read takes its options by name, e.g. read(image, { signal }); got AbortSignal"
    assert got["fields"][2].startswith("read: fields must be one of receipt, mrz, auto")
    assert got["keep"][2].startswith("read: keep must be true or false")
    assert got["models"][2].startswith("read: models must be an object")
    assert got["create"][:2] == ["TypeError", "bad_option"] and 'unknown option "backnd"' in got["create"][2]
    assert got["valid"][0].strip() and got["valid"][1] == "object"


def test_an_aborted_signal_rejects_at_once_and_sends_nothing(page, watched):
    got = page.evaluate("""async () => {
        const c = new AbortController();
        c.abort(new Error("the user went away"));
        const plain = new AbortController();
        plain.abort();
        const fail = (e) => ({ name: e.name, code: e.code, message: e.message, error: e instanceof Error,
                               cause: e.cause === c.signal.reason });
        const a = await localocr.read(__image(), { signal: c.signal }).then(() => null, fail);
        const b = await localocr.read(__image(), { signal: plain.signal }).then(() => null, (e) => e.code);
        const keep = await localocr.read(__image(), { signal: plain.signal, keep: true }).then(() => null, (e) => e.code);
        return { a, b, keep };
    }""")
    assert got["a"] == {
        "name": "AbortError",
        "code": "aborted",
        "message": "read: aborted (the user went away)",
        "error": True,
        "cause": True,
    }
    assert got["b"] == "aborted" and got["keep"] == "aborted"
    assert watched("_log") == []  # no read reached the worker's pipeline


def test_an_abort_stops_the_read_in_the_worker_and_the_others_go_on(page, watched):
    watched("_delay = 2.0\n1")  # each detector run takes 2 s more
    page.evaluate("""() => {
        const a = new AbortController(), c = new AbortController();
        const settle = (p) => p.then((page) => ({ text: page.text, at: performance.now() }),
                                     (e) => ({ code: e.code, at: performance.now() }));
        window.__run = {
            a, c,
            A: settle(localocr.read(__image(), { signal: a.signal })),   // sent: its detector runs now
            B: settle(localocr.read(__image("WORLD 7"))),               // waits behind A, no signal
            C: settle(localocr.read(__image(), { signal: c.signal })),   // waits behind B, aborted there
        };
    }""")
    deadline = time.monotonic() + 120
    while watched("_log") != ["read", "detect"]:
        assert time.monotonic() < deadline, watched("_log")
        time.sleep(0.1)
    got = page.evaluate("""async () => {
        const run = window.__run;
        const at = performance.now();
        run.a.abort();
        run.c.abort();
        const [A, B, C] = await Promise.all([run.A, run.B, run.C]);
        return { A, B, C, aAfter: A.at - at, cAfter: C.at - at, bAfter: B.at - at };
    }""")
    assert got["A"]["code"] == "aborted" and got["C"]["code"] == "aborted"
    # at once: not after the 2 s detector run the worker was in
    assert got["aAfter"] < 1000 and got["cAfter"] < 1000, got
    assert got["B"]["text"].strip() and got["bAfter"] > got["aAfter"]
    log = watched("_log")
    # A stopped after its detector run, before any recognizer batch; B read whole; C never sent
    assert log[:3] == ["read", "detect", "read"] and log.count("read") == 2, log
    assert log[3] == "detect" and "recognize" in log[4:], log
    # the worker is healthy: a read with a signal that is never aborted, and one aborted after it ended
    watched("_delay = 0.0\n1")
    got = page.evaluate("""async () => {
        const c = new AbortController();
        const page = await localocr.read(__image("WORLD 7"), { signal: c.signal, keep: true });
        c.abort();
        const text = await page.export("text");
        await page.close();
        return [page.text, text, (await localocr.read(__image("WORLD 7"))).text];
    }""")
    assert got[0].strip() and got[0] == got[2] == got[1].rstrip("\n"), got


def test_a_kept_read_aborted_late_is_not_kept(page, watched):
    """Aborted during its last model run, a read with keep may finish in the worker and be kept there:
    localocr.js lets it go (forget), so that nothing is held for a page the caller never received."""
    watched("_rdelay = 2.0\n1")
    page.evaluate("""() => {
        const c = new AbortController();
        window.__late = { c, p: localocr.read(__image(), { signal: c.signal, keep: true }).then(() => "read", (e) => e.code) };
    }""")
    deadline = time.monotonic() + 120
    while "recognize" not in watched("_log"):
        assert time.monotonic() < deadline, watched("_log")
        time.sleep(0.1)
    assert page.evaluate("() => { window.__late.c.abort(); return window.__late.p; }") == "aborted"
    # what the worker kept for export, once it has answered and the forget behind it has run (a read
    # queued now runs after both)
    watched("_rdelay = 0.0\n1")
    assert page.evaluate("localocr.read(__image()).then((p) => p.text)").strip()
    assert watched("[k for k in _docs if k.startswith('page-')]") == []
