#!/usr/bin/env python3
"""Re-execute notebooks in place, top to bottom, and save them with their outputs.

Each notebook runs in a fresh kernel with its own folder as the working
directory (as in Jupyter and in the tests). Volatile metadata is dropped so
that re-running an unchanged notebook changes as little as possible.

Usage:
    python tools/run_notebooks.py                       # notebooks/ and solutions/
    python tools/run_notebooks.py notebooks/00_*.ipynb  # just these
"""

from __future__ import annotations

import argparse
import html
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.course import ROOT, notebook_paths
from tools.kernels import TIMEOUT_S, kernel_env


def settle_carriage_returns(text: str) -> str:
    """What a terminal (and Jupyter) shows: on each line, only the text after the last \\r."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def merge_streams(outputs: list) -> list:
    """Join consecutive stdout/stderr chunks and settle progress-bar redraws."""
    merged: list = []
    for output in outputs:
        if (output.get("output_type") == "stream" and merged
                and merged[-1].get("output_type") == "stream"
                and merged[-1]["name"] == output["name"]):
            merged[-1]["text"] += output["text"]
        else:
            merged.append(output)
    for output in merged:
        if output.get("output_type") == "stream":
            output["text"] = settle_carriage_returns(output["text"])
    return merged


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def finished_bar(model_id: str, state: dict) -> str | None:
    """The final text of a tqdm notebook bar (an HBox of HTML, FloatProgress, HTML)."""
    box = state.get(model_id, {})
    children = [c.removeprefix("IPY_MODEL_") for c in box.get("state", {}).get("children", [])]
    if box.get("model_name") != "HBoxModel" or len(children) != 3:
        return None
    left, bar, right = (state.get(c, {}).get("state", {}) for c in children)
    if "max" not in bar:
        return None
    filled = int(10 * bar.get("value", 0) / bar["max"]) if bar["max"] else 10

    def text(widget: dict) -> str:
        return html.unescape(widget.get("value", "")).replace("\u2007", " ")

    return f"{text(left)}|{'█' * filled}{' ' * (10 - filled)}|{text(right)}"


def freeze_widgets(outputs: list, state: dict) -> list:
    """Replace progress-bar widgets by their final text.

    A widget is drawn by a live kernel; a saved notebook only keeps its text
    fallback from the moment it was created ("0%"). Storing the finished bar
    instead shows the reader (on GitHub too) how the run ended, and keeps
    re-runs from changing random widget ids.
    """
    for output in outputs:
        view = output.get("data", {}).get(WIDGET_VIEW)
        final = finished_bar(view["model_id"], state) if view else None
        if final is not None:
            output["data"] = {"text/plain": final}
    return outputs


def clean(notebook: nbformat.NotebookNode) -> None:
    """Keep only stable metadata: tags on cells, kernelspec and language name on the notebook."""
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags")
        cell["metadata"] = {"tags": tags} if tags else {}
        if cell.get("cell_type") == "code":
            cell["outputs"] = freeze_widgets(merge_streams(cell.get("outputs", [])), state)
    notebook.metadata = nbformat.from_dict(
        {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        }
    )


def execute(path: Path) -> float:
    """Execute one notebook in place; return the seconds it took (kernel start included)."""
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    client.execute(env=kernel_env())  # the environment the tests execute under
    seconds = time.perf_counter() - start
    clean(notebook)
    nbformat.write(notebook, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks to run (default: all)")
    args = parser.parse_args(argv)
    paths = args.paths or notebook_paths("notebooks") + notebook_paths("solutions")
    for path in paths:
        seconds = execute(path.resolve())
        print(f"{seconds:6.1f} s  {path.resolve().relative_to(ROOT).as_posix()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
