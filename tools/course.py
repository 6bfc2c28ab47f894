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


# The set-up cell. In Colab it (re)clones the course into /content/NAME unless a
# clone there already imports (an empty or interrupted one is replaced), installs
# requirements.txt with pip (which leaves what Colab already has within range, its
# torch included, alone) and puts the clone on sys.path once. Its check imports only
# modules that need nothing Colab lacks (helpers.device, helpers.checks), since it
# runs before the pip install. tests/test_setup_cell.py runs it in a fake Colab.
SETUP_TEMPLATE = '''\
# Set-up: the same cell opens every notebook of the course. In Colab it clones the
# course's code and data into /content and installs what Colab lacks, within the
# ranges of requirements.txt (Colab's own torch is kept). Locally, `make lab` did this.
import sys
from pathlib import Path

if "google.colab" in sys.modules:
    import shutil
    import subprocess

    REPO_URL = "{repository}"
    course_dir = Path("/content/{name}")
    imports = [sys.executable, "-c", "import helpers.device, helpers.checks"]
    if course_dir.exists() and subprocess.run(imports, cwd=course_dir, capture_output=True).returncode:
        print(f"{{course_dir}} was incomplete (an interrupted clone?): removed it to clone it again.")
        shutil.rmtree(course_dir)
    if not course_dir.exists():
        clone = ["git", "clone", "--quiet", "--depth", "1", "--branch", "{branch}", REPO_URL, str(course_dir)]
        cloned = subprocess.run(clone, capture_output=True, text=True)
        if cloned.returncode:
            raise SystemExit(f"Could not clone {{REPO_URL}}: {{cloned.stderr.strip()}}\\nCheck that the runtime "
                             f"is online; for a private fork, make it public or put a copy in {{course_dir}}.")
        print(f"Cloned {{REPO_URL}} into {{course_dir}}.")
    requirements = str(course_dir / "requirements.txt")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-r", requirements], check=True)
    if str(course_dir) not in sys.path:
        sys.path.insert(0, str(course_dir))
elif not (Path.cwd() / "helpers").is_dir() and (Path.cwd().parent / "helpers").is_dir():
    if str(Path.cwd().parent) not in sys.path:
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
