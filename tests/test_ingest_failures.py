"""Ingest: bad input gets one clear error (never a traceback, never data loss) and a failed or
interrupted ingest leaves the warehouse exactly as it was."""

from __future__ import annotations

import errno
import functools
import http.server
import shutil
import sys
import threading
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import immfacts.ingest.build as build_mod
import immfacts.ingest.table as table_mod
from immfacts.cli import app
from immfacts.errors import FetchError, IngestError, InputError, SchemaError, UnsafeArchiveError
from immfacts.ingest import ingest, read_release_tables

FIX = Path(__file__).parent / "fixtures" / "ingest"
CASES = (FIX / "duplicates" / "A_TblCase.csv").read_bytes()
CUSTODY = b"IDNCUSTODY\tIDNCASE\tCUSTODY\tDATDETAINED\tDATRELEASED\r\n7\t1\tD\t2019-01-02 00:00:00.000\t\r\n8\t2\tR\t2019-01-03 00:00:00.000\t2019-02-03 00:00:00.000\r\n9\t2\tD\t\t\r\n"


def make_zip(path: Path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, (2026, 7, 8, 0, 0, 0)), data, compress_type=compression)
    return path


def good_zip(tmp_path: Path, name: str = "release.zip", extra: bytes = b"") -> Path:
    return make_zip(tmp_path / name, {"070826-FOIA-TRAC-FILES/A_TblCase.csv": CASES + extra, "070826-FOIA-TRAC-FILES/tbl_CustodyHistory.csv": CUSTODY})


def snapshot(home: Path) -> dict[str, bytes]:
    rels = home / "releases"
    return {str(p.relative_to(rels)): p.read_bytes() for p in sorted(rels.rglob("*")) if p.is_file()} if rels.exists() else {}


def assert_no_build_left(home: Path) -> None:
    tmp = home / "tmp"
    assert not tmp.exists() or not any(p.name.startswith("build-") for p in tmp.iterdir())


def test_not_a_zip_is_a_clear_input_error(tmp_path):
    p = tmp_path / "EOIR Case Data.zip"
    p.write_text("<html>404 Not Found</html>")
    with pytest.raises(InputError, match="not a valid zip"):
        ingest(p, warehouse=tmp_path / "wh")


def test_truncated_zip_is_refused(tmp_path):
    z = good_zip(tmp_path).read_bytes()
    (tmp_path / "cut.zip").write_bytes(z[: len(z) // 2])
    with pytest.raises(InputError) as e:
        ingest(tmp_path / "cut.zip", warehouse=tmp_path / "wh")
    assert e.value.hint


def test_corrupt_member_data_is_an_input_error_not_a_crash(tmp_path):
    big = b"".join(b"%d\tCITY %d\tCA\t95112\tMX\tN\tRMV\t1\t\t\tM\t\r\n" % (i, i * 7919 % 1000) for i in range(3, 20000))
    z = bytearray(good_zip(tmp_path, extra=big).read_bytes())
    start = z.find(b"A_TblCase.csv") + 40
    for i in range(start, start + 2000, 7):
        z[i] ^= 0x5A
    (tmp_path / "bad.zip").write_bytes(bytes(z))
    with pytest.raises(InputError, match="truncated or corrupt"):
        ingest(tmp_path / "bad.zip", warehouse=tmp_path / "wh")
    assert_no_build_left(tmp_path / "wh")


def test_deflate_members_inflate_with_zlib_ng_and_still_check_their_crc(tmp_path):
    """The fast inflater takes over a deflate member (a Python whose zipfile no longer has the
    attribute would silently lose the speed: this fails instead) and the bytes are the same;
    a member whose CRC-32 does not match is still refused."""
    from zlib_ng import zlib_ng

    from immfacts.ingest.source import open_release

    data = CASES * 50
    with open_release(good_zip(tmp_path)) as rel:
        member = next(m for m in rel.members if m.table == "A_TblCase")
        with rel.open(member) as fh:
            assert type(fh.raw._decompressor) is type(zlib_ng.decompressobj(-15))
            assert fh.read() == CASES
    z = make_zip(tmp_path / "crc.zip", {"070826-FOIA-TRAC-FILES/A_TblCase.csv": data})
    raw = bytearray(z.read_bytes())
    cd = raw.rfind(b"PK\x01\x02")  # the central directory's CRC-32 of the member, at offset 16
    raw[cd + 16] ^= 0xFF
    raw[raw.find(b"PK\x03\x04") + 14] ^= 0xFF  # and the local header's
    (tmp_path / "crc.zip").write_bytes(bytes(raw))
    with open_release(tmp_path / "crc.zip") as rel, pytest.raises(InputError, match="truncated or corrupt"):
        member = next(m for m in rel.members if m.table == "A_TblCase")
        with rel.open(member) as fh:
            while fh.read(1 << 16):
                pass


def _arrow_pool() -> str:
    import pyarrow as pa

    return pa.default_memory_pool().backend_name


def _thp_disabled() -> int:
    import ctypes

    return ctypes.CDLL(None).prctl(42, 0, 0, 0, 0)  # PR_GET_THP_DISABLE


@pytest.mark.parametrize(
    ("probe", "during"),
    [
        pytest.param(_arrow_pool, "system", id="pyarrow-allocates-from-malloc"),
        pytest.param(_thp_disabled, 1, id="no-transparent-huge-pages",
                     marks=pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(2) is Linux's")),
    ],
)
def test_build_allocator_settings_hold_during_an_ingest_and_are_restored(tmp_path, monkeypatch, probe, during):
    """The ingest's tables are loaded with PyArrow's pool set to the system allocator and with
    transparent huge pages off for the process; the caller's settings are back afterwards —
    after a failed ingest too."""
    import immfacts.ingest.build as build

    seen = []
    scan = build.scan_table
    monkeypatch.setattr(build, "scan_table", lambda *a, **k: (seen.append(probe()), scan(*a, **k))[1])
    before = probe()
    ingest(good_zip(tmp_path), warehouse=tmp_path / "wh")
    assert seen and set(seen) == {during} and probe() == before
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(InputError):
        ingest(tmp_path / "bad.zip", warehouse=tmp_path / "wh")
    assert probe() == before


def test_a_warehouse_path_with_a_quote_gets_its_catalog(tmp_path):
    """The catalog's views name the Parquet files by absolute path, quoted as SQL literals."""
    import duckdb

    report = ingest(good_zip(tmp_path), warehouse=tmp_path / "O'Brien's data")
    assert not [w for w in report.warnings if "catalog" in w]
    con = duckdb.connect(str(Path(report.path) / "catalog.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM A_TblCase").fetchone()[0] == report.tables["A_TblCase"].rows_loaded


@pytest.mark.parametrize("name", ["/etc/A_TblCase.csv", "../A_TblCase.csv", "x/../../A_TblCase.csv", "C:/A_TblCase.csv"])
def test_member_paths_escaping_the_folder_are_refused(tmp_path, name):
    make_zip(tmp_path / "evil.zip", {name: CASES})
    with pytest.raises(UnsafeArchiveError, match="unsafe member path"):
        ingest(tmp_path / "evil.zip", warehouse=tmp_path / "wh")


def test_zip_bomb_expansion_ratio_is_capped(tmp_path):
    make_zip(tmp_path / "bomb.zip", {"A_TblCase.csv": b"\0" * (30 << 20)})
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        ingest(tmp_path / "bomb.zip", warehouse=tmp_path / "wh")


def test_total_unpacked_size_cap_is_configurable(tmp_path, monkeypatch):
    z = good_zip(tmp_path)
    monkeypatch.setenv("IMMFACTS_MAX_UNPACKED_GB", "0.0000001")
    with pytest.raises(UnsafeArchiveError, match="IMMFACTS_MAX_UNPACKED_GB"):
        ingest(z, warehouse=tmp_path / "wh")
    monkeypatch.setenv("IMMFACTS_MAX_UNPACKED_GB", "lots")
    with pytest.raises(InputError, match="not a number"):
        ingest(z, warehouse=tmp_path / "wh")


def test_empty_table_file_is_a_clear_error(tmp_path):
    make_zip(tmp_path / "empty.zip", {"A_TblCase.csv": b""})
    with pytest.raises(InputError, match="A_TblCase.*empty"):
        ingest(tmp_path / "empty.zip", warehouse=tmp_path / "wh")


def test_release_without_known_tables_is_a_schema_error(tmp_path):
    make_zip(tmp_path / "other.zip", {"readme.txt": b"hello", "data/foo.csv": b"a\tb\n1\t2\n"})
    with pytest.raises(SchemaError, match="no known EOIR table"):
        ingest(tmp_path / "other.zip", warehouse=tmp_path / "wh")


def test_unknown_table_selection_suggests_names(tmp_path):
    with pytest.raises(InputError) as e:
        ingest(good_zip(tmp_path), warehouse=tmp_path / "wh", tables=["A_TblCas"])
    assert "A_TblCase" in e.value.hint


def test_missing_source_path(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        ingest(tmp_path / "nope.zip", warehouse=tmp_path / "wh")


class _FullDisk(pq.ParquetWriter):
    def write_batch(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_while_writing_keeps_the_previous_release(tmp_path, monkeypatch):
    home = tmp_path / "wh"
    first = ingest(good_zip(tmp_path, "old.zip"), warehouse=home)
    before = snapshot(home)
    monkeypatch.setattr(table_mod.pq, "ParquetWriter", _FullDisk)
    with pytest.raises(IngestError, match="disk is full"):
        ingest(good_zip(tmp_path, "new.zip", extra=b"7\tX\tCA\t95112\tMX\tN\tRMV\t1\t\t\tM\t\r\n"), warehouse=home)
    assert snapshot(home) == before
    assert_no_build_left(home)
    assert pq.read_table(Path(first.path) / "tables" / "A_TblCase.parquet").num_rows == 2


def test_failure_mid_ingest_of_the_same_release_leaves_it_readable(tmp_path, monkeypatch):
    home = tmp_path / "wh"
    z = good_zip(tmp_path)
    first = ingest(z, warehouse=home)
    before = snapshot(home)
    real = table_mod.scan_table

    def fail_on_proceedings(release, table, *a, **k):
        if table == "tbl_CustodyHistory":
            raise IngestError("simulated failure after A_TblCase was written")
        return real(release, table, *a, **k)

    monkeypatch.setattr(build_mod, "scan_table", fail_on_proceedings)
    with pytest.raises(IngestError, match="simulated"):
        ingest(z, warehouse=home)
    assert snapshot(home) == before
    assert_no_build_left(home)
    assert pq.read_table(Path(first.path) / "tables" / "tbl_CustodyHistory.parquet").num_rows == 3


def test_ctrl_c_removes_the_build_and_keeps_the_previous_release(tmp_path, monkeypatch):
    home = tmp_path / "wh"
    ingest(good_zip(tmp_path), warehouse=home)
    before = snapshot(home)

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(build_mod, "scan_table", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest(good_zip(tmp_path, "again.zip", extra=b"9\tX\tCA\t95112\tMX\tN\tRMV\t1\t\t\tM\t\r\n"), warehouse=home)
    assert snapshot(home) == before
    assert_no_build_left(home)
    r = CliRunner().invoke(app, ["ingest", str(good_zip(tmp_path, "third.zip")), "--warehouse", str(home)])
    assert r.exit_code == 130 and "interrupted" in r.output and "Traceback" not in r.output


def test_cli_bad_input_is_one_message_and_a_nonzero_exit(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"PK\x03\x04garbage")
    r = CliRunner().invoke(app, ["ingest", str(tmp_path / "x.zip"), "--warehouse", str(tmp_path / "wh")])
    assert r.exit_code == 2
    assert "error:" in r.output and "hint:" in r.output and "Traceback" not in r.output


# --- URL sources (a local HTTP server on 127.0.0.1) -----------------------------------------
class _Handler(http.server.SimpleHTTPRequestHandler):
    gets = 0

    def do_GET(self):
        type(self).gets += 1
        super().do_GET()

    def log_message(self, *a):
        pass


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    _Handler.gets = 0
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_url_source_is_streamed_to_the_cache_and_reused(tmp_path, server):
    root, base = server
    shutil.copy(good_zip(tmp_path), root / "EOIR Case Data.zip")
    home = tmp_path / "wh"
    url = base + "/EOIR%20Case%20Data.zip"
    r1 = ingest(url, warehouse=home)
    assert r1.release["source"] == url and r1.release["last_modified"]
    assert any(p.name.endswith("EOIR_Case_Data.zip") for p in (home / "cache").iterdir())
    r2 = ingest(url, warehouse=home)
    assert _Handler.gets == 1 and r2.release_id == r1.release_id
    assert read_release_tables(url, cache_dir=home / "cache").keys() == {"A_TblCase", "tbl_CustodyHistory"}


def test_url_errors_are_clear(tmp_path, server):
    _, base = server
    with pytest.raises(FetchError, match="404"):
        ingest(base + "/missing.zip", warehouse=tmp_path / "wh")
    with pytest.raises(InputError, match="scheme"):
        ingest("ftp://127.0.0.1/release.zip", warehouse=tmp_path / "wh")



def test_missing_or_empty_release_lookups_fall_back_to_the_bundled_copy(tmp_path):
    z = make_zip(tmp_path / "lk.zip", {
        "070826-FOIA-TRAC-FILES/A_TblCase.csv": CASES,
        "070826-FOIA-TRAC-FILES/Lookup/tblLookupCaseType.csv": b"",
        "070826-FOIA-TRAC-FILES/Lookup/tblLookupCustodyStatus.csv": b"idnCustodyStatus\tstrCode\tstrSelecBoxVal\tstrDescription\r\n1\tD\tD\tDETAINED\r\n",
    })
    report = ingest(z, warehouse=tmp_path / "wh")
    lk = report.lookups
    assert lk["tblLookupCustodyStatus"] == {"source": "release", "rows": 1}
    assert lk["tblLookupCaseType"]["source"] == "bundled" and "empty" in lk["tblLookupCaseType"]["note"]
    assert lk["tblLookupCourtDecision"]["source"] == "bundled" and lk["tblLookupCourtDecision"]["rows"] > 20
    # codes are checked against the release's own (one-row) custody lookup, where N is unknown
    assert report.tables["A_TblCase"].values["CUSTODY"]["invalid_codes"] == report.tables["A_TblCase"].rows_loaded == 2
    assert (Path(report.path) / "lookups" / "tblLookupCaseType.parquet").exists()
    assert pq.read_table(Path(report.path) / "lookups" / "tblLookupCustodyStatus.parquet").column("idnCustodyStatus").type == "int64"
