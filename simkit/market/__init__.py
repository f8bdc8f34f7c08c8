"""Market context: industry benchmarks and competitor (auction insights) analysis.

* :func:`compare_campaigns` compares campaigns' CTR, CPC, CVR and CPA with the published
  industry benchmarks simkit ships (:func:`load_benchmarks`), with a plain-words explanation.
* :func:`read_auction_insights` imports Google Ads auction-insights exports;
  :func:`analyze_competitors` gives trends, new entrants, threat scores and market shares;
  :func:`regress_on_competitor_pressure` / :func:`attribute_cpm_pressure` relate our CPM or
  CPC to each competitor's presence, so a ``competitor_pressure`` alert can name one.
"""

from __future__ import annotations

from simkit.market.auction import AuctionInsights, read_auction_insights
from simkit.market.benchmarks import (
    BenchmarkFigure,
    BenchmarkTable,
    channel_of,
    load_benchmarks,
)
from simkit.market.compare import (
    BenchmarkComparison,
    CampaignComparison,
    MetricComparison,
    campaign_metrics,
    compare_campaigns,
)
from simkit.market.competitors import (
    CompetitorAnalysis,
    CompetitorPressure,
    CompetitorSummary,
    PressureRegression,
    analyze_competitors,
    attribute_cpm_pressure,
    market_share,
    regress_on_competitor_pressure,
    threat_score,
)

__all__ = [
    "AuctionInsights",
    "BenchmarkComparison",
    "BenchmarkFigure",
    "BenchmarkTable",
    "CampaignComparison",
    "CompetitorAnalysis",
    "CompetitorPressure",
    "CompetitorSummary",
    "MetricComparison",
    "PressureRegression",
    "analyze_competitors",
    "attribute_cpm_pressure",
    "campaign_metrics",
    "channel_of",
    "compare_campaigns",
    "load_benchmarks",
    "market_share",
    "read_auction_insights",
    "regress_on_competitor_pressure",
    "threat_score",
]
