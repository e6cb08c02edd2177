"""immfacts: reproducible U.S. immigration statistics, and a checker for the numbers in the news.

The Python API is the product; the CLI (``immfacts …``) and the web app wrap it.

    import immfacts
    report = immfacts.ingest("EOIR Case Data.zip")          # or a sample release
    wh = immfacts.Warehouse()                                # the default warehouse
    wh.metric("eoir.asylum.grant_rate", period="FY2024", variant="all")
    immfacts.check("More than 350,000 asylum cases were terminated since 2022.")

Names are imported lazily so that ``import immfacts`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY: dict[str, tuple[str, str | None]] = {
    # stage modules that are also callable: immfacts.ingest(...), immfacts.sample(...)
    "ingest": ("immfacts.ingest", None),
    "sample": ("immfacts.sample", None),
    "Warehouse": ("immfacts.warehouse", "Warehouse"),
    "Result": ("immfacts.provenance", "Result"),
    "Period": ("immfacts.periods", "Period"),
    "parse_period": ("immfacts.periods", "parse_period"),
    "check": ("immfacts.claims", "check"),
    "sources": ("immfacts.reference", "sources"),
    "ImmfactsError": ("immfacts.errors", "ImmfactsError"),
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'immfacts' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    return module if attr is None else getattr(module, attr)
