"""Lesson 05 checks: several correct answers pass, typical mistakes fail with their hint."""

import pytest
import torch
from checkcases import assert_complete, cases, verify
from sklearn.metrics import accuracy_score
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from torch import nn
from torch.nn import functional as F
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix

from helpers.checks import lesson05


def not_implemented(*_):
    raise NotImplementedError("Write your code here")


# ---------------------------------------------------------------- q1: softmax by hand
def softmax_stable(logits):
    shifted = logits - logits.max(dim=1, keepdim=True).values
    e = shifted.exp()
    return e / e.sum(dim=1, keepdim=True)


def softmax_naive(logits):  # overflows for large logits
    e = logits.exp()
    return e / e.sum(dim=1, keepdim=True)


def softmax_global_max(logits):  # one maximum for the whole tensor
    e = (logits - logits.max()).exp()
    return e / e.sum(dim=1, keepdim=True)


def softmax_no_keepdim(logits):  # (N,) row sums do not broadcast against (N, C)
    e = (logits - logits.max(dim=1).values.unsqueeze(1)).exp()
    return e / e.sum(dim=1)


def softmax_in_place(logits):
    logits -= logits.max(dim=1, keepdim=True).values
    return torch.softmax(logits, dim=1)


# ---------------------------------------------------------------- q3: choose the loss
def is_binary(logits):
    return logits.ndim == 1 or logits.shape[1] == 1


def loss_for_modules(logits, labels):
    if is_binary(logits):
        return nn.BCEWithLogitsLoss()(logits.reshape(-1), labels.float())
    return nn.CrossEntropyLoss()(logits, labels.long())


def loss_for_functional(logits, labels):
    if logits.ndim == 2 and logits.shape[1] > 1:
        return F.nll_loss(F.log_softmax(logits, dim=1), labels.long()).item()
    return F.binary_cross_entropy_with_logits(logits, labels.float().reshape(logits.shape)).item()


def loss_always_soft_ce(logits, labels):  # float labels shaped like the logits: 0 for one column
    if is_binary(logits):
        return F.cross_entropy(logits.reshape(-1, 1), labels.float().reshape(-1, 1))
    return F.cross_entropy(logits, labels.long())


def loss_sigmoid_then_bce(logits, labels):
    if is_binary(logits):
        return nn.BCELoss()(torch.sigmoid(logits.reshape(-1)), labels.float())
    return F.cross_entropy(logits, labels.long())


def loss_softmax_then_ce(logits, labels):
    if is_binary(logits):
        return loss_for_modules(logits, labels)
    return F.cross_entropy(torch.softmax(logits, dim=1), labels.long())


def loss_double_sigmoid(logits, labels):
    if is_binary(logits):
        return F.binary_cross_entropy_with_logits(torch.sigmoid(logits.reshape(-1)), labels.float())
    return F.cross_entropy(logits, labels.long())


def loss_float_labels_to_ce(logits, labels):
    if is_binary(logits):
        return loss_for_modules(logits, labels)
    return F.cross_entropy(logits, labels.float())


def loss_no_reshape(logits, labels):  # (N, 1) logits against (N,) labels
    if is_binary(logits):
        return nn.BCEWithLogitsLoss()(logits, labels.float())
    return F.cross_entropy(logits, labels.long())


def loss_binary_long_labels(logits, labels):
    if is_binary(logits):
        return nn.BCEWithLogitsLoss()(logits.reshape(-1), labels)
    return F.cross_entropy(logits, labels.long())


def loss_last_dim_one(logits, labels):  # misses binary logits of shape (N,)
    if logits.shape[-1] == 1:
        return nn.BCEWithLogitsLoss()(logits.reshape(-1), labels.float())
    return F.cross_entropy(logits, labels.long())


def loss_two_columns_binary(logits, labels):  # (N, 2) is multiclass with C = 2, not binary
    if logits.ndim == 2 and logits.shape[1] > 2:
        return F.cross_entropy(logits, labels.long())
    return nn.BCEWithLogitsLoss()(logits.reshape(-1), labels.float())


def loss_summed(logits, labels):
    if is_binary(logits):
        return nn.BCEWithLogitsLoss(reduction="sum")(logits.reshape(-1), labels.float())
    return F.cross_entropy(logits, labels.long(), reduction="sum")


# ---------------------------------------------------------------- q4: build a model
def mlp_64(n_features, n_classes):
    return nn.Sequential(nn.Linear(n_features, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, n_classes))


def mlp_16(n_features, n_classes):
    return nn.Sequential(nn.Linear(n_features, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                         nn.Linear(16, n_classes))


class TanhNet(nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(n_features, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh())
        self.out = nn.Linear(32, n_classes)

    def forward(self, x):
        return self.out(self.hidden(x))


def mlp_batchnorm_dropout(n_features, n_classes):  # layers that act differently in eval mode
    return nn.Sequential(nn.Linear(n_features, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 64),
                         nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, n_classes))


def mlp_no_activation(n_features, n_classes):
    return nn.Sequential(nn.Linear(n_features, 64), nn.Linear(64, 64), nn.Linear(64, n_classes))


def mlp_softmax_end(n_features, n_classes):
    return nn.Sequential(*mlp_64(n_features, n_classes), nn.Softmax(dim=1))


def mlp_one_output(n_features, n_classes):
    return mlp_64(n_features, 1)


def mlp_fixed_sizes(n_features, n_classes):
    return mlp_64(2, 3)


def mlp_relu_end(n_features, n_classes):  # logits can never be negative
    return nn.Sequential(*mlp_64(n_features, n_classes), nn.ReLU())


def mlp_tiny(n_features, n_classes):
    return nn.Sequential(nn.Linear(n_features, 2), nn.ReLU(), nn.Linear(2, n_classes))


SHARED = mlp_64(2, 3)


# ---------------------------------------------------------------- q5: the training loop
def train_standard(model, X, y, epochs, lr):
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        model.train()
        logits = model(X)
        loss = loss_fn(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def train_other_order(model, X, y, epochs, lr):
    optimizer = torch.optim.Adam(params=model.parameters(), lr=lr)
    losses = torch.zeros(epochs)
    for epoch in range(epochs):
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)  # zeroing after the step works just as well
        losses[epoch] = loss.detach()
    return losses


def make_train(mistake):
    def train(model, X, y, epochs, lr):
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        if mistake == "sgd":
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        if mistake == "other model":
            optimizer = torch.optim.Adam(nn.Linear(2, 3).parameters(), lr=lr)
        losses = []
        for epoch in range(epochs):
            if mistake == "optimizer in loop":
                optimizer = torch.optim.Adam(model.parameters(), lr=lr)
            logits = model(X)
            if mistake == "softmax first":
                logits = torch.softmax(logits, dim=1)
            loss = F.cross_entropy(logits, y)
            if mistake != "no zero_grad":
                optimizer.zero_grad()
            loss.backward()
            if mistake != "no step":
                optimizer.step()
            if mistake == "loss after step":
                with torch.no_grad():
                    loss = F.cross_entropy(model(X), y)
            if mistake != "every other epoch" or epoch % 2 == 0:
                losses.append(loss.item())
        return None if mistake == "no return" else losses
    return train


# ---------------------------------------------------------------- q6: accuracy
def accuracy_standard(model, X, y):
    model.eval()
    with torch.inference_mode():
        preds = model(X).argmax(dim=1)
    return (preds == y).float().mean().item()


def accuracy_torchmetrics(model, X, y):
    model.eval()
    with torch.no_grad():
        logits = model(X)
    metric = MulticlassAccuracy(num_classes=logits.shape[1], average="micro")
    return metric(logits, y)


def accuracy_count_ratio(model, X, y):
    model.eval()
    with torch.inference_mode():
        correct = (model(X).softmax(dim=1).argmax(dim=1) == y).sum().item()
    return correct / len(y)


def accuracy_sklearn(model, X, y):
    model.eval()
    with torch.no_grad():
        preds = model(X).argmax(dim=1)
    return accuracy_score(y.numpy(), preds.numpy())  # a NumPy float


def accuracy_no_eval(model, X, y):
    with torch.inference_mode():
        return (model(X).argmax(dim=1) == y).float().mean().item()


def accuracy_with_grad(model, X, y):
    model.eval()
    return (model(X).argmax(dim=1) == y).float().mean().item()


def accuracy_macro(model, X, y):
    model.eval()
    with torch.inference_mode():
        logits = model(X)
    return MulticlassAccuracy(num_classes=logits.shape[1])(logits, y).item()


def accuracy_count(model, X, y):
    model.eval()
    with torch.inference_mode():
        return (model(X).argmax(dim=1) == y).sum().item()


def accuracy_percent(model, X, y):
    return 100 * accuracy_standard(model, X, y)


# ---------------------------------------------------------------- q7: confusion matrix
def confusion_loop(preds, labels, num_classes):
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.long)
    for p, t in zip(preds, labels, strict=True):
        matrix[t, p] += 1
    return matrix


def confusion_fancy_index(preds, labels, num_classes):  # repeated pairs are added only once
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.long)
    matrix[labels, preds] += 1
    return matrix


def confusion_index_put(preds, labels, num_classes):
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.long)
    return matrix.index_put_((labels, preds), torch.ones_like(labels), accumulate=True)


def confusion_bincount(preds, labels, num_classes):
    flat = torch.bincount(labels * num_classes + preds, minlength=num_classes**2)
    return flat.reshape(num_classes, num_classes)


CASES = {
    "q1": {
        "correct": [
            lambda logits: torch.softmax(logits, dim=1),
            lambda logits: F.softmax(logits, dim=-1),
            softmax_stable,
            lambda logits: torch.log_softmax(logits, dim=1).exp(),
            lambda logits: softmax_stable(logits.double()),  # float64 is fine too
        ],
        "wrong": [
            (softmax_naive, "nan or inf"),
            (softmax_global_max, "own maximum"),
            (lambda logits: torch.softmax(logits, dim=0), "columns sum to one"),
            (torch.sigmoid, "sigmoid"),
            (lambda logits: logits.exp(), "must sum to one"),
            (softmax_in_place, "in place"),
            (softmax_no_keepdim, "keepdim=True"),
        ],
        "placeholder": not_implemented,
    },
    "q2": {
        "correct": [
            lambda logits: logits.argmax(dim=1),
            lambda logits: torch.softmax(logits, dim=1).argmax(dim=1),
            lambda logits: torch.max(logits, dim=1).indices,
            lambda logits: logits.argmax(-1),
        ],
        "wrong": [
            (lambda logits: logits.argmax(dim=0), "argmax(dim=1)"),
            (lambda logits: torch.sigmoid(logits).round(), "binary recipe"),
            (lambda logits: torch.softmax(logits, dim=1), "value per class"),
            (lambda logits: logits.argmax(dim=1).float(), "torch.long"),
            (lambda logits: logits.argmax(dim=1, keepdim=True), "keepdim"),
            (lambda logits: logits.argmin(dim=1), "largest logit"),
            (lambda logits: logits.argmax(), "without dim="),
            (lambda logits: torch.max(logits, dim=1), ".indices"),
        ],
        "placeholder": not_implemented,
    },
    "q3": {
        "correct": [loss_for_modules, loss_for_functional],
        "wrong": [
            (loss_always_soft_ce, "always 0"),
            (loss_sigmoid_then_bce, "loses precision"),
            (loss_softmax_then_ce, "softmax before"),
            (loss_double_sigmoid, "applied a sigmoid before"),
            (loss_float_labels_to_ce, "Long"),
            (lambda logits, labels: F.cross_entropy(logits, labels.long()), "out of bounds"),
            (loss_no_reshape, "reshape the logits"),
            (loss_binary_long_labels, "labels.float()"),
            (loss_last_dim_one, "binary too"),
            (loss_two_columns_binary, "C = 2"),
            (loss_summed, "sum of the per-sample losses"),
        ],
        "placeholder": not_implemented,
    },
    "q4": {
        "correct": [mlp_64, mlp_16, TanhNet, mlp_batchnorm_dropout],
        "wrong": [
            (mlp_no_activation, "the model is linear"),
            (mlp_softmax_end, "raw logits"),
            (mlp_one_output, "one logit per class"),
            (mlp_fixed_sizes, "n_features and n_classes"),
            (mlp_tiny, "held-out accuracy"),
            (mlp_relu_end, "never negative"),
            (lambda n_features, n_classes: SHARED, "same model twice"),
            (lambda n_features, n_classes: nn.Sequential, "is the class"),
        ],
        "placeholder": not_implemented,
    },
    "q5": {
        "correct": [train_standard, train_other_order],
        "wrong": [
            (make_train("no zero_grad"), "zero_grad"),
            (make_train("optimizer in loop"), "once, before the loop"),
            (make_train("softmax first"), "raw logits"),
            (make_train("sgd"), "Adam"),
            (make_train("no step"), "did not change"),
            (make_train("other model"), "did not change"),
            (make_train("no return"), "returned None"),
            (make_train("every other epoch"), "one loss per epoch"),
            (make_train("loss after step"), "not the training losses"),
        ],
        "placeholder": not_implemented,
    },
    "q6": {
        "correct": [accuracy_standard, accuracy_torchmetrics, accuracy_count_ratio, accuracy_sklearn],
        "wrong": [
            (accuracy_no_eval, "model.eval()"),
            (accuracy_with_grad, "inference_mode"),
            (accuracy_macro, "macro"),
            (accuracy_count, "divide by the number of samples"),
            (accuracy_percent, "percentage"),
        ],
        "placeholder": not_implemented,
    },
    "q7": {
        "correct": [
            confusion_loop,
            confusion_bincount,
            confusion_index_put,
            lambda preds, labels, n: MulticlassConfusionMatrix(num_classes=n)(preds, labels),
            lambda preds, labels, n: sk_confusion_matrix(labels, preds, labels=list(range(n))),
        ],
        "wrong": [
            (lambda preds, labels, n: confusion_loop(labels, preds, n), "transposed"),
            (lambda preds, labels, n: sk_confusion_matrix(labels, preds), "never appears"),
            (lambda preds, labels, n: torch.ones(n, n), "add up to"),
            (confusion_fancy_index, "at most once"),
        ],
        "placeholder": not_implemented,
    },
}


def test_cases_cover_every_check():
    assert_complete(lesson05, CASES)


@pytest.mark.parametrize("name, answer, status, hint", cases(lesson05, CASES))
def test_check(name, answer, status, hint):
    verify(lesson05, name, answer, status, hint)


def test_checks_leave_the_learners_random_state_and_threads_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    lesson05.q4.evaluate(mlp_16)
    lesson05.q5.evaluate(train_standard)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_q3_reports_the_float_label_error_with_its_real_message():
    outcome = lesson05.q3.evaluate(loss_float_labels_to_ce)
    assert "RuntimeError" in outcome.message

