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


def top_level_names(path: Path) -> set[str]:
    """What a module defines at its top level (defs, classes, assignments, imports; `__getattr__`
    means anything), and for a package its submodules too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    if path.name == "__init__.py":
        names.update(p.stem for p in path.parent.glob("*.py"))
        names.update(p.name for p in path.parent.iterdir() if (p / "__init__.py").exists())
    return names


def missing_names() -> list[str]:
    """`from ours import name` and `alias.name` (alias: one of our modules, imported whole) where that
    module defines no such name: what an import-time or first-call AttributeError would say."""
    mods = modules()
    wrong = []
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: dict[str, str] = {}
        for node in _imports(tree):
            if isinstance(node, ast.ImportFrom) and not node.level and node.module in mods:
                defined = top_level_names(mods[node.module])
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    if full in mods:
                        aliases[a.asname or a.name] = full
                    elif a.name != "*" and a.name not in defined and "__getattr__" not in defined:
                        wrong.append(f"{name}: from {node.module} import {a.name}")
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname and a.name in mods:
                        aliases[a.asname] = a.name
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                target = aliases[node.value.id]
                defined = top_level_names(mods[target])
                if node.attr not in defined and "__getattr__" not in defined:
                    wrong.append(f"{name}: {node.value.id}.{node.attr} ({target} has no {node.attr})")
    return sorted(set(wrong))


def test_names_taken_from_our_modules_exist():
    # tools.bench became a package and bench_startup still asked it for bench.DATA (make bench-startup
    # failed at import): checked statically, as nothing imports every script
    assert missing_names() == []
