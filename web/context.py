"""Kept for callers of ``web.context.utcnow``; the process's services are built by
:mod:`web.bootstrap` (the composition root) and the clock lives in :mod:`web.clock`."""

from __future__ import annotations

from web.clock import utcnow

__all__ = ["utcnow"]
