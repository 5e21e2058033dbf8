"""Training, export and quantization of the localocr models (torch lives only here)."""
