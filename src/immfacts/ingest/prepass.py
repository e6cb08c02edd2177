"""The byte-level pre-pass: stream a table member to a normalised data file, finding the few
lines that need Python and the duplicated keys, at NumPy speed.

The member is read in blocks (8 MiB) straight from the zip stream. Each block of complete lines
is inspected with vectorised NumPy: line ends (LF; the file's terminator — CRLF or LF — is
taken from its header line), control characters (NUL, a lone CR, other C0 controls except TAB)
and the primary key (plain digits followed by a TAB, parsed to an integer). A line is **bad**
when it holds a control character, ends differently from the header, its key is not plain
digits, or it is absurdly long. Bad lines are captured (line number + raw bytes) and replaced
in the data file by a marker line (:func:`marker_line`: empty fields and a key of -1), so
DuckDB's native reader — which reads
the data file in bulk, strictly, with typed keys and dates — never meets a byte it could
misread, and line numbering stays aligned. Lines with the wrong number of fields are blanked too
(counted at C speed on a copy of the block that keeps only TABs and LFs): DuckDB's strict
reader would reject most of them, but it silently drops surplus fields when they are empty.

Every key seen (bad lines included) goes into a :class:`KeyCounter` (a byte per key value, a
dict for outliers), which yields the *contested* keys — those on more than one line. Lines of
contested keys are fetched afterwards by :func:`find_lines` (another vectorised pass over the
data file) and resolved in Python (first loaded, later ones quarantined as duplicates).

Line numbers are physical line numbers of the original file, the header being line 1.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from immfacts.errors import IngestError

BLOCK = 8 << 20
MARKER = b"\x01"
DENSE_MAX = 1 << 31
_CTRL = np.zeros(256, dtype=bool)
_CTRL[[*range(0, 9), 11, 12, *range(14, 32), 127]] = True  # CR is checked apart: it may end a line
_CTRL_DELETE = bytes([*range(0, 9), 11, 12, *range(14, 32), 127])
_ALL_BUT_TAB_LF = bytes(b for b in range(256) if b not in (9, 10))


def marker_line(n_fields: int, pk_pos: int | None) -> bytes:
    """The line that stands in for a blanked one: the right number of fields, and a key of -1
    (or ``\\x01`` in the first field of a table without a key) that no real line can have."""
    fields = [b""] * n_fields
    if pk_pos is None:
        fields[0] = MARKER
    else:
        fields[pk_pos] = b"-1"
    return b"\t".join(fields)


class KeyCounter:
    """Which integer keys occur on more than one line, in bounded memory.

    Keys below a bound that grows with the lines seen (4 × lines + 2^26, capped at 2^31) are
    marked in a bitset (one bit per key value: EOIR ids are dense, so ~2 MB per 16M rows);
    the rare keys above it (e.g. an id far out of range) are kept in arrays and resolved by
    sorting at the end.
    """

    def __init__(self) -> None:
        self.bits = np.zeros(1 << 13, dtype=np.uint8)
        self.outliers: list[np.ndarray] = []
        self.lines = 0
        self._contested: set[int] = set()

    def add(self, keys: np.ndarray, lines: int) -> None:
        self.lines += lines
        if not keys.size:
            return
        bound = min(4 * self.lines + (1 << 26), DENSE_MAX)
        small = (keys >= 0) & (keys < bound)
        if (~small).any():
            self.outliers.append(keys[~small].copy())
        k = keys[small]
        if not k.size:
            return
        if k.size == 1 or bool(np.all(k[1:] > k[:-1])):  # the usual case: ids ascend, no repeats
            u, dup_within = k, k[:0]
        else:
            k = np.sort(k)
            dup_within = k[1:][k[1:] == k[:-1]]
            u = np.unique(k)
        need = (int(u[-1]) >> 3) + 1
        if need > self.bits.size:
            size = self.bits.size
            while size < need:
                size *= 2
            grown = np.zeros(size, dtype=np.uint8)
            grown[: self.bits.size] = self.bits
            self.bits = grown
        byte = u >> 3
        bit = (np.uint8(1) << (u & 7).astype(np.uint8)).astype(np.uint8)
        prior = u[(self.bits[byte] & bit) != 0]
        starts = np.flatnonzero(np.r_[True, byte[1:] != byte[:-1]])
        self.bits[byte[starts]] |= np.bitwise_or.reduceat(bit, starts)
        for arr in (dup_within, prior):
            if arr.size:
                self._contested.update(np.unique(arr).tolist())

    def seen(self, key: int) -> bool:
        """True if ``key`` was added before."""
        if key >= 0 and (key >> 3) < self.bits.size and self.bits[key >> 3] & (1 << (key & 7)):
            return True
        return any(bool((o == key).any()) for o in self.outliers)

    @property
    def contested(self) -> set[int]:
        out = set(self._contested)
        if self.outliers:
            o = np.concatenate(self.outliers)
            u, counts = np.unique(o, return_counts=True)
            out.update(u[counts > 1].tolist())
            inside = u[(u >> 3) < self.bits.size]
            hit = inside[(self.bits[inside >> 3] & (np.uint8(1) << (inside & 7).astype(np.uint8))) != 0]
            out.update(hit.tolist())
        return out


@dataclass
class BadLine:
    """A line the fast path cannot take, with its physical line number and raw bytes."""

    line_no: int
    raw: bytes
    pk: int | None


@dataclass
class PrepassResult:
    """What the pre-pass learned about one table file."""

    header: bytes
    lines: int = 0  # data lines (after the header)
    bytes_in: int = 0
    bad: list[BadLine] = field(default_factory=list)
    contested: set[int] = field(default_factory=set)
    good: int = 0  # lines written to the data file as they are
    dup_raw_lines: list[BadLine] = field(default_factory=list)  # tables without a key: exact repeats
    keys: KeyCounter | None = None
    crlf: bool = True


@dataclass
class _Block:
    starts: np.ndarray
    ends: np.ndarray  # exclusive end of the line's content (terminator excluded)
    pk: np.ndarray  # -1 where the key is not plain digits
    bad: np.ndarray


def _analyse(block: bytes, n_fields: int, pk_pos: int | None, max_line: int, crlf: bool, structural: bool = True) -> _Block:
    arr = np.frombuffer(block, dtype=np.uint8)
    lf = np.flatnonzero(arr == 10)
    n = lf.size
    starts = np.empty(n, dtype=np.int64)
    if n:
        starts[0] = 0
        starts[1:] = lf[:-1] + 1
    has_cr = (lf > starts) & (arr[np.maximum(lf - 1, 0)] == 13)
    ends = lf - has_cr
    bad = np.zeros(n, dtype=bool)
    if structural and n:
        # fields per line: keep only TABs and LFs (C speed), then count TABs between LFs
        skeleton = np.frombuffer(block.translate(None, _ALL_BUT_TAB_LF), dtype=np.uint8)
        tabs_per_line = np.diff(np.flatnonzero(skeleton == 10), prepend=-1) - 1
        bad |= tabs_per_line != n_fields - 1  # DuckDB would drop surplus *empty* fields silently
        bad |= has_cr != crlf  # a terminator unlike the header's
        bad |= (ends - starts) > max_line
        if len(block.translate(None, _CTRL_DELETE)) != len(block):
            pos = np.flatnonzero(_CTRL[arr])
            bad[np.searchsorted(lf, pos)] = True
        if block.count(b"\r") != int(has_cr.sum()):  # a lone CR somewhere
            cr = np.flatnonzero(arr == 13)
            lone = cr[(cr + 1 >= arr.size) | (arr[np.minimum(cr + 1, arr.size - 1)] != 10)]
            bad[np.searchsorted(lf, lone)] = True
    pk = np.full(n, -1, dtype=np.int64)
    if pk_pos is not None and n:
        if pk_pos == 0:
            fs = starts
        else:  # the key is not the first field: find it through the tabs (rare layouts)
            tabs = np.flatnonzero(arr == 9)
            k = np.searchsorted(tabs, starts) + pk_pos - 1
            inside = k < tabs.size
            fs = ends.copy()
            fs[inside] = tabs[k[inside]] + 1
            fs = np.minimum(fs, ends)
        vals = np.zeros(n, dtype=np.int64)
        length = np.zeros(n, dtype=np.int64)
        active = fs < ends
        top = arr.size - 1
        for j in range(19):
            if not active.any():
                break
            b = arr[np.minimum(fs + j, top)].astype(np.int64) - 48
            isdig = active & (fs + j < ends) & (b >= 0) & (b <= 9)
            vals = np.where(isdig, vals * 10 + b, vals)
            length += isdig
            active = isdig
        after = fs + length
        term = arr[np.minimum(after, top)]
        ok = (length >= 1) & (length <= 18) & ((after == ends) if n_fields == 1 else ((after < ends) & (term == 9)))
        pk[ok] = vals[ok]
        if structural:
            bad |= ~ok
    return _Block(starts, ends, pk, bad)


class Prepass:
    """Streams one member: header first (:meth:`read_header`), then the data (:meth:`run`)."""

    def __init__(self, stream: BinaryIO, on_bytes: Callable[[int], None] | None = None) -> None:
        self.stream = stream
        self.on_bytes = on_bytes or (lambda n: None)
        self.carry = b""
        self.bytes_in = 0
        self.eof = False
        self.crlf = True

    def _read(self) -> bytes:
        data = self.stream.read(BLOCK)
        if not data:
            self.eof = True
        self.bytes_in += len(data)
        self.on_bytes(len(data))
        return data

    def read_header(self) -> bytes | None:
        """The header line (without its terminator), or None for an empty (0-byte) file."""
        while b"\n" not in self.carry and not self.eof:
            self.carry += self._read()
        if not self.carry:
            return None
        head, sep, rest = self.carry.partition(b"\n")
        self.carry = rest
        self.crlf = head.endswith(b"\r")
        return head[:-1] if self.crlf else head

    def run(self, out_path: str | os.PathLike[str], n_fields: int, pk_pos: int | None, max_line: int, max_bad: int) -> PrepassResult:
        """Write the data file and return what was found (see the module docstring)."""
        res = PrepassResult(header=b"", crlf=self.crlf)
        marker = marker_line(n_fields, pk_pos) + (b"\r\n" if self.crlf else b"\n")
        keys = KeyCounter()
        seen_lines: set[bytes] | None = set() if pk_pos is None else None
        line0 = 2  # physical number of the first data line
        with open(out_path, "wb") as out:
            while True:
                data = b"" if self.eof else self._read()
                buf = self.carry + data
                self.carry = b""
                if self.eof:
                    if buf and not buf.endswith(b"\n"):
                        buf += b"\r\n" if self.crlf else b"\n"
                    if not buf:
                        break
                    block, self.carry = buf, b""
                else:
                    cut = buf.rfind(b"\n")
                    if cut < 0:
                        self.carry = buf
                        continue
                    block, self.carry = buf[: cut + 1], buf[cut + 1 :]
                info = _analyse(block, n_fields, pk_pos, max_line, self.crlf)
                n = info.ends.size
                bad_idx = np.flatnonzero(info.bad)
                valid = info.pk >= 0
                keys.add(info.pk[valid], n)
                drop: list[int] = list(bad_idx.tolist())
                if seen_lines is not None:
                    # No key: exact repeats of a line are the only duplicates.
                    good = np.flatnonzero(~info.bad)
                    for i in good.tolist():
                        raw = block[info.starts[i] : info.ends[i]]
                        h = hashlib.blake2b(raw, digest_size=16).digest()
                        if h in seen_lines:
                            res.dup_raw_lines.append(BadLine(line0 + i, raw, None))
                            drop.append(i)
                        else:
                            seen_lines.add(h)
                    drop.sort()
                for i in bad_idx.tolist():
                    pk = int(info.pk[i])
                    res.bad.append(BadLine(line0 + i, block[info.starts[i] : info.ends[i]], pk if pk >= 0 else None))
                if len(res.bad) > max_bad:
                    raise IngestError(
                        f"more than {max_bad:,} malformed lines (e.g. line {res.bad[0].line_no}); this does not look like the table the header says",
                        hint="check that the file is an EOIR table (tab-delimited, header row); raise IMMFACTS limits only if you are sure",
                    )
                if drop:
                    pieces, prev = [], 0
                    for i in drop:
                        pieces.append(block[prev : info.starts[i]])
                        pieces.append(marker)
                        prev = int(block.index(b"\n", int(info.ends[i]))) + 1
                    pieces.append(block[prev:])
                    out.write(b"".join(pieces))
                else:
                    out.write(block)
                res.lines += n
                res.good += n - len(drop)
                line0 += n
                if self.eof:
                    break
        res.bytes_in = self.bytes_in
        res.contested = keys.contested
        res.keys = keys
        return res


def find_lines(path: str | os.PathLike[str], n_fields: int, pk_pos: int, wanted: np.ndarray, crlf: bool = True) -> list[BadLine]:
    """Lines of a data file whose key is in ``wanted`` (sorted int64), with their numbers."""
    out: list[BadLine] = []
    if not wanted.size:
        return out
    line0 = 2
    carry = b""
    with open(path, "rb") as fh:
        while True:
            data = fh.read(BLOCK)
            buf = carry + data
            if not data:
                if buf and not buf.endswith(b"\n"):
                    buf += b"\n"
                if not buf:
                    break
                block, carry = buf, b""
            else:
                cut = buf.rfind(b"\n")
                if cut < 0:
                    carry = buf
                    continue
                block, carry = buf[: cut + 1], buf[cut + 1 :]
            info = _analyse(block, n_fields, pk_pos, 1 << 62, crlf, structural=False)
            pos = np.searchsorted(wanted, info.pk)
            hit = (info.pk >= 0) & (pos < wanted.size) & (wanted[np.minimum(pos, wanted.size - 1)] == info.pk)
            for i in np.flatnonzero(hit).tolist():
                out.append(BadLine(line0 + i, block[info.starts[i] : info.ends[i]], int(info.pk[i])))
            line0 += info.ends.size
            if not data:
                break
    return out

