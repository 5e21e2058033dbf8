"""Image input: every source type and Pillow mode, EXIF, animations, and every bad input."""

import io
import struct
import zlib

import numpy as np
import pytest
from localocr.errors import LocalOCRError
from localocr.image import decode_image, load_image
from PIL import Image


def png_bytes(im):
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(im, **kw):
    buf = io.BytesIO()
    im.save(buf, "JPEG", **kw)
    return buf.getvalue()


def test_sources_path_bytes_file_pil_numpy(tmp_path):
    im = Image.new("RGB", (20, 10), (10, 20, 30))
    p = tmp_path / "a.png"
    im.save(p)
    for src in (str(p), p, p.read_bytes(), io.BytesIO(p.read_bytes()), im, np.asarray(im)):
        out = load_image(src)
        assert out.mode == "RGB" and out.size == (20, 10)
        assert out.getpixel((0, 0)) == (10, 20, 30)


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "LA", "CMYK", "I;16", "I", "F", "YCbCr", "PA"])
def test_every_mode_becomes_l_or_rgb(mode):
    base = Image.new("RGB", (8, 6), (0, 0, 0))
    base.paste((255, 255, 255), (4, 0, 8, 6))
    im = base.convert(mode) if mode not in ("I;16", "I", "F", "PA") else None
    if mode == "I;16":
        im = Image.fromarray(np.where(np.asarray(base.convert("L")) > 0, 65535, 0).astype(np.uint16))
        assert im.mode.startswith("I;16")
    elif mode == "I":
        im = Image.fromarray(np.where(np.asarray(base.convert("L")) > 0, 65535, 0).astype(np.int32), "I")
    elif mode == "F":
        im = Image.fromarray(np.where(np.asarray(base.convert("L")) > 0, 1.0, 0.0).astype(np.float32), "F")
    elif mode == "PA":
        im = base.convert("P").convert("PA")
    out = load_image(im)
    assert out.mode in ("L", "RGB")
    g = np.asarray(out.convert("L"))
    assert g[:, :4].max() < 20 and g[:, 4:].min() > 235


def test_transparency_over_white():
    im = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    im.putpixel((0, 0), (0, 0, 0, 255))
    out = load_image(png_bytes(im))
    assert out.getpixel((1, 1)) == (255, 255, 255)
    assert out.getpixel((0, 0)) == (0, 0, 0)
    p = Image.new("P", (4, 4), 1)
    p.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    p.info["transparency"] = 1
    out = load_image(png_bytes(p))
    assert out.getpixel((0, 0)) == (255, 255, 255)


def test_exif_orientation_applied():
    im = Image.new("RGB", (40, 20), (255, 255, 255))
    im.paste((0, 0, 0), (0, 0, 10, 20))  # black on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display turns 90 cw
    out = load_image(jpeg_bytes(im, exif=exif.tobytes(), quality=95))
    assert out.size == (20, 40)
    g = np.asarray(out.convert("L"))
    assert g[:10].mean() < 60 and g[-10:].mean() > 200  # left became top


def test_animation_first_frame():
    frames = [Image.new("L", (8, 8), v) for v in (0, 255)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    out = load_image(buf.getvalue())
    assert np.asarray(out.convert("L")).max() < 10


@pytest.mark.parametrize(
    "arr",
    [
        np.zeros((5, 7), np.uint8),
        np.zeros((5, 7, 1), np.uint8),
        np.zeros((5, 7, 3), np.uint8),
        np.zeros((5, 7, 4), np.uint8),
        np.zeros((5, 7), bool),
        np.zeros((5, 7, 3), np.float32),
        np.zeros((5, 7), np.uint16),
    ],
)
def test_numpy_arrays(arr):
    assert load_image(arr).size == (7, 5)


def test_float_and_16bit_arrays_scale():
    assert load_image(np.full((2, 2), 1.0, np.float32)).getpixel((0, 0)) == 255
    assert load_image(np.full((2, 2), 65535, np.uint16)).getpixel((0, 0)) == 255


def expect(code, src, **kw):
    with pytest.raises(LocalOCRError) as e:
        load_image(src, **kw)
    assert e.value.code == code, str(e.value)
    assert "Traceback" not in str(e.value)
    return str(e.value)


def test_bad_inputs_have_clear_errors(tmp_path):
    assert "PDF" in expect("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    assert "HEIC" in expect("heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")
    assert "text" in expect("not_an_image", "Hello, this is not an image.\n".encode() * 3)
    assert "empty" in expect("empty", b"")
    assert "empty" in expect("empty", io.BytesIO(b""))
    expect("not_an_image", bytes(range(256)) * 4)
    full = jpeg_bytes(Image.effect_noise((64, 64), 40).convert("RGB"))
    assert "truncated" in expect("truncated", full[: len(full) // 2])
    expect("not_found", str(tmp_path / "missing.png"))
    expect("not_an_image", str(tmp_path))
    expect("not_an_image", 12345)
    expect("not_an_image", np.zeros((2, 3, 5), np.uint8))


def png_header_only(width, height):
    """A PNG whose IHDR claims width x height, with one tiny IDAT: no big pixel data exists."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def test_one_pixel_limit_for_every_format():
    """Over MAX_INPUT_PIXELS (150 MP) every format is refused from its header, before decoding;
    under it every format is read and reduced to the working size, and the result says so."""
    msg = expect("too_large", png_header_only(13000, 12000))  # 156 MP claimed
    assert "156 MP" in msg and "150 MP" in msg
    # Pillow's own bomb limit (~179 MP) also ends in our error type
    expect("too_large", png_header_only(20000, 20000))
    # 60 MP claimed, 16 bytes of data: decoded (not refused), and found truncated
    expect("truncated", png_header_only(10000, 6000))
    im = Image.new("L", (800, 600), 255)
    for fmt in ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"):
        buf = io.BytesIO()
        im.save(buf, fmt)
        out = decode_image(buf.getvalue(), max_pixels=100_000)
        assert out.image.size[0] * out.image.size[1] <= 100_000, fmt
        assert out.original_size == (800, 600)
        assert [n.code for n in out.notes] == ["reduced"], fmt
        assert "800 x 600" in out.notes[0].message
        with pytest.raises(LocalOCRError) as e:
            decode_image(buf.getvalue(), max_input_pixels=400_000)
        assert e.value.code == "too_large", fmt


def test_big_jpeg_is_reduced_on_decode_not_refused():
    im = Image.new("RGB", (800, 600), (255, 255, 255))
    out = load_image(jpeg_bytes(im), max_pixels=100_000)
    assert out.size[0] * out.size[1] <= 100_000
    assert out.size == (200, 150)  # DCT scale 1/4: 120 K px > limit at 1/2


def test_big_pil_and_numpy_reduced():
    assert load_image(Image.new("L", (400, 300)), max_pixels=100_000).size == (200, 150)
    assert load_image(np.zeros((300, 400, 4), np.uint8), max_pixels=10_000).size == (100, 75)
    assert load_image(Image.new("P", (400, 300)), max_pixels=100_000).size == (200, 150)


def test_colour_jpeg_is_read_as_its_luma_channel():
    """A colour JPEG file decodes to "L": libjpeg's own Y output (no chroma upsampling, which differs
    between libjpeg 9 in the browser and libjpeg-turbo here); luma_jpeg=False keeps RGB."""
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), "RGB")
    data = jpeg_bytes(rgb, quality=90)  # 4:2:0 subsampled, as cameras write them
    out = load_image(data)
    assert out.mode == "L" and out.size == (64, 48)
    ycc = Image.open(io.BytesIO(data))
    ycc.draft("YCbCr", None)  # the decoder's Y plane, before any colour conversion
    assert ycc.mode == "YCbCr"
    assert np.array_equal(np.asarray(out), np.asarray(ycc.getchannel(0)))
    assert load_image(data, luma_jpeg=False).mode == "RGB"
    # a grey JPEG stays as it is, and other formats keep their colour
    assert load_image(jpeg_bytes(rgb.convert("L"))).mode == "L"
    assert load_image(png_bytes(rgb)).mode == "RGB"


def test_big_colour_jpeg_luma_and_reduction_in_one_draft():
    im = Image.new("RGB", (800, 600), (200, 30, 30))
    out = load_image(jpeg_bytes(im), max_pixels=100_000)
    assert out.mode == "L" and out.size == (200, 150)
    assert load_image(jpeg_bytes(im), max_pixels=100_000, luma_jpeg=False).mode == "RGB"
