"""Synthetic training data (Pillow): text lines for the recognizer."""
