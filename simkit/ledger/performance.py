"""Model performance for data scientists (``notebooks/model_performance.ipynb``).

:func:`model_performance` scores the ledger on the data given, read-only (nothing is
appended: the notebook can be re-run at will), and returns a :class:`ModelPerformance`
whose tables and Altair charts the notebook only displays: calibration (observed against
nominal interval coverage per configuration), the PIT histogram, errors by horizon bucket,
champion against challengers, and the feedback readers gave.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import make_url

from simkit import __version__
from simkit.ledger.alerts import detect_alerts
from simkit.ledger.compare import Comparison, compare_configs
from simkit.ledger.metrics import PIT_EDGES
from simkit.ledger.record import CHAMPION
from simkit.ledger.score import LedgerScores, aggregate, all_days, score_forecasts
from simkit.ledger.store import Ledger, ledger_exists
from simkit.registry import registry_url

__all__ = ["ModelPerformance", "model_performance"]

_NOMINAL = {"coverage_50": 0.5, "coverage_80": 0.8, "coverage_90": 0.9}


@dataclass(frozen=True)
class ModelPerformance:
    """Scores, comparisons and feedback of a ledger on one data set (see the module)."""

    url: str
    scores: LedgerScores
    days: pd.DataFrame
    comparisons: tuple[Comparison, ...]
    feedback: tuple[dict[str, Any], ...]
    n_forecasts: int

    def summary_table(self) -> pd.DataFrame:
        """Per model configuration: forecasts, days scored, coverage, MASE, CRPS, bias."""
        return pd.DataFrame(list(self.scores.models)).round(3)

    def campaigns_table(self) -> pd.DataFrame:
        """Per campaign (the champion's forecasts)."""
        return pd.DataFrame(list(self.scores.campaigns)).round(3)

    def horizon_table(self) -> pd.DataFrame:
        """Per configuration and horizon bucket."""
        return pd.DataFrame(list(self.scores.horizons)).round(3)

    def alerts_table(self) -> pd.DataFrame:
        """The alerts the champion's scores raise now."""
        rows = [
            {k: a[k] for k in ("campaign_id", "metric", "kind", "since")}
            for a in self.scores.alerts
        ]
        return pd.DataFrame(rows, columns=["campaign_id", "metric", "kind", "since"])

    def comparisons_table(self) -> pd.DataFrame:
        """Champion against each challenger: paired days, CRPS, change, p-value, verdict."""
        return pd.DataFrame([c.to_dict() for c in self.comparisons]).round(4)

    def feedback_table(self) -> pd.DataFrame:
        """What readers said, newest first."""
        cols = ["target_kind", "target_id", "campaign_id", "useful", "note", "given_by", "given_at"]
        return pd.DataFrame([{k: f[k] for k in cols} for f in self.feedback], columns=cols)

    def calibration_frame(self) -> pd.DataFrame:
        """Observed against nominal coverage of the 50%, 80% and 90% intervals."""
        rows = [
            {"config": m["config"], "nominal": nominal, "observed": m[key]}
            for m in self.scores.models
            for key, nominal in _NOMINAL.items()
        ]
        return pd.DataFrame(rows, columns=["config", "nominal", "observed"])

    def pit_frame(self) -> pd.DataFrame:
        """Share of scored days in each PIT bin, per configuration, beside the bin's width
        (the share a calibrated forecast puts there)."""
        rows = []
        for config, group in self.days.groupby("config", sort=True) if len(self.days) else ():
            counts = np.bincount(group["pit_bin"].to_numpy(int), minlength=len(PIT_EDGES) - 1)
            for i, n in enumerate(counts):
                rows.append(
                    {
                        "config": config,
                        "bin": f"{PIT_EDGES[i]:.2f}-{PIT_EDGES[i + 1]:.2f}",
                        "share": n / counts.sum(),
                        "expected": PIT_EDGES[i + 1] - PIT_EDGES[i],
                    }
                )
        return pd.DataFrame(rows, columns=["config", "bin", "share", "expected"])

    def calibration_chart(self) -> Any:
        """Observed against nominal coverage, with the diagonal."""
        import altair as alt  # heavy: only a drawn chart needs it

        frame = self.calibration_frame()
        diagonal = alt.Chart(pd.DataFrame({"x": [0.4, 1.0]})).mark_line(
            color="#999", strokeDash=[4, 4]
        )
        diagonal = diagonal.encode(x="x:Q", y="x:Q")
        points = (
            alt.Chart(frame)
            .mark_line(point=True)
            .encode(
                x=alt.X("nominal:Q", title="nominal coverage", scale=alt.Scale(domain=[0.4, 1])),
                y=alt.Y("observed:Q", title="observed coverage", scale=alt.Scale(domain=[0, 1])),
                color="config:N",
            )
        )
        return (diagonal + points).properties(width=320, height=240, title="Calibration")

    def pit_chart(self) -> Any:
        """The PIT histogram: share of days per bin against a calibrated forecast's."""
        import altair as alt  # heavy: only a drawn chart needs it

        frame = self.pit_frame()
        bars = (
            alt.Chart(frame)
            .mark_bar(opacity=0.7)
            .encode(
                x=alt.X("bin:N", title="PIT bin (forecast quantile levels)", sort=None),
                y=alt.Y("share:Q", title="share of days"),
                color="config:N",
                xOffset="config:N",
            )
        )
        ticks = (
            alt.Chart(frame)
            .mark_tick(color="black", thickness=2)
            .encode(x=alt.X("bin:N", sort=None), y="expected:Q")
        )
        return (bars + ticks).properties(width=420, height=220, title="PIT histogram")

    def horizon_chart(self) -> Any:
        """MASE and 80% coverage by horizon bucket, per configuration."""
        import altair as alt  # heavy: only a drawn chart needs it

        frame = self.horizon_table()
        if frame.empty:
            frame = pd.DataFrame(columns=["config", "horizon", "mase", "coverage_80"])
        long = frame.melt(
            id_vars=["config", "horizon"], value_vars=["mase", "coverage_80"], var_name="score"
        )
        return (
            alt.Chart(long)
            .mark_bar()
            .encode(
                x=alt.X("horizon:N", sort=None, title=None),
                y=alt.Y("value:Q", title=None),
                color="config:N",
                xOffset="config:N",
                column=alt.Column("score:N", title=None),
            )
            .properties(width=220, height=200)
        )

    def provenance(self) -> dict[str, Any]:
        """What these figures were computed from."""
        return {
            "ledger": make_url(self.url).render_as_string(hide_password=True),
            "forecasts_in_ledger": self.n_forecasts,
            "forecasts_scored": len(self.scores.forecasts),
            "data_hash": self.scores.data_hash,
            "simkit": __version__,
        }


def model_performance(data: pd.DataFrame, *, url: str | None = None) -> ModelPerformance:
    """Score every forecast in the ledger at ``url`` on ``data`` (read-only) and compare each
    challenger with the champion."""
    if not ledger_exists(url):
        forecasts: list[dict[str, Any]] = []
        feedback: list[dict[str, Any]] = []
        shown_url = registry_url(url)
    else:
        ledger = Ledger(url)
        forecasts = ledger.list_forecasts(full=True)
        feedback = ledger.list_feedback()
        shown_url = ledger.url
        ledger.dispose()
    scored = score_forecasts(forecasts, data) if forecasts else []
    days = all_days(scored)
    pooled = aggregate(scored, days)
    names = sorted({f["config"] for f in forecasts if f["config"] != CHAMPION})
    return ModelPerformance(
        url=shown_url,
        scores=LedgerScores(
            scoring_id="(not recorded)",
            data_hash="",
            forecasts=tuple(scored),
            campaigns=tuple(pooled["campaigns"]),
            models=tuple(pooled["models"]),
            horizons=tuple(pooled["horizons"]),
            alerts=tuple(detect_alerts(days)),
            unscored=len(forecasts) - len(scored),
        ),
        days=days,
        comparisons=tuple(compare_configs(days, n) for n in names) if len(days) else (),
        feedback=tuple(feedback),
        n_forecasts=len(forecasts),
    )
