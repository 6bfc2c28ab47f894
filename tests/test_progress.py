"""helpers.progress: the grader, on synthetic submissions made from the course's own notebooks.

The submissions are built here from the first lesson's solutions and exercises
notebooks (whatever that lesson's exercises are): all correct, none attempted,
some wrong, check cells deleted or edited, a cell that hangs, a cell that kills
the kernel, a file that is not JSON. The kernel tests grade them all in one
batch; the all-solutions run that measures the time budget is marked slow
(`pytest -m slow tests/test_progress.py`).
"""

import copy
import csv
import io
import json
import time

import nbformat
import pytest

from helpers import progress
from helpers.progress import (
    CORRECT,
    ERROR,
    INCORRECT,
    NOT_ATTEMPTED,
    NOT_GRADED,
    Submission,
    Verdict,
    check_calls,
    identify_lesson,
    names_defined,
)
from tools.course import ROOT, notebook_paths

SOLUTION = notebook_paths("solutions")[0]
EXERCISE = notebook_paths("exercises")[0]
MODULE = f"helpers.checks.lesson{SOLUTION.name[:2]}"
TIMEOUT_S = 8  # per cell in these tests; the lesson's cells each take well under a second
# One pytest worker grades the batch once for all the tests that read it (pytest -n 2 --dist loadgroup).
pytestmark = pytest.mark.xdist_group("progress")


def read(path):
    return nbformat.read(path, as_version=4)


CALLS = check_calls(read(EXERCISE), MODULE)
NAMES = list(CALLS)  # q1, q2, ... in the order of the exercises notebook


def answer_cell(notebook, check_name):
    """Index of the cell that defines the first name a check is called on."""
    wanted = CALLS[check_name].args[0]
    return next(i for i, c in enumerate(notebook.cells)
                if c.cell_type == "code" and wanted in names_defined(c.source))


def insert_after(notebook, index, source):
    notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source))


def check_cell(notebook, check_name):
    return check_calls(notebook, MODULE)[check_name].cell


def first_exercises(notebook, count):
    """A small notebook: everything before the exercises, then only the first ``count`` of them."""
    headings = [i for i, c in enumerate(notebook.cells)
                if c.cell_type == "markdown" and c.source.lstrip().lower().startswith("## exercise")]
    small = copy.deepcopy(notebook)
    small.cells = small.cells[: headings[count]]
    return small


# --------------------------------------------------------------------------- without a kernel
def test_statuses_are_the_checks_statuses():
    from helpers.checks import core

    assert (CORRECT, INCORRECT, NOT_ATTEMPTED) == (core.CORRECT, core.INCORRECT, core.NOT_ATTEMPTED)


def test_the_lesson_is_read_from_the_notebook_not_its_file_name(tmp_path):
    notebook = read(EXERCISE)
    assert identify_lesson(notebook, tmp_path / "alice final (2).ipynb") == MODULE
    without_import = copy.deepcopy(notebook)
    without_import.cells = [c for c in without_import.cells if "helpers.checks import" not in c.source]
    assert identify_lesson(without_import, tmp_path / "x.ipynb") == MODULE  # from the title
    lesson = read(ROOT / "notebooks" / SOLUTION.name.replace("_solutions", ""))
    assert identify_lesson(lesson, tmp_path / SOLUTION.name) is None  # a lesson, not exercises


@pytest.mark.parametrize("path", notebook_paths("exercises"), ids=lambda p: p.name[:2])
def test_every_exercises_notebook_calls_each_registered_check_on_named_answers(path):
    import importlib

    from helpers.checks import checks_of

    notebook = read(path)
    module = identify_lesson(notebook, path)
    importlib.import_module(module)
    calls = check_calls(notebook, module)
    registered = [c.__name__ for c in checks_of(module)]
    assert list(calls) == registered, "the grader grades each check on its call in this notebook"
    assert all(call.args for call in calls.values())


def test_names_defined_by_a_cell():
    source = ("import torch\nfrom torch import nn as tnn\ndef f(x):\n    y = 1\nclass M:\n    pass\n"
              "a, (b, c) = 1, (2, 3)\nd: int = 4\nfor e in []:\n    pass\n%time g = 5\n")
    assert names_defined(source) == {"torch", "tnn", "f", "M", "a", "b", "c", "d", "e"}
    assert names_defined("def broken(x:\n    return x\nvalue = 3\n") == {"broken", "value"}


def test_check_calls_under_any_alias_with_keywords():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import helpers.checks.lesson04 as grade"),
        nbformat.v4.new_code_cell("%xmode Minimal\ngrade.q3(loss_fn, other=x)\ngrade.q3.hint()\ngrade.summary()"),
    ])
    calls = check_calls(notebook, "helpers.checks.lesson04")
    assert list(calls) == ["q3"]
    assert calls["q3"].args == ("loss_fn",) and calls["q3"].kwargs == (("other", "x"),)
    assert calls["q3"].text == "grade.q3(loss_fn, other=x)" and calls["q3"].cell == 1
    assert progress.rebound_checks(notebook, "helpers.checks.lesson04") == set()
    notebook.cells.append(nbformat.v4.new_code_cell("grade.q3 = lambda *a: print('Correct')"))
    assert progress.rebound_checks(notebook, "helpers.checks.lesson04") == {"q3"}


def test_messages_carry_nothing_that_changes_between_runs():
    text = ("SyntaxError: '(' was never closed (130535208.py, line 1); <function f at 0x7f3a2b1c0d60> "
            "wrote /tmp/grade-abc123/model.pt \x1b[0;31mred\x1b[0m")
    assert progress._clean(text, "/tmp/grade-abc123") == (
        "SyntaxError: '(' was never closed (line 1); <function f at 0x…> wrote ./model.pt red")


def test_find_notebooks_takes_any_file_names_and_skips_checkpoints(tmp_path):
    (tmp_path / "a" / ".ipynb_checkpoints").mkdir(parents=True)
    for name in ("a/zoe.ipynb", "a/.ipynb_checkpoints/zoe-checkpoint.ipynb", "adam (1).ipynb", "notes.txt"):
        (tmp_path / name).write_text("{}")
    found = progress.find_notebooks([tmp_path, tmp_path / "notes.txt"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a/zoe.ipynb", "adam (1).ipynb", "notes.txt"]


def test_report_and_csv():
    subs = [
        Submission(ROOT / "a.ipynb", "a.ipynb", "04", [
            Verdict("q1", CORRECT),
            Verdict("q2", INCORRECT, "the first line of the hint\nmore detail", ["its check cell was deleted"]),
            Verdict("q3", NOT_ATTEMPTED),
            Verdict("q4", ERROR, "timeout (ran longer than 60 s) in cell 9 (`while True:`)"),
        ]),
        Submission(ROOT / "b.ipynb", "b.ipynb", "", [Verdict("-", NOT_GRADED, "not a readable notebook")],
                   graded=False),
    ]
    text = progress.report(subs)
    assert "a.ipynb   q1        Correct" in text
    assert "q2        Incorrect: the first line of the hint\n" in text and "more detail" not in text
    assert "q3        Not attempted" in text and "q4        Error: timeout" in text
    assert "04      1          1        1          1              1      0" in text
    assert "?       1          0        0          0              0      1" in text
    assert "a.ipynb q2: its check cell was deleted" in text
    assert text.endswith("Graded 1 of 2 notebooks. Not graded (see the table): b.ipynb.")
    out = io.StringIO()
    progress.write_csv(subs, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["submission"], r["exercise"], r["status"]) for r in rows] == [
        ("a.ipynb", "q1", "correct"), ("a.ipynb", "q2", "incorrect"), ("a.ipynb", "q3", "not attempted"),
        ("a.ipynb", "q4", "error"), ("b.ipynb", "-", "not graded")]
    assert rows[1]["verdict"] == "Incorrect: the first line of the hint\nmore detail"
    assert rows[1]["notes"] == "its check cell was deleted" and rows[4]["lesson"] == ""


def test_files_that_are_not_exercise_notebooks_are_not_graded_and_start_no_kernel(tmp_path, capsys):
    (tmp_path / "corrupt.ipynb").write_text('{"cells": [')
    (tmp_path / "empty.ipynb").write_text("")
    (tmp_path / "list.ipynb").write_text("[1, 2]")
    lesson = ROOT / "notebooks" / SOLUTION.name.replace("_solutions", "")
    (tmp_path / "lesson.ipynb").write_text(lesson.read_text(encoding="utf-8"), encoding="utf-8")
    start = time.perf_counter()
    code = progress.main([str(tmp_path), str(tmp_path / "missing.ipynb"), "--csv", str(tmp_path / "g.csv")])
    assert time.perf_counter() - start < 10
    assert code == 1
    rows = list(csv.DictReader(open(tmp_path / "g.csv", encoding="utf-8")))
    assert len(rows) == 5 and {r["status"] for r in rows} == {NOT_GRADED}
    by_name = {r["submission"].rsplit("/", 1)[-1]: r["verdict"] for r in rows}
    assert "not a readable notebook" in by_name["corrupt.ipynb"]
    assert "not a readable notebook" in by_name["missing.ipynb"]
    assert "not a course exercise notebook" in by_name["lesson.ipynb"]
    assert "Graded 0 of 5 notebooks" in capsys.readouterr().out


# --------------------------------------------------------------------------- in kernels
@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Synthetic submissions, graded in one run of the command; returns (exit code, rows by file)."""
    folder = tmp_path_factory.mktemp("submissions")
    solution, exercise = read(SOLUTION), read(EXERCISE)
    q1, q2, q3, q4 = NAMES[:4]

    nbformat.write(solution, folder / "all_correct.ipynb")

    none = copy.deepcopy(exercise)  # ... and a learner who makes the first check always say Correct
    insert_after(none, check_cell(none, q1) - 1, f"check.{q1} = lambda *answers: print('Correct')")
    nbformat.write(none, folder / "none_attempted.ipynb")

    wrong = copy.deepcopy(solution)  # two answers replaced by None, one check cell edited, one deleted
    for name in (q4, q2):
        insert_after(wrong, answer_cell(wrong, name), f"{CALLS[name].args[0]} = None")
    wrong.cells[check_cell(wrong, q3)].source = f"check.{q3}(None)"
    del wrong.cells[check_cell(wrong, q1)]
    nbformat.write(wrong, folder / "some_wrong.ipynb")
    nbformat.write(wrong, folder / "some_wrong_again.ipynb")

    hanging = first_exercises(solution, 3)  # a loop in exercise 2, a syntax error in exercise 3
    hanging.cells[answer_cell(hanging, q3)].source = f"def {CALLS[q3].args[0]}(x:\n    return x"
    insert_after(hanging, answer_cell(hanging, q2), "while True:\n    pass")
    nbformat.write(hanging, folder / "hanging.ipynb")

    dying = first_exercises(solution, 3)  # kills the kernel in 2, ignores the interrupt in 3
    insert_after(dying, answer_cell(dying, q3), "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
                                                "    except KeyboardInterrupt:\n        pass")
    insert_after(dying, answer_cell(dying, q2), "import os\nos._exit(1)")
    nbformat.write(dying, folder / "dying.ipynb")

    (folder / "corrupt.ipynb").write_text('{"cells": [{"cell_type": "code", "sou')

    csv_path = folder.parent / f"{folder.name}.csv"
    old_probe, progress.PROBE_TIMEOUT_S = progress.PROBE_TIMEOUT_S, 5
    try:
        start = time.perf_counter()
        code = progress.main([str(folder), "--csv", str(csv_path), "--timeout", str(TIMEOUT_S), "--jobs", "2"])
        seconds = time.perf_counter() - start
    finally:
        progress.PROBE_TIMEOUT_S = old_probe
    rows: dict[str, dict[str, dict[str, str]]] = {}
    for row in csv.DictReader(open(csv_path, encoding="utf-8")):
        rows.setdefault(row["submission"].rsplit("/", 1)[-1].removesuffix(".ipynb"), {})[row["exercise"]] = row
    print(f"graded {len(rows)} submissions in {seconds:.0f} s")
    return code, rows


def statuses(rows):
    return {name: row["status"] for name, row in rows.items()}


def test_all_correct(batch):
    _, rows = batch
    assert statuses(rows["all_correct"]) == dict.fromkeys(NAMES, CORRECT)
    assert {row["lesson"] for row in rows["all_correct"].values()} == {SOLUTION.name[:2]}


def test_none_attempted_even_with_a_check_replaced_by_the_learner(batch):
    _, rows = batch
    assert statuses(rows["none_attempted"]) == dict.fromkeys(NAMES, NOT_ATTEMPTED)
    assert "replaces check" in rows["none_attempted"][NAMES[0]]["notes"]


def test_some_wrong_with_check_cells_edited_and_deleted(batch):
    _, rows = batch
    q1, q2, q3, q4 = NAMES[:4]
    some_wrong = rows["some_wrong"]
    assert statuses(some_wrong) == {**dict.fromkeys(NAMES, CORRECT), q2: INCORRECT, q4: INCORRECT}
    assert some_wrong[q2]["verdict"].startswith("Incorrect: ")
    assert "check cell was deleted" in some_wrong[q1]["notes"]
    assert "check cell was edited" in some_wrong[q3]["notes"]
    assert "own check said incorrect" in some_wrong[q3]["notes"]  # recorded, not trusted


def test_the_same_notebook_graded_twice_gives_the_same_result(batch):
    _, rows = batch

    def without_path(graded):
        return {name: {k: v for k, v in row.items() if k != "submission"} for name, row in graded.items()}

    assert without_path(rows["some_wrong_again"]) == without_path(rows["some_wrong"])


def test_a_hanging_cell_is_a_timeout_and_the_rest_is_graded(batch):
    _, rows = batch
    q1, q2, q3, *later = NAMES
    hanging = rows["hanging"]
    assert hanging[q1]["status"] == CORRECT
    assert hanging[q2]["status"] == ERROR and hanging[q2]["verdict"].startswith(
        f"Error: timeout (ran longer than {TIMEOUT_S} s) in cell")
    assert hanging[q3]["status"] == ERROR and "SyntaxError" in hanging[q3]["verdict"]
    assert "in cell" in hanging[q3]["verdict"]
    for name in later:  # their cells are not in this small notebook
        assert hanging[name]["status"] == ERROR and "is not defined" in hanging[name]["verdict"]


def test_a_dead_kernel_is_replaced_and_grading_goes_on(batch):
    _, rows = batch
    q1, q2, q3 = NAMES[:3]
    dying = rows["dying"]
    assert dying[q1]["status"] == CORRECT
    assert dying[q2]["status"] == ERROR and "the kernel died in cell" in dying[q2]["verdict"]
    assert dying[q3]["status"] == ERROR and "ignored the interrupt" in dying[q3]["verdict"]


def test_a_corrupt_file_is_not_graded_and_the_exit_code_says_so(batch):
    code, rows = batch
    assert rows["corrupt"]["-"]["status"] == NOT_GRADED
    assert code == 1
    graded = [name for name, r in rows.items() if NOT_GRADED not in statuses(r).values()]
    assert sorted(graded) == ["all_correct", "dying", "hanging", "none_attempted", "some_wrong",
                              "some_wrong_again"]


@pytest.mark.slow
def test_every_solutions_notebook_grades_correct_within_the_budget(tmp_path):
    """Budget: all solutions in at most 2 minutes on 2 cores (run: pytest -m slow tests/test_progress.py)."""
    paths = notebook_paths("solutions")
    start = time.perf_counter()
    code = progress.main([*map(str, paths), "--jobs", "2", "--csv", str(tmp_path / "g.csv")])
    seconds = time.perf_counter() - start
    rows = list(csv.DictReader(open(tmp_path / "g.csv", encoding="utf-8")))
    assert code == 0
    wrong = [(r["submission"], r["exercise"], r["verdict"]) for r in rows if r["status"] != CORRECT]
    assert not wrong
    assert {r["lesson"] for r in rows} == {p.name[:2] for p in paths}
    print(json.dumps({"notebooks": len(paths), "seconds": round(seconds, 1)}))
    assert seconds <= 120, f"grading every solutions notebook took {seconds:.0f} s (budget: 120 s)"
