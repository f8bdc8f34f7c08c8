"""Issue 23: seeded statistical checks of the risk probabilities on event-free campaigns of
both world families (:data:`simkit.data.worlds.FAMILIES`), through the public API.

Each family gets campaigns without any injected event, checked with
:func:`simkit.detect_risks` (``lookback_days=0``: the probabilities are calibrated for "a
change of this kind began in the last three weeks", which the look-back does not change)
on dates 21 days apart, so that no two checks of one campaign share their detection window
(the 21 days the detectors test); checks are then close to independent and binomial
tolerances apply.  Nothing here was tuned to pass: the rates are issue 16's bars, the
tolerances are the binomial formulas written in each test, and the seeds were fixed before
the first run.

* **False alarms.**  A check is a false alarm when any history detector reaches p >= 0.5.
  Issue 16's bar is 2% of event-free checks; with ``n`` checks, the count may exceed
  ``0.02 n`` only by binomial sampling error: it must not exceed the 99.9% quantile of
  Binomial(n, 0.02) (``scipy.stats.binom.isf(0.001, n, 0.02)``).
* **Reliability.**  On event-free checks the observed frequency of a real change is 0 in
  every probability bin, so a calibrated model may put checks in a bin only where its mean
  probability is near 0: in each decile bin holding at least 20 detector x check
  probabilities, the mean probability ``p`` must be within the bar's gap (0.10) of the
  observed 0, plus three binomial standard errors ``3 sqrt(p (1 - p) / n)``.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from simkit.data.worlds import FAMILIES
from simkit.risk import DEFAULT_DETECTORS, detect_risks

N_CAMPAIGNS = 60
N_DAYS = 180
CHECK_DAYS = (63, 84, 105, 126, 147, 168)  # 21 days apart: disjoint detection windows
SEEDS = {"a": 2301, "b": 2302}
FALSE_ALARM_BAR = 0.02
GAP_BAR = 0.10


def _probabilities(family: str) -> pd.DataFrame:
    """One row per campaign x check x history detector: the detector's probability."""
    world = FAMILIES[family](
        N_CAMPAIGNS, N_DAYS, rng=np.random.default_rng(SEEDS[family]), events=None
    )
    first = pd.Timestamp(world.data["date"].min()).date()
    rows = []
    for day in CHECK_DAYS:
        as_of = first + timedelta(days=day)
        report = detect_risks(
            world.data, world.campaigns, as_of=as_of, min_probability=0.0, lookback_days=0
        )
        for alert in report.alerts:
            rows.append(
                {
                    "campaign": alert.campaign_id,
                    "day": day,
                    "type": alert.type,
                    "p": alert.probability,
                }
            )
    frame = pd.DataFrame(rows)
    assert set(frame["type"]) <= set(DEFAULT_DETECTORS)
    return frame


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def checks(request: pytest.FixtureRequest) -> tuple[str, pd.DataFrame]:
    return request.param, _probabilities(request.param)


@pytest.mark.slow
def test_false_alarms_on_event_free_campaigns_stay_within_the_bar(checks) -> None:
    family, frame = checks
    per_check = frame.groupby(["campaign", "day"])["p"].max()
    n = len(per_check)
    # every campaign is live on every check day (none stops early in these worlds)
    assert n == N_CAMPAIGNS * len(CHECK_DAYS), family
    alarms = int((per_check >= 0.5).sum())
    bound = binom.isf(0.001, n, FALSE_ALARM_BAR)
    assert alarms <= bound, f"family {family}: {alarms} of {n} checks alarmed (bound {bound:.0f})"


@pytest.mark.slow
def test_probabilities_on_event_free_campaigns_are_reliable(checks) -> None:
    family, frame = checks
    p = frame["p"].to_numpy()
    which = np.clip((p * 10).astype(int), 0, 9)
    for b in range(10):
        sel = which == b
        n = int(sel.sum())
        if n < 20:
            continue
        mean = float(p[sel].mean())
        tolerance = GAP_BAR + 3.0 * np.sqrt(mean * (1.0 - mean) / n)
        assert mean <= tolerance, (
            f"family {family}: {n} probabilities in bin {b / 10:.1f}-{(b + 1) / 10:.1f} "
            f"average {mean:.3f} where no change happened (tolerance {tolerance:.3f})"
        )
