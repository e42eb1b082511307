"""heavyball.plotting: content of the figures, not just that an Axes comes back."""

import dataclasses
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import heavyball as hb  # noqa: E402
from heavyball import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _no_show_no_save(monkeypatch):
    """Library code must never show or save a figure; close what a test opened."""

    def forbidden(*args, **kwargs):
        raise AssertionError("plotting code called show() or savefig()")

    monkeypatch.setattr(plt, "show", forbidden)
    monkeypatch.setattr(Figure, "savefig", forbidden)
    yield
    plt.close("all")


def _labelled(ax):
    return [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]


def test_importing_heavyball_does_not_import_matplotlib():
    code = ("import sys, heavyball, heavyball.plotting, heavyball.cli, heavyball.tour; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------- contour
def test_contour_levels_labels_limits_and_minimizer():
    problem = hb.Rosenbrock()
    fig, ax0 = plt.subplots()
    kw = {"linewidths": 1.5}
    ax = plotting.contour(problem, xlim=(-2, 2), ylim=(-1, 3), levels=12, ax=ax0, contour_kw=kw)
    assert ax is ax0 and kw == {"linewidths": 1.5}
    assert ax.get_xlim() == (-2, 2) and ax.get_ylim() == (-1, 3)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x_1$", "$x_2$")
    (cs,) = [c for c in ax.collections]
    levels = np.asarray(cs.levels)
    assert len(levels) == 12
    # log scale: the grid holds the minimiser (1, 1), so L_min = 0 (to rounding) and the
    # levels themselves are geometric
    ratios = np.diff(np.log(levels))
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)
    # the top level is the maximum of L on the window: the corner (-2, -1) gives 9 + 100 * 25
    assert levels[-1] == pytest.approx(9 + 2500, rel=1e-12)
    (star,) = [ln for ln in ax.get_lines() if ln.get_marker() == "*"]
    np.testing.assert_array_equal(np.c_[star.get_xdata(), star.get_ydata()][0], [1.0, 1.0])


def test_contour_linear_levels_and_colours_by_index():
    q = hb.Quadratic.diagonal([2.0, 2.0])  # L = x^2 + y^2, max 8 on [-2, 2]^2
    ax = plotting.contour(q, scale="linear", levels=3, resolution=41)
    (cs,) = ax.collections
    np.testing.assert_allclose(cs.levels, [2.0, 4.0, 6.0])
    colours = cs.get_edgecolor()
    assert len({tuple(c) for c in colours}) == 3  # one distinct colour per level


@pytest.mark.parametrize("bad", [dict(xlim=(1, 0)), dict(levels=1), dict(scale="cubic"),
                                 dict(contour_kw=[1]), dict(resolution=2)])
def test_contour_bad_arguments_name_the_parameter(bad):
    name = next(iter(bad)) if next(iter(bad)) != "contour_kw" else "contour_kw"
    with pytest.raises(ValueError, match=name):
        plotting.contour(hb.Rosenbrock(), **bad)


def test_contour_rejects_other_dimensions():
    with pytest.raises(ValueError, match="two-dimensional"):
        plotting.contour(hb.Quadratic.from_condition_number(10, dim=3))


# -------------------------------------------------------------------- trajectories
def _ravine_runs(n=60):
    ravine = hb.Quadratic.diagonal([200.0, 2.0])
    return ravine, {
        "GD": hb.optimize(ravine, hb.GD(0.009), [1.0, 1.0], n_steps=n),
        "heavy ball": hb.optimize(ravine, hb.SGD(0.004, 0.8), [1.0, 1.0], n_steps=n),
        "Nesterov": hb.optimize(ravine, hb.SGD(0.004, 0.8, nesterov=True), [1.0, 1.0], n_steps=n),
    }


def test_trajectories_one_line_per_run_with_its_data_and_a_legend():
    ravine, runs = _ravine_runs()
    kw = {"linewidth": 2.0}
    ax = plotting.trajectories(ravine, runs, line_kw=kw)
    assert kw == {"linewidth": 2.0}
    lines = _labelled(ax)
    assert [ln.get_label() for ln in lines] == ["GD", "heavy ball", "Nesterov", "start $x_0$", r"minimiser $x^*$"]
    for ln, run in zip(lines, runs.values()):
        np.testing.assert_array_equal(ln.get_xydata(), run.x)
        assert ln.get_linewidth() == 2.0
    # three runs differ in colour, marker and line style (readable in greyscale)
    for attr in ("get_color", "get_marker", "get_linestyle"):
        assert len({getattr(ln, attr)() for ln in lines[:3]}) == 3
    assert ax.get_legend() is not None and len(ax.get_legend().get_texts()) == 5
    # the window holds every iterate
    allx = np.concatenate([r.x for r in runs.values()])
    lo, hi = ax.get_xlim()
    assert lo <= allx[:, 0].min() and hi >= allx[:, 0].max()
    # grey contours underneath
    assert len(ax.collections) == 1


def test_trajectories_marks_divergence_and_reference_without_markers():
    ravine = hb.Quadratic.diagonal([200.0, 2.0])
    bad = hb.optimize(ravine, hb.GD(0.011), [1.0, 1.0], n_steps=3000)  # lr lambda = 2.2 > 2
    assert bad.status == -1
    sys_ = hb.DampedParticle(ravine, 1.0, 20.0)
    ref = hb.solve_reference(sys_, [1.0, 1.0], t_span=(0, 1), t_eval=np.linspace(0, 1, 50))
    ax = plotting.trajectories(ravine, [bad, ref], labels=["GD", "exact"], start=False, minimizer=False,
                               xlim=(-2, 2), ylim=(-2, 2))
    a, b = _labelled(ax)
    assert a.get_label() == "GD (diverged)" and b.get_marker() in ("None", None, "")


def test_trajectories_label_count_must_match():
    ravine, runs = _ravine_runs(5)
    with pytest.raises(ValueError, match="labels"):
        plotting.trajectories(ravine, list(runs.values()), labels=["a"])


# ------------------------------------------------------------------ phase portrait
def test_phase_field_equals_the_system_rhs():
    """The drawn field is (v, a) of DampedParticle.rhs for the coordinate, others held at `point`."""
    q = hb.Quadratic(np.array([[3.0, 1.0], [1.0, 2.0]]))
    system = hb.DampedParticle(q, mass=2.0, friction=0.7)
    point = np.array([0.3, -0.4])
    X, V = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-2, 2, 4))
    U, A = plotting._phase_field(system, 1, point, X, V, 0.0)
    for (r, c), x in np.ndenumerate(X):
        y = np.array([point[0], x, 0.0, V[r, c]])
        dy = system.rhs(0.0, y)
        assert U[r, c] == dy[1] and A[r, c] == pytest.approx(dy[3], rel=1e-15, abs=1e-15)


def test_phase_portrait_streamlines_iterates_and_labels():
    system = hb.DampedParticle(hb.Quadratic.diagonal([1.0, 4.0]), mass=1.0, friction=0.3)
    runs = {m: hb.integrate(system, [1.5, 0.5], method=m, step=0.3, n_steps=30)
            for m in ("explicit_euler", "symplectic_euler", "nesterov")}
    ref = hb.solve_reference(system, [1.5, 0.5], t_span=(0, 9), t_eval=np.linspace(0, 9, 200))
    ax = plotting.phase_portrait(system, coordinate=1, trajectories={"exact": ref, **runs})
    assert any(isinstance(c, LineCollection) for c in ax.collections)  # the streamlines
    lines = _labelled(ax)
    labels = [ln.get_label() for ln in lines]
    assert labels[0].startswith("ODE flow") and "0.3" in labels[0]
    assert labels[1:] == ["exact", "explicit_euler", "symplectic_euler", "nesterov", "rest at $x^*$"]
    for ln, tr in zip(lines[1:5], [ref, *runs.values()]):
        np.testing.assert_array_equal(ln.get_xydata(), np.c_[tr.x[:, 1], tr.v[:, 1]])
    assert lines[1].get_marker() in ("None", None, "") and lines[2].get_marker() not in ("None", None, "")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x_{2}$", "$v_{2} = \\dot x_{2}$")
    assert ax.get_legend() is not None


@pytest.mark.parametrize("kwargs, match", [
    (dict(system=hb.DampedParticle(hb.Quadratic.diagonal([1.0]), mass=0.0, friction=1.0)), "mass > 0"),
    (dict(coordinate=3), "coordinate"),
    (dict(xlim=(2, 1)), "xlim"),
])
def test_phase_portrait_errors(kwargs, match):
    system = kwargs.pop("system", hb.DampedParticle(hb.Quadratic.diagonal([1.0, 2.0]), 1.0, 1.0))
    with pytest.raises(ValueError, match=match):
        plotting.phase_portrait(system, **kwargs)


def test_phase_portrait_needs_velocities():
    q = hb.Quadratic.diagonal([1.0])
    run = hb.optimize(q, hb.GD(0.1), [1.0], n_steps=3)
    with pytest.raises(ValueError, match="velocity"):
        plotting.phase_portrait(hb.DampedParticle(q), trajectories=[run])


# --------------------------------------------------------------------- convergence
def test_convergence_plots_loss_gap_distance_and_rate_guides():
    ravine, runs = _ravine_runs(40)
    ax = plotting.convergence(runs, problem=ravine, rates=[None, 0.9, None])
    lines = _labelled(ax)
    assert len(lines) == 4 and ax.get_yscale() == "log"
    assert ax.get_ylabel() == "$L(x_k) - L^*$" and ax.get_xlabel() == "step $k$"
    for ln, run in zip(lines, runs.values()):
        np.testing.assert_array_equal(ln.get_xdata(), np.arange(41))
        y = run.loss - 0.0
        np.testing.assert_array_equal(ln.get_ydata(), np.where(y > 0, y, np.nan))
    guide = lines[3]
    # the loss is quadratic in the error, so its guide decays as rho^(2k)
    np.testing.assert_allclose(guide.get_ydata(), runs["heavy ball"].loss[0] * 0.9 ** (2 * np.arange(41)))
    ax2 = plotting.convergence(runs["GD"], quantity="distance", problem=ravine, rates=[0.8])
    (d, g) = _labelled(ax2)
    np.testing.assert_allclose(d.get_ydata(), np.linalg.norm(runs["GD"].x, axis=1))
    np.testing.assert_allclose(g.get_ydata(), np.sqrt(2) * 0.8 ** np.arange(41))


def test_convergence_masks_exact_zeros_and_uses_time_for_references():
    q = hb.Quadratic.diagonal([1.0])
    run = hb.optimize(q, hb.GD(1.0), [1.0], n_steps=3)  # lr lambda = 1: exact in one step
    ax = plotting.convergence([run], problem=q)
    assert np.isnan(_labelled(ax)[0].get_ydata()[1:]).all()
    ref = hb.solve_reference(hb.DampedParticle(q, 1.0, 2.0), [1.0], t_span=(0, 2))
    with pytest.raises(ValueError, match="xaxis='time'"):
        plotting.convergence([ref], problem=q)
    ax = plotting.convergence([ref], problem=q, xaxis="time")
    assert ax.get_xlabel() == "time $t$"


def test_convergence_errors():
    _, runs = _ravine_runs(3)
    with pytest.raises(ValueError, match="quantity"):
        plotting.convergence(runs, quantity="speed")
    with pytest.raises(ValueError, match="minimizer"):
        plotting.convergence(runs, quantity="distance")
    with pytest.raises(ValueError, match="rates"):
        plotting.convergence(runs, rates=[0.5])


# -------------------------------------------------------------------- rate heat-map
def _radius_by_numpy_roots(lams, lr, beta, method):
    """Independent spectral radius: numpy.roots of each mode's polynomial."""
    worst = 0.0
    for lam in lams:
        a = lr * lam
        coeffs = [1.0, -(1 + beta - a), beta] if method == "heavy_ball" else \
            [1.0, -(1 + beta) * (1 - a), beta * (1 - a)]
        worst = max(worst, float(np.max(np.abs(np.roots(coeffs)))))
    return worst


@pytest.mark.parametrize("method", ["heavy_ball", "nesterov"])
def test_rate_heatmap_analytic_values_scale_and_optimum(method):
    lrs, momenta = np.geomspace(1e-3, 0.05, 9), np.linspace(0.0, 0.95, 7)
    lams = [1.0, 30.0, 100.0]
    ax = plotting.rate_heatmap(eigenvalues=lams, lrs=lrs, momenta=momenta, method=method)
    mesh = ax.collections[0]
    shown = mesh.get_array().reshape(len(momenta), len(lrs))
    for i, b in enumerate(momenta):
        for j, lr in enumerate(lrs):
            rho = _radius_by_numpy_roots(lams, lr, b, method)
            if rho >= 1.0:
                assert shown.mask[i, j]
            else:
                # numpy.roots is only sqrt(eps)-accurate at a double root
                assert shown[i, j] == pytest.approx(min(rho, 0.999), abs=2e-7)
    assert mesh.get_clim() == (0.0, 0.999) and ax.get_xscale() == "log"
    # the optimum marker sits at the closed-form tuning for [mu, L] = [1, 100]
    (star,) = [ln for ln in ax.get_lines() if ln.get_marker() == "*"]
    k = 100.0
    if method == "heavy_ball":
        want = (4 / (10 + 1) ** 2, ((10 - 1) / (10 + 1)) ** 2, (10 - 1) / (10 + 1))
    else:
        q = np.sqrt(3 * k + 1)
        want = (4 / (3 * k + 1), (q - 2) / (q + 2), 1 - 2 / q)
    np.testing.assert_allclose(star.get_xydata()[0], want[:2], rtol=1e-14)
    assert f"{want[2]:.4g}" in star.get_label()
    assert ax.figure.axes[1].get_ylabel().startswith("spectral radius")  # the colour bar


class FakeSweep:
    """Duck-typed SweepResult: what rate_heatmap reads."""

    def __init__(self, lrs, momenta, rate):
        self.lrs, self.momenta, self.rate, self.method = lrs, momenta, rate, "heavy_ball"


def test_rate_heatmap_measured_panel_shares_the_colour_scale_and_marks_the_best_point():
    lrs, momenta = np.linspace(0.005, 0.04, 8), np.linspace(0.0, 0.9, 4)
    rate = np.linspace(0.5, 0.98, 32).reshape(4, 8)
    rate[0, 7], rate[3, 0] = np.inf, 0.31  # a diverged point, and the best one
    fig, (a, b) = plt.subplots(1, 2)
    plotting.rate_heatmap(eigenvalues=[1.0, 100.0], lrs=lrs, momenta=momenta, ax=a, colorbar=False)
    plotting.rate_heatmap(FakeSweep(lrs, momenta, rate), eigenvalues=[1.0, 100.0], ax=b)
    assert a.collections[0].get_clim() == b.collections[0].get_clim()
    assert a.collections[0].norm(0.9) == b.collections[0].norm(0.9)
    shown = b.collections[0].get_array().reshape(4, 8)
    assert shown.mask[0, 7] and shown[3, 0] == 0.31 and a.get_xscale() == "linear"
    (best,) = [ln for ln in b.get_lines() if ln.get_marker() == "o"]
    np.testing.assert_array_equal(best.get_xydata()[0], [0.005, 0.9])
    labels = [t.get_text() for t in b.get_legend().get_texts()]
    assert any(t.startswith("optimum") for t in labels) and any(t.startswith("divergent") for t in labels)


def test_rate_heatmap_log_colour_scale_puts_decades_of_one_minus_rho_evenly():
    ax = plotting.rate_heatmap(eigenvalues=[1.0, 10.0], lrs=[0.01, 0.1], momenta=[0.0, 0.5])
    norm = ax.collections[0].norm
    np.testing.assert_allclose([norm(0.0), norm(0.9), norm(0.99), norm(0.999)], [0, 1 / 3, 2 / 3, 1], atol=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    (dict(), "eigenvalues"),
    (dict(eigenvalues=[1.0], lrs=[0.1, 0.05], momenta=[0.0]), "lrs"),
    (dict(eigenvalues=[1.0], lrs=[0.1], momenta=[0.0], vmax=1.0), "vmax"),
    (dict(eigenvalues=[1.0], lrs=[0.1], momenta=[0.0], method="adam"), "method"),
])
def test_rate_heatmap_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plotting.rate_heatmap(**kwargs)


# ---------------------------------------------------------------------- regime map
def test_regime_map_codes_match_an_independent_classification():
    ax = plotting.regime_map(resolution=41, eigenvalues=[1.0, 100.0], lr=4 / 121, momentum=81 / 121)
    codes = np.asarray(ax.images[0].get_array())
    xs, ys = np.linspace(0, 4.2, 41), np.linspace(0, 1, 41)
    for i in range(0, 41, 4):
        for j in range(1, 41, 4):
            a, b = xs[j], ys[i]
            r = np.roots([1.0, -(1 + b - a), b])
            if np.max(np.abs(r)) >= 1 - 1e-9:
                want = 3
            elif abs(np.imag(r)).max() > 1e-7:
                want = 1
            else:
                want = 2 if r[np.argmax(np.abs(r))].real < 0 else 0
            if abs(np.max(np.abs(r)) - 1) > 1e-6 and abs((1 + b - a) ** 2 - 4 * b) > 1e-6:  # off the boundaries
                assert codes[i, j] == want, (a, b)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:4] == ["monotone", "oscillating", "sign flipping", "divergent"]
    (modes,) = [ln for ln in ax.get_lines() if ln.get_marker() == "X"]
    np.testing.assert_allclose(modes.get_xdata(), [4 / 121, 400 / 121])
    assert len([ln for ln in ax.get_lines() if ln.get_marker() in ("None", None, "")]) == 3  # boundaries
    assert ax.get_xlabel().startswith(r"$\alpha\lambda$")


def test_regime_map_needs_a_tuning_to_mark_modes():
    with pytest.raises(ValueError, match="lr"):
        plotting.regime_map(eigenvalues=[1.0])


@pytest.mark.parametrize("field", ["steps_to_tol", "final_loss"])
def test_rate_heatmap_draws_steps_and_final_loss_with_limits_from_the_data(field):
    res = hb.sweep(hb.Quadratic.diagonal([1.0, 10.0]), [0.05, 0.1, 0.5], [0.0, 0.5], x0=[1.0, 1.0], n_steps=200)
    ax = plotting.rate_heatmap(res, field=field)
    mesh = ax.collections[0]
    values = getattr(res, field).astype(float)
    drawn = ~res.diverged & (values >= 0) & np.isfinite(values)
    arr = mesh.get_array()
    np.testing.assert_array_equal(np.ma.getmaskarray(arr).reshape(values.shape), ~drawn)
    np.testing.assert_array_equal(np.asarray(arr).reshape(values.shape)[drawn], values[drawn])
    lo, hi = mesh.get_clim()
    assert (lo, hi) == (values[drawn].min(), values[drawn].max())
    assert type(mesh.norm).__name__ == ("LogNorm" if field == "final_loss" else "Normalize")
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="`field` 'final_loss' needs a SweepResult"):
        plotting.rate_heatmap(eigenvalues=[1.0, 10.0], lrs=[0.1], momenta=[0.0], field="final_loss")
    with pytest.raises(ValueError, match="`field` must be one of"):
        plotting.rate_heatmap(res, field="loss")


def test_rate_heatmap_picks_its_top_colour_from_the_rates():
    res = hb.sweep(hb.Quadratic.diagonal([1.0, 10.0]), [0.05, 0.1, 0.5], [0.0, 0.5], x0=[1.0, 1.0], n_steps=200)
    ax = plotting.rate_heatmap(res)
    assert ax.collections[0].get_clim() == (0.0, 0.999)  # every rate is below 0.95
    slow = dataclasses.replace(res, rate=np.where(res.diverged, np.inf, 0.99995))
    assert plotting.rate_heatmap(slow, ax=plt.figure().subplots()).collections[0].get_clim() == (0.0, 0.99999)
    plt.close("all")


# ------------------------------------------------------------------------ floor map (issue 15)
def test_floor_heatmap_draws_the_exact_floor_the_front_and_the_optimum():
    from heavyball import noise

    H, lrs, momenta = np.diag([1.0, 100.0]), np.geomspace(1e-3, 0.04, 12), np.linspace(0.0, 0.9, 8)
    fig, (a, b) = plt.subplots(1, 2)
    assert plotting.floor_heatmap(H, lrs=lrs, momenta=momenta, noise_cov=0.25, ax=b) is b
    plotting.rate_heatmap(eigenvalues=[1.0, 100.0], lrs=lrs, momenta=momenta, ax=a)  # the panel next to it
    t = noise.tradeoff(H, lrs, momenta, "heavy_ball", 0.25)
    drawn = b.collections[0].get_array()
    assert drawn.shape == (8, 12) and b.get_xscale() == "log"
    np.testing.assert_array_equal(np.ma.getmaskarray(drawn), ~np.isfinite(t.floor))
    np.testing.assert_allclose(drawn.compressed(), t.floor[np.isfinite(t.floor)], rtol=1e-12)
    # one exact value, independently: heavy ball mode floor lr s (1 + b) / (2 (1 - b)(2 (1 + b) - lr lambda))
    lr, beta = lrs[0], momenta[3]
    want = sum(lr * 0.25 * (1 + beta) / (2 * (1 - beta) * (2 * (1 + beta) - lr * lam)) for lam in (1.0, 100.0))
    assert drawn[3, 0] == pytest.approx(want, rel=1e-12)
    front = [ln for ln in b.get_lines() if ln.get_label().startswith("Pareto")][0]
    np.testing.assert_allclose(front.get_xdata(), lrs[t.front[:, 1]])
    np.testing.assert_allclose(front.get_ydata(), momenta[t.front[:, 0]])
    star = [ln for ln in b.get_lines() if ln.get_label().startswith("rate optimum")][0]
    lr_opt, beta_opt, _ = hb.spectral.optimal_parameters(1.0, 100.0, "heavy_ball")
    assert (star.get_xdata()[0], star.get_ydata()[0]) == pytest.approx((lr_opt, beta_opt))
    assert f"{noise.stationary_loss(H, lr_opt, beta_opt, 'heavy_ball', 0.25):.3g}" in star.get_label()
    assert b.get_legend() is not None


def test_floor_heatmap_errors():
    with pytest.raises(ValueError, match="vmin"):
        plotting.floor_heatmap(np.diag([1.0, 2.0]), lrs=[0.01, 0.1], momenta=[0.0, 0.5], vmin=-1.0)
    with pytest.raises(ValueError, match="lrs"):
        plotting.floor_heatmap(np.diag([1.0, 2.0]), lrs=[0.1, 0.01], momenta=[0.0, 0.5])


def test_trajectories_equal_scale_gives_one_unit_one_length_and_keeps_every_point():
    ravine = hb.Quadratic.diagonal([200.0, 2.0])
    runs = {"GD": hb.optimize(ravine, hb.GD(0.004), [1.0, 1.0], n_steps=60),
            "heavy ball": hb.optimize(ravine, hb.SGD(0.004, 0.8), [1.0, 1.0], n_steps=60)}
    fig = Figure(figsize=(7.0, 4.6))
    ax = plotting.trajectories(ravine, runs, ax=fig.add_subplot(), equal_scale=True)
    plain = plotting.trajectories(ravine, runs, ax=Figure(figsize=(7.0, 4.6)).add_subplot())
    fig.draw_without_rendering()
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    box = ax.get_window_extent()
    assert ax.get_aspect() == 1.0
    assert (y1 - y0) / (x1 - x0) == pytest.approx(box.height / box.width, rel=1e-9)
    # the window only grows: it holds the plain window (all paths and the minimiser) about its centre
    (p0, p1), (q0, q1) = plain.get_xlim(), plain.get_ylim()
    assert x0 <= p0 + 1e-12 and x1 >= p1 - 1e-12 and y0 <= q0 + 1e-12 and y1 >= q1 - 1e-12
    assert (x0 + x1) / 2 == pytest.approx((p0 + p1) / 2) and (y0 + y1) / 2 == pytest.approx((q0 + q1) / 2)
    assert (x1 - x0 == pytest.approx(p1 - p0)) or (y1 - y0 == pytest.approx(q1 - q0))
