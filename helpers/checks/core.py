"""The self-check machinery behind every exercise.

A check is a plain function that inspects the learner's answer and raises
:class:`Incorrect` (with a hint aimed at the likely mistake) at the first
problem it finds. :func:`exercise` wraps it in a :class:`Check`, which:

- prints ``Correct``, ``Not attempted yet: ...`` or ``Incorrect: <hint>``;
- never raises: an exception from the learner's code is caught and reported
  together with the input that caused it;
- treats only the untouched placeholders of exercise notebooks as "not
  attempted": ``...`` and the generator's ``raise NotImplementedError(PLACEHOLDER)``.
  Any other ``NotImplementedError`` is an attempt: PyTorch raises one for a
  module whose ``forward`` (or a dataset whose ``__getitem__``) is misspelled,
  and the hint says so;
- hands the learner's function copies of plain tensors and arrays
  (:func:`call`), so expectations are computed on inputs the answer cannot have
  changed, and an answer that changes its input in place is told so;
- keeps every hint short: values are described (type, shape, a few items),
  never dumped;
- offers ``.hint()`` for more help, one hint per call;
- judges with the libraries as they were: an answer that replaced a function
  the check relies on (``torch.allclose = lambda *a: True``, a check's own
  tolerance) is told so, and the original is put back (:func:`_put_back`).

Write checks cheap tests first (type, shape, dtype, a small input) and train or
loop only once those pass, so that a wrong answer is judged as fast as a right one.

Example:
    >>> @exercise("Multiply by two.")
    ... def q0(double):
    ...     for x in (0, 1, -3):
    ...         expect(call(double, x) == 2 * x, f"double({x}) should be {2 * x}.")
    >>> q0(lambda x: x + x)
    Correct
    >>> q0(lambda x: x + 2)
    Incorrect: double(0) should be 0.
    >>> q0(...)
    Not attempted yet: write your answer in place of the placeholder under # YOUR CODE HERE, then run again.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import math
import numbers
import re
import sys
import time
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

CORRECT, NOT_ATTEMPTED, INCORRECT = "correct", "not attempted", "incorrect"
# The generator's placeholders sit under "# YOUR CODE HERE": `name = ...` or a NotImplementedError.
_NOT_ATTEMPTED_TEXT = "write your answer in place of the placeholder under # YOUR CODE HERE, then run again."
# What tools/make_exercises.py writes inside a function whose body is the exercise.
PLACEHOLDER = "Write your code here"
MAX_HINT_CHARS = 600
_EXITED = ("your code called exit() (or raised SystemExit), which would stop Python: a function "
           "gives its answer with return.")


class Incorrect(Exception):
    """Raised inside a check when the answer is wrong; the message is the hint shown."""


class NotAttempted(Exception):
    """Raised inside a check when the learner has not written an answer yet."""


@dataclass(frozen=True)
class Outcome:
    """What a check concluded: ``status`` is correct, not attempted or incorrect."""

    status: str
    message: str = ""

    def __str__(self) -> str:
        if self.status == CORRECT:
            return "Correct" + (f": {self.message}" if self.message else "")
        if self.status == NOT_ATTEMPTED:
            return f"Not attempted yet: {self.message or _NOT_ATTEMPTED_TEXT}"
        return f"Incorrect: {self.message}"


def _shorten(text: str, limit: int) -> str:
    """One line, at most ``limit`` characters (the middle is cut, so both ends stay readable).

    The cut falls between words where a space is near, so no word is left in pieces.

    >>> _shorten("the quick brown fox jumps over the lazy dog", 30)
    'the quick brown ... lazy dog'
    """
    text = re.sub(r"\s+", " ", text)
    if len(text) <= limit:
        return text
    keep = max(limit - 5, 2)
    head_end, tail_start = keep - keep // 3, len(text) - keep // 3
    head, tail = text[:head_end], text[tail_start:]
    near = 20  # how far a cut may move back (head) or forward (tail) to reach a space
    if text[head_end] != " " and " " in head[-near:]:  # the cut splits a word
        head = head[: head.rfind(" ")]
    if text[tail_start - 1] != " " and " " in tail[:near]:
        tail = tail[tail.find(" ") + 1:]
    return f"{head} ... {tail}"


def describe(value: Any, limit: int = 60) -> str:
    """A short, readable description of a value for hints, however large the value.

    Small values are shown; a tensor or array with more than 6 elements shows
    its shape and dtype, a long container its type and length, and any text is
    cut to ``limit`` characters.

    >>> describe(torch.zeros(100, 3))
    'a tensor of shape (100, 3) (dtype torch.float32)'
    >>> describe(list(range(10_000)))
    'a list of 10000 items: [0, 1, 2, ...]'
    """
    if isinstance(value, torch.Tensor):
        if value.numel() <= 6:
            text = _shorten(repr(value), limit)
            return text if "dtype" in text else f"{text} (dtype {value.dtype})"
        return f"a tensor of shape {tuple(value.shape)} (dtype {value.dtype})"
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return _shorten(repr(value), limit)
        return f"a NumPy array of shape {value.shape} (dtype {value.dtype})"
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return f"a pandas {type(value).__name__} of shape {value.shape}"
    if isinstance(value, (list, tuple, set, frozenset, dict)) and len(value) > 6:
        items = list(value.items() if isinstance(value, dict) else value)[:3]
        first = ", ".join(_shorten(repr(i), 20) for i in items)
        return f"a {type(value).__name__} of {len(value)} items: [{first}, ...]"
    return _shorten(repr(value), limit)


def is_placeholder(error: BaseException) -> bool:
    """Whether ``error`` is the untouched placeholder of an exercise notebook."""
    return isinstance(error, NotImplementedError) and error.args == (PLACEHOLDER,)


def unimplemented_hint(error: NotImplementedError) -> str:
    """The hint for a NotImplementedError that is not the placeholder (a misspelled method, usually)."""
    text = str(error)
    if '"forward"' in text or "forward" in text and "Module" in text:
        return ("PyTorch could not find a method named forward in your module (it raised "
                "NotImplementedError). Check the spelling of `def forward(self, x):` and that it is "
                "indented inside the class.")
    for method in ("__getitem__", "__len__"):
        if method in text:
            return (f"PyTorch could not find a method named {method} in your dataset (it raised "
                    f"NotImplementedError). Check the spelling of `def {method}(self, ...)` (two "
                    "underscores on each side) and that it is indented inside the class.")
    return (f"your code raised NotImplementedError ({_shorten(text, 200) or 'no message'}): an operation "
            "your code asked for is not implemented for these inputs (that is not the exercise's placeholder).")


def _private_copy(value: Any) -> Any:
    """A copy of plain data (tensors that need no gradient, NumPy arrays); anything else as it is.

    Tensors that require grad (parameters the answer may update in place on
    purpose), modules and optimizers are passed through untouched.
    """
    if isinstance(value, torch.Tensor):
        return value if value.requires_grad else value.clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def _same_data(a: Any, b: Any) -> bool:
    """Whether two copies of plain data still hold the same values (NaN equals NaN)."""
    try:
        if isinstance(a, torch.Tensor):
            return a.shape == b.shape and bool(torch.equal(a, b) or torch.allclose(a, b, rtol=0, atol=0,
                                                                                      equal_nan=True))
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    except (TypeError, RuntimeError):
        return False


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function, turning any exception into a helpful :class:`Incorrect`.

    Plain data arguments (tensors that need no gradient, NumPy arrays) are
    passed as private copies, so the check's own inputs stay as
    they were; if the answer changed one in place, that is the verdict.
    The untouched placeholder (``...``, or the generator's
    ``NotImplementedError``) means "not attempted"; any other exception is
    reported with the (described, never dumped) input that caused it.
    """
    if fn is Ellipsis:
        raise NotAttempted
    if not callable(fn):
        raise Incorrect(f"expected a function, but got {describe(fn)}. Pass the function itself.")
    copies = [_private_copy(a) for a in args]
    named = {k: _private_copy(v) for k, v in kwargs.items()}
    try:
        result = fn(*copies, **named)
    except NotImplementedError as error:
        if is_placeholder(error):
            raise NotAttempted from error
        raise Incorrect(unimplemented_hint(error)) from error
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # the learner's code failed (even by exit()): say how and on what
        if isinstance(error, SystemExit):
            raise Incorrect(_EXITED) from error
        shown = ", ".join([describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()])
        raise Incorrect(
            f"your code raised {type(error).__name__}: {_shorten(str(error), 200)} (called with {shown})"
        ) from error
    given = [(f"argument {i + 1}", a, c) for i, (a, c) in enumerate(zip(args, copies, strict=True))]
    given += [(f"argument {k}", kwargs[k], named[k]) for k in kwargs]
    for which, original, copy in given:
        if copy is not original and not _same_data(original, copy):
            raise Incorrect(
                f"your function changed its input ({which}, {describe(original)}) in place. Leave "
                "inputs as they are and compute new values: write `x = x - m` rather than `x -= m` "
                "or `x.sub_(m)`, or work on `x.clone()`."
            )
    return result




def expect(condition: Any, hint: str) -> None:
    """Raise :class:`Incorrect` with ``hint`` unless ``condition`` is true."""
    if not condition:
        raise Incorrect(hint)


def expect_tensor(
    value: Any,
    name: str = "your answer",
    *,
    shape: Sequence[int] | None = None,
    dtype: torch.dtype | None = None,
    floating: bool | None = None,
) -> torch.Tensor:
    """Check that ``value`` is a tensor, then its shape, then its dtype; return it.

    Args:
        value: what the learner gave.
        name: how the hint refers to it.
        shape: the exact shape required, if any.
        dtype: the exact dtype required, if any.
        floating: require a floating-point (True) or integer (False) dtype.
    """
    if not isinstance(value, torch.Tensor):
        hint = f"{name} should be a torch.Tensor, but it is {describe(value)}"
        if hasattr(value, "__array__"):
            hint += "; convert a NumPy array with torch.from_numpy(...)"
        raise Incorrect(hint + ".")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise Incorrect(
            f"{name} has shape {tuple(value.shape)}, expected {tuple(shape)}. "
            "Read the shape from the brackets, outside in."
        )
    if dtype is not None and value.dtype != dtype:
        raise Incorrect(f"{name} has dtype {value.dtype}, expected {dtype}.")
    if floating is True and not value.dtype.is_floating_point:
        raise Incorrect(
            f"{name} has the integer dtype {value.dtype}; it needs a float dtype (use .float())."
        )
    if floating is False and (value.dtype.is_floating_point or value.dtype.is_complex):
        raise Incorrect(f"{name} has dtype {value.dtype}; it needs an integer dtype (use .long()).")
    return value


def _as_float64(value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().to(torch.float64)
    # A copy: as_tensor warns about read-only arrays (pandas' to_numpy() returns them).
    return torch.from_numpy(np.array(value, dtype=np.float64))


def expect_close(
    actual: Any, expected: Any, hint: str, *, atol: float = 1e-5, rtol: float = 1e-4
) -> None:
    """Raise :class:`Incorrect` unless ``actual`` equals ``expected`` within tolerances."""
    try:
        a, e = _as_float64(actual), _as_float64(expected)
        ok = a.shape == e.shape and torch.allclose(a, e, atol=atol, rtol=rtol)
    except (TypeError, ValueError, RuntimeError):
        ok = False
    if not ok:
        raise Incorrect(hint)


def close(a: float, b: float, tol: float = 1e-4) -> bool:
    """Whether two numbers agree to a relative (or, near zero, absolute) tolerance ``tol``."""
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def as_number(value: Any, what: str = "your answer") -> float:
    """A Python float from a number or a one-element tensor or array; :class:`Incorrect` otherwise."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise Incorrect(f"{what} should be one number, but it is a tensor of shape "
                            f"{tuple(value.shape)}: reduce it to one number (.mean() or .item()).")
        return float(value.detach().cpu())
    if isinstance(value, np.ndarray) and value.size == 1:
        return float(value.item())
    if isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return float(value)  # (numbers.Real: a fractions.Fraction too)
    raise Incorrect(f"{what} should be a number, but it is {describe(value)}.")


@contextlib.contextmanager
def seeded(seed: int = 0) -> Iterator[None]:
    """Run a check's own training reproducibly without disturbing the learner.

    Inside the block torch is seeded with ``seed`` and uses one CPU thread (tiny
    models train fastest that way, and a busy machine cannot slow them down);
    afterwards the learner's random state and thread count are restored.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.set_num_threads(threads)


def expect_module(value: Any, name: str = "your model") -> torch.nn.Module:
    """Check that ``value`` is an ``nn.Module`` instance (not the class); return it."""
    if isinstance(value, type) and issubclass(value, torch.nn.Module):
        raise Incorrect(f"{name} is the class {value.__name__}; create an instance with "
                        f"{value.__name__}(...).")
    if not isinstance(value, torch.nn.Module):
        raise Incorrect(f"{name} should be a torch.nn.Module, but it is {describe(value)}.")
    return value


# ------------------------------------------------------------------ the libraries as they were
# A check computes its verdict with PyTorch, NumPy, pandas and its own helpers. An answer that
# rebinds one of them (torch.equal = lambda a, b: True, a check's tolerance, a Tensor method) could
# make anything look right, so every check notes them before it runs, puts back whatever the answer
# replaced, and says so. Patches made before the check was called are not seen.
_TORCH_DIR = Path(torch.__file__).resolve().parent


def _guarded() -> list[tuple[str, Any]]:
    """(name, namespace) of everything a check judges with."""
    import torch.autograd.forward_ad
    import torch.nn.functional

    spaces: list[tuple[str, Any]] = [
        ("torch", torch), ("torch.Tensor", torch.Tensor), ("torch.nn.functional", torch.nn.functional),
        ("torch.special", torch.special), ("torch.linalg", torch.linalg), ("torch.autograd", torch.autograd),
        ("torch.autograd.forward_ad", torch.autograd.forward_ad), ("torch._C", torch._C),
        ("torch.nn", torch.nn), ("torch.optim", torch.optim), ("numpy", np), ("numpy.ndarray", np.ndarray),
        ("pandas", pd), ("pandas.DataFrame", pd.DataFrame), ("pandas.Series", pd.Series),
        ("math", math), ("builtins", builtins), ("time", time),
    ]
    for prefix, module in (("torch.nn", torch.nn), ("torch.optim", torch.optim)):
        spaces += [(f"{prefix}.{name}", value) for name, value in vars(module).items()
                   if isinstance(value, type) and not name.startswith("_")]  # nn.Linear, optim.SGD, ...
    spaces += [(name, module) for name, module in list(sys.modules.items())
               if name.startswith("helpers.checks") and module is not None]
    return spaces


def _snapshot() -> list[tuple[str, Any, dict[str, Any]]]:
    return [(label, space, dict(vars(space))) for label, space in _guarded()]


def _torch_wrapped(new: Any, old: Any) -> bool:
    """Whether PyTorch itself wrapped ``old`` (torch._dynamo wraps torch.manual_seed on first import,
    an optimizer's step is wrapped on first use): a wrapper that keeps ``__wrapped__`` and whose code
    lives in PyTorch's folder."""
    for _ in range(5):
        code = getattr(new, "__code__", None)
        new = getattr(new, "__wrapped__", None)
        if new is None or code is None or not Path(code.co_filename).resolve().is_relative_to(_TORCH_DIR):
            return False
        if new is old:
            return True
    return False


def _may_change(space: Any, name: str, old: Any) -> bool:
    """Names that change by themselves while a check runs, or that no verdict depends on."""
    if isinstance(space, types.ModuleType):
        if name.startswith("__") or name == "_" or isinstance(old, types.ModuleType):
            return True  # reload bookkeeping, the interpreter's last result, lazily imported submodules
        if space.__name__.startswith("helpers.checks"):  # a check's caches and declared switches
            return old is None or name in getattr(space, "_CHANGES_WHILE_JUDGED", ())
    return False


def _put_back(snapshot: list[tuple[str, Any, dict[str, Any]]]) -> list[str]:
    """Put back every name in ``snapshot`` that was rebound or deleted since, and remove the names added
    to a class (they would hide an inherited method, e.g. Tensor.mean); return their full names."""
    changed = []
    for label, space, before in snapshot:
        now = dict(vars(space))
        for name, old in before.items():
            new = now.get(name, _put_back)  # _put_back marks a deleted name
            if new is not old and not _may_change(space, name, old) and not _torch_wrapped(new, old):
                with contextlib.suppress(AttributeError, TypeError):
                    setattr(space, name, old)
                changed.append(f"{label}.{name}")
        if isinstance(space, type):
            for name in now.keys() - before.keys():
                if not name.startswith("__"):  # (copy and pickle cache __slotnames__ on a class)
                    with contextlib.suppress(AttributeError, TypeError):
                        delattr(space, name)
                    changed.append(f"{label}.{name}")
    return changed


def _replaced_hint(changed: list[str]) -> str:
    listed = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
    return (f"your code replaced {listed} while the check ran (the check has put back the original). The "
            "check judges with these: leave PyTorch's, NumPy's and the check's own functions as they are, "
            "and compute your answer with them.")


class Check:
    """One exercise's check: call it with the answer(s) to print the verdict."""

    def __init__(self, fn: Callable[..., None], hints: Sequence[str]) -> None:
        functools.update_wrapper(self, fn)
        self._fn = fn
        self._hints = list(hints)
        self._hints_shown = 0
        self.last: Outcome | None = None  # the verdict last printed, for summary()

    def evaluate(self, *answers: Any, **named: Any) -> Outcome:
        """Run the check and return its :class:`Outcome` (printing nothing)."""
        if any(a is Ellipsis for a in (*answers, *named.values())):
            return Outcome(NOT_ATTEMPTED)
        snapshot = _snapshot()
        try:
            outcome = self._judge(*answers, **named)
        finally:
            changed = _put_back(snapshot)
        return Outcome(INCORRECT, _replaced_hint(changed)) if changed else outcome

    def _judge(self, *answers: Any, **named: Any) -> Outcome:
        try:
            self._fn(*answers, **named)
        except NotAttempted as reason:
            return Outcome(NOT_ATTEMPTED, str(reason))
        except Incorrect as wrong:
            return Outcome(INCORRECT, _shorten(str(wrong), MAX_HINT_CHARS))
        except NotImplementedError as error:  # raised outside call(): the same rule
            if is_placeholder(error):
                return Outcome(NOT_ATTEMPTED)
            return Outcome(INCORRECT, unimplemented_hint(error))
        except KeyboardInterrupt:
            raise
        except SystemExit:  # exit() in the answer, outside call(): a verdict, not the end of the cell
            return Outcome(INCORRECT, _EXITED)
        except Exception as error:  # the answer broke the check itself: still a verdict
            return Outcome(
                INCORRECT,
                f"the check could not use your answer ({type(error).__name__}: {_shorten(str(error), 200)}). "
                "Compare what you built with what the exercise asks for.",
            )
        return Outcome(CORRECT)

    def __call__(self, *answers: Any, **named: Any) -> None:
        self.last = self.evaluate(*answers, **named)
        print(self.last)

    def hint(self) -> None:
        """Print the next hint (the last one repeats once all have been shown)."""
        if not self._hints:
            print("No further hint for this one: the solutions notebook has a worked answer.")
            return
        index = min(self._hints_shown, len(self._hints) - 1)
        self._hints_shown += 1
        print(f"Hint {index + 1} of {len(self._hints)}: {self._hints[index]}")

    def __repr__(self) -> str:
        return f"<check {self.__name__}: call it with your answer, or .hint() for help>"


# Every check, by the module that defines it (a lesson), in the order defined.
_REGISTRY: dict[str, dict[str, Check]] = {}


def exercise(*hints: str) -> Callable[[Callable[..., None]], Check]:
    """Decorator that turns a check function into a :class:`Check` with the given hints.

    The check is registered under its module (see :func:`checks_of`), and that
    module gets a ``summary()`` function unless it defines its own.
    """

    def wrap(fn: Callable[..., None]) -> Check:
        check = Check(fn, hints)
        _REGISTRY.setdefault(fn.__module__, {})[fn.__name__] = check
        module = sys.modules.get(fn.__module__)
        if module is not None and not hasattr(module, "summary"):
            module.summary = functools.partial(summary, fn.__module__)  # type: ignore[attr-defined]
        return check

    return wrap


def checks_of(lesson: str) -> list[Check]:
    """The checks that module ``lesson`` defines (e.g. ``"helpers.checks.lesson04"``), in order."""
    return list(_REGISTRY.get(lesson, {}).values())


def summary(lesson: str) -> None:
    """Print each of a lesson's exercises with the verdict its check last printed, and what is left.

    In an exercises notebook, ``check.summary()`` calls this for that lesson::

        q1  Correct
        q2  Incorrect: accuracy_fn(...) should be 0.75, but it returned 75.0.
        q3  Not attempted yet
        q4  not checked yet
        1 of 4 correct. Left: q2 (incorrect), q3 (not attempted), q4 (not checked yet).
    """
    checks = checks_of(lesson)
    if not checks:
        print(f"No checks are defined in {lesson}.")
        return
    width = max(len(check.__name__) for check in checks)
    left = []
    for check in checks:
        if check.last is None:
            verdict, state = "not checked yet", "not checked yet"
        elif check.last.status == NOT_ATTEMPTED:
            verdict, state = "Not attempted yet", NOT_ATTEMPTED
        else:
            verdict, state = str(check.last).splitlines()[0], check.last.status
        print(f"{check.__name__:<{width}}  {verdict}")
        if state != CORRECT:
            left.append(f"{check.__name__} ({state})")
    correct = len(checks) - len(left)
    print(f"{correct} of {len(checks)} correct." + (f" Left: {', '.join(left)}." if left else " All done."))
