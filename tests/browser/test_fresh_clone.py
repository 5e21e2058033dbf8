"""A fresh clone, set up and served by the README's run command (`make run`), loads in Chromium.

This is what CI sees: committed files only (git clone of this repository's HEAD), a new virtualenv,
the runtime laid out by the clone's own set-up. The registries are not asked again: the clone shares
this checkout's download cache (`LOCALOCR_CACHE`), whose archives its set-up still verifies.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tools.browser import open_app, wait_ready, worker_exec

ROOT = Path(__file__).resolve().parents[2]
SETUP_TIMEOUT = 900  # s: a new venv installs numpy/Pillow/onnxruntime (from pip's cache when warm)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_fresh_clone_make_run_serves_a_working_app(tmp_path, browser):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    assert not (clone / "web" / "vendor").exists()
    port = free_port()
    env = dict(os.environ, LOCALOCR_CACHE=str(ROOT / ".cache" / "runtime"))
    for var in ("VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"):  # run as a person would, not as a sub-make
        env.pop(var, None)
    log = open(tmp_path / "make-run.log", "w+")
    proc = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=clone,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + SETUP_TIMEOUT
        url = f"http://127.0.0.1:{port}/"
        while f"localocr: {url}" not in (tmp_path / "make-run.log").read_text():
            assert proc.poll() is None, (tmp_path / "make-run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "make run did not come up"
            time.sleep(0.5)
        requests: list[str] = []
        context, page = open_app(browser, url, requests)
        try:
            info = wait_ready(page)
            assert info["pyodide"] == "0.27.7" and info["crossOriginIsolated"] is True
            assert worker_exec(page, "import localocr, numpy; localocr.__version__")
            assert all(u.startswith(url) for u in requests), requests
        finally:
            context.close()
        # The clone served its own runtime, laid out by its own set-up.
        assert (clone / "web" / "vendor" / "runtime.json").exists()
        assert (clone / ".venv" / "bin" / "python").exists()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # make and the server it started
            proc.wait(timeout=30)
        log.close()
