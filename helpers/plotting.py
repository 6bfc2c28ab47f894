"""Plots used across the lessons. Every function draws into ``ax`` (a new one if
``None``) and returns the matplotlib Axes, so plots can sit side by side.

Example:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_loss_curves({"train_loss": [1.0, 0.5, 0.25]})
    >>> ax.get_ylabel()
    'loss'
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

from helpers._validate import ensure_module, model_device


def _new_ax(ax: Axes | None) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    return ax


def _to_numpy(x: Any, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (list, tuple)):
        return np.asarray(x)
    raise TypeError(f"{name} must be a tensor, a NumPy array or a list, got {type(x).__name__}")


def predicted_labels(model: torch.nn.Module, X: torch.Tensor) -> torch.Tensor:
    """The class the model predicts for each row of ``X`` (on the model's device, in eval mode).

    Outputs of shape ``(N,)`` or ``(N, 1)`` are binary logits (class 1 where
    sigmoid > 0.5), unless the model ends in ``nn.Sigmoid`` (probabilities,
    thresholded at 0.5, with a warning). ``(N, C)`` outputs are multiclass
    (argmax). The model's train/eval mode is restored.

    Example:
        >>> predicted_labels(torch.nn.Linear(2, 3), torch.zeros(4, 2)).shape
        torch.Size([4])
    """
    model = ensure_module(model)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            logits = model(X.to(model_device(model))).cpu()
    finally:
        model.train(was_training)

    if logits.ndim == 1 or (logits.ndim == 2 and logits.shape[1] == 1):
        scores = logits.reshape(-1)
        labels = (torch.sigmoid(scores) > 0.5).long()
        if scores.numel() and bool(((scores >= 0) & (scores <= 1)).all()):
            modules = list(model.modules())
            if isinstance(modules[-1], torch.nn.Sigmoid):  # certainly probabilities
                labels = (scores > 0.5).long()
                warnings.warn("the model ends in nn.Sigmoid, so its outputs are "
                              "probabilities; they are thresholded at 0.5. (The course's models return "
                              "logits and train with BCEWithLogitsLoss.)", stacklevel=3)
            elif labels.min() == labels.max():
                warnings.warn("every output lies in [0, 1], so every point is drawn "
                              "as class 1 when the outputs are read as logits. If forward ends in a "
                              "sigmoid, these are probabilities: return the logits instead (and train "
                              "with BCEWithLogitsLoss).", stacklevel=3)
    elif logits.ndim == 2:
        labels = logits.argmax(dim=1)
    else:
        raise ValueError(f"model output of shape {tuple(logits.shape)} is neither (N, 1) nor (N, C)")
    return labels


def plot_decision_boundary(
    model: torch.nn.Module,
    X: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray,
    ax: Axes | None = None,
    resolution: int = 200,
    title: str | None = None,
) -> Axes:
    """Colour the plane by the model's predicted class and scatter ``(X, y)`` on top.

    Binary versus multiclass is read from the model's output: logits of shape
    ``(N,)`` or ``(N, 1)`` are binary (sigmoid, threshold 0.5), ``(N, C)`` with
    ``C > 1`` are multiclass (argmax). Binary outputs of a model ending in
    ``nn.Sigmoid`` are probabilities: they are thresholded at 0.5, with a
    warning. Other outputs that all lie in [0, 1] and so colour the whole
    plane as class 1 get a warning that forward may end in a sigmoid. The grid
    is moved to the model's device (the model is not moved), and the model's train/eval mode is restored.

    Args:
        model: a trained ``nn.Module`` taking inputs of shape ``(N, 2)``.
        X: the points, shape ``(N, 2)``; tensor or NumPy array, any device.
        y: their labels, shape ``(N,)`` or ``(N, 1)``.
        ax: where to draw; a new figure if ``None``.
        resolution: grid points along each axis.
        title: optional title for the Axes.
    """
    model = ensure_module(model)
    X_np = _to_numpy(X, "X").astype(np.float32)
    y_np = _to_numpy(y, "y").reshape(-1)
    if X_np.ndim != 2 or X_np.shape[1] != 2:
        raise ValueError(
            f"X must have shape (N, 2) to draw a 2-D boundary, got {X_np.shape}; "
            "plot_decision_boundary only works for models with two input features."
        )
    if len(y_np) != len(X_np):
        raise ValueError(f"X has {len(X_np)} points but y has {len(y_np)} labels")

    pad = 0.1 * (X_np.max(axis=0) - X_np.min(axis=0)) + 1e-3
    lo, hi = X_np.min(axis=0) - pad, X_np.max(axis=0) + pad
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = torch.from_numpy(np.c_[xx.ravel(), yy.ravel()].astype(np.float32))

    labels = predicted_labels(model, grid)

    ax = _new_ax(ax)
    n_classes = int(max(labels.max().item(), y_np.max())) + 1
    cmap = plt.get_cmap("RdYlBu", n_classes)
    ax.contourf(xx, yy, labels.reshape(xx.shape).numpy(), levels=np.arange(-0.5, n_classes),
                cmap=cmap, alpha=0.35)
    ax.scatter(X_np[:, 0], X_np[:, 1], c=y_np, cmap=cmap, vmin=-0.5, vmax=n_classes - 0.5,
               s=12, edgecolors="k", linewidths=0.3)
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), xlabel="$x_1$", ylabel="$x_2$")
    if title:
        ax.set_title(title)
    return ax


def plot_loss_curves(
    history: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    metric: bool = False,
    log_scale: bool = False,
) -> Axes:
    """Plot training (and test) curves from a history returned by ``helpers.training.fit``.

    Args:
        history: a mapping with ``"train_loss"`` and optionally ``"test_loss"``,
            ``"train_metric"``, ``"test_metric"`` and ``"epoch"``.
        ax: where to draw; a new figure if ``None``.
        metric: plot the metric curves instead of the loss curves.
        log_scale: use a logarithmic y axis (useful when the loss falls by orders of magnitude).
    """
    kind = "metric" if metric else "loss"
    keys = [k for k in (f"train_{kind}", f"test_{kind}") if k in history]
    if not keys:
        raise KeyError(
            f"history has no 'train_{kind}' entry (it has {sorted(history)}); "
            "pass the dict returned by fit(...)."
        )
    ax = _new_ax(ax)
    for key in keys:
        values = list(history[key])
        epochs = list(history.get("epoch", range(1, len(values) + 1)))
        ax.plot(epochs, values, label=key.split("_")[0])
    ax.set(xlabel="epoch", ylabel=kind)
    if log_scale:
        ax.set_yscale("log")
    ax.legend()
    return ax


def plot_regression(
    x: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray,
    y_pred: torch.Tensor | np.ndarray | None = None,
    ax: Axes | None = None,
    label: str = "model",
) -> Axes:
    """Scatter the data ``(x, y)`` and, if given, draw the predictions ``y_pred`` as a line.

    Accepts tensors (also ones that require grad or live on a GPU), NumPy arrays
    or lists, of shape ``(N,)`` or ``(N, 1)``.
    """
    x_np, y_np = _to_numpy(x, "x").reshape(-1), _to_numpy(y, "y").reshape(-1)
    if len(x_np) != len(y_np):
        raise ValueError(f"x has {len(x_np)} values but y has {len(y_np)}")
    ax = _new_ax(ax)
    ax.scatter(x_np, y_np, s=18, label="data")
    if y_pred is not None:
        p_np = _to_numpy(y_pred, "y_pred").reshape(-1)
        if len(p_np) != len(x_np):
            raise ValueError(f"y_pred has {len(p_np)} values but x has {len(x_np)}")
        order = np.argsort(x_np)
        ax.plot(x_np[order], p_np[order], color="C1", linewidth=2, label=label)
    ax.legend()
    return ax


__all__ = ["plot_decision_boundary", "plot_loss_curves", "plot_regression"]
