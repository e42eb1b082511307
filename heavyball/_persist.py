r"""Saving and loading a :class:`~heavyball.sweep.SweepResult`: one portable file, written atomically.

File format (version 1)
-----------------------
A NumPy ``.npz`` archive (a zip of ``.npy`` files) holding no pickled
object, so ``numpy.load(path, allow_pickle=False)`` reads it, and so can any
language with a zip and a ``.npy`` reader. Members:

- ``final_loss`` (float64), ``steps_to_tol`` (int64), ``rate`` (float64),
  ``diverged`` (bool): the result arrays, shape ``(*grid, M, L)``;
- ``lrs``, ``momenta``, ``x0`` (float64) and, with a seed axis, ``starts``;
- ``grid_0``, ``grid_1``, ...: the coordinates of the extra axes, in order;
- ``param_0``, ...: problem parameters that are arrays (a quadratic's
  eigenvalues or ``H``);
- ``__heavyball__``: a 0-d unicode array, the metadata as JSON: ``format``
  (``"heavyball.SweepResult"``), ``format_version``, ``heavyball_version``,
  ``method``, ``n_steps``, ``tol``, ``problem_name``, ``problem_params``,
  ``distance``, ``divergence_bound``, ``backend``, ``grid`` (the axis names)
  and ``arrays`` (dtype and shape of every member, checked on load).

Floats in the JSON are written with Python's shortest round-trip ``repr``,
so they read back exactly; a non-finite float is written
``{"__float__": "inf"}`` (strict JSON has no infinity) and an array-valued
problem parameter ``{"__array__": "param_0"}``.

Atomic writes
-------------
:func:`atomic_write` writes to a temporary file in the target's directory
(``.<name>.<random>.tmp``), flushes and ``fsync``\ s it, and renames it over
the target with ``os.replace`` (atomic on POSIX and Windows), then syncs the
directory. A crash, ``SIGKILL`` or Ctrl-C at any moment leaves the target
either absent, or as it was, or complete; after ``SIGKILL`` the temporary file
may remain (it never has the target's name); after an exception or Ctrl-C
it is removed.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import zipfile
import zlib

import numpy as np

FORMAT = "heavyball.SweepResult"
FORMAT_VERSION = 1
META = "__heavyball__"
#: dtype kind and item size of each fixed member.
_DTYPES = {"final_loss": "f8", "steps_to_tol": "i8", "rate": "f8", "diverged": "b1", "lrs": "f8",
           "momenta": "f8", "x0": "f8", "starts": "f8"}
#: Errors NumPy and zipfile raise for a file that is not a sound archive.
_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)


class _Corrupt(Exception):
    """A file that is an archive of ours but does not hold a consistent result."""


def save(result, path):
    """Write ``result`` to ``path`` (exactly: no suffix added) atomically."""
    arrays, meta = _encode(result)
    arrays[META] = np.array(json.dumps(meta, allow_nan=False))
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load(cls, path):
    """Read a file written by :func:`save`; ``ValueError`` for anything else."""
    path = os.fspath(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except _READ_ERRORS as exc:
        raise ValueError(f"{path!r} is not a readable heavyball sweep file ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{path!r} is a single NumPy array, not a heavyball sweep file")
    with data:
        try:
            members = {name: data[name] for name in data.files}
        except _READ_ERRORS as exc:
            raise ValueError(f"{path!r} is a damaged archive ({type(exc).__name__}: {exc})") from None
    if META not in members:
        raise ValueError(f"{path!r} is a NumPy archive but not a heavyball sweep file (no {META!r} metadata)")
    meta = _read_meta(path, members[META])
    try:
        fields = _decode(meta, members)
    except (_Corrupt, KeyError, TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"{path!r} is a damaged heavyball sweep file: {exc}") from None
    return cls(**fields)


def atomic_write(path, write):
    """Call ``write(f)`` on a temporary file next to ``path``, sync it, then rename it to ``path``."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _new_file_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_directory(directory)


def _new_file_mode():
    """The mode ``open()`` would give a new file (mkstemp creates it private)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _sync_directory(directory):
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------- encoding
def _encode(result):
    from . import __version__

    arrays = {name: np.asarray(getattr(result, name)) for name in result.ARRAYS}
    arrays.update(lrs=np.asarray(result.lrs), momenta=np.asarray(result.momenta), x0=np.asarray(result.x0))
    if result.starts is not None:
        arrays["starts"] = np.asarray(result.starts)
    for i, coords in enumerate(result.grid.values()):
        arrays[f"grid_{i}"] = np.asarray(coords)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "heavyball_version": __version__,
        "method": result.method,
        "n_steps": result.n_steps,
        "tol": result.tol,
        "x0": [float(v) for v in np.asarray(result.x0)],  # also the member "x0" (authoritative, checked equal)
        "problem_name": result.problem_name,
        "problem_params": result.problem_params,
        "distance": result.distance,
        "divergence_bound": result.divergence_bound,
        "backend": result.backend,
        "grid": list(result.grid),
    }
    meta = _to_json(meta, arrays, "metadata")
    for name, arr in arrays.items():
        if arr.dtype.hasobject:
            raise ValueError(f"cannot save {name!r}: dtype {arr.dtype} would need a pickle")
    meta["arrays"] = {name: {"dtype": arr.dtype.str, "shape": list(arr.shape)} for name, arr in arrays.items()}
    return arrays, meta


def _to_json(value, arrays, where):
    """``value`` as plain JSON types; arrays become members of ``arrays``."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"cannot save {where}: key {key!r} is not a string")
            out[key] = _to_json(item, arrays, f"{where}[{key!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [_to_json(item, arrays, where) for item in value]
    if isinstance(value, np.ndarray):
        name = f"param_{sum(k.startswith('param_') for k in arrays)}"
        arrays[name] = value
        return {"__array__": name}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    raise ValueError(f"cannot save {where}: a {type(value).__name__} has no portable form")


def _from_json(value, members):
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return members[value["__array__"]]
        if set(value) == {"__float__"}:
            return float(value["__float__"])
        return {key: _from_json(item, members) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_json(item, members) for item in value]
    return value


# ---------------------------------------------------------------- decoding
def _read_meta(path, raw):
    if raw.ndim != 0 or raw.dtype.kind != "U":
        raise ValueError(f"{path!r} is a damaged heavyball sweep file: {META!r} is not a string")
    try:
        meta = json.loads(str(raw[()]))
    except ValueError as exc:
        raise ValueError(f"{path!r} is a damaged heavyball sweep file: bad metadata JSON ({exc})") from None
    found = meta.get("format") if isinstance(meta, dict) else None
    if found != FORMAT:
        raise ValueError(f"{path!r} is not a heavyball sweep file (format {found!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{path!r} is a damaged heavyball sweep file: format version {version!r}")
    if version > FORMAT_VERSION:
        from . import __version__

        raise ValueError(f"{path!r} was written by heavyball {meta.get('heavyball_version')} in format version "
                         f"{version}; this heavyball ({__version__}) reads versions up to {FORMAT_VERSION}: "
                         "upgrade heavyball to read it")
    return meta


def _decode(meta, members):
    listed = meta["arrays"]
    if set(listed) != set(members) - {META}:
        raise _Corrupt(f"members {sorted(set(members) - {META})} differ from those listed {sorted(listed)}")
    for name, record in listed.items():
        arr = members[name]
        if arr.dtype.str != record["dtype"] or list(arr.shape) != record["shape"]:
            raise _Corrupt(f"member {name!r} is {arr.dtype.str} {list(arr.shape)}, "
                           f"listed as {record['dtype']} {record['shape']}")
    for name, code in _DTYPES.items():
        if name in members and (members[name].dtype.kind + str(members[name].dtype.itemsize)) != code:
            raise _Corrupt(f"member {name!r} has dtype {members[name].dtype}")
    grid = {str(name): members[f"grid_{i}"] for i, name in enumerate(meta["grid"])}
    shape = tuple(len(c) for c in grid.values()) + (len(members["momenta"]), len(members["lrs"]))
    for name in ("final_loss", "steps_to_tol", "rate", "diverged"):
        if members[name].shape != shape:
            raise _Corrupt(f"{name!r} has shape {members[name].shape}, the grid needs {shape}")
    x0 = [_from_json(v, members) for v in meta["x0"]]
    if not np.array_equal(np.asarray(x0, dtype=np.float64), members["x0"]):
        raise _Corrupt(f"'x0' {members['x0'].tolist()} differs from the metadata's {x0}")
    starts = members.get("starts")
    if starts is not None and starts.shape != shape[:-2] + members["x0"].shape:
        raise _Corrupt(f"'starts' has shape {starts.shape}")
    fields = {name: members[name] for name in ("final_loss", "steps_to_tol", "rate", "diverged", "lrs",
                                               "momenta", "x0")}
    fields.update(
        method=str(meta["method"]), n_steps=int(meta["n_steps"]), tol=float(_from_json(meta["tol"], members)),
        problem_name=str(meta["problem_name"]), problem_params=_from_json(meta["problem_params"], members),
        distance=str(meta["distance"]), divergence_bound=float(_from_json(meta["divergence_bound"], members)),
        backend=str(meta["backend"]), grid=grid, starts=starts,
    )
    return fields
