"""Warning categories of heavyball (imported by ``heavyball/__init__.py``; no heavy imports)."""

from __future__ import annotations

__all__ = ["CacheWarning"]


class CacheWarning(UserWarning):
    """Numba found no writable cache directory: kernels are compiled in every process.

    Raised once, when :mod:`heavyball.kernels` is first imported. Set the
    environment variable ``NUMBA_CACHE_DIR`` to a writable directory to keep
    the compiled kernels between runs.
    """
