"""Run parameters: one validated model for ``params/*.yaml``, the runner and the notebooks.

The same :class:`RunParams` is read from YAML by ``simkit run``, passed to Papermill (its
fields are exactly the notebooks' parameter names; a test checks this) and validated again
inside the notebook, so a typo is caught wherever the parameters enter.

Papermill pastes parameter names into code and stores every value in the output
notebook, so the model is deliberately closed (``extra="forbid"``), every field name is a
plain identifier, and no field may hold a secret (credentials come from the environment at
call time, never from parameters).
"""

from __future__ import annotations

import hashlib
import json
import keyword
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from simkit._suggest import did_you_mean
from simkit.errors import ParamsError, yaml_problem

__all__ = [
    "OPS_FIELDS",
    "SECRET_NAME",
    "CampaignMeta",
    "LLMOptions",
    "LLMPrice",
    "Challenger",
    "RunParams",
    "Targets",
    "check_parameter_names",
    "load_params",
    "mask_url",
    "params_hash",
]

#: Names that look like credentials; such a name is never accepted as a parameter.
SECRET_NAME = re.compile(r"(secret|token|passw|api_?key|credential|private_?key|auth)", re.I)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Any id the data may hold (names are data, never paths: see simkit.paths.safe_name).
_MASKED = "/***"
#: The largest parameter file read (a YAML file of settings, never data).
MAX_PARAMS_BYTES = 1024 * 1024
_CAMPAIGN_ID = re.compile(r"^[^\x00]{1,1000}\Z")


class Targets(BaseModel):
    """Targets for every campaign of a run (``targets: {cpa: 25, roas: 3}`` in params)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cpa: float | None = Field(None, gt=0, description="target cost per acquisition")
    roas: float | None = Field(None, gt=0, description="target return on ad spend")


class CampaignMeta(BaseModel):
    """One campaign's metadata given in params (``campaign_meta: {C101: {industry: Retail}}``).

    The fields are those of a metadata file (:data:`simkit.data.schema.METADATA_FIELDS`) plus
    ``platform``; every field is optional and overrides every other source of metadata
    (see :func:`simkit.metadata.resolve_metadata`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    channel: str | None = None
    platform: str | None = Field(
        None, description="a channel (search, social, display) or a label naming one"
    )
    objective: str | None = None
    industry: str | None = None
    budget_daily: float | None = Field(None, gt=0)
    budget_total: float | None = Field(None, gt=0)
    flight_start: date | None = None
    flight_end: date | None = None
    target_cpa: float | None = Field(None, gt=0)
    target_roas: float | None = Field(None, gt=0)
    client: str | None = Field(
        None, description="who the campaign is run for (`simkit export|purge --client`)"
    )


class Challenger(BaseModel):
    """A model configuration run in shadow beside the champion (``challengers:`` in params):
    recorded in the forecast ledger and scored, never shown as the forecast.

    ``members`` replaces the run's ensemble members, ``persistent_share`` the simulation's
    (:attr:`simkit.simulate.engine.EngineConfig.persistent_share`); at least one is given.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="the configuration's name in the ledger")
    members: list[str] | None = Field(None, description="forecast ensemble members")
    persistent_share: float | None = Field(None, ge=0, lt=1)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _IDENT.match(value) or value == "champion":
            raise ValueError(f"'{value}' is not a challenger name (an identifier, not champion)")
        return value

    @model_validator(mode="after")
    def _something(self) -> Challenger:
        if self.members is None and self.persistent_share is None:
            raise ValueError("a challenger changes members or persistent_share (or both)")
        for item in self.members or ():
            if not _IDENT.match(item):
                raise ValueError(f"'{item}' is not a member name")
        return self


class LLMPrice(BaseModel):
    """A model's price in US dollars per million tokens (``llm_options.prices``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_million: float = Field(ge=0, description="USD per 1M prompt tokens")
    output_per_million: float = Field(ge=0, description="USD per 1M completion tokens")


#: List prices (USD per 1M tokens) when ``llm_options.prices`` names no price for a model.
DEFAULT_LLM_PRICES: dict[str, LLMPrice] = {
    "gpt-4o": LLMPrice(input_per_million=2.5, output_per_million=10.0),
    "gpt-4o-mini": LLMPrice(input_per_million=0.15, output_per_million=0.6),
}


class LLMOptions(BaseModel):
    """How simkit talks to a language model (``llm_options:`` in params; see simkit.llm).

    The key and the server are never parameters: ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL``
    are read from the environment at call time.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_seconds: float = Field(30.0, gt=0, le=600, description="per request")
    max_retries: int = Field(2, ge=0, le=10, description="the SDK's retries per request")
    deadline_seconds: float = Field(
        300.0, gt=0, le=24 * 3600, description="total time for every model call of one run"
    )
    requests_per_minute: int = Field(60, ge=1, le=100_000)
    tokens_per_minute: int = Field(30_000, ge=100, le=100_000_000)
    max_completion_tokens: int = Field(1500, ge=16, le=100_000)
    cache: bool = Field(True, description="keep replies in .simkit-cache/llm")
    prices: dict[str, LLMPrice] = Field(
        default_factory=dict, description="USD per 1M tokens by model (default: list prices)"
    )

    def price(self, model: str) -> LLMPrice | None:
        """The price of ``model``: given here, else the list price, else unknown."""
        return self.prices.get(model) or DEFAULT_LLM_PRICES.get(model)


class RunParams(BaseModel):
    """Parameters of one run (a batch of campaign reports), as in ``params/*.yaml``.

    Only ``data`` is required.  Relative paths are resolved against the parameter file's
    folder by :func:`load_params` and against the working directory otherwise.

    Examples
    --------
    >>> RunParams(data="demo-data/campaigns.csv").horizon_days
    30
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    data: str = Field(description="the campaign data file (CSV or Parquet)")
    mapping: str | None = Field(None, description="column-mapping YAML for generic files")
    on_bad_rows: Literal["error", "skip"] | None = Field(
        None,
        description="rows with empty or unreadable required cells: 'error' or 'skip' (each "
        "listed in the data-quality repairs); default: the mapping's choice, else 'error'",
    )
    campaigns: list[str] | Literal["all"] = Field(
        "all", description="campaign ids to report on, or 'all'"
    )
    horizon_days: int = Field(30, ge=1, le=365, description="days to forecast")
    plan: str | None = Field(
        None,
        description="CSV of planned daily spend (date, campaign_id, spend); default: the "
        "mean spend of the last 14 days, held flat",
    )
    target_cpa: float | None = Field(None, gt=0, description="target cost per acquisition")
    target_roas: float | None = Field(None, gt=0, description="target return on ad spend")
    targets: Targets | None = Field(
        None, description="targets for every campaign, {cpa, roas} (or target_cpa/target_roas)"
    )
    industry: str | None = Field(
        None, description="industry of every campaign, for the benchmarks (default: metadata)"
    )
    platform: str | None = Field(
        None,
        description="channel of every campaign for the benchmarks: search, social, display "
        "or a label naming one (default: metadata, then the data's channel column)",
    )
    metadata: str | None = Field(
        None,
        description="campaign metadata file (YAML 'campaigns:' list or CSV); default: "
        "<data>_meta.yaml|csv beside the data, if any",
    )
    campaign_meta: dict[str, CampaignMeta] = Field(
        default_factory=dict,
        description="per-campaign metadata overrides, {campaign id: {industry: ..., ...}}",
    )
    seed: int = Field(7, ge=0, description="the one seed every random draw derives from")
    members: list[str] = Field(
        default_factory=lambda: ["seasonal_naive", "ets", "prophet"],
        description="forecast ensemble members by name (the LSTM is off by default: it "
        "costs seconds per campaign)",
    )
    backtest_cutoffs: int = Field(3, ge=1, le=20, description="rolling-origin backtest folds")
    n_paths: int = Field(2000, ge=100, le=100_000, description="Monte Carlo paths")
    output_dir: str = Field("reports", description="where reports and the index go")
    priority: list[str] | Literal["spend", "listed"] = Field(
        "spend",
        description="run order: 'spend' (largest recent spend first), 'listed' (as in "
        "campaigns), or a list of campaign ids to run first",
    )
    timeout_seconds: int = Field(120, ge=1, le=3600, description="per-cell timeout")
    retries: int = Field(1, ge=0, le=5, description="retries of a transient failure")
    pdf: bool = Field(
        False,
        description="also write report.pdf beside each report.html (nbconvert's webpdf, "
        "printed by the system Chromium)",
    )
    # operations (simkit.ops, simkit.metrics, simkit.notify): they change no number of a
    # report, so they are neither notebook parameters nor part of the parameters hash
    retention_days: int | None = Field(
        None,
        ge=1,
        le=36500,
        description="`simkit gc` removes runs, reports and cache entries older than this",
    )
    metrics_textfile: str | None = Field(
        None,
        description="after each run, write simkit's metrics here (node_exporter's textfile "
        "collector, e.g. /var/lib/node_exporter/textfile/simkit.prom)",
    )
    pushgateway_url: str | None = Field(
        None, description="after each run, push the metrics to this Prometheus Pushgateway"
    )
    webhook_url: str | None = Field(
        None,
        description="Slack-compatible webhook for risk alerts and run failures (a credential: "
        "never shown or stored unmasked)",
    )
    alert_threshold: float = Field(
        0.5, gt=0, le=1, description="risk probability from which a risk alert is sent"
    )
    llm: bool = Field(
        False,
        description="ask a language model for scenario assumptions and the summary "
        "paragraph (quantified and checked by simkit; needs OPENAI_API_KEY)",
    )
    llm_member: bool = Field(
        False, description="add the 'llm' forecast member (costs tokens per backtest fold)"
    )
    llm_model: str = Field(
        "gpt-4o", min_length=1, max_length=200, description="the model's name at the server"
    )
    llm_options: LLMOptions | None = Field(
        None, description="timeouts, rate limits, deadline and prices (default: LLMOptions())"
    )
    challengers: list[Challenger] = Field(
        default_factory=list,
        description="model configurations run in shadow and scored in the forecast ledger",
    )
    publish: Literal["all", "flagged", "summary"] = Field(
        "all",
        description="what each campaign publishes: 'all' (report.html and summary.json), "
        "'summary' (summary.json only: the engines run in the batch worker, no notebook, no "
        "HTML), or 'flagged' (summary.json for every campaign, the full report only where a "
        "risk or the best pivot reaches flag_threshold)",
    )
    flag_threshold: float = Field(
        0.5,
        gt=0,
        le=1,
        description="with publish: flagged, the probability at which a risk alert flags a "
        "campaign for its full report",
    )
    flag_pivot_gain: float = Field(
        0.25,
        gt=0,
        description="with publish: flagged, the best pivot flags a campaign when its median "
        "gain in conversions is at least this share of the campaign's forecast conversions",
    )

    @field_validator("campaigns", "priority")
    @classmethod
    def _ids(cls, value: Any) -> Any:
        if isinstance(value, list):
            for item in value:
                if not _CAMPAIGN_ID.match(item):
                    raise ValueError(
                        f"{item!r} is not a campaign id (1 to 1000 characters, no NUL)"
                    )
            if len(set(value)) != len(value):
                raise ValueError("lists a campaign twice")
        return value

    @field_validator("campaign_meta")
    @classmethod
    def _meta_ids(cls, value: dict[str, CampaignMeta]) -> dict[str, CampaignMeta]:
        for item in value:
            if not _CAMPAIGN_ID.match(item):
                raise ValueError(f"{item!r} is not a campaign id (1 to 1000 characters, no NUL)")
        return value

    @model_validator(mode="after")
    def _one_way_to_a_target(self) -> RunParams:
        if self.targets is not None:
            for name in ("cpa", "roas"):
                if getattr(self.targets, name) is not None and getattr(self, f"target_{name}"):
                    raise ValueError(f"give target_{name} or targets.{name}, not both")
        return self

    @property
    def run_target_cpa(self) -> float | None:
        """The run-wide CPA target (``target_cpa`` or ``targets.cpa``)."""
        return self.target_cpa or (self.targets.cpa if self.targets else None)

    @property
    def run_target_roas(self) -> float | None:
        """The run-wide ROAS target (``target_roas`` or ``targets.roas``)."""
        return self.target_roas or (self.targets.roas if self.targets else None)

    @field_validator("members")
    @classmethod
    def _members(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("needs at least one member")
        for item in value:
            if not _IDENT.match(item):
                raise ValueError(f"'{item}' is not a member name")
        return value

    def campaign_list(self, available: list[str]) -> list[str]:
        """The campaigns this run covers, checked against those in the data."""
        if self.campaigns == "all":
            return list(available)
        missing = [c for c in self.campaigns if c not in available]
        if missing:
            hints = "; ".join(f"'{c}'{did_you_mean(c, available)}" for c in missing)
            raise ParamsError(f"not in the data: {hints}", field="campaigns")
        return list(self.campaigns)

    @field_validator("webhook_url", "pushgateway_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and value.endswith(_MASKED):
            # read back from a record (registry, retry): the credential is not there
            return None
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("is not an http(s):// URL")
        return value

    def to_dict(self) -> dict[str, Any]:
        """The parameters as JSON values, the webhook URL masked (it holds a credential)."""
        values = self.model_dump(mode="json")
        if values.get("webhook_url"):
            values["webhook_url"] = mask_url(values["webhook_url"])
        return values


#: Operations settings: read by the runner and ``simkit gc``, never by a notebook.
OPS_FIELDS = (
    "retention_days",
    "metrics_textfile",
    "pushgateway_url",
    "webhook_url",
    "alert_threshold",
)


def mask_url(url: str) -> str:
    """``scheme://host/***``: a URL with everything that may be a credential hidden."""
    match = re.match(r"^(https?://)(?:[^@/]*@)?([^/?#]+)", url)
    return f"{match.group(1)}{match.group(2)}{_MASKED}" if match else _MASKED.lstrip("/")


#: Fields holding paths: they enter the hash by file name only (the data hash covers the
#: contents), so the same run from another folder has the same parameters hash.
_PATH_FIELDS = ("data", "mapping", "plan", "output_dir", "metadata", "metrics_textfile")


def params_hash(params: RunParams) -> str:
    """SHA-256 of the canonical JSON of the validated parameters (provenance)."""
    values = {k: v for k, v in params.to_dict().items() if k not in OPS_FIELDS}
    for name in _PATH_FIELDS:
        if values.get(name) is not None:
            values[name] = Path(values[name]).name
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_parameter_names(names: list[str] | tuple[str, ...] | Any) -> None:
    """Refuse any name Papermill could not paste safely, or that looks like a secret.

    Papermill writes ``name = value`` lines into the notebook, so a name must be a plain
    identifier; and it stores every parameter in the published notebook, so a secret must
    never be one.
    """
    for name in names:
        if not isinstance(name, str) or not _IDENT.match(name) or keyword.iskeyword(name):
            raise ParamsError(f"'{name}' is not a valid Python identifier", field=str(name))
        if SECRET_NAME.search(name):
            raise ParamsError(
                "looks like a secret; secrets are read from the environment at call time and "
                "are never notebook parameters (they would be stored in the report)",
                field=name,
            )


def _format_error(err: dict[str, Any], fields: list[str]) -> tuple[str, str]:
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        name = str(err["loc"][-1])
        if len(err["loc"]) > 1:  # inside targets or campaign_meta.<id>
            nested = {"targets": Targets, "challengers": Challenger, "llm_options": LLMOptions}.get(
                str(err["loc"][0]), CampaignMeta
            )
            fields = list(nested.model_fields)
        return loc, f"unknown key{did_you_mean(name, fields)}"
    if err["type"] == "missing":
        return loc, "is required"
    return loc, err["msg"]


def validate_params(raw: dict[str, Any], *, file: str | None = None) -> RunParams:
    """Validate a mapping of parameters; errors name the file and the field."""
    if not isinstance(raw, dict):
        raise ParamsError("expected a mapping of key: value", file=file)
    odd = [k for k in raw if not isinstance(k, str)]
    if odd:
        raise ParamsError(f"keys are parameter names, not {odd[0]!r}", file=file)
    fields = list(RunParams.model_fields)
    try:
        return RunParams(**raw)
    except ValidationError as exc:
        errs = exc.errors()
        field, msg = _format_error(errs[0], fields)
        more = f" (and {len(errs) - 1} more problem(s))" if len(errs) > 1 else ""
        # one line, even when a key or value holds a newline
        raise ParamsError(
            " ".join((msg + more).split()), file=file, field=" ".join(field.split())
        ) from None


def load_params(path: str | Path) -> RunParams:
    """Read and validate a parameter YAML; relative paths resolve against its folder.

    Examples
    --------
    >>> params = load_params("params/demo.yaml")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise ParamsError("parameter file not found", file=str(path))
    if path.stat().st_size > MAX_PARAMS_BYTES:
        raise ParamsError(
            f"is {path.stat().st_size / 1024:,.0f} KiB; a parameter file is at most "
            f"{MAX_PARAMS_BYTES // 1024} KiB",
            file=str(path),
        )
    try:
        raw = yaml.safe_load(path.read_bytes().decode("utf-8-sig")) or {}
    except UnicodeDecodeError as exc:
        raise ParamsError(f"not UTF-8 text (byte {exc.start})", file=str(path)) from None
    except yaml.YAMLError as exc:  # also refuses tags such as !!python/object
        raise ParamsError(f"not valid YAML: {yaml_problem(exc)}", file=str(path)) from None
    params = validate_params(raw, file=str(path))
    base = path.resolve().parent
    updates = {
        name: str((base / value).resolve())
        for name in _PATH_FIELDS
        if (value := getattr(params, name)) is not None and not Path(value).is_absolute()
    }
    return params.model_copy(update=updates)
