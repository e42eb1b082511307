"""The explorer's widgets and Bokeh views (Panel). Needs the extra ``explore``.

:func:`build` makes one independent app (one per browser session when served):
the widgets edit an :class:`~heavyball.explore.state.ExploreState`, every
change runs :func:`~heavyball.explore.compute.compute` and pushes the new
numbers into the Bokeh data sources (only data travels to the browser) and the
state into the page's URL query.
"""

from __future__ import annotations

import functools
import html
import io
from urllib.parse import urlencode

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, LinearColorMapper
from bokeh.plotting import figure

import heavyball as hb

from . import export
from .compute import compute, lr_limit, spectrum
from .state import INTEGRATOR_METHODS, MAX_STEPS, METHODS, ExploreState, QueryError, from_query, \
    problem_parameters, to_query

REGIME_COLOURS = ("#4c72b0", "#55a868", "#dd8452", "#c44e52")  # monotone, oscillating, sign_flipping, divergent
MAX_MARKERS = 300
FIG = {"height": 330, "sizing_mode": "stretch_width", "tools": "pan,wheel_zoom,reset,save"}


def build(query=""):
    """One explorer (its own widgets and state); ``query`` is the first view unless the page's URL has one.

    Outside a server (a notebook) it loads Panel's notebook extension first, so the returned
    object displays as the cell's output.
    """
    if pn.state.curdoc is None or pn.state.curdoc.session_context is None:
        pn.extension()
    return Explorer(_page_query() or query).layout


def _page_query():
    """The query of the served page (``pn.state.session_args``), as a dict of str; {} in a notebook."""
    args = getattr(pn.state, "session_args", None) or {}
    out = {}
    for key, values in args.items():
        if values:
            out[key] = values[0].decode("utf-8", "replace") if isinstance(values[0], bytes) else str(values[0])
    return urlencode(out, safe=",") if out else ""


@functools.lru_cache(maxsize=1)
def regime_image(n=160):
    """Heavy ball's regime code over (lr*lambda in [0, 4.2], momentum in [0, 1]) (``spectral.regime``)."""
    ll = np.linspace(0.0, 4.2, n)
    rows = [np.asarray(hb.spectral.regime(ll, 1.0, b, codes=True), dtype=float) for b in np.linspace(0, 1, n)]
    return np.array(rows)


class Explorer:
    """Widgets + views of one session."""

    def __init__(self, query=""):
        self.busy = False
        self.error = pn.pane.HTML("", visible=False, sizing_mode="stretch_width")
        try:
            self.state = from_query(query)
        except QueryError as exc:
            self.state = ExploreState()
            self._show_error(f"Bad query value {exc}. Showing the default view instead.")
        self._widgets()
        self._views()
        self.layout = pn.Row(self.sidebar, pn.Column(self.error, self.text, self.grid, sizing_mode="stretch_width"),
                             sizing_mode="stretch_width")
        self._set_widgets(self.state)
        if not self.update(self.state, push_url=False):  # the library refuses the query's setting
            self.state = ExploreState()
            self._set_widgets(self.state)
            self.update(self.state, push_url=False)

    # ------------------------------------------------------------------ widgets
    def _widgets(self):
        w = pn.widgets
        self.problem = w.Select(label="problem", options=hb.problems.names(), width=260)
        self.params = pn.Column(width=270)
        self.method = w.Select(label="method", options=list(METHODS), width=260)
        self.param = w.RadioButtonGroup(label="parametrisation", options=["optimizer", "physical"], width=260)
        self.lr = w.FloatSlider(label="lr", start=1e-5, end=1.0, step=1e-5, format="0.00000", width=260)
        self.momentum = w.FloatSlider(label="momentum", start=0.0, end=0.999, step=0.001, format="0.000",
                                      width=260)
        self.mass = w.FloatInput(label="mass", start=0.0, step=0.1, width=260)
        self.friction = w.FloatSlider(label="friction", start=0.01, end=20.0, step=0.01, width=260)
        self.step = w.FloatSlider(label="step", start=0.001, end=2.0, step=0.001, format="0.000", width=260)
        self.x0 = w.TextInput(label="x0 (or click on the contour)", width=260)
        self.n_steps = w.IntSlider(label="n_steps", start=10, end=5000, step=10, width=260)
        self.noise = w.FloatSlider(label="noise", start=0.0, end=2.0, step=0.01, width=260)
        self.seed = w.IntInput(label="seed", start=0, width=260)
        self.png = w.FileDownload(callback=self._png, filename="heavyball-explore.png", label="PNG of this view",
                                  width=260)
        self.gif = w.FileDownload(callback=self._gif, filename="heavyball-explore.gif",
                                  label="GIF of the trajectory", width=260)
        self.controls = [self.problem, self.method, self.param, self.lr, self.momentum, self.mass, self.friction,
                         self.step, self.x0, self.n_steps, self.noise, self.seed]
        for c in self.controls:
            c.param.watch(self._on_widget, "value")
        self.sidebar = pn.Column("## heavyball explore", self.problem, self.params, self.method, self.param,
                                 self.lr, self.momentum, self.mass, self.friction, self.step, self.x0,
                                 self.n_steps, self.noise, self.seed, self.png, self.gif, width=290)

    def _param_widgets(self, state):
        values = dict(state.params)
        out = []
        for key, default in problem_parameters(state.problem).items():
            cls = pn.widgets.IntInput if isinstance(default, int) else pn.widgets.FloatInput
            wid = cls(label=key, value=values.get(key, default), width=260)
            wid.param.watch(self._on_widget, "value")
            out.append(wid)
        self.params.objects = out

    def _set_widgets(self, s):
        self.busy = True
        try:
            if self.params.objects == [] or self.problem.value != s.problem:
                self._param_widgets(s)
            else:
                for wid in self.params.objects:
                    wid.value = dict(s.params).get(wid.label, wid.value)
            self.problem.value, self.method.value, self.param.value = s.problem, s.method, s.param
            problem = hb.problems.get(s.problem, **s.problem_kwargs())
            self.lr.end = max(lr_limit(problem, spectrum(problem)[0]), s.lr)
            self.lr.step = self.lr.end / 2000
            self.lr.value, self.momentum.value = s.lr, s.momentum
            self.mass.value, self.friction.value, self.step.value = s.mass, s.friction, s.step
            self.friction.end, self.step.end = max(20.0, s.friction), max(2.0, s.step)
            self.x0.value = ",".join(f"{v:.6g}" for v in s.start(problem.dim))
            self.n_steps.end = max(5000, s.n_steps)
            self.n_steps.value, self.noise.value, self.seed.value = s.n_steps, s.noise, s.seed
            self._visibility(s)
        finally:
            self.busy = False

    def _visibility(self, s):
        physical = s.param == "physical"
        self.lr.disabled = physical
        self.momentum.disabled = physical or s.method == "gd"
        self.friction.disabled = self.step.disabled = not physical
        self.noise.disabled = self.seed.disabled = s.method in INTEGRATOR_METHODS

    def _state_from_widgets(self):
        q = {"problem": self.problem.value, "method": self.method.value}
        if self.problem.value == self.state.problem:
            q.update({w.label: w.value for w in self.params.objects})
        if self.param.value == "physical":
            q.update(mass=self.mass.value, friction=self.friction.value, step=self.step.value)
        else:
            q.update(lr=self.lr.value, mass=self.mass.value)
            if self.method.value != "gd":
                q["momentum"] = self.momentum.value
        if self.problem.value == self.state.problem:
            q["x0"] = self.x0.value
        q.update(n_steps=self.n_steps.value, noise=self.noise.value, seed=self.seed.value)
        if self.mass.value == 1.0 and self.param.value == "optimizer":
            q.pop("mass")
        return from_query({k: str(v) for k, v in q.items()})

    def _on_widget(self, event):
        if self.busy:
            return
        try:
            if event.obj is self.problem:
                s = self.state
                self.state = ExploreState(problem=event.new, params=(), method=s.method, param="optimizer",
                                          lr=self.view.lr, momentum=self.view.momentum, n_steps=s.n_steps,
                                          noise=s.noise, seed=s.seed)
                self._set_widgets(self.state)
            if event.obj is self.method and event.new == "gd":
                self.busy = True
                self.momentum.value = 0.0
                self.busy = False
            state = self._state_from_widgets()
        except QueryError as exc:
            self._show_error(f"Bad value {exc}")
            return
        self.update(state)

    def _sync_derived(self, v):
        """Show the derived parametrisation live (the exact map): lr/momentum or friction/step."""
        self.busy = True
        try:
            if v.state.param == "physical":
                self.lr.end = max(self.lr.end, v.lr)
                self.lr.value, self.momentum.value = v.lr, v.momentum
            elif v.physical is not None:
                p = v.physical
                self.friction.end, self.step.end = max(self.friction.end, p.friction), max(self.step.end, p.step)
                self.friction.value, self.step.value = max(p.friction, self.friction.start), max(p.step, self.step.start)
        finally:
            self.busy = False

    def _show_error(self, message):
        self.error.object = (f"<div class='hb-error' style='color:#900;background:#fee;border:1px solid #c66;"
                             f"padding:6px 10px;border-radius:4px'>{html.escape(message)}</div>")
        self.error.visible = True

    # -------------------------------------------------------------------- views
    def _views(self):
        self.text = pn.pane.HTML("", sizing_mode="stretch_width")
        self.src = {k: ColumnDataSource(data=d, name=k) for k, d in {
            "image": {"image": [np.zeros((2, 2))], "x": [0], "y": [0], "dw": [1], "dh": [1]},
            "trajectory": {"x": [], "y": []}, "markers": {"x": [], "y": []}, "start": {"x": [], "y": []}, "minimizer": {"x": [], "y": []},
            "phase": {"x": [], "v": []}, "flow": {"x0": [], "v0": [], "x1": [], "v1": []},
            "curve": {"k": [], "err": []}, "rho": {"k": [], "err": []},
            "rates": {"image": [np.zeros((2, 2))], "x": [0], "y": [0], "dw": [1], "dh": [1]},
            "point": {"lr": [], "momentum": []}, "modes": {"ll": [], "momentum": [], "regime": []},
        }.items()}
        f = self.fig_contour = figure(title="trajectory on log10(L - L*); click to start there", **FIG)
        f.image("image", x="x", y="y", dw="dw", dh="dh", source=self.src["image"], palette="Viridis256")
        f.line("x", "y", source=self.src["trajectory"], color="red", line_width=2)
        f.scatter("x", "y", source=self.src["markers"], color="red", size=3)
        f.scatter("x", "y", source=self.src["start"], color="white", line_color="black", size=10)
        f.scatter("x", "y", source=self.src["minimizer"], marker="star", color="yellow", line_color="black", size=14)
        f.on_event("tap", self._tap_contour)
        p = self.fig_phase = figure(title="phase portrait (x[0], v[0]) and the continuous flow", **FIG)
        p.segment("x0", "v0", "x1", "v1", source=self.src["flow"], color="grey", alpha=0.7)
        p.line("x", "v", source=self.src["phase"], color="red", line_width=1.5)
        p.xaxis.axis_label, p.yaxis.axis_label = "x[0]", "v[0]"
        c = self.fig_curve = figure(title="convergence", y_axis_type="log", **FIG)
        c.line("k", "err", source=self.src["curve"], color="red", line_width=2, legend_label="run")
        c.line("k", "err", source=self.src["rho"], color="black", line_dash="dashed", legend_label="rho^k")
        c.xaxis.axis_label = "step k"
        r = self.fig_rates = figure(title="rate map (measured, 500 steps); click to move there", **FIG)
        self.rate_mapper = LinearColorMapper(palette="Viridis256", low=0.5, high=1.0, nan_color="lightgrey")
        r.image("image", x="x", y="y", dw="dw", dh="dh", source=self.src["rates"], color_mapper=self.rate_mapper)
        r.scatter("lr", "momentum", source=self.src["point"], marker="star", color="red", size=16)
        r.xaxis.axis_label, r.yaxis.axis_label = "lr", "momentum"
        r.on_event("tap", self._tap_rates)
        g = self.fig_regimes = figure(title="heavy-ball regimes: blue monotone, green oscillate, orange flip, red diverge", x_range=(0, 4.2),
                                      y_range=(0, 1), **FIG)
        mapper = LinearColorMapper(palette=list(REGIME_COLOURS), low=-0.5, high=3.5)
        g.image(image=[regime_image()], x=0, y=0, dw=4.2, dh=1.0, color_mapper=mapper, alpha=0.6)
        g.scatter("ll", "momentum", source=self.src["modes"], color="black", size=9)
        g.xaxis.axis_label, g.yaxis.axis_label = "lr * lambda", "momentum"
        self.grid = pn.GridBox(*[pn.pane.Bokeh(x, sizing_mode="stretch_width") for x in
                                 (f, p, c, r, g)], ncols=2, sizing_mode="stretch_width")

    def update(self, state, push_url=True):
        """Compute ``state`` and redraw; a setting the library refuses shows its message and keeps the view."""
        try:
            view = compute(state)
        except (ValueError, TypeError) as exc:
            self._show_error(f"Cannot run this setting: {exc}")
            return False
        if push_url:  # a good setting clears the message of a bad one (the first view keeps a bad query's)
            self.error.visible = False
        self.state, self.view = state, view
        with pn.io.hold():  # one message to the browser for all the changes of this move
            self._visibility(state)
            self._sync_derived(view)
            self._draw(view)
            if push_url and pn.state.location is not None:
                pn.state.location.search = "?" + to_query(state)
        return True

    def _draw(self, v):
        self.text.object = _text_html(v)
        x = v.run.x
        if v.problem.dim == 1:
            xy = {"x": x[:, 0], "y": v.run.loss}
        else:
            xy = {"x": x[:, 0], "y": x[:, 1]}
        self.src["trajectory"].data = xy
        every = max(1, len(xy["x"]) // MAX_MARKERS)  # the line has every iterate; markers on at most 300
        self.src["markers"].data = {"x": xy["x"][::every], "y": xy["y"][::every]}
        self.src["start"].data = {"x": [xy["x"][0]], "y": [xy["y"][0]]}
        m = v.problem.minimizer
        self.src["minimizer"].data = ({"x": [m[0]], "y": [m[1] if v.problem.dim > 1 else (v.problem.min_value or 0)]}
                                      if m is not None and v.problem.dim <= 2 else {"x": [], "y": []})
        if v.contour is None:
            self.contour_id = None
            self.src["image"].data = {"image": [np.full((2, 2), np.nan)], "x": [0], "y": [0], "dw": [1], "dh": [1]}
        elif self.contour_id != id(v.contour):
            self.contour_id = id(v.contour)
            (x0, x1), (y0, y1) = v.contour["x"], v.contour["y"]
            self.src["image"].data = {"image": [v.contour["z"]], "x": [x0], "y": [y0], "dw": [x1 - x0], "dh": [y1 - y0]}
        self._draw_phase(v)
        self._draw_curve(v)
        self._draw_rates(v)
        modes = v.regimes
        self.src["modes"].data = {"ll": [r[1] for r in modes], "momentum": [v.momentum] * len(modes),
                                  "regime": [r[2] for r in modes]}

    def _draw_phase(self, v):
        if v.phys_run is None or v.phys_run.v is None:
            self.src["phase"].data, self.src["flow"].data = {"x": [], "v": []}, {"x0": [], "v0": [], "x1": [], "v1": []}
            return
        self.src["phase"].data = {"x": v.phys_run.x[:, 0], "v": v.phys_run.v[:, 0]}
        if v.flow is not None:
            self.src["flow"].data = {k: v.flow[k] for k in ("x0", "v0", "x1", "v1")}

    def _draw_curve(self, v):
        k = np.arange(len(v.run.loss))
        if v.exact_quadratic and v.problem.minimizer is not None:
            err = np.linalg.norm(v.run.x - np.asarray(v.problem.minimizer), axis=1)
            self.fig_curve.yaxis.axis_label = "|x_k - x*|"
        elif v.problem.min_value is not None:
            err = v.run.loss - v.problem.min_value
            self.fig_curve.yaxis.axis_label = "L - L*"
        else:
            err = v.run.loss - np.min(v.run.loss)
            self.fig_curve.yaxis.axis_label = "L - min L"
        err = np.where(err > 0, err, np.nan)
        self.src["curve"].data = {"k": k, "err": err}
        if v.radius is not None and v.exact_quadratic and np.isfinite(v.radius) and v.radius > 0:
            with np.errstate(all="ignore"):
                rho = err[0] * v.radius ** k.astype(float)
            self.src["rho"].data = {"k": k, "err": np.where(rho > 1e-300, rho, np.nan)}
        else:
            self.src["rho"].data = {"k": [], "err": []}

    def _draw_rates(self, v):
        if v.rates is None:
            return
        lrs, mom = v.rates.lrs, v.rates.momenta
        rate = np.where(np.isfinite(v.rates.rate), np.minimum(v.rates.rate, 1.0), np.nan)
        if self.src["rates"].data["dw"] != [lrs[-1] - lrs[0]] or self.rates_id != id(v.rates):
            self.rates_id = id(v.rates)
            self.src["rates"].data = {"image": [rate], "x": [lrs[0]], "y": [mom[0]], "dw": [lrs[-1] - lrs[0]],
                                      "dh": [mom[-1] - mom[0]]}
            finite = rate[np.isfinite(rate)]
            self.rate_mapper.low = float(np.min(finite)) if finite.size else 0.0
        self.src["point"].data = {"lr": [v.lr], "momentum": [v.momentum]}

    rates_id = contour_id = None

    # ------------------------------------------------------------------- clicks
    def _tap_contour(self, event):
        if self.view.problem.dim != 2:
            return
        self.x0.value = f"{event.x:.6g},{event.y:.6g}"

    def _tap_rates(self, event):
        if self.view.rates is None:
            return
        self.busy = True
        self.param.value = "optimizer"
        if self.method.value in INTEGRATOR_METHODS or self.method.value == "gd":
            self.method.value = "nesterov" if self.view.rates.method == "nesterov" else "heavy_ball"
        self.lr.value = float(max(event.x, self.lr.start))
        self.busy = False
        self.momentum.value = float(min(max(event.y, 0.0), 0.999))

    # ------------------------------------------------------------------ exports
    def _png(self):
        return io.BytesIO(export.png_bytes(self.view))

    def _gif(self):
        return io.BytesIO(export.gif_bytes(self.view))


def _text_html(v):
    s = v.state
    rho = (f"<b>spectral radius</b> rho = <span class='rho'>{v.radius:.12g}</span>"
           if v.radius is not None else "spectral radius: not defined (not a quadratic)")
    modes = ", ".join(f"lambda={l:.4g}: {r}" for l, _, r in v.regimes)
    if modes and not v.exact_quadratic:
        modes += " (local: the Hessian at the minimiser)"
    notes = "".join(f"<br><i>{html.escape(n)}</i>" for n in v.notes)
    return (f"<div class='hb-status'><b>status</b>: <span class='status'>{v.status}</span> "
            f"({s.method} on {s.problem}, {s.n_steps} steps)<br>{rho}"
            f"{'<br><b>modes</b>: ' + modes if modes else ''}<br><b>map</b>: {html.escape(v.map_text)}"
            f"<br><b>PyTorch</b>: <code class='torch'>{html.escape(v.torch_call)}</code>"
            f"<br><b>Keras</b>: <code class='keras'>{html.escape(v.keras_call)}</code>{notes}</div>")

