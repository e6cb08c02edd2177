"""The byte-level pre-pass: stream a table member to a normalised data file, finding the few
lines that need Python and the duplicated keys, at NumPy speed.

The member is read in blocks (8 MiB) straight from the zip stream. Each block of complete lines
is inspected with vectorised NumPy: line ends (LF; a CR before it belongs to the terminator),
tab counts, control characters (NUL, lone CR, other C0 controls except TAB) and the primary
key (plain digits, parsed to an integer). A line is **bad** when its field count differs from
the header's, it holds a control character, its key is not plain digits, or it is absurdly
long. Bad lines are captured (line number + raw bytes) and replaced in the data file by a
one-byte marker line (``\\x01``), so DuckDB's native reader — which reads the data file in bulk —
only ever sees well-formed lines, and line numbering stays aligned.

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
_CTRL[[*range(0, 9), *range(11, 32), 127]] = True
_CTRL_DELETE = bytes([*range(0, 9), *range(11, 32), 127])


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
        k = np.sort(keys[small])
        if not k.size:
            return
        need = (int(k[-1]) >> 3) + 1
        if need > self.bits.size:
            size = self.bits.size
            while size < need:
                size *= 2
            grown = np.zeros(size, dtype=np.uint8)
            grown[: self.bits.size] = self.bits
            self.bits = grown
        dup_within = k[1:][k[1:] == k[:-1]]
        u = np.unique(k)
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


@dataclass
class _Block:
    starts: np.ndarray
    ends: np.ndarray
    pk: np.ndarray  # -1 where the key is not plain digits
    bad: np.ndarray


def _analyse(block: bytes, n_fields: int, pk_pos: int | None, max_line: int, structural: bool = True) -> _Block:
    arr = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10)
    n = ends.size
    starts = np.empty(n, dtype=np.int64)
    if n:
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    tabs = np.flatnonzero(arr == 9)
    before_end = np.searchsorted(tabs, ends)
    tcount = np.diff(before_end, prepend=0)
    first_tab = before_end - tcount
    bad = np.zeros(n, dtype=bool)
    if structural:
        bad |= tcount != (n_fields - 1)
        bad |= (ends - starts) > max_line
        if len(block.translate(None, _CTRL_DELETE)) != len(block):
            pos = np.flatnonzero(_CTRL[arr])
            bad[np.searchsorted(ends, pos)] = True
    pk = np.full(n, -1, dtype=np.int64)
    if pk_pos is not None and n:
        has = tcount >= pk_pos
        idx = np.flatnonzero(has)
        if idx.size:
            fs = starts[idx] if pk_pos == 0 else tabs[first_tab[idx] + pk_pos - 1] + 1
            last = tcount[idx] > pk_pos
            fe = ends[idx].copy()
            if last.any():
                fe[last] = tabs[first_tab[idx[last]] + pk_pos]
            flen = fe - fs
            ok = (flen >= 1) & (flen <= 18)
            width = int(flen[ok].max()) if ok.any() else 0
            vals = np.zeros(idx.size, dtype=np.int64)
            top = arr.size - 1
            for j in range(width):
                inside = j < flen
                b = arr[np.minimum(fs + j, top)].astype(np.int64) - 48
                isdig = (b >= 0) & (b <= 9)
                ok &= isdig | ~inside
                vals = np.where(inside & isdig, vals * 10 + b, vals)
            pk[idx[ok]] = vals[ok]
        if structural:
            bad |= pk < 0
    return _Block(starts, ends, pk, bad)


class Prepass:
    """Streams one member: header first (:meth:`read_header`), then the data (:meth:`run`)."""

    def __init__(self, stream: BinaryIO, on_bytes: Callable[[int], None] | None = None) -> None:
        self.stream = stream
        self.on_bytes = on_bytes or (lambda n: None)
        self.carry = b""
        self.bytes_in = 0
        self.eof = False

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
        return head.rstrip(b"\r")

    def run(self, out_path: str | os.PathLike[str], n_fields: int, pk_pos: int | None, max_line: int, max_bad: int) -> PrepassResult:
        """Write the data file and return what was found (see the module docstring)."""
        res = PrepassResult(header=b"")
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
                        buf += b"\n"
                    if not buf:
                        break
                    block, self.carry = buf, b""
                else:
                    cut = buf.rfind(b"\n")
                    if cut < 0:
                        self.carry = buf
                        continue
                    block, self.carry = buf[: cut + 1], buf[cut + 1 :]
                block = block.replace(b"\r\n", b"\n")
                info = _analyse(block, n_fields, pk_pos, max_line)
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
                        pieces.append(MARKER + b"\n")
                        prev = int(info.ends[i]) + 1
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


def find_lines(path: str | os.PathLike[str], n_fields: int, pk_pos: int, wanted: np.ndarray) -> list[BadLine]:
    """Well-formed lines of a data file whose key is in ``wanted`` (sorted int64), with numbers."""
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
            info = _analyse(block, n_fields, pk_pos, 1 << 62, structural=False)
            pos = np.searchsorted(wanted, info.pk)
            hit = (info.pk >= 0) & (pos < wanted.size) & (wanted[np.minimum(pos, wanted.size - 1)] == info.pk)
            for i in np.flatnonzero(hit).tolist():
                out.append(BadLine(line0 + i, block[info.starts[i] : info.ends[i]], int(info.pk[i])))
            line0 += info.ends.size
            if not data:
                break
    return out
