"""Text sources for synthetic lines: real words plus what OCR users meet.

`sample_text(rng, max_chars)` returns one string in charset.ALPHABET. Every generator
is a small function of a `random.Random`, so a seed fixes the stream.
"""

from __future__ import annotations

import os
import random
import string

from export.charset import ALPHABET, clean_label

_ASSETS = os.environ.get("LOCALOCR_SYNTH_ASSETS")  # see lines.SYNTH_ASSETS
_DICT_FILES = (
    (os.path.join(_ASSETS, "words.txt"),)
    if _ASSETS
    else ("/usr/share/dict/american-english", "/usr/share/dict/british-english", "/usr/share/dict/words")
)

# French and other Western-European words so the accented letters appear in context
# (the Debian word lists are English only).
_EURO_WORDS = """café crème élève été où déjà très après première fenêtre forêt hôtel garçon français
leçon reçu façade naïve noël maïs coïncidence Bâle château côté hôpital goût août dîner île
Zürich Müller Köln München Größe Straße Fußball schön Mädchen Österreich Übersicht Äpfel
niño señor España año mañana piñata Ångström Århus smørrebrød Øresund København Æble
Cádiz Málaga Ørsted São Luís Crêpe Déjà Prix Numéro Qté TVA Montant Total Espèces Reçu Caisse
Gemüse Brötchen Käse Menge Betrag Summe Rückgeld Bar Quittung Kassenbon Zwischensumme""".split()

_TLDS = ["com", "org", "net", "de", "fr", "co.uk", "io", "es", "it", "nl", "my", "com.my", "eu"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_UNITS = ["kg", "g", "ml", "L", "pcs", "x", "EA", "PC", "%", "km", "cm", "mm", "°C", "µm", "m²"]
_CURRENCY_PRE = ["$", "£", "€", "¥", "RM", "RM ", "USD ", "EUR ", "CHF ", "S$", "A$"]
_CURRENCY_POST = [" €", "€", " EUR", " USD", " kr", " zł", " CHF", ""]

_WORDS: list[str] | None = None
_PROSE: list[list[str]] | None = None
_REAL: list[str] | None = None

# Real English prose on a Debian machine: the licence texts and Vim's manual.
_PROSE_GLOBS = (
    (os.path.join(_ASSETS, "prose", "*"),)
    if _ASSETS
    else ("/usr/share/common-licenses/*", "/usr/share/vim/vim*/doc/*.txt")
)
_PROSE_LINES = 60000  # enough variety; reading all of Vim's manual takes ~10 s
_DATA = os.environ.get("LOCALOCR_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data"))


def words() -> list[str]:
    """Real words from the Debian word lists (possessives dropped) plus accented European words."""
    global _WORDS
    if _WORDS is None:
        seen = set()
        for path in _DICT_FILES:
            if not os.path.exists(path):
                continue
            with open(path, encoding="utf-8", errors="ignore") as f:
                for line in f:
                    w = line.strip()
                    if w and not w.endswith("'s") and clean_label(w) == w:
                        seen.add(w)
        seen.update(_EURO_WORDS)
        _WORDS = sorted(seen)
    return _WORDS


def prose() -> list[list[str]]:
    """Lines of real prose as word lists (only words whose characters are all in ALPHABET)."""
    global _PROSE
    if _PROSE is None:
        import glob

        out = []
        for g in _PROSE_GLOBS:
            for path in sorted(glob.glob(g)):
                if os.path.isdir(path) or os.path.islink(path):
                    continue
                with open(path, encoding="utf-8", errors="ignore") as f:
                    for line in f:
                        ws = [
                            w
                            for w in line.split()
                            if clean_label(w) == w
                            and not set(w) <= set("*-=~|_.")
                            and w[0] not in "|*"
                            and w[-1] not in "|*"
                        ]
                        if len(ws) >= 2:
                            out.append(ws)
                if len(out) > _PROSE_LINES:
                    break
        _PROSE = out
    return _PROSE


def real_texts() -> list[str]:
    """Transcriptions of the real sets' TRAINING images (receipt lines, form words, French
    typescript lines): their vocabulary drawn in new fonts. Validation images are skipped."""
    global _REAL
    if _REAL is None:
        import json

        from localocr.splits import is_validation

        out = []
        for name, key in (("sroie_train", "lines"), ("funsd_train", "words"), ("tapuscorpus", "lines")):
            path = os.path.join(_DATA, name, "labels.jsonl")
            if not os.path.exists(path):
                continue
            with open(path) as f:
                for line in f:
                    rec = json.loads(line)
                    if is_validation(rec["image"]):
                        continue
                    for reg in rec.get(key) or []:
                        t = reg.get("text")
                        t = clean_label(t) if t and not reg.get("ignore") else None
                        if t:
                            out.append(t)
        _REAL = out
    return _REAL


def prose_line(rng: random.Random, max_chars: int) -> str:
    ws = rng.choice(prose())
    n = rng.randint(1, min(len(ws), 12))
    i = rng.randint(0, len(ws) - n)
    return " ".join(ws[i : i + n])


def real_text(rng: random.Random, max_chars: int) -> str:
    texts = real_texts()
    if not texts:
        return prose_line(rng, max_chars)
    t = rng.choice(texts)
    if t.isupper() and rng.random() < 0.6:
        # SROIE transcribes in capitals what receipts print in mixed case: draw both
        t = t.title() if rng.random() < 0.6 else t.lower()
    return t


def _word(rng: random.Random) -> str:
    w = rng.choice(words())
    r = rng.random()
    if r < 0.12:
        return w.upper()
    if r < 0.30:
        return w.capitalize()
    return w


def _digits(rng, n):
    return "".join(rng.choice(string.digits) for _ in range(n))


def _number(rng: random.Random, decimals: int | None = None, comma: bool = False) -> str:
    big = rng.random() < 0.3
    v = rng.uniform(0, 99999 if big else 999) if rng.random() < 0.8 else rng.uniform(0, 20)
    d = rng.choice([0, 2, 2, 2, 1, 3]) if decimals is None else decimals
    s = f"{v:,.{d}f}"
    if rng.random() < 0.5:
        s = s.replace(",", "")
    if comma:  # European style: 1.299,00
        s = s.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return s


def price(rng):
    eu = rng.random() < 0.4
    n = _number(rng, decimals=2, comma=eu)
    if rng.random() < 0.5:
        return rng.choice(_CURRENCY_PRE) + n
    return n + (rng.choice(_CURRENCY_POST) if eu else rng.choice(["", "", " $", " USD"]))


def date(rng):
    y, m, d = rng.randint(1950, 2035), rng.randint(1, 12), rng.randint(1, 28)
    fmts = [
        f"{d:02d}/{m:02d}/{y}",
        f"{m:02d}/{d:02d}/{y % 100:02d}",
        f"{y}-{m:02d}-{d:02d}",
        f"{d}.{m}.{y}",
        f"{d:02d}.{m:02d}.{y % 100:02d}",
        f"{d} {_MONTHS[m - 1]} {y}",
        f"{_MONTHS[m - 1][:3]} {d}, {y}",
        f"{d:02d}-{_MONTHS[m - 1][:3].upper()}-{y}",
        f"{_DAYS[rng.randint(0, 6)]}, {_MONTHS[m - 1]} {d}, {y}",
        f"{d:02d}{m:02d}{y % 100:02d}",
    ]
    return rng.choice(fmts)


def time_(rng):
    h, mi, s = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    return rng.choice(
        [
            f"{h:02d}:{mi:02d}",
            f"{h:02d}:{mi:02d}:{s:02d}",
            f"{(h % 12) or 12}:{mi:02d} {'AM' if h < 12 else 'PM'}",
            f"{h}h{mi:02d}",
            f"{(h % 12) or 12}:{mi:02d}{'am' if h < 12 else 'pm'}",
        ]
    )


def phone(rng):
    return rng.choice(
        [
            f"+1 ({_digits(rng, 3)}) {_digits(rng, 3)}-{_digits(rng, 4)}",
            f"({_digits(rng, 3)}) {_digits(rng, 3)}-{_digits(rng, 4)}",
            f"+44 {_digits(rng, 2)} {_digits(rng, 4)} {_digits(rng, 4)}",
            f"0{_digits(rng, 1)} {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)}",
            f"+49 {_digits(rng, 3)} {_digits(rng, 7)}",
            f"0{_digits(rng, 2)}-{_digits(rng, 7)}",
            f"TEL: {_digits(rng, 3)}-{_digits(rng, 7)}",
            f"Tel. {_digits(rng, 4)} {_digits(rng, 6)}",
        ]
    )


def email(rng):
    a = rng.choice(words()).lower()
    b = rng.choice(words()).lower()
    sep = rng.choice([".", "_", "", "-"])
    user = (a + sep + b)[:20] + (_digits(rng, rng.randint(0, 3)))
    return f"{user}@{rng.choice(words()).lower()[:12]}.{rng.choice(_TLDS)}"


def url(rng):
    host = rng.choice(words()).lower()[:14] + rng.choice(["", "-" + rng.choice(words()).lower()[:8]])
    path = rng.choice(
        [
            "",
            "/" + rng.choice(words()).lower(),
            f"/p/{_digits(rng, 5)}",
            f"/{rng.choice(words()).lower()}?id={_digits(rng, 4)}",
        ]
    )
    return rng.choice(["https://", "http://", "www.", ""]) + f"{host}.{rng.choice(_TLDS)}{path}"


def code(rng):
    up = string.ascii_uppercase
    return rng.choice(
        [
            f"INV-{rng.randint(2000, 2030)}/{_digits(rng, 4)}",
            f"SKU {_digits(rng, 8)}",
            f"#{_digits(rng, rng.randint(3, 9))}",
            f"No. {_digits(rng, rng.randint(2, 7))}",
            f"{''.join(rng.choice(up) for _ in range(3))}{_digits(rng, rng.randint(3, 8))}",
            f"{rng.choice(up)}{rng.choice(up)}-{_digits(rng, 3)}-{rng.choice(up)}{_digits(rng, 2)}",
            f"ORDER #{_digits(rng, 6)}",
            f"Ref: {''.join(rng.choice(up + string.digits) for _ in range(10))}",
            f"{_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)}",
            f"**** **** **** {_digits(rng, 4)}",
            f"GST REG NO: {_digits(rng, 12)}",
            f"ISBN 978-{_digits(rng, 1)}-{_digits(rng, 3)}-{_digits(rng, 5)}-{_digits(rng, 1)}",
            f"FR76 {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)}",
            f"{_digits(rng, 13)}",
        ]
    )


def mrz(rng):
    up = string.ascii_uppercase

    def name():
        return "".join(rng.choice(up) for _ in range(rng.randint(3, 10)))

    if rng.random() < 0.5:
        s = f"P<{''.join(rng.choice(up) for _ in range(3))}{name()}<<{name()}<{name()}"
    else:
        s = (
            f"{''.join(rng.choice(up + string.digits) for _ in range(9))}{_digits(rng, 1)}"
            f"{''.join(rng.choice(up) for _ in range(3))}{_digits(rng, 7)}{rng.choice('MF<')}{_digits(rng, 7)}"
        )
    return (s + "<" * 44)[:44] if rng.random() < 0.5 else (s + "<" * 30)[: rng.randint(len(s), 44)]


def plate(rng):
    up = string.ascii_uppercase.replace("I", "").replace("O", "")
    L = lambda n: "".join(rng.choice(up) for _ in range(n))  # noqa: E731
    return rng.choice(
        [
            f"{_digits(rng, 1)}{L(3)}{_digits(rng, 3)}",
            f"{L(3)}{_digits(rng, 4)}",
            f"{L(2)}-{_digits(rng, 3)}-{L(2)}",
            f"{L(2)}{_digits(rng, 2)} {L(3)}",
            f"{L(1)}-{L(2)} {_digits(rng, 4)}",
            f"{L(3)} {_digits(rng, 3)}",
            f"{_digits(rng, 3)}-{L(3)}",
            f"{L(1)}{_digits(rng, 3)}{L(3)}",
            f"{L(3)}{_digits(rng, 3)}",
            f"{_digits(rng, 2)}{L(1)}{_digits(rng, 4)}",
        ]
    )


def receipt_line(rng, max_chars: int):
    item = " ".join(_word(rng) for _ in range(rng.randint(1, 3)))
    if rng.random() < 0.5:
        item = item.upper()
    amount = _number(rng, decimals=2, comma=rng.random() < 0.3)
    form = rng.random()
    if form < 0.3:
        qty = f"{rng.randint(1, 12)} x {_number(rng, decimals=2)}"
        left = f"{item} {qty}"
    elif form < 0.5:
        left = rng.choice(
            [
                "TOTAL",
                "Subtotal",
                "SUBTOTAL",
                "Tax",
                "GST 6%",
                "CASH",
                "CHANGE",
                "Total TTC",
                "TVA 20%",
                "MwSt 19%",
                "Rounding",
                "Discount",
                "TOTAL DUE",
                "Amount Paid",
            ]
        )
    else:
        left = item
    n = rng.randint(len(left) + len(amount) + 2, max(len(left) + len(amount) + 2, min(max_chars, 48)))
    fill = rng.choice([".", " ", " ", "-", "_"])
    dots = fill * max(1, n - len(left) - len(amount) - 2)
    return f"{left} {dots} {amount}" if fill != " " else f"{left}{' ' * 3}{amount}"


def sentence(rng, max_chars: int):
    n = rng.randint(1, 12)
    ws = [_word(rng) for _ in range(n)]
    s = " ".join(ws)
    if rng.random() < 0.4:
        s = s[0].upper() + s[1:] + rng.choice([".", ",", ":", ";", "!", "?", "", ""])
    if rng.random() < 0.15:
        q = rng.choice([('"', '"'), ("“", "”"), ("«", "»"), ("(", ")"), ("'", "'"), ("‘", "’"), ("[", "]")])
        s = q[0] + s + q[1]
    if rng.random() < 0.1:
        s = rng.choice(["• ", "- ", "* ", "— ", "1. ", "a) ", "§ 3 "]) + s
    if rng.random() < 0.05:
        s = s + "…"
    return s


def heading(rng, max_chars):
    return " ".join(_word(rng) for _ in range(rng.randint(1, 5))).upper()


def random_chars(rng, max_chars):
    """Uniform characters from the whole alphabet: makes sure rare ones are seen."""
    n = rng.randint(1, min(max_chars, 20))
    s = "".join(rng.choice(ALPHABET) for _ in range(n)).strip()
    return s or "x"


def mixed(rng, max_chars):
    parts = [
        rng.choice([_word, _word, _word, price, date, time_, phone, code, _num_unit])(rng)
        for _ in range(rng.randint(2, 6))
    ]
    return rng.choice([" ", " ", "  ", " | ", ", ", " - "]).join(parts)


def _num_unit(rng):
    return f"{_number(rng)}{rng.choice(['', ' '])}{rng.choice(_UNITS)}"


# (weight, generator): words and prose dominate; the rest covers the forms OCR users meet.
_KINDS = [
    (22, lambda r, m: _word(r)),
    (12, sentence),
    (14, prose_line),
    (8, real_text),
    (8, mixed),
    (7, receipt_line),
    (4, heading),
    (4, lambda r, m: price(r)),
    (4, lambda r, m: date(r)),
    (2, lambda r, m: time_(r)),
    (3, lambda r, m: phone(r)),
    (2, lambda r, m: email(r)),
    (2, lambda r, m: url(r)),
    (4, lambda r, m: code(r)),
    (2, lambda r, m: mrz(r)),
    (3, lambda r, m: plate(r)),
    (2, lambda r, m: _num_unit(r)),
    (3, random_chars),
]
_TOTAL = sum(w for w, _ in _KINDS)


def sample_text(rng: random.Random, max_chars: int = 70) -> str:
    """One clean string of 1..max_chars characters, all in ALPHABET."""
    while True:
        x = rng.uniform(0, _TOTAL)
        for w, gen in _KINDS:  # noqa: B007 (the kind the loop stops at is the one drawn)
            x -= w
            if x <= 0:
                break
        s = clean_label(gen(rng, max_chars)[:max_chars].strip())
        if s:
            return s
