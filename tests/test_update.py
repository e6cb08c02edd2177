"""`immfacts update`: HEAD validators, download only when changed, Range resume, size checks.

Every test talks to a small HTTP server on 127.0.0.1 (tests/fixtures/lifecycle/release_server.py);
ingest is replaced by a recorder that writes a minimal release folder, so these tests are
about the transfer logic. The end-to-end run with the real ingest is in test_lifecycle_e2e.py.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixtures.lifecycle.release_server import serve
from immfacts.errors import FetchError, InputError
from immfacts.lifecycle import download as dl
from immfacts.lifecycle import updater

LM1 = "Mon, 03 Aug 2026 14:22:09 GMT"
LM2 = "Thu, 03 Sep 2026 09:01:00 GMT"


def make_zip(tag: str, size: int = 300_000) -> bytes:
    """A real zip, padded with incompressible bytes so a transfer can be cut mid-body."""
    import random

    rnd = random.Random(tag)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{tag}/README.txt", f"release {tag}")
        z.writestr(f"{tag}/noise.bin", rnd.randbytes(size))
    return buf.getvalue()


@pytest.fixture
def ingested(monkeypatch):
    """Replace ingest with a recorder that writes <home>/releases/<id>/release.json."""
    calls: list[dict] = []

    def fake_ingest(path: Path, home: Path, *, last_modified, progress):
        rid = f"r{len(calls) + 1}"
        calls.append({"path": path, "bytes": path.read_bytes(), "last_modified": last_modified, "id": rid})
        d = home / "releases" / rid
        d.mkdir(parents=True)
        (d / "release.json").write_text(json.dumps({"id": rid, "data_date": f"2026-0{len(calls)}-01", "synthetic": True}))
        return {"release": {"id": rid, "synthetic": True}, "tables": {}}

    monkeypatch.setattr(updater, "_ingest", fake_ingest)
    return calls


@pytest.fixture
def server():
    with serve() as s:
        yield s


def test_first_run_downloads_and_ingests_with_last_modified(server, ingested, tmp_path):
    data = make_zip("a")
    server.publish(data, '"v1"', LM1)
    r = updater.update(server.url, tmp_path, min_bytes=1000)
    assert r.status == "updated" and r.release_id == "r1" and r.synthetic
    assert ingested[0]["bytes"] == data and ingested[0]["last_modified"] == LM1
    meta = json.loads((tmp_path / "releases/r1/release.json").read_text())
    assert meta["last_modified"] == LM1  # recorded even though the ingest did not take it
    state = json.loads((tmp_path / "cache/update-state.json").read_text())
    assert state["sources"][server.url]["etag"] == '"v1"'
    assert Path(r.zip_path).parent == tmp_path / "cache"


def test_unchanged_release_is_not_downloaded_again(server, ingested, tmp_path):
    server.publish(make_zip("a"), '"v1"', LM1)
    updater.update(server.url, tmp_path, min_bytes=1000)
    gets_before = len(server.gets())
    r = updater.update(server.url, tmp_path, min_bytes=1000)
    assert r.status == "unchanged" and r.release_id == "r1"
    assert len(server.gets()) == gets_before
    assert len(ingested) == 1


def test_changed_release_is_downloaded_and_ingested(server, ingested, tmp_path):
    server.publish(make_zip("a"), '"v1"', LM1)
    updater.update(server.url, tmp_path, min_bytes=1000)
    new = make_zip("b")
    server.publish(new, '"v2"', LM2)
    r = updater.update(server.url, tmp_path, min_bytes=1000)
    assert r.status == "updated" and r.release_id == "r2"
    assert ingested[1]["bytes"] == new and ingested[1]["last_modified"] == LM2
    assert len(list((tmp_path / "cache").glob("*.zip"))) == 2  # every release kept
    assert r.diff["old"] == "r1" and r.diff["new"] == "r2"  # compared with the previous release
    assert (tmp_path / "diffs" / "r1__r2.json").exists()


def test_interrupted_transfer_resumes_with_range(server, ingested, tmp_path):
    data = make_zip("a")
    server.publish(data, '"v1"', LM1)
    server.break_after = 100_000
    with pytest.raises(FetchError) as e:
        updater.update(server.url, tmp_path, min_bytes=1000)
    assert "resumes" in e.value.hint
    parts = list((tmp_path / "cache").glob("*.part"))
    assert len(parts) == 1 and parts[0].stat().st_size == 100_000
    assert not ingested

    r = updater.update(server.url, tmp_path, min_bytes=1000)
    last = server.gets()[-1]
    assert last["Range"] == "bytes=100000-" and last["If-Range"] == '"v1"'
    assert r.status == "updated" and r.resumed_from == 100_000
    assert r.downloaded_bytes == len(data) - 100_000
    assert ingested[0]["bytes"] == data
    assert not list((tmp_path / "cache").glob("*.part"))


def test_file_changed_while_interrupted_is_fetched_from_the_start(server, ingested, tmp_path):
    server.publish(make_zip("a"), '"v1"', LM1)
    server.break_after = 50_000
    with pytest.raises(FetchError):
        updater.update(server.url, tmp_path, min_bytes=1000)
    new = make_zip("b")
    server.publish(new, '"v2"', LM2)
    r = updater.update(server.url, tmp_path, min_bytes=1000)
    assert r.status == "updated" and r.resumed_from == 0
    assert "Range" not in server.gets()[-1]
    assert ingested[0]["bytes"] == new


def test_if_range_mismatch_makes_the_server_send_the_whole_file(server, tmp_path):
    # The partial file belongs to an older version: the server ignores Range (If-Range fails).
    import httpx

    server.publish(make_zip("b"), '"v2"', LM2)
    part = tmp_path / "x.part"
    part.write_bytes(b"PK\x03\x04stale")
    stale = dl.RemoteInfo(server.url, '"v1"', LM1, len(server.served.data), True)
    with httpx.Client() as c:
        out = dl.fetch(c, stale, part, resume=True)
    assert out.restarted and out.resumed_from == 0
    assert part.read_bytes() == server.served.data


def test_release_already_in_the_warehouse_is_recognised_by_last_modified(server, ingested, tmp_path):
    server.publish(make_zip("a"), '"v1"', LM1)
    d = tmp_path / "releases" / "existing"
    d.mkdir(parents=True)
    (d / "release.json").write_text(json.dumps({"id": "existing", "last_modified": LM1}))
    r = updater.update(server.url, tmp_path, min_bytes=1000)
    assert r.status == "unchanged" and r.release_id == "existing"
    assert server.gets() == [] and not ingested


def test_seen_version_missing_from_warehouse_is_ingested_again_from_cache(server, ingested, tmp_path):
    import shutil

    server.publish(make_zip("a"), '"v1"', LM1)
    updater.update(server.url, tmp_path, min_bytes=1000)
    shutil.rmtree(tmp_path / "releases" / "r1")
    gets = len(server.gets())
    r = updater.update(server.url, tmp_path, min_bytes=1000)
    assert r.status == "reingested" and len(server.gets()) == gets and len(ingested) == 2


def test_check_only_reports_a_new_release_without_downloading(server, ingested, tmp_path):
    server.publish(make_zip("a"), '"v1"', LM1)
    r = updater.update(server.url, tmp_path, min_bytes=1000, check_only=True)
    assert r.status == "changed" and server.gets() == [] and not ingested


def test_force_downloads_an_unchanged_release(server, ingested, tmp_path):
    server.publish(make_zip("a"), '"v1"', LM1)
    updater.update(server.url, tmp_path, min_bytes=1000)
    r = updater.update(server.url, tmp_path, min_bytes=1000, force=True)
    assert r.status == "updated" and len(ingested) == 2


def test_missing_file_404_names_the_url_and_the_override(server, tmp_path):
    server.publish(make_zip("a"), '"v1"', LM1)
    with pytest.raises(FetchError) as e:
        updater.update(server.url.replace("EOIR", "FOIA-TRAC"), tmp_path)
    assert "404" in e.value.message and "IMMFACTS_EOIR_URL" in e.value.hint


def test_implausibly_small_release_is_refused_before_downloading(server, ingested, tmp_path):
    server.publish(make_zip("a", size=10), '"v1"', LM1)
    with pytest.raises(InputError) as e:
        updater.update(server.url, tmp_path)  # default minimum: 50 MB
    assert "--min-size" in e.value.hint
    assert server.gets() == [] and not ingested


def test_error_page_served_as_the_zip_is_refused(server, ingested, tmp_path):
    server.publish(b"<html>maintenance</html>" * 100, '"v1"', LM1)
    with pytest.raises(InputError, match="not a zip"):
        updater.update(server.url, tmp_path, min_bytes=10)
    assert not ingested


def test_head_refused_falls_back_to_get_for_the_validators(server, ingested, tmp_path):
    server.publish(make_zip("a"), '"v1"', LM1)
    server.head_allowed = False
    r = updater.update(server.url, tmp_path, min_bytes=1000)
    assert r.status == "updated" and r.etag == '"v1"'


def test_default_url_is_eoirs_current_one_and_env_overrides(monkeypatch):
    monkeypatch.delenv(updater.URL_ENV, raising=False)
    assert updater.default_url() == "https://fileshare.eoir.justice.gov/EOIR Case Data.zip"
    monkeypatch.setenv(updater.URL_ENV, "http://127.0.0.1:1/x.zip")
    assert updater.default_url() == "http://127.0.0.1:1/x.zip"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ({"etag": 'W/"abc"'}, '"abc"', True),
        ({"etag": '"abc"'}, '"abd"', False),
        ({"last_modified": LM1}, None, True),
        ({}, None, False),
    ],
)
def test_weak_and_strong_etags_match_and_last_modified_is_the_fallback(a, b, same):
    info = dl.RemoteInfo("u", b, LM1, 10, True)
    assert dl.same_version(a, info) is same


@pytest.mark.parametrize(("text", "n"), [("100MB", 100 << 20), ("4.5 GB", int(4.5 * (1 << 30))), ("1024", 1024), ("2kib", 2048)])
def test_sizes_are_read_with_units(text, n):
    assert updater.parse_size(text) == n


@given(st.integers(min_value=0, max_value=1 << 40))
def test_plain_byte_counts_round_trip(n):
    assert updater.parse_size(str(n)) == n


def test_cli_update_json_then_unchanged(server, ingested, tmp_path):
    import json as _json

    from typer.testing import CliRunner

    from immfacts.cli import app

    server.publish(make_zip("a"), '"v1"', LM1)
    args = ["update", "--url", server.url, "-w", str(tmp_path), "--min-size", "1KB", "--json"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert _json.loads(r.stdout)["status"] == "updated"
    r = CliRunner().invoke(app, args[:-1])
    assert r.exit_code == 0 and "unchanged" in r.output and "SYNTHETIC" in r.output


def test_cli_update_404_is_an_error_without_traceback(server, tmp_path):
    from typer.testing import CliRunner

    from immfacts.cli import app

    r = CliRunner().invoke(app, ["update", "--url", server.url + "x", "-w", str(tmp_path)])
    assert r.exit_code == 2 and "404" in r.output and "Traceback" not in r.output
