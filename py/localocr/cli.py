"""Command line: `localocr IMAGE... [--format text|json|hocr] [--out DIR] [--fields receipt|mrz|auto]`.

`-` reads an image from standard input. Without --out, results go to standard
output (several images: text gets a "==> name <==" header per image, JSON
becomes a list of {"image": name, "page": ...}; hOCR needs --out for more
than one image). With --out DIR, each image gets DIR/<name>.txt|.json|.hocr.
Every image is read, whatever happened to the ones before it. Errors go to
standard error, one line per image ("localocr: NAME: message [code]"); with
--format json the error is also in the output, in the place of that image's
page: {"image": name, "error": {"code": ..., "message": ...}}. The exit status
is 1 when any image failed, 2 for bad usage. --debug also prints the Python
traceback of an "internal" error (a bug) to standard error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback

from .errors import LocalOCRError, internal_errors

EXT = {"text": "txt", "json": "json", "hocr": "hocr"}


def _page_dict(page, fields=None) -> dict:
    d = page.to_dict()
    if fields:
        d["fields"] = page.fields(fields)      # --fields: localocr.fields, a top-level "fields" object
    return d


def _render(page, fmt: str, name: str, fields=None) -> str:
    if fmt == "json":
        return json.dumps(_page_dict(page, fields), ensure_ascii=False, separators=(",", ":")) + "\n"
    if fmt == "hocr":
        return page.to_hocr(image_name=name)
    return page.to_text()


def _error_entry(name: str, err: LocalOCRError) -> dict:
    return {"image": name, "error": {"code": err.code, "message": str(err)}}


def _out_path(args, name: str) -> str:
    stem = os.path.splitext(os.path.basename(name))[0] or "image"
    return os.path.join(args.out, f"{stem}.{EXT[args.format]}")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="localocr", description="Read the text in images, locally.")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files; - reads standard input")
    p.add_argument("--format", "-f", choices=sorted(EXT), default="text", help="output format (default text)")
    p.add_argument("--out", "-o", metavar="DIR", help="write one file per image into DIR")
    p.add_argument("--models", metavar="DIR", help="folder with detector*.onnx and recognizer*.onnx "
                   "(default: the bundled models, or $LOCALOCR_MODELS)")
    p.add_argument("--fields", choices=["receipt", "mrz", "auto"], help="also extract key fields (receipt: "
                   "company, date, address, total; mrz: a passport's or ID card's machine-readable zone; auto: "
                   "either); needs --format json, which then has a top-level \"fields\" object")
    p.add_argument("--min-confidence", type=float, default=None,
                   help="drop lines read with less confidence (default: the pipeline's own floor)")
    p.add_argument("--debug", action="store_true", help="print the traceback of internal errors")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.format == "hocr" and len(args.images) > 1 and not args.out:
        print("localocr: several images as hOCR need --out DIR", file=sys.stderr)
        return 2
    if args.fields and args.format != "json":
        print("localocr: --fields needs --format json", file=sys.stderr)
        return 2
    if args.images.count("-") > 1:
        print("localocr: standard input (-) can be read only once", file=sys.stderr)
        return 2
    from .pipeline import OCR
    try:
        kw = {} if args.min_confidence is None else {"min_confidence": args.min_confidence}
        ocr = OCR(models=args.models, **kw)
    except LocalOCRError as e:
        print(f"localocr: {e}", file=sys.stderr)
        return 1
    if args.out:
        os.makedirs(args.out, exist_ok=True)
    failed = 0
    collected = []
    for src in args.images:
        name = "stdin" if src == "-" else src
        try:
            with internal_errors():
                page = ocr.read(sys.stdin.buffer.read() if src == "-" else src)
        except LocalOCRError as e:
            print(f"localocr: {name}: {e} [{e.code}]", file=sys.stderr)
            if args.debug and e.__cause__ is not None:
                traceback.print_exception(e.__cause__, file=sys.stderr)
            failed += 1
            if args.format == "json":
                entry = json.dumps(_error_entry(name, e), ensure_ascii=False, separators=(",", ":")) + "\n"
                if args.out:
                    with open(_out_path(args, name), "w", encoding="utf-8") as f:
                        f.write(entry)
                elif len(args.images) > 1:
                    collected.append(_error_entry(name, e))
                else:
                    sys.stdout.write(entry)
            continue
        if args.out:
            with open(_out_path(args, name), "w", encoding="utf-8") as f:
                f.write(_render(page, args.format, os.path.basename(name), args.fields))
        elif args.format == "json" and len(args.images) > 1:
            collected.append({"image": name, "page": _page_dict(page, args.fields)})
        else:
            if len(args.images) > 1:
                sys.stdout.write(f"==> {name} <==\n")
            sys.stdout.write(_render(page, args.format, os.path.basename(name), args.fields))
    if collected:
        sys.stdout.write(json.dumps(collected, ensure_ascii=False, separators=(",", ":")) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
