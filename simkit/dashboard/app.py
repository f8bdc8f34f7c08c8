"""The dashboard's widgets: built here, around :class:`~simkit.dashboard.model.WhatIfModel`.

The notebook calls :func:`build_dashboard` and displays what it returns; every callback lives
here.  Each callback treats its input as untrusted (values go through
:func:`~simkit.dashboard.model.parse_pivot` or the run model), caps the work (horizon <= 90
days, paths <= :data:`~simkit.dashboard.model.MAX_PATHS`) and turns any failure into a short
message in the status line, never a traceback (:meth:`DashboardApp._guard`).

Charts are SVG made in the kernel (vl-convert) and shown in an ``Output`` widget, so the
page needs no CDN.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simkit import telemetry
from simkit.dashboard import guard
from simkit.dashboard.charts import chart_svg, warm_up
from simkit.dashboard.ledger import LedgerView
from simkit.dashboard.messages import short_error
from simkit.dashboard.model import (
    MAX_HORIZON_DAYS,
    MIN_HORIZON_DAYS,
    Baseline,
    DashboardSettings,
    Preview,
    WhatIfModel,
    parse_pivot,
)
from simkit.dashboard.sources import sources_tab
from simkit.dashboard.views import run_tabs
from simkit.errors import SimkitError

__all__ = ["DashboardApp", "build_dashboard", "short_error"]

log = logging.getLogger(__name__)

_CSS = """
<style>
.simkit-error { color: #a61b1b; font-weight: 600; }
.simkit-ok { color: #2b6b2b; }
.simkit-table { border-collapse: collapse; font-size: 13px; }
.simkit-table th, .simkit-table td { padding: 2px 8px; text-align: right; border-bottom: 1px solid #ddd; white-space: nowrap; line-height: 1.5; }
.simkit-table th:first-child, .simkit-table td:first-child { text-align: left; }
.simkit-note { color: #555; font-size: 12px; }
.simkit-card { border: 1px solid #ccc; border-radius: 4px; padding: 4px 8px; margin: 4px 0; }
</style>
"""


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return "-"
    if abs(value) >= 100 or digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _signed(value: float | None, digits: int = 2) -> str:
    text = _fmt(value, digits)
    return text if text == "-" or text.startswith("-") else "+" + text


def scenario_html(baseline: Baseline) -> str:
    """The baseline's scenarios and probabilities as an HTML table."""
    rows = "".join(
        f"<tr><td>{html.escape(r['scenario'])}</td>"
        f"<td>{r['probability']:.0%}</td><td>{html.escape(r['probability_of'])}</td>"
        f"<td>{_fmt(r['conversions'])}</td><td>{_fmt(r['spend'])}</td>"
        f"<td>{_fmt(r['cpa'])}</td><td>{_fmt(r['roas'])}</td></tr>"
        for r in baseline.scenario_rows()
    )
    probs = baseline.result.probabilities
    labels = {
        "p_below_plan": "below plan (>10% under)",
        "p_on_plan": "on plan (within 10%)",
        "p_above_plan": "above plan (>10% over)",
        "p_cpa_le_target": "CPA at or under target",
        "p_roas_ge_target": "ROAS at or above target",
        "p_budget_exhausted": "budget exhausted early",
    }
    prob_rows = "".join(
        f"<tr><td>{html.escape(text)}</td><td>{probs[key]:.0%}</td></tr>"
        for key, text in labels.items()
        if key in probs
    )
    return (
        f"<b>Baseline, next {baseline.horizon_days} days</b>"
        "<div class='simkit-note'>The scenarios split the simulated paths by conversions "
        "(below the p20, p20 to p80, above the p80): their probabilities add up to 100%; "
        "each row is the mean of its paths (CPA, ROAS: ratios of the mean totals).</div>"
        "<table class='simkit-table'><tr><th>scenario</th><th>probability</th>"
        "<th>paths where</th><th>mean conversions</th><th>mean spend</th><th>CPA</th>"
        "<th>ROAS</th></tr>"
        f"{rows}</table><table class='simkit-table'><tr><th>event</th><th>probability</th>"
        f"</tr>{prob_rows}</table>"
    )


def delta_html(preview: Preview) -> str:
    """The delta panel: pivot minus baseline on the same paths, with p10-p90 and P(better)."""
    names = {
        "conversions": "conversions",
        "cpa": "CPA",
        "roas": "ROAS",
        "revenue": "revenue",
        "spend": "spend",
    }
    rows = []
    for metric, d in preview.deltas.items():
        n = 2 if metric in ("cpa", "roas") else 0
        rows.append(
            f"<tr data-metric='{metric}'><td>&Delta; {names[metric]}</td>"
            f"<td>{_fmt(d.baseline_p50, n)}</td><td>{_fmt(d.pivot_p50, n)}</td>"
            f"<td><b>{_signed(d.p50, n)}</b></td>"
            f"<td>{_signed(d.p10, n)} to {_signed(d.p90, n)}</td>"
            f"<td>{d.p_better:.0%}</td></tr>"
        )
    notes = "".join(f"<div class='simkit-note'>{html.escape(n)}</div>" for n in preview.notes)
    return (
        f"<b>Preview: {html.escape(preview.pivot.describe())}</b> "
        f"<span class='simkit-note'>({preview.baseline.n_paths:,} paired paths, "
        f"{preview.seconds:.2f} s)</span>"
        "<table class='simkit-table'><tr><th>metric</th><th>baseline p50</th>"
        "<th>pivot p50</th><th>&Delta; p50</th><th>&Delta; p10 to p90</th>"
        f"<th>P(better)</th></tr>{''.join(rows)}</table>{notes}"
    )


class DashboardApp:
    """All widgets and callbacks of the dashboard (see the module docstring)."""

    def __init__(
        self,
        model: WhatIfModel,
        *,
        extra_tabs: list[tuple[str, Any]] | None = None,
        cards_in_background: bool = True,
        workdir: str | Path | None = None,
    ) -> None:
        import ipywidgets as w  # heavy (~0.5 s), and only a Voila kernel draws widgets

        self.model = model
        self.cards_in_background = cards_in_background
        # where the audit log is (beside the registry); None (tests, a bare app): not audited
        self.workdir = Path(workdir) if workdir is not None else None
        self.slots = guard.SimulationSlots()
        self.baseline_view: Baseline | None = None
        self.preview_view: Preview | None = None
        options = [(c.label, c.campaign_id) for c in model.campaigns()]
        self.status = w.HTML(value="")
        self.status.add_class("simkit-status")
        self.campaign = w.Dropdown(
            options=options, description="Campaign", layout=w.Layout(width="420px")
        )
        self.horizon = w.IntSlider(
            value=model.settings.horizon_days,
            min=MIN_HORIZON_DAYS,
            max=MAX_HORIZON_DAYS,
            step=1,
            description="Horizon (days)",
            continuous_update=False,
            style={"description_width": "120px"},
        )
        self.metric = w.Dropdown(
            options=["conversions", "revenue", "spend", "cpa", "roas"],
            value="conversions",
            description="Chart",
        )
        self.budget = w.FloatSlider(
            value=0.0,
            min=-50.0,
            max=100.0,
            step=5.0,
            description="Budget change (%)",
            continuous_update=False,
            readout_format=".0f",
            style={"description_width": "150px"},
            layout=w.Layout(width="460px"),
        )
        self.budget.add_class("simkit-budget")
        self.refresh = w.ToggleButton(
            value=False,
            description="Creative refresh",
            tooltip="start a new creative on the first day",
        )
        self.audience = w.IntSlider(
            value=0,
            min=0,
            max=100,
            step=5,
            description="Audience expansion (%)",
            continuous_update=False,
            style={"description_width": "150px"},
            layout=w.Layout(width="460px"),
        )
        self.competition = w.IntSlider(
            value=0,
            min=-50,
            max=100,
            step=5,
            description="Competition (%)",
            continuous_update=False,
            style={"description_width": "150px"},
            layout=w.Layout(width="460px"),
        )
        self.preview_button = w.Button(description="Preview", button_style="primary")
        self.preview_button.add_class("simkit-preview")
        self.reset_button = w.Button(description="Reset")
        self.chart = w.Output(layout=w.Layout(min_height="320px"))
        self.chart.add_class("simkit-chart")
        self.scenarios = w.HTML()
        self.scenarios.add_class("simkit-scenarios")
        self.delta = w.HTML(value="<i>Set up a pivot and press Preview.</i>")
        self.delta.add_class("simkit-delta")
        self.notes = w.HTML()
        self.cards = w.VBox()
        self.cards.add_class("simkit-cards")

        self.campaign.observe(self._guard("Loading the campaign", self._on_baseline), "value")
        self.horizon.observe(self._guard("Changing the horizon", self._on_baseline), "value")
        self.metric.observe(self._guard("Redrawing the chart", self._on_metric), "value")
        self.preview_button.on_click(self._guard("The preview", self._on_preview))
        self.reset_button.on_click(self._guard("Reset", self._on_reset))

        levers = w.VBox(
            [
                self.budget,
                self.audience,
                self.competition,
                w.HBox([self.refresh, self.preview_button, self.reset_button]),
            ]
        )
        whatif = w.VBox(
            [
                w.HBox([self.campaign, self.horizon]),
                w.HBox([levers, w.VBox([self.metric])]),
                self.chart,
                w.HBox(
                    [self.delta, self.scenarios],
                    layout=w.Layout(flex_flow="row wrap", grid_gap="24px"),
                ),
                self.notes,
                self.cards,
            ]
        )
        tabs = [("What-if", whatif), *(extra_tabs or [])]
        self.tabs = w.Tab(children=[t[1] for t in tabs])
        for i, (title, _) in enumerate(tabs):
            self.tabs.set_title(i, title)
        self.widget = w.VBox([w.HTML(_CSS), self.status, self.tabs])

    # -- plumbing ----------------------------------------------------------------------------

    def _guard(self, action: str, fn: Callable[..., None]) -> Callable[..., None]:
        """Run a callback; show any failure as a short message, never a traceback."""

        def handler(*args: Any) -> None:
            try:
                fn(*args)
            except Exception as exc:  # the UI boundary: nothing may escape as a traceback
                log.warning("%s failed", action, exc_info=not isinstance(exc, SimkitError))
                self.show_error(short_error(exc, action))
                if not isinstance(exc, SimkitError):  # a bug, not a user's mistake
                    telemetry.capture_failure(
                        f"dashboard: {action} failed ({type(exc).__name__})", kind="dashboard"
                    )
            finally:
                self.preview_button.disabled = False

        return handler

    def show_error(self, message: str) -> None:
        self.status.value = f"<div class='simkit-error'>{html.escape(message)}</div>"

    def show_status(self, message: str) -> None:
        self.status.value = f"<div class='simkit-ok'>{html.escape(message)}</div>"

    def _draw(self) -> None:
        if self.baseline_view is None:
            return
        chart = self.model.chart(self.baseline_view, self.preview_view, metric=self.metric.value)
        # set the Output's outputs directly: one message, no flicker, works from any thread
        self.chart.outputs = (
            {
                "output_type": "display_data",
                "metadata": {},
                "data": {"image/svg+xml": chart_svg(chart), "text/plain": "what-if chart"},
            },
        )

    # -- callbacks ---------------------------------------------------------------------------

    def _on_baseline(self, _change: Any = None) -> None:
        t0 = time.perf_counter()
        campaign = self.model.check_campaign(self.campaign.value)
        horizon = parse_pivot({"horizon_days": self.horizon.value}).horizon_days
        self.show_status(f"Simulating the baseline of {campaign} ...")
        self.baseline_view = self.model.baseline(campaign, horizon)
        self.preview_view = None
        self.scenarios.value = scenario_html(self.baseline_view)
        self.delta.value = "<i>Set up a pivot and press Preview.</i>"
        self.notes.value = "".join(
            f"<div class='simkit-note'>{html.escape(n)}</div>" for n in self.baseline_view.notes
        )
        self._draw()
        self.show_status(f"Baseline of {campaign} ready ({time.perf_counter() - t0:.1f} s).")
        self._load_cards(campaign)

    # -- recommendation cards ----------------------------------------------------------------

    def _load_cards(self, campaign: str) -> None:
        """Fill the pivot engine's cards (in a thread: the engine runs once, ~1-2 s)."""
        import ipywidgets as w  # heavy (~0.5 s), and only a Voila kernel draws widgets

        self.cards.children = (w.HTML("<i>Loading the pivot engine's recommendations ...</i>"),)
        job = self._guard("Loading recommendations", lambda: self._fill_cards(campaign))
        if self.cards_in_background:
            import threading

            threading.Thread(target=job, name="simkit-cards", daemon=True).start()
        else:
            job()

    def _fill_cards(self, campaign: str) -> None:
        import ipywidgets as w  # heavy (~0.5 s), and only a Voila kernel draws widgets

        cards = self.model.recommendations(campaign)
        if self.campaign.value != campaign:  # the user moved on meanwhile
            return
        children: list[Any] = [
            w.HTML(
                "<b>Recommended pivots</b> <span class='simkit-note'>"
                "(pivot engine, ranked; impact over the campaigns each "
                "touches)</span>"
            )
        ]
        if not cards:
            children.append(w.HTML("<i>No pivot is recommended for this campaign.</i>"))
        for card in cards:
            conv = card.conversions
            impact = (
                f"conversions {_signed(conv.get('p50'), 0)} (80%: "
                f"{_signed(conv.get('p10'), 0)} to {_signed(conv.get('p90'), 0)})"
                if conv
                else ""
            )
            text = w.HTML(
                f"<div class='simkit-card'><b>{html.escape(card.type.replace('_', ' '))}</b>: "
                f"{html.escape(card.action)}<br>{impact}; confidence {card.confidence:.0%}"
                f"<div class='simkit-note'>{html.escape(card.rationale)}</div>"
                f"<div class='simkit-note'>preview: {html.escape(card.pivot_note)}</div></div>"
            )
            button = w.Button(
                description="Preview this", disabled=card.pivot is None, tooltip=card.pivot_note
            )
            button.add_class("simkit-card-preview")
            if card.pivot is not None:
                values = dict(card.pivot)
                button.on_click(
                    self._guard(
                        "Previewing the recommendation", lambda _b, v=values: self.apply_pivot(v)
                    )
                )
            children.append(w.HBox([text, button]))
        self.cards.children = tuple(children)

    def pivot_values(self) -> dict[str, Any]:
        """The levers as raw values (validated by :func:`parse_pivot` before use)."""
        return {
            "budget_change_pct": self.budget.value,
            "creative_refresh": self.refresh.value,
            "audience_expansion_pct": self.audience.value,
            "competition_pct": self.competition.value,
            "horizon_days": self.horizon.value,
        }

    def _on_preview(self, _button: Any = None) -> None:
        t0 = time.perf_counter()
        self.preview_button.disabled = True
        pivot = parse_pivot(self.pivot_values())
        campaign = self.model.check_campaign(self.campaign.value)
        if (
            self.baseline_view is None
            or self.baseline_view.campaign_id != campaign
            or self.baseline_view.horizon_days != pivot.horizon_days
        ):
            self._on_baseline()
        with self.slots.hold():
            self.preview_view = self.model.preview(campaign, pivot)
        self._draw()  # the chart first: the delta panel changing means both are updated
        self.delta.value = delta_html(self.preview_view)
        seconds = time.perf_counter() - t0
        self.show_status(f"Preview of {pivot.describe()} ready ({seconds:.2f} s).")
        guard.record_preview(
            self.workdir, campaign_id=campaign, seconds=seconds, pivot=pivot.describe()
        )

    def _on_metric(self, _change: Any = None) -> None:
        self._draw()

    def _on_reset(self, _button: Any = None) -> None:
        self.budget.value = 0.0
        self.refresh.value = False
        self.audience.value = 0
        self.competition.value = 0
        self.preview_view = None
        self.delta.value = "<i>Set up a pivot and press Preview.</i>"
        self._draw()

    def apply_pivot(self, values: dict[str, Any]) -> None:
        """Set the levers from a pivot (validated) and preview it ("preview this")."""
        pivot = parse_pivot(values)
        telemetry.track("pivot viewed")
        self.budget.value = pivot.budget_change_pct
        self.refresh.value = pivot.creative_refresh
        self.audience.value = int(pivot.audience_expansion_pct)
        self.competition.value = int(pivot.competition_pct)
        self.tabs.selected_index = 0
        self._on_preview()

    def select_campaign(self, campaign_id: str) -> None:
        """Show a campaign on the what-if tab (the campaigns view's "simulate")."""
        self.campaign.value = self.model.check_campaign(campaign_id)
        self.tabs.selected_index = 0

    def start(self) -> Any:
        """Draw the first campaign's baseline and return the root widget."""
        self._guard("Loading the campaign", self._on_baseline)()
        return self.widget


def build_dashboard(model: WhatIfModel, **kwargs: Any) -> Any:
    """The dashboard's root widget, with the first campaign's baseline drawn."""
    return DashboardApp(model, **kwargs).start()


def _message_widget(message: str) -> Any:
    import ipywidgets as w  # heavy (~0.5 s), and only a Voila kernel draws widgets

    box = w.HTML(f"{_CSS}<div class='simkit-error'>{html.escape(message)}</div>")
    box.add_class("simkit-status")
    return box


def open_dashboard(
    *,
    data: str,
    mapping: str | None = None,
    run_id: str | None = None,
    horizon_days: int = 30,
    n_paths: int = 10_000,
    seed: int = 7,
    workdir: str = ".",
    members: list[str] | tuple[str, ...] | None = None,
) -> Any:
    """Validate the notebook's parameters, load the data and build every view.

    A problem with the parameters or the data gives a page with one short message (the
    notebook never shows a traceback).  ``workdir`` is where the forecast cache, new
    parameter files and started runs live; ``run_id`` names the run the data came from.
    """
    threading.Thread(target=warm_up, name="simkit-vl-convert-warm-up", daemon=True).start()
    telemetry.init_sentry()  # opt-in: only with SENTRY_DSN
    try:
        base = Path(workdir).resolve()
        here = Path.cwd()
        settings = DashboardSettings(
            data=str(_resolve(data, here)),
            mapping=str(_resolve(mapping, here)) if mapping else None,
            horizon_days=min(max(int(horizon_days), MIN_HORIZON_DAYS), MAX_HORIZON_DAYS),
            n_paths=n_paths,
            seed=seed,
            members=tuple(members)
            if members
            else DashboardSettings.model_fields["members"].default,
            cache_dir=str(base / ".simkit-cache"),
        )
        model = WhatIfModel.from_settings(settings)
    except Exception as exc:  # the page shows a short message instead of a traceback
        log.warning("the dashboard could not start", exc_info=not isinstance(exc, SimkitError))
        return _message_widget(short_error(exc, "Loading the data"))
    views = None
    try:
        views = run_tabs(model, workdir=base, run_id=run_id)
    except SimkitError as exc:  # e.g. the registry cannot be opened: the what-if tab stays
        log.warning("campaigns and runs views left out: %s", exc)
    guard.record_session(base, data=settings.data, run_id=run_id)
    ledger_view = LedgerView(model, workdir=base)
    extra = [
        *(views.tabs if views is not None else []),
        sources_tab(base),
        ("Forecast ledger", ledger_view.tab),
    ]
    app = DashboardApp(model, extra_tabs=extra, workdir=base)
    if views is not None:
        views.attach(app)
    ledger_view.attach(app)
    widget = app.start()
    ledger_view.record(getattr(app, "baseline_view", None))
    return widget


def _resolve(value: str, base: Any) -> Any:
    from pathlib import Path

    path = Path(value)
    return path if path.is_absolute() else (base / path).resolve()


def provenance(*, data: str, run_id: str | None, n_paths: int, seed: int) -> Any:
    """A small footer recording what the page was computed from."""
    from importlib.metadata import PackageNotFoundError, version

    import ipywidgets as w  # heavy (~0.5 s), and only a Voila kernel draws widgets

    try:
        simkit_version = version("simkit")
    except PackageNotFoundError:  # a source tree that was never installed
        simkit_version = "unknown"
    parts = [
        f"simkit {simkit_version}",
        f"data {html.escape(str(data).split('/')[-1])}",
        f"{int(n_paths):,} paths",
        f"seed {int(seed)}",
    ]
    if run_id:
        parts.append(f"run {html.escape(str(run_id))}")
    return w.HTML(f"<div class='simkit-note'>{' · '.join(parts)}</div>")
