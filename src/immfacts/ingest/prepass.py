"""The byte-level pre-pass: stream a table member once, sort its lines into two data files for
DuckDB's bulk reader and a few for Python, and find the duplicated keys — at compiled speed.

The member is read in blocks (8 MiB) straight from the zip stream. Each block of complete lines
goes through one compiled pass (:func:`_analyse`, Numba): line ends (LF; the file's terminator —
CRLF or LF — is taken from its header line), the field count, control characters (NUL, a lone
CR, other C0 controls except TAB), the primary key (plain digits followed by a TAB, parsed to
an integer) and a *value screen* of every field. Each line then goes to one of three places:

* **bad** — a control character, a field count unlike the header's (DuckDB's strict reader
  would reject most such lines, but it silently drops surplus fields when they are empty), a
  terminator unlike the header's, an absurd length, a key that is not plain digits: captured
  (line number + raw bytes) for Python, written to neither data file;
* ``<table>.full`` — well-formed, but a value needs the full typing SELECT
  (:func:`~immfacts.ingest.sqlgen.typing_sql`): a space at either end of a field or two in a
  row, a null-like token, a date-shaped value outside a date column (shift evidence), a
  non-digit in an integer field, a year outside 1900–2999 in a date column;
* ``<table>.plain`` — everything else, the vast majority: the lean SELECT
  (:func:`~immfacts.ingest.sqlgen.lean_sql`) types it with the values the full one would give,
  at a fraction of the cost.

Every key seen (bad lines included) goes into a :class:`KeyCounter` (a bit per key value, arrays
for outliers), which yields the *contested* keys — those on more than one line. Lines of
contested keys are fetched afterwards by :func:`find_lines` (another compiled pass over the
stretches of the data files whose key range holds them) and resolved in Python (first loaded, later ones quarantined as duplicates).

Line numbers are physical line numbers of the original file, the header being line 1: the
result keeps, per data file, the runs of consecutive lines that went to it (where each run
starts in the file and in the original), from which any line's number follows
(:meth:`PrepassResult.plain_line_numbers`). The runs are as many as the changes of data file,
so a table whose lines all go to one file (e.g. ``tbl_RepsAssigned``, whose lower-case
``PARENT_TABLE`` codes send every line to the full SELECT) keeps one run per block, not a
number per line.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
from numba import njit

from immfacts.errors import IngestError
from immfacts.ingest.layout import NULL_TOKENS_UPPER

BLOCK = 8 << 20
DENSE_MAX = 1 << 31


@njit(cache=True, nogil=True)
def _mark(bits, keys, repeats):  # pragma: no cover - compiled
    """Set each key's bit; write the keys whose bit was already set (seen before, in this call
    or an earlier one) to ``repeats`` and return how many there are."""
    n = 0
    for i in range(keys.size):
        key = keys[i]
        byte = key >> 3
        bit = np.uint8(1 << (key & 7))
        if bits[byte] & bit:
            repeats[n] = key
            n += 1
        else:
            bits[byte] |= bit
    return n


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
        k = keys
        if not small.all():
            self.outliers.append(keys[~small].copy())
            k = keys[small]
            if not k.size:
                return
        need = (int(k.max()) >> 3) + 1
        if need > self.bits.size:
            size = self.bits.size
            while size < need:
                size *= 2
            grown = np.zeros(size, dtype=np.uint8)
            grown[: self.bits.size] = self.bits
            self.bits = grown
        repeats = np.empty(k.size, dtype=np.int64)
        n = _mark(self.bits, np.ascontiguousarray(k, dtype=np.int64), repeats)
        if n:
            self._contested.update(repeats[:n].tolist())

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
    plain_path: str = ""  # the lines the lean SELECT can type (see :func:`_screen`)
    full_path: str = ""  # the other well-formed lines, for the full SELECT
    plain_lines: int = 0
    # per data file, its runs of consecutive lines: (index in the file, physical line number)
    # of each run's first line, in order — see :func:`_line_numbers`
    plain_runs: np.ndarray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))
    full_runs: np.ndarray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))
    # per input block and data file: (byte offset, byte end, index of its first line, smallest
    # key, largest key) of the lines it wrote there — :func:`find_lines` reads only the blocks
    # whose key range holds a wanted key
    plain_blocks: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    full_blocks: list[tuple[int, int, int, int, int]] = field(default_factory=list)

    def plain_line_numbers(self, index: np.ndarray) -> np.ndarray:
        """Physical line numbers of lines of the plain file, by their 0-based index in it."""
        return _line_numbers(self.plain_runs, index)

    def full_line_numbers(self, index: np.ndarray) -> np.ndarray:
        """Physical line numbers of lines of the full file, by their 0-based index in it."""
        return _line_numbers(self.full_runs, index)


def _line_numbers(runs: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Physical line numbers of a data file's lines by index, from its runs (see
    :class:`PrepassResult`): the run that holds each index, plus the offset into it."""
    run = np.searchsorted(runs[:, 0], index, side="right") - 1
    return runs[run, 1] + (index - runs[run, 0])


@dataclass
class _Block:
    starts: np.ndarray
    ends: np.ndarray  # exclusive end of the line's content (terminator excluded)
    pk: np.ndarray  # -1 where the key is not plain digits
    bad: np.ndarray
    full: np.ndarray  # well-formed, but a value needs the full SELECT (see :func:`_scan`)


_TOKENS = tuple(t.encode("latin-1") for t in NULL_TOKENS_UPPER)
_TOKEN_MAX = max(len(t) for t in _TOKENS)
_TOKEN_BYTES = np.zeros((len(_TOKENS), _TOKEN_MAX), dtype=np.uint8)
_TOKEN_LENGTHS = np.array([len(t) for t in _TOKENS], dtype=np.int64)
_TOKEN_FIRST = np.zeros(256, dtype=np.bool_)  # bytes a token can start with, either case
for _i, _t in enumerate(_TOKENS):
    _TOKEN_BYTES[_i, : len(_t)] = np.frombuffer(_t, dtype=np.uint8)
    _TOKEN_FIRST[[_t[0], bytes([_t[0]]).lower()[0]]] = True

# column roles for the value screen (see :class:`Screen`)
ROLE_NATIVE, ROLE_PLAIN, ROLE_INT, ROLE_DATE, ROLE_CODE = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Screen:
    """Which fields the value screen inspects, by position in the file.

    ``plain``: fields the bulk SELECT would trim, null-check and squish (text, codes, integers
    kept as text, extra columns); ``ints``: integer fields kept as text; ``dates``: fields the
    reader types as TIMESTAMP itself; ``codes``: fields the bulk SELECT upper-cases.
    """

    plain: tuple[int, ...]
    ints: tuple[int, ...]
    dates: tuple[int, ...]
    codes: tuple[int, ...] = ()

    def roles(self, n_fields: int) -> np.ndarray:
        r = np.full(n_fields, ROLE_NATIVE, dtype=np.int8)
        r[list(self.plain)] = ROLE_PLAIN
        r[list(self.ints)] = ROLE_INT
        r[list(self.dates)] = ROLE_DATE
        r[list(self.codes)] = ROLE_CODE
        return r


@njit(cache=True, nogil=True, inline="always")
def _field_needs_full(arr, fs, fe, role, tokens, token_lengths, token_first):  # pragma: no cover - compiled
    """True when the value in ``arr[fs:fe]`` is one the lean SELECT would type differently."""
    length = fe - fs
    if role == ROLE_DATE:
        if length == 0:
            return False
        b0 = arr[fs]
        return not (b0 == 50 or (b0 == 49 and length > 1 and arr[fs + 1] == 57))
    if length == 0:
        return False
    if arr[fs] == 32 or arr[fe - 1] == 32:  # to be trimmed
        return True
    if length <= tokens.shape[1] and token_first[arr[fs]]:  # a null-like token, compared upper-cased
        for t in range(tokens.shape[0]):
            if token_lengths[t] != length:
                continue
            same = True
            for k in range(length):
                c = arr[fs + k]
                if 97 <= c <= 122:
                    c -= 32
                if c != tokens[t, k]:
                    same = False
                    break
            if same:
                return True
    if length >= 10 and arr[fs + 4] == 45 and arr[fs + 7] == 45:  # date-shaped: shift evidence
        return True
    if role == ROLE_INT:
        if length > 18:
            return True
        for k in range(fs, fe):
            if arr[k] < 48 or arr[k] > 57:
                return True
    elif role == ROLE_CODE:  # a lower-case or non-ASCII letter: upper-casing would change it
        for k in range(fs, fe):
            if (97 <= arr[k] <= 122) or arr[k] >= 128:
                return True
    return False


@njit(cache=True, nogil=True, inline="always")
def _digits(arr, fs, fe):  # pragma: no cover - compiled
    """The integer in ``arr[fs:fe]`` when it is 1–18 plain digits, else -1."""
    if fe - fs < 1 or fe - fs > 18:
        return -1
    value = 0
    for k in range(fs, fe):
        d = arr[k] - 48
        if d < 0 or d > 9:
            return -1
        value = value * 10 + d
    return value


@njit(cache=True, nogil=True)
def _scan(arr, n_fields, pk_pos, max_line, crlf, structural, roles, tokens, token_lengths, token_first):  # pragma: no cover - compiled
    """One pass over a block of complete lines (see :func:`_analyse`)."""
    n = 0
    for i in range(arr.size):
        if arr[i] == 10:
            n += 1
    starts = np.empty(n, dtype=np.int64)
    ends = np.empty(n, dtype=np.int64)
    pk = np.full(n, -1, dtype=np.int64)
    bad = np.zeros(n, dtype=np.bool_)
    full = np.zeros(n, dtype=np.bool_)
    pos = 0
    for i in range(n):
        start = pos
        field = 0
        fs = pos
        ctrl = False
        hit = False
        q = pos
        while True:
            c = arr[q]
            if c > 32 and c != 127:  # most bytes: one test (20 % less time for the whole scan)
                q += 1
                continue
            if c == 10:
                break
            if c == 9:
                if field == pk_pos:
                    pk[i] = _digits(arr, fs, q)
                elif structural and field < n_fields and not hit and roles[field] != ROLE_NATIVE:
                    hit = _field_needs_full(arr, fs, q, roles[field], tokens, token_lengths, token_first)
                field += 1
                fs = q + 1
            elif structural:
                if c == 32:
                    if q > start and arr[q - 1] == 32:
                        hit = True  # two spaces in a row: squished by the full SELECT
                elif not (c == 13 and arr[q + 1] == 10):
                    ctrl = True  # a control character (a CR that does not end the line included)
            q += 1
        has_cr = q > start and arr[q - 1] == 13
        end = q - 1 if has_cr else q
        if field == pk_pos and n_fields == 1:  # (a key must be followed by a TAB otherwise)
            pk[i] = _digits(arr, fs, end)
        elif structural and field < n_fields and not hit and roles[field] != ROLE_NATIVE:
            hit = _field_needs_full(arr, fs, end, roles[field], tokens, token_lengths, token_first)
        field += 1
        if structural:
            bad[i] = ctrl or field != n_fields or has_cr != crlf or (end - start) > max_line or (pk_pos >= 0 and pk[i] < 0)
            full[i] = hit and not bad[i]
        starts[i] = start
        ends[i] = end
        pos = q + 1
    return starts, ends, pk, bad, full


_NO_ROLES = np.zeros(0, dtype=np.int8)


def _analyse(block: bytes | memoryview, n_fields: int, pk_pos: int | None, max_line: int, crlf: bool, structural: bool = True, screen: Screen | None = None) -> _Block:
    """Split a block of complete lines (it ends with LF) and judge each line in one compiled
    pass: where it starts and ends (its terminator, CRLF or LF, excluded), its key when the key
    field is plain digits (1–18 of them), whether it is *bad* — a control character (NUL, a CR
    that does not end the line, other C0 controls but TAB), a field count unlike the header's
    (DuckDB would drop surplus *empty* fields silently), a terminator unlike the header's, an
    absurd length, a key that is not plain digits — and, with a ``screen``, whether a value
    needs the full SELECT: a space at either end of a field or two in a row, a null-like token,
    a date-shaped value outside a date column, a non-digit in an integer field, a lower-case or
    non-ASCII letter in a code field, a year outside 1900–2999 in a date column. The other lines
    are *plain*: the lean SELECT (:func:`~immfacts.ingest.sqlgen.lean_sql`) gives them exactly
    the values the full one would."""
    arr = np.frombuffer(block, dtype=np.uint8)
    roles = screen.roles(n_fields) if screen is not None else np.full(n_fields, ROLE_NATIVE, dtype=np.int8)
    starts, ends, pk, bad, full = _scan(
        arr, n_fields, -1 if pk_pos is None else pk_pos, max_line, crlf, structural, roles if structural else _NO_ROLES,
        _TOKEN_BYTES, _TOKEN_LENGTHS, _TOKEN_FIRST,
    )
    return _Block(starts, ends, pk, bad, full)


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

    def run(self, out_path: str | os.PathLike[str], n_fields: int, pk_pos: int | None, max_line: int, max_bad: int, screen: Screen | None = None) -> PrepassResult:
        """Write the data files and return what was found (see the module docstring): the plain
        lines to ``<out_path>.plain``, the other well-formed ones to ``<out_path>.full``."""
        res = PrepassResult(header=b"", crlf=self.crlf, plain_path=f"{os.fspath(out_path)}.plain", full_path=f"{os.fspath(out_path)}.full")
        keys = KeyCounter()
        seen_lines: set[bytes] | None = set() if pk_pos is None else None
        runs: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])  # per data file, per block
        line0 = 2  # physical number of the first data line
        with open(res.plain_path, "wb", buffering=1 << 20) as plain, open(res.full_path, "wb", buffering=1 << 20) as full:
            outs = (plain, full)
            offsets = [0, 0]
            counts = [0, 0]
            blocks = (res.plain_blocks, res.full_blocks)
            while True:
                data = b"" if self.eof else self._read()
                buf = self.carry + data
                self.carry = b""
                if self.eof:
                    if buf and not buf.endswith(b"\n"):
                        buf += b"\r\n" if self.crlf else b"\n"
                    if not buf:
                        break
                    block, self.carry = memoryview(buf), b""
                else:
                    cut = buf.rfind(b"\n")
                    if cut < 0:
                        self.carry = buf
                        continue
                    block, self.carry = memoryview(buf)[: cut + 1], buf[cut + 1 :]  # no copy of the block
                info = _analyse(block, n_fields, pk_pos, max_line, self.crlf, screen=screen)
                n = info.ends.size
                bad_idx = np.flatnonzero(info.bad)
                valid = info.pk >= 0
                keys.add(info.pk[valid], n)
                kind = np.zeros(n, dtype=np.int8)  # 0 plain, 1 full, 2 left out (Python takes it)
                kind[bad_idx] = 2
                if seen_lines is not None:
                    # No key: exact repeats of a line are the only duplicates.
                    for i in np.flatnonzero(~info.bad).tolist():
                        raw = bytes(block[info.starts[i] : info.ends[i]])
                        h = hashlib.blake2b(raw, digest_size=16).digest()
                        if h in seen_lines:
                            res.dup_raw_lines.append(BadLine(line0 + i, raw, None))
                            kind[i] = 2
                        else:
                            seen_lines.add(h)
                for i in bad_idx.tolist():
                    pk = int(info.pk[i])
                    res.bad.append(BadLine(line0 + i, bytes(block[info.starts[i] : info.ends[i]]), pk if pk >= 0 else None))
                if len(res.bad) > max_bad:
                    raise IngestError(
                        f"more than {max_bad:,} malformed lines (e.g. line {res.bad[0].line_no}); this does not look like the table the header says",
                        hint="check that the file is an EOIR table (tab-delimited, header row); raise IMMFACTS limits only if you are sure",
                    )
                kind[(kind == 0) & (info.full if screen is not None else True)] = 1
                # write runs of lines of one kind as slices of the block
                cuts = np.flatnonzero(np.diff(kind)) + 1
                first = np.r_[0, cuts]
                last = np.r_[cuts, n]
                line_start = info.starts
                before = list(offsets)
                for a, b in zip(first.tolist(), last.tolist(), strict=True):
                    k = kind[a]
                    if k < 2:
                        stop = len(block) if b == n else int(line_start[b])
                        outs[k].write(block[int(line_start[a]) : stop])
                        offsets[k] += stop - int(line_start[a])
                run_kind = kind[first]
                for k in (0, 1):
                    keys_k = info.pk[(kind == k) & valid]
                    n_k = int(np.count_nonzero(kind == k))
                    if n_k:
                        lo, hi = (int(keys_k.min()), int(keys_k.max())) if keys_k.size else (0, -1)
                        blocks[k].append((before[k], offsets[k], counts[k], lo, hi))
                        mine = run_kind == k
                        lengths = last[mine] - first[mine]
                        runs[k].append(np.column_stack((counts[k] + np.cumsum(lengths) - lengths, first[mine] + line0)))
                        counts[k] += n_k
                res.plain_lines += int(np.count_nonzero(kind == 0))
                res.lines += n
                res.good += int(np.count_nonzero(kind < 2))
                line0 += n
                if self.eof:
                    break
        res.plain_runs, res.full_runs = (np.concatenate(r).astype(np.int64, copy=False) if r else np.empty((0, 2), dtype=np.int64) for r in runs)
        res.bytes_in = self.bytes_in
        res.contested = keys.contested
        res.keys = keys
        return res


def in_sorted(values: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in ``sorted_keys`` (sorted int64), by binary search."""
    if not sorted_keys.size:
        return np.zeros(values.shape, dtype=bool)
    pos = np.searchsorted(sorted_keys, values)
    return (pos < sorted_keys.size) & (sorted_keys[np.minimum(pos, sorted_keys.size - 1)] == values)


def find_lines(
    path: str | os.PathLike[str], n_fields: int, pk_pos: int, wanted: np.ndarray, crlf: bool,
    numbers: Callable[[np.ndarray], np.ndarray], blocks: list[tuple[int, int, int, int, int]],
) -> list[BadLine]:
    """Lines of a data file whose key is in ``wanted`` (sorted int64), with their physical line
    numbers (``numbers`` maps 0-based indexes in the file to them). Only the stretches of the
    file whose key range (``blocks``, see :class:`PrepassResult`) holds a wanted key are read."""
    out: list[BadLine] = []
    if not wanted.size:
        return out
    with open(path, "rb") as fh:
        for start, stop, first, lo, hi in blocks:
            i = int(np.searchsorted(wanted, lo))
            if i >= wanted.size or wanted[i] > hi:
                continue
            fh.seek(start)
            block = fh.read(stop - start)
            info = _analyse(block, n_fields, pk_pos, 1 << 62, crlf, structural=False)
            idx = np.flatnonzero((info.pk >= 0) & in_sorted(info.pk, wanted))
            out += [BadLine(int(no), block[info.starts[j] : info.ends[j]], int(info.pk[j])) for j, no in zip(idx.tolist(), numbers(idx + first).tolist(), strict=True)]
    return out
