"""Documents: PDF / multi-page TIFF / animated GIF in; searchable PDF, ALTO v4, PAGE XML 2019 out.

The searchable PDF is checked with poppler's pdftotext (Debian poppler-utils, installed by the
Makefile's test set-up): its text holds the OCR words, its word boxes (`-bbox`) the OCR boxes
within 2 pt. ALTO and PAGE XML are validated against their schemas (tests/schemas, lxml).
"""

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from localocr import LocalOCRError, cli, document
from localocr.document import Document, PageFacts, PageImage, PageSource, choose_dpi, parse_pages
from localocr.result import Block, Line, Page, Word
from PIL import Image, ImageDraw, ImageFont
from pipeline_fakes import fake_ocr, page_with_words  # noqa: F401 (fixture)

SCHEMAS = Path(__file__).parent / "schemas"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# real pages of a scanned form set and a receipt set (validation split images)
REAL_PAGES = [
    DATA / "funsd_train/images/0000971160.png",
    DATA / "funsd_train/images/0001118259.png",
    DATA / "sroie_train/images/003.jpg",
]
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) missing")


# ---------------------------------------------------------------- helpers


def pdf_of(images, resolution=150.0) -> bytes:
    """An image-only PDF made with Pillow, one page per image."""
    ims = [im.copy() for im in images]  # Pillow's PDF writer leaves JPEG settings on its images
    buf = io.BytesIO()
    ims[0].save(buf, "PDF", save_all=True, append_images=ims[1:], resolution=resolution)
    return buf.getvalue()


def jpeg_of(im) -> bytes:
    """The JPEG Pillow's PDF writer embeds for an "L"/"RGB" page (its default settings)."""
    buf = io.BytesIO()
    im.save(buf, "JPEG")
    return buf.getvalue()


def drawn_page(lines, size=(1240, 1754)) -> Image.Image:
    """A synthetic page (A4 at 150 dpi) with `lines` of text, for when ../shared/data is absent."""
    im = Image.new("L", size, 255)
    d = ImageDraw.Draw(im)
    font = ImageFont.truetype(FONT, 36) if Path(FONT).is_file() else ImageFont.load_default(36)
    for i, text in enumerate(lines):
        d.text((100, 120 + 90 * i), text, font=font, fill=0)
    return im


def pdftotext_words(pdf: bytes, tmp_path) -> list[list[tuple[str, tuple]]]:
    """Per page: [(word, (xMin, yMin, xMax, yMax) in pt, y down)] from `pdftotext -bbox`."""
    path = tmp_path / "searchable.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for page in re.findall(r"<page [^>]*>(.*?)</page>", html, re.S):
        words = []
        for x0, y0, x1, y1, w in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
            r'yMax="([\d.]+)">(.*?)</word>',
            page,
        ):
            import html as h

            words.append((h.unescape(w), (float(x0), float(y0), float(x1), float(y1))))
        pages.append(words)
    return pages


def word_boxes_pt(page: Page) -> list[tuple[str, tuple]]:
    s = 72.0 / page.source.dpi
    out = []
    for w in page.words:
        q = np.asarray(w.quad, np.float64).reshape(4, 2) * s
        out.append((w.text, (q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max())))
    return out


def check_searchable(doc: Document, pdf: bytes, tmp_path, share=0.95, tol=2.0):
    """pdftotext finds >= `share` of every page's OCR words, each within `tol` pt of its box."""
    extracted = pdftotext_words(pdf, tmp_path)
    assert len(extracted) == len(doc.pages)
    for page, found in zip(doc.pages, extracted):
        expected = word_boxes_pt(page)
        pool = list(found)
        matched = 0
        for text, box in expected:
            for k, (t, b) in enumerate(pool):
                if t == text and max(abs(u - v) for u, v in zip(box, b)) <= tol:
                    matched += 1
                    del pool[k]
                    break
        assert matched >= share * len(expected), (matched, len(expected), expected[:5], found[:5])


def schema(name: str):
    etree = pytest.importorskip("lxml.etree")
    tree = etree.parse(str(SCHEMAS / name))
    for imp in tree.getroot().iter("{http://www.w3.org/2001/XMLSchema}import"):
        imp.set("schemaLocation", "xlink.xsd")  # the local copy, not the network
    return etree.XMLSchema(etree.fromstring(etree.tostring(tree), base_url=str(SCHEMAS / name)))


def validate(xsd: str, xml: str):
    etree = pytest.importorskip("lxml.etree")
    s = schema(xsd)
    doc = etree.fromstring(xml.encode("utf-8"))
    assert s.validate(doc), s.error_log
    return doc


def hand_page(words_per_line, dpi=150.0, size=(1000, 400)) -> Page:
    """A Page with known words and boxes (no OCR), its picture a white image."""
    lines = []
    y = 40
    for texts in words_per_line:
        x = 30
        ws = []
        for t in texts:
            w = 22 * len(t)
            ws.append(Word(t, np.array([[x, y], [x + w, y], [x + w, y + 36], [x, y + 36]], np.float32), 0.9))
            x += w + 20
        q = np.array([[30, y], [x - 20, y], [x - 20, y + 36], [30, y + 36]], np.float32)
        lines.append(Line(ws, q, 0.9))
        y += 60
    block = Block(lines, np.array([[30, 40], [970, 40], [970, y], [30, y]], np.float32))
    im = Image.new("L", size, 255)
    return Page(size[0], size[1], [block], source=PageSource(1, dpi, "none", PageImage.of(im)))


# ---------------------------------------------------------------- writers (no models)


@needs_pdftotext
def test_searchable_pdf_words_and_positions(tmp_path):
    p1 = hand_page([["Invoice", "12.50", "EUR"], ["Grand", "total:", "€", "15,00"]])
    p2 = hand_page([["Seite", "zwei", "—", "Straße", "«ouï»"]], dpi=300.0)
    # a word turned 90 degrees (read upwards) keeps its box too
    p2.blocks[0].lines[0].words.append(
        Word("Up", np.array([[900, 380], [900, 300], [936, 300], [936, 380]], np.float32), 0.9)
    )
    doc = Document([p1, p2])
    pdf = doc.to_pdf()
    assert pdf.startswith(b"%PDF-1.7") and pdf.rstrip().endswith(b"%%EOF")
    check_searchable(doc, pdf, tmp_path, share=1.0, tol=0.5)
    path = tmp_path / "p.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout
    assert "Grand total: € 15,00" in text and "Straße" in text and text.count("\f") == 2
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+2", info) and "480 x 192 pts" in info  # 1000 x 400 px at 150 dpi


@needs_pdftotext
def test_searchable_pdf_covers_the_whole_alphabet(tmp_path):
    from export.charset import ALPHABET

    chars = [c for c in ALPHABET if c != " "]
    # more than 256 distinct characters: a second Type 3 font takes over (here with CJK and emoji)
    extra = [chr(0x4E00 + i) for i in range(120)] + ["😀"]
    chunks = ["".join(chars[i : i + 12]) for i in range(0, len(chars), 12)] + [
        "".join(extra[i : i + 12]) for i in range(0, len(extra), 12)
    ]
    page = hand_page([chunks[i : i + 3] for i in range(0, len(chunks), 3)], size=(1000, 60 * 15 + 80))
    pdf = Document([page]).to_pdf()
    assert pdf.count(b"/Subtype /Type3") == 2
    found = [w for w, _ in pdftotext_words(pdf, tmp_path)[0]]
    assert found == [w.text for w in page.words]
    assert set("".join(found)) >= set(chars)


def test_alto_validates_and_has_a_string_per_word():
    doc = Document([hand_page([["a&b", "<c>"], ['"q"']]), hand_page([["two"]])], name="scan.pdf")
    xml = validate("alto-4-4.xsd", doc.to_alto())
    ns = {"a": document.ALTO_NS}
    strings = xml.findall(".//a:String", ns)
    assert [s.get("CONTENT") for s in strings] == ["a&b", "<c>", '"q"', "two"]
    assert len(xml.findall(".//a:Page", ns)) == 2 and len(xml.findall(".//a:TextLine", ns)) == 3
    first = strings[0]
    assert (first.get("HPOS"), first.get("VPOS"), first.get("WIDTH"), first.get("HEIGHT"), first.get("WC")) == (
        "30",
        "40",
        "66",
        "36",
        "0.9000",
    )


def test_page_xml_validates_and_has_a_word_per_word():
    doc = Document([hand_page([["Hello", "world"], ["bye"]]), hand_page([["p2"]])], name="scan.pdf")
    xmls = doc.to_page_xml()
    assert len(xmls) == 2
    ns = {"p": document.PAGE_NS}
    root = validate("pagecontent-2019-07-15.xsd", xmls[0])
    words = root.findall(".//p:Word", ns)
    assert [w.find("p:TextEquiv/p:Unicode", ns).text for w in words] == ["Hello", "world", "bye"]
    assert words[0].find("p:Coords", ns).get("points") == "30,40 140,40 140,76 30,76"
    assert root.find(".//p:Page", ns).get("imageFilename") == "scan.pdf#page=1"
    validate("pagecontent-2019-07-15.xsd", xmls[1])
    validate("pagecontent-2019-07-15.xsd", Page(10, 10).to_page_xml())  # an empty page too


def test_document_text_dict_hocr():
    doc = Document([hand_page([["one"]]), hand_page([["two"]])], name="d.pdf", kind="pdf", page_count=5)
    assert doc.to_text() == "one\n\ftwo\n"
    d = json.loads(json.dumps(doc.to_dict()))
    assert d["page_count"] == 5 and [p["source"]["page_number"] for p in d["pages"]] == [1, 1]
    assert d["pages"][0]["source"] == {"page_number": 1, "dpi": 150.0, "text_layer": "none"}
    hocr = doc.to_hocr()
    assert hocr.count('class="ocr_page"') == 2 and 'id="word_2_1"' in hocr and "ppageno 1" in hocr


def test_parse_pages_and_limits():
    assert parse_pages(None, 3) == [1, 2, 3]
    assert parse_pages("1-3,7", 9) == [1, 2, 3, 7]
    assert parse_pages("8-", 9) == [8, 9] and parse_pages("2,2,1", 3) == [1, 2]
    assert parse_pages([3, 1], 3) == [1, 3]
    for bad, code in [("0", "bad_pages"), ("4", "bad_pages"), ("a-b", "bad_pages"), ("3-1", "bad_pages")]:
        with pytest.raises(LocalOCRError) as e:
            parse_pages(bad, 3)
        assert e.value.code == code
    with pytest.raises(LocalOCRError, match="at most 2") as e:
        document.check_page_count([1, 2, 3], 3, max_pages=2)
    assert e.value.code == "too_many_pages"


def test_choose_dpi():
    a4 = (595.0, 842.0)
    # a scan: its own resolution, 1:1
    assert choose_dpi(PageFacts(*a4, images=[(2480, 3508)]), 50_000_000) == pytest.approx(300, abs=0.2)
    assert choose_dpi(PageFacts(*a4, images=[(4960, 7016)]), 50_000_000) == document.MAX_DPI
    # text: 200 dpi, more for small print, and never past the pixel limit
    assert choose_dpi(PageFacts(*a4, has_text=True, font_sizes=[10, 11, 12]), 50_000_000) == document.LEGIBLE_DPI
    assert choose_dpi(PageFacts(*a4, has_text=True, font_sizes=[6, 6, 7]), 50_000_000) == pytest.approx(333.3, abs=0.1)
    assert choose_dpi(PageFacts(*a4), 2_000_000) == pytest.approx(143.86, abs=0.01)  # 2 MP


# ---------------------------------------------------------------- reading (fake models)


def frames(n=3):
    ims = []
    for k in range(n):
        im, _ = page_with_words(lines=((20, 30, (k + 1,)), (20, 120, (2,))))
        ims.append(im)
    return ims


@pytest.mark.parametrize("fmt", ["TIFF", "GIF", "WEBP"])
def test_multi_page_images_read_every_page(fake_ocr, fmt):
    ims = frames()
    buf = io.BytesIO()
    opts = (
        {"compression": "tiff_deflate"}
        if fmt == "TIFF"
        else {"duration": 100, "lossless": True}
        if fmt == "WEBP"
        else {}
    )
    ims[0].save(buf, fmt, save_all=True, append_images=ims[1:], **opts)
    doc = fake_ocr.read_document(buf.getvalue())
    assert doc.kind == fmt.lower() and doc.page_count == 3 and len(doc.pages) == 3
    # the fake recognizer reads n bars as n "x": page k's first word has k letters
    assert [p.lines[0].words[0].text for p in doc.pages] == ["x", "xx", "xxx"]
    assert [p.source.number for p in doc.pages] == [1, 2, 3]
    some = fake_ocr.read_document(buf.getvalue(), pages="3")
    assert [p.source.number for p in some.pages] == [3] and some.pages[0].lines[0].words[0].text == "xxx"
    with pytest.raises(LocalOCRError) as e:
        fake_ocr.read_document(buf.getvalue(), pages="4")
    assert e.value.code == "bad_pages"


def test_single_image_is_a_one_page_document(fake_ocr):
    im, _ = page_with_words()
    b = io.BytesIO()
    im.save(b, "PNG", dpi=(200, 200))
    doc = fake_ocr.read_document(b.getvalue())
    assert doc.kind == "image" and len(doc.pages) == 1 and doc.pages[0].source.dpi == pytest.approx(200, abs=0.01)
    assert doc.pages[0].text == fake_ocr.read(b.getvalue()).text


def test_jpeg_page_kept_as_is_in_the_pdf(fake_ocr):
    im, _ = page_with_words()
    b = io.BytesIO()
    im.convert("RGB").save(b, "JPEG", quality=90)
    page = fake_ocr.read(b.getvalue())
    assert page.source.image.jpeg == b.getvalue()
    assert b.getvalue() in page.to_pdf()


def test_pdf_in_fake_models(fake_ocr):
    ims = frames()
    doc = fake_ocr.read_pdf(pdf_of(ims, resolution=100))
    assert doc.kind == "pdf" and len(doc.pages) == 3
    assert [p.lines[0].words[0].text for p in doc.pages] == ["x", "xx", "xxx"]
    assert all(p.source.dpi == pytest.approx(100) and (p.width, p.height) == (400, 200) for p in doc.pages)
    assert fake_ocr.read_pdf(pdf_of(ims), pages=[2]).pages[0].source.number == 2
    with pytest.raises(LocalOCRError) as e:
        fake_ocr.read_pdf(b"\x89PNG\r\n")
    assert e.value.code == "not_a_pdf"


def test_pdf_page_limit(fake_ocr, monkeypatch):
    monkeypatch.setattr(document, "MAX_PAGES", 2)
    pdf = pdf_of(frames())
    with pytest.raises(LocalOCRError, match="at most 2") as e:
        fake_ocr.read_pdf(pdf)
    assert e.value.code == "too_many_pages"
    assert len(fake_ocr.read_pdf(pdf, pages="2-3").pages) == 2


def encrypted_pdf() -> bytes:
    """A PDF encrypted with the standard security handler (RC4, R2) and an unknown user password."""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -44 >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += (
        b"trailer\n<< /Size 5 /Root 1 0 R /Encrypt 4 0 R /ID [<"
        + b"ab" * 16
        + b"> <"
        + b"ab" * 16
        + b">] >>\nstartxref\n%d\n%%%%EOF\n" % xref
    )
    return bytes(out)


def test_corrupt_and_encrypted_pdfs_say_so(fake_ocr):
    good = pdf_of(frames(1))
    cases = [
        (b"%PDF-1.5 nothing else", "bad_pdf"),
        (good[: len(good) // 3], "bad_pdf"),
        (encrypted_pdf(), "pdf_encrypted"),
    ]
    for data, code in cases:
        with pytest.raises(LocalOCRError) as e:
            fake_ocr.read_document(data)
        assert e.value.code == code, (code, str(e.value))
        assert "\n" not in str(e.value)


def test_keep_text_reads_the_text_layer(fake_ocr):
    """Our own searchable PDF as input: --keep-text gives its words back, on their boxes, without OCR."""
    page = hand_page([["Invoice", "12.50", "EUR"], ["Grand", "total:", "€15,00"]])
    pdf = page.to_pdf()
    doc = fake_ocr.read_pdf(pdf, keep_text=True)
    got = doc.pages[0]
    assert got.source.text_layer == "used" and got.backend == "pdf text layer"
    assert got.text == page.text
    # a page with text is rendered at 200 dpi (choose_dpi): boxes in those pixels
    k = got.width / page.width
    assert k == pytest.approx(200 / 150, abs=0.01)
    for a, b in zip(got.words, page.words):
        assert np.abs(np.asarray(a.quad) / k - np.asarray(b.quad)).max() < 1.0
    ocred = fake_ocr.read_pdf(pdf)
    assert ocred.pages[0].source.text_layer == "present"


# ---------------------------------------------------------------- CLI (fake models)


@pytest.fixture
def fake_cli(fake_models):
    return fake_models


from test_cli_eval import fake_models  # noqa: E402,F401 (fixture)


def test_cli_pdf_in_and_formats(fake_models, tmp_path, capsys):
    src = tmp_path / "scan.pdf"
    src.write_bytes(pdf_of(frames()))
    assert cli.main([str(src), "--pages", "1,3"]) == 0
    assert capsys.readouterr().out == "x\n\nxx\n\fxxx\n\nxx\n"
    out = tmp_path / "searchable.pdf"
    assert cli.main([str(src), "--format", "pdf", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF") and out.read_bytes().count(b"/Type /Page ") == 3
    assert cli.main([str(src), "-f", "alto", "-o", str(tmp_path / "scan.alto.xml")]) == 0
    validate("alto-4-4.xsd", (tmp_path / "scan.alto.xml").read_text())
    # PAGE XML: a file per page in a folder; -o without an extension is a folder, as it always was
    assert cli.main([str(src), "-f", "page", "-o", str(tmp_path / "pages")]) == 0
    assert sorted(p.name for p in (tmp_path / "pages").iterdir()) == [f"scan-p{i}.page.xml" for i in (1, 2, 3)]
    assert cli.main([str(src), "-f", "page", "-o", str(tmp_path / "one.xml")]) == 2
    assert "one page per file" in capsys.readouterr().err
    assert cli.main([str(src), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["kind"] == "pdf" and len(d["pages"]) == 3
    assert cli.main([str(src), "--pages", "9"]) == 1
    assert "does not exist" in capsys.readouterr().err


@needs_pdftotext
def test_cli_several_images_into_one_pdf(fake_models, tmp_path, capsys):
    names = []
    for k, im in enumerate(frames()):
        names.append(str(tmp_path / f"p{k}.png"))
        im.save(names[-1])
    out = tmp_path / "all.pdf"
    assert cli.main(names + ["--format", "pdf", "-o", str(out)]) == 0
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert [t.split() for t in text.split("\f")[:3]] == [["x", "xx"], ["xx", "xx"], ["xxx", "xx"]]
    assert cli.main(names + ["--format", "alto", "--output", str(tmp_path / "all.xml")]) == 0
    assert validate("alto-4-4.xsd", (tmp_path / "all.xml").read_text()).xpath("count(//*[local-name()='Page'])") == 3
    assert cli.main(names + ["--format", "pdf"]) == 2


# ---------------------------------------------------------------- real models, real pages


from test_golden import ocr  # noqa: E402,F401 (fixture: the bundled models, or skip)


def real_or_synthetic_pages():
    pages = [Image.open(p).convert("L") for p in REAL_PAGES if p.is_file()]
    if len(pages) >= 2:
        return pages
    return [
        drawn_page(["Invoice number 2041", "Total due 12.50 EUR", "Thank you for your order"]),
        drawn_page(["Second page of the letter", "Delivery on Monday 14 June"]),
    ]


@pytest.mark.models
@needs_pdftotext
def test_real_pages_pdf_round_trip(ocr, tmp_path):
    pages = real_or_synthetic_pages()
    src = pdf_of(pages, resolution=150)
    doc = ocr.read_pdf(src)
    assert len(doc.pages) == len(pages)
    for page, im in zip(doc.pages, pages):
        assert (page.width, page.height) == im.size and page.source.dpi == pytest.approx(150)
        assert len(page.words) >= 5
        # rendered 1:1: the page's pixels are its JPEG's (Pillow stores "L" pages as JPEG), so
        # it reads as that JPEG does
        assert page.text == ocr.read(jpeg_of(im)).text
    out = doc.to_pdf()
    check_searchable(doc, out, tmp_path)
    validate("alto-4-4.xsd", doc.to_alto())
    for xml in doc.to_page_xml():
        validate("pagecontent-2019-07-15.xsd", xml)


@pytest.mark.models
def test_real_pages_tiff_and_gif(ocr):
    pages = real_or_synthetic_pages()[:2]
    pages[1] = pages[1].resize(pages[0].size)  # a GIF's frames share one canvas size
    for fmt, opts in (("TIFF", {"compression": "tiff_deflate"}), ("GIF", {})):
        buf = io.BytesIO()
        ims = [p.copy() for p in pages]
        ims[0].save(buf, fmt, save_all=True, append_images=ims[1:], **opts)
        doc = ocr.read_document(buf.getvalue())
        assert len(doc.pages) == 2
        assert [p.text for p in doc.pages] == [ocr.read(p).text for p in pages]
