"""Lesson 01 checks: several correct answers pass, typical and hostile wrong ones fail with their hint."""

import time

import numpy as np
import pandas as pd
import pytest
import torch
from checkcases import assert_complete, cases, verify
from torch.nn import functional as F

from helpers.checks import INCORRECT, lesson01


def not_implemented(*_):
    raise NotImplementedError("Write your code here")


# q1: DataFrame columns -> (N, k) float32
def matrix_via_numpy(df, columns):
    return torch.from_numpy(df[columns].to_numpy(dtype=np.float32).copy())


def matrix_via_stack(df, columns):  # one column at a time, stacked side by side
    return torch.stack([torch.tensor(df[c].tolist(), dtype=torch.float32) for c in columns], dim=1)


def matrix_float64(df, columns):
    return torch.tensor(df[columns].to_numpy())


def matrix_transposed(df, columns):
    return torch.tensor(df[columns].to_numpy(dtype=np.float32)).T


def matrix_reversed(df, columns):
    return torch.tensor(df[columns[::-1]].to_numpy(dtype=np.float32))


def matrix_mutating(df, columns):  # scales the DataFrame in place
    df[columns[0]] = df[columns[0]] * 2
    return torch.tensor(df[columns].to_numpy(dtype=np.float32))


def matrix_huge(df, columns):  # hostile: an enormous wrong answer must be described, not dumped
    return torch.zeros(100_000, 7)


# q2: standardise each column
def standardise_unbiased(X):
    mean, std = X.mean(dim=0), X.std(dim=0)
    return (X - mean) / std, mean, std


def standardise_numpy_style(X):  # population std, (1, k) statistics, float64 inside
    X64 = X.double()
    mean = X64.mean(dim=0, keepdim=True)
    std = ((X64 - mean) ** 2).mean(dim=0, keepdim=True).sqrt()
    return ((X64 - mean) / std).float(), mean, std


def standardise_with_numpy(X):  # NumPy arrays for the statistics
    arr = X.numpy()
    mean, std = arr.mean(axis=0), arr.std(axis=0, ddof=1)
    return torch.from_numpy((arr - mean) / std), mean, std


def standardise_whole_tensor(X):
    mean, std = X.mean(), X.std()
    return (X - mean) / std, mean, std


def standardise_rows(X):
    mean, std = X.mean(dim=1, keepdim=True), X.std(dim=1, keepdim=True)
    return (X - mean) / std, mean, std


def standardise_in_place(X):
    mean, std = X.mean(dim=0), X.std(dim=0)
    X -= mean
    X /= std
    return X, mean, std


def standardise_centre_only(X):
    mean, std = X.mean(dim=0), X.std(dim=0)
    return X - mean, mean, std


# q3: predictions for new raw inputs of a standardised model
def predict_raw_direct(x_new, w_s, b_s, mean, std):
    return w_s * (x_new - mean) / std + b_s


def predict_raw_converted(x_new, w_s, b_s, mean, std):  # convert the line back first, in float64
    slope, intercept = w_s / std, b_s - w_s * mean / std
    return (slope * x_new.double() + intercept).reshape(-1, 1)


def predict_raw_matmul(x_new, w_s, b_s, mean, std):
    w = torch.tensor([[w_s]])
    return ((x_new - mean) / std) @ w.T + b_s


def predict_raw_unstandardised(x_new, w_s, b_s, mean, std):
    return w_s * x_new + b_s


def predict_raw_own_stats(x_new, w_s, b_s, mean, std):  # the classic leak: new data's own statistics
    return w_s * (x_new - x_new.mean()) / x_new.std() + b_s


def predict_raw_flat(x_new, w_s, b_s, mean, std):
    return (w_s * (x_new - mean) / std + b_s).flatten()


def predict_raw_in_place(x_new, w_s, b_s, mean, std):
    x_new -= mean
    return w_s * x_new / std + b_s


# q4: gradients by formula
def gradients_by_formula(x, y, w, b):
    error = x @ w.T + b - y
    return (2 * error * x).mean().reshape(w.shape), (2 * error).mean().reshape(b.shape)


def gradients_as_numpy_scalars(x, y, w, b):
    error = (x @ w.T + b - y).numpy().astype(np.float64)
    xs = x.numpy()
    return np.float64((2 * error * xs).mean()), np.float64((2 * error).mean())


def gradients_as_floats(x, y, w, b):
    error = (x * w.item() + b.item() - y).flatten().tolist()
    xs = x.flatten().tolist()
    n = len(xs)
    return sum(2 * e * xi for e, xi in zip(error, xs, strict=True)) / n, sum(2 * e for e in error) / n


def gradients_by_autograd(x, y, w, b):  # not by hand: the check disables backward()
    w, b = w.clone().requires_grad_(), b.clone().requires_grad_()
    ((x @ w.T + b - y) ** 2).mean().backward()
    return w.grad, b.grad


def gradients_by_autograd_grad(x, y, w, b):
    w, b = w.clone().requires_grad_(), b.clone().requires_grad_()
    return torch.autograd.grad(((x @ w.T + b - y) ** 2).mean(), (w, b))


def gradients_swapped(x, y, w, b):
    return gradients_by_formula(x, y, w, b)[::-1]


def gradients_without_two(x, y, w, b):
    error = x @ w.T + b - y
    return (error * x).mean(), error.mean()


def gradients_summed(x, y, w, b):
    error = x @ w.T + b - y
    return (2 * error * x).sum(), (2 * error).sum()


def gradients_flipped(x, y, w, b):
    error = y - (x @ w.T + b)
    return (2 * error * x).mean(), (2 * error).mean()


def gradients_unweighted(x, y, w, b):  # forgets the x in dL/dw
    error = x @ w.T + b - y
    return (2 * error).mean(), (2 * error).mean()


def gradients_hard_coded(x, y, w, b):  # the numbers of the first case only
    return -10.375, -3.75


# q5: the debugged loop
def fit_autograd(x, y, lr, epochs):
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for _ in range(epochs):
        loss = ((x @ w.T + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return w.item(), b.item()


def fit_by_formula(x, y, lr, epochs):  # no autograd: the gradients by hand, float64
    x, y = x.double(), y.double()
    w, b = 0.0, 0.0
    for _ in range(epochs):
        error = w * x + b - y
        w, b = w - lr * (2 * error * x).mean().item(), b - lr * (2 * error).mean().item()
    return np.float64(w), np.float64(b)


def fit_grad_none(x, y, lr, epochs):  # scalar parameters, .grad set to None, tensors returned
    w = torch.tensor(0.0, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    for _ in range(epochs):
        F.mse_loss(w * x + b, y).backward()
        with torch.no_grad():
            w.sub_(lr * w.grad)
            b.sub_(lr * b.grad)
        w.grad = None
        b.grad = None
    return w.detach(), b.detach()


def fit_still_broken(x, y, lr, epochs):  # fixed the shape error only: b still gets w's gradient
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for _ in range(epochs):
        ((x @ w.T + b - y) ** 2).mean().backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * w.grad.reshape(1)
        w.grad.zero_()
        b.grad.zero_()
    return w.item(), b.item()


def fit_without_zeroing(x, y, lr, epochs):
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for _ in range(epochs):
        ((x @ w.T + b - y) ** 2).mean().backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
    return w.item(), b.item()


def fit_without_no_grad(x, y, lr, epochs):
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for _ in range(epochs):
        ((x @ w.T + b - y) ** 2).mean().backward()
        w -= lr * w.grad
        b -= lr * b.grad
    return w.item(), b.item()


def fit_rebinding(x, y, lr, epochs):  # w = w - ...: a new tensor without .grad
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for _ in range(epochs):
        ((x @ w.T + b - y) ** 2).mean().backward()
        w = w - lr * w.grad
        b = b - lr * b.grad
    return w.item(), b.item()


def fit_sum_loss(x, y, lr, epochs):
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for _ in range(epochs):
        ((x @ w.T + b - y) ** 2).sum().backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return w.item(), b.item()


def fit_fixed_lr(x, y, lr, epochs):  # hostile: ignores the lr argument
    return fit_autograd(x, y, 0.1, epochs)


def fit_closed_form(x, y, lr, epochs):  # hostile: ignores epochs, returns the optimum
    slope, intercept = np.polyfit(x.flatten().numpy(), y.flatten().numpy(), 1)
    return float(slope), float(intercept)


def fit_standardising_inside(x, y, lr, epochs):  # changes what the steps do: not the asked-for loop
    mean, std = x.mean(), x.std()
    w_s, b_s = fit_autograd((x - mean) / std, y, lr, epochs)
    return w_s / std.item(), b_s - w_s * mean.item() / std.item()


# q6: the end-to-end fit on standardised inputs
def fit_standardised_unbiased(x, y, lr, epochs):
    mean, std = x.mean(), x.std()
    w_s, b_s = fit_autograd((x - mean) / std, y, lr, epochs)
    return (w_s / std).item(), (b_s - w_s * mean / std).item()


def fit_standardised_population_std(x, y, lr, epochs):  # NumPy's std (divides by N), float64 by formula
    x64 = x.double()
    mean, std = x64.mean().item(), x64.std(correction=0).item()
    w_s, b_s = fit_by_formula((x64 - mean) / std, y, lr, epochs)
    return w_s / std, b_s - w_s * mean / std


def fit_standardised_not_converted(x, y, lr, epochs):
    mean, std = x.mean(), x.std()
    return fit_autograd((x - mean) / std, y, lr, epochs)


def fit_standardised_raw(x, y, lr, epochs):  # forgot to standardise: blows up on horsepower
    return fit_autograd(x, y, lr, epochs)


def fit_standardised_closed_form(x, y, lr, epochs):  # hostile: the optimum, whatever the epochs
    return fit_closed_form(x, y, lr, epochs)


def fit_standardised_hard_coded(x, y, lr, epochs):  # hostile: the lesson's cars numbers
    return -5.3445, 37.2851


def fit_standardised_slow_wrong(x, y, lr, epochs):  # hostile: trains far longer than asked
    return fit_standardised_unbiased(x, y, lr, epochs * 50)


CASES = {
    "q1": {
        "correct": [matrix_via_numpy, matrix_via_stack,
                    lambda df, columns: torch.tensor(df.loc[:, columns].values.astype("float32"))],
        "wrong": [
            (matrix_float64, "float32"),
            (matrix_transposed, "one row per sample"),
            (matrix_reversed, "reverse order"),
            (matrix_mutating, "changed the DataFrame"),
            (matrix_huge, "has shape (100000, 7)"),
            (lambda df, columns: df[columns].to_numpy(dtype=np.float32), "torch.Tensor"),
        ],
        "placeholder": not_implemented,
    },
    "q2": {
        "correct": [standardise_unbiased, standardise_numpy_style, standardise_with_numpy],
        "wrong": [
            (standardise_whole_tensor, "single number"),
            (standardise_rows, "one per row"),
            (standardise_in_place, "changed its input"),
            (standardise_centre_only, "(X - mean) / std"),
            (lambda X: (X - X.mean(dim=0)) / X.std(dim=0), "three things"),
        ],
        "placeholder": not_implemented,
    },
    "q3": {
        "correct": [predict_raw_direct, predict_raw_converted, predict_raw_matmul],
        "wrong": [
            (predict_raw_unstandardised, "raw inputs"),
            (predict_raw_own_stats, "their own mean and std"),
            (predict_raw_flat, "expected (4, 1)"),
            (predict_raw_in_place, "changed its input"),
            (lambda x_new, w_s, b_s, mean, std: torch.full((4, 1), 5.0), "other predictions"),
        ],
        "placeholder": not_implemented,
    },
    "q4": {
        "correct": [gradients_by_formula, gradients_as_numpy_scalars, gradients_as_floats],
        "wrong": [
            (gradients_by_autograd, "by hand"),
            (gradients_by_autograd_grad, "autograd switched off"),
            (gradients_swapped, "swapped"),
            (gradients_without_two, "factor 2"),
            (gradients_summed, "times too large"),
            (gradients_flipped, "signs are flipped"),
            (gradients_unweighted, "grad_w should be"),
            (gradients_hard_coded, "should be"),
        ],
        "placeholder": not_implemented,
    },
    "q5": {
        "correct": [fit_autograd, fit_by_formula, fit_grad_none],
        "wrong": [
            (fit_still_broken, "b needs b.grad"),
            (fit_without_zeroing, "pile up"),
            (fit_without_no_grad, "torch.no_grad()"),
            (fit_rebinding, "None"),
            (fit_sum_loss, "mean of the squared errors"),
            (fit_fixed_lr, "should give slope"),
            (fit_closed_form, "should give slope"),
            (fit_standardising_inside, "should give slope"),
            (lambda x, y, lr, epochs: (0.0, 0.0), "never moved"),
        ],
        "placeholder": not_implemented,
    },
    "q6": {
        "correct": [fit_standardised_unbiased, fit_standardised_population_std],
        "wrong": [
            (fit_standardised_not_converted, "convert them back"),
            (fit_standardised_raw, "raw x"),
            (lambda x, y, lr, epochs: (float("nan"), float("nan")), "blew up"),
            (fit_standardised_closed_form, "not there yet"),
            (fit_standardised_hard_coded, "should give slope"),
            (fit_standardised_slow_wrong, "not there yet"),
        ],
        "placeholder": not_implemented,
    },
}


def test_cases_cover_every_check():
    assert_complete(lesson01, CASES)


@pytest.mark.parametrize("name, answer, status, hint", cases(lesson01, CASES))
def test_check(name, answer, status, hint):
    verify(lesson01, name, answer, status, hint)


def test_by_hand_check_restores_autograd():
    """The patched backward() is put back: autograd works again after q4 has judged an answer."""
    lesson01.q4.evaluate(gradients_by_autograd)
    w = torch.tensor(2.0, requires_grad=True)
    (w * w).backward()
    assert w.grad.item() == 4.0


def test_huge_answer_is_described_briefly():
    outcome = lesson01.q1.evaluate(matrix_huge)
    assert outcome.status == INCORRECT and len(outcome.message) < 300


@pytest.mark.parametrize("name, answer", [("q5", fit_closed_form), ("q6", fit_standardised_raw),
                                          ("q5", fit_without_zeroing), ("q2", standardise_rows)])
def test_wrong_answers_are_judged_fast(name, answer):
    start = time.perf_counter()
    getattr(lesson01, name).evaluate(answer)
    assert time.perf_counter() - start < 3   # about a second on a busy 2-core machine


def test_checks_leave_the_global_random_state_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    lesson01.q2.evaluate(standardise_unbiased)
    lesson01.q4.evaluate(gradients_by_formula)
    assert torch.equal(torch.rand(3), expected)


def test_new_dataframe_is_not_read_only_in_q1():
    """A copy-free answer on a pandas frame passes without writability warnings turning into errors."""
    df = pd.DataFrame({"a": [1.0, 2.0]})
    assert lesson01.q1.evaluate(matrix_via_numpy).status == "correct" and len(df) == 2
