"""Self-checks for the exercise notebooks.

In an exercise notebook::

    from helpers.checks import lesson00 as check
    check.q1(my_answer)   # prints Correct / Not attempted yet / Incorrect: <hint>
    check.q1.hint()       # a further hint
    check.summary()       # each exercise's last verdict in this session, and what is left

Each lesson's checks live in ``helpers/checks/lessonNN.py``; the machinery is
in :mod:`helpers.checks.core`.
"""

from helpers.checks.core import (
    CORRECT,
    INCORRECT,
    NOT_ATTEMPTED,
    Check,
    Incorrect,
    NotAttempted,
    Outcome,
    as_number,
    call,
    checks_of,
    close,
    describe,
    exercise,
    expect,
    expect_close,
    expect_module,
    expect_tensor,
    seeded,
    summary,
)

__all__ = [
    "CORRECT", "INCORRECT", "NOT_ATTEMPTED", "Check", "Incorrect", "NotAttempted", "Outcome",
    "as_number", "call", "checks_of", "close", "describe", "exercise", "expect", "expect_close", "expect_module",
    "expect_tensor", "seeded", "summary",
]
