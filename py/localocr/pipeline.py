"""The `OCR` class: image -> Page, as generator stages run by a sync or an async driver.

Every stage that needs a model is a generator: it *yields* `(session, feeds)`
and receives the session's outputs (a dict of numpy arrays). `run_sync`
calls `session.run`; `run_async` awaits `session.run_async` (Pyodide, where
onnxruntime-web returns promises). The stages themselves never know which.

    ocr = OCR()                                   # bundled models in web/models
    page = ocr.read("receipt.jpg")                # sync (CPython)
    page = await ocr.read_async(image_bytes)      # async (Pyodide worker)
    text, conf = ocr.recognize_line(crop)

Timings (seconds) in `page.timings`: decode, detect_pre, detect_run,
detect_post, orient, recognize_pre, recognize_run, recognize_post, layout, total.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import orientation as orient
from .contract.models import Model, RecognizerSpec, load_model, model_file
from .detection import detect_steps
from .errors import LocalOCRError, internal_errors
from .image import MAX_PIXELS, Note, decode_image, load_image, to_grey
from .layout import build_blocks
from .recognition import MAX_WIDTH, recognize_steps, reread_steps
from .result import Page, Word

ENV_MODELS = "LOCALOCR_MODELS"  # a folder with detector*.onnx and recognizer*.onnx

# The junk floor (`keep_segment`): a detector segment read with a mean character confidence below
# MIN_CONFIDENCE is dropped, and one of at most SHORT_CHARS characters needs MIN_CONFIDENCE_SHORT
# (noise reads as scattered one- or two-character "words", some of them confidently).
# Chosen with tools/calibrate_floor.py on the validation pages (bench/floor.md): 0.5 and 0.9 cost no
# set anything (e2e F1 +0.0 to +1.2 points: the junk they drop was false positives) and leave 17 words
# on six 2000 x 2000 noise pages, against 142 without a floor.
MIN_CONFIDENCE = 0.5
MIN_CONFIDENCE_SHORT: float | None = 0.9
SHORT_CHARS = 2
# A page whose segments read with a median confidence below JUNK_MEDIAN (at least
# JUNK_MIN_SEGMENTS of them) is noise: nothing of it is kept, and its Page says so (note "junk").
# 0.5: the six noise pages' medians are 0.27-0.45; of the validation pages with 5+ segments the
# lowest is 0.58 (handwriting), then 0.68 (a scene photo): no validation page loses anything.
JUNK_MEDIAN = 0.5
JUNK_MIN_SEGMENTS = 5
# A blank page (a scanner's empty sheet, a uniform screenshot) is not detected at all: every channel of
# the image, box-averaged to about BLANK_SIDE px on its long side, spans fewer than BLANK_SPREAD levels.
# Otherwise nothing found sends the detector to its finest scale and orientation to its turned probe:
# a blank A4 page at 300 dpi cost 1.5 s and a peak RSS of 426 MiB on CPython, 4.4 s and a 408 MiB
# WASM heap in the browser, to find nothing. Pale ink (grey 200 on white) still spans ~25 levels at
# that size; paper texture or a shadow makes a page "not blank", and it is read as before.
BLANK_SPREAD = 16
BLANK_SIDE = 1024


def models_dir(path=None) -> Path:
    """Where the bundled models are: the argument, $LOCALOCR_MODELS, the package's
    own `models/` (a wheel that ships them), or the repository's web/models
    (an editable install)."""
    if path is not None:
        return Path(path)
    if os.environ.get(ENV_MODELS):
        return Path(os.environ[ENV_MODELS])
    here = Path(__file__).resolve().parent
    for cand in (here / "models", here.parent.parent / "web" / "models"):
        if cand.is_dir() and any(cand.glob("detector*.onnx")):
            return cand
    return here.parent.parent / "web" / "models"


def bundled_model(kind: str, folder=None) -> Path:
    """The model file of `kind` in the models folder (models.MODEL_FILE_NAMES: int8 first)."""
    d = models_dir(folder)
    found = model_file(d, kind)
    if found is not None:
        return found
    raise LocalOCRError(
        f"No {kind} model found in {d} (expected {kind}.int8.onnx or {kind}.onnx); pass one, or set {ENV_MODELS}.",
        "no_model",
    )


# The accurate recognizer tier's file name (`accurate.int8.onnx` / `accurate.onnx`): optional.
ACCURATE = "accurate"


def _optional_model(kind: str, folder=None):
    try:
        return bundled_model(kind, folder)
    except LocalOCRError:
        return None


# ---------------------------------------------------------------- drivers


def run_sync(gen):
    """Drive a stage generator with `session.run`; return the generator's value."""
    try:
        session, feeds = next(gen)
        while True:
            session, feeds = gen.send(session.run(feeds))
    except StopIteration as stop:
        return stop.value


async def run_async(gen):
    """Drive a stage generator, awaiting `session.run_async` where a session has it."""
    try:
        session, feeds = next(gen)
        while True:
            if hasattr(session, "run_async"):
                out = await session.run_async(feeds)
            else:
                out = session.run(feeds)
            session, feeds = gen.send(out)
    except StopIteration as stop:
        return stop.value


# ---------------------------------------------------------------- stages


def _add(t: dict, key: str, dt: float) -> None:
    t[key] = t.get(key, 0.0) + dt


def keep_segment(
    text: str, confidence: float, floor: float = MIN_CONFIDENCE, short_floor: float | None = MIN_CONFIDENCE_SHORT
) -> bool:
    """The junk floor: is a detector segment read as `text` with `confidence` kept?"""
    if not text.strip():
        return False
    short = len(text.replace(" ", "")) <= SHORT_CHARS
    return confidence >= (max(floor, short_floor) if short and short_floor is not None else floor)


def junk_page(reads, junk_median: float = JUNK_MEDIAN) -> bool:
    """A page of noise: at least JUNK_MIN_SEGMENTS segments read, their median confidence below
    `junk_median` (real pages, even poor scene photos, read most of their segments confidently)."""
    confs = [rd.confidence for rd in reads if rd.text.strip()]
    return junk_median > 0 and len(confs) >= JUNK_MIN_SEGMENTS and float(np.median(confs)) < junk_median


def segments_of(
    reads,
    floor: float = MIN_CONFIDENCE,
    short_floor: float | None = MIN_CONFIDENCE_SHORT,
    junk_median: float = JUNK_MEDIAN,
    notes: list | None = None,
):
    """[recognition.LineRead] -> the [(quad, [Word], confidence)] build_blocks takes, floor applied
    (and nothing at all from a `junk_page`, which adds a "junk" Note to `notes`)."""
    if junk_page(reads, junk_median):
        if notes is not None:
            n = sum(bool(rd.text.strip()) for rd in reads)
            notes.append(
                Note(
                    "junk",
                    f"The image looks like noise, not text: its {n} text-like regions read "
                    f"with a median confidence below {junk_median:.2f}; nothing was kept.",
                )
            )
        return []
    return [
        (rd.quad, [Word(w.text, w.quad, w.confidence) for w in rd.words], rd.confidence)
        for rd in reads
        if rd.words and keep_segment(rd.text, rd.confidence, floor, short_floor)
    ]


def blank_page(image, spread: int = BLANK_SPREAD) -> bool:
    """Whether a decoded "L"/"RGB" image is uniform (see BLANK_SPREAD): nothing on it to read."""
    k = max(1, max(image.size) // BLANK_SIDE)
    small = image.reduce(k) if k > 1 else image
    bands = small.getextrema()  # (lo, hi) for one band, a tuple of them for several
    if not isinstance(bands[0], tuple):
        bands = (bands,)
    return max(hi - lo for lo, hi in bands) < spread


def upright_steps(
    image,
    detector,
    recognizer,
    timings: dict,
    *,
    min_confidence: float = MIN_CONFIDENCE,
    short_confidence: float | None = MIN_CONFIDENCE_SHORT,
    flip_check: bool = True,
    detect_options: dict | None = None,
    accurate=None,
    reread_below: float | None = None,
    notes: list | None = None,
    reread_for: str | None = None,
):
    """Generator stage for a whole page read as it is (no orientation; `oriented_steps` turns and
    straightens first): decoded image -> [Block] (`notes` gets what was dropped)."""
    boxes = yield from detect_steps(image, detector, timings, **(detect_options or {}))
    t0 = time.perf_counter()
    grey = to_grey(image)
    _add(timings, "recognize_pre", time.perf_counter() - t0)
    reads = yield from recognize_steps(
        grey,
        [q for q, _ in boxes],
        recognizer,
        timings,
        flip_check=flip_check,
        accurate=accurate,
        reread_below=reread_below,
    )
    if accurate is not None and reread_for:
        yield from reread_for_fields(
            grey, reads, accurate, recognizer, timings, reread_for, min_confidence, short_confidence
        )
    t0 = time.perf_counter()
    blocks = blocks_from_reads(reads, min_confidence, short_confidence, notes)
    _add(timings, "layout", time.perf_counter() - t0)
    return blocks


def reread_for_fields(grey, reads, accurate, recognizer, timings: dict, kind: str, min_confidence, short_confidence):
    """Generator stage: the lines the key fields of `kind` come from read again by the accurate tier,
    whatever the fast tier's confidence, where it has not read them already (in place): the fields
    are taken from a first layout of `reads` (`fields.reread_lines`: a receipt's company, address
    and total lines), and every read whose box's centre lies in one of those lines is read again.
    Returns how many."""
    from .fields import reread_lines

    t0 = time.perf_counter()
    first = Page(
        width=grey.size[0], height=grey.size[1], blocks=blocks_from_reads(reads, min_confidence, short_confidence)
    )
    boxes = []
    for i in reread_lines(first, kind):
        q = np.asarray(first.lines[i].quad, np.float32).reshape(4, 2)
        boxes.append((q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max()))
    which = []
    for i, r in enumerate(reads):
        c = np.asarray(r.quad, np.float32).reshape(4, 2).mean(axis=0)
        if not r.reread and any(x0 <= c[0] <= x1 and y0 <= c[1] <= y1 for x0, y0, x1, y1 in boxes):
            which.append(i)
    _add(timings, "layout", time.perf_counter() - t0)
    if not which:
        return 0
    max_width = MAX_WIDTH * accurate.spec.height // recognizer.spec.height
    # below 2.0: whatever the confidence; most 0: all of them
    n = yield from reread_steps(grey, reads, accurate, timings, below=2.0, max_width=max_width, most=0, only=which)
    return n


def level_steps(im, boxes, prob, detector, timings: dict, opts: dict):
    """Generator stage: straighten a page whose lines run DESKEW_MIN to DESKEW_MAX degrees off level
    (`localocr.orientation`, step 4) -> (image, boxes on it, the matrix from `im` onto it or None,
    degrees it was turned counter-clockwise by). The boxes say how far off (`orientation.skew`);
    with little text found, the probability map `prob` does (`orientation.map_skew`); the boxes
    found on the straightened page correct it once."""
    quads = [q for q, _ in boxes]
    angle = orient.skew(quads)
    if prob is not None and orient.text_amount(quads) < orient.LITTLE_TEXT:
        t0 = time.perf_counter()
        seen, coherence = orient.map_skew(prob)
        if coherence >= orient.MAP_COHERENCE:
            angle = seen
        _add(timings, "orient", time.perf_counter() - t0)
    if not orient.DESKEW_MIN <= abs(angle) <= orient.DESKEW_MAX:
        return im, boxes, None, 0.0
    turned = (im, None)
    for again in range(2):
        t0 = time.perf_counter()
        turned = orient.rotate_image(im, -angle)
        _add(timings, "orient", time.perf_counter() - t0)
        found = yield from detect_steps(turned[0], detector, timings, **opts)
        rest = orient.skew([q for q, _ in found])
        if again or not orient.DESKEW_MIN <= abs(rest) or abs(angle + rest) > orient.DESKEW_MAX:
            break
        angle += rest
    before = orient.text_amount(quads)
    if before < orient.LITTLE_TEXT and orient.text_amount([q for q, _ in found]) < orient.DESKEW_GAIN * before:
        return im, boxes, None, 0.0  # no more text found straightened: a scene's own tilted words
    return turned[0], found, turned[1], -angle


def oriented_steps(
    image,
    detector,
    recognizer,
    timings: dict,
    *,
    min_confidence: float = MIN_CONFIDENCE,
    short_confidence: float | None = MIN_CONFIDENCE_SHORT,
    flip_check: bool = True,
    detect_options: dict | None = None,
    accurate=None,
    reread_below: float | None = None,
    notes: list | None = None,
    reread_for: str | None = None,
):
    """`upright_steps` that also turns pages at 90, 180 and 270 degrees upright (see
    `localocr.orientation`) and straightens tilted ones: decoded image -> ([Block] with quads on
    the given image, rotation, deskew: degrees the turned page was rotated counter-clockwise by).
    The 180 check needs `flip_check`. "orient" timing: the sideways test and vote."""
    width, height = image.size
    opts = detect_options or {}
    maps: list = []
    boxes = yield from detect_steps(image, detector, timings, maps=maps, **opts)
    t0 = time.perf_counter()
    rotation = 0
    quads = [q for q, _ in boxes]
    decided = False
    upright_grey = None  # the given image in grey, once a vote needed it: the read reuses it
    seen, coherence = orient.map_skew(maps[0]) if maps else (0.0, 0.0)
    tilted = coherence >= orient.MAP_COHERENCE and orient.FOUR_WAY_TILT <= abs(seen) <= orient.DESKEW_MAX
    if orient.text_amount(quads) < orient.LITTLE_TEXT and not tilted:
        # little text (a scene): the detector may not see sideways text at all, and short words
        # give the flip check little to go on. The page turned by 90 is detected too, and the
        # longest lines of both are read all four ways (`orientation.four_way`).
        # (one pass, no finer retry: a probe for sideways text, within the detector's memory bound)
        probe = {"refine": False, **opts}
        turned = yield from detect_steps(orient.turn_image(image, 90), detector, {}, **probe)
        found = [orient.unturn_points(q, 90, width, height) for q, _ in turned]
        level = [quads[i] for i in orient.longest(quads, orient.FOUR_WAY_LINES)]
        if not quads and not found:
            # nothing found as given nor turned by 90: a detector trained on upright text may see a
            # page's text only upright, so the page turned the other way, then upside down, is tried
            # too (`orientation.PROBE_AGAIN`)
            for extra in orient.PROBE_AGAIN:
                more = yield from detect_steps(orient.turn_image(image, extra), detector, {}, **probe)
                more = [orient.unturn_points(q, extra, width, height) for q, _ in more]
                if extra == 180:
                    # the quads read the page upside down: as given, each one read the other way round
                    level = [more[i][[2, 3, 0, 1]] for i in orient.longest(more, orient.FOUR_WAY_LINES)]
                else:
                    found = more
                if more:
                    break
        down = [orient.reading_down(found[i]) for i in orient.longest(found, orient.FOUR_WAY_LINES)]
        # each line counts for the ways it can be read along: a level line the turned pass found too
        # is no evidence for 90 or 270 (`orientation.along`)
        level, down = orient.along(level, True), orient.along(down, False)
        ways = {0: level, 180: [q[[2, 3, 0, 1]] for q in level], 270: down, 90: [q[[2, 3, 0, 1]] for q in down]}
        every = [q for qs in ways.values() for q in qs]
        if every:
            voter = accurate if accurate is not None else recognizer
            upright_grey = to_grey(image)
            got = yield from recognize_steps(upright_grey, every, voter, {}, flip_check=False)
            ev, k = {}, 0
            for way, qs in ways.items():
                part = got[k : k + len(qs)]
                k += len(qs)
                ev[way] = orient.evidence([rd.text for rd in part], [rd.confidence for rd in part])
            rotation = orient.four_way(ev)
        decided = True
    else:
        vertical = [quads[i] for i in orient.sideways_lines(quads)]
        if vertical:
            grey = upright_grey = to_grey(image)
            down = [orient.reading_down(q) for q in vertical]
            up = [q[[2, 3, 0, 1]] for q in down]
            both = yield from recognize_steps(grey, down + up, recognizer, {}, flip_check=False)
            n = len(down)
            rotation = orient.sideways_rotation([rd.confidence for rd in both[:n]], [rd.confidence for rd in both[n:]])
    _add(timings, "orient", time.perf_counter() - t0)
    for attempt in range(2):
        im = orient.turn_image(image, rotation)
        if rotation:
            maps = []
            boxes = yield from detect_steps(im, detector, timings, maps=maps, **opts)
        im, boxes, straighten, angle = yield from level_steps(
            im, boxes, maps[0] if maps else None, detector, timings, opts
        )
        maps = []
        t0 = time.perf_counter()
        grey = upright_grey if im is image and upright_grey is not None else to_grey(im)
        _add(timings, "recognize_pre", time.perf_counter() - t0)
        # the accurate tier after the decision (recognize_steps runs it last, the same way)
        reads = yield from recognize_steps(grey, [q for q, _ in boxes], recognizer, timings, flip_check=flip_check)
        if attempt or not flip_check or decided:
            break
        flip = orient.upside_down(reads)
        if not flip:
            t0 = time.perf_counter()
            which = orient.flip_candidates(reads)
            if which:
                again = yield from recognize_steps(
                    grey, [reads[i].quad[[2, 3, 0, 1]] for i in which], recognizer, {}, flip_check=False
                )
                flip = orient.flip_vote([reads[i].confidence for i in which], [rd.confidence for rd in again])
            _add(timings, "orient", time.perf_counter() - t0)
        if not flip:
            break
        rotation = (rotation + 180) % 360
    if accurate is not None:
        yield from reread_steps(
            grey, reads, accurate, timings, reread_below, MAX_WIDTH * accurate.spec.height // recognizer.spec.height
        )
        if reread_for:
            yield from reread_for_fields(
                grey, reads, accurate, recognizer, timings, reread_for, min_confidence, short_confidence
            )
    t0 = time.perf_counter()
    blocks = blocks_from_reads(reads, min_confidence, short_confidence, notes)
    orient.unturn_blocks(blocks, rotation, width, height, straighten)
    _add(timings, "layout", time.perf_counter() - t0)
    return blocks, rotation, angle


def blocks_from_reads(
    reads,
    min_confidence: float = MIN_CONFIDENCE,
    short_confidence: float | None = MIN_CONFIDENCE_SHORT,
    notes: list | None = None,
) -> list:
    """Recognised lines ([recognition.LineRead]) -> [Block] in reading order, the junk floor applied."""
    return build_blocks(segments_of(reads, min_confidence, short_confidence, notes=notes))


# ---------------------------------------------------------------- the public class


# Enough text that orientation takes a document's path, not a scene's (which probes the page turned).
WARM_UP_LINES = (
    "localocr store 42",
    "2026-12-03 10:15",
    "Coffee 2 x 3.20      6.40",
    "Bagel                2.90",
    "TOTAL               12.50",
    "Thank you, come again",
)


def warm_up_image() -> bytes:
    """A small receipt-like page (black text on white, lines of different lengths) as JPEG bytes:
    what `OCR.warm_up_steps` reads. Drawn with Pillow's own font (FreeType's Aileron where Pillow has
    FreeType, else its bitmap font), so that no font file is needed."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    try:
        font: Any = ImageFont.load_default(size=24)
    except (TypeError, OSError, ImportError):  # a Pillow without FreeType: the fixed bitmap font
        font = ImageFont.load_default()
    im = Image.new("RGB", (480, 40 * len(WARM_UP_LINES) + 30), "white")
    draw = ImageDraw.Draw(im)
    for i, text in enumerate(WARM_UP_LINES):
        draw.text((24, 16 + 40 * i), text, fill="black", font=font)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


class OCR:
    """Local OCR with a detector and a recognizer.

    detector, recognizer: a path, ONNX bytes or a ready Session; by default the
    bundled models (`models_dir`). backend: a `Backend` (default: onnxruntime
    on CPython). Keyword options: `min_confidence` (drop lines read with less;
    default MIN_CONFIDENCE, the junk floor, see `keep_segment` and bench/floor.md),
    `flip_check` (read low-confidence lines upside down too), `max_pixels`
    (image size guard), `luma_jpeg` (colour JPEGs read as their luma channel:
    the same pixels in the browser and on CPython, see `localocr.image`),
    `detect_options` (threshold, box_threshold,
    unclip_ratio, max_pixels, min_long_side, refine: see `detect_steps`).

    accurate: the second recognizer tier (role "accurate"; a path, bytes or
    Session), by default the bundled `accurate*.onnx` when there is one; False:
    the fast tier alone. Lines the fast tier reads with a confidence below
    `reread_below` (default: the accurate model's own, calibrated on validation
    pages) are read again by it (`recognition.reread_steps`).

    orientation: turn pages photographed at 90, 180 or 270 degrees upright before reading them
    (`localocr.orientation`; `page.rotation` says which turn, quads stay on the given image);
    False: read the image as it is (lines upside down are still read by `flip_check`).
    """

    def __init__(
        self,
        detector=None,
        recognizer=None,
        backend=None,
        *,
        models=None,
        min_confidence: float = MIN_CONFIDENCE,
        flip_check: bool = True,
        max_pixels: int = MAX_PIXELS,
        luma_jpeg: bool = True,
        detect_options: dict | None = None,
        accurate=None,
        reread_below: float | None = None,
        orientation: bool = True,
    ):
        if backend is None:
            from .backends.onnxruntime import OnnxRuntimeBackend

            backend = OnnxRuntimeBackend()
        self.backend = backend
        self.detector = load_model(
            backend, detector if detector is not None else bundled_model("detector", models), "detector"
        )
        self.recognizer = load_model(
            backend, recognizer if recognizer is not None else bundled_model("recognizer", models), "recognizer"
        )
        if accurate is None and recognizer is None:
            accurate = _optional_model(ACCURATE, models)
        self.accurate: Model[RecognizerSpec] | None = None
        if accurate is not None and accurate is not False:
            self.accurate = load_model(backend, accurate, "recognizer", ACCURATE)
            if self.accurate.spec.role != "accurate":
                raise LocalOCRError(
                    f"The {ACCURATE} model's role is '{self.accurate.spec.role}', not 'accurate'.", "bad_model"
                )
        self.reread_below = reread_below
        self.min_confidence = min_confidence
        self.flip_check = flip_check
        self.orientation = orientation
        self.max_pixels = max_pixels
        self.luma_jpeg = luma_jpeg
        self.detect_options = dict(detect_options or {})

    # -- whole pages

    def read_steps(self, image, *, reread: bool = True, fields: str | None = None):
        """The whole pipeline as one generator stage (for custom drivers); returns a Page.
        `page.source` says its resolution and keeps its picture (for Page.to_pdf).
        reread=False: without the accurate tier's second reading. fields: see `read`."""
        t_start = time.perf_counter()
        decoded = decode_image(image, max_pixels=self.max_pixels, luma_jpeg=self.luma_jpeg)
        im = decoded.image
        timings = {"decode": time.perf_counter() - t_start}
        page = yield from self.page_steps(im, timings, t_start, notes=decoded.notes, reread=reread, fields=fields)
        from .docread import page_source_of_image

        page.source = page_source_of_image(image, im)
        return page

    def page_steps(
        self,
        im,
        timings: dict | None = None,
        t_start: float | None = None,
        notes: list | None = None,
        *,
        reread: bool = True,
        fields: str | None = None,
    ):
        """Generator stage: a decoded "L"/"RGB" PIL image (decode_image's) -> Page; `notes`: what
        was done to it on the way (the page's notes; the junk floor adds its own); fields: see `read`."""
        if fields is not None:
            from .fields import check_kind

            check_kind(fields)
        timings = {} if timings is None else timings
        t_start = time.perf_counter() if t_start is None else t_start
        notes = [] if notes is None else notes
        kw: dict[str, Any] = dict(
            min_confidence=self.min_confidence,
            flip_check=self.flip_check,
            detect_options=self.detect_options,
            accurate=self.accurate if reread else None,
            reread_below=self.reread_below,
            notes=notes,
            reread_for=fields if reread else None,
        )
        rotation, deskew = 0, 0.0
        if blank_page(im):
            notes.append(Note("blank", "The page is blank (no ink on it); there is nothing to read."))
            blocks = []
        elif self.orientation:
            blocks, rotation, deskew = yield from oriented_steps(im, self.detector, self.recognizer, timings, **kw)
        else:
            blocks = yield from upright_steps(im, self.detector, self.recognizer, timings, **kw)
        timings["total"] = time.perf_counter() - t_start
        return Page(
            width=im.size[0],
            height=im.size[1],
            blocks=blocks,
            timings=timings,
            backend=getattr(self.backend, "name", ""),
            backend_detail=getattr(self.backend, "detail", ""),
            notes=notes,
            rotation=rotation,
            deskew=round(float(deskew), 2),
        )

    def warm_up_steps(self):
        """Generator stage: one read of a small generated page (`warm_up_image`), its Page
        discarded. The first read of a process or worker pays for code run for the first time (Python
        functions and lazy imports, Pillow's JPEG decoder, onnxruntime-web's wasm kernels before they
        reach their optimised tier, the models' first shapes): the browser worker does this just after
        it says it is ready, while nothing is asked of it, so that the first image the user drops
        reads about as fast as later ones."""
        # without the accurate tier's re-reads: its first runs cost the warm-up 0.6 s in Chromium and
        # the first real read no more than later ones (its sessions' own warm-up runs at start suffice)
        page = yield from self.read_steps(warm_up_image(), reread=False)
        # the key-field rules too (the app asks for them with every read): their import and first run
        # cost the first real read ~60 ms on CPython, several times that in Pyodide
        t0 = time.perf_counter()
        page.fields("auto")
        page.timings["fields"] = time.perf_counter() - t0
        return page

    def read(self, image, *, fields: str | None = None) -> Page:
        """OCR one image (path | bytes | file | PIL.Image | numpy array) -> Page.

        fields: "receipt" | "mrz" | "auto", the key fields the caller will take from the page
        (`page.fields(kind)`): the lines they come from (a receipt's company, address and total
        lines) are read by the accurate tier too, whatever the fast tier's confidence
        (`fields.reread_lines`).

        Raises only LocalOCRError: a bad input with its code, anything unexpected
        as code "internal" (the original exception chained as its cause)."""
        with internal_errors():
            return run_sync(self.read_steps(image, fields=fields))

    async def read_async(self, image, *, fields: str | None = None) -> Page:
        """`read` for runtimes whose sessions are asynchronous (Pyodide + onnxruntime-web)."""
        with internal_errors():
            return await run_async(self.read_steps(image, fields=fields))

    # -- documents (localocr.document): PDFs, multi-page TIFFs, animated GIF/WebP, images

    def read_document(
        self,
        source,
        pages=None,
        *,
        keep_text: bool = False,
        name: str = "",
        password: str | None = None,
        on_page=None,
        fields: str | None = None,
    ):
        """Every page of a PDF (rendered by pypdfium2), multi-page TIFF or animated GIF/WebP
        (every frame a page), or the one page of an image -> Document.

        source: path | bytes | binary file. pages: "1-3,7", [1, 2] or None (all; at most
        document.MAX_PAGES). keep_text: a PDF page with a text layer gives that text instead of
        OCR. on_page(page, i, n): called after each page is read. fields: see `read`.
        """
        from .docread import read_document_steps

        opts = dict(keep_text=keep_text, name=name, password=password, on_page=on_page, fields=fields)
        return run_sync(read_document_steps(self, source, pages, **opts))

    async def read_document_async(
        self,
        source,
        pages=None,
        *,
        keep_text: bool = False,
        name: str = "",
        password: str | None = None,
        on_page=None,
        fields: str | None = None,
    ):
        from .docread import read_document_steps

        opts = dict(keep_text=keep_text, name=name, password=password, on_page=on_page, fields=fields)
        return await run_async(read_document_steps(self, source, pages, **opts))

    def read_pdf(self, source, pages=None, **options):
        """`read_document` for a PDF only: anything else is refused (code "not_a_pdf")."""
        from .document import is_pdf
        from .image import source_bytes

        data = source_bytes(source)
        if not is_pdf(data):
            raise LocalOCRError("This is not a PDF (it does not start with %PDF-).", "not_a_pdf")
        options.setdefault("name", source if isinstance(source, str) else "")
        return self.read_document(data, pages, **options)

    # -- single lines

    def recognize_line_steps(self, image):
        """Generator stage: the whole image is one line or word -> (text, confidence)."""
        im = to_grey(load_image(image, max_pixels=self.max_pixels, luma_jpeg=self.luma_jpeg))
        w, h = im.size
        quad = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        reads = yield from recognize_steps(
            im, [quad], self.recognizer, None, flip_check=False, accurate=self.accurate, reread_below=self.reread_below
        )
        rd = reads[0]
        return rd.text, float(rd.confidence)

    def recognize_line(self, image) -> tuple[str, float]:
        """Recognition only: read the whole image as one line -> (text, confidence)."""
        with internal_errors():
            return run_sync(self.recognize_line_steps(image))

    async def recognize_line_async(self, image) -> tuple[str, float]:
        with internal_errors():
            return await run_async(self.recognize_line_steps(image))

    def detect(self, image) -> list:
        """Detection only: [(quad, score)] in image pixels."""
        with internal_errors():
            im = load_image(image, max_pixels=self.max_pixels, luma_jpeg=self.luma_jpeg)
            return run_sync(detect_steps(im, self.detector, None, **self.detect_options))
