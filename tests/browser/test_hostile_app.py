"""The hostile corpus (tests/hostile_corpus.py) in the browser: every file gives a page or localocr's
own one-line error with its expected code (Pyodide's Pillow 10.2 behind the same decoding boundary),
the app shows the message and no traceback, and reads a good image afterwards; a bug inside the
pipeline reaches the page as the generic "internal" error."""

from __future__ import annotations

import base64

import pytest
from hostile_corpus import PAGE, corpus
from test_app import PAGES, WEB, add_files, boot, contract_models, settled

from tools.browser import serving, worker_exec

CASES = [c for c in corpus() if c.browser]

READ_JS = """async (b64) => {
    try {
        const page = await localocr.read(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
        return { code: "page", notes: page.notes.map((n) => n.code), width: page.width };
    } catch (e) { return { code: e.code, message: e.message }; }
}"""


@pytest.fixture(scope="module")
def booted(browser):
    with serving(WEB, isolation=True) as (base, server):
        b = boot(browser, base, server, models=contract_models())
        yield b
        b.context.close()


def test_every_file_gives_a_page_or_its_error(booted):
    page = booted.page
    wrong = []
    for case in CASES:
        got = page.evaluate(READ_JS, base64.b64encode(case.data).decode())
        if not case.allows(got["code"]):
            wrong.append((case.name, got))
        elif got["code"] != PAGE:
            msg = got["message"]
            assert msg and "\n" not in msg and "Traceback" not in msg and len(msg) < 300, (case.name, msg)
    assert wrong == []
    # still reading: a good image after all of them
    assert page.evaluate(READ_JS, base64.b64encode(PAGES[0]).decode())["code"] == PAGE


def test_the_app_shows_the_message_and_reads_the_next_image(booted):
    page = booted.page
    by_name = {c.name: c for c in CASES}
    bad = [
        ("iccp.png", "image/png", by_name["png-iccp-10mb"].data),
        ("cut.jpg", "image/jpeg", by_name["jpeg-cut-after-header"].data),
        ("renamed.png", "image/png", by_name["pdf-renamed"].data),
    ]
    n0 = page.evaluate("localocrApp.items.length")
    add_files(page, bad + [("good.png", "image/png", PAGES[1])])
    states = settled(page, n0 + 4)[n0:]
    # the app reads PDFs (whatever the file's name): this one is a PDF header with no pages
    assert [s[1:3] for s in states] == [
        ["error", "too_large"],
        ["error", "truncated"],
        ["error", "bad_pdf"],
        ["done", None],
    ]
    for _, _, _, message in states[:3]:
        assert "Traceback" not in message and "\n" not in message
    page.evaluate("(i) => localocrApp.select(localocrApp.items[i].id)", n0 + 1)
    shown = page.text_content("#result-error")
    assert shown == states[1][3] and "truncated" in shown


def test_a_bug_is_the_internal_error_not_a_traceback(booted):
    page = booted.page
    worker_exec(
        page,
        "import localocr.pipeline as _p\n_saved = _p.build_blocks\n"
        "def _broken(*a):\n    raise ZeroDivisionError('a bug')\n_p.build_blocks = _broken\n1",
    )
    try:
        got = page.evaluate(READ_JS, base64.b64encode(PAGES[2]).decode())
    finally:
        worker_exec(page, "_p.build_blocks = _saved\n1")
    assert got["code"] == "internal", got
    assert "ZeroDivisionError" in got["message"] and "Traceback" not in got["message"] and "\n" not in got["message"]
    assert page.evaluate(READ_JS, base64.b64encode(PAGES[2]).decode())["code"] == PAGE
