"""Training and evaluation loops: ``train_step``, ``test_step`` and ``fit``.

They work for regression (no metric) and classification (pass a torchmetrics
metric), on tensors ``(X, y)`` (one full batch) or on a ``DataLoader``, on any
device: batches are moved to the model's device.

Example:
    >>> import torch
    >>> from torch import nn
    >>> X = torch.linspace(0, 1, 8).unsqueeze(1)
    >>> y = 2 * X
    >>> model = nn.Linear(1, 1)
    >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    >>> history = fit(model, (X, y), nn.MSELoss(), optimizer, epochs=200, progress=False)
    >>> history["train_loss"][-1] < 1e-3
    True
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import trange

from helpers._validate import ensure_module, resolve_device

Batch = tuple[torch.Tensor, torch.Tensor]
Data = Batch | Iterable[Batch]
"""``(X, y)`` tensors, or anything that yields ``(X, y)`` batches, such as a DataLoader."""

_CLASS_INDEX_LOSSES = (nn.CrossEntropyLoss, nn.NLLLoss)
_BINARY_LOSSES = (nn.BCEWithLogitsLoss, nn.BCELoss)


def _loss_kind(loss_fn: Callable) -> str:
    if isinstance(loss_fn, _CLASS_INDEX_LOSSES) or loss_fn in (F.cross_entropy, F.nll_loss):
        return "class-index"
    if isinstance(loss_fn, _BINARY_LOSSES) or loss_fn in (
        F.binary_cross_entropy_with_logits,
        F.binary_cross_entropy,
    ):
        return "binary"
    return "other"


def _metric_input(y_pred: torch.Tensor, loss_fn: Callable) -> torch.Tensor:
    """What to give a torchmetrics metric: probabilities for a loss that takes binary logits.

    torchmetrics guesses: binary predictions that all lie in [0, 1] are read as
    probabilities, others as logits. A batch of small logits would be misread,
    so logits are turned into probabilities here.
    """
    y_pred = y_pred.detach()
    if isinstance(loss_fn, nn.BCEWithLogitsLoss) or loss_fn is F.binary_cross_entropy_with_logits:
        return torch.sigmoid(y_pred)
    return y_pred


def _batches(data: Data) -> Iterable[Batch]:
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(
        isinstance(t, torch.Tensor) for t in data
    ):
        return [tuple(data)]  # one full batch
    if isinstance(data, (tuple, list, torch.Tensor)):
        raise TypeError(
            "data must be a pair (X, y) of tensors or a DataLoader that yields (X, y) batches; "
            f"got a {type(data).__name__} of length {len(data)}."
        )
    return data


def _check_batch(X: Any, y: Any) -> None:
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(
            f"each batch must be (X, y) tensors, got ({type(X).__name__}, {type(y).__name__}); "
            "convert NumPy arrays with torch.from_numpy(...).float()."
        )
    if len(X) != len(y):
        raise ValueError(
            f"X has {len(X)} samples but y has {len(y)}: they must have the same first dimension."
        )


def _check_prediction(y_pred: torch.Tensor, y: torch.Tensor, loss_fn: Callable) -> None:
    kind = _loss_kind(loss_fn)
    if kind == "class-index":
        if y.dtype.is_floating_point and y.shape != y_pred.shape:
            raise TypeError(
                f"{type(loss_fn).__name__} needs integer class labels (dtype torch.long), "
                f"but y has dtype {y.dtype}: convert with y.long()."
            )
        if not y.dtype.is_floating_point and (y_pred.ndim != 2 or y.ndim != 1):
            raise ValueError(
                f"for {type(loss_fn).__name__} the model must output logits of shape (N, classes) "
                f"and y must be labels of shape (N,); got {tuple(y_pred.shape)} and "
                f"{tuple(y.shape)}."
            )
        return
    if y_pred.shape != y.shape:
        fix = ""
        if y_pred.shape == (*y.shape, 1):
            fix = " Squeeze the output (y_pred.squeeze(1)) or give y that shape (y.unsqueeze(1))."
        elif y.shape == (*y_pred.shape, 1):
            fix = " Squeeze the labels (y.squeeze(1)) or unsqueeze the output."
        raise ValueError(
            f"the model's output has shape {tuple(y_pred.shape)} but y has shape "
            f"{tuple(y.shape)}; they must match.{fix}"
        )
    if kind == "binary" and not y.dtype.is_floating_point:
        raise TypeError(
            f"{type(loss_fn).__name__} needs float labels (0.0 or 1.0), but y has dtype "
            f"{y.dtype}: convert with y.float()."
        )


def _run_epoch(
    model: nn.Module,
    data: Data,
    loss_fn: Callable,
    optimizer: torch.optim.Optimizer | None,
    metric: Any,
    device: str | torch.device | None,
) -> dict[str, float]:
    model = ensure_module(model)
    here = resolve_device(model, device)
    if metric is not None:
        metric = metric.to(here)
        metric.reset()
    total_loss, total_samples = 0.0, 0
    for X, y in _batches(data):
        _check_batch(X, y)
        X, y = X.to(here), y.to(here)
        y_pred = model(X)
        _check_prediction(y_pred, y, loss_fn)
        loss = loss_fn(y_pred, y)
        if optimizer is not None:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        total_loss += loss.item() * len(X)  # undo the batch mean: average over samples
        total_samples += len(X)
        if metric is not None:
            metric.update(_metric_input(y_pred, loss_fn), y)
    if total_samples == 0:
        raise ValueError("data yielded no batches: is the DataLoader or dataset empty?")
    result = {"loss": total_loss / total_samples}
    if metric is not None:
        result["metric"] = float(metric.compute())
    return result


def _check_optimizer(model: nn.Module, optimizer: Any) -> None:
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer (got {type(optimizer).__name__}), "
            "e.g. torch.optim.SGD(model.parameters(), lr=0.1)."
        )
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if not any(id(p) in held for p in model.parameters()):
        raise ValueError(
            "the optimizer does not hold any of this model's parameters, so training would not "
            "change the model: build it from this model, e.g. "
            "torch.optim.SGD(model.parameters(), lr=...)."
        )


def train_step(
    model: nn.Module,
    data: Data,
    loss_fn: Callable,
    optimizer: torch.optim.Optimizer,
    *,
    metric: Any = None,
    device: str | torch.device | None = None,
) -> dict[str, float]:
    """Train for one epoch: for each batch, forward, loss, zero_grad, backward, step.

    Args:
        model: the ``nn.Module`` to train; it is put in training mode.
        data: ``(X, y)`` tensors for one full batch, or a DataLoader of batches.
        loss_fn: e.g. ``nn.MSELoss()``, ``nn.BCEWithLogitsLoss()``, ``nn.CrossEntropyLoss()``.
        optimizer: built on ``model.parameters()``.
        metric: optional torchmetrics metric, e.g. ``Accuracy(task="binary")``.
        device: where to compute; defaults to the model's device.

    Returns:
        ``{"loss": mean loss over samples}``, plus ``"metric"`` when one is given.
    """
    model = ensure_module(model)
    _check_optimizer(model, optimizer)
    model.train()
    return _run_epoch(model, data, loss_fn, optimizer, metric, device)


def test_step(
    model: nn.Module,
    data: Data,
    loss_fn: Callable,
    *,
    metric: Any = None,
    device: str | torch.device | None = None,
) -> dict[str, float]:
    """Evaluate without training: eval mode, ``torch.inference_mode()``, no gradient.

    Same arguments as :func:`train_step`, without the optimizer. The model's
    train/eval mode is restored afterwards.

    Returns:
        ``{"loss": mean loss over samples}``, plus ``"metric"`` when one is given.
    """
    model = ensure_module(model)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            return _run_epoch(model, data, loss_fn, None, metric, device)
    finally:
        model.train(was_training)


test_step.__test__ = False  # not a pytest test, despite the name


def fit(
    model: nn.Module,
    train_data: Data,
    loss_fn: Callable,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    *,
    test_data: Data | None = None,
    metric: Any = None,
    device: str | torch.device | None = None,
    progress: bool = True,
    early_stopping: int | None = None,
) -> dict[str, list[float]]:
    """Train for ``epochs`` epochs, evaluating on ``test_data`` after each one.

    Shows a tqdm progress bar with the latest losses (``progress=False`` hides it):
    a widget in Jupyter, text elsewhere.

    ``early_stopping=patience`` stops once ``patience`` epochs in a row have not
    lowered the loss on ``test_data`` (pass validation data there), then loads
    the weights of the epoch with the lowest such loss back into the model.

    Returns:
        A history: ``{"epoch": [...], "train_loss": [...]}`` plus ``"test_loss"``
        when ``test_data`` is given, and ``"train_metric"`` / ``"test_metric"``
        when ``metric`` is given. Plot it with ``helpers.plotting.plot_loss_curves``.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if early_stopping is not None:
        if not isinstance(early_stopping, int) or isinstance(early_stopping, bool) or early_stopping < 1:
            raise ValueError(f"early_stopping is the patience, a number of epochs of at least 1, "
                             f"got {early_stopping!r}")
        if test_data is None:
            raise ValueError("early_stopping watches the loss on held-out data: pass validation "
                             "data as test_data=(X_val, y_val).")
    best_loss, best_state, waited = float("inf"), None, 0
    history: dict[str, list[float]] = {"epoch": [], "train_loss": []}
    bar = trange(1, epochs + 1, desc="epochs", disable=not progress, leave=True)
    for epoch in bar:
        results = {"train": train_step(model, train_data, loss_fn, optimizer,
                                       metric=metric, device=device)}
        if test_data is not None:
            results["test"] = test_step(model, test_data, loss_fn, metric=metric, device=device)
        history["epoch"].append(epoch)
        for split, values in results.items():
            for key, value in values.items():
                history.setdefault(f"{split}_{key}", []).append(value)
        latest = {k: f"{v[-1]:.4f}" for k, v in history.items() if k != "epoch"}
        bar.set_postfix(latest, refresh=False)  # redrawn at tqdm's own pace, not every epoch
        if early_stopping is not None:
            if history["test_loss"][-1] < best_loss:
                best_loss, waited = history["test_loss"][-1], 0
                best_state = copy.deepcopy(model.state_dict())  # a copy: training changes the live one
            else:
                waited += 1
                if waited == early_stopping:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history
