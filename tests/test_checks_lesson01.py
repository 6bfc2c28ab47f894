"""Lesson 01 checks: several correct answers pass, typical mistakes fail with their hint."""

import numpy as np
import pytest
import torch
from checkcases import assert_complete, cases, verify
from sklearn.linear_model import LinearRegression
from torch.nn import functional as F

from helpers.checks import lesson01


def not_implemented(*_):
    raise NotImplementedError("Write your code here")


# q3: gradients of the MSE of a line
def gradients_by_formula(x, y, w, b):
    error = x @ w.T + b - y
    return (2 * error * x).mean().reshape(w.shape), (2 * error).mean().reshape(b.shape)


def gradients_by_autograd(x, y, w, b):
    w, b = w.clone().requires_grad_(), b.clone().requires_grad_()
    ((x @ w.T + b - y) ** 2).mean().backward()
    return w.grad, b.grad


def gradients_as_floats(x, y, w, b):
    error = (x * w.item() + b.item() - y).flatten().tolist()
    xs = x.flatten().tolist()
    n = len(xs)
    return sum(2 * e * xi for e, xi in zip(error, xs, strict=True)) / n, sum(2 * e for e in error) / n


# q5: gradient descent from (0, 0)
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


def fit_by_formula(x, y, lr, epochs):  # no autograd at all: the gradients by hand
    w, b = 0.0, 0.0
    for _ in range(epochs):
        error = w * x + b - y
        w, b = w - lr * (2 * error * x).mean().item(), b - lr * (2 * error).mean().item()
    return w, b


def fit_returning_tensors(x, y, lr, epochs):  # scalar parameters, grad set to None, tensors returned
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


def fit_rebinding(x, y, lr, epochs):  # w = w - ...: a new, non-leaf tensor without .grad
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for _ in range(epochs):
        ((x @ w.T + b - y) ** 2).mean().backward()
        w = w - lr * w.grad
        b = b - lr * b.grad
    return w.item(), b.item()


def fit_rebinding_in_no_grad(x, y, lr, epochs):  # the new tensors no longer require grad
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for _ in range(epochs):
        ((x @ w.T + b - y) ** 2).mean().backward()
        with torch.no_grad():
            w = w - lr * w.grad
            b = b - lr * b.grad
    return w.item(), b.item()


def fit_uphill(x, y, lr, epochs):
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for _ in range(epochs):
        ((x @ w.T + b - y) ** 2).mean().backward()
        with torch.no_grad():
            w += lr * w.grad
            b += lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return w.item(), b.item()


def fit_sum_loss(x, y, lr, epochs):  # sum of squared errors instead of their mean
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


def fit_random_start(x, y, lr, epochs):
    torch.manual_seed(0)
    w = torch.randn(1, 1, requires_grad=True)
    b = torch.randn(1, requires_grad=True)
    for _ in range(epochs):
        ((x @ w.T + b - y) ** 2).mean().backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return w.item(), b.item()


# q6: closed form
def ls_centred(x, y):
    xc, yc = x - x.mean(), y - y.mean()
    slope = (xc * yc).sum() / (xc * xc).sum()
    return slope.item(), (y.mean() - slope * x.mean()).item()


def ls_lstsq(x, y):
    A = torch.cat([x, torch.ones_like(x)], dim=1)
    solution = torch.linalg.lstsq(A, y).solution
    return solution[0, 0], solution[1, 0]


def ls_sklearn(x, y):
    fit = LinearRegression().fit(x.numpy(), y.numpy())
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def ls_through_origin(x, y):
    return ((x * y).sum() / (x * x).sum()).item(), 0.0


def ls_x_on_y(x, y):
    xc, yc = x - x.mean(), y - y.mean()
    slope = (xc * yc).sum() / (yc * yc).sum()
    return slope.item(), (y.mean() - slope * x.mean()).item()


def ls_intercept_is_mean(x, y):
    slope, _ = ls_centred(x, y)
    return slope, y.mean().item()


CASES = {
    "q1": {
        "correct": [
            lambda s: torch.from_numpy(s.to_numpy(dtype=np.float32)).reshape(-1, 1),
            lambda s: torch.tensor(s.tolist(), dtype=torch.float32).unsqueeze(1),
            lambda s: torch.tensor(s.values).float().view(-1, 1),
            lambda s: torch.tensor(s.to_numpy()[:, None], dtype=torch.float32),
        ],
        "wrong": [
            (lambda s: torch.tensor(s.values, dtype=torch.float32), "1-D tensor"),
            (lambda s: torch.tensor(s.values).reshape(-1, 1), "float32"),
            (lambda s: torch.tensor(s.values, dtype=torch.float32).unsqueeze(0), "a row"),
            (lambda s: s.to_numpy().reshape(-1, 1), "torch.from_numpy"),
            (lambda s: torch.ones(len(s), 1), "different values"),
        ],
        "placeholder": not_implemented,
    },
    "q2": {
        "correct": [
            lambda a, b: ((a - b) * (a - b)).sum() / (a - b).numel(),
            lambda a, b: ((a - b) ** 2).mean(),
            F.mse_loss,
            lambda a, b: torch.mean(torch.square(b - a)),
        ],
        "wrong": [
            (lambda a, b: ((a - b) ** 2).sum(), "sum of squared errors"),
            (lambda a, b: ((a - b) ** 2).sum() / len(a), "number of rows"),
            (lambda a, b: (a - b).abs().mean(), "mean absolute error"),
            (lambda a, b: (a - b).mean() ** 2, "averaged the differences"),
            (lambda a, b: ((a - b) ** 2).mean().item(), "Python number"),
            (lambda a, b: torch.tensor(((a - b) ** 2).mean().item()), "connection to autograd"),
            (lambda a, b: (a - b) ** 2, "single number"),
        ],
        "placeholder": not_implemented,
    },
    "q3": {
        "correct": [gradients_by_formula, gradients_by_autograd, gradients_as_floats],
        "wrong": [
            (lambda x, y, w, b: tuple(g / 2 for g in gradients_by_formula(x, y, w, b)), "factor 2"),
            (lambda x, y, w, b: tuple(-g for g in gradients_by_formula(x, y, w, b)), "signs are flipped"),
            (lambda x, y, w, b: tuple(g * len(x) for g in gradients_by_formula(x, y, w, b)),
             "times too large"),
            (lambda x, y, w, b: gradients_by_formula(x, y, w, b)[::-1], "swapped"),
            (lambda x, y, w, b: (gradients_by_formula(x, y, w, b)[1], gradients_by_formula(x, y, w, b)[1]),
             "weighted by its own x"),
        ],
        "placeholder": not_implemented,
    },
    "q4": {
        "correct": [
            lambda X, W, b: X @ W.T + b,
            lambda X, W, b: torch.matmul(X, W.t()) + b,
            lambda X, W, b: (W @ X.T).T + b,
            F.linear,
            lambda X, W, b: torch.einsum("ni,oi->no", X, W) + b,
        ],
        "wrong": [
            (lambda X, W, b: X @ W + b, "X @ W.T"),
            (lambda X, W, b: X @ W.T, "bias is missing"),
            (lambda X, W, b: W @ X.T, "one row per output"),
            (lambda X, W, b: X @ W.T - b, "wrong values"),
        ],
        "placeholder": not_implemented,
    },
    "q5": {
        "correct": [fit_autograd, fit_by_formula, fit_returning_tensors],
        "wrong": [
            (fit_without_zeroing, "pile up"),
            (fit_without_no_grad, "torch.no_grad"),
            (fit_rebinding, "not a leaf"),
            (fit_rebinding_in_no_grad, "in place"),
            (fit_uphill, "uphill"),
            (fit_sum_loss, "sum of the squared errors"),
            (fit_random_start, "start from 0 and 0"),
            (lambda x, y, lr, epochs: (0.0, 0.0), "never moved"),
            (lambda x, y, lr, epochs: ls_centred(x, y), "exactly `epochs`"),
        ],
        "placeholder": not_implemented,
    },
    "q6": {
        "correct": [
            ls_centred,
            ls_lstsq,
            ls_sklearn,
            lambda x, y: tuple(np.polyfit(x.flatten().numpy(), y.flatten().numpy(), 1)),
        ],
        "wrong": [
            (ls_through_origin, "through the origin"),
            (ls_x_on_y, "regressed x on y"),
            (ls_intercept_is_mean, "intercept should be"),
            (lambda x, y: ls_centred(x, y)[0], "two numbers"),
        ],
        "placeholder": not_implemented,
    },
    "q7": {
        "correct": [
            lambda w, b, mean, std: (w / std, b - w * mean / std),
            lambda w, b, mean, std: [w / std, b - (w / std) * mean],
            lambda w, b, mean, std: tuple(torch.tensor([w / std, b - w * mean / std]).unbind()),
        ],
        "wrong": [
            (lambda w, b, mean, std: (w / std, b), "intercept moves too"),
            (lambda w, b, mean, std: (w * std, b - w * mean / std), "multiplied by std"),
            (lambda w, b, mean, std: (w / std, b - w * mean), "forgot to divide by std"),
            (lambda w, b, mean, std: (w / std, b + w * mean / std), "should have intercept"),
        ],
        "placeholder": not_implemented,
    },
}


def test_cases_cover_every_check():
    assert_complete(lesson01, CASES)


@pytest.mark.parametrize("name, answer, status, hint", cases(lesson01, CASES))
def test_check(name, answer, status, hint):
    verify(lesson01, name, answer, status, hint)
