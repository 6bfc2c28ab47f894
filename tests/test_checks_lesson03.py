"""Lesson 03 checks: several correct answers pass, typical mistakes fail with their hint."""

import math

import numpy as np
import pytest
import torch
from checkcases import args, assert_complete, cases, lazy, verify
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from helpers.checks import lesson03
from helpers.data import CROP_INPUTS, CROP_TARGETS, load_crop_yields


def not_implemented(*_):
    raise NotImplementedError("Write your code here")


# ---------------------------------------------------------------- q1: Dataset classes


class TensorsOnce(Dataset):  # the lesson's way: convert once, index later
    def __init__(self, frame):
        self.inputs = torch.tensor(frame[CROP_INPUTS].to_numpy(), dtype=torch.float32)
        self.targets = torch.tensor(frame[CROP_TARGETS].to_numpy(), dtype=torch.float32)

    def __len__(self):
        return len(self.inputs)

    def __getitem__(self, index):
        return self.inputs[index], self.targets[index]


class RowByRow(Dataset):  # keeps the frame, reads one row per item
    def __init__(self, frame):
        self.frame = frame

    def __len__(self):
        return len(self.frame)

    def __getitem__(self, index):
        row = self.frame.iloc[index]
        return (torch.tensor(row[CROP_INPUTS].to_numpy(dtype=np.float32)),
                torch.tensor(row[CROP_TARGETS].to_numpy(dtype=np.float32)))


class PlainClassList:  # not a Dataset subclass, returns a list: a DataLoader accepts it
    def __init__(self, frame):
        self.x = torch.from_numpy(frame[CROP_INPUTS].to_numpy()).float()
        self.y = torch.from_numpy(frame[CROP_TARGETS].to_numpy()).float()

    def __len__(self):
        return self.x.shape[0]

    def __getitem__(self, index):
        return [self.x[index], self.y[index]]


def tensor_dataset_factory(frame):
    return TensorDataset(torch.tensor(frame[CROP_INPUTS].values, dtype=torch.float32),
                         torch.tensor(frame[CROP_TARGETS].values, dtype=torch.float32))


class IntegerTensors(TensorsOnce):  # forgot the dtype: the CSV's whole numbers stay int64
    def __init__(self, frame):
        self.inputs = torch.tensor(frame[CROP_INPUTS].to_numpy())
        self.targets = torch.tensor(frame[CROP_TARGETS].to_numpy())


class Float64Tensors(TensorsOnce):  # NumPy's default float
    def __init__(self, frame):
        self.inputs = torch.from_numpy(frame[CROP_INPUTS].to_numpy(dtype=float))
        self.targets = torch.from_numpy(frame[CROP_TARGETS].to_numpy(dtype=float))


class LenOfColumns(TensorsOnce):
    def __init__(self, frame):
        super().__init__(frame)
        self.frame = frame

    def __len__(self):
        return len(self.frame.columns)


class ByLabel(RowByRow):  # .loc reads the index label, not the position
    def __getitem__(self, index):
        row = self.frame.loc[index]
        return (torch.tensor(row[CROP_INPUTS].to_numpy(dtype=np.float32)),
                torch.tensor(row[CROP_TARGETS].to_numpy(dtype=np.float32)))


class RowAsFrame(RowByRow):  # iloc[[i]] keeps a one-row table: shape (1, 3)
    def __getitem__(self, index):
        rows = self.frame.iloc[[index]]
        return (torch.tensor(rows[CROP_INPUTS].to_numpy(), dtype=torch.float32),
                torch.tensor(rows[CROP_TARGETS].to_numpy(), dtype=torch.float32))


class ColumnsByPosition(TensorsOnce):  # right for the CSV's order, wrong for any other
    def __init__(self, frame):
        self.inputs = torch.tensor(frame.iloc[:, 1:4].to_numpy(dtype=float), dtype=torch.float32)
        self.targets = torch.tensor(frame.iloc[:, 4:6].to_numpy(dtype=float), dtype=torch.float32)


class InputsOnly(TensorsOnce):
    def __getitem__(self, index):
        return self.inputs[index]


class NotWrittenYet(Dataset):  # the exercise notebook's placeholder
    def __init__(self, frame):
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


# ---------------------------------------------------------------- q6: predictions


def predict_inference_mode(model, raw_inputs, mean, std):
    model.eval()
    with torch.inference_mode():
        return model((raw_inputs - mean) / std)


def predict_no_grad(model, raw_inputs, mean, std):
    scaled = (raw_inputs - mean) / std
    with torch.no_grad():
        model.eval()
        predictions = model(scaled)
    return predictions


def predict_detach(model, raw_inputs, mean, std):
    model.eval()
    return model(raw_inputs.sub(mean).div(std)).detach()


def predict_unscaled(model, raw_inputs, mean, std):
    model.eval()
    with torch.inference_mode():
        return model(raw_inputs)


def predict_train_mode(model, raw_inputs, mean, std):
    with torch.inference_mode():
        return model((raw_inputs - mean) / std)


def predict_with_grad(model, raw_inputs, mean, std):
    model.eval()
    return model((raw_inputs - mean) / std)


def predict_numpy(model, raw_inputs, mean, std):
    return predict_inference_mode(model, raw_inputs, mean, std).numpy()


# ---------------------------------------------------------------- q7: networks


class SigmoidNet(nn.Module):
    def __init__(self, hidden_units):
        super().__init__()
        self.hidden = nn.Linear(3, hidden_units)
        self.out = nn.Linear(hidden_units, 2)

    def forward(self, x):
        return self.out(torch.sigmoid(self.hidden(x)))


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
            (InputsOnly, "pair"),
            (lazy(lambda: TensorsOnce(load_crop_yields(15))), "pass the class itself"),
        ],
        "placeholder": NotWrittenYet,
    },
    "q2": {
        "correct": [
            lambda n, b, drop_last: n // b if drop_last else math.ceil(n / b),
            lambda n, b, drop_last: n // b if drop_last else -(-n // b),
            lambda n, b, drop_last: len(DataLoader(range(n), batch_size=b, drop_last=drop_last)),
            lambda n, b, drop_last: (n if drop_last else n + b - 1) // b,
        ],
        "wrong": [
            (lambda n, b, drop_last: n // b, "round up"),
            (lambda n, b, drop_last: math.ceil(n / b), "round down"),
            (lambda n, b, drop_last: n / b, "not a whole number"),
            (lambda n, b, drop_last: n // b if drop_last else n // b + 1, "divides 15 exactly"),
            (lambda n, b, drop_last: None, "whole number"),
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
        "correct": [epoch_weighted, epoch_zero_grad_last, epoch_graph_attached],
        "wrong": [
            (epoch_no_zero_grad, "zero_grad"),
            (epoch_no_step, "optimizer.step()"),
            (epoch_no_backward, "loss.backward()"),
            (epoch_mean_of_means, "weight each batch"),
            (epoch_last_loss, "last batch"),
            (epoch_returns_nothing, "returned None"),
        ],
        "placeholder": not_implemented,
    },
    "q6": {
        "correct": [predict_inference_mode, predict_no_grad, predict_detach],
        "wrong": [
            (predict_unscaled, "standardised inputs"),
            (predict_train_mode, "model.eval()"),
            (predict_with_grad, "inference_mode"),
            (predict_numpy, "no .numpy()"),
            (lambda model, raw_inputs, mean, std: 0.0, "torch.Tensor"),
        ],
        "placeholder": not_implemented,
    },
    "q7": {
        "correct": [
            lambda h: nn.Sequential(nn.Linear(3, h), nn.ReLU(), nn.Linear(h, 2)),
            lambda h: nn.Sequential(nn.Linear(3, h), nn.Tanh(), nn.Linear(h, 2)),
            lambda h: nn.Sequential(nn.Linear(3, h), nn.GELU(), nn.Dropout(0.1), nn.Linear(h, 2)),
            SigmoidNet,
        ],
        "wrong": [
            (lambda h: nn.Sequential(nn.Linear(3, h), nn.Linear(h, 2)), "straight-line"),
            (lambda h: nn.Sequential(nn.Linear(3, h), nn.ReLU(), nn.Linear(h, 2), nn.ReLU()),
             "ends with ReLU"),
            (lambda h: nn.Sequential(nn.Linear(3, h), nn.ReLU(), nn.Linear(h, 1)), "expected (5, 2)"),
            (lambda h: nn.Sequential(nn.Linear(3, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(),
                                     nn.Linear(h, 2)), "parameters"),
            (lambda h: SigmoidNet, "returned a class"),
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


def test_checks_leave_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    lesson03.q3.evaluate(*loaders().args)
    lesson03.q4.evaluate(apple_loader)
    lesson03.q7.evaluate(lambda h: nn.Sequential(nn.Linear(3, h), nn.Dropout(0.5), nn.ReLU(),
                                                 nn.Linear(h, 2)))
    assert torch.equal(torch.rand(3), expected)

