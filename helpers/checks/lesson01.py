"""Checks for exercises/01_linear_regression_from_scratch_exercises.ipynb.

Every check judges the learner's function on data of its own: small DataFrames
and seeded tensors that the exercises never show, and mtcars columns that the
lesson did not fit. Expectations are computed in float64 by formula (no
autograd), so they cannot be disturbed by the answer, and the tolerances come
from float32 rounding: about 1e-7 relative per operation, far below the
tolerances used, and far below the gaps that the wrong answers make.
"""

from __future__ import annotations

import contextlib
import re
import traceback
from collections.abc import Iterator
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import torch

from helpers.checks.core import (
    Incorrect,
    as_number,
    call,
    describe,
    exercise,
    expect,
    expect_tensor,
)
from helpers.data import load_mtcars


def _cause(error: Incorrect) -> BaseException | None:
    return error.__cause__


def _allclose(actual: torch.Tensor, expected: torch.Tensor, tol: float = 1e-4) -> bool:
    """float32 answers against float64 expectations: relative tolerance well above float32's 1e-7."""
    a, e = actual.detach().cpu().double(), expected.detach().cpu().double()
    return a.shape == e.shape and bool(torch.allclose(a, e, rtol=tol, atol=tol * max(1.0, e.abs().max().item())))


def _numbers(value: Any, what: str, label: str = "") -> np.ndarray:
    """The numbers in a tensor, array, number or list of numbers, flattened, as float64.

    Anything else is an :class:`Incorrect` that says what ``what`` should hold, after ``label``.
    """
    try:
        return _numbers_in(value, what)
    except Incorrect as error:
        raise Incorrect(f"{label}: {error}" if label else str(error)) from None


def _numbers_in(value: Any, what: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        if value.is_complex() or value.layout != torch.strided:
            raise Incorrect(f"{what} should hold real numbers in an ordinary (dense) tensor, but it is "
                            f"{describe(value)}.")
        return value.detach().cpu().double().flatten().numpy()
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return value.astype(np.float64).flatten()
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, (list, tuple)) for v in value):   # nested lists: [[1.0, 2.0]]
            return np.concatenate([_numbers_in(v, what) for v in value]) if value else np.zeros(0)
        return np.array([as_number(v, f"each entry of {what}") for v in value], dtype=np.float64)
    if isinstance(value, (np.ndarray, float, int, np.floating, np.integer)) and not isinstance(value, bool):
        return np.array([as_number(value, what)])
    raise Incorrect(f"{what} should hold numbers (a tensor, a NumPy array or a list of numbers), but it is "
                    f"{describe(value)}.")


def _count(value: Any) -> int | None:
    """How many numbers a tensor, array or (nested) list holds, without converting them; None otherwise."""
    if isinstance(value, torch.Tensor):
        return value.numel()
    if isinstance(value, np.ndarray):
        return value.size
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (list, tuple)) for v in value):
            return sum(len(v) for v in value)
        return len(value)
    return None


def _real_values(out: torch.Tensor) -> np.ndarray | None:
    """The entries of a dense real tensor as float64 NumPy numbers; None for complex or sparse ones."""
    if out.is_complex() or out.layout != torch.strided:
        return None
    return out.detach().cpu().double().numpy()


def _near(got: np.ndarray, want: np.ndarray, tol: np.ndarray | float) -> bool:
    """Entry by entry, |got - want| <= tol (NaN is never near)."""
    return got.shape == want.shape and bool(np.all(np.abs(got - want) <= tol))


def _shown(values: np.ndarray) -> str:
    """A few numbers, rounded, for a hint."""
    items = ", ".join(f"{v:.4g}" for v in values[:4])
    return f"[{items}{', ...' if len(values) > 4 else ''}]"


# ----------------------------------------------------------------------------- q1


def _indicators(column: pd.Series) -> tuple[list, np.ndarray]:
    """The distinct values of ``column`` in ascending order and one 0/1 column for each, float64."""
    values = sorted(column.unique().tolist())
    return values, np.column_stack([(column == v).to_numpy(dtype=np.float64) for v in values])


def _q1_frames() -> list[tuple[pd.DataFrame, list[str], str]]:
    """The check's own tables: mtcars first, then three it never shows (other names, values, dtypes)."""
    shop = pd.DataFrame({"price": [3.5, 1.0, 2.25, 8.0, 2.5, 4.0],
                         "items": [1, 2, 3, 4, 5, 1],
                         "colour": ["red", "blue", "red", "green", "blue", "red"]})
    trips = pd.DataFrame({"km": [12.0, 3.5, 7.25, 30.0, 1.0, 5.0, 9.0],
                          "paid": [True, False, True, True, False, False, True],
                          "zone": [10, 2, 7, 2, 10, 7, 2]})
    return [(load_mtcars(), ["wt", "hp"], "cyl"), (shop, ["items", "price"], "colour"),
            (trips, ["paid", "km"], "zone"), (trips, [], "paid")]


@exercise(
    "Two parts side by side: the numeric columns as in the lesson, then one column per distinct value "
    "of the category (sorted), holding 1.0 in the rows with that value and 0.0 elsewhere. "
    "torch.cat([...], dim=1) joins tensors side by side.",
    "Build the indicators one distinct value at a time, in sorted order: the comparison with that value "
    "is its True/False column; turn each into float32, make them the columns of one tensor "
    "(torch.stack(..., dim=1)), and put that beside the numeric part.",
)
def q1(to_feature_matrix: Any) -> None:
    """to_feature_matrix(df, numeric, category): numeric columns, then the category's indicator columns."""
    for df, numeric, category in _q1_frames():
        label = f"to_feature_matrix(df, {numeric}, {category!r})"
        original = df.copy()
        try:
            out = call(to_feature_matrix, df, list(numeric), category)
        except Incorrect as error:
            cause = _cause(error)
            if isinstance(cause, TypeError) and "numpy.object_" in str(cause):
                raise Incorrect(f"{label} failed: torch cannot convert a NumPy array of dtype object (Python "
                                "objects, one per entry). pandas hands one over when the columns taken together "
                                "mix kinds, such as True/False beside numbers: .values or .to_numpy() then keep "
                                "each entry as it is. Ask for numbers, df[columns].to_numpy(dtype=np.float32), "
                                "as the lesson did (True becomes 1.0).") from error
            raise
        expect(df.equals(original) and list(df.columns) == list(original.columns),
               f"{label} changed the DataFrame; leave it as it is and build a new tensor.")
        expect_tensor(out, label)
        values, indicators = _indicators(df[category])
        n, k, c = len(df), len(numeric), len(values)
        shown_values = ", ".join(str(v) for v in values)
        shape = tuple(out.shape)
        want_numeric = df[numeric].to_numpy(dtype=np.float64) if k else np.zeros((n, 0))
        got = _real_values(out)   # None where the entries are not real numbers (complex, sparse)
        # A shape alone does not prove a cause: each hint below names one only when the numbers show it.
        if shape == (n, k + 1) and c > 2 and got is not None:
            pairs = set(zip(df[category].tolist(), got[:, k].tolist(), strict=True))
            if len(pairs) == c and len({number for _, number in pairs}) == c:   # one number per value
                raise Incorrect(f"{label} has shape {shape}: the column {category!r} came out as one column "
                                f"(one number per value). It should become {c} indicator columns, one per "
                                f"distinct value ({shown_values}), so the shape is ({n}, {k + c}).")
        if shape == (n, k + c - 1) and c > 1 and got is not None:
            present = {tuple(col) for col in got[:, k:].T}
            missing = [v for v, col in zip(values, indicators.T, strict=True) if tuple(col) not in present]
            numbers_kept = np.allclose(got[:, :k], want_numeric, rtol=1e-6, atol=0)
            if numbers_kept and len(missing) == 1 and len(present) == c - 1:
                raise Incorrect(f"{label} has shape {shape}, one column short of ({n}, {k + c}): the indicator "
                                f"column for {missing[0]!r} is missing. {category!r} has {c} distinct values "
                                f"({shown_values}) and each gets its own column, none left out.")
        if shape == (k + c, n) and k + c != n and got is not None and got.shape == (k + c, n) \
                and np.allclose(got.T, np.hstack([want_numeric, indicators]), rtol=1e-6, atol=0):
            raise Incorrect(f"{label} has shape {shape}: one row per column. It should be ({n}, {k + c}): "
                            "one row per sample, one column per feature.")
        expect(shape == (n, k + c), f"{label} has shape {shape}; expected ({n}, {k + c}): one row per "
               f"sample, {k} numeric column{'s' if k != 1 else ''}, then one indicator column for each "
               f"of the {c} distinct values of {category!r} ({shown_values}).")
        expect(out.dtype == torch.float32, f"{label} has dtype {out.dtype}; models use torch.float32 "
               "(pandas hands over float64, int64 or bool: convert).")
        expect(got is not None, f"{label} is a sparse tensor; return an ordinary (dense) one (.to_dense()).")
        if k and c and np.allclose(got[:, c:], want_numeric, rtol=1e-6) and np.array_equal(got[:, :c], indicators):
            raise Incorrect(f"{label}: the indicator columns come first; put the numeric columns first, "
                            "in the order given, then the indicators.")
        expect(np.allclose(got[:, :k], want_numeric, rtol=1e-6, atol=0),
               f"{label}: the first {k} columns should hold the numeric columns {numeric}, in that order.")
        part = got[:, k:]
        if np.array_equal(part, indicators):
            continue
        if sorted(map(tuple, part.T)) == sorted(map(tuple, indicators.T)):   # the same columns, reordered
            order = [values[[tuple(col) for col in indicators.T].index(tuple(col))] for col in part.T]
            raise Incorrect(f"{label}: the indicator columns are right but in the order "
                            f"{', '.join(str(v) for v in order)}; sort the distinct values: {shown_values}.")
        raise Incorrect(f"{label}: the last {c} columns should be indicators: for each distinct value of "
                        f"{category!r} in ascending order ({shown_values}), 1.0 in the rows holding it and "
                        "0.0 elsewhere.")


# ----------------------------------------------------------------------------- q2


def _column_stats(X: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    X = X.double()
    return X.mean(dim=0), [X.std(dim=0, correction=1), X.std(dim=0, correction=0)]


@exercise(
    "Each column gets its own mean and standard deviation: reduce over the rows, dim=0.",
    "X.mean(dim=0) collapses the rows and keeps one number per column, shape (k,); an (N, k) tensor minus "
    "a (k,) one subtracts it from every row (broadcasting), so each column loses its own mean. The same "
    "goes for dividing by the standard deviations.",
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
            stats[name] = expect_tensor(value, name)   # tensors, as the prompt says: exercise 6 reuses them
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
    "Two conversions, in opposite directions: the raw input must be put on the scale the model was "
    "trained on, and the model's output is on the scale of the standardised target, so it must be taken "
    "back to the target's units.",
    "The input goes in the direction the model was trained in: standardise x_new with the training "
    "x_mean and x_std before w_s and b_s act on it. The output goes back: the target was standardised as "
    "y_s = (y - y_mean) / y_std; solve that for y.",
)
def q3(predict_raw: Any) -> None:
    """predict_raw(x_new, w_s, b_s, x_mean, x_std, y_mean, y_std): raw-unit predictions of a standardised model."""
    cases = [
        (torch.tensor([[2.0], [3.0], [4.0], [5.0]]), -0.87, 0.02, 3.2, 0.98, 20.1, 6.0),
        (torch.tensor([[150.0], [60.0], [300.0]]), -0.78, -0.1, 146.7, 68.6, 20.1, 6.0),
        (torch.tensor([[7.5]]), 1.5, -2.0, 10.0, 2.5, -40.0, 0.5),   # a single new point
    ]
    for x_new, w_s, b_s, x_mean, x_std, y_mean, y_std in cases:
        label = (f"predict_raw(x_new of shape {tuple(x_new.shape)}, w_s={w_s}, b_s={b_s}, x_mean={x_mean}, "
                 f"x_std={x_std}, y_mean={y_mean}, y_std={y_std})")
        out = call(predict_raw, x_new, w_s, b_s, x_mean, x_std, y_mean, y_std)
        expect_tensor(out, label)
        n = len(x_new)
        expect(tuple(out.shape) == (n, 1), f"{label} has shape {tuple(out.shape)}; expected ({n}, 1): one "
               "row per new point, like x_new.")
        got, x = out.detach().cpu().double(), x_new.double()
        standardised = w_s * (x - x_mean) / x_std + b_s   # the model's output, in standardised target units
        want = standardised * y_std + y_mean
        # float32 rounding: a few operations on numbers up to ~300 -> errors near 1e-5 at most; 1e-4 relative
        # to the largest value leaves room, and every wrong answer below is off by far more.
        if _allclose(got, want):
            continue
        if _allclose(got, standardised):
            raise Incorrect(f"{label}: these are the model's outputs as they are, on the standardised scale of "
                            "the target (mean 0, standard deviation 1); take them back to the target's units.")
        if _allclose(got, (standardised - y_mean) / y_std):
            raise Incorrect(f"{label}: you standardised the model's outputs a second time; they are "
                            "standardised already, and need the opposite conversion.")
        if _allclose(got, standardised * y_std):
            raise Incorrect(f"{label}: the outputs are scaled by y_std, but y_mean is missing.")
        if _allclose(got, standardised + y_mean):
            raise Incorrect(f"{label}: the outputs are shifted by y_mean, but not scaled by y_std.")
        if _allclose(got, (w_s * x + b_s) * y_std + y_mean):
            raise Incorrect(f"{label}: you fed the raw inputs to the model; it was trained on standardised "
                            "inputs, so put x_new on that scale first, with the training x_mean and x_std.")
        if _allclose(got, (w_s * (x - y_mean) / y_std + b_s) * x_std + x_mean):
            raise Incorrect(f"{label}: the statistics of x and y are swapped: x_mean and x_std belong to "
                            "the input, y_mean and y_std to the target.")
        if n > 1 and any(_allclose(got, (w_s * (x - x.mean()) / x.std(correction=c) + b_s) * y_std + y_mean)
                         for c in (0, 1)):
            raise Incorrect(f"{label}: you standardised the new points with their own mean and std. The "
                            "model learned with the training statistics: use the x_mean and x_std arguments.")
        raise Incorrect(f"{label} gives {describe(out)}; the model's predictions in the target's units are "
                        f"{describe(want.float())}.")
# ----------------------------------------------------------------------------- q4


class _AutogradOff(RuntimeError):
    pass


class _EngineOff:
    """Stands in for autograd's engine while an answer runs: every way into it raises."""

    def __init__(self, error: _AutogradOff) -> None:
        self._error = error

    def __getattr__(self, name: str) -> Any:
        raise self._error


class _NoEngine:
    """Stands in for autograd's engine class: making a fresh engine raises too."""

    def __init__(self, error: _AutogradOff) -> None:
        self._error = error

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise self._error


@contextlib.contextmanager
def _autograd_disabled() -> Iterator[None]:
    """Patch every way into automatic differentiation to raise: the exercise asks for the formulas by hand.

    Reverse mode: backward() and torch.autograd.grad (torch.func.grad, vjp, jacrev and
    torch.autograd.functional go through them), the engine behind them (Variable._execution_engine,
    which an answer could call directly) and the engine class (a fresh engine). Forward mode: the
    dual numbers of torch.autograd.forward_ad (torch.func.jvp and jacfwd make them) and the ops under them.
    """
    error = _AutogradOff("automatic differentiation is switched off for this exercise (the check patches "
                         "backward(), torch.autograd.grad and forward-mode dual numbers to raise): compute "
                         "the gradients with formulas")
    forward_ad = torch.autograd.forward_ad
    targets = [(torch.Tensor, "backward"), (torch.autograd, "backward"), (torch.autograd, "grad"),
               (forward_ad, "make_dual"), (forward_ad, "enter_dual_level"), (torch, "_make_dual"),
               (torch._C, "_enter_dual_level")]
    with contextlib.ExitStack() as stack:
        for owner, name in targets:
            if hasattr(owner, name):   # the private names differ between torch versions
                stack.enter_context(mock.patch.object(owner, name, side_effect=error))
        stack.enter_context(mock.patch.object(torch.autograd.variable.Variable, "_execution_engine",
                                              _EngineOff(error)))
        if hasattr(torch._C, "_ImperativeEngine"):
            stack.enter_context(mock.patch.object(torch._C, "_ImperativeEngine", _NoEngine(error)))
        yield


def _q4_cases() -> list[tuple[torch.Tensor, ...]]:
    """(X, y, w, b) with k = 2 and k = 3 inputs; every error is at least 0.1 away from 0."""
    generator = torch.Generator().manual_seed(4)
    X1 = torch.tensor([[1.0, 0.5], [2.0, -1.0], [3.0, 2.0], [4.0, 0.0], [-1.0, 3.0]])
    y1 = torch.tensor([[2.0], [3.0], [0.5], [6.0], [1.0]])
    X2 = torch.randn(9, 3, generator=generator) * torch.tensor([1.0, 5.0, 0.2]) + torch.tensor([2.0, 0.0, -1.0])
    y2 = torch.randn(9, 1, generator=generator) * 3
    cases = [(X1, y1, torch.tensor([[0.5, -0.25]]), torch.tensor([0.25])),
             (X2, y2, torch.tensor([[-1.5, 0.3, 2.0]]), torch.tensor([1.0]))]
    for X, y, w, b in cases:
        error = X.double() @ w.double().T + b.double() - y.double()
        assert error.abs().min() > 0.1   # far from the kink of |u|: float32 rounding cannot flip a sign
    return cases


def _loss_gradients(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor,
                    slope_of: Any) -> tuple[np.ndarray, np.ndarray]:
    """dL/dw and dL/db of L = mean(f(error)) for a model X @ w.T + b, where slope_of(error) = f'(error)."""
    X64 = X.double().numpy()
    error = (X64 @ w.double().numpy().T + b.double().numpy() - y.double().numpy()).ravel()
    slope = slope_of(error)
    return (slope[:, None] * X64).mean(axis=0).reshape(w.shape), np.array([slope.mean()])


@exercise(
    "Start from one sample and one input: L = |x w + b - y|. How does L change when w grows a little? "
    "Where the error is positive, |error| grows like the error; where it is negative, it shrinks. Then "
    "average over the samples, and do the same for each input column.",
    "Follow the worked MSE example: per sample, its 2 * error becomes the slope of |error| (torch.sign "
    "gives it, one per sample); each weight w_j picks up its own input x_ij, where the example's one weight "
    "picked up x_i. Then average over the samples and give each gradient the shape of its parameter.",
)
def q4(mae_gradients: Any) -> None:
    """mae_gradients(X, y, w, b): the gradients of the mean absolute error of a k-input model, by hand."""
    for X, y, w, b in _q4_cases():
        n, k = X.shape
        label = f"mae_gradients(X of shape {(n, k)}, y, w, b)"
        want_w, want_b = _loss_gradients(X, y, w, b, np.sign)
        try:
            with _autograd_disabled():
                result = call(mae_gradients, X, y, w, b)
        except Incorrect as error:
            if isinstance(_cause(error), _AutogradOff):
                raise Incorrect("your function used automatic differentiation (backward(), torch.autograd.grad, "
                                "torch.func or forward-mode dual numbers); this exercise asks for the gradients "
                                "by hand, so the check runs it with autograd switched off.") from error
            raise
        expect(isinstance(result, (tuple, list)) and len(result) == 2,
               f"{label} should return two gradients, (grad_w, grad_b), but it returned {describe(result)}.")
        for name, value, shape in (("grad_w", result[0], tuple(w.shape)), ("grad_b", result[1], tuple(b.shape))):
            got_shape = tuple(np.shape(value.detach() if isinstance(value, torch.Tensor) else value))
            expect(got_shape == shape, f"{label}: {name} has shape {got_shape}; give it the shape of "
                   f"{name[-1]}, {shape}, one number per parameter.")
        got_w, got_b = _numbers(result[0], "grad_w", label), _numbers(result[1], "grad_b", label)
        want_w, want_b = want_w.ravel(), want_b
        # Each gradient averages n terms of size |x| (or 1): float32 rounds each to ~1e-7, so 1e-4 times the
        # average size of the terms is a wide margin. Wrong answers miss by far more.
        tol_w = 1e-4 * np.abs(X.double().numpy()).mean(axis=0)
        tol_b = 1e-4
        if _near(got_w, want_w, tol_w) and _near(got_b, want_b, tol_b):
            continue
        mse_w, mse_b = _loss_gradients(X, y, w, b, lambda e: 2 * e)
        if _near(got_w, mse_w.ravel(), 1e-4 * np.abs(mse_w).max()) and _near(got_b, mse_b, 1e-4 * abs(mse_b[0])):
            raise Incorrect(f"{label} returned the gradients of the mean *squared* error; this loss is the "
                            "mean *absolute* error, |error| rather than error².")
        if _near(got_w, -want_w, tol_w) and _near(got_b, -want_b, tol_b):
            raise Incorrect(f"{label}: both signs are flipped: the error is prediction minus target, "
                            "(X @ w.T + b) - y.")
        if _near(got_w, 2 * want_w, 2 * tol_w) and _near(got_b, 2 * want_b, 2 * tol_b):
            raise Incorrect(f"{label}: both gradients are twice as large as they should be: the factor 2 "
                            "belongs to the derivative of error², not of |error|.")
        if _near(got_w, n * want_w, n * tol_w) and _near(got_b, n * want_b, n * tol_b):
            raise Incorrect(f"{label}: both gradients are {n} times too large: the loss averages over the "
                            f"{n} samples, so average (mean), don't just sum.")
        expect(_near(got_b, want_b, tol_b), f"{label}: grad_b should be {want_b[0]:.4g}, you returned "
               f"{got_b[0]:.4g}.")
        raise Incorrect(f"{label}: grad_w should be {_shown(want_w)}, you returned {_shown(got_w)} (grad_b "
                        "is right).")
# ----------------------------------------------------------------------------- q5


def _gd(X: torch.Tensor, y: torch.Tensor, lr: float, epochs: int, *, every_pair: bool = False,
        zero: bool = True, reduction: str = "mean") -> tuple[np.ndarray, float, list[float]]:
    """Full-batch gradient descent on the MSE from all zeros, by formula in float64.

    Returns the weights (k numbers), the bias and the loss before each update. The other arguments
    reproduce bugs whose results the checks recognise: every_pair compares every prediction with every
    target (an (N, 1) column minus an (N,) vector broadcasts to (N, N)); zero=False lets the gradients
    pile up; reduction="sum" sums the squared errors instead of averaging them.
    """
    with np.errstate(all="ignore"):   # the bugs it reproduces may diverge: no overflow warnings in the notebook
        return _gd_steps(X.double().numpy(), y.double().numpy().ravel(), lr, epochs, every_pair=every_pair,
                         zero=zero, reduction=reduction)


def _gd_steps(X64: np.ndarray, y64: np.ndarray, lr: float, epochs: int, *, every_pair: bool, zero: bool,
              reduction: str) -> tuple[np.ndarray, float, list[float]]:
    n, k = X64.shape
    w, b = np.zeros(k), 0.0
    grad_w_sum, grad_b_sum = np.zeros(k), 0.0
    losses = []
    for _ in range(epochs):
        pred = X64 @ w + b
        if every_pair:
            diff = pred[:, None] - y64[None, :]            # (N, N)
            losses.append(float((diff ** 2).mean()))
            grad_w, grad_b = 2 * X64.T @ diff.sum(axis=1) / diff.size, 2 * diff.sum() / diff.size
        else:
            diff = pred - y64
            scale = n if reduction == "mean" else 1
            losses.append(float((diff ** 2).sum() / scale))
            grad_w, grad_b = 2 * X64.T @ diff / scale, 2 * diff.sum() / scale
        if zero:
            grad_w_sum, grad_b_sum = grad_w, grad_b
        else:
            grad_w_sum, grad_b_sum = grad_w_sum + grad_w, grad_b_sum + grad_b
        w, b = w - lr * grad_w_sum, b - lr * grad_b_sum
    return w, b, losses


def _q5_cases() -> list[tuple[str, torch.Tensor, torch.Tensor, float, int]]:
    """Raw (unstandardised) inputs with k = 2, 3 and 1 columns, y of shape (N,) and (N, 1)."""
    generator = torch.Generator().manual_seed(5)
    X2 = torch.randn(12, 2, generator=generator) + torch.tensor([0.5, -0.3])
    y2 = X2 @ torch.tensor([1.5, -2.0]) + 0.7 + 0.1 * torch.randn(12, generator=generator)   # shape (12,)
    X3 = torch.randn(20, 3, generator=generator) * torch.tensor([1.0, 0.5, 1.5]) + 0.2
    y3 = X3 @ torch.tensor([-1.0, 3.0, 0.5]) - 2.0 + 0.2 * torch.randn(20, generator=generator)
    X1 = torch.linspace(-1.0, 1.0, 9).unsqueeze(1) + 0.5
    y1 = 3.0 * X1 - 2.0 + 0.1 * torch.sin(5.0 * X1)                                              # (9, 1)
    return [("X of shape (12, 2), y of shape (12,)", X2, y2, 0.1, 1),
            ("X of shape (12, 2), y of shape (12, 1)", X2, y2.unsqueeze(1), 0.1, 2),
            ("X of shape (20, 3), y of shape (20,)", X3, y3, 0.05, 7),
            ("X of shape (9, 1), y of shape (9, 1)", X1, y1, 0.3, 150),
            ("X of shape (20, 3), y of shape (20, 1)", X3, y3.unsqueeze(1), 0.1, 150)]


def _shape_of(value: Any) -> tuple[int, ...] | None:
    """The shape of a tensor, array or (nested) list; None where it has none."""
    try:
        return tuple(value.shape) if isinstance(value, torch.Tensor) else tuple(np.shape(value))
    except (ValueError, TypeError, RuntimeError):   # ragged nested lists, odd items
        return None


def _fit_result(result: Any, what: str, k: int, epochs: int) -> tuple[np.ndarray, float, np.ndarray]:
    """The (w, b, losses) that fit_linear returned, as NumPy numbers, with hints for the wrong structure."""
    expect(isinstance(result, (tuple, list)) and len(result) == 3,
           f"{what} should return three things, (w, b, losses), but it returned {describe(result)}.")
    shape = _shape_of(result[0])
    if shape == (k, 1) and k > 1:
        raise Incorrect(f"{what}: w has shape {shape}, a column. The exercise asks for the lesson's layout, "
                        f"one row of weights, shape (1, {k}), used as X @ w.T; exercise 6 relies on it (a "
                        f"({k}, 1) column divided by {k} statistics of shape ({k},) broadcasts to a "
                        f"({k}, {k}) table).")
    if shape is not None and shape != (1, k) and np.prod(shape, dtype=int) == k:
        raise Incorrect(f"{what}: w has shape {shape}; the exercise asks for shape (1, {k}), one row with "
                        "one weight per input column, as in the lesson (X @ w.T).")
    # Counted before they are converted, so that a huge answer is judged as fast as a right one.
    counts = [_count(part) for part in result]
    epochs_text = f"{epochs} epoch" + ("s" if epochs != 1 else "")
    if counts[2] == epochs + 1:
        raise Incorrect(f"{what}: losses has {epochs + 1} entries for {epochs_text}; record one loss per "
                        "epoch, the loss computed before that epoch's update.")
    expect(counts[2] in (None, epochs), f"{what}: losses should hold {epochs} number"
           f"{'s' if epochs != 1 else ''}, one per epoch, but it holds {counts[2]}.")
    expect(counts[0] in (None, k), f"{what}: w holds {counts[0]} numbers; it needs one weight per input "
           f"column, {k}.")
    expect(counts[1] in (None, 1), f"{what}: b holds {counts[1]} numbers; the model has one bias.")
    w, b, losses = (_numbers(part, name, what) for part, name in zip(result, ("w", "b", "losses"), strict=True))
    expect(len(w) == k, f"{what}: w holds {len(w)} numbers; it needs one weight per input column, {k}.")
    expect(len(b) == 1, f"{what}: b holds {len(b)} numbers; the model has one bias.")
    expect(len(losses) == epochs, f"{what}: losses should hold {epochs} number{'s' if epochs != 1 else ''}, "
           f"one per epoch, but it holds {len(losses)}.")
    return w, float(b[0]), losses


def _failing_line(error: BaseException) -> str:
    """The source line where ``error`` was raised ("" where Python cannot show it)."""
    frames = traceback.extract_tb(error.__traceback__)
    return (frames[-1].line or "") if frames else ""


def _said(error: BaseException) -> str:
    """The error's type and message on one short line."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:150]}{' ...' if len(text) > 150 else ''}"


def _same_fit(got: tuple, want: tuple, tol: float = 1e-3) -> bool:
    """Weights and bias within 0.1% of the largest of them (float32 drifts ~1e-5 over 150 steps)."""
    got_params, want_params = np.append(got[0], got[1]), np.append(want[0], want[1])
    return _near(got_params, want_params, tol * np.abs(want_params).max())


def _same_losses(got: np.ndarray, want: list[float], tol: float = 1e-3) -> bool:
    return _near(got, np.array(want), tol * np.abs(want))


@exercise(
    "Fix the error first: read the two shapes in its message; the weights need one column per input. "
    "Then compare the shapes of X @ w.T + b and of y: what shape does their difference have?",
    "The error: w needs one weight per column of X, whatever k is (X.shape tells). The silent bug: "
    "(N, 1) minus (N,) broadcasts to an (N, N) table, every prediction against every target. Give y one "
    "shape that works whether it arrives as (N,) or as (N, 1).",
)
def q5(fit_linear: Any) -> None:
    """fit_linear(X, y, lr, epochs): the debugged k-input full-batch gradient descent with its loss history."""
    for shapes, X, y, lr, epochs in _q5_cases():
        k = X.shape[1]
        label = f"fit_linear with {shapes} (lr={lr}, epochs={epochs})"
        try:
            result = call(fit_linear, X, y, lr, epochs)
        except Incorrect as error:
            cause = _cause(error)
            shapes = re.search(r"\((\d+)x(\d+) and (\d+)x(\d+)\)", str(cause))
            if isinstance(cause, RuntimeError) and "mat1 and mat2" in str(cause) and shapes:
                left, right = shapes.group(1, 2), shapes.group(3, 4)
                rule = (f"{label} failed: {cause}. In a matrix product the left matrix's columns ({left[1]}) "
                        f"must match the right matrix's rows ({right[0]})")
                if right == ("1", "1") and left[1] == str(k):
                    raise Incorrect(f"{rule}: the right one is a 1 x 1 matrix, a single weight, but X has {k} "
                                    f"input columns; w needs one weight per column, shape (1, {k}).") from error
                if right == ("1", str(k)) and left[1] == str(k):
                    raise Incorrect(f"{rule}: the right one is a 1 x {k} row, and X needs a {k} x 1 "
                                    f"column of weights. With w of shape (1, {k}), as the exercise asks, "
                                    "that column is w.T, as in X @ w.T; check the shape of w "
                                    "and how it enters the product.") from error
                raise Incorrect(f"{rule}. Print the shapes of both sides of each @.") from error
            if isinstance(cause, RuntimeError) and "leaf Variable" in str(cause):
                raise Incorrect("updating w in place while autograd records fails: keep the update "
                                "inside `with torch.no_grad():`.") from error
            if isinstance(cause, (TypeError, AttributeError)) and "NoneType" in str(cause) \
                    and ".grad" in _failing_line(cause):
                raise Incorrect(f"{label} failed: {_said(cause)}, in a line that reads a .grad. A .grad is "
                                "None unless its tensor was created with requires_grad=True and is still the "
                                "tensor that backward() filled: `w = w - lr * w.grad` makes a new one without a "
                                ".grad (update in place, `w -= lr * w.grad`, inside torch.no_grad()).") from error
            raise
        got = _fit_result(result, label, k, epochs)
        want = _gd(X, y, lr, epochs)
        if _same_fit(got, want) and _same_losses(got[2], want[2]):
            continue
        if _same_fit(got, _gd(X, y, lr, epochs, every_pair=True)):
            raise Incorrect(f"{label}: the loss compared every prediction with every target: predictions "
                            "and targets of different shapes, such as (N, 1) and (N,), broadcast to an "
                            "(N, N) table of differences; give them the same shape before subtracting.")
        if epochs > 1 and _same_fit(got, _gd(X, y, lr, epochs, zero=False)):
            raise Incorrect(f"{label}: the gradients pile up from epoch to epoch (backward() adds to "
                            ".grad): zero them after each update.")
        if _same_fit(got, _gd(X, y, lr, epochs, reduction="sum")):
            raise Incorrect(f"{label} took steps {len(X)} times too large: the loss should be the mean "
                            "of the squared errors, not their sum.")
        if _same_fit(got, want):
            after = _gd(X, y, lr, epochs + 1)[2][1:]
            if _same_losses(got[2], after):
                raise Incorrect(f"{label}: the weights are right, but each loss was recorded after the "
                                "update; record the loss computed before it (losses[0] is the loss of "
                                "the all-zero start).")
            raise Incorrect(f"{label}: the weights are right, but losses should be the MSE before each "
                            f"update: {_shown(np.array(want[2]))}, not {_shown(got[2])}.")
        raise Incorrect(f"{label} should give w = {_shown(want[0])} and b = {want[1]:.4g}, but gave "
                        f"w = {_shown(got[0])} and b = {got[1]:.4g}. Start from zeros and run exactly "
                        "`epochs` full-batch steps of the MSE with learning rate lr.")
# ----------------------------------------------------------------------------- q6


def _standardised_fit(X: torch.Tensor, y: torch.Tensor, lr: float, epochs: int, correction: int,
                      per_column: bool = True) -> dict[str, np.ndarray]:
    """GD on the standardised columns of X; the fitted line in both scales, and the statistics used."""
    X64 = X.double()
    if per_column:
        mean, std = X64.mean(dim=0), X64.std(dim=0, correction=correction)
    else:   # one mean and one std for the whole table, a bug the check recognises
        mean, std = X64.mean().expand(X.shape[1]), X64.std(correction=correction).expand(X.shape[1])
    w_s, b_s, _ = _gd((X64 - mean) / std, y, lr, epochs)
    mean, std = mean.numpy(), std.numpy()
    return {"w": w_s / std, "b": np.array([b_s - (w_s * mean / std).sum()]), "w_s": w_s, "b_s": np.array([b_s]),
            "mean": mean, "std": std}


def _target_standardised_too(w: np.ndarray, b: float, X: torch.Tensor, y: torch.Tensor, lr: float,
                             epochs: int) -> bool:
    """Whether (w, b) is the fit of a run on standardised X *and* standardised y, taken back to y's units."""
    y64 = y.double()
    for correction in (1, 0):
        y_mean, y_std = y64.mean().item(), y64.std(correction=correction).item()
        for x_correction in (1, 0):
            fit = _standardised_fit(X, (y64 - y_mean) / y_std, lr, epochs, x_correction)
            w_y, b_y = fit["w"] * y_std, fit["b"][0] * y_std + y_mean
            params, want = np.append(w, b), np.append(w_y, b_y)
            if _near(params, want, 1e-3 * np.abs(want).max()):
                return True
    return False


def _q6_cases() -> list[tuple[str, torch.Tensor, torch.Tensor, float, int]]:
    """mtcars columns the lesson did not fit, and inputs far from 0 on very different scales."""
    cars = load_mtcars()
    X_cars = torch.tensor(cars[["wt", "hp", "qsec"]].to_numpy(np.float32))
    mpg = torch.tensor(cars["mpg"].to_numpy(np.float32))                       # shape (32,)
    generator = torch.Generator().manual_seed(6)
    X_far = torch.stack([1000 + 50 * torch.rand(25, generator=generator),
                         0.01 * torch.rand(25, generator=generator)], dim=1)   # (25, 2)
    y_far = X_far @ torch.tensor([0.2, 300.0]) - 150 + torch.randn(25, generator=generator)
    hp = X_cars[:, 1:2]
    return [("mtcars wt, hp, qsec against mpg", X_cars, mpg, 0.1, 1),
            ("mtcars hp against mpg (one input, y of shape (32, 1))", hp, mpg.unsqueeze(1), 0.1, 4),
            ("two inputs near 1000 and near 0.005", X_far, y_far, 0.2, 3),
            ("two inputs near 1000 and near 0.005", X_far, y_far.unsqueeze(1), 0.2, 60),
            ("mtcars wt, hp, qsec against mpg", X_cars, mpg, 0.1, 300)]


def _matches(w: np.ndarray, b: float, fit: dict[str, np.ndarray], tol: float = 1e-3) -> bool:
    """Whether the line (w, b) in original units is the fitted one, judged on the standardised scale.

    The line is mapped back to standardised units with the reference's own statistics (w * std and
    b + sum(w * mean)); the weights must agree to 0.1% of the largest one, the bias to 0.1% of the terms
    it is made of (b_s and each w_s * mean / std). float32 rounding is ~1e-7 relative per operation, so a
    correct float32 answer is 100 times inside these margins even when the mean is 100 times the std.
    """
    w_s, b_s = w * fit["std"], b + (w * fit["mean"]).sum()
    scale_b = abs(fit["b_s"][0]) + np.abs(fit["w_s"] * fit["mean"] / fit["std"]).sum()
    return (_near(w_s, fit["w_s"], tol * max(np.abs(fit["w_s"]).max(), 1e-12))
            and abs(b_s - fit["b_s"][0]) <= tol * scale_b)


@exercise(
    "Three parts: standardise each column of X (your standardise), run gradient descent on the result "
    "(your fit_linear), then convert the line back. Write the model out for two inputs, "
    "w1 * (x1 - m1) / s1 + w2 * (x2 - m2) / s2 + b, and collect what multiplies x1, what multiplies x2, "
    "and what is left.",
    "Column j enters the standardised model as w_sj * (x_j - m_j) / s_j = (w_sj / s_j) * x_j - w_sj * m_j / "
    "s_j: the first part is x_j times its weight in original units, the second a constant. Every column "
    "leaves such a constant, and all of them join b_s in the one intercept.",
)
def q6(fit_standardised: Any) -> None:
    """fit_standardised(X, y, lr, epochs): GD on standardised columns, the line in original units."""
    for name, X, y, lr, epochs in _q6_cases():
        k = X.shape[1]
        label = f"fit_standardised on {name} (lr={lr}, epochs={epochs})"
        result = call(fit_standardised, X, y, lr, epochs)
        expect(isinstance(result, (tuple, list)) and len(result) == 2,
               f"{label} should return two things, (w, b), but it returned {describe(result)}.")
        if k > 1 and _shape_of(result[0]) == (k, k):
            raise Incorrect(f"{label}: w has shape ({k}, {k}), {k * k} numbers for {k} inputs. That is what "
                            f"broadcasting makes of a column of {k} weights, shape ({k}, 1), divided by {k} "
                            f"statistics of shape ({k},) (or the other way round): every weight by every std. "
                            f"Keep the weights as one row, shape (1, {k}), as exercise 5 asks.")
        # Counted before they are converted, so that a huge answer is judged as fast as a right one.
        count_w, count_b = _count(result[0]), _count(result[1])
        expect(count_w in (None, k), f"{label}: w holds {count_w} numbers; it needs one weight per input "
               f"column, {k}.")
        expect(count_b is None or count_b <= k, f"{label}: b holds {count_b} numbers; the line has one intercept.")
        w, b = _numbers(result[0], "w", label), _numbers(result[1], "b", label)
        expect(len(w) == k, f"{label}: w holds {len(w)} numbers; it needs one weight per input column, {k}.")
        fits = [_standardised_fit(X, y, lr, epochs, correction) for correction in (1, 0)]
        if len(b) == k and k > 1 and any(_near(b, fit["b_s"] - fit["w_s"] * fit["mean"] / fit["std"],
                                               1e-3 * np.abs(b).max()) for fit in fits):
            raise Incorrect(f"{label}: b holds {k} numbers, one per input; the line has a single intercept, "
                            "which collects the shares of all the inputs.")
        expect(len(b) == 1, f"{label}: b holds {len(b)} numbers; the line has one intercept.")
        b = float(b[0])
        if any(_matches(w, b, fit) for fit in fits):
            continue
        if not np.isfinite(w).all() or not np.isfinite(b):
            raw = _gd(X, y, lr, epochs)
            raw_params = np.append(raw[0], raw[1])
            # Only where gradient descent on the raw X diverges too is that a likely cause worth asking about.
            if not np.isfinite(raw_params).all() or np.abs(raw_params).max() > 1e6:
                raise Incorrect(f"{label} returned w = {_shown(w)}, b = {b:.4g}: the numbers blew up. Is the "
                                "gradient descent running on the raw X instead of the standardised one?")
            raise Incorrect(f"{label} returned w = {_shown(w)}, b = {b:.4g}: numbers that are not finite (NaN "
                            "or inf). Print the standardised X, its statistics and the loss per epoch to see "
                            "where they first appear.")
        if any(_near(w, fit["w_s"], 1e-3 * np.abs(fit["w_s"]).max()) for fit in fits):
            raise Incorrect(f"{label}: you returned the weights of the standardised inputs; convert the "
                            "line back to the original units of X.")
        raw = _gd(X, y, lr, epochs)
        if _same_fit((w, b), raw[:2]):
            raise Incorrect(f"{label}: that is gradient descent on the raw X; standardise it first.")
        if k > 1 and any(_matches(w, b, _standardised_fit(X, y, lr, epochs, c, per_column=False)) for c in (1, 0)):
            raise Incorrect(f"{label}: you standardised X with one mean and one std for the whole table; "
                            "each column needs its own (reduce over the rows only).")
        if _target_standardised_too(w, b, X, y, lr, epochs):
            raise Incorrect(f"{label}: that is the line of gradient descent on a standardised y, taken back to "
                            "y's units. The exercise standardises only X and runs on y as it is: from all zeros "
                            "the two runs give different lines until both have converged.")
        if epochs < 100:
            X64 = torch.cat([X.double(), torch.ones(len(X), 1, dtype=torch.float64)], dim=1)
            best = torch.linalg.lstsq(X64, y.double().reshape(-1, 1)).solution.ravel().numpy()
            if _near(np.append(w, b), best, 1e-3 * np.abs(best).max()):
                steps = f"{epochs} epoch" + ("s" if epochs > 1 else "")
                raise Incorrect(f"{label} returned the least-squares line, but after {steps} from all zeros "
                                "gradient descent is not there yet: run exactly `epochs` steps with "
                                "learning rate lr.")
        want = fits[0]
        raise Incorrect(f"{label} should give w = {_shown(want['w'])} and b = {want['b'][0]:.4g}, but gave "
                        f"w = {_shown(w)} and b = {b:.4g}.")
