"""Meta Marketing API insights into simkit's data contract.

``GET /v21.0/act_<ID>/insights`` with ``level=campaign``, ``time_increment=1`` (one row
per campaign and day), ``time_range={"since", "until"}`` and the fields the contract
needs; the reply ``{"data": [...], "paging": {"cursors": ..., "next": URL}}`` is followed
through ``paging.next`` to the end (the link is only followed on the base URL's host,
and its ``access_token`` is replaced by the connector's, so a cached page never holds it).

Errors: Meta answers ``{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}``.  Codes 4 (application request limit), 17 (user request limit), 32,
613 and 80000-80014 (business-use-case limits, 80004 for ads insights) and HTTP 429 are
rate limits, retried with backoff; code 190 (invalid or expired token) and 102 are auth
errors; 1 and 2 are transient.  ``x-business-use-case-usage`` (and ``x-app-usage``,
``x-ad-account-usage``) report the percentage of the limit used
(``call_count``, ``total_cputime``, ``total_time``) and
``estimated_time_to_regain_access`` (minutes): above :data:`SLOW_DOWN_AT_PCT` the
connector pauses before the next request, longer as the usage nears 100%.

Mapping (recorded in the provenance sidecar): ``date`` <- ``date_start``,
``campaign_id`` <- ``campaign_id``, ``spend``, ``impressions``, ``reach``,
``frequency`` as named, ``clicks`` <- ``inline_link_clicks`` (link clicks, as in Ads
Manager's "Link clicks"; absent = 0, Meta omits zero fields), ``conversions`` <- the
``actions`` value of the first purchase action type present of
:data:`PURCHASE_ACTION_TYPES` (they count the same purchases: never summed), ``revenue``
<- the ``action_values`` value of the same type.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pandas as pd

from simkit.connectors.base import (
    ApiError,
    AuthError,
    Connector,
    ConnectorError,
    RateLimitedError,
    SourceSpec,
    TransientError,
    retry_after_seconds,
)

__all__ = [
    "META",
    "PURCHASE_ACTION_TYPES",
    "MetaConnector",
    "MetaInsights",
    "check_request",
    "fetch_meta_insights",
    "usage_percent",
]

API_VERSION = "v21.0"

META = SourceSpec(
    name="meta",
    base_url="https://graph.facebook.com",
    key_name="META_ACCESS_TOKEN",
    auth_param="access_token",
    requests_per_second=4,
    cache_ttl_seconds=6 * 3600,
    timeout_seconds=60.0,
    deadline_seconds=900.0,
    max_attempts=6,
    backoff_seconds=2.0,
    backoff_max_seconds=300.0,
    paging="cursor: follow paging.next until absent",
    limits=(
        "business-use-case limits per ad account (ads_insights), reported in "
        "x-business-use-case-usage; error codes 4/17/32/613/80000-80014 and HTTP 429 mean "
        "slow down"
    ),
)

FIELDS = (
    "campaign_id",
    "campaign_name",
    "date_start",
    "date_stop",
    "spend",
    "impressions",
    "inline_link_clicks",
    "reach",
    "frequency",
    "actions",
    "action_values",
)

#: Purchase action types, in order of preference: each counts the same purchases
#: (``omni_purchase`` includes the others), so only the first present is used.
PURCHASE_ACTION_TYPES = (
    "omni_purchase",
    "purchase",
    "offsite_conversion.fb_pixel_purchase",
    "onsite_web_purchase",
)

_RATE_LIMIT_CODES = {4, 17, 32, 613} | set(range(80000, 80015))
_AUTH_CODES = {102, 190, 200, 10}
_TRANSIENT_CODES = {1, 2}
#: Usage (percent of the limit) above which the connector paces itself.
SLOW_DOWN_AT_PCT = 75.0
_MAX_PAUSE_SECONDS = 120.0


def usage_percent(headers: httpx.Headers | dict[str, str]) -> tuple[float | None, float | None]:
    """The highest usage percentage and the longest ``estimated_time_to_regain_access``
    (minutes) in Meta's usage headers; ``(None, None)`` without them."""
    highest: float | None = None
    regain: float | None = None
    lower = {k.lower(): v for k, v in dict(headers).items()}
    for name in ("x-business-use-case-usage", "x-ad-account-usage", "x-app-usage"):
        raw = lower.get(name)
        if not raw:
            continue
        try:
            payload = json.loads(raw)
        except ValueError:
            continue
        entries: list[dict[str, Any]] = []
        if isinstance(payload, dict) and any(isinstance(v, list) for v in payload.values()):
            for value in payload.values():
                entries += (
                    [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []
                )
        elif isinstance(payload, dict):
            entries.append(payload)
        for entry in entries:
            for metric in ("call_count", "total_cputime", "total_time", "acc_id_util_pct"):
                value = entry.get(metric)
                if isinstance(value, int | float):
                    highest = float(value) if highest is None else max(highest, float(value))
            wait = entry.get("estimated_time_to_regain_access")
            if isinstance(wait, int | float):
                regain = float(wait) if regain is None else max(regain, float(wait))
    return highest, regain


class MetaConnector(Connector):
    """The Graph API's error shapes and usage headers."""

    def check(self, response: httpx.Response) -> None:
        error: dict[str, Any] | None = None
        try:
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                error = body["error"]
        except ValueError:
            body = None
        if error is None:
            super().check(response)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise ApiError(
                    "the reply is not an insights page ({'data': [...]})",
                    source=self.spec.name,
                    status=response.status_code,
                )
            return
        code = error.get("code")
        text = f"error code {code}"
        if error.get("error_subcode"):
            text += f"/{error['error_subcode']}"
        text += f": {str(error.get('message', ''))[:200]}"
        if error.get("fbtrace_id"):
            text += f" (fbtrace_id {error['fbtrace_id']})"
        status = response.status_code
        if code in _RATE_LIMIT_CODES or status == 429:
            _, regain = usage_percent(response.headers)
            retry_after = None
            if regain:
                retry_after = 60.0 * regain
            elif response.headers.get("retry-after"):
                retry_after = retry_after_seconds(response.headers.get("retry-after"))
            raise RateLimitedError(
                text, source=self.spec.name, status=status, retry_after=retry_after
            )
        if code in _AUTH_CODES or status in (401, 403):
            raise AuthError(
                f"{text}; check META_ACCESS_TOKEN (`simkit keys set META_ACCESS_TOKEN`)",
                source=self.spec.name,
                status=status,
            )
        if code in _TRANSIENT_CODES or status >= 500:
            raise TransientError(text, source=self.spec.name, status=status)
        raise ApiError(text, source=self.spec.name, status=status)

    def headroom(self, response: httpx.Response) -> float | None:
        used, _ = usage_percent(response.headers)
        if used is None:
            return None
        if used >= SLOW_DOWN_AT_PCT:
            # linear from 1 s at the threshold to the cap at 100%
            share = min(1.0, (used - SLOW_DOWN_AT_PCT) / (100.0 - SLOW_DOWN_AT_PCT))
            self.pause_before_next(1.0 + share * (_MAX_PAUSE_SECONDS - 1.0))
        return max(0.0, 100.0 - used)


@dataclass
class MetaInsights:
    """The fetched rows in the contract, and what was mapped."""

    data: pd.DataFrame
    campaigns: pd.DataFrame
    raw_rows: int
    pages: int
    provenance: dict[str, Any] = field(default_factory=dict)


def _number(row: dict[str, Any], name: str, *, where: str) -> float:
    value = row.get(name)
    if value in (None, ""):
        return 0.0
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ConnectorError(f"{where}: field '{name}' is not a number", source="meta") from None
    if not math.isfinite(out):
        raise ConnectorError(f"{where}: field '{name}' is not finite", source="meta")
    return out


def _action(row: dict[str, Any], field_name: str, action_type: str | None) -> float:
    if action_type is None:
        return 0.0
    for item in row.get(field_name) or []:
        if isinstance(item, dict) and item.get("action_type") == action_type:
            return float(item.get("value") or 0)
    return 0.0


def _purchase_type(row: dict[str, Any]) -> str | None:
    present = {
        item.get("action_type") for item in (row.get("actions") or []) if isinstance(item, dict)
    }
    return next((t for t in PURCHASE_ACTION_TYPES if t in present), None)


def map_rows(rows: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Insights rows into contract rows, the campaigns' names, and the action types used."""
    out: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    used: dict[str, int] = {}
    for i, row in enumerate(rows):
        where = f"row {i + 1}"
        start, stop = row.get("date_start"), row.get("date_stop")
        if not start or (stop and stop != start):
            raise ConnectorError(
                f"{where}: expected one day per row (time_increment=1), got {start!r}..{stop!r}",
                source="meta",
            )
        campaign = str(row.get("campaign_id") or "")
        if not campaign:
            raise ConnectorError(f"{where}: no campaign_id", source="meta")
        names.setdefault(campaign, str(row.get("campaign_name") or campaign))
        kind = _purchase_type(row)
        used[kind or "none"] = used.get(kind or "none", 0) + 1
        out.append(
            {
                "date": start,
                "campaign_id": campaign,
                "spend": _number(row, "spend", where=where),
                "impressions": _number(row, "impressions", where=where),
                "clicks": _number(row, "inline_link_clicks", where=where),
                "conversions": _action(row, "actions", kind),
                "revenue": _action(row, "action_values", kind),
                "reach": _number(row, "reach", where=where),
                "frequency": _number(row, "frequency", where=where),
            }
        )
    columns = [
        "date",
        "campaign_id",
        "spend",
        "impressions",
        "clicks",
        "conversions",
        "revenue",
        "reach",
        "frequency",
    ]
    data = pd.DataFrame(out, columns=columns)
    if not data.empty:
        data = data.sort_values(["campaign_id", "date"], kind="stable").reset_index(drop=True)
    campaigns = pd.DataFrame(
        {
            "campaign_id": list(names),
            "name": list(names.values()),
            "channel": ["social"] * len(names),
        }
    )
    return data, campaigns, used


def _account(account: str) -> str:
    account = account.strip()
    if account.isdigit():
        raise ConnectorError(
            f"--account {account!r} lacks the act_ prefix: the insights edge is "
            f"act_<ad account id> (give --account act_{account})",
            source="meta",
        )
    digits = account[4:] if account.startswith("act_") else ""
    if not (digits.isascii() and digits.isdigit()):
        raise ConnectorError(
            "--account is act_<digits> (the ad account id, e.g. act_1234567890)", source="meta"
        )
    return account


def check_request(*, account: str, since: date, until: date) -> str:
    """The ad account as ``act_<digits>``, after checking the window; called before any
    key is read, so that bad input is named first."""
    if until < since:
        raise ConnectorError(f"--until {until} is before --since {since}", source="meta")
    return _account(account)


def fetch_meta_insights(
    connector: MetaConnector,
    *,
    account: str,
    since: date,
    until: date,
    page_size: int = 500,
) -> MetaInsights:
    """Every page of campaign x day insights of ``account`` from ``since`` to ``until``.

    Raises
    ------
    ConnectorError
        When the API refuses (auth, bad request), or rate limits and errors outlast the
        retries or the deadline.
    """
    acct = check_request(account=account, since=since, until=until)
    connector.start_fetch()
    path = f"/{API_VERSION}/{acct}/insights"
    params: dict[str, Any] = {
        "level": "campaign",
        "time_increment": 1,
        "time_range": json.dumps(
            {"since": since.isoformat(), "until": until.isoformat()}, separators=(",", ":")
        ),
        "fields": ",".join(FIELDS),
        "limit": page_size,
    }
    rows: list[dict[str, Any]] = []
    pages = 0
    target: str = path
    seen: set[str] = set()
    while True:
        reply = connector.get(target, params)
        pages += 1
        body = reply.json()
        rows += [r for r in body.get("data", []) if isinstance(r, dict)]
        following = (body.get("paging") or {}).get("next")
        if not following:
            break
        if not connector.same_origin(following):
            raise ConnectorError(
                "paging.next points to another host than --base-url; not sending the token there",
                source="meta",
            )
        parts = urlsplit(following)
        marker = json.dumps(sorted(parse_qsl(parts.query)))
        if marker in seen:
            raise ConnectorError("paging.next repeats a page already read", source="meta")
        seen.add(marker)
        # the next link carries every parameter (and a token, replaced by ours)
        target, params = following, {}
    data, campaigns, used = map_rows(rows)
    provenance = {
        "source": "meta",
        "endpoint": f"GET {path}",
        "base_url": connector.base_url,
        "account": acct,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "request": {k: v for k, v in {**_first_params(since, until, page_size)}.items()},
        "pages": pages,
        "rows": len(rows),
        "mapping": {
            "date": "date_start",
            "campaign_id": "campaign_id",
            "spend": "spend",
            "impressions": "impressions",
            "clicks": "inline_link_clicks (absent = 0)",
            "conversions": "actions[first of " + ", ".join(PURCHASE_ACTION_TYPES) + "]",
            "revenue": "action_values[the same action type]",
            "reach": "reach",
            "frequency": "frequency",
            "metadata name": "campaign_name",
        },
        "purchase_action_types_used": used,
        "fetch": connector.stats.to_dict(),
    }
    return MetaInsights(data, campaigns, len(rows), pages, provenance)


def _first_params(since: date, until: date, page_size: int) -> dict[str, Any]:
    return {
        "level": "campaign",
        "time_increment": 1,
        "time_range": {"since": since.isoformat(), "until": until.isoformat()},
        "fields": list(FIELDS),
        "limit": page_size,
    }
