"""Lesson 03 checks: several correct answers pass, typical mistakes fail with their hint."""

import math
import time

import numpy as np
import pytest
import torch
from checkcases import args, assert_complete, cases, lazy, verify
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset, random_split

from helpers.checks import lesson03
from helpers.data import CROP_INPUTS, CROP_TARGETS, load_crop_yields


def not_implemented(*_):
    raise NotImplementedError("Write your code here")


# ---------------------------------------------------------------- q1: Dataset classes for any table


class TensorsOnce(Dataset):  # convert once, index later
    def __init__(self, frame, input_columns, target_columns):
        self.inputs = torch.tensor(frame[input_columns].to_numpy(), dtype=torch.float32)
        self.targets = torch.tensor(frame[target_columns].to_numpy(), dtype=torch.float32)

    def __len__(self):
        return len(self.inputs)

    def __getitem__(self, index):
        return self.inputs[index], self.targets[index]


class RowByRow(Dataset):  # keeps the frame, reads one row per item
    def __init__(self, frame, input_columns, target_columns):
        self.frame, self.ins, self.outs = frame, input_columns, target_columns

    def __len__(self):
        return len(self.frame)

    def __getitem__(self, index):
        row = self.frame.iloc[index]
        return (torch.tensor(row[self.ins].to_numpy(dtype=np.float32)),
                torch.tensor(row[self.outs].to_numpy(dtype=np.float32)))


class PlainClassList:  # not a Dataset subclass, returns a list: a DataLoader accepts it
    def __init__(self, frame, input_columns, target_columns):
        self.x = torch.from_numpy(frame[input_columns].to_numpy(dtype=float).copy()).float()
        self.y = torch.from_numpy(frame[target_columns].to_numpy(dtype=float).copy()).float()

    def __len__(self):
        return self.x.shape[0]

    def __getitem__(self, index):
        return [self.x[index], self.y[index]]


def tensor_dataset_factory(frame, input_columns, target_columns):
    return TensorDataset(torch.tensor(frame[input_columns].values.astype("float32")),
                         torch.tensor(frame[target_columns].values.astype("float32")))


class IntegerTensors(TensorsOnce):  # forgot the dtype: whole numbers stay int64 (on crops)
    def __init__(self, frame, input_columns, target_columns):
        self.inputs = torch.tensor(frame[input_columns].to_numpy())
        self.targets = torch.tensor(frame[target_columns].to_numpy())


class Float64Tensors(TensorsOnce):  # NumPy's default float
    def __init__(self, frame, input_columns, target_columns):
        self.inputs = torch.from_numpy(frame[input_columns].to_numpy(dtype=float))
        self.targets = torch.from_numpy(frame[target_columns].to_numpy(dtype=float))


class LenOfColumns(TensorsOnce):
    def __init__(self, frame, input_columns, target_columns):
        super().__init__(frame, input_columns, target_columns)
        self.frame = frame

    def __len__(self):
        return len(self.frame.columns)


class ByLabel(RowByRow):  # .loc reads the index label, not the position
    def __getitem__(self, index):
        row = self.frame.loc[index]
        return (torch.tensor(row[self.ins].to_numpy(dtype=np.float32)),
                torch.tensor(row[self.outs].to_numpy(dtype=np.float32)))


class RowAsFrame(RowByRow):  # iloc[[i]] keeps a one-row table: shape (1, 3)
    def __getitem__(self, index):
        rows = self.frame.iloc[[index]]
        return (torch.tensor(rows[self.ins].to_numpy(), dtype=torch.float32),
                torch.tensor(rows[self.outs].to_numpy(), dtype=torch.float32))


class ColumnsByPosition(TensorsOnce):  # right for the crop CSV's order, wrong for any other
    def __init__(self, frame, input_columns, target_columns):
        self.inputs = torch.tensor(frame.iloc[:, 1:4].to_numpy(dtype=float), dtype=torch.float32)
        self.targets = torch.tensor(frame.iloc[:, 4:6].to_numpy(dtype=float), dtype=torch.float32)


class HardCodedCrops(TensorsOnce):  # ignores the column arguments (hostile)
    def __init__(self, frame, input_columns, target_columns):
        super().__init__(frame, CROP_INPUTS, CROP_TARGETS)


class SortedColumns(TensorsOnce):  # the right columns in the wrong order
    def __init__(self, frame, input_columns, target_columns):
        super().__init__(frame, sorted(input_columns), sorted(target_columns))


class FirstTargetOnly(TensorsOnce):  # a scalar target: shape () instead of (1,)
    def __init__(self, frame, input_columns, target_columns):
        super().__init__(frame, input_columns, target_columns[0])


class InputsOnly(TensorsOnce):
    def __getitem__(self, index):
        return self.inputs[index]


class GetitemMisspelled(Dataset):  # __getitem_ with one underscore: an attempt, not the placeholder
    def __init__(self, frame, input_columns, target_columns):
        self.inputs = torch.tensor(frame[input_columns].to_numpy(), dtype=torch.float32)

    def __len__(self):
        return len(self.inputs)

    def __getitem_(self, index):
        return self.inputs[index]


class NotWrittenYet(Dataset):  # the exercise notebook's placeholder
    def __init__(self, frame, input_columns, target_columns):
        raise NotImplementedError("Write your code here")


# ---------------------------------------------------------------- q3: loaders


def crop_dataset():
    crops = load_crop_yields(15)
    return TensorDataset(torch.tensor(crops[CROP_INPUTS].to_numpy(), dtype=torch.float32),
                         torch.tensor(crops[CROP_TARGETS].to_numpy(), dtype=torch.float32))


def loaders(train=None, evaluation=None):
    ds = crop_dataset()
    train = train or {"batch_size": 4, "shuffle": True, "drop_last": True}
    evaluation = evaluation or {"batch_size": 4}
    return args(DataLoader(ds, **train), DataLoader(ds, **evaluation))


# ---------------------------------------------------------------- q4: apple loaders


def apple_loader(frame, batch_size):
    x = torch.tensor(frame[CROP_INPUTS].to_numpy(), dtype=torch.float32)
    y = torch.tensor(frame[["apples_t_ha"]].to_numpy(), dtype=torch.float32)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)


def apple_loader_unsqueeze(frame, batch_size):
    x = torch.from_numpy(frame[CROP_INPUTS].to_numpy()).float()
    y = torch.tensor(frame["apples_t_ha"].to_numpy()).float().unsqueeze(1)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size)


def apple_loader_broken(frame, batch_size):  # the exercise's starting point
    x = torch.tensor(frame[CROP_INPUTS].to_numpy())
    y = torch.tensor(frame["apples_t_ha"].to_numpy())
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)


def apple_loader_int(frame, batch_size):  # right shapes, integer dtype
    x = torch.tensor(frame[CROP_INPUTS].to_numpy())
    y = torch.tensor(frame[["apples_t_ha"]].to_numpy())
    return DataLoader(TensorDataset(x, y), batch_size=batch_size)


def apple_loader_flat_float(frame, batch_size):  # float32 but still (batch,)
    x = torch.tensor(frame[CROP_INPUTS].to_numpy(), dtype=torch.float32)
    y = torch.tensor(frame["apples_t_ha"].to_numpy(), dtype=torch.float32)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size)


def orange_loader(frame, batch_size):
    x = torch.tensor(frame[CROP_INPUTS].to_numpy(), dtype=torch.float32)
    y = torch.tensor(frame[["oranges_t_ha"]].to_numpy(), dtype=torch.float32)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size)


def apple_loader_drop_last(frame, batch_size):
    return DataLoader(apple_loader(frame, batch_size).dataset, batch_size=batch_size, drop_last=True)


def apple_loader_mixed_up(frame, batch_size):  # targets shuffled apart from their inputs
    x = torch.tensor(frame[CROP_INPUTS].to_numpy(), dtype=torch.float32)
    y = torch.tensor(frame[["apples_t_ha"]].to_numpy()[::-1].copy(), dtype=torch.float32)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size)


# ---------------------------------------------------------------- q5: one epoch


def epoch_weighted(model, loss_fn, optimizer, loader):
    model.train()
    total, n = 0.0, 0
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
        n += len(xb)
    return total / n


def epoch_zero_grad_last(model, loss_fn, optimizer, loader):  # zero_grad after step, tensor result
    losses = []
    for xb, yb in loader:
        loss = loss_fn(yb, model(xb))  # MSE is symmetric
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.detach() * xb.shape[0])
    return torch.stack(losses).sum() / len(loader.dataset)


def epoch_graph_attached(model, loss_fn, optimizer, loader):  # sums loss tensors, not .item()
    total, n = 0, 0
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total = total + loss * len(xb)  # still attached to the graph: wasteful, but correct
        n += len(xb)
    return total / n


def epoch_no_zero_grad(model, loss_fn, optimizer, loader):
    total, n = 0.0, 0
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
        n += len(xb)
    return total / n


def epoch_no_step(model, loss_fn, optimizer, loader):
    total, n = 0.0, 0
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        total += loss.item() * len(xb)
        n += len(xb)
    return total / n


def epoch_no_backward(model, loss_fn, optimizer, loader):
    total, n = 0.0, 0
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        optimizer.step()
        total += loss.item() * len(xb)
        n += len(xb)
    return total / n


def epoch_mean_of_means(model, loss_fn, optimizer, loader):
    losses = []
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def epoch_last_loss(model, loss_fn, optimizer, loader):
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def epoch_returns_nothing(model, loss_fn, optimizer, loader):
    epoch_weighted(model, loss_fn, optimizer, loader)


def epoch_zero_grad_between(model, loss_fn, optimizer, loader):  # the exercise's broken order
    total, n = 0.0, 0
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        total += loss.item() * len(xb)
        n += len(xb)
    return total / n


def epoch_numpy_scalar(model, loss_fn, optimizer, loader):  # returns a NumPy float
    return np.float64(epoch_weighted(model, loss_fn, optimizer, loader))


# ---------------------------------------------------------------- q6: split with training-only statistics


def split_random_split(inputs, targets, n_val, seed):
    generator = torch.Generator().manual_seed(seed)
    train_part, val_part = random_split(range(len(inputs)), [len(inputs) - n_val, n_val], generator=generator)
    tr, va = list(train_part), list(val_part)
    mean, std = inputs[tr].mean(dim=0), inputs[tr].std(dim=0)
    return TensorDataset((inputs[tr] - mean) / std, targets[tr]), TensorDataset((inputs[va] - mean) / std,
                                                                                 targets[va])


def split_randperm_numpy_std(inputs, targets, n_val, seed):  # randperm, NumPy's std, float64
    order = torch.randperm(len(inputs), generator=torch.Generator().manual_seed(seed))
    va, tr = order[:n_val], order[n_val:]
    raw = inputs.double().numpy()
    mean, std = raw[tr.numpy()].mean(axis=0), raw[tr.numpy()].std(axis=0)
    scaled = torch.from_numpy((raw - mean) / std)
    return TensorDataset(scaled[tr], targets[tr]), TensorDataset(scaled[va], targets[va])


class Standardised(Dataset):  # a Subset-like view with a transform
    def __init__(self, inputs, targets, rows, mean, std):
        self.inputs, self.targets, self.rows, self.mean, self.std = inputs, targets, rows, mean, std

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        r = self.rows[i]
        return (self.inputs[r] - self.mean) / self.std, self.targets[r]


def split_views(inputs, targets, n_val, seed):
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(inputs)).tolist()
    tr, va = order[n_val:], order[:n_val]
    mean, std = inputs[tr].mean(dim=0), inputs[tr].std(dim=0)
    return Standardised(inputs, targets, tr, mean, std), Standardised(inputs, targets, va, mean, std)


def split_all_statistics(inputs, targets, n_val, seed):  # the leak: statistics of every row
    scaled = (inputs - inputs.mean(dim=0)) / inputs.std(dim=0)
    tr, va = random_split(range(len(inputs)), [len(inputs) - n_val, n_val],
                          generator=torch.Generator().manual_seed(seed))
    return TensorDataset(scaled[list(tr)], targets[list(tr)]), TensorDataset(scaled[list(va)], targets[list(va)])


def split_val_own_statistics(inputs, targets, n_val, seed):
    train_ds, _ = split_random_split(inputs, targets, n_val, seed)
    generator = torch.Generator().manual_seed(seed)
    _, val_part = random_split(range(len(inputs)), [len(inputs) - n_val, n_val], generator=generator)
    va = list(val_part)
    raw = inputs[va]
    return train_ds, TensorDataset((raw - raw.mean(dim=0)) / raw.std(dim=0), targets[va])


def split_ignores_seed(inputs, targets, n_val, seed):  # hostile: a fixed split
    return split_random_split(inputs, targets, n_val, 0)


def split_first_rows(inputs, targets, n_val, seed):  # not random at all
    n = len(inputs) - n_val
    mean, std = inputs[:n].mean(dim=0), inputs[:n].std(dim=0)
    return TensorDataset((inputs[:n] - mean) / std, targets[:n]), TensorDataset((inputs[n:] - mean) / std,
                                                                                 targets[n:])


def split_in_place(inputs, targets, n_val, seed):  # hostile: standardises the caller's tensor in place
    order = torch.randperm(len(inputs), generator=torch.Generator().manual_seed(seed))
    tr, va = order[n_val:], order[:n_val]
    mean, std = inputs[tr].mean(dim=0), inputs[tr].std(dim=0)
    inputs.sub_(mean).div_(std)
    return TensorDataset(inputs[tr], targets[tr]), TensorDataset(inputs[va], targets[va])


def split_swapped(inputs, targets, n_val, seed):
    train_ds, val_ds = split_random_split(inputs, targets, n_val, seed)
    return val_ds, train_ds


def split_raw(inputs, targets, n_val, seed):
    order = torch.randperm(len(inputs), generator=torch.Generator().manual_seed(seed))
    return TensorDataset(inputs[order[n_val:]], targets[order[n_val:]]), TensorDataset(inputs[order[:n_val]],
                                                                                         targets[order[:n_val]])


def split_scaled_targets(inputs, targets, n_val, seed):  # standardises the targets too
    train_ds, val_ds = split_random_split(inputs, targets, n_val, seed)
    t = train_ds.tensors[1]
    return TensorDataset(train_ds.tensors[0], (t - t.mean(dim=0)) / t.std(dim=0)), val_ds


# ---------------------------------------------------------------- q7: networks


class SigmoidNet(nn.Module):
    def __init__(self, n_inputs, hidden_units, n_outputs):
        super().__init__()
        self.hidden = nn.Linear(n_inputs, hidden_units)
        self.out = nn.Linear(hidden_units, n_outputs)

    def forward(self, x):
        return self.out(torch.sigmoid(self.hidden(x)))


class NoActivationNet(SigmoidNet):  # a subclass with no activation: still a straight line
    def forward(self, x):
        return self.out(self.hidden(x))


class ForwardMisspelledNet(nn.Module):
    def __init__(self, n_inputs, hidden_units, n_outputs):
        super().__init__()
        self.hidden = nn.Linear(n_inputs, hidden_units)
        self.out = nn.Linear(hidden_units, n_outputs)

    def foward(self, x):
        return self.out(torch.relu(self.hidden(x)))


# ---------------------------------------------------------------- q8: group splits


def group_split_randperm(groups, n_val_groups, seed):
    names = sorted(set(np.asarray(groups).tolist()))
    chosen = torch.randperm(len(names), generator=torch.Generator().manual_seed(seed))[:n_val_groups].tolist()
    val_names = {names[i] for i in chosen}
    labels = np.asarray(groups).tolist()
    return ([i for i, g in enumerate(labels) if g not in val_names],
            [i for i, g in enumerate(labels) if g in val_names])


def group_split_random_split_arrays(groups, n_val_groups, seed):  # random_split over names, arrays out
    labels = np.asarray(groups)
    names = list(dict.fromkeys(labels.tolist()))
    _, val_part = random_split(names, [len(names) - n_val_groups, n_val_groups],
                               generator=torch.Generator().manual_seed(seed))
    in_val = np.isin(labels, list(val_part))
    return np.flatnonzero(~in_val), torch.from_numpy(np.flatnonzero(in_val))


def group_split_rows(groups, n_val_groups, seed):  # splits rows, not groups: the leak
    order = torch.randperm(len(groups), generator=torch.Generator().manual_seed(seed)).tolist()
    return sorted(order[n_val_groups * 3:]), sorted(order[:n_val_groups * 3])


def group_split_n_rows(groups, n_val_groups, seed):  # holds out n rows of distinct groups
    labels = np.asarray(groups).tolist()
    first = {}
    for i, g in enumerate(labels):
        first.setdefault(g, i)
    val = sorted(first.values())[:n_val_groups]
    return [i for i in range(len(labels)) if i not in val], val


def group_split_fixed(groups, n_val_groups, seed):  # hostile: ignores the seed
    return group_split_randperm(groups, n_val_groups, 0)


def group_split_ignores_count(groups, n_val_groups, seed):  # hostile: always one group
    return group_split_randperm(groups, 1, seed)


def group_split_drops_rows(groups, n_val_groups, seed):
    train, val = group_split_randperm(groups, n_val_groups, seed)
    return train[1:], val


# ---------------------------------------------------------------- q9: mean absolute error


def mae_running_sum(model, loader):
    model.eval()
    total, n = 0.0, 0
    with torch.inference_mode():
        for xb, yb in loader:
            total = total + (model(xb) - yb).abs().sum(dim=0)
            n += len(xb)
    return total / n


def mae_concatenate_float64(model, loader):  # gathers everything, computes in float64
    with torch.no_grad():
        errors = torch.cat([(model(xb) - yb).abs().double() for xb, yb in loader])
    return errors.mean(dim=0)


def mae_weighted_batch_means(model, loader):  # batch means weighted by size: also right
    model.eval()
    total, n = torch.zeros(2), 0
    with torch.inference_mode():
        for xb, yb in loader:
            total += torch.mean(torch.abs(model(xb) - yb), dim=0) * len(xb)
            n += len(xb)
    return total / n


def mae_mean_of_means(model, loader):
    with torch.inference_mode():
        means = [(model(xb) - yb).abs().mean(dim=0) for xb, yb in loader]
    return torch.stack(means).mean(dim=0)


def mae_first_batch(model, loader):
    xb, yb = next(iter(loader))
    with torch.inference_mode():
        return (model(xb) - yb).abs().mean(dim=0)


def mae_squared(model, loader):
    with torch.inference_mode():
        return torch.cat([(model(xb) - yb) ** 2 for xb, yb in loader]).mean(dim=0)


def mae_one_number(model, loader):
    return mae_running_sum(model, loader).mean()


def mae_with_grad(model, loader):
    errors = torch.cat([(model(xb) - yb).abs() for xb, yb in loader])
    return errors.mean(dim=0)


def mae_trains(model, loader):  # hostile: takes optimizer steps while "evaluating"
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for xb, yb in loader:
        loss = (model(xb) - yb).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return mae_running_sum(model, loader)


CASES = {
    "q1": {
        "correct": [TensorsOnce, RowByRow, PlainClassList, tensor_dataset_factory],
        "wrong": [
            (IntegerTensors, "whole numbers"),
            (Float64Tensors, "float32"),
            (LenOfColumns, "number of columns"),
            (ByLabel, "iloc"),
            (RowAsFrame, "(1, 3)"),
            (ColumnsByPosition, "select the columns by name"),
            (HardCodedCrops, "mtcars"),
            (SortedColumns, "in the order given"),
            (FirstTargetOnly, "have shape ()"),
            (InputsOnly, "pair"),
            (GetitemMisspelled, "__getitem__"),
            (lazy(lambda: TensorsOnce(load_crop_yields(15), CROP_INPUTS, CROP_TARGETS)), "pass the class itself"),
        ],
        "placeholder": NotWrittenYet,
    },
    "q2": {
        "correct": [
            lambda n, b, drop_last: n // b if drop_last else math.ceil(n / b),
            lambda n, b, drop_last: n // b if drop_last else -(-n // b),
            lambda n, b, drop_last: len(DataLoader(range(n), batch_size=b, drop_last=drop_last)),
            lambda n, b, drop_last: (n if drop_last else n + b - 1) // b,
            lambda n, b, drop_last: np.int64(n // b if drop_last else math.ceil(n / b)),  # a NumPy integer
        ],
        "wrong": [
            (lambda n, b, drop_last: n // b, "round up then"),
            (lambda n, b, drop_last: math.ceil(n / b), "round down then"),
            (lambda n, b, drop_last: n / b, "not a whole number"),
            (lambda n, b, drop_last: n // b if drop_last else n // b + 1, "divides n_samples exactly"),
            (lambda n, b, drop_last: None, "whole number"),
            (lambda n, b, drop_last: 4, "returned 4, expected 3"),  # hard-coded: right for the example only
            (lambda n, b, drop_last: list(range(10 ** 5)), "100000 items"),  # huge: described, not dumped
        ],
        "placeholder": not_implemented,
    },
    "q3": {
        "correct": [
            lazy(loaders),
            lazy(lambda: loaders(
                train={"batch_size": 4, "shuffle": True, "drop_last": True,
                       "generator": torch.Generator().manual_seed(1)},
                evaluation={"batch_size": 15})),
            lazy(lambda: loaders(evaluation={"batch_size": 5, "shuffle": True})),
        ],
        "wrong": [
            (lazy(lambda: loaders(train={"batch_size": 4, "shuffle": True})), "drop_last=True"),
            (lazy(lambda: loaders(train={"batch_size": 4, "drop_last": True})), "shuffle=True"),
            (lazy(lambda: loaders(evaluation={"batch_size": 4, "drop_last": True})), "skips 3"),
            (lazy(lambda: loaders(train={"batch_size": 5, "shuffle": True, "drop_last": True})),
             "batch_size=4"),
            (lazy(lambda: args([crop_dataset()[0:4]], DataLoader(crop_dataset()))), "DataLoader"),
        ],
        "placeholder": args(..., ...),
    },
    "q4": {
        "correct": [apple_loader, apple_loader_unsqueeze],
        "wrong": [
            (apple_loader_broken, "double brackets"),
            (apple_loader_flat_float, "broadcast"),
            (apple_loader_int, "float32"),
            (orange_loader, "orange"),
            (apple_loader_drop_last, "keep every region"),
            (apple_loader_mixed_up, "do not match"),
        ],
        "placeholder": not_implemented,
    },
    "q5": {
        "correct": [epoch_weighted, epoch_zero_grad_last, epoch_graph_attached, epoch_numpy_scalar],
        "wrong": [
            (epoch_zero_grad_between, "never between backward() and step()"),
            (epoch_no_zero_grad, "pile up"),
            (epoch_no_step, "did not change"),
            (epoch_no_backward, "did not change"),
            (epoch_mean_of_means, "weight each batch"),
            (epoch_last_loss, "last batch"),
            (epoch_returns_nothing, "returned None"),
        ],
        "placeholder": not_implemented,
    },
    "q6": {
        "correct": [split_random_split, split_randperm_numpy_std, split_views],
        "wrong": [
            (split_all_statistics, "all the rows"),
            (split_val_own_statistics, "their own mean"),
            (split_ignores_seed, "seeds 0, 1, 2 and 3"),
            (split_first_rows, "seeds 0, 1, 2 and 3"),
            (split_in_place, "changed its input"),
            (split_swapped, "swapped"),
            (split_raw, "raw inputs"),
            (split_scaled_targets, "keep the targets as they are"),
            (lambda inputs, targets, n_val, seed: (inputs, targets), "rows"),
        ],
        "placeholder": not_implemented,
    },
    "q7": {
        "correct": [
            lambda i, h, o: nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o)),
            lambda i, h, o: nn.Sequential(nn.Linear(i, h), nn.Tanh(), nn.Linear(h, o)),
            lambda i, h, o: nn.Sequential(nn.Linear(i, h), nn.GELU(), nn.Linear(h, o)),
            SigmoidNet,
        ],
        "wrong": [
            (lambda i, h, o: nn.Sequential(nn.Linear(i, h), nn.Linear(h, o)), "straight-line"),
            (NoActivationNet, "straight-line"),
            (lambda i, h, o: nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o), nn.ReLU()),
             "ends with ReLU"),
            # hostile: ignores the sizes it is given
            (lambda i, h, o: nn.Sequential(nn.Linear(3, h), nn.ReLU(), nn.Linear(h, 2)), "raised"),
            (lambda i, h, o: nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, 1)), "expected (5, 2)"),
            (lambda i, h, o: nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(),
                                           nn.Linear(h, o)), "parameters"),
            (ForwardMisspelledNet, "forward"),
            (lambda i, h, o: SigmoidNet, "returned a class"),
        ],
        "placeholder": not_implemented,
    },
    "q8": {
        "correct": [group_split_randperm, group_split_random_split_arrays],
        "wrong": [
            (group_split_rows, "hold out whole groups"),
            (group_split_n_rows, "hold out whole groups"),
            (group_split_fixed, "seeds 0, 1, 2 and 3"),
            (group_split_ignores_count, "expected 2"),
            (group_split_drops_rows, "in neither part"),
            (lambda groups, n, seed: "train", "return (train_rows, val_rows)"),
        ],
        "placeholder": not_implemented,
    },
    "q9": {
        "correct": [mae_running_sum, mae_concatenate_float64, mae_weighted_batch_means],
        "wrong": [
            (mae_mean_of_means, "mean of the batch means"),
            (mae_first_batch, "first batch only"),
            (mae_squared, "squared"),
            (mae_one_number, "shape (2,)"),
            (mae_with_grad, "requires_grad"),
            (mae_trains, "changed the model's parameters"),
            (lambda model, loader: torch.full((2,), 1e6), "(dtype torch.float32)"),
        ],
        "placeholder": not_implemented,
    },
}


def test_cases_cover_every_check():
    assert_complete(lesson03, CASES)


@pytest.mark.parametrize("name, answer, status, hint", cases(lesson03, CASES))
def test_check(name, answer, status, hint):
    verify(lesson03, name, answer, status, hint)


def test_q5_accepts_a_graph_attached_loss_without_a_warning(recwarn):
    assert lesson03.q5.evaluate(epoch_graph_attached).status == "correct"
    assert not [w for w in recwarn if "requires_grad" in str(w.message)]


def test_hints_stay_short_for_huge_answers():
    outcome = lesson03.q2.evaluate(lambda n, b, drop_last: list(range(10 ** 5)))
    assert outcome.status == "incorrect" and len(outcome.message) < 700


@pytest.mark.parametrize("name, answer", [
    ("q5", epoch_zero_grad_between), ("q6", split_all_statistics), ("q7", NoActivationNet),
    ("q8", group_split_rows),
])
def test_wrong_answers_are_judged_fast(name, answer):
    start = time.perf_counter()
    assert getattr(lesson03, name).evaluate(answer).status == "incorrect"
    assert time.perf_counter() - start < 3.0  # about a second on a busy 2-core machine


def test_checks_leave_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    lesson03.q3.evaluate(*loaders().args)
    lesson03.q4.evaluate(apple_loader)
    lesson03.q6.evaluate(split_random_split)
    lesson03.q7.evaluate(lambda i, h, o: nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o)))
    lesson03.q8.evaluate(group_split_randperm)
    assert torch.equal(torch.rand(3), expected)
