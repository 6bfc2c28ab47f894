"""Lesson 04 checks: several correct answers pass, typical mistakes fail with their hint."""

import pytest
import torch
from checkcases import assert_complete, cases, verify
from torch import nn
from torch.nn import functional as F
from torchmetrics import Accuracy

from helpers.checks import lesson04, seeded


def not_implemented(*_):
    raise NotImplementedError("Write your code here")


# --------------------------------------------------------------------------- q4: training steps
def step_reference(model, X, y, loss_fn, optimizer):
    model.train()
    loss = loss_fn(model(X).squeeze(1), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def step_unsqueeze_labels(model, X, y, loss_fn, optimizer):  # zero_grad first, tensor returned
    optimizer.zero_grad()
    model.train()
    loss = loss_fn(model(X), y.unsqueeze(1))
    loss.backward()
    optimizer.step()
    return loss


def step_zero_grad_last(model, X, y, loss_fn, optimizer):  # clears the gradients for the next step
    model.train()
    loss = loss_fn(model(X).reshape(-1), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()


def step_no_zero_grad(model, X, y, loss_fn, optimizer):
    model.train()
    loss = loss_fn(model(X).squeeze(1), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_no_backward(model, X, y, loss_fn, optimizer):
    model.train()
    loss = loss_fn(model(X).squeeze(1), y)
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()


def step_no_step(model, X, y, loss_fn, optimizer):
    model.train()
    loss = loss_fn(model(X).squeeze(1), y)
    optimizer.zero_grad()
    loss.backward()
    return loss.item()


def step_zero_grad_between(model, X, y, loss_fn, optimizer):
    model.train()
    loss = loss_fn(model(X).squeeze(1), y)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()


def step_no_squeeze(model, X, y, loss_fn, optimizer):
    model.train()
    loss = loss_fn(model(X), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def step_no_train_mode(model, X, y, loss_fn, optimizer):
    loss = loss_fn(model(X).squeeze(1), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def step_loss_after_update(model, X, y, loss_fn, optimizer):
    model.train()
    loss = loss_fn(model(X).squeeze(1), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss_fn(model(X).squeeze(1), y).item()


def step_own_optimizer(model, X, y, loss_fn, optimizer):  # ignores the optimizer it was given
    own = torch.optim.SGD(model.parameters(), lr=0.01)
    model.train()
    loss = loss_fn(model(X).squeeze(1), y)
    own.zero_grad()
    loss.backward()
    own.step()
    return loss.item()


# --------------------------------------------------------------------------- q5: predictions
def predict_reference(model, X):
    model.eval()
    with torch.inference_mode():
        logits = model(X).squeeze(1)
    return torch.round(torch.sigmoid(logits))


def predict_no_grad(model, X):
    model.eval()
    with torch.no_grad():
        return (model(X) > 0).float().reshape(-1)


def predict_restores_mode(model, X):
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        labels = (torch.sigmoid(model(X)) > 0.5).float().squeeze(1)
    model.train(was_training)
    return labels


def predict_without_eval(model, X):
    with torch.inference_mode():
        return torch.round(torch.sigmoid(model(X))).squeeze(1)


def predict_with_autograd(model, X):
    model.eval()
    return torch.round(torch.sigmoid(model(X))).squeeze(1)


def predict_with_autograd_threshold(model, X):  # the output no longer requires grad
    model.eval()
    return (model(X) > 0).float().squeeze(1)


def predict_unsqueezed(model, X):
    model.eval()
    with torch.inference_mode():
        return torch.round(torch.sigmoid(model(X)))


def predict_probabilities(model, X):
    model.eval()
    with torch.inference_mode():
        return torch.sigmoid(model(X)).squeeze(1)


# --------------------------------------------------------------------------- q6: model classes
class MoonReLU(nn.Module):  # the lesson's model_2
    def __init__(self, hidden_units=10):
        super().__init__()
        self.layer_1 = nn.Linear(2, hidden_units)
        self.layer_2 = nn.Linear(hidden_units, hidden_units)
        self.layer_3 = nn.Linear(hidden_units, 1)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.layer_3(self.relu(self.layer_2(self.relu(self.layer_1(x)))))


class MoonTanh(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))

    def forward(self, x):
        return self.layers(x)


class MoonFlatOutput(nn.Module):  # F.relu, and logits of shape (N,)
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 32)
        self.out = nn.Linear(32, 1)

    def forward(self, x):
        return self.out(F.relu(self.hidden(x))).squeeze(1)


class MoonSmallReLU(nn.Module):  # small enough to get stuck on some seeds
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))

    def forward(self, x):
        return self.layers(x)


class MoonDropout(nn.Module):  # dropout: must still be judged in eval mode
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 1))

    def forward(self, x):
        return self.layers(x)


class MoonLinear(nn.Module):  # the lesson's model_0: no activation
    def __init__(self):
        super().__init__()
        self.layer_1 = nn.Linear(2, 10)
        self.layer_2 = nn.Linear(10, 10)
        self.layer_3 = nn.Linear(10, 1)

    def forward(self, x):
        return self.layer_3(self.layer_2(self.layer_1(x)))


class MoonSigmoidOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())

    def forward(self, x):
        return self.layers(x)


class MoonTwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))

    def forward(self, x):
        return self.layers(x)


class MoonNoSuper(nn.Module):
    def __init__(self):
        self.layer = nn.Linear(2, 1)

    def forward(self, x):
        return self.layer(x)


class MoonOneUnit(nn.Module):  # non-linear, but far too small
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(2, 1), nn.ReLU(), nn.Linear(1, 1))

    def forward(self, x):
        return self.layers(x)


class NotAModule:  # forgot to subclass nn.Module
    def forward(self, x):
        return x


class MoonPlaceholder(nn.Module):  # what the exercises notebook holds
    def __init__(self):
        super().__init__()
        raise NotImplementedError("Write your code here")

    def forward(self, x):
        raise NotImplementedError("Write your code here")


# --------------------------------------------------------------------------- q7: tanh
def tanh_stable(x):
    e = torch.exp(-2 * x.abs())
    return torch.sign(x) * (1 - e) / (1 + e)


def tanh_clamped(x):
    x = x.clamp(-20, 20)  # tanh(20) is 1.0 in float32
    return (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))


def tanh_naive(x):
    return (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))


def tanh_clamped_too_far(x):
    x = x.clamp(-5, 5)
    return (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))


CASES = {
    "q1": {
        "correct": [
            lambda z: torch.round(torch.sigmoid(z)).squeeze(1),
            lambda z: (z > 0).float().squeeze(1),
            lambda z: (torch.sigmoid(z) > 0.5).float().reshape(-1),
            lambda z: torch.where(z[:, 0] > 0, 1.0, 0.0),
        ],
        "wrong": [
            (lambda z: torch.round(torch.sigmoid(z)), "squeeze"),
            (lambda z: torch.sigmoid(z).squeeze(1), "returned probabilities"),
            (lambda z: torch.round(z).squeeze(1), "apply torch.sigmoid first"),
            (lambda z: (z > 0).squeeze(1), ".float()"),
            (lambda z: (z > 0).long().squeeze(1), ".float()"),
            (lambda z: torch.softmax(z, dim=1).argmax(dim=1).float(), "multiclass recipe"),
            (lambda z: (z < 0).float().squeeze(1), "flipped"),
            (lambda z: torch.sigmoid_(z).round().squeeze(1), "in place"),
        ],
        "placeholder": not_implemented,
    },
    "q2": {
        "correct": [
            lambda t, p: torch.eq(t, p).sum().item() / len(t),
            lambda t, p: (t == p).float().mean(),
            lambda t, p: sum(a == b for a, b in zip(t.tolist(), p.tolist(), strict=True)) / len(t),
            lambda t, p: Accuracy(task="binary")(p, t),
        ],
        "wrong": [
            (lambda t, p: (t == p).float().mean() * 100, "percentage"),
            (lambda t, p: (t == p).sum().item(), "number of correct labels"),
            (lambda t, p: (t == p).sum().item() // len(t), "integer division"),
            (lambda t, p: (t == p).float(), "should be one number"),
            (lambda t, p: (t != p).float().mean(), "expected"),
            (lambda t, p: (t == p).mean(), "bool tensor"),
        ],
        "placeholder": not_implemented,
    },
    "q3": {
        "correct": [
            nn.BCEWithLogitsLoss(),
            F.binary_cross_entropy_with_logits,
            lambda z, y: (z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean(),
        ],
        "wrong": [
            (nn.BCELoss(), "takes probabilities"),
            (lambda z, y: nn.BCELoss()(torch.sigmoid(z), y), "loses precision"),
            (nn.BCEWithLogitsLoss, "create an instance"),
            (nn.BCEWithLogitsLoss(reduction="sum"), "the sum over the points"),
            (nn.MSELoss(), "nn.BCEWithLogitsLoss()"),
            (nn.CrossEntropyLoss(), "nn.BCEWithLogitsLoss()"),
            (lambda z, y: -(y * torch.log(torch.sigmoid(z))
                            + (1 - y) * torch.log(1 - torch.sigmoid(z))).mean(), "overflows"),
            ("BCEWithLogitsLoss", "call as loss_fn"),
        ],
    },
    "q4": {
        "correct": [step_reference, step_unsqueeze_labels, step_zero_grad_last],
        "wrong": [
            (step_no_zero_grad, "zero_grad() every step"),
            (step_no_backward, "loss.backward()"),
            (step_no_step, "optimizer.step()"),
            (step_zero_grad_between, "not between backward and step"),
            (step_no_squeeze, "squeeze the output"),
            (step_no_train_mode, "model.train()"),
            (step_loss_after_update, "after the update"),
            (step_own_optimizer, "use the optimizer you are given"),
            (lambda *a: step_reference(*a) and None, "should be a number"),
        ],
        "placeholder": not_implemented,
    },
    "q5": {
        "correct": [predict_reference, predict_no_grad, predict_restores_mode],
        "wrong": [
            (predict_without_eval, "model.eval()"),
            (predict_with_autograd, "inference_mode"),
            (predict_with_autograd_threshold, "inference_mode"),
            (predict_unsqueezed, "squeeze"),
            (predict_probabilities, "other than 0 and 1"),
        ],
        "placeholder": not_implemented,
    },
    "q6": {
        "correct": [MoonReLU, MoonTanh, MoonFlatOutput, MoonSmallReLU, MoonDropout],
        "wrong": [
            (MoonLinear, "linear"),
            (MoonSigmoidOut, "sigmoid"),
            (MoonTwoOutputs, "one logit per point"),
            (MoonNoSuper, "start __init__ with super().__init__()"),
            (NotAModule, "subclasses nn.Module"),
            (MoonOneUnit, "more hidden units"),
        ],
        "placeholder": MoonPlaceholder,
    },
    "q7": {
        "correct": [
            tanh_stable,
            tanh_clamped,
            lambda x: 2 * torch.sigmoid(2 * x) - 1,
            lambda x: 1 - 2 / (torch.exp(2 * x) + 1),
            torch.tanh,
        ],
        "wrong": [
            (tanh_naive, "nan or inf"),
            (lambda x: (torch.exp(x) - torch.exp(-x)) / 2, "sinh"),
            (torch.sigmoid, "that is the sigmoid"),
            (tanh_clamped_too_far, "torch.tanh gives"),
            (lambda x: tanh_stable(x).reshape(-1), "shape"),
        ],
        "placeholder": not_implemented,
    },
}


def test_cases_cover_every_check():
    assert_complete(lesson04, CASES)


@pytest.mark.parametrize("name, answer, status, hint", cases(lesson04, CASES))
def test_check(name, answer, status, hint):
    verify(lesson04, name, answer, status, hint)


def test_model_instance_is_refused_with_a_hint():
    outcome = lesson04.q6.evaluate(MoonReLU())
    assert outcome.status == "incorrect" and "pass the class itself" in outcome.message


def test_checks_leave_the_learners_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    lesson04.q4.evaluate(step_reference)
    lesson04.q5.evaluate(predict_reference)
    lesson04.q6.evaluate(MoonSmallReLU)
    assert torch.equal(torch.rand(3), expected)


def test_a_straight_line_scores_about_what_the_hint_says():
    data = lesson04._held_out_moons()
    with seeded(0):
        accuracy = lesson04._train_and_score(MoonLinear(), data)
    assert 0.85 <= accuracy <= 0.89 < lesson04._THRESHOLD
