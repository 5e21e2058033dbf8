#!/usr/bin/env python3
"""Serve the localocr web app from web/ with the headers it needs, or write it out as a static site.

    python serve.py                    # http://127.0.0.1:8000, cross-origin isolated (WASM threads)
    python serve.py --no-isolation     # no COOP/COEP: what many intranet hosts send; 1 WASM thread
    python serve.py --build DIR        # static site: app + runtime + models, index.html and localocr.js at its root

Standard library only, except that the runtime set-up (`--setup`, `--build`) compresses with PyPI's
`brotli`. Files are served from web/; when the client accepts it, a precompressed sibling
(`file.br`, `file.gz`, written by tools/runtime.py) is sent instead, and small text files are gzipped
on the fly.
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import json
import shutil
import sys
import threading
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent
WEB = ROOT / "web"

# Content-Security-Policy, one directive per need (README "Content-Security-Policy" says why each):
CSP = {
    "default-src": "'none'",  # deny anything not listed below
    "script-src": "'self' 'wasm-unsafe-eval'",  # our modules + Pyodide/ORT; WebAssembly.compile needs wasm-unsafe-eval
    "worker-src": "'self'",  # our worker and onnxruntime-web's thread workers
    "connect-src": "'self'",  # fetch() of runtime files, wheels and models
    "img-src": "'self' blob: data:",  # the opened image shown through a blob: URL
    "style-src": "'self'",  # app.css; no inline styles
    "manifest-src": "'self'",  # the web app manifest (PWA)
    "base-uri": "'none'",  # no <base> tag may re-root relative URLs
    "form-action": "'none'",  # the app posts no forms
    "frame-ancestors": "'none'",  # not framed by other pages (clickjacking)
    "require-trusted-types-for": "'script'",  # script URLs only through a Trusted Types policy ...
    "trusted-types": "localocr default",  # ... web/trusted-types.js's (and a worker's default)
}
CSP_REPORT_PATH = "/csp-report"  # the dev server collects violation reports here (tests read them)


def csp_header(report: bool = False, policy: dict[str, str] | None = None) -> str:
    parts = [f"{k} {v}" for k, v in (CSP if policy is None else policy).items()]
    if report:
        parts.append(f"report-uri {CSP_REPORT_PATH}")
    return "; ".join(parts)


def security_headers(
    isolation: bool = True, report: bool = False, policy: dict[str, str] | None = None
) -> dict[str, str]:
    """The headers every response carries. COOP+COEP make the page cross-origin isolated
    (SharedArrayBuffer, hence WASM threads); CORP lets our own files load under COEP."""
    headers = {
        "Content-Security-Policy": csp_header(report, policy),
        "Cross-Origin-Resource-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if isolation:
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Embedder-Policy"] = "require-corp"
    return headers


MIME = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",  # required for WebAssembly.instantiateStreaming
    ".onnx": "application/octet-stream",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
}
# On-the-fly gzip for text files that have no precompressed sibling (our own app files);
# 2 MB cap: larger files are runtime files, which the set-up precompresses.
GZIP_TYPES = {".html", ".js", ".mjs", ".css", ".json", ".webmanifest", ".svg", ".txt", ".md"}
GZIP_MAX = 2 * 1024 * 1024


def accepted_encodings(header: str | None) -> set[str]:
    """Encodings the client accepts (q=0 means refused)."""
    out = set()
    for part in (header or "").split(","):
        name, _, params = part.strip().partition(";")
        q = params.strip()
        if q.startswith("q=") and float(q[2:] or 0) == 0:
            continue
        if name:
            out.add(name.strip().lower())
    return out


class Handler(SimpleHTTPRequestHandler):
    """Static files with MIME types, security headers and content negotiation for .br/.gz siblings."""

    isolation = True
    verbose = False
    policy = None  # CSP directives; None: the app's CSP above (tests vary it)
    csp_reports: list = []
    _gzip_cache: dict = {}
    _lock = threading.Lock()

    def log_message(self, fmt, *args):
        if self.verbose:
            super().log_message(fmt, *args)

    def guess_type(self, path):
        return MIME.get(Path(str(path)).suffix.lower(), "application/octet-stream")

    def end_headers(self):
        for k, v in security_headers(self.isolation, report=True, policy=self.policy).items():
            self.send_header(k, v)
        # Revalidate every time (cheap 304s): set-up may replace files under the same names.
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def do_POST(self):
        if self.path.split("?")[0] != CSP_REPORT_PATH:
            self.send_error(HTTPStatus.METHOD_NOT_ALLOWED)
            return
        length = min(int(self.headers.get("Content-Length") or 0), 65536)  # a report is < 64 KB
        body = self.rfile.read(length)
        try:
            report = json.loads(body or b"null")
        except ValueError:
            report = {"unparsed": body.decode("utf-8", "replace")}
        with self._lock:
            self.csp_reports.append(report)
        print(f"CSP violation: {json.dumps(report)[:500]}", file=sys.stderr)
        self.send_response(HTTPStatus.NO_CONTENT)
        self.end_headers()

    def send_head(self):
        if self.path.split("?")[0] == CSP_REPORT_PATH:
            with self._lock:
                body = json.dumps(self.csp_reports).encode()
            return self._send_bytes(body, "application/json", None)
        path = Path(self.translate_path(self.path))
        if path in (WEB / "precache.js", WEB / "boot.json"):  # development tree: keep these lists current
            from tools import precache

            precache.write(WEB)
        if path.is_dir():
            if not self.path.split("?")[0].endswith("/"):
                return super().send_head()  # redirect to the slash form
            path = path / "index.html"
        if not path.is_file() or path.suffix in (".br", ".gz"):
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        ctype = self.guess_type(path)
        accepts = accepted_encodings(self.headers.get("Accept-Encoding"))
        for encoding, ext in (("br", ".br"), ("gzip", ".gz")):
            sib = path.with_name(path.name + ext)
            # A sibling older than its file is stale (e.g. a model re-exported since the last set-up).
            if encoding in accepts and sib.is_file() and sib.stat().st_mtime_ns >= path.stat().st_mtime_ns:
                return self._send_file(sib, ctype, encoding)
        if "gzip" in accepts and path.suffix in GZIP_TYPES and path.stat().st_size <= GZIP_MAX:
            return self._send_bytes(self._gzipped(path), ctype, "gzip", path)
        return self._send_file(path, ctype, None)

    def _gzipped(self, path: Path) -> bytes:
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
        with self._lock:
            hit = self._gzip_cache.get(key)
        if hit is None:
            hit = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)  # 6: fast, near-max ratio for text
            with self._lock:
                self._gzip_cache[key] = hit
        return hit

    def _common(self, ctype: str, encoding: str | None, length: int, mtime: float | None):
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        self.send_header("Vary", "Accept-Encoding")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        if mtime is not None:
            self.send_header("Last-Modified", email.utils.formatdate(mtime, usegmt=True))
        self.end_headers()

    def _not_modified(self, mtime: float) -> bool:
        since = self.headers.get("If-Modified-Since")
        if not since:
            return False
        try:
            when = email.utils.parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
        if int(mtime) <= int(when):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("Vary", "Accept-Encoding")
            self.end_headers()
            return True
        return False

    def _send_file(self, path: Path, ctype: str, encoding: str | None):
        st = path.stat()
        if self._not_modified(st.st_mtime):
            return None
        f = open(path, "rb")
        self._common(ctype, encoding, st.st_size, st.st_mtime)
        return f

    def _send_bytes(self, body: bytes, ctype: str, encoding: str | None, source: Path | None = None):
        import io

        mtime = source.stat().st_mtime if source else None
        if mtime is not None and self._not_modified(mtime):
            return None
        self._common(ctype, encoding, len(body), mtime)
        return io.BytesIO(body)


def make_server(
    host: str = "127.0.0.1",
    port: int = 8000,
    directory: Path = WEB,
    isolation: bool = True,
    verbose: bool = False,
    policy: dict[str, str] | None = None,
) -> ThreadingHTTPServer:
    """A ready-to-run server (call serve_forever); port 0 picks a free port (server.server_port)."""
    handler = type(
        "LocalHandler",
        (Handler,),
        {"isolation": isolation, "verbose": verbose, "csp_reports": [], "_gzip_cache": {}, "policy": policy},
    )
    server = ThreadingHTTPServer((host, port), partial(handler, directory=str(directory)))
    server.daemon_threads = True
    server.handler_class = handler
    return server


# What a static host must send (written as a Netlify/Cloudflare-Pages `_headers` file by --build; the
# README shows the same for nginx and Apache).
def headers_file(isolation: bool = True) -> str:
    lines = ["/*"] + [f"  {k}: {v}" for k, v in security_headers(isolation).items()]
    lines += ["", "/*.wasm", "  Content-Type: application/wasm", "", "/*.mjs", "  Content-Type: text/javascript", ""]
    return "\n".join(lines)


# The built folder as an npm package (README "The JS API"): `npm install ./build/site` (or its `npm pack`
# tarball) puts it in node_modules/localocr, to be served from the page's origin as it is; its exports
# give bundlers and TypeScript the API (localocr.js, typed by localocr.d.ts) and the element.
PACKAGE_EXPORTS = {
    ".": {"types": "./localocr.d.ts", "default": "./localocr.js"},
    "./element": {"types": "./local-ocr-element.d.ts", "default": "./local-ocr-element.js"},
    "./local-ocr.css": "./local-ocr.css",
    "./page.schema.json": "./page.schema.json",
    "./package.json": "./package.json",
}


def package_json(dest: Path, version: str) -> dict:
    """package.json of the built folder `dest`: version is the Python package's, files every top-level
    entry that --build wrote (worker.js loads vendor/ and models/ beside it, so all of it ships)."""
    files = sorted(p.name + ("/" if p.is_dir() else "") for p in dest.iterdir() if p.name != "package.json")
    return {
        "name": "localocr",
        "version": version,
        "description": "OCR on the user's device, in the browser: the ES module API, the <local-ocr> element, "
        "the app, and the runtime and models they load from the folder they are served from.",
        "license": "Apache-2.0",
        # the folder is served as it is (vendor/ and models/ are tens of MB): installed, never published
        "private": True,
        "type": "module",
        "exports": PACKAGE_EXPORTS,
        "types": "./localocr.d.ts",
        "sideEffects": ["./local-ocr-element.js"],
        "files": files,
    }


# App files copied by --build (the runtime and models are copied as whole folders).
SITE_SKIP = {".br", ".gz"}


def build_site(dest: Path, directory: Path = WEB) -> int:
    """Write the static site into dest: everything under web/ incl. vendor/ (runtime) and models/.
    Precompressed siblings are copied too (nginx gzip_static/brotli_static use them). Returns bytes."""
    from tools import runtime

    runtime.install()
    if not (directory / "localocr.js").exists() or not (directory / "index.html").exists():
        raise SystemExit("web/index.html and web/localocr.js must exist")
    if dest.exists() and any(dest.iterdir()) and not (dest / "localocr.js").exists():
        raise SystemExit(f"{dest} is not empty and not a previous build: refusing to overwrite it")
    total = 0
    for src in sorted(directory.rglob("*")):
        rel = src.relative_to(directory)
        if src.is_dir() or rel.parts[0].startswith(".") or "__pycache__" in rel.parts or src.suffix == ".tmp":
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, out)
        total += src.stat().st_size
    (dest / "_headers").write_text(headers_file())
    from tools import precache  # the service worker's file list, for the files as copied

    precache.write(dest)
    # last: its files list names what is there (package.json is not precached: tools/precache.py)
    (dest / "package.json").write_text(json.dumps(package_json(dest, runtime.package_version()), indent=2) + "\n")
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument(
        "--no-isolation", action="store_true", help="omit COOP/COEP (as many hosts do): works, single-threaded WASM"
    )
    ap.add_argument("--setup", action="store_true", help="fetch and verify the runtime into web/vendor, then serve")
    ap.add_argument("--build", metavar="DIR", type=Path, help="write the static site into DIR and exit")
    ap.add_argument("--verbose", action="store_true", help="log every request")
    args = ap.parse_args(argv)
    if args.build:
        total = build_site(args.build.resolve())
        print(f"static site: {total:,} bytes in {args.build} (serve it with the headers in {args.build}/_headers)")
        return 0
    if args.setup:
        from tools import runtime

        if runtime.main(["install"]) != 0:
            return 1
    elif not (WEB / "vendor" / "runtime.json").exists():
        print("web/vendor/ is empty: run `make run` (or `python serve.py --setup`) first", file=sys.stderr)
        return 1
    else:
        from tools import runtime

        runtime.pack_package()  # the worker installs py/localocr as it is now
    server = make_server(args.host, args.port, WEB, isolation=not args.no_isolation, verbose=args.verbose)
    mode = "cross-origin isolated" if not args.no_isolation else "NOT isolated (single-threaded WASM)"
    print(f"localocr: http://{args.host}:{server.server_port}/  ({mode}; Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
