"""Every Python snippet of README.md and docs/*.rst runs as written, in page order.

A reader follows a page from the top: each page's Python blocks run one after another
in one namespace, in a fresh interpreter started in an empty directory (files a
snippet writes land there). A block that cannot run on a laptop (a remote
scheduler's address) starts with a comment line ``# not run: <reason>``; only such
blocks are skipped, and the reason must be given.

The docstring ``Examples`` of the public API run as doctests in ``test_doctests.py``.
"""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_RUN = re.compile(r"#\s*not run:\s*(\S.*)")

_MARKDOWN_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
_RST_DIRECTIVE = re.compile(r"^(\s*)\.\. code-block:: python\s*$")


def _markdown_blocks(text: str) -> list[tuple[int, str]]:
    return [
        (text.count("\n", 0, match.start(1)) + 1, match.group(1))
        for match in _MARKDOWN_BLOCK.finditer(text)
    ]


def _rst_blocks(text: str) -> list[tuple[int, str]]:
    """``.. code-block:: python`` bodies: the indented lines after the directive
    (and its options)."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        match = _RST_DIRECTIVE.match(lines[i])
        i += 1
        if not match:
            continue
        indent = len(match.group(1))
        while i < len(lines) and lines[i].strip().startswith(":"):  # options
            i += 1
        body = []
        start = None
        while i < len(lines):
            line = lines[i]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            if start is None and line.strip():
                start = i + 1
            body.append(line)
            i += 1
        blocks.append((start, textwrap.dedent("\n".join(body)).strip("\n") + "\n"))
    return blocks


def page_blocks(path: Path) -> list[tuple[int, str]]:
    """``(line, source)`` of each Python block of a page, in page order."""
    text = path.read_text()
    return _markdown_blocks(text) if path.suffix == ".md" else _rst_blocks(text)


PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.rst"))]
PAGES_WITH_CODE = [p for p in PAGES if page_blocks(p)]

# Runs the blocks in one namespace; a traceback names the page and its line.
_RUNNER = """
import json, sys
blocks = json.load(open(sys.argv[1]))
namespace = {"__name__": "__main__"}
for name, line, source in blocks:
    code = compile("\\n" * (line - 1) + source, name, "exec")
    exec(code, namespace)
"""


def test_pages_are_found():
    names = {p.name for p in PAGES_WITH_CODE}
    assert {"README.md", "getting_started.rst", "index.rst", "dask.rst"} <= names


def test_block_parsers():
    markdown = "text\n```python\nx = 1\n```\n```bash\nls\n```\n```python\ny = x\n```\n"
    assert _markdown_blocks(markdown) == [(3, "x = 1\n"), (9, "y = x\n")]
    rst = (
        "Title\n\n.. code-block:: python\n   :caption: c\n\n   a = 1\n   if a:\n"
        "       b = 2\n\n   c = 3\n\nText.\n\n.. code-block:: bash\n\n   ls\n"
    )
    assert _rst_blocks(rst) == [(6, "a = 1\nif a:\n    b = 2\n\nc = 3\n")]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: p.name)
def test_page_snippets_run_in_order(page, tmp_path):
    if page.name == "dask.rst":
        for module in ("dask", "distributed", "dask_ml"):
            pytest.importorskip(module, reason='the Dask page needs pip install ".[dask]"')
    if page.name == "README.md":
        pytest.importorskip("pyod", reason='README\'s PyOD snippet needs pip install ".[pyod]"')
    blocks, skipped = [], []
    for line, source in page_blocks(page):
        first = source.lstrip().splitlines()[0]
        reason = NOT_RUN.fullmatch(first.strip())
        if reason:
            skipped.append((line, reason.group(1)))
            continue
        assert not first.lstrip().startswith("# not run"), (
            f"{page.name}:{line}: '# not run:' needs a reason"
        )
        blocks.append((page.name, line, source))
    assert blocks, f"{page.name}: every block is skipped"
    spec = tmp_path / "blocks.json"
    spec.write_text(json.dumps(blocks))
    work = tmp_path / "work"
    work.mkdir()
    # Headless drawing, one torch thread per process (CI's 2 shared cores), and the
    # package under test importable from the empty directory.
    env = dict(
        os.environ,
        MPLBACKEND="Agg",
        OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    )
    result = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(spec)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert result.returncode == 0, (
        f"{page.name}: a snippet failed\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    )
