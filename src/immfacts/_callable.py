"""Let a stage module be called like its main function.

``immfacts.ingest`` is both the ingest *module* (one module per stage) and the public
function ``immfacts.ingest(source, warehouse=...)``. A module object cannot normally be
called, so the stage module swaps its class for this subclass, whose ``__call__`` forwards
to the named function.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class CallableModule(types.ModuleType):
    """A module whose call forwards to ``__call_target__``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(self, self.__dict__["__call_target__"])(*args, **kwargs)


def make_callable(module_name: str, function_name: str) -> None:
    """Make ``sys.modules[module_name](...)`` call ``module.function_name(...)``."""
    module = sys.modules[module_name]
    module.__dict__["__call_target__"] = function_name
    module.__class__ = CallableModule
