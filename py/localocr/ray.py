"""Batch OCR on Ray Data: the same pipeline and models over millions of scans.

Needs the `ray` extra (`pip install 'localocr[ray]'`); Ray is imported only
when something here runs, so `import localocr` works without it (and in
Pyodide). Python:

    import ray, localocr.ray
    ds = ray.data.from_items([{"path": p} for p in paths])     # or read_binary_files(..., include_paths=True)
    rows = localocr.ray.read(ds, concurrency=4, batch_size=8)  # one row per page, `localocr.batch` says which
    rows.write_parquet("s3://bucket/ocr/")                      # or iterate, or write_json

or with the predictor itself, `ds.map_batches(LocalOCRPredictor, concurrency=N,
batch_size=B, batch_format="numpy")`: the input batch needs a `path` column,
and a `bytes` column where the bytes are already loaded (else each actor reads
the file at `path`, which must then be visible from the workers).

Command line: `localocr batch INPUT... --out DIR` (see `build_parser`).

An actor reads its batch's pages one after another, exactly as the plain CLI does: cross-page
batching of the recognizer did not pay (the README's "How it scales" has the figures).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from typing import TextIO

from . import batch as B
from .errors import LocalOCRError

DEFAULT_BATCH_SIZE = 8  # inputs per actor call (one Ray block): a few seconds of work
PROGRESS_EVERY = 100  # a progress line per this many inputs written
# --ray local: starts of the local cluster tried (its raylet has 30 s each; on 2 cores shared with
# load 30 here, two in a row missed it)
START_ATTEMPTS = 3


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise LocalOCRError("Batch OCR on Ray needs Ray: pip install 'localocr[ray]'.", "no_ray") from None
    return ray


# ---------------------------------------------------------------- rows as Arrow


def row_schema():
    """The Arrow schema of a row (`localocr.batch` describes the columns); `fields` is JSON text."""
    import pyarrow as pa

    quad = pa.list_(pa.list_(pa.float64()))
    word = pa.struct([("text", pa.string()), ("quad", quad), ("confidence", pa.float64())])
    line = pa.struct(
        [
            ("text", pa.string()),
            ("quad", quad),
            ("confidence", pa.float64()),
            ("block", pa.int32()),
            ("words", pa.list_(word)),
        ]
    )
    return pa.schema(
        [
            ("path", pa.string()),
            ("page", pa.int32()),
            ("width", pa.int32()),
            ("height", pa.int32()),
            ("rotation", pa.int32()),
            ("deskew", pa.float64()),
            ("text", pa.string()),
            ("lines", pa.list_(line)),
            ("fields", pa.string()),
            ("error", pa.struct([("code", pa.string()), ("message", pa.string())])),
            ("timings", pa.struct([(k, pa.float64()) for k in B.TIMING_KEYS])),
        ]
    )


def to_table(rows: list[dict]):
    """Rows (dicts) -> a pyarrow Table of `row_schema()`: every block has the same schema."""
    import pyarrow as pa

    rows = [dict(r, fields=None if r["fields"] is None else json.dumps(r["fields"], ensure_ascii=False)) for r in rows]
    return pa.Table.from_pylist(rows, schema=row_schema())


def from_table(table) -> list[dict]:
    """A Table of rows -> row dicts (`fields` decoded)."""
    rows = table.to_pylist()
    for r in rows:
        if r["fields"] is not None:
            r["fields"] = json.loads(r["fields"])
    return rows


# ---------------------------------------------------------------- the actor


class LocalOCRPredictor:
    """Callable class for `Dataset.map_batches`: a batch of inputs -> a Table of rows.

    The models load once per actor. `detector`/`recognizer`/`accurate`: as for
    `OCR` (default: the bundled models, resolved where the actor runs);
    `threads`: onnxruntime threads (match the actor's num_cpus); `fields`:
    a kind for `page.fields` (None: no fields). Input columns: `path`, and `bytes` if loaded.
    """

    def __init__(
        self,
        detector=None,
        recognizer=None,
        *,
        accurate=None,
        models=None,
        threads: int = 1,
        min_confidence: float = 0.0,
        fields: str | None = None,
        path_column: str = "path",
        bytes_column: str = "bytes",
    ):
        from .backends.onnxruntime import OnnxRuntimeBackend
        from .pipeline import OCR

        self.ocr = OCR(
            detector,
            recognizer,
            OnnxRuntimeBackend(threads=threads),
            models=models,
            accurate=accurate,
            min_confidence=min_confidence,
        )
        self.fields = fields
        self.path_column, self.bytes_column = path_column, bytes_column

    def __call__(self, batch):
        paths = batch[self.path_column]
        datas = batch[self.bytes_column] if self.bytes_column in batch else None
        rows = []
        for i, path in enumerate(paths):
            rows += B.rows_for(self.ocr, str(path), None if datas is None else datas[i], self.fields)
        return to_table(rows)


def model_files(models=None, ship: bool = False) -> dict[str, bytes | str | bool]:
    """The models for the actors, resolved here as `OCR` would resolve them (the bundled ones, or
    the `models` folder's: detector, recognizer, and the accurate tier if there is one), as
    `OCR` keyword arguments: absolute paths, or with `ship` their bytes, so that actors on other
    machines run the driver's models whatever those machines have installed."""
    from .pipeline import ACCURATE, _optional_model, bundled_model

    files = {kind: bundled_model(kind, models).resolve() for kind in ("detector", "recognizer")}
    accurate = _optional_model(ACCURATE, models)
    out: dict[str, bytes | str | bool] = {k: f.read_bytes() if ship else str(f) for k, f in files.items()}
    out["accurate"] = False if accurate is None else (accurate.read_bytes() if ship else str(accurate.resolve()))
    return out


def _remote_cluster(ray) -> bool:
    """A cluster of several machines."""
    return len([n for n in ray.nodes() if n.get("Alive")]) > 1


def _pool(ray, concurrency):
    """`concurrency` as `map_batches` takes it: N actors, or (min, max) to let Ray Data scale the pool."""
    if isinstance(concurrency, tuple):
        return ray.data.ActorPoolStrategy(min_size=concurrency[0], max_size=concurrency[1])
    return ray.data.ActorPoolStrategy(size=concurrency)


def read(
    ds,
    *,
    concurrency: int | tuple[int, int] = 1,
    batch_size: int = DEFAULT_BATCH_SIZE,
    threads: int = 1,
    models=None,
    min_confidence: float = 0.0,
    fields: str | None = None,
    path_column: str = "path",
    bytes_column: str = "bytes",
    ship_models: bool | None = None,
):
    """OCR every input of a Ray Dataset -> a Dataset of rows (`row_schema()`), lazily.

    `ds` has a `path` column (each actor reads the file) and optionally a
    `bytes` column (e.g. `ray.data.read_binary_files(..., include_paths=True)`).
    `concurrency` actors (or a (min, max) pool) of `threads` CPUs each; `batch_size` inputs per call.
    `ship_models`: send the model bytes to the actors rather than their paths
    (default: when the cluster has several machines).
    """
    ray = _ray()
    if ship_models is None:
        ship_models = ray.is_initialized() and _remote_cluster(ray)
    kw = dict(
        model_files(models, ship_models),
        threads=threads,
        min_confidence=min_confidence,
        fields=fields,
        path_column=path_column,
        bytes_column=bytes_column,
    )
    return ds.map_batches(
        LocalOCRPredictor,
        fn_constructor_kwargs=kw,
        batch_size=batch_size,
        compute=_pool(ray, concurrency),
        num_cpus=threads,
        batch_format="numpy",
    )


# ---------------------------------------------------------------- Parquet inputs


def parquet_image_column(schema, wanted: str | None) -> str:
    """The column of image bytes: `wanted`, else `bytes` or `image`, else the only binary one.
    A column may be binary or a struct with a `bytes` field (Hugging Face's Image feature)."""
    import pyarrow as pa

    def holds_bytes(t):
        return (
            pa.types.is_binary(t)
            or pa.types.is_large_binary(t)
            or (pa.types.is_struct(t) and t.get_field_index("bytes") >= 0)
        )

    names = [f.name for f in schema if holds_bytes(f.type)]
    if wanted:
        if wanted not in names:
            raise LocalOCRError(
                f"no binary column '{wanted}' (binary columns: {', '.join(names) or 'none'})", "bad_parquet"
            )
        return wanted
    for name in ("bytes", "image"):
        if name in names:
            return name
    if len(names) == 1:
        return names[0]
    raise LocalOCRError(
        f"which column holds the images? Name it with --image-column (binary columns: {', '.join(names) or 'none'})",
        "bad_parquet",
    )


def parquet_source(table, *, file: str, image_column: str, path_column: str, done=None):
    """A batch of a Parquet file's rows -> (`path`, `bytes`) rows; rows already done dropped.

    A row's `path` is its `path_column` value, or its image struct's `path`,
    else `<file>#sha256:<16 hex digits of its bytes>` (stable across runs).
    """
    import hashlib

    import pyarrow as pa

    if done is not None and not isinstance(done, (set, frozenset)):
        import ray

        done = ray.get(done)
    col = table.column(image_column).combine_chunks()
    struct = pa.types.is_struct(col.type)
    data = (col.field("bytes") if struct else col).to_pylist()
    ids = table.column(path_column).to_pylist() if path_column in table.column_names else [None] * len(data)
    if struct and col.type.get_field_index("path") >= 0:
        ids = [i if i is not None else p for i, p in zip(ids, col.field("path").to_pylist())]
    paths, keep = [], []
    for ident, b in zip(ids, data):
        if ident is None:
            ident = f"{file}#sha256:{hashlib.sha256(b or b'').hexdigest()[:16]}"
        if done and ident in done:
            continue
        paths.append(str(ident))
        keep.append(b if b is not None else b"")
    return pa.table({"path": pa.array(paths, pa.string()), "bytes": pa.array(keep, pa.binary())})


def _parquet_dataset(ray, file: str, image_column, path_column, done_ref):
    import pyarrow.parquet as pq

    schema = pq.read_schema(file)
    col = parquet_image_column(schema, image_column)
    columns = [col] + ([path_column] if path_column in schema.names else [])
    # num_cpus=0: reading is light, and a pool of actors on every CPU would otherwise starve it
    return ray.data.read_parquet(file, columns=columns, num_cpus=0).map_batches(
        parquet_source,
        batch_format="pyarrow",
        num_cpus=0,
        fn_kwargs=dict(file=file, image_column=col, path_column=path_column, done=done_ref),
    )


# ---------------------------------------------------------------- writing rows


def _stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + f"-{os.getpid()}"


class JsonlWriter:
    """Rows appended to DIR/rows-<time>-<pid>.jsonl, flushed after every batch (a crash loses at
    most the line being written; resuming skips it)."""

    def __init__(self, out_dir: str):
        self.path = os.path.join(out_dir, f"rows-{_stamp()}.jsonl")
        self._f: TextIO | None = None

    def write(self, table) -> None:
        if self._f is None:  # no file for a run that writes nothing
            self._f = open(self.path, "a", encoding="utf-8")
        for row in from_table(table):
            self._f.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._f.flush()

    def close(self) -> None:
        if self._f is not None:
            self._f.close()


class ParquetWriter:
    """Rows in DIR/rows-<time>-<pid>-<n>.parquet, a file per `rows_per_file` rows, each written
    as a hidden .tmp and renamed when complete (so DIR holds only whole files)."""

    def __init__(self, out_dir: str, rows_per_file: int = 2000):
        self.out_dir, self.rows_per_file = out_dir, rows_per_file
        self.base = f"rows-{_stamp()}"
        self._tables: list = []
        self._rows, self._n = 0, 0

    def write(self, table) -> None:
        self._tables.append(table)
        self._rows += table.num_rows
        if self._rows >= self.rows_per_file:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._rows:
            return
        name = f"{self.base}-{self._n:05d}.parquet"
        tmp = os.path.join(self.out_dir, f".{name}.tmp")
        pq.write_table(pa.concat_tables(self._tables), tmp)
        os.replace(tmp, os.path.join(self.out_dir, name))
        self._tables, self._rows, self._n = [], 0, self._n + 1

    def close(self) -> None:
        self._flush()


WRITERS = {"jsonl": JsonlWriter, "parquet": ParquetWriter}


# ---------------------------------------------------------------- the command


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="localocr batch",
        description="OCR many images on a Ray cluster: one row per page under --out "
        "(rows already there are skipped, so a re-run resumes).",
        epilog="An image file named 'batch' is read with: localocr ./batch",
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="image files, folders (searched recursively), globs (quote them), "
        "or Parquet files with a column of image bytes",
    )
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder")
    p.add_argument(
        "--ray",
        metavar="local|auto|ADDRESS",
        default=None,
        help="local: start a cluster on this machine; auto: join the one this node belongs "
        "to; HOST:6379: that cluster's head (default: $RAY_ADDRESS, else local)",
    )
    p.add_argument("--format", "-f", choices=sorted(WRITERS), default="jsonl", help="row format (default jsonl)")
    p.add_argument(
        "--fields",
        metavar="KIND",
        help="also extract page.fields(KIND) into each row's `fields` (receipt, mrz, auto: as `localocr --fields`)",
    )
    p.add_argument(
        "--actors", type=int, default=None, help="OCR actors (default: the cluster's CPUs divided by --threads)"
    )
    p.add_argument("--threads", type=int, default=1, help="CPUs (onnxruntime threads) per actor (default 1)")
    p.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"inputs per actor call (default {DEFAULT_BATCH_SIZE})",
    )
    p.add_argument("--models", metavar="DIR", help="folder with detector*.onnx and recognizer*.onnx")
    p.add_argument("--min-confidence", type=float, default=0.0, help="drop lines read with less confidence")
    p.add_argument(
        "--image-column",
        metavar="NAME",
        help="Parquet inputs: the column of image bytes (default: bytes, image, or the only binary column)",
    )
    p.add_argument(
        "--path-column",
        default="path",
        metavar="NAME",
        help="Parquet inputs: the column naming each image (default path; without it, <file>#sha256:<digest>)",
    )
    p.add_argument("--num-cpus", type=int, default=None, help="--ray local: CPUs of the local cluster (default all)")
    p.add_argument(
        "--object-store-mb",
        type=int,
        default=None,
        help="--ray local: object store size in MB (default Ray's: 30%% of memory)",
    )
    p.add_argument(
        "--progress-every",
        type=int,
        default=PROGRESS_EVERY,
        metavar="N",
        help=f"a progress line per N inputs (default {PROGRESS_EVERY}; 0: none)",
    )
    return p


def connect(ray, where: str | None, num_cpus=None, object_store_mb=None) -> None:
    """Start or join a cluster (see --ray). Joining ships this localocr package to the workers
    (Ray's `py_modules`); the inputs' paths must be readable from the workers (a shared
    filesystem)."""
    where = where or os.environ.get("RAY_ADDRESS") or "local"
    if where.startswith("ray://"):
        # Ray Data needs a driver that is part of the cluster: through Ray Client it fails inside
        # (Ray 2.60: "'Worker' object has no attribute 'core_worker'"; Ray's maintainers: not supported)
        raise LocalOCRError(
            f"Ray Data does not run through Ray Client ({where}). Run the command on a node of the "
            "cluster with --ray auto, or submit it there: ray job submit --address http://HEAD:8265 "
            "-- localocr batch INPUT... --out DIR --ray auto",
            "ray_client",
        )
    common = dict(logging_level=logging.WARNING, log_to_driver=False)
    if where == "local":
        kw = dict(
            address="local",
            num_cpus=num_cpus,
            include_dashboard=False,
            object_store_memory=None if object_store_mb is None else object_store_mb * 1_000_000,
            **common,
        )
        for attempt in range(START_ATTEMPTS):
            try:
                ray.init(**kw)
                break
            except Exception as e:  # Ray gives its raylet 30 s to start: not always enough on a busy machine
                if "timed out during startup" not in str(e) or attempt + 1 == START_ATTEMPTS:
                    raise
                print("localocr batch: the local Ray cluster did not start in time; trying again", file=sys.stderr)
                ray.shutdown()
    else:
        package = os.path.dirname(os.path.abspath(__file__))  # this localocr, uploaded by Ray
        ray.init(address=where, runtime_env={"py_modules": [package]}, **common)


class Progress:
    """One line on standard error per `every` inputs written, and a summary."""

    def __init__(self, every: int, total_files: int):
        self.every, self.total = every, total_files
        self.inputs = self.rows = self.errors = 0
        self.t0 = time.perf_counter()
        self._last = 0

    def add(self, rows: list[dict]) -> None:
        self.rows += len(rows)
        self.errors += sum(r["error"] is not None for r in rows)
        self.inputs += len({r["path"] for r in rows})
        if self.every and self.inputs - self._last >= self.every:
            self._last = self.inputs
            print(f"localocr batch: {self.line()}", file=sys.stderr, flush=True)

    def line(self) -> str:
        dt = time.perf_counter() - self.t0
        of = f"/{self.total}" if self.total else ""
        return (
            f"{self.inputs}{of} inputs, {self.rows} rows ({self.errors} errors) in {dt:.1f} s, "
            f"{self.inputs / dt if dt else 0:.2f} inputs/s"
        )


def check_fields_kind(kind: str) -> None:
    """Refuse, before any work, a kind that `page.fields` does not know (asked of an empty page)."""
    from .result import Page

    if not hasattr(Page, "fields"):
        raise LocalOCRError(
            "--fields needs page.fields (receipt and MRZ fields), which this version of localocr does not have.",
            "unsupported",
        )
    try:
        Page(1, 1).fields(kind)
    except LocalOCRError as e:
        raise LocalOCRError(f"--fields {kind}: {e}", "unsupported") from None
    except (ValueError, KeyError) as e:
        raise LocalOCRError(f"--fields {kind}: not a kind of fields ({e})", "unsupported") from None


def run(args) -> int:
    inputs = B.expand_inputs(args.inputs)
    if args.fields:
        check_fields_kind(args.fields)
    os.makedirs(args.out, exist_ok=True)
    done = B.done_inputs(args.out)
    todo = [p for p in inputs.files if p not in done]
    skipped = len(inputs.files) - len(todo)
    print(
        f"localocr batch: {len(inputs.files)} image files ({skipped} already done in {args.out})"
        + (f", {len(inputs.parquet)} Parquet files" if inputs.parquet else ""),
        file=sys.stderr,
    )
    if not todo and not inputs.parquet:
        return 0
    from .backends.onnxruntime import OnnxRuntimeBackend
    from .pipeline import OCR

    OCR(backend=OnnxRuntimeBackend(threads=1), models=args.models)  # bad models: fail here, once
    ray = _ray()
    # Ray Data's INFO lines (plans, a progress log when not on a terminal) drown ours; its
    # progress bars on a terminal stay
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    started = not ray.is_initialized()  # called from a program that already joined one: use it
    if started:
        connect(ray, args.ray, args.num_cpus, args.object_store_mb)
    try:
        return _run_on_ray(ray, args, inputs, todo, done)
    finally:
        if started:
            ray.shutdown()


def _run_on_ray(ray, args, inputs, todo, done) -> int:
    actors = args.actors or max(1, int(ray.cluster_resources().get("CPU", 1) // args.threads))
    parts = []
    if todo:
        # blocks of about a batch, and at least one per actor
        blocks = max(-(-len(todo) // args.batch_size), min(len(todo), actors))
        parts.append(ray.data.from_items([{"path": p} for p in todo], override_num_blocks=blocks))
    bad_parquet = []
    done_ref = ray.put(done) if done and inputs.parquet else None
    for f in inputs.parquet:
        if f in done:  # the file itself failed before (an error row names it)
            continue
        try:
            parts.append(_parquet_dataset(ray, f, args.image_column, args.path_column, done_ref))
        except LocalOCRError as e:
            bad_parquet.append(B.error_row(f, None, LocalOCRError(f"{f}: {e}", e.code)))
        except Exception as e:  # pyarrow: not a Parquet file, truncated, ...
            bad_parquet.append(
                B.error_row(f, None, LocalOCRError(f"{f} is not a readable Parquet file ({e}).", "bad_parquet"))
            )
    writer = WRITERS[args.format](args.out)
    progress = Progress(args.progress_every, 0 if inputs.parquet else len(todo))  # 0: not known
    try:
        if bad_parquet:
            writer.write(to_table(bad_parquet))
            progress.add(bad_parquet)
        if parts:
            ds = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
            # Ray's Parquet reading runs as tasks: a pool that may shrink leaves them a CPU
            rows = read(
                ds,
                concurrency=(1, actors) if inputs.parquet else actors,
                batch_size=args.batch_size,
                threads=args.threads,
                models=args.models,
                min_confidence=args.min_confidence,
                fields=args.fields,
            )
            for table in rows.iter_batches(batch_format="pyarrow", batch_size=None):
                if table.num_rows:
                    writer.write(table)
                    progress.add(table.select(["path", "error"]).to_pylist())
    finally:
        writer.close()
    print(f"localocr batch: done: {progress.line()}; {actors} actors; rows in {args.out}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    """`localocr batch ...` (the CLI dispatches here)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:
        if e.code and os.path.isfile("batch"):
            print("localocr: to read the image file named 'batch', write ./batch", file=sys.stderr)
        raise
    if args.batch_size < 1 or args.threads < 1 or (args.actors is not None and args.actors < 1):
        print("localocr batch: --batch-size, --threads and --actors must be at least 1", file=sys.stderr)
        return 2
    try:
        return run(args)
    except LocalOCRError as e:
        print(f"localocr batch: {e}", file=sys.stderr)
        return 2 if e.code in ("no_input", "unsupported") else 1
    except KeyboardInterrupt:
        print("localocr batch: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except Exception as e:  # Ray's own (no cluster at that address, a lost node, ...)
        if os.environ.get("LOCALOCR_DEBUG"):
            raise
        msg = " ".join(str(e).split())
        print(
            f"localocr batch: {type(e).__name__}: {msg[:500]} (LOCALOCR_DEBUG=1 shows the traceback)", file=sys.stderr
        )
        return 1
