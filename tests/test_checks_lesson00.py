"""Lesson 00 checks: several correct answers pass, typical mistakes fail with their hint."""

import numpy as np
import pytest
import torch
from checkcases import assert_complete, cases, verify

from helpers.checks import lesson00


def derivative_autograd(f, x0):
    x = torch.tensor(x0, requires_grad=True)
    f(x).backward()
    return x.grad


def derivative_float(f, x0):
    x = torch.tensor(float(x0), requires_grad=True)
    y = f(x)
    (grad,) = torch.autograd.grad(y, x)
    return grad.item()


def derivative_twice(f, x0):  # backward twice without zeroing: gradients accumulate
    x = torch.tensor(x0, requires_grad=True)
    f(x).backward()
    f(x).backward()
    return x.grad


def derivative_no_grad(f, x0):  # forgot requires_grad
    x = torch.tensor(x0)
    f(x).backward()
    return x.grad


def not_implemented(*_):
    raise NotImplementedError("Write your code here")


CASES = {
    "q1": {
        "correct": [
            torch.tensor([[1.0, 2, 3], [4, 5, 6]]),
            torch.arange(1, 7).reshape(2, 3).float(),
            torch.arange(1.0, 7.0).view(2, 3),
        ],
        "wrong": [
            (torch.tensor([[1, 2, 3], [4, 5, 6]]), ".float()"),
            (torch.arange(1.0, 7.0).reshape(3, 2), "shape (3, 2)"),
            (torch.arange(1.0, 7.0).reshape(3, 2).T, "not in order"),
            (torch.tensor([[1.0, 2, 3], [4, 5, 6]], dtype=torch.float64), "float32"),
            ([[1, 2, 3], [4, 5, 6]], "torch.Tensor"),
        ],
    },
    "q2": {
        "correct": [(1, 3, 2), [1, 3, 2], torch.Size([1, 3, 2])],
        "wrong": [((3, 2), "outermost"), ((2, 3, 1), "outside in"), ("1, 3, 2", "tuple")],
    },
    "q3": {
        "correct": [
            lambda M, v: M * v.unsqueeze(1),
            lambda M, v: M * v[:, None],
            lambda M, v: v.view(-1, 1) * M,
            lambda M, v: torch.diag(v) @ M,
        ],
        "wrong": [
            (lambda M, v: M * v, "lines shapes up from the right"),  # (3, 4) * (3,) does not broadcast
            (lambda M, v: M @ v, "shape"),
            (lambda M, v: M * v.unsqueeze(0) if M.shape[0] == M.shape[1] else M * v[:, None],
             "scales the columns"),
        ],
        "placeholder": not_implemented,
    },
    "q4": {
        "correct": [
            lambda t: t.unsqueeze(1),
            lambda t: t.reshape(-1, 1),
            lambda t: t[:, None],
            lambda t: t.view(len(t), 1),
        ],
        "wrong": [
            (lambda t: t.unsqueeze(0), "unsqueeze(1) rather than unsqueeze(0)"),
            (lambda t: t.flatten(), "expected (5, 1)"),
            (lambda t: (t + 1).unsqueeze(1), "values changed"),
        ],
        "placeholder": not_implemented,
    },
    "q5": {
        "correct": [derivative_autograd, derivative_float],
        "wrong": [
            (lambda f, x0: f(torch.tensor(x0)), "not the output"),
            (derivative_twice, "accumulate"),
            (derivative_no_grad, "does not require grad"),
            (lambda f, x0: None, "returned None"),
        ],
        "placeholder": not_implemented,
    },
    "q6": {
        "correct": [
            lambda t: t.detach().cpu().numpy(),
            lambda t: t.detach().numpy().copy(),
            lambda t: t.numpy(force=True),
        ],
        "wrong": [
            (lambda t: t.numpy(), "RuntimeError"),
            (lambda t: np.array(t.tolist()), "keep the dtype"),
            (lambda t: t.detach(), "not a NumPy array"),
        ],
        "placeholder": not_implemented,
    },
    "q7": {
        "correct": [
            lambda a: torch.from_numpy(a).float(),
            lambda a: torch.tensor(a, dtype=torch.float32),
            lambda a: torch.as_tensor(a).to(torch.float32),
        ],
        "wrong": [
            (lambda a: torch.from_numpy(a), "torch.float32"),
            (lambda a: torch.from_numpy(a).long(), "torch.float32"),
            (lambda a: a.astype(np.float32), "torch.from_numpy"),
        ],
        "placeholder": not_implemented,
    },
}


def test_cases_cover_every_check():
    assert_complete(lesson00, CASES)


@pytest.mark.parametrize("name, answer, status, hint", cases(lesson00, CASES))
def test_check(name, answer, status, hint):
    verify(lesson00, name, answer, status, hint)
