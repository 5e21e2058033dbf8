"""The picture of the code: which module imports which (every import statement, at the top or inside a
function; `if TYPE_CHECKING:` blocks are left out, they are never run). No circle anywhere, and the
packages import only downward:

    localocr (py/localocr)  <  tools  <  export  <  tests

(tools: the runtime set-up, the dev server's helpers, the browser harness, benchmarks; export:
training and export, which use tools' browser harness and file helpers.)
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["localocr", "tools", "export", "tests"]
TREES = {
    "localocr": (ROOT / "py" / "localocr", ROOT / "py"),
    "tools": (ROOT / "tools", ROOT),
    "export": (ROOT / "export", ROOT),
    "tests": (ROOT / "tests", ROOT),
}


def modules() -> dict[str, Path]:
    out = {}
    for tree, base in TREES.values():
        for p in tree.rglob("*.py"):
            if "node_modules" in p.parts:
                continue
            parts = list(p.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = p
    # test helpers are imported by their bare names (pytest's pythonpath has tests/)
    for p in (ROOT / "tests").glob("*.py"):
        out.setdefault(p.stem, p)
    return out


def _imports(tree: ast.AST):
    """Import nodes, skipping the bodies of `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for stmt in node.orelse for n in _imports_in(stmt))
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _imports(node)


def graph() -> dict[str, set[str]]:
    mods = modules()
    edges: dict[str, set[str]] = {}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        targets: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                wanted = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    pkg = name.split(".") if is_pkg else name.split(".")[:-1]
                    pkg = pkg[: len(pkg) - (node.level - 1)]
                    base = ".".join(pkg + ([node.module] if node.module else []))
                wanted = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for w in wanted:
                parts = w.split(".")
                for k in range(len(parts), 0, -1):
                    if ".".join(parts[:k]) in mods:
                        if ".".join(parts[:k]) != name:
                            targets.add(".".join(parts[:k]))
                        break
        edges[name] = targets
    return edges


def layer(module: str, mods: dict[str, Path]) -> str:
    path = mods[module]
    for name, (tree, _) in TREES.items():
        if tree in path.parents:
            return name
    raise AssertionError(module)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_real_imports():
    edges = graph()
    assert "localocr.pipeline" in edges["localocr"]  # from .pipeline import OCR
    assert "localocr.document" in edges["localocr.result"]  # a lazy import, inside to_pdf
    assert "localocr.result" not in edges["localocr.document"]  # only under TYPE_CHECKING there
    assert "tools.files" in edges["tools.runtime"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle():
    assert cycles(graph()) == []


def test_packages_import_only_downward():
    mods, edges = modules(), graph()
    upward = [
        (a, b)
        for a, targets in edges.items()
        for b in targets
        if LAYERS.index(layer(b, mods)) > LAYERS.index(layer(a, mods))
    ]
    assert upward == []
