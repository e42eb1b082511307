r"""Saving and loading a :class:`~heavyball.SweepResult`: one portable file, written atomically.

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

Reading
-------
:func:`load` opens the zip without decompressing anything, reads the
metadata member (at most 4 MiB), then checks every member's ``.npy`` header
(dtype, shape, no pickles) and its declared uncompressed size in the zip
directory against the metadata's ``arrays``, and their total against
:func:`max_load_bytes` (half the physical memory). Only then are the arrays
read (zipfile never inflates a member beyond its declared size). The scalar
metadata fields are checked too (``n_steps`` an integer >= 1, ``tol`` finite
and > 0, ...). Anything wrong is a ``ValueError`` naming the member or field.

Atomic writes
-------------
:func:`atomic_write` writes to a temporary file in the target's directory
(``.<name>.<random>.tmp``, created with mode ``0o666`` so that the process
umask applies, without ever changing the umask), flushes and ``fsync``\ s it, and renames it over
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
import secrets
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
#: (a flipped bit in a zip header can name a compression method zipfile lacks: NotImplementedError).
_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, NotImplementedError)
#: Largest metadata member accepted (the JSON holds no arrays).
META_MAX_BYTES = 1 << 22


class _Corrupt(Exception):
    """A file that is an archive of ours but does not hold a consistent result."""


class _Invalid(Exception):
    """A metadata field out of its range (a tampered file)."""


class _BadFile(Exception):
    """A file refused before its arrays are read; the message completes "<path> ..."."""


def save(result, path):
    """Write ``result`` to ``path`` (exactly: no suffix added) atomically."""
    path = os.fspath(path)
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"`path` must name a file, got {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"`path` {path!r} is a directory; name a file inside it")
    arrays, meta = _encode(result)
    arrays[META] = np.array(json.dumps(meta, allow_nan=False))
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load(cls, path):
    """Read a file written by :func:`save`; ``ValueError`` for anything else.

    Every member's ``.npy`` header and its declared size in the zip directory
    are checked against the metadata, and their total against
    :func:`max_load_bytes`, before any array is decompressed.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:  # FileNotFoundError, IsADirectoryError, PermissionError pass through
        magic = f.read(6)
    if magic == b"\x93NUMPY":
        raise ValueError(f"{path!r} is a single NumPy array, not a heavyball sweep file")
    try:
        zf = zipfile.ZipFile(path)
    except _READ_ERRORS as exc:
        raise ValueError(f"{path!r} is not a readable heavyball sweep file ({type(exc).__name__}: {exc})") from None
    try:
        with zf:
            members, meta = _read_members(path, zf)
    except _BadFile as exc:
        raise ValueError(f"{path!r} {exc}") from None
    except RecursionError:
        raise ValueError(f"{path!r} is not a valid heavyball sweep file: its metadata is nested too deeply") from None
    except _READ_ERRORS as exc:
        raise ValueError(f"{path!r} is a damaged archive ({type(exc).__name__}: {exc})") from None
    try:
        fields = _decode(meta, members)
    except RecursionError:
        raise ValueError(f"{path!r} is not a valid heavyball sweep file: its metadata is nested too deeply") from None
    except _Corrupt as exc:
        raise ValueError(f"{path!r} is a damaged heavyball sweep file: {exc}") from None
    except _Invalid as exc:
        raise ValueError(f"{path!r} is not a valid heavyball sweep file: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"{path!r} is a damaged heavyball sweep file: {type(exc).__name__}: {exc}") from None
    return cls(**fields)


def max_load_bytes():
    """Largest total array size :func:`load` accepts: half the physical memory (8 GiB if unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (AttributeError, ValueError, OSError):
        return 8 << 30


def _read_members(path, zf):
    """Check the archive's members against the metadata and the size cap, then read them."""
    infos = {}
    for info in zf.infolist():
        if not info.filename.endswith(".npy"):
            raise _BadFile(f"is not a heavyball sweep file (member {info.filename!r} is not a .npy array)")
        infos[info.filename[:-4]] = info
    if META not in infos:
        raise _BadFile(f"is a NumPy archive but not a heavyball sweep file (no {META!r} metadata)")
    _member_header(zf, infos[META], "<U0", [], META_MAX_BYTES)
    meta = _read_meta(path, _read_array(zf, infos[META]))
    listed = meta.get("arrays")
    if not isinstance(listed, dict) or set(listed) != set(infos) - {META}:
        found = sorted(set(infos) - {META})
        raise _BadFile(f"is a damaged heavyball sweep file: members {found} differ from those listed "
                       f"{sorted(listed) if isinstance(listed, dict) else listed!r}")
    cap, total = max_load_bytes(), 0
    for name in sorted(listed):
        record = listed[name]
        if not (isinstance(record, dict) and isinstance(record.get("dtype"), str)
                and isinstance(record.get("shape"), list)):
            raise _BadFile(f"is not a valid heavyball sweep file: bad listing {record!r} of member {name!r}")
        total += _member_header(zf, infos[name], record["dtype"], record["shape"], cap - total)
    return {name: _read_array(zf, infos[name]) for name in infos}, meta


def _member_header(zf, info, dtype, shape, budget):
    """Check one member's ``.npy`` header and declared size; its size in bytes. Reads no array data."""
    name = info.filename[:-4]
    if info.file_size > budget and name == META:
        raise _BadFile(f"is not a valid heavyball sweep file: member {name!r} declares {info.file_size} bytes, "
                       f"more than the {budget} allowed")
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shp, fortran, dt = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shp, fortran, dt = np.lib.format.read_array_header_2_0(f)
        else:
            raise _BadFile(f"is not a valid heavyball sweep file: member {name!r} has .npy version {version}")
        offset = f.tell()
    if dt.hasobject:
        raise _BadFile(f"is not a valid heavyball sweep file: member {name!r} holds Python objects (a pickle)")
    if name != META and (dt.str != dtype or list(shp) != shape):
        raise _BadFile(f"is a damaged heavyball sweep file: member {name!r} is {dt.str} {list(shp)}, "
                       f"listed as {dtype} {shape}")
    if name == META and (dt.kind != "U" or shp != ()):
        raise _BadFile(f"is a damaged heavyball sweep file: {META!r} is not a string")
    size = math.prod(shp) * dt.itemsize
    if size > budget:
        raise _BadFile(f"is not a valid heavyball sweep file: member {name!r} declares shape {tuple(shp)} "
                       f"({size} bytes), beyond the {budget} bytes this machine allows for the whole file "
                       "(half its memory)")
    if offset + size != info.file_size:
        raise _BadFile(f"is not a valid heavyball sweep file: member {name!r} declares shape {tuple(shp)} of "
                       f"{dt.str} ({offset + size} bytes with its header) but its zip entry holds "
                       f"{info.file_size} bytes")
    return size


def _read_array(zf, info):
    with zf.open(info) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def atomic_write(path, write):
    """Call ``write(f)`` on a temporary file next to ``path``, sync it, then rename it to ``path``.

    The temporary file is created with mode ``0o666`` and the process umask
    applies to it, as for ``open(path, "wb")``; the umask itself is never
    changed (that would race with other threads creating files).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = _create_temporary(directory, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_directory(directory)


def _create_temporary(directory, name):
    """``(fd, path)`` of a new file ``.<name>.<random>.tmp`` in ``directory``, opened with mode 0o666 & ~umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file in {directory!r}")


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
    from .._version import __version__

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
    try:
        meta = json.loads(str(raw[()]))
    except ValueError as exc:
        raise _BadFile(f"is a damaged heavyball sweep file: bad metadata JSON ({exc})") from None
    found = meta.get("format") if isinstance(meta, dict) else None
    if found != FORMAT:
        raise _BadFile(f"is not a heavyball sweep file (format {found!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _BadFile(f"is a damaged heavyball sweep file: format version {version!r}")
    if version > FORMAT_VERSION:
        from .._version import __version__

        raise _BadFile(f"was written by heavyball {meta.get('heavyball_version')} in format version "
                       f"{version}; this heavyball ({__version__}) reads versions up to {FORMAT_VERSION}: "
                       "upgrade heavyball to read it")
    return meta


def _decode(meta, members):
    listed = meta["arrays"]
    for name, record in listed.items():
        arr = members[name]
        if arr.dtype.str != record["dtype"] or list(arr.shape) != record["shape"]:
            raise _Corrupt(f"member {name!r} is {arr.dtype.str} {list(arr.shape)}, "
                           f"listed as {record['dtype']} {record['shape']}")
    for name, code in _DTYPES.items():
        if name in members and (members[name].dtype.kind + str(members[name].dtype.itemsize)) != code:
            raise _Corrupt(f"member {name!r} has dtype {members[name].dtype}")
    grid_names = _field(meta, "grid", lambda g: isinstance(g, list) and all(isinstance(n, str) for n in g)
                        and len(set(g)) == len(g), "a list of distinct axis names")
    grid = {name: members[f"grid_{i}"] for i, name in enumerate(grid_names)}
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
    fields.update(_scalar_fields(meta, members), grid=grid, starts=starts)
    return fields


def _scalar_fields(meta, members):
    """The metadata's scalar fields, each checked (a tampered file is refused, naming the field)."""
    from .._methods import SGD_METHODS as METHODS

    def number(value):
        value = _from_json(value, members)
        return isinstance(value, float) and math.isfinite(value) and value > 0

    return dict(
        method=_field(meta, "method", lambda v: v in METHODS, f"one of {', '.join(METHODS)}"),
        n_steps=_field(meta, "n_steps", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
                       "an integer >= 1"),
        tol=_from_json(_field(meta, "tol", number, "a finite float > 0"), members),
        problem_name=_field(meta, "problem_name", lambda v: isinstance(v, str), "a string"),
        problem_params=_from_json(_field(meta, "problem_params", lambda v: isinstance(v, dict), "an object"),
                                  members),
        distance=_field(meta, "distance", lambda v: v in ("x - x*", "grad"), "'x - x*' or 'grad'"),
        divergence_bound=_from_json(_field(meta, "divergence_bound", number, "a finite float > 0"), members),
        backend=_field(meta, "backend", lambda v: isinstance(v, str), "a string"),
    )


def _field(meta, name, ok, what):
    if name not in meta:
        raise _Invalid(f"the metadata has no field {name!r}")
    value = meta[name]
    if not ok(value):
        raise _Invalid(f"metadata field {name!r} must be {what}, got {value!r}")
    return value
