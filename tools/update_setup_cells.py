#!/usr/bin/env python3
"""Rewrite every notebook's set-up cell (its first code cell) from tools.course.SETUP_TEMPLATE.

Run it after changing the template, then re-execute the lessons and solutions
(`make notebooks`, which also regenerates exercises/): a rewritten cell keeps its
old outputs until then. Only the source of that one cell changes.

Usage:
    python tools/update_setup_cells.py           # rewrite the cells that differ
    python tools/update_setup_cells.py --check   # only list them; exit 1 if any differ
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.course import ROOT, all_notebooks, dump, load, setup_cell_source, source


def update(paths: list[Path], check: bool = False) -> list[Path]:
    """The notebooks whose set-up cell differs from the template; rewritten unless check."""
    expected = setup_cell_source()
    changed = []
    for path in paths:
        notebook = load(path)
        first_code = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
        if source(first_code) != expected:
            changed.append(path)
            if not check:
                as_lines = isinstance(first_code["source"], list)  # keep the file's own style
                first_code["source"] = expected.splitlines(keepends=True) if as_lines else expected
                dump(notebook, path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a cell differs")
    args = parser.parse_args(argv)
    changed = update(all_notebooks(), check=args.check)
    verb = "differs in" if args.check else "rewritten in"
    for path in changed:
        print(f"set-up cell {verb} {path.relative_to(ROOT)}")
    print(f"{len(changed)} of {len(all_notebooks())} notebooks {'differ' if args.check else 'rewritten'}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
