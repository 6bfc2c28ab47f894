"""The self-check machinery: verdicts, never raising, hints."""

import sys

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


# ------------------------------------------------------- only the placeholder is "not attempted"
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import Dataset  # noqa: E402

from helpers.checks.core import MAX_HINT_CHARS, PLACEHOLDER, as_number  # noqa: E402


@exercise("Build a module whose forward doubles its input.")
def module_check(model_class):
    model = call(model_class)
    out = call(model, torch.ones(3))
    expect_close(out, torch.full((3,), 2.0), "forward should double its input.")


@exercise("Build a dataset of the squares 0, 1, 4, ...")
def dataset_check(dataset_class):
    data = call(dataset_class, 4)
    expect(call(len, data) == 4, "len should be 4.")
    expect(call(data.__getitem__, 3) == 9, "item 3 should be 9.")


class Misspelled(nn.Module):
    def forwad(self, x):  # the classic typo
        return 2 * x


class NotIndented(nn.Module):
    pass


class BadDataset(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __get_item__(self, i):  # one underscore too many
        return i * i


class Untouched(nn.Module):
    def forward(self, x):
        raise NotImplementedError(PLACEHOLDER)


class UntouchedDataset(Dataset):
    def __init__(self, n):
        raise NotImplementedError(PLACEHOLDER)


@pytest.mark.parametrize("answer", [Misspelled, NotIndented])
def test_a_misspelled_forward_is_an_attempt_with_a_hint_about_the_name(answer):
    outcome = module_check.evaluate(answer)
    assert outcome.status == INCORRECT and "forward" in outcome.message and "spelling" in outcome.message


def test_a_misspelled_getitem_is_an_attempt_with_a_hint_about_the_name():
    outcome = dataset_check.evaluate(BadDataset)
    assert outcome.status == INCORRECT and "__getitem__" in outcome.message


def test_a_module_called_directly_by_the_check_follows_the_same_rule():
    @exercise("x")
    def direct(model_class):
        model_class()(torch.ones(2))  # not through call()

    assert direct.evaluate(Misspelled).status == INCORRECT
    assert direct.evaluate(Untouched).status == NOT_ATTEMPTED


@pytest.mark.parametrize("answer", [Untouched, UntouchedDataset])
def test_the_generator_placeholder_inside_a_class_is_not_attempted(answer):
    check = module_check if issubclass(answer, nn.Module) else dataset_check
    assert check.evaluate(answer).status == NOT_ATTEMPTED


def test_a_learner_raising_not_implemented_themselves_is_an_attempt():
    def half_done(x):
        raise NotImplementedError("todo")

    outcome = double_check.evaluate(half_done)
    assert outcome.status == INCORRECT and "NotImplementedError" in outcome.message


# ------------------------------------------------------------ inputs are the check's own copies
@exercise("Centre the values: subtract their mean.")
def centre_check(centre):
    x = torch.tensor([1.0, 2.0, 6.0])
    out = call(centre, x)
    expect_close(out, x - x.mean(), f"centre({describe(x)}) should be {describe(x - x.mean())}.")


@pytest.mark.parametrize("answer", [
    lambda x: x.sub_(x.mean()),
    lambda x: x.__isub__(x.mean()),
    lambda x: (x.copy_(x - x.mean()), x)[1],
])
def test_an_answer_that_changes_its_input_is_told_so(answer):
    outcome = centre_check.evaluate(answer)
    assert outcome.status == INCORRECT and "in place" in outcome.message
    assert "should be" not in outcome.message  # never the false "values changed" verdict


def test_a_numpy_input_changed_in_place_is_caught_and_the_check_keeps_its_own_copy():
    original = np.array([3.0, 1.0])

    def sort_in_place(a):
        a.sort()
        return a

    with pytest.raises(Incorrect, match="in place"):
        call(sort_in_place, original)
    assert original.tolist() == [3.0, 1.0]


@pytest.mark.parametrize("answer", [lambda x: x - x.mean(), lambda x: x.clone().sub_(x.mean()),
                                    lambda x: x.sub(x.mean())])
def test_answers_that_leave_their_input_alone_pass(answer):
    assert centre_check.evaluate(answer).status == CORRECT


def test_parameters_that_require_grad_are_passed_as_they_are_for_in_place_updates():
    w = torch.ones(2, requires_grad=True)

    def step(p):
        with torch.no_grad():
            p -= 0.5
        return p

    assert call(step, w) is w and w.tolist() == [0.5, 0.5]


def test_an_input_with_nan_left_alone_is_not_reported():
    assert torch.isnan(call(lambda x: x * 1, torch.tensor([float("nan"), 1.0]))).any()


# -------------------------------------------------------------------- huge values never dumped
@pytest.mark.parametrize("value", [
    list(range(100_000)), "x" * 30_000, {i: i for i in range(10_000)}, np.arange(50_000.0),
    torch.zeros(1000, 1000), [[0] * 1000] * 3, tuple(range(999)), {str(i) for i in range(500)},
])
def test_describe_is_short_whatever_the_value(value):
    assert len(describe(value)) <= 80


def test_hints_and_error_messages_are_capped():
    @exercise("x")
    def chatty(answer):
        raise Incorrect(f"your answer {answer!r} is wrong")

    assert len(chatty.evaluate("y" * 30_000).message) <= MAX_HINT_CHARS

    def shouts(x):
        raise ValueError("z" * 50_000)

    outcome = double_check.evaluate(shouts)
    assert outcome.status == INCORRECT and len(outcome.message) < 400


def test_describe_still_shows_small_values():
    assert describe([1, 2, 3]) == "[1, 2, 3]"
    assert "tensor([1., 2.])" in describe(torch.tensor([1.0, 2.0]))


# --------------------------------------------------------------------- numbers in any form
@pytest.mark.parametrize("value", [np.float64(2.5), np.float32(2.5), np.array(2.5), np.array([2.5]),
                                   torch.tensor(2.5, dtype=torch.float64), torch.tensor([2.5]), 2.5])
def test_as_number_accepts_numpy_scalars_zero_d_arrays_and_tensors(value):
    assert as_number(value) == 2.5


@pytest.mark.parametrize("value", [True, "2.5", [2.5, 1.0], torch.ones(2)])
def test_as_number_rejects_what_is_not_one_number(value):
    with pytest.raises(Incorrect):
        as_number(value)


def _exits(x):
    exit(1)


def _raises_system_exit(x):
    raise SystemExit("stop")


@pytest.mark.parametrize("answer", [_exits, _raises_system_exit, lambda x: sys.exit()])
def test_an_answer_that_exits_gets_a_verdict_and_the_check_goes_on(answer):
    outcome = double_check.evaluate(answer)  # the test itself would stop if SystemExit escaped
    assert outcome.status == INCORRECT and "exit()" in outcome.message and "return" in outcome.message


@exercise()
def _calls_the_answer_directly(answer):  # a check that calls the answer outside call()
    answer(0)


def test_exit_outside_call_is_also_a_verdict():
    outcome = _calls_the_answer_directly.evaluate(_exits)
    assert outcome.status == INCORRECT and "exit()" in outcome.message


def test_keyboard_interrupt_still_stops_the_check():
    def interrupted(x):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        double_check.evaluate(interrupted)


@pytest.mark.parametrize("message", ["Cannot copy out of meta tensor; no data!",
                                     '"addmm_impl_cpu_" not implemented for \'Half\''])
def test_a_library_not_implemented_error_is_reported_as_it_is_not_as_a_misspelling(message):
    def library_error(x):
        raise NotImplementedError(message)

    outcome = double_check.evaluate(library_error)
    assert outcome.status == INCORRECT
    assert message[:30] in outcome.message and "misspelled" not in outcome.message
    assert "not the exercise's placeholder" in outcome.message


# ------------------------------------------------------------------ the libraries as they were
@exercise("Return a tensor equal to x.")
def copy_check(copy):
    x = torch.arange(3.0)
    expect(torch.equal(call(copy, x), x), "copy(x) should equal x.")


def _patch_equal(x):
    torch.equal = lambda a, b: True  # hostile: every comparison passes
    return torch.zeros(5)


def _add_a_tensor_method(x):
    torch.Tensor.mean = lambda self, *a, **k: torch.tensor(0.0)  # hides the inherited method
    return x.clone()


def test_an_answer_that_replaces_a_library_function_is_told_and_it_is_put_back():
    equal, mean = torch.equal, torch.Tensor.mean
    try:
        for answer, name in [(_patch_equal, "torch.equal"), (_add_a_tensor_method, "torch.Tensor.mean")]:
            outcome = copy_check.evaluate(answer)
            assert outcome.status == INCORRECT, outcome
            assert f"replaced {name} while the check ran" in outcome.message
            assert torch.equal is equal and torch.Tensor.mean is mean and "mean" not in vars(torch.Tensor)
        assert copy_check.evaluate(lambda x: x.clone()).status == CORRECT  # and judging works again
        assert copy_check.evaluate(lambda x: x + 1).status == INCORRECT
    finally:
        torch.equal = equal
        if "mean" in vars(torch.Tensor):
            del torch.Tensor.mean


def test_what_changes_by_itself_is_not_a_replacement():
    from helpers.checks import core

    core._TEST_CACHE = None  # a check module's cache, filled lazily while a check runs
    snapshot = core._snapshot()
    core._TEST_CACHE = {"filled": True}
    torch.optim.SGD.__test_dunder__ = 1  # a dunder added to a class (copy caches __slotnames__ so)
    try:
        assert core._put_back(snapshot) == []
    finally:
        del core._TEST_CACHE
        del torch.optim.SGD.__test_dunder__


def test_a_wrapper_counts_as_torchs_own_only_if_its_code_is_in_torch():
    import functools

    from helpers.checks import core

    original = torch.manual_seed

    @functools.wraps(original)
    def imitation(seed):  # keeps __wrapped__, but is not PyTorch's code
        return original(seed)

    snapshot = core._snapshot()
    torch.manual_seed = imitation
    try:
        assert core._put_back(snapshot) == ["torch.manual_seed"]
        assert torch.manual_seed is original
    finally:
        torch.manual_seed = original
