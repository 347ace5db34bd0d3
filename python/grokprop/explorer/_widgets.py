"""The explorer's widgets (ipywidgets): controls that edit a :class:`~grokprop.setups.Setup`
and buttons that act on an :class:`~._state.ExplorerState`, and HTML outputs that show it
(docs/design.md, "The explorer").

The numbers a test or a reader needs are in elements with stable classes, printed with
``repr`` (every digit of the float): ``gp-epochs``, ``gp-steps``, ``gp-step-error``,
``gp-epoch-error``, ``gp-backend``, ``gp-selected-weight``, and in the weights table one
``gp-weight`` cell per weight with ``data-weight="l-i-j"``. The buttons carry
``gp-<name>`` classes (``gp-step``, ``gp-epoch``, ``gp-train``, ...), the settings too
(``gp-data``, ``gp-hidden``, ``gp-n-epochs``, ...: :attr:`Explorer.settings`), and the
messages are in ``gp-messages``.
"""

from __future__ import annotations

import atexit
import html
import re
import threading
import weakref
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import numpy as np

from .. import _display, figures
from ..backends import available_backends, get_backend
from ..errors import DivergenceError
from ..setups import MAX_TRUTH_INPUTS, Setup, format_table, parse_table, weights_json
from ..specs import Activation
from ._state import ExplorerState, LastStep

MODES = ("stochastic", "mini-batch", "full")
_DATA_OPTIONS = [
    ("nonlinear streetlights (4 rows)", "nonlinear"),
    ("linear streetlights (6 rows)", "linear"),
    ("truth table", "truth"),
    ("my own table", "table"),
]
#: N epochs at most, per press of *train* (each epoch's error is kept: 8 MB a million)
MAX_EPOCHS = 1_000_000
_MAX_PRESSURE_COLUMNS = 24  # weights shown in the pressure table
_PRESSURE_SYMBOL = {1: "+", -1: "-", 0: "0"}


def _e(value: Any) -> str:
    return html.escape(str(value))


def _pre(text: str, css: str) -> str:
    """Preformatted text, monospaced whatever the page's style sheet (Voilà's is not)."""
    style = "font-family:monospace;white-space:pre;font-size:12px;line-height:1.3"
    return f'<pre class="{css}" style="{style}">{_e(text)}</pre>'


def _figure_html(draw: Callable[[], Any], css: str) -> str:
    """A figure as inline SVG; without matplotlib, a note saying what to install."""
    try:
        svg = figures.to_svg(draw())
    except ImportError as exc:
        return f'<div class="{css}">{_e(exc)}</div>'
    return f'<div class="{css}">{svg}</div>'


_RUNNING: weakref.WeakSet[Explorer] = weakref.WeakSet()


@atexit.register
def _stop_trainings() -> None:
    """At interpreter exit (a kernel shut down mid-training), stop every training between
    two chunks: a thread still inside a compiled loop when Python finalises would abort."""
    for explorer in list(_RUNNING):
        explorer.stop()
        explorer.wait(5)


_EDGE = re.compile(r'<g id="w-(\d+)-(\d+)-(\d+)">')


def _with_tooltips(svg: str, net: Any) -> str:
    """Each weight's edge in the network figure gets a ``<title>``: hovering over it shows
    the weight's name and value (its element id is ``w-l-i-j``, see grokprop.figures)."""

    def titled(match: re.Match[str]) -> str:
        l, i, j = (int(g) for g in match.groups())
        value = float(net.weights[l][i, j])
        return f"{match.group(0)}<title>weights_{l}_{l + 1}[{i}, {j}] = {value!r}</title>"

    return _EDGE.sub(titled, svg)


class Explorer:
    """The explorer: ``display(Explorer())`` in a notebook (or :func:`grokprop.explore`).

    ``state`` is the :class:`~._state.ExplorerState` the buttons act on; ``widget`` the
    whole layout. Long trainings run in a thread (:meth:`wait` joins it).
    """

    def __init__(self, setup: Setup | None = None, *, backend: str | None = None) -> None:
        self.state = ExplorerState(setup, backend=backend or get_backend())
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._updating = False  # controls being set from a setup: no change events then
        self._drawn_step: LastStep | None = None
        self._drawn_network: tuple[Any, ...] = ()
        self._drawing = threading.Lock()
        self._build()
        self._show_setup(self.state.setup)
        self.refresh()

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        style = {"description_width": "90px"}
        wide = w.Layout(width="320px")

        def narrow() -> w.Layout:  # one Layout per widget: hiding one must not hide all
            return w.Layout(width="230px")

        self.data = w.Dropdown(options=_DATA_OPTIONS, description="data", style=style, layout=wide)
        self.function = w.Text(  # applied on Enter or leaving the field, not per keystroke
            description="function", style=style, layout=narrow(), continuous_update=False
        )
        self.inputs = w.BoundedIntText(
            min=1, max=MAX_TRUTH_INPUTS, description="inputs", style=style, layout=narrow()
        )
        self.table = w.Textarea(
            description="table",
            continuous_update=False,
            placeholder="inputs | targets, one example per line",
            style=style,
            layout=w.Layout(width="320px", height="110px"),
        )
        self.hidden = w.BoundedIntText(
            min=0, max=64, description="hidden", style=style, layout=narrow()
        )
        self.activation = w.Dropdown(
            options=list(Activation.labels()), description="activation", style=style
        )
        self.alpha = w.FloatText(description="alpha", style=style, layout=narrow())
        self.seed = w.BoundedIntText(
            min=0, max=2**32 - 1, description="seed", style=style, layout=narrow()
        )
        self.mode = w.Dropdown(options=MODES, description="mode", style=style)
        self.batch_size = w.BoundedIntText(
            min=1, max=256, description="batch size", style=style, layout=narrow()
        )
        self.epochs = w.BoundedIntText(
            min=1, max=MAX_EPOCHS, description="N epochs", style=style, layout=narrow()
        )
        self.backend = w.Dropdown(
            options=list(available_backends()),
            value=self.state.backend,
            description="backend",
            style=style,
        )
        self.backend.add_class("gp-backend-select")
        # every setting's widget, by its page class (gp-data, gp-n-epochs, ...)
        self.settings: dict[str, w.Widget] = {
            "data": self.data,
            "function": self.function,
            "inputs": self.inputs,
            "table": self.table,
            "hidden": self.hidden,
            "activation": self.activation,
            "alpha": self.alpha,
            "seed": self.seed,
            "mode": self.mode,
            "batch-size": self.batch_size,
            "n-epochs": self.epochs,
        }
        for name, control in self.settings.items():
            control.add_class(f"gp-{name}")
            control.observe(self._on_setup_change, names="value")
        self.backend.observe(self._on_backend, names="value")

        def button(label: str, name: str, action: Callable[[], None], tip: str) -> w.Button:
            b = w.Button(description=label, tooltip=tip, layout=w.Layout(width="auto"))
            b.add_class(f"gp-{name}")
            b.on_click(lambda _b: self._run(action))
            return b

        self.step_button = button("step", "step", self.step, "one update on the next rows")
        self.epoch_button = button("epoch", "epoch", self.epoch, "one pass over the rows")
        self.train_button = button("train N epochs", "train", self.train, "N epochs")
        self.stop_button = button("stop", "stop", self.stop, "stop the training")
        self.rewind_button = button("rewind", "rewind", self.rewind, "the starting weights")
        self.seed_button = button("new seed", "new-seed", self.new_seed, "the next seed")
        self.verify_button = button("verify", "verify", self.verify, "gp.verify, N epochs")
        self.stop_button.disabled = True
        self._busy_buttons = [
            self.step_button,
            self.epoch_button,
            self.train_button,
            self.rewind_button,
            self.seed_button,
            self.verify_button,
        ]

        self.weight_select = w.Dropdown(description="weight", style=style)
        self.weight_select.observe(lambda _c: self._show_weight(self.state.net), names="value")
        self.weight_value = w.HTML()

        self.setup_text = w.Textarea(
            placeholder="a setup document (JSON)", layout=w.Layout(width="100%", height="150px")
        )
        self.setup_text.add_class("gp-setup-text")
        self.export_button = button(
            "export setup", "export-setup", self.export_setup, "the setup as JSON"
        )
        self.import_button = button(
            "import setup", "import-setup", self.import_setup, "use the JSON above"
        )
        self.weights_button = button(
            "export weights", "export-weights", self.export_weights, "the weights as JSON"
        )

        self.message = w.HTML()
        self.message.add_class("gp-messages")
        self.status = w.HTML()
        self.network_view = w.HTML()
        self.curve_view = w.HTML()
        self.weights_view = w.HTML()
        self.pressure_view = w.HTML()
        self.step_view = w.HTML()
        self.explain_view = w.HTML()
        self.verify_view = w.HTML()

        controls = w.VBox(
            [
                w.HTML("<b>grokprop explorer</b>"),
                self.data,
                self.function,
                self.inputs,
                self.table,
                self.hidden,
                self.activation,
                self.alpha,
                self.seed,
                self.mode,
                self.batch_size,
                self.epochs,
                self.backend,
            ],
            layout=w.Layout(min_width="340px"),
        )
        buttons = w.HBox(
            [
                self.step_button,
                self.epoch_button,
                self.train_button,
                self.stop_button,
                self.rewind_button,
                self.seed_button,
                self.verify_button,
            ],
            layout=w.Layout(flex_flow="row wrap"),
        )
        views = w.VBox(
            [
                buttons,
                self.message,
                self.status,
                w.HBox([self.network_view, self.curve_view]),
                w.HBox([self.weight_select, self.weight_value]),
                w.HBox([self.weights_view, self.pressure_view]),
            ]
        )
        step_tab = w.VBox([self.step_view, self.explain_view])
        share_tab = w.VBox(
            [w.HBox([self.export_button, self.import_button, self.weights_button]), self.setup_text]
        )
        tabs = w.Tab(children=[step_tab, w.VBox([self.verify_view]), share_tab])
        for k, title in enumerate(("last step, explained", "verify", "share")):
            tabs.set_title(k, title)
        self.widget = w.VBox([w.HBox([controls, views]), tabs])
        self.widget.add_class("gp-explorer")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]

    # -- setup <-> controls -----------------------------------------------------------------
    def _show_setup(self, setup: Setup) -> None:
        self._updating = True
        try:
            self.data.value = setup.data
            self.function.value = setup.function
            self.inputs.value = setup.inputs
            if setup.data == "table":
                self.table.value = format_table(setup.X, setup.y)
            elif not self.table.value:
                self.table.value = "1 0 1 | 1\n0 1 1 | 1\n0 0 1 | 0\n1 1 1 | 0"
            self.hidden.value = setup.hidden
            self.activation.value = setup.activation
            self.alpha.value = setup.alpha
            self.seed.value = setup.seed
            self.mode.value = (
                "full"
                if setup.batch_size is None
                else "stochastic"
                if setup.batch_size == 1
                else "mini-batch"
            )
            self.batch_size.value = setup.batch_size or setup.rows
            self.epochs.value = max(setup.epochs, 1)
        finally:
            self._updating = False
        self._show_controls()

    def _show_controls(self) -> None:
        def shown(widget: w.Widget, visible: bool) -> None:
            widget.layout.display = None if visible else "none"

        shown(self.function, self.data.value == "truth")
        shown(self.inputs, self.data.value == "truth")
        shown(self.table, self.data.value == "table")
        shown(self.batch_size, self.mode.value == "mini-batch")

    def setup_from_controls(self) -> Setup:
        """The setup the controls describe (a ``ValueError`` naming the field if one is bad)."""
        X: list[list[float]] = []
        y: list[list[float]] = []
        if self.data.value == "table":
            X, y = parse_table(self.table.value)
        mode = self.mode.value
        return Setup(
            data=self.data.value,
            function=self.function.value,
            inputs=self.inputs.value,
            X=tuple(map(tuple, X)),
            y=tuple(map(tuple, y)),
            hidden=self.hidden.value,
            activation=self.activation.value,
            alpha=self.alpha.value,
            seed=self.seed.value,
            batch_size=1
            if mode == "stochastic"
            else None
            if mode == "full"
            else self.batch_size.value,
            epochs=self.epochs.value,
        )

    def _on_setup_change(self, _change: Any) -> None:
        if self._updating:
            return
        self._show_controls()
        self._run(lambda: self.state.apply(self.setup_from_controls()))

    def _on_backend(self, change: Any) -> None:
        def switch() -> None:
            self.state.backend = change["new"]

        self._run(switch)

    # -- actions ----------------------------------------------------------------------------
    def _run(self, action: Callable[[], Any]) -> None:
        """Run a button's action; a bad setting or a divergence becomes the message."""
        if self.training and action != self.stop:
            self._say("training is running: stop it first", error=True)
            return
        try:
            action()
        except (ValueError, TypeError, DivergenceError) as exc:
            self._say(str(exc), error=True)
            self.refresh(message=False)
        else:
            if action != self.stop and not self.training:
                self.refresh()

    def step(self) -> None:
        """One update on the next rows, explained."""
        self.state.step()

    def epoch(self) -> None:
        """One epoch."""
        self.state.fit(1)

    def train(self, *, background: bool = True) -> None:
        """``N epochs`` epochs in chunks, in a thread (``background=False``: in this one)."""
        epochs = self.epochs.value
        self._stop.clear()
        self._set_busy(True)
        self._say(f"training {epochs} epochs ...")
        thread = threading.Thread(target=self._train, args=(epochs,), daemon=True)
        self._thread = thread
        _RUNNING.add(self)
        if background:
            thread.start()
        else:
            thread.run()

    def _train(self, epochs: int) -> None:
        import time

        shown = [time.perf_counter()]

        def on_chunk(done: int) -> None:
            now = time.perf_counter()
            if now - shown[0] > 0.5:  # drawing costs more than a chunk: redraw twice a second
                self.refresh(message=False)
                shown[0] = now

        try:
            done = self.state.train(epochs, stop=self._stop, on_chunk=on_chunk)
        except (ValueError, DivergenceError) as exc:
            self._say(str(exc), error=True)
        except BaseException as exc:  # never leave the buttons disabled
            self._say(f"training failed: {exc!r}", error=True)
            raise
        else:
            stopped = " (stopped)" if done < epochs else ""
            self._say(f"trained {done} of {epochs} epochs{stopped}")
        finally:
            self._set_busy(False)
            self.refresh(message=False)

    def stop(self) -> None:
        """Stop a training between two chunks."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a running training to finish."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)

    @property
    def training(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def rewind(self) -> None:
        """Back to the same starting weights."""
        self.state.rewind()

    def new_seed(self) -> None:
        """A new network from the next seed."""
        setup = self.state.new_seed()
        self._show_setup(setup)

    def verify(self) -> None:
        """``gp.verify`` on the current setup and weights."""
        report = self.state.verify()
        self.verify_view.value = _pre(report.table(), "gp-verify")

    def export_setup(self) -> None:
        self.setup_text.value = self.state.setup.to_json()

    def import_setup(self) -> None:
        setup = Setup.from_json(self.setup_text.value)
        self.state.apply(setup)
        self._show_setup(setup)

    def export_weights(self) -> None:
        self.setup_text.value = weights_json(self.state.net)

    def _set_busy(self, busy: bool) -> None:
        for b in self._busy_buttons:
            b.disabled = busy
        self.stop_button.disabled = not busy

    # -- display ----------------------------------------------------------------------------
    def _say(self, text: str, *, error: bool = False) -> None:
        color = "#b2182b" if error else "#333"
        css = "gp-message gp-error-message" if error else "gp-message"
        self.message.value = f'<div class="{css}" style="color:{color}">{_e(text)}</div>'

    def refresh(self, *, message: bool = True) -> None:
        """Redraw every output from the state (from the training thread too: one redraw
        at a time)."""
        with self._drawing:
            self._refresh(message)

    def _refresh(self, message: bool) -> None:
        if message:
            self.message.value = ""
        state = self.state
        with state.lock:
            net = state.net.copy()
            errors = state.errors
            last = state.last_step
            steps = state.steps
        epoch_error = repr(float(errors[-1])) if len(errors) else "-"
        step_error = repr(last.trace.error) if last is not None else "-"
        drawn = (net.activation, *(w.tobytes() for w in net.weights))
        if drawn != self._drawn_network:  # redrawn only when a weight changed
            self._drawn_network = drawn
            self.network_view.value = _with_tooltips(
                _figure_html(lambda: figures.network_figure(net), "gp-network"), net
            )
        self.curve_view.value = self._curve_html(errors)
        self.weights_view.value = self._weights_html(net)
        self.pressure_view.value = self._pressure_html()
        names = state.weight_names
        if [label for label, _ in self.weight_select.options] != [n for n, _ in names]:
            self.weight_select.options = names
            if self.weight_select.value is None and names:
                self.weight_select.value = names[-1][1]  # the output layer's last weight
        self._show_weight(net)
        if last is None:
            self.step_view.value = "<i>press step: one update, every number explained</i>"
            self.explain_view.value = ""
            self._drawn_step = None
        elif last is not self._drawn_step:  # drawn once per step
            self._drawn_step = last
            self.step_view.value = _figure_html(
                lambda: figures.step_figure(last.trace, relu=net.activation == "relu"),
                "gp-step-figure",
            )
            self.explain_view.value = _pre(last.explanation, "gp-explain")
        # the status last: once it shows new numbers, every view above already does (the
        # front end applies the updates in order), which is what the browser test waits on
        self.status.value = (
            '<div class="gp-status" style="font-family:monospace">'
            f"network {list(net.sizes)} {net.activation}, "
            f'backend <span class="gp-backend">{_e(state.backend)}</span><br>'
            f'epochs trained <span class="gp-epochs">{len(errors)}</span>, '
            f'steps <span class="gp-steps">{steps}</span><br>'
            f'last epoch error <span class="gp-epoch-error">{epoch_error}</span><br>'
            f'last step error <span class="gp-step-error">{step_error}</span></div>'
        )

    def _show_weight(self, net: Any) -> None:
        index = self.weight_select.value
        if index is None:
            self.weight_value.value = ""
            return
        l, i, j = index
        value = float(net.weights[l][i, j])
        self.weight_value.value = (
            f'<span class="gp-selected-weight" style="font-family:monospace">{value!r}</span>'
        )

    @staticmethod
    def _curve_html(errors: np.ndarray) -> str:
        """Every epoch's error on a log scale: the displays' sparkline (a few ms), since
        a matplotlib curve would cost a third of a second on every redraw."""
        if not len(errors):
            return '<div class="gp-curve"><i>no epoch trained yet</i></div>'
        line = _display.sparkline(errors, width=360, height=150) if len(errors) > 1 else ""
        return (
            '<div class="gp-curve" style="font-family:sans-serif;font-size:12px">'
            f"<b>error per epoch</b> (epochs 1 to {len(errors)})<br>{line}</div>"
        )

    @staticmethod
    def _weights_html(net: Any) -> str:
        cells = []
        for l, matrix in enumerate(net.weights):
            rows = "".join(
                "<tr>"
                + "".join(
                    f'<td class="gp-weight" data-weight="{l}-{i}-{j}" '
                    f'style="padding:1px 6px;font-family:monospace">{float(v)!r}</td>'
                    for j, v in enumerate(row)
                )
                + "</tr>"
                for i, row in enumerate(matrix)
            )
            cells.append(
                f'<table style="border-collapse:collapse;margin:4px">'
                f'<caption style="text-align:left">weights_{l}_{l + 1}</caption>{rows}</table>'
            )
        return '<div class="gp-weights">' + "".join(cells) + "</div>"

    def _pressure_html(self) -> str:
        """The chapter's pressure table for the output layer's weights: the sign each
        example's weight delta pushes each weight with, and the net pressure."""
        try:
            signs = self.state.pressure()[-1]
        except (ValueError, DivergenceError) as exc:
            return f"<i>{_e(exc)}</i>"
        l = len(self.state.net.sizes) - 2
        columns = [
            (f"[{i},{j}]", signs[:, i, j])
            for i in range(signs.shape[1])
            for j in range(signs.shape[2])
        ][:_MAX_PRESSURE_COLUMNS]
        rows = [
            [str(k), *(_PRESSURE_SYMBOL[int(c[k])] for _, c in columns)]
            for k in range(len(self.state.X))
        ]
        rows.append(["net", *(f"{int(c.sum()):+d}" for _, c in columns)])
        table = _display.table_html(
            ["example", *(name for name, _ in columns)],
            rows,
            caption=f"pressure on weights_{l}_{l + 1} (+ up, - down, 0 untouched)",
        )
        return f'<div class="gp-pressure">{table}</div>'
