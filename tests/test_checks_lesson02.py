"""Lesson 02 checks: several correct answers pass, typical mistakes and hostile answers fail with their hint."""

import time
import warnings

import numpy as np
import pytest
import torch
from checkcases import args, assert_complete, cases, lazy, verify
from torch import nn
from torch.nn import functional as F

from helpers.checks import lesson02
from helpers.data import CROP_INPUTS, CROP_TARGETS, load_crop_yields

SAVED_LINEAR = F.linear  # as `from torch.nn.functional import linear` at the top of a notebook


def not_implemented(*_):
    raise NotImplementedError("Write your code here")


# ----------------------------------------------------------------------------- q1
class ParameterLinear(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x):
        return x @ self.weight.T + self.bias


class TransposedStorage(nn.Module):  # weight stored as (in, out), float64 start: also a correct layer
    def __init__(self, in_features, out_features):
        super().__init__()
        self.w = nn.Parameter(torch.randn(in_features, out_features) * 0.1)
        self.b = nn.Parameter(torch.randn(out_features))

    def forward(self, x):
        return torch.addmm(self.b, x, self.w)


class MatmulLinear(nn.Module):  # torch.matmul and a uniform start, like nn.Linear's own
    def __init__(self, in_features, out_features):
        super().__init__()
        bound = 1 / in_features ** 0.5
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))

    def forward(self, x):
        return torch.matmul(x, self.weight.t()) + self.bias


class WrapsLinear(nn.Module):  # not by hand: uses nn.Linear
    def __init__(self, in_features, out_features):
        super().__init__()
        self.layer = nn.Linear(in_features, out_features)

    def forward(self, x):
        return self.layer(x)


class FunctionalLinear(ParameterLinear):  # not by hand: F.linear
    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


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


class FreshWeightsEachCall(ParameterLinear):
    def forward(self, x):
        return x @ torch.randn(self.weight.shape).T + self.weight.sum() * 0 + self.bias


class Squared(ParameterLinear):
    def forward(self, x):
        return (x @ self.weight.T) ** 2 + self.bias


class MisspelledForward(ParameterLinear):
    def foward(self, x):
        return x @ self.weight.T + self.bias

    forward = nn.Module.forward


class ReturnsZeros(ParameterLinear):  # hard-coded output of the right shape
    def forward(self, x):
        return torch.zeros(len(x), self.weight.shape[0])


class Float64Layer(ParameterLinear):  # parameters in float64: right, and the check feeds it float64 inputs
    def __init__(self, in_features, out_features):
        super().__init__(in_features, out_features)
        self.weight = nn.Parameter(torch.randn(out_features, in_features, dtype=torch.float64))
        self.bias = nn.Parameter(torch.zeros(out_features, dtype=torch.float64))


class EinsumLinear(ParameterLinear):
    def forward(self, x):
        return torch.einsum("ni,oi->no", x, self.weight) + self.bias


class SavedFunctionalLinear(ParameterLinear):  # not by hand: a `linear` imported before the check ran
    def forward(self, x):
        return SAVED_LINEAR(x, self.weight, self.bias)


class KernelLinear(ParameterLinear):  # not by hand: the kernel behind F.linear
    def forward(self, x):
        return torch._C._nn.linear(x, self.weight, self.bias)


class DoubledWeight(ParameterLinear):  # linear and uses both parameters, but not x W^T + b
    def forward(self, x):
        return x @ (2 * self.weight).T + self.bias


class ScaledProduct(ParameterLinear):
    def forward(self, x):
        return x @ self.weight.T / self.weight.shape[1] ** 0.5 + self.bias


class ShiftedBias(ParameterLinear):
    def forward(self, x):
        return x @ self.weight.T + 2 * self.bias + 1


class Placeholder(nn.Module):  # what the exercises notebook starts with
    def __init__(self, in_features, out_features):
        raise NotImplementedError("Write your code here")

    def forward(self, x):
        raise NotImplementedError("Write your code here")


# ----------------------------------------------------------------------------- q2, q3
def count_by_state_dict(model):
    return sum(v.numel() for v in model.state_dict().values())


def snapshot_correct(model):
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def snapshot_float64_copy(model):
    return {name: torch.tensor(p.tolist(), dtype=p.dtype) for name, p in model.named_parameters()}


def snapshot_state_dict_live(model):
    return dict(model.state_dict())


def snapshot_parameters_themselves(model):
    return dict(model.named_parameters())


def snapshot_detached_live(model):
    return {name: p.detach() for name, p in model.named_parameters()}


def snapshot_state_dict_clone(model):  # buffers included
    return {k: v.clone() for k, v in model.state_dict().items()}


def count_and_reset(model):  # right count, but it zeroes the model it was asked to count
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    return sum(p.numel() for p in model.parameters())


def snapshot_after_reset(model):  # a snapshot that agrees with the model because it zeroed the model first
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    return snapshot_correct(model)


def snapshot_deepcopy(model):  # copies, but still parameters that require grad
    import copy
    return copy.deepcopy(dict(model.named_parameters()))


def snapshot_hard_coded(model):
    return {"weight": torch.zeros(2, 3), "bias": torch.zeros(2)}


# ----------------------------------------------------------------------------- q4
def train_line_fixed(X, y, lr, epochs):
    model = nn.Linear(1, 1)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X).squeeze(1), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


def train_line_unsqueeze_zero_last(X, y, lr, epochs):  # targets made a column; zero_grad after step
    model = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    y_col = y.unsqueeze(1)
    losses = torch.zeros(epochs)
    for epoch in range(epochs):
        loss = F.mse_loss(model(X), y_col)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses[epoch] = loss.detach()
    return model, losses


def train_line_float64(X, y, lr, epochs):  # computes in float64
    model = nn.Linear(1, 1).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    X, y = X.double(), y.double().reshape(-1, 1)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = ((model(X) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(np.float64(loss.item()))
    return model, losses


def train_line_broken(X, y, lr, epochs):  # the snippet as given: all three bugs
    model = nn.Linear(1, 1)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    losses = []
    for _ in range(epochs):
        y_pred = model(X)
        loss = loss_fn(y_pred, y)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


def train_line_hard_coded_lr(X, y, lr, epochs):  # the other two bugs fixed
    model = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = F.mse_loss(model(X).squeeze(1), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


def train_line_zero_grad_between(X, y, lr, epochs):
    model = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        loss = F.mse_loss(model(X).squeeze(1), y)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


def train_line_broadcast(X, y, lr, epochs):
    model = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = nn.MSELoss()(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


def train_line_other_model(X, y, lr, epochs):
    model = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = F.mse_loss(model(X).squeeze(1), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


def train_line_loss_after_step(X, y, lr, epochs):  # trains right, returns one loss too many
    model, losses = train_line_fixed(X, y, lr, epochs)
    return model, losses + [losses[-1]]


def train_line_mutates(X, y, lr, epochs):
    y -= y.mean()  # changes the caller's targets
    return train_line_fixed(X, y, lr, epochs)


def train_line_closed_form(X, y, lr, epochs):  # ignores lr and epochs: least squares, fake losses
    model = nn.Linear(1, 1)
    A = torch.cat([X, torch.ones_like(X)], 1)
    solution = torch.linalg.lstsq(A, y.unsqueeze(1)).solution
    with torch.no_grad():
        model.weight.fill_(solution[0, 0].item())
        model.bias.fill_(solution[1, 0].item())
    final = F.mse_loss(model(X).squeeze(1), y).item()
    return model, [final] * epochs


def train_line_model_only(X, y, lr, epochs):
    return train_line_fixed(X, y, lr, epochs)[0]


# ----------------------------------------------------------------------------- q7
def predict_inference(model, weights_lb):
    X = torch.tensor(weights_lb, dtype=torch.float32).unsqueeze(1) / 1000
    model.eval()
    with torch.inference_mode():
        return model(X).squeeze(1).numpy()


def predict_no_grad_numpy_first(model, weights_lb):
    X = torch.from_numpy(np.asarray(weights_lb, dtype=np.float64) / 1000).float().reshape(-1, 1)
    model.train(False)
    with torch.no_grad():
        return model(X).numpy().ravel()


def predict_float64(model, weights_lb):
    X = torch.tensor([[w / 1000] for w in weights_lb], dtype=torch.float64)
    model.eval()
    with torch.no_grad():
        return model.double()(X)[:, 0].numpy()


def predict_pounds(model, weights_lb):
    model.eval()
    with torch.inference_mode():
        return model(torch.tensor(weights_lb, dtype=torch.float32).unsqueeze(1)).squeeze(1).numpy()


def predict_column(model, weights_lb):
    model.eval()
    with torch.inference_mode():
        return model(torch.tensor(weights_lb, dtype=torch.float32).unsqueeze(1) / 1000).numpy()


def predict_no_eval(model, weights_lb):
    with torch.inference_mode():
        return model(torch.tensor(weights_lb, dtype=torch.float32).unsqueeze(1) / 1000).squeeze(1).numpy()


def predict_detach(model, weights_lb):
    model.eval()
    return model(torch.tensor(weights_lb, dtype=torch.float32).unsqueeze(1) / 1000).squeeze(1).detach().numpy()


def predict_tensor(model, weights_lb):
    model.eval()
    with torch.inference_mode():
        return model(torch.tensor(weights_lb, dtype=torch.float32).unsqueeze(1) / 1000).squeeze(1)


def predict_squeeze_all(model, weights_lb):  # squeeze() also removes the car dimension for one car
    model.eval()
    with torch.inference_mode():
        return model(torch.tensor(weights_lb).unsqueeze(1) / 1000).squeeze().numpy()


def predict_constant(model, weights_lb):
    return np.array([23.9, 18.6, 13.2])


def predict_mutates(model, weights_lb):
    weights_lb.sort(reverse=True)
    return predict_inference(model, weights_lb)


# ----------------------------------------------------------------------------- q8
def crop_data(n=5):
    crops = load_crop_yields(n)
    return (torch.tensor(crops[CROP_INPUTS].to_numpy(np.float32)),
            torch.tensor(crops[CROP_TARGETS].to_numpy(np.float32)))


def trained_crop_model(make_optimizer, epochs, model=None):
    X, Y = crop_data()
    torch.manual_seed(42)
    model = model or nn.Linear(3, 2)
    optimizer = make_optimizer(model.parameters())
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = F.mse_loss(model(X), Y)
        loss.backward()
        optimizer.step()
    return model


def least_squares_float64_model():
    X, Y = crop_data()
    A = torch.cat([X.double(), torch.ones(5, 1, dtype=torch.float64)], 1)
    solution = torch.linalg.lstsq(A, Y.double()).solution
    model = nn.Linear(3, 2).double()
    with torch.no_grad():
        model.weight.copy_(solution[:3].T)
        model.bias.copy_(solution[3])
    return model


class ReturnsTrainingTargets(nn.Module):
    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))
        self.targets = crop_data()[1]

    def forward(self, x):
        return self.targets + self.dummy


class ReturnsTrainingMean(ReturnsTrainingTargets):
    def forward(self, x):
        return self.targets.mean(0).expand(len(x), 2) + self.dummy


class ReturnsHeldBackTargets(ReturnsTrainingTargets):  # hostile: reads the regions the check holds back
    def __init__(self):
        super().__init__()
        self.targets = crop_data(15)[1][5:]


def standardised_outside_model():  # trained on standardised inputs, handed over without the standardisation
    X, Y = crop_data()
    mean, std = X.mean(0), X.std(0)
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(2000):
        optimizer.zero_grad()
        F.mse_loss(model((X - mean) / std), Y).backward()
        optimizer.step()
    return model


class HugeOutput(ReturnsTrainingTargets):
    def forward(self, x):
        return torch.full((len(x), 2), 1e30) + self.dummy


CASES = {
    "q1": {
        "correct": [ParameterLinear, TransposedStorage, MatmulLinear, Float64Layer, EinsumLinear],
        "wrong": [
            (WrapsLinear, "uses nn.Linear"),
            (FunctionalLinear, "F.linear"),
            (PlainTensors, "nn.Parameter"),
            (NoSuper, "super().__init__()"),
            (NoBias, "add a bias"),
            (NoTranspose, "transpose"),
            (BiasUnused, "does not use"),
            (FreshWeightsEachCall, "create the parameters once"),
            (Squared, "not a linear function"),
            (ReturnsZeros, "does not use"),
            (MisspelledForward, "spelling"),
            (SavedFunctionalLinear, "F.linear"),
            (KernelLinear, "F.linear"),
            (DoubledWeight, "as the weight says"),
            (ScaledProduct, "as the weight says"),
            (ShiftedBias, "add the bias once"),
            (lazy(lambda: ParameterLinear(3, 2)), "not an instance"),
        ],
        "placeholder": Placeholder,
    },
    "q2": {
        "correct": [
            lambda m: sum(p.numel() for p in m.parameters()),
            lambda m: np.int64(sum(np.prod(p.shape) for p in m.parameters())),
            lambda m: torch.cat([p.detach().flatten() for p in m.parameters()]).numel(),
            lambda m: torch.tensor(sum(p.numel() for _, p in m.named_parameters())),
            lambda m: float(sum(p.nelement() for p in m.parameters() if p.requires_grad)),
        ],
        "wrong": [
            (lambda m: len(list(m.parameters())), "number of parameter tensors"),
            (lambda m: sum(p.numel() for n, p in m.named_parameters() if "weight" in n), "biases"),
            (count_by_state_dict, "buffers"),
            (lambda m: sum(p.shape[0] for p in m.parameters()), "returned"),
            (lambda m: 8, "returned 8"),
            (lambda m: list(m.parameters()), "should be a number"),
            (lambda m: torch.zeros(10_000), "shape (10000,)"),
            (count_and_reset, "changed the model it was given"),
        ],
        "placeholder": not_implemented,
    },
    "q3": {
        "correct": [snapshot_correct, snapshot_float64_copy,
                    lambda m: {k: v.clone() for k, v in m.state_dict().items()
                               if k in dict(m.named_parameters())}],
        "wrong": [
            (snapshot_state_dict_live, "clone"),
            (snapshot_detached_live, "live tensors"),
            (snapshot_parameters_themselves, "own parameter"),
            (snapshot_state_dict_clone, "buffer"),
            (snapshot_hard_coded, "other values"),
            (lambda m: [p.detach().clone() for p in m.parameters()], "dict"),
            (snapshot_after_reset, "changed the model it was given"),
            (snapshot_deepcopy, "tracked by autograd"),
            (lambda m: {str(i): torch.zeros(1) for i in range(10_000)}, "a list of 10000 items"),
            (lambda m: {k: v.clone() for k, v in m.named_parameters()}, "tracked by autograd"),
        ],
        "placeholder": not_implemented,
    },
    "q4": {
        "correct": [train_line_fixed, train_line_unsqueeze_zero_last, train_line_float64],
        "wrong": [
            (train_line_broken, "same shape"),
            (train_line_hard_coded_lr, "lr argument"),
            (train_line_zero_grad_between, "order of zero_grad()"),
            (train_line_broadcast, "same shape"),
            (train_line_other_model, "which tensors the optimiser holds"),
            (train_line_loss_after_step, "one per epoch"),
            (train_line_mutates, "changed its input"),
            (train_line_model_only, "(model, losses)"),
            (train_line_closed_form, "stayed at"),
        ],
        "placeholder": not_implemented,
    },
    "q5": {
        "correct": [args(0.08, 300), args(np.float32(0.065), np.int64(400)), args(torch.tensor(0.07), 400),
                    args(0.06, 400.0)],
        "wrong": [
            (args(0.02, 400), "above the minimum"),
            (args(0.08, 100), "above the minimum"),
            (args(0.0819, 400), "swinging"),
            (args(0.1, 300), "too large"),
            (args(0.075, 1000), "at most 400"),
            (args(-0.05, 300), "positive"),
            (args(0.075, 250.5), "whole number"),
            (args("0.05", 300), "number"),
            (args(1e300, 300), "too large"),
            (args(float("nan"), 300), "finite"),
            (args(0.08, float("nan")), "whole number"),
        ],
        "placeholder": args(..., ...),
    },
    "q6": {
        "correct": [
            lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9),
            lambda p: torch.optim.Adam(p, lr=1.0),
            lambda p: torch.optim.RMSprop(p, lr=0.5),
            lambda p: torch.optim.SGD(list(p), lr=0.01, momentum=0.95, nesterov=True),
            lambda p: torch.optim.LBFGS(p),        # needs step(closure): the check passes one
            lambda p: torch.optim.Rprop(p),
        ],
        "wrong": [
            (lambda p: torch.optim.SGD(p, lr=0.075), "above the minimum"),
            (lambda p: torch.optim.Adam(p, lr=0.1), "above the minimum"),
            (lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.9), "grows"),
            (lambda p: torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=0.02, momentum=0.9), "does not hold"),
            (lambda p: {"lr": 0.1}, "torch.optim"),
            (lambda p: torch.optim.SparseAdam(list(p), lr=1.0), "step() raised RuntimeError"),  # not "smaller lr"
        ],
        "placeholder": not_implemented,
    },
    "q7": {
        "correct": [predict_inference, predict_no_grad_numpy_first, predict_float64],
        "wrong": [
            (predict_pounds, "divide by 1000"),
            (predict_column, "shape (3,)"),
            (predict_no_eval, "model.eval()"),
            (predict_detach, "autograd"),
            (predict_tensor, "NumPy array"),
            (predict_constant, "never called"),
            (predict_mutates, "changed the list"),
            (predict_squeeze_all, "squeeze(1)"),
            (lambda model, weights_lb: np.array([-5.0 * w / 1000 + 37.0 for w in weights_lb]), "never called"),
        ],
        "placeholder": not_implemented,
    },
    "q8": {
        "correct": [
            lazy(lambda: trained_crop_model(lambda p: torch.optim.SGD(p, lr=1e-4), 1000)),
            lazy(lambda: trained_crop_model(lambda p: torch.optim.Adam(p, lr=0.1), 2000,
                                            nn.Sequential(nn.Linear(3, 2)))),
            lazy(least_squares_float64_model),
        ],
        "wrong": [
            (lazy(lambda: nn.Linear(3, 2)), "the goal is below"),
            (lazy(lambda: trained_crop_model(lambda p: torch.optim.SGD(p, lr=1e-5), 30)), "the goal is below"),
            (lazy(lambda: trained_crop_model(lambda p: torch.optim.SGD(p, lr=1e-3), 200)), "nan or inf"),
            (lazy(ReturnsTrainingTargets), "shape (5, 2)"),
            (lazy(ReturnsTrainingMean), "the goal is below"),
            (lazy(HugeOutput), "1e+60"),                         # described briefly, not 60 digits
            (lazy(ReturnsHeldBackTargets), "do not follow its inputs"),
            (lazy(standardised_outside_model), "trained on standardised inputs"),
            (nn.Linear, "create an instance"),
            (lazy(lambda: nn.Linear(2, 2)), "your code raised RuntimeError"),
        ],
    },
}


def test_cases_cover_every_check():
    assert_complete(lesson02, CASES)


@pytest.mark.parametrize("name, answer, status, hint", cases(lesson02, CASES))
def test_check(name, answer, status, hint):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        verify(lesson02, name, answer, status, hint)


def test_by_hand_check_says_it_switches_nn_linear_off():
    assert "patched to raise" in lesson02.q1._fn.__doc__ or "switched" in lesson02.q1._fn.__doc__


def test_q1_leaves_nn_linear_working():
    lesson02.q1.evaluate(WrapsLinear)
    assert nn.Linear(2, 1)(torch.zeros(1, 2)).shape == (1, 1)
    assert F.linear(torch.zeros(1, 2), torch.zeros(1, 2)).shape == (1, 1)


def test_hints_stay_short_for_huge_answers():
    outcome = lesson02.q2.evaluate(lambda m: torch.arange(1_000_000))
    assert len(outcome.message) < 300


@pytest.mark.parametrize("name, right, wrong", [
    ("q5", (0.08, 300), (0.02, 400)),
    ("q6", (lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9),), (lambda p: torch.optim.SGD(p, lr=0.075),)),
    ("q4", (train_line_fixed,), (train_line_hard_coded_lr,)),
])
def test_a_wrong_answer_is_judged_about_as_fast_as_a_right_one(name, right, wrong):
    check = getattr(lesson02, name)
    check.evaluate(*right)  # warm up imports and data loading
    times = []
    for answer in (right, wrong):
        start = time.perf_counter()
        check.evaluate(*answer)
        times.append(time.perf_counter() - start)
    assert times[1] < 2 * times[0] + 0.5, f"{name}: right {times[0]:.2f} s, wrong {times[1]:.2f} s"
