"""Checks for exercises/04_binary_classification_exercises.ipynb.

Every check tries cheap things first (types, shapes, a few small inputs) and
trains only once those pass. The checks that train seed themselves inside
:func:`seeded` (the learner's random state is left as it was) and run on one
CPU thread. Expectations are computed from the check's own inputs, in float64
where precision matters, so float32 and float64 answers both pass when right.
"""

from __future__ import annotations

import contextlib
import copy
import math
import random
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils._python_dispatch import TorchDispatchMode

from helpers.checks.core import (
    Incorrect,
    as_number,
    call,
    close,
    describe,
    exercise,
    expect,
    expect_module,
    expect_tensor,
    seeded,
)


def _show(t: torch.Tensor) -> str:
    """A small tensor's values, rounded, for a hint (its shape if it is large)."""
    if t.numel() <= 8:
        return str([round(v, 4) for v in t.reshape(-1).tolist()])
    return f"a tensor of shape {tuple(t.shape)}"


def _labels(out: torch.Tensor, n: int, shown: str) -> torch.Tensor:
    """Check that ``out`` is n float labels 0.0 / 1.0 (shape (n,)); return it."""
    out = expect_tensor(out, shown)
    if tuple(out.shape) == (n, 1):
        raise Incorrect(f"{shown} returned shape ({n}, 1); labels have shape ({n},): remove the column "
                        "with .squeeze(1).")
    expect(tuple(out.shape) == (n,), f"{shown} returned shape {tuple(out.shape)}; expected ({n},), one "
           "label per point.")
    expect(out.dtype.is_floating_point, f"{shown} returned dtype {out.dtype}; return float labels "
           "(0.0 and 1.0), like the y that BCEWithLogitsLoss needs: add .float().")
    if not bool(((out == 0) | (out == 1)).all()):
        raise Incorrect(f"{shown} returned values other than 0 and 1 ({describe(out)}): labels, not "
                        "probabilities or logits.")
    return out


# Each check adds one case drawn afresh on every run after its fixed ones: the fixed cases (and their expected
# values, which a hint may show) can be read and looked up, a fresh one cannot. Drawn with their own generator,
# so the learner's random state is left alone.
_DRAW = random.SystemRandom()


# --------------------------------------------------------------------------- q1
def _fresh_threshold_case() -> tuple[torch.Tensor, float]:
    threshold = round(_DRAW.uniform(0.2, 0.99), 3)
    cut = math.log(threshold / (1 - threshold))
    # no logit within 1e-2 of the cut, so the rounding of a float32 sigmoid cannot change a label; one
    # logit on each side of it, so that labels all 0.0 (or all 1.0) are never right
    logits = [v if abs(v - cut) > 1e-2 else v + 0.5 for v in (round(_DRAW.uniform(-6, 6), 2) for _ in range(4))]
    logits += [round(cut + _DRAW.uniform(0.1, 2), 2), round(cut - _DRAW.uniform(0.1, 2), 2)]
    _DRAW.shuffle(logits)
    return torch.tensor(logits).unsqueeze(1), threshold


_THRESHOLD_CASES = [
    # (logits (N, 1), threshold): no logit sits within 1e-3 of the threshold's logit, so the rounding of
    # a float32 sigmoid cannot change a label.
    (torch.tensor([[3.0], [2.0], [0.5], [-0.5], [2.5]]), 0.9),
    (torch.tensor([[-1.0], [-2.0], [0.1], [-3.0]]), 0.2),
    (torch.tensor([[0.3], [-0.3], [4.0], [-4.0]]), 0.5),
    (torch.tensor([[100.0], [-100.0], [5.0], [4.0], [-0.7]]), 0.99),
    # an exact tie: sigmoid(0) is exactly 0.5 in every float dtype, and "at least" includes it
    (torch.tensor([[0.0], [-2.0], [0.0], [1.5]]), 0.5),
]


@exercise(
    "The threshold is a probability: turn the logits into probabilities first (torch.sigmoid), "
    "compare with the threshold, then make float labels of shape (N,).",
    "(probabilities >= threshold) gives a bool tensor; .float() makes 0.0 / 1.0, .squeeze(1) drops the "
    "column. Use the threshold you are given, not 0.5.",
)
def q1(labels_at_threshold: Any) -> None:
    """labels_at_threshold(logits, threshold): 1.0 where sigmoid(logit) >= threshold, else 0.0."""
    observed = {"logits vs threshold": True, "threshold 0.5": True, "strictly above": True}
    failure = None
    for logits, threshold in [*_THRESHOLD_CASES, _fresh_threshold_case()]:
        n = len(logits)
        shown = f"labels_at_threshold(logits={_show(logits)} (shape ({n}, 1)), threshold={threshold})"
        out = _labels(call(labels_at_threshold, logits, threshold), n, shown)
        z = logits.squeeze(1).double()
        expected = (torch.sigmoid(z) >= threshold).to(out.dtype)
        observed["logits vs threshold"] &= torch.equal(out, (z >= threshold).to(out.dtype))
        observed["threshold 0.5"] &= (torch.equal(out, (z >= 0).to(out.dtype))
                                      or torch.equal(out, (z > 0).to(out.dtype)))
        observed["strictly above"] &= torch.equal(out, (torch.sigmoid(z) > threshold).to(out.dtype))
        if failure is None and not torch.equal(out, expected):
            failure = f"{shown} returned {out.tolist()}, expected {expected.tolist()}."
    if failure is None:
        return
    if observed["strictly above"]:
        raise Incorrect("your labels are 1.0 only where the probability is strictly above the threshold: at a "
                        "logit of 0 with threshold 0.5 (sigmoid(0) is exactly 0.5) the label must be 1.0, since "
                        "the filter says 1 when the probability is at least the threshold (>=, not >).")
    if observed["threshold 0.5"]:
        raise Incorrect("on every input your labels are those of threshold 0.5 (logit > 0), whatever "
                        "threshold was passed: use the threshold argument.")
    if observed["logits vs threshold"]:
        raise Incorrect("on every input your labels are the logits compared with the threshold; the "
                        "threshold is a probability, so compare probabilities with it.")
    raise Incorrect(failure)


# --------------------------------------------------------------------------- q2
def _fresh_class_case() -> tuple[list[int], list[int]]:
    """Ten true labels and predictions, each list holding both classes."""
    while True:
        y_true, y_pred = ([_DRAW.randint(0, 1) for _ in range(10)] for _ in range(2))
        if len(set(y_true)) == 2 and len(set(y_pred)) == 2:
            return y_true, y_pred


_CLASS_CASES = [
    # (y_true, y_pred): imbalanced, so overall accuracy differs from each class's
    ([0, 0, 0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0, 0, 1]),
    ([1, 0, 1, 1, 1, 0, 1, 1, 1, 1], [1, 1, 1, 0, 1, 1, 1, 1, 1, 0]),
    ([0, 1, 0, 0, 1], [1, 1, 1, 0, 1]),
]


@exercise(
    "Pick the points of one class with a boolean mask, e.g. mask = y_true == 0, then compute the accuracy "
    "of y_pred[mask] against y_true[mask]. Do the same for class 1.",
    "Divide by the number of points in that class (mask.sum()), not by all points; return "
    "(accuracy of class 0, accuracy of class 1) in that order, as numbers between 0 and 1.",
)
def q2(accuracy_per_class: Any) -> None:
    """accuracy_per_class(y_true, y_pred) -> (accuracy among true 0s, accuracy among true 1s)."""
    # every case holds both classes among the true labels and among the predictions, so each of the
    # alternatives below is defined; a cause is named only when it explains every case
    observed = {"by predicted label": True, "percentages": True}
    failure = None
    fresh = _fresh_class_case()  # the same for both dtypes
    for dtype in (torch.float32, torch.long):
        for true_list, pred_list in [*_CLASS_CASES, fresh]:
            y_true, y_pred = torch.tensor(true_list, dtype=dtype), torch.tensor(pred_list, dtype=dtype)
            shown = f"accuracy_per_class({true_list}, {pred_list}) with dtype {dtype}"
            result = call(accuracy_per_class, y_true, y_pred)
            if isinstance(result, (np.ndarray, torch.Tensor)) and tuple(result.shape) == (2,):
                result = list(result)  # two numbers in an array are a pair too
            expect(isinstance(result, (tuple, list)) and len(result) == 2, f"{shown} returned "
                   f"{describe(result)}; return a pair of two numbers (accuracy of class 0, accuracy of "
                   "class 1), e.g. a tuple.")
            got = [as_number(v, f"a value that {shown} returned") for v in result]
            n = len(true_list)
            right = [sum(t == p == c for t, p in zip(true_list, pred_list, strict=True)) for c in (0, 1)]
            size = [true_list.count(c) for c in (0, 1)]
            expected = [right[c] / size[c] for c in (0, 1)]
            by_prediction = [right[c] / pred_list.count(c) for c in (0, 1)]
            observed["by predicted label"] &= all(close(g, e) for g, e in zip(got, by_prediction, strict=True))
            observed["percentages"] &= all(close(g, 100 * e) for g, e in zip(got, expected, strict=True))
            overall = sum(t == p for t, p in zip(true_list, pred_list, strict=True)) / n
            if failure is not None or all(close(g, e) for g, e in zip(got, expected, strict=True)):
                continue
            if all(close(g, e) for g, e in zip(got, expected[::-1], strict=True)):
                failure = (f"{shown} returned {got}: the two values are swapped. Return class 0's accuracy "
                           "first.")
            elif all(close(g, overall) for g in got):
                failure = (f"{shown} returned the overall accuracy ({overall:g}) twice; each value should "
                           "count only the points whose true label is that class.")
            elif all(close(g, r / n) for g, r in zip(got, right, strict=True)):
                failure = (f"{shown} returned {got}: each class's correct points divided by all {n} points. "
                           "Divide by the number of points in that class.")
            else:
                failure = (f"{shown} returned {[round(g, 4) for g in got]}, expected "
                           f"{[round(e, 4) for e in expected]}.")
    if failure is None:
        return
    if observed["percentages"]:
        raise Incorrect("on every input your values are 100 times the right ones: percentages. Return fractions "
                        "between 0 and 1.")
    if observed["by predicted label"]:
        raise Incorrect("on every input your values are the fraction right among the points *predicted* 0 and "
                        "among those predicted 1. Mask by the true label instead: the points whose y_true is "
                        "0, then those whose y_true is 1.")
    raise Incorrect(failure)


# --------------------------------------------------------------------------- q3
def _refuse(name: str):
    def refuse(*_: Any, **__: Any) -> None:
        raise RuntimeError(f"{name} is disabled in this exercise: compute the loss by hand")
    return refuse


_SHORTCUTS = ("binary_cross_entropy_with_logits", "binary_cross_entropy", "softplus", "logsigmoid")
# The operators behind them, as PyTorch's dispatcher names them. Refusing them there catches every route to
# them: F.softplus, `from torch.nn.functional import softplus` (a name bound before the check patched F),
# torch._C._nn.softplus, torch.ops.aten.softplus(.default), nn.Softplus, nn.BCEWithLogitsLoss, ...
_ATEN_SHORTCUTS = frozenset({"binary_cross_entropy_with_logits", "binary_cross_entropy", "softplus",
                             "log_sigmoid", "log_sigmoid_forward"})


class _RefuseShortcuts(TorchDispatchMode):
    """Raise on any dispatch of a ready-made binary cross-entropy, softplus or log-sigmoid operator."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Otherwise PyTorch wraps __torch_dispatch__ to keep its compiler out, and that imports the compiler
        # (seconds of computing time) on the first use: nothing here is compiled.
        return False

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        name = func.overloadpacket.__name__
        if name in _ATEN_SHORTCUTS:
            _refuse(f"torch.ops.aten.{name}")()
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def _no_bce_shortcuts() -> Iterator[None]:
    """Disable PyTorch's ready-made binary cross-entropy (and softplus / logsigmoid) while the answer runs."""
    with contextlib.ExitStack() as stack:
        for name in _SHORTCUTS:  # the usual names first, so that the error names what the answer called
            stack.enter_context(mock.patch.object(F, name, _refuse(f"F.{name}")))
        stack.enter_context(mock.patch.object(torch, "binary_cross_entropy_with_logits",
                                              _refuse("torch.binary_cross_entropy_with_logits")))
        stack.enter_context(_RefuseShortcuts())
        yield


def _softplus64(z: torch.Tensor) -> torch.Tensor:
    """log(1 + e^z) in float64, never raising e to a positive number."""
    return z.clamp(min=0) + torch.log1p(torch.exp(-z.abs()))


def _weighted_parts(z: torch.Tensor, y: torch.Tensor, w: float) -> dict[str, torch.Tensor]:
    """The exact per-point loss and the typical wrong ones, all in float64.

    -log sigmoid(z) = softplus(-z) and -log(1 - sigmoid(z)) = softplus(z).
    """
    z, y = z.double(), y.double()
    pos, neg = _softplus64(-z), _softplus64(z)
    plain = y * pos + (1 - y) * neg
    return {
        "exact": w * y * pos + (1 - y) * neg,
        "unweighted": plain,
        "weight on label 0": y * pos + w * (1 - y) * neg,
        "weight on everything": w * plain,
        "hard-label weight": (1 + (w - 1) * y) * plain,
    }


# (logits, labels, pos_weight, dtype): small logits and hard labels first, then soft labels, then logits so
# large that e^|z| overflows (float32 from |z| > 88, float64 from |z| > 709) and sigmoid rounds to 0 or 1.
_WEIGHTED_CASES = [
    ([-2.0, -0.5, 0.5, 3.0, 1.5, -1.0], [0.0, 1.0, 1.0, 1.0, 0.0, 0.0], 3.0, torch.float32),
    ([0.1, -1.5, 2.5, 0.0, -0.75], [0.9, 0.25, 0.0, 0.5, 1.0], 0.5, torch.float32),
    ([17.0, -30.0, 100.0, -100.0, 1e4, -1e4, 1e4, -1e4], [0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.25, 0.75],
     2.0, torch.float32),
    ([40.0, -40.0, 800.0, -800.0, 1e4, -1e4, 5.0, -5.0], [0.0, 1.0, 0.5, 1.0, 0.1, 0.9, 1.0, 0.0],
     4.0, torch.float64),
]
_ROUNDING_UNITS = 32  # a few roundings per operation, each at most eps relative to the largest term


def _tolerance(z: torch.Tensor, w: float, dtype: torch.dtype) -> torch.Tensor:
    """Per point: how far an answer computed in ``dtype`` may be from the exact loss.

    Every stable form adds or subtracts terms no larger than (1 + pos_weight) * (1 + |z|); each operation
    rounds to a relative eps of the dtype, so a few dozen eps of that size bound the total error.
    """
    return _ROUNDING_UNITS * torch.finfo(dtype).eps * (1 + w) * (1 + z.double().abs())


def _fresh_weighted_case() -> tuple[list[float], list[float], float, torch.dtype]:
    """Small and very large logits, soft labels, a weight, in float32 or float64."""
    logits = [round(_DRAW.uniform(-5, 5), 3) for _ in range(4)]
    logits += [round(_DRAW.choice((-1, 1)) * _DRAW.uniform(20, 1e4), 1) for _ in range(4)]
    labels = [round(_DRAW.random(), 3) for _ in logits]
    return logits, labels, round(_DRAW.uniform(0.2, 5), 2), _DRAW.choice((torch.float32, torch.float64))


def _point(z: torch.Tensor, y: torch.Tensor, i: int) -> str:
    return f"z={z[i].item():g}, y={y[i].item():g}"


@exercise(
    "Split the loss into its two parts: -log(sigmoid(z)) for the label-1 part (the one pos_weight "
    "multiplies) and -log(1 - sigmoid(z)) for the label-0 part. Rewrite each so that e is only raised "
    "to numbers <= 0: lesson 04's Going further A shows how for the sum of the two.",
    "-log(sigmoid(z)) = log(1 + e^(-z)) and -log(1 - sigmoid(z)) = log(1 + e^z); and log(1 + e^x) = "
    "max(x, 0) + log(1 + e^(-|x|)). max(x, 0) elementwise is torch.relu(x) (or x.clamp(min=0)); with .abs(), "
    "torch.exp and torch.log1p that is all you need.",
)
def q3(weighted_bce: Any) -> None:
    """weighted_bce(logits, labels, pos_weight): per-point weighted BCE from logits, stable, by hand."""
    for values, targets, w, dtype in [*_WEIGHTED_CASES, _fresh_weighted_case()]:
        logits, labels = torch.tensor(values, dtype=dtype), torch.tensor(targets, dtype=dtype)
        n = len(values)
        shown = (f"weighted_bce(logits={_show(logits)}, labels={_show(labels)}, pos_weight={w}) "
                 f"with dtype {dtype}")
        try:
            with _no_bce_shortcuts():
                result = call(weighted_bce, logits, labels, w)
        except Incorrect as error:
            if "disabled in this exercise" in str(error):
                raise Incorrect(f"{shown} called one of PyTorch's ready-made losses, which this check "
                                "disables (binary_cross_entropy(_with_logits), softplus, logsigmoid, and "
                                "so nn.BCELoss / nn.BCEWithLogitsLoss): write the loss with torch.exp, "
                                "torch.log1p and friends.") from error
            raise
        out = expect_tensor(result, f"what {shown} returned", floating=True)
        if out.numel() == 1 and n > 1:
            raise Incorrect(f"{shown} returned one number ({describe(out)}); return one loss per point, "
                            f"a tensor of shape ({n},), not their mean or sum.")
        expect(tuple(out.shape) == (n,), f"{shown} returned shape {tuple(out.shape)}; expected ({n},), "
               "one loss per point.")
        got = out.detach().cpu().double()
        parts = _weighted_parts(logits, labels, w)
        exact = parts["exact"]
        bad = ~torch.isfinite(got)
        if bool(bad.any()):
            i = int(bad.nonzero()[0])
            raise Incorrect(f"{shown} gave {got[i].item()} for the point {_point(logits, labels, i)}, whose "
                            f"exact loss is {exact[i].item():.6g}. inf or nan comes from e raised to a large "
                            "number or from the log of a probability rounded to exactly 0 or 1: use a form "
                            "where e is only raised to numbers <= 0.")
        tol = _tolerance(logits, w, dtype)
        wrong = (got - exact).abs() > tol
        if not bool(wrong.any()):
            continue
        for name, hint in [
            ("unweighted", "your losses equal the plain binary cross-entropy (pos_weight = 1) on every point: "
                           "use the pos_weight argument."),
            ("weight on label 0", "your losses match pos_weight multiplying the label-0 part, "
                                  "-(1 - y) log(1 - p); it multiplies the label-1 part, -y log p."),
            ("weight on everything", "your losses are pos_weight times the plain binary cross-entropy; "
                                     "pos_weight multiplies only the label-1 part, -y log p."),
            ("hard-label weight", "your losses are (1 + (pos_weight - 1) y) times the plain binary "
                                  "cross-entropy: right for labels 0 and 1, wrong for labels in between. "
                                  "pos_weight multiplies only the -y log p part."),
        ]:
            if w != 1 and bool(((got - parts[name]).abs() <= tol).all()):
                raise Incorrect(f"{shown}: {hint}")
        i = int(wrong.nonzero()[0])
        if dtype == torch.float64 and bool(((got - exact).abs() <= _tolerance(logits, w, torch.float32)).all()):
            raise Incorrect(f"{shown}: your losses are only as accurate as float32 arithmetic (at "
                            f"{_point(logits, labels, i)}: {got[i].item():.17g}, exact {exact[i].item():.17g}). "
                            "For float64 inputs compute in float64.")
        raise Incorrect(f"{shown}: at the point {_point(logits, labels, i)} your loss is {got[i].item():.8g}, "
                        f"the exact one is {exact[i].item():.8g} (the check allows "
                        f"{tol[i].item():.2g} there).")


# --------------------------------------------------------------------------- q4
def _moon_like(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    with seeded(seed):
        X = torch.randn(n, 2)
        y = (X[:, 0] * X[:, 1] > 0).float()
    return X, y


def _same(params: list[torch.Tensor], other: list[torch.Tensor]) -> bool:
    # float32: the chunks add up the same gradient in another order, so the last digits may differ
    # (in float64: an answer may have trained the model in float64 and left it so)
    return all(torch.allclose(p.detach().double(), o.double(), atol=1e-5, rtol=1e-4)
               for p, o in zip(params, other, strict=True))


_CHUNK_POINTS = 40
_CHUNK_EPOCHS = 3
_CHUNK_RUNS = [(16, 0.5), (7, 0.05)]  # chunks of 16, 16, 8 and of 7 (five times) and 5: never all equal


def _chunk_model(start: list[torch.Tensor] | None = None) -> nn.Module:
    with seeded(40):
        model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    if start is not None:
        with torch.no_grad():
            for p, s in zip(model.parameters(), start, strict=True):
                p.copy_(s)
    return model


def _chunk_reference(start: list[torch.Tensor], X: torch.Tensor, y: torch.Tensor, lr: float, chunk_size: int,
                     mode: str = "full batch") -> tuple[dict[str, list[float]], list[torch.Tensor]]:
    """Train a twin of the model from ``start`` the way ``mode`` says; the losses seen and the final parameters.

    "full batch" is what the exercise asks for. The others are the typical ways to get it wrong:
    "last chunk" (gradients cleared before every chunk; "last chunk, weighted" with the chunk's loss
    scaled), "sum of means" (each chunk's mean loss counts fully), "mean of means" (each chunk counts
    equally, whatever its size), "chunk_size share" (each chunk weighted by chunk_size / N, the smaller last
    one too), "last chunk left out" (the loop stops one chunk early), "never cleared" (gradients carried
    over from one epoch to the next) and "step per chunk" (mini-batch SGD).
    """
    model = _chunk_model(start)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    n = len(X)
    chunks = [(X[s:s + chunk_size], y[s:s + chunk_size]) for s in range(0, n, chunk_size)]
    seen: dict[str, list[float]] = {"mean": [], "sum of means": [], "mean of means": []}
    for _ in range(_CHUNK_EPOCHS):
        with torch.no_grad():
            means = [loss_fn(model(Xc).squeeze(1), yc).item() for Xc, yc in chunks]
            seen["mean"].append(loss_fn(model(X).squeeze(1), y).item())
        seen["sum of means"].append(sum(means))
        seen["mean of means"].append(sum(means) / len(means))
        if mode == "full batch":
            optimizer.zero_grad()
            loss_fn(model(X).squeeze(1), y).backward()
        elif mode == "step per chunk":
            for Xc, yc in chunks:
                optimizer.zero_grad()
                loss_fn(model(Xc).squeeze(1), yc).backward()
                optimizer.step()
            continue
        else:
            if mode != "never cleared":
                optimizer.zero_grad()
            for k, (Xc, yc) in enumerate(chunks):
                if mode == "last chunk left out" and k == len(chunks) - 1:
                    break
                if mode.startswith("last chunk, ") or mode == "last chunk":
                    optimizer.zero_grad()
                share = {"sum of means": 1.0, "last chunk": 1.0, "mean of means": 1 / len(chunks),
                         "chunk_size share": chunk_size / n}.get(mode, len(Xc) / n)
                (loss_fn(model(Xc).squeeze(1), yc) * share).backward()
        optimizer.step()
    return seen, [p.detach().clone() for p in model.parameters()]


_LAST_CHUNK = ("only the last chunk's gradient was used: something clears the earlier chunks' gradients before "
               "the step. backward() adds to .grad, so clear it once per epoch, before the chunks.")
_CHUNK_MISTAKES = {
    "last chunk": _LAST_CHUNK,
    "last chunk, weighted": _LAST_CHUNK,
    "sum of means": "the gradient was that of the chunks' mean losses added up, so the step is about as many "
                    "times too large as there are chunks. Each chunk's loss must count in proportion to its "
                    "number of points, so that together they make the mean over all points.",
    "mean of means": "every chunk's mean loss counted equally; the last chunk is smaller than the others, so its "
                     "points weighed more. Each chunk's loss must count in proportion to its number of points.",
    "chunk_size share": "every chunk's loss was weighted by chunk_size / len(X), the last one too, which holds "
                        "fewer points: weigh each chunk by the number of points it actually holds.",
    "last chunk left out": "the points of the last chunk never counted: the loop over the chunks stopped before "
                           "it (the last chunk may be smaller than the others).",
    "never cleared": "the gradients were never cleared between epochs, so each step also used all earlier "
                     "epochs' gradients.",
    "step per chunk": "one optimizer step was taken per chunk (mini-batch training); here one step per epoch "
                      "must use the gradient of all the chunks together.",
}


@exercise(
    "Run the demonstration: with one chunk of all the points the broken function is plain full-batch "
    "training, so both lines should agree, and they do not. Then follow what happens to .grad during one "
    "epoch: when is it cleared, and how much does each chunk add to it?",
    "Keep one backward() per chunk, right after the chunk's forward pass (so its graph is freed). "
    "Three bugs: zero_grad runs before every chunk (it should run once per epoch); each chunk's mean loss "
    "must be multiplied by len(X_chunk) / len(X) before backward, so the chunks add up to the mean over all "
    "points; and the recorded loss must be that same weighted sum, not the sum of the chunks' means.",
)
def q4(train_in_chunks: Any) -> None:
    """train_in_chunks(model, X, y, epochs, lr, chunk_size): full-batch SGD, the model seeing chunks only."""
    X, y = _moon_like(_CHUNK_POINTS, 4)
    for chunk_size, lr in _CHUNK_RUNS:
        model = _chunk_model()
        start = [p.detach().clone() for p in model.parameters()]
        sizes: list[int] = []
        backwards: list[int] = []  # one entry per backward pass that reaches the first layer's weight
        # on the first layer, which every forward pass goes through: model(x) and model.forward(x) alike
        hook = model[0].register_forward_pre_hook(
            lambda _, inputs, seen=sizes: seen.append(len(inputs[0]) if inputs else 0))
        grad_hook = next(model.parameters()).register_hook(lambda grad, seen=backwards: seen.append(1))
        shown = (f"train_in_chunks(model, X of shape ({_CHUNK_POINTS}, 2), y, epochs={_CHUNK_EPOCHS}, lr={lr}, "
                 f"chunk_size={chunk_size})")
        try:
            with seeded(41):
                losses = call(train_in_chunks, model, X, y, _CHUNK_EPOCHS, lr, chunk_size)
        finally:
            hook.remove()
            grad_hook.remove()
        after = [p.detach().clone() for p in model.parameters()]
        expect(sizes, f"{shown} never ran the model: the check saw no forward pass through its first layer. "
               "Call model(X_chunk) on each chunk.")
        expect(max(sizes) <= chunk_size, f"{shown} called the model on {max(sizes)} points at once; the model "
               f"may see at most chunk_size = {chunk_size} points per call (that is the point of chunks).")
        seen, right = _chunk_reference(start, X, y, lr, chunk_size)
        if _same(after, start):
            raise Incorrect(f"{shown}: the parameters did not change at all.")
        if not _same(after, right):
            for mode, hint in _CHUNK_MISTAKES.items():
                if _same(after, _chunk_reference(start, X, y, lr, chunk_size, mode)[1]):
                    raise Incorrect(f"{shown}: your model trained exactly as if {hint}")
            raise Incorrect(f"{shown}: after training, the parameters differ from {_CHUNK_EPOCHS} steps of "
                            f"full-batch gradient descent at lr={lr} with BCEWithLogitsLoss on the logits "
                            "(by more than float32 rounding: 1e-5 + 1e-4 x value).")
        n_chunks = -(-_CHUNK_POINTS // chunk_size)
        expect(len(backwards) == _CHUNK_EPOCHS * n_chunks, f"{shown} trained correctly, but with "
               f"{len(backwards)} backward pass(es) through the model in {_CHUNK_EPOCHS} epochs; with "
               f"{n_chunks} chunks per epoch there must be {n_chunks} per epoch, {_CHUNK_EPOCHS * n_chunks} in "
               "all: call backward() on each chunk's loss right after that chunk's forward pass. One "
               "backward() over all the chunks' outputs keeps every chunk's graph in memory at once, which "
               "is what the chunks are meant to avoid.")
        expect(isinstance(losses, (list, tuple)) and len(losses) == _CHUNK_EPOCHS, f"{shown} trained "
               f"correctly but returned {describe(losses)}; return the list of the {_CHUNK_EPOCHS} losses, one "
               "per epoch.")
        got = [as_number(v, "each loss train_in_chunks returned") for v in losses]

        def matches(values: list[float], got: list[float] = got) -> bool:
            return all(close(g, v, 1e-4) for g, v in zip(got, values, strict=True))

        if matches(seen["mean"]):
            continue
        for name, what in [("sum of means", "the sum of the chunks' mean losses"),
                           ("mean of means", "the plain average of the chunks' mean losses")]:
            if matches(seen[name]):
                raise Incorrect(f"{shown} trained correctly but returned {what} as each epoch's loss; "
                                "return the mean loss over all the points (each chunk counting in proportion "
                                "to its size).")
        raise Incorrect(f"{shown} trained correctly but returned the losses {[round(g, 4) for g in got]}, "
                        f"expected {[round(r, 4) for r in seen['mean']]}: each epoch's mean loss over all "
                        "points, before its step.")


# --------------------------------------------------------------------------- q5
_STACKS = [
    (3, [4, 2]),
    (2, [5, 5, 5, 1]),
    (4, [3]),
    (2, [6, 1]),
]


@exercise(
    "Start with W = the first layer's weight and b = its bias. Each further layer with weight W_k and "
    "bias b_k turns x @ W.T + b into (x @ W.T + b) @ W_k.T + b_k: work out the new W and b from that.",
    "Loop over the layers in order: W = layer.weight @ W and b = layer.weight @ b + layer.bias. Do it "
    "under torch.no_grad() (or detach) so that no graph is recorded.",
)
def q5(collapse: Any) -> None:
    """collapse(model): (W, b) with model(x) == x @ W.T + b, for an nn.Sequential of nn.Linear layers."""
    for seed, (n_in, sizes) in enumerate(_STACKS):
        with seeded(50 + seed):
            dims = [n_in, *sizes]
            model = nn.Sequential(*[nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:], strict=True)])
            x = torch.randn(20, n_in)
        before = {k: v.clone() for k, v in model.state_dict().items()}
        with torch.no_grad():  # before the answer runs: whatever it does to the model cannot move the target
            wanted = copy.deepcopy(model).double()(x.double())
        shown = f"collapse on a stack of {len(sizes)} linear layer(s), {' -> '.join(map(str, dims))}"
        try:
            result = call(collapse, model)
        except Incorrect as error:  # say which stack: a fixed number of layers fails on the others
            raise Incorrect(f"{shown}: {error}") from error
        after = model.state_dict()
        expect(after.keys() == before.keys() and all(torch.equal(v, after[k]) for k, v in before.items()),
               f"{shown} changed the model (its parameters or its layers); leave the model as it was.")
        expect(isinstance(result, (tuple, list)) and len(result) == 2, f"{shown} returned "
               f"{describe(result)}; return a pair (W, b).")
        W = expect_tensor(result[0], f"W from {shown}", floating=True)
        b = expect_tensor(result[1], f"b from {shown}", floating=True)
        expect(tuple(W.shape) == (dims[-1], n_in), f"W from {shown} has shape {tuple(W.shape)}; expected "
               f"({dims[-1]}, {n_in}) (outputs, inputs), like an nn.Linear weight.")
        expect(tuple(b.shape) == (dims[-1],), f"b from {shown} has shape {tuple(b.shape)}; expected "
               f"({dims[-1]},).")
        with torch.no_grad():
            got = x.double() @ W.detach().double().T + b.detach().double()
        # float32 products of a few layers of size <= 6: errors near 1e-6 on outputs of size ~1
        expect(torch.allclose(got, wanted, atol=1e-4, rtol=1e-4), f"with your W and b, x @ W.T + b "
               f"differs from the model's output for {shown} (largest difference "
               f"{(got - wanted).abs().max().item():.3g}).")


# --------------------------------------------------------------------------- q6
_E2E_THRESHOLD = 0.95
_E2E_SECONDS = 10.0


def sensor_readings(X: torch.Tensor) -> torch.Tensor:
    """make_circles points as two sensors read them: kelvin 300 + 20 x1, volts 0.01 x2."""
    return torch.stack([300 + 20 * X[:, 0], 0.01 * X[:, 1]], dim=1)


def _readings(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n sensor readings of circles made as the exercise makes them, and their float labels."""
    from sklearn.datasets import make_circles  # imported here: only this check needs scikit-learn

    X_np, y_np = make_circles(n_samples=n, noise=0.05, factor=0.5, random_state=seed)
    return sensor_readings(torch.from_numpy(X_np).float()), torch.from_numpy(y_np).float()


def _training_readings() -> tuple[torch.Tensor, torch.Tensor]:
    """The 400 readings the answer trains on: always the same, so that its training is reproducible."""
    return _readings(400, 2024)


def _held_back_readings() -> tuple[torch.Tensor, torch.Tensor]:
    """200 fresh readings to test on, drawn only after training, from a seed nothing before can know.

    Fixed test readings could be read from this module and trained on (or looked up); fresh ones cannot.
    Well-trained models score 1.0 on every draw (measured on 200 draws), so a right answer never fails by luck.
    """
    return _readings(200, random.SystemRandom().randrange(2**32))


_DEVICE_HINT = (" The check gives the model CPU tensors, as the exercise does: return a model that works on "
                "the CPU (if you trained on a GPU, move the model back with model.cpu(), and any tensor it keeps, "
                "such as a mean, with .cpu() too).")


def _on_cpu(error: Incorrect) -> Incorrect:
    """The same verdict, with the device hint added when the error is about devices."""
    text = str(error)
    if "device" in text and ("cuda" in text or "mps" in text or "meta" in text or "same device" in text):
        return Incorrect(text + _DEVICE_HINT)
    return error


def _logits(model: Any, X: torch.Tensor, what: str) -> torch.Tensor:
    """The model's logits for readings ``X`` as a CPU tensor of shape (len(X),)."""
    try:
        out = expect_tensor(call(model, X), what, floating=True)
    except Incorrect as error:
        raise _on_cpu(error) from error
    if out.device.type != "cpu":
        raise Incorrect(f"{what} is on the device {out.device}." + _DEVICE_HINT)
    if tuple(out.shape) not in {(len(X), 1), (len(X),)} and not (len(X) == 1 and out.numel() == 1):
        raise Incorrect(f"for {len(X)} points the model returned shape {tuple(out.shape)}; a binary "
                        f"classifier returns one logit per point, ({len(X)}, 1) or ({len(X)},).")
    return out.reshape(-1)


def _accuracy(model: Any, X: torch.Tensor, y: torch.Tensor, what: str) -> float:
    return float(((_logits(model, X, what) > 0).float() == y).float().mean())


# Parts of the 200 held-back readings the model also gets on their own: single readings and small slices.
_PARTS = [slice(0, 1), slice(57, 58), slice(199, 200), slice(10, 13), slice(100, 102), slice(150, 155)]


def _same_logits(part: torch.Tensor, whole: torch.Tensor) -> bool:
    """Equal up to float32 rounding: a layer may sum in another order for another number of rows."""
    agree = (part == whole) | (part.isnan() & whole.isnan())  # the same inf or nan is the same output too
    return bool((agree | ((part - whole).abs() <= 1e-3 + 1e-3 * whole.abs())).all())


def _warm_up_optimizers() -> None:
    """Create one optimizer before the clock starts.

    The first torch.optim optimizer of a Python process imports part of PyTorch's compiler (seconds of
    computing time); that is not the answer's training, so the time limit should not count it.
    """
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.0)


@exercise(
    "The two columns differ in size by a factor of about 30,000: standardise each column with the mean and "
    "standard deviation of the training readings (lesson 03), then train a small ReLU network with "
    "BCEWithLogitsLoss, as in lesson 04.",
    "The model you return gets raw readings, so it must standardise them itself: write an nn.Module whose "
    "__init__ keeps the training mean and std (and the network) and whose forward returns "
    "network((x - mean) / std).",
)
def q6(train_classifier: Any) -> None:
    """train_classifier(X_train, y_train) -> trained model of raw readings; judged on readings held back."""
    X_train, y_train = _training_readings()
    _warm_up_optimizers()
    with seeded(6):
        start = time.process_time()  # computing time: other programs on the machine do not count
        try:
            model = call(train_classifier, X_train, y_train)
        except Incorrect as error:
            raise _on_cpu(error) from error
        seconds = time.process_time() - start
    model = expect_module(model, "what train_classifier returned")
    expect(seconds <= _E2E_SECONDS, f"train_classifier took {seconds:.1f} s of computing time on 400 points; the "
           f"limit is {_E2E_SECONDS:.0f} s. Train for fewer epochs or with a larger learning rate.")
    model.eval()
    X_test, y_test = _held_back_readings()
    with torch.inference_mode():
        out = _logits(model, X_test, "the model's output on the 200 held-back readings")
        for part in _PARTS:
            alone = _logits(model, X_test[part], f"the model's output on {part.stop - part.start} of them alone")
            if not _same_logits(alone, out[part]):
                count = part.stop - part.start
                which = (f"held-back reading {part.start} alone" if count == 1 else
                         f"held-back readings {part.start} to {part.stop - 1} alone")
                raise Incorrect(
                    f"on {which} the model gave the logits "
                    f"{_show(alone)}, but {_show(out[part])} in the call with all 200 readings: its "
                    "prediction for a reading depends on which other readings are in the batch. Standardise with "
                    "statistics of the training data, computed once and stored in the model, not with the "
                    "mean or std of the x that forward gets.")
        accuracy = float(((out > 0).float() == y_test).float().mean())
        if accuracy >= _E2E_THRESHOLD:
            try:  # a probe for outputs that cannot be logits
                far = _logits(model, X_test * 50, "the model's output far from the data")
            except Incorrect:
                far = None
            seen = out if far is None else torch.cat([out, far])
            if bool((seen >= 0).all()):  # label-0 readings then get exactly 0: a cut-off output, not a logit
                raise Incorrect(
                    f"on the 200 held-back readings the model's accuracy is {accuracy:.2f}, but none of its "
                    f"outputs is negative ({int((out == 0).sum())} of the 200 are exactly 0"
                    f"{'' if far is None else ', and none is negative far from the data either'}): a logit is "
                    "negative where the model leans to label 0, so these are not logits. Does forward end with "
                    "a ReLU, a sigmoid, a rounding or a comparison? Return the last layer's raw output.")
            return
        mean, std = X_train.mean(dim=0), X_train.std(dim=0)
        try:  # probes for a hint only: a model that fails on them is told its accuracy alone
            far = _logits(model, X_test * 50, "the model's output far from the data")
            scaled_accuracy = _accuracy(model, (X_test - mean) / std, y_test,
                                        "the model's output on standardised readings")
        except Incorrect:
            far, scaled_accuracy = None, 0.0
    shown = f"on the 200 held-back readings the model's accuracy is {accuracy:.2f} (labels read as logit > 0)"
    if not bool(torch.isfinite(out).all()):
        raise Incorrect(f"{shown}, and some of its outputs are inf or nan: did the training loss become nan?")
    if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
        raise Incorrect(f"{shown}, and some of its parameters are inf or nan: the training diverged (did the loss "
                        "become nan? a learning rate too large does that).")
    both = out.reshape(-1) if far is None else torch.cat([out.reshape(-1), far])
    if float(both.max() - both.min()) <= 1e-6 * max(1.0, float(both.abs().max())):
        where = "for every reading" if far is None else "for every reading, near the data and far from it"
        raise Incorrect(f"{shown}: it gives the same output, {float(both[0]):.4g}, {where}, so its answer does "
                        "not depend on the input. Look at your training loss: did it fall well below log(2) = "
                        "0.69? The columns are on very different scales.")
    if far is not None and bool(((both >= 0) & (both <= 1)).all()):
        raise Incorrect(f"{shown}. Every output lies between 0 and 1, even far from the data: does forward end "
                        "with a sigmoid? Return raw logits.")
    if scaled_accuracy >= _E2E_THRESHOLD:
        raise Incorrect(f"{shown}, but {scaled_accuracy:.2f} when the check first standardises the readings with "
                        "the training set's mean and std. The model you return gets raw readings: it must "
                        "do that standardisation itself, inside forward.")
    raise Incorrect(f"{shown}; the check wants at least {_E2E_THRESHOLD}. A straight line gets about 0.5 on "
                    "circles. Look at your training loss: did it fall well below log(2) = 0.69? The columns "
                    "are on very different scales.")
