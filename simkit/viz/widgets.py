"""An interactive what-if in a notebook: sliders over a :class:`~simkit.simulate.WhatIfSession`.

The session is the one the dashboard and the pivot engine run: a campaign prepared once,
every preview on the baseline's random numbers, so a slider move redraws in a fraction of a
second.  The chart is the result's own display (inline SVG), so it needs no CDN and stays in
an exported notebook.  ipywidgets is imported when an explorer is built (heavy, and only a
notebook needs it).
"""

from __future__ import annotations

from typing import Any

from simkit.simulate.session import WhatIfPivot, WhatIfSession
from simkit.simulate.whatif import WhatIfResult

__all__ = ["WhatIfExplorer", "what_if_explorer"]


class WhatIfExplorer:
    """Budget, creative-refresh and horizon controls over a session, and the preview.

    Attributes
    ----------
    budget, refresh, horizon
        The controls (an ``IntSlider`` of the budget change in %, a ``Checkbox``, an
        ``IntSlider`` of days).
    output
        The ``Output`` widget showing the latest preview.
    widget
        The whole ``VBox`` (what the notebook displays).
    result
        The latest :class:`~simkit.simulate.WhatIfResult`.
    """

    def __init__(
        self,
        session: WhatIfSession,
        *,
        budget_pct: int = 20,
        budget_range: tuple[int, int] = (-50, 100),
    ) -> None:
        import ipywidgets as widgets  # heavy: only an interactive notebook needs it

        self.session = session
        self.budget = widgets.IntSlider(
            value=budget_pct,
            min=budget_range[0],
            max=budget_range[1],
            step=5,
            description="budget %",
            continuous_update=False,
        )
        fatigue = session.state.fatigue is not None
        self.refresh = widgets.Checkbox(
            value=False,
            description="new creative on day 1" if fatigue else "no fatigue fit: no refresh",
            disabled=not fatigue,
        )
        self.horizon = widgets.IntSlider(
            value=session.horizon_days,
            min=min(7, session.horizon_days),
            max=session.horizon_days,
            step=1,
            description="days",
            continuous_update=False,
        )
        self.output = widgets.Output()
        self.widget = widgets.VBox(
            [widgets.HBox([self.budget, self.refresh, self.horizon]), self.output]
        )
        self.result: WhatIfResult | None = None
        for control in (self.budget, self.refresh, self.horizon):
            control.observe(self.update, names="value")
        self.update()

    def pivot(self) -> WhatIfPivot:
        """The pivot the controls describe."""
        refresh_on = self.session.dates[0].date() if self.refresh.value else None
        words = [f"budget {self.budget.value:+d}%"] + (["creative refresh"] if refresh_on else [])
        return WhatIfPivot(
            budget_factor=1.0 + self.budget.value / 100.0,
            refresh_on=refresh_on,
            label=", ".join(words),
        )

    def update(self, change: Any = None) -> WhatIfResult:
        """Preview the controls' pivot and show it (called on every control change)."""
        from IPython.display import HTML, display  # with ipywidgets: a notebook's own

        self.result = self.session.preview(self.pivot(), self.horizon.value)
        self.output.clear_output(wait=True)
        with self.output:
            display(HTML(self.result._repr_html_()))
        return self.result

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def what_if_explorer(session: WhatIfSession, *, budget_pct: int = 20) -> WhatIfExplorer:
    """Sliders over ``session``: move the budget, add a creative refresh, shorten the horizon,
    and read the pivot against the baseline (paired paths) at once.

    Examples
    --------
    >>> session = simkit.WhatIfSession(data, "C001", 28, seed=7, n_paths=2000)  # doctest: +SKIP
    >>> viz.what_if_explorer(session)  # doctest: +SKIP
    """
    return WhatIfExplorer(session, budget_pct=budget_pct)
