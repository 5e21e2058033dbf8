"""serve.py: MIME types, isolation and CSP headers, compressed responses, static build."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import threading
from pathlib import Path

import brotli
import pytest

import serve

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def site(tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>t</title>")
    (tmp_path / "a.wasm").write_bytes(b"\0asm" + bytes(5000))
    (tmp_path / "a.wasm.br").write_bytes(brotli.compress(b"\0asm" + bytes(5000)))
    (tmp_path / "a.wasm.gz").write_bytes(gzip.compress(b"\0asm" + bytes(5000)))
    (tmp_path / "m.mjs").write_text("export const x = 1;\n" * 200)
    (tmp_path / "app.webmanifest").write_text("{}")
    (tmp_path / "model.onnx").write_bytes(b"\x08\x07")
    (tmp_path / "empty").mkdir()
    return tmp_path


def start(directory, isolation=True):
    server = serve.make_server("127.0.0.1", 0, directory, isolation=isolation)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def get(server, path, headers=None, method="GET", body=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


@pytest.fixture
def server(site):
    s = start(site)
    yield s
    s.shutdown()
    s.server_close()


@pytest.mark.parametrize("path,ctype", [("/a.wasm", "application/wasm"), ("/m.mjs", "text/javascript"),
                                        ("/app.webmanifest", "application/manifest+json"),
                                        ("/model.onnx", "application/octet-stream"), ("/", "text/html")])
def test_mime_types(server, path, ctype):
    resp, _ = get(server, path)
    assert resp.status == 200
    assert resp.getheader("Content-Type").startswith(ctype)


def test_isolation_and_security_headers(server):
    resp, _ = get(server, "/")
    assert resp.getheader("Cross-Origin-Opener-Policy") == "same-origin"
    assert resp.getheader("Cross-Origin-Embedder-Policy") == "require-corp"
    assert resp.getheader("Cross-Origin-Resource-Policy") == "same-origin"
    csp = resp.getheader("Content-Security-Policy")
    assert "default-src 'none'" in csp and "'wasm-unsafe-eval'" in csp
    assert "'unsafe-eval'" not in csp and "'unsafe-inline'" not in csp and "http" not in csp


def test_no_isolation_drops_coop_coep_only(site):
    s = start(site, isolation=False)
    try:
        resp, _ = get(s, "/")
        assert resp.getheader("Cross-Origin-Opener-Policy") is None
        assert resp.getheader("Cross-Origin-Embedder-Policy") is None
        assert "'wasm-unsafe-eval'" in resp.getheader("Content-Security-Policy")
    finally:
        s.shutdown()
        s.server_close()


def test_precompressed_sibling_by_accept_encoding(server, site):
    raw = (site / "a.wasm").read_bytes()
    resp, body = get(server, "/a.wasm", {"Accept-Encoding": "gzip, deflate, br"})
    assert resp.getheader("Content-Encoding") == "br" and brotli.decompress(body) == raw
    assert resp.getheader("Vary") == "Accept-Encoding"
    resp, body = get(server, "/a.wasm", {"Accept-Encoding": "gzip"})
    assert resp.getheader("Content-Encoding") == "gzip" and gzip.decompress(body) == raw
    resp, body = get(server, "/a.wasm", {"Accept-Encoding": "br;q=0, gzip;q=0"})
    assert resp.getheader("Content-Encoding") is None and body == raw
    resp, body = get(server, "/a.wasm")
    assert resp.getheader("Content-Encoding") is None and body == raw


def test_sibling_older_than_its_file_is_not_served(server, site):
    """A file rewritten after its .br/.gz were made (a model re-exported since the set-up): the stale
    siblings are ignored and the file goes out as it is now."""
    new = b"\0asm" + bytes(6000)
    (site / "a.wasm").write_bytes(new)
    before = (site / "a.wasm").stat().st_mtime_ns - 10**9
    for ext in (".br", ".gz"):
        os.utime(site / f"a.wasm{ext}", ns=(before, before))
    resp, body = get(server, "/a.wasm", {"Accept-Encoding": "gzip, br"})
    assert resp.getheader("Content-Encoding") is None and body == new


def test_small_text_is_gzipped_on_the_fly(server, site):
    resp, body = get(server, "/m.mjs", {"Accept-Encoding": "gzip"})
    assert resp.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == (site / "m.mjs").read_bytes()
    assert len(body) < (site / "m.mjs").stat().st_size


def test_siblings_listings_and_traversal_are_not_served(server):
    assert get(server, "/a.wasm.br")[0].status == 404
    assert get(server, "/empty/")[0].status == 404          # no directory listings
    assert get(server, "/../pyproject.toml")[0].status == 404
    assert get(server, "/nope.js")[0].status == 404


def test_revalidation_gives_304(server):
    resp, _ = get(server, "/a.wasm", {"Accept-Encoding": "br"})
    resp2, body = get(server, "/a.wasm", {"Accept-Encoding": "br", "If-Modified-Since": resp.getheader("Last-Modified")})
    assert resp2.status == 304 and body == b""


def test_csp_reports_are_collected(server):
    report = {"csp-report": {"violated-directive": "script-src", "blocked-uri": "inline"}}
    resp, _ = get(server, serve.CSP_REPORT_PATH, {"Content-Type": "application/csp-report"}, "POST",
                  json.dumps(report).encode())
    assert resp.status == 204
    assert json.loads(get(server, serve.CSP_REPORT_PATH)[1]) == [report]


def test_static_build_has_app_runtime_and_headers(tmp_path):
    if not (ROOT / "web" / "vendor" / "runtime.json").exists():
        pytest.fail("web/vendor is not set up: run `make test`")
    out = tmp_path / "site"
    serve.build_site(out)
    for name in ("index.html", "localocr.js", "worker.js", "app.js", "vendor/runtime.json",
                 "vendor/ort/ort-wasm-simd-threaded.wasm", "vendor/pyodide/pyodide.asm.wasm"):
        assert (out / name).is_file(), name
    index = json.loads((out / "vendor/runtime.json").read_text())
    assert (out / "vendor" / index["localocr_wheel"]).is_file()
    headers = (out / "_headers").read_text()
    assert "Cross-Origin-Embedder-Policy: require-corp" in headers and "wasm-unsafe-eval" in headers
    # The built folder serves as is.
    s = start(out)
    try:
        assert get(s, "/localocr.js")[0].status == 200
    finally:
        s.shutdown()
        s.server_close()
