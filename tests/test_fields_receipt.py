"""Receipt fields (py/localocr/fields/receipt.py) on made-up pages, the CLI's --fields, and the
end-to-end checks: a real SROIE receipt and a synthetic photographed ID document through our OCR."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from localocr import cli
from localocr.fields.receipt import _address_words, extract_receipt
from test_fields_mrz import page_of

ROOT = Path(__file__).resolve().parent.parent
SROIE = ROOT.parent / "shared" / "data" / "sroie_train"

RECEIPT = [
    "tan woon yann",
    "INDAH GIFT & HOME DECO (1234567-X)",
    "27, JALAN DEDAP 13,",
    "TAMAN JOHOR JAYA,",
    "81100 JOHOR BAHRU, JOHOR.",
    "TEL:07-3507405 FAX:07-3558160",
    "RECEIPT",
    "19/10/2018 20:49:59 #01",
    "ITEM QTY PRICE AMT",
    "LAMP 1 55.90 55.90",
    "SUB TOTAL 55.90",
    "TOTAL QTY 2",
    "TOTAL GST 6% 3.35",
    "TOTAL AMT RM 60.31",
    "ROUNDING ADJ -0.01",
    "RM 60.30",
    "CASH RM 70.30",
    "CHANGE RM 10.00",
]


def values(f):
    return {k: (v["value"] if v else None) for k, v in f.items() if k != "kind"}


def test_receipt_fields_from_the_header_and_the_totals():
    f = extract_receipt(page_of(RECEIPT, origin=(20, 20)))
    assert f["kind"] == "receipt"
    assert values(f) == {
        "company": "INDAH GIFT & HOME DECO",
        "date": "19/10/2018",
        "address": "27, JALAN DEDAP 13, TAMAN JOHOR JAYA, 81100 JOHOR BAHRU, JOHOR.",
        "total": "60.30",
    }
    assert f["date"]["normalized"] == "2018-10-19"
    assert f["total"]["normalized"] == "60.30" and f["total"]["currency"] == "RM"
    assert len(f["address"]["quads"]) == 11 and len(f["total"]["quads"]) == 1
    assert 0 < f["company"]["confidence"] <= 1


@pytest.mark.parametrize(
    "line, printed, iso",
    [
        ("DATE: 2018-12-31 10:00", "2018-12-31", "2018-12-31"),
        ("Datum 31.12.18", "31.12.18", "2018-12-31"),
        ("12/28/2017 10:17 PM", "12/28/2017", "2017-12-28"),
        ("31 DEC 2018", "31 DEC 2018", "2018-12-31"),
        ("Date 05-Jan-19", "05-Jan-19", "2019-01-05"),
        ("DEC 31, 2018", "DEC 31, 2018", "2018-12-31"),
        ("DATE 31122018", "31122018", "2018-12-31"),
    ],
)
def test_dates_in_common_formats(line, printed, iso):
    f = extract_receipt(page_of(["SHOP LTD", "INV 1234", line]))
    assert (f["date"]["value"], f["date"]["normalized"]) == (printed, iso)


def test_a_date_line_wins_over_an_earlier_number_that_looks_like_a_date():
    f = extract_receipt(page_of(["SHOP LTD", "REF 01/02/2017", "DATE: 03/04/2018"]))
    assert f["date"]["value"] == "03/04/2018"


@pytest.mark.parametrize(
    "rows, total, currency",
    [
        (["BÄCKEREI GMBH", "BROT 2,50", "SUMME EUR 12,40", "BAR 20,00", "RÜCKGELD 7,60"], "12,40", "EUR"),
        (["CAFE SARL", "TOTAL TTC 8,90 €", "CB 8,90"], "8,90", "€"),
        (["STORE INC", "SUBTOTAL 10.00", "TAX 0.80", "AMOUNT DUE $10.80"], "$10.80", "$"),  # attached: in the value
        (["SHOP SDN BHD", "SUB TOTAL 4.20", "TOTAL", "4.20", "CASH 5.00", "CHANGE 0.80"], "4.20", None),
    ],
)
def test_totals_in_several_languages(rows, total, currency):
    f = extract_receipt(page_of(rows))
    assert f["total"]["value"] == total and f["total"].get("currency") == currency


def test_an_empty_page_has_no_fields():
    f = extract_receipt(page_of(["***"]))
    assert values(f) == {"company": None, "date": None, "address": None, "total": None}


# ---------------------------------------------------------------- the CLI and end to end


def run_cli(args, capsys):
    rc = cli.main(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_fields_needs_json(capsys):
    rc, _, err = run_cli(["--fields", "receipt", "x.png"], capsys)
    assert rc == 2 and err.strip() == "localocr: --fields needs --format json"
    with pytest.raises(SystemExit) as e:
        cli.main(["--fields", "invoice", "x.png", "-f", "json"])
    assert e.value.code == 2


needs_sroie = pytest.mark.skipif(
    not (SROIE / "images" / "001.jpg").is_file(), reason="../shared/data/sroie_train is absent"
)


@needs_sroie
def test_cli_reads_a_real_sroie_receipt_end_to_end(capsys, tmp_path):
    image = SROIE / "images" / "001.jpg"
    rc, out, _ = run_cli([str(image), "--format", "json", "--fields", "receipt"], capsys)
    assert rc == 0
    d = json.loads(out)
    assert "blocks" in d and d["fields"]["kind"] == "receipt"
    label = next(
        json.loads(x)["fields"]
        for x in (SROIE / "labels.jsonl").read_text().splitlines()
        if json.loads(x)["image"] == "images/001.jpg"
    )
    got = values(d["fields"])
    for k in ("company", "date", "total"):  # the address depends on OCR spacing: not asserted
        assert got[k].upper() == label[k], k
    assert d["fields"]["total"]["normalized"] == "60.30" and d["fields"]["date"]["normalized"] == "2018-10-19"
    # several images: each page JSON carries its fields; --out writes them too
    rc, out, _ = run_cli([str(image), str(image), "-f", "json", "--fields", "auto"], capsys)
    assert rc == 0 and [x["page"]["fields"]["kind"] for x in json.loads(out)] == ["receipt", "receipt"]
    rc, _, _ = run_cli([str(image), "-f", "json", "--fields", "receipt", "--out", str(tmp_path)], capsys)
    assert json.loads((tmp_path / "001.json").read_text())["fields"]["date"]["value"] == "19/10/2018"


def test_a_synthetic_id_document_end_to_end():
    """Photographed (rotated, in perspective, blurred, JPEG) OCR-B TD3 and TD1 documents: every field exact."""
    pytest.importorskip("PIL.ImageFont")
    if not Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf").is_file():
        pytest.skip("fonts-ocr-b is not installed (make test installs it)")
    from localocr.fields.mrz import FIELD_NAMES
    from localocr.pipeline import OCR

    from export.synth.id_docs import render_document

    ocr = OCR()
    for seed, fmt in ((3, "TD3"), (4, "TD1")):
        doc = render_document(np.random.default_rng(seed), fmt)
        buf = io.BytesIO()
        doc.image.save(buf, "JPEG", quality=90)
        f = ocr.read(buf.getvalue()).fields("auto")
        assert f["kind"] == "mrz" and f["format"] == fmt and f["valid"], (doc.lines, f["lines"])
        assert {k: (f[k]["value"] if f[k] else "") for k in FIELD_NAMES} == {
            k: doc.values.get(k, "") for k in FIELD_NAMES
        }


def test_fields_of_a_page_json_read_before():
    """The worker's "fields" command: Page.from_dict(page JSON) gives the same page and fields."""
    from localocr.result import Page

    page = page_of(RECEIPT, origin=(20, 20))
    d = page.to_dict()
    again = Page.from_dict(json.loads(json.dumps(d)))
    assert again.to_dict() == d
    assert again.fields("auto") == page.fields("receipt")


@pytest.mark.parametrize(
    "rows, total",
    [
        # the amount to be paid after a rounding adjustment, though "paid" also names the cash tendered
        (
            [
                "SHOP SDN BHD",
                "TOTAL : 25.44",
                "ROUNDING ADJUSTMENT: 0.01",
                "AMOUNT TO BE PAID : 25.45",
                "CASH RECEIVED 25.50",
                "CHANGE 0.05",
            ],
            "25.45",
        ),
        # the TOTAL row of the tax table under the receipt's total sums the tax
        (
            [
                "SHOP SDN BHD",
                "TOTAL (RM) : 8.00",
                "GASH : 8.00",
                "GST SUMMARY",
                "TAX CODE % AMOUNT GST",
                "SR 6 7.55 0.45",
                "TOTAL : 7.55 0.45",
            ],
            "8.00",
        ),
        # ... but an item table's TAXCODE column above the totals is no tax table
        (
            [
                "SHOP SDN BHD",
                "DESC QTY PRICE AMOUNT TAXCODE",
                "A 1 10.00 SR",
                "TOTAL AMOUNT 10.00",
                "GST 6% 0.60",
                "TOTAL PAYABLE 10.60",
                "CASH 20.00",
            ],
            "10.60",
        ),
        # TOTAL misread by one letter
        (
            ["SHOP SDN BHD", "SUBT OIAL: 231.00", "PROMOTION 14.00", "TOHAL INCLUSIVE GST. 217.00", "POINTS 247.00"],
            "217.00",
        ),
        # a net amount, and the cash received is no total
        (["SHOP SDN BHD", "DISCOUNT 14.00", "NET AMT : 136.00", "RECEIVED 150.00"], "136.00"),
        # a currency printed against the next amount is not the first one's
        (["SHOP SDN BHD", "Total 4.00 RM4.00", "CASH RM5.00", "CHANGE RM1.00"], "RM4.00"),
    ],
)
def test_total_keywords_tables_and_misreadings(rows, total):
    assert extract_receipt(page_of(rows))["total"]["value"] == total


@pytest.mark.parametrize(
    "head, company",
    [
        ("SUPER SEVEN CASH & CARRY SBN 3HD", "SUPER SEVEN CASH & CARRY SDN BHD"),  # legal suffix misread
        ("BEMIED (SP) SON. BHD.", "BEMIED (SP) SDN. BHD."),
        ("HAXINCONE RESOURCES SGN BHd", "HAXINCONE RESOURCES SDN BHD"),
        ("BEMED (SP) SDN. BHZ", "BEMED (SP) SDN. BHD"),
        ("SINNATHAMBY HOLDINGS SDN. SHD.", "SINNATHAMBY HOLDINGS SDN. BHD."),
        ("99 SPEED MART 5/B", "99 SPEED MART S/B"),
        ("EIGHT OUNCE COFFEE CO. THE GARDENS MALL", "EIGHT OUNCE COFFEE CO."),  # the mall after the name
        ("AEON CO. (M) BHD.", "AEON CO. (M) BHD."),
        ("CHECKERS HYPERMARKET SDN BHD (JALAN KLANG LAMA)", "CHECKERS HYPERMARKET SDN BHD (JALAN KLANG LAMA)"),
        ("SONNY BHZ TRADING", "SONNY BHZ TRADING"),  # only at the end of a name
        ("BEMED (SP) SDN.", "BEMED (SP) SDN. BHD."),  # BHD lost after SDN
        ("GARDENIA BAKERIES (KL SDN BHD", "GARDENIA BAKERIES (KL) SDN BHD"),  # a bracket left open
        ("MOONLIGHT CAKE HOUSE SDN DHD 80Z7Z5-U", "MOONLIGHT CAKE HOUSE SDN BHD"),  # a misread reg. number
        ("NANDO'S CHICKENLAND MALAYSIA Sn Bhd", "NANDO'S CHICKENLAND MALAYSIA SDN BHD"),
        ("99 SPEED MART S7B", "99 SPEED MART S/B"),  # "/" read as "7"
        ("SANYU STATIONERYSHOP", "SANYU STATIONERY SHOP"),  # two words of a trade name run together
        ("TEO HENG STATIONERY 8 BOOKS", "TEO HENG STATIONERY & BOOKS"),  # "&" read as "8"
        ("7 ELEVEN 8 MART", "7 ELEVEN & MART"),
        ("PUSAT 8 TRADING", "PUSAT & TRADING"),
        ("#000002 BAIFU (M) Sdn Bhd", "BAIFU (M) Sdn Bhd"),  # a ticket number before the name
        ("SHOPRITE BOOKSTORE", "SHOPRITE BOOKSTORE"),  # no two whole trade words: as read
    ],
)
def test_company_legal_suffixes(head, company):
    f = extract_receipt(page_of([head, "NO 1, JALAN BESAR,", "45600 BATANG BERJUNTAI", "TEL: 03-1234 5678"]))
    assert f["company"]["value"] == company


@pytest.mark.parametrize(
    "rows, address",
    [
        # a street and a town read in lower case are still the address
        (
            [
                "GARDENIA BAKERIES (KL) SDN BHD (139386 X)",
                "Lot 3, Jalan Pelabur 23/1,",
                "40300 Shah Alam, Selangor.",
                "Tel: 03- 55423228",
            ],
            "Lot 3, Jalan Pelabur 23/1, 40300 Shah Alam, Selangor.",
        ),
        # after the postcode: a town, then the state
        (
            [
                "SINNATHAMBY HOLDINGS",
                "SDN. BHD.",
                "249336-T",
                "NO.17, 18 & 41, JALAN BESAR,",
                "39100 BRINCHANG,",
                "CAMERON HIGHLANDS,",
                "PAHANG",
                "GST Reg.: 002120876032",
            ],
            "NO.17, 18 & 41, JALAN BESAR, 39100 BRINCHANG, CAMERON HIGHLANDS, PAHANG",
        ),
        # a telephone number on the postcode's line
        (
            [
                "MOONLIGHT CAKE HOUSE SDN BHD",
                "NO.1, JALAN PERMAS 10/5, BANDAR BARU PERMAS JAYA",
                "81750 JOHOR BAHRU, JOHOR. TEL NO.: 07-387 3322",
                "WWW.MOONLIGHTCAKE.COM",
            ],
            "NO.1, JALAN PERMAS 10/5, BANDAR BARU PERMAS JAYA 81750 JOHOR BAHRU, JOHOR.",
        ),
        # a registration number after "ROC:", and a lot number of five digits that is no postcode
        (
            [
                "OGN GROUP SDN BHD",
                "Roc: 1026984-X",
                "LOT P.T. 33198, BATU 4",
                "JALAN KAPAR, MUKIM KAPAR",
                "42100 KLANG, SELANGOR",
                "GST ID. NO : 000181747712",
            ],
            "LOT P.T. 33198, BATU 4 JALAN KAPAR, MUKIM KAPAR 42100 KLANG, SELANGOR",
        ),
        # a branch name with a number in it before the street
        (
            [
                "NANDO'S CHICKENLAND MALAYSIA SDN BHD",
                "NANDO'S 1 MONT KIARA",
                "UNIT G-13, GROUND FLOOR, NO.1 JLN KIARA,",
                "MONT KIARA 50480 KUALA LUMPUR",
                "TEL 03-1234 5678",
            ],
            "UNIT G-13, GROUND FLOOR, NO.1 JLN KIARA, MONT KIARA 50480 KUALA LUMPUR",
        ),
    ],
)
def test_address_lines(rows, address):
    assert extract_receipt(page_of(rows))["address"]["value"] == address


def test_a_bracketed_note_under_the_name_is_neither_name_nor_address():
    f = extract_receipt(
        page_of(
            [
                "TONYMOLY VIVA CITY",
                "(TONYMOLY SHOP (95874))",
                "UNIT L1-044B, VIVACITY MEGAMALL,",
                "JALAN WAN ALWI,",
                "93350 KUCHING, SARAWAK.",
                "GST ID : 000349356032",
            ]
        )
    )
    assert f["company"]["value"] == "TONYMOLY VIVA CITY"
    assert f["address"]["value"] == "UNIT L1-044B, VIVACITY MEGAMALL, JALAN WAN ALWI, 93350 KUCHING, SARAWAK."


def test_a_short_line_before_the_registration_number_continues_the_name():
    f = extract_receipt(
        page_of(
            [
                "RESTAURANT JIAWEI",
                "JIAWEI HOUSE",
                "002693074-K",
                "13, JLN TASIK UTAMA 8",
                "MEDAN NIAGA DAMAI SG BESI",
                "57000 KL",
                "INVOICE",
            ]
        )
    )
    assert f["company"]["value"] == "RESTAURANT JIAWEI JIAWEI HOUSE"
    assert f["address"]["value"] == "13, JLN TASIK UTAMA 8 MEDAN NIAGA DAMAI SG BESI 57000 KL"


def test_an_address_after_its_label():
    f = extract_receipt(
        page_of(
            [
                "HAI-O RAYA BHD (169199-V",
                "KEPONG OUTLET",
                "TEL / FAX : 03-62636977",
                "GST ID NO: 001600892928",
                "HQ ADD: LOT 11995, BATU 2, JALAN KAPAR",
                "41400 KLANG, SELANGOR",
                "DATE: 15/12/2016 10:24:42",
            ]
        )
    )
    assert f["address"]["value"] == "LOT 11995, BATU 2, JALAN KAPAR 41400 KLANG, SELANGOR"
    assert len(f["address"]["quads"]) == 6 + 3


def test_the_oracle_finds_a_label_on_one_line_or_over_consecutive_lines():
    from export.eval_fields import on_page

    lines = ["27, JALAN DEDAP 13,", "TAMAN  JOHOR JAYA,", "81100 JOHOR BAHRU", "TOTAL RM 60.30"]
    assert on_page("27, JALAN DEDAP 13, TAMAN JOHOR JAYA, 81100 JOHOR BAHRU", lines)
    assert on_page("60.30", lines) and on_page("", lines)
    assert not on_page("27, JALAN DEDAP 13, 81100 JOHOR BAHRU", lines)  # not consecutive
    assert not on_page("27, JALAN DEDAP 13, TAMAN JOHOR JAYA, 81100 JOHOR BAHRU", lines, join=2)


def test_a_header_read_in_its_printed_case_is_no_noise():
    f = extract_receipt(
        page_of(
            [
                "Gerbang Alaf Restaurants Sdn Bhd",
                "Level 6, Bangunan TH, Damansara Uptown3",
                "No.3, Jalan SS21/39, 47400 Petaling Jaya",
                "TEL 03-1234 5678",
            ]
        )
    )
    assert f["company"]["value"] == "Gerbang Alaf Restaurants Sdn Bhd"
    assert f["address"]["value"] == "Level 6, Bangunan TH, Damansara Uptown3 No.3, Jalan SS21/39, 47400 Petaling Jaya"
    # a note in lower case above the name still is
    assert extract_receipt(page_of(["tan woon yann", "SHOP SDN BHD"]))["company"]["value"] == "SHOP SDN BHD"


def test_a_registration_number_in_brackets_on_the_name_line():
    f = extract_receipt(
        page_of(
            [
                "Dion Realties Sdn Bhd (Co. No:20154-T)",
                "(GST Registration No : 000850247680)",
                "Menara Dion #02-03, Level 2,",
                "27, Jalan Sultan Ismail,",
                "50250 Kuala Lumpur.",
                "Tel : +6 03 2026 6386",
            ]
        )
    )
    assert f["company"]["value"] == "Dion Realties Sdn Bhd"
    assert f["address"]["value"] == "Menara Dion #02-03, Level 2, 27, Jalan Sultan Ismail, 50250 Kuala Lumpur."


@pytest.mark.parametrize(
    "rows, total",
    [
        # a tax's share of the total, printed with its rate under it, is no total
        (["SHOP SDN BHD", "TOTAL INCL. GST@6% RM 57.40", "GST @6% included in total RM 3.25"], "57.40"),
        (["SHOP SDN BHD", "TAKEOUT TOTAL (INCL GST) 13.10", "TOTAL INCLUDES 6% GST 0.74"], "13.10"),
        # nor a zero under the total
        (["SHOP SDN BHD", "TOTAL 19.99", "TOTAL LOADING CHARGES 0.00"], "19.99"),
        # a table's head with a TOTAL column: the row under it is no total, the sub-total is
        (
            ["SHOP SDN BHD", "SUBTOTAL RM41.45", "SUMMARY", "RATE NET(RM) GST(RM) TOTAL(RM)", "6.00% 39.09 2.34"],
            "RM41.45",
        ),
        # cash and change misread still confirm the total (GASH, CHANOE; CHARGE is no change)
        (["SHOP SDN BHD", "TOTAL 8.00", "AMOUNT 9.00", "GASH 10.00", "CHANOE 2.00"], "8.00"),
        (["SHOP SDN BHD", "TOTAL 8.00", "AMOUNT 9.00", "CASH 10.00", "SERVICE CHARGE 2.00"], "9.00"),
        # cash - change is the total plus its rounding adjustment
        (["SHOP SDN BHD", "TOTAL 12.37", "ROUNDING ADJ -0.02", "AMOUNT 12.50", "CASH 50.00", "CHANGE 37.65"], "12.37"),
        # a card payment is of the exact total; the line under "CARD NO." is no payment
        (
            [
                "SHOP SDN BHD",
                "TOTAL AMOUNT 234.40",
                "CREDIT CARD 234.40",
                "CREDIT CARD NO.: XXXX 6974",
                "TOTAL AMOUNT COLLECTED 239.40",
            ],
            "234.40",
        ),
        # so is cash where no change is printed
        (["SHOP SDN BHD", "Total (Inclusive of GST): 8.80", "TOTAL 8.60", "CASH 8.60"], "8.60"),
        # an amount misread by a character or a space, put right where cash - change confirms it
        (
            ["SHOP SDN BHD", "Total Amt : 7.42", "Total Amt PAYABLE : 7.4D", "PAID AMOUNT : 10.00", "Change: 2.60"],
            "7.40",
        ),
        (
            [
                "SHOP SDN BHD",
                "SUBTOTAL RM41.43",
                "ROUNDING RM0.02",
                "SUBTOTAL RM41. 45",
                "CASH RM51.50",
                "CHANGE RM10.05",
            ],
            "RM41.45",
        ),
        # the line under a total keyword with a label of its own (CASH misread as "C") holds no total's
        # amount: the sub-total does
        (["SHOP SDN BHD", "SUBTOTAL 25.00", "Net Total 25.", "C 50.00", "C. GE 25.00"], "25.00"),
        (["SHOP SDN BHD", "SUBTOTAL 7.00", "TOTAL", "RM 7.00", "CASH 10.00", "CHANGE 3.00"], "7.00"),
        # a card payment names the amount where no keyword line has it (AMT PAID INCL GST misread)
        (["SHOP SDN BHD", "AMTPAILEINGL GST :RM78.30", "PAID BY : CC'7186:RM78.30", "Total eV :2.10"], "RM78.30"),
        # ... read right, both lines with the amount are payment lines: the two agreeing say the total
        (["SHOP SDN BHD", "AMT PAID InGI. GST : RM78.30", "PAID BY : CC'7186:RM78.30", "TOtAL EV :2.10"], "RM78.30"),
        # one cash line alone (its change misread) does not override a keyword line
        (["SHOP SDN BHD", "TOTAL 12.40", "CASH 20.00", "CHNGG 7.60"], "12.40"),
        # without any total keyword: the amount paid in cash without change, not the largest
        (["SHOP SDN BHD", "ITEM A 4.80", "SUBIUIAL 4.80", "LUIAL (BSI INL) 4.50", "CASH 4.50"], "4.50"),
        # one digit of the total misread, put right by cash - change; not where two values would fit
        (["SHOP SDN BHD", "Total (RM) : 112.46", "CASH : 112.45", "Change (RM) 0.00"], "112.45"),
        (["SHOP SDN BHD", "Total (RM) : 112.46", "CASH : 150.00", "Change (RM) 37.00"], "112.46"),
        # a mark after the amount read as "%"
        (["SHOP SDN BHD", "SUB-TOTAL 45.28", "TOTAL 48.00%", "CASH 48.00", "CHANGE 0.00"], "48.00"),
    ],
)
def test_total_confirmations_and_what_is_no_total(rows, total):
    assert extract_receipt(page_of(rows))["total"]["value"] == total


def test_an_address_above_the_company_when_none_follows_it():
    f = extract_receipt(
        page_of(
            [
                "01908",
                "TAX INVOICE",
                "BHPETROL PERMAS JAYA 2",
                "LOT PTD 101051",
                "JALAN PERMAS 10/10",
                "81750 MASAI, JOHOR",
                "ESJAY FUEL ENTERPRISE",
                "CO. REG. NO: 001011128-T",
                "GST REG. NO: 000153358336",
                "30-06-2018 09:09:49 CASHIER: 465",
            ]
        )
    )
    assert f["company"]["value"] == "ESJAY FUEL ENTERPRISE"
    assert f["address"]["value"] == "LOT PTD 101051 JALAN PERMAS 10/10 81750 MASAI, JOHOR"


def test_add_before_a_sum_is_no_address_label():
    rows = ["FUN N CHEER (MALURI)", "LOT 37636,JALAN 6/37A,", "TAMAN BUKIT MALURI,", "52100 KUALA LUMPUR"]
    rows += ["TEL : 03-62612536", "TAX INVOICE", "ADD : GST @ 6% RM 1.69"]
    assert extract_receipt(page_of(rows))["address"]["value"] == (
        "LOT 37636,JALAN 6/37A, TAMAN BUKIT MALURI, 52100 KUALA LUMPUR"
    )


def test_without_a_company_word_the_name_above_its_registration_number():
    f = extract_receipt(
        page_of(
            [
                "CASHIEF [P.NISANTHI] MACHINE [003",
                "STAR CASH & CARRY",
                "(1365663-P)",
                "G.23 & G.22, PLAZA SERI SETIA,",
                "NO.1 JALAN SS 9/1, 47300 PJ, SELANGOR.",
                "TEL/FAX : 603-7877 9712",
            ]
        )
    )
    assert f["company"]["value"] == "STAR CASH & CARRY"
    assert f["address"]["value"] == "G.23 & G.22, PLAZA SERI SETIA, NO.1 JALAN SS 9/1, 47300 PJ, SELANGOR."


@pytest.mark.parametrize(
    "read, value",
    [
        (
            "2nd Floor, Wlsma Cosway, Jalan Raja Chulan, 50200 Kuala Lumpur, Malaysla.",
            "2nd Floor, Wisma Cosway, Jalan Raja Chulan, 50200 Kuala Lumpur, Malaysia.",
        ),
        ("B-8, JAL AN SS15/4D, 47500 SUBANG JAYA, SELANGOR", "B-8, JALAN SS15/4D, 47500 SUBANG JAYA, SELANGOR"),
        ("LOT-18A-2, BERJAYA TIMES SQUARE, KUALA L.UMPUR.", "LOT-18A-2, BERJAYA TIMES SQUARE, KUALA LUMPUR."),
        (
            "Lot 3, Jaian Pelabur 23/1, 40300 Shah Alam, SFLANGOR.",
            "Lot 3, Jalan Pelabur 23/1, 40300 Shah Alam, SELANGOR.",
        ),
        ("c Lot 3, JalanPelabur 23/1", "c Lot 3, Jalan Pelabur 23/1"),
        # left alone: words of the list, words no look-alike of one, names that two words fit
        ("NO 15 JALAN BANDAR KAWANG 10", "NO 15 JALAN BANDAR KAWANG 10"),
        ("JALAN AMAN, TAMAN DESA", "JALAN AMAN, TAMAN DESA"),
        ("12, Jalan Tampoi 7/4, Johor Bahru", "12, Jalan Tampoi 7/4, Johor Bahru"),
    ],
)
def test_address_words_misread_by_a_look_alike_are_put_right(read, value):
    assert _address_words(read) == value
    f = extract_receipt(page_of(["SHOP SDN BHD", read, "TEL: 03-1234 5678", "TOTAL 5.00"]))
    assert f["address"]["value"] == value


def test_an_address_starting_with_a_street_numbers_line():
    # "NO 24, 25 & 26," has two letters only: a street number's line, not noise
    rows = [
        "PASAR RAYA MEGA MAJU",
        "(SEMENYIH) SDN BHD",
        "(767840-W)",
        "NO 24, 25 & 26,",
        "JALAN PUSAT 4,",
        "BUNGA RAYA,",
    ]
    f = extract_receipt(page_of(rows + ["TEL: FAX:", "TOTAL 5.00"]))
    assert f["address"]["value"] == "NO 24, 25 & 26, JALAN PUSAT 4, BUNGA RAYA,"
