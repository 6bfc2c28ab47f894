"""Lesson 02 checks: several correct answers pass, typical mistakes fail with their hint."""

import numpy as np
import pytest
import torch
from checkcases import assert_complete, cases, lazy, verify
from torch import nn
from torch.nn import functional as F

from helpers.checks import lesson02
from helpers.data import CROP_INPUTS, CROP_TARGETS, load_crop_yields, load_mtcars


def not_implemented(*_):
    raise NotImplementedError("Write your code here")


# q1: a linear layer from nn.Parameter
class ParameterLinear(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x):
        return x @ self.weight.T + self.bias


class TransposedStorage(nn.Module):  # weight stored as (in, out): also a correct linear layer
    def __init__(self, in_features, out_features):
        super().__init__()
        self.w = nn.Parameter(torch.randn(in_features, out_features) * 0.1)
        self.b = nn.Parameter(torch.randn(out_features))

    def forward(self, x):
        return torch.addmm(self.b, x, self.w)


class WrapsLinear(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.layer = nn.Linear(in_features, out_features)

    def forward(self, x):
        return self.layer(x)


class PlainTensors(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = torch.randn(out_features, in_features, requires_grad=True)
        self.bias = torch.zeros(out_features, requires_grad=True)

    def forward(self, x):
        return x @ self.weight.T + self.bias


class NoSuper(nn.Module):
    def __init__(self, in_features, out_features):
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x):
        return x @ self.weight.T + self.bias


class NoBias(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))

    def forward(self, x):
        return x @ self.weight.T


class NoTranspose(ParameterLinear):
    def forward(self, x):
        return x @ self.weight + self.bias


class BiasUnused(ParameterLinear):
    def forward(self, x):
        return x @ self.weight.T


class FreshWeightsEachCall(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.shape = (out_features, in_features)
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x):
        return x @ torch.randn(self.shape).T + self.weight.sum() * 0 + self.bias


class Placeholder(nn.Module):  # what the exercises notebook starts with
    def __init__(self, in_features, out_features):
        raise NotImplementedError("Write your code here")

    def forward(self, x):
        raise NotImplementedError("Write your code here")


class Squared(ParameterLinear):
    def forward(self, x):
        return (x @ self.weight.T) ** 2 + self.bias


# q3: the training cycle
def train_correct(model, optimizer, X, y, epochs):
    loss_fn = nn.MSELoss()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def train_zero_grad_last(model, optimizer, X, y, epochs):  # zeroing after the step works too
    losses = []
    for _ in range(epochs):
        loss = F.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
        model.zero_grad()
        losses.append(loss.detach())
    return losses


def train_by_hand_mse(model, optimizer, X, y, epochs):
    losses = np.zeros(epochs)
    for epoch in range(epochs):
        optimizer.zero_grad()
        loss = ((model(X) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses[epoch] = loss.item()
    return losses


def train_no_zero_grad(model, optimizer, X, y, epochs):
    losses = []
    for _ in range(epochs):
        loss = F.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def train_no_backward(model, optimizer, X, y, epochs):
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = F.mse_loss(model(X), y)
        optimizer.step()
        losses.append(loss.item())
    return losses


def train_other_model(model, optimizer, X, y, epochs):  # an optimizer on another model's parameters
    other = nn.Linear(1, 1)
    return train_correct(other, torch.optim.SGD(other.parameters(), lr=0.1), X, y, epochs)


def train_l1(model, optimizer, X, y, epochs):
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = F.l1_loss(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def train_loss_after_step(model, optimizer, X, y, epochs):
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        F.mse_loss(model(X), y).backward()
        optimizer.step()
        with torch.no_grad():
            losses.append(F.mse_loss(model(X), y).item())
    return losses


def train_returns_last(model, optimizer, X, y, epochs):
    return train_correct(model, optimizer, X, y, epochs)[-1]


# q5: final losses of three optimisers
def cars():
    data = load_mtcars()
    return (torch.tensor(data[["wt"]].to_numpy(np.float32)), torch.tensor(data[["mpg"]].to_numpy(np.float32)))


def final_losses(settings, after_training=False, reuse_model=False):
    x, y = cars()
    results = {}
    torch.manual_seed(42)
    model = nn.Linear(1, 1)
    for name, make in settings.items():
        if not reuse_model:
            torch.manual_seed(42)
            model = nn.Linear(1, 1)
        losses = train_correct(model, make(model.parameters()), x, y, 300)
        if after_training:
            with torch.no_grad():
                losses.append(F.mse_loss(model(x), y).item())
        results[name] = losses[-1]
    return results


SETTINGS = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.02),
    "momentum": lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9),
    "adam": lambda p: torch.optim.Adam(p, lr=0.5),
}
WITHOUT_MOMENTUM = {**SETTINGS, "momentum": lambda p: torch.optim.SGD(p, lr=0.02)}


# q6: predictions
def predict_inference(model, X):
    model.eval()
    with torch.inference_mode():
        return model(X)


def predict_no_grad(model, X):
    model.eval()
    with torch.no_grad():
        return model(X)


def predict_detach(model, X):
    model.train(False)
    return model(X).detach()


# q7: crop yields
def crop_data():
    crops = load_crop_yields(5)
    return (torch.tensor(crops[CROP_INPUTS].to_numpy(np.float32)),
            torch.tensor(crops[CROP_TARGETS].to_numpy(np.float32)))


def trained_crop_model(make_optimizer, epochs, model=None):
    X, Y = crop_data()
    torch.manual_seed(42)
    model = model or nn.Linear(3, 2)
    train_correct(model, make_optimizer(model.parameters()), X, Y, epochs)
    return model


def crop_model_on_standardised_inputs():
    X, Y = crop_data()
    torch.manual_seed(42)
    model = nn.Linear(3, 2)
    X_std = (X - X.mean(0)) / X.std(0)
    train_correct(model, torch.optim.SGD(model.parameters(), lr=0.1), X_std, Y, 500)
    return model


CASES = {
    "q1": {
        "correct": [ParameterLinear, TransposedStorage, WrapsLinear],
        "wrong": [
            (PlainTensors, "nn.Parameter"),
            (NoSuper, "super().__init__()"),
            (NoBias, "add a bias"),
            (NoTranspose, "x @ self.weight.T"),
            (BiasUnused, "does not use"),
            (FreshWeightsEachCall, "create the parameters once"),
            (Squared, "not a linear function"),
            (ParameterLinear(3, 2), "not an instance"),
        ],
        "placeholder": Placeholder,
    },
    "q2": {
        "correct": [
            lambda m: sum(p.numel() for p in m.parameters()),
            lambda m: sum(v.numel() for v in m.state_dict().values()),
            lambda m: int(np.sum([np.prod(p.shape) for p in m.parameters()])),
            lambda m: torch.cat([p.detach().flatten() for p in m.parameters()]).numel(),
        ],
        "wrong": [
            (lambda m: len(list(m.parameters())), "number of parameter tensors"),
            (lambda m: sum(p.numel() for n, p in m.named_parameters() if "weight" in n), "biases"),
            (lambda m: sum(p.shape[0] for p in m.parameters()), "you counted"),
            (lambda m: list(m.parameters()), "number"),
        ],
        "placeholder": not_implemented,
    },
    "q3": {
        "correct": [train_correct, train_zero_grad_last, train_by_hand_mse],
        "wrong": [
            (train_no_zero_grad, "zero_grad"),
            (train_no_backward, "did not change"),
            (train_other_model, "did not change"),
            (train_l1, "MSELoss"),
            (train_loss_after_step, "before optimizer.step()"),
            (train_returns_last, "list of the losses"),
        ],
        "placeholder": not_implemented,
    },
    "q4": {
        "correct": [0.08, 0.06, np.float32(0.07), torch.tensor(0.075)],
        "wrong": [
            (0.02, "too small"),
            (0.001, "crawls"),
            (0.1, "explodes"),
            (0.0825, "too large"),
            (-0.05, "positive"),
            ("0.05", "number"),
        ],
    },
    "q5": {
        "correct": [
            lazy(lambda: final_losses(SETTINGS)),
            lazy(lambda: final_losses(SETTINGS, after_training=True)),
            lazy(lambda: {**final_losses(SETTINGS), "rmsprop": 8.7}),
        ],
        "wrong": [
            (lazy(lambda: final_losses(WITHOUT_MOMENTUM)), "momentum=0.9"),
            (lazy(lambda: final_losses(SETTINGS, reuse_model=True)), "fresh model"),
            (lazy(lambda: {k: v for k, v in final_losses(SETTINGS).items() if k != "adam"}), "missing"),
            ([25.29, 8.70, 8.74], "dict"),
        ],
    },
    "q6": {
        "correct": [predict_inference, predict_no_grad, predict_detach],
        "wrong": [
            (lambda m, X: m(X), "require grad"),
            (lambda m, X: m(X).detach(), "model.eval()"),
            (lambda m, X: predict_inference(m, X).numpy(), "NumPy array"),
            (lambda m, X: predict_inference(m, X).squeeze(1), "shape"),
        ],
        "placeholder": not_implemented,
    },
    "q7": {
        "correct": [
            lazy(lambda: trained_crop_model(lambda p: torch.optim.SGD(p, lr=1e-4), 1000)),
            lazy(lambda: trained_crop_model(lambda p: torch.optim.SGD(p, lr=1e-5), 2000)),
            lazy(lambda: trained_crop_model(lambda p: torch.optim.Adam(p, lr=0.1), 2000,
                                            nn.Sequential(nn.Linear(3, 2)))),
        ],
        "wrong": [
            (lazy(lambda: nn.Linear(3, 2)), "train longer"),
            (lazy(lambda: trained_crop_model(lambda p: torch.optim.SGD(p, lr=1e-5), 100)), "the goal is below"),
            (lazy(lambda: trained_crop_model(lambda p: torch.optim.SGD(p, lr=1e-3), 50)), "nan or inf"),
            (lazy(crop_model_on_standardised_inputs), "raw inputs"),
            (nn.Linear, "create an instance"),
            (lazy(lambda: nn.Linear(2, 2)), "your code raised RuntimeError"),
        ],
    },
}


def test_cases_cover_every_check():
    assert_complete(lesson02, CASES)


@pytest.mark.parametrize("name, answer, status, hint", cases(lesson02, CASES))
def test_check(name, answer, status, hint):
    verify(lesson02, name, answer, status, hint)
