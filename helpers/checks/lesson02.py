"""Checks for exercises/02_linear_regression_with_nn_module_exercises.ipynb."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from helpers.checks.core import (
    Incorrect,
    NotAttempted,
    call,
    describe,
    exercise,
    expect,
    expect_module,
    expect_tensor,
    seeded,
)
from helpers.data import CROP_INPUTS, CROP_TARGETS, load_crop_yields, load_mtcars

GOOD_LR_EPOCHS = 300
GOOD_LR_THRESHOLD = 10.0
OPTIMISER_EPOCHS = 300
CROP_THRESHOLD = 2.0


def _number(value: Any, name: str) -> float:
    """``value`` as a float: accepts Python numbers, NumPy scalars and one-element tensors."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach().cpu().item())
    if isinstance(value, np.ndarray) and value.size == 1:
        return float(value.item())
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    raise Incorrect(f"{name} should be a number, but it is {describe(value)}.")


def _cars() -> tuple[torch.Tensor, torch.Tensor]:
    """Raw mtcars weights and mpg as (32, 1) float32 tensors."""
    cars = load_mtcars()
    return (torch.tensor(cars[["wt"]].to_numpy(np.float32)),
            torch.tensor(cars[["mpg"]].to_numpy(np.float32)))


def _seeded_line(seed: int = 42) -> nn.Linear:
    """nn.Linear(1, 1) initialised as after set_seed(seed), without touching the global RNG."""
    with seeded(seed):
        return nn.Linear(1, 1)


def _run(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
         epochs: int, zero_grad: bool = True) -> list[float]:
    """The reference training cycle; returns each epoch's loss (before that epoch's step)."""
    losses = []
    for _ in range(epochs):
        if zero_grad:
            optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def _same_parameters(a: nn.Module, b: nn.Module, atol: float = 1e-5) -> bool:
    return all(torch.allclose(p.detach().cpu(), q.detach().cpu(), atol=atol, rtol=1e-4)
               for p, q in zip(a.parameters(), b.parameters(), strict=True))


# ----------------------------------------------------------------------------- q1


def _build(cls: Any, *args: Any) -> nn.Module:
    """Instantiate the learner's class, turning the usual mistakes into hints."""
    if cls is Ellipsis:
        raise NotAttempted
    if isinstance(cls, nn.Module):
        raise Incorrect("pass the class itself, not an instance: check.q1(HandMadeLinear). "
                        "The check creates its own instances.")
    expect(isinstance(cls, type) and issubclass(cls, nn.Module),
           f"HandMadeLinear should be a class that subclasses nn.Module, but it is {describe(cls)}.")
    try:
        return call(cls, *args)
    except Incorrect as error:
        cause = error.__cause__
        if isinstance(cause, AttributeError) and "Module.__init__() call" in str(cause):
            raise Incorrect("nn.Module was not set up before a parameter was assigned: make "
                            "super().__init__() the first line of __init__.") from error
        raise


@exercise(
    "In __init__: super().__init__(), then self.weight = nn.Parameter(torch.randn(out_features, "
    "in_features)) and self.bias = nn.Parameter(torch.zeros(out_features)).",
    "forward(self, x) returns x @ self.weight.T + self.bias, exactly like lesson 01's predict.",
)
def q1(HandMadeLinear: Any) -> None:
    """HandMadeLinear(in_features, out_features): a linear layer built from nn.Parameter."""
    generator = torch.Generator().manual_seed(1)
    for n_in, n_out in [(3, 2), (1, 1), (4, 1)]:
        label = f"HandMadeLinear({n_in}, {n_out})"
        model = _build(HandMadeLinear, n_in, n_out)
        params = list(model.parameters())
        expect(params, f"{label}.parameters() is empty, so an optimiser would have nothing to "
               "train: wrap the weight and the bias in nn.Parameter(...). Plain tensors are not "
               "registered, even with requires_grad=True.")
        count = sum(p.numel() for p in params)
        expect(count != n_in * n_out, f"{label} has {count} parameters, only the weights: "
               f"add a bias, nn.Parameter of shape ({n_out},).")
        expect(count == n_in * n_out + n_out, f"{label} has {count} numbers in its parameters; "
               f"a linear layer has {n_in} x {n_out} weights + {n_out} biases = "
               f"{n_in * n_out + n_out}.")
        X = torch.randn(5, n_in, generator=generator)
        try:
            out = call(model, X)
        except Incorrect as error:
            cause = error.__cause__
            if isinstance(cause, RuntimeError) and "cannot be multiplied" in str(cause):
                raise Incorrect(f"{label} failed on input of shape (5, {n_in}): {cause}. With the "
                                "weight shaped (out_features, in_features), multiply by its "
                                "transpose: x @ self.weight.T.") from error
            raise
        expect_tensor(out, f"{label} on input of shape (5, {n_in})", shape=(5, n_out))
        with torch.no_grad():
            offset = model(torch.zeros(1, n_in))
            slopes = model(torch.eye(n_in)) - offset  # row i: the effect of input i
            again = model(X)
        expect(torch.allclose(again, X @ slopes + offset, atol=1e-4, rtol=1e-4),
               f"{label} is not a linear function of its input (or gives different outputs for "
               "the same input): create the parameters once, in __init__, and compute "
               "x @ self.weight.T + self.bias in forward.")
        model.zero_grad()
        model(X).sum().backward()
        unused = [name for name, p in model.named_parameters() if p.grad is None]
        expect(not unused, f"forward does not use the parameter(s) {', '.join(unused)}: the output "
               "should be x @ self.weight.T + self.bias.")


# ----------------------------------------------------------------------------- q2


@exercise(
    "model.parameters() yields the parameter tensors; p.numel() counts the numbers in one of them.",
    "return sum(p.numel() for p in model.parameters())",
)
def q2(count_parameters: Any) -> None:
    """count_parameters(model): the total number of trainable numbers in a model."""
    models = [
        ("nn.Linear(3, 2)", nn.Linear(3, 2)),
        ("nn.Linear(1, 1)", nn.Linear(1, 1)),
        ("nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))",
         nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))),
        ("nn.Linear(5, 3, bias=False)", nn.Linear(5, 3, bias=False)),
    ]
    for label, model in models:
        result = _number(call(count_parameters, model), f"count_parameters({label})")
        expected = sum(p.numel() for p in model.parameters())
        tensors = len(list(model.parameters()))
        weights = sum(p.numel() for name, p in model.named_parameters() if name.endswith("weight"))
        if result == tensors and result != expected:
            raise Incorrect(f"for {label} you returned {int(result)}, the number of parameter "
                            "tensors; count the numbers inside them with p.numel().")
        if result == weights and result != expected:
            raise Incorrect(f"for {label} you counted only the weights; the biases are "
                            "parameters too.")
        expect(result == expected, f"{label} has {expected} parameters, you counted {result:g}.")


# ----------------------------------------------------------------------------- q3


def _q3_data() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.linspace(-1.0, 1.0, 10).unsqueeze(1)
    return x, 2.0 * x + 1.0 + 0.1 * torch.cos(7.0 * x)


@exercise(
    "Each epoch: optimizer.zero_grad(), y_pred = model(X), loss = nn.MSELoss()(y_pred, y), "
    "loss.backward(), optimizer.step(), then append loss.item() to a list.",
    "Use the optimizer that is passed in (it is already attached to model.parameters()); "
    "return the list of the epochs' losses.",
)
def q3(train: Any) -> None:
    """train(model, optimizer, X, y, epochs): the training cycle; returns each epoch's loss."""
    x, y = _q3_data()
    epochs = 20
    for name, make_optimizer in [("SGD(lr=0.1)", lambda p: torch.optim.SGD(p, lr=0.1)),
                                 ("Adam(lr=0.05)", lambda p: torch.optim.Adam(p, lr=0.05))]:
        model = _seeded_line(0)
        start = copy.deepcopy(model)
        reference = copy.deepcopy(model)
        want = _run(reference, make_optimizer(reference.parameters()), x, y, epochs)
        losses = call(train, model, make_optimizer(model.parameters()), x.clone(), y.clone(), epochs)
        if isinstance(losses, (np.ndarray, torch.Tensor)) and losses.ndim == 1:
            losses = list(losses)
        expect(isinstance(losses, (list, tuple)), f"train should return a list of the losses, one "
               f"per epoch, but it returned {describe(losses)}.")
        expect(len(losses) == epochs, f"train(..., epochs={epochs}) returned {len(losses)} "
               f"losses; append one per epoch.")
        got = [_number(v, "each loss") for v in losses]
        if _same_parameters(model, start, atol=0.0):
            raise Incorrect(f"with {name} the model's parameters did not change: call "
                            "loss.backward() and optimizer.step() every epoch, with the optimizer "
                            "that train receives (it holds this model's parameters).")
        piled = copy.deepcopy(start)
        _run(piled, make_optimizer(piled.parameters()), x, y, epochs, zero_grad=False)
        if _same_parameters(model, piled) and not _same_parameters(model, reference):
            raise Incorrect(f"with {name} the gradients pile up from epoch to epoch: call "
                            "optimizer.zero_grad() at the start of every epoch.")
        expect(_same_parameters(model, reference),
               f"with {name}, 20 epochs of your train leave the model somewhere other than 20 "
               "epochs of zero_grad, forward, MSE loss, backward, step. Is the loss nn.MSELoss, "
               "and is there exactly one step per epoch?")
        expect(np.allclose(got, want, rtol=1e-4, atol=1e-6),
               f"with {name} the model trains correctly, but the losses you returned differ from "
               "each epoch's loss: append loss.item() of the epoch's forward pass (before "
               "optimizer.step()).")


# ----------------------------------------------------------------------------- q4


def _final_mse_after(lr: float, epochs: int = GOOD_LR_EPOCHS) -> tuple[float, float]:
    """Start and final MSE of nn.Linear(1, 1) (seed 42) trained with SGD(lr) on raw mtcars."""
    x, y = _cars()
    model = _seeded_line(42)
    with torch.no_grad():
        start = F.mse_loss(model(x), y).item()
    _run(model, torch.optim.SGD(model.parameters(), lr=lr), x, y, epochs)
    with torch.no_grad():
        return start, F.mse_loss(model(x), y).item()


@exercise(
    "Plot the loss curves for several rates, such as 0.001, 0.01, 0.05, 0.08 and 0.1, on a log "
    "scale: the too-small ones crawl, the too-large ones explode.",
    "The largest rate that does not explode does best here: the raw weights make a long valley "
    "whose steep walls set the limit.",
)
def q4(good_lr: Any) -> None:
    """good_lr: a learning rate with which 300 epochs of SGD bring the mtcars MSE below 10."""
    lr = _number(good_lr, "good_lr")
    expect(lr > 0, f"good_lr = {lr:g}: a learning rate must be positive (a negative one climbs uphill).")
    start, final = _final_mse_after(lr)
    if not math.isfinite(final) or final > start:
        raise Incorrect(f"with lr = {lr:g} the loss explodes (it ends at {final:.3g}): too large. "
                        "Try smaller rates and find where the explosion starts.")
    expect(final < GOOD_LR_THRESHOLD,
           f"with lr = {lr:g} the MSE is still {final:.2f} after {GOOD_LR_EPOCHS} epochs (the goal "
           f"is below {GOOD_LR_THRESHOLD:g}): too small, the loss crawls. Try a larger rate.")


# ----------------------------------------------------------------------------- q5


OPTIMISERS: dict[str, Callable[[Any], torch.optim.Optimizer]] = {
    "sgd": lambda params: torch.optim.SGD(params, lr=0.02),
    "momentum": lambda params: torch.optim.SGD(params, lr=0.02, momentum=0.9),
    "adam": lambda params: torch.optim.Adam(params, lr=0.5),
}


def _optimiser_finals(name: str) -> tuple[float, float]:
    """Last recorded loss and loss after training, for a fresh seed-42 model and one optimiser."""
    x, y = _cars()
    model = _seeded_line(42)
    losses = _run(model, OPTIMISERS[name](model.parameters()), x, y, OPTIMISER_EPOCHS)
    with torch.no_grad():
        return losses[-1], F.mse_loss(model(x), y).item()


@exercise(
    "For each optimiser: set_seed(42), a fresh LinearRegressionTorch(1, 1), the optimiser on its "
    "parameters, 300 epochs on the raw weights; keep the list of losses and store its last entry.",
    "final_losses = {'sgd': ..., 'momentum': ..., 'adam': ...} with SGD(lr=0.02), "
    "SGD(lr=0.02, momentum=0.9) and Adam(lr=0.5).",
)
def q5(final_losses: Any) -> None:
    """final_losses: the last loss of 300 epochs with SGD, SGD with momentum and Adam."""
    expect(isinstance(final_losses, dict), f"final_losses should be a dict such as "
           f"{{'sgd': 25.3, ...}}, but it is {describe(final_losses)}.")
    missing = [key for key in OPTIMISERS if key not in final_losses]
    expect(not missing, f"final_losses needs the keys 'sgd', 'momentum' and 'adam'; missing: "
           f"{', '.join(repr(k) for k in missing)}.")
    finals = {name: _optimiser_finals(name) for name in OPTIMISERS}

    def matches(value: float, name: str) -> bool:
        return any(math.isclose(value, target, rel_tol=2e-3) for target in finals[name])

    for name in OPTIMISERS:
        value = _number(final_losses[name], f"final_losses[{name!r}]")
        if matches(value, name):
            continue
        if name == "momentum" and matches(value, "sgd"):
            raise Incorrect("final_losses['momentum'] equals plain SGD's: pass momentum=0.9 to "
                            "torch.optim.SGD.")
        raise Incorrect(f"final_losses[{name!r}] = {value:.4f} is not what a fresh model reaches: "
                        "call set_seed(42) and build a new LinearRegressionTorch(1, 1) for each "
                        "optimiser, train it for 300 epochs on the raw weights with the settings "
                        "given, and store the last loss.")


# ----------------------------------------------------------------------------- q6


@exercise(
    "Switch the model to evaluation mode with model.eval(), and compute inside "
    "`with torch.inference_mode():` (or torch.no_grad()).",
    "model.eval(); with torch.inference_mode(): return model(X)",
)
def q6(predict: Any) -> None:
    """predict(model, X): predictions in evaluation mode, outside autograd."""
    with seeded(6):
        cases = [
            ("a model with dropout", nn.Sequential(nn.Linear(3, 2), nn.Dropout(p=0.5)), torch.randn(8, 3)),
            ("nn.Linear(1, 1)", nn.Linear(1, 1), torch.tensor([[2.5], [3.5], [4.5]])),
        ]
        for label, model, X in cases:
            model.train()  # as a model is after training
            with torch.no_grad():
                expected = model[0](X) if isinstance(model, nn.Sequential) else model(X)
            out = call(predict, model, X)
            if isinstance(out, np.ndarray):
                raise Incorrect("predict returned a NumPy array; return the tensor of predictions "
                                "(convert to NumPy only when you need to, e.g. for plotting).")
            expect_tensor(out, f"predict on {label}", shape=tuple(expected.shape))
            expect(not out.requires_grad,
                   f"the predictions on {label} still require grad: compute them inside "
                   "`with torch.inference_mode():` (or torch.no_grad()), or .detach() them.")
            expect(torch.allclose(out.cpu(), expected, atol=1e-6),
                   f"the predictions on {label} differ from the model's evaluation-mode output: "
                   "dropout was still active. Call model.eval() before predicting.")


# ----------------------------------------------------------------------------- q7


@exercise(
    "Raw inputs in the tens and hundreds need a tiny learning rate: SGD with lr between 1e-5 and "
    "1e-4 (above about 1.1e-4 it explodes), for a thousand epochs or more.",
    "crop_model = nn.Linear(3, 2); optimizer = torch.optim.SGD(crop_model.parameters(), lr=1e-4); "
    "then 1000 epochs of the training cycle on X_crop and Y_crop.",
)
def q7(crop_model: Any) -> None:
    """crop_model: nn.Linear(3, 2) (or similar) trained on the 5 crop regions, MSE below 2."""
    model = expect_module(crop_model, "crop_model")
    crops = load_crop_yields(5)
    X = torch.tensor(crops[CROP_INPUTS].to_numpy(np.float32))
    Y = torch.tensor(crops[CROP_TARGETS].to_numpy(np.float32))
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    with torch.no_grad():
        out = call(model, X.to(device))
    expect_tensor(out, "crop_model on the (5, 3) inputs", shape=(5, 2))
    mse = F.mse_loss(out.float().cpu(), Y).item()
    if not math.isfinite(mse):
        raise Incorrect("crop_model outputs nan or inf: the training diverged. Use a smaller "
                        "learning rate.")
    expect(mse < CROP_THRESHOLD,
           f"crop_model's MSE on the five regions (raw inputs) is {mse:.2f}; the goal is below "
           f"{CROP_THRESHOLD:g}. Train longer, or with a larger learning rate (up to about 1e-4 "
           "on raw inputs), or with Adam.")
