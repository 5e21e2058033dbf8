"""The one error type localocr raises for anything a user can cause, and its codes.

Codes are stable: front ends (the CLI's JSON, the worker, the app) branch on them.

| code | meaning |
| --- | --- |
| `empty` | the file or image has no bytes or no pixels |
| `not_found` | no such file |
| `not_an_image` | not an image at all, or in a format not read here (text, SVG, a folder, ...) |
| `pdf`, `heic` | a PDF document, a HEIC/HEIF/AVIF image: recognised, not decoded here |
| `truncated` | an image file cut short |
| `bad_image` | an image file whose header or data is damaged, or that uses a variant not supported |
| `too_large` | more pixels than `image.MAX_INPUT_PIXELS`, or a decompression bomb |
| `no_model`, `bad_model` | the models are missing or do not meet their contract |
| `aborted` | the browser's read() whose AbortSignal was aborted (the worker stops between stages) |
| `internal` | anything else: a bug in localocr; the message is generic, the cause is chained |
"""

from contextlib import contextmanager


class LocalOCRError(Exception):
    """A problem with the input or a model, with a message meant for a person.

    `code` is a short stable identifier (e.g. "not_an_image", "too_large",
    "bad_model"; the table above) that front ends can branch on; `str(err)`
    is the message, one line.
    """

    def __init__(self, message: str, code: str = "error"):
        super().__init__(message)
        self.code = code


def internal_error(exc: BaseException) -> LocalOCRError:
    """The generic error for an exception nobody expected (raise it `from exc`: the cause stays chained)."""
    detail = " ".join(str(exc).split())[:120]
    return LocalOCRError(
        f"Something went wrong inside localocr ({type(exc).__name__}"
        f"{': ' + detail if detail else ''}); this is a bug, not a problem with your image.",
        "internal",
    )


@contextmanager
def internal_errors():
    """Let LocalOCRError through; turn any other exception into the generic "internal" one (chained)."""
    try:
        yield
    except LocalOCRError:
        raise
    except Exception as e:
        raise internal_error(e) from e
