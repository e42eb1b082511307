"""Warning categories of heavyball (imported by ``heavyball/__init__.py``; no heavy imports)."""

from __future__ import annotations

__all__ = ["CacheWarning"]


class CacheWarning(UserWarning):
    """Numba found no writable cache directory: kernels are compiled in every process.

    Notes
    -----
    Issued at most once, when :mod:`heavyball.kernels` is first imported
    (directly or by the first compiled run) and Numba can write neither to
    ``NUMBA_CACHE_DIR``, nor to the ``__pycache__`` beside the module, nor to
    its user-wide cache directory. The kernels then still work, compiled
    without the on-disk cache, which costs seconds in each new process. Set
    the environment variable ``NUMBA_CACHE_DIR`` to a writable directory to
    keep the compiled kernels between runs. A subclass of :class:`UserWarning`,
    so the ``warnings`` filters select it by category.

    Examples
    --------
    >>> import warnings, heavyball as hb
    >>> issubclass(hb.CacheWarning, UserWarning)
    True
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", hb.CacheWarning)  # e.g. on a read-only install
    ...     warnings.warn(hb.CacheWarning("no cache"))
    """
