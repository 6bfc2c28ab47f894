#!/usr/bin/env python3
"""Point the course at a fork: rewrite the repository URL everywhere it appears.

The URL lives in pyproject.toml ([tool.course]); badges (README and notebooks)
and every notebook's set-up cell are derived from it. This script changes the
table and rewrites the derived copies; a test checks they all agree.

Usage:
    python tools/set_repo_url.py https://github.com/my-school/pytorch-course [--branch main]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.course import (
    ROOT,
    all_notebooks,
    course_config,
    dump,
    github_slug,
    load,
    setup_cell_source,
    source,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="https://github.com/OWNER/NAME")
    parser.add_argument("--branch", default=None, help="branch Colab opens (default: unchanged)")
    args = parser.parse_args(argv)

    old = course_config()
    new_url = args.url.rstrip("/").removesuffix(".git")
    new_slug, old_slug = github_slug(new_url), github_slug(old["repository"])
    new_branch = args.branch or old["branch"]

    def rewrite(text: str) -> str:
        text = text.replace(old["repository"], new_url)
        return text.replace(f"github/{old_slug}/blob/{old['branch']}/",
                            f"github/{new_slug}/blob/{new_branch}/")

    pyproject = ROOT / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^repository = ".*"$', f'repository = "{new_url}"', text)
    text = re.sub(r'(?m)^branch = ".*"$', f'branch = "{new_branch}"', text)
    pyproject.write_text(text, encoding="utf-8")
    new_config = {"repository": new_url, "branch": new_branch}

    readme = ROOT / "README.md"
    readme.write_text(rewrite(readme.read_text(encoding="utf-8")), encoding="utf-8")
    for path in all_notebooks():
        notebook = load(path)
        first_code = True
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code" and first_code:
                cell["source"] = setup_cell_source(new_config)  # derived, so regenerated whole
                first_code = False
            else:
                cell["source"] = rewrite(source(cell))
        dump(notebook, path)
    print(f"repository: {new_url} (branch {new_branch}); rewrote README.md and "
          f"{len(all_notebooks())} notebooks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
