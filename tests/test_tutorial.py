"""Every command of the tutorial, the cookbook, the README and the Python guide runs, on a
SYNTHETIC sample release, and its output has the shape the page shows.

How a page is read (the conventions are also stated in docs/index.md, "How these pages stay true"):

* a fenced ```` ```sh ```` block is runnable: each line is a command (``\\`` continues a line,
  ``# …`` is a comment, ``<<'EOF'`` … ``EOF`` feeds the lines between to the command, and
  ``cat > FILE <<'EOF'`` writes them to FILE). ``immfacts …`` runs in-process through Typer's
  ``CliRunner``; anything else runs in ``bash``. A trailing comment ``# exits 3 …`` says the
  command's expected exit status (default 0);
* a fenced ```` ```python ```` block is executed; the blocks of a page share one namespace;
* a ```` ```json ```` or ```` ```text ```` block right after a runnable block is the (abridged)
  output of its last command: JSON must have every key shown, with values of the same
  kind (``"…"`` stands for any string); text must contain every word shown;
* ``<!-- skip: REASON -->`` just above a block leaves it out — allowed only for what needs the
  network or the real 4.6 GB release, or starts a server that runs until stopped, and the
  page says so in words too;
* ``<!-- setup -->`` marks the tutorial's blocks that build the sample release; they run once
  per session (the fixture below) and every other page starts from a copy of their result;
* ``<!-- spark -->`` marks blocks that start a Spark session: they run in their own test,
  marked ``spark`` (PySpark and Java are needed; CI installs both).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "docs"
COOKBOOK = sorted(p for p in (ROOT / "docs" / "cookbook").glob("*.md") if p.name != "index.md")  # the index is a table of contents
SKIP_REASONS = ("network", "real release", "runs until")
WIDE = "250"  # terminal width for the commands: nothing wraps, so words stay whole


# --------------------------------------------------------------------------------------
# reading a page
# --------------------------------------------------------------------------------------


@dataclass
class Block:
    """One fenced block of a page, with the markers above it and the output block after it."""

    lang: str
    code: str
    line: int
    markers: dict[str, str] = field(default_factory=dict)
    output: Block | None = None

    @property
    def runnable(self) -> bool:
        return self.lang in ("sh", "python") and "skip" not in self.markers


_FENCE = re.compile(r"^```(\S*)\s*$")
_MARKER = re.compile(r"^<!--\s*(skip|setup|spark)\s*(?::\s*(.*?))?\s*-->\s*$")


def parse_page(text: str) -> list[Block]:
    """The fenced blocks of a Markdown page; output blocks are attached to the block before."""
    lines = text.splitlines()
    blocks: list[Block] = []
    markers: dict[str, str] = {}
    i = 0
    last_end = -10
    while i < len(lines):
        m_marker = _MARKER.match(lines[i])
        m_fence = _FENCE.match(lines[i])
        if m_marker:
            markers[m_marker.group(1)] = m_marker.group(2) or ""
        elif m_fence:
            start = i
            i += 1
            body = []
            while i < len(lines) and lines[i].rstrip() != "```":
                body.append(lines[i])
                i += 1
            block = Block(m_fence.group(1).lower(), "\n".join(body) + "\n", start + 1, markers)
            gap = lines[last_end + 1 : start]
            prev = blocks[-1] if blocks else None
            if (
                block.lang in ("json", "text")
                and prev is not None
                and prev.lang in ("sh", "python")
                and prev.output is None
                and all(not g.strip() for g in gap)
            ):
                prev.output = block
            else:
                blocks.append(block)
            markers = {}
            last_end = i
        elif lines[i].strip():
            markers = {}
        i += 1
    return blocks


@dataclass
class Command:
    """One command of a ``sh`` block."""

    text: str
    stdin: str | None = None
    exit_code: int = 0


_HEREDOC = re.compile(r"<<-?\s*'?\"?(\w+)'?\"?\s*$")


def split_commands(code: str) -> list[Command]:
    """The commands of a ``sh`` block (continuations joined, here-documents attached)."""
    out: list[Command] = []
    lines = code.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        while line.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line.rstrip()[:-1].rstrip() + " " + lines[i].strip()
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        expect = re.search(r"#.*\bexits? (?:with status )?(\d+)", line)
        stdin = None
        m = _HEREDOC.search(line)
        if m:
            body = []
            while i < len(lines) and lines[i].strip() != m.group(1):
                body.append(lines[i])
                i += 1
            i += 1
            stdin = "\n".join(body) + "\n"
            line = line[: m.start()].rstrip()
        out.append(Command(line.strip(), stdin, int(expect.group(1)) if expect else 0))
    return out


# --------------------------------------------------------------------------------------
# checking outputs
# --------------------------------------------------------------------------------------


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    return type(v).__name__


def shape_errors(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Where ``actual`` lacks the shape of ``expected``: keys, and the kind of every value.

    ``null`` in the page stands for any value, ``"…"`` (or any string with ``…``) for any
    string; a list shown with elements needs the actual list to have as many, each of the
    shape shown.
    """
    if expected is None:
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {_kind(actual)}"]
        errs = []
        for k, v in expected.items():
            if k not in actual:
                errs.append(f"{path}: key {k!r} missing (has {sorted(actual)[:12]})")
            else:
                errs += shape_errors(v, actual[k], f"{path}.{k}")
        return errs
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: expected a list, got {_kind(actual)}"]
        if len(actual) < len(expected):
            return [f"{path}: expected at least {len(expected)} element(s), got {len(actual)}"]
        return [
            e for i, x in enumerate(expected) for e in shape_errors(x, actual[i], f"{path}[{i}]")
        ]
    if _kind(expected) != _kind(actual):
        return [f"{path}: expected a {_kind(expected)}, got {_kind(actual)} ({actual!r:.60})"]
    return []


def missing_words(expected: str, actual: str) -> list[str]:
    """Words of the page's text output that the actual output lacks.

    A word is a run of letters, ``_ . - /`` of three characters or more; runs with a digit
    in them (numbers, dates, release ids, checksums) are free to differ.
    """
    flat = " ".join(actual.split())
    runs = re.findall(r"[A-Za-z0-9_.\-/]+", expected)
    words = [r.strip(".-/") for r in runs if not re.search(r"\d", r)]
    return [w for w in dict.fromkeys(words) if len(w) >= 3 and w not in flat]


def check_output(block: Block, out: str, where: str, err: str = "") -> None:
    """Compare a command's output with the output block the page shows for it.

    JSON is read from standard output alone; text is what a terminal shows (stdout and
    stderr, where the SYNTHETIC banner and warnings go).
    """
    if block.output is None:
        return
    if block.output.lang == "json":
        try:
            actual = json.loads(out)
        except json.JSONDecodeError as e:
            pytest.fail(f"{where}: output is not JSON ({e}):\n{out[:2000]}")
        errs = shape_errors(json.loads(block.output.code), actual)
        assert not errs, f"{where}: output differs from the page's:\n" + "\n".join(errs)
    else:
        gone = missing_words(block.output.code, out + "\n" + err)
        assert not gone, (
            f"{where}: words shown on the page are not in the output: {gone}\n{out[:3000]}"
        )


# --------------------------------------------------------------------------------------
# running a page
# --------------------------------------------------------------------------------------


class PageRunner:
    """Runs the blocks of one page in a working folder, against one warehouse."""

    def __init__(self, name: str, cwd: Path, home: Path) -> None:
        self.name, self.cwd, self.home = name, cwd, home
        self.namespace: dict[str, Any] = {"__name__": "__docs__"}
        self.runner = CliRunner()

    def env(self) -> dict[str, str]:
        return {"IMMFACTS_HOME": str(self.home), "COLUMNS": WIDE}

    def run_block(self, block: Block) -> str:
        """Run a runnable block; return the output of its last command (or the printed text)."""
        where = f"{self.name}:{block.line}"
        old = Path.cwd()
        os.chdir(self.cwd)
        try:
            out, err = (
                self._python(block, where) if block.lang == "python" else self._sh(block, where)
            )
        finally:
            os.chdir(old)
        check_output(block, out, where, err)
        return out

    def _python(self, block: Block, where: str) -> tuple[str, str]:
        buf = io.StringIO()
        saved = {k: os.environ.get(k) for k in (*self.env(), "IMMFACTS_ENGINE")}
        os.environ.update(self.env())
        os.environ.pop("IMMFACTS_ENGINE", None)
        try:
            with contextlib.redirect_stdout(buf):
                exec(compile(block.code, where, "exec"), self.namespace)  # noqa: S102 - the docs' own examples
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        return buf.getvalue(), ""

    def _sh(self, block: Block, where: str) -> tuple[str, str]:
        out: tuple[str, str] = ("", "")
        for cmd in split_commands(block.code):
            out = self.run_command(cmd, where)
        return out

    def run_command(self, cmd: Command, where: str) -> tuple[str, str]:
        """Run one command line; assert its exit status; return its stdout and stderr."""
        m = re.match(r"^cat > (\S+)$", cmd.text)
        if m and cmd.stdin is not None:
            (self.cwd / m.group(1)).write_text(cmd.stdin, encoding="utf-8")
            return "", ""
        words = shlex.split(cmd.text, comments=True)
        env = self.env()
        while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
            k, v = words.pop(0).split("=", 1)
            env[k] = v
        if words and words[0] == "immfacts":
            from immfacts.cli import app

            res = self.runner.invoke(
                app, words[1:], input=cmd.stdin, env={"IMMFACTS_ENGINE": None, **env}
            )
            if res.exception is not None and not isinstance(res.exception, SystemExit):
                raise AssertionError(
                    f"{where}: `{cmd.text}` raised {res.exception!r}"
                ) from res.exception
            code, stdout, stderr = res.exit_code, res.stdout, res.stderr
        else:
            proc = subprocess.run(
                ["bash", "-c", cmd.text],
                input=cmd.stdin,
                capture_output=True,
                text=True,
                cwd=self.cwd,
                env={**os.environ, **env},
                timeout=120,
            )
            code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        assert code == cmd.exit_code, (
            f"{where}: `{cmd.text}` exited {code}, the page expects {cmd.exit_code}\n"
            f"stdout:\n{stdout[-3000:]}\nstderr:\n{stderr[-3000:]}"
        )
        return stdout, stderr


def _page_blocks(path: Path) -> list[Block]:
    return parse_page(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sample_setup(tmp_path_factory):
    """The tutorial's own set-up blocks, run once: a SYNTHETIC sample release, ingested."""
    from immfacts.claims import compute as cmod

    cmod._SHARED.clear()
    base = tmp_path_factory.mktemp("docs-setup")
    cwd, home = base / "work", base / "home"
    cwd.mkdir()
    runner = PageRunner("docs/tutorial.md", cwd, home)
    setup = [b for b in _page_blocks(ROOT / "docs" / "tutorial.md") if "setup" in b.markers]
    assert setup, (
        "docs/tutorial.md has no <!-- setup --> blocks (the sample release the other pages use)"
    )
    for b in setup:
        runner.run_block(b)
    return cwd, home


# A page that runs one of these writes into the warehouse (a release, a saved diff, a CBP
# overlay) and gets a copy of it; the others share the set-up's warehouse, and with it the
# process-wide caches of computed results.
_WRITES_WAREHOUSE = re.compile(
    r"immfacts (?:ingest|diff|update|reference add-cbp)\b|\bdiff\(|\badd_cbp\(|\bingest\("
)


def _workspace(sample_setup, tmp_path: Path, isolated: bool = True) -> tuple[Path, Path]:
    """A copy of the set-up's working folder (and of its warehouse when ``isolated``),
    plus the repository's example article and the docs' fixture files."""
    cwd0, home0 = sample_setup
    cwd, home = tmp_path / "work", (tmp_path / "home" if isolated else home0)
    shutil.copytree(cwd0, cwd, symlinks=True)
    if isolated:
        shutil.copytree(home0, home, symlinks=True)
    shutil.copytree(ROOT / "examples", cwd / "examples")
    if FIXTURES.is_dir():
        for f in FIXTURES.iterdir():
            if f.is_file() and f.name != "README.md":
                shutil.copy(f, cwd / f.name)
    return cwd, home


def _run_page(
    path: Path, sample_setup, tmp_path: Path, *, only_spark: bool = False, first: int = 0
) -> int:
    blocks = _page_blocks(path)[first:]
    writes = any(
        _WRITES_WAREHOUSE.search(b.code) for b in blocks if b.runnable and "setup" not in b.markers
    )
    cwd, home = _workspace(sample_setup, tmp_path, isolated=writes)
    runner = PageRunner(str(path.relative_to(ROOT)), cwd, home)
    ran = 0
    for b in blocks:
        if not b.runnable or "setup" in b.markers or (("spark" in b.markers) != only_spark):
            continue
        runner.run_block(b)
        ran += 1
    return ran


# --------------------------------------------------------------------------------------
# the pages
# --------------------------------------------------------------------------------------


def test_tutorial_runs_from_a_sample_release_to_a_checked_article(sample_setup, tmp_path):
    assert _run_page(ROOT / "docs" / "tutorial.md", sample_setup, tmp_path) >= 8
    report = next(tmp_path.glob("work/*.html"), None)
    assert report is not None and "SYNTHETIC" in report.read_text(encoding="utf-8")


@pytest.mark.parametrize("recipe", COOKBOOK, ids=[p.stem for p in COOKBOOK])
def test_cookbook_recipe_runs_on_the_sample_release(recipe, sample_setup, tmp_path):
    blocks = _page_blocks(recipe)
    assert any(b.lang == "sh" for b in blocks) and any(b.lang == "python" for b in blocks), (
        f"{recipe.name}: a recipe shows the command and the Python"
    )
    assert _run_page(recipe, sample_setup, tmp_path) >= 1 or all(
        "spark" in b.markers or "skip" in b.markers for b in blocks if b.lang in ("sh", "python")
    )


def test_readme_examples_run(sample_setup, tmp_path):
    # The README's first block (`make demo` / `make test`) is what CI itself runs; the rest runs here.
    blocks = _page_blocks(ROOT / "README.md")
    assert "make demo" in blocks[0].code and "make test" in blocks[0].code
    assert _run_page(ROOT / "README.md", sample_setup, tmp_path, first=1) >= 2


def test_python_guide_runs(sample_setup, tmp_path):
    assert _run_page(ROOT / "docs" / "python-api.md", sample_setup, tmp_path) >= 5


@pytest.mark.spark
@pytest.mark.slow
def test_spark_blocks_run_on_the_same_warehouse(sample_setup, tmp_path):
    # `make test` installs PySpark and a JRE, so a missing one is a set-up failure, not a skip.
    assert shutil.which("java"), "Spark needs a Java runtime (make test installs default-jre-headless)"
    ran = sum(_run_page(p, sample_setup, tmp_path / p.stem, only_spark=True) for p in COOKBOOK)
    assert ran >= 1


# --------------------------------------------------------------------------------------
# the conventions themselves
# --------------------------------------------------------------------------------------

ALL_PAGES = [
    ROOT / "README.md",
    ROOT / "docs" / "tutorial.md",
    ROOT / "docs" / "python-api.md",
    *COOKBOOK,
]


@pytest.mark.parametrize(
    "page",
    ALL_PAGES,
    ids=[p.name if p.parent.name != "cookbook" else f"cookbook/{p.name}" for p in ALL_PAGES],
)
def test_skipped_blocks_say_why_and_the_reason_is_allowed(page):
    text = page.read_text(encoding="utf-8")
    for b in parse_page(text):
        if "skip" in b.markers:
            reason = b.markers["skip"]
            assert any(r in reason for r in SKIP_REASONS), (
                f"{page.name}:{b.line}: skip reason {reason!r} is not one of {SKIP_REASONS}"
            )
            around = "\n".join(
                text.splitlines()[max(0, b.line - 8) : b.line + b.code.count("\n") + 6]
            ).lower()
            visible = re.sub(r"<!--.*?-->", "", around)
            assert any(
                w in visible
                for w in (
                    "network",
                    "download",
                    "real release",
                    "4.6 gb",
                    "until you stop",
                    "ctrl-c",
                )
            ), f"{page.name}:{b.line}: a skipped block must say in the text why it is not run here"


def test_parse_page_attaches_outputs_and_markers():
    page = (
        "intro\n\n<!-- skip: needs the network -->\n```sh\nimmfacts update\n```\n\n"
        '```sh\nimmfacts metric x --json  # exits 3 when it fails\n```\n\n```json\n{"a": 1}\n```\n\n'
        "```python\nprint(1)\n```\nsome words\n```text\n1\n```\n"
    )
    blocks = parse_page(page)
    assert [b.lang for b in blocks] == ["sh", "sh", "python", "text"]
    assert blocks[0].markers == {"skip": "needs the network"} and not blocks[0].runnable
    assert blocks[1].output is not None and blocks[1].output.lang == "json"
    assert blocks[2].output is None  # words between: the text block is not its output
    cmd = split_commands(blocks[1].code)[0]
    assert cmd.exit_code == 3 and cmd.text.startswith("immfacts metric x --json")


def test_split_commands_joins_continuations_and_reads_here_documents():
    code = "immfacts metric a \\\n  --by fy\ncat > f.txt <<'EOF'\nline one\nline two\nEOF\n# a comment\nimmfacts check - <<EOF\ntext\nEOF\n"
    cmds = split_commands(code)
    assert [c.text for c in cmds] == [
        "immfacts metric a --by fy",
        "cat > f.txt",
        "immfacts check -",
    ]
    assert cmds[1].stdin == "line one\nline two\n" and cmds[2].stdin == "text\n"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=15,
)


@given(json_values)
def test_a_json_value_has_its_own_shape(value):
    assert shape_errors(value, value) == []


@given(
    st.dictionaries(st.text(min_size=1, max_size=4), json_values, min_size=1, max_size=4), st.data()
)
def test_a_missing_key_is_reported(expected, data):
    key = data.draw(st.sampled_from(sorted(expected)))
    actual = {k: v for k, v in expected.items() if k != key}
    assert any(repr(key) in e for e in shape_errors(expected, actual))


def test_shape_errors_name_the_path_of_a_kind_mismatch():
    errs = shape_errors({"rows": [{"value": 1}]}, {"rows": [{"value": "1"}]})
    assert errs == ["$.rows[0].value: expected a number, got str ('1')"]
    assert shape_errors({"sql": "SELECT …"}, {"sql": "SELECT 1"}) == []
    assert shape_errors({"x": None}, {"x": [1, 2]}) == []


def test_missing_words_ignores_numbers_and_wrapping():
    assert (
        missing_words("value: 35.1%\nAsylum grant rate", "Asylum   grant\n rate ... value: 12.0%")
        == []
    )
    assert missing_words("variant merits", "variant eoir_official") == ["merits"]
