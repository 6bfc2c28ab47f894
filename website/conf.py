"""Sphinx configuration of the course website (built by tools/build_site.py: `make site`).

Why this stack: myst-nb renders the committed notebooks with their saved outputs
(never executing them), sphinx-book-theme is the Jupyter Book look made for
notebooks, responsive and shipping its own assets, and Sphinx's search runs in
the browser from a generated index. Nothing is fetched from the web when the
site is built or read: MathJax comes from the django-static-mathjax wheel
(MathJax 3.2.2, plain files) and is copied into _static/.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from docutils import nodes
from sphinx.transforms import SphinxTransform

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.course import COLAB_BADGE_IMG, FOLDERS, colab_url, course_config  # noqa: E402

COURSE = course_config()

project = "PyTorch fundamentals"
author = "the course's authors"
copyright = "the course's authors, MIT licence"
html_title = "PyTorch fundamentals"

extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["_assets/**"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_favicon = "_static/favicon.svg"  # without one, browsers ask for /favicon.ico and get a 404

# Notebooks are shown as committed, outputs included: the tests executed them.
nb_execution_mode = "off"
# No widget manager or require.js from a CDN: the course's outputs are static.
nb_ipywidgets_js = {}
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
# Tracebacks that contain backticks trip Pygments' ipythontb lexer; Sphinx then shows
# them without colours, which is all this warning says.
suppress_warnings = ["misc.highlighting_failure"]

# MathJax from the site itself (see copy_mathjax below), CommonHTML output.
mathjax_path = "mathjax/tex-chtml.js"

html_theme = "sphinx_book_theme"
html_theme_options = {
    "repository_url": COURSE["repository"],
    "repository_branch": COURSE["branch"],
    "use_repository_button": True,
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "article_header_end": ["colab-button.html", "article-header-buttons.html"],
    # Search lives in the sidebar (and in the header on small screens): no second
    # search bar across the top of the page.
    "navbar_persistent": [],
}
# Light or dark as the reader's system prefers (and the theme's switch sets).
html_context = {"default_mode": "auto"}
html_show_sourcelink = False
html_last_updated_fmt = None


def notebook_path(docname: str) -> str | None:
    """``notebooks/00_x`` -> ``notebooks/00_x.ipynb`` for the course's notebooks, else None."""
    folder = docname.split("/", 1)[0]
    return f"{docname}.ipynb" if folder in FOLDERS and "/" in docname else None


class LocalColabBadge(SphinxTransform):
    """Show the notebooks' Colab badge from the site, not from colab.research.google.com."""

    default_priority = 400

    def apply(self) -> None:
        for image in self.document.findall(nodes.image):
            if image["uri"] == COLAB_BADGE_IMG:
                image["uri"] = "/_assets/colab-badge.svg"


def add_colab_url(app, pagename, templatename, context, doctree) -> None:
    """Give each notebook page the Colab link of its own notebook (colab-button.html shows it)."""
    path = notebook_path(pagename)
    context["colab_url"] = colab_url(path, COURSE) if path else None


def copy_mathjax(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        import mathjax  # the django-static-mathjax package: MathJax's files, nothing else

        es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
        shutil.copytree(es5, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def setup(app):
    app.add_transform(LocalColabBadge)
    app.connect("html-page-context", add_colab_url)
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
