"""Key fields of receipts and ID documents, from a Page (stdlib + numpy: runs in Pyodide too).

    page.fields("receipt")   # {"kind": "receipt", "company": F, "date": F, "address": F, "total": F}
    page.fields("mrz")       # {"kind": "mrz", "format": "TD1"|"TD2"|"TD3", "lines": [...], "valid": bool,
                             #  "checks": {name: bool}, "document_type": F, "issuing_state": F,
                             #  "surname": F, "given_names": F, "number": F, "nationality": F,
                             #  "birth_date": F, "sex": F, "expiry_date": F, "optional": F}
    page.fields("auto")      # "mrz" where the page has a machine-readable zone, else "receipt"

Each F is {"value": str, "confidence": float, "quads": [[[x, y] * 4], ...]} or None when absent;
dates and totals also carry "normalized" (ISO 8601 date; decimal amount), totals a "currency"
where one is printed. The CLI writes this object as the page JSON's top-level "fields".
"""

from __future__ import annotations

from ..errors import LocalOCRError
from .mrz import extract_mrz, find_mrz
from .receipt import extract_receipt, looks_like_receipt
from .receipt import reread_lines as _receipt_lines

KINDS = ("auto", "receipt", "mrz")


def check_kind(kind: str) -> None:
    """Refuse a kind of fields other than KINDS (code "bad_fields_kind")."""
    if kind not in KINDS:
        raise LocalOCRError(f"Unknown kind of fields {kind!r}: choose receipt, mrz or auto.", "bad_fields_kind")


def extract(page, kind: str = "auto") -> dict:
    """The fields object of `page` for `kind` ("receipt", "mrz" or "auto")."""
    check_kind(kind)
    found = find_mrz(page) if kind != "receipt" else None
    if kind == "auto":
        kind = "mrz" if found is not None else "receipt"
    return extract_mrz(page, found) if kind == "mrz" else extract_receipt(page)


def reread_lines(page, kind: str) -> list[int]:
    """Which lines of `page` (a first, plain read) the fields of `kind` come from and are worth the
    accurate recognizer tier whatever the fast tier's confidence (`OCR.read(image, fields=kind)`
    reads them again before the fields are taken): a receipt's company, address and total lines
    (`receipt.reread_lines`); none for an MRZ (its check digits put the look-alikes right), nor for
    "auto" on a page with an MRZ, or without a total keyword and an amount on one line."""
    check_kind(kind)
    if kind == "mrz" or (kind == "auto" and (find_mrz(page) is not None or not looks_like_receipt(page))):
        return []
    return _receipt_lines(page)


__all__ = ["KINDS", "check_kind", "extract", "extract_mrz", "extract_receipt", "reread_lines"]
