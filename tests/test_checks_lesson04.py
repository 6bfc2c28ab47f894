"""Lesson 04 checks: several correct answers pass, typical and hostile wrong ones fail with their hint."""

import time

import numpy as np
import pytest
import torch
from checkcases import assert_complete, cases, verify
from torch import nn
from torch.nn import functional as F

from helpers.checks import NOT_ATTEMPTED, lesson04


def not_implemented(*_):
    raise NotImplementedError("Write your code here")


# --------------------------------------------------------------------------- q1: labels at a threshold
def threshold_logit(logits, threshold):  # the same test on the logit scale: log(t / (1 - t))
    cut = torch.log(torch.tensor(threshold / (1 - threshold)))
    return (logits.reshape(-1) >= cut).to(torch.float64)


def threshold_numpy(logits, threshold):
    p = 1 / (1 + np.exp(-logits.numpy().astype(np.float64)))
    return torch.from_numpy((p[:, 0] >= threshold).astype(np.float32))


def threshold_in_place(logits, threshold):  # hostile: overwrites its input
    logits.sigmoid_()
    return (logits.squeeze(1) >= threshold).float()


Q1 = {
    "correct": [
        lambda logits, t: (torch.sigmoid(logits).squeeze(1) >= t).float(),
        threshold_logit,
        threshold_numpy,
        lambda logits, t: torch.where(torch.sigmoid(logits[:, 0]) >= t, 1.0, 0.0),
    ],
    "wrong": [
        (lambda logits, t: (torch.sigmoid(logits).squeeze(1) > 0.5).float(), "threshold argument"),
        (lambda logits, t: (logits.squeeze(1) >= t).float(), "threshold is a probability"),
        (lambda logits, t: (torch.sigmoid(logits) >= t).float(), "squeeze(1)"),
        (lambda logits, t: torch.sigmoid(logits).squeeze(1) >= t, "dtype torch.bool"),
        (lambda logits, t: torch.sigmoid(logits).squeeze(1), "values other than 0 and 1"),
        (lambda logits, t: (torch.sigmoid(logits).squeeze(1) < t).float(), "expected"),
        (threshold_in_place, "changed its input"),
        (lambda logits, t: torch.zeros(10_000), "shape (10000,)"),
    ],
}


# --------------------------------------------------------------------------- q2: accuracy per class
def per_class_loop(y_true, y_pred):
    result = []
    for c in (0, 1):
        mask = y_true == c
        result.append((y_pred[mask] == c).float().mean())
    return result  # a list of 0-d tensors


def per_class_numpy(y_true, y_pred):
    t, p = y_true.numpy(), y_pred.numpy()
    return np.mean(p[t == 0] == 0), np.mean(p[t == 1] == 1)  # NumPy scalars


def per_class_swapped(y_true, y_pred):
    a, b = per_class_loop(y_true, y_pred)
    return b, a


def per_class_over_all(y_true, y_pred):
    n = len(y_true)
    return (((y_true == 0) & (y_pred == 0)).sum().item() / n, ((y_true == 1) & (y_pred == 1)).sum().item() / n)


def overall_twice(y_true, y_pred):
    acc = (y_true == y_pred).float().mean().item()
    return acc, acc


def per_class_in_place(y_true, y_pred):
    y_pred[y_true == 0] = 0  # hostile: "fixes" the predictions it was given
    return per_class_loop(y_true, y_pred)


Q2 = {
    "correct": [
        per_class_loop,
        per_class_numpy,
        lambda t, p: tuple(float(((p == t) & (t == c)).sum() / (t == c).sum()) for c in (0, 1)),
    ],
    "wrong": [
        (per_class_swapped, "swapped"),
        (overall_twice, "overall accuracy"),
        (per_class_over_all, "divided by all"),
        (lambda t, p: (0.5, 0.5), "expected"),  # hard-coded
        (lambda t, p: (t == p).float().mean(), "return a pair"),
        (per_class_in_place, "changed its input"),
    ],
}


# --------------------------------------------------------------------------- q3: BCE by hand
def bce_float64(logits, labels):
    z, y = logits.double(), labels.double()
    return (z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()


def bce_logaddexp(logits, labels):  # log(1 + e^-z) as logaddexp(0, -z): stable too
    zero = torch.zeros_like(logits)
    return (labels * torch.logaddexp(zero, -logits) + (1 - labels) * torch.logaddexp(zero, logits)).mean()


def bce_numpy(logits, labels):
    z, y = logits.numpy().astype(np.float64), labels.numpy().astype(np.float64)
    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))  # a NumPy scalar


def bce_no_log1p(logits, labels):  # log(1 + tiny) rounds to 0 in float32: within the maths' tolerance
    return (logits.clamp(min=0) - logits * labels + torch.log(1 + torch.exp(-logits.abs()))).mean().item()


def bce_naive(logits, labels):
    p = torch.sigmoid(logits)
    return -(labels * torch.log(p) + (1 - labels) * torch.log(1 - p)).mean()


Q3 = {
    "correct": [bce_float64, bce_logaddexp, bce_numpy, bce_no_log1p],
    "wrong": [
        (lambda z, y: nn.BCEWithLogitsLoss()(z, y), "disables"),
        (lambda z, y: F.binary_cross_entropy_with_logits(z, y), "disables"),
        (lambda z, y: nn.BCELoss()(torch.sigmoid(z), y), "disables"),
        (lambda z, y: (F.softplus(z) - z * y).mean(), "disables"),
        (bce_naive, "rounds to exactly 0 or 1"),
        (lambda z, y: bce_float64(z, y) * len(z), "the sum"),
        (lambda z, y: bce_float64(z, torch.ones_like(y)), "but the binary cross-entropy"),  # ignores labels
        (lambda z, y: torch.tensor(0.4059), "but the binary cross-entropy"),  # hard-coded first case
        (lambda z, y: z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs())), "should be one number"),
    ],
}


# --------------------------------------------------------------------------- q4: debugging train_moons
def fixed(model, X, y, epochs, lr):
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        model.train()
        loss = loss_fn(model(X).squeeze(1), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def fixed_zero_grad_last(model, X, y, epochs, lr):  # clearing after the step is just as right
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        loss = F.binary_cross_entropy_with_logits(model(X), y.unsqueeze(1))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss)  # tensors, not .item(): still numbers
    return losses


def by_hand_sgd(model, X, y, epochs, lr):  # no optimizer at all: p -= lr * grad
    losses = []
    for _ in range(epochs):
        loss = nn.BCEWithLogitsLoss()(model(X).reshape(-1), y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    return losses


def broken(model, X, y, epochs, lr):  # the notebook's snippet, unchanged
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(epochs):
        model.train()
        loss = loss_fn(torch.sigmoid(model(X)).squeeze(1), y)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        losses.append(loss.item())
    return losses


def make_variant(lr_fixed=None, double_sigmoid=False, order="right", returns="losses"):
    def train(model, X, y, epochs, lr):
        loss_fn = nn.BCEWithLogitsLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=lr if lr_fixed is None else lr_fixed)
        losses = []
        for _ in range(epochs):
            out = model(X).squeeze(1)
            loss = loss_fn(torch.sigmoid(out) if double_sigmoid else out, y)
            if order == "right":
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            elif order == "no backward":
                optimizer.zero_grad()
                optimizer.step()
            elif order == "no zero_grad":
                loss.backward()
                optimizer.step()
            losses.append(loss.item())
        return {"losses": losses, "none": None, "last": losses[-1], "after": None}[returns]
    return train


Q4 = {
    "correct": [fixed, fixed_zero_grad_last, by_hand_sgd],
    "wrong": [
        (broken, "backward() ran but the parameters did not change"),
        (make_variant(lr_fixed=0.1), "not the lr it was given"),  # hard-coded learning rate
        (make_variant(double_sigmoid=True), "applied twice"),
        (make_variant(order="no backward"), "no gradient was computed"),
        (make_variant(order="no zero_grad"), "differ from 5 steps"),
        (make_variant(returns="none"), "return the list"),
        (make_variant(returns="last"), "return the list"),
    ],
}


# --------------------------------------------------------------------------- q5: collapse
def collapse_loop(model):
    layers = list(model)
    with torch.no_grad():
        W, b = layers[0].weight.clone(), layers[0].bias.clone()
        for layer in layers[1:]:
            W, b = layer.weight @ W, layer.weight @ b + layer.bias
    return W, b


def collapse_probe(model):  # read W and b off the model's outputs: b = f(0), column j = f(e_j) - b
    n_in = model[0].in_features
    with torch.no_grad():
        b = model(torch.zeros(1, n_in))[0]
        W = (model(torch.eye(n_in)) - b).T
    return W.double(), b.double()


def collapse_three(model):  # hard-coded for exactly three layers, as in the lesson
    W1, W2, W3 = model[0].weight, model[1].weight, model[2].weight
    b1, b2, b3 = model[0].bias, model[1].bias, model[2].bias
    return W3 @ W2 @ W1, W3 @ W2 @ b1 + W3 @ b2 + b3


def collapse_wrong_order(model):
    layers = list(model)
    W, b = layers[0].weight, layers[0].bias
    for layer in layers[1:]:
        W, b = W.T @ layer.weight.T, b
    return W, b


def collapse_last_bias(model):
    W, _ = collapse_loop(model)
    return W, list(model)[-1].bias.detach()


def collapse_mutating(model):
    W, b = collapse_loop(model)
    with torch.no_grad():
        model[0].weight.zero_()
    return W, b


Q5 = {
    "correct": [collapse_loop, collapse_probe,
                lambda m: tuple(t.detach() for t in collapse_loop(m))],
    "wrong": [
        (collapse_three, "raised IndexError"),
        (collapse_wrong_order, "W from"),
        (collapse_last_bias, "differs from the model's output"),
        (collapse_mutating, "changed the model"),
        (lambda m: collapse_loop(m)[0], "return a pair"),
    ],
}


# --------------------------------------------------------------------------- q6: end to end
class Net(nn.Module):
    def __init__(self, sigmoid_at_end=False, activation=True):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(2, 16), nn.Linear(16, 16), nn.Linear(16, 1)
        self.act = nn.ReLU() if activation else nn.Identity()
        self.sigmoid_at_end = sigmoid_at_end

    def forward(self, x):
        out = self.l3(self.act(self.l2(self.act(self.l1(x)))))
        return torch.sigmoid(out) if self.sigmoid_at_end else out


def trainer(make, optimizer="adam", epochs=300, lr=0.02, loss="logits"):
    def train_classifier(X, y):
        model = make()
        opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
        loss_fn = nn.BCEWithLogitsLoss() if loss == "logits" else nn.BCELoss()
        for _ in range(epochs):
            out = model(X).squeeze(1)
            loss_value = loss_fn(out, y)
            opt.zero_grad()
            loss_value.backward()
            opt.step()
        return model
    return train_classifier


class Memoriser(nn.Module):  # hostile: returns the training targets whatever its input
    def __init__(self, y):
        super().__init__()
        self.register_buffer("y", y.clone())
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return (self.y * 2 - 1).unsqueeze(1) * 10 + self.dummy


Q6 = {
    "correct": [
        trainer(Net),
        trainer(lambda: nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 1)), epochs=400, lr=0.05),
        trainer(Net, optimizer="sgd", epochs=1500, lr=0.3),
    ],
    "wrong": [
        (trainer(lambda: Net(activation=False)), "accuracy is"),
        (trainer(lambda: Net(sigmoid_at_end=True), loss="probabilities"), "between 0 and 1"),
        (trainer(Net, epochs=1), "accuracy is"),
        (lambda X, y: Memoriser(y), "returned shape (400, 1)"),
        (lambda X, y: Net, "is the class Net"),
    ],
}


CASES = {
    "q1": Q1,
    "q2": Q2,
    "q3": Q3,
    "q4": Q4,
    "q5": Q5,
    "q6": Q6,
}
for row in CASES.values():
    row.setdefault("placeholder", not_implemented)


def test_every_check_has_cases():
    assert_complete(lesson04, CASES)


@pytest.mark.parametrize(("name", "answer", "status", "hint"), cases(lesson04, CASES))
def test_check(name, answer, status, hint):
    verify(lesson04, name, answer, status, hint)


@pytest.mark.parametrize("name", ["q1", "q2", "q3", "q4", "q5", "q6"])
def test_ellipsis_is_not_attempted(name):
    assert getattr(lesson04, name).evaluate(...).status == NOT_ATTEMPTED


def test_misspelled_forward_is_an_attempt_with_a_hint():
    class Typo(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(2, 1)

        def foward(self, x):
            return self.layer(x)

    outcome = lesson04.q6.evaluate(lambda X, y: Typo())
    assert outcome.status == "incorrect" and "forward" in outcome.message


def test_wrong_answers_are_judged_fast():
    lesson04._held_out_circles()  # the first call imports scikit-learn: not the answer's time
    for name, answer in [("q6", trainer(lambda: Net(activation=False))), ("q4", broken), ("q3", bce_naive)]:
        start = time.process_time()  # computing time, so that a busy machine does not fail the test
        lesson04.__dict__[name].evaluate(answer)
        assert time.process_time() - start < 3.0, f"{name} took too long on a wrong answer"


def test_hints_stay_short_for_huge_answers():
    outcome = lesson04.q1.evaluate(lambda logits, t: torch.zeros(100_000))
    assert len(outcome.message) < 700 and "100000" in outcome.message


def test_checks_leave_the_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    lesson04.q4.evaluate(fixed)
    lesson04.q5.evaluate(collapse_loop)
    assert torch.equal(torch.rand(3), expected)


def test_a_slow_answer_is_told_the_time_limit(monkeypatch):
    monkeypatch.setattr(lesson04, "_E2E_SECONDS", 0.0)  # any real training is then over the limit
    outcome = lesson04.q6.evaluate(trainer(Net, epochs=5))
    assert outcome.status == "incorrect" and "the limit is 0 s" in outcome.message
