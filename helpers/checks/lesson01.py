"""Checks for exercises/01_linear_regression_from_scratch_exercises.ipynb."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from unittest import mock

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


def _allclose(actual: torch.Tensor, expected: torch.Tensor, tol: float = 1e-4) -> bool:
    """float32 answers against float64 expectations: relative tolerance well above float32's 1e-7."""
    a, e = actual.detach().cpu().double(), expected.detach().cpu().double()
    return a.shape == e.shape and bool(torch.allclose(a, e, rtol=tol, atol=tol * max(1.0, e.abs().max().item())))


# ----------------------------------------------------------------------------- q1


@exercise(
    "Select the columns in the order given, turn them into a NumPy array of float32, then into a tensor.",
    "torch.tensor(df[columns].to_numpy(dtype=np.float32)), or torch.from_numpy(...) of the same array.",
)
def q1(to_feature_matrix: Any) -> None:
    """to_feature_matrix(df, columns): the chosen columns as an (N, k) float32 tensor."""
    cars = load_mtcars()
    small = pd.DataFrame({"a": [1, 2, 3, 4], "b": [0.5, -1.25, 3.0, 8.0], "c": [10, 20, 30, 40]})
    cases = [
        ("to_feature_matrix(df, ['b', 'a'])", small, ["b", "a"]),
        ("to_feature_matrix(cars, ['wt', 'hp', 'cyl'])", cars, ["wt", "hp", "cyl"]),
        ("to_feature_matrix(cars, ['disp'])", cars, ["disp"]),
    ]
    for label, df, columns in cases:
        original = df.copy()
        out = call(to_feature_matrix, df, list(columns))
        expect(df.equals(original), f"{label} changed the DataFrame; leave it as it is.")
        expect_tensor(out, label)
        n, k = len(df), len(columns)
        if tuple(out.shape) == (k, n) and k != n:
            raise Incorrect(f"{label} has shape {tuple(out.shape)}: one row per column. It should be "
                            f"({n}, {k}): one row per sample, one column per feature.")
        expect(tuple(out.shape) == (n, k), f"{label} has shape {tuple(out.shape)}; expected ({n}, {k}): "
               "one row per sample, one column per feature.")
        expect(out.dtype == torch.float32, f"{label} has dtype {out.dtype}; models use torch.float32 "
               "(pandas hands over float64, or int64 for whole numbers).")
        want = torch.tensor(df[columns].to_numpy(dtype=np.float64, copy=True))
        got = out.detach().cpu().double()
        if k > 1 and _allclose(got, want.flip(1)) and not _allclose(got, want):
            raise Incorrect(f"{label}: the columns come out in reverse order; keep the order of `columns`.")
        expect(_allclose(got, want, 1e-6), f"{label} holds other values than the columns {columns} "
               "of the DataFrame, in that order.")


# ----------------------------------------------------------------------------- q2


def _column_stats(X: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    X = X.double()
    return X.mean(dim=0), [X.std(dim=0, correction=1), X.std(dim=0, correction=0)]


@exercise(
    "Each column gets its own mean and standard deviation: reduce over the rows, dim=0.",
    "mean = X.mean(dim=0); std = X.std(dim=0); return (X - mean) / std, mean, std "
    "(broadcasting subtracts each column's mean from that column).",
)
def q2(standardise: Any) -> None:
    """standardise(X): each column to mean 0 and standard deviation 1; returns (X_std, mean, std)."""
    generator = torch.Generator().manual_seed(2)
    cases = [
        torch.tensor([[1.0], [2.0], [3.0], [6.0]]),
        torch.randn(50, 3, generator=generator) * torch.tensor([1.0, 40.0, 0.01])
        + torch.tensor([3.0, 500.0, -2.0]),
    ]
    for X in cases:
        n, k = X.shape
        label = f"standardise(X) with X of shape {(n, k)}"
        result = call(standardise, X)
        expect(isinstance(result, (tuple, list)) and len(result) == 3,
               f"{label} should return three things, (X_standardised, mean, std), but it returned "
               f"{describe(result)}.")
        X_std, mean, std = result
        expect_tensor(X_std, "X_standardised")
        expect(tuple(X_std.shape) == (n, k), f"{label}: X_standardised has shape {tuple(X_std.shape)}; it "
               f"should keep the shape of X, {(n, k)}.")
        want_mean, want_stds = _column_stats(X)
        stats = {}
        for name, value in (("mean", mean), ("std", std)):
            if isinstance(value, (float, int, np.ndarray, np.floating)):   # NumPy statistics are fine too
                value = torch.as_tensor(np.asarray(value, dtype=np.float64))
            stats[name] = expect_tensor(value, name)
            if value.numel() == 1 and k > 1:
                raise Incorrect(f"{label}: {name} is a single number; each of the {k} columns needs its "
                                f"own {name}: reduce over the rows only (dim=0).")
            if value.numel() == n and n != k:
                raise Incorrect(f"{label}: {name} has {n} numbers, one per row; it should have one per "
                                "column: reduce with dim=0, not dim=1.")
            expect(value.numel() == k, f"{label}: {name} should hold {k} numbers (one per column), "
                   f"but it is {describe(value)}.")
        mean, std = (stats[name].detach().cpu().double().reshape(k) for name in ("mean", "std"))
        expect(_allclose(mean, want_mean), f"{label}: mean should be the average of each column.")
        expect(any(_allclose(std, s) for s in want_stds), f"{label}: std should be the standard deviation "
               "of each column (X.std(dim=0)).")
        out = X_std.detach().cpu().double()
        expect(_allclose(out, (X.double() - mean) / std),
               f"{label}: X_standardised should be (X - mean) / std with the mean and std you returned.")


# ----------------------------------------------------------------------------- q3


@exercise(
    "The model only knows standardised inputs: transform x_new with the training mean and std first.",
    "return w_s * (x_new - mean) / std + b_s",
)
def q3(predict_raw: Any) -> None:
    """predict_raw(x_new, w_s, b_s, mean, std): predictions for raw inputs of a standardised model."""
    cases = [
        (torch.tensor([[2.0], [3.0], [4.0], [5.0]]), -5.2, 20.1, 3.2, 0.98),
        (torch.tensor([[150.0], [60.0], [300.0]]), -4.6, 20.0, 146.7, 68.6),
        (torch.tensor([[7.5]]), 1.5, -2.0, 10.0, 2.5),   # a single new point
    ]
    for x_new, w_s, b_s, mean, std in cases:
        label = f"predict_raw(x_new of shape {tuple(x_new.shape)}, {w_s}, {b_s}, {mean}, {std})"
        out = call(predict_raw, x_new, w_s, b_s, mean, std)
        expect_tensor(out, label)
        n = len(x_new)
        expect(tuple(out.shape) == (n, 1), f"{label} has shape {tuple(out.shape)}; expected ({n}, 1): one "
               "row per new point, like x_new.")
        got, x = out.detach().cpu().double(), x_new.double()
        want = w_s * (x - mean) / std + b_s
        if _allclose(got, want):
            continue
        if _allclose(got, w_s * x + b_s):
            raise Incorrect(f"{label}: you used the raw inputs; the model was trained on standardised "
                            "ones, so transform x_new with the training mean and std first.")
        if n > 1 and (_allclose(got, w_s * (x - x.mean()) / x.std() + b_s)
                      or _allclose(got, w_s * (x - x.mean()) / x.std(correction=0) + b_s)):
            raise Incorrect(f"{label}: you standardised the new points with their own mean and std. The "
                            "model learned with the training statistics: use the mean and std arguments.")
        raise Incorrect(f"{label} gives other predictions than w_s * (x_new - mean) / std + b_s.")


# ----------------------------------------------------------------------------- q4


class _AutogradOff(RuntimeError):
    pass


@contextlib.contextmanager
def _autograd_disabled() -> Iterator[None]:
    """Patch backward() and torch.autograd.grad to raise: the exercise asks for the formulas by hand."""
    error = _AutogradOff("autograd is switched off for this exercise (the check patches backward() and "
                         "torch.autograd.grad to raise): compute the gradients with the formulas")
    with mock.patch("torch.Tensor.backward", side_effect=error), \
            mock.patch("torch.autograd.backward", side_effect=error), \
            mock.patch("torch.autograd.grad", side_effect=error):
        yield


def _line_gradients(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> tuple:
    w, b = w.double().clone().requires_grad_(), b.double().clone().requires_grad_()
    F.mse_loss(x.double() @ w.T + b, y.double()).backward()
    return w.grad, b.grad


@exercise(
    "With error = prediction - target: dL/dw is the average of 2 * error * x, dL/db the average of "
    "2 * error.",
    "error = x @ w.T + b - y; grad_w = 2 * (error * x).mean(); grad_b = 2 * error.mean() "
    "(reshape them to w.shape and b.shape).",
)
def q4(mse_gradients: Any) -> None:
    """mse_gradients(x, y, w, b): the gradients of the MSE of a line, by formula (autograd disabled)."""
    generator = torch.Generator().manual_seed(3)
    cases = [
        (torch.tensor([[1.0], [2.0], [3.0], [4.0]]), torch.tensor([[2.0], [3.0], [3.5], [6.0]]),
         torch.tensor([[0.5]]), torch.tensor([0.25])),
        (torch.randn(7, 1, generator=generator) * 3 + 2, torch.randn(7, 1, generator=generator),
         torch.tensor([[-1.5]]), torch.tensor([2.0])),
    ]
    for x, y, w, b in cases:
        n = len(x)
        want_w, want_b = (g.item() for g in _line_gradients(x, y, w, b))
        try:
            with _autograd_disabled():
                result = call(mse_gradients, x, y, w, b)
        except Incorrect as error:
            if isinstance(_cause(error), _AutogradOff):
                raise Incorrect("your function called backward() (or torch.autograd.grad); this exercise "
                                "asks for the formulas by hand, so the check runs it with autograd "
                                "switched off.") from error
            raise
        expect(isinstance(result, (tuple, list)) and len(result) == 2,
               f"mse_gradients should return two gradients, (grad_w, grad_b), but it returned "
               f"{describe(result)}.")
        got_w, got_b = as_number(result[0], "grad_w"), as_number(result[1], "grad_b")
        if close(got_w, want_w) and close(got_b, want_b):
            continue
        if close(got_w, want_b) and close(got_b, want_w):
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
        expect(close(got_b, want_b), f"grad_b should be {want_b:.4g}, you returned {got_b:.4g}.")
        raise Incorrect(f"grad_w should be {want_w:.4g}, you returned {got_w:.4g} (grad_b is right).")


# ----------------------------------------------------------------------------- q5


def _reference_fit(x: torch.Tensor, y: torch.Tensor, lr: float, epochs: int, zero: bool = True,
                   reduction: str = "mean", b_from_w: bool = False) -> tuple[float, float]:
    """Full-batch gradient descent from (0, 0), in float64.

    zero=False lets the gradients pile up; reduction="sum" uses the sum of squared errors;
    b_from_w=True updates b with w's gradient: bugs whose results the check recognises.
    """
    w = torch.zeros(1, 1, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    x, y = x.double(), y.double()
    for _ in range(epochs):
        F.mse_loss(x @ w.T + b, y, reduction=reduction).backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * (w.grad.reshape(1) if b_from_w else b.grad)
        if zero:
            w.grad.zero_()
            b.grad.zero_()
    return w.item(), b.item()


def _same(result: tuple[float, float], want: tuple[float, float], tol: float = 1e-3) -> bool:
    return close(result[0], want[0], tol) and close(result[1], want[1], tol)


@exercise(
    "Run the broken version and watch w.grad from one epoch to the next, and check which gradient "
    "each parameter is updated with.",
    "Update b with b.grad (not w.grad), and zero both gradients after each update: "
    "w.grad.zero_() and b.grad.zero_().",
)
def q5(fit_line: Any) -> None:
    """fit_line(x, y, lr, epochs): the debugged full-batch gradient descent from slope 0 and intercept 0."""
    x = torch.linspace(-1.0, 1.0, 9).unsqueeze(1) + 0.5
    y = 3.0 * x - 2.0 + 0.1 * torch.sin(5.0 * x)
    for lr, epochs in [(0.1, 1), (0.1, 2), (0.05, 7), (0.3, 200)]:
        label = f"fit_line(x, y, lr={lr}, epochs={epochs})"
        try:
            result = call(fit_line, x, y, lr, epochs)
        except Incorrect as error:
            cause = _cause(error)
            if isinstance(cause, RuntimeError) and "leaf Variable" in str(cause):
                raise Incorrect("updating w in place while autograd records fails: keep the update "
                                "inside `with torch.no_grad():`.") from error
            if isinstance(cause, (TypeError, AttributeError)) and "NoneType" in str(cause):
                raise Incorrect("a gradient was None: `w = w - lr * w.grad` makes a new tensor without "
                                "a .grad. Update in place with `w -= lr * w.grad`.") from error
            raise
        got = _pair(result, "fit_line")
        want = _reference_fit(x, y, lr, epochs)
        if _same(got, want):
            continue
        if got == (0.0, 0.0):
            raise Incorrect(f"{label} returned (0, 0): the parameters never moved.")
        if _same(got, _reference_fit(x, y, lr, epochs, b_from_w=True)):
            raise Incorrect(f"{label}: the intercept is updated with the slope's gradient; b needs b.grad.")
        if epochs > 1 and (_same(got, _reference_fit(x, y, lr, epochs, zero=False))
                           or _same(got, _reference_fit(x, y, lr, epochs, zero=False, b_from_w=True))):
            raise Incorrect(f"{label}: the gradients pile up from epoch to epoch (backward() adds to "
                            ".grad): zero them after each update.")
        if _same(got, _reference_fit(x, y, lr, epochs, reduction="sum")):
            raise Incorrect(f"{label} took steps {len(x)} times too large: the loss should be the mean "
                            "of the squared errors, not their sum.")
        raise Incorrect(f"{label} should give slope {want[0]:.4f} and intercept {want[1]:.4f}, but gave "
                        f"{got[0]:.4f} and {got[1]:.4f}. Start from 0 and 0 and run exactly `epochs` "
                        "full-batch steps of the MSE with learning rate lr.")


# ----------------------------------------------------------------------------- q6


def _standardised_fits(x: torch.Tensor, y: torch.Tensor, lr: float, epochs: int) -> list[tuple]:
    """The right answer for either standard deviation (n - 1 or n in the denominator), in original units."""
    fits = []
    for correction in (1, 0):
        mean, std = x.double().mean(), x.double().std(correction=correction)
        w_s, b_s = _reference_fit((x.double() - mean) / std, y, lr, epochs)
        fits.append(((w_s / std).item(), (b_s - w_s * mean / std).item(), w_s, b_s))
    return fits


@exercise(
    "Three parts: standardise x (its own mean and std), run gradient descent from (0, 0) on the "
    "standardised x, then convert the line back: slope = w_s / std, intercept = b_s - w_s * mean / std.",
    "mean, std = x.mean(), x.std(); w_s, b_s = (your fit_line)((x - mean) / std, y, lr, epochs); "
    "return w_s / std, b_s - w_s * mean / std.",
)
def q6(fit_standardised: Any) -> None:
    """fit_standardised(x, y, lr, epochs): GD on the standardised input, the line in original units."""
    cars = load_mtcars()
    hp = torch.tensor(cars[["hp"]].to_numpy(np.float32))
    mpg = torch.tensor(cars[["mpg"]].to_numpy(np.float32))
    generator = torch.Generator().manual_seed(6)
    x_far = 1000 + 50 * torch.rand(25, 1, generator=generator)
    y_far = 0.2 * x_far - 150 + torch.randn(25, 1, generator=generator)
    cases = [("horsepower against mpg", hp, mpg, 0.1, 1), ("horsepower against mpg", hp, mpg, 0.1, 4),
             ("x from 1000 to 1050", x_far, y_far, 0.2, 3), ("horsepower against mpg", hp, mpg, 0.1, 300)]
    for name, x, y, lr, epochs in cases:
        label = f"fit_standardised on {name} (lr={lr}, epochs={epochs})"
        got = _pair(call(fit_standardised, x, y, lr, epochs), "fit_standardised")
        fits = _standardised_fits(x, y, lr, epochs)
        if any(_same(got, fit[:2]) for fit in fits):
            continue
        if any(_same(got, fit[2:]) for fit in fits):
            raise Incorrect(f"{label}: you returned the slope and intercept of the standardised input; "
                            "convert them back to the original units.")
        if not any(np.isfinite(v) for v in got):
            raise Incorrect(f"{label} returned {got}: the numbers blew up. Did you train on the raw x "
                            "instead of the standardised one?")
        if _same(got, _reference_fit(x, y, lr, epochs)):
            raise Incorrect(f"{label}: that is gradient descent on the raw x; standardise it first.")
        xs, ys = x.double().flatten().numpy(), y.double().flatten().numpy()
        if _same(got, tuple(np.polyfit(xs, ys, 1))) and epochs < 100:
            steps = f"{epochs} epoch" + ("s" if epochs > 1 else "")
            raise Incorrect(f"{label} returned the least-squares line, but after {steps} from (0, 0) "
                            f"gradient descent is not there yet (slope {fits[0][0]:.4f}): run exactly "
                            "`epochs` steps with learning rate lr.")
        raise Incorrect(f"{label} should give slope {fits[0][0]:.4f} and intercept {fits[0][1]:.4f}, but "
                        f"gave {got[0]:.4f} and {got[1]:.4f}.")
