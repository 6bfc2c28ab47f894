"""Run notebooks the way the tests do: one kernel environment for authors, tests and CI.

Everything that executes a notebook (``tools/run_notebooks.py``, nbval through
``tests/conftest.py``, the exercise, portability and re-run tests) takes its
kernel environment from here, so a notebook saved by an author was produced
under the same settings that CI compares it with.

Two ideas live here:

- ``NUMERIC_ENVIRONMENTS``: other choices of CPU kernels (MKL's reproducibility
  mode, ATen's vector instruction set). Trained values differ in their last
  digits between them, exactly as they do between two learners' CPUs, so a
  notebook whose *checked* outputs change under them is not portable.
- ``run_cells``: executes a notebook's code cells, optionally each one twice in a
  row and then all of them once more, as a learner pressing Shift+Enter twice
  or Run All twice would.
"""

from __future__ import annotations

import configparser
import difflib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
SANITIZE_CFG = ROOT / "tests" / "sanitize.cfg"

# Every kernel the course starts gets these (defined beside the grader, which uses them too).
from helpers.progress import KERNEL_ENV  # noqa: E402

# Other numeric environments a learner's machine may give. Each changes which
# CPU kernels MKL or ATen pick, and so the last digits of float results.
NUMERIC_ENVIRONMENTS: dict[str, dict[str, str]] = {
    "mkl-compatible": {"MKL_CBWR": "COMPATIBLE"},
    "aten-default": {"ATEN_CPU_CAPABILITY": "default"},
}

CHECKED = "nbval-check-output"
RUN_ONCE = "run-once"
RAISES = "raises-exception"
TIMEOUT_S = 300


def apply_kernel_env() -> None:
    """Put ``KERNEL_ENV`` into this process's environment (kernels inherit it); keep explicit settings."""
    for name, value in KERNEL_ENV.items():
        os.environ.setdefault(name, value)


def kernel_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment plus ``KERNEL_ENV`` plus ``extra`` (which wins)."""
    env = {**os.environ}
    for name, value in KERNEL_ENV.items():
        env.setdefault(name, value)
    env.update(extra or {})
    return env


def tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


@dataclass
class Sanitizer:
    """The regex replacements of ``tests/sanitize.cfg`` (the same file nbval uses)."""

    rules: list[tuple[re.Pattern[str], str]] = field(default_factory=list)

    @classmethod
    def from_file(cls, path: Path = SANITIZE_CFG) -> Sanitizer:
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(path, encoding="utf-8")
        return cls([(re.compile(parser[s]["regex"]), parser[s]["replace"]) for s in parser.sections()])

    def __call__(self, text: str) -> str:
        for pattern, replacement in self.rules:
            text = pattern.sub(replacement, text)
        return text


def output_text(outputs: list) -> str:
    """The text a reader sees in a cell's outputs: streams and text/plain results, errors' names.

    Images and HTML are left out, as nbval leaves them out in lax mode.
    """
    parts = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            text = out.get("text", "")
            parts.append(text if isinstance(text, str) else "".join(text))
        elif kind in ("execute_result", "display_data") and "text/plain" in out.get("data", {}):
            text = out["data"]["text/plain"]
            parts.append((text if isinstance(text, str) else "".join(text)) + "\n")
        elif kind == "error":
            parts.append(f"{out.get('ename')}\n")
    return "".join(parts)


def last_checked_index(notebook: nbformat.NotebookNode) -> int:
    """Index of the last cell tagged nbval-check-output, or -1 if there is none."""
    found = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code" and CHECKED in tags(cell)]
    return found[-1] if found else -1


@contextmanager
def kernel(notebook: nbformat.NotebookNode, folder: Path, env: dict[str, str] | None = None,
           timeout: int = TIMEOUT_S) -> Iterator[NotebookClient]:
    """A started kernel for ``notebook``, working directory ``folder``, environment ``kernel_env(env)``."""
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}, record_timing=False)
    with client.setup_kernel(env=kernel_env(env)):
        yield client


def run_cells(client: NotebookClient, notebook: nbformat.NotebookNode, *, twice: bool = False,
              stop_after: int | None = None) -> dict[int, list]:
    """Execute the code cells in order; return each cell's first outputs by index.

    With ``twice``, every cell not tagged ``run-once`` is executed a second time
    straight after the first, as a learner pressing Shift+Enter twice would.
    A cell that raises stops the run with ``nbclient``'s ``CellExecutionError``
    (naming the cell), unless it is tagged ``raises-exception``.
    """
    first: dict[int, list] = {}
    for index, cell in enumerate(notebook.cells):
        if stop_after is not None and index > stop_after:
            break
        if cell.cell_type != "code":
            continue
        client.execute_cell(cell, index)
        first[index] = [nbformat.from_dict(dict(o)) for o in cell.outputs]
        if twice and RUN_ONCE not in tags(cell):
            client.execute_cell(cell, index)
    return first


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def checked_differences(saved: nbformat.NotebookNode, outputs: dict[int, list], label: str,
                        sanitize: Sanitizer | None = None) -> list[str]:
    """A readable diff for each checked cell whose new outputs differ from the saved ones."""
    sanitize = sanitize or Sanitizer.from_file()
    differences = []
    for index, cell in enumerate(saved.cells):
        if cell.cell_type != "code" or CHECKED not in tags(cell):
            continue
        want = sanitize(output_text(cell.outputs))
        got = sanitize(output_text(outputs.get(index, [])))
        if want != got:
            diff = difflib.unified_diff(want.splitlines(), got.splitlines(), "saved", label, lineterm="", n=0)
            first_line = (cell.source.splitlines() or [""])[0][:60]
            differences.append(f"cell {index} ({first_line!r}):\n" + "\n".join(diff))
    return differences


def portability_differences(path: Path, environment: str) -> list[str]:
    """Execute ``path`` under one of ``NUMERIC_ENVIRONMENTS``; diffs of its checked cells.

    Execution stops after the last checked cell: nothing later can change what
    is compared, and the cells after it are run by nbval and the re-run test.
    """
    saved, notebook = read(path), read(path)
    last = last_checked_index(saved)
    if last < 0:
        return []
    with kernel(notebook, path.parent, NUMERIC_ENVIRONMENTS[environment]) as client:
        outputs = run_cells(client, notebook, stop_after=last)
    return checked_differences(saved, outputs, environment)


def rerun_failure(path: Path) -> str | None:
    """Run every cell twice in a row, then Run All again in the same kernel.

    Returns ``None`` if every cell passed, else which pass failed and the error.
    """
    notebook = read(path)
    with kernel(notebook, path.parent) as client:
        for what, twice in (("running every cell twice in a row", True), ("Run All a second time", False)):
            try:
                run_cells(client, notebook, twice=twice)
            except CellExecutionError as error:
                return f"failed while {what}:\n{error}"
    return None
