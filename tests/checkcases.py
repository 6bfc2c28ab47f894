"""A small harness for testing self-checks with many answers.

Each ``tests/test_checks_lessonNN.py`` writes a table::

    CASES = {
        "q1": {
            "correct": [answer, other_answer, ...],        # at least two, all must pass
            "wrong": [(answer, "hint text"), ...],          # at least two, each must fail
            "placeholder": ...,                             # optional, default: ...
        },
    }

An answer is passed to the check as its single argument; use ``args(a, b)``
for a check that takes several. Wrap an answer that is costly to build in
``lazy(lambda: ...)`` so it is built when its test runs, not at collection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest

from helpers.checks import CORRECT, INCORRECT, NOT_ATTEMPTED, Check


@dataclass
class Args:
    args: tuple
    kwargs: dict = field(default_factory=dict)


def args(*a: Any, **k: Any) -> Args:
    """Several arguments for one check call."""
    return Args(a, k)


@dataclass
class Lazy:
    make: Callable[[], Any]


def lazy(make: Callable[[], Any]) -> Lazy:
    """An answer built when its test runs."""
    return Lazy(make)


def checks_in(module: ModuleType) -> list[str]:
    return sorted(name for name, value in vars(module).items() if isinstance(value, Check))


def cases(module: ModuleType, table: dict[str, dict]) -> list:
    """pytest params ``(name, answer, status, hint)`` for every row of ``table``."""
    params = []
    for name, rows in table.items():
        for i, answer in enumerate(rows.get("correct", [])):
            params.append(pytest.param(name, answer, CORRECT, None, id=f"{name}-correct-{i}"))
        for i, (answer, hint) in enumerate(rows.get("wrong", [])):
            params.append(pytest.param(name, answer, INCORRECT, hint, id=f"{name}-wrong-{i}"))
        placeholder = rows.get("placeholder", ...)
        params.append(pytest.param(name, placeholder, NOT_ATTEMPTED, None, id=f"{name}-placeholder"))
    return params


def verify(module: ModuleType, name: str, answer: Any, status: str, hint: str | None) -> None:
    """Run one case and assert its verdict (and, for wrong answers, the hint)."""
    check = getattr(module, name)
    if isinstance(answer, Lazy):
        answer = answer.make()
    if isinstance(answer, Args):
        outcome = check.evaluate(*answer.args, **answer.kwargs)
    else:
        outcome = check.evaluate(answer)
    assert outcome.status == status, f"{name}: expected {status}, got {outcome}"
    if hint is not None:
        assert hint.lower() in outcome.message.lower(), (
            f"{name}: hint should mention {hint!r}, got {outcome.message!r}"
        )


def assert_complete(module: ModuleType, table: dict[str, dict]) -> None:
    """Every check has a table row with at least two correct and two wrong answers."""
    assert sorted(table) == checks_in(module), "CASES must cover exactly the module's checks"
    for name, rows in table.items():
        assert len(rows.get("correct", [])) >= 2, f"{name}: give at least two correct answers"
        assert len(rows.get("wrong", [])) >= 2, f"{name}: give at least two wrong answers"
        assert module.__dict__[name]._hints, f"{name}: give the learner at least one hint"
