"""localocr: OCR that runs on the user's device (CPython and Pyodide)."""

__version__ = "0.1.0"

from .errors import LocalOCRError  # noqa: E402
from .pipeline import OCR  # noqa: E402
from .result import Block, Line, Page, Word  # noqa: E402

__all__ = ["OCR", "Page", "Block", "Line", "Word", "LocalOCRError", "__version__"]
