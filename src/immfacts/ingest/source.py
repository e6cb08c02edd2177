"""A release as it arrives: a zip (deflate or Deflate64), an unpacked folder, or a URL of a zip.

:func:`open_release` turns any of the three into a :class:`Release`: the list of its members
(main tables matched to the schema registry by file name, ``Lookup/`` files, ``Count.txt``,
``README-SYNTHETIC.txt``), its data date (from the ``MMDDYY-FOIA-TRAC-FILES`` folder name), a
content checksum and the release id derived from both. Members are read as byte streams —
nothing is extracted by name, so a hostile member path can never write outside the build
folder — and a zip is refused before any byte is inflated when a member path is absolute or
contains ``..``, or when its sizes exceed the :mod:`~immfacts.ingest.limits` (zip bombs).

Checksums: for a zip, SHA-256 over the central directory's (name, size, CRC-32) of every
member, so the same release always gets the same id and any changed byte gives another; for a
folder, SHA-256 over each file's (relative path, size, first and last 64 KiB) — stable, fast
on 20+ GB, and different for a different release.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import zipfile_deflate64  # noqa: F401  (registers Deflate64, method 9, with zipfile)
from zlib_ng import zlib_ng

from immfacts.errors import InputError, SchemaError, UnsafeArchiveError
from immfacts.ingest.limits import Limits
from immfacts.schema import find_table, main_tables

FOLDER_RE = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{2})-FOIA-TRAC-FILES", re.IGNORECASE)
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
# what opening a truncated or corrupt member raises, and what reading it raises with either
# inflater (zlib's or zlib-ng's)
_OPEN_ERRORS = (zipfile.BadZipFile, OSError, EOFError, zlib.error)
_READ_ERRORS = (*_OPEN_ERRORS, zlib_ng.error, ValueError)


@dataclass(frozen=True)
class Member:
    """One file of a release."""

    name: str  # posix path inside the zip / folder
    kind: str  # table | lookup | count | synthetic | other
    table: str | None  # registry name (main tables) or file stem (lookups)
    size: int
    compressed: int | None = None
    crc: int | None = None


@dataclass
class Release:
    """An opened release (zip or folder). Use as a context manager, or call :meth:`close`."""

    source: str
    path: Path
    kind: str  # zip | dir
    members: list[Member]
    last_modified: str | None = None
    _zip: zipfile.ZipFile | None = field(default=None, repr=False)
    _checksum: str | None = field(default=None, repr=False)

    # --- what is in it ----------------------------------------------------------------------
    @property
    def tables(self) -> dict[str, Member]:
        """Main tables found, by registry name, in the registry's order."""
        found = {m.table: m for m in self.members if m.kind == "table" and m.table}
        return {n: found[n] for n in main_tables() if n in found}

    @property
    def lookups(self) -> dict[str, Member]:
        """``Lookup/`` files by file stem (e.g. ``tblLookupCourtDecision``)."""
        return {m.table: m for m in self.members if m.kind == "lookup" and m.table}

    @property
    def synthetic(self) -> bool:
        """True when the release carries ``README-SYNTHETIC.txt`` (a generated sample)."""
        return any(m.kind == "synthetic" for m in self.members)

    @property
    def folder(self) -> str | None:
        """The ``MMDDYY-FOIA-TRAC-FILES`` folder name, if the release has one."""
        for m in self.members:
            for part in PurePosixPath(m.name).parts:
                if FOLDER_RE.fullmatch(part):
                    return part
        return None

    @property
    def data_date(self) -> str | None:
        """YYYY-MM-DD from the folder name (or the source file name), else None."""
        for text in (self.folder or "", Path(self.source).name, self.path.name):
            m = FOLDER_RE.search(text)
            if m:
                mm, dd, yy = (int(g) for g in m.groups())
                try:
                    return dt.date(2000 + yy, mm, dd).isoformat()
                except ValueError:
                    continue
        return None

    def count_txt(self) -> dict[str, int] | None:
        """Expected rows per main table from ``Count.txt`` (None when the release has none)."""
        member = next((m for m in self.members if m.kind == "count"), None)
        if member is None:
            return None
        text = self.read_bytes(member).replace(b"\x00", b"").decode("latin-1")
        out: dict[str, int] = {}
        for line in text.splitlines():
            parts = [p for p in re.split(r"[\t,;]+|\s{2,}", line.strip()) if p]
            if len(parts) < 2:
                parts = line.split()
            if len(parts) < 2:
                continue
            spec = find_table(parts[0].strip())
            count = parts[-1].strip().replace(",", "")
            if spec is not None and spec.kind == "main" and count.isdigit():
                out[spec.name] = int(count)
        return out

    # --- identity ---------------------------------------------------------------------------
    def checksum(self) -> str:
        """SHA-256 content checksum (see the module docstring)."""
        if self._checksum is None:
            h = hashlib.sha256()
            if self.kind == "zip":
                for m in sorted(self.members, key=lambda m: m.name):
                    h.update(f"{m.name}\0{m.size}\0{m.crc}\n".encode())
            else:
                for m in sorted(self.members, key=lambda m: m.name):
                    p = self.path / m.name
                    h.update(f"{m.name}\0{m.size}\n".encode())
                    with open(p, "rb") as fh:
                        h.update(fh.read(65536))
                        if m.size > 131072:
                            fh.seek(-65536, os.SEEK_END)
                            h.update(fh.read(65536))
            self._checksum = h.hexdigest()
        return self._checksum

    @property
    def release_id(self) -> str:
        """``<data date>-<first 10 hex digits of the checksum>`` (``undated-…`` without a date)."""
        return f"{self.data_date or 'undated'}-{self.checksum()[:10]}"

    # --- reading ----------------------------------------------------------------------------
    @contextmanager
    def open(self, member: Member) -> Iterator[BinaryIO]:
        """A binary stream of the member's bytes; read errors become :class:`InputError`."""
        if self.kind == "dir":
            with open(self.path / member.name, "rb") as fh:
                yield fh
            return
        assert self._zip is not None
        try:
            raw = self._zip.open(member.name)
        except NotImplementedError as e:
            raise InputError(f"{self.source}: {member.name} uses an unsupported compression ({e})", hint="re-create the zip with deflate or Deflate64") from None
        except _OPEN_ERRORS as e:
            raise _corrupt(self.source, member.name, e) from None
        _inflate_with_zlib_ng(raw)
        try:
            yield _GuardedStream(raw, self.source, member)
        finally:
            raw.close()

    def read_bytes(self, member: Member) -> bytes:
        """The whole member (small files only: Count.txt, lookups)."""
        with self.open(member) as fh:
            return fh.read()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    def __enter__(self) -> Release:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _inflate_with_zlib_ng(raw: BinaryIO) -> None:
    """Have a deflate member stream inflate with zlib-ng rather than zlib: the same bytes in
    about half the CPU time (a 0.1-scale ``tbl_schedule``, 767 MB: 1.1 against 2.3 CPU-s),
    and inflating is the largest part of the pre-pass. zipfile reads a deflate member through
    one decompressor object, whose interface zlib-ng's copies exactly; it is swapped right
    after the member is opened, before any byte is read, and zipfile still checks the
    member's length and CRC-32. Stored and Deflate64 members are left alone, and so is a
    zipfile without that attribute (which would only cost speed; a test notices)."""
    if getattr(raw, "_compress_type", None) == zipfile.ZIP_DEFLATED and getattr(raw, "_decompressor", None) is not None:
        raw._decompressor = zlib_ng.decompressobj(-15)  # type: ignore[attr-defined]


class _GuardedStream(io.RawIOBase):
    """A zip member stream that turns decompression errors into :class:`InputError` and refuses
    to yield more bytes than the member's header declared."""

    def __init__(self, raw: BinaryIO, source: str, member: Member) -> None:
        self.raw, self.source, self.member, self.seen = raw, source, member, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        try:
            data = self.raw.read(n)
        except _READ_ERRORS as e:
            raise _corrupt(self.source, self.member.name, e) from None
        self.seen += len(data)
        if self.seen > self.member.size:
            raise UnsafeArchiveError(
                f"{self.source}: {self.member.name} inflates beyond the {self.member.size:,} bytes its header declares",
                hint="the archive is corrupt or hostile; download it again from the official source",
            )
        return data

    def readinto(self, b) -> int:  # pragma: no cover - read() is what ingest uses
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def _corrupt(source: str, name: str, e: BaseException) -> InputError:
    return InputError(
        f"{source}: cannot read {name} — the zip is truncated or corrupt ({type(e).__name__}: {e})",
        hint="download the release again (the complete file is ~4.6 GB) and check its size",
    )


def _classify(name: str) -> tuple[str, str | None]:
    p = PurePosixPath(name)
    base = p.name
    low = base.lower()
    if any(part.lower() == "__macosx" for part in p.parts) or base.startswith("._"):
        return "other", None
    if low == "readme-synthetic.txt":
        return "synthetic", None
    if low == "count.txt":
        return "count", None
    if any(part.lower() == "lookup" for part in p.parts[:-1]):
        if low.endswith(TABLE_SUFFIXES):
            return "lookup", base.rsplit(".", 1)[0]
        return "other", None
    if low.endswith(TABLE_SUFFIXES):
        spec = find_table(base)
        if spec is not None and spec.kind == "main":
            return "table", spec.name
    return "other", None


def _unsafe_name(name: str) -> bool:
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return True
    parts = re.split(r"[\\/]+", name)
    return any(p == ".." for p in parts)


def _check_duplicates(source: str, members: list[Member]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for m in members:
        if m.kind in ("table", "lookup") and m.table:
            key = (m.kind, m.table.lower())
            if key in seen:
                raise InputError(
                    f"{source} holds table {m.table} twice ({seen[key]} and {m.name})",
                    hint="point immfacts at one release folder (one MMDDYY-FOIA-TRAC-FILES/) at a time",
                )
            seen[key] = m.name


def _open_zip(source: str, path: Path, limits: Limits) -> Release:
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise InputError(
            f"{source} is not a valid zip file ({e}); it may be truncated or not a zip at all",
            hint="download the release again, or point immfacts at the unpacked release folder",
        ) from None
    except OSError as e:
        raise InputError(f"cannot read {source}: {e}", hint="check the path and its permissions") from None
    try:
        infos = zf.infolist()
        members: list[Member] = []
        total = 0
        for zi in infos:
            if _unsafe_name(zi.filename):
                raise UnsafeArchiveError(
                    f"{source} contains an unsafe member path {zi.filename!r} (absolute or with '..')",
                    hint="refusing to read this archive; download the release from the official source",
                )
            if zi.is_dir():
                continue
            if zi.flag_bits & 0x1:
                raise InputError(f"{source}: member {zi.filename} is encrypted", hint="use the unencrypted release zip")
            total += zi.file_size
            if zi.file_size > limits.ratio_min_bytes and zi.file_size > limits.max_ratio * max(zi.compress_size, 1):
                raise UnsafeArchiveError(
                    f"{source}: {zi.filename} would expand {zi.file_size / max(zi.compress_size, 1):,.0f}× "
                    f"({zi.compress_size:,} → {zi.file_size:,} bytes), above the limit of {limits.max_ratio:g}×",
                    hint="this looks like a zip bomb; if the file is genuine, raise IMMFACTS_MAX_RATIO",
                )
            kind, table = _classify(zi.filename)
            members.append(Member(zi.filename, kind, table, zi.file_size, zi.compress_size, zi.CRC))
        if total > limits.max_unpacked_bytes:
            raise UnsafeArchiveError(
                f"{source} would unpack to {total / 1024**3:,.1f} GB, above the limit of "
                f"{limits.max_unpacked_bytes / 1024**3:,.1f} GB",
                hint="if the release is genuine, raise IMMFACTS_MAX_UNPACKED_GB",
            )
        _check_duplicates(source, members)
    except BaseException:
        zf.close()
        raise
    return Release(source=source, path=path, kind="zip", members=members, _zip=zf)


def _open_dir(source: str, path: Path) -> Release:
    members: list[Member] = []
    for root, dirs, files in os.walk(path):
        rel_root = Path(root).relative_to(path)
        if len(rel_root.parts) > 3:
            dirs[:] = []
            continue
        dirs.sort()
        for f in sorted(files):
            rel = (rel_root / f).as_posix()
            kind, table = _classify(rel)
            members.append(Member(rel, kind, table, (Path(root) / f).stat().st_size))
    _check_duplicates(source, members)
    return Release(source=source, path=path, kind="dir", members=members)


def open_release(
    source: str | os.PathLike[str],
    *,
    cache_dir: Path | None = None,
    limits: Limits | None = None,
    progress=None,
) -> Release:
    """Open a release zip, release folder, or http(s) URL of a zip (downloaded to ``cache_dir``).

    Raises :class:`InputError` (missing, not a zip, corrupt), :class:`UnsafeArchiveError`
    (unsafe member paths, zip bombs) or :class:`SchemaError` (no known EOIR table inside).
    """
    limits = limits or Limits.from_env()
    text = os.fspath(source)
    last_modified = None
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        from immfacts.ingest.fetch import download

        path, last_modified = download(text, cache_dir, progress=progress)
    else:
        path = Path(text).expanduser()
        if not path.exists():
            raise InputError(f"{text} does not exist", hint="give the path of the release zip (\"EOIR Case Data.zip\"), its unpacked folder, or an http(s) URL")
    rel = _open_dir(text, path) if path.is_dir() else _open_zip(text, path, limits)
    rel.last_modified = last_modified
    if not rel.tables:
        rel.close()
        known = ", ".join(main_tables())
        raise SchemaError(
            f"no known EOIR table in {text} (looked for files named like A_TblCase.csv)",
            hint=f"is this the EOIR case-data release? known tables: {known}",
        )
    return rel


def read_release_tables(source: str | os.PathLike[str], **kwargs) -> dict[str, Member]:
    """The main tables of a release (zip, folder or URL), by registry name — a quick listing."""
    with open_release(source, **kwargs) as rel:
        return rel.tables
