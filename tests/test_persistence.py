"""``SweepResult.save`` / ``SweepResult.load``: exact round trips, clear errors, atomic writes.

The atomicity tests run a save (or a sweep) in a child process and interrupt
it at a known moment: the child replaces NumPy's ``.npy`` writer with one that
writes the first member, announces itself and waits, so the parent kills it
while the archive is half written.
"""

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

import heavyball as hb
from heavyball.sweeps import _persist

ROOT = Path(__file__).resolve().parents[1]
ARRAYS = ("final_loss", "steps_to_tol", "rate", "diverged", "lrs", "momenta", "x0")


def assert_round_trip(res, back):
    for name in ARRAYS:
        a, b = getattr(res, name), getattr(back, name)
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), name
    assert (res.starts is None) == (back.starts is None)
    if res.starts is not None:
        assert res.starts.dtype == back.starts.dtype and np.array_equal(res.starts, back.starts)
    assert list(res.grid) == list(back.grid)
    for name in res.grid:
        assert res.grid[name].dtype == back.grid[name].dtype and np.array_equal(res.grid[name], back.grid[name])
    for key in ("method", "n_steps", "tol", "problem_name", "distance", "divergence_bound", "backend"):
        assert getattr(res, key) == getattr(back, key) and type(getattr(res, key)) is type(getattr(back, key)), key
    assert res.problem_params.keys() == back.problem_params.keys()
    for key, value in res.problem_params.items():
        if isinstance(value, np.ndarray):
            assert value.dtype == back.problem_params[key].dtype and np.array_equal(value, back.problem_params[key])
        else:
            assert value == back.problem_params[key] and type(value) is type(back.problem_params[key])


@pytest.fixture(scope="module")
def plain():
    # divergence (inf), exact convergence (rate 0), unreached tolerance (-1), at a tol that is not a short decimal
    return hb.sweep(hb.Quadratic.diagonal([1.0, 30.0]), np.linspace(0.001, 0.1, 13), [0.0, 0.3, 0.9],
                    x0=[1.0, 0.5], n_steps=400, tol=1.0 / 3.0 * 1e-7)


def test_a_plain_result_round_trips_exactly(plain, tmp_path):
    assert np.isinf(plain.rate).any() and (plain.steps_to_tol == -1).any() and (~plain.diverged).any()
    path = tmp_path / "result.hbsweep"
    plain.save(path)
    assert sorted(os.listdir(tmp_path)) == ["result.hbsweep"]  # exactly at `path`, nothing left beside it
    back = hb.SweepResult.load(path)
    assert_round_trip(plain, back)
    np.testing.assert_array_equal(back.problem_params["eigenvalues"], [1.0, 30.0])
    back.save(str(tmp_path / "again"))  # str paths too, and a loaded result saves to the same content
    assert_round_trip(plain, hb.SweepResult.load(tmp_path / "again"))


def test_a_labelled_result_round_trips_with_its_axes_and_starts(tmp_path):
    res = hb.sweep("quadratic", np.linspace(0.01, 0.2, 5), [0.0, 0.9], x0=[1.0, 1.0], n_steps=100,
                   params={"dim": 2, "mu": 0.5}, grid={"kappa": [10.0, 1e3], "x0_seed": [4, 2, 9]}, method="nesterov")
    res.save(tmp_path / "grid")
    back = hb.SweepResult.load(tmp_path / "grid")
    assert_round_trip(res, back)
    assert back.axes == ("kappa", "x0_seed", "momentum", "lr") and back.grid["x0_seed"].dtype == np.int64
    assert back.problem_params == {"dim": 2, "mu": 0.5}
    assert_round_trip(res.sel(kappa=1e3, x0_seed=2), back.sel(kappa=1e3, x0_seed=2))


def test_the_file_is_a_plain_npz_with_strict_json_metadata(plain, tmp_path):
    odd = dataclasses.replace(plain, problem_params={"inf": float("inf"), "flag": True, "name": "x", "none": None,
                                                     "seq": [1, 2.5], "nested": {"a": np.float64(-0.0)}})
    odd.save(tmp_path / "r")
    with np.load(tmp_path / "r", allow_pickle=False) as data:  # no pickles anywhere
        members = set(data.files)
        meta = json.loads(str(data["__heavyball__"]), parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))
        assert data["steps_to_tol"].dtype == np.int64 and data["diverged"].dtype == np.bool_
    assert {"final_loss", "steps_to_tol", "rate", "diverged", "lrs", "momenta", "x0"} <= members
    assert meta["format"] == "heavyball.SweepResult" and meta["format_version"] == 1
    assert meta["heavyball_version"] == hb.__version__ and meta["problem_name"] == "quadratic"
    assert meta["tol"] == plain.tol and meta["n_steps"] == 400 and meta["method"] == "heavy_ball"
    assert meta["x0"] == [1.0, 0.5] and meta["grid"] == []
    back = hb.SweepResult.load(tmp_path / "r")
    assert back.problem_params["inf"] == float("inf") and back.problem_params["seq"] == [1, 2.5]
    assert back.problem_params["nested"]["a"] == 0.0 and str(back.problem_params["nested"]["a"]) == "-0.0"
    assert (back.problem_params["flag"], back.problem_params["name"], back.problem_params["none"]) == (True, "x", None)


def test_saving_replaces_an_existing_file(plain, tmp_path):
    path = tmp_path / "r"
    path.write_bytes(b"old contents")
    plain.save(path)
    assert_round_trip(plain, hb.SweepResult.load(path))
    assert sorted(os.listdir(tmp_path)) == ["r"]


def _valid_bytes(res, tmp_path):
    res.save(tmp_path / "valid")
    return (tmp_path / "valid").read_bytes()


def test_corrupt_truncated_and_foreign_files_raise_clear_errors(plain, tmp_path):
    raw = _valid_bytes(plain, tmp_path)
    cases = {
        "random": (np.random.default_rng(0).bytes(5000), "is not a readable heavyball sweep file"),
        "empty": (b"", "is not a readable heavyball sweep file"),
        "truncated": (raw[: len(raw) // 2], "is not a readable heavyball sweep file"),
        "truncated_end": (raw[:-10], "is not a readable heavyball sweep file"),
    }
    for name, (data, match) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=match):
            hb.SweepResult.load(tmp_path / name)
    # a flipped byte inside a member's data: the zip checksum catches it on reading
    flipped = bytearray(raw)
    at = raw.index(b"\x93NUMPY") + 200
    flipped[at] ^= 0xFF
    (tmp_path / "flipped").write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="damaged archive"):
        hb.SweepResult.load(tmp_path / "flipped")
    np.savez(tmp_path / "foreign.npz", a=np.arange(3))
    with pytest.raises(ValueError, match="a NumPy archive but not a heavyball sweep file"):
        hb.SweepResult.load(tmp_path / "foreign.npz")
    np.save(tmp_path / "single.npy", np.arange(3))
    with pytest.raises(ValueError, match="a single NumPy array"):
        hb.SweepResult.load(tmp_path / "single.npy")
    with pytest.raises(FileNotFoundError):
        hb.SweepResult.load(tmp_path / "missing")


def _rewrite(src, dst, edit_meta=None, edit_members=None):
    with np.load(src, allow_pickle=False) as data:
        members = {k: data[k] for k in data.files}
    meta = json.loads(str(members["__heavyball__"]))
    if edit_meta:
        edit_meta(meta)
    if edit_members:
        edit_members(members)
    members["__heavyball__"] = np.array(json.dumps(meta))
    with open(dst, "wb") as f:
        np.savez(f, **members)


def test_newer_versions_other_formats_and_inconsistent_members_are_refused(plain, tmp_path):
    src = tmp_path / "src"
    plain.save(src)
    cases = [
        (dict(edit_meta=lambda m: m.update(format_version=2, heavyball_version="9.0")),
         r"written by heavyball 9.0 in format version 2; this heavyball \(.*\) reads versions up to 1: upgrade"),
        (dict(edit_meta=lambda m: m.update(format="something.else")), "is not a heavyball sweep file"),
        (dict(edit_meta=lambda m: m.update(format_version="1")), "format version '1'"),
        (dict(edit_members=lambda d: d.update(rate=d["rate"][:, :-1])), "damaged heavyball sweep file"),
        (dict(edit_members=lambda d: d.update(steps_to_tol=d["steps_to_tol"].astype(np.float64))),
         "damaged heavyball sweep file"),
        (dict(edit_members=lambda d: d.pop("lrs")), "damaged heavyball sweep file"),
        (dict(edit_meta=lambda m: m.pop("method")), "not a valid heavyball sweep file: the metadata has no field 'method'"),
        (dict(edit_meta=lambda m: m.update(x0=[1.0, 0.25])), r"'x0' \[1.0, 0.5\] differs from the metadata's"),
    ]
    for i, (edit, match) in enumerate(cases):
        _rewrite(src, tmp_path / f"case{i}", **edit)
        with pytest.raises(ValueError, match=match):
            hb.SweepResult.load(tmp_path / f"case{i}")
    members = {"__heavyball__": np.array("{not json")}
    with open(tmp_path / "badjson", "wb") as f:
        np.savez(f, **members)
    with pytest.raises(ValueError, match="bad metadata JSON"):
        hb.SweepResult.load(tmp_path / "badjson")


def test_an_unsaveable_parameter_is_refused_before_anything_is_written(plain, tmp_path):
    odd = dataclasses.replace(plain, problem_params={"f": lambda x: x})
    with pytest.raises(ValueError, match=r"cannot save metadata\['problem_params'\]\['f'\]"):
        odd.save(tmp_path / "r")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- interrupted writes
CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    import numpy.lib.format as fmt
    import heavyball as hb

    path, mode = sys.argv[1], sys.argv[2]
    res = hb.sweep(hb.Quadratic.from_condition_number(10.0), np.linspace(1e-3, 0.2, 800),
                   np.linspace(0.0, 0.99, 500), x0=[1.0, 1.0], n_steps=2)   # 400,000 points, 10 MB
    if mode == "sweep":
        print("SWEEPING", flush=True)
        hb.sweep(hb.Quadratic.from_condition_number(10.0), np.linspace(1e-3, 0.2, 2000),
                 np.linspace(0.0, 0.99, 2000), x0=[1.0, 1.0], n_steps=20000, chunk_size=4096)
    else:
        original, calls = fmt.write_array, []

        def stalling(*args, **kwargs):  # writes one member, then stalls in the middle of the archive
            calls.append(1)
            if len(calls) == 2:
                print("WRITING", flush=True)
                time.sleep(120)
            return original(*args, **kwargs)

        fmt.write_array = stalling
    res.save(path)
    print("SAVED", flush=True)
""")


def _interrupt(path, mode, sig):
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), mode], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline().strip()
        assert line in ("WRITING", "SWEEPING"), (line, child.stderr.read() if child.poll() is not None else "")
        if mode == "sweep":
            try:  # the sweep takes minutes: interrupt it while it runs
                child.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
        child.send_signal(sig)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return child


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_a_save_killed_midway_leaves_no_partial_file(tmp_path, sig):
    target = tmp_path / "result"
    child = _interrupt(target, "save", sig)
    assert child.returncode != 0
    assert not target.exists()
    leftovers = os.listdir(tmp_path)
    if sig == signal.SIGINT:  # KeyboardInterrupt: the temporary file is removed
        assert leftovers == []
    else:  # SIGKILL: no cleanup can run; the half file keeps its temporary name and does not load
        assert all(name.startswith(".result.") and name.endswith(".tmp") for name in leftovers)
        for name in leftovers:
            with pytest.raises(ValueError):
                hb.SweepResult.load(tmp_path / name)


@pytest.mark.slow
def test_a_save_killed_midway_keeps_the_previous_file(plain, tmp_path):
    target = tmp_path / "result"
    plain.save(target)
    _interrupt(target, "save", signal.SIGKILL)
    assert_round_trip(plain, hb.SweepResult.load(target))


@pytest.mark.slow
def test_a_sweep_interrupted_before_its_save_writes_nothing(tmp_path):
    target = tmp_path / "result"
    child = _interrupt(target, "sweep", signal.SIGINT)
    assert child.returncode != 0 and "KeyboardInterrupt" in child.stderr.read()
    assert os.listdir(tmp_path) == []


def test_atomic_write_removes_its_temporary_file_on_error(tmp_path):
    def failing(f):
        f.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        _persist.atomic_write(tmp_path / "x", failing)
    assert os.listdir(tmp_path) == []


def test_zip_members_are_checked_on_load(plain, tmp_path):
    # sanity of the corrupt-file test above: the archive is a real zip with one .npy per member
    plain.save(tmp_path / "r")
    with zipfile.ZipFile(tmp_path / "r") as z:
        names = z.namelist()
        assert z.testzip() is None
    assert "__heavyball__.npy" in names and "rate.npy" in names


# ---------------------------------------------------------------- hardening (issue 17, items 4, 5, 7, 8)
def test_save_leaves_the_umask_alone_while_other_threads_create_files(plain, tmp_path, monkeypatch):
    # The old save set the umask to 022 for a moment. Make that moment deterministic: whenever anything
    # changes the umask, another thread creates a file right then and records its mode.
    import threading

    real_umask, modes = os.umask, []

    def umask_with_a_thread(mask):
        previous = real_umask(mask)

        def create():
            p = tmp_path / f"other{len(modes)}"
            with open(p, "w"):
                pass
            modes.append(p.stat().st_mode & 0o777)

        worker = threading.Thread(target=create)
        worker.start()
        worker.join()
        return previous

    old = real_umask(0o077)
    try:
        monkeypatch.setattr(os, "umask", umask_with_a_thread)
        plain.save(tmp_path / "r")
        assert set(modes) <= {0o600}, [oct(m) for m in modes]
        assert (tmp_path / "r").stat().st_mode & 0o777 == 0o600  # the umask applies to the saved file
        real_umask(0o022)
        plain.save(tmp_path / "r2")
        assert (tmp_path / "r2").stat().st_mode & 0o777 == 0o644
    finally:
        real_umask(old)


def _zip_members(path, members, meta, compression=zipfile.ZIP_STORED, raw=None):
    """Write an archive like np.savez, with a chosen compression; ``raw`` maps names to literal .npy bytes."""
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, arr in members.items():
            with z.open(name + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, arr, allow_pickle=False)
        for name, data in (raw or {}).items():
            z.writestr(name + ".npy", data)
        with z.open("__heavyball__.npy", "w") as f:
            np.lib.format.write_array(f, np.array(meta if isinstance(meta, str) else json.dumps(meta)))


def _parts(path):
    with np.load(path, allow_pickle=False) as data:
        members = {k: data[k] for k in data.files}
    return members, json.loads(str(members.pop("__heavyball__")))


def test_a_member_declaring_a_huge_shape_is_refused_before_reading(plain, tmp_path):
    plain.save(tmp_path / "src")
    members, meta = _parts(tmp_path / "src")
    members.pop("rate")
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**10,)}
    buf = __import__("io").BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    raw = {"rate": buf.getvalue() + bytes(800)}
    _zip_members(tmp_path / "unlisted", members, meta, raw=raw)
    with pytest.raises(ValueError, match=r"member 'rate' is <f8 \[10000000000\], listed as <f8 \[3, 13\]"):
        hb.SweepResult.load(tmp_path / "unlisted")
    meta["arrays"]["rate"]["shape"] = [10**10]
    _zip_members(tmp_path / "listed", members, meta, raw=raw)
    with pytest.raises(ValueError, match=r"not a valid heavyball sweep file: member 'rate' declares shape "
                                         r"\(10000000000,\)"):
        hb.SweepResult.load(tmp_path / "listed")


def test_a_zip_bomb_is_refused_by_its_declared_size(plain, tmp_path, monkeypatch):
    import tracemalloc

    n_m, n_l = 400, 500  # 1.6 MB per float member, a few kB compressed
    big = dataclasses.replace(plain, lrs=np.linspace(0, 1, n_l), momenta=np.linspace(0, 0.9, n_m),
                              final_loss=np.zeros((n_m, n_l)), rate=np.zeros((n_m, n_l)),
                              steps_to_tol=np.zeros((n_m, n_l), dtype=np.int64),
                              diverged=np.zeros((n_m, n_l), dtype=bool))
    big.save(tmp_path / "stored")
    members, meta = _parts(tmp_path / "stored")
    _zip_members(tmp_path / "bomb", members, meta, compression=zipfile.ZIP_DEFLATED)
    assert (tmp_path / "bomb").stat().st_size < 100_000
    assert hb.SweepResult.load(tmp_path / "bomb").rate.shape == (n_m, n_l)  # a sound file within the cap loads
    monkeypatch.setattr(_persist, "max_load_bytes", lambda: 2_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"member '\w+' declares shape \(400, 500\) \(\d+ bytes\), beyond "
                                             r"the \d+ bytes"):
            hb.SweepResult.load(tmp_path / "bomb")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 500_000  # nothing was decompressed


def test_nested_metadata_and_flipped_bits_are_value_errors(plain, tmp_path):
    plain.save(tmp_path / "src")
    members, meta = _parts(tmp_path / "src")
    text = json.dumps(meta).replace('"problem_params": {', '"problem_params": {"deep": ' + "[" * 100_000
                                    + "]" * 100_000 + ", ", 1)
    _zip_members(tmp_path / "nested", members, text)
    with pytest.raises(ValueError, match="not a valid heavyball sweep file: its metadata is nested too deeply"):
        hb.SweepResult.load(tmp_path / "nested")
    # a flipped bit in the central directory's compression method: zipfile raises NotImplementedError
    raw = bytearray((tmp_path / "src").read_bytes())
    at = raw.index(b"PK\x01\x02" , raw.index(b"PK\x01\x02") + 1)
    raw[at + 10] = 1  # "shrunk", which zipfile cannot read
    (tmp_path / "flipped").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="NotImplementedError"):
        hb.SweepResult.load(tmp_path / "flipped")


@pytest.mark.parametrize("field, value, match", [
    ("n_steps", 1.7, "'n_steps' must be an integer >= 1, got 1.7"),
    ("n_steps", -5, "'n_steps' must be an integer >= 1, got -5"),
    ("n_steps", True, "'n_steps' must be an integer >= 1, got True"),
    ("tol", {"__float__": "nan"}, r"'tol' must be a finite float > 0, got \{'__float__': 'nan'\}"),
    ("tol", -1.0, "'tol' must be a finite float > 0"),
    ("method", "adam", "'method' must be one of gd, heavy_ball, nesterov, got 'adam'"),
    ("distance", "far", "'distance' must be"),
    ("divergence_bound", 0.0, "'divergence_bound' must be a finite float > 0"),
    ("grid", ["a", "a"], "'grid' must be a list of distinct axis names"),
    ("problem_params", [1], "'problem_params' must be an object"),
])
def test_tampered_metadata_is_refused_naming_the_field(plain, tmp_path, field, value, match):
    plain.save(tmp_path / "src")
    _rewrite(tmp_path / "src", tmp_path / "bad", edit_meta=lambda m: m.update({field: value}))
    with pytest.raises(ValueError, match="not a valid heavyball sweep file: metadata field " + match):
        hb.SweepResult.load(tmp_path / "bad")


def test_save_to_an_empty_path_or_a_directory_is_refused(plain, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(ValueError, match="`path` must name a file, got ''"):
        plain.save("")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        plain.save(tmp_path / "sub")
    assert sorted(os.listdir(tmp_path)) == before and os.listdir(tmp_path / "sub") == []
