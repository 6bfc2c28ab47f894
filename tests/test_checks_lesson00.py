"""Lesson 00 checks: correct answers of many kinds pass; typical and hostile wrong ones fail with a true hint.

Besides the table of cases (tests/checkcases.py), this file tests the classes
of misjudgement the checks must avoid: NumPy scalars and float64 answers
accepted, a mutated input reported as such, huge wrong answers described
briefly, a hard-coded result or an ignored argument rejected, misspelled
methods not taken for the placeholder, and every verdict reached quickly.
"""

import time

import numpy as np
import pytest
import torch
from checkcases import assert_complete, cases, verify

from helpers.checks import INCORRECT, lesson00
from helpers.checks.core import MAX_HINT_CHARS, PLACEHOLDER


def not_implemented(*_):
    raise NotImplementedError(PLACEHOLDER)


# --- q1: predicted shapes ------------------------------------------------------------------

RIGHT_SHAPES = {"a": (4, 5, 3), "b": (2,), "c": None, "d": (2, 4, 3), "e": (7, 3), "f": (3, 4),
                "g": (2, 6), "h": (3, 4)}


def shapes(**changes):
    return {**RIGHT_SHAPES, **changes}


# --- q2: order totals ----------------------------------------------------------------------

def totals_loop(quantities, prices):  # a loop is slower but right
    return torch.stack([sum(q * p for q, p in zip(row.tolist(), prices.tolist(), strict=True))
                        * torch.ones((), dtype=torch.float64) for row in quantities])


def totals_hardcoded(quantities, prices):  # right for the small example only
    return torch.tensor([10.5, 3.0])


def totals_huge(quantities, prices):  # a wrong answer far too large to print
    return torch.zeros(100_000, 50)


def totals_mutating(quantities, prices):  # right totals, but it discounts the caller's first price
    totals = quantities.float() @ prices
    prices[0] = 0.0
    return totals


# --- q3: means ignoring -999 ------------------------------------------------------------------

def mean_mask_loop(readings):  # one column at a time with a boolean mask
    return torch.stack([col[col != -999].mean() for col in readings.T])


def mean_nan(readings):  # NaN for missing, then nanmean
    return torch.where(readings == -999, torch.nan, readings).nanmean(dim=0)


def mean_mutating(readings):  # right numbers, but it overwrites the caller's data
    real = readings != -999
    readings[~real] = 0
    return readings.sum(0) / real.sum(0)


# --- q4: pictures ---------------------------------------------------------------------------

def channels_reshape(images):  # right shape, scrambled values
    n, h, w, c = images.shape
    return torch.from_numpy(images).reshape(n, c, h, w).float() / 255


def channels_inplace_numpy(images):  # changes the learner's array
    images //= 1
    images[0, 0, 0, 0] = 7
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255


# --- q5: derivative -------------------------------------------------------------------------

def derivative_float64(f, x0):
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    f(x).backward()
    return x.grad


def derivative_numpy_scalar(f, x0):
    x = torch.tensor(float(x0), requires_grad=True)
    (grad,) = torch.autograd.grad(f(x), x)
    return np.float32(grad.item())


def derivative_numpy_0d(f, x0):
    x = torch.tensor(float(x0), requires_grad=True)
    f(x).backward()
    return x.grad.numpy()


def derivative_int_input(f, x0):  # forgets that x0 may be an int
    x = torch.tensor(x0, requires_grad=True)
    f(x).backward()
    return x.grad


def derivative_twice(f, x0):
    x = torch.tensor(float(x0), requires_grad=True)
    f(x).backward()
    f(x).backward()
    return x.grad


def derivative_no_grad(f, x0):
    x = torch.tensor(float(x0))
    f(x).backward()
    return x.grad


def derivative_value(f, x0):
    return f(torch.tensor(float(x0)))


def derivative_hardcoded(f, x0):
    return 12.0


# --- q6: accumulated gradient ---------------------------------------------------------------

def accumulate(loss_fn, w, pieces):
    w.grad = None
    for piece in pieces:
        loss_fn(w, piece).backward()
    return w.grad


def accumulate_zero_if_set(loss_fn, w, pieces):
    if w.grad is not None:
        w.grad.zero_()
    for piece in pieces:
        loss = loss_fn(w, piece)
        torch.autograd.backward(loss)
    return w.grad.clone()


def accumulate_with_optimizer(loss_fn, w, pieces):
    optimizer = torch.optim.SGD([w], lr=0.1)
    optimizer.zero_grad()
    for piece in pieces:
        loss_fn(w, piece).backward()
    return w.grad


def accumulate_stale(loss_fn, w, pieces):  # never clears the old gradient
    for piece in pieces:
        loss_fn(w, piece).backward()
    return w.grad


def accumulate_zero_in_loop(loss_fn, w, pieces):  # clears inside the loop
    for piece in pieces:
        w.grad = None
        loss_fn(w, piece).backward()
    return w.grad


def accumulate_zero_on_none(loss_fn, w, pieces):  # zero_() on a gradient that is None
    w.grad.zero_()
    for piece in pieces:
        loss_fn(w, piece).backward()
    return w.grad


def accumulate_one_backward(loss_fn, w, pieces):  # right numbers, but one backward() for all
    w.grad = None
    sum(loss_fn(w, p) for p in pieces).backward()
    return w.grad


def accumulate_and_step(loss_fn, w, pieces):  # also updates w
    w.grad = None
    for piece in pieces:
        loss_fn(w, piece).backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
    return w.grad


# --- q7: device bug -------------------------------------------------------------------------

def predict_fixed(x, weights, device):
    x = x.to(device)
    weights = weights.to(device)
    ones = torch.ones(len(x), 1, device=device)
    return torch.cat([x, ones], dim=1) @ weights


def predict_no_ones(x, weights, device):
    weights = weights.to(device)
    return x.to(device) @ weights[:3] + weights[3]


def predict_ones_like(x, weights, device):
    x, weights = x.to(device), weights.to(device)
    return torch.cat([x, torch.ones_like(x[:, :1])], dim=1) @ weights


def predict_broken(x, weights, device):
    x = x.to(device)
    weights.to(device)
    ones = torch.ones(len(x), 1)
    return torch.cat([x, ones], dim=1) @ weights


def predict_cpu_only(x, weights, device):  # ignores the device argument
    return torch.cat([x, torch.ones(len(x), 1)], dim=1) @ weights


def predict_half_fixed(x, weights, device):  # weights fixed, ones still on the CPU
    x, weights = x.to(device), weights.to(device)
    return torch.cat([x, torch.ones(len(x), 1)], dim=1) @ weights


def predict_changed_maths(x, weights, device):  # drops the bias
    return x.to(device) @ weights.to(device)[:3]


# --- q8: noisy line -------------------------------------------------------------------------

def line_manual_seed(n, seed):
    torch.manual_seed(seed)
    x = torch.linspace(0, 1, n)
    return x, 2 * x + 1 + 0.1 * torch.randn(n)


def line_generator(n, seed):
    generator = torch.Generator().manual_seed(seed)
    x = torch.linspace(0.0, 1.0, n)
    return x, 2 * x + 1 + torch.normal(0.0, 0.1, size=(n,), generator=generator)


def line_numpy(n, seed):
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, n)
    y = 2 * x + 1 + rng.normal(0, 0.1, n)
    return torch.from_numpy(x).float(), torch.from_numpy(y).float()


def line_fixed_seed(n, seed):  # ignores the seed argument
    torch.manual_seed(42)
    x = torch.linspace(0, 1, n)
    return x, 2 * x + 1 + 0.1 * torch.randn(n)


def line_unseeded(n, seed):
    x = torch.linspace(0, 1, n)
    return x, 2 * x + 1 + 0.1 * torch.randn(n)


def line_wide_noise(n, seed):  # spread 1, not 0.1
    torch.manual_seed(seed)
    x = torch.linspace(0, 1, n)
    return x, 2 * x + 1 + torch.randn(n)


def line_arange(n, seed):  # x not between 0 and 1
    torch.manual_seed(seed)
    x = torch.arange(n).float()
    return x, 2 * x + 1 + 0.1 * torch.randn(n)


def line_float64(n, seed):
    torch.manual_seed(seed)
    x = torch.linspace(0, 1, n, dtype=torch.float64)
    return x, 2 * x + 1 + 0.1 * torch.randn(n, dtype=torch.float64)


def line_fixed_n(n, seed):  # ignores n
    torch.manual_seed(seed)
    x = torch.linspace(0, 1, 2000)
    return x, 2 * x + 1 + 0.1 * torch.randn(2000)


# --- answers from outside the project: other right approaches, beginner mistakes, hostile ones ----

def derivative_central_difference(f, x0):  # accurate in float64, but not autograd
    h = 1e-6
    x = torch.tensor(float(x0), dtype=torch.float64)
    return (f(x + h) - f(x - h)) / (2 * h)


def derivative_forward_difference(f, x0):  # float32 and a large step: close, not exact
    x = torch.tensor(float(x0))
    return (f(x + 1e-3) - f(x)) / 1e-3


def derivative_retain_graph_twice(f, x0):  # the same graph backward twice: the gradient doubles
    x = torch.tensor(float(x0), requires_grad=True)
    y = f(x)
    y.backward(retain_graph=True)
    y.backward()
    return x.grad


def derivative_vector(f, x0):  # a one-element vector instead of a 0-d tensor: still right
    x = torch.tensor([float(x0)], requires_grad=True)
    f(x).backward()
    return x.grad


def accumulate_mean(loss_fn, w, pieces):  # the gradient-accumulation recipe for a *mean* loss
    w.grad = None
    for piece in pieces:
        (loss_fn(w, piece) / len(pieces)).backward()
    return w.grad


def accumulate_zeros_like(loss_fn, w, pieces):
    w.grad = torch.zeros_like(w)
    for piece in pieces:
        loss_fn(w, piece).backward()
    return w.grad


def accumulate_then_freeze(loss_fn, w, pieces):  # right numbers, but switches w's requires_grad off
    w.grad = None
    for piece in pieces:
        loss_fn(w, piece).backward()
    w.requires_grad_(False)
    return w.grad


def predict_back_to_cpu(x, weights, device):  # right on the CPU; brings the result back from any device
    x, weights = x.to(device), weights.to(device)
    return (torch.cat([x, torch.ones(len(x), 1, device=device)], dim=1) @ weights).cpu()


def line_uniform_noise(n, seed):  # mean 0 and spread 0.1, but flat, not a bell curve
    generator = torch.Generator().manual_seed(seed)
    x = torch.linspace(0, 1, n)
    return x, 2 * x + 1 + (torch.rand(n, generator=generator) * 2 - 1) * 0.1 * 3 ** 0.5


def line_laplace_noise(n, seed):  # spread 0.1, but too peaked for a bell curve
    torch.manual_seed(seed)
    x = torch.linspace(0, 1, n)
    return x, 2 * x + 1 + torch.distributions.Laplace(0.0, 0.1 / 2 ** 0.5).sample((n,))


def line_python_random(n, seed):
    import random
    rng = random.Random(seed)
    x = torch.linspace(0, 1, n)
    return x, 2 * x + 1 + torch.tensor([rng.gauss(0, 0.1) for _ in range(n)])


def line_as_list(n, seed):  # a list of two is a pair too
    return list(line_manual_seed(n, seed))


class Misspelled(torch.nn.Module):  # a module whose forward is misspelled: PyTorch raises NotImplementedError
    def forwrad(self, x):
        return x


def misspelled_forward(*args):
    return Misspelled()(torch.zeros(1))


CASES = {
    "q1": {
        "correct": [RIGHT_SHAPES, {k: (list(v) if v else v) for k, v in RIGHT_SHAPES.items()},
                    {k: (tuple(np.int64(s) for s in v) if v else v) for k, v in RIGHT_SHAPES.items()},
                    {k: (torch.Size(v) if v is not None else None) for k, v in RIGHT_SHAPES.items()}],
        "wrong": [
            (shapes(a=(4, 1, 3)), "(a)"),
            (shapes(c=(2, 4)), "raises an error"),
            (shapes(f=None), "runs without an error"),
            (shapes(b=None), "runs without an error"),
            (shapes(d=(4, 2, 3)), "stack adds a new dimension"),
            (shapes(h=(5, 3)), "(h)"),
            ({"a": (4, 5, 3)}, "no entry for 'b'"),
            (shapes(f="3"), "tuple of ints"),
            ([(4, 5, 3)], "should be a dict"),
            (shapes(a=tuple(range(10_000))), "a tuple of 10000 items"),   # described, not dumped
        ],
    },
    "q2": {
        "correct": [
            lambda q, p: q.float() @ p,
            lambda q, p: torch.matmul(q.to(p.dtype), p),
            lambda q, p: q.double() @ p.double(),            # float64 totals
            lambda q, p: (q * p).sum(dim=1),                 # broadcasting, then a reduction
            totals_loop,
            lambda q, p: torch.einsum("ij,j->i", q.float(), p),
            lambda q, p: q.numpy() @ p.numpy(),              # a NumPy array: the prompt allows it
        ],
        "wrong": [
            (lambda q, p: q @ p, "int64 and prices float32"),
            (lambda q, p: q * p, "one number per order and item"),
            (lambda q, p: (q * p).sum(dim=0), "one number per item"),
            (lambda q, p: (q.float() @ p).round().long(), "must be floats"),
            (totals_hardcoded, "shape (2,)"),                # right only for the small example
            (lambda q, p: q.float() @ torch.ones_like(p), "differ"),  # ignores prices
            (totals_huge, "shape (100000, 50)"),
            (totals_mutating, "changed its input"),
            (lambda q, p: q @ p.long(), "must be floats"),                # prices truncated to whole numbers
            (lambda q, p: p, "one number per item"),                      # hostile: returns an input
            (misspelled_forward, "forward"),
        ],
        "placeholder": not_implemented,
    },
    "q3": {
        "correct": [
            lambda r: torch.where(r != -999, r, 0.0).sum(0) / (r != -999).sum(0),
            lambda r: (r * (r != -999)).sum(dim=0) / (r != -999).float().sum(dim=0),
            mean_mask_loop,
            mean_nan,
            lambda r: mean_nan(r.double()),                  # float64 result
            lambda r: np.ma.masked_equal(r.numpy(), -999).mean(axis=0).data,   # NumPy, masked arrays
            lambda r: torch.where(r > -999, r, 0.0).sum(0) / (r > -999).sum(0),
        ],
        "wrong": [
            (lambda r: r.mean(dim=0), "-999 values included"),
            (lambda r: torch.where(r != -999, r, 0.0).mean(dim=0), "counted as 0"),
            (lambda r: r[r != -999].mean(), "one number"),
            (lambda r: torch.where(r != -999, r, 0.0).sum(1) / (r != -999).sum(1), "expected (3,)"),
            (mean_mutating, "changed its input"),
            (lambda r: torch.tensor([3.0, 15.0, 7.0]), "shape"),     # hard-coded: right for the small case only
            (lambda r: (torch.where(r != -999, r, 0.0).sum(0) / (r != -999).sum(0)).long(), "floats"),
            (lambda r: r.sum(0) / 0, "the mean of sensor 0 should be"),       # inf and NaN values
        ],
        "placeholder": not_implemented,
    },
    "q4": {
        "correct": [
            lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float() / 255,
            lambda a: torch.tensor(a, dtype=torch.float32).permute(0, 3, 1, 2) / 255.0,
            lambda a: torch.from_numpy(a).float().div(255).permute(0, 3, 1, 2).contiguous(),
            lambda a: torch.from_numpy(a.transpose(0, 3, 1, 2) / 255).float(),   # NumPy first, float64 maths
            lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float() * (1 / 255),
        ],
        "wrong": [
            (channels_reshape, "equals a reshape"),
            (lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float(), "from 0 to 255"),
            (lambda a: torch.from_numpy(a).permute(0, 3, 1, 2), "float32"),
            (lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).double() / 255, "float32"),
            (lambda a: torch.from_numpy(a).permute(0, 3, 2, 1).float() / 255, "expected (2, 3, 4, 5)"),
            (lambda a: a.transpose(0, 3, 1, 2) / 255, "torch.Tensor"),
            (lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).flip(1).float() / 255, "the values differ"),
            (channels_inplace_numpy, "changed its input"),
            (lambda a: torch.zeros(2, 3, 4, 5), "the values differ"),   # ignores its input
            # Values in their places, scaled wrong: the hint says so instead of "not where they should be".
            (lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float() / 256, "0.9961 times what it should be"),
            (lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float() / 127.5, "2 times what it should be"),
            (lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float() / 255 * 2 - 1, "images[0, 0, 0, 0] / 255"),
            (lambda a: torch.rand(100, 3, 640, 480), "shape (100, 3, 640, 480)"),  # huge, described
        ],
        "placeholder": not_implemented,
    },
    "q5": {
        "correct": [
            lambda f, x0: (lambda x: (f(x).backward(), x.grad)[1])(torch.tensor(float(x0), requires_grad=True)),
            derivative_float64,
            derivative_numpy_scalar,
            derivative_numpy_0d,
            lambda f, x0: torch.func.grad(f)(torch.tensor(float(x0))),
            lambda f, x0: torch.autograd.functional.jacobian(f, torch.tensor(float(x0))),
            derivative_vector,
        ],
        "wrong": [
            (derivative_int_input, "integer dtype"),
            (derivative_twice, "twice the derivative"),
            (derivative_no_grad, "does not require grad"),
            (derivative_value, "the function's value"),
            (derivative_hardcoded, "sin(x) at 0.0"),
            (lambda f, x0: None, "returned None"),
            (lambda f, x0: torch.zeros(10_000), "one number"),
            (derivative_central_difference, "do not track gradients"),   # "by autograd" is checked
            (derivative_forward_difference, "do not track gradients"),
            (derivative_retain_graph_twice, "after 2 backward() calls"),
        ],
        "placeholder": not_implemented,
    },
    "q6": {
        "correct": [accumulate, accumulate_zero_if_set, accumulate_with_optimizer, accumulate_zeros_like],
        "wrong": [
            (accumulate_stale, "held before the call"),
            (accumulate_zero_in_loop, "last piece alone"),
            (accumulate_zero_on_none, "w.grad is None"),
            (accumulate_one_backward, "backward() ran 1 time"),
            (accumulate_and_step, "changed the values of w"),
            (lambda loss_fn, w, pieces: None, "backward() ran 0 time"),
            (lambda loss_fn, w, pieces: accumulate(loss_fn, w, pieces) * 2, "should be"),
            (accumulate_mean, "divided by the number of pieces"),
            (accumulate_then_freeze, "switched off w's requires_grad"),
        ],
        "placeholder": not_implemented,
    },
    "q7": {
        "correct": [predict_fixed, predict_no_ones, predict_ones_like],
        "wrong": [
            (predict_broken, "another device"),
            (predict_half_fixed, "another device"),
            (predict_cpu_only, "the result is on cpu, expected meta"),
            (predict_changed_maths, "not what is computed"),
            (lambda x, w, d: (x @ w[:3] + w[3]).to(d).unsqueeze(1), "shape"),
            (predict_back_to_cpu, "Meta tensors hold no numbers"),
        ],
        "placeholder": not_implemented,
    },
    "q8": {
        "correct": [line_manual_seed, line_generator, line_numpy, line_python_random, line_as_list],
        "wrong": [
            (line_fixed_seed, "use the seed argument"),
            (line_unseeded, "same seed gave different"),
            (line_wide_noise, "spread"),
            (line_arange, "evenly spaced numbers from 0 to 1"),
            (line_float64, "float32"),
            (line_fixed_n, "shape"),
            (lambda n, seed: torch.linspace(0, 1, n), "pair (x, y)"),
            (line_uniform_noise, "bell curve"),
            (line_laplace_noise, "bell curve"),
        ],
        "placeholder": not_implemented,
    },
}


def test_cases_cover_every_check():
    assert_complete(lesson00, CASES)


@pytest.mark.parametrize("name, answer, status, hint", cases(lesson00, CASES))
def test_check(name, answer, status, hint):
    verify(lesson00, name, answer, status, hint)


@pytest.fixture(scope="module")
def meta_ready():
    """The first operation on the meta device in a process loads PyTorch's meta kernels (about 1 s of CPU)."""
    assert (torch.ones(2, device="meta") @ torch.ones(2, device="meta")).shape == ()


@pytest.mark.parametrize("name, answer, status, hint", cases(lesson00, CASES))
def test_every_verdict_is_quick_and_short(name, answer, status, hint, meta_ready):
    """A wrong answer is judged as fast as a right one (CPU time, so a busy machine does not count), and
    no hint dumps a value."""
    start = time.process_time()
    outcome = getattr(lesson00, name).evaluate(answer)
    assert time.process_time() - start < 1.0, f"{name} took too long to judge"
    assert len(outcome.message) <= MAX_HINT_CHARS


def test_huge_wrong_answer_is_described_not_dumped():
    outcome = lesson00.q2.evaluate(totals_huge)
    assert outcome.status == INCORRECT and "tensor(" not in outcome.message


def test_a_huge_predicted_shape_is_described_briefly():
    outcome = lesson00.q1.evaluate(shapes(a=tuple(range(10_000))))
    assert outcome.status == INCORRECT and len(outcome.message) < 300


def test_a_misspelled_forward_is_an_attempt_not_the_placeholder():
    outcome = lesson00.q5.evaluate(misspelled_forward)
    assert outcome.status == INCORRECT and "forward" in outcome.message


def test_checks_leave_the_learners_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    lesson00.q8.evaluate(line_manual_seed)
    assert torch.equal(torch.rand(3), expected)


def test_backward_is_restored_after_q6_even_when_the_answer_fails():
    original = torch.autograd.backward
    lesson00.q6.evaluate(accumulate_zero_on_none)
    lesson00.q6.evaluate(accumulate)
    assert torch.autograd.backward is original


def test_the_broken_snippet_of_exercise_7_really_fails_on_another_device():
    x, w = torch.randn(4, 3), torch.randn(4)
    assert predict_broken(x, w, "cpu").shape == (4,)
    with pytest.raises(RuntimeError):
        predict_broken(x, w, "meta")
