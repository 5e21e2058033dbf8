// Compile Python sources to bytecode with the Python the browser runs: Pyodide itself, in Node.
// (tools/pyc.py calls this; nothing else should.)
//
//   node tools/pyc.mjs PYODIDE_DIR IN_ZIP OUT_ZIP
//
// PYODIDE_DIR holds pyodide.mjs, pyodide.asm.js, pyodide.asm.wasm, python_stdlib.zip and
// pyodide-lock.json (the verified originals). IN_ZIP maps each entry name (a .py file) to its source;
// an entry `__filenames__.json`, if present, maps entry names to the file name the code objects
// carry (what tracebacks print). OUT_ZIP gets, for each source, the entry name with `.pyc` in place of
// `.py`: an unchecked-hash pyc (PEP 552: never compared against a source; sourceless imports ignore
// the flag anyway). PYTHONHASHSEED is fixed, so frozenset constants marshal in the same order and the
// same sources give the same bytes. A source that does not compile stops everything with its error.
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [dir, inZip, outZip] = process.argv.slice(2);
if (!dir || !inZip || !outZip) {
  console.error("usage: node tools/pyc.mjs PYODIDE_DIR IN_ZIP OUT_ZIP");
  process.exit(2);
}
const { loadPyodide } = await import(pathToFileURL(path.join(path.resolve(dir), "pyodide.mjs")).href);
const py = await loadPyodide({
  indexURL: path.resolve(dir) + path.sep,
  env: { PYTHONHASHSEED: "0", PYTHONNODEBUGRANGES: "1", HOME: "/home/pyodide" },
  stdout: () => {},
  stderr: (s) => console.error(s),
});
py.FS.writeFile("/tmp/in.zip", readFileSync(inZip));
try {
  py.runPython(`
import ast
import importlib._bootstrap_external as be
import importlib.util
import io
import json
import sys
import zipfile

DOC_OWNERS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def strip_docstrings(tree):
    # What python -OO does to docstrings (__doc__ is None), without -OO's other change: asserts stay.
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(node, DOC_OWNERS) or not body:
            continue
        first = body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            node.body = body[1:] or [ast.Pass(lineno=first.lineno, col_offset=first.col_offset)]


assert sys.flags.hash_randomization == 0, "PYTHONHASHSEED did not reach Python"
assert list(compile("x", "", "eval").co_positions())[-1][2] is None, "PYTHONNODEBUGRANGES did not reach Python"
src = zipfile.ZipFile("/tmp/in.zip")
names = src.namelist()
filenames = json.loads(src.read("__filenames__.json")) if "__filenames__.json" in names else {}
options = json.loads(src.read("__options__.json")) if "__options__.json" in names else {}
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
    for name in names:
        if name in ("__filenames__.json", "__options__.json"):
            continue
        if not name.endswith(".py"):
            raise SystemExit(f"{name}: not a .py file")
        data = src.read(name)
        try:
            tree = ast.parse(data, filenames.get(name, name))
            if options.get("strip_docstrings"):
                strip_docstrings(tree)
            code = compile(tree, filenames.get(name, name), "exec", dont_inherit=True, optimize=0)
        except (SyntaxError, ValueError) as e:
            raise SystemExit(f"{name}: {type(e).__name__}: {e}")
        pyc = be._code_to_hash_pyc(code, importlib.util.source_hash(data), checked=False)
        info = zipfile.ZipInfo(name[:-3] + ".pyc", date_time=(1980, 1, 1, 0, 0, 0))
        out.writestr(info, bytes(pyc))
with open("/tmp/out.zip", "wb") as f:
    f.write(buf.getvalue())
`);
} catch (e) {
  console.error(String(e.message || e).trim()); // the Python traceback, without Pyodide's own source
  process.exit(1);
}
writeFileSync(outZip, py.FS.readFile("/tmp/out.zip"));
