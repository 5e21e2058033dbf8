"""ICAO 9303 machine-readable zones (py/localocr/fields/mrz.py): check digits on the specimens of
Doc 9303, parsing of TD1/TD2/TD3, composing, length repair, check-digit-confirmed corrections, and
the "mrz" fields object of a Page."""

from __future__ import annotations

import numpy as np
import pytest
from localocr.errors import LocalOCRError
from localocr.fields import mrz
from localocr.result import Block, Line, Page, Word

# ICAO Doc 9303 specimens (part 4 TD3, part 5 TD1, part 6 TD2): Anna Maria Eriksson of Utopia.
TD3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
TD1 = ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]
TD2 = ["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6"]
SPECIMEN = {
    "issuing_state": "UTO",
    "surname": "ERIKSSON",
    "given_names": "ANNA MARIA",
    "nationality": "UTO",
    "birth_date": "740812",
    "sex": "F",
    "expiry_date": "120415",
}


@pytest.mark.parametrize(
    "data, digit",
    [
        ("L898902C3", "6"),
        ("740812", "2"),
        ("120415", "9"),
        ("ZE184226B<<<<<", "1"),
        ("D23145890", "7"),
        ("L898902C3674081221204159ZE184226B<<<<<1", "0"),
        ("D231458907<<<<<<<<<<<<<<<74081221204159<<<<<<<<<<<", "6"),
        ("<<<", "0"),
        ("AB2134", "5"),
    ],
)
def test_check_digits_of_the_icao_specimens(data, digit):
    assert mrz.check_digit(data) == digit


def test_check_digit_refuses_other_characters():
    with pytest.raises(ValueError):
        mrz.check_digit("ab1")


@pytest.mark.parametrize(
    "lines, fmt, number, optional",
    [(TD3, "TD3", "L898902C3", "ZE184226B"), (TD1, "TD1", "D23145890", ""), (TD2, "TD2", "D23145890", "")],
)
def test_specimens_parse_with_every_check(lines, fmt, number, optional):
    m = mrz.parse(lines)
    assert m.format == fmt and m.valid and all(m.checks.values())
    assert set(m.checks) == {c.name for c in mrz.FORMATS[fmt].checks}
    assert {k: m.values[k] for k in SPECIMEN} == SPECIMEN
    assert m.values["number"] == number and m.values["optional"] == optional
    assert m.values["document_type"] == ("P" if fmt == "TD3" else "I")


@pytest.mark.parametrize("lines", [TD3, TD1, TD2])
def test_compose_rebuilds_the_specimens(lines):
    v = mrz.parse(lines).values
    args = {
        k: v[k]
        for k in (
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
    }
    assert mrz.compose(mrz.parse(lines).format, **args) == lines


def test_compose_long_td1_number_continues_in_the_optional_field():
    lines = mrz.compose(
        "TD1",
        document_type="I",
        issuing_state="UTO",
        surname="Eriksson",
        given_names="Anna",
        number="D23145890734",
        nationality="UTO",
        birth_date="740812",
        sex="F",
        expiry_date="120415",
        optional="X1",
    )
    assert lines[0][14] == "<" and lines[0][15:19] == "7349"
    m = mrz.parse(lines)
    assert m.valid and m.values["number"] == "D23145890734" and m.values["optional"] == "X1"


def test_compose_transliterates_and_cuts_names():
    lines = mrz.compose(
        "TD3",
        document_type="P",
        issuing_state="D",
        surname="Müller-Lüdenscheidt",
        given_names="Hans Jürgen O'Neil",
        number="C01X00T47",
        nationality="D",
        birth_date="640812",
        sex="M",
        expiry_date="300101",
    )
    assert lines[0].startswith("P<D<<MULLER<LUDENSCHEIDT<<HANS<JURGEN<ONEIL")
    assert all(len(x) == 44 for x in lines) and mrz.parse(lines).valid
    with pytest.raises(ValueError):
        mrz.compose(
            "TD3",
            document_type="P",
            issuing_state="D",
            surname="A",
            given_names="B",
            number="1",
            nationality="D",
            birth_date="6408",
            sex="M",
            expiry_date="300101",
        )
    with pytest.raises(ValueError):
        mrz.compose(
            "TD4",
            document_type="P",
            issuing_state="D",
            surname="A",
            given_names="B",
            number="1",
            nationality="D",
            birth_date="640812",
            sex="M",
            expiry_date="300101",
        )


def test_a_wrong_digit_fails_its_check_and_the_composite():
    bad = [TD3[0], TD3[1][:13] + "7408132" + TD3[1][20:]]  # birth date 740813, digit 2: wrong
    m = mrz.parse(bad)
    assert not m.valid and m.checks["birth_date"] is False and m.checks["composite"] is False
    assert m.checks["number"] and m.checks["expiry_date"]


def test_repair_fixes_confusions_only_where_a_check_digit_confirms_them():
    read = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L8989O2C36UTO74O8I22F12O4I59ZE184226B<<<<<1O"]
    lines, fixes = mrz.repair_lines(read, mrz.TD3)
    assert lines == TD3 and len(fixes) == 6
    # a number whose O/0 cannot be told apart by its check digit stays as read
    ambiguous = mrz.compose(
        "TD3",
        document_type="P",
        issuing_state="UTO",
        surname="A",
        given_names="B",
        number="3O0I09I0",
        nationality="UTO",
        birth_date="740812",
        sex="F",
        expiry_date="120415",
    )
    misread = [ambiguous[0], ambiguous[1].replace("3O0I", "300I", 1)]
    lines, _ = mrz.repair_lines(misread, mrz.TD3)
    assert lines[1].startswith("300I09I0") and not mrz.parse(lines).checks["number"]
    # letters in the names stay letters: a 0 there becomes O (digits are not allowed in names)
    lines, _ = mrz.repair_lines(["P<UTOERIKSS0N<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", TD3[1]], mrz.TD3)
    assert lines == TD3


@pytest.mark.parametrize(
    "read",
    [
        ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<10"],  # fillers lost
        ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<<<10"],
        ["P<UTO ERIKSSON«ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B <<<<< 10"],
    ],
)
def test_repair_fits_filler_runs_to_the_line_length(read):
    lines, _ = mrz.repair_lines(read, mrz.TD3)
    assert lines == TD3


def test_dates_normalise_with_the_century_that_fits():
    import datetime as dt

    today = dt.date(2026, 12, 2)
    assert mrz.mrz_date("740812", "birth", today) == "1974-08-12"
    assert mrz.mrz_date("150101", "birth", today) == "2015-01-01"
    assert mrz.mrz_date("120415", "expiry", today) == "2012-04-15"
    assert mrz.mrz_date("991231", "expiry", today) == "1999-12-31"
    assert mrz.mrz_date("741312", "birth", today) is None


def page_of(rows, origin=(40.0, 300.0), char_w=12.0, line_h=24.0, other=()):
    """A Page whose lines are `rows` of text (one word per space-separated run), laid out left to right."""
    lines = []
    x0, y0 = origin
    for r, text in enumerate(list(other) + list(rows)):
        y = y0 + r * line_h * 1.5
        words, x = [], x0
        for token in text.split(" "):
            w = char_w * len(token)
            words.append(Word(token, np.array([[x, y], [x + w, y], [x + w, y + line_h], [x, y + line_h]]), 0.95))
            x += w + char_w
        quad = np.array([[x0, y], [x - char_w, y], [x - char_w, y + line_h], [x0, y + line_h]])
        lines.append(Line(words, quad, 0.95))
    return Page(1200, 1000, [Block(lines, lines[0].quad)])


def test_mrz_fields_of_a_page():
    page = page_of(TD1, other=["IDENTITY CARD", "Surname ERIKSSON"])
    f = page.fields("mrz")
    assert f["kind"] == "mrz" and f["format"] == "TD1" and f["valid"] and f["lines"] == TD1
    assert f["surname"]["value"] == "ERIKSSON" and f["given_names"]["value"] == "ANNA MARIA"
    assert f["birth_date"]["normalized"] == "1974-08-12" and f["optional"] is None
    # the number's box is its 9 characters of the first MRZ line (positions 6-14 of 30)
    (q,) = f["number"]["quads"]
    assert q[0][0] == pytest.approx(40 + 12 * 30 * 5 / 30, abs=0.2) and q[1][0] == pytest.approx(40 + 12 * 14, abs=0.2)
    assert page.fields("auto")["kind"] == "mrz"


def test_no_mrz_gives_empty_fields():
    f = page_of(["TOTAL 12.50"]).fields("mrz")
    assert f["format"] is None and not f["valid"] and f["lines"] == [] and f["surname"] is None


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(LocalOCRError) as e:
        page_of(["X"]).fields("invoice")
    assert e.value.code == "bad_fields_kind"
