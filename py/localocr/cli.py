"""Command line: `localocr FILE... [--format text|json|hocr|alto|page|pdf] [-o OUT] [--pages 1-3,7]`.

A FILE is an image, a PDF, a multi-page TIFF or an animated GIF/WebP (every page
or frame is read; `--pages` chooses). `-` reads standard input.

Where results go:
- neither -o nor --out: standard output (several files: text gets a
  "==> name <==" header per file, JSON becomes a list of {"image": name,
  "page"|"document": ...}; hOCR, ALTO, PAGE and PDF need -o or --out for more
  than one file; PDF goes to standard output only when it is not a terminal).
- `--out DIR`: one file per input, DIR/<name>.txt|.json|.hocr|.alto.xml|.pdf
  (PAGE XML: one file per page, <name>.page.xml or <name>-p<N>.page.xml).
- `--output FILE`: everything in one file: several inputs become one
  multi-page PDF, ALTO, hOCR, text (form feeds between pages) or JSON document.
- `-o PATH` (backward compatible: it used to mean --out): a folder when PATH is
  an existing folder, ends with "/", or has no file extension; a file
  (--output) otherwise, e.g. `-o out.pdf`.
Every file is read, whatever happened to the ones before it. Errors go to
standard error, one line per file ("localocr: NAME: message [code]"); with
--format json the error is also in the output, in the place of that file's
result: {"image": name, "error": {"code": ..., "message": ...}}. The exit
status is 1 when any file failed, 2 for bad usage. --debug also prints the
Python traceback of an "internal" error (a bug) to standard error.

`localocr batch INPUT... --out DIR` (a first argument of exactly `batch`) is
batch OCR on Ray (`localocr.ray`); a file named `batch` reads as `./batch`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback

from .document import EXPORT_FORMATS as FORMATS
from .document import Document
from .errors import LocalOCRError, internal_errors

EXT = {"text": "txt", "json": "json", "hocr": "hocr", "alto": "alto.xml", "page": "page.xml", "pdf": "pdf"}
SEVERAL_TO_STDOUT = ("text", "json")  # formats that can carry several files on standard output


def _json(d) -> str:
    return json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n"


def _page_dict(page, fields=None) -> dict:
    d = page.to_dict()
    if fields:
        d["fields"] = page.fields(fields)  # --fields: localocr.fields, a top-level "fields" object
    return d


def _render(doc, fmt: str, single_image: bool, fields=None):
    """A Document in `fmt`: str, bytes (pdf) or list of str (page: one per page). One image keeps
    the single-page JSON and hOCR the CLI has always written; --fields adds each page's fields."""
    if fmt == "json":
        if single_image:
            return _json(_page_dict(doc.pages[0], fields))
        d = doc.to_dict()
        if fields:
            for page, pd in zip(doc.pages, d["pages"]):
                pd["fields"] = page.fields(fields)
        return _json(d)
    if single_image and fmt == "hocr":
        return doc.pages[0].to_hocr(image_name=os.path.basename(doc.name))
    return doc.export(fmt)


def _write(path: str, data) -> None:
    if isinstance(data, bytes):
        with open(path, "wb") as f:
            f.write(data)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(data)


def _is_folder(path: str) -> bool:
    return os.path.isdir(path) or path.endswith(("/", os.sep)) or not os.path.splitext(path)[1]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="localocr", description="Read the text in images and PDFs, locally.")
    p.add_argument("images", nargs="+", metavar="FILE", help="images or PDFs; - reads standard input")
    p.add_argument("--format", "-f", choices=FORMATS, default="text", help="output format (default text)")
    p.add_argument(
        "-o",
        dest="o",
        metavar="OUT",
        help="a folder (exists, ends with /, or has no extension: as --out) or a file (as --output)",
    )
    p.add_argument("--out", metavar="DIR", help="write one file per input into DIR")
    p.add_argument(
        "--output",
        metavar="FILE",
        help="write every input into this one file (several inputs: one multi-page document)",
    )
    p.add_argument("--pages", metavar="LIST", help="pages of a PDF / multi-page image, e.g. 1-3,7 (default all)")
    p.add_argument("--keep-text", action="store_true", help="PDF pages with a text layer: use it instead of OCR")
    p.add_argument("--password", help="the password of an encrypted PDF")
    p.add_argument(
        "--models",
        metavar="DIR",
        help="folder with detector*.onnx and recognizer*.onnx (default: the bundled models, or $LOCALOCR_MODELS)",
    )
    p.add_argument(
        "--fields",
        choices=["receipt", "mrz", "auto"],
        help="also extract key fields (receipt: "
        "company, date, address, total; mrz: a passport's or ID card's machine-readable zone; auto: "
        'either); needs --format json, which then has a top-level "fields" object',
    )
    p.add_argument(
        "--min-confidence",
        type=float,
        default=None,
        help="drop lines read with less confidence (default: the pipeline's own floor)",
    )
    p.add_argument(
        "--no-orientation",
        dest="orientation",
        action="store_false",
        help="read each image as it is: do not turn pages at 90/180/270 degrees upright or straighten tilted ones",
    )
    p.add_argument("--debug", action="store_true", help="print the traceback of internal errors")
    return p


def _usage_error(args) -> str | None:
    if args.o and (args.out or args.output):
        return "-o is --out or --output: give one of them"
    if args.out and args.output:
        return "--out (a file per input) and --output (one file) exclude each other"
    if args.o:
        if _is_folder(args.o):
            args.out = args.o
        else:
            args.output = args.o
    many = len(args.images) > 1
    if many and not (args.out or args.output) and args.format not in SEVERAL_TO_STDOUT:
        return f"several files as {args.format} need -o FILE or --out DIR"
    if args.format == "pdf" and not (args.out or args.output) and sys.stdout.isatty():
        return "a PDF is not written to a terminal: give -o FILE.pdf (or redirect standard output)"
    if args.images.count("-") > 1:
        return "standard input (-) can be read only once"
    return None


def _error_entry(name: str, err: LocalOCRError) -> dict:
    return {"image": name, "error": {"code": err.code, "message": str(err)}}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["batch"]:
        from .ray import main as batch_main

        return batch_main(argv[1:])
    args = build_parser().parse_args(argv)
    problem = _usage_error(args)
    if not problem and args.fields and args.format != "json":
        problem = "--fields needs --format json"
    if problem:
        print(f"localocr: {problem}", file=sys.stderr)
        return 2
    from .document import combine
    from .pipeline import OCR

    try:
        kw = {} if args.min_confidence is None else {"min_confidence": args.min_confidence}
        if not args.orientation:
            kw["orientation"] = False
        ocr = OCR(models=args.models, **kw)
    except LocalOCRError as e:
        print(f"localocr: {e}", file=sys.stderr)
        return 1
    if args.out:
        os.makedirs(args.out, exist_ok=True)
    failed = 0
    documents: list[Document] = []  # --output: the documents read, combined into one file
    results: list[dict] = []  # several JSON results (or errors) on standard output
    for src in args.images:
        name = "stdin" if src == "-" else src
        try:
            with internal_errors():
                doc = ocr.read_document(
                    sys.stdin.buffer.read() if src == "-" else src,
                    args.pages,
                    keep_text=args.keep_text,
                    name=os.path.basename(name),
                    password=args.password,
                    fields=args.fields,
                )
        except LocalOCRError as e:
            print(f"localocr: {name}: {e} [{e.code}]", file=sys.stderr)
            if args.debug and e.__cause__ is not None:
                traceback.print_exception(e.__cause__, file=sys.stderr)
            failed += 1
            if args.format == "json":
                entry = _error_entry(name, e)
                if args.out:
                    stem = os.path.splitext(os.path.basename(name))[0] or "image"
                    _write(os.path.join(args.out, f"{stem}.{EXT['json']}"), _json(entry))
                elif len(args.images) > 1 and not args.output:  # (one combined --output file: stderr says it)
                    results.append(entry)
                elif not args.output:
                    sys.stdout.write(_json(entry))
            continue
        single = doc.kind == "image"
        if args.output:
            documents.append(doc)
        elif args.out:
            stem = os.path.splitext(os.path.basename(name))[0] or "image"
            out = _render(doc, args.format, single, args.fields)
            if isinstance(out, list):  # PAGE XML: a file per page
                for page, xml in zip(doc.pages, out):
                    suffix = "" if len(out) == 1 else f"-p{page.source.number}"
                    _write(os.path.join(args.out, f"{stem}{suffix}.{EXT['page']}"), xml)
            else:
                _write(os.path.join(args.out, f"{stem}.{EXT[args.format]}"), out)
        elif args.format == "json" and len(args.images) > 1:
            results.append(
                {"image": name, "page" if single else "document": json.loads(_render(doc, "json", single, args.fields))}
            )
        else:
            if len(args.images) > 1:
                sys.stdout.write(f"==> {name} <==\n")
            out = _render(doc, args.format, single, args.fields)
            if isinstance(out, list) and len(out) > 1:
                print(
                    f"localocr: {name}: PAGE XML holds one page per file; use --out DIR for its {len(out)} pages",
                    file=sys.stderr,
                )
                failed += 1
                continue
            if isinstance(out, bytes):
                sys.stdout.flush()
                sys.stdout.buffer.write(out)
            else:
                sys.stdout.write("".join(out) if isinstance(out, list) else out)
    if args.output and documents:
        doc = documents[0] if len(documents) == 1 else combine(documents, os.path.basename(args.output))
        out = _render(doc, args.format, len(documents) == 1 and doc.kind == "image", args.fields)
        if isinstance(out, list):
            if len(out) > 1:
                print("localocr: PAGE XML holds one page per file; use --out DIR for several pages", file=sys.stderr)
                return 2
            out = out[0]
        _write(args.output, out)
    elif results:
        sys.stdout.write(_json(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
