"""The portability and re-run machinery catches the broken states it guards against.

Small synthetic notebooks stand in for lessons: one whose checked output depends
on the numeric environment, one whose cell cannot run twice, one whose `run-once`
cell is honoured, and their well-behaved twins.
"""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tools.kernels import (
    KERNEL_ENV,
    NUMERIC_ENVIRONMENTS,
    RUN_ONCE,
    Sanitizer,
    checked_differences,
    kernel_env,
    output_text,
    portability_differences,
    rerun_failure,
)

CHECK = {"tags": ["nbval-check-output"]}


def write(tmp_path, *cells, name="nb.ipynb"):
    notebook = new_notebook(cells=[new_markdown_cell("# t"), *cells])
    path = tmp_path / name
    nbformat.write(notebook, path)
    return path


def executed(path):
    """Save the notebook with the outputs of a default-environment run (as an author would)."""
    from tools.run_notebooks import execute

    execute(path)
    return path


def test_kernel_env_sets_the_course_settings_and_lets_extra_win():
    env = kernel_env({"MKL_CBWR": "COMPATIBLE", "PYTHONHASHSEED": "7"})
    assert env["MKL_CBWR"] == "COMPATIBLE" and env["PYTHONHASHSEED"] == "7"
    assert env["OMP_NUM_THREADS"] == KERNEL_ENV["OMP_NUM_THREADS"]


def test_output_text_reads_streams_results_and_error_names():
    outputs = [
        nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": "a\n"}),
        nbformat.from_dict({"output_type": "execute_result", "execution_count": 1, "metadata": {},
                            "data": {"text/plain": "2", "image/png": "xx"}}),
        nbformat.from_dict({"output_type": "error", "ename": "ValueError", "evalue": "v", "traceback": []}),
    ]
    assert output_text(outputs) == "a\n2\nValueError\n"


def test_sanitizer_uses_the_nbval_rules():
    assert Sanitizer.from_file()("at 0x7f3a in 1.5 s") == "at 0xADDRESS in DURATION"


@pytest.mark.parametrize("environment", sorted(NUMERIC_ENVIRONMENTS))
def test_a_checked_cell_that_depends_on_the_environment_is_caught(tmp_path, environment):
    variable = next(iter(NUMERIC_ENVIRONMENTS[environment]))
    path = executed(write(tmp_path, new_code_cell(f"import os; print(os.environ.get({variable!r}))",
                                                  metadata=CHECK)))
    differences = portability_differences(path, environment)
    assert len(differences) == 1 and "cell 1" in differences[0] and "-None" in differences[0]


def test_an_exact_checked_cell_and_an_unchecked_varying_cell_pass(tmp_path):
    path = executed(write(tmp_path, new_code_cell("print(2 + 3)", metadata=CHECK),
                          new_code_cell("import os; print(os.environ.get('MKL_CBWR'))")))
    for environment in NUMERIC_ENVIRONMENTS:
        assert portability_differences(path, environment) == []


def test_checked_differences_reports_a_missing_output(tmp_path):
    saved = nbformat.v4.new_notebook(cells=[new_code_cell("print(1)", metadata=CHECK)])
    saved.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    assert checked_differences(saved, {0: []}, "x")


def test_a_cell_that_cannot_run_twice_is_caught(tmp_path):
    path = write(tmp_path, new_code_cell("total = 0"), new_code_cell("total += 1\nassert total == 1"))
    failure = rerun_failure(path)
    assert failure and "twice in a row" in failure and "AssertionError" in failure


def test_state_left_by_a_later_cell_is_caught_by_run_all(tmp_path):
    # Each cell survives a second run, but the first assumes what the last one changes.
    path = write(tmp_path, new_code_cell("from pathlib import Path\nassert not Path('model.txt').exists()"),
                 new_code_cell("Path('model.txt').write_text('weights')"))
    failure = rerun_failure(path)
    assert failure and "Run All a second time" in failure and "AssertionError" in failure


def test_run_once_cells_are_run_once_and_idempotent_cells_pass(tmp_path):
    path = write(tmp_path, new_code_cell("total = 0"),
                 new_code_cell("total += 1\nassert total == 1", metadata={"tags": [RUN_ONCE]}))
    assert rerun_failure(path) is None


def test_cells_that_raise_on_purpose_are_allowed(tmp_path):
    path = write(tmp_path, new_code_cell("1 / 0", metadata={"tags": ["raises-exception"]}),
                 new_code_cell("x = 1"))
    assert rerun_failure(path) is None
