"""``sweep(..., backend="dask")`` against the local kernel, on a small LocalCluster started here.

The Dask backend runs chunks of the grid on worker processes with the same
compiled kernel and the same NumPy summary as ``backend="numba"``; grid
points never interact, so every array must be *identical* (``np.array_equal``,
dtypes included), whatever the chunking, for every problem and method.
"""

import numpy as np
import pytest

import heavyball as hb

from .test_compiled_problem import well_grad, well_value
from .test_sweep import EXACT_CASES, ROUNDED_CASES, _grid

distributed = pytest.importorskip("distributed")
from heavyball.sweeps import _dask as _distributed  # noqa: E402 (imports distributed lazily)

FIELDS = ("final_loss", "steps_to_tol", "rate", "diverged")
CASES = {**EXACT_CASES, **ROUNDED_CASES}


@pytest.fixture(scope="module")
def client():
    # compile (or load) the kernel in this process first: the workers then load it from the disk cache
    hb.sweep(hb.Quadratic.diagonal([1.0, 2.0]), [0.1], [0.5], x0=[1.0, 1.0], n_steps=2)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    c = distributed.Client(cluster, set_as_default=False)
    yield c
    c.close()
    cluster.close()


def assert_identical(a, b):
    for field in FIELDS + ("lrs", "momenta", "x0"):
        x, y = getattr(a, field), getattr(b, field)
        assert x.dtype == y.dtype and x.shape == y.shape, field
        assert np.array_equal(x, y), field  # no NaN anywhere: equal_nan is not needed (checked below)
        assert not (x.dtype.kind == "f" and np.isnan(x).any()), field
    assert a.axes == b.axes
    for name in a.grid:
        assert np.array_equal(a.grid[name], b.grid[name])


@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_dask_and_numba_backends_agree_bit_for_bit(client, name, method):
    make, x0, lr_max = CASES[name]
    problem = make()
    lrs, moms = _grid(lr_max)  # 37 x 11 = 407 points: chunks of 96 straddle rows, the last one is short
    kw = dict(x0=x0, n_steps=300, method=method, tol=1e-6)
    local = hb.sweep(problem, lrs, moms, **kw)
    remote = hb.sweep(problem, lrs, moms, backend="dask", client=client, chunk_size=96, **kw)
    assert remote.backend == "dask+numba" and local.backend == "numba"
    assert_identical(local, remote)


def test_infinities_zero_rates_and_unreached_tolerances_land_in_the_same_places(client):
    q = hb.Quadratic.diagonal([1.0])
    # x_k = (1 - lr)^k: exact 0 at lr = 1, underflow at 0.5 and 0.875, 0.95^k, 1e-4 never reaches tol,
    # and lr = 3 diverges (|-2|^k passes 1e50 at k = 167)
    lrs = np.array([1.0, 0.5, 0.875, 0.05, 1e-4, 3.0])
    kw = dict(x0=[1.0], n_steps=1100, method="gd")
    local = hb.sweep(q, lrs, [0.0, 0.5], **kw)
    remote = hb.sweep(q, lrs, [0.0, 0.5], backend="dask", client=client, chunk_size=1, **kw)
    assert_identical(local, remote)
    np.testing.assert_allclose(remote.rate[0, :3], [0.0, 0.5, 0.125], rtol=1e-15, atol=0)  # measured before the float floor
    assert np.isinf(remote.rate[0, 5]) and np.isinf(remote.final_loss[0, 5]) and remote.diverged[0, 5]
    assert remote.steps_to_tol[0, 4] == -1 and remote.steps_to_tol[0, 0] == 1


def test_labelled_grid_and_a_python_problem_run_on_the_cluster(client):
    lrs, moms = np.linspace(0.002, 0.05, 40), np.linspace(0.0, 0.95, 6)
    kw = dict(x0=[1.0, -0.5], n_steps=400, params={"dim": 2}, grid={"kappa": [10.0, 100.0], "x0_seed": [0, 1, 2]})
    local = hb.sweep("quadratic", lrs, moms, **kw)
    # chunks of 64 points cross the boundaries between cells (240 points each)
    remote = hb.sweep("quadratic", lrs, moms, backend="dask", client=client, chunk_size=64, **kw)
    assert remote.shape == (2, 3, 6, 40)
    assert_identical(local, remote)
    np.testing.assert_array_equal(local.starts, remote.starts)
    # a problem without a compiled form runs the NumPy twin on the workers (pickled with its functions)
    q = hb.Quadratic.diagonal([1.0, 20.0])
    custom = hb.CustomProblem(2, q.value, q.grad, minimizer=[0.0, 0.0])
    a = hb.sweep(custom, lrs, moms, x0=[1.0, 1.0], n_steps=100)
    b = hb.sweep(custom, lrs, moms, x0=[1.0, 1.0], n_steps=100, backend="dask", client=client, chunk_size=100)
    assert b.backend == "dask+numpy"
    assert_identical(a, b)
    # the workers loaded the kernel from the disk cache written by this process: no compilation
    def cache_stats():  # runs on each worker (pickled by value)
        from heavyball import kernels

        stats = kernels._sweep_blocks.stats
        return sum(stats.cache_hits.values()), sum(stats.cache_misses.values())

    stats = client.run(cache_stats)
    assert len(stats) == 2 and all(hits >= 1 and misses == 0 for hits, misses in stats.values()), stats


def test_the_current_default_client_is_used_and_a_scheduler_address_connects(client, monkeypatch):
    class NoCluster:
        def __init__(self, *args, **kwargs):
            raise AssertionError("sweep started a LocalCluster although a client was current")

    monkeypatch.setattr(distributed, "LocalCluster", NoCluster)
    q = hb.Quadratic.from_condition_number(10.0)
    local = hb.sweep(q, [0.01, 0.1], [0.0, 0.5], x0=[1.0, 1.0], n_steps=50)
    with client.as_current():
        remote = hb.sweep(q, [0.01, 0.1], [0.0, 0.5], x0=[1.0, 1.0], n_steps=50, backend="dask")
    assert_identical(local, remote)
    by_address = hb.sweep(q, [0.01, 0.1], [0.0, 0.5], x0=[1.0, 1.0], n_steps=50, backend="dask",
                          client=client.scheduler.address)
    assert_identical(local, by_address)


def test_a_private_cluster_is_shut_down_on_success_and_on_error(monkeypatch):
    started = []

    class Recording(distributed.LocalCluster):
        def __init__(self, *args, **kwargs):
            started.append(kwargs)
            super().__init__(*args, **kwargs)
            started[-1] = self

    monkeypatch.setattr(distributed, "LocalCluster", Recording)
    q = hb.Quadratic.diagonal([1.0, 4.0])

    def grad(x):  # fails on the workers only, where the runs happen
        raise RuntimeError("gradient failed on a worker")

    bad = hb.CustomProblem(2, q.value, grad, minimizer=[0.0, 0.0])
    with pytest.raises(ValueError, match="`grad` of problem .* raised RuntimeError .*: gradient failed on a worker"):
        hb.sweep(bad, [0.1], [0.5], x0=[1.0, 1.0], n_steps=5, backend="dask", workers=1)
    ok = hb.sweep(q, [0.1, 0.2], [0.5], x0=[1.0, 1.0], n_steps=20, backend="dask", workers=1)
    assert_identical(hb.sweep(q, [0.1, 0.2], [0.5], x0=[1.0, 1.0], n_steps=20), ok)
    assert len(started) == 2
    for cluster in started:
        assert cluster.status.name == "closed" and not cluster.workers
        assert cluster.scheduler.status.name == "closed"
    assert _distributed._current_client(distributed) is None  # nothing left registered as default


def test_a_worker_with_other_versions_refuses_to_run():
    with pytest.raises(RuntimeError, match="same versions everywhere"):
        _distributed.run_chunk([], ("gd", np.ones(1), np.zeros(1), 1), ("0.0.0", np.__version__, "0.1"))


def test_client_arguments_are_checked():
    q = hb.Quadratic.from_condition_number(10.0)
    args = dict(x0=[1.0, 1.0], n_steps=10)
    with pytest.raises(ValueError, match="`client` must be a distributed.Client or a scheduler address"):
        hb.sweep(q, [0.1], [0.5], backend="dask", client=3.5, **args)
    with pytest.raises(ValueError, match="either `workers` or `client`"):
        hb.sweep(q, [0.1], [0.5], backend="dask", client="tcp://127.0.0.1:1", workers=2, **args)
    with pytest.raises(ValueError, match="`workers` must be an integer >= 1"):
        hb.sweep(q, [0.1], [0.5], backend="dask", workers=0, **args)


def test_default_chunks_aim_at_the_chunk_work_and_keep_every_thread_busy():
    work = _distributed.CHUNK_WORK_PER_THREAD
    # a huge grid: chunks of CHUNK_WORK_PER_THREAD x threads trajectory-steps x dim
    assert _distributed.default_chunk(10**9, 1000, 2, threads=2) == -(-int(2 * work) // 2000)
    assert _distributed.default_chunk(10**10, 1000, 2, threads=64) == -(-int(64 * work) // 2000)
    # a grid with little work: two chunks per thread
    assert _distributed.default_chunk(4000, 100, 2, threads=2) == 1000


# ----------------------------------------------------------------------------- CLI
def _cli(capsys, *argv):
    from heavyball import cli

    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse errors
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_sweeps_on_a_scheduler_and_on_private_workers(client, capsys, tmp_path):
    import json

    argv = ["sweep", "--kappa", "100", "--lrs", "0.005:0.035:7", "--momenta", "0:0.9:4", "--n-steps", "150",
            "--x0", "1,-0.5", "--json"]
    local = hb.sweep(hb.Quadratic.from_condition_number(100.0), np.linspace(0.005, 0.035, 7), np.linspace(0, 0.9, 4),
                     x0=[1.0, -0.5], n_steps=150)
    for extra, name in ((["--scheduler", client.scheduler.address], "remote.npz"), (["--workers", "1"], "own.npz")):
        code, out, err = _cli(capsys, *argv, *extra, "--out", str(tmp_path / name))
        assert code == 0, err
        report = json.loads(out)
        assert report["backend"] == "dask+numba" and report["written"] == [str(tmp_path / name)]
        saved = hb.SweepResult.load(tmp_path / name)  # saved through SweepResult.save
        assert_identical(local, saved)
        assert saved.backend == "dask+numba" and saved.problem_name == "quadratic"


@pytest.mark.parametrize("argv, names", [
    (["--workers", "0"], "`--workers` must be an integer >= 1, got 0"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "`--scheduler` uses a running cluster and `--workers`"),
    (["--workers", "2", "--backend", "numpy"], "`--workers` runs the sweep on Dask"),
    (["--scheduler", "tcp://127.0.0.1:1", "--backend", "numba"], "`--scheduler` runs the sweep on Dask"),
    (["--workers", "two"], "--workers"),
])
def test_cli_dask_flag_errors_are_one_line(argv, names, capsys):
    code, _, err = _cli(capsys, "sweep", "--lrs", "0.1:0.2:3", "--n-steps", "5", *argv)
    assert code == 2 and err.count("\n") == 1 and names in err, err


def test_cli_reports_an_unreachable_scheduler_in_one_line(capsys, tmp_path):
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "0.5s"}):
        code, _, err = _cli(capsys, "sweep", "--lrs", "0.1:0.2:3", "--n-steps", "5", "--scheduler",
                            "tcp://127.0.0.1:1", "--out", str(tmp_path / "r.npz"))
    assert code == 2 and err.count("\n") == 1 and "cannot reach the Dask scheduler" in err, err
    assert not (tmp_path / "r.npz").exists()


def test_a_numba_compiled_user_problem_runs_on_the_workers(client):
    # the dispatchers travel to the workers (cloudpickle) and run in their kernels
    problem = hb.CustomProblem(2, well_value, well_grad, name="user well")
    lrs, moms = np.linspace(0.01, 0.12, 9), np.linspace(0.0, 0.9, 4)
    kw = dict(x0=[0.5, 0.5], n_steps=300)
    local = hb.sweep(problem, lrs, moms, **kw)
    remote = hb.sweep(problem, lrs, moms, backend="dask", client=client, chunk_size=12, **kw)
    assert local.backend == "numba" and remote.backend == "dask+numba"
    assert_identical(local, remote)
    assert_identical(local, hb.sweep(hb.DoubleWell(tilt=0.0, stiffness=10.0), lrs, moms, **kw))
