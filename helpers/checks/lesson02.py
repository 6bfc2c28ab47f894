"""Checks for exercises/02_linear_regression_with_nn_module_exercises.ipynb.

Every limit a check enforces is stated in its exercise's prompt; the constants
below are those limits. Each check runs cheap tests first (types, shapes, one
small input) and trains only once those pass, so a wrong answer is judged as
fast as a right one.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from typing import Any
from unittest import mock

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

from helpers.checks.core import (
    Incorrect,
    NotAttempted,
    as_number,
    call,
    describe,
    exercise,
    expect,
    expect_module,
    expect_tensor,
    seeded,
)
from helpers.data import CROP_INPUTS, CROP_TARGETS, load_crop_yields, load_mtcars

# Exercise 5: SGD on the raw car weights, at most this many epochs, within this fraction of the minimum.
MAX_EPOCHS = 400
WITHIN = 0.01
# Exercise 6: any optimiser, exactly this many epochs, within WITHIN of the minimum.
OPTIMISER_EPOCHS = 200
# Exercise 8: MSE on the ten held-back crop regions must be below this. Least squares on the five
# training regions scores about 1.48 there, and always predicting their average scores about 1190.
CROP_HELD_OUT_MSE = 3.0


def _cars() -> tuple[torch.Tensor, torch.Tensor]:
    """Raw mtcars weights (1000 lb) and mpg as (32, 1) float32 tensors."""
    cars = load_mtcars()
    return (torch.tensor(cars[["wt"]].to_numpy(np.float32)),
            torch.tensor(cars[["mpg"]].to_numpy(np.float32)))


def _cars_minimum() -> float:
    """The least-squares MSE of mpg on wt (the lowest loss any line can reach), in float64."""
    cars = load_mtcars()
    x, y = cars["wt"].to_numpy(), cars["mpg"].to_numpy()
    slope, intercept = np.polyfit(x, y, deg=1)
    return float(np.mean((slope * x + intercept - y) ** 2))


def _car_run(make_optimizer: Any, epochs: int) -> tuple[float, float, torch.optim.Optimizer | None]:
    """Start and final MSE of nn.Linear(1, 1) as after set_seed(42), trained on the raw car weights.

    Stops early once the loss is no longer finite (an exploded run), so a wrong answer costs no more
    time than a right one.
    """
    x, y = _cars()
    with seeded(42):
        model = nn.Linear(1, 1)
        optimizer = make_optimizer(model)
        with torch.no_grad():
            start = F.mse_loss(model(x), y).item()
        losses = [start]

        def closure() -> torch.Tensor:
            # step(closure) is what every torch.optim optimiser accepts, and what LBFGS needs.
            optimizer.zero_grad()
            loss_t = F.mse_loss(model(x), y)
            loss_t.backward()
            losses.append(loss_t.item())
            return loss_t

        for _ in range(epochs):
            try:
                optimizer.step(closure)
            except RuntimeError as error:
                if "overflow" in str(error):  # a learning rate too large to store in float32
                    return start, math.inf, optimizer
                raise Incorrect(f"your {type(optimizer).__name__}'s step() raised RuntimeError: "
                                f"{str(error).strip()[:150]}") from error
            if not math.isfinite(losses[-1]) or losses[-1] > 1e12:
                return start, math.inf, optimizer
        with torch.no_grad():
            return start, F.mse_loss(model(x), y).item(), optimizer


# ----------------------------------------------------------------------------- q1


class _LinearSwitchedOff(RuntimeError):
    pass


def _forbidden(*_: Any, **__: Any) -> None:
    raise _LinearSwitchedOff("nn.Linear and F.linear are switched off in this check: build the layer "
                             "from nn.Parameter and write the product yourself")


class _NoLinearMode(TorchFunctionMode):
    """Raises on the linear kernel itself, however it is reached: F.linear, a `linear` imported from
    torch.nn.functional before the check ran, or torch._C._nn.linear."""

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        if func is _LINEAR_KERNEL:
            _forbidden()
        return func(*args, **(kwargs or {}))


_LINEAR_KERNEL = torch._C._nn.linear


@contextlib.contextmanager
def _without_linear() -> Iterator[None]:
    """nn.Linear and F.linear raise inside the block: the exercise asks for a layer built by hand."""
    with mock.patch.object(nn.Linear, "__init__", _forbidden), \
            mock.patch("torch.nn.functional.linear", _forbidden), _NoLinearMode():
        yield


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
        if isinstance(cause, _LinearSwitchedOff):
            raise Incorrect("HandMadeLinear uses nn.Linear, which this exercise asks you not to use "
                            "(the check switches it off): create the weight and the bias yourself "
                            "with nn.Parameter.") from error
        raise


@exercise(
    "In __init__: super().__init__() first, then a weight of shape (out_features, in_features) and a "
    "bias of shape (out_features,), each wrapped in nn.Parameter(...) and assigned to self.",
    "forward(self, x) returns x times the transposed weight, plus the bias: lesson 01's predict.",
)
def q1(HandMadeLinear: Any) -> None:
    """HandMadeLinear(in_features, out_features): a linear layer from nn.Parameter, without nn.Linear.

    The check builds and runs the class with nn.Linear and F.linear patched to raise.
    """
    generator = torch.Generator().manual_seed(1)
    with _without_linear():
        for n_in, n_out in [(3, 2), (1, 1), (4, 1)]:
            label = f"HandMadeLinear({n_in}, {n_out})"
            model = _build(HandMadeLinear, n_in, n_out)
            params = list(model.parameters())
            expect(params, f"{label}.parameters() is empty, so an optimiser would have nothing to "
                   "train: wrap the weight and the bias in nn.Parameter(...). Plain tensors are not "
                   "registered, even with requires_grad=True.")
            count = sum(p.numel() for p in params)
            expect(count != n_in * n_out, f"{label} has {count} numbers in its parameters, as many as "
                   f"the weights alone: add a bias, nn.Parameter of shape ({n_out},).")
            expect(count == n_in * n_out + n_out, f"{label} has {count} numbers in its parameters; "
                   f"a linear layer has {n_in} x {n_out} weights + {n_out} biases = "
                   f"{n_in * n_out + n_out}.")
            X = torch.randn(5, n_in, generator=generator)
            if params[0].is_floating_point():  # a layer built in float64 gets float64 inputs, as nn.Linear would
                X = X.to(params[0].dtype)
            try:
                out = call(model, X)
            except Incorrect as error:
                cause = error.__cause__
                if isinstance(cause, _LinearSwitchedOff):
                    raise Incorrect("forward uses F.linear (or nn.Linear), which this exercise asks "
                                    "you not to use: write the matrix product yourself.") from error
                if isinstance(cause, RuntimeError) and "cannot be multiplied" in str(cause):
                    raise Incorrect(f"{label} failed on an input of shape (5, {n_in}): "
                                    f"{str(cause)[:120]}. With the weight shaped (out_features, "
                                    "in_features), multiply by its transpose.") from error
                raise
            expect_tensor(out, f"{label} on an input of shape (5, {n_in})", shape=(5, n_out))
            with torch.no_grad():
                offset = model(torch.zeros(1, n_in, dtype=X.dtype))
                slopes = model(torch.eye(n_in, dtype=X.dtype)) - offset  # row i: the effect of input i
                again = model(X)
            expect(torch.allclose(again, X @ slopes + offset, atol=1e-4, rtol=1e-4),
                   f"{label} is not a linear function of its input (or gives different outputs for "
                   "the same input): create the parameters once, in __init__, and compute "
                   "x times the transposed weight plus the bias in forward.")
            model.zero_grad()
            tracked = model(X)
            expect(tracked.requires_grad, "forward does not use the parameters: its output is not "
                   "tracked by autograd, so training could never change it.")
            tracked.sum().backward()
            unused = [name for name, p in model.named_parameters() if p.grad is None]
            expect(not unused, f"forward does not use the parameter(s) {', '.join(unused)}, so "
                   "training could never change them.")
            _expect_weight_and_bias(model, label, slopes, offset, n_in, n_out)


def _expect_weight_and_bias(model: nn.Module, label: str, slopes: torch.Tensor, offset: torch.Tensor,
                            n_in: int, n_out: int) -> None:
    """The layer computes x @ weight.T + bias with its own weight and bias, nothing scaled or added.

    The weight is the parameter of shape (out, in) (or (in, out), stored transposed), the bias the one
    with out numbers; a layer that keeps its numbers some other way is judged by the tests above only.
    """
    params = [p.detach().cpu().double() for p in model.parameters()]
    weights = [p.T for p in params if p.dim() == 2 and tuple(p.shape) == (n_out, n_in)]
    weights += [p for p in params if p.dim() == 2 and tuple(p.shape) == (n_in, n_out)]
    biases = [p.reshape(-1) for p in params if p.numel() == n_out and p.dim() <= 2]
    slopes, offset = slopes.detach().cpu().double(), offset.detach().cpu().double().reshape(-1)
    if not weights or not biases:
        return

    def same(a: torch.Tensor, b: torch.Tensor) -> bool:
        return a.shape == b.shape and bool(torch.allclose(a, b, rtol=1e-4, atol=1e-5))

    if not any(same(slopes, w) for w in weights):
        raise Incorrect(f"{label}: the output does not change with the input as the weight says: input i "
                        "should add input_i x weight[:, i] to the output, nothing scaled or changed. Compute "
                        "x @ self.weight.T + self.bias, as nn.Linear does.")
    if not any(same(offset, b) for b in biases):
        raise Incorrect(f"{label}: for an input of zeros the layer outputs {describe(offset)}, but its bias "
                        f"holds {describe(biases[0])}: add the bias once, as it is (x @ self.weight.T + "
                        "self.bias).")


# ----------------------------------------------------------------------------- q2 and q3


class _TwoLayers(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(2, 4)
        self.out = nn.Linear(4, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(x)))


class _WithBuffer(nn.Module):
    """A model with a buffer: saved in state_dict(), but not a parameter."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.register_buffer("input_mean", torch.zeros(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x - self.input_mean[:3])


def _models() -> list[tuple[str, nn.Module]]:
    with seeded(2):
        return [("nn.Linear(3, 2)", nn.Linear(3, 2)),
                ("a model with two layers (self.hidden = nn.Linear(2, 4), self.out = nn.Linear(4, 1, "
                 "bias=False))", _TwoLayers()),
                ("nn.Linear(1, 1)", nn.Linear(1, 1)),
                ("a model with a buffer (nn.Linear(3, 2) plus a saved, untrained tensor of 5 numbers)",
                 _WithBuffer())]


def _call_leaving_model(fn: Any, model: nn.Module, label: str, what: str) -> Any:
    """Call fn(model) and check that it left the model's parameters and buffers as they were."""
    before = {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()}
    result = call(fn, model)
    after = model.state_dict(keep_vars=True)
    changed = [k for k, v in before.items() if k not in after or not torch.equal(after[k].detach(), v)]
    expect(not changed, f"{what}({label}) changed the model it was given ({', '.join(changed)}): it should "
           "only read it.")
    return result


@exercise(
    "model.parameters() yields the parameter tensors; p.numel() counts the numbers in one of them.",
    "Add up p.numel() over model.parameters(). state_dict() is not the same list: it also holds "
    "buffers, which are not trained.",
)
def q2(count_parameters: Any) -> None:
    """count_parameters(model): the total number of trained numbers in a model."""
    for label, model in _models():
        result = as_number(_call_leaving_model(count_parameters, model, label, "count_parameters"),
                           f"count_parameters({label})")
        expected = sum(p.numel() for p in model.parameters())
        tensors = len(list(model.parameters()))
        in_state = sum(v.numel() for v in model.state_dict().values())
        weights = sum(p.numel() for name, p in model.named_parameters() if name.endswith("weight"))
        if result == expected:
            continue
        if result == tensors:
            raise Incorrect(f"for {label} you returned {int(result)}, the number of parameter "
                            "tensors; count the numbers inside them.")
        if result == in_state:
            raise Incorrect(f"for {label} you returned {int(result)}, every number in state_dict(), "
                            "buffers included; buffers are saved but not trained. Count "
                            "model.parameters().")
        if result == weights:
            raise Incorrect(f"for {label} you counted only the weights ({int(result)}); the biases "
                            "are parameters too.")
        raise Incorrect(f"{label} has {expected} trained numbers; count_parameters returned {result:g}.")


@exercise(
    "Loop over model.named_parameters(): each item is a name and a parameter tensor.",
    "For each parameter store param.detach().clone(): detach() leaves autograd, clone() makes a copy "
    "that later training cannot change.",
)
def q3(snapshot: Any) -> None:
    """snapshot(model): a dict from each parameter's name to a copy of its current values."""
    for label, model in _models():
        names = [name for name, _ in model.named_parameters()]
        result = _call_leaving_model(snapshot, model, label, "snapshot")
        expect(isinstance(result, dict), f"snapshot({label}) should return a dict from names to "
               f"tensors, but it returned {describe(result)}.")
        extra = [k for k in result if k not in names]
        buffer_names = {name for name, _ in model.named_buffers()}
        buffers = [k for k in extra if k in buffer_names]
        expect(not buffers, f"snapshot({label}) has the key(s) {buffers}: a buffer, which state_dict() "
               "holds but which is not a parameter. Take the names from named_parameters().")
        missing = [k for k in names if k not in result]
        expect(not missing and not extra,
               f"snapshot({label}) has the keys {describe(list(result))}; the parameters are named "
               f"{names}.")
        for name, param in model.named_parameters():
            value = result[name]
            expect_tensor(value, f"snapshot({label})[{name!r}]", shape=tuple(param.shape))
            expect(value is not param, f"snapshot({label})[{name!r}] is the model's own parameter, not a "
                   "copy of its values.")
            expect(not value.requires_grad, f"snapshot({label})[{name!r}] is tracked by autograd (it requires "
                   "grad, as a copy made with clone() or deepcopy of a parameter does): detach it, "
                   "param.detach().clone().")
            expect(torch.equal(value.detach().cpu(), param.detach().cpu()),
                   f"snapshot({label})[{name!r}] holds other values than the parameter.")
        before = {name: result[name].detach().cpu().clone() for name in names}
        with torch.no_grad():
            for param in model.parameters():
                param.add_(1.0)  # what optimizer.step() does: change the parameters in place
        changed = [name for name in names if not torch.equal(result[name].detach().cpu(), before[name])]
        expect(not changed, f"after the model's parameters changed in place (as optimizer.step() "
               f"changes them), your snapshot changed too ({', '.join(changed)}): it holds the model's "
               "live tensors (state_dict() and .detach() share memory with them). Copy them with "
               ".clone().")


# ----------------------------------------------------------------------------- q4


def _line_data() -> tuple[torch.Tensor, torch.Tensor, float, float]:
    """20 points around y = 3x - 2 (x in [-1, 1]), y flat as in the prompt; and their least-squares line."""
    x = torch.linspace(-1.0, 1.0, 20).unsqueeze(1)
    y = 3.0 * x.squeeze(1) - 2.0 + 0.3 * torch.sin(9.0 * x.squeeze(1))
    slope, intercept = np.polyfit(x.squeeze(1).double().numpy(), y.double().numpy(), deg=1)
    return x, y, float(slope), float(intercept)


def _run_train_line(train_line: Any, x: torch.Tensor, y: torch.Tensor, lr: float, epochs: int,
                    ) -> tuple[nn.Module, list[float], list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call(train_line, x, y, lr, epochs)
    shown = f"train_line(X, y, lr={lr}, epochs={epochs})"
    expect(isinstance(result, tuple) and len(result) == 2,
           f"{shown} should return (model, losses), but it returned {describe(result)}.")
    model, losses = result
    model = expect_module(model, f"the model that {shown} returned")
    if isinstance(losses, (torch.Tensor, np.ndarray)):
        losses = list(losses.reshape(-1))
    expect(isinstance(losses, (list, tuple)), f"{shown} should return a list of losses as its second "
           f"item, but it is {describe(losses)}.")
    expect(len(losses) == epochs, f"{shown} returned {len(losses)} losses; one per epoch is {epochs}.")
    numbers = [as_number(v, "each loss") for v in losses]
    return model, numbers, [str(w.message) for w in caught]


@exercise(
    "Read the function line by line against the training cycle of the lesson: which argument is never "
    "used, which line sits in the wrong place, and do the shapes of y_pred and y agree?",
    "Three bugs: the learning rate is typed in instead of taken from lr; zero_grad() sits between "
    "backward() and step(), wiping the gradients; y_pred is (N, 1) but y is (N,).",
)
def q4(train_line: Any) -> None:
    """train_line(X, y, lr, epochs) -> (model, losses), repaired."""
    x, y, slope, intercept = _line_data()
    # Cheapest first: a few epochs, then the learning rate 0 (the loss must not move at all).
    _run_train_line(train_line, x, y, 0.1, 3)
    _, flat, _ = _run_train_line(train_line, x, y, 0.0, 5)
    expect(max(flat) - min(flat) <= 1e-6 * max(1.0, abs(flat[0])),
           f"with lr=0.0 the losses still changed ({flat[0]:.4g} to {flat[-1]:.4g}): the learning rate "
           "must come from the lr argument, whatever its value.")
    epochs = 200
    model, losses, caught = _run_train_line(train_line, x, y, 0.1, epochs)
    if any("target size" in w for w in caught):
        raise Incorrect("PyTorch warned that the loss compares targets and predictions of different "
                        "shapes (the warning: " + next(w for w in caught if "target size" in w)[:90] +
                        "...). Predictions are (N, 1) and y is (N,): make them the same shape.")
    if max(losses) - min(losses) <= 1e-6 * max(1.0, abs(losses[0])):
        raise Incorrect(f"with lr=0.1 the loss stayed at {losses[0]:.4g} for {epochs} epochs: the "
                        "parameters never moved. Check which tensors the optimiser holds, and the "
                        "order of zero_grad(), backward() and step().")
    first = next(model.parameters(), None)
    with torch.no_grad():  # on the model's own device and float dtype (float64 answers are fine)
        x_dev = x if first is None else x.to(first.device, first.dtype)
        pred = model(x_dev)
    expect_tensor(pred, "the returned model on X of shape (20, 1)", shape=(20, 1))
    with torch.no_grad():
        fitted_intercept = model(torch.zeros_like(x_dev[:1])).item()
        fitted_slope = model(torch.ones_like(x_dev[:1])).item() - fitted_intercept
    # 200 steps at lr 0.1 shrink the distance to least squares by at least (1 - 0.1 * 0.7)^200 < 1e-5
    # (0.7: the smallest curvature of this loss), so any start ends within float32 rounding of it.
    expect(abs(fitted_slope - slope) < 1e-3 and abs(fitted_intercept - intercept) < 1e-3,
           f"after {epochs} epochs at lr=0.1 the line is y = {fitted_slope:.3f} x + {fitted_intercept:.3f}; "
           f"gradient descent on this data reaches least squares, y = {slope:.3f} x + {intercept:.3f}.")
    with torch.no_grad():
        final = F.mse_loss(pred.cpu().squeeze(1), y).item()
    expect(math.isclose(losses[-1], final, rel_tol=1e-3, abs_tol=1e-5),
           f"the last loss returned, {losses[-1]:.4g}, is not the MSE of the model ({final:.4g}).")


# ----------------------------------------------------------------------------- q5


@exercise(
    "Plot the loss curves of several learning rates on a log scale. Too small crawls; too large "
    "explodes. Look for the largest rate that still falls smoothly.",
    "Once a rate gets there, fewer epochs may do: find how many by looking where the curve reaches the "
    "minimum.",
)
def q5(good_lr: Any, good_epochs: Any) -> None:
    """good_lr, good_epochs: SGD on the raw car weights reaching within 1 % of the minimum MSE."""
    lr = as_number(good_lr, "good_lr")
    epochs = as_number(good_epochs, "good_epochs")
    expect(math.isfinite(lr), f"good_lr = {lr:g}: a learning rate must be a finite number.")
    expect(math.isfinite(epochs), f"good_epochs = {epochs:g} should be a whole number of epochs, at least 1.")
    expect(lr > 0, f"good_lr = {lr:g}: a learning rate must be positive (a negative one climbs uphill).")
    expect(epochs == int(epochs) and epochs >= 1, f"good_epochs = {epochs:g} should be a whole number "
           "of epochs, at least 1.")
    expect(epochs <= MAX_EPOCHS, f"good_epochs = {int(epochs)}: the exercise allows at most {MAX_EPOCHS}.")
    start, final, _ = _car_run(lambda model: torch.optim.SGD(model.parameters(), lr=lr), int(epochs))
    minimum = _cars_minimum()
    if not math.isfinite(final) or final > start:
        raise Incorrect(f"with lr = {lr:g} the loss grows instead of falling (from {start:.3g} to "
                        f"{final:.3g} after {int(epochs)} epochs): this rate is too large for the raw "
                        "car weights.")
    expect(final <= (1 + WITHIN) * minimum,
           f"with lr = {lr:g}, after {int(epochs)} epochs the MSE is {final:.3f}, "
           f"{final / minimum - 1:.1%} above the minimum {minimum:.3f} (the goal: within "
           f"{WITHIN:.0%}). Plot the curve to see whether it is still falling or swinging.")


# ----------------------------------------------------------------------------- q6


@exercise(
    "Try torch.optim.SGD with momentum=0.9, or torch.optim.Adam / RMSprop with a larger lr than "
    "plain SGD uses: their steps are about lr in size whatever the gradient.",
    "make_optimizer must build the optimiser on the params it receives: "
    "return torch.optim.Something(params, lr=...).",
)
def q6(make_optimizer: Any) -> None:
    """make_optimizer(params): an optimiser that reaches within 1 % of the minimum MSE in 200 epochs."""
    if make_optimizer is Ellipsis:
        raise NotAttempted

    def build(model: nn.Module) -> torch.optim.Optimizer:
        optimizer = call(make_optimizer, model.parameters())
        expect(isinstance(optimizer, torch.optim.Optimizer),
               f"make_optimizer should return a torch.optim optimiser, but it returned "
               f"{describe(optimizer)}.")
        held = {id(p) for group in optimizer.param_groups for p in group["params"]}
        expect(held == {id(p) for p in model.parameters()},
               "the optimiser does not hold the parameters passed to make_optimizer, so the model "
               "would never change: build it on `params`.")
        return optimizer

    start, final, optimizer = _car_run(build, OPTIMISER_EPOCHS)
    minimum = _cars_minimum()
    name = type(optimizer).__name__
    if not math.isfinite(final) or final > start:
        raise Incorrect(f"with your {name} the loss grows (from {start:.3g} to {final:.3g}): a smaller "
                        "learning rate?")
    expect(final <= (1 + WITHIN) * minimum,
           f"with your {name}, after {OPTIMISER_EPOCHS} epochs the MSE is {final:.3f}, "
           f"{final / minimum - 1:.1%} above the minimum {minimum:.3f} (the goal: within {WITHIN:.0%}).")


# ----------------------------------------------------------------------------- q7


class _Spy(nn.Module):
    """mpg = slope * weight_in_1000_lb + intercept, recording how forward was called."""

    def __init__(self, slope: float, intercept: float) -> None:
        super().__init__()
        self.linear = nn.Linear(1, 1)
        with torch.no_grad():
            self.linear.weight.fill_(slope)
            self.linear.bias.fill_(intercept)
        self.calls: list[tuple[bool, bool, tuple[int, ...]]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append((self.training, torch.is_grad_enabled(), tuple(x.shape)))
        return self.linear(x)


@exercise(
    "The model takes weights in 1000 lb as a column of shape (N, 1); the list holds pounds. "
    "Predict inside `with torch.inference_mode():` after model.eval().",
    "X = torch.tensor(weights_lb, dtype=torch.float32).unsqueeze(1) / 1000; then "
    "model.eval(), predict in inference mode, and return pred.squeeze(1).numpy().",
)
def q7(predict_mpg: Any) -> None:
    """predict_mpg(model, weights_lb) -> NumPy array of shape (N,): mpg predictions for a list of pounds."""
    for slope, intercept, weights_lb in [(-5.0, 37.0, [2500, 3500, 4500]), (-3.0, 30.0, [1800.0, 5200.0]),
                                         (-4.0, 35.0, [3000])]:
        model = _Spy(slope, intercept)
        model.train()  # as a model is after training
        given = list(weights_lb)
        result = call(predict_mpg, model, given)
        expect(given == weights_lb, "predict_mpg changed the list it was given; leave inputs as they are.")
        expect(isinstance(result, np.ndarray), f"predict_mpg should return a NumPy array, but it "
               f"returned {describe(result)}.")
        n = len(weights_lb)
        if result.shape == (n, 1):
            raise Incorrect(f"the array has shape {result.shape}, the model's column; return one "
                            f"number per car, shape ({n},).")
        if result.shape == () and n == 1:
            raise Incorrect("for 1 car the array has shape (), no dimension at all; it should have shape (1,). "
                            "(.squeeze() with no dimension given removes every dimension of size 1, the car "
                            "dimension too when there is one car: squeeze(1) removes only the column.)")
        expect(result.shape == (n,), f"for {n} cars the array should have shape ({n},), but it has "
               f"shape {result.shape}.")
        expect(model.calls, "predict_mpg never called the model.")
        expected = np.array([slope * w / 1000 + intercept for w in weights_lb])
        in_pounds = np.array([slope * w + intercept for w in weights_lb])
        if np.allclose(result, in_pounds, rtol=1e-4):
            raise Incorrect("the predictions are for weights in pounds, but the model was trained on "
                            "thousands of pounds: divide by 1000.")
        expect(np.allclose(result, expected, rtol=1e-4, atol=1e-3),
               f"for weights {weights_lb} lb and a model mpg = {slope} x (1000 lb) + {intercept}, "
               f"predict_mpg returned {describe(result)}.")
        training, grad_enabled, _ = model.calls[-1]
        expect(not training, "the model was still in training mode when it predicted: call "
               "model.eval() first.")
        expect(not grad_enabled, "the prediction was recorded by autograd (its forward ran with "
               "gradients enabled): predict inside `with torch.inference_mode():` or "
               "`with torch.no_grad():`.")


# ----------------------------------------------------------------------------- q8


@exercise(
    "Raw inputs in the tens and hundreds need a small learning rate: try SGD with rates between 1e-5 "
    "and 1e-3 and watch where the loss explodes; or Adam.",
    "Check your model's MSE on the five regions as you train: least squares reaches about 0.48 there.",
)
def q8(crop_model: Any) -> None:
    """crop_model: trained on the 5 crop regions, judged on the 10 held-back regions (raw inputs)."""
    if crop_model is Ellipsis:
        raise NotAttempted
    model = expect_module(crop_model, "crop_model")
    crops = load_crop_yields(15)
    X = torch.tensor(crops[CROP_INPUTS].to_numpy(np.float32))
    Y = torch.tensor(crops[CROP_TARGETS].to_numpy(np.float32))
    X_held, Y_held = X[5:], Y[5:]  # R06-R15: not in load_crop_yields(5)
    first = next(model.parameters(), None)
    if first is not None and first.is_floating_point():  # the model's device and dtype (float64 is fine)
        X, X_held = X.to(first.device, first.dtype), X_held.to(first.device, first.dtype)

    def predict(inputs: torch.Tensor) -> Any:
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                return call(model, inputs)
        finally:
            model.train(was_training)

    out = predict(X_held)
    expect_tensor(out, "crop_model on the (10, 3) inputs of the held-back regions", shape=(10, 2))
    mse = F.mse_loss(out.detach().double().cpu(), Y_held.double()).item()
    if not math.isfinite(mse):
        raise Incorrect("crop_model outputs nan or inf on the held-back regions: its training "
                        "diverged.")
    # A model must answer its inputs: the same regions in reverse order must give reversed outputs.
    reversed_out = predict(X_held.flip(0))
    if isinstance(reversed_out, torch.Tensor) and reversed_out.shape == out.shape and not torch.allclose(
            reversed_out.detach().double().cpu(), out.detach().double().cpu().flip(0), rtol=1e-4, atol=1e-4):
        raise Incorrect("crop_model's outputs do not follow its inputs: given the held-back regions in reverse "
                        "order, its outputs are not reversed. Its output should be computed from x alone.")
    if mse >= CROP_HELD_OUT_MSE:
        # Trained on standardised inputs but handed raw ones? Evidence: standardising them fixes it.
        mean = X[:5].mean(0)
        for std in (X[:5].std(0), X[:5].std(0, unbiased=False)):
            standardised = predict((X_held - mean) / std)
            if isinstance(standardised, torch.Tensor) and standardised.shape == out.shape and F.mse_loss(
                    standardised.detach().double().cpu(), Y_held.double()).item() < CROP_HELD_OUT_MSE:
                raise Incorrect(f"crop_model's MSE on the ten held-back regions is {mse:.3g}, but it scores "
                                f"below {CROP_HELD_OUT_MSE:g} when the check standardises their inputs with "
                                "the five training regions' mean and spread: your model was trained on "
                                "standardised inputs, and the check gives it raw ones. Put the "
                                "standardisation inside the model (a first step of its forward).")
    expect(mse < CROP_HELD_OUT_MSE,
           f"crop_model's MSE on the ten held-back regions is {mse:.3g}; the goal is below "
           f"{CROP_HELD_OUT_MSE:g}.")
