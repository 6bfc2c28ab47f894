"""Checks for exercises/00_tensors_and_autograd_exercises.ipynb.

Every check runs the learner's answer on inputs of its own (several, so that a
hard-coded result or an ignored argument shows), computes what it expects from
its own copies of those inputs in float64, and compares with tolerances taken
from float32 rounding, so float32 and float64 answers both pass when right.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from helpers.checks.core import Incorrect, as_number, call, describe, exercise, expect, expect_tensor

# float32 keeps about 7 significant digits; a handful of float32 operations on
# numbers of size ~1000 stays well inside these (float64 answers are far closer).
RTOL, ATOL = 1e-5, 1e-4


def _close(actual: torch.Tensor, expected: torch.Tensor, rtol: float = RTOL, atol: float = ATOL) -> bool:
    a = actual.detach().cpu().to(torch.float64)
    return a.shape == expected.shape and bool(torch.allclose(a, expected.to(torch.float64), rtol=rtol, atol=atol))


def _tensor_from_array(value: Any) -> Any:
    """A NumPy array as a tensor (the prompts of exercises 2 and 3 allow either); anything else as it is."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return torch.from_numpy(np.array(value))
    return value


@contextlib.contextmanager
def _rng_kept() -> Iterator[None]:
    """Let the answer seed and draw as it likes; give the learner their random state back afterwards."""
    with torch.random.fork_rng(devices=[]):
        state = np.random.get_state()
        try:
            yield
        finally:
            np.random.set_state(state)


# ---------------------------------------------------------------------------
# Exercise 1: predict shapes

SHAPE_EXPRESSIONS: dict[str, str] = {
    "a": "torch.zeros(4, 1, 3) + torch.zeros(5, 1)",
    "b": "torch.ones(2, 3) @ torch.ones(3)",
    "c": "torch.ones(2, 3, 4).sum(dim=1) @ torch.ones(3)",
    "d": "torch.stack([torch.ones(2, 3)] * 4, dim=1)",
    "e": "torch.cat([torch.ones(2, 3), torch.ones(5, 3)])",
    "f": "torch.ones(3, 1) + torch.ones(4)",
    "g": "torch.ones(6, 1, 2).squeeze(1).T",
    "h": "torch.ones(3, 4, 5).permute(2, 0, 1)[0]",
}
_SHAPE_TIPS = {
    "a": "Line the two shapes up from the right; a size 1 or a missing dimension stretches.",
    "b": "A matrix times a vector: the shared size disappears.",
    "c": "A reduction collapses the dimension named by dim; then @ needs the two inner sizes to match.",
    "d": "torch.stack adds a new dimension at the position dim.",
    "e": "torch.cat joins along an existing dimension (dim=0 when none is given).",
    "f": "Line the shapes up from the right: a size 1 stretches, a missing dimension is added on the left.",
    "g": "squeeze(1) removes dimension 1, then .T swaps the two that are left.",
    "h": "permute lists the old dimensions in their new order; [0] then removes the first.",
}


def _true_shape(expression: str) -> tuple[int, ...] | None:
    try:
        return tuple(eval(expression, {"torch": torch}).shape)  # noqa: S307 - our own fixed expressions
    except RuntimeError:
        return None


@exercise(
    "Work through one expression at a time, writing each intermediate shape down.",
    "For an expression that would raise an error, the answer is None; for a 0-d result it is ().",
)
def q1(predicted: Any) -> None:
    """predicted: a dict from each letter of SHAPE_EXPRESSIONS to a shape tuple, or None for an error."""
    expect(isinstance(predicted, dict), f"predicted should be a dict such as {{'a': (4, 5), ...}}, but it is "
           f"{describe(predicted)}.")
    missing = [k for k in SHAPE_EXPRESSIONS if k not in predicted]
    expect(not missing, f"predicted has no entry for {', '.join(repr(k) for k in missing)}.")
    for key, expression in SHAPE_EXPRESSIONS.items():
        given = predicted[key]
        if given is not None:
            ok = isinstance(given, (tuple, list, torch.Size)) and all(
                isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_)) for s in given)
            expect(ok, f"predicted[{key!r}] should be a tuple of ints such as (4, 5), or None, but it is "
                   f"{describe(given)}.")
            given = tuple(int(s) for s in given)
        truth = _true_shape(expression)
        if given == truth:
            continue
        if truth is None:
            raise Incorrect(f"({key}) {expression}: this raises an error, so the answer is None. "
                            + _SHAPE_TIPS[key])
        if given is None:
            raise Incorrect(f"({key}) {expression} runs without an error; give its shape. " + _SHAPE_TIPS[key])
        raise Incorrect(f"({key}) {expression}: {describe(given)} is not its shape. " + _SHAPE_TIPS[key])


# ---------------------------------------------------------------------------
# Exercise 2: order totals with @

def _orders(seed: int, n_orders: int, n_items: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    quantities = torch.randint(0, 6, (n_orders, n_items), generator=generator)
    prices = (torch.randint(50, 2000, (n_items,), generator=generator) / 100).to(torch.float32)
    return quantities, prices


@exercise(
    "One total per order: each total is the dot product of that order's row with the prices.",
    "A (n_orders, n_items) matrix @ a (n_items,) vector gives (n_orders,). Both sides need the same "
    "dtype: quantities are integers.",
)
def q2(order_totals: Any) -> None:
    """order_totals(quantities, prices): (n_orders, n_items) int64 @ (n_items,) float32 -> (n_orders,) floats."""
    small = (torch.tensor([[1, 0, 2], [0, 3, 0]]), torch.tensor([2.5, 1.0, 4.0]))
    cases = [small, _orders(1, 5, 4), _orders(2, 7, 3)]
    for quantities, prices in cases:
        shown = f"quantities of shape {tuple(quantities.shape)}"
        try:
            out = call(order_totals, quantities, prices)
        except Incorrect as error:
            cause = error.__cause__
            if isinstance(cause, RuntimeError) and "dtype" in str(cause) and "same" in str(cause):
                raise Incorrect(f"with {shown} your code raised: {str(cause)[:120]}. quantities are int64 and "
                                "prices float32: @ needs both in one dtype.") from error
            raise
        out = _tensor_from_array(out)
        expect_tensor(out, f"order_totals for {shown}")
        n_orders, n_items = quantities.shape
        expected = quantities.double() @ prices.double()
        if tuple(out.shape) == (n_orders, n_items):
            raise Incorrect(f"for {shown} you returned shape {tuple(out.shape)}: one number per order and "
                            f"item. Each order needs one total: shape ({n_orders},).")
        if tuple(out.shape) == (n_items,):
            raise Incorrect(f"for {shown} you returned shape ({n_items},), one number per item; each "
                            f"order needs one total: shape ({n_orders},).")
        expect(tuple(out.shape) == (n_orders,), f"for {shown} you returned shape {tuple(out.shape)}; "
               f"expected ({n_orders},), one total per order.")
        expect(out.dtype.is_floating_point, f"the totals have dtype {out.dtype}; prices have cents, so "
               "the totals must be floats.")
        expect(_close(out, expected), f"for {shown} the totals differ from sum over items of "
               "quantity x price (first row: expected "
               f"{expected[0].item():.2f}, got {out[0].item():.4g}).")


# ---------------------------------------------------------------------------
# Exercise 3: mean ignoring missing readings

MISSING = -999.0


def _readings(seed: int, n_days: int, n_sensors: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    values = torch.randint(-100, 350, (n_days, n_sensors), generator=generator).to(torch.float32) / 10
    gone = torch.rand(n_days, n_sensors, generator=generator) < 0.3
    gone[0] = False  # every sensor keeps at least one real reading
    return torch.where(gone, torch.tensor(MISSING), values)


@exercise(
    "A comparison such as readings != -999 gives a True/False mask of the real readings.",
    "Per sensor: add up the real readings and divide by how many there are. A boolean mask sums "
    "as 1s and 0s; keep dim=0 for both sums.",
)
def q3(mean_ignoring_missing: Any) -> None:
    """mean_ignoring_missing(readings): per-sensor (column) mean of the readings that are not -999."""
    small = torch.tensor([[1.0, 10.0, MISSING], [3.0, MISSING, 5.0], [MISSING, MISSING, 7.0], [5.0, 20.0, 9.0]])
    cases = [small, _readings(3, 9, 5), _readings(4, 6, 2)]
    for readings in cases:
        shown = f"readings of shape {tuple(readings.shape)}"
        out = _tensor_from_array(call(mean_ignoring_missing, readings))
        expect_tensor(out, f"the result for {shown}")
        n_days, n_sensors = readings.shape
        if out.numel() == 1:
            raise Incorrect(f"for {shown} you returned one number; the exercise asks for one mean per "
                            f"sensor (column): shape ({n_sensors},).")
        expect(tuple(out.shape) == (n_sensors,), f"for {shown} you returned shape {tuple(out.shape)}; "
               f"expected ({n_sensors},), one mean per sensor (column).")
        expect(out.dtype.is_floating_point, f"the result has dtype {out.dtype}; means need floats.")
        real = (readings != MISSING).double()
        values = readings.double()
        expected = (values * real).sum(0) / real.sum(0)
        if _close(out, expected):
            continue
        if _close(out, values.mean(0)):
            raise Incorrect(f"for {shown} your result equals the plain column means, with the -999 values "
                            "included; leave them out.")
        if _close(out, (values * real).mean(0)):
            raise Incorrect(f"for {shown} your result equals the column means with each -999 counted as 0: "
                            "divide each sum by the number of real readings in that column, not by the "
                            "number of days.")
        far = ~torch.isclose(out.detach().cpu().double(), expected, rtol=RTOL, atol=ATOL)  # NaN counts as far
        wrong = int(far.nonzero()[0, 0])
        raise Incorrect(f"for {shown} the mean of sensor {wrong} should be {expected[wrong].item():.4g}, "
                        f"you returned {out[wrong].item():.4g}.")


# ---------------------------------------------------------------------------
# Exercise 4: pictures from NumPy to PyTorch's layout

def _pictures(seed: int, n: int, height: int, width: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, height, width, 3), dtype=np.uint8)


@exercise(
    "Three steps: NumPy to a tensor, move the colour dimension from last to second, make float32 "
    "values between 0 and 1.",
    "permute takes the old dimension numbers in their new order. reshape and view keep the numbers in "
    "memory order, so they cannot move a dimension.",
)
def q4(to_channels_first: Any) -> None:
    """to_channels_first(images): uint8 (N, H, W, 3) array -> float32 (N, 3, H, W) tensor in [0, 1]."""
    for images in (_pictures(5, 2, 4, 5), _pictures(6, 3, 6, 2)):
        n, height, width, channels = images.shape
        shown = f"images of shape {images.shape}"
        out = call(to_channels_first, images)
        expect_tensor(out, f"the result for {shown}")
        want = (n, channels, height, width)
        expect(tuple(out.shape) == want, f"for {shown} you returned shape {tuple(out.shape)}; expected "
               f"{want}: (pictures, colours, height, width).")
        expect(out.dtype == torch.float32, f"the result has dtype {out.dtype}; the prompt asks for float32.")
        source = torch.from_numpy(images.copy()).to(torch.float64)
        expected = source.permute(0, 3, 1, 2) / 255
        if _close(out, expected, rtol=1e-6, atol=1e-6):
            continue
        if _close(out, expected * 255, rtol=1e-6, atol=1e-4):
            raise Incorrect(f"for {shown} your values run from 0 to 255; scale them to between 0 and 1.")
        if _close(out, source.reshape(want) / 255, rtol=1e-6, atol=1e-6) or _close(
                out, source.reshape(want), rtol=1e-6, atol=1e-4):
            raise Incorrect(f"for {shown} the shape is right but the numbers are in the wrong places: your "
                            "result equals a reshape, which re-reads the numbers in memory order instead of "
                            "moving the colour dimension.")
        got = out.detach().cpu().double()
        inside = got[expected != 0]
        ratio = (inside / expected[expected != 0]).median().item() if inside.numel() else math.nan
        if math.isfinite(ratio) and ratio != 0 and _close(out, expected * ratio, rtol=1e-5, atol=1e-6):
            raise Incorrect(f"for {shown} every value is {ratio:.4g} times what it should be: scale the "
                            "values 0 to 255 to between 0 and 1 by dividing by 255.")
        far = ~torch.isclose(got, expected, rtol=1e-6, atol=1e-6)
        where = tuple(int(i) for i in far.nonzero()[0])
        source_at = (where[0], where[2], where[3], where[1])
        raise Incorrect(f"for {shown} the shape is right but the values differ: entry [n, c, h, w] should be "
                        f"images[n, h, w, c] / 255; at {list(where)} that is images{list(source_at)} / 255 = "
                        f"{expected[where].item():.4g}, you have {got[where].item():.4g}.")


# ---------------------------------------------------------------------------
# Exercise 5: derivatives with autograd

_DERIVATIVE_CASES: list[tuple[Callable[[torch.Tensor], torch.Tensor], Any, float, str]] = [
    (lambda x: x ** 3, 2.0, 12.0, "x**3 at 2.0"),
    (torch.sin, 0.0, 1.0, "sin(x) at 0.0"),
    (lambda x: torch.exp(2 * x), 0.5, 2 * math.e, "exp(2x) at 0.5"),
    (lambda x: 4 * x + 5, -1.0, 4.0, "4x + 5 at -1.0"),
    (lambda x: x * torch.log(x), 2, math.log(2) + 1, "x*log(x) at the int 2"),
]


@exercise(
    "Make x a tensor that asks for gradients, compute f(x), call backward() on it, and return x.grad.",
    "A tensor made from an int has an integer dtype, and only float tensors can ask for gradients: "
    "convert x0 with float(x0).",
)
def q5(derivative: Any) -> None:
    """derivative(f, x0): f'(x0) computed by autograd; x0 is a Python int or float.

    Each f is handed over wrapped, so the check sees whether the answer ran it on a tensor that
    tracks gradients: a finite difference such as (f(x + h) - f(x)) / h is not autograd.
    """
    for f, x0, expected, label in _DERIVATIVE_CASES:
        tracked: list[bool] = []

        def watched(x: Any, f: Callable = f, tracked: list = tracked) -> Any:
            tracked.append(isinstance(x, torch.Tensor) and x.requires_grad)
            return f(x)

        functools.update_wrapper(watched, f)  # error messages name the learner's f, not this wrapper

        with _counting_backward() as backward_calls:
            try:
                result = call(derivative, watched, x0)
            except Incorrect as error:
                cause = error.__cause__
                if isinstance(cause, RuntimeError) and "floating point" in str(cause):
                    raise Incorrect(f"for {label} your code raised: {str(cause)[:90]}. x0 was an int, so the "
                                    "tensor made from it has an integer dtype.") from error
                if isinstance(cause, RuntimeError) and "does not require grad" in str(cause):
                    raise Incorrect(f"for {label} your code raised: {str(cause)[:70]}. backward() found no "
                                    "tensor that asked for a gradient (requires_grad=True).") from error
                raise
        if result is None:
            raise Incorrect(f"derivative returned None for {label}. x.grad stays None until backward() "
                            "has run on a result computed from x.")
        value = as_number(result, f"derivative's result for {label}")
        f_value = float(f(torch.tensor(float(x0), dtype=torch.float64)))
        if math.isclose(value, f_value, rel_tol=1e-5, abs_tol=1e-6) and not math.isclose(
                value, expected, rel_tol=1e-5, abs_tol=1e-6):
            raise Incorrect(f"for {label} you returned f(x0) = {value:.4g}, the function's value; return "
                            "the derivative, which backward() puts in x.grad.")
        if tracked and not any(tracked):
            raise Incorrect(f"for {label} your function called f only on values that do not track gradients "
                            "(requires_grad=False), so autograd did not compute the derivative (a difference "
                            "quotient such as (f(x + h) - f(x)) / h is an approximation). Make x a tensor "
                            "with requires_grad=True and call backward().")
        if math.isclose(value, expected, rel_tol=1e-5, abs_tol=1e-6):
            continue
        if math.isclose(value, 2 * expected, rel_tol=1e-5) and len(backward_calls) >= 2:
            raise Incorrect(f"for {label} you returned twice the derivative ({value:.4g}) after "
                            f"{len(backward_calls)} backward() calls: gradients add up in x.grad, so call "
                            "backward() once.")
        raise Incorrect(f"for {label} the derivative is {expected:.5g}, you returned {value:.5g}.")


# ---------------------------------------------------------------------------
# Exercise 6: gradient accumulation

def _square_loss(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return ((w * x).sum() - 1) ** 2


def _abs_loss(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return (w * x - 0.5).abs().sum()


def _pieces(seed: int, count: int, size: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(size, generator=generator) for _ in range(count)]


@contextlib.contextmanager
def _counting_backward() -> Iterator[list[int]]:
    """Count backward passes: Tensor.backward() calls torch.autograd.backward, which is wrapped meanwhile."""
    calls: list[int] = []
    original = torch.autograd.backward

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    torch.autograd.backward = counting
    try:
        yield calls
    finally:
        torch.autograd.backward = original


def _sum_of_gradients(loss_fn: Callable, w: torch.Tensor, pieces: list[torch.Tensor]) -> torch.Tensor:
    fresh = w.detach().to(torch.float64).requires_grad_(True)
    total = sum(loss_fn(fresh, p.to(torch.float64)) for p in pieces)
    (grad,) = torch.autograd.grad(total, fresh)
    return grad


@exercise(
    "Start by clearing w's old gradient (w.grad = None works whether or not it holds one). Then, "
    "for each piece: compute its loss and call backward() on it.",
    "Do not clear the gradient inside the loop: backward() adds each piece's gradient to w.grad, "
    "which is what you want. Return w.grad after the loop.",
)
def q6(accumulated_gradient: Any) -> None:
    """accumulated_gradient(loss_fn, w, pieces): the gradient of the total loss, one backward() per piece."""
    cases = [
        (_square_loss, torch.tensor([0.5, -1.0, 2.0]), _pieces(7, 3, 3), None),
        (_abs_loss, torch.tensor([1.5, 0.25]), _pieces(8, 4, 2), torch.tensor([5.0, -5.0])),
        (_square_loss, torch.tensor([0.1, 0.2, 0.3, 0.4]), _pieces(9, 2, 4), torch.tensor([1.0, 2.0, 3.0, 4.0])),
    ]
    for loss_fn, start, pieces, stale in cases:
        w = start.clone().requires_grad_(True)
        if stale is not None:
            w.grad = stale.clone()
        shown = (f"{len(pieces)} pieces, w = {start.tolist()}"
                 + (f", w.grad holding {stale.tolist()} from before" if stale is not None else ", w.grad None"))
        expected = _sum_of_gradients(loss_fn, start, pieces)
        with _counting_backward() as calls:
            try:
                result = call(accumulated_gradient, loss_fn, w, [p.clone() for p in pieces])
            except Incorrect as error:
                cause = error.__cause__
                if isinstance(cause, AttributeError) and "zero_" in str(cause):
                    raise Incorrect(f"with {shown}, your code raised: {str(cause)[:80]}. Before any "
                                    "backward(), w.grad is None, which has no zero_(); set w.grad = None "
                                    "instead.") from error
                raise
        expect(torch.equal(w.detach(), start), f"with {shown}, your function changed the values of w; only "
               "its gradient should change.")
        expect(w.requires_grad, f"with {shown}, your function switched off w's requires_grad; leave w as it "
               "was, apart from its gradient.")
        expect(len(calls) == len(pieces), f"with {shown}, backward() ran {len(calls)} time(s); the exercise "
               "asks for one backward() per piece.")
        if result is None:
            raise Incorrect(f"with {shown}, you returned None: return w.grad after the loop.")
        expect_tensor(result, f"the result for {shown}")
        expect(tuple(result.shape) == tuple(start.shape), f"with {shown}, the result has shape "
               f"{tuple(result.shape)}; a gradient has the shape of w, {tuple(start.shape)}.")
        if _close(result, expected):
            continue
        if stale is not None and _close(result, expected + stale.double()):
            raise Incorrect(f"with {shown}, your result includes the gradient w.grad held before the call: "
                            "clear it first.")
        if len(pieces) > 1 and _close(result, expected / len(pieces)):
            raise Incorrect(f"with {shown}, your result is the total gradient divided by the number of pieces "
                            f"({len(pieces)}), the gradient of the mean loss; the exercise asks for the gradient "
                            "of the total (the sum of the pieces' losses).")
        last = _sum_of_gradients(loss_fn, start, pieces[-1:])
        if _close(result, last):
            raise Incorrect(f"with {shown}, your result equals the gradient of the last piece alone: the "
                            "earlier pieces' gradients were cleared or overwritten.")
        raise Incorrect(f"with {shown}, the gradient should be {[round(v, 4) for v in expected.tolist()]}, "
                        f"you returned {describe(result)}.")


# ---------------------------------------------------------------------------
# Exercise 7: debugging a device bug

def _inputs(seed: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, generator=generator), torch.randn(4, generator=generator)


@exercise(
    ".to(device) returns a new tensor and leaves the old one where it was: keep its result.",
    "A tensor created inside the function is made on the CPU unless you say otherwise: creation "
    "functions take device=... .",
)
def q7(predict: Any) -> None:
    """predict(x, weights, device): x (n, 3), weights (4,) = 3 weights and a bias; (n,) predictions on device."""
    devices = ["cpu", "meta"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        for x, weights in (_inputs(10, 5), _inputs(11, 2)):
            shown = f"x of shape {tuple(x.shape)} and device={device!r}"
            try:
                out = call(predict, x, weights, device)
            except Incorrect as error:
                cause = error.__cause__
                if isinstance(cause, NotImplementedError) and "meta" in str(cause):
                    raise Incorrect(f"with {shown} your function failed: {str(cause)[:100]}. Meta tensors hold "
                                    "no numbers, so your code tried to bring a result back (.cpu(), .numpy(), "
                                    ".item(), .tolist()): return it on the device you were given.") from error
                if "device" in str(error.__cause__):
                    raise Incorrect(f"with {shown} your function failed: {str(error.__cause__)[:140]}. "
                                    "Some tensor is still on another device.") from error
                raise
            expect_tensor(out, f"predict with {shown}")
            expect(tuple(out.shape) == (len(x),), f"with {shown} you returned shape {tuple(out.shape)}; "
                   f"expected ({len(x)},), one prediction per row of x.")
            expect(out.device.type == device, f"with {shown} the result is on {out.device.type}, expected "
                   f"{device}: the function must move its work to the device it is given.")
            if device == "meta":
                continue  # meta tensors have shapes but no numbers
            expected = x.double() @ weights[:3].double() + weights[3].double()
            expect(_close(out, expected), f"with {shown} the predictions differ from x @ weights[:3] + "
                   "weights[3]: the fix should change where tensors live, not what is computed.")


# ---------------------------------------------------------------------------
# Exercise 8: reproducible noisy data

@exercise(
    "Seed the generator with the seed argument first, then draw the noise: torch.manual_seed(seed).",
    "x = torch.linspace(0, 1, n); the noise is 0.1 * torch.randn(n).",
)
def q8(make_noisy_line: Any) -> None:
    """make_noisy_line(n, seed): x evenly spaced on [0, 1], y = 2x + 1 + noise of spread 0.1, repeatable."""
    n = 2000
    with _rng_kept():
        first = call(make_noisy_line, n, 0)
        expect(isinstance(first, (tuple, list)) and len(first) == 2, f"make_noisy_line should return a pair "
               f"(x, y), but it returned {describe(first)}.")
        x, y = first
        expect_tensor(x, "x", shape=(n,), dtype=torch.float32)
        expect_tensor(y, "y", shape=(n,), dtype=torch.float32)
        expect(_close(x, torch.linspace(0, 1, n, dtype=torch.float64), atol=1e-6),
               f"x should be {n} evenly spaced numbers from 0 to 1 (both included); it starts "
               f"{describe(x[:3])} and ends at {x[-1].item():.4g}.")
        noise = y.double() - (2 * x.double() + 1)
        spread = noise.std().item()
        # For n = 2000 draws of spread 0.1, the mean is within 5 * 0.1 / sqrt(n) = 0.011 of 0 and
        # the sample spread within 5 * 0.1 / sqrt(2n) = 0.008 of 0.1, but for once in millions.
        expect(abs(noise.mean().item()) < 0.011 and abs(spread - 0.1) < 0.008,
               f"y - (2x + 1) should be noise with mean 0 and spread 0.1; it has mean "
               f"{noise.mean().item():.3g} and spread {spread:.3g}.")
        # A bell curve puts 68.3 % of its values within one spread of its centre; for 2000 draws that share
        # wobbles by 1 %, so 63 % to 73.5 % is five wobbles either side. Uniform noise of spread 0.1 has
        # 57.7 % there, and would otherwise pass the tests above.
        within = (noise.abs() < 0.1).double().mean().item()
        expect(0.63 <= within <= 0.735, f"y - (2x + 1) has mean about 0 and spread about 0.1, but {within:.1%} of "
               "it lies within 0.1 of 0, where a bell curve has 68 %: draw the noise from the normal "
               "distribution (torch.randn), not from a uniform one (torch.rand).")
        x_again, y_again = call(make_noisy_line, n, 0)
        expect(torch.equal(y, y_again), "two calls with the same seed gave different y: seed inside the "
               "function, before drawing.")
        _, y_other = call(make_noisy_line, n, 1)
        expect(not torch.equal(y, y_other), "seeds 0 and 1 gave the same y: use the seed argument.")
        x_small, y_small = call(make_noisy_line, 5, 2)
        expect(tuple(x_small.shape) == (5,) and tuple(y_small.shape) == (5,),
               f"make_noisy_line(5, 2) gave x of shape {tuple(x_small.shape)}: use the n argument.")
