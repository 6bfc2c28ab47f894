"""Checks for exercises/00_tensors_and_autograd_exercises.ipynb."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from helpers.checks.core import Incorrect, call, exercise, expect, expect_close, expect_tensor


@exercise(
    "Write the rows as a nested list: torch.tensor([[1, 2, 3], [4, 5, 6]]) and make it float.",
    "torch.arange(1, 7) counts 1..6; .reshape(2, 3) fills row by row; .float() converts.",
)
def q1(matrix: Any) -> None:
    """A (2, 3) float32 matrix holding 1..6 row by row."""
    expect_tensor(matrix, "matrix", shape=(2, 3), floating=True)
    expect(matrix.dtype == torch.float32,
           f"matrix has dtype {matrix.dtype}; PyTorch's default float is float32.")
    expect(torch.equal(matrix, torch.arange(1.0, 7.0).reshape(2, 3)),
           "the numbers are right but not in order: row 0 should be 1, 2, 3 and row 1 4, 5, 6.")


@exercise(
    "Count the brackets from the outside in: each level of brackets is one dimension.",
    "The outermost list holds 1 item, that item holds 3 rows, each row holds 2 numbers.",
)
def q2(shape: Any) -> None:
    """The shape of [[[1, 2], [3, 4], [5, 6]]]."""
    expect(isinstance(shape, (tuple, list, torch.Size)) and all(isinstance(s, int) for s in shape),
           f"give the shape as a tuple of ints such as (4, 5), not {shape!r}.")
    shape = tuple(shape)
    expect(len(shape) == 3, f"{shape} has {len(shape)} dimensions, but there are three levels of "
           "brackets: the outermost one counts too.")
    expect(shape == (1, 3, 2), f"{shape} is not it: read the sizes outside in, "
           "the outermost list first.")


@exercise(
    "Element-wise * lines up the *last* dimensions. v has shape (n,), so M * v scales columns.",
    "Give v a trailing dimension of size 1 so it lines up with the rows: v.unsqueeze(1) "
    "or v[:, None], shape (n, 1).",
)
def q3(scale_rows: Any) -> None:
    """scale_rows(M, v): row i of M multiplied by v[i], by broadcasting."""
    M = torch.arange(12.0).reshape(3, 4)
    v = torch.tensor([1.0, 10.0, 100.0])
    try:
        out = call(scale_rows, M, v)
    except Incorrect as error:
        if isinstance(error.__cause__, RuntimeError) and "must match the size" in str(error.__cause__):
            raise Incorrect("M * v failed for M of shape (3, 4) and v of shape (3,): broadcasting "
                            "lines shapes up from the right, so v's 3 meets M's 4 columns. Make v "
                            "a column of shape (n, 1) so that it runs down the rows.") from error
        raise
    expect_tensor(out, "scale_rows(M, v)")
    expect(out.shape == M.shape, f"for M of shape (3, 4) the result should keep that shape, "
           f"got {tuple(out.shape)}. Did you use @ instead of *?")
    expect(torch.allclose(out, M * v.unsqueeze(1)),
           "row i should be multiplied by v[i]; check which rows or columns changed.")
    square = torch.ones(2, 2)
    expect(torch.allclose(call(scale_rows, square, torch.tensor([2.0, 3.0])),
                          torch.tensor([[2.0, 2.0], [3.0, 3.0]])),
           "for a square M, M * v scales the columns (the last dimension), not the rows.")


@exercise(
    "A column has shape (n, 1): the new dimension of size 1 goes last.",
    "t.unsqueeze(1), t.reshape(-1, 1), t.view(-1, 1) and t[:, None] all work.",
)
def q4(to_column: Any) -> None:
    """to_column(t): a 1-D tensor of length n as an (n, 1) column."""
    for t in (torch.arange(5.0), torch.tensor([7]), torch.linspace(0, 1, 3)):
        out = call(to_column, t)
        expect_tensor(out, f"to_column({t.tolist()})")
        if len(t) > 1 and out.shape == (1, len(t)):
            raise Incorrect(f"to_column gave shape {tuple(out.shape)}, a row: put the new "
                            "dimension second, unsqueeze(1) rather than unsqueeze(0).")
        expect(out.shape == (len(t), 1),
               f"to_column on shape {tuple(t.shape)} gave {tuple(out.shape)}; expected "
               f"({len(t)}, 1). Note that .T does nothing to a 1-D tensor.")
        expect(torch.equal(out.squeeze(1), t), "the values changed; only the shape should.")


@exercise(
    "Make x a tensor that asks for gradients: torch.tensor(x0, requires_grad=True).",
    "Compute y = f(x), call y.backward(), then return x.grad (the derivative at x0).",
)
def q5(derivative: Any) -> None:
    """derivative(f, x0): f'(x0) computed with autograd."""
    cases = [
        (lambda x: x ** 2, 3.0, 6.0, "x**2 at 3"),
        (torch.sin, 0.0, 1.0, "sin at 0"),
        (lambda x: torch.exp(2 * x), 0.5, 2 * math.e, "exp(2x) at 0.5"),
        (lambda x: 4 * x + 5, -1.0, 4.0, "4x + 5 at -1"),
    ]
    for f, x0, expected, label in cases:
        result = call(derivative, f, x0)
        if result is None:
            raise Incorrect(f"derivative returned None for {label}: x.grad is None until "
                            "y.backward() has run, and only if x was made with requires_grad=True.")
        value = float(result) if isinstance(result, (torch.Tensor, float, int)) else math.nan
        if math.isclose(value, float(f(torch.tensor(x0))), rel_tol=1e-6) and not math.isclose(
            value, expected, rel_tol=1e-4
        ):
            raise Incorrect(f"for {label} you returned f(x0) = {value:.4g}; return the gradient "
                            "x.grad, not the output y.")
        if math.isclose(value, 2 * expected, rel_tol=1e-4):
            raise Incorrect(f"for {label} you returned twice the derivative: gradients accumulate, "
                            "so call backward() once on a fresh x.")
        expect(math.isclose(value, expected, rel_tol=1e-4),
               f"for {label} the derivative is {expected:.4g}, you returned {value:.4g}.")


@exercise(
    "t.numpy() refuses a tensor that requires grad: call t.detach() first.",
    "t.detach().cpu().numpy() works for any tensor, on any device.",
)
def q6(to_numpy: Any) -> None:
    """to_numpy(t): any tensor (even one that requires grad) as a NumPy array, dtype kept."""
    inputs = [
        torch.tensor([1.5, -2.0], requires_grad=True),
        torch.arange(6).reshape(2, 3),
        torch.tensor([[0.25]], dtype=torch.float64),
    ]
    for t in inputs:
        out = call(to_numpy, t)
        expect(isinstance(out, np.ndarray), f"to_numpy returned {type(out).__name__}, not a "
               "NumPy array (np.ndarray).")
        expect(out.shape == tuple(t.shape), f"the array has shape {out.shape}, the tensor "
               f"{tuple(t.shape)}.")
        expected = t.detach().numpy()
        expect(out.dtype == expected.dtype, f"a {t.dtype} tensor became a {out.dtype} array; "
               "keep the dtype (.numpy() does).")
        expect(np.array_equal(out, expected), "the values changed in the conversion.")


@exercise(
    "torch.from_numpy keeps NumPy's float64; the models in this course use float32.",
    "torch.from_numpy(a).float(), or torch.tensor(a, dtype=torch.float32).",
)
def q7(to_float32_tensor: Any) -> None:
    """to_float32_tensor(a): a NumPy array as a float32 tensor with the same values."""
    for a in (np.array([0.5, 1.5, 2.5]), np.arange(6).reshape(3, 2), np.eye(2)):
        out = call(to_float32_tensor, a)
        expect_tensor(out, "the result", shape=a.shape)
        expect(out.dtype == torch.float32, f"from an array of dtype {a.dtype} you made a tensor "
               f"of dtype {out.dtype}; it should be torch.float32 (.float()).")
        expect_close(out, a, "the values differ from the array's.")
