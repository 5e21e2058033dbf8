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
from test_types import FLAGS as TSC_FLAGS
from test_types import TSC

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


@pytest.mark.parametrize(
    "path,ctype",
    [
        ("/a.wasm", "application/wasm"),
        ("/m.mjs", "text/javascript"),
        ("/app.webmanifest", "application/manifest+json"),
        ("/model.onnx", "application/octet-stream"),
        ("/", "text/html"),
    ],
)
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
    assert get(server, "/empty/")[0].status == 404  # no directory listings
    assert get(server, "/../pyproject.toml")[0].status == 404
    assert get(server, "/nope.js")[0].status == 404


def test_revalidation_gives_304(server):
    resp, _ = get(server, "/a.wasm", {"Accept-Encoding": "br"})
    resp2, body = get(
        server, "/a.wasm", {"Accept-Encoding": "br", "If-Modified-Since": resp.getheader("Last-Modified")}
    )
    assert resp2.status == 304 and body == b""


def test_csp_reports_are_collected(server):
    report = {"csp-report": {"violated-directive": "script-src", "blocked-uri": "inline"}}
    resp, _ = get(
        server, serve.CSP_REPORT_PATH, {"Content-Type": "application/csp-report"}, "POST", json.dumps(report).encode()
    )
    assert resp.status == 204
    assert json.loads(get(server, serve.CSP_REPORT_PATH)[1]) == [report]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One `serve.py --build` for the tests of the built folder."""
    if not (ROOT / "web" / "vendor" / "runtime.json").exists():
        pytest.fail("web/vendor is not set up: run `make test`")
    out = tmp_path_factory.mktemp("build") / "site"
    serve.build_site(out)
    return out


def test_static_build_has_app_runtime_and_headers(built):
    out = built
    for name in (
        "index.html",
        "localocr.js",
        "worker.js",
        "app.js",
        "vendor/runtime.json",
        "vendor/ort/ort-wasm-simd-threaded.wasm",
        "vendor/pyodide/pyodide.asm.wasm",
    ):
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


def _targets(exports) -> list[str]:
    if isinstance(exports, str):
        return [exports]
    return [t for v in exports.values() for t in _targets(v)]


def test_the_built_folder_is_an_npm_package(built, tmp_path):
    """package.json of the build: the package's version, ES modules, exports (with types) and files that
    exist; `npm pack` takes it offline; an app that installed it resolves "localocr" and
    "localocr/element" to the modules (node) and to their types (tsc, tests/types' TypeScript)."""
    import shutil
    import subprocess

    import localocr

    from tools import runtime

    pkg = json.loads((built / "package.json").read_text())
    assert pkg["name"] == "localocr" and pkg["type"] == "module"
    assert pkg["version"] == runtime.package_version() == localocr.__version__
    assert pkg["exports"]["."] == {"types": "./localocr.d.ts", "default": "./localocr.js"}
    assert pkg["exports"]["./element"]["default"] == "./local-ocr-element.js"
    for target in [*_targets(pkg["exports"]), pkg["types"], *pkg["sideEffects"]]:
        assert target.startswith("./") and (built / target).is_file(), target
    top = {p.name + ("/" if p.is_dir() else "") for p in built.iterdir()} - {"package.json"}
    assert set(pkg["files"]) == top  # every file the site needs ships, nothing else
    assert "page.schema.json" not in (built / "precache.js").read_text()  # for developers, not the app
    npm = shutil.which("npm")
    assert npm, "the package test needs npm (Node.js), as make test does"
    packed = subprocess.run(
        [npm, "pack", "--dry-run", "--json", "--offline", "--ignore-scripts"],
        cwd=built,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert packed.returncode == 0, packed.stderr
    listed = {f["path"] for f in json.loads(packed.stdout)[0]["files"]}
    for name in (
        "package.json",
        "localocr.js",
        "localocr.d.ts",
        "local-ocr-element.js",
        "worker.js",
        "boot.json",
        "vendor/runtime.json",
        "vendor/ort/ort-wasm-simd-threaded.wasm",
        "page.schema.json",
    ):
        assert name in listed, name
    assert {f for f in listed if f.startswith("models/") and f.endswith(".onnx")}
    # an app with the folder installed (npm links a folder into node_modules; here, by hand, offline)
    app = tmp_path / "app"
    (app / "node_modules").mkdir(parents=True)
    (app / "node_modules" / "localocr").symlink_to(built, target_is_directory=True)
    (app / "package.json").write_text('{"name": "app", "private": true, "type": "module"}')
    node = subprocess.run(
        [
            "node",
            "--input-type=module",
            "-e",
            'console.log(JSON.stringify([import.meta.resolve("localocr"), '
            'import.meta.resolve("localocr/element"), import.meta.resolve("localocr/page.schema.json")]))',
        ],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert node.returncode == 0, node.stderr
    resolved = [Path(u.removeprefix("file://")).resolve() for u in json.loads(node.stdout)]
    assert resolved == [(built / n).resolve() for n in ("localocr.js", "local-ocr-element.js", "page.schema.json")]
    assert TSC.exists(), "tests/types/node_modules is not set up: run `make test`"
    (app / "main.ts").write_text(
        'import { createOCR, type Page } from "localocr";\n'
        'import type { LocalOCRElement } from "localocr/element";\n'
        "export async function read(file: File, el: LocalOCRElement): Promise<string> {\n"
        '  const page: Page = await createOCR({ backend: "wasm" }).read(file, { signal: AbortSignal.timeout(1000) });\n'
        '  return page.blocks.map((b) => b.lines.length).join() + (el.result ? el.result.text : "");\n'
        "}\n"
        "// @ts-expect-error: the types come with the package: a wrong option is refused\n"
        'createOCR({ backnd: "wasm" });\n'
    )
    checked = subprocess.run(
        [str(TSC), *TSC_FLAGS, "main.ts"],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
