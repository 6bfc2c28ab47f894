"""Checks for exercises/01_linear_regression_from_scratch_exercises.ipynb."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from helpers.checks.core import (
    Incorrect,
    as_number,
    call,
    close,
    describe,
    exercise,
    expect,
    expect_close,
    expect_tensor,
)
from helpers.data import load_mtcars


def _pair(result: Any, what: str) -> tuple[float, float]:
    """A (slope, intercept) pair of numbers returned by the learner's function."""
    expect(isinstance(result, (tuple, list)) and len(result) == 2,
           f"{what} should return two numbers, (slope, intercept), but it returned {describe(result)}.")
    return as_number(result[0], "the slope"), as_number(result[1], "the intercept")


def _cause(error: Incorrect) -> BaseException | None:
    return error.__cause__


# ----------------------------------------------------------------------------- q1


@exercise(
    "Models want one row per sample and one column per feature: shape (N, 1), dtype float32.",
    "torch.from_numpy(values.to_numpy(dtype=np.float32)).reshape(-1, 1), or "
    "torch.tensor(values.tolist(), dtype=torch.float32).unsqueeze(1).",
)
def q1(to_column_tensor: Any) -> None:
    """to_column_tensor(values): a pandas Series as an (N, 1) float32 tensor."""
    cars = load_mtcars()
    inputs = [
        ("to_column_tensor(cars['wt'])", cars["wt"]),
        ("to_column_tensor(cars['cyl'])", cars["cyl"]),  # whole numbers: int64 in pandas
        ("to_column_tensor(pd.Series([0.5, -1.25, 3.0]))", pd.Series([0.5, -1.25, 3.0])),
    ]
    for label, series in inputs:
        n = len(series)
        out = call(to_column_tensor, series)
        expect_tensor(out, label)
        if tuple(out.shape) == (n,):
            raise Incorrect(f"{label} has shape ({n},), a 1-D tensor. Make it a column of shape "
                            f"({n}, 1): .reshape(-1, 1) or .unsqueeze(1).")
        if tuple(out.shape) == (1, n):
            raise Incorrect(f"{label} has shape (1, {n}), a row. Make it a column of shape ({n}, 1): "
                            "one row per car.")
        expect(tuple(out.shape) == (n, 1), f"{label} has shape {tuple(out.shape)}; expected ({n}, 1).")
        expect(out.dtype == torch.float32,
               f"{label} has dtype {out.dtype}; models use torch.float32. pandas hands over float64 "
               "(and int64 for whole numbers), and torch.from_numpy keeps it: convert with .float() "
               "or to_numpy(dtype=np.float32).")
        expect_close(out.squeeze(1).cpu(), series.to_numpy(dtype=np.float64, copy=True),
                     f"{label} holds different values from the column; only the shape and dtype "
                     "should change.")


# ----------------------------------------------------------------------------- q2


@exercise(
    "Difference, square, sum, then divide by the number of entries: diff.numel().",
    "diff = y_pred - y_true; return (diff * diff).sum() / diff.numel()  (or (diff ** 2).mean()).",
)
def q2(mse: Any) -> None:
    """mse(y_pred, y_true): the mean squared error as a tensor."""
    cases = [
        (torch.tensor([[1.0], [2.0], [3.0]]), torch.tensor([[1.0], [2.0], [5.0]])),
        (torch.arange(10.0).reshape(5, 2), torch.ones(5, 2)),
        (torch.tensor([0.5, -1.5]), torch.tensor([0.0, 0.0])),
    ]
    for y_pred, y_true in cases:
        shape = tuple(y_pred.shape)
        out = call(mse, y_pred, y_true)
        if isinstance(out, (float, int, np.floating)):
            raise Incorrect(f"mse returned the Python number {out!r}; return the tensor itself (no "
                            ".item()), so that loss.backward() can run through it.")
        expect_tensor(out, f"mse on shape {shape}")
        expect(out.numel() == 1, f"mse on shape {shape} returned a tensor of shape {tuple(out.shape)}; "
               "the loss is a single number: add up the squared differences (and divide).")
        value, expected = float(out), F.mse_loss(y_pred, y_true).item()
        diff = y_pred - y_true
        if close(value, (diff ** 2).sum().item()) and not close(value, expected):
            raise Incorrect(f"for shape {shape} you returned the sum of squared errors, "
                            f"{value:.4g}; divide it by the number of entries, diff.numel().")
        if close(value, (diff ** 2).sum().item() / len(diff)) and not close(value, expected):
            raise Incorrect(f"for shape {shape} you divided by the number of rows ({len(diff)}); "
                            f"divide by the number of entries, diff.numel() = {diff.numel()}.")
        if close(value, diff.abs().mean().item()) and not close(value, expected):
            raise Incorrect("that is the mean absolute error: square the differences instead.")
        if close(value, diff.mean().item() ** 2) and not close(value, expected):
            raise Incorrect("you averaged the differences and then squared; square each "
                            "difference first, then average.")
        expect(close(value, expected), f"for shape {shape} the MSE is {expected:.4g}, but mse "
               f"returned {value:.4g}.")
    y_pred = torch.tensor([[1.0], [4.0]], requires_grad=True)
    out = call(mse, y_pred, torch.tensor([[0.0], [2.0]]))
    expect(isinstance(out, torch.Tensor) and out.requires_grad,
           "the loss lost its connection to autograd (no grad_fn): compute it with tensor "
           "operations only, no .item(), NumPy or Python floats in between.")
    out.backward()
    expect_close(y_pred.grad, torch.tensor([[1.0], [2.0]]),
                 "backward() through your mse gives the wrong gradient; use only tensor operations.")


# ----------------------------------------------------------------------------- q3


def _line_gradients(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> tuple:
    w, b = w.clone().requires_grad_(), b.clone().requires_grad_()
    F.mse_loss(x @ w.T + b, y).backward()
    return w.grad, b.grad


@exercise(
    "With error = prediction - target: dL/dw is the average of 2 * error * x, dL/db the average of "
    "2 * error.",
    "error = x @ w.T + b - y; grad_w = 2 * (error * x).mean(); grad_b = 2 * error.mean() "
    "(reshape them to w.shape and b.shape).",
)
def q3(mse_gradients: Any) -> None:
    """mse_gradients(x, y, w, b): the gradients of the MSE of a line, by formula."""
    generator = torch.Generator().manual_seed(3)
    cases = [
        (torch.tensor([[1.0], [2.0], [3.0], [4.0]]), torch.tensor([[2.0], [3.0], [3.5], [6.0]]),
         torch.tensor([[0.5]]), torch.tensor([0.25])),
        (torch.randn(7, 1, generator=generator) * 3 + 2, torch.randn(7, 1, generator=generator),
         torch.tensor([[-1.5]]), torch.tensor([2.0])),
    ]
    for x, y, w, b in cases:
        n = len(x)
        result = call(mse_gradients, x, y, w.clone(), b.clone())
        expect(isinstance(result, (tuple, list)) and len(result) == 2,
               f"mse_gradients should return two gradients, (grad_w, grad_b), but it returned "
               f"{describe(result)}.")
        got_w, got_b = as_number(result[0], "grad_w"), as_number(result[1], "grad_b")
        want_w, want_b = (g.item() for g in _line_gradients(x, y, w, b))
        if close(got_w, want_b) and close(got_b, want_w) and not close(got_w, want_w):
            raise Incorrect("the two gradients are swapped: return (grad_w, grad_b) in that order.")
        if close(got_w, -want_w) and close(got_b, -want_b):
            raise Incorrect("both signs are flipped: the error is prediction minus target, "
                            "(x @ w.T + b) - y.")
        if close(got_w, want_w / 2) and close(got_b, want_b / 2):
            raise Incorrect("both gradients are half as large as they should be: the derivative "
                            "of error² is 2 · error, so keep the factor 2.")
        if close(got_w, want_w * n) and close(got_b, want_b * n):
            raise Incorrect(f"both gradients are {n} times too large: the MSE averages over the "
                            f"{n} points, so average (mean), don't just sum.")
        expect(close(got_b, want_b), f"grad_b should be {want_b:.4g}, you returned {got_b:.4g}. "
               "It is the average of 2 * error.")
        expect(close(got_w, want_w), f"grad_w should be {want_w:.4g}, you returned {got_w:.4g}. "
               "It is the average of 2 * error * x: each error weighted by its own x.")


# ----------------------------------------------------------------------------- q4


@exercise(
    "W has one row per output and one column per input, so the inputs meet W's columns: X @ W.T.",
    "return X @ W.T + b  (b, with one entry per output, is broadcast over the rows).",
)
def q4(predict: Any) -> None:
    """predict(X, W, b): X @ W.T + b for several inputs and outputs."""
    generator = torch.Generator().manual_seed(4)
    cases = [
        (torch.randn(4, 3, generator=generator), torch.randn(2, 3, generator=generator),
         torch.randn(2, generator=generator)),
        (torch.randn(3, 2, generator=generator), torch.randn(2, 2, generator=generator),
         torch.tensor([10.0, -10.0])),
        (torch.tensor([[1.0], [2.0], [3.0]]), torch.tensor([[0.5]]), torch.tensor([-1.0])),
    ]
    for X, W, b in cases:
        label = f"predict(X, W, b) with X {tuple(X.shape)}, W {tuple(W.shape)}, b {tuple(b.shape)}"
        try:
            out = call(predict, X, W, b)
        except Incorrect as error:
            if isinstance(_cause(error), RuntimeError) and "cannot be multiplied" in str(_cause(error)):
                raise Incorrect(f"{label} failed: {_cause(error)}. W has shape (outputs, inputs), "
                                "so multiply by its transpose: X @ W.T.") from error
            raise
        expect_tensor(out, label)
        rows, outputs = len(X), len(W)
        if tuple(out.shape) == (outputs, rows) and outputs != rows:
            raise Incorrect(f"{label} has shape {tuple(out.shape)}: one row per output. It should "
                            f"be ({rows}, {outputs}), one row per sample: X @ W.T + b.")
        expect(tuple(out.shape) == (rows, outputs), f"{label} has shape {tuple(out.shape)}; expected "
               f"({rows}, {outputs}): one row per sample, one column per output.")
        out = out.detach().cpu().float()
        if torch.allclose(out, X @ W.T + b, atol=1e-5, rtol=1e-4):
            continue
        if torch.allclose(out, X @ W.T, atol=1e-5, rtol=1e-4):
            raise Incorrect("the bias is missing: add b after the matrix product.")
        if W.shape[0] == W.shape[1] and torch.allclose(out, X @ W + b, atol=1e-5, rtol=1e-4):
            raise Incorrect("for a square W, X @ W runs but multiplies by the wrong entries: "
                            "use X @ W.T (W's rows belong to the outputs).")
        raise Incorrect(f"{label} gives the wrong values; expected X @ W.T + b.")


# ----------------------------------------------------------------------------- q5


def _reference_fit(x: torch.Tensor, y: torch.Tensor, lr: float, epochs: int, zero: bool = True,
                   reduction: str = "mean") -> tuple:
    """Full-batch gradient descent from (0, 0).

    With zero=False the gradients pile up, with reduction="sum" the loss is the sum of squared
    errors: two bugs whose results the check recognises.
    """
    w = torch.zeros(1, 1, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    x, y = x.double(), y.double()
    for _ in range(epochs):
        F.mse_loss(x @ w.T + b, y, reduction=reduction).backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        if zero:
            w.grad.zero_()
            b.grad.zero_()
    return w.item(), b.item()


@exercise(
    "The loop: forward, mse, loss.backward(), update w and b inside torch.no_grad() with -=, then "
    "w.grad.zero_() and b.grad.zero_().",
    "Start with w = torch.zeros(1, 1, requires_grad=True) and b = torch.zeros(1, requires_grad=True); "
    "return w.item(), b.item().",
)
def q5(fit_line: Any) -> None:
    """fit_line(x, y, lr, epochs): full-batch gradient descent from slope 0 and intercept 0."""
    x = torch.linspace(-1.0, 1.0, 9).unsqueeze(1)
    y = 3.0 * x - 2.0 + 0.1 * torch.sin(5.0 * x)
    x_before, y_before = x.clone(), y.clone()
    for lr, epochs in [(0.1, 1), (0.1, 5), (0.3, 300)]:
        label = f"fit_line(x, y, lr={lr}, epochs={epochs})"
        try:
            result = call(fit_line, x, y, lr, epochs)
        except Incorrect as error:
            cause = _cause(error)
            if isinstance(cause, RuntimeError) and "leaf Variable" in str(cause):
                raise Incorrect("updating w in place while autograd records fails: do the update "
                                "inside `with torch.no_grad():`.") from error
            if isinstance(cause, TypeError) and "NoneType" in str(cause):
                raise Incorrect("a gradient was None: `w = w - lr * w.grad` makes a new tensor "
                                "that is not a leaf, so it gets no .grad. Update in place with "
                                "`w -= lr * w.grad` inside torch.no_grad().") from error
            if isinstance(cause, RuntimeError) and "does not require grad" in str(cause):
                raise Incorrect("after the first update the parameters no longer require grad: "
                                "`w = w - lr * w.grad` inside torch.no_grad() makes a new tensor "
                                "that autograd does not track. Update in place with "
                                "`w -= lr * w.grad`.") from error
            raise
        slope, intercept = _pair(result, "fit_line")
        expect(torch.equal(x, x_before) and torch.equal(y, y_before),
               "fit_line changed the data x or y; only the parameters should change.")
        want = _reference_fit(x, y, lr, epochs)
        if (slope, intercept) == (0.0, 0.0):
            raise Incorrect(f"{label} returned (0, 0): the parameters never moved. Do you call "
                            "loss.backward() and update w and b?")
        if close(slope, -want[0], 1e-3) and close(intercept, -want[1], 1e-3):
            raise Incorrect("the line moved uphill: subtract lr * grad, don't add it.")
        summed = _reference_fit(x, y, lr, epochs, reduction="sum")
        if close(slope, summed[0], 1e-3) and close(intercept, summed[1], 1e-3):
            raise Incorrect(f"{label} took steps {len(x)} times too large: your loss is the sum of "
                            "the squared errors. The MSE is their mean: divide by the number of "
                            "points (or use .mean()).")
        piled_up = _reference_fit(x, y, lr, epochs, zero=False)
        if epochs > 1 and close(slope, piled_up[0], 1e-3) and close(intercept, piled_up[1], 1e-3):
            raise Incorrect("the gradients pile up from epoch to epoch: zero them after each "
                            "update (w.grad.zero_() and b.grad.zero_()).")
        expect(close(slope, want[0], 1e-3) and close(intercept, want[1], 1e-3),
               f"{label} should give slope {want[0]:.4f} and intercept {want[1]:.4f}, but gave "
               f"{slope:.4f} and {intercept:.4f}. Start from 0 and 0, and run exactly `epochs` "
               "full-batch steps of the MSE with learning rate lr.")


# ----------------------------------------------------------------------------- q6


@exercise(
    "slope = sum((x - x̄)(y - ȳ)) / sum((x - x̄)²); the line passes through (x̄, ȳ).",
    "Centre first: xc = x - x.mean(), yc = y - y.mean(); slope = (xc * yc).sum() / (xc * xc).sum(); "
    "intercept = y.mean() - slope * x.mean().",
)
def q6(least_squares: Any) -> None:
    """least_squares(x, y): the closed-form least-squares slope and intercept."""
    cars = load_mtcars()
    generator = torch.Generator().manual_seed(6)
    x_far = 20 + torch.rand(15, 1, generator=generator) * 10
    cases = [
        ("mtcars", torch.tensor(cars[["wt"]].to_numpy(np.float32)),
         torch.tensor(cars[["mpg"]].to_numpy(np.float32))),
        ("x from 20 to 30", x_far, 2.0 - 0.5 * x_far + torch.randn(15, 1, generator=generator)),
        ("x = 1, 2, 3", torch.tensor([[1.0], [2.0], [3.0]]), torch.tensor([[1.0], [3.0], [2.0]])),
    ]
    for name, x, y in cases:
        slope, intercept = _pair(call(least_squares, x.clone(), y.clone()), "least_squares")
        xs, ys = x.double().flatten().numpy(), y.double().flatten().numpy()
        want_slope, want_intercept = np.polyfit(xs, ys, 1)
        if close(slope, float((xs * ys).sum() / (xs * xs).sum()), 1e-3) and not close(slope, want_slope, 1e-3):
            raise Incorrect(f"on {name} you fitted a line through the origin (sum(x*y) / sum(x²)); "
                            "centre x and y first (subtract their means).")
        back_slope = float(np.polyfit(ys, xs, 1)[0])
        if close(slope, back_slope, 1e-3) and not close(slope, want_slope, 1e-3):
            raise Incorrect(f"on {name} you regressed x on y: divide by the spread of x, "
                            "sum((x - x̄)²), not of y.")
        expect(close(slope, want_slope, 1e-3), f"on {name} the least-squares slope is "
               f"{want_slope:.4f}, you returned {slope:.4f}.")
        expect(close(intercept, want_intercept, 1e-3),
               f"the slope is right, but on {name} the intercept should be {want_intercept:.4f}, "
               f"not {intercept:.4f}: intercept = ȳ - slope · x̄.")


# ----------------------------------------------------------------------------- q7


@exercise(
    "Write the standardised model out: y = w_std * (x - mean) / std + b_std, and multiply it out.",
    "slope = w_std / std; intercept = b_std - w_std * mean / std.",
)
def q7(to_original_scale: Any) -> None:
    """to_original_scale(w_std, b_std, mean, std): the line in the original units."""
    for w_std, b_std, mean, std in [(-5.2, 20.1, 3.2, 0.98), (2.0, 1.0, -4.0, 2.5), (0.5, -3.0, 10.0, 0.1)]:
        label = f"to_original_scale({w_std}, {b_std}, {mean}, {std})"
        slope, intercept = _pair(call(to_original_scale, w_std, b_std, mean, std), "to_original_scale")
        want_slope, want_intercept = w_std / std, b_std - w_std * mean / std
        if close(slope, w_std * std) and not close(slope, want_slope):
            raise Incorrect(f"{label}: the slope is w_std / std; you multiplied by std.")
        expect(close(slope, want_slope), f"{label} should have slope {want_slope:.4f}, not "
               f"{slope:.4f}.")
        if close(intercept, b_std):
            raise Incorrect(f"{label}: the intercept moves too. At x = 0 the standardised input "
                            "is -mean / std, so the intercept is b_std - w_std * mean / std.")
        if close(intercept, b_std - w_std * mean):
            raise Incorrect(f"{label}: the shift is w_std * mean / std; you forgot to divide by std.")
        expect(close(intercept, want_intercept), f"{label} should have intercept "
               f"{want_intercept:.4f}, not {intercept:.4f}.")
