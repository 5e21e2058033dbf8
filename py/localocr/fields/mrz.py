"""Machine-readable zones of passports and ID cards (ICAO Doc 9303, parts 3-6).

Staged, each stage callable on its own:

    check_digit("L898902C3")              -> "6"   (weights 7, 3, 1; A=10 .. Z=35, < = 0)
    compose("TD3", surname=..., ...)      -> the MRZ lines, check digits computed
    find_mrz(page)                        -> the page's MRZ rows (text + quads), or None
    repair_lines(texts, fmt)              -> lines of the format's length, confusions fixed where
                                             a check digit confirms them
    parse(lines)                          -> MRZ: every field, every check
    extract_mrz(page)                     -> the "mrz" fields object of localocr.fields

Formats: TD1 (ID cards, 3 lines of 30), TD2 (2 of 36), TD3 (passports, 2 of 44);
characters A-Z, 0-9 and the filler `<`.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from .common import make_field, mean_confidence, sub_quad

MRZ_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"
FILLER = "<"
_VALUES = {c: i for i, c in enumerate(MRZ_CHARS[:36])}
_VALUES[FILLER] = 0
_WEIGHTS = (7, 3, 1)


def check_digit(data: str) -> str:
    """The ICAO 9303 check digit of `data` (part 3, 4.9): digits count as themselves, A-Z as
    10-35, the filler as 0, weighted 7, 3, 1, 7, ... and summed modulo 10."""
    try:
        return str(sum(_VALUES[c] * _WEIGHTS[i % 3] for i, c in enumerate(data)) % 10)
    except KeyError as e:
        raise ValueError(f"not an MRZ character: {e.args[0]!r}") from None


# ---------------------------------------------------------------- the three layouts


# A span is (line, start, end) in 0-based character positions, end excluded.
@dataclass(frozen=True)
class Check:
    name: str
    data: tuple  # spans the digit covers
    digit: tuple  # (line, position) of the digit
    may_be_filler: bool = False  # optional data of all fillers may have a filler as its digit


@dataclass(frozen=True)
class Format:
    name: str
    lines: int
    length: int
    spans: dict  # field name -> span
    checks: tuple  # Check, in the order they are verified (composite last)

    def template(self) -> list[str]:
        """Per line, one class per position: N digit, A letter or filler, X either."""
        t = [["X"] * self.length for _ in range(self.lines)]
        for name, (ln, a, b) in self.spans.items():
            kind = _FIELD_CLASS.get(name, "X")
            for i in range(a, b):
                t[ln][i] = kind
        for c in self.checks:
            t[c.digit[0]][c.digit[1]] = "N"
        return ["".join(r) for r in t]


_FIELD_CLASS = {
    "document_type": "A",
    "issuing_state": "A",
    "names": "A",
    "nationality": "A",
    "sex": "A",
    "birth_date": "N",
    "expiry_date": "N",
    "number": "X",
    "optional": "X",
    "optional2": "X",
}

TD3 = Format(
    "TD3",
    2,
    44,
    {
        "document_type": (0, 0, 2),
        "issuing_state": (0, 2, 5),
        "names": (0, 5, 44),
        "number": (1, 0, 9),
        "nationality": (1, 10, 13),
        "birth_date": (1, 13, 19),
        "sex": (1, 20, 21),
        "expiry_date": (1, 21, 27),
        "optional": (1, 28, 42),
    },
    (
        Check("number", ((1, 0, 9),), (1, 9)),
        Check("birth_date", ((1, 13, 19),), (1, 19)),
        Check("expiry_date", ((1, 21, 27),), (1, 27)),
        Check("optional", ((1, 28, 42),), (1, 42), True),
        Check("composite", ((1, 0, 10), (1, 13, 20), (1, 21, 43)), (1, 43)),
    ),
)

TD2 = Format(
    "TD2",
    2,
    36,
    {
        "document_type": (0, 0, 2),
        "issuing_state": (0, 2, 5),
        "names": (0, 5, 36),
        "number": (1, 0, 9),
        "nationality": (1, 10, 13),
        "birth_date": (1, 13, 19),
        "sex": (1, 20, 21),
        "expiry_date": (1, 21, 27),
        "optional": (1, 28, 35),
    },
    (
        Check("number", ((1, 0, 9),), (1, 9)),
        Check("birth_date", ((1, 13, 19),), (1, 19)),
        Check("expiry_date", ((1, 21, 27),), (1, 27)),
        Check("composite", ((1, 0, 10), (1, 13, 20), (1, 21, 35)), (1, 35)),
    ),
)

TD1 = Format(
    "TD1",
    3,
    30,
    {
        "document_type": (0, 0, 2),
        "issuing_state": (0, 2, 5),
        "number": (0, 5, 14),
        "optional": (0, 15, 30),
        "birth_date": (1, 0, 6),
        "sex": (1, 7, 8),
        "expiry_date": (1, 8, 14),
        "nationality": (1, 15, 18),
        "optional2": (1, 18, 29),
        "names": (2, 0, 30),
    },
    (
        Check("number", ((0, 5, 14),), (0, 14)),
        Check("birth_date", ((1, 0, 6),), (1, 6)),
        Check("expiry_date", ((1, 8, 14),), (1, 14)),
        Check("composite", ((0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)), (1, 29)),
    ),
)

FORMATS = {f.name: f for f in (TD1, TD2, TD3)}


# ---------------------------------------------------------------- composing (field values -> lines)


def mrz_text(value: str) -> str:
    """A printed value in MRZ characters: upper case, accents dropped, spaces, hyphens and
    other signs turned into fillers, apostrophes left out (ICAO 9303 part 3, 6.A)."""
    s = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode().upper()
    s = s.replace("'", "")
    return re.sub(r"[^A-Z0-9<]", FILLER, s)


def _fit(value: str, width: int) -> str:
    return mrz_text(value)[:width].ljust(width, FILLER)


def name_field(surname: str, given_names: str, width: int) -> str:
    """`SURNAME<<GIVEN<NAMES<<<` cut or filled to `width`."""
    s = mrz_text(surname).strip(FILLER)
    g = mrz_text(given_names).strip(FILLER)
    return _fit(s + (FILLER * 2 + g if g else ""), width)


def compose(
    fmt: str,
    *,
    document_type: str,
    issuing_state: str,
    surname: str,
    given_names: str,
    number: str,
    nationality: str,
    birth_date: str,
    sex: str,
    expiry_date: str,
    optional: str = "",
    optional2: str = "",
) -> list[str]:
    """The MRZ lines of a document of format `fmt` ("TD1", "TD2", "TD3"), every check digit
    computed. Dates are YYMMDD; `sex` is "M", "F" or "" (filler); `optional2` is TD1's second
    optional field. A TD1 document number longer than 9 characters continues in the optional
    field (ICAO 9303 part 5, note j). Raises ValueError on a value that does not fit."""
    f = FORMATS.get(fmt)
    if f is None:
        raise ValueError(f"unknown MRZ format {fmt!r} (TD1, TD2 or TD3)")
    for name, value in (("birth_date", birth_date), ("expiry_date", expiry_date)):
        if not re.fullmatch(r"\d{6}", value):
            raise ValueError(f"{name} must be YYMMDD, got {value!r}")
    number = mrz_text(number).strip(FILLER)
    optional = mrz_text(optional)
    lines = [[FILLER] * f.length for _ in range(f.lines)]

    def put(span, text):
        ln, a, b = span
        lines[ln][a:b] = _fit(text, b - a)

    put(f.spans["document_type"], document_type)
    put(f.spans["issuing_state"], issuing_state)
    put(f.spans["nationality"], nationality)
    put(f.spans["birth_date"], birth_date)
    put(f.spans["expiry_date"], expiry_date)
    put(f.spans["sex"], sex or FILLER)
    ln, a, b = f.spans["names"]
    lines[ln][a:b] = name_field(surname, given_names, b - a)
    ln, a, b = f.spans["number"]
    if len(number) > b - a:
        if f is not TD1:
            raise ValueError(f"document number {number!r} is longer than {b - a} characters")
        # the first 9 characters, a filler where the check digit was, then the rest and its check digit
        rest = number[9:] + check_digit(number)
        optional = (rest + FILLER + optional.strip(FILLER)) if optional.strip(FILLER) else rest
        lines[ln][a:b] = number[:9]
        lines[ln][b] = FILLER
        number_done = True
    else:
        put(f.spans["number"], number)
        number_done = False
    if len(optional.rstrip(FILLER)) > f.spans["optional"][2] - f.spans["optional"][1]:
        raise ValueError(f"optional data {optional!r} does not fit")
    put(f.spans["optional"], optional)
    if "optional2" in f.spans:
        put(f.spans["optional2"], optional2)
    for c in f.checks:
        if c.name == "number" and number_done:
            continue
        data = "".join("".join(lines[ln][a:b]) for ln, a, b in c.data)
        if c.may_be_filler and set(data) == {FILLER}:
            digit = FILLER
        else:
            digit = check_digit(data)
        lines[c.digit[0]][c.digit[1]] = digit
    return ["".join(r) for r in lines]


# ---------------------------------------------------------------- checks


def _span_text(lines, span) -> str:
    ln, a, b = span
    return lines[ln][a:b]


def check_passes(lines: list[str], c: Check) -> bool:
    data = "".join(_span_text(lines, s) for s in c.data)
    digit = lines[c.digit[0]][c.digit[1]]
    if c.may_be_filler and digit == FILLER and set(data) <= {FILLER}:
        return True
    if c.name == "number" and digit == FILLER:
        # a TD1/TD2 number of more than 9 characters: its rest and check digit open the optional data
        return _long_number(lines, c) is not None
    try:
        return digit == check_digit(data)
    except ValueError:
        return False


def _long_number(lines, c: Check):
    """(number, optional rest) of a number continued in the optional field, when its check digit holds."""
    fmt = _format_of(lines)
    if fmt is None or fmt is TD3:
        return None
    head = _span_text(lines, fmt.spans["number"])
    opt = _span_text(lines, fmt.spans["optional"])
    m = re.match(r"([A-Z0-9]*?)([0-9])(<|$)", opt)
    if not m:
        return None
    number = head + m.group(1)
    if check_digit(number) != m.group(2):
        return None
    return number, opt[m.end() :]


def run_checks(lines: list[str], fmt: Format) -> dict:
    return {c.name: check_passes(lines, c) for c in fmt.checks}


def _format_of(lines):
    for f in FORMATS.values():
        if len(lines) == f.lines and all(len(x) == f.length for x in lines):
            return f
    return None


# ---------------------------------------------------------------- reading repair

# Characters the recognizer reads for the filler, and the letter/digit look-alikes of OCR-B.
_AS_FILLER = {"«": "<<", "‹": "<", "(": "<", "{": "<", "[": "<", "c": "<", "k": "<", "К": "<"}
TO_DIGIT = {
    "O": "0",
    "Q": "0",
    "D": "0",
    "U": "0",
    "I": "1",
    "L": "1",
    "T": "1",
    "B": "8",
    "S": "5",
    "Z": "2",
    "G": "6",
    "A": "4",
}
TO_LETTER = {"0": "O", "1": "I", "8": "B", "5": "S", "2": "Z", "6": "G", "4": "A"}
# The confusions corrected in alphanumeric fields (number, optional data), both ways, and only
# where the field's check digit confirms the change.
CONFUSABLE = {"O": "0", "0": "O", "I": "1", "1": "I", "B": "8", "8": "B", "S": "5", "5": "S", "Z": "2", "2": "Z"}
MAX_FLIPS = 10  # at most 2**10 candidate spellings per field


def clean_line(text: str) -> str:
    """A read MRZ line in MRZ characters: spaces dropped, filler look-alikes turned into fillers,
    upper case, anything else a filler."""
    s = "".join(_AS_FILLER.get(ch, ch) for ch in text if not ch.isspace())
    s = s.upper()
    return "".join(ch if ch in MRZ_CHARS else FILLER for ch in s)


def _conformity(line: str, template: str) -> int:
    score = 0
    for ch, t in zip(line, template):
        if t == "N":
            score += ch.isdigit()
        elif t == "A":
            score += not ch.isdigit()
        else:
            score += 1
    return score


def _runs(line: str):
    """(start, end) of each run of fillers, and the end of the line as an empty run."""
    out = [(m.start(), m.end()) for m in re.finditer("<+", line)]
    return out + [(len(line), len(line))]


def fit_length(line: str, length: int, template: str) -> str:
    """Grow or shrink a line to `length` where the reading most likely lost or added characters:
    filler runs (a recognizer miscounts `<<<<<`). Each step adds or drops one filler in the run
    that best lines the line up with the format's digit/letter template (ties: the longest run)."""
    while len(line) != length:
        best = None
        for a, b in _runs(line):
            if len(line) < length:
                cand = line[:b] + FILLER + line[b:]
            elif b > a:
                cand = line[:a] + line[a + 1 :]
            else:
                continue
            score = (_conformity(cand, template), b - a, a)
            if best is None or score > best[0]:
                best = (score, cand)
        if best is None:  # too long and no filler to drop: the end is the likeliest excess
            line = line[:length]
        else:
            line = best[1]
    return line


def _set(lines, ln, i, ch):
    lines[ln] = lines[ln][:i] + ch + lines[ln][i + 1 :]


def repair_lines(texts: list[str], fmt: Format) -> tuple[list[str], list[str]]:
    """MRZ lines as read -> (lines of the format, corrections made). Lengths are fitted (filler
    runs); digit-only positions (dates, check digits) and letter-only positions (codes, names,
    sex) take the look-alike of their class; alphanumeric fields (document number, optional
    data) change O/0, I/1, B/8, S/5, Z/2 only where their check digit confirms it."""
    template = fmt.template()
    lines = [fit_length(clean_line(t), fmt.length, template[i]) for i, t in enumerate(texts)]
    fixes = []
    # class look-alikes in single-class positions
    for ln, row in enumerate(template):
        for i, t in enumerate(row):
            ch = lines[ln][i]
            if t == "N" and ch in TO_DIGIT:
                new = TO_DIGIT[ch]
            elif t == "A" and ch in TO_LETTER:
                new = TO_LETTER[ch]
            else:
                continue
            _set(lines, ln, i, new)
            fixes.append(f"line {ln + 1} col {i + 1}: {ch}->{new}")
    # alphanumeric fields: the fewest changes that the field's check digit confirms; then optional
    # data that only the composite covers (TD1, TD2), by the composite
    composite = fmt.checks[-1]
    covered = {(ln, i) for c in fmt.checks[:-1] for ln, a, b in c.data for i in range(a, b)}
    steps = [(c, _confusable(lines, template, c.data)) for c in fmt.checks[:-1]]
    steps.append((composite, [p for p in _confusable(lines, template, composite.data) if p not in covered]))
    for c, pos in steps:
        if check_passes(lines, c):
            continue
        best = _least_flips(lines, pos, c, composite)
        if best:
            for ln, i in best[0]:
                fixes.append(f"line {ln + 1} col {i + 1}: {lines[ln][i]}->{best[1][ln][i]}")
            lines = best[1]
    return lines, fixes


def _least_flips(lines, pos, check: Check, composite: Check):
    """(positions, lines) of the fewest look-alike changes at `pos` that make `check` pass: the one
    spelling that does, or among several the one the composite check also confirms; else None."""
    for k in range(1, len(pos) + 1):
        found = []
        for combo in itertools.combinations(pos, k):
            trial = list(lines)
            for ln, i in combo:
                _set(trial, ln, i, CONFUSABLE[trial[ln][i]])
            if check_passes(trial, check):
                found.append((combo, trial))
        if found:
            if len(found) > 1:
                found = [f for f in found if check_passes(f[1], composite)]
            return found[0] if len(found) == 1 else None
    return None


def _confusable(lines, template, spans) -> list:
    """Positions in `spans` of alphanumeric class holding a look-alike (at most MAX_FLIPS)."""
    return [
        (ln, i) for ln, a, b in spans for i in range(a, b) if template[ln][i] == "X" and lines[ln][i] in CONFUSABLE
    ][:MAX_FLIPS]


# ---------------------------------------------------------------- parsing


@dataclass
class MRZ:
    format: str
    lines: list
    checks: dict
    values: dict  # field name -> value as printed (fillers removed, names with spaces)
    spans: dict  # field name -> [span, ...] the value was read from

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(self.checks.values())


def _strip(s: str) -> str:
    return re.sub("<+", " ", s).strip()


def split_names(field: str) -> tuple[str, str]:
    """`ERIKSSON<<ANNA<MARIA<<<` -> ("ERIKSSON", "ANNA MARIA")."""
    surname, _, given = field.strip(FILLER).partition("<<")
    return _strip(surname), _strip(given)


def parse(lines: list[str]) -> MRZ:
    """The fields and checks of MRZ lines of exactly a format's shape (repair them first)."""
    fmt = _format_of(lines)
    if fmt is None:
        raise ValueError("MRZ lines must be 3x30 (TD1), 2x36 (TD2) or 2x44 (TD3)")
    values, spans = {}, {}
    for name, span in fmt.spans.items():
        values[name] = _span_text(lines, span)
        spans[name] = [span]
    surname, given = split_names(values.pop("names"))
    names_span = spans.pop("names")
    values["surname"], values["given_names"] = surname, given
    spans["surname"] = spans["given_names"] = names_span
    long = (
        _long_number(lines, fmt.checks[0]) if lines[fmt.checks[0].digit[0]][fmt.checks[0].digit[1]] == FILLER else None
    )
    if long:
        values["number"], values["optional"] = long[0], long[1]
        spans["number"] = spans["number"] + spans["optional"]
    for name in list(values):
        values[name] = values[name] if name in ("surname", "given_names") else _strip(values[name])
    if "optional2" in values:
        values["optional"] = " ".join(v for v in (values.pop("optional"), values.pop("optional2")) if v)
        spans["optional"] = spans["optional"] + spans.pop("optional2")
    return MRZ(fmt.name, list(lines), run_checks(lines, fmt), values, spans)


def mrz_date(yymmdd: str, kind: str, today: _dt.date | None = None) -> str | None:
    """ISO 8601 date of an MRZ date. The century: a birth date is never in the future; an
    expiry date lies within 50 years before or after today."""
    if not re.fullmatch(r"\d{6}", yymmdd):
        return None
    today = today or _dt.date.today()
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    century = today.year // 100 * 100
    year = century + yy
    if kind == "birth" and year > today.year:
        year -= 100
    if kind == "expiry" and year > today.year + 50:
        year -= 100
    try:
        return _dt.date(year, mm, dd).isoformat()
    except ValueError:
        return None


# ---------------------------------------------------------------- finding the MRZ on a page


@dataclass
class Row:
    """One MRZ line as found on the page: its text (lines of one row joined), quad, words."""

    text: str
    quad: object
    words: list


MIN_CHARS = 20  # an MRZ line has 30, 36 or 44 characters; a cut-off one still ~20
MIN_MRZ_SHARE = 0.9  # share of its characters that are MRZ characters (after clean-up)


def _mrz_like(text: str) -> bool:
    raw = "".join(text.split())
    if len(raw) < MIN_CHARS:
        return False
    ok = sum(ch in MRZ_CHARS or ch in _AS_FILLER for ch in raw)
    return ok / len(raw) >= MIN_MRZ_SHARE


def _has_filler(text: str) -> bool:
    return "<<" in text or "«" in text


def find_mrz(page):
    """The rows of the page that look like an MRZ, top to bottom, and their format; or None.
    The detector may split an MRZ line into segments (layout joins them), or the layout may
    leave parts of one row in separate lines: lines whose centres are on one row are joined."""
    cands = [ln for ln in page.lines if _mrz_like(ln.text)]
    if not cands:
        return None
    # page direction from the candidates themselves: rows ordered along their normal
    q0 = np.asarray(cands[0].quad, np.float64).reshape(4, 2)
    d = (q0[1] - q0[0]) + (q0[2] - q0[3])
    d = d / (np.linalg.norm(d) or 1.0)
    n = np.array([-d[1], d[0]])
    info = []
    for ln in cands:
        q = np.asarray(ln.quad, np.float64).reshape(4, 2)
        c = q.mean(axis=0)
        h = (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
        info.append((float(c @ n), float(c @ d), h, ln, q))
    info.sort(key=lambda t: t[0])
    rows: list[list] = []
    for item in info:
        if rows and abs(item[0] - rows[-1][-1][0]) < 0.5 * min(item[2], rows[-1][-1][2]):
            rows[-1].append(item)
        else:
            rows.append([item])
    found = []
    for row in rows:
        row.sort(key=lambda t: t[1])
        first, last = row[0][4], row[-1][4]
        quad = np.array([first[0], last[1], last[2], first[3]])
        found.append(Row("".join("".join(t[3].text.split()) for t in row), quad, [w for t in row for w in t[3].words]))
    return choose_format(found)


def choose_format(rows):
    """(format, rows): the run of 2 or 3 consecutive rows, one with "<<" at least, whose lengths
    best fit a format, the lowest on the page preferred (the MRZ closes a document)."""
    best = None
    for f in (TD1, TD2, TD3):
        for start in range(0, len(rows) - f.lines + 1):
            window = rows[start : start + f.lines]
            if not any(_has_filler(r.text) for r in window):
                continue  # every MRZ has "<<" somewhere (between surname and given names)
            cost = sum(abs(len(clean_line(r.text)) - f.length) for r in window) / (f.lines * f.length)
            if cost > 0.25:
                continue
            key = (cost, -start)
            if best is None or key < best[0]:
                best = (key, f, window)
    return (best[1], best[2]) if best else None


# ---------------------------------------------------------------- the fields object

FIELD_NAMES = (
    "document_type",
    "issuing_state",
    "surname",
    "given_names",
    "number",
    "nationality",
    "birth_date",
    "sex",
    "expiry_date",
    "optional",
)
_CHECKED_BY = {"number": "number", "birth_date": "birth_date", "expiry_date": "expiry_date"}


def empty_result() -> dict:
    return {
        "kind": "mrz",
        "format": None,
        "lines": [],
        "valid": False,
        "checks": {},
        **{name: None for name in FIELD_NAMES},
    }


def extract_mrz(page, found=None) -> dict:
    """The "mrz" fields object of a Page (see localocr.fields); every field None without an MRZ.
    `found`: what find_mrz(page) gave, when the caller has it already."""
    found = found or find_mrz(page)
    if found is None:
        return empty_result()
    fmt, rows = found
    lines, _fixes = repair_lines([r.text for r in rows], fmt)
    mrz = parse(lines)
    out = {"kind": "mrz", "format": mrz.format, "lines": mrz.lines, "valid": mrz.valid, "checks": mrz.checks}
    confidence = [mean_confidence(r.words) for r in rows]
    for name in FIELD_NAMES:
        value = mrz.values.get(name, "")
        if not value:
            out[name] = None
            continue
        spans = mrz.spans[name]
        quads = [sub_quad(rows[ln].quad, a / fmt.length, b / fmt.length) for ln, a, b in spans]
        conf = min(confidence[ln] for ln, _, _ in spans)
        check = _CHECKED_BY.get(name)
        if check and not mrz.checks.get(check, True):
            conf *= 0.5  # read, but its check digit disagrees
        extra = {}
        if name in ("birth_date", "expiry_date"):
            extra["normalized"] = mrz_date(value, name.split("_")[0])
        out[name] = make_field(value, conf, quads, **extra)
    return out
