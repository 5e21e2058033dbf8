"""Set-up and measurement tools for localocr (not part of the installed package)."""
