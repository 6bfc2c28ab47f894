#!/usr/bin/env python3
"""Generate exercises/ from solutions/ (the only place answers are written).

In a solutions notebook, answer code sits between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` lines. This script writes ``exercises/NN_topic_exercises.ipynb``
with each region replaced by ``# YOUR CODE HERE`` and a placeholder that keeps
the notebook runnable:

- a region at the top level of a cell becomes ``name = ...`` for every name it
  assigns (the checks report ``...`` as "Not attempted yet");
- a region inside a function or method becomes ``raise NotImplementedError``
  (the checks report that as "Not attempted yet" too).

Markdown answers go between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->``.
Cells tagged ``solutions-only`` are dropped. Outputs, execution counts and
volatile metadata are stripped, and links to the solutions notebook are
pointed at the exercises notebook.

Usage:
    python tools/make_exercises.py                     # (re)write exercises/
    python tools/make_exercises.py solutions/03_*.ipynb  # just these lessons
    python tools/make_exercises.py --check             # exit 1 if exercises/ is stale
"""

from __future__ import annotations

import argparse
import ast
import copy
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.checks.core import PLACEHOLDER
from tools.course import BEGIN, END, ROOT, dump, exercise_path_for, load, notebook_paths, source

MD_BEGIN, MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
MD_PLACEHOLDER = "_Write your answer here._"
DROPPED_TAGS = {"nbval-check-output", "nbval-ignore-output"}


def assigned_names(code: str) -> list[str]:
    """Names bound at the top level of ``code``, in order (assignments, defs, classes)."""
    names: list[str] = []

    def add(target: ast.AST) -> None:
        if isinstance(target, ast.Name):
            names.append(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                add(element)

    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                add(target)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            add(node.target)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names.append(node.name)
    return list(dict.fromkeys(names))


def placeholder(region: list[str], indent: str, where: str) -> list[str]:
    if indent:
        return [f"{indent}# YOUR CODE HERE\n", f'{indent}raise NotImplementedError("{PLACEHOLDER}")\n']
    try:
        names = assigned_names(textwrap.dedent("".join(region)))
    except SyntaxError as error:
        raise SystemExit(f"{where}: the solution region does not parse: {error}") from error
    if not names:
        raise SystemExit(
            f"{where}: a top-level solution region must assign at least one name, so the "
            "exercise can offer `name = ...` as its placeholder."
        )
    return ["# YOUR CODE HERE\n"] + [f"{name} = ...\n" for name in names]


def strip_code(text: str, where: str) -> str:
    """Replace every BEGIN/END SOLUTION region of a code cell's source."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != BEGIN:
            if lines[i].strip() == END:
                raise SystemExit(f"{where}: {END} without {BEGIN}")
            out.append(lines[i])
            i += 1
            continue
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == END), None)
        if end is None:
            raise SystemExit(f"{where}: {BEGIN} without {END}")
        out.extend(placeholder(lines[i + 1 : end], indent, where))
        i = end + 1
    return "".join(out).rstrip("\n")


def strip_markdown(text: str, where: str) -> str:
    while MD_BEGIN in text:
        start = text.index(MD_BEGIN)
        end = text.find(MD_END, start)
        if end < 0:
            raise SystemExit(f"{where}: {MD_BEGIN} without {MD_END}")
        text = text[:start] + MD_PLACEHOLDER + text[end + len(MD_END) :]
    return text


def make_exercise(solution_path: Path) -> dict:
    """The exercises notebook generated from one solutions notebook."""
    notebook = copy.deepcopy(load(solution_path))
    exercise_path = exercise_path_for(solution_path)
    old_rel = solution_path.relative_to(ROOT).as_posix()
    new_rel = exercise_path.relative_to(ROOT).as_posix()
    cells = []
    for index, cell in enumerate(notebook["cells"]):
        tags = cell.get("metadata", {}).get("tags", [])
        if "solutions-only" in tags:
            continue
        where = f"{old_rel} cell {index}"
        text = source(cell).replace(old_rel, new_rel).replace(solution_path.name, exercise_path.name)
        new = {"cell_type": cell["cell_type"], "metadata": {}, "source": text}
        kept = [t for t in tags if t not in DROPPED_TAGS]
        if kept:
            new["metadata"]["tags"] = kept
        if cell["cell_type"] == "code":
            new["source"] = strip_code(text, where)
            new["execution_count"] = None
            new["outputs"] = []
        elif cell["cell_type"] == "markdown":
            new["source"] = strip_markdown(text, where)
        cells.append(new)
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i:03d}"
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if exercises/ is stale")
    parser.add_argument("solutions", nargs="*", type=Path,
                        help="solutions notebooks to generate from (default: all)")
    args = parser.parse_args(argv)
    solutions = [p.resolve() for p in args.solutions] or notebook_paths("solutions")
    stale = []
    for solution in solutions:
        target = exercise_path_for(solution)
        generated = make_exercise(solution)
        if args.check:
            if not target.exists() or load(target) != generated:
                stale.append(target.relative_to(ROOT).as_posix())
        else:
            target.parent.mkdir(exist_ok=True)
            dump(generated, target)
            print(f"wrote {target.relative_to(ROOT).as_posix()}")
    expected = {exercise_path_for(s).name for s in notebook_paths("solutions")}
    orphans = [p.name for p in notebook_paths("exercises") if p.name not in expected]
    if args.check and (stale or orphans):
        for name in stale:
            print(f"stale: {name}")
        for name in orphans:
            print(f"no solutions notebook for exercises/{name}")
        print("Run `python tools/make_exercises.py` (or `make exercises`) and commit the result.")
        return 1
    if args.check:
        print(f"exercises/ is up to date ({len(solutions)} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
