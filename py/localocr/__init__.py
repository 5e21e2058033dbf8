"""localocr: OCR that runs on the user's device (CPython and Pyodide)."""

from .errors import LocalOCRError
from .pipeline import OCR
from .result import Block, Line, Page, Word
from .version import __version__

__all__ = ["OCR", "Page", "Block", "Line", "Word", "LocalOCRError", "__version__"]
