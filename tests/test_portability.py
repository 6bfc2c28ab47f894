"""Checked outputs must not depend on the CPU: notebooks run under other kernel choices.

nbval compares the cells tagged ``nbval-check-output`` with their saved outputs
on this machine. A learner's or a fork's CI machine may pick other CPU kernels
(MKL and ATen choose per processor), which changes the last digits of trained
values, matrix products and float reductions. Here every lesson and solutions
notebook is executed again under each of ``tools.kernels.NUMERIC_ENVIRONMENTS``;
its checked cells must print exactly what was saved (after the same sanitizer
as nbval), and every assert in the notebook must still hold.
"""

import difflib

import pytest

from tools.course import ROOT, notebook_paths
from tools.kernels import CHECKED, NUMERIC_ENVIRONMENTS, Sanitizer, kernel, output_text, read, run_cells, tags

NOTEBOOKS = notebook_paths("notebooks") + notebook_paths("solutions")
CASES = [(path, name) for path in NOTEBOOKS for name in NUMERIC_ENVIRONMENTS]
SANITIZE = Sanitizer.from_file()


@pytest.mark.parametrize("path,environment", CASES,
                         ids=[f"{p.relative_to(ROOT).as_posix()}-{n}" for p, n in CASES])
def test_checked_outputs_do_not_depend_on_cpu_kernels(path, environment):
    saved = read(path)
    notebook = read(path)
    with kernel(notebook, path.parent, NUMERIC_ENVIRONMENTS[environment]) as client:
        outputs = run_cells(client, notebook)
    differences = []
    for index, cell in enumerate(saved.cells):
        if cell.cell_type != "code" or CHECKED not in tags(cell):
            continue
        want = SANITIZE(output_text(cell.outputs))
        got = SANITIZE(output_text(outputs[index]))
        if want != got:
            diff = "\n".join(difflib.unified_diff(want.splitlines(), got.splitlines(), "saved", environment,
                                                  lineterm="", n=0))
            differences.append(f"cell {index} ({cell.source.splitlines()[0][:60]!r}):\n{diff}")
    assert not differences, (
        f"{path.relative_to(ROOT)} under {NUMERIC_ENVIRONMENTS[environment]}: checked outputs changed. "
        "Keep nbval-check-output only on cells whose text is exact on any CPU; guard trained values "
        "with an assert and a tolerance instead (CONTRIBUTING.md).\n" + "\n\n".join(differences)
    )
