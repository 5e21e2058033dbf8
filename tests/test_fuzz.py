"""Byte-level fuzzing of real PNG/JPEG/WebP/TIFF/GIF files (Hypothesis): truncations, flipped bytes,
spliced and inserted chunks, huge or zero dimensions written into the headers. Every outcome of
`OCR.read` (on the fake models: the decoder is the point) is a Page or a LocalOCRError with a
known, non-"internal" code and a one-line message, within a time limit.

CI runs a fixed (derandomized) few hundred examples; `make fuzz FUZZ_EXAMPLES=N` runs N random
ones (LOCALOCR_FUZZ_EXAMPLES).
"""

import os
import struct
import time
import zlib

import pytest
from hostile_corpus import seeds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from localocr import OCR, LocalOCRError
from localocr.backends.fake import FakeBackend, fake_model_bytes
from localocr.result import Page

SEEDS = seeds()
EXAMPLES = int(os.environ.get("LOCALOCR_FUZZ_EXAMPLES", "0"))
CODES = {"empty", "not_an_image", "pdf", "heic", "truncated", "bad_image", "too_large"}
SECONDS = 20
DIMS = st.one_of(st.sampled_from([0, 1, 2, 255, 16383, 65535, 2**31 - 1, 2**32 - 1]), st.integers(0, 40000))

_OCR = OCR(fake_model_bytes("detector"), fake_model_bytes("recognizer"), FakeBackend())


def png_chunks(data: bytes):
    """(offset, length, kind) of each chunk of a PNG, as far as its structure holds."""
    i, out = 8, []
    while i + 8 <= len(data):
        n = struct.unpack(">I", data[i : i + 4])[0]
        if i + 12 + n > len(data):
            break
        out.append((i, n, data[i + 4 : i + 8]))
        i += 12 + n
    return out


def fix_png_crcs(data: bytearray) -> None:
    """Recompute every chunk's CRC, so that a mutation reaches the decoder instead of the CRC check."""
    for i, n, _kind in png_chunks(bytes(data)):
        data[i + 8 + n : i + 12 + n] = struct.pack(">I", zlib.crc32(bytes(data[i + 4 : i + 8 + n])))


def set_dims(fmt: str, data: bytearray, w: int, h: int) -> None:
    """Write (w, h) into the format's header where it keeps them (clipped to the field's width)."""
    if len(data) < 16:
        return
    if fmt == "png":
        data[16:24] = struct.pack(">II", w % 2**32, h % 2**32)
        fix_png_crcs(data)
    elif fmt == "gif":
        data[6:10] = struct.pack("<HH", w % 65536, h % 65536)
        i = data.find(b"\x2c", 13)
        if i > 0:
            data[i + 5 : i + 9] = struct.pack("<HH", w % 65536, h % 65536)
    elif fmt == "jpeg":
        i = data.find(b"\xff\xc0")
        if i > 0:
            data[i + 5 : i + 9] = struct.pack(">HH", h % 65536, w % 65536)
    elif fmt == "webp":
        i = data.find(b"\x9d\x01\x2a")  # a lossy frame: 14-bit width and height
        if i > 0:
            data[i + 3 : i + 7] = struct.pack("<HH", w % 16384, h % 16384)
    elif fmt == "tiff":
        # the first IFD: tags 256 (ImageWidth) and 257 (ImageLength), as LONG values
        ifd = struct.unpack("<I", data[4:8])[0]
        if 8 <= ifd and ifd + 2 <= len(data):
            for k in range(struct.unpack("<H", data[ifd : ifd + 2])[0]):
                e = ifd + 2 + 12 * k
                if e + 12 > len(data):
                    break
                tag = struct.unpack("<H", data[e : e + 2])[0]
                if tag in (256, 257):
                    data[e + 2 : e + 12] = struct.pack("<HII", 4, 1, (w if tag == 256 else h) % 2**32)


@st.composite
def mutated(draw):
    fmt = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[fmt])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "flip", "splice", "insert", "dims", "dims"]))
        n = len(data)
        if op == "truncate" and n:
            del data[draw(st.integers(0, n - 1)) :]
        elif op == "flip" and n:
            for _ in range(draw(st.integers(1, 8))):
                data[draw(st.integers(0, n - 1))] ^= draw(st.integers(1, 255))
        elif op == "splice" and n > 2:
            # a piece of the file copied (a chunk, a marker segment, a strip) to another place
            a = draw(st.integers(0, n - 2))
            b = draw(st.integers(a + 1, min(n, a + 4096)))
            c = draw(st.integers(0, n))
            data[c:c] = data[a:b]
        elif op == "insert":
            c = draw(st.integers(0, n))
            data[c:c] = draw(st.binary(min_size=1, max_size=64))
        elif op == "dims":
            set_dims(fmt, data, draw(DIMS), draw(DIMS))
    if fmt == "png" and draw(st.booleans()):
        fix_png_crcs(data)
    return fmt, bytes(data)


_settings = dict(
    max_examples=EXAMPLES or 300,
    deadline=None,
    derandomize=not EXAMPLES,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(**_settings)
@given(mutated())
def test_every_mutation_gives_a_page_or_a_clear_error(sample):
    fmt, data = sample
    t0 = time.process_time()  # CPU seconds: a loaded machine does not make it fail
    try:
        out = _OCR.read(data)
    except LocalOCRError as e:
        assert e.code in CODES, f"{fmt}: {e.code}: {e} (cause: {e.__cause__!r})"
        msg = str(e)
        assert msg and "\n" not in msg and "Traceback" not in msg
    else:
        assert isinstance(out, Page) and out.width > 0 and out.height > 0
    assert time.process_time() - t0 < SECONDS, f"{fmt}: {time.process_time() - t0:.1f} s of CPU"


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_seeds_are_read(fmt):
    """The fuzzer starts from files that are valid."""
    assert _OCR.read(SEEDS[fmt]).width == 96
