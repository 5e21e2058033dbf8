"""Receipts: company, date, address and total from a Page's lines, by layout-aware rules.

    extract_receipt(page) -> {"kind": "receipt", "company": F, "date": F, "address": F, "total": F}

Values are written the way SROIE task 3 labels them (the text as printed; an address's lines joined
by spaces). The rules, tuned on the train images of ../shared/data/sroie_train only
(`python -m export.eval_fields receipts --split train`):

- date: every common format (31/12/2018, 2018-12-31, 31.12.18, 31 DEC 2018, DEC 31, 2018, 31122018
  after a date keyword or before a time; a misread month name such as MAV put right), checked as a
  calendar date; a line with a date keyword first, then the earliest on the page.
- total: lines with a total keyword in several languages (TOTAL, GRAND TOTAL, AMOUNT DUE, NETT,
  AMOUNT TO BE PAID, TOTAL TTC, SUMME, MONTANT, ...; TOTAL with one character misread) and not a
  sub-total, quantity or tax line, nor a TOTAL row of a tax table printed under the total, nor a
  table's column heads, a zero, or a tax's share of another candidate at the rate printed; the
  amount on that line or alone on the next (not one after a label of its own: "C 50.00" is CASH
  misread), the lowest such line first; cash tendered minus change (CASH and CHANGE misread by a
  letter too; less a rounding adjustment: the total before rounding), a card payment, or cash where
  no change is printed confirms a candidate; an amount misread by a letter ("7.4D") is taken where
  it equals cash minus change, and one with a single digit misread is put right by it; with no
  candidate paid, an amount equal to the card or cash payment (no change printed) on another line,
  or on two payment lines that agree; a total rounded to 0.05/0.10 printed just after replaces it;
  else a sub-total; else the amount paid in cash, else the largest amount in the lower part of the
  page that is not cash or change.
- company: the first header line with a company word (SDN BHD, ENTERPRISE, TRADING, GMBH, SARL,
  LTD, ...), joined with the line above or below where the name is broken over lines (a short line
  before the registration number too), else the first header line above a registration number
  ("(1365663-P)"), else the first header line that is neither a title
  (RECEIPT, TAX INVOICE), a footer, a bracketed note nor a number; registration numbers and a mall
  after the legal suffix dropped; a Malaysian legal suffix as misread at the end put right
  (SON BHD, SN BHD, SDN 3HD, BHZ, 5/B, S7B; SDN alone gets its BHD); two trade words run together
  split ("STATIONERYSHOP"), "&" read as "8" between words put right, a ticket number before the
  name ("#000002") dropped.
- address: the header lines after the company (a branch name skipped) up to the first telephone,
  tax, title or date line (the part of a postcode line before its telephone number kept), then at
  most a town and a state after the postcode; or the lines after an address label (HQ ADD:, but not
  "ADD : GST 1.69"); where none follows the name, an address with a postcode above it (a station's
  or branch's name and address printed before the company's); in its value, a word of a list of
  address words misread by one look-alike letter, split in two, broken by a stray mark or run into
  the next put right ("Wlsma" -> "Wisma", "JAL AN", "L.UMPUR", "JalanPelabur").
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from .common import make_field, mean_confidence

# ---------------------------------------------------------------- lines and spans


@dataclass
class Text:
    """A page line for the rules: its text, and the (start, end, word) character ranges of its words."""

    text: str
    words: list
    index: int

    @classmethod
    def of(cls, line, index: int) -> "Text":
        spans, at = [], 0
        for w in line.words:
            spans.append((at, at + len(w.text), w))
            at += len(w.text) + 1
        return cls(" ".join(w.text for w in line.words), spans, index)

    def words_in(self, start: int = 0, end: int | None = None) -> list:
        end = len(self.text) if end is None else end
        return [w for a, b, w in self.words if a < end and b > start] or [w for _, _, w in self.words]


def _field(value: str, parts, **extra) -> dict:
    """parts: [(Text, start, end), ...] the value was taken from."""
    words = [w for t, a, b in parts for w in t.words_in(a, b)]
    return make_field(value, mean_confidence(words), [w.quad for w in words], **extra)


# ---------------------------------------------------------------- dates

MONTHS = {
    "JAN": 1,
    "FEB": 2,
    "MAR": 3,
    "APR": 4,
    "MAY": 5,
    "JUN": 6,
    "JUL": 7,
    "AUG": 8,
    "SEP": 9,
    "OCT": 10,
    "NOV": 11,
    "DEC": 12,
    # German, French, Spanish, Italian, Dutch, Malay short forms that differ from English
    "MRZ": 3,
    "MAI": 5,
    "OKT": 10,
    "DEZ": 12,
    "JANV": 1,
    "FEV": 2,
    "FÉV": 2,
    "AVR": 4,
    "JUIN": 6,
    "JUIL": 7,
    "AOU": 8,
    "AOÛ": 8,
    "ENE": 1,
    "ABR": 4,
    "AGO": 8,
    "DIC": 12,
    "GEN": 1,
    "MAG": 5,
    "GIU": 6,
    "LUG": 7,
    "SET": 9,
    "OTT": 10,
    "MEI": 5,
    "OGOS": 8,
    "DIS": 12,
    "MAC": 3,
}
_MON = "|".join(sorted(MONTHS, key=len, reverse=True))
_SEP = r"[/\-.]"
DATE_PATTERNS = (
    # 2018-12-31, 2018/12/31
    ("ymd", re.compile(rf"(?<![\d])(\d{{4}})({_SEP})(\d{{1,2}})\2(\d{{1,2}})(?![\d])")),
    # 31/12/2018, 12-31-18, 31.12.2018
    ("dmy", re.compile(rf"(?<![\d])(\d{{1,2}})({_SEP})(\d{{1,2}})\2(\d{{4}}|\d{{2}})(?![\d])")),
    # 31 DEC 2018, 31-Dec-18, 31/DEC/2018, 31DEC2018
    ("dMy", re.compile(rf"(?<![\d])(\d{{1,2}})[ \-/.]?({_MON})[A-Z]*\.?[ \-/.,]*(\d{{4}}|\d{{2}})(?![\d])", re.I)),
    # DEC 31, 2018
    ("Mdy", re.compile(rf"(?<![A-Z])({_MON})[A-Z]*\.? (\d{{1,2}}),? (\d{{4}})(?![\d])", re.I)),
)
DATE_KEYWORDS = re.compile(r"\b(DATE|DATED|TARIKH|DATUM|FECHA|DATA|DT)\b", re.I)
# 8 digits as a date (31122018, 20181231) only after a date keyword or before a time of day
_COMPACT_DATE = re.compile(r"(?<![\d])(\d{8})(?![\d])")
_TIME_AFTER = re.compile(r"^\W{0,2}\d{1,2}:\d{2}")
# Month names as a recognizer misreads them: a look-alike letter changes one name into another
_MONTH_LOOKALIKES = {"V": "Y", "Y": "V", "0": "O", "1": "I", "L": "I", "5": "S", "8": "B", "U": "V"}
_MONTH_TOKEN = re.compile(r"(?<![\d])(\d{1,2})([ \-/.]?)([A-Z0-9]{3})([ \-/.,]*)(\d{4}|\d{2})(?![\d])", re.I)


def _year(y: str) -> int:
    return int(y) + (2000 if int(y) < 70 else 1900) if len(y) == 2 else int(y)


def _iso(y: int, m: int, d: int) -> str | None:
    try:
        return _dt.date(y, m, d).isoformat()
    except ValueError:
        return None


def parse_date(kind: str, m: re.Match) -> str | None:
    """ISO date of a match, or None when it is no calendar date. Day first unless the first
    number cannot be a day-of-month-first reading (12/28/2017 is month first)."""
    g = m.groups()
    if kind == "ymd":
        return _iso(int(g[0]), int(g[2]), int(g[3]))
    if kind == "dmy":
        a, b, y = int(g[0]), int(g[2]), _year(g[3])
        return _iso(y, b, a) or _iso(y, a, b)
    if kind == "dMy":
        return _iso(_year(g[2]), MONTHS[g[1].upper()], int(g[0]))
    return _iso(_year(g[2]), MONTHS[g[0].upper()], int(g[1]))


def find_dates(t: Text):
    """(start, end, iso[, text]) of each date in a line; text where a misread month name was put right."""
    out: list[tuple] = []
    for kind, rx in DATE_PATTERNS:
        for m in rx.finditer(t.text):
            iso = parse_date(kind, m)
            if iso and 1990 <= int(iso[:4]) <= 2099 and not any(a < m.end() and m.start() < b for a, b, *_ in out):
                out.append((m.start(), m.end(), iso))
    for m in _COMPACT_DATE.finditer(t.text):
        if not (DATE_KEYWORDS.search(t.text[: m.start()]) or _TIME_AFTER.match(t.text[m.end() :])):
            continue
        d = m.group(1)
        iso = _iso(int(d[4:]), int(d[2:4]), int(d[:2])) or _iso(int(d[:4]), int(d[4:6]), int(d[6:]))
        if iso and 1990 <= int(iso[:4]) <= 2099 and not any(a < m.end() and m.start() < b for a, b, *_ in out):
            out.append((m.start(), m.end(), iso))
    for m in _MONTH_TOKEN.finditer(t.text):
        mon = _month_lookalike(m.group(3))
        if mon and not any(a < m.end() and m.start() < b for a, b, *_ in out):
            iso = _iso(_year(m.group(5)), MONTHS[mon], int(m.group(1)))
            if iso:
                fixed = m.group(1) + m.group(2) + mon + m.group(4) + m.group(5)
                out.append((m.start(), m.end(), iso, fixed))
    return sorted(out)


def _month_lookalike(token: str):
    """The month a misread 3-letter name stands for (MAV -> MAY), when exactly one fits."""
    token = token.upper()
    if token in MONTHS or token.isdigit():
        return None
    fits = sorted(
        {token[:i] + _MONTH_LOOKALIKES[c] + token[i + 1 :] for i, c in enumerate(token) if c in _MONTH_LOOKALIKES}
        & set(MONTHS)
    )
    return fits[0] if len(fits) == 1 else None


def extract_date(lines: list[Text]):
    best = None
    for t in lines:
        for a, b, iso, *fixed in find_dates(t):
            key = (0 if DATE_KEYWORDS.search(t.text[:a]) else 1, t.index, a)
            if best is None or key < best[0]:
                best = (key, t, a, b, iso, fixed[0] if fixed else t.text[a:b])
    if best is None:
        return None
    _, t, a, b, iso, text = best
    return _field(text, [(t, a, b)], normalized=iso)


# ---------------------------------------------------------------- amounts and the total

# Currency signs and codes printed beside amounts; a total's "currency" is the one printed, as printed.
CURRENCY = (
    "RM",
    "MYR",
    "$",
    "US$",
    "USD",
    "S$",
    "SGD",
    "€",
    "EUR",
    "£",
    "GBP",
    "¥",
    "CHF",
    "FR",
    "KR",
    "ZŁ",
    "PLN",
    "RP",
    "₹",
    "RS",
    "CAD",
    "AUD",
)
_CUR = "|".join(re.escape(c) for c in sorted(CURRENCY, key=len, reverse=True))
# a currency after the amount ("5,00 EUR") is not the one that starts the next amount ("4.00 RM4.00")
AMOUNT = re.compile(
    rf"(?:({_CUR})\s?)?(-)?(\d{{1,3}}(?:[,.']\d{{3}})+|\d+)([.,])(\d{{2}})(?![\d%])"
    rf"(?:\s?({_CUR})(?!\s?\d))?",
    re.I,
)

TOTAL_KEYWORDS = re.compile(
    r"GRAND\s*TOTAL|NETT?\s*TOTAL|TOTAL\s*(?:AMOUNT|AMT|DUE|PAYABLE|SALES|INCL|TTC|\(RM\)|RM)|AMOUNT\s*DUE|"
    r"BALANCE\s*DUE|AMT\s*DUE|\bDUE\b|TOTAL\s*TO\s*PAY|ROUNDED\s*TOTAL|TOTAL\s*ROUNDED|JUMLAH|SUMME|GESAMT|BETRAG|MONTANT|"
    r"IMPORTE|TOTALE|TOTAAL|\bTOTAL\b|NETT?\s*(?:AMT|AMOUNT)|\bNETT\b|\bAMOUNT\b|TO\s*BE\s*PAID|AMOUNT\s*TO\s*PAY|"
    # TOTAL with one character misread (TOLAL, TOHAL, T0TAL)
    r"\b(?:[A-Z0-9]OTAL|T[A-Z0-9]TAL|TO[A-Z0-9]AL|TOT[A-Z0-9]L|TOTA[A-Z0-9])\b",
    re.I,
)
STRONG_TOTAL = re.compile(r"GRAND|NETT?\b|NET\s*AMT|DUE|PAYABLE|INCL|ROUNDED|TTC|SUMME|GESAMT|JUMLAH", re.I)
# what was to be paid, not what was tendered
TO_PAY = re.compile(r"TO\s*BE\s*PAID|TO\s*PAY\b|AMOUNT\s*PAYABLE", re.I)
# lines that carry a total keyword but another sum
NOT_TOTAL = re.compile(
    r"SUB\s*-?\s*TOTAL|SUBTOTAL|SUD\s*TOTAL|TOTAL\s*(?:QTY|QUANTITY|ITEM|ITEMS|NO|PCS|UNIT|GST|TAX|VAT|EXCL|"
    r"DISC|DISCOUNT|SAVING|SAVINGS|SR|ZR|POINT|WEIGHT|SST|SERVICE)|"
    r"\bQTY\b|\bTAX\b|\bVAT\b|EXCL|CHANGE|TENDER|\bCASH\b|ROUNDING|ROUND\s*ADJ|ADJ\b|DISCOUNT|"
    r"\bPAID\b|CREDIT|VISA|MASTER|CARD|POINTS|SAVED",
    re.I,
)
SUBTOTAL = re.compile(r"SUB\s*-?\s*TOTAL", re.I)
# CASH and CHANGE as the recognizer misreads them: GASH, CA5H; CHANOE, CHAN6E (any one letter of
# CHANGE, but not the real words CHARGE and CHANCE: a service charge is no change)
_CASH_LIKE = r"\b[CG(][A4][S5$][HN]\b"
_CHANGE_LIKE = "|".join("CHANGE"[:i] + "[A-Z0-9]" + "CHANGE"[i + 1 :] for i in range(6))
CASH = re.compile(
    rf"\bCASH\b|{_CASH_LIKE}|TENDER|RECEIVED|TUNAI|\bPAID\b|BAYAR|PAYMENT|BAR\b|ESPECES|ESPÈCES|EFECTIVO", re.I
)
CHANGE = re.compile(
    rf"CHANGE|\b(?!CHARGE\b|CHANCE\b)(?:{_CHANGE_LIKE})\b|BAKI|RÜCKGELD|RENDU|MONNAIE|CAMBIO|KEMBALI", re.I
)
# a payment by card is of the exact total (no change): its amount confirms a total candidate
CARD = re.compile(
    r"\bCARD\b|\bVISA\b|MASTER|\bAMEX\b|\bCREDIT\b|\bDEBIT\b|E-?WALLET|\bKARTE\b|\bEC\b|\bCB\b|CARTE|TARJETA",
    re.I,
)
ROUNDING = re.compile(r"ROUND", re.I)
# a tax table's header: the TOTAL rows under it sum the tax, not the receipt (GST SUMMARY, TAX CODE ...)
TAX_TABLE = re.compile(r"(GST|TAX|VAT|SST)\s*(SUMMARY|SUMM|CODE|ANALYSIS)|MWST|TVA\s*%", re.I)


def _is_cash(text: str) -> bool:
    return bool(CASH.search(text)) and not TO_PAY.search(text)


def _not_total(text: str) -> bool:
    return bool(NOT_TOTAL.search(text)) and not TO_PAY.search(text)


def _number(m: re.Match) -> float:
    whole = re.sub(r"[,.' ]", "", m.group(3))
    value = float(f"{whole}.{m.group(5)}")
    return -value if m.group(2) else value


# (start, end, value, currency, printed, start of the number): an amount found in a line
Amount = tuple[int, int, float, Optional[str], str, int]


def find_amounts(t: Text) -> list[Amount]:
    """(start, end, value, currency, printed, start of the number) of each amount in a line."""
    out: list[Amount] = []
    for m in AMOUNT.finditer(t.text):
        cur = m.group(1) or m.group(6)
        start = m.start(2) if m.group(2) else m.start(3)
        printed = t.text[start : m.end(5)]
        out.append((m.start(), m.end(), _number(m), cur.upper() if cur else None, printed, start))
    return out


# a table's column headings ("QTY ITEM TOTAL", "RATE NET(RM) GST(RM) TOTAL(RM)"): TOTAL there names a
# column, and the amount under it is an item's or a tax row's
COLUMN_WORDS = re.compile(
    r"\b(QTY|QTE|QUANTITY|ITEM|ITEMS|DESC|DESCRIPTION|PRICE|U\.?\s?PRICE|UNIT|RATE|NET|GST|TAX|VAT|SST|AMT|DISC|"
    r"CODE|MENU|MENGE|PREIS|ARTIKEL|PRIX|ARTICLE|CANT|PRECIO|ARTICULO)\b",
    re.I,
)
COLUMN_HEADINGS = 2  # a line of at least this many column words besides TOTAL, and no amount, is a table's head
# a tax's share printed with its rate: "TOTAL INCLUDES 6% GST 0.74", "GST @6% included in total RM 3.25"
TAX_WORDS = re.compile(r"\b(GST|SST|VAT|TAX|MWST|MW?ST|USt|TVA|IVA|PPN|CUKAI)\b", re.I)
RATE = re.compile(r"(\d{1,2}(?:[.,]\d{1,2})?)\s*%")


def _column_heads(t: Text, k: re.Match) -> bool:
    words = COLUMN_WORDS.findall(t.text[: k.start()] + " " + t.text[k.end() :])
    return len(words) >= COLUMN_HEADINGS and not find_amounts(t)


def _tax_share(t: Text, a: Amount, others: list[float]) -> bool:
    """Whether the amount on a line naming a tax and its rate is that tax of another amount on the page
    (included in it, or added to it), to the cent."""
    if not TAX_WORDS.search(t.text):
        return False
    for m in RATE.finditer(t.text):
        r = float(m.group(1).replace(",", "."))
        for v in others:
            if v > a[2] and min(abs(v * r / (100 + r) - a[2]), abs(v * r / 100 - a[2])) < 0.0151:
                return True
    return False


def _total_candidates(lines: list[Text]):
    """(score, line, amount) for amounts on or after total-keyword lines; not a zero total ("TOTAL
    INCL. GST 0.00", an amount read in the wrong column), nor a tax's share of another candidate
    ("TOTAL INCLUDES 6% GST 0.74")."""
    out: list[tuple[int, Text, Amount]] = []
    in_table = False  # under a tax table's header that follows a total (not an item table's TAXCODE column)
    for i, t in enumerate(lines):
        if out and TAX_TABLE.search(t.text):
            in_table = True
        k = TOTAL_KEYWORDS.search(t.text)
        if not k or _not_total(t.text) or in_table or _column_heads(t, k):
            continue
        amounts = [a for a in find_amounts(t) if a[0] >= k.start()]
        strong = bool(STRONG_TOTAL.search(t.text) or TO_PAY.search(t.text))
        if amounts:
            out.append((2 + strong, t, amounts[-1]))
        elif i + 1 < len(lines):
            nxt = find_amounts(lines[i + 1])
            if nxt and not TOTAL_KEYWORDS.search(lines[i + 1].text) and not _labelled(lines[i + 1], nxt[0]):
                out.append((1 + strong, lines[i + 1], nxt[0]))
    values = [a[2] for _, _, a in out]
    return [c for c in out if c[2][2] > 0 and not _tax_share(c[1], c[2], values)]


def _labelled(t: Text, a: Amount) -> bool:
    """Whether a line has a label of its own before the amount ("CASH 20.00", "C 50.00" for CASH
    misread): the amount printed under a total keyword stands alone, or after its currency."""
    before = t.text[: a[0]]
    return bool(re.search(r"[^\W\d_]", re.sub(rf"(?i)\b(?:{_CUR})\b", " ", before)))


def _keyword_amounts(lines, rx):
    out = []
    for i, t in enumerate(lines):
        if rx.search(t.text):
            a = find_amounts(t)
            if not a and i + 1 < len(lines):
                a = find_amounts(lines[i + 1])
            if a:
                out.append(a[-1][2])
    return out


# Cash totals are rounded to 0.05 in Malaysia (SROIE's receipts), Singapore, Switzerland and elsewhere,
# to 0.10 in a few countries: a total printed after the exact one, equal to it rounded, is what was paid.
ROUNDING_STEPS = (0.05, 0.10)
ROUNDED_WITHIN = 4  # lines after the total
# SROIE writes a currency printed against the amount ("$8.20", "RM5.00") into the value, and mostly
# not one printed apart ("60.30" for "RM 60.30"). Train: 0.853 without any, 0.887 with attached ones.
CURRENCY_IN_VALUE = CURRENCY


def _rounded(all_amounts, t, a):
    value = a[2]
    for step in ROUNDING_STEPS:
        target = round(round(value / step) * step, 2)
        if abs(target - value) < 1e-9:
            return t, a
        for u, b in all_amounts:
            if (
                t.index <= u.index <= t.index + ROUNDED_WITHIN
                and abs(b[2] - target) < 1e-9
                and not _is_cash(u.text)
                and not CHANGE.search(u.text)
            ):
                return u, b
    return t, a


# An amount as the recognizer misreads it: a digit read as a look-alike letter ("7.4D", "50.0C"), a
# space after the decimal point ("RM41. 45"), a stray mark read as "%" after it ("48.00%"). Taken only where it equals cash minus change.
_MISREAD_AMOUNT = re.compile(
    rf"(?<![\w.,])(?:({_CUR})\s?)?([0-9ODQSBIlZ]{{1,4}})([.,]) ?([0-9ODQCSBIlZ]{{2}})(?![\w.,])", re.I
)
_LOOKALIKE_DIGITS = str.maketrans("ODQCoSsBIlZ", "00000558112")


def _misread_amounts(t: Text) -> list[Amount]:
    out: list[Amount] = []
    for m in _MISREAD_AMOUNT.finditer(t.text):
        whole, decimals = m.group(2).translate(_LOOKALIKE_DIGITS), m.group(4).translate(_LOOKALIKE_DIGITS)
        if not (whole.isdigit() and decimals.isdigit()) or not re.search(r"\d", m.group(2)):
            continue
        cur = m.group(1)
        attached = bool(cur) and not t.text[m.start(1) : m.start(2)].endswith(" ")
        printed = f"{cur if attached else ''}{whole}{m.group(3)}{decimals}"
        start = m.start(1) if attached else m.start(2)
        out.append((start, m.end(), float(f"{whole}.{decimals}"), cur.upper() if cur else None, printed, start))
    return out


def _one_digit_off(a: Amount, confirmed: set) -> Amount | None:
    """The amount with one digit put right where exactly one value cash - change confirms differs from
    it in that digit alone ("Total (RM) : 112.46" over "CASH : 112.45", "CHANGE 0.00"); else None."""
    digits = re.sub(r"\D", "", a[4])
    fits = []
    for v in confirmed:
        want = f"{abs(v):.2f}".replace(".", "")
        if len(want) == len(digits) and sum(x != y for x, y in zip(want, digits)) == 1:
            fits.append(v)
    if len(fits) != 1:
        return None
    right = iter(f"{abs(fits[0]):.2f}".replace(".", ""))
    printed = "".join(next(right) if ch.isdigit() else ch for ch in a[4])
    return (a[0], a[1], fits[0] if a[2] >= 0 else -fits[0], a[3], printed, a[5])


def extract_total(lines: list[Text]):
    cands = _total_candidates(lines)
    all_amounts = [(t, a) for t in lines for a in find_amounts(t)]
    # confirmations: cash - change (what was paid: the total, or the total plus its rounding
    # adjustment, so the total before rounding is cash - change - rounding), and total + rounding
    cash, change = _keyword_amounts(lines, CASH), _keyword_amounts(lines, CHANGE)
    rounding = [v for v in _keyword_amounts(lines, ROUNDING) if abs(v) < 0.10]
    paid_in_cash = {round(abs(c) - abs(ch), 2) for c in cash for ch in change if abs(c) > abs(ch)}
    before_rounding = {round(v - r, 2) for v in paid_in_cash for r in rounding if r}
    confirmed = paid_in_cash | before_rounding
    rounded = {round(s[2][2] + r, 2) for s in cands for r in rounding if r}
    # a payment of the exact total: by card (on the card's line itself: the line after "CARD NO.: XXXX
    # 6974" is no payment), or in cash where no change is printed
    paid = {round(abs(a[2]), 2) for t in lines if CARD.search(t.text) for a in find_amounts(t)[-1:]}
    if not change:
        paid.update(round(abs(c), 2) for c in cash)
    best: tuple[Any, Text, Amount] | None = None
    for score, t, a in cands:
        v = round(a[2], 2)
        key = (
            score + 3 * (v in confirmed or v in paid) + 2 * (v in rounded and any(rounding)),
            t.index,
            a[2],
        )
        if best is None or key > best[0]:
            best = (key, t, a)
    unpaid = paid and not any(round(c[2][2], 2) in paid for c in cands)
    if best is None or (confirmed and round(best[2][2], 2) not in confirmed) or (not confirmed and unpaid):
        # an amount confirmed by cash - change wins over an unconfirmed keyword line: the amount paid
        # first, as read, else misread by a character; then the total before rounding; without change,
        # an amount paid by card or in cash ("PAID BY CARD RM78.30" and "AMT PAID INCL GST :RM78.30"
        # with its label misread) where no keyword line has it
        for want in (paid_in_cash, before_rounding) if confirmed else (paid,):
            for found in (find_amounts, _misread_amounts):
                pool = [
                    (t, a)
                    for t in lines
                    if not _is_cash(t.text) and not CHANGE.search(t.text)
                    for a in found(t)
                    if round(a[2], 2) in want and a[2] > 0
                ]
                if pool:
                    break
            if not pool and not confirmed:
                # every line with the amount paid is a payment line ("AMT PAID INCL. GST : RM78.30" /
                # "PAID BY : CC'7186:RM78.30"): with no change printed, two of them agreeing say the total
                payments = [(t, a) for t in lines for a in find_amounts(t) if round(a[2], 2) in paid and a[2] > 0]
                if len({t.index for t, _ in payments}) >= 2:
                    pool = payments
            if pool:
                t, a = max(pool, key=lambda p: (TOTAL_KEYWORDS.search(p[0].text) is not None, p[0].index))
                best = (None, t, a)
                break
    if best is None:
        # no total line: a sub-total is the sum of what was bought
        subs = [(t, find_amounts(t)[-1]) for t in lines if SUBTOTAL.search(t.text) and find_amounts(t)]
        if subs:
            best = (None,) + subs[-1]
    if best is None:
        n = len(lines)
        pool = [
            (t, a)
            for t, a in all_amounts
            if t.index >= n // 3
            and a[2] > 0
            and not _is_cash(t.text)
            and not CHANGE.search(t.text)
            and not _not_total(t.text)
        ]
        if not pool:
            return None
        # the largest amount in the lower part, unless one of them is what was paid (cash without change)
        t, a = max(pool, key=lambda p: (round(p[1][2], 2) in paid, p[1][2], p[0].index))
        best = (None, t, a)
    _, t, a = best
    t, a = _rounded(all_amounts, t, a)
    if confirmed and round(a[2], 2) not in confirmed:
        a = _one_digit_off(a, paid_in_cash) or _one_digit_off(a, before_rounding) or a
    start, end, value, currency, printed, vstart = a
    if currency in CURRENCY_IN_VALUE and a[0] < vstart and not t.text[a[0] : vstart].endswith(" "):
        printed, vstart = t.text[a[0] : end].strip(), a[0]
    return _field(printed, [(t, vstart, end)], normalized=f"{value:.2f}", currency=currency)


# ---------------------------------------------------------------- header: company and address

COMPANY_WORDS = re.compile(
    r"\bS(?:DN)?\.?\s*B(?:HD)?\b\.?|\bBHD\b|\bBERHAD\b|ENTERPRISE|TRADING|\bTRADERS?\b|\bSTORE\b|\bMART\b|"
    r"MARKET|RESTORAN|RESTAURANT|\bCAFE\b|BAKERY|HARDWARE|STATIONERY|PHARMACY|\bSHOP\b|\bCO\b\.?|"
    r"COMPANY|\bLTD\b|\bLIMITED\b|\bPLT\b|\bINC\b|\bLLC\b|\bGMBH\b|\bAG\b|\bSARL\b|\bSAS\b|\bS\.?A\.?\b|"
    r"\bS\.?L\.?\b|\bS\.?R\.?L\.?\b|\bB\.?V\.?\b|\bKEDAI\b|\bPERNIAGAAN\b|\bINDUSTRIES\b|\bHOLDINGS\b|"
    r"\bRESOURCES\b|\bSUPPLY\b|\bSUPPLIES\b|\bCORPORATION\b|\bCORP\b|\bMARKETING\b|\bSERVICES\b|"
    r"\bGROUP\b|\bCENTRE\b|\bCENTER\b|\bBOOKS?\b|\bELECTRICAL\b|\bMOTOR\b",
    re.I,
)
TITLES = re.compile(
    r"^\W*(OFFICIAL\s*)?(RECEIPT|TAX\s*INVOICE|INVOICE|CASH\s*BILL|BILL|RECEIPT\s*NO|"
    r"SIMPLIFIED|WELCOME|QUOTATION|TAX\s*RECEIPT|KASSENBON|QUITTUNG|TICKET|FACTURE|RECIBO)\b",
    re.I,
)
STOP = re.compile(
    r"\bTEL\b|\bTEL\s*[:.]|TEL[:.]|PHONE|\bFAX\b|\bH/?P\b|\bMOBILE\b|\bGST\b|\bSST\b|\bREG\b|"
    r"REG\.|\bCO\.?\s*NO|COMPANY\s*NO|E-?MAIL|@|WWW\.|HTTP|\bVAT\b|\bTAX\b|\bINVOICE\b|"
    r"\bRECEIPT\b|\bCASHIER\b|\bDATE\b|\bTIME\b|\bTABLE\b|\bBILL\b|\bDOC\b|\bNO\s*:\s*\d|"
    r"\bUST\b|\bSIRET\b|\bTVA\b|\bNIF\b|\bCIF\b|\bABN\b|OPENING|OPEN\s*DAILY|\bHOURS\b|\bMEMBER",
    re.I,
)
# a registration number printed under or beside the company: (123456-X), JM0325956-1, 1227035
REG_NUMBER = re.compile(
    r"^\W*(CO\.?\s*(REG\.?)?\s*(NO)?\.?\s*:?|ROC\s*:?)?"
    r"\s*\(?[A-Z]{0,3}\d{4,}[-\s]?[A-Z0-9]?\)?\W*$",
    re.I,
)
_BRACKET_REG = re.compile(r"\s*[\(\[]\s*(CO\.?\s*(REG\.?)?\s*(NO)?\.?\s*:?)?\s*\d{3,}[-\s]*[A-Z0-9]?\s*[\)\]]\s*", re.I)
HEADER_LINES = 10  # the header block: at most this many lines from the top
ADDRESS_LINES = 5  # an address takes at most this many lines


def _letters(s: str) -> int:
    return sum(ch.isalpha() for ch in s)


def _is_noise(t: Text) -> bool:
    """Too few letters to be a name, or mostly words in lower case (a handwritten note, a logo read as
    text); a name read in its printed case ("Gerbang Alaf Restaurants Sdn Bhd") is none."""
    if _letters(t.text) < 3:
        return True
    words = [w for w in t.text.split() if _letters(w)]
    lower = sum(all(not ch.isupper() for ch in w) for w in words)
    return lower / len(words) > 0.5


# a receipt's closing words, which a layout may put first (a footer beside the header)
FOOTER = re.compile(r"THANK|GOODS\s*SOLD|RETURN|VISIT\s*US|COME\s*AGAIN|PLEASE|DANKE|MERCI|GRACIAS", re.I)


def _company_line(t: Text) -> bool:
    # "DION REALTIES SDN BHD (CO. NO:20154-T)": the bracketed registration number is no stop word
    return (
        not _is_noise(t)
        and not TITLES.search(t.text)
        and not REG_NUMBER.match(t.text)
        and not STOP.search(_BRACKET_REG.sub(" ", t.text))
        and not find_dates(t)
        and not FOOTER.search(t.text)
    )


LEGAL = re.compile(
    r"\bS(?:DN)?\.?\s*/?\s*B(?:HD)?\b\.?|\bBHD\b|\bBERHAD\b|\bCO\b\.|\bLTD\b|\bLIMITED\b|\bPLT\b|"
    r"\bINC\b|\bLLC\b|\bGMBH\b|\bSARL\b|\bS\.?A\.?S?\b|\bS\.?R\.?L\b|\bB\.?V\b|\bCORP",
    re.I,
)
# "SEGI CASH &" / "CARRY SDN. BHD.": a legal-suffix line with at most this many words before its
# suffix continues the line above (measured on train: 1)
JOIN_ABOVE_WORDS = 1
COMPANY_PARTS = 3  # a company name takes at most this many lines
# An address starts with a number, a unit, a lot or a street word (several languages)
ADDRESS_START = re.compile(
    r"^\W*(NO\b|NO\.|LOT\b|UNIT\b|LEVEL\b|BLOCK\b|BLK\b|G-|\d|JALAN\b|JLN\b|LRG\b|"
    r"TAMAN\b|KM\b|WISMA\b|MENARA\b|PLAZA\b|BANGUNAN\b|KOMPLEKS\b|RUE\b|STRASSE|CALLE\b|"
    r"VIA\b|AVENUE\b|STREET\b|ROAD\b|SUITE\b|FLOOR\b|GROUND\b|PT\b)",
    re.I,
)
ADDRESS_SKIP = 3  # lines between the company and its address that are not part of it
# a 5-digit postcode; not a lot or house number of as many digits ("LOT P.T. 33198", "LOT 37636")
POSTCODE = re.compile(r"(?<!\d)(?<!LOT )(?<!P\.T\. )(?<!PT )(?<!PTD )(?<!NO )(?<!NO\.)\d{5}(?!\d)", re.I)
# a registration number after the name, also with digits misread as letters ("80Z7Z5-U")
_TRAILING_REG = re.compile(
    r"\s*[\(\[][^()\[\]]*\d[^()\[\]]*[\)\]]?\s*$|\s+\S*\d{3,}\S*-\S*\s*$|"
    r"\s+(?=(?:[^\s\d]*\d){3})[A-Z0-9]{5,}-[A-Z0-9]\s*$|[\s,;:]+$"
)


# Malaysian legal suffixes as the recognizer misreads them: SON/SGN/SBN/SN BHD, 3HD, SHD, BHZ, 5/B, S/D, S7B.
# Only at the end of a name, where nothing else can stand.
_SDN_BHD = re.compile(r"\b[S5][O0DGB8]?N(\.?)\s+[B83DS]H[DOZ0](\.?)\s*$", re.I)
_SDN_END = re.compile(r"\b(SDN)(\.?)\s*$", re.I)  # "BEMED (SP) SDN.": SDN is always followed by BHD
_BHD_END = re.compile(r"\b(SDN\.?\s+)[B83]H[OZ0](\.?)\s*$|\b(SDN\.?\s+)3HD(\.?)\s*$", re.I)
_SB_END = re.compile(r"(?<=\s)[S5][/7][B8D]\.?\s*$", re.I)


def _legal_suffix(name: str) -> str:
    name = _SDN_BHD.sub(
        lambda m: m.group(0) if re.match(r"SDN\.?\s+BHD", m.group(0), re.I) else f"SDN{m.group(1)} BHD{m.group(2)}",
        name,
    )
    name = _BHD_END.sub(lambda m: f"{m.group(1) or m.group(3)}BHD{m.group(2) or m.group(4) or ''}", name)
    name = _SDN_END.sub(
        lambda m: f"{m.group(1)}{m.group(2)} {'BHD' if m.group(1).isupper() else 'Bhd'}{m.group(2)}", name
    )
    # a bracket left open before the legal suffix: "GARDENIA BAKERIES (KL SDN BHD"
    name = re.sub(r"\((\w+)(?=\s+(?:SDN|BHD|S/B)\b)", r"(\1)", name, flags=re.I)
    return _SB_END.sub("S/B", name)


# words of a trade name that the recognizer runs together when the space between them is narrow
# ("STATIONERYSHOP"): a token made of two of them, the first of six letters or more, is split
_NAME_WORDS = (
    "ENTERPRISE|TRADING|TRADERS|TRADER|STORE|MART|MARKET|RESTORAN|RESTAURANT|CAFE|BAKERY|HARDWARE|"
    "STATIONERY|PHARMACY|SHOP|COMPANY|KEDAI|PERNIAGAAN|INDUSTRIES|HOLDINGS|RESOURCES|SUPPLY|SUPPLIES|"
    "CORPORATION|MARKETING|SERVICES|GROUP|CENTRE|CENTER|BOOKS|BOOK|ELECTRICAL|MOTOR|TRAVEL|FOOD|FOODS"
)
_LONG_NAME_WORDS = "|".join(w for w in _NAME_WORDS.split("|") if len(w) >= 6)  # BOOKSTORE and FOODMART are words
_GLUED = re.compile(rf"\b({_LONG_NAME_WORDS})({_NAME_WORDS})\b", re.I)
# "&" read as "8" between two words of a name ("STATIONERY 8 BOOKS"); a number there is no part of a name
_AMPERSAND = re.compile(r"(?<=[^\W\d_]{2}) 8 (?=[^\W\d_]{2})")
# a ticket or terminal number printed before the name on its line ("#000002 BAIFU (M) SDN BHD")
_LEADING_NUMBER = re.compile(r"^#\d+\s+(?=\S)")


def _company_name(text: str) -> str:
    text = _AMPERSAND.sub(" & ", _GLUED.sub(r"\1 \2", _LEADING_NUMBER.sub("", text.strip())))
    name = re.split(r"\s(?:FKA|F\.K\.A\.?|\(?FORMERLY)\b", _BRACKET_REG.sub(" ", text), flags=re.I)[0]
    prev = None
    while prev != name:
        prev, name = name, _TRAILING_REG.sub("", name)
    name = _legal_suffix(re.sub(r"\s+", " ", name).strip())
    # a mall or branch printed after the legal suffix on the same line ("... COFFEE CO. THE GARDENS MALL"):
    # not part of the name; a bracket after it is ("... SDN BHD (JALAN KLANG LAMA)")
    legal = list(LEGAL.finditer(name))
    tail = name[legal[-1].end() :].strip() if legal else ""
    if re.search(r"\w", tail) and not tail.startswith(("(", "[")):
        name = name[: legal[-1].end()]
    return name.strip()


def _bracket_note(t: Text) -> bool:
    """A wholly bracketed line without a legal suffix: a note under the name ("(TONYMOLY SHOP (95874))")."""
    return bool(re.fullmatch(r"\s*\(.*\)\s*", t.text)) and not LEGAL.search(t.text)


# a company registration number alone on its line: digits and a check letter, "(1365663-P)", "249336-T"
_REG_BELOW = re.compile(r"^\W*(?:CO\.?\s*(?:REG\.?)?\s*(?:NO)?\.?\s*:?|ROC\s*:?)?\s*\(?\d{5,}-?\s?[A-Z]\)?\W*$", re.I)


def _company(head):
    at = next(
        (i for i, t in enumerate(head) if _company_line(t) and COMPANY_WORDS.search(t.text) and not _bracket_note(t)),
        None,
    )
    if at is None:
        # a name sits above its registration number ("STAR CASH & CARRY" / "(1365663-P)"), and a
        # misread CASHIER line or a branch above it is no name
        at = next(
            (
                i
                for i, t in enumerate(head[:-1])
                if _company_line(t) and _letters(t.text) >= 5 and _REG_BELOW.match(head[i + 1].text)
            ),
            None,
        )
    if at is None:
        at = next((i for i, t in enumerate(head) if _company_line(t) and _letters(t.text) >= 5), None)
    if at is None:
        return None, []
    parts = [head[at]]
    # a name broken over lines: "POPULAR BOOK" / "CO. (M) SDN BHD"; "PASAR RAYA" / "(SEMENYIH) SDN BHD"
    legal = LEGAL.search(head[at].text)
    starts_legal = re.match(r"^\W*(\(|SDN|BHD|S/B|CO\b|LTD)", head[at].text, re.I)
    short = legal and len(head[at].text[: legal.start()].split()) <= JOIN_ABOVE_WORDS
    if (starts_legal or short) and at > 0 and _company_line(head[at - 1]) and not re.search(r"\d", head[at - 1].text):
        parts.insert(0, head[at - 1])
    while not LEGAL.search(" ".join(p.text for p in parts)) and len(parts) < COMPANY_PARTS:
        nxt = parts[-1].index + 1
        cand = next((t for t in head if t.index == nxt), None)
        after = next((t for t in head if t.index == nxt + 1), None)
        # "RESTAURANT JIAWEI" / "JIAWEI HOUSE" / "002693074-K": a short line between the name and its
        # registration number continues the name
        continues = (
            cand is not None
            and after is not None
            and REG_NUMBER.match(after.text)
            and len(cand.text.split()) <= 3
            and not re.search(r"\d", cand.text)
        )
        if (
            cand is None
            or not _company_line(cand)
            or _bracket_note(cand)
            or not (LEGAL.search(cand.text) or COMPANY_WORDS.search(cand.text) or continues)
        ):
            break
        parts.append(cand)
    return parts, head[head.index(parts[-1]) + 1 :]


# Where an address's last line may end: a state or the country (SROIE's receipts are Malaysian;
# elsewhere the line after the postcode is taken when it is short and has no digits).
REGIONS = re.compile(
    r"(JOHOR|KEDAH|KELANTAN|MELAKA|MALACCA|NEGERI\s*SEMBILAN|PAHANG|PERAK|PERLIS|PULAU\s*PINANG|"
    r"PENANG|SABAH|SARAWAK|SELANGOR|TERENGGANU|KUALA\s*LUMPUR|PUTRAJAYA|LABUAN|MALAYSIA|"
    r"DARUL\s*\w+|SINGAPORE)\W*$",
    re.I,
)
BRANCH = re.compile(r"^\W*\d{3,4}-[A-Z]", re.I)  # "1249-TMN PANDAN CAHAYA": a chain's branch under its address


def _address_line(t: Text) -> bool:
    return not (
        STOP.search(t.text)
        or TITLES.search(t.text)
        or find_dates(t)
        or _letters(t.text) < 2
        or REG_NUMBER.match(t.text)
        or FOOTER.search(t.text)
    )


def _address_noise(t: Text) -> bool:
    """_is_noise, except that a street or postcode line may be printed (or read) in lower case."""
    if _letters(t.text) < 3:
        # "NO 24, 25 & 26," (a street number's line) is no noise
        return not (ADDRESS_START.match(t.text) and re.search(r"[^\W\d_]{2}", t.text) and re.search(r"\d", t.text))
    return _is_noise(t) and not ADDRESS_START.match(t.text) and not POSTCODE.search(t.text)


ADDRESS_LABEL = re.compile(
    r"^\W*(?:HQ\s*|HEAD\s*OFFICE\s*)?(?:ADD|ADDR|ADDRESS|ALAMAT|ADRESSE|ANSCHRIFT|DIRECCI[OÓ]N)"
    r"\s*[:.]\s*",
    re.I,
)
AFTER_POSTCODE = 2  # lines after the postcode's: a town, then a state ("CAMERON HIGHLANDS," / "PAHANG")


def _address(rest: list[Text]) -> list[tuple[Text, int, int]]:
    """[(line, start, end), ...]: the address's lines, the last one cut before a telephone number
    printed on the same line ("81750 JOHOR BAHRU, JOHOR. TEL NO.: 07-387 3322")."""
    window = rest[: ADDRESS_SKIP + 1]
    start = next(
        (
            i
            for i, t in enumerate(window)
            if _address_line(t)
            and not _address_noise(t)
            and not _BRACKET_REG.fullmatch(t.text)
            and not _bracket_note(t)
        ),
        None,
    )
    if start is None:
        return []
    # a branch or mall name between the company and its street: skip it for the first line with a number
    if (
        not ADDRESS_START.match(rest[start].text)
        and not POSTCODE.search(rest[start].text)
        and not re.search(r"\d\S*[,/]", rest[start].text)
    ):
        for j in range(start + 1, len(window)):
            if not _address_line(window[j]):
                break
            if ADDRESS_START.match(window[j].text) and not POSTCODE.match(window[j].text):
                start = j
                break
    parts: list[tuple[Text, int, int]] = []
    after = 0
    for t in rest[start : start + ADDRESS_LINES]:
        if not _address_line(t) and not (parts and BRANCH.match(t.text)):
            stop = STOP.search(t.text)
            head = t.text[: stop.start()].rstrip(" :;-") if stop else ""
            if (
                head
                and (POSTCODE.search(head) or REGIONS.search(head))
                and _letters(head) >= 3
                and not TITLES.search(head)
                and not find_dates(Text(head, [], t.index))
            ):
                parts.append((t, 0, len(head)))
            break
        if parts and (after or POSTCODE.search(parts[-1][0].text)):
            # after the postcode: a town and a state, or a branch line, nothing more
            if BRANCH.match(t.text) or REGIONS.fullmatch(t.text.strip()):
                parts.append((t, 0, len(t.text)))
                break
            if (
                after < AFTER_POSTCODE
                and not REGIONS.search(parts[-1][0].text)
                and not re.search(r"\d", t.text)
                and len(t.text.split()) <= 4
            ):
                parts.append((t, 0, len(t.text)))
                after += 1
                continue
            break
        parts.append((t, 0, len(t.text)))
    return parts


# Words of (Malaysian, then English) addresses, for putting right a word the recognizer misread by one
# look-alike character ("Wlsma", "Jaian", "SFLANGOR", "Fleor"), split ("JAL AN"), broke with a stray
# mark ("L.ot", "L.UMPUR") or ran into the next ("JalanPelabur"). Only in the address's value, only to
# a word of this list, and only where exactly one word of it fits.
ADDRESS_WORDS = frozenset(
    """JALAN TAMAN LORONG PERSIARAN LEBUH LEBUHRAYA KAWASAN PERINDUSTRIAN PERUSAHAAN BANDAR PUSAT
    PERNIAGAAN KOMPLEKS WISMA MENARA BANGUNAN GROUND FLOOR LEVEL BLOCK UNIT LOT SEKSYEN
    KAMPUNG MEDAN DESA INDAH UTAMA PLAZA SQUARE CENTRE CENTER MALL AVENUE STREET ROAD MALAYSIA
    SELANGOR JOHOR KEDAH KELANTAN MELAKA PAHANG PERAK PERLIS PENANG PINANG SABAH SARAWAK TERENGGANU
    KUALA LUMPUR PUTRAJAYA LABUAN DARUL EHSAN TAKZIM AMAN RIDZUAN NEGERI SEMBILAN PETALING SHAH
    ALAM SUBANG KLANG CHERAS AMPANG BAHRU KAJANG PUCHONG RAWANG SERDANG SEMENYIH DAMANSARA SETAPAK
    KEPONG BANGSAR SENTUL SEREMBAN IPOH MASAI SKUDAI KUCHING""".split()
)
_LOOKALIKE_LETTERS = {
    "I": "L1!|", "L": "I1|", "O": "0DQ", "D": "O0", "E": "F", "F": "E", "S": "5", "B": "8", "G": "6C",
    "C": "G", "A": "R", "N": "M", "M": "N", "U": "V", "V": "U", "R": "A",
}  # fmt: skip
# an address word run into the next, capitalised one ("JalanPelabur"), the longest first
_GLUED_ADDRESS = re.compile(
    r"\b(" + "|".join(sorted((w for w in ADDRESS_WORDS if len(w) >= 5), key=len, reverse=True)) + r")(?=[A-Z][a-z])",
    re.I,
)


def _fits_word(token: str) -> str | None:
    up = token.upper()
    if len(up) < 5 or up in ADDRESS_WORDS:
        return None
    fits = {
        w
        for w in ADDRESS_WORDS
        if len(w) == len(up)
        and sum(a != b for a, b in zip(w, up)) == 1
        and all(a == b or b in _LOOKALIKE_LETTERS.get(a, "") for a, b in zip(w, up))
    }
    return next(iter(fits)) if len(fits) == 1 else None


def _cased(word: str, like: str) -> str:
    return word if like.upper() == like else word.capitalize()


def _address_words(text: str) -> str:
    """The address's value with its misread words put right (ADDRESS_WORDS)."""

    def stray_mark(m: re.Match) -> str:
        joined = m.group(1) + m.group(2)
        return _cased(joined.upper(), joined) if joined.upper() in ADDRESS_WORDS else m.group(0)

    text = re.sub(r"\b([^\W\d_])\.([^\W\d_]{2,})\b", stray_mark, text)

    # a word split in two ("JAL AN"), where the two halves are not both words
    tokens = text.split(" ")
    out: list[str] = []
    for tok in tokens:
        if out and out[-1].isalpha() and tok.isalpha():
            joined = out[-1] + tok
            if (
                len(joined) >= 5
                and joined.upper() in ADDRESS_WORDS
                and not (out[-1].upper() in ADDRESS_WORDS and tok.upper() in ADDRESS_WORDS)
            ):
                out[-1] = _cased(joined.upper(), joined)
                continue
        out.append(tok)
    text = " ".join(out)
    text = _GLUED_ADDRESS.sub(r"\1 ", text)

    def misread(m: re.Match) -> str:
        w = _fits_word(m.group(0))
        return _cased(w, m.group(0)) if w else m.group(0)

    return re.sub(r"[^\W\d_][^\s,.;:]{4,}", misread, text)


def extract_header(lines: list[Text]):
    head = lines[:HEADER_LINES]
    parts, rest = _company(head)
    if not parts:
        return None, None
    company = _field(_company_name(" ".join(p.text for p in parts)), [(p, 0, len(p.text)) for p in parts])
    after = rest + lines[HEADER_LINES : HEADER_LINES + ADDRESS_LINES]
    # an address printed after a label ("HQ ADD: LOT 11995, ..."): from there, without the label
    labelled = next((i for i, t in enumerate(after) if ADDRESS_LABEL.match(t.text)), None)
    addr: list[tuple[Text, int, int]] = []
    if labelled is not None:
        addr = _address(after[labelled:])
        label = ADDRESS_LABEL.match(after[labelled].text)
        if addr and label and addr[0][0] is after[labelled]:
            addr[0] = (addr[0][0], label.end(), addr[0][2])
    if not addr:
        # no label, or "ADD : GST @ 6% 1.69" (a sum, not an address) under the header
        addr = _address(after)
    if not addr and parts[0].index > 0:
        # none after the name: a station's or a branch's name and address printed above the company's
        # name ("BHPETROL PERMAS JAYA 2" / "LOT PTD 101051" / ... / "ESJAY FUEL ENTERPRISE")
        above = _address(head[: head.index(parts[0])])
        if above and POSTCODE.search(" ".join(t.text for t, _, _ in above)):
            addr = above
    address = None
    if addr:
        value = " ".join(_BRACKET_REG.sub(" ", t.text[a:b]).strip() for t, a, b in addr)
        address = _field(_address_words(value), addr)
    return company, address


# ---------------------------------------------------------------- the fields object


def extract_receipt(page) -> dict:
    lines = [Text.of(ln, i) for i, ln in enumerate(page.lines) if ln.words]
    company, address = extract_header(lines)
    return {
        "kind": "receipt",
        "company": company,
        "date": extract_date(lines),
        "address": address,
        "total": extract_total(lines),
    }


# ---------------------------------------------------------------- the lines worth the accurate tier

REREAD_HEAD = 5  # with no company found: the first lines of the page


def looks_like_receipt(page) -> bool:
    """A total keyword with an amount after it on its line (a layout line joins a label and its
    amount printed apart on one row): what `fields("auto")` reads again as a receipt (a scene photo
    or a form seldom has one)."""
    for ln in page.lines:
        text = ln.text
        k = TOTAL_KEYWORDS.search(text)
        if k and AMOUNT.search(text, k.end()):
            return True
    return False


def reread_lines(page) -> list[int]:
    """Which of `page`'s lines (a first, plain read) the receipt's fields come from, to be read
    again by the accurate tier: the company's lines and the line on either side (a name broken over
    lines), the address's lines and the line after them (one character wrong spoils either), the
    total's line, and the lines of the cash and change that confirm a total; with no company found,
    the first lines of the page. Not the date's line: its few characters are seldom misread, and
    reading it again moved where addresses end (SROIE train addresses 0.520 -> 0.493). Indices into
    page.lines."""
    lines = page.lines
    if not lines:
        return []
    got = extract_receipt(page)
    centres = [np.asarray(ln.quad, np.float64).reshape(4, 2) for ln in lines]

    def holding(field) -> list[int]:
        """The lines holding a field's word quads (the line whose box holds each word's centre)."""
        out = set()
        for q in (field or {}).get("quads", []):
            c = np.asarray(q, np.float64).reshape(4, 2).mean(axis=0)
            for i, lq in enumerate(centres):
                if lq[:, 0].min() <= c[0] <= lq[:, 0].max() and lq[:, 1].min() <= c[1] <= lq[:, 1].max():
                    out.add(i)
                    break
        return sorted(out)

    pick: set[int] = set()
    company, address = holding(got["company"]), holding(got["address"])
    if company:
        pick.update(range(max(0, company[0] - 1), min(len(lines), company[-1] + 2)))
    else:
        pick.update(range(min(REREAD_HEAD, len(lines))))
    if address:
        pick.update(range(address[0], min(len(lines), address[-1] + 2)))
    elif company:
        pick.update(range(company[-1] + 1, min(len(lines), company[-1] + 1 + ADDRESS_LINES)))
    pick.update(holding(got["total"]))
    pick.update(i for i, ln in enumerate(lines) if CASH.search(ln.text) or CHANGE.search(ln.text))
    return sorted(pick)
