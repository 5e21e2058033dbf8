"""On-disk shards of recognizer samples: grey uint8 lines of height 32, any width.

One shard is an uncompressed .npz:
  pixels  uint8 [32, sum(widths)]  the samples side by side
  widths  int32 [n]
  labels  str   [n]                exact text of each sample (charset.ALPHABET only)
  flags   uint8 [n]                bit 0 (CASE_FOLD): the label is upper case whatever the print
                                   (SROIE): train it case-insensitively
Writing goes to a temporary name and is renamed, so a reader never sees half a shard.

A packed shard (`write_jpeg_shard`, for the GPU job's 64 MiB carry) holds `jpeg` (the
samples' JPEG files back to back) and `ends` instead of `pixels`/`widths`;
`read_shard` reads both kinds.
"""

from __future__ import annotations

import os

import numpy as np

CASE_FOLD = 1


def write_shard(path: str, images: list[np.ndarray], labels: list[str], flags: list[int] | None = None) -> None:
    """Save samples ([H, W] uint8 each, same H) atomically to `path` (.npz)."""
    widths = np.array([im.shape[1] for im in images], np.int32)
    pixels = np.concatenate(images, axis=1) if images else np.zeros((32, 0), np.uint8)
    flags = np.zeros(len(images), np.uint8) if flags is None else np.asarray(flags, np.uint8)
    tmp = path + ".tmp.npz"
    np.savez(tmp, pixels=pixels, widths=widths, labels=np.array(labels, dtype=str), flags=flags)
    os.replace(tmp, path)


JPEG_QUALITY = 75  # packed shards: ~1-2 KB a crop, so the real sets fit the GPU carry with a checkpoint


def write_jpeg_shard(path: str, images: list[np.ndarray], labels: list[str], flags) -> None:
    """Save samples as JPEG bytes (smaller, lossy) atomically to `path` (.npz)."""
    import io

    from PIL import Image

    blobs = []
    for im in images:
        buf = io.BytesIO()
        Image.fromarray(im).save(buf, "JPEG", quality=JPEG_QUALITY)
        blobs.append(np.frombuffer(buf.getvalue(), np.uint8))
    tmp = path + ".tmp.npz"
    np.savez(
        tmp,
        jpeg=np.concatenate(blobs),
        ends=np.cumsum([len(b) for b in blobs]).astype(np.int64),
        labels=np.array(labels, dtype=str),
        flags=np.asarray(flags, np.uint8),
    )
    os.replace(tmp, path)


def read_shard(path: str) -> tuple[list[np.ndarray], list[str], np.ndarray]:
    """(images, labels, flags) of one shard; images are views into one array."""
    with np.load(path, allow_pickle=False) as z:
        labels = [str(s) for s in z["labels"]]
        flags = z["flags"]
        if "jpeg" in z.files:
            import io

            from PIL import Image

            blob, ends = z["jpeg"], z["ends"]
            starts = np.r_[0, ends[:-1]]
            images = [
                np.asarray(Image.open(io.BytesIO(blob[s:e].tobytes())).convert("L")) for s, e in zip(starts, ends)
            ]
            return images, labels, flags
        pixels, widths = z["pixels"], z["widths"]
    ends = np.cumsum(widths)
    starts = ends - widths
    return [pixels[:, s:e] for s, e in zip(starts, ends)], labels, flags
