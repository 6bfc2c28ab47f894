"""Checks for exercises/05_multiclass_classification_exercises.ipynb.

The checks that train something seed themselves inside ``torch.random.fork_rng``
(the learner's random state is left as it was) and run on one CPU thread,
which is the fastest way to train models this small.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from helpers._validate import model_device
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
from helpers.data import make_spirals


# --------------------------------------------------------------------------- q1
@exercise(
    "Exponentiate, then divide each row by its own sum: "
    "exp / exp.sum(dim=1, keepdim=True). keepdim keeps the sums as a column (N, 1) that broadcasts.",
    "exp(1000) is inf in float32. Subtracting the same number from every logit of a row does not "
    "change that row's softmax (the factor it puts on top and bottom cancels). Which number would "
    "make every exponent <= 0?",
    "Subtract each row's maximum first: shifted = logits - logits.max(dim=1, keepdim=True).values; "
    "then exponentiate and divide as before.",
)
def q1(softmax: Any) -> None:
    """softmax(logits): (N, C) logits to (N, C) probabilities, stable for large logits."""
    cases = [
        torch.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]),
        torch.tensor([[2.0, -1.0, 0.5, 0.0]]),
        torch.linspace(-3.0, 3.0, 15).reshape(5, 3),
        torch.tensor([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -999.0]]),
        torch.tensor([[1000.0, 1001.0, 999.0], [0.0, 1.0, -1.0]]),
    ]
    for logits in cases:
        given = logits.clone()
        shown = f"softmax({logits.tolist()})"
        try:
            answer = call(softmax, given)
        except Incorrect as error:
            if "must match the size" in str(error):
                raise Incorrect(f"{error}. A row maximum or row sum of shape (N,) does not line up "
                                "with logits of shape (N, C): keep it as a column (N, 1) with "
                                "keepdim=True, e.g. logits.max(dim=1, keepdim=True).values.") from error
            raise
        out = expect_tensor(answer, shown, shape=logits.shape, floating=True)
        out = out.detach().cpu().float()  # float64 answers are fine too
        expect(torch.equal(given, logits), f"{shown} changed its input in place (for example with "
               "-=): compute a new tensor and leave logits as they were.")
        if not torch.isfinite(out).all():
            raise Incorrect(f"{shown} contains nan or inf. exp(1000) overflows float32: subtract each "
                            "row's own maximum first (logits.max(dim=1, keepdim=True).values); shifting "
                            "a row does not change its softmax.")
        if torch.allclose(out, torch.sigmoid(logits), atol=1e-6):
            raise Incorrect("that is the sigmoid, which squashes each logit on its own (the binary "
                            "recipe). Softmax makes each row of probabilities sum to one.")
        row_sums = out.sum(dim=1)
        if not torch.allclose(row_sums, torch.ones_like(row_sums), atol=1e-5):
            if torch.allclose(out.sum(dim=0), torch.ones(out.shape[1]), atol=1e-5):
                raise Incorrect(f"in {shown} the columns sum to one, not the rows: normalise over the "
                                "classes, dim=1 (dim=0 runs down the samples).")
            raise Incorrect(f"the rows of {shown} sum to {[round(s, 4) for s in row_sums.tolist()]}; "
                            "each row of probabilities must sum to one: divide each row by its own "
                            "sum, exps.sum(dim=1, keepdim=True).")
        expect(torch.allclose(out, torch.softmax(logits, dim=1), atol=1e-6),
               f"{shown} sums to one per row, but the values are not exp(logit) / row sum.")


# --------------------------------------------------------------------------- q2
@exercise(
    "The predicted class is the position of the largest logit in each row.",
    "logits.argmax(dim=1) gives one class index per row, already of dtype torch.long. "
    "Softmax first is allowed but changes nothing: it keeps the order within a row.",
)
def q2(logits_to_labels: Any) -> None:
    """logits_to_labels(logits): (N, C) logits to (N,) long class labels."""
    cases = [
        torch.tensor([[2.0, 0.5, -1.0], [0.1, 3.0, 0.2], [-2.0, -1.0, 0.5], [0.3, 0.2, 0.1]]),
        torch.tensor([[-3.0, -1.0, -2.0, -5.0, -4.0]]),
        torch.tensor([[0.9, -0.9], [-0.2, 0.2], [5.0, 6.0], [1.0, -1.0], [0.0, 0.5], [-4.0, -3.0]]),
        torch.tensor([[1.0, 4.0, 2.0], [9.0, 0.0, 1.0], [0.5, 0.0, 8.0]]),  # square: N == C
    ]
    for logits in cases:
        n, c = logits.shape
        shown = f"logits_to_labels on logits of shape {(n, c)}"
        out = call(logits_to_labels, logits.clone())
        if hasattr(out, "values") and hasattr(out, "indices") and not isinstance(out, torch.Tensor):
            raise Incorrect(f"{shown} returned a pair (values, indices), what torch.max(..., dim=1) "
                            "gives: the labels are its .indices (or use logits.argmax(dim=1)).")
        expect_tensor(out, shown)
        if out.ndim == 0:
            raise Incorrect(f"{shown} returned a single number: argmax without dim= flattens the whole "
                            "tensor and returns one index. Pass dim=1 for one label per row.")
        if tuple(out.shape) == (n, c):
            if bool(((out == 0) | (out == 1)).all()):
                raise Incorrect(f"{shown} returned a 0/1 value for every class: sigmoid and round is the "
                                "binary recipe (one logit per sample). With one logit per class, take the "
                                "argmax over the classes, dim=1.")
            raise Incorrect(f"{shown} returned a value per class (probabilities?), shape {(n, c)}; a "
                            f"label is one class index per row, shape ({n},): use argmax(dim=1).")
        if tuple(out.shape) == (c,) and n != c:
            raise Incorrect(f"{shown} returned shape ({c},): argmax(dim=0) picks a sample for each "
                            "class. You want a class for each sample: argmax(dim=1).")
        if tuple(out.shape) == (n, 1):
            raise Incorrect(f"{shown} returned shape ({n}, 1); labels have shape ({n},): drop "
                            "keepdim=True (or .squeeze(1)).")
        expect(tuple(out.shape) == (n,), f"{shown} returned shape {tuple(out.shape)}, expected ({n},).")
        expect(out.dtype == torch.long, f"{shown} returned dtype {out.dtype}; labels are class indices of "
               "dtype torch.long (argmax returns that already; .long() converts).")
        expected = logits.argmax(dim=1)
        if not torch.equal(out, expected):
            if n == c and torch.equal(out, logits.argmax(dim=0)):
                raise Incorrect("for square logits your labels are the argmax over dim=0 (down the "
                                "samples); take it over the classes, dim=1.")
            raise Incorrect(f"{shown}: expected {expected.tolist()}, got {out.tolist()}; pick the "
                            "largest logit in each row.")


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
        if logits.ndim == 1:
            return ("Logits of shape (N,) are binary too: one logit per sample, not one per class. "
                    "Use BCEWithLogitsLoss.")
        return ""
    if "must be the same as input size" in message and logits.shape[1] == 2:
        return ("Two logits per sample is a multiclass output with C = 2: use CrossEntropyLoss. Only "
                "one logit per sample, shape (N,) or (N, 1), is binary.")
    if "Long" in message and "Float" in message:
        return "CrossEntropyLoss takes class indices of dtype torch.long: labels.long()."
    return ""


# --------------------------------------------------------------------------- q4
_Q4_EPOCHS, _Q4_LR, _Q4_NEEDED = 300, 0.01, 0.90


def _split_spirals(n_classes: int, seed: int) -> tuple[torch.Tensor, ...]:
    X, y = make_spirals(n_per_class=150, n_classes=n_classes, seed=seed)
    order = np.random.default_rng(seed).permutation(len(X))
    cut = int(0.8 * len(X))
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    return X_t[order[:cut]], y_t[order[:cut]], X_t[order[cut:]], y_t[order[cut:]]


def _outputs(model: nn.Module, X: torch.Tensor, shown: str) -> torch.Tensor:
    """The model's outputs in eval mode (so dropout or batch norm are allowed), on the CPU."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            out = call(model, X.to(model_device(model)))
    finally:
        model.train(was_training)
    return expect_tensor(out, shown).detach().float().cpu()


@exercise(
    "nn.Sequential(nn.Linear(n_features, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), "
    "nn.Linear(64, n_classes)).",
    "No activation after the last layer: CrossEntropyLoss wants raw logits. Without a ReLU (or another "
    "non-linearity) between the Linear layers the model can only draw straight boundaries.",
)
def q4(build_model: Any) -> None:
    """build_model(n_features, n_classes): a fresh classifier the check trains on held-out spirals."""
    with seeded(0):
        model = expect_module(call(build_model, 2, 3), "build_model(2, 3)")
        expect(call(build_model, 2, 3) is not model,
               "build_model returned the same model twice: create a new one on every call.")
        n_params = sum(p.numel() for p in model.parameters())
        expect(n_params > 0, "build_model(2, 3) has no parameters to train: use nn.Linear layers.")
        expect(n_params <= 200_000, f"build_model(2, 3) has {n_params:,} parameters; a few thousand are "
               "plenty for this data (two hidden layers of 64 units are about 4,500).")
        _, _, X_test, _ = _split_spirals(3, seed=5)
        out = _outputs(model, X_test, "the output of build_model(2, 3)")
        if tuple(out.shape) == (len(X_test), 1) or out.ndim == 1:
            raise Incorrect("the model gives one output per sample; a 3-class model needs one logit per "
                            "class: the last Linear layer should have n_classes outputs.")
        expect(tuple(out.shape) == (len(X_test), 3),
               f"on inputs of shape {tuple(X_test.shape)} the model gave {tuple(out.shape)}, expected "
               f"({len(X_test)}, 3): one logit per class.")
        far = _outputs(model, 50 * X_test, "the output of build_model(2, 3)")
        if bool(((far >= 0) & (far <= 1)).all()):
            raise Incorrect("the outputs all lie between 0 and 1 even for far-away inputs: the model ends "
                            "with a softmax or sigmoid. Return raw logits (end with nn.Linear): "
                            "CrossEntropyLoss applies log-softmax itself.")
        if bool((far >= 0).all()):
            raise Incorrect("the outputs are never negative, even for far-away inputs: the model ends "
                            "with an activation such as ReLU. Logits must be free to take any value: "
                            "end with nn.Linear, with nothing after it.")
        a, b = X_test[:20], X_test[20:40]
        zero = torch.zeros(1, 2)
        if torch.allclose(_outputs(model, a + b, "") + _outputs(model, zero, ""),
                          _outputs(model, a, "") + _outputs(model, b, ""), atol=1e-4):
            raise Incorrect("the model is linear: a stack of Linear layers with nothing in between is "
                            "still one straight-line classifier, and spirals need curves. Put nn.ReLU() "
                            "between the Linear layers.")
        for n_features, n_classes in ((2, 4), (5, 3)):
            other = expect_module(call(build_model, n_features, n_classes),
                                  f"build_model({n_features}, {n_classes})")
            shape = tuple(_outputs(other, torch.zeros(7, n_features),
                                   f"the output of build_model({n_features}, {n_classes})").shape)
            expect(shape == (7, n_classes),
                   f"build_model({n_features}, {n_classes}) on inputs of shape (7, {n_features}) gave "
                   f"{shape}, expected (7, {n_classes}): use the arguments n_features and n_classes "
                   "instead of fixed numbers.")
        for n_classes, seed in ((3, 5), (4, 6)):
            X_train, y_train, X_test, y_test = _split_spirals(n_classes, seed)
            model = call(build_model, 2, n_classes)
            here = model_device(model)
            X_train, y_train, X_test, y_test = (t.to(here) for t in (X_train, y_train, X_test, y_test))
            optimizer = torch.optim.Adam(model.parameters(), lr=_Q4_LR)
            loss_fn = nn.CrossEntropyLoss()
            model.train()
            for _ in range(_Q4_EPOCHS):
                loss = loss_fn(call(model, X_train), y_train)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            model.eval()
            with torch.inference_mode():
                acc = (model(X_test).argmax(dim=1) == y_test).float().mean().item()
            expect(acc >= _Q4_NEEDED,
                   f"after {_Q4_EPOCHS} epochs of Adam (lr {_Q4_LR}) on {n_classes} spiral arms your model "
                   f"reached {acc:.2f} held-out accuracy; it needs {_Q4_NEEDED:.2f}. Give it more hidden "
                   "units or a second hidden layer (with ReLU).")


# --------------------------------------------------------------------------- q5
def _q5_problem() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    X, y = make_spirals(n_per_class=40, seed=11)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
    return model, torch.from_numpy(X), torch.from_numpy(y)


def _reference_run(start: nn.Module, X: torch.Tensor, y: torch.Tensor, epochs: int, lr: float,
                   variant: str) -> tuple[list[float], list[torch.Tensor]]:
    """Train a copy of ``start`` the right way, or with one typical mistake."""
    model = copy.deepcopy(start)
    make: Callable[[], torch.optim.Optimizer] = (
        (lambda: torch.optim.SGD(model.parameters(), lr=lr)) if variant == "sgd"
        else (lambda: torch.optim.Adam(model.parameters(), lr=lr))
    )
    optimizer = make()
    losses = []
    for _ in range(epochs):
        if variant == "optimizer in loop":
            optimizer = make()
        logits = model(X)
        if variant == "softmax first":
            logits = torch.softmax(logits, dim=1)
        loss = F.cross_entropy(logits, y)
        if variant != "no zero_grad":
            optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, [p.detach().clone() for p in model.parameters()]


_Q5_MISTAKES = {
    "no zero_grad": "gradients add up across epochs: call optimizer.zero_grad() every epoch, before "
                    "loss.backward().",
    "optimizer in loop": "the optimizer is created anew every epoch, so Adam forgets its running averages: "
                         "create it once, before the loop.",
    "softmax first": "you applied softmax before the loss: nn.CrossEntropyLoss takes the raw logits.",
    "sgd": "that is plain SGD; the exercise asks for torch.optim.Adam(model.parameters(), lr=lr).",
}


@exercise(
    "Before the loop: loss_fn = nn.CrossEntropyLoss() and optimizer = torch.optim.Adam(model.parameters(), "
    "lr=lr). Each epoch: logits = model(X), loss = loss_fn(logits, y), optimizer.zero_grad(), "
    "loss.backward(), optimizer.step().",
    "Append loss.item() to a list every epoch and return the list after the loop.",
)
def q5(train_model: Any) -> None:
    """train_model(model, X, y, epochs, lr): full-batch Adam on CrossEntropyLoss; returns the losses."""
    epochs, lr = 25, 0.02
    with seeded(0):
        start, X, y = _q5_problem()
        model = copy.deepcopy(start)
        losses = call(train_model, model, X.clone(), y.clone(), epochs, lr)
        expect(losses is not None, "train_model returned None: return the list of losses, one per epoch.")
        try:
            losses = list(losses)
        except TypeError:
            raise Incorrect(f"train_model should return a list of losses, got {describe(losses)}.") from None
        expect(len(losses) == epochs, f"with epochs={epochs} train_model returned {len(losses)} losses; "
               "append one loss per epoch.")
        losses = [as_number(value, f"loss {i} of the list") for i, value in enumerate(losses)]
        params = [p.detach() for p in model.parameters()]
        unchanged = all(torch.equal(p, q) for p, q in zip(params, start.parameters(), strict=True))
        expect(not unchanged, "the model's parameters did not change: build the optimizer on "
               "model.parameters() (this model's) and call loss.backward() and optimizer.step() every epoch.")
        right_losses, right_params = _reference_run(start, X, y, epochs, lr, "adam")

        def same(ps: list[torch.Tensor]) -> bool:
            return all(torch.allclose(p, q, atol=1e-5) for p, q in zip(params, ps, strict=True))

        if not same(right_params):
            for variant, hint in _Q5_MISTAKES.items():
                if same(_reference_run(start, X, y, epochs, lr, variant)[1]):
                    raise Incorrect(hint)
            raise Incorrect(f"after {epochs} epochs your model differs from full-batch Adam (lr={lr}) on "
                            "nn.CrossEntropyLoss: one forward pass, zero_grad, backward and step per epoch.")
        expect(np.allclose(losses, right_losses, atol=1e-5, rtol=1e-4),
               "the model trained correctly, but the losses you returned are not the training losses: "
               "append loss.item() of each epoch's forward pass.")


# --------------------------------------------------------------------------- q6
class _Probe(nn.Module):
    """A stand-in model: the input is the logits in eval mode; training mode gives another answer
    (as dropout would). Remembers whether autograd was recording during each forward pass."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.grad_enabled: list[bool] = []

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        self.grad_enabled.append(torch.is_grad_enabled())
        logits = X * self.scale
        return logits.roll(1, dims=1) if self.training else logits


def _one_hot_logits(preds: list[int], n_classes: int) -> torch.Tensor:
    return F.one_hot(torch.tensor(preds), n_classes).float() * 4.0 - 2.0


@exercise(
    "model.eval(), then predict inside `with torch.inference_mode():`, take argmax(dim=1) and compare "
    "with y.",
    "(preds == y) is a boolean tensor: .float().mean().item() turns it into a fraction between 0 and 1.",
)
def q6(accuracy: Any) -> None:
    """accuracy(model, X, y): the fraction of samples classified correctly, measured in eval mode."""
    cases = [  # (predicted classes, true labels, number of classes)
        ([0, 1, 2, 1], [0, 1, 2, 1], 3),
        ([0, 2, 1, 1, 0, 2], [0, 1, 1, 1, 2, 2], 3),
        ([0, 0, 0, 0, 0, 0, 2, 2], [0, 0, 0, 0, 0, 0, 1, 2], 3),  # imbalanced: micro != macro
    ]
    for preds, labels, n_classes in cases:
        probe = _Probe()
        probe.train()
        X, y = _one_hot_logits(preds, n_classes), torch.tensor(labels)
        shown = f"accuracy on {len(labels)} samples"
        value = as_number(call(accuracy, probe, X, y), shown)
        expected = float(np.mean(np.array(preds) == np.array(labels)))
        in_training = float(np.mean(X.roll(1, dims=1).argmax(dim=1).numpy() == np.array(labels)))
        recalls = [np.mean(np.array(preds)[np.array(labels) == c] == c) for c in sorted(set(labels))]
        if close(value, expected * len(labels)) and not close(value, expected):
            raise Incorrect(f"{shown} gave {value:g}, the number of correct predictions: divide by the "
                            "number of samples.")
        if close(value, 100 * expected) and not close(value, expected):
            raise Incorrect(f"{shown} gave {value:g}: return a fraction between 0 and 1, not a percentage.")
        if close(value, in_training) and not close(value, expected):
            raise Incorrect("your predictions were made in training mode: call model.eval() first. Layers "
                            "such as dropout behave differently while training.")
        if close(value, float(np.mean(recalls))) and not close(value, expected):
            raise Incorrect(f"{shown} gave {value:.4f}, the average of the per-class accuracies: that is "
                            "torchmetrics' default average='macro'. Accuracy counts samples: pass "
                            "average='micro', or compare argmax(dim=1) with y yourself.")
        expect(close(value, expected), f"{shown}: expected {expected:.4f}, got {value:.4f}.")
        expect(probe.grad_enabled, "accuracy did not call the model: predict with model(X).")
        expect(not any(probe.grad_enabled),
               "right value, but autograd was recording while you predicted: wrap the prediction in "
               "`with torch.inference_mode():` (or torch.no_grad()).")


# --------------------------------------------------------------------------- q7
@exercise(
    "Start from torch.zeros(num_classes, num_classes) and add 1 at [true label, predicted label] for "
    "every sample.",
    "Without a loop: torch.bincount(labels * num_classes + preds, minlength=num_classes**2)"
    ".reshape(num_classes, num_classes).",
)
def q7(confusion_matrix: Any) -> None:
    """confusion_matrix(preds, labels, num_classes): counts, rows = true labels, columns = predictions."""
    generator = torch.Generator().manual_seed(3)
    cases = [
        (torch.tensor([0, 1, 2, 2, 1]), torch.tensor([0, 1, 1, 2, 0]), 3),
        (torch.tensor([0, 2, 2, 1, 0, 0]), torch.tensor([0, 2, 1, 1, 0, 2]), 4),  # class 3 never appears
        (torch.randint(0, 5, (50,), generator=generator), torch.randint(0, 5, (50,), generator=generator), 5),
    ]
    for preds, labels, n in cases:
        shown = f"confusion_matrix(preds={preds.tolist()[:6]}{'...' if len(preds) > 6 else ''}, labels=..., "
        shown += f"num_classes={n})"
        out = call(confusion_matrix, preds.clone(), labels.clone(), n)
        if isinstance(out, np.ndarray):
            out = torch.from_numpy(out)
        expect_tensor(out, shown)
        if out.ndim == 2 and out.shape[0] == out.shape[1] and out.shape[0] < n:
            raise Incorrect(f"{shown} has shape {tuple(out.shape)}; it must be ({n}, {n}) even when a class "
                            "never appears (bincount's minlength, or labels=range(num_classes) in "
                            "scikit-learn).")
        expect(tuple(out.shape) == (n, n), f"{shown} has shape {tuple(out.shape)}, expected ({n}, {n}).")
        expected = torch.zeros(n, n, dtype=torch.long)
        for p, t in zip(preds.tolist(), labels.tolist(), strict=True):
            expected[t, p] += 1
        got = out.detach().cpu().double()
        if not torch.equal(got, expected.double()) and torch.equal(got, (expected > 0).double()):
            raise Incorrect("every pair (true, predicted) was counted at most once: "
                            "matrix[labels, preds] += 1 with index tensors adds 1 only once when a "
                            "pair repeats. Loop over the samples, or use matrix.index_put_((labels, preds), "
                            "torch.ones_like(labels), accumulate=True), or torch.bincount.")
        expect(close(float(got.sum()), float(len(preds)), 1e-9),
               f"the entries of {shown} add up to {float(got.sum()):g}; every sample counts once, so "
               f"they should add up to {len(preds)}.")
        if not torch.equal(got, expected.double()):
            if torch.equal(got, expected.T.double()):
                raise Incorrect("your matrix is transposed: rows are the true labels and columns the "
                                "predictions (scikit-learn's confusion_matrix takes y_true first).")
            raise Incorrect(f"{shown}: expected {expected.tolist()}, got {got.long().tolist()}.")
