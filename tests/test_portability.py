"""Checked outputs must not depend on the CPU: notebooks run under other kernel choices.

nbval compares the cells tagged ``nbval-check-output`` with their saved outputs
on this machine. A learner's or a fork's CI machine may pick other CPU kernels
(MKL and ATen choose per processor), which changes the last digits of trained
values, matrix products and float reductions. Here every lesson and solutions
notebook is executed again under each of ``tools.kernels.NUMERIC_ENVIRONMENTS``;
its checked cells must print exactly what was saved (after the same sanitizer
as nbval), and every assert up to the last checked cell must still hold (the
run stops there: later cells cannot change what is compared).
"""

import pytest

from tools.course import ROOT, notebook_paths
from tools.kernels import NUMERIC_ENVIRONMENTS, portability_differences

pytestmark = pytest.mark.slow  # `make test-slow`: CI runs it after `make test`
NOTEBOOKS = notebook_paths("notebooks") + notebook_paths("solutions")
CASES = [(path, name) for path in NOTEBOOKS for name in NUMERIC_ENVIRONMENTS]


@pytest.mark.parametrize("path,environment", CASES,
                         ids=[f"{p.relative_to(ROOT).as_posix()}-{n}" for p, n in CASES])
def test_checked_outputs_do_not_depend_on_cpu_kernels(path, environment):
    differences = portability_differences(path, environment)
    assert not differences, (
        f"{path.relative_to(ROOT)} under {NUMERIC_ENVIRONMENTS[environment]}: checked outputs changed. "
        "Keep nbval-check-output only on cells whose text is exact on any CPU; guard trained values "
        "with an assert and a tolerance instead (CONTRIBUTING.md).\n" + "\n\n".join(differences)
    )
