"""Fixtures for the browser tests: one headless Chromium and one server per isolation mode, shared by
the tests of a module (a page boot costs seconds on this machine's two busy cores).

Module scope, not session: Playwright's sync API keeps an asyncio loop running while it is open,
and other test modules call asyncio.run()."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.browser import chromium, open_app, serving, wait_ready, worker_exec

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser():
    if not (WEB / "vendor" / "runtime.json").exists():
        pytest.fail("web/vendor is not set up: run `make test` (or `python -m tools.runtime install`)")
    from tools import runtime

    runtime.pack_package()  # test the package as it is in py/, not a stale packed copy
    with chromium() as b:
        yield b


class App:
    """One booted app page: its server, the requests it made, its runtime info."""

    def __init__(self, base, server, context, page, requests, info):
        self.base, self.server, self.context, self.page = base, server, context, page
        self.requests, self.info = requests, info

    def exec(self, code: str):
        return worker_exec(self.page, code)


@pytest.fixture(scope="module", params=["isolated", "not-isolated"])
def app(request, browser):
    isolation = request.param == "isolated"
    with serving(WEB, isolation=isolation) as (base, server):
        requests: list[str] = []
        context, page = open_app(browser, base, requests)
        info = wait_ready(page)
        yield App(base, server, context, page, requests, info)
        context.close()
