#!/usr/bin/env python3
"""Build the course website from the committed notebooks, without running them.

Sphinx with myst-nb reads the notebooks and their saved outputs; the theme
(sphinx-book-theme) and MathJax (copied from the django-static-mathjax wheel)
are served from the site itself, so it works with no network at build or view
time. The configuration is website/conf.py.

This script stages the sources in build/site-src: the numbered notebooks of
notebooks/, exercises/ and solutions/ (found the same way the tests find them,
so new lessons appear without editing anything here) and a home page written
from README.md (its introduction, "Start here" and "How the exercises work")
plus a syllabus table made from the notebooks themselves.

Usage:
    python tools/build_site.py            # -> build/site/index.html
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.course import (
    FOLDERS,
    ROOT,
    colab_url,
    course_config,
    exercise_path_for,
    github_slug,
    load,
    notebook_paths,
    source,
)

CONF_DIR = ROOT / "website"
STAGE = ROOT / "build" / "site-src"
OUT = ROOT / "build" / "site"
BADGE = "_assets/colab-badge.svg"  # staged copy of website/_static/colab-badge.svg
# Sections of README.md the home page shows, in this order.
README_SECTIONS = ("Start here", "How the exercises work")


def title_of(path: Path) -> str:
    """The notebook's `# ...` heading (the first line of its first markdown cell)."""
    for cell in load(path)["cells"]:
        if cell["cell_type"] == "markdown":
            for line in source(cell).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise ValueError(f"{path.relative_to(ROOT)} has no '# Title' heading")


def intro_of(path: Path) -> str:
    """The first sentence of the paragraph that follows the title and the badge."""
    text = source(next(c for c in load(path)["cells"] if c["cell_type"] == "markdown"))
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip() and not p.lstrip().startswith(("#", "[!["))]
    if not paragraphs:
        return ""
    first = " ".join(paragraphs[0].split())
    return re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]


def readme_parts(readme: str) -> tuple[str, dict[str, str]]:
    """README.md as (the text between its title and its first section, {section title: body})."""
    chunks = re.split(r"^## (.+)$", readme, flags=re.MULTILINE)
    intro = re.sub(r"^# .*\n", "", chunks[0]).strip()
    sections = {chunks[i].strip(): chunks[i + 1].strip() for i in range(1, len(chunks), 2)}
    return intro, sections


def readme_summaries(syllabus: str) -> dict[str, str]:
    """{lesson number: "What you learn" cell} from the README's syllabus table, where it has one."""
    rows = {}
    for line in syllabus.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"\d\d", cells[0]):
            rows[cells[0]] = cells[2]
    return rows


def index_markdown() -> str:
    intro, sections = readme_parts((ROOT / "README.md").read_text(encoding="utf-8"))
    missing = [s for s in (*README_SECTIONS, "Syllabus") if s not in sections]
    if missing:
        raise SystemExit(f"README.md has no section(s) {missing}: update README_SECTIONS in {__file__}")
    summaries = readme_summaries(sections["Syllabus"])
    repository = course_config()["repository"]
    # The README is read inside a clone; a reader of the site may not have one yet.
    clone = (f"*On your machine*, start from a copy of the course, then run the commands above:\n\n"
             f"```bash\ngit clone {repository}\ncd {github_slug(repository).split('/')[1]}\n```")
    badge = f"![Open in Colab]({BADGE})"

    rows = ["| # | Lesson | What you learn | Exercises | Solutions |", "|---|---|---|---|---|"]
    for lesson in notebook_paths("notebooks"):
        number = lesson.name[:2]
        solutions = ROOT / "solutions" / f"{lesson.stem}_solutions.ipynb"
        exercises = exercise_path_for(solutions)
        title = re.sub(r"^\d\d\s*·\s*", "", title_of(lesson))
        cells = [
            number,
            f"[{title}](notebooks/{lesson.name}) [{badge}]({colab_url(f'notebooks/{lesson.name}')})",
            summaries.get(number) or intro_of(lesson),
        ]
        for kind, path in (("exercises", exercises), ("solutions", solutions)):
            cells.append(
                f"[{kind}]({kind}/{path.name}) [{badge}]({colab_url(f'{kind}/{path.name}')})"
                if path.exists() else "")
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")

    toctrees = "\n".join(
        f"```{{toctree}}\n:hidden:\n:caption: {caption}\n\n"
        + "\n".join(f"{folder}/{p.stem}" for p in notebook_paths(folder)) + "\n```\n"
        for folder, caption in (("notebooks", "Lessons"), ("exercises", "Exercises"), ("solutions", "Solutions"))
    )
    return "\n\n".join([
        "# PyTorch fundamentals",
        intro,
        "## Start here",
        sections["Start here"],
        clone,
        "## Syllabus",
        "\n".join(rows),
        *[part for name in README_SECTIONS[1:] for part in (f"## {name}", sections[name])],
        toctrees,
    ]) + "\n"


def stage() -> None:
    if STAGE.exists():
        shutil.rmtree(STAGE)
    for folder in FOLDERS:
        (STAGE / folder).mkdir(parents=True)
        for path in notebook_paths(folder):
            shutil.copy2(path, STAGE / folder / path.name)
    (STAGE / BADGE).parent.mkdir()
    shutil.copy2(CONF_DIR / "_static" / "colab-badge.svg", STAGE / BADGE)
    (STAGE / "index.md").write_text(index_markdown(), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", "-j", default="auto", help="Sphinx parallel jobs (default: auto)")
    args = parser.parse_args(argv)
    from sphinx.cmd.build import build_main

    start = time.perf_counter()
    stage()
    if OUT.exists():
        shutil.rmtree(OUT)
    # -W --keep-going: every warning (a broken link, an unknown output type) fails the build,
    # after reporting all of them. -E: never reuse a stale environment.
    status = build_main(["-b", "html", "-E", "-q", "-W", "--keep-going", "-j", str(args.jobs),
                         "-c", str(CONF_DIR), "-d", str(ROOT / "build" / "site-doctrees"), str(STAGE), str(OUT)])
    if status == 0:
        pages = len(list(OUT.rglob("*.html")))
        print(f"Built {pages} pages in {time.perf_counter() - start:.1f} s: {OUT.relative_to(ROOT)}/index.html")
    return status


if __name__ == "__main__":
    sys.exit(main())
