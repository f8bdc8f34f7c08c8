"""A small exception hierarchy: every error says where the problem is.

``DataError`` names the file, row and column; ``ParamsError`` names the file and field;
``ForecastError`` names the member and campaign.  The CLI turns any ``SimkitError`` into a
short message and a non-zero exit code, never a traceback.
"""

from __future__ import annotations


class SimkitError(Exception):
    """Base class of every error simkit raises on purpose."""


def yaml_problem(exc: Exception) -> str:
    """A YAML parser error as one line: what is wrong and where (PyYAML's are several)."""
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return " ".join(f"{problem}{where}".split())


class DataError(SimkitError):
    """Bad input data, located as precisely as we can: file, row (1-based data row), column."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file, self.row, self.column, self.detail = file, row, column, message
        where = ", ".join(
            part
            for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"column '{column}'" if column else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class ParamsError(SimkitError):
    """Bad parameters: names the parameter file (or widget/source) and the field."""

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None) -> None:
        self.file, self.field, self.detail = file, field, message
        where = ", ".join(
            p for p in (f"file {file}" if file else "", f"field '{field}'" if field else "") if p
        )
        super().__init__(f"{where}: {message}" if where else message)


class ForecastError(SimkitError):
    """A forecaster could not fit or predict; names the member and the campaign."""

    def __init__(self, message: str, *, member: str | None = None, campaign: str | None = None):
        self.member, self.campaign, self.detail = member, campaign, message
        where = ", ".join(
            p
            for p in (
                f"member '{member}'" if member else "",
                f"campaign '{campaign}'" if campaign else "",
            )
            if p
        )
        super().__init__(f"{where}: {message}" if where else message)


class OutOfMemoryError(SimkitError, MemoryError):
    """A computation would not fit in the memory available; says how much would.

    Also a :class:`MemoryError`, so code that catches that still does.
    """

    def __init__(self, message: str, *, needed_bytes: int, available_bytes: int, n_fit: int):
        self.needed_bytes, self.available_bytes, self.n_fit = needed_bytes, available_bytes, n_fit
        super().__init__(message)
