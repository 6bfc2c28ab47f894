"""Lesson 01 checks: several correct answers pass, typical and hostile wrong ones fail with their hint."""

import time
import warnings
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import torch
from checkcases import assert_complete, cases, verify
from torch.nn import functional as F

from helpers.checks import CORRECT, INCORRECT, lesson01


def not_implemented(*_):
    raise NotImplementedError("Write your code here")


# q1: numeric columns, then one indicator column per distinct value of a category, float32
def matrix_by_masks(df, numeric, category):
    numbers = torch.tensor(df[numeric].to_numpy(dtype=np.float32))
    values = sorted(df[category].unique())
    indicators = torch.stack([torch.tensor((df[category] == v).to_numpy(), dtype=torch.float32) for v in values],
                             dim=1)
    return torch.cat([numbers, indicators], dim=1)


def matrix_by_get_dummies(df, numeric, category):
    table = pd.concat([df[numeric], pd.get_dummies(df[category])], axis=1)
    return torch.from_numpy(table.to_numpy(dtype=np.float32, copy=True))


def matrix_by_numpy_broadcasting(df, numeric, category):  # float64 inside, np.unique sorts
    column = df[category].to_numpy()
    indicators = column[:, None] == np.unique(column)[None, :]
    both = np.hstack([df[numeric].to_numpy(dtype=np.float64), indicators.astype(np.float64)])
    return torch.tensor(both, dtype=torch.float32)


def matrix_by_loops(df, numeric, category):  # plain Python lists, row by row
    values = sorted(set(df[category]))
    rows = [[float(df[c].iloc[i]) for c in numeric] + [1.0 if df[category].iloc[i] == v else 0.0 for v in values]
            for i in range(len(df))]
    return torch.tensor(rows).reshape(len(df), len(numeric) + len(values))


def matrix_category_as_number(df, numeric, category):  # the lesson's cell with the category added
    return torch.tensor(df[numeric + [category]].to_numpy(dtype=np.float32))


def matrix_numeric_only(df, numeric, category):  # the lesson's cell as it is
    return torch.tensor(df[numeric].to_numpy(dtype=np.float32))


def matrix_unsorted(df, numeric, category):  # order of first appearance
    values = df[category].unique()
    indicators = np.column_stack([(df[category] == v).to_numpy() for v in values])
    return torch.tensor(np.hstack([df[numeric].to_numpy(dtype=np.float32), indicators]), dtype=torch.float32)


def matrix_sorted_as_text(df, numeric, category):  # sorts 10 before 2
    values = sorted(df[category].unique(), key=str)
    indicators = np.column_stack([(df[category] == v).to_numpy() for v in values])
    return torch.tensor(np.hstack([df[numeric].to_numpy(dtype=np.float32), indicators]), dtype=torch.float32)


def matrix_indicators_first(df, numeric, category):
    return matrix_by_masks(df, numeric, category).roll(-len(numeric), dims=1)


def matrix_drop_first(df, numeric, category):
    table = pd.concat([df[numeric], pd.get_dummies(df[category], drop_first=True)], axis=1)
    return torch.from_numpy(table.to_numpy(dtype=np.float32, copy=True))


def matrix_float64(df, numeric, category):
    return matrix_by_masks(df, numeric, category).double()


def matrix_hard_coded_values(df, numeric, category):  # the values of mtcars' cyl, whatever the column
    numbers = torch.tensor(df[numeric].to_numpy(dtype=np.float32))
    indicators = torch.tensor(np.column_stack([(df[category] == v).to_numpy() for v in (4, 6, 8)]))
    return torch.cat([numbers, indicators.float()], dim=1)


def matrix_mutating(df, numeric, category):  # adds the indicator columns to the learner's DataFrame
    for v in sorted(df[category].unique()):
        df[f"{category}_{v}"] = (df[category] == v).astype(np.float32)
    return torch.tensor(df[numeric + [f"{category}_{v}" for v in sorted(df[category].unique())]]
                        .to_numpy(dtype=np.float32))


def matrix_by_values(df, numeric, category):  # .values of a table mixing True/False and numbers: objects
    values = sorted(df[category].unique())
    numbers = torch.tensor(df[numeric].values, dtype=torch.float32)
    indicators = torch.tensor(np.stack([(df[category] == v).values for v in values], axis=1), dtype=torch.float32)
    return torch.cat([numbers, indicators], dim=1)


def matrix_from_numpy_mixed(df, numeric, category):  # torch.from_numpy of the same object array
    values = sorted(df[category].unique())
    numbers = torch.from_numpy(df[numeric].to_numpy()).float()
    indicators = torch.stack([torch.from_numpy((df[category] == v).to_numpy()).float() for v in values], dim=1)
    return torch.cat([numbers, indicators], dim=1)


def matrix_whole_table_values(df, numeric, category):  # get_dummies beside the numbers, then .values
    table = pd.concat([df[numeric], pd.get_dummies(df[category]).astype(np.float32)], axis=1)
    return torch.tensor(table.values, dtype=torch.float32)


def matrix_transposed(df, numeric, category):
    return matrix_by_masks(df, numeric, category).T


def matrix_huge(df, numeric, category):  # hostile: an enormous wrong answer must be described, not dumped
    return torch.zeros(100_000, 7)



def matrix_indicators_only(df, numeric, category):  # forgot the numeric part: (32, 3), like one category column
    return matrix_by_masks(df, [], category)


def matrix_first_numeric_dropped(df, numeric, category):  # one column short, but not an indicator
    return matrix_by_masks(df, numeric[1:], category)


def matrix_last_indicator_dropped(df, numeric, category):
    return matrix_by_masks(df, numeric, category)[:, :-1]


def matrix_category_codes(df, numeric, category):  # pandas' codes 0, 1, 2 as one column
    codes = torch.tensor(pd.Categorical(df[category]).codes, dtype=torch.float32).unsqueeze(1)
    return torch.cat([torch.tensor(df[numeric].to_numpy(dtype=np.float32)).reshape(len(df), -1), codes], dim=1)


def matrix_zeros_transposed_shape(df, numeric, category):  # the transposed shape, but not the transposed matrix
    return torch.zeros(len(numeric) + df[category].nunique(), len(df))


def matrix_sparse(df, numeric, category):
    return matrix_by_masks(df, numeric, category).to_sparse()


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


def standardise_lists(X):  # statistics as Python lists
    mean, std = X.mean(dim=0), X.std(dim=0)
    return (X - mean) / std, mean.tolist(), std.tolist()


def standardise_numpy_result(X):  # X_standardised as a NumPy array
    mean, std = X.mean(dim=0), X.std(dim=0)
    return ((X - mean) / std).numpy(), mean, std


def standardise_whole_tensor(X):  # the lesson's cell for one column, renamed
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


# q3: raw-unit predictions of a model trained on standardised inputs and targets
def predict_raw_steps(x_new, w_s, b_s, x_mean, x_std, y_mean, y_std):
    y_s = w_s * (x_new - x_mean) / x_std + b_s
    return y_s * y_std + y_mean


def predict_raw_one_line_float64(x_new, w_s, b_s, x_mean, x_std, y_mean, y_std):  # the line in raw units
    slope = w_s * y_std / x_std
    intercept = y_mean + y_std * (b_s - w_s * x_mean / x_std)
    return slope * x_new.double() + intercept


def predict_raw_matmul(x_new, w_s, b_s, x_mean, x_std, y_mean, y_std):
    w, b = torch.tensor([[w_s]]), torch.tensor([b_s])
    return (((x_new - x_mean) / x_std) @ w.T + b) * y_std + y_mean


def predict_raw_target_standardised(x_new, w_s, b_s, x_mean, x_std, y_mean, y_std):  # lesson cells 39-41
    slope, intercept = w_s / x_std, b_s - w_s * x_mean / x_std
    return slope * x_new + intercept


def predict_raw_standardised_twice(x_new, w_s, b_s, x_mean, x_std, y_mean, y_std):
    return (w_s * (x_new - x_mean) / x_std + b_s - y_mean) / y_std


def predict_raw_no_mean(x_new, w_s, b_s, x_mean, x_std, y_mean, y_std):
    return (w_s * (x_new - x_mean) / x_std + b_s) * y_std


def predict_raw_no_scale(x_new, w_s, b_s, x_mean, x_std, y_mean, y_std):
    return w_s * (x_new - x_mean) / x_std + b_s + y_mean


def predict_raw_unstandardised_input(x_new, w_s, b_s, x_mean, x_std, y_mean, y_std):
    return (w_s * x_new + b_s) * y_std + y_mean


def predict_raw_swapped_stats(x_new, w_s, b_s, x_mean, x_std, y_mean, y_std):
    return (w_s * (x_new - y_mean) / y_std + b_s) * x_std + x_mean


def predict_raw_own_stats(x_new, w_s, b_s, x_mean, x_std, y_mean, y_std):  # the new data's own statistics
    return (w_s * (x_new - x_new.mean()) / x_new.std() + b_s) * y_std + y_mean


def predict_raw_flat(x_new, w_s, b_s, x_mean, x_std, y_mean, y_std):
    return predict_raw_steps(x_new, w_s, b_s, x_mean, x_std, y_mean, y_std).flatten()


def predict_raw_in_place(x_new, w_s, b_s, x_mean, x_std, y_mean, y_std):
    x_new -= x_mean
    return (w_s * x_new / x_std + b_s) * y_std + y_mean


def predict_raw_hard_coded(x_new, w_s, b_s, x_mean, x_std, y_mean, y_std):  # the first case's answer
    return torch.tensor([[26.6118], [21.2853], [15.9588], [10.6322]])


# q4: the gradients of the mean absolute error for k inputs, by hand
def mae_by_sign(X, y, w, b):
    s = torch.sign(X @ w.T + b - y)
    return (s * X).mean(dim=0).reshape(w.shape), s.mean().reshape(b.shape)


def mae_by_matmul(X, y, w, b):  # s.T @ X, with torch.where instead of sign
    error = X @ w.T + b - y
    s = torch.where(error > 0, 1.0, -1.0)
    return s.T @ X / len(X), s.sum(dim=0) / len(X)


def mae_in_numpy(X, y, w, b):  # float64 NumPy arrays of the right shapes
    Xn, error = X.numpy().astype(np.float64), (X @ w.T + b - y).numpy().astype(np.float64).ravel()
    s = np.sign(error)
    return (s @ Xn / len(Xn)).reshape(1, -1), np.array([s.mean()])


def mae_by_loops(X, y, w, b):  # plain Python, one sample at a time, nested lists
    n, k = X.shape
    grad_w, grad_b = [0.0] * k, 0.0
    for i in range(n):
        error = sum(X[i, j].item() * w[0, j].item() for j in range(k)) + b.item() - y[i, 0].item()
        s = 1.0 if error > 0 else -1.0
        grad_w = [g + s * X[i, j].item() / n for j, g in enumerate(grad_w)]
        grad_b += s / n
    return [grad_w], [grad_b]


def mae_by_autograd(X, y, w, b):  # not by hand: the check disables backward()
    w, b = w.clone().requires_grad_(), b.clone().requires_grad_()
    F.l1_loss(X @ w.T + b, y).backward()
    return w.grad, b.grad


def mae_by_autograd_grad(X, y, w, b):
    w, b = w.clone().requires_grad_(), b.clone().requires_grad_()
    return torch.autograd.grad((X @ w.T + b - y).abs().mean(), (w, b))


def mae_by_torch_func(X, y, w, b):  # torch.func.grad goes through torch.autograd.grad
    return torch.func.grad(lambda w, b: (X @ w.T + b - y).abs().mean(), argnums=(0, 1))(w, b)


def mae_by_engine(X, y, w, b):  # hostile: autograd's engine, called directly
    from torch.autograd.variable import Variable
    w, b = w.clone().requires_grad_(), b.clone().requires_grad_()
    loss = (X @ w.T + b - y).abs().mean()
    return Variable._execution_engine.run_backward((loss,), (torch.ones(()),), False, False, (w, b), False, False)


def mae_by_vjp(X, y, w, b):
    _, pull_back = torch.func.vjp(lambda w, b: (X @ w.T + b - y).abs().mean(), w, b)
    return pull_back(torch.tensor(1.0))


def mae_by_jacobian(X, y, w, b):
    return torch.autograd.functional.jacobian(lambda w, b: (X @ w.T + b - y).abs().mean(), (w, b))



def _mae_loss(X, y):
    return lambda w, b: (X @ w.T + b - y).abs().mean()


def mae_by_jacfwd(X, y, w, b):  # forward-mode autograd: not by hand either
    return torch.func.jacfwd(_mae_loss(X, y), argnums=(0, 1))(w, b)


def mae_by_jvp(X, y, w, b):
    loss = _mae_loss(X, y)
    grad_w = torch.stack([torch.func.jvp(lambda w: loss(w, b), (w,), (torch.eye(w.shape[1])[j:j + 1],))[1]
                          for j in range(w.shape[1])])
    return grad_w.reshape(w.shape), torch.func.jvp(lambda b: loss(w, b), (b,), (torch.ones_like(b),))[1].reshape(1)


def mae_by_dual_numbers(X, y, w, b):  # torch.autograd.forward_ad, one direction at a time
    import torch.autograd.forward_ad as fwAD
    loss, grads = _mae_loss(X, y), []
    for j in range(w.shape[1] + 1):
        tangent = torch.zeros(w.shape[1] + 1)
        tangent[j] = 1.0
        with fwAD.dual_level():
            dual_w = fwAD.make_dual(w, tangent[:-1].reshape(w.shape))
            dual_b = fwAD.make_dual(b, tangent[-1:])
            grads.append(fwAD.unpack_dual(loss(dual_w, dual_b)).tangent)
    return torch.stack(grads[:-1]).reshape(w.shape), grads[-1].reshape(1)


def mae_by_fresh_engine(X, y, w, b):  # hostile: a new autograd engine instead of the patched one
    w, b = w.clone().requires_grad_(), b.clone().requires_grad_()
    engine = torch._C._ImperativeEngine()
    return engine.run_backward((_mae_loss(X, y)(w, b),), (torch.ones(()),), False, False, (w, b), False, False)


def mae_by_central_differences(X, y, w, b):  # numbers, not autograd: float64 differences of a piecewise line
    loss = _mae_loss(X.double(), y.double())
    w, b, h = w.double(), b.double(), 1e-6
    grad_w = torch.zeros_like(w)
    for j in range(w.shape[1]):
        step = torch.zeros_like(w)
        step[0, j] = h
        grad_w[0, j] = (loss(w + step, b) - loss(w - step, b)) / (2 * h)
    return grad_w, ((loss(w, b + h) - loss(w, b - h)) / (2 * h)).reshape(1)


def mae_lesson_mse_formula(X, y, w, b):  # the lesson's Going-further cell, renamed
    diff = X @ w.T + b - y
    return 2 * diff.T @ X / diff.numel(), 2 * diff.sum(dim=0) / diff.numel()


def mae_flipped(X, y, w, b):
    return tuple(-g for g in mae_by_sign(X, y, w, b))


def mae_factor_two(X, y, w, b):
    return tuple(2 * g for g in mae_by_sign(X, y, w, b))


def mae_summed(X, y, w, b):
    return tuple(len(X) * g for g in mae_by_sign(X, y, w, b))


def mae_without_x(X, y, w, b):  # forgets the x in dL/dw
    s = torch.sign(X @ w.T + b - y)
    return s.mean().expand(w.shape), s.mean().reshape(b.shape)


def mae_flat_grad_w(X, y, w, b):
    s = torch.sign(X @ w.T + b - y)
    return (s * X).mean(dim=0), s.mean().reshape(b.shape)


def mae_scalar_grad_b(X, y, w, b):
    s = torch.sign(X @ w.T + b - y)
    return (s * X).mean(dim=0, keepdim=True), s.mean()


def mae_hard_coded(X, y, w, b):  # the numbers of the first case only
    return torch.tensor([[-0.6, -0.1]]), torch.tensor([-0.6])


# q5: the debugged fit with k inputs, y of shape (N,) or (N, 1), and a loss history
def fit_reshape_y(X, y, lr, epochs):
    y = y.reshape(-1, 1)
    w = torch.zeros(1, X.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = ((X @ w.T + b - y) ** 2).mean()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return w.detach(), b.detach(), losses


def fit_flat_predictions(X, y, lr, epochs):  # everything 1-D instead; losses kept as tensors; grad = None
    y = y.flatten()
    w = torch.zeros(X.shape[1], requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = F.mse_loss(X @ w + b, y)
        losses.append(loss.detach())
        loss.backward()
        with torch.no_grad():
            w.sub_(lr * w.grad)
            b.sub_(lr * b.grad)
        w.grad = None
        b.grad = None
    return w.detach().reshape(1, -1), b.detach(), losses


def fit_by_formula(X, y, lr, epochs):  # no autograd: NumPy, float64
    Xn, yn = X.numpy().astype(np.float64), y.numpy().astype(np.float64).reshape(-1)
    w, b, losses = np.zeros(Xn.shape[1]), 0.0, []
    for _ in range(epochs):
        error = Xn @ w + b - yn
        losses.append((error ** 2).mean())
        w, b = w - lr * 2 * Xn.T @ error / len(yn), b - lr * 2 * error.mean()
    return w.reshape(1, -1), np.array([b]), np.array(losses)


def _snippet(X, y, lr, epochs, *, w_columns=None, zero=True, no_grad=True, rebind=False, after=False,
             extra_loss=False, squeeze=False, total=False):
    """The exercise's loop with switches for the mistakes a learner may leave in."""
    w = torch.zeros(1, w_columns or X.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(epochs):
        pred = X @ w.T + b
        if squeeze:
            pred = pred.squeeze(1)
        loss = ((pred - y) ** 2).sum() if total else ((pred - y) ** 2).mean()
        if not after:
            losses.append(loss.item())
        loss.backward()
        if rebind:
            w = w - lr * w.grad
            b = b - lr * b.grad
        elif no_grad:
            with torch.no_grad():
                w -= lr * w.grad
                b -= lr * b.grad
        else:
            w -= lr * w.grad
            b -= lr * b.grad
        if after:
            with torch.no_grad():
                losses.append(((X @ w.T + b - y.reshape(-1, 1)) ** 2).mean().item())
        if zero:
            w.grad.zero_()
            b.grad.zero_()
    if extra_loss:
        losses.append(((X @ w.T + b - y) ** 2).mean().item())
    return w.detach(), b.detach(), losses


def fit_as_given(X, y, lr, epochs):  # the broken snippet: w of shape (1, 1)
    return _snippet(X, y, lr, epochs, w_columns=1)


def fit_weights_not_transposed(X, y, lr, epochs):  # X @ w with w of shape (1, k)
    w = torch.zeros(1, X.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = ((X @ w + b - y.reshape(-1, 1)) ** 2).mean()   # (N, k) @ (1, k): fails when k > 1
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return w.detach(), b.detach(), losses


def fit_weights_by_matmul(X, y, lr, epochs):  # torch.matmul(X, w): the same missing transpose
    y = y.reshape(-1, 1)
    w = torch.zeros(1, X.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = ((torch.matmul(X, w) + b - y) ** 2).mean()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return w.detach(), b.detach(), losses


def fit_weights_column(X, y, lr, epochs):  # w of shape (k, 1), X @ w: right numbers, not the stated shape
    w, b, losses = fit_reshape_y(X, y, lr, epochs)
    return w.T.clone(), b, losses


def fit_weights_column_numpy(X, y, lr, epochs):
    w, b, losses = fit_by_formula(X, y, lr, epochs)
    return w.reshape(-1, 1), b, losses


def fit_weights_flat(X, y, lr, epochs):  # w of shape (k,)
    w, b, losses = fit_reshape_y(X, y, lr, epochs)
    return w.flatten(), b, losses


def fit_weights_as_list(X, y, lr, epochs):  # w as a flat Python list
    w, b, losses = fit_reshape_y(X, y, lr, epochs)
    return w.flatten().tolist(), b, losses


def fit_shape_fixed_only(X, y, lr, epochs):  # the error gone, the silent bug left in
    return _snippet(X, y, lr, epochs)


def fit_squeeze_only(X, y, lr, epochs):  # right for y of shape (N,), every pair again for (N, 1)
    return _snippet(X, y, lr, epochs, squeeze=True)


def fit_without_zeroing(X, y, lr, epochs):
    return _snippet(X, y.reshape(-1, 1), lr, epochs, zero=False)


def fit_without_no_grad(X, y, lr, epochs):
    return _snippet(X, y.reshape(-1, 1), lr, epochs, no_grad=False)


def fit_rebinding(X, y, lr, epochs):
    return _snippet(X, y.reshape(-1, 1), lr, epochs, rebind=True)


def fit_sum_loss(X, y, lr, epochs):
    return _snippet(X, y.reshape(-1, 1), lr, epochs, total=True)


def fit_losses_after_update(X, y, lr, epochs):
    return _snippet(X, y.reshape(-1, 1), lr, epochs, after=True)


def fit_one_loss_too_many(X, y, lr, epochs):
    return _snippet(X, y.reshape(-1, 1), lr, epochs, extra_loss=True)


def fit_root_mean_square_losses(X, y, lr, epochs):
    w, b, losses = fit_reshape_y(X, y, lr, epochs)
    return w, b, [loss ** 0.5 for loss in losses]


def fit_fixed_lr(X, y, lr, epochs):  # hostile: ignores the lr argument
    return fit_reshape_y(X, y, 0.1, epochs)


def fit_least_squares(X, y, lr, epochs):  # hostile: ignores epochs, returns the optimum
    X1 = torch.cat([X.double(), torch.ones(len(X), 1, dtype=torch.float64)], dim=1)
    best = torch.linalg.lstsq(X1, y.double().reshape(-1, 1)).solution.ravel()
    return best[:-1].reshape(1, -1), best[-1:], [0.0] * epochs



def fit_weights_column_transposed(X, y, lr, epochs):  # w of shape (k, 1) AND X @ w.T: fails with (1 x k)
    y = y.reshape(-1, 1)
    w = torch.zeros(X.shape[1], 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = ((X @ w.T + b - y) ** 2).mean()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
    return w.detach(), b.detach(), losses


def fit_weights_without_requires_grad(X, y, lr, epochs):  # w.grad stays None: not a rebinding
    y = y.reshape(-1, 1)
    w = torch.zeros(1, X.shape[1])
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = ((X @ w.T + b - y) ** 2).mean()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        b.grad.zero_()
    return w, b.detach(), losses


def fit_scale_left_none(X, y, lr, epochs):  # a None that is not a gradient: the error names no .grad
    y = y.reshape(-1, 1)
    w = torch.zeros(1, X.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    scale = None   # meant to be len(X)
    losses = []
    for _ in range(epochs):
        loss = ((X @ w.T + b - y) ** 2).sum() / scale
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return w.detach(), b.detach(), losses


def fit_unsqueeze_y(X, y, lr, epochs):  # right for y of shape (N,); (N, 1, 1) for (N, 1): every pair again
    return _snippet(X, y.unsqueeze(-1), lr, epochs)


def fit_losses_generator(X, y, lr, epochs):
    w, b, losses = fit_reshape_y(X, y, lr, epochs)
    return w, b, (loss for loss in losses)


def fit_huge_losses(X, y, lr, epochs):  # hostile: a million losses must be judged fast
    w, b, _ = fit_reshape_y(X, y, lr, epochs)
    return w, b, [0.0] * 1_000_000


def fit_text_weights(X, y, lr, epochs):
    _, b, losses = fit_reshape_y(X, y, lr, epochs)
    return "w", b, losses


# q6: GD on standardised columns, the line in original units
def _standardise_columns(X, correction=1):
    mean, std = X.mean(dim=0), X.std(dim=0, correction=correction)
    return (X - mean) / std, mean, std


def standardised_fit(X, y, lr, epochs):
    X_s, mean, std = _standardise_columns(X)
    w_s, b_s, _ = fit_reshape_y(X_s, y, lr, epochs)
    return w_s / std, b_s - (w_s * mean / std).sum()


def standardised_fit_numpy_population(X, y, lr, epochs):  # NumPy's std (divides by N), float64, plain numbers
    Xn = X.numpy().astype(np.float64)
    mean, std = Xn.mean(axis=0), Xn.std(axis=0)
    w_s, b_s, _ = fit_by_formula(torch.from_numpy((Xn - mean) / std), y, lr, epochs)
    w_s, b_s = w_s.ravel(), float(b_s[0])
    return list(w_s / std), b_s - float((w_s * mean / std).sum())


def standardised_fit_by_matmul(X, y, lr, epochs):  # the conversion as one matrix product
    X_s, mean, std = _standardise_columns(X)
    w_s, b_s, _ = fit_flat_predictions(X_s, y, lr, epochs)
    w = w_s / std                                  # (1, k)
    return w, (b_s - w @ mean).reshape(1)


def standardised_column_weights(X, y, lr, epochs):  # w_s of shape (k, 1) / std of shape (k,) -> (k, k)
    X_s, mean, std = _standardise_columns(X)
    w_s, b_s, _ = fit_weights_column(X_s, y, lr, epochs)
    return w_s / std, b_s - (w_s * mean / std).sum()


def standardised_column_weights_keepdim(X, y, lr, epochs):  # (1, k) statistics, weights (k, 1), NumPy
    Xn = X.numpy().astype(np.float64)
    mean, std = Xn.mean(axis=0, keepdims=True), Xn.std(axis=0, keepdims=True)
    w_s, b_s, _ = fit_weights_column_numpy(torch.from_numpy((Xn - mean) / std), y, lr, epochs)
    return w_s / std, b_s - (w_s * mean / std).sum()


def standardised_column_statistics(X, y, lr, epochs):  # the other way round: (1, k) weights, (k, 1) stats
    X_s, mean, std = _standardise_columns(X)
    w_s, b_s, _ = fit_reshape_y(X_s, y, lr, epochs)
    return w_s / std.reshape(-1, 1), b_s - (w_s * mean / std).sum()


def standardised_not_converted(X, y, lr, epochs):
    X_s, _, _ = _standardise_columns(X)
    w_s, b_s, _ = fit_reshape_y(X_s, y, lr, epochs)
    return w_s, b_s


def standardised_intercept_per_column(X, y, lr, epochs):  # the lesson's one-input formula, unchanged
    X_s, mean, std = _standardise_columns(X)
    w_s, b_s, _ = fit_reshape_y(X_s, y, lr, epochs)
    return w_s / std, b_s - w_s * mean / std


def standardised_whole_table(X, y, lr, epochs):  # the lesson's X.mean(), X.std(): one for all columns
    mean, std = X.mean(), X.std()
    w_s, b_s, _ = fit_reshape_y((X - mean) / std, y, lr, epochs)
    return w_s / std, b_s - (w_s * mean / std).sum()


def standardised_raw(X, y, lr, epochs):  # forgot to standardise: blows up on the cars
    w, b, _ = fit_reshape_y(X, y, lr, epochs)
    return w, b


def standardised_slope_times_std(X, y, lr, epochs):
    X_s, mean, std = _standardise_columns(X)
    w_s, b_s, _ = fit_reshape_y(X_s, y, lr, epochs)
    return w_s * std, b_s - (w_s * mean / std).sum()


def standardised_least_squares(X, y, lr, epochs):  # hostile: the optimum, whatever the epochs
    w, b, _ = fit_least_squares(X, y, lr, epochs)
    return w, b


def standardised_hard_coded(X, y, lr, epochs):  # hostile: one case's numbers
    return torch.tensor([[-4.3580, -0.0178, 0.5104]]), torch.tensor([27.6188])


def standardised_in_place(X, y, lr, epochs):
    X -= X.mean(dim=0)
    X /= X.std(dim=0)
    w_s, b_s, _ = fit_reshape_y(X, y, lr, epochs)
    return w_s, b_s



def standardised_raw_when_long(X, y, lr, epochs):  # right, but the long run forgets to standardise: NaN
    if epochs < 300:
        return standardised_fit(X, y, lr, epochs)
    with np.errstate(all="ignore"):
        w, b, _ = fit_reshape_y(X, y, lr, epochs)
    return w, b


def standardised_target_too(X, y, lr, epochs):  # exercise 3's habit: y standardised as well, then taken back
    X_s, mean, std = _standardise_columns(X)
    y_mean, y_std = y.mean(), y.std()
    w_s, b_s, _ = fit_reshape_y(X_s, (y - y_mean) / y_std, lr, epochs)
    w = w_s * y_std / std
    return w, b_s * y_std + y_mean - (w * mean).sum()


def standardised_target_too_numpy(X, y, lr, epochs):  # the same with NumPy's std (divides by N) everywhere
    Xn, yn = X.numpy().astype(np.float64), y.numpy().astype(np.float64).ravel()
    mean, std = Xn.mean(axis=0), Xn.std(axis=0)
    y_s = torch.from_numpy((yn - yn.mean()) / yn.std())
    w_s, b_s, _ = fit_by_formula(torch.from_numpy((Xn - mean) / std), y_s, lr, epochs)
    w = w_s.ravel() * yn.std() / std
    return w, float(b_s[0]) * yn.std() + yn.mean() - float((w * mean).sum())


def standardised_text(X, y, lr, epochs):
    return "w", "b"


def standardised_huge_weights(X, y, lr, epochs):  # hostile: a million weights, as a list
    return [0.0] * 1_000_000, 0.0



# Hostile answers that replace what the check judges with; the check puts it back and says so.
def matrix_patching_pandas(df, numeric, category):  # shadows DataFrame.equals, then changes the DataFrame
    pd.DataFrame.equals = lambda self, other: True
    df["extra"] = 1.0
    return matrix_by_masks(df, numeric, category)


def standardise_patching_tensor(X):  # shadows Tensor.double, which the check converts with
    torch.Tensor.double = lambda self: torch.zeros(self.shape, dtype=torch.float64)
    return X, X.mean(dim=0), X.std(dim=0)


def predict_raw_patching_allclose(x_new, *_):
    torch.allclose = lambda *args, **kwargs: True
    return torch.zeros_like(x_new)


def fit_patching_numpy(X, y, lr, epochs):
    np.all = lambda *args, **kwargs: True
    return torch.zeros(1, X.shape[1]), torch.zeros(1), [0.0] * epochs


def standardised_patching_the_check(X, y, lr, epochs):
    lesson01._matches = lambda *args, **kwargs: True
    return torch.zeros(1, X.shape[1]), torch.zeros(1)


def mae_reloading_forward_ad(X, y, w, b):  # hostile: a reloaded forward_ad brings make_dual back
    import importlib

    import torch.autograd.forward_ad as fwAD
    importlib.reload(fwAD)
    return mae_by_jacfwd(X, y, w, b)


def mae_patching_the_core(X, y, w, b):
    from helpers.checks import core
    core.expect = lambda *args, **kwargs: None
    return torch.zeros(1), torch.zeros(1)


CASES = {
    "q1": {
        "correct": [matrix_by_masks, matrix_by_get_dummies, matrix_by_numpy_broadcasting, matrix_by_loops],
        "wrong": [
            (matrix_category_as_number, "came out as one column"),
            (matrix_numeric_only, "expected (32, 5)"),
            (matrix_unsorted, "sort the distinct values: 4, 6, 8"),
            (matrix_sorted_as_text, "sort the distinct values: 2, 7, 10"),
            (matrix_indicators_first, "indicator columns come first"),
            (matrix_drop_first, "one column short"),
            (matrix_float64, "float32"),
            (matrix_hard_coded_values, "should be indicators"),
            (matrix_mutating, "changed the DataFrame"),
            (matrix_transposed, "one row per sample"),
            (matrix_by_values, "torch cannot convert a NumPy array of dtype object"),
            (matrix_from_numpy_mixed, "to_numpy(dtype=np.float32)"),
            (matrix_whole_table_values, "mix kinds, such as True/False beside numbers"),
            (matrix_huge, "has shape (100000, 7)"),
            (matrix_indicators_only, "has shape (32, 3); expected (32, 5)"),
            (matrix_category_codes, "came out as one column (one number per value)"),
            (matrix_first_numeric_dropped, "has shape (32, 4); expected (32, 5)"),
            (matrix_last_indicator_dropped, "the indicator column for 8 is missing"),
            (matrix_drop_first, "the indicator column for 4 is missing"),
            (matrix_zeros_transposed_shape, "has shape (5, 32); expected (32, 5)"),
            (matrix_sparse, "sparse tensor"),
            (matrix_patching_pandas, "replaced pandas.DataFrame.equals"),
            (lambda df, numeric, category: df[numeric].to_numpy(dtype=np.float32), "torch.Tensor"),
        ],
        "placeholder": not_implemented,
    },
    "q2": {
        "correct": [standardise_unbiased, standardise_numpy_style],
        "wrong": [
            (standardise_with_numpy, "mean should be a torch.Tensor, but it is"),
            (standardise_lists, "mean should be a torch.Tensor, but it is [3.0]"),
            (standardise_numpy_result, "X_standardised should be a torch.Tensor"),
            (standardise_whole_tensor, "single number"),
            (standardise_rows, "one per row"),
            (standardise_in_place, "changed its input"),
            (standardise_centre_only, "(X - mean) / std"),
            (lambda X: (X - X.mean(dim=0)) / X.std(dim=0), "three things"),
            (standardise_patching_tensor, "replaced torch.Tensor.double"),
        ],
        "placeholder": not_implemented,
    },
    "q3": {
        "correct": [predict_raw_steps, predict_raw_one_line_float64, predict_raw_matmul],
        "wrong": [
            (predict_raw_target_standardised, "standardised scale of the target"),
            (predict_raw_standardised_twice, "a second time"),
            (predict_raw_no_mean, "y_mean is missing"),
            (predict_raw_no_scale, "not scaled by y_std"),
            (predict_raw_unstandardised_input, "raw inputs"),
            (predict_raw_swapped_stats, "swapped"),
            (predict_raw_own_stats, "their own mean and std"),
            (predict_raw_flat, "expected (4, 1)"),
            (predict_raw_in_place, "changed its input"),
            (predict_raw_hard_coded, "expected (3, 1)"),
            (predict_raw_patching_allclose, "replaced torch.allclose"),
            (lambda x_new, *_: torch.full_like(x_new, 20.0), "predictions in the target's units are"),
        ],
        "placeholder": not_implemented,
    },
    "q4": {
        "correct": [mae_by_sign, mae_by_matmul, mae_in_numpy, mae_by_loops, mae_by_central_differences],
        "wrong": [
            (mae_by_autograd, "by hand"),
            (mae_by_autograd_grad, "autograd switched off"),
            (mae_by_torch_func, "autograd switched off"),
            (mae_by_engine, "autograd switched off"),
            (mae_by_vjp, "autograd switched off"),
            (mae_by_jacobian, "autograd switched off"),
            (mae_by_jacfwd, "autograd switched off"),
            (mae_by_jvp, "forward-mode dual numbers"),
            (mae_by_dual_numbers, "autograd switched off"),
            (mae_by_fresh_engine, "by hand"),
            (mae_patching_the_core, "replaced helpers.checks.core.expect"),
            (mae_reloading_forward_ad, "replaced torch.autograd.forward_ad."),
            (mae_lesson_mse_formula, "mean *squared* error"),
            (mae_flipped, "signs are flipped"),
            (mae_factor_two, "twice as large"),
            (mae_summed, "times too large"),
            (mae_without_x, "grad_w should be"),
            (mae_flat_grad_w, "give it the shape of w, (1, 2)"),
            (mae_scalar_grad_b, "give it the shape of b, (1,)"),
            (mae_hard_coded, "give it the shape of w, (1, 3)"),
        ],
        "placeholder": not_implemented,
    },
    "q5": {
        "correct": [fit_reshape_y, fit_flat_predictions, fit_by_formula],
        "wrong": [
            (fit_as_given, "columns (2) must match the right matrix's rows (1): the right one is a 1 x 1 "
                           "matrix, a single weight, but X has 2 input columns; w needs one weight per column, "
                           "shape (1, 2)"),
            (fit_weights_not_transposed, "the right one is a 1 x 2 row, and X needs a 2 x 1 column of weights"),
            (fit_weights_by_matmul, "X @ w.T"),
            (fit_weights_column, "w has shape (2, 1), a column"),
            (fit_weights_column_numpy, "one row of weights, shape (1, 2)"),
            (fit_weights_flat, "w has shape (2,); the exercise asks for shape (1, 2)"),
            (fit_weights_as_list, "w has shape (2,)"),
            (fit_shape_fixed_only, "every prediction with every target"),
            (fit_squeeze_only, "every prediction with every target"),
            (fit_without_zeroing, "pile up"),
            (fit_without_no_grad, "torch.no_grad()"),
            (fit_rebinding, "None"),
            (fit_sum_loss, "mean of the squared errors"),
            (fit_losses_after_update, "recorded after the update"),
            (fit_one_loss_too_many, "one loss per epoch"),
            (fit_root_mean_square_losses, "losses should be the MSE"),
            (fit_fixed_lr, "should give w"),
            (fit_least_squares, "should give w"),
            (fit_weights_column_transposed, "the right one is a 1 x 2 row"),
            (fit_weights_without_requires_grad, "created with requires_grad=True"),
            (fit_scale_left_none, "your code raised TypeError: unsupported operand type(s) for /: 'Tensor' and "
                                  "'NoneType'"),
            (fit_unsqueeze_y, "every prediction with every target"),
            (fit_losses_generator, "losses should hold numbers (a tensor, a NumPy array or a list of numbers), "
                                   "but it is <generator"),
            (fit_huge_losses, "losses should hold 1 number, one per epoch, but it holds 1000000"),
            (fit_text_weights, "w should hold numbers"),
            (fit_patching_numpy, "replaced numpy.all"),
            (lambda X, y, lr, epochs: (torch.zeros(1, X.shape[1]), torch.zeros(1), []),
             "losses should hold 1 number, one per epoch"),
        ],
        "placeholder": not_implemented,
    },
    "q6": {
        "correct": [standardised_fit, standardised_fit_numpy_population, standardised_fit_by_matmul],
        "wrong": [
            (standardised_column_weights, "w has shape (3, 3), 9 numbers for 3 inputs"),
            (standardised_column_weights_keepdim, "a column of 3 weights, shape (3, 1)"),
            (standardised_column_statistics, "Keep the weights as one row, shape (1, 3)"),
            (standardised_not_converted, "weights of the standardised inputs"),
            (standardised_intercept_per_column, "single intercept"),
            (standardised_whole_table, "one mean and one std for the whole table"),
            (standardised_raw, "raw X"),
            (lambda X, y, lr, epochs: ([float("nan")] * X.shape[1], float("nan")), "not finite (NaN or inf)"),
            (lambda X, y, lr, epochs: ([float("inf")] * X.shape[1], 0.0), "not finite (NaN or inf)"),
            (standardised_raw_when_long, "blew up"),
            (standardised_slope_times_std, "should give w"),
            (standardised_least_squares, "not there yet"),
            (standardised_hard_coded, "not there yet"),
            (standardised_in_place, "changed its input"),
            (standardised_text, "(lr=0.1, epochs=1): w should hold numbers"),
            (standardised_target_too, "gradient descent on a standardised y"),
            (standardised_target_too_numpy, "standardises only X and runs on y as it is"),
            (standardised_huge_weights, "w holds 1000000 numbers; it needs one weight per input column, 3"),
            (standardised_patching_the_check, "replaced helpers.checks.lesson01._matches"),
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
    """The patched backward() and engine are put back: autograd works again after q4 has judged an answer."""
    lesson01.q4.evaluate(mae_by_autograd)
    lesson01.q4.evaluate(mae_by_engine)   # the engine is swapped back too
    lesson01.q4.evaluate(mae_by_fresh_engine)
    lesson01.q4.evaluate(mae_by_dual_numbers)
    w = torch.tensor(2.0, requires_grad=True)
    (w * w).backward()
    assert w.grad.item() == 4.0
    assert torch.func.jvp(lambda x: x * x, (torch.tensor(3.0),), (torch.tensor(1.0),))[1].item() == 6.0
    lesson01.q4.evaluate(mae_reloading_forward_ad)   # put back first by the check, then by the patches
    assert not isinstance(torch.autograd.forward_ad.make_dual, mock.Mock)
    assert torch.func.jvp(lambda x: x * x, (torch.tensor(3.0),), (torch.tensor(1.0),))[1].item() == 6.0


def test_replaced_functions_are_put_back():
    """An answer that replaces what judging relies on is told so, and torch, NumPy, pandas and the check
    are as they were afterwards: a right answer judged next passes, a wrong one fails."""
    originals = torch.allclose, np.all, torch.Tensor.double, lesson01._matches
    for name, answer in [("q3", predict_raw_patching_allclose), ("q5", fit_patching_numpy),
                         ("q2", standardise_patching_tensor), ("q6", standardised_patching_the_check),
                         ("q1", matrix_patching_pandas)]:
        assert "replaced" in getattr(lesson01, name).evaluate(answer).message
    assert (torch.allclose, np.all, torch.Tensor.double, lesson01._matches) == originals
    assert "equals" not in vars(pd.DataFrame)
    assert lesson01.q3.evaluate(predict_raw_steps).status == CORRECT
    assert lesson01.q3.evaluate(lambda x_new, *_: torch.zeros_like(x_new)).status == INCORRECT


@pytest.mark.parametrize("name, answer", [("q6", standardised_raw), ("q6", standardised_raw_when_long),
                                          ("q5", fit_without_zeroing), ("q5", fit_sum_loss)])
def test_check_prints_no_warnings_of_its_own(name, answer):
    """The check's float64 reference runs of diverging bugs overflow: that must not print NumPy warnings
    under the verdict (the answer's own warnings are the learner's to see)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(lesson01, name).evaluate(answer)
    assert not [w for w in caught if "helpers/checks" in w.filename.replace("\\", "/")]


def test_huge_answer_is_described_briefly():
    outcome = lesson01.q1.evaluate(matrix_huge)
    assert outcome.status == INCORRECT and len(outcome.message) < 300


@pytest.mark.parametrize("name, answer", [("q5", fit_least_squares), ("q6", standardised_raw),
                                          ("q5", fit_without_zeroing), ("q6", standardised_least_squares),
                                          ("q2", standardise_rows), ("q1", matrix_by_loops),
                                          ("q5", fit_huge_losses), ("q6", standardised_huge_weights)])
def test_answers_are_judged_fast(name, answer):
    start = time.perf_counter()
    getattr(lesson01, name).evaluate(answer)
    assert time.perf_counter() - start < 3   # about a second on a busy 2-core machine


def test_checks_leave_the_global_random_state_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    lesson01.q2.evaluate(standardise_unbiased)
    lesson01.q4.evaluate(mae_by_sign)
    lesson01.q5.evaluate(fit_reshape_y)
    assert torch.equal(torch.rand(3), expected)


def test_q1_judges_data_it_never_shows():
    """The check's own tables hold text, bool and unsorted integer categories, and an empty numeric list."""
    frames = lesson01._q1_frames()
    categories = {df[category].dtype.kind for df, _, category in frames}
    assert {"O", "b", "i"} <= categories or {"b", "i"} <= categories
    assert any(numeric == [] for _, numeric, _ in frames)
    assert lesson01.q1.evaluate(matrix_by_masks).status == CORRECT


def test_q4_data_keeps_errors_away_from_zero():
    """|u| has a kink at 0: the check's data keeps every error at least 0.1 away from it (asserted inside)."""
    assert len(lesson01._q4_cases()) == 2


def test_q6_holds_inputs_far_from_zero():
    """One of q6's data sets has a column whose mean is about 100 times its std, where the intercept is a
    difference of large numbers: a correct float32 answer must still pass there."""
    X_far = lesson01._q6_cases()[2][1]
    ratio = (X_far.mean(dim=0) / X_far.std(dim=0)).abs().max()
    assert ratio > 50
    assert lesson01.q6.evaluate(standardised_fit).status == CORRECT
