"""Where immfacts keeps its data on this machine.

The default warehouse is ``$IMMFACTS_HOME`` when set, else the per-user data folder
(``~/.local/share/immfacts`` on Linux). ``make demo`` fills it, so ``immfacts metric …``,
``immfacts check …`` and ``immfacts serve`` work afterwards with no flags.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def default_home() -> Path:
    """The default warehouse folder (not created)."""
    env = os.environ.get("IMMFACTS_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("immfacts", appauthor=False))


def resolve_warehouse(path: str | os.PathLike[str] | None) -> Path:
    """``path`` if given, else the default warehouse."""
    return Path(path).expanduser() if path else default_home()


def package_data(*parts: str) -> Path:
    """Path of a file bundled in ``immfacts/data`` (lookups, schema, calibration)."""
    return Path(str(resources.files("immfacts").joinpath("data", *parts)))
