"""Checks for exercises/03_batches_dataset_dataloader_exercises.ipynb."""

from __future__ import annotations

import copy
import functools
import math
import numbers
from collections import Counter
from collections.abc import Callable
from typing import Any

import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from helpers.checks.core import (
    Incorrect,
    call,
    describe,
    exercise,
    expect,
    expect_module,
    expect_tensor,
    seeded,
)
from helpers.data import CROP_INPUTS, CROP_TARGETS, load_crop_yields

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


def _frames() -> list[tuple[str, pd.DataFrame]]:
    """Tables to test a Dataset on: the two crop tables, one with shuffled rows and columns."""
    crops15 = load_crop_yields(15)
    shuffled = crops15.sample(frac=1.0, random_state=0)  # index labels are no longer 0..14
    shuffled = shuffled[["oranges_t_ha", "humidity_pct", "region", "apples_t_ha", "temp_f",
                         "rainfall_mm"]]
    return [("the 15-region table", crops15), ("the 5-region table", load_crop_yields(5)),
            ("a table with its rows and columns in another order", shuffled)]


# ---------------------------------------------------------------- q1: a Dataset class


@exercise(
    "__len__ returns the number of rows, len(frame); __getitem__(i) returns the pair "
    "(inputs of row i, targets of row i).",
    "Convert once in __init__: torch.tensor(frame[CROP_INPUTS].to_numpy(), dtype=torch.float32), "
    "and the same for CROP_TARGETS; then __getitem__ only indexes those tensors.",
)
@_own_random_state
def q1(dataset_class: Any) -> None:
    """CropDataset(frame): len = rows; item i = (float32 inputs (3,), float32 targets (2,))."""
    if not isinstance(dataset_class, type) and hasattr(dataset_class, "__getitem__"):
        raise Incorrect("pass the class itself, CropDataset, not an object made from it: "
                        "the check creates its own from several tables.")
    expect(callable(dataset_class), f"expected a class such as CropDataset, got {describe(dataset_class)}.")
    for label, frame in _frames():
        try:
            dataset = call(dataset_class, frame)
        except Incorrect as error:
            if label.startswith("a table"):
                raise Incorrect(f"{error}. This table has its rows and columns in another order: "
                                "select the columns by name, frame[CROP_INPUTS], and the rows by "
                                "position.") from error
            raise
        n = call(len, dataset)
        if n == len(frame.columns) and n != len(frame):
            raise Incorrect(f"for {label} len() gave {n}, the number of columns: it should be the "
                            f"number of rows (samples), {len(frame)}.")
        expect(n == len(frame), f"for {label} ({len(frame)} rows) len() gave {n}; it should be the "
               "number of rows.")
        expected_x = torch.tensor(frame[CROP_INPUTS].to_numpy(), dtype=torch.float32)
        expected_y = torch.tensor(frame[CROP_TARGETS].to_numpy(), dtype=torch.float32)
        expect(hasattr(dataset, "__getitem__"), "your dataset has no __getitem__ method, so it "
               "cannot be indexed: define __getitem__(self, index).")
        for i in sorted({0, n // 2, n - 1}):
            item = call(dataset.__getitem__, i)
            expect(isinstance(item, (tuple, list)) and len(item) == 2,
                   f"item {i} should be a pair (inputs, targets), got {describe(item)}.")
            x, y = item
            for value, what, size, columns in ((x, "inputs", 3, "CROP_INPUTS"),
                                               (y, "targets", 2, "CROP_TARGETS")):
                expect_tensor(value, f"the {what} of item {i}")
                if value.shape == (1, size):
                    raise Incorrect(f"the {what} of item {i} have shape (1, {size}): one row should "
                                    f"be a 1-D tensor of shape ({size},). Select the row with "
                                    "frame.iloc[i] (not iloc[[i]]) or index a tensor with [i].")
                expect(tuple(value.shape) == (size,),
                       f"the {what} of item {i} have shape {tuple(value.shape)}; expected ({size},): "
                       f"the {size} columns {columns}.")
                expect(value.dtype.is_floating_point,
                       f"the {what} have dtype {value.dtype}: the CSV holds whole numbers, so convert "
                       "them with dtype=torch.float32 (or .float()); models refuse integer inputs.")
                expect(value.dtype == torch.float32,
                       f"the {what} have dtype {value.dtype}, but the model's weights are float32 "
                       "and refuse other dtypes: use dtype=torch.float32 (float64 is NumPy's "
                       "default, not PyTorch's).")
            if label.startswith("a table") and torch.equal(
                x, torch.tensor(frame.loc[i, CROP_INPUTS].to_numpy(dtype="float32"))
            ) and not torch.equal(x, expected_x[i]):
                raise Incorrect("item i should be the i-th row by position: use frame.iloc[i], "
                                "not frame.loc[i] (the index labels need not be 0, 1, 2, ...).")
            expect(torch.equal(x, expected_x[i]),
                   f"for {label} the inputs of item {i} are {x.tolist()}, expected "
                   f"{expected_x[i].tolist()}: select the columns by name, frame[CROP_INPUTS], and "
                   "the row by position.")
            expect(torch.equal(y, expected_y[i]),
                   f"for {label} the targets of item {i} are {y.tolist()}, expected "
                   f"{expected_y[i].tolist()}: select the columns by name, frame[CROP_TARGETS].")
    batch = next(iter(DataLoader(call(dataset_class, load_crop_yields(15)), batch_size=4)))
    xb, yb = _pair(batch, "a DataLoader over your dataset")
    expect(tuple(xb.shape) == (4, 3) and tuple(yb.shape) == (4, 2),
           f"a DataLoader with batch_size=4 over your dataset gave batches of shapes "
           f"{tuple(xb.shape)} and {tuple(yb.shape)}; expected (4, 3) and (4, 2).")


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
    for n, size, drop_last in cases:
        expected = n // size if drop_last else math.ceil(n / size)
        got = call(batches_per_epoch, n, size, drop_last)
        shown = f"batches_per_epoch({n}, {size}, drop_last={drop_last})"
        expect(isinstance(got, numbers.Real) and not isinstance(got, bool),
               f"{shown} returned {describe(got)}; return a whole number.")
        if got != int(got):
            raise Incorrect(f"{shown} returned {got}, not a whole number of batches: round up "
                            "(math.ceil) or down (//), depending on drop_last.")
        if got == expected:
            continue
        if not drop_last and got == n // size:
            raise Incorrect(f"{shown} returned {got}, but the {n % size} leftover samples still make "
                            f"a last, smaller batch: {expected} batches. Round up.")
        if drop_last and got == math.ceil(n / size):
            raise Incorrect(f"{shown} returned {got}, but drop_last=True drops the incomplete last "
                            f"batch: {expected} batches. Round down.")
        if not drop_last and n % size == 0 and got == n // size + 1:
            raise Incorrect(f"{shown} returned {got}, but {size} divides {n} exactly: {expected} full "
                            "batches and no leftovers, so no extra batch. Round up only what is left "
                            "over: math.ceil(n_samples / batch_size).")
        raise Incorrect(f"{shown} returned {got}, expected {expected}.")


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
    "For each batch: predictions = model(xb), loss = loss_fn(predictions, yb), "
    "optimizer.zero_grad(), loss.backward(), optimizer.step().",
    "To return the mean loss per sample, add up loss.item() * len(xb) over the batches and "
    "divide by the number of samples seen.",
)
@_own_random_state
def q5(train_one_epoch: Any) -> None:
    """train_one_epoch(model, loss_fn, optimizer, loader) -> mean loss per sample; trains one epoch."""
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
            raise Incorrect("the model's parameters did not change: for every batch, call "
                            "loss.backward() (it computes the gradients) and then optimizer.step() "
                            "(it uses them).")
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


# ---------------------------------------------------------------- q6: predict with standardised inputs


@exercise(
    "Standardise with the training statistics first, (raw_inputs - mean) / std, then call the model.",
    "Call model.eval() and predict inside `with torch.inference_mode():` (or torch.no_grad()).",
)
@_own_random_state
def q6(predict_yields: Any) -> None:
    """predict_yields(model, raw_inputs, mean, std) -> predictions for the standardised inputs."""
    crops = load_crop_yields(15)
    raw = torch.tensor(crops[CROP_INPUTS].to_numpy(), dtype=torch.float32)
    mean, std = raw.mean(dim=0), raw.std(dim=0)
    with seeded(0):
        model = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Dropout(0.5), nn.Linear(16, 2))
    for rows in ([[75.0, 63.0, 44.0]], crops[CROP_INPUTS].to_numpy()[:4].tolist()):
        model.train()  # as it would be straight after training
        x = torch.tensor(rows, dtype=torch.float32)
        model_copy = copy.deepcopy(model).eval()
        with torch.inference_mode():
            expected = model_copy((x - mean) / std)
            unscaled = model_copy(x)
        with seeded(1):
            out = call(predict_yields, model, x, mean, std)
        expect(not hasattr(out, "__array__") or isinstance(out, torch.Tensor),
               f"predict_yields returned {type(out).__name__}; return the model's output tensor "
               "itself (no .numpy() or .tolist()).")
        expect_tensor(out, "the predictions")
        expect(tuple(out.shape) == (len(rows), 2),
               f"for {len(rows)} region(s) the predictions have shape {tuple(out.shape)}; expected "
               f"({len(rows)}, 2), one row per region.")
        if torch.allclose(out.detach(), unscaled, atol=1e-4):
            raise Incorrect("the model was trained on standardised inputs: compute "
                            "(raw_inputs - mean) / std before calling it.")
        if not torch.allclose(out.detach(), expected, atol=1e-4):
            if model.training:
                raise Incorrect("the model is still in training mode, so its dropout layer zeroes "
                                "random units and the predictions come out random: call model.eval() "
                                "first.")
            raise Incorrect("the predictions differ from model((raw_inputs - mean) / std).")
        expect(not out.requires_grad,
               "the predictions still track gradients (requires_grad=True): predict inside "
               "`with torch.inference_mode():` (or torch.no_grad()).")


# ---------------------------------------------------------------- q7: a small network


def _is_affine(net: nn.Module) -> bool:
    with seeded(0):
        a, b = 3 * torch.randn(64, 3), 3 * torch.randn(64, 3)
    with torch.inference_mode():
        zero = net(torch.zeros(64, 3))
        return torch.allclose(net(a) + net(b) - zero, net(a + b), atol=1e-4)


@exercise(
    "nn.Sequential(nn.Linear(3, hidden_units), an activation, nn.Linear(hidden_units, 2)).",
    "The activation goes between the two Linear layers, not after the last one: the yields can "
    "be any number. nn.ReLU(), nn.Tanh() and nn.Sigmoid() all work.",
)
@_own_random_state
def q7(make_network: Any) -> None:
    """make_network(hidden_units): 3 inputs -> hidden_units -> activation -> 2 outputs."""
    for hidden in (4, 16):
        with seeded(0):
            net = call(make_network, hidden)
        if isinstance(net, type) and issubclass(net, nn.Module):
            raise Incorrect("make_network returned a class; return a network, e.g. nn.Sequential(...).")
        net = expect_module(net, f"make_network({hidden})")
        net.eval()  # switch off any dropout: the checks below need repeatable outputs
        with torch.inference_mode():
            out = call(net, torch.linspace(-2, 2, 15).reshape(5, 3))
        expect_tensor(out, f"the output of make_network({hidden})")
        expect(tuple(out.shape) == (5, 2),
               f"for inputs of shape (5, 3) the network gave {tuple(out.shape)}; expected (5, 2): "
               "3 inputs in, 2 yields out.")
        count = sum(p.numel() for p in net.parameters())
        wanted = (3 * hidden + hidden) + (hidden * 2 + 2)
        expect(count == wanted,
               f"make_network({hidden}) has {count} parameters; one hidden layer of {hidden} units, "
               f"Linear(3, {hidden}) then Linear({hidden}, 2), has {wanted}.")
        last = list(net.children())[-1] if isinstance(net, nn.Sequential) else None
        if last is not None and not list(last.parameters()) and not isinstance(
            last, (nn.Dropout, nn.Identity)
        ):
            raise Incorrect(f"the network ends with {type(last).__name__}(), which limits the outputs; "
                            "the yields can be any number, so end with the Linear layer and put the "
                            "activation between the two Linear layers.")
        expect(not _is_affine(net),
               "the network is still a straight-line (linear) model: put an activation such as "
               "nn.ReLU() between the two Linear layers.")


__all__ = ["q1", "q2", "q3", "q4", "q5", "q6", "q7"]
