"""heavyball.noise speed/floor trade-off (issue 15): the Pareto front against a brute-force dominance check."""

import numpy as np
import pytest

from heavyball import noise


def _brute_front(r, f):
    """Every finite point no other point dominates (O(N^2), written apart from the library)."""
    r, f = np.ravel(r), np.ravel(f)
    out = []
    for p in range(r.size):
        if not (np.isfinite(r[p]) and np.isfinite(f[p])):
            continue
        dominated = any(r[q] <= r[p] and f[q] <= f[p] and (r[q] < r[p] or f[q] < f[p])
                        for q in range(r.size) if np.isfinite(r[q]) and np.isfinite(f[q]))
        if not dominated:
            out.append(p)
    return sorted(out)


@pytest.mark.parametrize("seed", range(6))
def test_pareto_front_equals_brute_force_with_ties_and_infinities(seed):
    rng = np.random.default_rng(seed)
    n = 60
    r = rng.integers(0, 8, n).astype(float) if seed % 2 else rng.random(n)  # integer values force ties
    f = rng.integers(0, 8, n).astype(float) if seed % 2 else rng.random(n)
    f[rng.integers(0, n, 5)] = np.inf
    r[rng.integers(0, n, 3)] = np.nan
    front = noise.pareto_front(r.reshape(6, 10), f.reshape(6, 10))
    assert sorted(front.tolist()) == _brute_front(r, f)
    assert np.all(np.diff(r[front]) >= 0) and np.all(np.diff(f[front]) <= 0)


def _hand_floor(H, lr, beta, method, Q):
    n = H.shape[0]
    c = 1.0 + beta if method == "nesterov" else 1.0
    d = beta * beta if method == "nesterov" else beta
    I = np.eye(n)
    A = np.block([[I - lr * c * H, -lr * d * I], [H, beta * I]])
    Bm = np.vstack([-lr * c * I, I])
    S = np.linalg.solve(np.eye(4 * n * n) - np.kron(A, A), (Bm @ Q @ Bm.T).ravel()).reshape(2 * n, 2 * n)
    return 0.5 * float(np.trace(H @ S[:n, :n])), float(np.max(np.abs(np.linalg.eigvals(A))))


@pytest.mark.parametrize("method", ["heavy_ball", "nesterov"])
@pytest.mark.parametrize("dense_noise", [False, True])
def test_tradeoff_maps_are_kronecker_solves_and_the_front_is_brute_force(method, dense_noise):
    rng = np.random.default_rng(9)
    R = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    H = R @ np.diag([1.0, 5.0, 30.0]) @ R.T
    G = rng.standard_normal((3, 3))
    Q = G @ G.T / 3 if dense_noise else 0.5 * np.eye(3)
    lrs, momenta = np.geomspace(0.003, 0.12, 7), np.linspace(0.0, 0.95, 6)
    t = noise.tradeoff(H, lrs, momenta, method, Q if dense_noise else 0.5)
    assert t.rate.shape == t.floor.shape == (6, 7)
    for i, b in enumerate(momenta):
        for j, lr in enumerate(lrs):
            floor, rho = _hand_floor(H, lr, b, method, Q)
            assert t.rate[i, j] == pytest.approx(rho, rel=1e-9)
            if rho < 1:
                assert t.floor[i, j] == pytest.approx(floor, rel=1e-8)
            else:
                assert t.floor[i, j] == np.inf
    assert np.any(np.isinf(t.floor)) and np.any(np.isfinite(t.floor))
    flat = np.ravel_multi_index((t.front[:, 0], t.front[:, 1]), t.rate.shape)
    assert sorted(flat.tolist()) == _brute_front(t.rate, t.floor)


def test_the_fastest_tuning_is_on_the_front_and_gd_has_one_row():
    lrs, momenta = np.geomspace(1e-3, 0.03, 15), np.linspace(0.0, 0.9, 10)
    t = noise.tradeoff(np.diag([1.0, 100.0]), lrs, momenta)
    i, j = np.unravel_index(np.argmin(t.rate), t.rate.shape)
    assert [i, j] in t.front.tolist()
    g = noise.tradeoff(np.diag([1.0, 100.0]), lrs, [0.0], "gd")
    assert g.rate.shape == (1, 15)
    with pytest.raises(ValueError, match="momentum"):
        noise.tradeoff(np.diag([1.0, 100.0]), lrs, momenta, "gd")
    with pytest.raises(ValueError, match="lrs"):
        noise.tradeoff(np.diag([1.0]), [0.1, 0.01], [0.0])
    with pytest.raises(ValueError, match="momenta"):
        noise.tradeoff(np.diag([1.0]), [0.01, 0.1], [0.5, 1.0])
    with pytest.raises(ValueError, match="same shape"):
        noise.pareto_front([1.0, 2.0], [1.0])


def test_spectrum_floors_and_the_cli_noise_flag(capsys):
    import json

    from heavyball import cli

    r = noise.spectrum_floors(100.0, mu=2.0, sigma=0.3, lr=0.005, momentum=0.5, method="nesterov")
    H, s = np.diag([2.0, 200.0]), 0.09
    for m in ("gd", "heavy_ball", "nesterov"):
        o = r["optimal"][m]
        floor, rho = _hand_floor(H, o["lr"], o["momentum"], m, s * np.eye(2))
        # the optimal tunings have a double root: np.linalg.eigvals is accurate to ~sqrt(eps) there
        assert o["floor"] == pytest.approx(floor, rel=1e-9) and o["rate"] == pytest.approx(rho, rel=1e-7)
        assert o["rule"] == pytest.approx(o["lr"] * 2 * s / (4 * (1 - o["momentum"])), rel=1e-12)
    # the rate-optimal GD sits at the stiff mode's edge: its floor is (kappa + 1)/2 ... times the rule, here ~50x
    assert r["optimal"]["gd"]["floor"] / r["optimal"]["gd"]["rule"] > 40
    at = r["at"]
    assert at["method"] == "nesterov" and at["floor"] == pytest.approx(_hand_floor(H, 0.005, 0.5, "nesterov",
                                                                                   s * np.eye(2))[0], rel=1e-9)
    assert noise.spectrum_floors(100.0, lr=0.5)["at"]["floor"] is None  # unstable
    assert cli.main(["spectrum", "--kappa", "100", "--mu", "2", "--noise", "0.3", "--lr", "0.005",
                     "--momentum", "0.5", "--method", "nesterov", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["noise"]["optimal"]["heavy_ball"]["floor"] == pytest.approx(r["optimal"]["heavy_ball"]["floor"])
    assert cli.main(["spectrum", "--kappa", "100", "--noise", "0.3"]) == 0
    text = capsys.readouterr().out
    assert "floor" in text and "heavy_ball" in text.split("under gradient noise")[1]
    assert cli.main(["spectrum", "--noise", "-1"]) != 0
    assert "--noise" in capsys.readouterr().err
