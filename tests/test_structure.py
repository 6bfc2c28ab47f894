"""Static checks on the committed notebooks: anatomy, hygiene and consistency.

These read the .ipynb files without running them (nbval and test_exercises.py
run them), so they are fast and point at the exact cell that is wrong.
"""

import json
import re

import pytest

from tools.course import (
    ROOT,
    all_notebooks,
    colab_badge,
    exercise_path_for,
    load,
    notebook_paths,
    setup_cell_source,
    source,
)

LESSONS = notebook_paths("notebooks")
SOLUTIONS = notebook_paths("solutions")
EXERCISES = notebook_paths("exercises")
ALL = all_notebooks()
MAX_OUTPUT_BYTES = 300_000  # one output (a plot is ~30-80 kB)
MAX_NOTEBOOK_BYTES = 2_500_000
ABSOLUTE_PATH = re.compile(r"(/home/|/root/|/tmp/|/work/|/Users/|[A-Z]:\\\\Users)")
CHECK_CALL = re.compile(r"^check\.(q\w+)\(", re.MULTILINE)


def rel(path):
    return path.relative_to(ROOT).as_posix()


def ids(paths):
    return [rel(p) for p in paths]


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def output_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append("".join(out["text"]) if isinstance(out["text"], list) else out["text"])
        elif "data" in out and "text/plain" in out["data"]:
            text = out["data"]["text/plain"]
            parts.append("".join(text) if isinstance(text, list) else text)
    return "".join(parts)


def headings(nb):
    return [line.strip() for c in nb["cells"] if c["cell_type"] == "markdown"
            for line in source(c).splitlines() if line.startswith("#")]


def number(path):
    return path.name[:2]


def test_there_are_lessons():
    assert LESSONS, "notebooks/ has no numbered lessons"


def test_lessons_are_numbered_without_gaps():
    numbers = [int(number(p)) for p in LESSONS]
    assert numbers == list(range(len(numbers))), f"lesson numbers {numbers} have gaps"


def test_every_lesson_has_solutions_and_exercises():
    for lesson in LESSONS:
        stem = lesson.stem
        solution = ROOT / "solutions" / f"{stem}_solutions.ipynb"
        assert solution.exists(), f"{rel(lesson)} has no {rel(solution)}"
        assert exercise_path_for(solution).exists(), f"{rel(lesson)} has no exercises notebook"
    assert {p.name[:2] for p in SOLUTIONS} <= {p.name[:2] for p in LESSONS}


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_title_badge_and_setup_cell(path):
    nb = load(path)
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown", "the first cell is the title"
    assert re.match(rf"# {number(path)} ", source(first)), "title starts with '# NN '"
    assert colab_badge(rel(path)) in source(first), (
        "the title cell must hold this notebook's own Colab badge; run tools/set_repo_url.py "
        "or copy it from tools.course.colab_badge"
    )
    first_code = code_cells(nb)[0]
    assert source(first_code) == setup_cell_source(), (
        "the first code cell must be the standard set-up cell (tools.course.setup_cell_source)"
    )
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_outputs_are_clean_and_small(path):
    nb = load(path)
    assert path.stat().st_size <= MAX_NOTEBOOK_BYTES, "notebook file too large: smaller plots?"
    for i, cell in enumerate(code_cells(nb)):
        for out in cell.get("outputs", []):
            size = len(json.dumps(out))
            assert size <= MAX_OUTPUT_BYTES, f"code cell {i} has an output of {size} bytes"
            if out["output_type"] == "error":
                assert "raises-exception" in tags(cell), (
                    f"code cell {i} shows an error but is not tagged raises-exception"
                )
            else:
                assert not ABSOLUTE_PATH.search(json.dumps(out)), (
                    f"code cell {i} prints an absolute path from the author's machine"
                )


def assert_ran_top_to_bottom(nb):
    cells = [c for c in code_cells(nb) if source(c).strip()]
    counts = [c.get("execution_count") for c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        "execution counts are not 1, 2, 3, ...: re-run with `make notebooks`"
    )


@pytest.mark.parametrize("path", LESSONS, ids=ids(LESSONS))
def test_lesson_anatomy(path):
    nb = load(path)
    assert_ran_top_to_bottom(nb)
    found = headings(nb)
    for wanted in ("## What you will learn", "## Summary", "## Review questions", "## Exercises"):
        assert any(h.startswith(wanted) for h in found), f"missing a '{wanted}' section"
    text = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    exercises = f"../exercises/{path.stem}_exercises.ipynb"
    assert exercises in text, f"the lesson must link to {exercises}"
    assert any("nbval-check-output" in tags(c) for c in code_cells(nb)), (
        "tag the cells that print key results nbval-check-output so CI compares them"
    )
    for i, cell in enumerate(code_cells(nb)):
        if "raises-exception" in tags(cell):
            assert any(o["output_type"] == "error" for o in cell.get("outputs", [])), (
                f"code cell {i} is tagged raises-exception but shows no error"
            )


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_solutions_anatomy(path):
    nb = load(path)
    assert_ran_top_to_bottom(nb)
    lesson = f"../notebooks/{path.stem.removesuffix('_solutions')}.ipynb"
    markdown = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert lesson in markdown, f"link back to the lesson, {lesson}"
    assert any("solutions-only" in tags(c) for c in nb["cells"]), (
        "a solutions-only cell should say that this notebook holds the worked answers"
    )
    module = f"lesson{number(path)}"
    assert any(f"from helpers.checks import {module} as check" in source(c)
               for c in code_cells(nb)), f"import the checks with: from helpers.checks import {module} as check"
    calls = 0
    for i, cell in enumerate(code_cells(nb)):
        for _ in CHECK_CALL.finditer(source(cell)):
            calls += 1
            assert "nbval-check-output" in tags(cell), (
                f"code cell {i}: tag check cells nbval-check-output so CI sees them print Correct"
            )
            assert output_text(cell).startswith("Correct"), (
                f"code cell {i}: a solution's check must print Correct, got {output_text(cell)!r}"
            )
    assert calls >= 6, f"only {calls} checked exercises; the course asks for at least 6"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_every_check_of_the_lesson_is_used(path):
    import importlib

    from helpers.checks import Check

    module = importlib.import_module(f"helpers.checks.lesson{number(path)}")
    defined = {name for name, value in vars(module).items() if isinstance(value, Check)}
    used = {m.group(1) for c in code_cells(load(path)) for m in CHECK_CALL.finditer(source(c))}
    assert used == defined, f"checks defined but unused: {defined - used}; unknown: {used - defined}"
    assert (ROOT / "tests" / f"test_checks_lesson{number(path)}.py").exists(), (
        "every check module needs its table of correct and wrong answers in tests/"
    )


@pytest.mark.parametrize("path", EXERCISES, ids=ids(EXERCISES))
def test_exercises_carry_no_outputs_or_answers(path):
    nb = load(path)
    text = json.dumps(nb)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert "# YOUR CODE HERE" in text
    for cell in code_cells(nb):
        assert cell.get("outputs") == [] and cell.get("execution_count") is None


def test_readme_lists_every_lesson_with_its_badge():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in LESSONS + SOLUTIONS + EXERCISES:
        assert colab_badge(rel(path)) in readme or f"({rel(path)})" in readme, (
            f"README.md should link {rel(path)}"
        )
    for path in LESSONS:
        assert colab_badge(rel(path)) in readme, f"README.md needs the Colab badge of {rel(path)}"
