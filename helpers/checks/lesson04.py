"""Checks for exercises/04_binary_classification_exercises.ipynb.

The checks that train something seed themselves inside ``torch.random.fork_rng``
(the learner's random state is left as it was), run on one CPU thread (the
fastest way to train models this small) and take well under two seconds.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn

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


def _bce_exact(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean binary cross-entropy of logits, computed stably in float64."""
    z, y = logits.double(), labels.double()
    return float((z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean())


def _is_zero_one(t: torch.Tensor) -> bool:
    return bool(((t == 0) | (t == 1)).all())


def _with_shape_hint(error: Incorrect) -> Incorrect:
    """Replace BCE's 'Target size' error by an explanation of (N, 1) outputs against (N,) labels."""
    original = error.__cause__
    if original is not None and "must be the same as input size" in str(original):
        return Incorrect(f"your code raised {type(original).__name__}: {original}. The model outputs "
                         "shape (N, 1) but y has shape (N,): squeeze the output with .squeeze(1) (or "
                         "give y a column with y.unsqueeze(1)).")
    return error


def _show(t: torch.Tensor) -> str:
    """A tensor's values, rounded, for a hint (its shape if it is large)."""
    if t.numel() <= 10:
        return str([round(v, 4) for v in t.reshape(-1).tolist()])
    return f"a tensor of shape {tuple(t.shape)}"


# --------------------------------------------------------------------------- q1
@exercise(
    "Logits -> torch.sigmoid -> probabilities -> torch.round -> labels; then .squeeze(1) "
    "turns the (N, 1) column into shape (N,).",
    "A probability above 0.5 is the same as a logit above 0, so (logits > 0).float().squeeze(1) "
    "works too.",
)
def q1(logits_to_labels: Any) -> None:
    """logits_to_labels(logits): (N, 1) binary logits to (N,) float labels 0.0 / 1.0."""
    cases = [
        torch.tensor([[2.0], [-1.0], [0.3], [-0.01]]),
        torch.tensor([[-3.0], [5.0]]),
        torch.linspace(-4.0, 4.0, 10).reshape(-1, 1),
        torch.tensor([[100.0], [-100.0], [40.0], [-40.0], [0.75]]),
    ]
    for logits in cases:
        n = len(logits)
        given = logits.clone()
        shown = f"logits_to_labels on logits {_show(logits)} (shape ({n}, 1))"
        out = expect_tensor(call(logits_to_labels, given), shown)
        expect(torch.equal(given, logits), f"{shown} changed the logits in place (e.g. with "
               "sigmoid_()); compute new tensors and leave the input as it was.")
        if tuple(out.shape) == (n, 1):
            raise Incorrect(f"{shown} returned shape ({n}, 1); labels have shape ({n},). "
                            "Squeeze away the column: .squeeze(1).")
        expect(tuple(out.shape) == (n,), f"{shown} returned shape {tuple(out.shape)}; expected "
               f"({n},): one label per point.")
        expect(out.dtype.is_floating_point, f"{shown} returned dtype {out.dtype}; the labels in this "
               "lesson are floats (0.0 and 1.0), like the y that BCEWithLogitsLoss needs: add .float().")
        expected = (logits.squeeze(1) > 0).float()
        if not _is_zero_one(out):
            if torch.allclose(out, torch.sigmoid(logits.squeeze(1)), atol=1e-6):
                raise Incorrect(f"{shown} returned probabilities; round them to labels with torch.round.")
            if torch.equal(out, torch.round(logits.squeeze(1))):
                raise Incorrect(f"{shown} rounded the logits themselves; apply torch.sigmoid first, "
                                "then round the probabilities.")
            raise Incorrect(f"{shown} returned values other than 0 and 1: {describe(out)}.")
        if torch.equal(out, 1 - expected):
            raise Incorrect("the labels are flipped: a positive logit (probability above 0.5) means "
                            "label 1.")
        if not out.any() and expected.any():
            raise Incorrect(f"{shown} returned only zeros. argmax (or softmax) over a single column "
                            "always gives 0 (or 1): that is the multiclass recipe. With one logit per "
                            "point, use sigmoid and round.")
        expect(torch.equal(out, expected), f"{shown} returned {out.tolist()}, expected "
               f"{expected.tolist()}.")


# --------------------------------------------------------------------------- q2
@exercise(
    "Compare element by element (torch.eq(y_true, y_pred) or y_true == y_pred), count the "
    "matches with .sum(), divide by the number of labels.",
    "Return a fraction between 0 and 1 (not a percentage): .item() gives a Python number, and / "
    "(not //) divides without rounding down.",
)
def q2(accuracy_fn: Any) -> None:
    """accuracy_fn(y_true, y_pred): the fraction of labels predicted correctly."""
    cases = [
        ([1.0, 0.0, 1.0, 1.0], [1.0, 0.0, 0.0, 1.0]),
        ([0.0, 0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0, 1.0]),
        ([1.0, 1.0, 0.0], [0.0, 0.0, 1.0]),
        ([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]),
    ]
    for dtype in (torch.float32, torch.long):
        for true_list, pred_list in cases:
            y_true, y_pred = torch.tensor(true_list, dtype=dtype), torch.tensor(pred_list, dtype=dtype)
            shown = f"accuracy_fn({true_list}, {pred_list}) with dtype {dtype}"
            correct = sum(t == p for t, p in zip(true_list, pred_list, strict=True))
            expected = correct / len(true_list)
            try:
                result = call(accuracy_fn, y_true.clone(), y_pred.clone())
            except Incorrect as error:
                if "could not infer output dtype" in str(error):
                    raise Incorrect(f"{error}. A comparison gives a bool tensor, which has no mean: "
                                    "count the matches with .sum(), or convert with .float() before "
                                    ".mean().") from error
                raise
            value = as_number(result, shown)
            if close(value, 100 * expected) and expected > 0:
                raise Incorrect(f"{shown} gave {value:g}, a percentage; return the fraction "
                                f"{expected:g} (between 0 and 1).")
            if close(value, correct) and correct != expected:
                raise Incorrect(f"{shown} gave {value:g}, the number of correct labels; divide it by "
                                "the number of labels, len(y_true).")
            if value == 0 and expected > 0:
                raise Incorrect(f"{shown} gave 0, expected {expected:g}. Integer division (//) rounds "
                                "down to 0: divide with /.")
            expect(close(value, expected), f"{shown} gave {value:g}, expected {expected:g}.")


# --------------------------------------------------------------------------- q3
@exercise(
    "The model outputs raw logits (no sigmoid) and the labels are 0.0 / 1.0: that is binary "
    "cross-entropy that takes logits.",
    "nn.BCEWithLogitsLoss() (with the brackets: an instance). nn.BCELoss wants probabilities, and "
    "torch.sigmoid followed by nn.BCELoss loses precision for large logits.",
)
def q3(loss_fn: Any) -> None:
    """loss_fn: the loss for a model that outputs logits (N,) and float labels (N,)."""
    if isinstance(loss_fn, type):
        raise Incorrect(f"loss_fn is the class {loss_fn.__name__}; create an instance with "
                        f"{loss_fn.__name__}() and assign that.")
    expect(callable(loss_fn), f"loss_fn should be a loss you can call as loss_fn(logits, labels), "
           f"but it is {describe(loss_fn)}.")
    cases = [
        (torch.tensor([-2.0, -0.5, 0.5, 3.0]), torch.tensor([0.0, 1.0, 1.0, 1.0])),
        (torch.tensor([0.1, -1.5, 2.5]), torch.tensor([1.0, 0.0, 0.0])),
        (torch.tensor([30.0, -120.0, 120.0, -30.0]), torch.tensor([1.0, 1.0, 0.0, 0.0])),
    ]
    for logits, labels in cases:
        shown = f"loss_fn(logits={logits.tolist()}, labels={labels.tolist()})"
        try:
            result = call(loss_fn, logits.clone(), labels.clone())
        except Incorrect as error:
            if "between 0 and 1" in str(error):
                raise Incorrect("nn.BCELoss takes probabilities, but the model outputs logits (any real "
                                "number): use nn.BCEWithLogitsLoss(), which applies the sigmoid "
                                "itself.") from error
            raise
        if isinstance(result, nn.Module):
            raise Incorrect(f"{shown} returned a module, not a loss: create the loss once with "
                            "nn.BCEWithLogitsLoss() and assign the instance to loss_fn.")
        value = as_number(result, shown)
        exact = _bce_exact(logits, labels)
        large = bool(logits.abs().max() > 20)
        if not math.isfinite(value):
            raise Incorrect(f"{shown} gave {value}: the loss overflows for large logits (log of a "
                            "sigmoid that rounded to 0). nn.BCEWithLogitsLoss computes it stably.")
        if close(value, exact * len(logits), 1e-3) and not close(value, exact, 1e-3):
            raise Incorrect(f"{shown} gave {value:.4f}, the sum over the points; the mean, "
                            f"{exact:.4f}, is the usual loss (reduction='mean', the default).")
        if large and not close(value, exact, 1e-3):
            raise Incorrect(f"{shown} gave {value:.4f}, but the exact loss is {exact:.4f}: with large "
                            "logits, sigmoid rounds to exactly 0 or 1 in float32 and the loss loses "
                            "precision. Pass the logits to nn.BCEWithLogitsLoss() instead.")
        expect(close(value, exact, 1e-4), f"{shown} gave {value:.4f}, but the binary cross-entropy of "
               f"these logits is {exact:.4f}. For logits and 0/1 labels use nn.BCEWithLogitsLoss().")


# --------------------------------------------------------------------------- q4
def _step_problem(model: nn.Module, before: list[torch.Tensor], backward_ran: bool) -> str | None:
    """Why a training step left the parameters unchanged, or None if they changed."""
    if any(not torch.equal(p, b) for p, b in zip(model.parameters(), before, strict=True)):
        return None
    if not backward_ran:
        return ("the parameters did not change and no gradients were computed: call loss.backward() "
                "(then optimizer.step()).")
    return ("the parameters did not change: call optimizer.step() after loss.backward(), and "
            "optimizer.zero_grad() before the backward pass, not between backward and step.")


@exercise(
    "Inside: model.train(); logits = model(X).squeeze(1); loss = loss_fn(logits, y); then "
    "optimizer.zero_grad(), loss.backward(), optimizer.step(); return loss.item().",
    "zero_grad must come before backward (or at the very start): gradients add up across "
    "backward() calls until they are zeroed.",
)
def q4(train_step: Any) -> None:
    """train_step(model, X, y, loss_fn, optimizer): one full-batch step; returns the loss."""
    with seeded(4):
        X = torch.randn(32, 2)
        y = (X[:, 0] * X[:, 1] > 0).float()
        model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
        reference = copy.deepcopy(model)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        ref_optimizer = torch.optim.SGD(reference.parameters(), lr=0.5)
        loss_fn = nn.BCEWithLogitsLoss()
        gradients_seen: list[bool] = []  # filled by a hook when backward reaches the first weight
        for step in (1, 2, 3):
            model.eval()
            before = [p.detach().clone() for p in model.parameters()]
            gradients_seen.clear()
            hook = next(model.parameters()).register_hook(lambda g: gradients_seen.append(True))
            try:
                result = call(train_step, model, X.clone(), y.clone(), loss_fn, optimizer)
            except Incorrect as error:
                raise _with_shape_hint(error) from error
            finally:
                hook.remove()
            loss = as_number(result, f"what train_step returned (step {step})")

            ref_loss = loss_fn(reference(X).squeeze(1), y)
            ref_optimizer.zero_grad()
            ref_loss.backward()
            ref_optimizer.step()

            expect(model.training, "after train_step the model is still in eval mode: call "
                   "model.train() at the start, so layers such as dropout behave as in training.")
            problem = _step_problem(model, before, bool(gradients_seen))
            if problem:
                raise Incorrect(problem)
            if not close(loss, ref_loss.item()):
                with torch.no_grad():
                    after = loss_fn(model(X).squeeze(1), y).item()
                if close(loss, after):
                    raise Incorrect("train_step returned the loss after the update; return the loss "
                                    "of this step's forward pass (computed before optimizer.step()).")
                raise Incorrect(f"train_step returned {loss:.4f} at step {step}, but the loss of the "
                                f"batch was {ref_loss.item():.4f}: return loss.item() of the "
                                "BCEWithLogitsLoss you computed.")
            same = all(torch.allclose(p, r, atol=1e-6)
                       for p, r in zip(model.parameters(), reference.parameters(), strict=True))
            if not same and step > 1:
                raise Incorrect(f"step 1 was right but step {step} was not: the gradients of earlier "
                                "steps were still there. Call optimizer.zero_grad() every step, "
                                "before loss.backward().")
            expect(same, "the parameters moved, but not as one SGD step on this batch would move "
                   "them: use the optimizer you are given, and step it once per call.")


# --------------------------------------------------------------------------- q5
class _DropoutNet(nn.Module):
    """A small binary classifier with dropout that records whether autograd was on."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 1))
        self.grad_enabled: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.grad_enabled.append(torch.is_grad_enabled())
        return self.net(x)


@exercise(
    "model.eval() first (dropout off), then the forward pass inside `with torch.inference_mode():`, "
    "then logits -> labels as in exercise 1.",
    "In training mode dropout zeroes random units, so predictions change from call to call: "
    "model.eval() makes them deterministic.",
)
def q5(predict: Any) -> None:
    """predict(model, X): (N,) float labels from a binary model, in eval and inference mode."""
    with seeded(5):
        model = _DropoutNet()
        for n in (60, 7):
            X = torch.randn(n, 2) * 2
            with torch.inference_mode():
                model.eval()
                expected = (model(X).squeeze(1) > 0).float()
            model.train()
            model.grad_enabled.clear()
            shown = f"predict(model, X) with X of shape ({n}, 2)"
            out = expect_tensor(call(predict, model, X.clone()), shown)
            if tuple(out.shape) == (n, 1):
                raise Incorrect(f"{shown} returned shape ({n}, 1); squeeze it to ({n},) with .squeeze(1).")
            expect(tuple(out.shape) == (n,), f"{shown} returned shape {tuple(out.shape)}; expected ({n},).")
            expect(out.dtype.is_floating_point, f"{shown} returned dtype {out.dtype}; return float "
                   "labels (0.0 / 1.0): add .float().")
            expect(_is_zero_one(out), f"{shown} returned values other than 0 and 1; turn the logits "
                   "into labels: torch.round(torch.sigmoid(logits)).")
            if not torch.equal(out, expected):
                if model.training:
                    raise Incorrect(f"{shown} gave labels that differ from the model's: the model was "
                                    "still in training mode, so dropout zeroed random units. Call "
                                    "model.eval() before predicting.")
                raise Incorrect(f"{shown} gave labels that differ from the model's: label 1 where the "
                                "logit is above 0 (probability above 0.5).")
            if any(model.grad_enabled) or out.requires_grad:
                raise Incorrect("the labels are right, but the forward pass ran with autograd on: "
                                "wrap it in `with torch.inference_mode():` (or torch.no_grad()) so no "
                                "gradient bookkeeping is done.")


# --------------------------------------------------------------------------- q6
_THRESHOLD = 0.95
_SEEDS = (0, 1, 2, 3, 4)


def _held_out_moons() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """500 moons the lesson never used: 300 to train on, 200 to test."""
    from sklearn.datasets import make_moons  # imported here: only this check needs scikit-learn

    X_np, y_np = make_moons(n_samples=500, noise=0.1, random_state=7)
    X = torch.from_numpy(X_np).float()
    y = torch.from_numpy(y_np).float()
    return X[:300], y[:300], X[300:], y[300:]


def _train_and_score(model: nn.Module, data: tuple[torch.Tensor, ...]) -> float:
    """Adam, lr 0.02, 300 full-batch epochs; test accuracy with threshold logit > 0."""
    X_train, y_train, X_test, y_test = data
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    loss_fn = nn.BCEWithLogitsLoss()
    model.train()
    for _ in range(300):
        loss = loss_fn(model(X_train).reshape(-1), y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.inference_mode():
        return float(((model(X_test).reshape(-1) > 0).float() == y_test).float().mean())


@exercise(
    "Two inputs, one output: nn.Linear(2, hidden) first and nn.Linear(hidden, 1) last, with a "
    "non-linear activation such as nn.ReLU() between the layers.",
    "Without an activation, stacked linear layers are one linear layer (a straight boundary). "
    "forward returns the raw logits: no sigmoid at the end.",
)
def q6(model_class: Any) -> None:
    """MoonModel: an nn.Module class; the check builds it, trains it on new moons, wants >= 0.95."""
    if isinstance(model_class, nn.Module):
        raise Incorrect("pass the class itself, check.q6(MoonModel), not an instance MoonModel(): "
                        "the check builds fresh models to train.")
    expect(isinstance(model_class, type) and issubclass(model_class, nn.Module),
           f"MoonModel should be a class that subclasses nn.Module, but it is {describe(model_class)}.")
    data = _held_out_moons()
    with seeded(0):
        try:
            model = expect_module(call(model_class), "MoonModel()")
        except Incorrect as error:
            if "before Module.__init__() call" in str(error):
                raise Incorrect("MoonModel() failed: 'cannot assign module before Module.__init__() "
                                "call'. Start __init__ with super().__init__(), before creating any "
                                "layer.") from error
            raise
        expect(any(True for _ in model.parameters()), "MoonModel() has no parameters: create its "
               "layers in __init__ as attributes (self.layer_1 = nn.Linear(...)).")
        probe = torch.randn(200, 2) * 3
        model.eval()
        with torch.inference_mode():
            out = expect_tensor(call(model, probe[:5]), "the output of MoonModel() on 5 points",
                                floating=True)
            if tuple(out.shape) not in {(5, 1), (5,)}:
                raise Incorrect(f"for 5 points MoonModel() returned shape {tuple(out.shape)}; a binary "
                                "classifier returns one logit per point, (5, 1): end with "
                                "nn.Linear(hidden, 1).")
            a, b = probe[:100], probe[100:]
            middle = model((a + b) / 2).reshape(-1)
            average = (model(a).reshape(-1) + model(b).reshape(-1)) / 2
        if torch.allclose(middle, average, atol=1e-4, rtol=1e-4):
            raise Incorrect("MoonModel is linear: whatever its layers, without an activation between "
                            "them they collapse into one linear layer, whose boundary is a straight "
                            "line. Put nn.ReLU() between the linear layers.")
    scores = []
    for seed in _SEEDS:
        with seeded(seed):
            model = call(model_class)
            scores.append(_train_and_score(model, data))
        if scores[-1] >= _THRESHOLD:
            return
    with torch.inference_mode():
        far = model(probe * 20).reshape(-1)
    if bool(((far >= 0) & (far <= 1)).all()):
        raise Incorrect("MoonModel's outputs all lie between 0 and 1, so forward seems to end with a "
                        "sigmoid. Return the raw logits: BCEWithLogitsLoss applies the sigmoid itself, "
                        "and labels come from logits > 0.")
    raise Incorrect(f"trained with Adam (lr 0.02, 300 epochs) on new moons, MoonModel reached at best "
                    f"{max(scores):.2f} test accuracy (a straight line gets about 0.87; the check wants "
                    f"{_THRESHOLD}). Give it more hidden units (10 or more per layer) with ReLU between "
                    "the layers.")


# --------------------------------------------------------------------------- q7
@exercise(
    "tanh(x) = (e^x - e^-x) / (e^x + e^-x), with torch.exp. Try it on torch.tensor([100.0]) "
    "and see what happens.",
    "torch.exp(100.0) is inf in float32, and inf / inf is nan. Only exponentiate -2|x| (at most 0): "
    "e = torch.exp(-2 * x.abs()); torch.sign(x) * (1 - e) / (1 + e).",
)
def q7(my_tanh: Any) -> None:
    """my_tanh(x): tanh from torch.exp, equal to torch.tanh, also for large inputs."""
    cases = [
        torch.linspace(-5.0, 5.0, 101),
        torch.linspace(-3.0, 3.0, 12).reshape(3, 4),
        torch.tensor([1e-8, -1e-8, 1e-4, 0.0]),
        torch.tensor([-1000.0, -100.0, -50.0, -20.0, 20.0, 50.0, 100.0, 1000.0]),
    ]
    for x in cases:
        given = x.clone()
        shown = f"my_tanh on {_show(x)}"
        out = expect_tensor(call(my_tanh, given), shown, shape=x.shape, floating=True)
        expect(torch.equal(given, x), f"{shown} changed its input in place; leave x as it was.")
        expected = torch.tanh(x)
        if not torch.isfinite(out).all():
            bad = x[~torch.isfinite(out)][:3].tolist()
            raise Incorrect(f"{shown} gave nan or inf at x = {bad}: torch.exp overflows float32 above "
                            "about 88, and inf / inf is nan. Rewrite the formula so that e is only "
                            "raised to -2|x|, or clamp x first.")
        if torch.allclose(out, torch.sinh(x), atol=1e-5, rtol=1e-4) and x.abs().max() > 1:
            raise Incorrect("(e^x - e^-x) / 2 is sinh, not tanh: divide by (e^x + e^-x) instead.")
        if torch.allclose(out, torch.sigmoid(x), atol=1e-5):
            raise Incorrect("that is the sigmoid, which runs from 0 to 1; tanh runs from -1 to 1.")
        if not torch.allclose(out, expected, atol=1e-6, rtol=1e-5):
            worst = int((out - expected).abs().argmax())
            raise Incorrect(f"{shown}: at x = {x.reshape(-1)[worst].item():g} you get "
                            f"{out.reshape(-1)[worst].item():.6g}, torch.tanh gives "
                            f"{expected.reshape(-1)[worst].item():.6g}.")
