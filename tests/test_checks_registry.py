"""The registry of checks: each lesson's checks in order, their last verdicts, check.summary()."""

from helpers.checks import CORRECT, INCORRECT


def _lesson_module(name, source):
    """A throw-away check module, as a lesson file would be (registered while it is imported)."""
    import sys
    import types

    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module


DEMO_LESSON = '''
from helpers.checks import exercise, expect

@exercise()
def q1(answer):
    expect(answer == 1, "not one")

@exercise()
def q2(answer):
    expect(answer == 2, "not two")

@exercise()
def q3(answer):
    pass
'''


def test_checks_are_registered_per_lesson_in_order():
    from helpers.checks import checks_of

    demo = _lesson_module("demo_lesson_order", DEMO_LESSON)
    assert [c.__name__ for c in checks_of("demo_lesson_order")] == ["q1", "q2", "q3"]
    assert checks_of("demo_lesson_order")[0] is demo.q1
    assert checks_of("no_such_lesson") == []


def test_summary_lists_last_verdicts_and_what_is_left(capsys):
    demo = _lesson_module("demo_lesson_summary", DEMO_LESSON)
    demo.summary()
    assert capsys.readouterr().out.splitlines()[-1] == (
        "0 of 3 correct. Left: q1 (not checked yet), q2 (not checked yet), q3 (not checked yet).")
    demo.q1(5)
    demo.q1(1)  # the last verdict counts
    demo.q2(3)
    demo.q3(...)
    demo.summary()
    out = capsys.readouterr().out.splitlines()[-4:]
    assert out == [
        "q1  Correct",
        "q2  Incorrect: not two",
        "q3  Not attempted yet",
        "1 of 3 correct. Left: q2 (incorrect), q3 (not attempted).",
    ]
    demo.q2(2), demo.q3(0)
    capsys.readouterr()
    demo.summary()
    assert capsys.readouterr().out.splitlines()[-1] == "3 of 3 correct. All done."


def test_evaluate_does_not_count_as_the_learners_verdict(capsys):
    demo = _lesson_module("demo_lesson_evaluate", DEMO_LESSON)
    assert demo.q1.evaluate(1).status == CORRECT
    assert demo.q1.last is None
    demo.q1(0)
    assert demo.q1.last.status == INCORRECT


def test_a_lesson_that_defines_its_own_summary_keeps_it():
    demo = _lesson_module("demo_lesson_own", "def summary():\n    return 'mine'\n" + DEMO_LESSON)
    assert demo.summary() == "mine"


def test_every_lesson_module_registers_its_checks_and_has_summary(capsys):
    import importlib
    import pkgutil

    import helpers.checks
    from helpers.checks import checks_of

    lessons = [m.name for m in pkgutil.iter_modules(helpers.checks.__path__) if m.name.startswith("lesson")]
    assert lessons
    for name in lessons:
        module = importlib.import_module(f"helpers.checks.{name}")
        checks = checks_of(module.__name__)
        assert len(checks) >= 6, name
        assert all(getattr(module, c.__name__) is c for c in checks)
        module.summary()
        assert f"of {len(checks)} correct" in capsys.readouterr().out
