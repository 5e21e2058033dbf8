"""localocr: OCR that runs on the user's device (CPython and Pyodide)."""

from .errors import LocalOCRError

__version__ = "0.1.0"
__all__ = ["LocalOCRError", "__version__"]
