"""Exceptions raised by the library.

Every error a *user* can cause (a wrong file, an unknown metric, a bad period) is an
:class:`ImmfactsError`. Its message says what is wrong; its ``hint`` says what to do.
The CLI prints both on one or two lines and exits non-zero, with no traceback; the web app
turns them into the one JSON error shape. Library code never calls ``sys.exit``.
"""

from __future__ import annotations


class ImmfactsError(Exception):
    """Base class for user-facing errors: a message plus a remedy."""

    exit_code = 2
    http_status = 400

    def __init__(self, message: str, hint: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} — {self.hint}"

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"error": self.message, "type": type(self).__name__}
        if self.hint:
            d["hint"] = self.hint
        if self.details:
            d["details"] = {k: v for k, v in self.details.items() if _jsonable(v)}
        return d


def _jsonable(v: object) -> bool:
    return isinstance(v, str | int | float | bool | list | dict | type(None))


class InputError(ImmfactsError):
    """The input file, folder or URL is not what was expected (not a zip, truncated, …)."""


class UnsafeArchiveError(InputError):
    """The archive tries to escape its folder or expands beyond the configured limits."""


class SchemaError(ImmfactsError):
    """A table lacks a required column, or no known table was found in a release."""


class IngestError(ImmfactsError):
    """Ingest could not complete; the previous warehouse state is left untouched."""

    exit_code = 3


class StrictModeError(IngestError):
    """A row needed repair or quarantine while ``--strict`` was given."""


class WarehouseError(ImmfactsError):
    """No warehouse / no release where one is needed."""

    http_status = 404


class ReleaseNotFound(WarehouseError):
    """The requested release id is not in the warehouse."""


class UnknownMetricError(ImmfactsError):
    """The metric id is not in the catalogue (the hint lists the nearest ids)."""

    http_status = 404


class InvalidQueryError(ImmfactsError):
    """A metric query names an unsupported dimension, variant or filter."""

    http_status = 422


class PeriodError(InvalidQueryError):
    """A period could not be parsed, or lies outside the data."""


class RegistryError(ImmfactsError):
    """The metric registry has problems (all of them are listed in ``details``)."""


class ReferenceDataError(ImmfactsError):
    """A reference file (e.g. a new CBP CSV) is malformed; the bundle is left unchanged."""


class FetchError(ImmfactsError):
    """A URL could not be fetched within the limits (scheme, size, time, address)."""

    http_status = 422


def suggest(name: str, choices: list[str], n: int = 3) -> list[str]:
    """Nearest names to ``name`` among ``choices`` (for 'did you mean' hints)."""
    import difflib

    return difflib.get_close_matches(name, choices, n=n, cutoff=0.4)
