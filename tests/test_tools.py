"""tools/: exercise generation, the repository URL and the set-up cell."""

import ast
import shutil
import subprocess
import sys

import pytest

from tools import make_exercises
from tools.course import (
    ROOT,
    colab_badge,
    course_config,
    dump,
    github_slug,
    load,
    setup_cell_source,
)


def solution_notebook(cells):
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


def code(text, tags=(), outputs=()):
    meta = {"tags": list(tags)} if tags else {}
    return {"cell_type": "code", "metadata": meta, "source": text, "execution_count": 3,
            "outputs": list(outputs)}


def markdown(text, tags=()):
    return {"cell_type": "markdown", "metadata": {"tags": list(tags)} if tags else {},
            "source": text}


@pytest.fixture
def generated(tmp_path, monkeypatch):
    """Generate an exercise notebook from a small solutions notebook in a temp repo."""
    monkeypatch.setattr(make_exercises, "ROOT", tmp_path)
    (tmp_path / "solutions").mkdir()
    path = tmp_path / "solutions" / "07_demo_solutions.ipynb"
    dump(solution_notebook([
        markdown("# 07 Demo\n[badge](https://x/solutions/07_demo_solutions.ipynb)"),
        markdown("These are the worked answers.", tags=["solutions-only"]),
        code("x = 1\n### BEGIN SOLUTION\nanswer = x + 1\nW, b = 2, 3\n### END SOLUTION\n"
             "check.q1(answer)", tags=["nbval-check-output"],
             outputs=[{"output_type": "stream", "name": "stdout", "text": "Correct\n"}]),
        code("def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"),
        markdown("Why?\n<!-- BEGIN SOLUTION -->\nBecause.\n<!-- END SOLUTION -->"),
    ]), path)
    monkeypatch.setattr(make_exercises, "exercise_path_for",
                        lambda s: tmp_path / "exercises" / "07_demo_exercises.ipynb")
    return make_exercises.make_exercise(path)


def test_top_level_region_becomes_named_placeholders(generated):
    src = generated["cells"][1]["source"]
    assert src == "x = 1\n# YOUR CODE HERE\nanswer = ...\nW = ...\nb = ...\ncheck.q1(answer)"


def test_indented_region_raises_not_implemented(generated):
    assert generated["cells"][2]["source"] == (
        'def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError("Write your code here")'
    )


def test_markdown_answer_solutions_only_cells_outputs_and_links(generated):
    cells = generated["cells"]
    assert len(cells) == 4, "the solutions-only cell is dropped"
    assert "Because" not in cells[3]["source"] and "_Write your answer here._" in cells[3]["source"]
    assert cells[1]["outputs"] == [] and cells[1]["execution_count"] is None
    assert "tags" not in cells[1]["metadata"], "nbval tags are dropped from exercises"
    assert "exercises/07_demo_exercises.ipynb" in cells[0]["source"]


def test_placeholder_code_is_valid_python(generated):
    for cell in generated["cells"]:
        if cell["cell_type"] == "code":
            ast.parse(cell["source"])


def test_unbalanced_or_nameless_regions_are_refused():
    with pytest.raises(SystemExit, match="without"):
        make_exercises.strip_code("### BEGIN SOLUTION\nx = 1\n", "here")
    with pytest.raises(SystemExit, match="without"):
        make_exercises.strip_code("x = 1\n### END SOLUTION\n", "here")
    with pytest.raises(SystemExit, match="assign at least one name"):
        make_exercises.strip_code("### BEGIN SOLUTION\nprint(1)\n### END SOLUTION\n", "here")


def test_exercises_folder_is_in_sync_with_solutions():
    result = subprocess.run([sys.executable, "tools/make_exercises.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_setup_cell_is_valid_python_and_names_the_repository():
    src = setup_cell_source()
    ast.parse(src)
    assert course_config()["repository"] in src


def test_github_slug_and_badge():
    assert github_slug("https://github.com/a-b/c.d.git") == "a-b/c.d"
    with pytest.raises(ValueError):
        github_slug("https://gitlab.com/a/b")
    badge = colab_badge("notebooks/00_x.ipynb", {"repository": "https://github.com/o/r",
                                                 "branch": "dev"})
    assert badge.endswith("(https://colab.research.google.com/github/o/r/blob/dev/notebooks/00_x.ipynb)")


def test_set_repo_url_rewrites_every_copy(tmp_path):
    for name in ("tools", "notebooks", "solutions", "exercises"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    new = "https://github.com/my-school/torch-course"
    subprocess.run([sys.executable, "tools/set_repo_url.py", new, "--branch", "spring"],
                   cwd=tmp_path, check=True, capture_output=True)
    old = github_slug(course_config()["repository"])
    config = {"repository": new, "branch": "spring"}
    assert f'repository = "{new}"' in (tmp_path / "pyproject.toml").read_text()
    for path in sorted(tmp_path.glob("*/[0-9][0-9]_*.ipynb")):
        nb = load(path)
        rel = path.relative_to(tmp_path).as_posix()
        assert colab_badge(rel, config) in "".join(nb["cells"][0]["source"])
        first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
        assert "".join(first_code["source"]) == setup_cell_source(config)
        assert old not in path.read_text()
    assert old not in (tmp_path / "README.md").read_text()


def test_run_notebooks_settles_progress_bar_redraws():
    from tools.run_notebooks import merge_streams

    outputs = [
        {"output_type": "stream", "name": "stderr", "text": "\rbar 0%"},
        {"output_type": "stream", "name": "stderr", "text": "\rbar 50%\rbar 100%\n"},
        {"output_type": "stream", "name": "stdout", "text": "done\n"},
    ]
    assert merge_streams(outputs) == [
        {"output_type": "stream", "name": "stderr", "text": "bar 100%\n"},
        {"output_type": "stream", "name": "stdout", "text": "done\n"},
    ]


def test_run_notebooks_freezes_progress_widgets_at_their_final_text():
    from tools.run_notebooks import freeze_widgets

    state = {
        "box": {"model_name": "HBoxModel",
                "state": {"children": ["IPY_MODEL_a", "IPY_MODEL_b", "IPY_MODEL_c"]}},
        "a": {"model_name": "HTMLModel", "state": {"value": "grid:\u2007100%"}},
        "b": {"model_name": "FloatProgressModel", "state": {"value": 9.0, "max": 9.0}},
        "c": {"model_name": "HTMLModel", "state": {"value": "\u20079/9\u2007[00:01&lt;00:00]"}},
    }
    view = {"application/vnd.jupyter.widget-view+json": {"model_id": "box"},
            "text/plain": "grid:   0%|          | 0/9"}
    outputs = freeze_widgets([{"output_type": "display_data", "data": view}], state)
    assert outputs[0]["data"] == {"text/plain": "grid: 100%|██████████| 9/9 [00:01<00:00]"}
    unknown = [{"output_type": "display_data", "data": {"text/plain": "x"}}]
    assert freeze_widgets(unknown, state) == unknown


def test_update_setup_cells_rewrites_only_the_setup_cell(tmp_path):
    from tools.update_setup_cells import update

    original = load(ROOT / "notebooks" / "00_tensors_and_autograd.ipynb")
    first = next(i for i, c in enumerate(original["cells"]) if c["cell_type"] == "code")
    original["cells"][first]["source"] = "# an old set-up cell\nimport sys"
    path = tmp_path / "00_x.ipynb"
    dump(original, path)
    assert update([path], check=True) == [path] and load(path) == original, "--check changes nothing"
    assert update([path]) == [path]
    updated = load(path)
    assert "".join(updated["cells"][first]["source"]) == setup_cell_source()
    for i, (new, old) in enumerate(zip(updated["cells"], original["cells"], strict=True)):
        assert i == first or new == old
    assert update([path], check=True) == []
