"""Exercise notebooks run top to bottom as a learner first opens them.

Every check must answer "Not attempted yet" (the placeholders are in place)
and no cell may fail, except cells tagged raises-exception.
"""

import re

import pytest

from tools.course import ROOT, notebook_paths
from tools.kernels import kernel, read, run_cells

EXERCISES = notebook_paths("exercises")
CHECK_CALL = re.compile(r"^check\.q\w+\(", re.MULTILINE)


@pytest.mark.parametrize("path", EXERCISES, ids=[p.name for p in EXERCISES])
def test_exercise_notebook_runs_and_every_check_says_not_attempted(path):
    nb = read(path)
    with kernel(nb, path.parent, timeout=120) as client:
        run_cells(client, nb)
    checked = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or not CHECK_CALL.search(cell.source):
            continue
        checked += 1
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert text.startswith("Not attempted yet"), (
            f"{path.relative_to(ROOT)}: {cell.source!r} printed {text!r}"
        )
    assert checked >= 6


@pytest.mark.parametrize("path", EXERCISES, ids=[p.name for p in EXERCISES])
def test_exercise_notebook_ends_with_the_progress_summary(path):
    """Issue 11: the last code cell prints check.summary(), the table of this session's verdicts."""
    code = [cell.source.strip() for cell in read(path).cells if cell.cell_type == "code"]
    assert code and code[-1] == "check.summary()", (
        f"{path.relative_to(ROOT)}: the last code cell should be check.summary(), not {code[-1]!r}"
    )
