"""The shape of a lesson for a beginner (DESIGN.md, Style): a short core path, then depth.

A lesson's *core path* is every cell before its ``## Going further`` heading
(the whole lesson if it has none). It holds about 60 cells and at most 2,500
words of prose; the summary, the review questions and their folded answers
sit in separate cells; every lesson shows at least one conceptual diagram
drawn by code (a code cell tagged ``diagram`` with a picture in its output);
and a lesson that shows errors keeps their tracebacks short (``%xmode Minimal``
before the first cell tagged ``raises-exception``).
"""

import re

import pytest

from tools.course import ROOT, load, notebook_paths, source

LESSONS = notebook_paths("notebooks")
MAX_CORE_CELLS = 65
MAX_CORE_WORDS = 2500
FOLDED = re.compile(r"<details>.*?</details>", re.DOTALL)


def rel(path):
    return path.relative_to(ROOT).as_posix()


def core_path(cells):
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "markdown" and re.match(r"#+\s*Going further", source(cell).strip()):
            return cells[:index]
    return cells


def prose_words(cells):
    return sum(len(FOLDED.sub(" ", source(c)).split()) for c in cells if c["cell_type"] == "markdown")


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def heading_cell(cells, title):
    found = [c for c in cells if c["cell_type"] == "markdown" and source(c).lstrip().startswith(f"## {title}")]
    assert found, f"no '## {title}' cell"
    return found[0]


@pytest.mark.parametrize("path", LESSONS, ids=rel)
def test_core_path_fits_a_sitting(path):
    core = core_path(load(path)["cells"])
    words = prose_words(core)
    assert len(core) <= MAX_CORE_CELLS, (
        f"{rel(path)}: the core path has {len(core)} cells (at most {MAX_CORE_CELLS}); move depth most "
        "learners can skip under a '## Going further' heading at the end")
    assert words <= MAX_CORE_WORDS, (
        f"{rel(path)}: the core path has {words} words of prose (at most {MAX_CORE_WORDS})")


@pytest.mark.parametrize("path", LESSONS, ids=rel)
def test_summary_questions_and_folded_answers_are_separate_cells(path):
    cells = load(path)["cells"]
    summary, questions = heading_cell(cells, "Summary"), heading_cell(cells, "Review questions")
    assert summary is not questions
    assert "<details>" not in source(summary) and "<details>" not in source(questions), (
        f"{rel(path)}: keep the answers out of the summary and question cells")
    after = cells[cells.index(questions) + 1:]
    assert after and after[0]["cell_type"] == "markdown" and source(after[0]).lstrip().startswith("<details>"), (
        f"{rel(path)}: the cell after the review questions holds the answers, folded in <details>")


@pytest.mark.parametrize("path", LESSONS, ids=rel)
def test_a_conceptual_diagram_drawn_by_code(path):
    diagrams = [c for c in load(path)["cells"] if c["cell_type"] == "code" and "diagram" in tags(c)]
    assert diagrams, f"{rel(path)}: tag the code cell that draws the lesson's diagram 'diagram'"
    for cell in diagrams:
        assert any("image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})
                   for o in cell.get("outputs", [])), f"{rel(path)}: a 'diagram' cell shows no picture"


@pytest.mark.parametrize("path", LESSONS, ids=rel)
def test_tracebacks_are_short(path):
    cells = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
    raising = [i for i, c in enumerate(cells) if "raises-exception" in tags(c)]
    if not raising:
        return
    minimal = [i for i, c in enumerate(cells) if re.search(r"^%xmode\s+Minimal", source(c), re.MULTILINE)]
    assert minimal and minimal[0] < raising[0], (
        f"{rel(path)}: run %xmode Minimal before the first cell tagged raises-exception")
