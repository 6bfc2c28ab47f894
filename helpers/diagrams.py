"""Conceptual diagrams for the lessons, drawn with matplotlib.

Each function draws one idea (not data) and returns the Figure, so a lesson
shows it with one call and the picture is regenerated, reviewed and diffed
like any other code. They need nothing but matplotlib and draw the same on
every machine.

Example:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig = training_step()
    >>> len(fig.axes)
    1
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

BLUE, ORANGE, GREEN, RED, GREY, PURPLE = "#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8C8C8C", "#8172B3"
_LIGHT = {BLUE: "#DCE6F2", ORANGE: "#F8E3D4", GREEN: "#DDEEE0", RED: "#F3DADB", GREY: "#EEEEEE",
          PURPLE: "#E6E2F0"}


def _canvas(width: float, height: float, xlim: tuple[float, float], ylim: tuple[float, float]):
    fig, ax = plt.subplots(figsize=(width, height), dpi=110)
    ax.set(xlim=xlim, ylim=ylim, aspect="equal")
    ax.axis("off")
    return fig, ax


def _box(ax, x: float, y: float, text: str, color: str = BLUE, w: float = 2.2, h: float = 0.9,
         size: float = 10) -> tuple[float, float, float, float]:
    """A rounded box centred at (x, y); returns its (left, right, bottom, top)."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.15",
                                facecolor=_LIGHT.get(color, "white"), edgecolor=color, linewidth=1.6))
    ax.text(x, y, text, ha="center", va="center", fontsize=size)
    return x - w / 2, x + w / 2, y - h / 2, y + h / 2


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], text: str = "", color: str = "black",
           rad: float = 0.0, size: float = 9, offset: tuple[float, float] = (0.0, 0.18)) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, color=color, linewidth=1.4,
                                 connectionstyle=f"arc3,rad={rad}"))
    if text:
        mx, my = (start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1]
        ax.text(mx, my, text, ha="center", va="bottom", fontsize=size, color=color)


def _grid(ax, x: float, y: float, rows: int, cols: int, values=None, color: str = BLUE, cell: float = 0.5,
          size: float = 9) -> None:
    """A rows x cols grid of cells with its top-left corner at (x, y)."""
    for r in range(rows):
        for c in range(cols):
            ax.add_patch(Rectangle((x + c * cell, y - (r + 1) * cell), cell, cell, facecolor=_LIGHT[color],
                                   edgecolor=color, linewidth=1.2))
            if values is not None:
                ax.text(x + (c + 0.5) * cell, y - (r + 0.5) * cell, str(values[r][c]), ha="center",
                        va="center", fontsize=size)


def tensor_axes() -> Figure:
    """Tensors of 0, 1, 2 and 3 dimensions, with the axis (dim) each index moves along."""
    fig, ax = _canvas(10, 3.4, (0, 20), (-3.2, 3.6))
    ax.text(1.0, 2.9, "0-D: scalar", ha="center", fontsize=11, weight="bold")
    _grid(ax, 0.75, 0.75, 1, 1, [[7]])
    ax.text(1.0, -1.2, "shape ()\nndim 0", ha="center", va="top", fontsize=9)

    ax.text(4.5, 2.9, "1-D: vector", ha="center", fontsize=11, weight="bold")
    _grid(ax, 3.75, 0.75, 1, 3, [[1, 2, 3]], color=GREEN)
    _arrow(ax, (3.75, 1.0), (5.25, 1.0), "dim 0", color=GREEN)
    ax.text(4.5, -1.2, "shape (3,)\nndim 1", ha="center", va="top", fontsize=9)

    ax.text(9.25, 2.9, "2-D: matrix", ha="center", fontsize=11, weight="bold")
    _grid(ax, 8.5, 1.25, 2, 3, [[1, 2, 3], [4, 5, 6]], color=ORANGE)
    _arrow(ax, (8.2, 1.25), (8.2, 0.25), color=RED)
    ax.text(8.05, 0.75, "dim 0\n(rows)", ha="right", va="center", fontsize=9, color=RED)
    _arrow(ax, (8.5, 1.55), (10.0, 1.55), "dim 1 (columns)", color=ORANGE)
    ax.text(9.25, -1.2, "shape (2, 3)\nndim 2", ha="center", va="top", fontsize=9)

    ax.text(15.5, 2.9, "3-D: a stack of matrices", ha="center", fontsize=11, weight="bold")
    for k, shift in enumerate((0.6, 0.3, 0.0)):
        _grid(ax, 14.2 + shift, 1.45 + shift, 3, 2, color=(PURPLE, BLUE, ORANGE)[k])
    _arrow(ax, (13.9, 1.75), (14.5, 2.35), color=PURPLE)
    ax.text(13.4, 2.2, "dim 0", fontsize=9, color=PURPLE, ha="center")
    _arrow(ax, (13.9, 1.45), (13.9, -0.05), color=RED)
    ax.text(13.75, 0.7, "dim 1", ha="right", va="center", fontsize=9, color=RED)
    _arrow(ax, (14.2, -0.35), (15.2, -0.35), color=ORANGE)
    ax.text(14.7, -0.95, "dim 2", ha="center", fontsize=9, color=ORANGE)
    ax.text(17.6, 0.7, "shape (3, 3, 2)\nndim 3\n\nread a shape from the\nbrackets, outside in:\n"
            "[[[ ... ]]] -> 3 dims", ha="left", va="center", fontsize=9)
    fig.suptitle("A tensor's shape lists its length along each axis (dim)", fontsize=12)
    return fig


def broadcasting() -> Figure:
    """``(2, 3) + (3,)``: the smaller tensor is stretched along the missing axis, without copying."""
    fig, ax = _canvas(10, 2.6, (0, 20), (-2.0, 2.6))
    _grid(ax, 0.5, 1.5, 2, 3, [[1, 2, 3], [4, 5, 6]], color=BLUE, cell=0.8)
    ax.text(1.7, -0.6, "shape (2, 3)", ha="center", va="top", fontsize=9)
    ax.text(3.6, 0.7, "+", fontsize=18, ha="center", va="center")
    _grid(ax, 4.4, 1.5, 1, 3, [[10, 20, 30]], color=GREEN, cell=0.8)
    ax.text(5.6, -0.6, "shape (3,)", ha="center", va="top", fontsize=9)
    _arrow(ax, (7.4, 0.7), (8.6, 0.7), "stretch", color=GREY)
    _grid(ax, 9.0, 1.5, 1, 3, [[10, 20, 30]], color=GREEN, cell=0.8)
    _grid(ax, 9.0, 0.7, 1, 3, [[10, 20, 30]], color=GREY, cell=0.8)
    ax.text(10.2, -0.6, "acts like (2, 3)", ha="center", va="top", fontsize=9)
    ax.text(12.3, 0.7, "=", fontsize=18, ha="center", va="center")
    _grid(ax, 13.0, 1.5, 2, 3, [[11, 22, 33], [14, 25, 36]], color=ORANGE, cell=0.8)
    ax.text(14.2, -0.6, "shape (2, 3)", ha="center", va="top", fontsize=9)
    ax.text(16.2, 0.7, "Line shapes up from the right:\n(2, 3)\n   (3,)  -> sizes match,\n"
            "missing axes are added\non the left and stretched.", fontsize=9, va="center")
    fig.suptitle("Broadcasting: a (3,) row is added to every row of a (2, 3) matrix", fontsize=12)
    return fig


def computation_graph() -> Figure:
    """y = w * x + b with x=3, w=4, b=5: values flow forward, gradients flow backward."""
    fig, ax = _canvas(10, 3.6, (0, 20), (-2.6, 3.6))
    leaves = {"x = 3": (1.5, 2.2, GREY), "w = 4": (1.5, 0.4, BLUE), "b = 5": (1.5, -1.6, BLUE)}
    for text, (x, y, color) in leaves.items():
        _box(ax, x, y, text, color, w=2.0, h=0.8)
    _box(ax, 7.0, 1.3, "mul\nw * x = 12", ORANGE, w=2.4, h=1.1)
    _box(ax, 12.0, -0.2, "add\n12 + b = 17", ORANGE, w=2.6, h=1.1)
    _box(ax, 17.0, -0.2, "y = 17", GREEN, w=2.0, h=0.8)
    _arrow(ax, (2.5, 2.2), (5.8, 1.5))
    _arrow(ax, (2.5, 0.4), (5.8, 1.1))
    _arrow(ax, (8.2, 1.1), (10.7, 0.1))
    _arrow(ax, (2.5, -1.6), (10.7, -0.5))
    _arrow(ax, (13.3, -0.2), (16.0, -0.2))
    red = dict(color=RED, size=9)
    ax.text(4.1, 2.45, "dy/dx: only if x\nrequires_grad", ha="center", fontsize=8, color=GREY)
    ax.text(4.1, -0.35, "dy/dw = x = 3", ha="center", **{"fontsize": 9, "color": RED})
    ax.text(6.0, -1.65, "dy/db = 1", ha="center", fontsize=9, color=RED)
    ax.text(10.0, 2.9, "forward: values  ->", ha="center", fontsize=10, color="black")
    ax.text(10.0, -2.45, "<-  y.backward(): gradients, by the chain rule", ha="center", fontsize=10,
            color=red["color"])
    fig.suptitle("The computation graph autograd records for y = w * x + b", fontsize=12)
    return fig


def training_step() -> Figure:
    """One training step: forward, loss, backward, update, zero the gradients; repeated each epoch."""
    fig, ax = _canvas(10, 4.2, (0, 20), (-4.2, 4.2))
    steps = [
        (4.0, 2.6, "1. forward\ny_pred = model(X)", BLUE),
        (16.0, 2.6, "2. loss\nloss = loss_fn(y_pred, y)", ORANGE),
        (16.0, -2.6, "3. backward\nloss.backward()\n(fills p.grad)", RED),
        (4.0, -2.6, "4. update\noptimizer.step()\np -= lr * p.grad", GREEN),
    ]
    for x, y, text, color in steps:
        _box(ax, x, y, text, color, w=5.2, h=1.6, size=10)
    _arrow(ax, (6.7, 2.6), (13.3, 2.6), "how wrong is it?")
    _arrow(ax, (16.0, 1.7), (16.0, -1.7), "")
    ax.text(16.3, 0.0, "which way is\ndownhill?", fontsize=9, va="center")
    _arrow(ax, (13.3, -2.6), (6.7, -2.6), "one small step downhill", offset=(0, 0.15))
    _arrow(ax, (4.0, -1.7), (4.0, 1.7), "")
    ax.text(3.7, 0.0, "5. zero the gradients\noptimizer.zero_grad()\n(they add up otherwise)", fontsize=9,
            va="center", ha="right")
    ax.text(10.0, 0.0, "repeat:\none pass over the data\n= one epoch", ha="center", va="center", fontsize=10,
            color=GREY)
    fig.suptitle("The training loop: the same five moves, over and over", fontsize=12)
    return fig


def batches(n_samples: int = 12, batch_size: int = 4, seed: int = 0) -> Figure:
    """A DataLoader with shuffle=True: each epoch, a new order cut into batches; one step per batch."""
    rng = np.random.default_rng(seed)
    fig, ax = _canvas(10, 3.8, (0, 20), (-3.6, 3.4))
    colors = plt.get_cmap("tab20")(np.linspace(0, 1, n_samples))
    cell = 0.9
    ax.text(0.2, 2.5, "dataset", fontsize=10, va="center")
    for i in range(n_samples):
        ax.add_patch(Rectangle((3.0 + i * cell, 2.1), cell, 0.8, facecolor=colors[i], edgecolor="white"))
        ax.text(3.0 + (i + 0.5) * cell, 2.5, str(i), ha="center", va="center", fontsize=8)
    for epoch, y in ((1, 0.3), (2, -1.8)):
        order = rng.permutation(n_samples)
        ax.text(0.2, y + 0.4, f"epoch {epoch}\n(shuffled)", fontsize=10, va="center")
        for position, i in enumerate(order):
            batch = position // batch_size
            x = 3.0 + position * cell + batch * 0.45
            ax.add_patch(Rectangle((x, y), cell, 0.8, facecolor=colors[i], edgecolor="white"))
            ax.text(x + cell / 2, y + 0.4, str(i), ha="center", va="center", fontsize=8)
        for batch in range(n_samples // batch_size):
            x0 = 3.0 + batch * (batch_size * cell + 0.45)
            ax.text(x0 + batch_size * cell / 2, y - 0.25, f"batch {batch + 1}: one step", ha="center",
                    va="top", fontsize=8, color=GREY)
    fig.suptitle(f"DataLoader(dataset, batch_size={batch_size}, shuffle=True): "
                 f"{n_samples // batch_size} steps per epoch", fontsize=12)
    return fig


def logits_to_labels() -> Figure:
    """Binary: logit -> sigmoid -> probability -> threshold 0.5. Multiclass: logits -> softmax -> argmax."""
    logit, logits = 2.0, np.array([2.0, 0.5, -1.0])
    probability = 1 / (1 + np.exp(-logit))
    probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()

    def show(values: np.ndarray, digits: int) -> str:
        return "[" + ", ".join(f"{v:.{digits}f}" for v in values) + "]"

    fig, ax = _canvas(10, 3.8, (0, 20), (-3.4, 3.4))
    ax.text(0.2, 1.8, "binary\n(1 output)", fontsize=10, va="center", weight="bold")
    row = [(4.8, f"logit\n{logit:.1f}", BLUE), (10.0, f"probability\n{probability:.2f}", ORANGE),
           (15.6, f"label\n{int(probability > 0.5)}", GREEN)]
    for x, text, color in row:
        _box(ax, x, 1.8, text, color, w=2.6, h=1.1)
    _arrow(ax, (6.1, 1.8), (8.7, 1.8), "sigmoid")
    _arrow(ax, (11.3, 1.8), (14.3, 1.8), "> 0.5 ?")
    ax.text(0.2, -1.8, "multiclass\n(C outputs)", fontsize=10, va="center", weight="bold")
    multi = [(4.8, f"logits\n{show(logits, 1)}", BLUE), (10.4, f"probabilities\n{show(probabilities, 2)}", ORANGE),
             (16.2, f"label\n{int(probabilities.argmax())}", GREEN)]
    for x, text, color in multi:
        _box(ax, x, -1.8, text, color, w=3.4, h=1.1)
    _arrow(ax, (6.5, -1.8), (8.7, -1.8), "softmax")
    _arrow(ax, (12.1, -1.8), (14.5, -1.8), "argmax")
    ax.text(10.0, 0.0, "the loss takes the logits: BCEWithLogitsLoss (binary), CrossEntropyLoss (multiclass)",
            ha="center", va="center", fontsize=9, color=RED)
    fig.suptitle("From a model's raw outputs (logits) to predicted labels", fontsize=12)
    return fig


def softmax_cross_entropy(logits=(2.0, 0.5, -1.0), target: int = 1) -> Figure:
    """Logits, their softmax probabilities, and the cross-entropy loss -log p[target]."""
    z = np.asarray(logits, dtype=float)
    p = np.exp(z - z.max())
    p /= p.sum()
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.0), dpi=110)
    names = [f"class {i}" for i in range(len(z))]
    colors = [GREEN if i == target else GREY for i in range(len(z))]
    axes[0].bar(names, z, color=BLUE)
    axes[0].axhline(0, color="black", linewidth=0.8)
    axes[0].set_title("logits: any real numbers")
    axes[1].bar(names, p, color=colors)
    axes[1].set(ylim=(0, 1), title="softmax: positive, sum to 1")
    for i, value in enumerate(p):
        axes[1].text(i, value + 0.03, f"{value:.2f}", ha="center", fontsize=9)
    q = np.linspace(0.01, 1, 200)
    axes[2].plot(q, -np.log(q), color=RED)
    axes[2].scatter([p[target]], [-np.log(p[target])], color=GREEN, zorder=3)
    axes[2].annotate(f"true class {target}: p = {p[target]:.2f}\nloss = -log p = {-np.log(p[target]):.2f}",
                     (p[target], -np.log(p[target])), xytext=(0.35, 2.6), fontsize=9,
                     arrowprops={"arrowstyle": "->"})
    axes[2].set(xlabel="probability given to the true class", ylabel="loss", title="cross-entropy: -log p")
    fig.suptitle("CrossEntropyLoss = softmax, then -log of the true class's probability", fontsize=12)
    fig.tight_layout()
    return fig


def checkpoint_contents() -> Figure:
    """What a training checkpoint holds: enough to resume exactly where training stopped."""
    fig, ax = _canvas(10, 3.6, (0, 20), (-3.0, 3.4))
    ax.add_patch(FancyBboxPatch((0.5, -2.6), 12.5, 5.4, boxstyle="round,pad=0.05,rounding_size=0.3",
                                facecolor="white", edgecolor=GREY, linewidth=1.6, linestyle="--"))
    ax.text(6.75, 2.35, "checkpoint.pt  (torch.save of a dict)", ha="center", fontsize=11, weight="bold")
    parts = [
        (3.5, 1.0, '"model_state_dict"\nweights and biases', BLUE),
        (10.0, 1.0, '"optimizer_state_dict"\nlr, momentum buffers, ...', ORANGE),
        (3.5, -1.4, '"epoch"\nwhere to start again', GREEN),
        (10.0, -1.4, '"loss"\nfor the record', PURPLE),
    ]
    for x, y, text, color in parts:
        _box(ax, x, y, text, color, w=5.4, h=1.5, size=9)
    ax.text(14.0, 1.0, "state_dict alone:\nenough to predict\n(model.load_state_dict)", fontsize=9,
            va="center")
    ax.text(14.0, -1.4, "the whole dict:\nenough to resume training\nas if it never stopped", fontsize=9,
            va="center")
    fig.suptitle("A checkpoint holds everything needed to continue training", fontsize=12)
    return fig
