"""File helpers shared by tools/ and export/: the one sha256 of a file, and writes that leave a file
alone when its content is unchanged (its mtime drives HTTP revalidation and make's stamps)."""

from __future__ import annotations

import hashlib
from pathlib import Path

_hash_cache: dict[tuple[str, int, int], str] = {}


def sha256_file(path: Path | str, cached: bool = False) -> str:
    """sha256 (hex) of a file, read in 1 MiB blocks. `cached`: memoised by (path, mtime, size), for
    the dev server, which asks on every request."""
    key = None
    if cached:
        st = Path(path).stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
        if key in _hash_cache:
            return _hash_cache[key]
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    if key is not None:
        _hash_cache[key] = digest
    return digest


def write_if_changed(path: Path, data: str | bytes) -> bool:
    """Replace `path` atomically (a .tmp sibling renamed), only when its content changes; True if
    it was written."""
    raw = data.encode() if isinstance(data, str) else data
    if path.exists() and path.stat().st_size == len(raw) and path.read_bytes() == raw:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(raw)
    tmp.replace(path)
    return True
