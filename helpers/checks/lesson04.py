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
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import torch
from torch import nn
from torch.nn import functional as F

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


# --------------------------------------------------------------------------- q1
_THRESHOLD_CASES = [
    # (logits (N, 1), threshold): no logit sits within 1e-3 of the threshold's logit, so the rounding of
    # a float32 sigmoid cannot change a label.
    (torch.tensor([[3.0], [2.0], [0.5], [-0.5], [2.5]]), 0.9),
    (torch.tensor([[-1.0], [-2.0], [0.1], [-3.0]]), 0.2),
    (torch.tensor([[0.3], [-0.3], [4.0], [-4.0]]), 0.5),
    (torch.tensor([[100.0], [-100.0], [5.0], [4.0], [-0.7]]), 0.99),
]


@exercise(
    "The threshold is a probability: turn the logits into probabilities first (torch.sigmoid), "
    "compare with the threshold, then make float labels of shape (N,).",
    "(probabilities >= threshold) gives a bool tensor; .float() makes 0.0 / 1.0, .squeeze(1) drops the "
    "column. Use the threshold you are given, not 0.5.",
)
def q1(labels_at_threshold: Any) -> None:
    """labels_at_threshold(logits, threshold): 1.0 where sigmoid(logit) >= threshold, else 0.0."""
    observed = {"logits vs threshold": True, "threshold 0.5": True}
    failure = None
    for logits, threshold in _THRESHOLD_CASES:
        n = len(logits)
        shown = f"labels_at_threshold(logits={_show(logits)} (shape ({n}, 1)), threshold={threshold})"
        out = _labels(call(labels_at_threshold, logits, threshold), n, shown)
        z = logits.squeeze(1).double()
        expected = (torch.sigmoid(z) >= threshold).to(out.dtype)
        observed["logits vs threshold"] &= torch.equal(out, (z >= threshold).to(out.dtype))
        observed["threshold 0.5"] &= torch.equal(out, (z >= 0).to(out.dtype))
        if failure is None and not torch.equal(out, expected):
            failure = f"{shown} returned {out.tolist()}, expected {expected.tolist()}."
    if failure is None:
        return
    if observed["threshold 0.5"]:
        raise Incorrect("on every input your labels are those of threshold 0.5 (logit > 0), whatever "
                        "threshold was passed: use the threshold argument.")
    if observed["logits vs threshold"]:
        raise Incorrect("on every input your labels are the logits compared with the threshold; the "
                        "threshold is a probability, so compare probabilities with it.")
    raise Incorrect(failure)


# --------------------------------------------------------------------------- q2
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
    for dtype in (torch.float32, torch.long):
        for true_list, pred_list in _CLASS_CASES:
            y_true, y_pred = torch.tensor(true_list, dtype=dtype), torch.tensor(pred_list, dtype=dtype)
            shown = f"accuracy_per_class({true_list}, {pred_list}) with dtype {dtype}"
            result = call(accuracy_per_class, y_true, y_pred)
            expect(isinstance(result, (tuple, list)) and len(result) == 2, f"{shown} returned "
                   f"{describe(result)}; return a pair (accuracy of class 0, accuracy of class 1).")
            got = [as_number(v, f"each value {shown} returned") for v in result]
            n = len(true_list)
            right = [sum(t == p == c for t, p in zip(true_list, pred_list, strict=True)) for c in (0, 1)]
            size = [true_list.count(c) for c in (0, 1)]
            expected = [right[c] / size[c] for c in (0, 1)]
            overall = sum(t == p for t, p in zip(true_list, pred_list, strict=True)) / n
            if all(close(g, e) for g, e in zip(got, expected, strict=True)):
                continue
            if all(close(g, e) for g, e in zip(got, expected[::-1], strict=True)):
                raise Incorrect(f"{shown} returned {got}: the two values are swapped. Return class 0's "
                                "accuracy first.")
            if all(close(g, overall) for g in got):
                raise Incorrect(f"{shown} returned the overall accuracy ({overall:g}) twice; each value "
                                "should count only the points whose true label is that class.")
            if all(close(g, r / n) for g, r in zip(got, right, strict=True)):
                raise Incorrect(f"{shown} returned {got}: each class's correct points divided by all "
                                f"{n} points. Divide by the number of points in that class.")
            raise Incorrect(f"{shown} returned {[round(g, 4) for g in got]}, expected "
                            f"{[round(e, 4) for e in expected]}.")


# --------------------------------------------------------------------------- q3
def _refuse(name: str):
    def refuse(*_: Any, **__: Any) -> None:
        raise RuntimeError(f"{name} is disabled in this exercise: compute the loss by hand")
    return refuse


_SHORTCUTS = ("binary_cross_entropy_with_logits", "binary_cross_entropy", "softplus", "logsigmoid")


@contextlib.contextmanager
def _no_bce_shortcuts() -> Iterator[None]:
    """Disable PyTorch's ready-made binary cross-entropy (and softplus / logsigmoid) while the answer runs."""
    with contextlib.ExitStack() as stack:
        for name in _SHORTCUTS:
            stack.enter_context(mock.patch.object(F, name, _refuse(f"F.{name}")))
        stack.enter_context(mock.patch.object(torch, "binary_cross_entropy_with_logits",
                                              _refuse("torch.binary_cross_entropy_with_logits")))
        yield


def _bce_exact(z: torch.Tensor, y: torch.Tensor) -> float:
    """Mean binary cross-entropy of logits, in float64 by the stable formula."""
    z, y = z.double(), y.double()
    return float((z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean())


_BCE_CASES = [
    (torch.tensor([-2.0, -0.5, 0.5, 3.0]), torch.tensor([0.0, 1.0, 1.0, 1.0])),
    (torch.tensor([0.1, -1.5, 2.5]), torch.tensor([1.0, 0.0, 0.0])),
    (torch.tensor([0.0, 0.0]), torch.tensor([1.0, 0.0])),
    (torch.tensor([17.0, -30.0, 20.0, -200.0, 1000.0]), torch.tensor([0.0, 1.0, 1.0, 0.0, 0.0])),
]


@exercise(
    "Start from the formula with probabilities, -[y log p + (1 - y) log(1 - p)], p = sigmoid(z); it is "
    "right for small logits. For large ones, use the form from the lesson's Going further: "
    "max(z, 0) - z*y + log(1 + e^(-|z|)).",
    "torch.clamp(z, min=0), z.abs(), torch.exp and torch.log1p are all you need; end with .mean().",
)
def q3(bce_by_hand: Any) -> None:
    """bce_by_hand(logits, labels): mean BCE from logits, stable, without PyTorch's ready-made losses."""
    for logits, labels in _BCE_CASES:
        shown = f"bce_by_hand(logits={_show(logits)}, labels={_show(labels)})"
        try:
            with _no_bce_shortcuts():
                result = call(bce_by_hand, logits, labels)
        except Incorrect as error:
            if "disabled in this exercise" in str(error):
                raise Incorrect(f"{shown} called one of PyTorch's ready-made losses, which this check "
                                "disables (binary_cross_entropy(_with_logits), softplus, logsigmoid, and "
                                "so nn.BCELoss / nn.BCEWithLogitsLoss): write the formula with torch.exp, "
                                "torch.log1p and friends.") from error
            raise
        value = as_number(result, f"what {shown} returned")
        exact = _bce_exact(logits, labels)
        if value != value or abs(value) == float("inf"):
            raise Incorrect(f"{shown} gave {value}. For large logits, sigmoid rounds to exactly 0 or 1 in "
                            "float32 and the log of 0 is -inf (or 0 * inf is nan): use a form that never "
                            "takes the log of a rounded probability.")
        n = len(logits)
        if close(value, exact * n, 1e-4) and not close(value, exact, 1e-4):
            raise Incorrect(f"{shown} gave {value:.6g}, the sum over the {n} points; return the mean, "
                            f"{exact:.6g}.")
        # float32 answers carry a relative error near 1e-7 per operation: 1e-5 leaves a wide margin
        expect(close(value, exact, 1e-5) or abs(value - exact) <= 1e-5 * max(1.0, abs(exact)),
               f"{shown} gave {value:.6g}, but the binary cross-entropy of these logits is {exact:.6g}.")


# --------------------------------------------------------------------------- q4
def _reference_training(model: nn.Module, X: torch.Tensor, y: torch.Tensor, epochs: int, lr: float,
                        double_sigmoid: bool = False) -> tuple[list[float], list[torch.Tensor]]:
    """Plain full-batch SGD with BCEWithLogitsLoss; the losses and the final parameters."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    losses = []
    for _ in range(epochs):
        out = model(X).squeeze(1)
        loss = loss_fn(torch.sigmoid(out) if double_sigmoid else out, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, [p.detach().clone() for p in model.parameters()]


def _moon_like(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    with seeded(seed):
        X = torch.randn(n, 2)
        y = (X[:, 0] * X[:, 1] > 0).float()
    return X, y


def _same(params: list[torch.Tensor], other: list[torch.Tensor]) -> bool:
    return all(torch.allclose(p, o, atol=1e-5, rtol=1e-4) for p, o in zip(params, other, strict=True))


@exercise(
    "Run train_moons_broken on the moons and watch the printed losses: do they move? Then read the "
    "function line by line against the lesson's training loop: which arguments are used, what goes "
    "into the loss, and in which order are zero_grad, backward and step called?",
    "There are three bugs: the learning rate argument is ignored, the loss is given probabilities "
    "although BCEWithLogitsLoss applies the sigmoid itself, and zero_grad sits between backward and step.",
)
def q4(train_moons: Any) -> None:
    """train_moons(model, X, y, epochs, lr): plain SGD with BCEWithLogitsLoss; returns the losses."""
    X, y = _moon_like(40, 4)
    epochs = 5
    for lr in (0.5, 0.05):
        with seeded(40):
            model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
        start = [p.detach().clone() for p in model.parameters()]
        backward_ran: list[bool] = []
        hook = next(model.parameters()).register_hook(lambda g, seen=backward_ran: seen.append(True))
        shown = f"train_moons(model, X of shape (40, 2), y, epochs={epochs}, lr={lr})"
        try:
            losses = call(train_moons, model, X, y, epochs, lr)
        finally:
            hook.remove()
        after = [p.detach().clone() for p in model.parameters()]

        def reference(lr_used: float, double_sigmoid: bool = False,
                      start: list[torch.Tensor] = start) -> tuple[list[float], list[torch.Tensor]]:
            with seeded(40):
                twin = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
            with torch.no_grad():
                for p, s in zip(twin.parameters(), start, strict=True):
                    p.copy_(s)
            return _reference_training(twin, X, y, epochs, lr_used, double_sigmoid)

        ref_losses, ref_params = reference(lr)
        if _same(after, start):
            if backward_ran:
                raise Incorrect(f"{shown}: backward() ran but the parameters did not change at all. "
                                "optimizer.step() needs the gradients that backward() just computed: "
                                "look at what runs between backward and step.")
            raise Incorrect(f"{shown}: the parameters did not change, and no gradient was computed.")
        if not _same(after, ref_params):
            if _same(after, reference(lr, double_sigmoid=True)[1]):
                raise Incorrect(f"{shown}: your model trained exactly as if the loss received "
                                "sigmoid(logits). BCEWithLogitsLoss applies the sigmoid itself, so it is "
                                "applied twice: give the loss the raw logits.")
            for other in (0.1, 0.01, 1.0, 0.5, 0.05):
                if other != lr and _same(after, reference(other)[1]):
                    raise Incorrect(f"{shown}: your model trained exactly as with lr={other}, not the lr "
                                    f"it was given ({lr}). Use the lr argument.")
            raise Incorrect(f"{shown}: after training, the parameters differ from {epochs} steps of "
                            "plain SGD (zero_grad, backward, step once per epoch) with BCEWithLogitsLoss "
                            "on the logits.")
        expect(isinstance(losses, (list, tuple)) and len(losses) == epochs, f"{shown} returned "
               f"{describe(losses)}; return the list of the {epochs} losses, one per epoch.")
        got = [as_number(v, "each loss train_moons returned") for v in losses]
        expect(all(close(g, r, 1e-4) for g, r in zip(got, ref_losses, strict=True)),
               f"{shown} trained correctly but returned the losses {[round(g, 4) for g in got]}, "
               f"expected {[round(r, 4) for r in ref_losses]} (each epoch's loss, .item(), before its step).")


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
        shown = f"collapse on a stack of {len(sizes)} linear layer(s), {' -> '.join(map(str, dims))}"
        result = call(collapse, model)
        expect(all(torch.equal(v, model.state_dict()[k]) for k, v in before.items()),
               f"{shown} changed the model's parameters; leave the model as it was.")
        expect(isinstance(result, (tuple, list)) and len(result) == 2, f"{shown} returned "
               f"{describe(result)}; return a pair (W, b).")
        W = expect_tensor(result[0], f"W from {shown}", floating=True)
        b = expect_tensor(result[1], f"b from {shown}", floating=True)
        expect(tuple(W.shape) == (dims[-1], n_in), f"W from {shown} has shape {tuple(W.shape)}; expected "
               f"({dims[-1]}, {n_in}) (outputs, inputs), like an nn.Linear weight.")
        expect(tuple(b.shape) == (dims[-1],), f"b from {shown} has shape {tuple(b.shape)}; expected "
               f"({dims[-1]},).")
        with torch.no_grad():
            wanted = copy.deepcopy(model).double()(x.double())
            got = x.double() @ W.detach().double().T + b.detach().double()
        # float32 products of a few layers of size <= 6: errors near 1e-6 on outputs of size ~1
        expect(torch.allclose(got, wanted, atol=1e-4, rtol=1e-4), f"with your W and b, x @ W.T + b "
               f"differs from the model's output for {shown} (largest difference "
               f"{(got - wanted).abs().max().item():.3g}).")


# --------------------------------------------------------------------------- q6
_E2E_THRESHOLD = 0.95
_E2E_SECONDS = 10.0


def _held_out_circles() -> tuple[torch.Tensor, ...]:
    """Circles the exercise never shows: 400 to train on, 200 kept back for testing."""
    from sklearn.datasets import make_circles  # imported here: only this check needs scikit-learn

    X_np, y_np = make_circles(n_samples=600, noise=0.05, factor=0.5, random_state=2024)
    X, y = torch.from_numpy(X_np).float(), torch.from_numpy(y_np).float()
    return X[:400], y[:400], X[400:], y[400:]


@exercise(
    "Inside train_classifier: build a model with two inputs, one output and a ReLU between linear layers "
    "(as in the lesson), then train it with BCEWithLogitsLoss on the logits for enough epochs; return the "
    "model. Test it in your notebook on your own split before calling the check.",
    "If the check reports a low accuracy, train longer, use a larger learning rate, or use "
    "torch.optim.Adam (lr about 0.01 to 0.05); keep the last layer without a sigmoid.",
)
def q6(train_classifier: Any) -> None:
    """train_classifier(X_train, y_train) -> trained model; judged on circles the check holds back."""
    X_train, y_train, X_test, y_test = _held_out_circles()
    with seeded(6):
        start = time.process_time()  # computing time: other programs on the machine do not count
        model = call(train_classifier, X_train, y_train)
        seconds = time.process_time() - start
    model = expect_module(model, "what train_classifier returned")
    expect(seconds <= _E2E_SECONDS, f"train_classifier took {seconds:.1f} s of computing time on 400 points; the "
           f"limit is {_E2E_SECONDS:.0f} s. Train for fewer epochs or with a larger learning rate.")
    model.eval()
    with torch.inference_mode():
        out = expect_tensor(call(model, X_test), "the model's output on the 200 held-back points",
                            floating=True)
        if tuple(out.shape) not in {(200, 1), (200,)}:
            raise Incorrect(f"for 200 points the model returned shape {tuple(out.shape)}; a binary "
                            "classifier returns one logit per point, (200, 1) or (200,).")
        accuracy = float(((out.reshape(-1) > 0).float() == y_test).float().mean())
        far = call(model, X_test * 50).reshape(-1)
    if accuracy >= _E2E_THRESHOLD:
        return
    if bool(((out >= 0) & (out <= 1)).all()) and bool(((far >= 0) & (far <= 1)).all()):
        raise Incorrect(f"held-back accuracy {accuracy:.2f} (labels read as logit > 0). Every output lies "
                        "between 0 and 1, even far from the data: does forward end with a sigmoid? Return "
                        "raw logits.")
    raise Incorrect(f"on the 200 held-back points the model's accuracy is {accuracy:.2f} (labels read as "
                    f"logit > 0); the check wants at least {_E2E_THRESHOLD}. A straight line gets about "
                    "0.5 on circles: is there an activation between the layers, and did the loss fall?")
