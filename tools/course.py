"""Facts about the course repository shared by the tools and the tests.

The repository URL lives in ``pyproject.toml`` under ``[tool.course]``; the
Colab badge and the set-up cell of every notebook are derived from it here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("notebooks", "solutions", "exercises")
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
COLAB_BADGE_IMG = "https://colab.research.google.com/assets/colab-badge.svg"


def course_config() -> dict[str, str]:
    """The ``[tool.course]`` table of pyproject.toml: ``repository`` and ``branch``."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["tool"]["course"]


def github_slug(repository: str) -> str:
    """``https://github.com/owner/name`` -> ``owner/name``."""
    match = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?", repository)
    if not match:
        raise ValueError(f"expected https://github.com/OWNER/NAME, got {repository!r}")
    return match.group(1)


def colab_url(relative_path: str, config: dict[str, str] | None = None) -> str:
    """The Colab link that opens ``relative_path`` (e.g. ``notebooks/00_x.ipynb``)."""
    config = config or course_config()
    slug = github_slug(config["repository"])
    return f"https://colab.research.google.com/github/{slug}/blob/{config['branch']}/{relative_path}"


def colab_badge(relative_path: str, config: dict[str, str] | None = None) -> str:
    """Markdown for the "Open in Colab" badge of one notebook."""
    return f"[![Open In Colab]({COLAB_BADGE_IMG})]({colab_url(relative_path, config)})"


SETUP_TEMPLATE = '''\
# Set-up: the same cell opens every notebook of the course.
# In Colab it fetches the course's code and data and installs what Colab lacks
# (never torch: Colab's own build is kept). Locally, `make lab` did all of this.
import sys
from pathlib import Path

REPO_URL = "{repository}"
if "google.colab" in sys.modules:
    import subprocess

    course_dir = Path("/content/{name}")
    if not course_dir.exists():
        subprocess.run(["git", "clone", "--depth", "1", "--branch", "{branch}", REPO_URL,
                        str(course_dir)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "torchmetrics", "lightning-utilities"], check=True)
    sys.path.insert(0, str(course_dir))
elif not (Path.cwd() / "helpers").is_dir() and (Path.cwd().parent / "helpers").is_dir():
    sys.path.insert(0, str(Path.cwd().parent))  # a clone used without `pip install -e .`

from helpers.device import environment_report

environment_report()'''


def setup_cell_source(config: dict[str, str] | None = None) -> str:
    """The exact source every notebook's set-up cell (its first code cell) must have."""
    config = config or course_config()
    name = github_slug(config["repository"]).split("/")[1]
    return SETUP_TEMPLATE.format(repository=config["repository"], branch=config["branch"], name=name)


def notebook_paths(folder: str) -> list[Path]:
    """The numbered notebooks in one of ``notebooks/``, ``solutions/`` or ``exercises/``."""
    return sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb"))


def all_notebooks() -> list[Path]:
    return [p for folder in FOLDERS for p in notebook_paths(folder)]


def source(cell: dict) -> str:
    """A cell's source as one string (nbformat allows a string or a list of lines)."""
    text = cell.get("source", "")
    return text if isinstance(text, str) else "".join(text)


def load(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def dump(notebook: dict, path: Path) -> None:
    """Write a notebook the way Jupyter does (indent 1, trailing newline)."""
    text = json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")


def exercise_path_for(solution: Path) -> Path:
    """``solutions/NN_topic_solutions.ipynb`` -> ``exercises/NN_topic_exercises.ipynb``."""
    stem = solution.stem.removesuffix("_solutions")
    return ROOT / "exercises" / f"{stem}_exercises.ipynb"
