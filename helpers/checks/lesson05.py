"""Checks for exercises/05_multiclass_classification_exercises.ipynb.

The checks that train something seed themselves inside ``torch.random.fork_rng``
(the learner's random state is left as it was) and run on one CPU thread,
which is the fastest way to train models this small. Cheap tests (types,
shapes, a forward pass) run before any training, so a wrong answer is judged
about as fast as a right one.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import functools
import numbers
import re
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

from helpers._validate import model_device
from helpers.checks import core
from helpers.checks.core import (
    Incorrect,
    as_number,
    close,
    describe,
    exercise,
    expect,
    expect_module,
    expect_tensor,
    seeded,
)
from helpers.data import make_rings, make_spirals  # make_rings: exercise 5's data, check.make_rings

# How long one call of the learner's code may run before the check stops it (an endless loop, say):
# far above what any exercise needs (exercise 5 states its own limit, and is stopped just after it).
_CALL_SECONDS = 30.0


class _StoppedByTheCheck(BaseException):  # not an Exception: `except Exception` lets it through
    """Raised into the learner's code by a timer when it has run for too long."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (where a timer signal can: the main thread of a Unix
    process that has no timer of its own running); elsewhere the block runs unlimited."""
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return

    def stop(_signum: int, _frame: Any) -> None:
        raise _StoppedByTheCheck(f"stopped by the check after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def call(fn: Any, *args: Any, _seconds: float | None = None, **kwargs: Any) -> Any:
    """:func:`helpers.checks.core.call`, stopped after ``_seconds`` (default ``_CALL_SECONDS``)."""
    seconds = _CALL_SECONDS if _seconds is None else _seconds
    try:
        with _time_limit(seconds):
            return core.call(fn, *args, **kwargs)
    except Incorrect as error:
        if isinstance(error.__cause__, _StoppedByTheCheck):
            raise Incorrect(f"your code was still running after {seconds:g} s, so the check stopped it "
                            "(no exercise here needs that long: look for a loop that does not end, or "
                            "runs far more often than you meant).") from None
        raise


# --------------------------------------------------------------------------- q1
_SOFTMAX_SHORTCUTS = [(torch, "softmax"), (torch, "log_softmax"), (F, "softmax"), (F, "log_softmax"),
                      (torch.Tensor, "softmax"), (torch.Tensor, "log_softmax"),
                      (torch.special, "softmax"), (torch.special, "log_softmax")]
_SWITCHED_OFF = "switched off by the check: this exercise builds softmax by hand"


class _NoSoftmaxFunction(TorchFunctionMode):
    """Refuses every torch function named softmax, whatever the route (torch._softmax,
    torch._C._VariableFunctions, torch.ops.aten, distributions, ...), not only the public names
    patched below. (A function mode, not a dispatch mode: that one imports torch._dynamo, seconds.)"""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        name = f"{getattr(func, '__name__', '')} {func}"
        if "softmax" in name:
            raise RuntimeError(f"{getattr(func, '__name__', func)} is {_SWITCHED_OFF}")
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def _softmax_switched_off() -> Iterator[None]:
    """Patch every library softmax (and log_softmax) to raise while the learner's function runs."""
    with contextlib.ExitStack() as stack:
        for owner, name in _SOFTMAX_SHORTCUTS:
            stack.enter_context(mock.patch.object(owner, name, side_effect=RuntimeError(
                f"{getattr(owner, '__name__', 'torch')}.{name} is {_SWITCHED_OFF}")))
        stack.enter_context(_NoSoftmaxFunction())
        yield


def _exact_softmax(logits: torch.Tensor) -> torch.Tensor:
    """Softmax in float64 from first principles (the reference; no library softmax)."""
    z = logits.double()
    e = torch.exp(z - z.max(dim=1, keepdim=True).values)
    return e / e.sum(dim=1, keepdim=True)


def _softmax_tolerance(logits: torch.Tensor, dtype: torch.dtype) -> tuple[float, float]:
    """(rtol, atol) an answer of ``dtype`` may be off by.

    The logits are float32: the shift ``z - m`` is rounded to half an ulp of the largest logit
    magnitude M (about M * 6e-8), which exp turns into a relative error of that size in each
    probability; a few more roundings in exp, the sum and the division come on top:
    8 * eps32 * (1 + M). An answer in a coarser dtype (float16, bfloat16) rounds those few
    operations more coarsely: 8 of its own eps on top. Tiny probabilities are compared absolutely,
    to one eps of the dtype (float32's at least).
    """
    eps32, eps = torch.finfo(torch.float32).eps, torch.finfo(dtype).eps
    rtol = 8 * eps32 * (1.0 + float(logits.abs().max()))
    if eps > eps32:
        rtol += 8 * eps
    return rtol, max(eps32, eps)


def _nan_row_hint(shown: str, logits: torch.Tensor, out: torch.Tensor) -> str:
    """Say which row went nan or inf, and what exp does to numbers of that size (facts, not a guess)."""
    bad = int((~torch.isfinite(out)).any(dim=1).nonzero()[0])
    row = logits[bad]
    seen = (f"row {bad} is {[round(v, 4) for v in out[bad].tolist()]}, for the logits "
            f"{[round(v, 4) for v in row.tolist()]}")
    limits = ("In float32, exp(x) is inf above x = 88.7 (overflow) and 0 below about x = -104 (underflow; "
              "float64: 709.8 and -745), and inf / inf and 0 / 0 are nan.")
    shift = ("Subtracting the same number from every logit of a row does not change that row's softmax: "
             "which number, chosen for each row, makes the row's largest exponent 0 and the others <= 0?")
    if float(row.max()) < -104:
        return (f"{seen}, all below -104: exp of each of them is 0, so dividing by the row's sum is 0 / 0. "
                f"{limits} {shift}")
    return f"{seen}. {limits} {shift}"


@exercise(
    "Exponentiate, then divide each row by its own sum: exp / exp.sum(dim=1, keepdim=True). keepdim keeps "
    "the sums as a column (N, 1) that broadcasts against (N, C).",
    "exp(1000) is inf in float32 and exp(-1000) is 0. Subtracting the same number c from every logit of "
    "a row does not change that row's softmax: e^(z - c) = e^z / e^c, and the factor 1 / e^c is on top "
    "and bottom. Which number, chosen per row, makes every exponent <= 0 and the largest exactly 0?",
    "Subtract each row's maximum first: shifted = logits - logits.max(dim=1, keepdim=True).values; "
    "then exponentiate and divide as before.",
)
def q1(softmax: Any) -> None:
    """softmax(logits): (N, C) logits to (N, C) probabilities, by hand, stable for large logits."""
    cases = [
        torch.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]),
        torch.tensor([[2.0, -1.0, 0.5, 0.0]]),
        torch.linspace(-3.0, 3.0, 15).reshape(5, 3),
        torch.tensor([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -999.0]]),
        torch.tensor([[1000.0, 1001.0, 999.0], [0.0, 1.0, -1.0]]),
        torch.tensor([[-500.0, 500.0, 0.0], [3.0, -800.0, 2.0]]),  # far apart: the row minimum overflows
    ]
    for logits in cases:
        shown = f"softmax({logits.tolist()})"
        expected = _exact_softmax(logits)
        try:
            with _softmax_switched_off():
                answer = call(softmax, logits)
        except Incorrect as error:
            if _SWITCHED_OFF in str(error):
                raise Incorrect("your function calls a library softmax (or log_softmax), which the check "
                                "switches off for this exercise: build it from torch.exp, sums and the "
                                "like.") from error
            if "must match the size" in str(error):
                raise Incorrect(f"{error}. A row maximum or row sum of shape (N,) does not line up "
                                "with logits of shape (N, C): keep it as a column (N, 1), with "
                                "keepdim=True in the reduction (e.g. exps.sum(dim=1, keepdim=True)) "
                                "or with .unsqueeze(1) after it.") from error
            raise
        out = expect_tensor(answer, shown, shape=logits.shape, floating=True)
        tolerance, atol = _softmax_tolerance(logits, out.dtype)
        sum_tolerance = max(1e-3, (logits.shape[1] + 2) * torch.finfo(out.dtype).eps)  # far off, not rounding
        out = out.detach().cpu().double()  # any float dtype is fine: its own rounding is allowed below
        if not torch.isfinite(out).all():
            raise Incorrect(f"{shown} contains nan or inf: {_nan_row_hint(shown, logits, out)}")
        if torch.allclose(out, torch.sigmoid(logits.double()), rtol=0, atol=sum_tolerance):
            raise Incorrect("that is the sigmoid, which squashes each logit on its own (the binary "
                            "recipe). Softmax makes each row of probabilities sum to one.")
        row_sums = out.sum(dim=1)
        if not torch.allclose(row_sums, torch.ones_like(row_sums), rtol=0, atol=sum_tolerance):
            if torch.allclose(out.sum(dim=0), torch.ones(out.shape[1], dtype=out.dtype), rtol=0,
                              atol=sum_tolerance):
                raise Incorrect(f"in {shown} the columns sum to one, not the rows: normalise over the "
                                "classes, dim=1 (dim=0 runs down the samples).")
            raise Incorrect(f"the rows of {shown} sum to {[round(s, 4) for s in row_sums.tolist()]}; "
                            "each row of probabilities must sum to one: divide each row by its own "
                            "sum, exps.sum(dim=1, keepdim=True).")
        held = logits.to(answer.dtype).double().flatten()  # the logits as the answer's dtype holds them
        worst = int((held - logits.double().flatten()).abs().argmax())
        coarse = ("" if float(held[worst]) == float(logits.flatten()[worst]) else
                  f" {answer.dtype} cannot hold these logits exactly ({float(logits.flatten()[worst]):g} becomes "
                  f"{float(held[worst]):g}): if you convert, do it after the shift.")
        expect(torch.allclose(out, expected, rtol=tolerance, atol=atol),
               f"{shown} sums to one per row, but the values differ from exp(logit) / row sum by up to "
               f"{float((out - expected).abs().max()):.2g}; rounding in {answer.dtype} allows {tolerance:.1g} "
               f"relative here (the exercise says how the tolerance is worked out).{coarse}")


# --------------------------------------------------------------------------- q2
_Q2_EPOCHS, _Q2_LR, _Q2_BATCH = 8, 0.02, 32


def _q2_problem() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A small model and 120 shuffled spiral points: batches of 32, 32, 32 and a last one of 24."""
    X, y = make_spirals(n_per_class=40, seed=11)
    order = np.random.default_rng(11).permutation(len(X))  # make_spirals sorts by class
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
    return model, torch.from_numpy(X[order]), torch.from_numpy(y[order])


def _reference_run(start: nn.Module, X: torch.Tensor, y: torch.Tensor, epochs: int, lr: float,
                   batch_size: int, variant: str) -> tuple[list[float], list[torch.Tensor]]:
    """Train a copy of ``start`` on batches in row order the right way, or with one typical mistake.

    Returns the per-epoch losses (the mean over samples, or the plain mean of the batch
    losses for ``"batch mean"``) and the trained parameters.
    """
    model = copy.deepcopy(start)
    make: Callable[[], torch.optim.Optimizer] = (
        (lambda: torch.optim.SGD(model.parameters(), lr=lr)) if variant == "sgd"
        else (lambda: torch.optim.Adam(model.parameters(), lr=lr))
    )
    size = len(X) if variant == "full batch" else batch_size
    stop = len(X) - batch_size if variant == "skip last batch" else len(X)
    optimizer = make()
    losses = []
    for _ in range(epochs):
        if variant == "optimizer in loop":
            optimizer = make()
        total, batch_losses = 0.0, []
        for first in range(0, stop, size):
            xb, yb = X[first:first + size], y[first:first + size]
            logits = model(xb)
            if variant == "softmax first":
                logits = torch.softmax(logits, dim=1)
            loss = F.cross_entropy(logits, yb)
            if variant != "no zero_grad":
                optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
            batch_losses.append(loss.item())
        losses.append(float(np.mean(batch_losses)) if variant == "batch mean" else total / len(X))
    return losses, [p.detach().clone() for p in model.parameters()]


_Q2_MISTAKES = {
    "no zero_grad": "your parameters match a run in which gradients add up from batch to batch: call "
                    "optimizer.zero_grad() for every batch, before loss.backward().",
    "optimizer in loop": "your parameters match a run that creates the optimizer anew every epoch, so "
                         "Adam forgets its running averages: create it once, before the loops.",
    "softmax first": "your parameters match a run that applies softmax before the loss: "
                     "nn.CrossEntropyLoss takes the raw logits.",
    "sgd": "your parameters match plain SGD; the exercise asks for torch.optim.Adam(model.parameters(), "
           "lr=lr).",
    "skip last batch": f"your parameters match a run that never trains on the last, smaller batch (with "
                       f"batch_size={_Q2_BATCH}, the last 24 of 120 rows): the batches must cover every "
                       "row: look at the range the batch starts run over.",
    "full batch": "your parameters match one step per epoch on all the rows at once; this function takes "
                  "one step per batch of batch_size rows.",
}


@exercise(
    "Four things are wrong. Compare the order of the steps with the lesson's loop, look at what the "
    "loss function is given and at where the optimizer is created, and work out by hand which rows the "
    "batches cover for len(X) = 150 and batch_size = 32.",
    "Before the loops: loss_fn and one optimizer. For each batch: logits, loss on the raw logits, "
    "optimizer.zero_grad(), loss.backward(), optimizer.step(). The starts must run "
    "range(0, len(X), batch_size): X[144:176] is simply the last 6 rows.",
)
def q2(train_model: Any) -> None:
    """train_model(model, X, y, epochs, lr, batch_size): Adam on row-order batches; returns epoch losses."""
    with seeded(0):
        start, X, y = _q2_problem()
        model = copy.deepcopy(start)
        losses = call(train_model, model, X, y, _Q2_EPOCHS, _Q2_LR, _Q2_BATCH)
        expect(losses is not None, "train_model returned None: return the list of losses, one per epoch.")
        try:
            losses = list(losses)
        except TypeError:
            raise Incorrect(f"train_model should return a list of losses, got {describe(losses)}.") from None
        expect(len(losses) == _Q2_EPOCHS, f"with epochs={_Q2_EPOCHS} train_model returned {len(losses)} "
               "losses; append one loss per epoch (not one per batch).")
        losses = [as_number(value, f"loss {i} of the list") for i, value in enumerate(losses)]
        params = [p.detach() for p in model.parameters()]
        for p, q in zip(params, start.parameters(), strict=True):
            expect(p.dtype == q.dtype and p.shape == q.shape,
                   f"your function changed the model's parameters from {q.dtype} {tuple(q.shape)} to {p.dtype} "
                   f"{tuple(p.shape)}: train the model as it is given (its dtype and layers stay as they are).")
        unchanged = all(torch.equal(p, q) for p, q in zip(params, start.parameters(), strict=True))

        def run(variant: str) -> tuple[list[float], list[torch.Tensor]]:
            return _reference_run(start, X, y, _Q2_EPOCHS, _Q2_LR, _Q2_BATCH, variant)

        if unchanged:
            if max(losses) - min(losses) > 1e-6:  # the losses moved, so some model did learn
                right = np.allclose(losses, run("adam")[0], atol=1e-5, rtol=1e-4)
                raise Incorrect(("your losses are those of a correct run" if right else "your losses change "
                                 "from epoch to epoch, so some model was trained") + ", but the model passed "
                                "to train_model did not change: train that model itself, in place. If you "
                                "train a copy (copy.deepcopy(model)) or a new model, the caller's model "
                                "stays untrained.")
            no_grads = all(p.grad is None or not p.grad.any() for p in model.parameters())
            if no_grads:
                raise Incorrect("every epoch's loss is the same, the model's parameters did not change, and "
                                "after your function they hold no gradients: optimizer.step() found nothing "
                                "to apply. Either backward() never ran, or zero_grad() cleared the gradients "
                                "between backward() and step(). The order is zero_grad, backward, step.")
            raise Incorrect("the model's parameters did not change although they hold gradients: call "
                            "optimizer.step() for every batch, on an optimizer built on "
                            "model.parameters() (this model's).")

        def same(ps: list[torch.Tensor]) -> bool:
            return all(torch.allclose(p, q, atol=1e-5) for p, q in zip(params, ps, strict=True))

        right_losses, right_params = run("adam")
        if not same(right_params):
            for variant, hint in _Q2_MISTAKES.items():
                if same(run(variant)[1]):
                    raise Incorrect(hint)
            raise Incorrect(f"after {_Q2_EPOCHS} epochs your model differs from Adam (lr={_Q2_LR}) on "
                            "nn.CrossEntropyLoss with raw logits, one step per batch of "
                            f"batch_size={_Q2_BATCH} rows taken in row order (no shuffling), every row "
                            "once per epoch, with one optimizer made before the loops.")
        if np.allclose(losses, run("batch mean")[0], atol=1e-5, rtol=1e-4):
            raise Incorrect("the model trained correctly, but each loss you returned is the plain mean of "
                            "the batch losses; the last batch is smaller (24 rows, not 32), so this mean "
                            "counts its rows more than the others. Weigh each batch's loss by its number "
                            "of rows, so that every sample counts once.")
        expect(np.allclose(losses, right_losses, atol=1e-5, rtol=1e-4),
               "the model trained correctly, but the losses you returned are not the epochs' training "
               "losses: for each epoch, the mean of the per-sample losses over all rows, from the forward "
               "passes of that epoch (before each update).")


# --------------------------------------------------------------------------- q3
def _binary_reference(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return F.binary_cross_entropy_with_logits(logits.reshape(-1), labels.reshape(-1).float()).item()


@exercise(
    "Look at logits.shape: one column (or a 1-D tensor) is binary, several columns are multiclass.",
    "Binary: nn.BCEWithLogitsLoss()(logits.reshape(-1), labels.float()). "
    "Multiclass: nn.CrossEntropyLoss()(logits, labels.long()).",
)
def q3(loss_for: Any) -> None:
    """loss_for(logits, labels): the right classification loss for these raw outputs."""
    cases = [
        ("binary logits of shape (4, 1) with long labels",
         torch.tensor([[1.5], [-0.5], [2.0], [-1.0]]), torch.tensor([1, 0, 1, 1]), "binary"),
        ("multiclass logits of shape (4, 3) with long labels",
         torch.tensor([[2.0, 0.5, -1.0], [0.1, 1.0, 0.2], [-2.0, -1.0, 0.5], [0.3, 0.2, 0.1]]),
         torch.tensor([0, 1, 2, 1]), "multiclass"),
        ("binary logits of shape (5,) with float labels",
         torch.tensor([0.3, -2.0, 1.2, 0.0, -0.7]), torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0]), "binary"),
        ("multiclass logits of shape (3, 4) with float labels",
         torch.tensor([[0.5, 0.1, -0.3, 2.0], [1.0, 1.0, 1.0, 1.0], [-1.0, 3.0, 0.0, 0.2]]),
         torch.tensor([3.0, 0.0, 1.0]), "multiclass"),
        ("two-class logits of shape (2, 2)",
         torch.tensor([[0.2, 1.1], [2.0, -0.4]]), torch.tensor([1, 1]), "multiclass"),
        ("large binary logits [[40.], [-40.], [5.]] with labels [0, 1, 1]",
         torch.tensor([[40.0], [-40.0], [5.0]]), torch.tensor([0, 1, 1]), "binary"),
    ]
    for shown, logits, labels, kind in cases:
        try:
            answer = call(loss_for, logits.clone(), labels.clone())
        except Incorrect as error:
            hint = _q3_error_hint(str(error), kind, logits)
            raise Incorrect(f"{error}. {hint}" if hint else str(error)) from error
        value = as_number(answer, f"the loss for {shown}")
        if close(value, len(labels) * _reference_loss(logits, labels, kind)) and len(labels) > 1:
            raise Incorrect(f"for {shown} you returned {value:.4f}, the sum of the per-sample losses; "
                            "return their mean (the losses' default, reduction='mean').")
        if kind == "binary":
            expected = _binary_reference(logits, labels)
            if close(value, 0.0, 1e-6):
                raise Incorrect(f"for {shown} you returned 0: cross-entropy over a single output column "
                                "is always 0 (the softmax of one number is 1). One logit per sample needs "
                                "BCEWithLogitsLoss.")
            as_probs = F.binary_cross_entropy(torch.sigmoid(logits.reshape(-1)),
                                              labels.reshape(-1).float()).item()
            if close(value, as_probs) and not close(value, expected):
                raise Incorrect(f"for {shown} you returned {value:.4f} instead of {expected:.4f}: a "
                                "sigmoid followed by BCELoss loses precision for large logits (sigmoid(40) "
                                "rounds to 1.0). Give the raw logits to BCEWithLogitsLoss.")
            twice = _binary_reference(torch.sigmoid(logits), labels)
            if close(value, twice) and not close(value, expected):
                raise Incorrect(f"for {shown} you applied a sigmoid before BCEWithLogitsLoss, which "
                                "applies one itself: pass the raw logits.")
        else:
            expected = F.cross_entropy(logits, labels.long()).item()
            after_softmax = F.cross_entropy(torch.softmax(logits, dim=1), labels.long()).item()
            if close(value, after_softmax) and not close(value, expected):
                raise Incorrect(f"for {shown} you applied softmax before CrossEntropyLoss, which "
                                "applies log-softmax itself: pass the raw logits.")
        recipe = ("one logit per sample is binary: BCEWithLogitsLoss on logits of shape (N,) with float "
                  "labels" if kind == "binary" else "one logit per class is multiclass: CrossEntropyLoss "
                  "on the (N, C) logits with long labels")
        expect(close(value, expected),
               f"for {shown} the loss should be {expected:.4f}, you returned {value:.4f}; {recipe}.")


def _reference_loss(logits: torch.Tensor, labels: torch.Tensor, kind: str) -> float:
    if kind == "binary":
        return _binary_reference(logits, labels)
    return F.cross_entropy(logits, labels.long()).item()


def _q3_error_hint(message: str, kind: str, logits: torch.Tensor) -> str:
    """A hint for the errors learners' loss_for typically raises, by the kind of output."""
    if kind == "binary":
        if "can't be cast" in message or ("Long" in message and "Float" in message):
            return "BCEWithLogitsLoss needs float labels 0.0 / 1.0: labels.float()."
        if "must be the same as input size" in message:
            return ("The logits and the labels must have the same shape: reshape the logits to (N,) "
                    "with logits.reshape(-1).")
        if "out of bounds" in message and logits.ndim == 2:
            return ("A label 1 is out of bounds for one output column: a multiclass loss sees a single "
                    "class there. One logit per sample, shape (N, 1), is a binary output: use "
                    "BCEWithLogitsLoss.")
        if logits.ndim == 1:
            return ("Logits of shape (N,) are binary too: one logit per sample, not one per class. "
                    "Use BCEWithLogitsLoss.")
        return ""
    if "must be the same as input size" in message:
        return (f"{'Two' if logits.shape[1] == 2 else logits.shape[1]} logits per sample is a multiclass "
                f"output with C = {logits.shape[1]}: use CrossEntropyLoss. Only one logit per sample, shape "
                "(N,) or (N, 1), is binary.")
    if "Long" in message and "Float" in message:
        return "CrossEntropyLoss takes class indices of dtype torch.long: labels.long()."
    return ""


# --------------------------------------------------------------------------- q4
_Q4_EPOCHS, _Q4_LR, _Q4_NEEDED = 300, 0.01, 0.90
# (features, classes, budget): 583 is exactly the count at h = 20 (a `<` instead of `<=` misses it), and
# at 418 width 16 (421) fits only if the output layer's biases are left out of the count
_Q4_CASES = ((2, 3, 1_000), (2, 4, 1_200), (5, 3, 700), (10, 10, 5_000), (3, 2, 40), (4, 3, 583), (3, 5, 418))
_Q4_TRAINED = (2, 4, 1_200)  # the case the check trains on four spiral arms


def _q4_count(n_features: int, n_classes: int, width: int, biases: bool = True) -> int:
    """Parameters of an n_features-width-width-n_classes network (weights, and biases if asked)."""
    weights = n_features * width + width * width + width * n_classes
    return weights + (2 * width + n_classes if biases else 0)


def _q4_widest(n_features: int, n_classes: int, budget: int, biases: bool = True) -> int:
    width = 1
    while _q4_count(n_features, n_classes, width + 1, biases) <= budget:
        width += 1
    return width


def _split_spirals(n_classes: int, seed: int, n_per_class: int = 150) -> tuple[torch.Tensor, ...]:
    X, y = make_spirals(n_per_class=n_per_class, n_classes=n_classes, seed=seed)
    order = np.random.default_rng(seed).permutation(len(X))
    cut = int(0.8 * len(X))
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    return X_t[order[:cut]], y_t[order[:cut]], X_t[order[cut:]], y_t[order[cut:]]


def _model_input(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """``X`` on the model's device, and in its float dtype when all its parameters share another one
    (a float64 network is a right answer too: the exercises do not ask for float32)."""
    dtypes = {p.dtype for p in model.parameters() if p.dtype.is_floating_point}
    dtype = dtypes.pop() if len(dtypes) == 1 else X.dtype
    return X.to(model_device(model), dtype=dtype if X.dtype.is_floating_point else X.dtype)


def _outputs(model: nn.Module, X: torch.Tensor, shown: str) -> torch.Tensor:
    """The model's outputs in eval mode (layers that act differently in training are allowed), on the CPU."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            out = call(model, _model_input(model, X))
    finally:
        model.train(was_training)
    return expect_tensor(out, shown).detach().float().cpu()


def _expect_classifier_outputs(model: nn.Module, X: torch.Tensor, n_classes: int, who: str) -> None:
    """Shape (N, C), raw logits (not probabilities, not ReLU'd), and not a linear (affine) map."""
    out = _outputs(model, X, f"the output of {who}")
    if tuple(out.shape) == (len(X), 1) or out.ndim == 1:
        raise Incorrect(f"{who} gives one output per sample; a {n_classes}-class model needs one logit "
                        "per class: the last Linear layer should have n_classes outputs.")
    expect(tuple(out.shape) == (len(X), n_classes),
           f"on inputs of shape {tuple(X.shape)} {who} gave {tuple(out.shape)}, expected "
           f"({len(X)}, {n_classes}): one logit per class.")
    far = _outputs(model, 50 * X, f"the output of {who}")
    if not (bool(torch.isfinite(out).all()) and bool(torch.isfinite(far).all())):
        raise Incorrect(f"the output of {who} on inputs of shape {tuple(X.shape)} contains nan or inf.")
    if bool((far == far[:1]).all()):
        raise Incorrect(f"{who} gives the same outputs ({describe(far[0])}) for every input, even far-away "
                        "ones, so it cannot tell the classes apart: look at its starting weights (leave "
                        "nn.Linear's own random ones) and at how forward uses its input.")
    if bool(((far >= 0) & (far <= 1)).all()):
        raise Incorrect(f"the outputs of {who} all lie between 0 and 1 even for far-away inputs: the model "
                        "ends with a softmax or sigmoid. Return raw logits (end with nn.Linear): "
                        "CrossEntropyLoss applies the softmax itself.")
    if bool((far >= 0).all()):
        raise Incorrect(f"the outputs of {who} are never negative, even for far-away inputs: the model ends "
                        "with an activation such as ReLU. Logits must be free to take any value: end with "
                        "nn.Linear, with nothing after it.")
    a, b = X[:20], X[20:40]
    zero = torch.zeros(1, X.shape[1])
    if torch.allclose(_outputs(model, a + b, "") + _outputs(model, zero, ""),
                      _outputs(model, a, "") + _outputs(model, b, ""), atol=1e-4):
        raise Incorrect(f"{who} is linear: its output for a + b equals its outputs for a and b added (less "
                        "the output for 0). Linear layers with nothing in between are still one "
                        "straight-line classifier, and spirals need curves: put an activation such as "
                        "nn.ReLU() between the Linear layers.")


def _train_and_score(model: nn.Module, data: tuple[torch.Tensor, ...], epochs: int, lr: float) -> float:
    X_train, y_train, X_test, y_test = (_model_input(model, t) for t in data)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for epoch in range(epochs):
        loss = loss_fn((call if epoch == 0 else core.call)(model, X_train), y_train)  # guarded once: fast
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.inference_mode():
        return (model(X_test).argmax(dim=1) == y_test).float().mean().item()


def _q4_layers(model: nn.Module, n_features: int, n_classes: int, who: str) -> tuple[int, list[nn.Linear]]:
    """The hidden width h of a model built from three nn.Linear layers f -> h, h -> h, h -> c (or raise),
    and those layers in that order, whatever order the model registered them in."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if len(linears) != 3:
        raise Incorrect(f"{who} has {len(linears)} nn.Linear layer{'s' * (len(linears) != 1)}; two hidden "
                        "layers and an output layer are three: n_features -> h, h -> h, h -> n_classes.")
    shapes = [(m.in_features, m.out_features) for m in linears]
    for width in dict.fromkeys(b for a, b in shapes if a == n_features):
        wanted = [(n_features, width), (width, width), (width, n_classes)]
        if sorted(shapes) == sorted(wanted):
            left = list(linears)
            ordered = []
            for shape in wanted:  # registration order breaks ties (when f == h or h == c)
                layer = next(m for m in left if (m.in_features, m.out_features) == shape)
                left.remove(layer)
                ordered.append(layer)
            return width, ordered
    raise Incorrect(f"the nn.Linear layers of {who} map {' , '.join(f'{a} -> {b}' for a, b in shapes)}; the "
                    f"exercise asks for two hidden layers of the same width h: {n_features} -> h, h -> h, "
                    f"h -> {n_classes}.")


def _expect_activations(model: nn.Module, layers: list[nn.Linear], X: torch.Tensor, who: str) -> None:
    """Each hidden layer's output must be changed (by an activation) before the next layer takes it in."""
    seen: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def keep(index: int) -> Callable[..., None]:
        def hook(_module: nn.Module, inputs: tuple, output: Any) -> None:
            if inputs and isinstance(inputs[0], torch.Tensor) and isinstance(output, torch.Tensor):
                seen.setdefault(index, (inputs[0].detach().clone(), output.detach().clone()))
        return hook

    handles = [layer.register_forward_hook(keep(i)) for i, layer in enumerate(layers)]
    try:
        _outputs(model, X, f"the output of {who}")
    finally:
        for handle in handles:
            handle.remove()
    for i, name in ((0, "first"), (1, "second")):
        if i in seen and i + 1 in seen:
            out, next_in = seen[i][1], seen[i + 1][0]
            if out.shape == next_in.shape and bool((out < 0).any()) and torch.equal(out, next_in):
                raise Incorrect(f"in {who} the output of the {name} hidden layer (negative values included) goes "
                                f"into the next nn.Linear unchanged: the exercise asks for an activation such "
                                "as nn.ReLU() after each hidden layer.")


@exercise(
    "Write the number of parameters of an n_features-h-h-n_classes network as a formula in h: an "
    "nn.Linear(a, b) has a*b weights and b biases (the lesson counts its 2-64-64-3 network this way in "
    "section 3). Then look for the largest h whose count is at most max_params.",
    "count(h) = (n_features*h + h) + (h*h + h) + (h*n_classes + n_classes). Start at h = 1 and increase h "
    "while count(h + 1) <= max_params (a while loop); then build nn.Linear(n_features, h), ReLU, "
    "nn.Linear(h, h), ReLU, nn.Linear(h, n_classes).",
)
def q4(build_model: Any) -> None:
    """build_model(n_features, n_classes, max_params): the widest f-h-h-c ReLU network within the budget."""
    with seeded(0):
        f, c, budget = _Q4_CASES[0]
        first = f"build_model({f}, {c}, {budget})"
        model = expect_module(call(build_model, f, c, budget), first)
        expect(call(build_model, f, c, budget) is not model,
               "build_model returned the same model twice: create a new one on every call.")
        for n_features, n_classes, max_params in _Q4_CASES:
            who = f"build_model({n_features}, {n_classes}, {max_params})"
            built = (model if who == first else
                     expect_module(call(build_model, n_features, n_classes, max_params), who))
            shape = tuple(_outputs(built, torch.zeros(7, n_features), f"the output of {who}").shape)
            expect(shape == (7, n_classes),
                   f"{who} on inputs of shape (7, {n_features}) gave {shape}, expected (7, {n_classes}): "
                   "use the arguments n_features and n_classes instead of fixed numbers.")
            width, layers = _q4_layers(built, n_features, n_classes, who)
            n_params = sum(p.numel() for p in built.parameters() if p.requires_grad)
            expected = _q4_count(n_features, n_classes, width)
            expect(n_params >= expected,
                   f"{who} has {n_params:,} trainable parameters, fewer than the {expected:,} of three Linear "
                   f"layers of width {width} with their biases: keep the biases (bias=True, the default).")
            expect(n_params == expected,
                   f"{who} has {n_params:,} trainable parameters, but three Linear layers of width {width} "
                   f"have {expected:,}: the network should hold nothing else that trains.")
            if n_params > max_params:
                no_biases = width == _q4_widest(n_features, n_classes, max_params, biases=False)
                raise Incorrect(f"{who} has hidden width {width} and {n_params:,} parameters; the budget is "
                                f"{max_params:,}." + (" Your width is the widest that fits if the biases are "
                                "left out: count them too (each nn.Linear(a, b) has b)." if no_biases else
                                " Choose the widest h whose count is at most max_params."))
            widest = _q4_widest(n_features, n_classes, max_params)
            expect(width == widest,
                   f"{who} has hidden width {width} ({n_params:,} parameters), within the budget of "
                   f"{max_params:,}, but width {width + 1} fits too "
                   f"({_q4_count(n_features, n_classes, width + 1):,} parameters): build the widest network the "
                   "budget allows.")
        X_probe = _split_spirals(3, seed=5, n_per_class=50)[0]  # 120 points
        _expect_classifier_outputs(model, X_probe, c, first)
        _expect_activations(model, _q4_layers(model, f, c, first)[1], X_probe, first)
        n_features, n_classes, max_params = _Q4_TRAINED
        acc = _train_and_score(call(build_model, n_features, n_classes, max_params),
                               _split_spirals(n_classes, seed=6, n_per_class=100), _Q4_EPOCHS, _Q4_LR)
        expect(acc >= _Q4_NEEDED,
               f"after {_Q4_EPOCHS} epochs of Adam (lr {_Q4_LR}) on {n_classes} spiral arms, "
               f"build_model({n_features}, {n_classes}, {max_params}) reached {acc:.2f} held-out accuracy; it "
               f"needs {_Q4_NEEDED:.2f}. Its layers have the right sizes, so look at what lies between them (an "
               "activation such as nn.ReLU() after each hidden layer) and at their starting weights (leave "
               "nn.Linear's own random ones).")


# --------------------------------------------------------------------------- q5
_Q5_NEEDED, _Q5_BUDGET, _Q5_SECONDS = 0.90, 2_000, 10.0
# The held-back sets differ from the rings the learner sees (2 features, 3 classes) in the number
# of features, of classes, or both, so an answer must read both from the data it is given.
_Q5_SETS = (  # (n_features, n_classes, n_per_class, seed)
    (3, 4, 200, 2024),
    (2, 5, 200, 2025),
)  # large enough that keeping the training points (and their labels) in the model exceeds the budget
_SHAPES = re.compile(r"\((\d+)x(\d+) and (\d+)x(\d+)\)")


def _held_back_shells(n_features: int, n_classes: int, n_per_class: int, seed: int) -> tuple[torch.Tensor, ...]:
    """A set of rings (shells above 2-D) the learner never sees, split 80/20 by the check."""
    X, y = make_rings(n_per_class=n_per_class, n_classes=n_classes, n_features=n_features, seed=seed)
    cut = int(0.8 * len(X))  # make_rings shuffles, so a cut is a random split
    return X[:cut], y[:cut], X[cut:], y[cut:]


def _warm_up() -> None:
    """One Adam step on a tiny model: the first step in a process loads parts of torch (seconds on a
    busy machine), which must not count against the learner's time limit."""
    layer = nn.Linear(1, 1)
    optimizer = torch.optim.Adam(layer.parameters())
    layer(torch.zeros(1, 1)).sum().backward()
    optimizer.step()


def _numbers_stored(model: nn.Module) -> int:
    """Every number a model keeps: its parameters and buffers, and any data its modules hold or reach.

    Tensors and NumPy arrays count their elements wherever they sit: as attributes, inside lists,
    tuples, dicts and sets (whose plain numbers count one each), in user-defined classes' attributes,
    and among the values the model's own functions capture (closures, default arguments, the globals
    they name). A module's plain settings (in_features, training, ...) are not data and do not count.
    """
    seen: set[int] = set()
    total = 0
    budget = [200_000]  # objects visited at most: a model that hides data deeper is not a beginner's

    def visit(value: Any, inside: bool, depth: int) -> None:
        nonlocal total
        if depth > 8 or budget[0] <= 0 or id(value) in seen or isinstance(value, (str, bytes, bool, type(None))):
            return
        if isinstance(value, (types.ModuleType, type)) and not _users_class(value):
            return
        seen.add(id(value))
        budget[0] -= 1
        if isinstance(value, torch.Tensor):
            with contextlib.suppress(Exception):  # an uninitialised (lazy) parameter has no size yet
                total += value.numel()
        elif isinstance(value, np.ndarray):
            total += value.size
        elif isinstance(value, (int, float, complex, np.number)):
            total += 1 if inside else 0
        elif isinstance(value, nn.Module):
            for item in vars(value).values():
                visit(item, False, depth + 1)
            for cls in type(value).__mro__:
                if _users_class(cls):
                    visit(cls, False, depth + 1)
        elif isinstance(value, type):  # a class the learner wrote: its attributes and methods
            for name, item in vars(value).items():
                if name != "__init__":  # what __init__ reads to build the model is not kept by it
                    visit(item, False, depth + 1)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item, True, depth + 1)
        elif isinstance(value, (list, tuple, set, frozenset, collections.deque)):
            for item in value:
                visit(item, True, depth + 1)
        elif isinstance(value, (types.FunctionType, types.MethodType, functools.partial, staticmethod,
                                classmethod, property)):
            for item in _captured(value):
                visit(item, True, depth + 1)
        elif hasattr(value, "__dict__") and not callable(value):  # a plain object: its attributes
            visit(vars(value), True, depth + 1)

    visit(model, False, 0)
    return total


def _users_class(cls: Any) -> bool:
    """Whether ``cls`` is a class written outside torch, NumPy and the standard library."""
    module = getattr(cls, "__module__", "") or ""
    return isinstance(cls, type) and not module.startswith(("torch", "numpy", "builtins", "collections",
                                                             "typing", "abc", "functools", "helpers"))


def _captured(fn: Any) -> list[Any]:
    """What a function can reach besides its arguments: closure cells, defaults, the globals it names."""
    if isinstance(fn, types.MethodType):
        return [fn.__func__, fn.__self__]
    if isinstance(fn, functools.partial):
        return [fn.func, *fn.args, *fn.keywords.values()]
    if isinstance(fn, (staticmethod, classmethod)):
        return [fn.__func__]
    if isinstance(fn, property):
        return [fn.fget, fn.fset]
    found = [cell.cell_contents for cell in fn.__closure__ or () if _filled(cell)]
    found += list(fn.__defaults__ or ()) + list((fn.__kwdefaults__ or {}).values())
    names = set(fn.__code__.co_names)
    found += [value for name, value in fn.__globals__.items() if name in names
              and isinstance(value, (torch.Tensor, np.ndarray, list, tuple, dict, set, collections.deque))]
    return found


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018  (an empty cell raises)
    except ValueError:
        return False
    return True


def _q5_error_hint(message: str, n_features: int, n_classes: int) -> str:
    """A hint for the errors a classifier sized for the visible rings raises on the check's data."""
    data = (f"The check's data here has {n_features} features (columns of X) and {n_classes} classes "
            f"(labels 0 .. {n_classes - 1})")
    shapes = _SHAPES.search(message)
    if shapes and int(shapes.group(2)) == n_features and int(shapes.group(3)) != n_features:
        return (f"{data}, but a layer of your model expects {shapes.group(3)} inputs: size the first "
                "layer from the data you are given, not from the rings above.")
    if "out of bounds" in message:
        return (f"{data}: a label is larger than your model's last output index, so the model has fewer "
                "outputs than there are classes. Size the last layer from the labels you are given.")
    return ""


@exercise(
    "Nothing about the data may be a fixed number: the check's points have other shapes than the rings. "
    "Where the lesson wrote 2 (features) and 3 (classes), what in X and y tells you those numbers?",
    "n_features = X.shape[1] and n_classes = int(y.max()) + 1 (or len(y.unique())). Then the lesson's "
    "recipe: a network with a hidden layer or two and ReLU, nn.CrossEntropyLoss, Adam (lr 0.01), a few "
    "hundred full-batch epochs. Inside the function, train on X and y only, and return the model.",
)
def q5(train_classifier: Any) -> None:
    """train_classifier(X, y): returns a trained model; judged on data of other shapes the learner never saw."""
    with seeded(0):
        _warm_up()
    for n_features, n_classes, n_per_class, seed in _Q5_SETS:
        X_train, y_train, X_test, y_test = _held_back_shells(n_features, n_classes, n_per_class, seed)
        data = f"held-back data with {n_features} features and {n_classes} classes"
        with seeded(1):
            started = time.perf_counter()
            try:
                model = call(train_classifier, X_train, y_train, _seconds=_Q5_SECONDS + 2)
            except Incorrect as error:
                if "so the check stopped it" in str(error):
                    raise Incorrect(f"on {data} train_classifier was still running after {_Q5_SECONDS + 2:g} s, "
                                    f"so the check stopped it; the limit is {_Q5_SECONDS:.0f} s. Fewer epochs or "
                                    "a smaller model will do.") from None
                hint = _q5_error_hint(str(error), n_features, n_classes)
                raise Incorrect(f"{error}. {hint}" if hint else str(error)) from error
            seconds = time.perf_counter() - started
        if model is None:
            raise Incorrect("train_classifier returned None: return the trained model.")
        model = expect_module(model, "what train_classifier returned")
        stored = _numbers_stored(model)
        if stored > _Q5_BUDGET:
            trained = sum(p.numel() for p in model.parameters())
            where = ("Use a smaller model: fewer hidden units or fewer layers." if trained > _Q5_BUDGET / 2 else
                     f"Only {trained:,} of them are trained parameters; the rest are kept data (buffers, "
                     "tensors, arrays or lists of numbers it holds or its functions capture), such as a copy "
                     "of the training points: learn from the points instead of storing them.")
            raise Incorrect(f"on {data} your model stores {stored:,} numbers (parameters, buffers and other "
                            f"data it keeps, together); the limit is {_Q5_BUDGET:,}. {where}")
        expect(seconds <= _Q5_SECONDS, f"on {data} train_classifier took {seconds:.1f} s; the limit is "
               f"{_Q5_SECONDS:.0f} s. Fewer epochs or a smaller model will do on {len(X_train)} points.")
        out = _outputs(model, X_test, "the output of your model")
        expect(tuple(out.shape) == (len(X_test), n_classes),
               f"trained on {data}, your model gave {describe(out)} on new points of shape "
               f"{tuple(X_test.shape)}; expected logits of shape ({len(X_test)}, {n_classes}): one per "
               f"class (the labels run 0 .. {n_classes - 1}).")
        expect(bool(torch.isfinite(out).all()), f"trained on {data}, your model's outputs on new points "
               "contain nan or inf.")
        test_acc = (out.argmax(dim=1) == y_test).float().mean().item()
        train_acc = (_outputs(model, X_train, "the output of your model").argmax(dim=1) == y_train)
        train_acc = train_acc.float().mean().item()
        if test_acc < _Q5_NEEDED:
            seen = (f"on {data} your model reached {test_acc:.2f} accuracy on the held-back points (it "
                    f"needs {_Q5_NEEDED:.2f})")
            if train_acc < _Q5_NEEDED:
                raise Incorrect(f"{seen} and {train_acc:.2f} on the points it trained on: it has not "
                                "learned the rings. Train longer, check the loop (zero_grad, backward, "
                                "step), and give the model a hidden layer with ReLU.")
            raise Incorrect(f"{seen}, but {train_acc:.2f} on the points it trained on: it does well only "
                            "on what it has seen. A smaller model or fewer epochs may generalise better.")


# --------------------------------------------------------------------------- q6
_COUNTING_SHORTCUTS = ("_multiclass_confusion_matrix_update", "_multiclass_stat_scores_update", "_check_targets")
_COUNTED_BY_HAND = "switched off by the check: this exercise counts by hand"


@contextlib.contextmanager
def _metrics_switched_off() -> Iterator[None]:
    """Make torchmetrics' multiclass confusion matrix and scores (accuracy, precision, recall) and
    scikit-learn's classification metrics raise, however the learner imported them: patch the
    internal step each of them calls through its module's globals."""
    import sklearn.metrics  # noqa: F401  (so that a learner's own import finds the patched modules)
    import torchmetrics.classification  # noqa: F401
    import torchmetrics.functional.classification  # noqa: F401

    with contextlib.ExitStack() as stack:
        for name, module in list(sys.modules.items()):
            if module is None or not name.startswith(("torchmetrics", "sklearn.metrics")):
                continue
            for shortcut in _COUNTING_SHORTCUTS:
                if shortcut in vars(module):
                    stack.enter_context(mock.patch.object(module, shortcut, side_effect=RuntimeError(
                        f"{name.split('.')[0]}'s metrics are {_COUNTED_BY_HAND}")))
        yield


def _q6_cases() -> list[tuple[torch.Tensor, torch.Tensor, int]]:
    """(y_true, y_pred, n_classes): classes missing from the labels, from the predictions, from both."""
    generator = torch.Generator().manual_seed(6)
    many_true = torch.randint(0, 6, (200,), generator=generator)
    many_pred = torch.where(torch.rand(200, generator=generator) < 0.7, many_true,
                            torch.randint(0, 6, (200,), generator=generator))
    return [
        (torch.tensor([0, 1, 2, 2, 1, 0, 2]), torch.tensor([0, 2, 2, 2, 1, 1, 0]), 3),
        (torch.tensor([0, 0, 0, 0, 0, 0, 1, 2]), torch.tensor([0, 0, 0, 0, 0, 0, 2, 2]), 3),  # micro != macro
        (torch.tensor([0, 1, 2, 2]), torch.tensor([0, 1, 1, 1]), 3),        # class 2 never predicted
        (torch.tensor([0, 0, 1, 1]), torch.tensor([0, 2, 1, 1]), 3),        # class 2 never true
        (torch.tensor([0, 1, 1, 2, 0]), torch.tensor([0, 1, 2, 2, 1]), 4),  # class 3 in neither
        (many_true, many_pred, 6),
    ]


def _q6_scores(y_true: torch.Tensor, y_pred: torch.Tensor, n_classes: int) -> tuple[torch.Tensor, ...]:
    matrix = torch.zeros(n_classes, n_classes, dtype=torch.float64)
    for t, p in zip(y_true.tolist(), y_pred.tolist(), strict=True):
        matrix[t, p] += 1
    diag = matrix.diag()
    return matrix, diag.sum() / matrix.sum(), diag / matrix.sum(dim=1), diag / matrix.sum(dim=0)


def _as_float_tensor(value: Any, what: str, shape: tuple[int, ...]) -> torch.Tensor:
    """A tensor, NumPy array or (nested) list of numbers as a float64 tensor of ``shape``, or Incorrect."""
    if isinstance(value, torch.Tensor):
        got = value.detach().cpu()
    else:
        try:
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":  # text ("0.5") or other objects are not numbers
                array = np.asarray([_real(item) for item in array.ravel()], dtype=np.float64).reshape(array.shape)
            got = torch.as_tensor(np.asarray(array, dtype=np.float64))
        except (TypeError, ValueError, RuntimeError):
            raise Incorrect(f"{what} should be a tensor of shape {shape} holding numbers, but it is "
                            f"{describe(value)}.") from None
    expect_tensor(got, what, shape=shape)
    expect(not got.is_complex() and got.dtype != torch.bool,
           f"{what} should hold numbers, but its dtype is {got.dtype}.")
    return got.double()


def _real(value: Any) -> float:
    """A number of any kind (Fraction, 0-d tensor, NumPy scalar) as a float; TypeError for anything else."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.dtype.is_complex:
        return float(value)
    not_real = (bool, np.bool_, np.complexfloating)
    if isinstance(value, (numbers.Real, np.number)) and not isinstance(value, not_real):
        return float(value)
    raise TypeError(f"not a number: {value!r}")


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch.allclose(a, b, rtol=0, atol=1e-6, equal_nan=True)


def _rounded(t: torch.Tensor) -> list:
    return [round(v, 4) if v == v else float("nan") for v in t.tolist()]


@exercise(
    "Start with a (n_classes, n_classes) tensor of zeros and go through the pairs zip(y_true, y_pred): "
    "each pair (t, p) adds 1 at row t, column p. Then everything else is read off the matrix: its "
    "diagonal, its row sums and its column sums.",
    "accuracy = diagonal total / all samples; recall[i] = matrix[i, i] / row i's total; precision[i] = "
    "matrix[i, i] / column i's total. Dividing tensors with / gives floats, and 0 / 0 gives nan by itself.",
)
def q6(scores: Any) -> None:
    """scores(y_true, y_pred, n_classes): (confusion matrix, accuracy, recall, precision), counted by hand."""
    for y_true, y_pred, n_classes in _q6_cases():
        c = n_classes
        shown = (f"scores({describe(y_true)}, {describe(y_pred)}, n_classes={c})" if len(y_true) > 10 else
                 f"scores({y_true.tolist()}, {y_pred.tolist()}, n_classes={c})")
        try:
            with _metrics_switched_off():
                answer = call(scores, y_true, y_pred, n_classes)
        except Incorrect as error:
            if _COUNTED_BY_HAND in str(error):
                raise Incorrect("your function calls torchmetrics or scikit-learn metrics, which the check "
                                "switches off for this exercise: count the pairs yourself.") from error
            raise
        expect(isinstance(answer, (tuple, list)) and len(answer) == 4,
               f"{shown} returned {describe(answer)}; return four things: (matrix, accuracy, recall, precision).")
        right_matrix, right_acc, right_recall, right_precision = _q6_scores(y_true, y_pred, n_classes)
        shape = tuple(np.shape(answer[0])) if not isinstance(answer[0], torch.Tensor) else tuple(answer[0].shape)
        seen = int(max(y_true.max(), y_pred.max())) + 1
        if shape == (seen, seen) and seen != c:
            raise Incorrect(f"for {shown} your matrix has shape {shape}, sized from the labels that occur; "
                            f"it must be ({c}, {c}), from n_classes: a class may be missing from the data.")
        matrix = _as_float_tensor(answer[0], f"the matrix from {shown}", (c, c))
        if not torch.equal(matrix, right_matrix):
            if torch.equal(matrix, right_matrix.T):
                raise Incorrect(f"for {shown} your matrix is the transpose of the right one: row i is the "
                                "true class, column j the predicted class.")
            if not bool(torch.isfinite(matrix).all()):
                raise Incorrect(f"for {shown} your matrix contains nan or inf; it holds counts.")
            if close(float(matrix.sum()), 1.0, 1e-6) and _same(matrix * len(y_true), right_matrix):
                raise Incorrect(f"for {shown} your matrix holds fractions of all samples (it sums to 1); it "
                                "should hold the counts themselves.")
            if float(matrix.sum()) != len(y_true):
                raise Incorrect(f"for {shown} your matrix counts {float(matrix.sum()):g} samples in all; there "
                                f"are {len(y_true)}: each (true, predicted) pair adds one count.")
            raise Incorrect(f"for {shown} the matrix should be {right_matrix.long().tolist()}, got "
                            f"{matrix.tolist()}.")
        given = answer[1]
        if isinstance(given, numbers.Real) and not isinstance(given, (bool, int, float)):
            given = float(given)  # a Fraction is a number too
        accuracy = as_number(given, f"the accuracy from {shown}")
        if not close(accuracy, float(right_acc), 1e-6):
            if close(accuracy, 100 * float(right_acc), 1e-6):
                raise Incorrect(f"for {shown} your accuracy {accuracy:g} is a percentage; return the fraction "
                                f"of samples, {float(right_acc):.4f}.")
            if close(accuracy, float(right_recall.nanmean()), 1e-6):
                raise Incorrect(f"for {shown} your accuracy {accuracy:.4f} is the mean of the per-class "
                                f"recalls (macro); accuracy counts samples: {float(right_acc):.4f}.")
            if close(accuracy, float(right_matrix.diag().sum()), 1e-9):
                raise Incorrect(f"for {shown} your accuracy is {accuracy:g}, the number of correct samples: "
                                "divide by the number of all samples.")
            raise Incorrect(f"for {shown} the accuracy should be {float(right_acc):.4f}, got {accuracy:.4f}.")
        recall = _as_float_tensor(answer[2], f"recall from {shown}", (c,))
        precision = _as_float_tensor(answer[3], f"precision from {shown}", (c,))
        if _same(recall, right_precision) and _same(precision, right_recall) and not _same(recall, right_recall):
            raise Incorrect(f"for {shown} your recall and precision are swapped: recall divides by the row "
                            "sums (samples truly of class i), precision by the column sums (samples "
                            "predicted as class i).")
        for name, got, right, total in (("recall", recall, right_recall, "row"),
                                        ("precision", precision, right_precision, "column")):
            if _same(got, right):
                continue
            undefined = right.isnan()
            if _same(got[~undefined], right[~undefined]):
                raise Incorrect(f"for {shown} your {name} is {_rounded(got)}: right where it is defined, but "
                                f"where a class's {total} sum is 0 the {name} is 0 / 0 and must be nan "
                                f"(float('nan')): expected {_rounded(right)}.")
            if bool((got[~got.isnan()] == got[~got.isnan()].round()).all()):
                raise Incorrect(f"for {shown} every {name} value is a whole number ({_rounded(got)}), where "
                                "fractions are expected: divide with / (not //).")
            raise Incorrect(f"for {shown} the {name} should be {_rounded(right)}: matrix[i, i] / the {total} "
                            f"sum of class i; got {_rounded(got)}.")
