"""Result types and renderers: to_dict schema, to_text, hOCR validity."""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from localocr.result import Block, Line, Page, Word
from pipeline_fakes import fake_ocr, page_with_words  # noqa: F401 (a fixture)

NS = "{http://www.w3.org/1999/xhtml}"


def q(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def sample_page():
    w1 = Word("TOTAL", q(10, 10, 60, 30), 0.95)
    w2 = Word("<12.50&>", q(200, 10, 260, 30), 0.8)
    w3 = Word("Merci", q(10, 60, 70, 80), 0.5)
    l1 = Line([w1, w2], q(10, 10, 260, 30), 0.875)
    l2 = Line([w3], q(10, 60, 70, 80), 0.5)
    return Page(
        width=300,
        height=100,
        blocks=[Block([l1], q(10, 10, 260, 30)), Block([l2], q(10, 60, 70, 80))],
        timings={"total": 0.1234567},
        backend="fake",
        backend_detail="test",
    )


def test_text():
    p = sample_page()
    assert p.text == "TOTAL <12.50&>\n\nMerci"
    assert p.to_text() == p.text + "\n"
    assert [ln.text for ln in p.lines] == ["TOTAL <12.50&>", "Merci"]
    assert Page(10, 10).to_text() == ""


def test_to_dict_schema():
    d = sample_page().to_dict()
    json.dumps(d)  # plain JSON types only
    assert d["version"] == 1 and (d["width"], d["height"]) == (300, 100)
    assert d["backend"] == "fake" and d["timings"] == {"total": 0.1235}
    assert d["text"] == "TOTAL <12.50&>\n\nMerci"
    line = d["blocks"][0]["lines"][0]
    assert line["text"] == "TOTAL <12.50&>" and line["quad"] == [[10, 10], [260, 10], [260, 30], [10, 30]]
    assert line["words"][1] == {
        "text": "<12.50&>",
        "quad": [[200, 10], [260, 10], [260, 30], [200, 30]],
        "confidence": 0.8,
    }
    assert d["blocks"][0]["confidence"] == round((0.95 + 0.8) / 2, 4)


def test_hocr_is_well_formed_and_follows_the_spec():
    html = sample_page().to_hocr(image_name="r.jpg")
    root = ET.fromstring(html.encode("utf-8"))  # well-formed XHTML
    assert root.tag == NS + "html"
    metas = {m.get("name"): m.get("content") for m in root.iter(NS + "meta") if m.get("name")}
    assert metas["ocr-system"].startswith("localocr")
    caps = set(metas["ocr-capabilities"].split())
    used = {c for e in root.iter() for c in (e.get("class") or "").split()}
    assert used <= caps  # every class used is declared
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    parent = {"ocr_carea": "ocr_page", "ocr_par": "ocr_carea", "ocr_line": "ocr_par", "ocrx_word": "ocr_line"}
    for e in root.iter():
        for child in e:
            c = child.get("class")
            if c in parent:
                assert e.get("class") == parent[c]
    bbox = re.compile(r"^bbox (\d+) (\d+) (\d+) (\d+)$")
    for e in root.iter():
        if e.get("class", "").startswith("ocr"):
            props = dict(p.strip().split(" ", 1) for p in e.get("title").split(";"))
            m = bbox.match("bbox " + props["bbox"])
            x0, y0, x1, y1 = map(int, m.groups())
            assert x0 <= x1 and y0 <= y1
    page = next(e for e in root.iter() if e.get("class") == "ocr_page")
    assert 'image "r.jpg"' in page.get("title") and "bbox 0 0 300 100" in page.get("title")
    words = [e for e in root.iter() if e.get("class") == "ocrx_word"]
    assert [w.text for w in words] == ["TOTAL", "<12.50&>", "Merci"]
    assert "x_wconf 95" in words[0].get("title")


def test_hocr_textangle_for_rotated_lines():
    quad = np.array([[0, 10], [10, 0], [12, 2], [2, 12]], np.float32)  # rising at 45 degrees
    p = Page(20, 20, [Block([Line([Word("a", quad, 1.0)], quad, 1.0)], quad)])
    assert "textangle 45.0" in p.to_hocr()


# ---- the page JSON's schema, written down once (web/page.schema.json): to_dict() meets it exactly

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "web" / "page.schema.json"


def schema_validator(definition: str | None = None):
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    if definition is not None:
        schema = {**schema, "$ref": f"#/$defs/{definition}"}
        schema.pop("unevaluatedProperties")
    return jsonschema.Draft202012Validator(schema)


def test_to_dict_meets_the_schema(fake_ocr):
    from localocr.document import Document
    from localocr.image import Note
    from localocr.result import SCHEMA_VERSION

    page = sample_page()
    page.notes.append(Note("reduced", "smaller"))
    im, _ = page_with_words()
    read = fake_ocr.read(im)
    assert read.words  # a real pipeline page, not an empty one
    for d in (page.to_dict(), Page(10, 10).to_dict(), read.to_dict()):
        schema_validator().validate(json.loads(json.dumps(d)))
    doc = Document([read, sample_page()], name="two", kind="tiff")
    schema_validator("Document").validate(json.loads(json.dumps(doc.to_dict())))
    assert json.loads(SCHEMA_PATH.read_text())["$defs"]["PageBody"]["properties"]["version"]["const"] == SCHEMA_VERSION


def test_the_schema_refuses_a_page_that_drifted():
    """A key added to (or dropped from) to_dict() without the schema fails the test above."""
    import jsonschema

    validator = schema_validator()
    d = sample_page().to_dict()
    bad = [
        {**d, "language": "en"},  # a new key
        {k: v for k, v in d.items() if k != "notes"},  # a key gone
        json.loads(json.dumps(d).replace('"confidence": 0.8', '"confidence": 1.8')),
    ]
    bad.append(json.loads(json.dumps(d)))
    bad[-1]["blocks"][0]["lines"][0]["words"][0]["bbox"] = [0, 0, 1, 1]  # deep inside
    for b in bad:
        with pytest.raises(jsonschema.ValidationError):
            validator.validate(b)
    page_json = {**d, "source": {"page_number": 1, "dpi": 72.0, "text_layer": "none"}}
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(page_json)  # a Page has no source ...
    schema_validator("DocumentPage").validate(page_json)  # ... a Document's page has
