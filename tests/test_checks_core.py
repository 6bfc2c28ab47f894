"""The self-check machinery: verdicts, never raising, hints."""

import torch

from helpers.checks import (
    CORRECT,
    INCORRECT,
    NOT_ATTEMPTED,
    Incorrect,
    call,
    describe,
    exercise,
    expect,
    expect_close,
    expect_module,
    expect_tensor,
)


@exercise("Double the input.", "Use x * 2 or x + x.")
def double_check(double):
    for x in (0, 1, -3):
        expect(call(double, x) == 2 * x, f"double({x}) should be {2 * x}.")


def test_correct_incorrect_not_attempted(capsys):
    double_check(lambda x: x * 2)
    double_check(lambda x: x + 1)
    double_check(...)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Correct"
    assert out[1] == "Incorrect: double(0) should be 0."
    assert out[2].startswith("Not attempted yet:")


def test_several_correct_answers_pass():
    for answer in (lambda x: 2 * x, lambda x: x + x, lambda x: x << 1):
        assert double_check.evaluate(answer).status == CORRECT


def test_learner_exception_is_reported_with_its_input_never_raised():
    def broken(x):
        raise ValueError("boom")

    outcome = double_check.evaluate(broken)
    assert outcome.status == INCORRECT
    assert "ValueError: boom" in outcome.message and "called with 0" in outcome.message


def test_not_implemented_placeholder_means_not_attempted():
    def placeholder(x):
        raise NotImplementedError("Write your code here")

    assert double_check.evaluate(placeholder).status == NOT_ATTEMPTED


def test_a_non_function_answer_is_incorrect():
    outcome = double_check.evaluate(4)
    assert outcome.status == INCORRECT and "expected a function" in outcome.message


def test_a_check_that_breaks_on_odd_input_still_gives_a_verdict():
    @exercise()
    def fragile(t):
        expect(t.shape == (2,), "shape")  # AttributeError for a list

    outcome = fragile.evaluate([1, 2])
    assert outcome.status == INCORRECT and "AttributeError" in outcome.message


def test_hints_come_one_at_a_time_then_repeat(capsys):
    @exercise("first", "second")
    def q(answer):
        pass

    q.hint(), q.hint(), q.hint()
    assert capsys.readouterr().out.splitlines() == [
        "Hint 1 of 2: first", "Hint 2 of 2: second", "Hint 2 of 2: second",
    ]


def test_no_hints_points_to_the_solutions(capsys):
    exercise()(lambda a: None).hint()
    assert "solutions notebook" in capsys.readouterr().out


def test_expect_tensor_checks_type_shape_dtype_in_that_order():
    def verdict(value, **kw):
        try:
            expect_tensor(value, "t", **kw)
        except Incorrect as error:
            return str(error)
        return "ok"

    assert "torch.from_numpy" in verdict(__import__("numpy").zeros(2))
    assert "should be a torch.Tensor" in verdict([1, 2])
    assert "shape (3,), expected (2,)" in verdict(torch.zeros(3), shape=(2,), dtype=torch.long)
    assert "dtype torch.float32, expected torch.int64" in verdict(torch.zeros(2), dtype=torch.long)
    assert ".float()" in verdict(torch.zeros(2, dtype=torch.long), floating=True)
    assert ".long()" in verdict(torch.zeros(2), floating=False)
    assert verdict(torch.zeros(2), shape=(2,), dtype=torch.float32) == "ok"


def test_expect_close_and_module():
    expect_close(torch.tensor([1.0, 2.0]), [1.0, 2.0 + 1e-7], "close")
    for actual in ([1.0], "x", torch.tensor([1.0, 3.0])):
        try:
            expect_close(actual, [1.0, 2.0], "not close")
        except Incorrect as error:
            assert str(error) == "not close"
        else:
            raise AssertionError(f"{actual!r} passed")
    assert isinstance(expect_module(torch.nn.Linear(1, 1)), torch.nn.Module)
    for wrong, text in ((torch.nn.Linear, "create an instance"), (3, "nn.Module")):
        try:
            expect_module(wrong)
        except Incorrect as error:
            assert text in str(error)


def test_describe_is_short():
    assert "shape (100,)" in describe(torch.zeros(100))
    assert "dtype" in describe(torch.zeros(2, dtype=torch.long))
    assert len(describe("x" * 500)) <= 60


def test_describe_puts_multiline_reprs_on_one_line():
    text = describe(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert "\n" not in text and "  " not in text


def test_expect_close_accepts_read_only_arrays_without_warning(recwarn):
    import numpy as np

    frozen = np.array([1.0, 2.0])
    frozen.flags.writeable = False
    expect_close(frozen, frozen, "close")
    expect_close(torch.tensor([1.0, 2.0]), frozen, "close")
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


def test_expect_close_accepts_tensors_that_require_grad():
    expect_close(torch.tensor([1.0], requires_grad=True) * 2, [2.0], "close")


def test_as_number():
    from helpers.checks import as_number

    assert as_number(torch.tensor([2.5])) == 2.5 and as_number(3) == 3.0
    for wrong, text in ((torch.zeros(2), "shape (2,)"), ("1", "a number"), (True, "a number")):
        try:
            as_number(wrong)
        except Incorrect as error:
            assert text in str(error)
        else:
            raise AssertionError(f"{wrong!r} passed")


def test_seeded_repeats_and_leaves_the_learners_state_alone():
    from helpers.checks import seeded

    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    threads = torch.get_num_threads()
    with seeded(5):
        first = torch.rand(3)
        assert torch.get_num_threads() == 1
    with seeded(5):
        assert torch.equal(torch.rand(3), first)
    assert torch.equal(torch.rand(1), expected_next), "the learner's random stream moved"
    assert torch.get_num_threads() == threads
