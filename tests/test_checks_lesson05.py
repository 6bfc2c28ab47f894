"""Lesson 05 checks: several correct answers pass, typical mistakes fail with their hint."""

import time

import numpy as np
import pytest
import torch
from checkcases import assert_complete, cases, verify
from sklearn.model_selection import train_test_split
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from helpers.checks import CORRECT, INCORRECT, lesson05
from helpers.device import set_seed


def not_implemented(*_):
    raise NotImplementedError("Write your code here")


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


def loss_for_float64(logits, labels):  # computed in float64: right to rounding
    logits = logits.double()
    if is_binary(logits):
        return F.binary_cross_entropy_with_logits(logits.reshape(-1), labels.double())
    return F.cross_entropy(logits, labels.long())


# ---------------------------------------------------------------- q1: softmax by hand
def softmax_stable(logits):
    shifted = logits - logits.max(dim=1, keepdim=True).values
    e = shifted.exp()
    return e / e.sum(dim=1, keepdim=True)


def softmax_logsumexp(logits):  # exp(z - logsumexp(z)): differs from torch.softmax by ~1e-5 near 1000
    return torch.exp(logits - torch.logsumexp(logits, dim=1, keepdim=True))


def softmax_numpy(logits):  # float64 NumPy inside, a float64 tensor out
    z = logits.numpy().astype(np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return torch.from_numpy(e / e.sum(axis=1, keepdims=True))


def softmax_loop(logits):  # row by row, in plain Python over the rows
    rows = []
    for row in logits:
        e = torch.exp(row - torch.max(row))
        rows.append(e / torch.sum(e))
    return torch.stack(rows)


def softmax_naive(logits):  # overflows for large logits
    e = logits.exp()
    return e / e.sum(dim=1, keepdim=True)


def softmax_row_min(logits):  # shifts by the minimum: exp of a wide row's range overflows
    e = (logits - logits.min(dim=1, keepdim=True).values).exp()
    return e / e.sum(dim=1, keepdim=True)


def softmax_global_max(logits):  # one maximum for the whole tensor
    e = (logits - logits.max()).exp()
    return e / e.sum(dim=1, keepdim=True)


def softmax_no_keepdim(logits):  # (N,) row sums do not broadcast against (N, C)
    e = (logits - logits.max(dim=1).values.unsqueeze(1)).exp()
    return e / e.sum(dim=1)


def softmax_in_place(logits):
    logits -= logits.max(dim=1, keepdim=True).values
    e = logits.exp()
    return e / e.sum(dim=1, keepdim=True)


def softmax_half(logits):  # float16 rounding is far coarser than float32's
    return softmax_stable(logits).half()


HUGE = torch.zeros(2000, 3000)


# ---------------------------------------------------------------- q2: fix the mini-batch loop
def train_standard(model, X, y, epochs, lr, batch_size):
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        model.train()
        total = 0.0
        for first in range(0, len(X), batch_size):
            xb, yb = X[first:first + batch_size], y[first:first + batch_size]
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        losses.append(total / len(X))
    return losses


def train_with_loader(model, X, y, epochs, lr, batch_size):  # lesson 03's DataLoader, unshuffled
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size)
    optimizer = torch.optim.Adam(params=model.parameters(), lr=lr)
    losses = torch.zeros(epochs)
    for epoch in range(epochs):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb, reduction="sum")  # a sum: divide before backward
            (loss / len(xb)).backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)  # zeroing after the step works just as well
            losses[epoch] += loss.detach()
    return losses / len(X)


def train_split_and_numpy(model, X, y, epochs, lr, batch_size):  # torch.split; NumPy float32 losses
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        per_sample = []
        for xb, yb in zip(torch.split(X, batch_size), torch.split(y, batch_size), strict=True):
            optimizer.zero_grad()
            loss = nn.functional.nll_loss(torch.log_softmax(model(xb), dim=1), yb)
            loss.backward()
            optimizer.step()
            per_sample += [loss.detach().numpy()] * len(xb)
        losses.append(np.mean(per_sample, dtype=np.float32))
    return losses


def make_train(*mistakes):
    def train(model, X, y, epochs, lr, batch_size):
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        if "sgd" in mistakes:
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        if "other model" in mistakes:
            optimizer = torch.optim.Adam(nn.Linear(2, 3).parameters(), lr=lr)
        if "full batch" in mistakes:
            batch_size = len(X)
        stop = len(X) - batch_size if "skip last batch" in mistakes else len(X)
        losses = []
        for epoch in range(epochs):
            if "optimizer in loop" in mistakes:
                optimizer = torch.optim.Adam(model.parameters(), lr=lr)
            total, batch_losses = 0.0, []
            for first in range(0, stop, batch_size):
                xb, yb = X[first:first + batch_size], y[first:first + batch_size]
                logits = model(xb)
                if "softmax first" in mistakes:
                    logits = torch.softmax(logits, dim=1)
                loss = F.cross_entropy(logits, yb)
                if "no zero_grad" not in mistakes and "zero_grad between" not in mistakes:
                    optimizer.zero_grad()
                loss.backward()
                if "zero_grad between" in mistakes:
                    optimizer.zero_grad()
                if "no step" not in mistakes:
                    optimizer.step()
                if "loss after step" in mistakes:
                    with torch.no_grad():
                        loss = F.cross_entropy(model(xb), yb)
                total += loss.item() * len(xb)
                batch_losses.append(loss.item())
            if "batch mean" in mistakes:
                losses.append(sum(batch_losses) / len(batch_losses))
            elif "per batch" in mistakes:
                losses += batch_losses
            elif "every other epoch" not in mistakes or epoch % 2 == 0:
                losses.append(total / len(X))
        return None if "no return" in mistakes else losses
    return train


def train_the_broken_one(model, X, y, epochs, lr, batch_size):  # the snippet of the exercise, unchanged
    return make_train("optimizer in loop", "softmax first", "zero_grad between", "skip last batch")(
        model, X, y, epochs, lr, batch_size)


def train_lesson_loop(model, X, y, epochs, lr, batch_size):  # lesson 05's loop (section 6), pasted
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


def train_shuffled(model, X, y, epochs, lr, batch_size):  # lesson 03's shuffled loader: another order
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True)
    return _loop_over(model, loader, epochs, lr, len(X))


def _loop_over(model, loader, epochs, lr, n):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        losses.append(total / n)
    return losses


# ---------------------------------------------------------------- q4: a small model for more classes
def mlp(width, depth=2, act=nn.ReLU):
    def build(n_features, n_classes):
        layers, size = [], n_features
        for _ in range(depth):
            layers += [nn.Linear(size, width), act()]
            size = width
        return nn.Sequential(*layers, nn.Linear(size, n_classes))
    return build


class TanhNet(nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(n_features, 24), nn.Tanh(), nn.Linear(24, 24), nn.Tanh())
        self.out = nn.Linear(24, n_classes)

    def forward(self, x):
        return self.out(self.hidden(x))


class NoActivationNet(nn.Module):  # the same linear stack, written as a subclass
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.a, self.b, self.c = nn.Linear(n_features, 32), nn.Linear(32, 32), nn.Linear(32, n_classes)

    def forward(self, x):
        return self.c(self.b(self.a(x)))


class MisspelledForward(nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.net = mlp(32)(n_features, n_classes)

    def foward(self, x):
        return self.net(x)


def mlp_batchnorm(n_features, n_classes):  # a layer that acts differently in eval mode
    return nn.Sequential(nn.Linear(n_features, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 32),
                         nn.ReLU(), nn.Linear(32, n_classes))


SHARED = mlp(32)(2, 3)


# ---------------------------------------------------------------- q5: end to end
def classifier(width=32, epochs=300, lr=0.01, act=nn.ReLU, hidden=2, n_features=None, n_classes=None,
               extra_outputs=0):
    """A right answer by default; fixed numbers of features or classes make it a wrong one."""
    def train_classifier(X, y):
        classes = (n_classes or int(y.max()) + 1) + extra_outputs
        model = mlp(width, hidden, act)(n_features or X.shape[1], classes)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        for _ in range(epochs):
            loss = F.cross_entropy(model(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return model
    return train_classifier


def classifier_with_fit(X, y):  # the course's fit, with a validation split of its own
    from helpers.training import fit
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    model = nn.Sequential(nn.Linear(X.shape[1], 16), nn.ReLU(), nn.Linear(16, len(torch.unique(y))))
    fit(model, (X_tr, y_tr), nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=0.02),
        epochs=300, test_data=(X_val, y_val), progress=False)
    return model


class Float64Net(nn.Module):  # computes in float64 whatever dtype comes in
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.net = mlp(24)(n_features, n_classes).double()

    def forward(self, x):
        return self.net(x.double())


def classifier_numpy_sizes(X, y):  # sizes read through NumPy, a float64 model, 200 epochs at lr 0.02
    n_features, n_classes = np.shape(X.numpy())[1], np.unique(y.numpy()).size
    model = Float64Net(n_features, n_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(200):
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def lesson_model_and_loop(X_train, y_train):  # lesson 05's make_model and loop (sections 3, 6), pasted
    set_seed(42)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(200):
        model.train()
        loss = loss_fn(model(X_train), y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


class Memoriser(nn.Module):  # returns the training targets whatever its input
    def __init__(self, y):
        super().__init__()
        self.logits = nn.Parameter(F.one_hot(y).float() * 10)

    def forward(self, x):
        return self.logits[: len(x)]


def classifier_untrained(X, y):
    return mlp(32)(X.shape[1], int(y.max()) + 1)


def classifier_slow(X, y):
    time.sleep(10.5)
    return classifier()(X, y)


# ---------------------------------------------------------------- q6: reading a confusion matrix
def from_confusion(matrix):
    m = matrix.double()
    return (m.diag().sum() / m.sum()).item(), m.diag() / m.sum(dim=1)


def from_confusion_numpy(matrix):
    m = matrix.numpy()
    return np.trace(m) / m.sum(), np.diag(m) / m.sum(axis=1)  # NumPy scalar and array


def from_confusion_loop(matrix):
    rows = matrix.tolist()
    per_class = [row[i] / sum(row) for i, row in enumerate(rows)]
    return sum(rows[i][i] for i in range(len(rows))) / sum(map(sum, rows)), torch.tensor(per_class)


def from_confusion_float32(matrix):
    m = matrix.float()
    return m.trace() / m.sum(), m.diag() / m.sum(dim=1)  # a 0-d tensor for the accuracy


CASES = {
    "q1": {
        "correct": [softmax_stable, softmax_logsumexp, softmax_numpy, softmax_loop,
                    lambda logits: softmax_stable(logits.double())],
        "wrong": [
            (lambda logits: torch.softmax(logits, dim=1), "switches off"),
            (lambda logits: F.softmax(logits, dim=-1), "switches off"),
            (lambda logits: logits.softmax(1), "switches off"),
            (lambda logits: torch.log_softmax(logits, dim=1).exp(), "switches off"),
            (lambda logits: nn.Softmax(dim=1)(logits), "switches off"),
            (softmax_naive, "nan or inf"),
            (softmax_row_min, "nan or inf"),
            (softmax_global_max, "nan or inf"),
            (lambda logits: softmax_stable(logits.T).T, "columns sum to one"),
            (torch.sigmoid, "sigmoid"),
            (lambda logits: logits.exp(), "must sum to one"),
            (softmax_in_place, "in place"),
            (softmax_no_keepdim, "keepdim=True"),
            (softmax_half, "differ from exp(logit) / row sum"),
            (lambda logits: HUGE, "shape (2000, 3000)"),
        ],
        "placeholder": not_implemented,
    },
    "q2": {
        "correct": [train_standard, train_with_loader, train_split_and_numpy],
        "wrong": [
            (train_the_broken_one, "zero_grad() cleared the gradients"),
            (make_train("zero_grad between"), "between backward() and step()"),
            (make_train("no zero_grad"), "zero_grad"),
            (make_train("optimizer in loop"), "once, before the loops"),
            (make_train("softmax first"), "raw logits"),
            (make_train("sgd"), "Adam"),
            (make_train("skip last batch"), "never trains on the last, smaller batch"),
            (make_train("full batch"), "one step per batch"),
            (train_lesson_loop, "one step per batch"),
            (train_shuffled, "in row order (no shuffling)"),
            (make_train("no step"), "did not change although they hold gradients"),
            (make_train("other model"), "did not change although they hold gradients"),
            (make_train("no return"), "returned None"),
            (make_train("every other epoch"), "one loss per epoch"),
            (make_train("per batch"), "not one per batch"),
            (make_train("batch mean"), "plain mean of the batch losses"),
            (make_train("loss after step"), "not the epochs' training losses"),
            (make_train("softmax first", "optimizer in loop"), "one optimizer made before the loops"),
        ],
        "placeholder": not_implemented,
    },
    "q3": {
        "correct": [loss_for_modules, loss_for_functional, loss_for_float64],
        "wrong": [
            (loss_always_soft_ce, "always 0"),
            (loss_sigmoid_then_bce, "loses precision"),
            (loss_softmax_then_ce, "softmax before"),
            (loss_double_sigmoid, "applied a sigmoid before"),
            (loss_float_labels_to_ce, "Long"),
            (lambda logits, labels: F.cross_entropy(logits, labels.long()), "is a binary output"),
            (loss_no_reshape, "reshape the logits"),
            (loss_binary_long_labels, "labels.float()"),
            (loss_last_dim_one, "binary too"),
            (loss_two_columns_binary, "C = 2"),
            (loss_summed, "sum of the per-sample losses"),
            (lambda logits, labels: 0.6931, "should be"),  # a hard-coded number
        ],
        "placeholder": not_implemented,
    },
    "q4": {
        "correct": [mlp(32), mlp(24, depth=3), TanhNet, mlp_batchnorm],
        "wrong": [
            (mlp(64), "budget"),  # the lesson's network: 4,612 parameters for 4 classes
            (NoActivationNet, "is linear"),
            (lambda n_features, n_classes: nn.Sequential(nn.Linear(n_features, 32), nn.Linear(32, n_classes)),
             "is linear"),
            (lambda n, c: nn.Sequential(*mlp(32)(n, c), nn.Softmax(dim=1)), "raw logits"),
            (lambda n, c: mlp(32)(n, 1), "one logit per class"),
            (lambda n, c: mlp(32)(2, 3), "n_features and n_classes"),
            (lambda n, c: mlp(2, depth=1)(n, c), "held-out accuracy"),
            (lambda n, c: nn.Sequential(*mlp(32)(n, c), nn.ReLU()), "never negative"),
            (lambda n, c: SHARED, "same model twice"),
            (lambda n, c: nn.Sequential, "is the class"),
            (MisspelledForward, "forward"),
        ],
        "placeholder": not_implemented,
    },
    "q5": {
        "correct": [classifier(), classifier(width=16, epochs=400, lr=0.02, act=nn.Tanh),
                    classifier_with_fit, classifier(width=64, hidden=1, epochs=250), classifier_numpy_sizes],
        "wrong": [
            (lesson_model_and_loop, "expects 2 inputs"),  # the lesson's 2-64-64-3 network, pasted
            (classifier(n_features=2, n_classes=3), "expects 2 inputs"),
            (classifier(n_classes=3), "fewer outputs than there are classes"),
            (classifier(n_features=3, n_classes=4), "expects 3 inputs"),  # fits the first set only
            (classifier(extra_outputs=1), "expected logits of shape (120, 4)"),
            (lambda X, y: Memoriser(y), "held-back points"),
            (classifier_untrained, "has not learned"),
            (classifier(hidden=0), "has not learned"),  # a straight-line model cannot draw a ring
            (classifier(width=128, hidden=2), "limit is 10,000"),
            (lambda X, y: None, "returned None"),
            (lambda X, y: classifier()(X, y.float()), "raised"),
            (classifier_slow, "limit is 10 s"),
        ],
        "placeholder": not_implemented,
    },
    "q6": {
        "correct": [from_confusion, from_confusion_numpy, from_confusion_loop, from_confusion_float32],
        "wrong": [
            (lambda m: (from_confusion(m)[1].mean().item(), from_confusion(m)[1]), "macro"),
            (lambda m: (from_confusion(m)[0], m.diag().double() / m.sum(dim=0)), "column sums"),
            (lambda m: (from_confusion(m)[0], m.diag() // m.sum(dim=1)), "whole number"),
            (lambda m: (m.diag().sum().item(), from_confusion(m)[1]), "number of correct samples"),
            (lambda m: from_confusion(m)[0], "return a pair"),
            (lambda m: (0.875, from_confusion(m)[1]), "should be"),  # hard-coded
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
    lesson05.q4.evaluate(mlp(16))
    lesson05.q2.evaluate(train_standard)
    lesson05.q5.evaluate(classifier_untrained)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_q1_restores_the_library_softmax():
    lesson05.q1.evaluate(softmax_stable)
    x = torch.tensor([[0.0, 1.0]])
    assert torch.allclose(torch.softmax(x, dim=1), x.softmax(1)) and torch.allclose(F.softmax(x, 1), x.softmax(1))


def test_q1_tolerance_comes_from_float32_rounding():
    # at logits near 1000, float32 rounding alone moves a probability by ~1e-5: still correct
    logits = torch.tensor([[1000.0, 1001.0, 999.0]])
    assert (softmax_logsumexp(logits).double() - torch.softmax(logits.double(), dim=1)).abs().max() > 1e-6
    assert lesson05.q1.evaluate(softmax_logsumexp).status == CORRECT


def test_q3_reports_the_float_label_error_with_its_real_message():
    outcome = lesson05.q3.evaluate(loss_float_labels_to_ce)
    assert "RuntimeError" in outcome.message


def test_huge_answers_are_described_not_dumped():
    outcome = lesson05.q1.evaluate(lambda logits: HUGE)
    assert len(outcome.message) < 600


@pytest.mark.parametrize("name, answer", [("q2", make_train("no step")), ("q5", classifier_untrained),
                                          ("q4", NoActivationNet)], ids=["q2", "q5", "q4"])
def test_wrong_answers_are_judged_fast(name, answer):
    started = time.perf_counter()
    outcome = getattr(lesson05, name).evaluate(answer)
    assert outcome.status == INCORRECT
    assert time.perf_counter() - started < 10  # generous: the machine is shared


def test_q5_judges_data_of_other_shapes_than_the_visible_rings():
    shapes = {(n_features, n_classes) for n_features, n_classes, _, _ in lesson05._Q5_SETS}
    assert (2, 3) not in shapes
    assert len({f for f, _ in shapes}) > 1 and len({c for _, c in shapes}) > 1  # no one fixed size fits all


def test_q5_judges_a_right_answer_fast():
    lesson05.q5.evaluate(classifier(epochs=5))  # warm up
    started = time.perf_counter()
    assert lesson05.q5.evaluate(classifier()).status == CORRECT
    assert time.perf_counter() - started < 10  # about 1 s on a quiet machine; generous: it is shared
