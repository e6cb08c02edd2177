"""The canonical model of a release: proceedings, cases, applications, asylum cases, spells.

The model turns EOIR's staged tables into the entities statistics are about, with the
collapse rules of docs/definitions.md (each a named parameter of :class:`ModelRules`):

========================== ===========================================================
``proceedings``            one row per proceeding, completion decoded to an outcome class
``cases``                  one row per case: receipt, final and initial completion, dimensions
``applications``           one row per application, decision category and decision date
``asylum_cases``           one row per (asylum family, case): the case's asylum decision
``case_spells``            intervals during which a case is active / inactive pending
``asylum_application_spells`` intervals during which an ASYL application is pending
========================== ===========================================================

**Materialisation.** The model is written once, as Parquet, at ingest:
``immfacts.ingest`` calls :func:`build_model` on the new release folder before swapping it
in, so ``<release>/model/<table>.parquet`` always exists next to ``tables/`` (a file, or for
a release built in more than one bucket a folder of parts, see
:func:`immfacts.warehouse.parquet_files`). The tables are
Ibis expressions built on DuckDB (bounded memory, see :mod:`immfacts.model.build`); metric
queries then read the Parquet files on either engine (DuckDB or Spark), so both engines
answer from identical inputs. ``model/manifest.json`` records the rules and data checks.
A release whose model is missing or older than :data:`MODEL_VERSION` is rebuilt on first use.
"""

from __future__ import annotations

from immfacts.model.build import (
    MODEL_TABLES,
    MODEL_VERSION,
    build_model,
    model_schemas,
    read_manifest,
)
from immfacts.model.rules import DEFAULT_RULES, OUTCOME_CLASSES, TERMINAL_CLASSES, ModelRules

__all__ = [
    "DEFAULT_RULES",
    "MODEL_TABLES",
    "MODEL_VERSION",
    "OUTCOME_CLASSES",
    "TERMINAL_CLASSES",
    "ModelRules",
    "build_model",
    "model_schemas",
    "read_manifest",
]
