"""web/localocr.d.ts, the TypeScript types of the JS API: `tsc --noEmit --strict` (npm typescript, pinned
by tests/types/package-lock.json, installed by `make test`) accepts tests/types/example.ts, which uses
the API as a TypeScript user would (its @ts-expect-error lines are wrong uses the types must refuse),
and refuses tests/types/wrong.ts. The page JSON's interfaces are checked against web/page.schema.json,
where that JSON is written down once: a type is generated here from each schema definition and tsc
must find it identical to the .d.ts's interface of that name."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TYPES = ROOT / "tests" / "types"
TSC = TYPES / "node_modules" / ".bin" / "tsc"
SCHEMA = ROOT / "web" / "page.schema.json"
FLAGS = [
    "--noEmit",
    "--strict",
    "--target",
    "es2022",
    "--module",
    "esnext",
    "--moduleResolution",
    "bundler",
    "--lib",
    "es2022,dom,dom.iterable",
]

# schema definition -> the .d.ts interface that types it (every object definition has one)
INTERFACES = {
    "PageBody": "PageJSON",
    "Note": "Note",
    "Block": "Block",
    "Line": "Line",
    "Word": "Word",
    "Quad": "Quad",
    "Point": "Point",
    "PageSource": "PageSource",
    "DocumentPage": "DocumentPageJSON",
    "Document": "DocumentJSON",
}


def tsc(*files: Path) -> subprocess.CompletedProcess:
    if not TSC.exists():
        pytest.fail("tests/types/node_modules is not set up: run `make test` (npm ci in tests/types)")
    return subprocess.run([str(TSC), *FLAGS, *map(str, files)], capture_output=True, text=True, timeout=300, cwd=ROOT)


def ts_type(node: dict, defs: dict) -> str:
    """The TypeScript type of a JSON Schema node (the subset page.schema.json uses)."""
    if "$ref" in node and ("properties" in node or "required" in node):  # a definition, extended
        base = defs[node["$ref"].rsplit("/", 1)[1]]
        merged = {
            **base,
            "properties": {**base["properties"], **node.get("properties", {})},
            "required": [*base["required"], *node.get("required", [])],
        }
        return ts_type(merged, defs)
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        return f"Schema_{name}" if name in INTERFACES else ts_type(defs[name], defs)
    if "const" in node:
        return json.dumps(node["const"])
    if "enum" in node:
        return " | ".join(json.dumps(v) for v in node["enum"])
    kind = node.get("type")
    if kind in ("number", "integer"):
        return "number"
    if kind in ("string", "boolean"):
        return kind
    if kind == "array":
        if "prefixItems" in node:
            assert node.get("items") is False, node
            return "[" + ", ".join(ts_type(n, defs) for n in node["prefixItems"]) + "]"
        return f"Array<{ts_type(node['items'], defs)}>"
    if kind == "object":
        if "properties" not in node:
            return "{ [key: string]: " + ts_type(node["additionalProperties"], defs) + " }"
        required = set(node.get("required", []))
        assert required <= set(node["properties"]), node
        members = [
            f"{key}{'' if key in required else '?'}: {ts_type(value, defs)};"
            for key, value in node["properties"].items()
        ]
        return "{ " + " ".join(members) + " }"
    raise AssertionError(f"page.schema.json uses a construct this test does not translate: {node}")


def schema_check(schema: dict) -> str:
    """A .ts file that compiles only if each interface of the .d.ts is identical to its schema type."""
    defs = schema["$defs"]
    objects = {name for name, d in defs.items() if d.get("type") in ("object", "array") or "properties" in d}
    assert objects == set(INTERFACES), f"schema definitions without a .d.ts interface: {objects ^ set(INTERFACES)}"
    assert schema["$ref"] == "#/$defs/PageBody"
    out = [
        f'import type * as api from "{(ROOT / "web" / "localocr.js").as_posix()}";',
        "type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;",
    ]
    for name, interface in INTERFACES.items():
        out.append(f"type Schema_{name} = {ts_type(defs[name], defs)};")
        out.append(f"export const check_{name}: Equal<api.{interface}, Schema_{name}> = true;")
    return "\n".join(out) + "\n"


def test_the_example_type_checks_and_the_wrong_uses_do_not():
    ok = tsc(TYPES / "example.ts")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = tsc(TYPES / "wrong.ts")
    assert bad.returncode != 0
    errors = re.findall(r"wrong\.ts\((\d+),\d+\): error (TS\d+)", bad.stdout)
    expected = [
        (str(n), code)
        for n, line in enumerate((TYPES / "wrong.ts").read_text().splitlines(), 1)
        for code in re.findall(r"// (TS\d+)", line)
    ]
    assert errors == expected, bad.stdout


def test_the_page_types_are_the_schema(tmp_path):
    schema = json.loads(SCHEMA.read_text())
    check = tmp_path / "schema_check.ts"
    check.write_text(schema_check(schema))
    out = tsc(check)
    assert out.returncode == 0, out.stdout + check.read_text()


def test_a_schema_change_alone_fails_the_check(tmp_path):
    """The check above can fail: a key added to the schema (and not to the .d.ts), one made optional,
    a type changed, each makes the generated type differ from the interface."""
    base = json.loads(SCHEMA.read_text())
    drifts = []
    s = json.loads(json.dumps(base))
    s["$defs"]["Word"]["properties"]["language"] = {"type": "string"}
    drifts.append(("Word", s))
    s = json.loads(json.dumps(base))
    s["$defs"]["Line"]["required"].remove("words")
    drifts.append(("Line", s))
    s = json.loads(json.dumps(base))
    s["$defs"]["PageBody"]["properties"]["width"] = {"type": "string"}
    drifts.append(("PageBody", s))
    files = []
    for i, (_name, drift) in enumerate(drifts):
        files.append(tmp_path / f"drift_{i}.ts")
        files[-1].write_text(schema_check(drift))
    for (name, _), f in zip(drifts, files):
        out = tsc(f)
        line = next(n for n, text in enumerate(f.read_text().splitlines(), 1) if f"const check_{name}:" in text)
        assert out.returncode != 0 and f"{f.name}({line}," in out.stdout, (name, out.stdout)
