"""Checks for exercises/03_batches_dataset_dataloader_exercises.ipynb."""

from __future__ import annotations

import copy
import functools
import math
import numbers
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from helpers.checks.core import (
    Incorrect,
    call,
    close,
    describe,
    exercise,
    expect,
    expect_module,
    expect_tensor,
    seeded,
)
from helpers.data import CROP_INPUTS, CROP_TARGETS, load_crop_yields, load_mtcars

# ---------------------------------------------------------------- shared helpers


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


# ---------------------------------------------------------------- q1: a Dataset over any table


def _tables() -> list[tuple[str, pd.DataFrame, list[str], list[str]]]:
    """Tables to test a Dataset on: crops, crops reordered, and mtcars with two column choices."""
    crops15 = load_crop_yields(15)
    shuffled = crops15.sample(frac=1.0, random_state=0)  # index labels are no longer 0..14
    shuffled = shuffled[["oranges_t_ha", "humidity_pct", "region", "apples_t_ha", "temp_f",
                         "rainfall_mm"]]
    cars = load_mtcars()
    return [
        ("the 15-region crop table", crops15, CROP_INPUTS, CROP_TARGETS),
        ("the crop table with its rows and columns in another order", shuffled, CROP_INPUTS, CROP_TARGETS),
        ("mtcars with input_columns=['wt', 'hp'], target_columns=['mpg']", cars, ["wt", "hp"], ["mpg"]),
        ("mtcars with input_columns=['hp', 'wt', 'cyl'], target_columns=['mpg', 'qsec']", cars,
         ["hp", "wt", "cyl"], ["mpg", "qsec"]),
    ]


@exercise(
    "__len__ returns the number of rows; __getitem__(i) returns the pair (inputs of row i, "
    "targets of row i), each a 1-D float32 tensor with one value per column asked for.",
    "Convert once in __init__: torch.tensor(frame[input_columns].to_numpy(), dtype=torch.float32), "
    "and the same for target_columns; then __getitem__ only indexes those tensors.",
)
@_own_random_state
def q1(dataset_class: Any) -> None:
    """TableDataset(frame, input_columns, target_columns): len = rows; item i = (float32, float32)."""
    if not isinstance(dataset_class, type) and hasattr(dataset_class, "__getitem__"):
        raise Incorrect("pass the class itself, TableDataset, not an object made from it: "
                        "the check creates its own from several tables.")
    expect(callable(dataset_class), f"expected a class such as TableDataset, got {describe(dataset_class)}.")
    for label, frame, input_columns, target_columns in _tables():
        try:
            dataset = call(dataset_class, frame, list(input_columns), list(target_columns))
        except Incorrect as error:
            extra = (" Your class worked on the table in its usual order: select the columns by name, "
                     "frame[input_columns], never by position." if "another order" in label else "")
            raise Incorrect(f"on {label}: {error}{extra}") from error
        n = call(len, dataset)
        if n == len(frame.columns) and n != len(frame):
            raise Incorrect(f"for {label} len() gave {n}, the number of columns: it should be the "
                            f"number of rows (samples), {len(frame)}.")
        expect(n == len(frame), f"for {label} ({len(frame)} rows) len() gave {describe(n)}; it should be "
               "the number of rows.")
        expected_x = torch.tensor(frame[input_columns].to_numpy(dtype="float64"), dtype=torch.float32)
        expected_y = torch.tensor(frame[target_columns].to_numpy(dtype="float64"), dtype=torch.float32)
        expect(hasattr(dataset, "__getitem__"), "your dataset has no __getitem__ method, so it "
               "cannot be indexed: define __getitem__(self, index).")
        for i in sorted({0, n // 2, n - 1}):
            try:
                item = call(dataset.__getitem__, i)
            except Incorrect as error:
                raise Incorrect(f"on {label}, item {i}: {error}") from error
            expect(isinstance(item, (tuple, list)) and len(item) == 2,
                   f"item {i} should be a pair (inputs, targets), got {describe(item)}.")
            x, y = item
            for value, what, columns in ((x, "inputs", input_columns), (y, "targets", target_columns)):
                size = len(columns)
                expect_tensor(value, f"the {what} of item {i}")
                if tuple(value.shape) == (1, size):
                    raise Incorrect(f"the {what} of item {i} have shape (1, {size}): one row should "
                                    f"be a 1-D tensor of shape ({size},). Select the row with "
                                    "frame.iloc[i] (not iloc[[i]]) or index a tensor with [i].")
                expect(tuple(value.shape) == (size,),
                       f"on {label} the {what} of item {i} have shape {tuple(value.shape)}; expected "
                       f"({size},): one value per column of {columns}.")
                expect(value.dtype.is_floating_point,
                       f"the {what} have dtype {value.dtype}: whole numbers in a table become integer "
                       "tensors, which models refuse; convert with dtype=torch.float32 (or .float()).")
                expect(value.dtype == torch.float32,
                       f"the {what} have dtype {value.dtype}, but the model's weights are float32 "
                       "and refuse other dtypes: use dtype=torch.float32 (float64 is NumPy's "
                       "default, not PyTorch's).")
            if "another order" in label and torch.allclose(
                x, torch.tensor(frame.loc[i, input_columns].to_numpy(dtype="float32"))
            ) and not torch.allclose(x, expected_x[i]):
                raise Incorrect("item i should be the i-th row by position: use frame.iloc[i], "
                                "not frame.loc[i] (the index labels need not be 0, 1, 2, ...).")
            expect(torch.allclose(x, expected_x[i], rtol=1e-6, atol=0),
                   f"on {label} the inputs of item {i} are {describe(x)}, expected "
                   f"{describe(expected_x[i])}: select the columns by name, in the order given, "
                   "and the row by position.")
            expect(torch.allclose(y, expected_y[i], rtol=1e-6, atol=0),
                   f"on {label} the targets of item {i} are {describe(y)}, expected "
                   f"{describe(expected_y[i])}: select the target columns by name, in the order given.")
    batch = next(iter(DataLoader(call(dataset_class, load_mtcars(), ["wt", "hp"], ["mpg"]), batch_size=4)))
    xb, yb = _pair(batch, "a DataLoader over your dataset")
    expect(tuple(xb.shape) == (4, 2) and tuple(yb.shape) == (4, 1),
           f"a DataLoader with batch_size=4 over your mtcars dataset gave batches of shapes "
           f"{tuple(xb.shape)} and {tuple(yb.shape)}; expected (4, 2) and (4, 1).")


# ---------------------------------------------------------------- q2: batches per epoch


@exercise(
    "Divide and round: a last, smaller batch still counts as a batch, unless drop_last=True "
    "drops it.",
    "math.ceil(n_samples / batch_size) without drop_last, n_samples // batch_size with it.",
)
@_own_random_state
def q2(batches_per_epoch: Any) -> None:
    """batches_per_epoch(n_samples, batch_size, drop_last) -> int, like len(DataLoader(...))."""
    cases = [(15, 5, False), (15, 4, False), (15, 4, True), (1000, 64, False), (1000, 64, True),
             (10, 3, True), (64, 64, False), (64, 64, True), (3, 5, False), (3, 5, True)]
    results = []
    for n, size, drop_last in cases:
        got = call(batches_per_epoch, n, size, drop_last)
        shown = f"batches_per_epoch({n}, {size}, drop_last={drop_last})"
        expect(isinstance(got, numbers.Real) and not isinstance(got, bool),
               f"{shown} returned {describe(got)}; return a whole number.")
        if got != int(got):
            raise Incorrect(f"{shown} returned {got}, not a whole number of batches: round up "
                            "(math.ceil) or down (//), depending on drop_last.")
        results.append((n, size, drop_last, int(got), n // size if drop_last else math.ceil(n / size)))
    wrong = [r for r in results if r[3] != r[4]]
    if not wrong:
        return
    # A cause is named only when the answer follows that wrong rule on every case tried.
    if all(got == n // size for n, size, _, got, _ in results):
        raise Incorrect("your function always rounds down (n_samples // batch_size), but without "
                        "drop_last the leftover samples still make a last, smaller batch: round up then.")
    if all(got == math.ceil(n / size) for n, size, _, got, _ in results):
        raise Incorrect("your function always rounds up, but drop_last=True drops the incomplete last "
                        "batch: round down then.")
    if all(got == (n // size if drop_last else n // size + 1) for n, size, drop_last, got, _ in results):
        raise Incorrect("without drop_last your function adds one batch to n_samples // batch_size even "
                        "when batch_size divides n_samples exactly (15 samples in batches of 5 make 3, "
                        "not 4). Round up only what is left over: math.ceil(n_samples / batch_size).")
    n, size, drop_last, got, expected = wrong[0]
    raise Incorrect(f"batches_per_epoch({n}, {size}, drop_last={drop_last}) returned {got}, expected "
                    f"{expected}.")


# ---------------------------------------------------------------- q3: drop_last for training vs evaluation


def _row_indices(loader: DataLoader, name: str) -> tuple[list[list[int]], int]:
    """The dataset rows (by position) in each batch of one pass, and the dataset's length."""
    dataset = loader.dataset
    keys = {}
    for i in range(len(dataset)):
        x, _ = dataset[i]
        keys.setdefault(_row_key(x), i)
    batches = []
    for batch in _batches(loader, name):
        xb, _ = _pair(batch, name)
        expect_tensor(xb, f"the inputs of a batch of {name}")
        expect(xb.ndim == 2, f"{name} yields inputs of shape {tuple(xb.shape)}, not batches of "
               "shape (batch size, 3): give it a batch_size.")
        batches.append([keys.get(_row_key(x), -1) for x in xb])
    return batches, len(dataset)


@exercise(
    "Training: batch_size=4, shuffle=True and drop_last=True, so every batch has exactly 4 "
    "regions. Evaluation: every region must count, so keep drop_last=False.",
    "DataLoader(crop_ds, batch_size=4, shuffle=True, drop_last=True) for training; "
    "DataLoader(crop_ds, batch_size=4) for evaluation.",
)
@_own_random_state
def q3(train_loader: Any, eval_loader: Any) -> None:
    """train_loader: full batches of 4, reshuffled; eval_loader: every region exactly once."""
    for loader, name in ((train_loader, "train_loader"), (eval_loader, "eval_loader")):
        expect(isinstance(loader, DataLoader),
               f"{name} should be a torch.utils.data.DataLoader, got {describe(loader)}.")
        expect(len(loader.dataset) == 15,
               f"{name} is over a dataset of {len(loader.dataset)} samples; build it over crop_ds "
               "(15 regions).")
    epochs = [_row_indices(train_loader, "train_loader")[0] for _ in range(3)]
    sizes = [len(batch) for batch in epochs[0]]
    expect(all(size == sizes[0] for size in sizes[:-1]) and sizes[0] == 4,
           f"train_loader gave batches of sizes {sizes}; use batch_size=4.")
    expect(sizes[-1] == 4, f"train_loader gave batches of sizes {sizes}: the last one is short. "
           "drop_last=True drops it, so every training batch has exactly 4 regions.")
    expect(len(sizes) == 3, f"train_loader gave {len(sizes)} batches, expected 15 // 4 = 3.")
    in_order = [list(range(4 * b, 4 * b + 4)) for b in range(3)]
    expect(not all(epoch == in_order for epoch in epochs),
           "train_loader serves the regions in the same order every epoch: set shuffle=True for "
           "training.")
    batches, n = _row_indices(eval_loader, "eval_loader")
    seen = Counter(i for batch in batches for i in batch)
    expect(all(count == 1 for count in seen.values()),
           "eval_loader serves some regions more than once: one pass should cover each region once.")
    missing = n - len(seen)
    expect(missing == 0,
           f"eval_loader skips {missing} of the {n} regions: an evaluation must count every sample, "
           "so keep drop_last=False there (the default).")


# ---------------------------------------------------------------- q4: fix the shape of a loader


@exercise(
    "The model outputs shape (batch, 1), so the targets must be (batch, 1) too, not (batch,). "
    "Double brackets keep a column 2-D: frame[['apples_t_ha']].",
    "Both tensors must be float32: torch.tensor(frame[CROP_INPUTS].to_numpy(), dtype=torch.float32) "
    "and torch.tensor(frame[['apples_t_ha']].to_numpy(), dtype=torch.float32); then "
    "DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True).",
)
@_own_random_state
def q4(apple_loader: Any) -> None:
    """apple_loader(frame, batch_size): batches x (b, 3) float32 and y (b, 1) float32 apple yields."""
    for frame, size in ((load_crop_yields(15), 4), (load_crop_yields(5), 2)):
        loader = call(apple_loader, frame, size)
        shown = f"apple_loader(<{len(frame)}-region table>, {size})"
        batches = _batches(loader, shown)
        expect(batches, f"{shown} yielded no batches.")
        pairs = []
        for k, batch in enumerate(batches):
            xb, yb = _pair(batch, shown)
            expect_tensor(xb, f"the inputs of batch {k}")
            expect_tensor(yb, f"the targets of batch {k}")
            b = len(xb)
            expect(tuple(xb.shape) == (b, 3),
                   f"the inputs of a batch have shape {tuple(xb.shape)}; expected ({b}, 3), "
                   "the columns CROP_INPUTS.")
            if tuple(yb.shape) == (b,):
                raise Incorrect(f"the targets of a batch have shape ({b},) but the model outputs "
                                f"({b}, 1): F.mse_loss would broadcast them to ({b}, {b}) and compute "
                                "the wrong loss. Keep the column 2-D: frame[['apples_t_ha']] "
                                "(double brackets), or .unsqueeze(1).")
            expect(tuple(yb.shape) == (b, 1),
                   f"the targets of a batch have shape {tuple(yb.shape)}; expected ({b}, 1): "
                   "one column, the apple yield.")
            for value, what in ((xb, "inputs"), (yb, "targets")):
                expect(value.dtype == torch.float32,
                       f"the {what} have dtype {value.dtype}; they must be float32 like the model's "
                       "weights (dtype=torch.float32, or .float()).")
            expect(b <= size and (b == size or k == len(batches) - 1),
                   f"{shown} gave a batch of {b} samples; batches should hold batch_size = {size} "
                   "(only the last may be smaller).")
            pairs += [(_row_key(x), round(float(y), 4)) for x, y in zip(xb, yb, strict=True)]
        expected_x = torch.tensor(frame[CROP_INPUTS].to_numpy(), dtype=torch.float32)
        apples = frame["apples_t_ha"].tolist()
        oranges = frame["oranges_t_ha"].tolist()
        expected = Counter((_row_key(x), float(a)) for x, a in zip(expected_x, apples, strict=True))
        with_oranges = Counter((_row_key(x), float(o)) for x, o in zip(expected_x, oranges, strict=True))
        if Counter(pairs) != expected:
            if Counter(pairs) == with_oranges:
                raise Incorrect("the targets are the orange yields; this loader is for apples "
                                "(the column 'apples_t_ha').")
            expect(len(pairs) == len(frame),
                   f"one pass gave {len(pairs)} samples, but the table has {len(frame)} regions: "
                   "keep every region (no drop_last).")
            raise Incorrect("the (inputs, apple yield) pairs do not match the table's rows: each "
                            "region's inputs must stay with its own yield.")


# ---------------------------------------------------------------- q5: one training epoch


def _epoch_data() -> tuple[DataLoader, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(3)
    X = torch.randn(10, 3, generator=generator)
    y = X @ torch.tensor([[1.0, -2.0], [0.5, 1.0], [2.0, 0.0]]) + 0.1 * torch.randn(10, 2, generator=generator)
    return DataLoader(TensorDataset(X, y), batch_size=4, shuffle=False), X, y  # batches of 4, 4, 2


def _reference_epoch(model: nn.Module, loader: DataLoader, lr: float, zero_grad: bool = True
                     ) -> tuple[list[float], list[int]]:
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses, sizes = [], []
    for xb, yb in loader:
        loss = F.mse_loss(model(xb), yb)
        if zero_grad:
            optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        sizes.append(len(xb))
    return losses, sizes


def _fresh_linear(seed: int) -> nn.Linear:
    with seeded(seed):
        return nn.Linear(3, 2)


@exercise(
    "Run the broken version and watch the model's parameters: do they change? Then look at the "
    "order of zero_grad(), backward() and step().",
    "To return the mean loss per sample, add up loss.item() * len(xb) over the batches and "
    "divide by the number of samples seen.",
)
@_own_random_state
def q5(train_one_epoch: Any) -> None:
    """train_one_epoch(model, loss_fn, optimizer, loader) -> mean loss per sample; trains one epoch.

    The answer fixes a broken epoch (zero_grad between backward and step, a mean of batch means).
    """
    loader, _, _ = _epoch_data()
    lr = 0.05
    for loss_fn in (F.mse_loss, nn.MSELoss()):
        model = _fresh_linear(7)
        start = copy.deepcopy(model)
        reference, no_zero = copy.deepcopy(model), copy.deepcopy(model)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        result = call(train_one_epoch, model, loss_fn, optimizer, loader)
        batch_losses, sizes = _reference_epoch(reference, loader, lr)
        _reference_epoch(no_zero, loader, lr, zero_grad=False)
        if torch.equal(model.weight, start.weight) and torch.equal(model.bias, start.bias):
            raise Incorrect("the model's parameters did not change during the epoch. An update needs, "
                            "for every batch, loss.backward() (it fills the gradients) and then "
                            "optimizer.step() (it uses them), with optimizer.zero_grad() before "
                            "backward(), never between backward() and step().")
        if torch.allclose(model.weight, no_zero.weight, atol=1e-6) and not torch.allclose(
            model.weight, reference.weight, atol=1e-6
        ):
            raise Incorrect("the gradients pile up from batch to batch: call optimizer.zero_grad() "
                            "before loss.backward() for every batch.")
        expect(torch.allclose(model.weight, reference.weight, atol=1e-5)
               and torch.allclose(model.bias, reference.bias, atol=1e-5),
               "after one epoch the parameters differ from one correct pass over the batches: for "
               "each batch, forward, loss, zero_grad, backward, step, once.")
        expect(result is not None, "train_one_epoch returned None: return the mean loss per sample.")
        try:
            # detach: a loss tensor still attached to the graph is a correct (if wasteful) answer
            value = float(result.detach() if isinstance(result, torch.Tensor) else result)
        except (TypeError, ValueError, RuntimeError) as error:
            raise Incorrect(f"train_one_epoch returned {describe(result)}; return one number, the "
                            "mean loss per sample.") from error
        per_sample = sum(loss * size for loss, size in zip(batch_losses, sizes, strict=True)) / sum(sizes)
        if math.isclose(value, per_sample, rel_tol=1e-4):
            continue
        if math.isclose(value, sum(batch_losses) / len(batch_losses), rel_tol=1e-4):
            raise Incorrect("you returned the mean of the batch losses, but the last batch holds only "
                            f"{sizes[-1]} samples, not {sizes[0]}: weight each batch's loss by its size "
                            "(loss.item() * len(xb)) and divide by the number of samples.")
        if math.isclose(value, batch_losses[-1], rel_tol=1e-4):
            raise Incorrect("you returned the loss of the last batch only; return the mean over "
                            "all the samples of the epoch.")
        if math.isclose(value, sum(batch_losses), rel_tol=1e-4) or math.isclose(
            value, per_sample * sum(sizes), rel_tol=1e-4
        ):
            raise Incorrect("you returned a sum; divide by the number of samples to get the mean.")
        raise Incorrect(f"train_one_epoch returned {value:.4f}; the mean loss per sample over the "
                        f"epoch was {per_sample:.4f}.")


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
    "Split first: train_part, val_part = random_split(range(len(inputs)), [n_train, n_val], "
    "generator=torch.Generator().manual_seed(seed)); the parts hold row numbers.",
    "Then mean = inputs[train_rows].mean(dim=0), std = inputs[train_rows].std(dim=0), and build "
    "TensorDataset((inputs[rows] - mean) / std, targets[rows]) for each part.",
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


# ---------------------------------------------------------------- q7: a network of any size


def _is_affine(net: nn.Module, n_inputs: int) -> bool:
    with seeded(0):
        a, b = 3 * torch.randn(64, n_inputs), 3 * torch.randn(64, n_inputs)
    with torch.inference_mode():
        zero = net(torch.zeros(64, n_inputs))
        return torch.allclose(net(a) + net(b) - zero, net(a + b), atol=1e-4)


@exercise(
    "Three pieces in order: a Linear layer from n_inputs to hidden_units, an activation, a Linear "
    "layer from hidden_units to n_outputs.",
    "The activation goes between the two Linear layers, not after the last one: a regression output "
    "can be any number. nn.ReLU(), nn.Tanh() and nn.Sigmoid() all work.",
)
@_own_random_state
def q7(make_network: Any) -> None:
    """make_network(n_inputs, hidden_units, n_outputs): one hidden layer with a non-linear activation."""
    for n_inputs, hidden, n_outputs in ((3, 4, 2), (2, 16, 1), (5, 8, 3)):
        shown = f"make_network({n_inputs}, {hidden}, {n_outputs})"
        with seeded(0):
            net = call(make_network, n_inputs, hidden, n_outputs)
        if isinstance(net, type) and issubclass(net, nn.Module):
            raise Incorrect("make_network returned a class; return a network, e.g. nn.Sequential(...).")
        net = expect_module(net, shown)
        net.eval()
        with torch.inference_mode():
            out = call(net, torch.linspace(-2, 2, 5 * n_inputs).reshape(5, n_inputs))
        expect_tensor(out, f"the output of {shown}")
        expect(tuple(out.shape) == (5, n_outputs),
               f"for inputs of shape (5, {n_inputs}) {shown} gave {tuple(out.shape)}; expected "
               f"(5, {n_outputs}).")
        count = sum(p.numel() for p in net.parameters())
        wanted = (n_inputs + 1) * hidden + (hidden + 1) * n_outputs
        expect(count == wanted,
               f"{shown} has {count} parameters; one hidden layer, Linear({n_inputs}, {hidden}) then "
               f"Linear({hidden}, {n_outputs}), has {wanted}.")
        last = list(net.children())[-1] if isinstance(net, nn.Sequential) else None
        if last is not None and not list(last.parameters()) and not isinstance(last, nn.Identity):
            raise Incorrect(f"the network ends with {type(last).__name__}(), which limits the outputs; "
                            "a regression output can be any number, so end with the Linear layer and put "
                            "the activation between the two Linear layers.")
        expect(not _is_affine(net, n_inputs),
               f"{shown} is still a straight-line (linear) model: its outputs add up like a linear "
               "function's. Put an activation such as nn.ReLU() between the two Linear layers.")


# ---------------------------------------------------------------- q8: hold out whole groups


def _groups_a() -> list[str]:
    counts = {"farm A": 3, "farm B": 2, "farm C": 4, "farm D": 3, "farm E": 2, "farm F": 3, "farm G": 3}
    labels = [name for name, count in counts.items() for _ in range(count)]
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(4)).tolist()
    return [labels[i] for i in order]  # rows of one farm are scattered through the table


def _groups_b() -> np.ndarray:
    return np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4])


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


def _group_split(fn: Any, groups: Any, n_val_groups: int, seed: int) -> tuple[list[int], list[int]]:
    n_groups = len(set(np.asarray(groups).tolist()))
    shown = f"group_split(<{len(groups)} rows, {n_groups} groups>, {n_val_groups}, seed={seed})"
    result = call(fn, list(groups) if isinstance(groups, list) else groups.copy(), n_val_groups, seed)
    expect(isinstance(result, (tuple, list)) and len(result) == 2,
           f"{shown} returned {describe(result)}; return (train_rows, val_rows).")
    train, val = _indices(result[0], "train_rows"), _indices(result[1], "val_rows")
    n = len(groups)
    expect(len(train) == len(set(train)) and len(val) == len(set(val)),
           f"{shown}: a row number appears twice in one part.")
    expect(all(0 <= i < n for i in train + val), f"{shown}: some row numbers are outside 0..{n - 1}.")
    expect(not set(train) & set(val), f"{shown}: rows {sorted(set(train) & set(val))[:5]} are in both parts.")
    expect(len(train) + len(val) == n, f"{shown}: {n - len(train) - len(val)} row(s) are in neither part; "
           "every row goes to one of them.")
    labels = np.asarray(groups).tolist()
    for group in dict.fromkeys(labels):
        sides = {("train" if i in set(train) else "val") for i, g in enumerate(labels) if g == group}
        if len(sides) == 2:
            raise Incorrect(f"{shown}: group {group!r} has rows in both train_rows and val_rows, so the "
                            "validation rows have near-twins in training. Hold out whole groups.")
    val_groups = {labels[i] for i in val}
    expect(len(val_groups) == n_val_groups,
           f"{shown}: val_rows holds rows of {len(val_groups)} group(s); expected {n_val_groups}.")
    return sorted(train), sorted(val)


@exercise(
    "Work with the distinct group names first: names = sorted(set(groups)); pick n_val_groups of them "
    "at random with a generator seeded with seed (random_split or torch.randperm).",
    "Then val_rows = [i for i, g in enumerate(groups) if g in val_names], and train_rows the rest.",
)
@_own_random_state
def q8(group_split: Any) -> None:
    """group_split(groups, n_val_groups, seed) -> (train_rows, val_rows): whole groups held out."""
    first = _group_split(group_split, _groups_a(), 2, 0)
    _group_split(group_split, _groups_b(), 3, 1)
    expect(_group_split(group_split, _groups_a(), 2, 0) == first,
           "called twice with seed=0, group_split held out different rows: draw with a generator "
           "seeded with `seed`.")
    drawn = {tuple(_group_split(group_split, _groups_a(), 2, seed)[1]) for seed in (1, 2, 3)}
    drawn.add(tuple(first[1]))
    expect(len(drawn) > 1, "seeds 0, 1, 2 and 3 all held out the same groups: the choice should be random, "
           "drawn with a generator seeded with `seed`.")


# ---------------------------------------------------------------- q9: an evaluation loop for a new metric


def _mae_data() -> tuple[nn.Linear, DataLoader, torch.Tensor, torch.Tensor]:
    with seeded(11):
        model = nn.Linear(3, 2)
        X = torch.randn(10, 3)
        y = X @ torch.tensor([[1.0, -2.0], [0.5, 1.0], [2.0, 0.0]]) + torch.randn(10, 2)
    return model, DataLoader(TensorDataset(X, y), batch_size=4, shuffle=False), X, y  # batches of 4, 4, 2


@exercise(
    "Loop over the batches without training (model.eval(), torch.inference_mode()); add up "
    "(predictions - yb).abs().sum(dim=0) and the number of samples; divide at the end.",
    "A mean of batch means gives the last batch of 2 samples as much weight as a batch of 4: sum the "
    "absolute errors over samples instead.",
)
@_own_random_state
def q9(evaluate_mae: Any) -> None:
    """evaluate_mae(model, loader) -> tensor (n_outputs,): mean absolute error per output over all samples."""
    model, loader, X, y = _mae_data()
    before = copy.deepcopy(model.state_dict())
    with torch.no_grad():
        errors = (model(X) - y).abs().double()
    expected = errors.mean(dim=0)
    result = call(evaluate_mae, model, loader)
    for name, value in model.state_dict().items():
        expect(torch.equal(value, before[name]), "evaluate_mae changed the model's parameters: an "
               "evaluation only reads the model (no backward(), no step()).")
    expect_tensor(result, "evaluate_mae's result")
    got = result.detach().double().reshape(-1) if result.numel() == 2 else None
    if result.numel() == 1:
        if close(float(result.detach()), float(expected.mean()), 1e-5):
            raise Incorrect("you returned one number, the mean over both outputs; return one mean absolute "
                            "error per output column, a tensor of shape (2,) (reduce with dim=0).")
        raise Incorrect(f"evaluate_mae returned one number, {describe(result)}; return a tensor of shape (2,), "
                        "one mean absolute error per output column.")
    expect(got is not None and tuple(result.shape) in ((2,), (1, 2)),
           f"evaluate_mae returned a tensor of shape {tuple(result.shape)}; expected (2,): one value per output.")
    if not torch.allclose(got, expected, rtol=1e-5, atol=1e-6):
        sizes = [4, 4, 2]
        batch_means = torch.stack([errors[i:i + n].mean(dim=0) for i, n in zip((0, 4, 8), sizes, strict=True)])
        squared = ((model(X) - y) ** 2).detach().double().mean(dim=0)
        if torch.allclose(got, batch_means.mean(dim=0), rtol=1e-5, atol=1e-6):
            raise Incorrect("you returned the mean of the batch means, but the last batch holds 2 samples, "
                            "not 4: add up the absolute errors over all samples and divide by their number.")
        if torch.allclose(got, errors[:4].mean(dim=0), rtol=1e-5, atol=1e-6):
            raise Incorrect("the result equals the error of the first batch only: loop over every batch.")
        if torch.allclose(got, squared, rtol=1e-5, atol=1e-6):
            raise Incorrect("the result is the mean *squared* error; the exercise asks for the mean absolute "
                            "error, |predictions - targets|.")
        raise Incorrect(f"evaluate_mae returned {describe(result)}; the mean absolute errors per output are "
                        f"{describe(expected.float())}.")
    expect(not result.requires_grad, "the result still tracks gradients (requires_grad=True): evaluate inside "
           "`with torch.inference_mode():` (or torch.no_grad()).")


__all__ = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9"]
