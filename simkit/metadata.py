"""Campaign metadata from wherever the user keeps it, merged field by field; none required.

Metadata (name, channel, platform, objective, industry, budgets, flight, targets) can come
from any of these sources.  Each field of each campaign takes the value of the first source
that gives it, in this order (highest precedence first):

1. ``campaign_meta`` in the run params, per campaign:
   ``campaign_meta: {C101: {industry: Retail, target_cpa: 30}}``;
2. the run-wide params: ``industry``, ``platform``, ``targets: {cpa, roas}`` (or
   ``target_cpa`` / ``target_roas``), for every campaign of the run;
3. a metadata file named in the params: ``metadata: path/to/meta.yaml`` (a YAML
   ``campaigns:`` list or a CSV, one row per campaign, as :func:`simkit.data.load_metadata`
   reads);
4. the column mapping's ``metadata:`` block (``metadata: {industry: Retail}`` in the mapping
   YAML), for every campaign of that source;
5. the sidecar file beside the data, ``<data>_meta.yaml`` or ``<data>_meta.csv``
   (:func:`simkit.data.validate.find_metadata`);
6. the data itself: the first ``channel`` value of the campaign's rows (a mapping can set
   it with ``constants: {channel: display}``).

Within one source, a ``platform`` that names a channel (``search``, ``facebook``, ``Google
Ads (display network)``) also gives the ``channel`` when that source gives none, so
``platform: search`` in the params overrides a channel found in a file.

Every field is optional.  A section that needs a field the sources do not give says which
one is missing and how to give it (:func:`how_to_give`); nothing else is affected.  What is
checked (early, before any fitting) is what is *given*: an unknown key, a metadata file that
cannot be read, a ``campaign_meta`` id that is not in the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from simkit._suggest import did_you_mean
from simkit.data import load_mapping, load_metadata
from simkit.data.schema import METADATA_FIELDS
from simkit.data.validate import find_metadata
from simkit.errors import ParamsError
from simkit.market.benchmarks import channel_of

if TYPE_CHECKING:
    from simkit.data import ColumnMapping, LoadedData
    from simkit.params import RunParams

__all__ = [
    "FIELDS",
    "SOURCES",
    "ResolvedMetadata",
    "how_to_give",
    "resolve_for_run",
    "resolve_metadata",
]

#: Where metadata can come from, highest precedence first (see the module docstring).
SOURCES: tuple[str, ...] = (
    "campaign_meta",
    "params",
    "metadata file",
    "mapping",
    "sidecar",
    "data",
)
#: Every metadata field, in display order (``campaign_id`` is the key, not a field).
FIELDS: tuple[str, ...] = (*(f for f in METADATA_FIELDS if f != "campaign_id"), "platform")

#: How a run's params spell each run-wide field (only these fields can be run-wide).
_RUN_WIDE = {
    "industry": "industry: <name>",
    "platform": "platform: search|social|display",
    "target_cpa": "targets: {cpa: <value>}",
    "target_roas": "targets: {roas: <value>}",
}


def how_to_give(field: str, campaign_id: str | None = None) -> str:
    """One sentence naming every params key and file that can give ``field``.

    Examples
    --------
    >>> how_to_give("industry", "C101")  # doctest: +ELLIPSIS
    "give it in the run params as 'industry: <name>' or 'campaign_meta: {C101: {industry: ...}}'..."
    """
    cid = campaign_id or "<campaign id>"
    ways = []
    if field in _RUN_WIDE:
        ways.append(f"'{_RUN_WIDE[field]}'")
    ways.append(f"'campaign_meta: {{{cid}: {{{field}: ...}}}}'")
    return (
        f"give it in the run params as {' or '.join(ways)}, in a metadata file "
        f"('metadata: <file>' in the params, or <data>_meta.yaml beside the data; field "
        f"'{field}' of {cid}), or as 'metadata: {{{field}: ...}}' in the column mapping"
    )


@dataclass(frozen=True)
class ResolvedMetadata:
    """The merged metadata of every campaign, and where each value came from.

    Attributes
    ----------
    campaigns
        One row per campaign: ``campaign_id`` and the fields any source gave (missing
        values are NaN), the shape of :attr:`simkit.data.LoadedData.campaigns`.
    sources
        ``{campaign_id: {field: source}}``, the source being one of :data:`SOURCES`.
    files
        The metadata files that were read (named file, sidecar), for the data hash.
    """

    campaigns: pd.DataFrame
    sources: dict[str, dict[str, str]]
    files: tuple[Path, ...] = ()

    def for_campaign(self, campaign_id: str) -> dict[str, Any]:
        """The campaign's metadata as a dict; fields no source gave are left out."""
        rows = self.campaigns[self.campaigns["campaign_id"] == campaign_id]
        if not len(rows):
            return {}
        return {k: v for k, v in rows.iloc[0].to_dict().items() if not _isna(v)}

    def source_of(self, campaign_id: str, field: str) -> str | None:
        """Which source gave ``field`` for the campaign (``None``: no source did)."""
        return self.sources.get(campaign_id, {}).get(field)

    def missing(self, campaign_id: str, fields: Iterable[str]) -> list[str]:
        """The ``fields`` that no source gave for the campaign."""
        given = self.sources.get(campaign_id, {})
        return [f for f in fields if f not in given]


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """Given values only, and a channel implied by a platform that names one."""
    out = {k: v for k, v in values.items() if k != "campaign_id" and not _isna(v)}
    out = {k: v for k, v in out.items() if not (isinstance(v, str) and not v.strip())}
    if "channel" not in out and "platform" in out:
        channel = channel_of(str(out["platform"]))
        if channel is not None:
            out["channel"] = channel
    return out


def _table_layer(frame: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    if frame is None or frame.empty or "campaign_id" not in frame.columns:
        return {}
    layer: dict[str, dict[str, Any]] = {}
    for record in frame.to_dict(orient="records"):
        cid = str(record["campaign_id"])
        layer.setdefault(cid, {}).update(
            {k: v for k, v in record.items() if k != "campaign_id" and not _isna(v)}
        )
    return layer


def _check_keys(values: Mapping[str, Any], *, file: str | None, field: str) -> None:
    unknown = [k for k in values if k not in FIELDS]
    if unknown:
        hints = "; ".join(f"'{k}'{did_you_mean(k, FIELDS)}" for k in unknown)
        raise ParamsError(
            f"unknown metadata field(s): {hints}; known: {', '.join(FIELDS)}",
            file=file,
            field=field,
        )


def _data_layer(data: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    if data is None or "channel" not in data.columns or "campaign_id" not in data.columns:
        return {}
    channels = data.dropna(subset=["channel"]).groupby("campaign_id")["channel"].first()
    return {str(cid): {"channel": str(ch)} for cid, ch in channels.items()}


def resolve_metadata(
    campaign_ids: Iterable[str],
    *,
    data: pd.DataFrame | None = None,
    data_path: str | Path | None = None,
    mapping: ColumnMapping | str | Path | None = None,
    metadata_file: str | Path | None = None,
    run_wide: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> ResolvedMetadata:
    """Merge every source of metadata for ``campaign_ids`` (precedence in the module doc).

    Parameters
    ----------
    campaign_ids
        The campaigns in the data.
    data
        The contract frame (its ``channel`` column is the lowest source).
    data_path
        The data file, whose sidecar ``<stem>_meta.yaml|csv`` is read when present.
    mapping
        The column mapping (a path or a :class:`~simkit.data.ColumnMapping`); its
        ``metadata:`` block applies to every campaign.
    metadata_file
        A metadata file named in the params.
    run_wide
        Run-wide values from the params (``industry``, ``platform``, ``target_cpa``...).
    overrides
        Per-campaign values, ``{campaign_id: {field: value}}`` (params ``campaign_meta``).

    Raises
    ------
    ParamsError
        An unknown field, or an override for a campaign that is not in the data.
    DataError
        A metadata file that is missing or cannot be read.
    """
    ids = [str(c) for c in campaign_ids]
    files: list[Path] = []
    layers: list[tuple[str, dict[str, dict[str, Any]], dict[str, Any]]] = []  # lowest first
    layers.append(("data", _data_layer(data), {}))
    sidecar = find_metadata(Path(data_path)) if data_path is not None else None
    if sidecar is not None:
        files.append(sidecar)
        layers.append(("sidecar", _table_layer(load_metadata(sidecar)), {}))
    if mapping is not None:
        spec = mapping if not isinstance(mapping, str | Path) else load_mapping(mapping)
        given = dict(getattr(spec, "metadata", {}) or {})
        _check_keys(given, file=None if spec is mapping else str(mapping), field="metadata")
        layers.append(("mapping", {}, given))
    if metadata_file is not None:
        path = Path(metadata_file)
        files.append(path)
        layers.append(("metadata file", _table_layer(load_metadata(path)), {}))
    run = {k: v for k, v in (run_wide or {}).items() if v is not None}
    _check_keys(run, file=None, field="params")
    layers.append(("params", {}, run))
    per = {str(k): dict(v) for k, v in (overrides or {}).items()}
    unknown = [c for c in per if c not in ids]
    if unknown:
        hints = "; ".join(f"'{c}'{did_you_mean(c, ids)}" for c in unknown)
        raise ParamsError(f"campaign(s) not in the data: {hints}", field="campaign_meta")
    for cid, values in per.items():
        _check_keys(values, file=None, field=f"campaign_meta.{cid}")
    layers.append(("campaign_meta", per, {}))

    records, sources = [], {}
    for cid in ids:
        merged: dict[str, Any] = {}
        where: dict[str, str] = {}
        for name, per_campaign, everyone in layers:
            values = _clean({**everyone, **per_campaign.get(cid, {})})
            merged.update(values)
            where.update(dict.fromkeys(values, name))
        records.append({"campaign_id": cid, **merged})
        sources[cid] = where
    given = {k for r in records for k in r if k != "campaign_id"}
    columns = ["campaign_id", *[f for f in FIELDS if f in given]]
    frame = pd.DataFrame(records, columns=columns)
    return ResolvedMetadata(campaigns=frame, sources=sources, files=tuple(files))


def resolve_for_run(params: RunParams, loaded: LoadedData) -> tuple[LoadedData, ResolvedMetadata]:
    """The run's merged metadata, and ``loaded`` with it as its ``campaigns`` table.

    Every engine that reads ``loaded.campaigns`` (risks, pivots, benchmarks) then sees the
    same metadata as the report.
    """
    resolved = resolve_metadata(
        loaded.campaign_ids,
        data=loaded.data,
        data_path=params.data,
        mapping=params.mapping,
        metadata_file=params.metadata,
        run_wide={
            "industry": params.industry,
            "platform": params.platform,
            "target_cpa": params.run_target_cpa,
            "target_roas": params.run_target_roas,
        },
        overrides={
            cid: meta.model_dump(exclude_none=True) for cid, meta in params.campaign_meta.items()
        },
    )
    return replace(loaded, campaigns=resolved.campaigns), resolved
