"""The recognizer's alphabet, written once: the export writes it into the model metadata.

Class 0 is the CTC blank; class i+1 is ALPHABET[i]. Everything else (the synthetic
corpus, the label clean-up of real crops, the tests) reads ALPHABET from here.
"""

from __future__ import annotations

import unicodedata

# Printable ASCII, space (0x20) to tilde (0x7E): 95 characters.
_ASCII = "".join(chr(c) for c in range(0x20, 0x7F))
# Latin-1 letters people meet in Western-European text (issue 5), small then capital.
# (ß has no Latin-1 capital; ÿ's capital Ÿ is in cp1252 and French all-caps text.)
_LETTERS_LOWER = "éèêëàâäçîïôöùûüÿñßæøå"
_LETTERS_UPPER = "ÉÈÊËÀÂÄÇÎÏÔÖÙÛÜŸÑÆØÅ"
# Signs: currency, legal marks, degree, section, micro, fractions, quotes, dashes, bullet, ellipsis.
_SIGNS = "€£¥¢©®°§µ½¼¾«»“”‘’–—•…"

ALPHABET = _ASCII + _LETTERS_LOWER + _LETTERS_UPPER + _SIGNS

# Characters that sources write in another code point for the same glyph.
_EQUIVALENTS = {
    "\u00a0": " ",  # no-break space
    "\u2009": " ",
    "\u202f": " ",
    "\u2007": " ",  # thin / narrow / figure spaces
    "\t": " ",
    "\u2212": "-",  # minus sign
    "\u2010": "-",
    "\u2011": "-",  # hyphen, non-breaking hyphen
    "\u2013": "–",
    "\u2014": "—",
    "\u00b4": "'",  # acute accent used as apostrophe
    "\u2032": "'",  # prime
    "\u201e": "“",  # low double quote -> opening double quote (same role)
    "\u00ad": "",  # soft hyphen (invisible)
    "\u0153": "oe",
    "\u0152": "OE",  # œ is not Latin-1: spelt out
    "\u00b7": ".",  # middle dot
}

_INDEX = {c: i + 1 for i, c in enumerate(ALPHABET)}


def clean_label(text: str) -> str | None:
    """NFC text -> text in ALPHABET (equivalents mapped, runs of spaces collapsed, ends stripped).

    Returns None when a character has no place in the alphabet, so the caller drops
    the sample instead of training on a wrong target.
    """
    t = unicodedata.normalize("NFC", text)
    t = "".join(_EQUIVALENTS.get(c, c) for c in t)
    t = " ".join(t.split())
    if not t or any(c not in _INDEX for c in t):
        return None
    return t


def encode(text: str) -> list[int]:
    """Text (already clean) -> class indices 1..len(ALPHABET)."""
    return [_INDEX[c] for c in text]


def decode_greedy(best: list[int]) -> str:
    """Best class per frame -> text: merge repeats, drop blanks (class 0)."""
    out, prev = [], 0
    for k in best:
        if k != prev and k != 0:
            out.append(ALPHABET[k - 1])
        prev = k
    return "".join(out)


def case_pairs() -> list[tuple[int, int]]:
    """(lower class, upper class) for every letter whose both cases are in ALPHABET."""
    pairs = []
    for c in ALPHABET:
        u = c.upper()
        if c != u and len(u) == 1 and u in _INDEX:
            pairs.append((_INDEX[c], _INDEX[u]))
    return pairs
