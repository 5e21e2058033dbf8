"""The package's version, in one place (pyproject.toml, the wheel the browser loads, the outputs' producer fields read it)."""

__version__ = "0.1.0"
