"""The bundle itself: every figure cited, files intact, catalogue contract, sources listing."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from immfacts import reference
from immfacts.cli import app
from immfacts.reference.store import SOURCE_FIELDS, bundle_dir, load_releases

DATA = bundle_dir()


@pytest.fixture(scope="module", autouse=True)
def empty_overlay(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IMMFACTS_HOME", str(tmp_path_factory.mktemp("home")))
        yield


def _sources() -> dict[str, dict]:
    return {s["id"]: s for s in yaml.safe_load((DATA / "sources.yaml").read_text())}


def _figure_rows() -> list[tuple[str, int, dict]]:
    out = []
    for path in sorted((DATA / "figures").glob("*.csv")):
        with open(path, newline="") as fh:
            for n, row in enumerate(csv.DictReader(fh), start=2):
                out.append((path.name, n, row))
    return out


def test_every_figure_in_the_bundle_has_a_complete_citation():
    sources = _sources()
    rows = _figure_rows()
    assert len(rows) > 100
    for name, line, row in rows:
        src = sources.get(row["source"])
        assert src is not None, f"{name}:{line} cites {row['source']!r}, missing from sources.yaml"
        for field in SOURCE_FIELDS:
            assert field in src, f"source {src['id']} lacks {field}"
            if field != "published":
                assert src[field], f"source {src['id']} has an empty {field}"
        if not src["published"]:
            assert "not recorded" in src["notes"].lower(), f"source {src['id']}: no date and no note why"


def test_every_cbp_table_file_cites_a_source_and_matches_its_checksum():
    sources = _sources()
    releases = [r for r in load_releases() if r.origin == "bundle"]
    assert {r.family for r in releases} == {"nationwide", "sbo", "usbp_sectors", "enforcement_fy"}
    for r in releases:
        assert r.source in sources, f"release {r.id} cites unknown source {r.source}"
        assert r.path.exists()


def test_a_source_without_publisher_is_caught_by_the_citation_test_logic(tmp_path):
    """The check above must be able to fail: a figure citing an incomplete source."""
    from immfacts.reference.audit import _source_problems

    class FakeStore:
        sources = {"x": {"id": "x", "title": "t", "url": "u", "published": None, "retrieved": "2026-01-01",
                         "license": "l", "notes": ""}}
        releases = []

        def query(self, sql, params=None):
            return [{"metric": "m", "variant": "v", "source": "nowhere", "n": 2}]

    problems = _source_problems(FakeStore())
    details = " ".join(p["detail"] for p in problems)
    assert "publisher" in details and "not recorded" in details and "'nowhere'" in details


def test_reference_check_passes_on_the_bundle_and_reports_overlaps():
    rep = reference.check()
    assert rep["ok"], rep["problems"]
    assert rep["counts"]["figures"] == len(_figure_rows())
    assert any(o["family"] == "nationwide" for o in rep["overlaps"])
    # the older SBO file labels Title 42 expulsions "Apprehensions"; the check shows it
    sbo = [d for d in rep["release_differences"] if d["family"] == "sbo"]
    assert sbo and all(d["change"] == 0 and d["rows_differing"] > 0 for d in sbo)
    fy_table = next(c for c in rep["consistency"] if c["check"].startswith("CBP fiscal-year table"))
    assert {d["unit"] for d in fy_table["differences"]} == {"FY2018", "FY2024"}


def test_catalogue_specs_have_the_eoir_spec_fields():
    cat = reference.catalogue()
    ids = {m["id"] for m in cat}
    assert {"cbp.encounters", "cbp.gotaways", "census.foreign_born", "eoir.published.pending",
            "eoir.published.receipts", "eoir.published.completions"} <= ids
    for m in cat:
        assert {"id", "title", "definition", "unit", "counting_unit", "dimensions", "variants", "source",
                "caveats", "citations"} <= set(m)
        assert m["source"] == "reference" and m["unit"] in ("count", "percent")
        assert sum(v["default"] for v in m["variants"]) == 1
        assert m["citations"], f"{m['id']} has no citations"


def test_sources_lists_every_series_with_coverage_and_citations():
    items = reference.sources()
    assert [s["series"] for s in items] == ["cbp.encounters", "cbp.gotaways", "census.foreign_born",
                                           "eoir.published", "published_analyses"]
    for s in items:
        assert s["coverage"]["start"] and s["coverage"]["end"] and s["coverage"]["detail"]
        assert s["citations"] and all(c["url"] and c["license"] for c in s["citations"])
    assert items[0]["coverage"]["start"] == "1999-10-01"
    assert items[-1]["secondary"] is True


def test_sources_cli_json_equals_the_python_list():
    r = CliRunner().invoke(app, ["sources", "--json"])
    assert r.exit_code == 0
    import json

    assert json.loads(r.stdout) == json.loads(json.dumps(reference.sources(), default=str))


def test_reference_compute_cli_matches_python_and_prints_the_citation():
    import json

    r = CliRunner().invoke(app, ["reference", "compute", "cbp.encounters", "-p", "FY2021", "--json"])
    assert r.exit_code == 0
    d = json.loads(r.stdout)
    assert d["value"] == reference.compute("cbp.encounters", period="FY2021").value == 1_956_519
    assert d["source_kind"] == "reference" and d["citation"][0]["publisher"].startswith("U.S. Customs")
    text = CliRunner().invoke(app, ["reference", "compute", "eoir.published.pending", "-p", "FY2016", "--as-of", "2021-06-01"])
    assert text.exit_code == 0 and "521,517" in text.stdout and "Executive Office for Immigration Review" in text.stdout


def test_cli_user_error_is_one_message_without_traceback():
    r = CliRunner().invoke(app, ["reference", "compute", "cbp.encounter"])
    assert r.exit_code == 2
    assert "Traceback" not in r.output and "cbp.encounters" in r.output


def test_the_package_never_reads_the_shared_folder():
    pkg = Path(reference.__file__).parent
    for py in pkg.glob("*.py"):
        assert not re.search(r"shared/|\.\./shared|/work/", py.read_text()), py.name


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.skipif(not (SHARED / "cbp_encounters").is_dir(), reason="needs the shared data folder next to the checkout")
def test_build_tool_reproduces_the_bundled_files_byte_for_byte(tmp_path):
    import subprocess
    import sys

    tool = Path(__file__).resolve().parents[1] / "tools" / "build_reference.py"
    done = subprocess.run([sys.executable, str(tool), str(SHARED), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    built = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert len(built) == 9
    for rel in built:
        assert (tmp_path / rel).read_bytes() == (DATA / rel).read_bytes(), f"{rel} differs from a rebuild"
