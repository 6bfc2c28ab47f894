"""Checks for exercises/03_batches_dataset_dataloader_exercises.ipynb."""

from __future__ import annotations

import contextlib
import copy
import functools
import math
import numbers
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, TensorDataset

from helpers.checks.core import (
    Incorrect,
    NotAttempted,
    as_number,
    close,
    describe,
    exercise,
    expect,
    expect_module,
    expect_tensor,
    seeded,
)
from helpers.checks.core import call as core_call
from helpers.data import CROP_INPUTS, CROP_TARGETS, load_crop_yields, load_mtcars

# ---------------------------------------------------------------- shared helpers


def _clip(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, cut at a word boundary (never inside a word)."""
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 4].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + " ..."


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """core.call, with the learner's error message shortened at a word boundary.

    core.call cuts a long error message in the middle of a word ("You can ...
    k around this"); here the message is rebuilt from the error itself and cut
    only between words, so the learner reads whole words.
    """
    try:
        return core_call(fn, *args, **kwargs)
    except Incorrect as wrong:
        error = wrong.__cause__
        if error is None or isinstance(error, NotImplementedError) or not str(wrong).startswith(
                "your code raised"):
            raise
        shown = ", ".join([describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()])
        raise Incorrect(f"your code raised {type(error).__name__}: {_clip(str(error), 240)} (called with "
                        f"{shown})") from error


def _own_random_state(check: Callable[..., None]) -> Callable[..., None]:
    """Run a check with a fixed seed on a copy of the random state.

    Checks build models and loop over DataLoaders (every loop draws a seed), so
    they seed themselves for repeatable verdicts, and they leave the learner's
    random state exactly as it was.
    """

    @functools.wraps(check)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        with seeded(0):
            check(*args, **kwargs)

    return wrapper


def _row_key(values: torch.Tensor) -> tuple[float, ...]:
    """A hashable key for one row of numbers (rounded, so float noise does not matter)."""
    return tuple(round(float(v), 4) for v in values.reshape(-1).tolist())


def _batches(loader: Any, name: str) -> list:
    """All batches of one pass over ``loader``, with the learner's errors reported."""
    try:
        iterator = iter(loader)
    except TypeError as error:
        raise Incorrect(f"{name} cannot be looped over ({error}); it should be a DataLoader.") from error
    return call(list, iterator)


def _pair(batch: Any, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    expect(isinstance(batch, (tuple, list)) and len(batch) == 2,
           f"each batch of {name} should be a pair (inputs, targets), got {describe(batch)}.")
    return batch[0], batch[1]

# ---------------------------------------------------------------- q1: a Dataset over a list of records


def _records_sets() -> list[tuple[str, list[dict], list[str], list[str], str]]:
    """Record lists to test a Dataset on: crops (keys in varying orders), mtcars, and held-back readings."""
    crops = load_crop_yields(15).to_dict("records")
    # Records from a feed need not list their keys in one order: every other one is reversed.
    crops = [dict(reversed(list(r.items()))) if i % 2 else r for i, r in enumerate(crops)]
    cars = load_mtcars().to_dict("records")
    with seeded(5):
        values = torch.randn(7, 3).mul(torch.tensor([3.0, 0.5, 20.0])).round(decimals=3).tolist()
    readings = [{"c": c, "station": 100 + i, "a": a, "note": "ok" if i % 3 else "check", "b": b}
                for i, (a, b, c) in enumerate(values)]  # ids are numbers here, and extra keys are ignored
    return [
        ("the crop records (input_keys=CROP_INPUTS, target_keys=CROP_TARGETS, id_key='region')", crops,
         CROP_INPUTS, CROP_TARGETS, "region"),
        ("the mtcars records (input_keys=['hp', 'wt', 'cyl'], target_keys=['mpg', 'qsec'], id_key='model')",
         cars, ["hp", "wt", "cyl"], ["mpg", "qsec"], "model"),
        ("the check's own 7 records (input_keys=['b', 'a'], target_keys=['c'], id_key='station')", readings,
         ["b", "a"], ["c"], "station"),
    ]


def _same_id(got: Any, expected: Any) -> bool:
    if isinstance(got, torch.Tensor):
        return got.numel() == 1 and not isinstance(expected, str) and got.item() == expected
    return bool(got == expected) and type(got) is not bool


def _written(fn: Any, arg: Any, method: str) -> Any:
    """call(fn, arg), naming ``method`` when it alone still holds the placeholder (__init__ already ran)."""
    try:
        return call(fn, arg)
    except NotAttempted:
        raise NotAttempted(f"{method} is still to write (your __init__ runs): replace its raise "
                           "NotImplementedError with your code, then run this cell again.") from None


@exercise(
    "records[i] is a dict: read each value by its key, record[key], in the order of input_keys "
    "(and target_keys), and turn the list of values into a float32 tensor.",
    "Convert once in __init__ (a list comprehension over the records per tensor), keep the ids in a "
    "list, and let __getitem__ return (self.inputs[i], self.targets[i], self.ids[i]).",
)
@_own_random_state
def q1(dataset_class: Any) -> None:
    """RecordDataset(records, input_keys, target_keys, id_key): item i = (inputs, targets, id) of record i."""
    if not isinstance(dataset_class, type) and (isinstance(dataset_class, Dataset) or (
            type(dataset_class).__module__ != "builtins" and hasattr(dataset_class, "__getitem__"))):
        raise Incorrect("pass the class itself, RecordDataset, not an object made from it: "
                        "the check creates its own from several lists of records.")
    expect(callable(dataset_class), f"expected a class such as RecordDataset, got {describe(dataset_class)}.")
    for label, records, input_keys, target_keys, id_key in _records_sets():
        given = copy.deepcopy(records)
        try:
            dataset = call(dataset_class, given, list(input_keys), list(target_keys), id_key)
        except Incorrect as error:
            if "negative stride" in str(error) or "stride in the given numpy array is negative" in str(error):
                raise Incorrect(
                    f"on {label}: torch.tensor(...) refused a NumPy array whose columns run backwards in memory "
                    "(\"at least one stride ... is negative\"). DataFrame(records)[keys].to_numpy() can give one "
                    "when the keys come in another order than the table's columns. Hand torch a fresh "
                    "copy: .to_numpy().copy(), or .to_numpy(dtype='float32')."
                ) from error
            extra = (" records is a list of dicts, one per row, not a DataFrame: frame[columns] does not "
                     "work on a list; read record[key] from each dict." if "list indices" in str(error) else "")
            said = str(error).split(" (called with ", 1)[0]  # the label already says what it was called with
            raise Incorrect(f"on {label}: {said}{extra}") from error
        expect(given == records, f"on {label}: your class changed the records it was given; leave them "
               "as they are.")
        n = _written(len, dataset, "__len__")
        expect(n == len(records), f"for {label} ({len(records)} records) len() gave {describe(n)}; it "
               "should be the number of records.")
        expect(hasattr(dataset, "__getitem__"), "your dataset has no __getitem__ method, so it "
               "cannot be indexed: define __getitem__(self, index).")
        for i in sorted({0, 1, n // 2, n - 1}):
            record = records[i]
            try:
                item = _written(dataset.__getitem__, i, "__getitem__")
            except Incorrect as error:
                raise Incorrect(f"on {label}, item {i}: {error}") from error
            expect(isinstance(item, (tuple, list)), f"item {i} should be a triple (inputs, targets, id), "
                   f"got {describe(item)}.")
            expect(len(item) == 3, f"item {i} has {len(item)} parts; it should be a triple "
                   f"(inputs, targets, id), the id being record[id_key], e.g. {describe(record[id_key])}.")
            x, y, name = item
            for value, what, keys in ((x, "inputs", input_keys), (y, "targets", target_keys)):
                expect_tensor(value, f"on {label} the {what} of item {i}")
                expect(tuple(value.shape) == (len(keys),),
                       f"on {label} the {what} of item {i} have shape {tuple(value.shape)}; expected "
                       f"({len(keys)},): one value per key of {keys}.")
                expect(value.dtype == torch.float32,
                       f"the {what} have dtype {value.dtype}, but a model's weights are float32 and refuse "
                       "other dtypes: make them float32 (dtype=torch.float32, or .float()).")
                wanted = torch.tensor([float(record[k]) for k in keys], dtype=torch.float64)
                got = value.detach().cpu().double()
                if not torch.allclose(got, wanted, rtol=1e-6, atol=1e-6):
                    if sorted(got.tolist()) == sorted(wanted.tolist()):
                        raise Incorrect(f"on {label} the {what} of item {i} hold the right values in another "
                                        f"order: keep the order of the keys given, {keys}.")
                    raise Incorrect(f"on {label} the {what} of item {i} are {describe(value)}, expected "
                                    f"{describe(wanted.float())}: record i's values for {keys}, read by key.")
            if not _same_id(name, record[id_key]):
                raise Incorrect(f"on {label} the id of item {i} is {describe(name)}; it should be "
                                f"record[id_key] as it is, {describe(record[id_key])}.")
        expect(given == records, f"on {label}: reading items from your dataset changed the records it was "
               "given; leave them as they are (read record[key], never pop or assign).")
    records = load_mtcars().to_dict("records")
    batch = next(iter(DataLoader(call(dataset_class, records, ["wt", "hp"], ["mpg"], "model"), batch_size=4)))
    expect(isinstance(batch, (tuple, list)) and len(batch) == 3,
           f"a DataLoader over your mtcars dataset gave batches of {describe(batch)}; expected three parts.")
    xb, yb, names = batch
    expect(tuple(xb.shape) == (4, 2) and tuple(yb.shape) == (4, 1),
           f"a DataLoader with batch_size=4 over your mtcars dataset gave batches of shapes "
           f"{tuple(xb.shape)} and {tuple(yb.shape)}; expected (4, 2) and (4, 1).")
    expect(list(names) == [r["model"] for r in records[:4]],
           f"the ids of the first batch are {describe(names)}; expected the first four car models.")

# ---------------------------------------------------------------- q2: the batches of an epoch, by arithmetic


def _refuse(name: str) -> Callable[..., None]:
    def refuse(*_: Any, **__: Any) -> None:
        raise RuntimeError(f"{name} is disabled in this exercise: work the numbers out with arithmetic")
    return refuse


@contextlib.contextmanager
def _no_loaders() -> Iterator[None]:
    """Disable DataLoader and BatchSampler (however they were imported) while the answer runs."""
    with contextlib.ExitStack() as stack:
        for cls in (DataLoader, BatchSampler):
            stack.enter_context(mock.patch.object(cls, "__init__", _refuse(f"{cls.__name__}(...)")))
        yield


def _plan(n: int, size: int, drop_last: bool) -> tuple[int, int]:
    if drop_last:
        return n // size, (size if n >= size else 0)
    return math.ceil(n / size), (n - (math.ceil(n / size) - 1) * size if n else 0)


def _whole(value: Any, shown: str, what: str, advice: str = "") -> int:
    """A whole number from the answer: a Python or NumPy number, or a one-element tensor or array."""
    size = value.numel() if isinstance(value, torch.Tensor) else value.size if isinstance(value, np.ndarray) else 0
    if size == 1:
        value = value.item()  # a 0-d integer tensor (torch arithmetic) is a whole number too
    expect(isinstance(value, numbers.Real) and not isinstance(value, bool),
           f"{shown} gave {describe(value)} as {what}; it should be a whole number.")
    expect(math.isfinite(value), f"{shown} gave {value} as {what}; it should be a whole number.")
    expect(value == int(value), f"{shown} gave {value} as {what}, not a whole number{advice}.")
    return int(value)


@exercise(
    "A last, smaller batch still counts as a batch, unless drop_last=True drops it. What is left over "
    "after the full batches is the size of that last batch.",
    "Careful with the edges: when batch_size divides n_samples the last batch is full, and with "
    "drop_last=True and fewer samples than batch_size there is no batch at all.",
)
@_own_random_state
def q2(epoch_plan: Any) -> None:
    """epoch_plan(n_samples, batch_size, drop_last) -> (number of batches, size of the last batch)."""
    cases = [(15, 5, False), (15, 4, False), (15, 4, True), (1000, 64, False), (1000, 64, True),
             (10, 3, True), (64, 64, False), (64, 64, True), (3, 5, False), (3, 5, True), (1, 1, True)]
    results = []
    with _no_loaders():
        for n, size, drop_last in cases:
            shown = f"epoch_plan({n}, {size}, drop_last={drop_last})"
            got = call(epoch_plan, n, size, drop_last)
            if isinstance(got, (torch.Tensor, np.ndarray)) and tuple(got.shape) == (2,):
                got = got.tolist()  # two whole numbers in an array are a pair too
            expect(isinstance(got, (tuple, list)) and len(got) == 2,
                   f"{shown} returned {describe(got)}; return a pair (number of batches, size of the last "
                   "batch).")
            rounding = ": round up or down, depending on drop_last"
            count = _whole(got[0], shown, "the number of batches", rounding)
            last = _whole(got[1], shown, "the last size", rounding)
            results.append((n, size, drop_last, (count, last), _plan(n, size, drop_last)))
    wrong = [r for r in results if r[3] != r[4]]
    if not wrong:
        return
    counts_right = all(got[0] == want[0] for *_, got, want in results)
    # A cause is named only when the answer follows that wrong rule on every case tried.
    if not counts_right:
        if all(got[0] == n // size for n, size, _, got, _ in results):
            raise Incorrect("the number of batches is always rounded down (n_samples // batch_size), but "
                            "without drop_last the leftover samples still make a last, smaller batch.")
        if all(got[0] == math.ceil(n / size) for n, size, _, got, _ in results):
            raise Incorrect("the number of batches is always rounded up, but drop_last=True drops the "
                            "incomplete last batch.")
        if all(got[0] == (n // size if drop_last else n // size + 1) for n, size, drop_last, got, _ in results):
            raise Incorrect("without drop_last your count adds one batch to n_samples // batch_size even when "
                            "batch_size divides n_samples exactly (15 samples in batches of 5 make 3, not 4).")
    elif all(got[1] == (n % size if not drop_last else want[1]) for n, size, drop_last, got, want in results):
        raise Incorrect("without drop_last your last size is n_samples % batch_size, which is 0 when batch_size "
                        "divides n_samples; then the last batch is a full one (64 samples in batches of 64: "
                        "one batch of 64).")
    n, size, drop_last, got, want = wrong[0]
    raise Incorrect(f"epoch_plan({n}, {size}, drop_last={drop_last}) returned {got}, expected {want}.")

# ---------------------------------------------------------------- q3: a training and an evaluation loader


def _numbered(n: int) -> TensorDataset:
    """A dataset whose targets are the row numbers, so that every batch says which rows it holds."""
    with seeded(n):
        inputs = torch.randn(n, 2)
    return TensorDataset(inputs, torch.arange(n, dtype=torch.float32).reshape(n, 1))


def _pass_rows(loader: Any, name: str, n: int) -> list[list[int]]:
    """The row numbers in each batch of one pass over ``loader`` (over a :func:`_numbered` dataset)."""
    rows = []
    for batch in _batches(loader, name):
        _, yb = _pair(batch, name)
        expect_tensor(yb, f"the targets of a batch of {name}")
        found = [int(v) for v in yb.reshape(-1).tolist()]
        expect(all(0 <= i < n for i in found), f"{name} yields samples that are not from the dataset it was "
               "given: build both loaders over `dataset`.")
        rows.append(found)
    return rows


@exercise(
    "Training: batches of exactly batch_size, reshuffled every epoch. Which DataLoader argument drops a "
    "short last batch, and what does it leave when the whole data set is smaller than one batch?",
    "Evaluation: every sample once, in the dataset's order, so keep shuffle=False and drop_last=False.",
)
@_own_random_state
def q3(make_loaders: Any) -> None:
    """make_loaders(dataset, batch_size) -> (train_loader, eval_loader)."""
    for n, size in ((15, 4), (12, 4), (3, 8)):
        shown = f"make_loaders(<dataset of {n} samples>, batch_size={size})"
        result = call(make_loaders, _numbered(n), size)
        expect(isinstance(result, (tuple, list)) and len(result) == 2,
               f"{shown} returned {describe(result)}; return (train_loader, eval_loader).")
        train_loader, eval_loader = result
        for loader, name in ((train_loader, "train_loader"), (eval_loader, "eval_loader")):
            expect(isinstance(loader, DataLoader),
                   f"{shown}: {name} should be a torch.utils.data.DataLoader, got {describe(loader)}.")
        epochs = [_pass_rows(train_loader, "train_loader", n) for _ in range(3)]
        sizes = [len(batch) for batch in epochs[0]]
        if n < size:
            expect(sizes, f"{shown}: train_loader gave no batch at all, so a training loop would never update "
                   f"the model. With fewer samples ({n}) than batch_size there is no full batch: train on "
                   "one batch of all of them.")
            expect(sizes == [n], f"{shown}: train_loader gave batches of sizes {sizes}; with fewer samples "
                   f"than batch_size, one batch of all {n} is the most one update can use.")
        else:
            expect(sizes, f"{shown}: train_loader gave no batch at all.")
            if sizes[-1] < size and all(s == size for s in sizes[:-1]):
                raise Incorrect(f"{shown}: train_loader gave batches of sizes {sizes}: the last one is short. "
                                "Every training batch should hold exactly batch_size samples.")
            expect(all(s == size for s in sizes),
                   f"{shown}: train_loader gave batches of sizes {sizes}; each should hold {size}.")
            expect(len(sizes) == n // size, f"{shown}: train_loader gave {len(sizes)} batches of {size}; "
                   f"{n} samples make {n // size} full batches.")
        for epoch in epochs:
            flat = [i for batch in epoch for i in batch]
            expect(len(flat) == len(set(flat)), f"{shown}: train_loader serves a sample twice in one epoch.")
        orders = {tuple(i for batch in epoch for i in batch) for epoch in epochs}
        expect(n < size or len(orders) > 1, f"{shown}: train_loader serves the samples in the same order "
               "every epoch; training batches should be reshuffled every epoch.")
        batches = _pass_rows(eval_loader, "eval_loader", n)
        flat = [i for batch in batches for i in batch]
        expect(all(len(batch) <= size for batch in batches),
               f"{shown}: eval_loader gave batches of sizes {[len(b) for b in batches]}; none may hold more "
               f"than batch_size = {size} samples.")
        if sorted(flat) == list(range(n)) and flat != list(range(n)):
            raise Incorrect(f"{shown}: eval_loader serves every sample once but out of order, so its "
                            "predictions would not line up with the dataset's rows: do not shuffle it.")
        missing = n - len(set(flat))
        expect(missing == 0 or len(flat) != len(set(flat)),
               f"{shown}: eval_loader skips {missing} of the {n} samples: an evaluation must count every "
               "sample.")
        expect(flat == list(range(n)), f"{shown}: one pass of eval_loader served rows {describe(flat)}; "
               f"expected each of the {n} rows once, in order.")

# ---------------------------------------------------------------- q4: repair a training loader (debugging)


def _fuel_frames() -> list[tuple[pd.DataFrame, int]]:
    """mtcars, and the check's own table of 10 cars with the same columns (held back)."""
    cars = load_mtcars()
    with seeded(9):
        wt = (2 + 3 * torch.rand(10)).double().round(decimals=3)
        hp = torch.randint(60, 300, (10,))
        mpg = (45 - 5 * wt - 0.03 * hp.double() + torch.rand(10).double()).round(decimals=1)
    own = pd.DataFrame({"model": [f"car {i}" for i in range(10)], "hp": hp.numpy(), "mpg": mpg.numpy(),
                        "wt": wt.numpy()})
    return [(cars, 8), (cars, 5), (own, 4)]


@exercise(
    "Run the snippet: one problem raises an error (read its dtype), one is a shape that broadcasts, "
    "and one you only see by comparing a batch with the table: does each car keep its own mpg?",
    "Two loaders shuffle independently. Put inputs and targets in one TensorDataset and one DataLoader, "
    "as float32 tensors, with the targets of shape (N, 1).",
)
@_own_random_state
def q4(fuel_loader: Any) -> None:
    """fuel_loader(frame, batch_size): a reshuffled loader of (inputs [wt, hp] (b, 2), mpg (b, 1)), float32."""
    for frame, size in _fuel_frames():
        shown = f"fuel_loader(<table of {len(frame)} cars>, {size})"
        loader = call(fuel_loader, frame.copy(), size)
        expected_x = torch.tensor(frame[["wt", "hp"]].to_numpy(dtype="float64"), dtype=torch.float32)
        mpg = frame["mpg"].tolist()
        expected = Counter((_row_key(x), round(float(m), 4)) for x, m in zip(expected_x, mpg, strict=True))
        orders, groupings = [], []
        for epoch in range(3):
            batches = _batches(loader, shown)
            if epoch and not batches:
                raise Incorrect(f"the second pass over {shown} gave no batches: it is used up after one pass "
                                "(a zip or an iterator is). A training loader is looped over once per epoch: "
                                "return a DataLoader.")
            expect(batches, f"{shown} yielded no batches.")
            pairs = []
            for k, batch in enumerate(batches):
                xb, yb = _pair(batch, shown)
                expect_tensor(xb, f"the inputs of batch {k}")
                expect_tensor(yb, f"the targets of batch {k}")
                b = len(xb)
                expect(tuple(xb.shape) == (b, 2),
                       f"the inputs of a batch have shape {tuple(xb.shape)}; expected ({b}, 2): wt and hp.")
                if tuple(yb.shape) == (b,):
                    raise Incorrect(f"the targets of a batch have shape ({b},) but nn.Linear(2, 1) outputs "
                                    f"({b}, 1): predictions - targets would broadcast to ({b}, {b}) and the "
                                    f"loss would compare every car with every other. Make the targets ({b}, 1).")
                expect(tuple(yb.shape) == (b, 1),
                       f"the targets of a batch have shape {tuple(yb.shape)}; expected ({b}, 1): one column, mpg.")
                for value, what in ((xb, "inputs"), (yb, "targets")):
                    expect(value.dtype == torch.float32,
                           f"the {what} have dtype {value.dtype}; they must be float32 like the model's "
                           "weights (dtype=torch.float32, or .float()).")
                expect(b <= size and (b == size or k == len(batches) - 1),
                       f"{shown} gave a batch of {b} samples; batches should hold batch_size = {size} "
                       "(only the last may be smaller).")
                pairs += [(_row_key(x), round(float(y), 4)) for x, y in zip(xb, yb, strict=True)]
            if Counter(pairs) != expected:
                inputs_seen = Counter(key for key, _ in pairs)
                targets_seen = Counter(m for _, m in pairs)
                expect(len(pairs) == len(frame), f"one pass of {shown} gave {len(pairs)} samples, but the "
                       f"table has {len(frame)} cars: keep every car.")
                if inputs_seen == Counter(key for key, _ in expected) and targets_seen == Counter(
                        m for _, m in expected):
                    raise Incorrect("every car's inputs and every mpg value are there, but not together: a "
                                    "batch pairs the inputs of some cars with the mpg of others. Two loaders "
                                    "shuffle independently; keep inputs and targets in one dataset.")
                swapped = Counter((key[::-1], m) for key, m in pairs)
                if swapped == expected:
                    raise Incorrect("the inputs hold hp then wt; the columns should be in the order "
                                    "['wt', 'hp'].")
                raise Incorrect(f"the (inputs, mpg) pairs of {shown} do not match the table's rows.")
            orders.append(tuple(key for key, _ in pairs))
            groupings.append(frozenset(frozenset(map(_row_key, xb)) for xb, _ in batches))
        expect(len(set(orders)) > 1, f"{shown} serves the cars in the same order every pass; a training "
               "loader should reshuffle them every epoch.")
        expect(len(groupings[0]) == 1 or len(set(groupings)) > 1,
               f"in three passes over {shown} every batch held the same cars: only the order of the batches "
               "changed. Shuffle the cars themselves, so that each pass groups them into new batches.")

# ---------------------------------------------------------------- q5: a weighted training epoch (debugging)


def _weighted_data(seed: int) -> DataLoader:
    """Batches of 4, 4 and 2 samples: inputs (b, 3), targets (b, 1) and weights (b,), as a loader yields them."""
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(10, 3, generator=generator)
    y = X @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3 * torch.randn(10, 1, generator=generator)
    w = 0.25 + 3 * torch.rand(10, generator=generator)  # weights of very different sizes
    return DataLoader(TensorDataset(X, y, w), batch_size=4, shuffle=False)


def _weighted_reference(model: nn.Module, loader: DataLoader, lr: float, variant: str = "right"
                        ) -> tuple[list[float], list[float]]:
    """One epoch by a known rule; returns each batch's loss (before its update) and weight total."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses, weights = [], []
    for xb, yb, wb in loader:
        errors = (model(xb) - yb) ** 2
        if variant == "broadcast":
            loss = (wb * errors).sum() / wb.sum()  # (b,) * (b, 1) -> (b, b)
        elif variant == "unweighted":
            loss = errors.mean()
        else:
            loss = (wb.unsqueeze(1) * errors).sum() / wb.sum()
        if variant != "no zero_grad":
            optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        weights.append(wb.sum().item())
    return losses, weights


def _fresh_linear(seed: int, n_outputs: int) -> nn.Linear:
    with seeded(seed):
        return nn.Linear(3, n_outputs)


def _same_parameters(a: nn.Module, b: nn.Module, atol: float = 1e-5) -> bool:
    pairs = zip(a.parameters(), b.parameters(), strict=True)
    return all(torch.allclose(p, q, atol=atol, rtol=0) for p, q in pairs)


@exercise(
    "Run the broken version and watch the model's parameters: do they change? Then print the shapes of "
    "wb and of the squared errors inside the loop.",
    "The epoch's value is a mean over samples weighted by w: add up each batch's loss times its total "
    "weight, and divide by the total weight of the epoch.",
)
@_own_random_state
def q5(train_weighted_epoch: Any) -> None:
    """train_weighted_epoch(model, optimizer, loader) -> the epoch's weighted MSE; one update per batch."""
    lr = 0.05
    for data_seed in (3, 4):
        loader = _weighted_data(data_seed)
        model = _fresh_linear(7, 1)
        start = copy.deepcopy(model)
        references = {variant: copy.deepcopy(model) for variant in
                      ("right", "broadcast", "unweighted", "no zero_grad")}
        # The references run on loaders of their own, before the answer: it cannot change what they see.
        runs = {variant: _weighted_reference(net, _weighted_data(data_seed), lr, variant)
                for variant, net in references.items()}
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        result = call(train_weighted_epoch, model, optimizer, loader)
        pristine = _weighted_data(data_seed).dataset.tensors
        expect(all(torch.equal(a, b) for a, b in zip(loader.dataset.tensors, pristine, strict=True)),
               "train_weighted_epoch changed the data behind the loader (its inputs, targets or weights) in "
               "place; a training epoch only reads them.")
        if _same_parameters(model, start, atol=0):
            raise Incorrect("the model's parameters did not change during the epoch. An update needs, for "
                            "every batch, loss.backward() (it fills the gradients) and then optimizer.step() "
                            "(it uses them), with optimizer.zero_grad() before backward(), never between "
                            "backward() and step().")
        if not _same_parameters(model, references["right"]):
            if _same_parameters(model, references["broadcast"]):
                raise Incorrect("the updates follow a loss in which wb (shape (b,)) times the squared errors "
                                "(shape (b, 1)) broadcasts to (b, b): every weight multiplies every sample's "
                                "error. Give wb the shape (b, 1) first.")
            if _same_parameters(model, references["unweighted"]):
                raise Incorrect("the updates follow the plain mean squared error: the weights were ignored.")
            if _same_parameters(model, references["no zero_grad"]):
                raise Incorrect("the gradients pile up from batch to batch: call optimizer.zero_grad() "
                                "before loss.backward() for every batch.")
            raise Incorrect("after one epoch the parameters differ from one correct pass: for each batch, "
                            "the weighted loss sum(w * (prediction - y)^2) / sum(w), then zero_grad, backward, "
                            "step, once.")
        expect(result is not None, "train_weighted_epoch returned None: return the epoch's weighted MSE.")
        value = as_number(result, "the value train_weighted_epoch returned")
        losses, weights = runs["right"]
        wanted = sum(loss * w for loss, w in zip(losses, weights, strict=True)) / sum(weights)
        if math.isclose(value, wanted, rel_tol=1e-4):
            continue
        if math.isclose(value, sum(losses) / len(losses), rel_tol=1e-4):
            raise Incorrect("you returned the mean of the batch losses, which gives every batch the same say; "
                            "the batches hold different total weights (the last one only 2 samples): weight "
                            "each batch's loss by its total weight and divide by the total weight.")
        sizes = [4, 4, 2]
        if math.isclose(value, sum(loss * s for loss, s in zip(losses, sizes, strict=True)) / 10, rel_tol=1e-4):
            raise Incorrect("you weighted each batch's loss by its number of samples; for a weighted mean, "
                            "weight it by the batch's total weight, sum(wb), and divide by the total weight.")
        if math.isclose(value, losses[-1], rel_tol=1e-4):
            raise Incorrect("you returned the loss of the last batch only; return the weighted mean over the "
                            "whole epoch.")
        raise Incorrect(f"train_weighted_epoch returned {value:.4f}; the epoch's weighted MSE (each batch "
                        f"measured before its update) was {wanted:.4f}.")

# ---------------------------------------------------------------- q6: a split with training-only statistics


def _split_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs on three different scales; targets whose first column is the row number."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 3, generator=generator) * torch.tensor([10.0, 100.0, 1.0]) + torch.tensor(
        [50.0, 500.0, -3.0])
    targets = torch.stack([torch.arange(n, dtype=torch.float32), inputs[:, 0] / 10], dim=1)
    return inputs, targets


def _items(part: Any, name: str, n_features: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All (inputs, targets) items of a dataset, stacked, in float64."""
    size = call(len, part)
    xs, ys = [], []
    for i in range(size):
        item = call(part.__getitem__, i)
        x, y = _pair(item, name)
        expect_tensor(x, f"the inputs of item {i} of {name}")
        expect_tensor(y, f"the targets of item {i} of {name}")
        expect(tuple(x.shape) == (n_features,),
               f"the inputs of item {i} of {name} have shape {tuple(x.shape)}; expected ({n_features},).")
        expect(x.dtype.is_floating_point, f"the inputs of {name} have dtype {x.dtype}; standardised "
               "inputs are floats.")
        xs.append(x.detach().cpu().double())
        ys.append(y.detach().cpu().double().reshape(-1))
    return torch.stack(xs), torch.stack(ys)


def _standardised(raw: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    return (raw - mean) / std


def _stats(raw: torch.Tensor, ddof: int) -> tuple[torch.Tensor, torch.Tensor]:
    return raw.mean(dim=0), raw.std(dim=0, correction=ddof)


def _split_rows(result: Any, n: int, n_val: int, inputs: torch.Tensor, targets: torch.Tensor, label: str
                ) -> tuple[list[int], list[int], torch.Tensor, torch.Tensor]:
    expect(isinstance(result, (tuple, list)) and len(result) == 2,
           f"split_standardise returned {describe(result)}; return two datasets, (train_ds, val_ds).")
    train_ds, val_ds = result
    for part, name in ((train_ds, "train_ds"), (val_ds, "val_ds")):
        expect(hasattr(part, "__len__") and hasattr(part, "__getitem__"),
               f"{name} is {describe(part)}; it should be a dataset (something with len() and indexing).")
    n_train_got, n_val_got = call(len, train_ds), call(len, val_ds)
    if (n_train_got, n_val_got) == (n_val, n - n_val) and n_val != n - n_val:
        raise Incorrect(f"{label}: train_ds has {n_train_got} rows and val_ds {n_val_got}: the two are "
                        "swapped. Return (train_ds, val_ds), with n_val rows in val_ds.")
    expect((n_train_got, n_val_got) == (n - n_val, n_val),
           f"{label}: train_ds has {describe(n_train_got)} rows and val_ds {describe(n_val_got)}; "
           f"expected {n - n_val} and {n_val}.")
    x_train, y_train = _items(train_ds, "train_ds", inputs.shape[1])
    x_val, y_val = _items(val_ds, "val_ds", inputs.shape[1])
    all_targets = targets.double()
    rows = {}
    for which, ys in (("train_ds", y_train), ("val_ds", y_val)):
        found = []
        for k, y in enumerate(ys):
            if y.shape != all_targets[0].shape:
                raise Incorrect(f"the targets of item {k} of {which} have {y.numel()} values; each row of "
                                f"targets has {all_targets.shape[1]}. Keep the targets as they are.")
            match = torch.nonzero(torch.all(torch.isclose(all_targets, y, rtol=1e-6, atol=1e-6), dim=1))
            if len(match) == 0:
                raise Incorrect(f"the targets of item {k} of {which} ({describe(y)}) are not a row of "
                                "targets: keep the targets as they are (standardise only the inputs).")
            found.append(int(match[0]))
        rows[which] = found
    train_rows, val_rows = rows["train_ds"], rows["val_ds"]
    both = set(train_rows) & set(val_rows)
    expect(not both, f"{label}: {len(both)} row(s) are in both train_ds and val_ds; each row belongs to "
           "exactly one of them.")
    expect(len(set(train_rows) | set(val_rows)) == n,
           f"{label}: some rows appear twice and others not at all; every row should be used once.")
    return train_rows, val_rows, x_train, x_val


@exercise(
    "Split the row numbers first, not the data: random_split over range(len(inputs)) (or torch.randperm), "
    "with a torch.Generator seeded with seed, gives the training rows and the validation rows.",
    "Compute the mean and the std per column (dim=0) of the training rows only, apply (x - mean) / std to "
    "the inputs of both parts, and pair each part with its targets in a dataset (TensorDataset).",
)
@_own_random_state
def q6(split_standardise: Any) -> None:
    """split_standardise(inputs, targets, n_val, seed) -> (train_ds, val_ds), inputs standardised
    with the mean and std of the training rows only; a random split that depends on ``seed``."""
    splits = {}
    for n, n_val, seed, data_seed in ((40, 10, 0, 1), (24, 4, 1, 2)):
        inputs, targets = _split_data(n, data_seed)
        label = f"split_standardise(<{n} rows>, n_val={n_val}, seed={seed})"
        result = call(split_standardise, inputs, targets, n_val, seed)
        train_rows, val_rows, x_train, x_val = _split_rows(result, n, n_val, inputs, targets, label)
        raw = inputs.double()
        raw_train, raw_val = raw[train_rows], raw[val_rows]
        tol = 1e-4  # float32 rounding of values of size about 1 is about 1e-7; any dtype passes
        matched = None
        for ddof in (1, 0):  # torch's std (n - 1) and NumPy's (n): both are a standard deviation
            mean, std = _stats(raw_train, ddof)
            if torch.allclose(x_train, _standardised(raw_train, mean, std), atol=tol, rtol=0):
                matched = (mean, std)
                break
        if matched is None:
            all_stats = [_stats(raw, ddof) for ddof in (1, 0)]
            leaked = (torch.allclose(x_train, _standardised(raw_train, m, s), atol=tol, rtol=0)
                      for m, s in all_stats)
            if any(leaked):
                raise Incorrect(f"{label}: the inputs were standardised with the mean and std of all the "
                                "rows, validation rows included. Compute them from the training rows only.")
            if torch.allclose(x_train, raw_train, atol=tol, rtol=0):
                raise Incorrect(f"{label}: the training inputs are the raw inputs; standardise them, "
                                "(x - mean) / std.")
            raise Incorrect(f"{label}: the training inputs are not (x - mean) / std with the mean and "
                            "standard deviation of the training rows (per column, dim=0).")
        mean, std = matched
        if not torch.allclose(x_val, _standardised(raw_val, mean, std), atol=tol, rtol=0):
            own = [_stats(raw_val, ddof) for ddof in (1, 0)]
            if any(torch.allclose(x_val, _standardised(raw_val, m, s), atol=tol, rtol=0) for m, s in own):
                raise Incorrect(f"{label}: the validation inputs were standardised with their own mean and "
                                "std. Use the training statistics for them too: the model only knows those.")
            if torch.allclose(x_val, raw_val, atol=tol, rtol=0):
                raise Incorrect(f"{label}: the validation inputs are still raw; standardise them with the "
                                "training mean and std.")
            raise Incorrect(f"{label}: the validation inputs are not (x - mean) / std with the training "
                            "mean and std.")
        splits[(n, seed)] = sorted(val_rows)
    # The split must be random and repeatable: the same seed, the same split; other seeds, others.
    inputs, targets = _split_data(40, 1)
    again = _split_rows(call(split_standardise, inputs, targets, 10, 0), 40, 10, inputs, targets,
                        "split_standardise(..., seed=0) again")[1]
    expect(sorted(again) == splits[(40, 0)],
           "called twice with seed=0, split_standardise held out different rows: seed the split, e.g. "
           "random_split(..., generator=torch.Generator().manual_seed(seed)).")
    others = {tuple(sorted(_split_rows(call(split_standardise, inputs, targets, 10, seed), 40, 10, inputs,
                                       targets, f"split_standardise(..., seed={seed})")[1]))
              for seed in (1, 2, 3)}
    others.add(tuple(splits[(40, 0)]))
    expect(len(others) > 1, "seeds 0, 1, 2 and 3 all held out the same rows: the split should be random, "
           "drawn with a generator seeded with `seed`.")

# ---------------------------------------------------------------- q7: a network of any depth, and its size


def _parameter_count(n_inputs: int, hidden_sizes: list[int], n_outputs: int) -> int:
    sizes = [n_inputs, *hidden_sizes, n_outputs]
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:], strict=False))


def _weights_only(n_inputs: int, hidden_sizes: list[int], n_outputs: int) -> int:
    sizes = [n_inputs, *hidden_sizes, n_outputs]
    return sum(a * b for a, b in zip(sizes, sizes[1:], strict=False))


_NETWORK_CASES = [(3, [4], 2), (5, [], 3), (2, [16, 8], 1), (4, [3, 5, 3], 2)]
_COUNT_CASES = [*_NETWORK_CASES, (1, [1], 1), (784, [512, 512], 10), (1000, [4096, 4096, 4096], 1000)]


def _check_count(n_parameters: Any) -> None:
    """n_parameters by arithmetic: nn.Linear is disabled while it runs, so it cannot build and count."""
    with mock.patch.object(nn.Linear, "__init__", _refuse("nn.Linear(...)")):
        got = [(case, call(n_parameters, case[0], list(case[1]), case[2])) for case in _COUNT_CASES]
    counts = [_whole(value, f"n_parameters({i}, {h}, {o})", "the count") for (i, h, o), value in got]
    for (n_inputs, hidden, n_outputs), count in zip(_COUNT_CASES, counts, strict=True):
        shown = f"n_parameters({n_inputs}, {hidden}, {n_outputs})"
        wanted = _parameter_count(n_inputs, hidden, n_outputs)
        if count == wanted:
            continue
        if all(c == _weights_only(*case) for case, c in zip(_COUNT_CASES, counts, strict=True)):
            raise Incorrect(f"{shown} returned {count}: the weights only. Every Linear layer also has one "
                            "bias per output unit.")
        raise Incorrect(f"{shown} returned {count}, expected {wanted}.")


def _linear_calls(net: nn.Module, x: torch.Tensor) -> tuple[list[tuple[nn.Linear, torch.Tensor, torch.Tensor]],
                                                          Any]:
    """Run ``net`` on ``x`` and record every nn.Linear it applies, in order, with its input and output."""
    calls: list[tuple[nn.Linear, torch.Tensor, torch.Tensor]] = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: calls.append((mod, inp[0], out)))
             for m in net.modules() if isinstance(m, nn.Linear)]
    try:
        with torch.inference_mode():
            out = call(net, x)
    finally:
        for hook in hooks:
            hook.remove()
    return calls, out


def _after_layer(net: nn.Module, x: torch.Tensor, layer: nn.Linear, planted: torch.Tensor,
                 following: nn.Linear | None) -> torch.Tensor:
    """Run ``net`` with ``layer``'s output replaced by ``planted``; return the input of ``following``
    (or, when None, the network's output)."""
    received: list[torch.Tensor] = []
    hooks = [layer.register_forward_hook(lambda mod, inp, out: planted)]
    if following is not None:
        hooks.append(following.register_forward_pre_hook(lambda mod, inp: received.append(inp[0])))
    try:
        with torch.inference_mode():
            out = call(net, x)
    finally:
        for hook in hooks:
            hook.remove()
    return received[0] if following is not None else out


def _unregistered_layers(net: nn.Module) -> str:
    """Where ``net`` (or a part of it) keeps modules that are not registered in a plain list, tuple or
    dict attribute, e.g. "list (self.layers)"; "" when every module it holds is registered."""
    registered = {id(m) for m in net.modules()}
    for module in net.modules():
        for name, value in vars(module).items():
            if name.startswith("_") or not isinstance(value, (list, tuple, dict)):
                continue
            items = value.values() if isinstance(value, dict) else value
            if any(isinstance(v, nn.Module) and id(v) not in registered for v in items):
                return f"{type(value).__name__} (self.{name})"
    return ""


def _check_network(make_network: Any, n_inputs: int, hidden: list[int], n_outputs: int) -> None:
    shown = f"make_network({n_inputs}, {hidden}, {n_outputs})"
    with seeded(0):
        try:
            net = call(make_network, n_inputs, list(hidden), n_outputs)
        except Incorrect as error:
            if "TypeError" in str(error):
                raise Incorrect(f"{error} hidden_sizes is a list of layer sizes (here {hidden}), not one "
                                "number.") from error
            raise
    if isinstance(net, type) and issubclass(net, nn.Module):
        raise Incorrect(f"{shown} returned a class; return a network built from it.")
    net = expect_module(net, shown)
    hidden_away = _unregistered_layers(net)
    if hidden_away:
        raise Incorrect(f"{shown} keeps layers in a plain Python {hidden_away}, which nn.Module does not look "
                        "into: those layers are not registered, so net.parameters() does not find them (an "
                        "optimizer would never train them) and PyTorch does not see them as part of the network. "
                        "Keep them in nn.ModuleList(layers), or build an nn.Sequential.")
    net.eval()
    with seeded(1):
        half = 3 * torch.randn(32, n_inputs)
    x = torch.cat([half, -half])  # both signs everywhere: every activation has something to change
    calls, out = _linear_calls(net, x)
    expect_tensor(out, f"the output of {shown}")
    expect(tuple(out.shape) == (64, n_outputs),
           f"for inputs of shape (64, {n_inputs}) {shown} gave {tuple(out.shape)}; expected (64, {n_outputs}).")
    wanted = len(hidden) + 1
    expect(calls, f"{shown} applied no nn.Linear layer: build the layers from nn.Linear.")
    expect(len(calls) == wanted and len({id(m) for m, _, _ in calls}) == wanted,
           f"{shown} applied {len(calls)} Linear layer(s) ({len({id(m) for m, _, _ in calls})} different); "
           f"with {len(hidden)} hidden layer(s) it needs {wanted}, each used once.")
    sizes = [n_inputs, *hidden, n_outputs]
    for k, (layer, _, _) in enumerate(calls):
        expect((layer.in_features, layer.out_features) == (sizes[k], sizes[k + 1]),
               f"in {shown} Linear layer {k + 1} maps {layer.in_features} -> {layer.out_features} numbers; "
               f"expected {sizes[k]} -> {sizes[k + 1]}.")
    first_input = calls[0][1]
    expect(first_input.shape == x.shape and torch.allclose(first_input.detach().double(), x.double()),
           f"the first Linear layer of {shown} does not receive the network's inputs as they are: something "
           "before it (an activation? a scaling?) changes them. Start the network with its first Linear layer; "
           "activations go after the hidden layers only.")
    layers = [layer for layer, _, _ in calls]
    for k, layer in enumerate(layers):
        # Replace what layer k produces with numbers of both signs, and see what reaches the next step.
        with seeded(3 + k):
            planted = 3 * torch.randn(calls[k][2].shape)
        planted = planted.to(calls[k][2].dtype)  # a float64 network gets float64 numbers
        received = _after_layer(net, x, layer, planted, layers[k + 1] if k + 1 < len(layers) else None)
        if k + 1 < len(layers):
            if received.shape == planted.shape and torch.allclose(received, planted):
                raise Incorrect(f"in {shown} Linear layer {k + 2} receives exactly what Linear layer {k + 1} "
                                "produced: there is no activation between them, so the two collapse into one "
                                "linear map. Put a non-linear activation after every hidden layer.")
        elif not (received.shape == planted.shape and torch.allclose(received, planted)):
            raise Incorrect(f"the output of {shown} is not the output of its last Linear layer: something after "
                            "it (an activation?) changes the outputs, but a regression output can be any number.")
    count, wanted_count = sum(p.numel() for p in net.parameters()), _parameter_count(n_inputs, hidden, n_outputs)
    no_bias = [k + 1 for k, layer in enumerate(layers) if layer.bias is None]
    if no_bias:
        raise Incorrect(f"in {shown} Linear layer {no_bias[0]} has no bias (bias=False): keep the biases, the "
                        "default (bias=True), so that each layer can shift its outputs.")
    expect(count <= wanted_count, f"{shown} has {count} parameters; its Linear layers alone have {wanted_count}: "
           "nothing else should have parameters.")
    expect(count == wanted_count, f"{shown} has {count} parameters; its Linear layers should have {wanted_count}.")
    if hidden:
        with seeded(2):
            a, b = 3 * torch.randn(32, n_inputs), 3 * torch.randn(32, n_inputs)
        with torch.inference_mode():
            affine = torch.allclose(net(a) + net(b) - net(torch.zeros(32, n_inputs)), net(a + b), atol=1e-4)
        expect(not affine, f"{shown} is still a linear model: its outputs add up like a linear function's. "
               "The activations between the layers must be non-linear (ReLU, tanh, sigmoid, ...).")


@exercise(
    "Build the list of sizes [n_inputs, *hidden_sizes, n_outputs]; each neighbouring pair of sizes is one "
    "Linear layer. With no hidden size the list has two entries and the network is one Linear layer.",
    "nn.Sequential(*layers) accepts a Python list of layers unpacked with *. For the count: a Linear layer "
    "from a to b numbers has a * b weights and b biases.",
)
@_own_random_state
def q7(make_network: Any, n_parameters: Any) -> None:
    """make_network(n_inputs, hidden_sizes, n_outputs) and n_parameters(...) by arithmetic."""
    def judge_networks() -> None:
        for case in _NETWORK_CASES:
            _check_network(make_network, *case)

    still_to_write = []
    for name, judge in (("n_parameters", lambda: _check_count(n_parameters)), ("make_network", judge_networks)):
        try:
            judge()
        except NotAttempted:
            still_to_write.append(name)
    if len(still_to_write) == 1:
        done = "make_network" if still_to_write == ["n_parameters"] else "n_parameters"
        raise NotAttempted(f"{still_to_write[0]} is still to write ({done} passes its part of the check): "
                           "replace its raise NotImplementedError with your code, then run this cell again.")
    if still_to_write:
        raise NotAttempted

# ---------------------------------------------------------------- q8: hold out whole groups


def _groups_a() -> list[str]:
    counts = {"farm A": 3, "farm B": 2, "farm C": 6, "farm D": 3, "farm E": 1, "farm F": 4, "farm G": 3}
    labels = [name for name, count in counts.items() for _ in range(count)]
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(4)).tolist()
    return [labels[i] for i in order]  # rows of one farm are scattered through the table


def _groups_b() -> np.ndarray:
    return np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4])


class _SaltedName(str):
    """A group name that equals, prints and sorts like the plain string, but hashes with a salt.

    Python gives every string a new hash value in every new session (PYTHONHASHSEED), and
    the order of a set of strings follows those values: ``list(set(names))`` comes out in
    another order after a restart. Handing the answer names salted differently from call to
    call does within one session what a restart does. (A fixed checksum, not hash(), so the
    check's verdict is the same in every session.)
    """

    salt: int

    def __new__(cls, text: str, salt: int = 0) -> _SaltedName:
        name = super().__new__(cls, text)
        name.salt = salt
        return name

    def __hash__(self) -> int:
        return zlib.crc32(f"{self.salt}|{str(self)}".encode())


def _indices(value: Any, which: str) -> list[int]:
    if isinstance(value, torch.Tensor):
        value = value.tolist()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    try:
        rows = list(value)
    except TypeError as error:
        raise Incorrect(f"{which} is {describe(value)}; return a list of row numbers.") from error
    expect(all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in rows),
           f"{which} should hold row numbers (whole numbers), got {describe(rows)}.")
    return [int(i) for i in rows]


def _group_split(fn: Any, groups: Any, min_val_rows: int, seed: int) -> tuple[list[int], list[int]]:
    labels = np.asarray(groups).tolist()
    sizes = Counter(labels)
    shown = f"group_split(<{len(labels)} rows, {len(sizes)} groups>, min_val_rows={min_val_rows}, seed={seed})"
    given = list(groups) if isinstance(groups, list) else groups.copy()
    result = call(fn, given, min_val_rows, seed)
    expect(np.asarray(given).tolist() == labels,
           f"{shown} changed `groups` in place (sorted or shuffled it?), so row i no longer names the group of "
           "row i. Leave it as it is: sorted(...) and np.unique(...) return new lists.")
    expect(isinstance(result, (tuple, list)) and len(result) == 2,
           f"{shown} returned {describe(result)}; return (train_rows, val_rows).")
    train, val = _indices(result[0], "train_rows"), _indices(result[1], "val_rows")
    n = len(labels)
    expect(len(train) == len(set(train)) and len(val) == len(set(val)),
           f"{shown}: a row number appears twice in one part.")
    expect(all(0 <= i < n for i in train + val), f"{shown}: some row numbers are outside 0..{n - 1}.")
    expect(not set(train) & set(val), f"{shown}: rows {sorted(set(train) & set(val))[:5]} are in both parts.")
    expect(len(train) + len(val) == n, f"{shown}: {n - len(train) - len(val)} row(s) are in neither part; "
           "every row goes to one of them.")
    in_val = set(val)
    for group in sizes:
        sides = {i in in_val for i, g in enumerate(labels) if g == group}
        if len(sides) == 2:
            raise Incorrect(f"{shown}: group {group!r} has rows in both train_rows and val_rows, so the "
                            "validation rows have near-twins in training. Hold out whole groups.")

    def drawn_right(rows: list[int]) -> bool:  # enough rows, and not enough without the part's largest group
        return len(rows) >= min_val_rows and len(rows) - max(sizes[labels[i]] for i in rows) < min_val_rows

    if train and drawn_right(train) and not drawn_right(val):
        raise Incorrect(f"{shown}: train_rows ({len(train)} rows) is what val_rows should be, and val_rows "
                        f"({len(val)} rows) holds the rest: the two are swapped. Return (train_rows, val_rows).")
    expect(len(val) >= min_val_rows, f"{shown}: val_rows holds {len(val)} rows, fewer than "
           f"min_val_rows={min_val_rows}.")
    val_groups = {labels[i] for i in val}
    largest = max(sizes[g] for g in val_groups)
    expect(len(val) - largest < min_val_rows,
           f"{shown}: val_rows holds {len(val)} rows of {len(val_groups)} groups; even without its largest "
           f"group ({largest} rows) it would hold {len(val) - largest} >= {min_val_rows}. Stop drawing groups "
           "as soon as the validation rows reach min_val_rows.")
    return sorted(train), sorted(val)


def _same_after_restart(group_split: Any, first: tuple[list[int], list[int]]) -> None:
    """The split for seed 0 must not depend on the hash values of the names (they change between sessions)."""
    splits = {tuple(first[1])}
    for salt in range(1, 5):
        for kind in (list, functools.partial(np.array, dtype=object)):
            groups = kind([_SaltedName(name, salt) for name in _groups_a()])
            try:
                splits.add(tuple(_group_split(group_split, groups, 5, 0)[1]))
            except Incorrect:
                return  # the answer cannot take these names (it mixes them with plain ones?): no evidence
    expect(len(splits) == 1,
           "with seed=0, group_split held out different farms when only the hash values of the names changed "
           "(the check changes them, as every new Python session does). The order of a set of names is not "
           "stable between sessions: after a kernel restart your split would change. Sort the names "
           "before drawing from them.")


@exercise(
    "Work with the distinct group names in a fixed order (sorted: a set's order changes from one Python "
    "session to the next); put them in a random order drawn with a generator seeded with seed "
    "(torch.randperm), then walk along that order.",
    "Count the rows of each group (a dict, or collections.Counter); move groups to validation one by one "
    "and stop once their rows add up to min_val_rows or more.",
)
@_own_random_state
def q8(group_split: Any) -> None:
    """group_split(groups, min_val_rows, seed) -> (train_rows, val_rows): random whole groups, enough rows."""
    try:
        first = _group_split(group_split, _groups_a(), 5, 0)
    except Incorrect as on_list:
        # The same names in a NumPy array: if that works, the trouble is the plain list.
        try:
            _group_split(group_split, np.asarray(_groups_a()), 5, 0)
        except (Incorrect, NotAttempted):
            raise on_list from None
        raise Incorrect(f"group_split works when groups is a NumPy array, but not when it is a plain list of "
                        f"names, as the check also passes it ({_clip(str(on_list), 200)}). Some operations "
                        "work row by row only on a NumPy array: on a list, `groups == name` gives one False, "
                        "not one answer per row. np.asarray(groups) makes an array of either.") from None
    _group_split(group_split, _groups_b(), 6, 1)
    _group_split(group_split, _groups_a(), 1, 2)
    expect(_group_split(group_split, _groups_a(), 5, 0) == first,
           "called twice with seed=0, group_split held out different rows: draw with a generator "
           "seeded with `seed`.")
    _same_after_restart(group_split, first)
    drawn = {tuple(_group_split(group_split, _groups_a(), 5, seed)[1]) for seed in (1, 2, 3)}
    drawn.add(tuple(first[1]))
    expect(len(drawn) > 1, "seeds 0, 1, 2 and 3 all held out the same rows: the choice of groups should be "
           "random, drawn with a generator seeded with `seed`.")

# ---------------------------------------------------------------- q9: an evaluation loop for a new metric


_MAE_CASES = [(10, 4, 3, 2), (7, 3, 4, 3), (13, 5, 2, 1)]  # samples, batch size, inputs, outputs


def _mae_data(n: int, batch_size: int, n_inputs: int, n_outputs: int, seed: int
              ) -> tuple[nn.Linear, DataLoader, torch.Tensor, torch.Tensor]:
    with seeded(seed):
        model = nn.Linear(n_inputs, n_outputs)
        X = torch.randn(n, n_inputs)
        y = 2 * X @ torch.randn(n_inputs, n_outputs) + torch.randn(n, n_outputs)
    return model, DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=False), X, y


def _check_mae(evaluate_mae: Any, n: int, batch_size: int, n_inputs: int, n_outputs: int, seed: int) -> None:
    model, loader, X, y = _mae_data(n, batch_size, n_inputs, n_outputs, seed)
    sizes = [len(xb) for xb, _ in loader]
    shown = (f"on a loader of {n} samples in batches of {', '.join(map(str, sizes))} and a model with "
             f"{n_outputs} output(s), evaluate_mae")
    before = copy.deepcopy(model.state_dict())
    with torch.no_grad():
        errors = (model(X) - y).abs().double()
    expected = errors.mean(dim=0)
    grad_modes: list[bool] = []  # whether gradients were tracked at each call of the model
    hook = model.register_forward_hook(  # tracked: a graph was recorded for this call's output
        lambda module, inputs, output: grad_modes.append(torch.is_grad_enabled() and output.requires_grad))
    try:
        result = call(evaluate_mae, model, loader)
    finally:
        hook.remove()
    for name, value in model.state_dict().items():
        expect(torch.equal(value, before[name]), "evaluate_mae changed the model's parameters: an "
               "evaluation only reads the model (no backward(), no step()).")
    expect(all(p.requires_grad for p in model.parameters()), "evaluate_mae switched off requires_grad of the "
           "model's parameters, so the model could no longer be trained afterwards: leave the model as it is and "
           "evaluate inside `with torch.inference_mode():` (or torch.no_grad()).")
    expect(all(p.grad is None for p in model.parameters()), "evaluate_mae computed gradients of the model's "
           "parameters (it called backward()): an evaluation only reads the model.")
    expect_tensor(result, "evaluate_mae's result")
    wanted_shape = (n_outputs,)
    if result.numel() == 1 and n_outputs > 1:
        if close(float(result.detach()), float(expected.mean()), 1e-5):
            raise Incorrect(f"{shown} returned one number, the mean over all outputs; return one mean absolute "
                            f"error per output column, a tensor of shape {wanted_shape} (reduce with dim=0).")
        raise Incorrect(f"{shown} returned one number, {describe(result)}; return a tensor of shape "
                        f"{wanted_shape}, one mean absolute error per output column.")
    expect(tuple(result.shape) == wanted_shape,
           f"{shown} returned a tensor of shape {tuple(result.shape)}; expected exactly {wanted_shape}: one "
           "value per output column, in a tensor with one dimension.")
    got = result.detach().cpu().double()
    if not torch.allclose(got, expected, rtol=1e-5, atol=1e-6):
        starts = np.cumsum([0, *sizes[:-1]]).tolist()
        batch_means = torch.stack([errors[i:i + b].mean(dim=0) for i, b in zip(starts, sizes, strict=True)])
        squared = ((model(X) - y) ** 2).detach().double().mean(dim=0)
        if torch.allclose(got, batch_means.mean(dim=0), rtol=1e-5, atol=1e-6):
            raise Incorrect(f"{shown} returned the mean of the batch means, but the last batch holds {sizes[-1]} "
                            f"samples, not {sizes[0]}: add up the absolute errors over all samples and divide "
                            "by their number.")
        if torch.allclose(got, errors[:sizes[0]].mean(dim=0), rtol=1e-5, atol=1e-6):
            raise Incorrect(f"{shown} returned the error of the first batch only: loop over every batch.")
        if torch.allclose(got, squared, rtol=1e-5, atol=1e-6):
            raise Incorrect("the result is the mean *squared* error; the exercise asks for the mean absolute "
                            "error, |predictions - targets|.")
        divisors = errors.sum(dim=0) / got
        divisor = round(float(divisors[0])) if bool(torch.isfinite(divisors).all()) else 0
        if divisor not in (0, n) and torch.allclose(divisors, torch.full_like(divisors, divisor), rtol=1e-5):
            raise Incorrect(f"{shown} divided the summed absolute errors by {divisor}, but this loader holds {n} "
                            "samples: count the samples as you loop (len(xb) per batch), so that any loader "
                            "works.")
        raise Incorrect(f"{shown} returned {describe(result)}; the mean absolute errors per output are "
                        f"{describe(expected.float())}.")
    expect(not result.requires_grad, "the result still tracks gradients (requires_grad=True): evaluate inside "
           "`with torch.inference_mode():` (or torch.no_grad()).")
    expect(not any(grad_modes), "evaluate_mae ran the model with gradient tracking on (PyTorch recorded every "
           "operation for a backward() that an evaluation never makes): evaluate inside "
           "`with torch.inference_mode():` (or torch.no_grad()).")


@exercise(
    "Loop over the batches without training (model.eval(), torch.inference_mode()); keep two running "
    "totals: the absolute errors summed over the samples of each batch, per column (dim=0), and the number "
    "of samples. Divide at the end.",
    "A mean of batch means gives a short last batch as much weight as a full one: sum the absolute errors "
    "over samples instead, and count the samples as they come (len(xb)).",
)
@_own_random_state
def q9(evaluate_mae: Any) -> None:
    """evaluate_mae(model, loader) -> tensor (n_outputs,): mean absolute error per output over all samples."""
    for seed, case in enumerate(_MAE_CASES, start=11):
        _check_mae(evaluate_mae, *case, seed)


__all__ = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9"]
