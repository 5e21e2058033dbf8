"""Inference backends behind one small protocol (see base.py)."""

from .base import Backend, Session

__all__ = ["Backend", "Session"]
