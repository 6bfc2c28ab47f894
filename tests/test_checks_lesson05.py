"""Lesson 05 checks: several correct answers pass, typical mistakes fail with their hint."""

import math
import signal
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


def softmax_half(logits):  # shifted in float32, the rest in float16: float16's rounding is allowed
    shifted = logits - logits.max(dim=1, keepdim=True).values
    e = shifted.half().exp()
    return e / e.sum(dim=1, keepdim=True)


def softmax_bfloat16(logits):  # shifted in float32, then bfloat16: coarser still, and allowed
    e = (logits - logits.max(dim=1, keepdim=True).values).bfloat16().exp()
    return e / e.sum(dim=1, keepdim=True)


def softmax_unsqueeze(logits):  # .unsqueeze(1) instead of keepdim=True
    e = (logits - logits.max(dim=1).values.unsqueeze(1)).exp()
    return e / e.sum(dim=1).unsqueeze(1)


def softmax_bfloat16_first(logits):  # bfloat16 cannot hold 1001: the logits change before the shift
    z = logits.bfloat16()
    e = (z - z.max(dim=1, keepdim=True).values).exp()
    return e / e.sum(dim=1, keepdim=True)


def softmax_double_naive(logits):  # float64 only moves the overflow to exp(709.8)
    e = logits.double().exp()
    return e / e.sum(dim=1, keepdim=True)


def softmax_wrong_values(logits):  # rows sum to one, values off by far more than rounding
    p = softmax_stable(logits)
    return 0.9 * p + 0.1 / logits.shape[1]


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


def train_a_copy(model, X, y, epochs, lr, batch_size):  # right losses, but the caller's model is untouched
    import copy
    return train_standard(copy.deepcopy(model), X, y, epochs, lr, batch_size)


def train_a_new_model(model, X, y, epochs, lr, batch_size):  # a fresh model, trained with a wrong loop
    other = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    return make_train("sgd")(other, X, y, epochs, lr, batch_size)


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


# ---------------------------------------------------------------- q4: the widest network a budget allows
def count(n_features, n_classes, h, biases=True):
    return n_features * h + h * h + h * n_classes + ((2 * h + n_classes) if biases else 0)


def widest(n_features, n_classes, max_params, biases=True, off=0):
    h = 1
    while count(n_features, n_classes, h + 1, biases) <= max_params:
        h += 1
    return h + off


def mlp(width, depth=2, act=nn.ReLU):
    def build(n_features, n_classes, *_):
        layers, size = [], n_features
        for _ in range(depth):
            layers += [nn.Linear(size, width), act()]
            size = width
        return nn.Sequential(*layers, nn.Linear(size, n_classes))
    return build


def budget_net(act=nn.ReLU, **kw):
    def build(n_features, n_classes, max_params):
        return mlp(widest(n_features, n_classes, max_params, **kw), act=act)(n_features, n_classes)
    return build


def budget_by_formula(n_features, n_classes, max_params):  # the quadratic h^2 + (f + c + 2) h + c <= max_params
    b = n_features + n_classes + 2
    h = int((-b + math.sqrt(b * b - 4 * (n_classes - max_params))) / 2)
    return mlp(h)(n_features, n_classes)


def budget_by_counting(n_features, n_classes, max_params):  # builds candidates and counts their parameters
    h = 1
    while sum(p.numel() for p in mlp(h + 1)(n_features, n_classes).parameters()) <= max_params:
        h += 1
    return mlp(h)(n_features, n_classes)


class BudgetNet(nn.Module):  # a subclass, tanh in between
    def __init__(self, n_features, n_classes, max_params):
        super().__init__()
        h = widest(n_features, n_classes, max_params)
        self.a, self.b, self.c = nn.Linear(n_features, h), nn.Linear(h, h), nn.Linear(h, n_classes)

    def forward(self, x):
        return self.c(torch.tanh(self.b(torch.tanh(self.a(x)))))


class NoActivationNet(BudgetNet):  # the same linear stack, without activations
    def forward(self, x):
        return self.c(self.b(self.a(x)))


class MisspelledForward(nn.Module):
    def __init__(self, n_features, n_classes, max_params):
        super().__init__()
        self.net = budget_net()(n_features, n_classes, max_params)

    def foward(self, x):
        return self.net(x)


def budget_batchnorm(n_features, n_classes, max_params):  # BatchNorm's weights train too: over the count
    net = budget_net()(n_features, n_classes, max_params)
    return nn.Sequential(net[0], nn.BatchNorm1d(net[0].out_features), *list(net)[1:])


def budget_symmetric(n_features, n_classes, max_params):  # every hidden unit starts the same: they stay alike
    net = budget_net()(n_features, n_classes, max_params)
    with torch.no_grad():
        for layer in (net[0], net[2]):
            layer.weight.fill_(0.3)
            layer.bias.fill_(0.1)
    return net


def one_hidden_layer(n_features, n_classes, max_params):
    h = (max_params - n_classes) // (n_features + 1 + n_classes)
    return nn.Sequential(nn.Linear(n_features, h), nn.ReLU(), nn.Linear(h, n_classes))


def uneven_widths(n_features, n_classes, max_params):
    h = widest(n_features, n_classes, max_params)
    return nn.Sequential(nn.Linear(n_features, h), nn.ReLU(), nn.Linear(h, h - 1), nn.ReLU(),
                         nn.Linear(h - 1, n_classes))


def lesson_network(n_features, n_classes, max_params):  # lesson 05's make_model with the arguments filled in
    return nn.Sequential(nn.Linear(n_features, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, n_classes))


SHARED = budget_net()(2, 3, 1000)


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


class NearestNeighbour(nn.Module):  # no parameters: the training points kept in buffers
    def __init__(self, X, y):
        super().__init__()
        self.register_buffer("points", X.clone())
        self.register_buffer("targets", F.one_hot(y).float() * 10)

    def forward(self, x):
        return self.targets[torch.cdist(x, self.points).argmin(dim=1)]


class NearestNeighbourAttributes(NearestNeighbour):  # the same, kept as plain tensor attributes
    def __init__(self, X, y):
        nn.Module.__init__(self)
        self.points, self.targets = X.clone(), F.one_hot(y).float() * 10


class OnlyItsOwnPoints(nn.Module):  # right on a batch the size of its training set, wrong elsewhere
    def __init__(self, net, n_train):
        super().__init__()
        self.net, self.n_train = net, n_train

    def forward(self, x):
        out = self.net(x)
        return out if len(x) == self.n_train else -out


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


# ---------------------------------------------------------------- q6: confusion matrix, recall, precision
def scores_loop(y_true, y_pred, n_classes):
    matrix = torch.zeros(n_classes, n_classes, dtype=torch.long)
    for t, p in zip(y_true, y_pred, strict=True):
        matrix[t, p] += 1
    correct = matrix.diag()
    return matrix, (correct.sum() / matrix.sum()).item(), correct / matrix.sum(dim=1), correct / matrix.sum(dim=0)


def scores_lists(y_true, y_pred, n_classes):  # plain Python: lists of lists, nan written out
    m = [[0] * n_classes for _ in range(n_classes)]
    for t, p in zip(y_true.tolist(), y_pred.tolist(), strict=True):
        m[t][p] += 1
    rows = [sum(m[i]) for i in range(n_classes)]
    cols = [sum(m[r][i] for r in range(n_classes)) for i in range(n_classes)]
    recall = [m[i][i] / rows[i] if rows[i] else float("nan") for i in range(n_classes)]
    precision = [m[i][i] / cols[i] if cols[i] else float("nan") for i in range(n_classes)]
    return m, sum(m[i][i] for i in range(n_classes)) / len(y_true), recall, precision


def scores_bincount(y_true, y_pred, n_classes):  # vectorised; float32 counts; 0-d tensor accuracy
    m = torch.bincount(y_true * n_classes + y_pred, minlength=n_classes ** 2).reshape(n_classes, n_classes)
    m = m.float()
    return m, m.trace() / m.sum(), m.diag() / m.sum(1), m.diag() / m.sum(0)


def scores_numpy(y_true, y_pred, n_classes):  # NumPy arrays throughout
    m = np.zeros((n_classes, n_classes))
    np.add.at(m, (y_true.numpy(), y_pred.numpy()), 1)
    with np.errstate(invalid="ignore"):
        return m, np.trace(m) / m.sum(), np.diag(m) / m.sum(axis=1), np.diag(m) / m.sum(axis=0)


def scores_with(change):
    def answer(y_true, y_pred, n_classes):
        return change(*scores_loop(y_true, y_pred, n_classes))
    return answer


def scores_torchmetrics(y_true, y_pred, n_classes):  # the lesson's way, switched off here
    from torchmetrics.classification import MulticlassConfusionMatrix
    matrix = MulticlassConfusionMatrix(num_classes=n_classes)(y_pred, y_true)
    return scores_with(lambda *r: (matrix, *r[1:]))(y_true, y_pred, n_classes)


def scores_sklearn(y_true, y_pred, n_classes):
    from sklearn.metrics import confusion_matrix
    matrix = confusion_matrix(y_true, y_pred, labels=list(range(n_classes)))
    return scores_with(lambda *r: (matrix, *r[1:]))(y_true, y_pred, n_classes)


def scores_sized_from_data(y_true, y_pred, n_classes):
    return scores_loop(y_true, y_pred, int(max(y_true.max(), y_pred.max())) + 1)


def scores_integer_division(y_true, y_pred, n_classes):
    m = scores_loop(y_true, y_pred, n_classes)[0]
    return m, (m.diag().sum() / m.sum()).item(), m.diag() // m.sum(dim=1).clamp(min=1), m.diag() / m.sum(dim=0)


def scores_in_place(y_true, y_pred, n_classes):
    y_true[y_true == y_pred] = 0
    return scores_loop(y_true, y_pred, n_classes)


def scores_counts_each_once(y_true, y_pred, n_classes):  # matrix[t, p] = 1 instead of += 1
    matrix = torch.zeros(n_classes, n_classes, dtype=torch.long)
    matrix[y_true, y_pred] = 1
    return scores_with(lambda *r: (matrix, *r[1:]))(y_true, y_pred, n_classes)


# ---------------------------------------------------------------- answers that change the library or the check
def patching(result, owner, name):
    """An answer that rebinds owner.name (a hostile route to a verdict), then returns result(*args)."""
    def answer(*args):
        setattr(owner, name, lambda *a, **k: True)
        return result(*args)
    return answer


# ---------------------------------------------------------------- more q1 routes to a library softmax
def softmax_private(logits):
    return torch._softmax(logits, 1, False)


def softmax_aten(logits):
    return torch.ops.aten._softmax(logits, 1, False)


def softmax_distribution(logits):
    return torch.distributions.Categorical(logits=logits).probs


def softmax_normalize(logits):  # the row sum through F.normalize with p=1
    return F.normalize(torch.exp(logits - logits.amax(dim=1, keepdim=True)), p=1, dim=1)


# ---------------------------------------------------------------- more q2 answers
def train_zero_grad_first(model, X, y, epochs, lr, batch_size):  # zero_grad before the forward pass
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for first in range(0, len(X), batch_size):
            optimizer.zero_grad()
            summed = F.cross_entropy(model(X[first:first + batch_size]), y[first:first + batch_size],
                                     reduction="sum")  # a sum over the batch, divided for the step
            (summed / len(X[first:first + batch_size])).backward()
            optimizer.step()
            total += summed.item()
        losses.append(total / len(X))
    return losses


def train_in_float64(model, X, y, epochs, lr, batch_size):  # converts the caller's model
    model.double()
    return train_standard(model, X.double(), y, epochs, lr, batch_size)


# ---------------------------------------------------------------- more q4 answers
class OutputFirst(nn.Module):  # registers its output layer first: the order of definition is free
    def __init__(self, n_features, n_classes, max_params):
        super().__init__()
        h = widest(n_features, n_classes, max_params)
        self.out, self.hidden2, self.hidden1 = nn.Linear(h, n_classes), nn.Linear(h, h), nn.Linear(n_features, h)

    def forward(self, x):
        return self.out(F.relu(self.hidden2(F.relu(self.hidden1(x)))))


def budget_float64(n_features, n_classes, max_params):
    return budget_net()(n_features, n_classes, max_params).double()


def budget_count_without_output_bias(n_features, n_classes, max_params):
    h = 1
    while count(n_features, n_classes, h + 1) - n_classes <= max_params:
        h += 1
    return mlp(h)(n_features, n_classes)


def budget_strictly_below(n_features, n_classes, max_params):  # < where <= is meant
    h = 1
    while count(n_features, n_classes, h + 1) < max_params:
        h += 1
    return mlp(h)(n_features, n_classes)


def budget_layers(*between):
    """The widest f-h-h-c network with the given modules after the first and the second hidden layer."""
    def build(n_features, n_classes, max_params):
        h = widest(n_features, n_classes, max_params)
        return nn.Sequential(nn.Linear(n_features, h), *between[0], nn.Linear(h, h), *between[1],
                             nn.Linear(h, n_classes))
    return build


def budget_zeros(n_features, n_classes, max_params):
    net = budget_net()(n_features, n_classes, max_params)
    for p in net.parameters():
        nn.init.zeros_(p)
    return net


class NanOutputs(BudgetNet):
    def forward(self, x):
        return super().forward(x) * float("nan")


# ---------------------------------------------------------------- more q5 answers: data kept out of sight
class NearestNeighbourNumPy(nn.Module):  # the training points kept as NumPy arrays
    def __init__(self, X, y):
        super().__init__()
        self.X, self.y, self.n_classes = X.numpy().copy(), y.numpy().copy(), int(y.max()) + 1

    def forward(self, x):
        nearest = ((x.numpy()[:, None, :] - self.X[None]) ** 2).sum(-1).argmin(1)
        return F.one_hot(torch.from_numpy(self.y[nearest]), self.n_classes).float() * 10


class NearestNeighbourList(nn.Module):  # the training points as a list of tensors
    def __init__(self, X, y):
        super().__init__()
        self.data = [X.clone(), y.clone()]

    def forward(self, x):
        points, targets = self.data
        return F.one_hot(targets[torch.cdist(x, points).argmin(dim=1)]).float() * 10


def nearest_neighbour_closure(X, y):  # the training points captured by forward
    points, targets = X.clone(), y.clone()

    class Nearest(nn.Module):
        def forward(self, x):
            return F.one_hot(targets[torch.cdist(x, points).argmin(dim=1)]).float() * 10
    return Nearest()


KEPT = {}


class NearestNeighbourGlobal(nn.Module):  # the training points in a global that forward reads
    def forward(self, x):
        return F.one_hot(KEPT["y"][torch.cdist(x, KEPT["X"]).argmin(dim=1)]).float() * 10


def nearest_neighbour_global(X, y):
    KEPT.update(X=X.clone(), y=y.clone())
    return NearestNeighbourGlobal()


def classifier_nan(X, y):
    model = classifier(epochs=1)(X, y)
    with torch.no_grad():
        model[0].weight.fill_(float("nan"))
    return model


def classifier_sizes_from_closure(X, y):  # a class defined inside, reading X's size in __init__
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = mlp(32)(X.shape[1], int(y.max()) + 1)

        def forward(self, x):
            return self.net(x)
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(300):
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


# ---------------------------------------------------------------- more q6 answers
def scores_fraction(y_true, y_pred, n_classes):  # an exact Fraction for the accuracy
    from fractions import Fraction
    return scores_with(lambda m, a, r, p: (m, Fraction(int(m.diag().sum()), len(y_true)), r, p))(
        y_true, y_pred, n_classes)



CASES = {
    "q1": {
        "correct": [softmax_normalize, softmax_stable, softmax_logsumexp, softmax_numpy, softmax_loop,
                    softmax_unsqueeze,
                    lambda logits: softmax_stable(logits.double()), softmax_half, softmax_bfloat16,
                    lambda logits: softmax_stable(logits.half()),  # these logits are exact in float16
                    lambda logits: softmax_stable(logits).half()],
        "wrong": [
            (softmax_private, "switches off"),
            (softmax_aten, "switches off"),
            (softmax_distribution, "switches off"),
            (patching(softmax_stable, torch, "allclose"), "replaced torch.allclose"),
            (patching(lambda logits: logits, torch, "allclose"), "(the check has put back the original)"),
            (lambda logits: torch.softmax(logits, dim=1), "switches off"),
            (lambda logits: F.softmax(logits, dim=-1), "switches off"),
            (lambda logits: logits.softmax(1), "switches off"),
            (lambda logits: torch.log_softmax(logits, dim=1).exp(), "switches off"),
            (lambda logits: nn.Softmax(dim=1)(logits), "switches off"),
            (softmax_naive, "for the logits [1000.0, 1001.0, 999.0]. In float32, exp(x) is inf above"),
            (softmax_double_naive, "row 0 is [nan, nan, nan], for the logits [1000.0, 1001.0, 999.0]"),
            (softmax_row_min, "row 0 is [0.0, nan, nan], for the logits [-500.0, 500.0, 0.0]"),
            (softmax_global_max,
             "all below -104: exp of each of them is 0, so dividing by the row's sum is 0 / 0"),
            (softmax_bfloat16_first, "cannot hold these logits exactly (1001 becomes 1000)"),
            (softmax_wrong_values, "differ from exp(logit) / row sum"),
            (lambda logits: softmax_stable(logits.T).T, "columns sum to one"),
            (torch.sigmoid, "sigmoid"),
            (lambda logits: logits.exp(), "must sum to one"),
            (softmax_in_place, "in place"),
            (softmax_no_keepdim, "keepdim=True in the reduction"),
            (lambda logits: HUGE, "shape (2000, 3000)"),
        ],
        "placeholder": not_implemented,
    },
    "q2": {
        "correct": [train_zero_grad_first, train_standard, train_with_loader, train_split_and_numpy],
        "wrong": [
            (train_in_float64, "changed the model's parameters from torch.float32"),
            (patching(lambda *a: [0.0] * a[3], np, "allclose"), "replaced numpy.allclose"),
            (patching(lambda *a: [0.0] * a[3], torch.Tensor, "argmax"), "replaced torch.Tensor.argmax"),
            (train_the_broken_one, "zero_grad() cleared the gradients"),
            (train_a_copy, "your losses are those of a correct run, but the model passed to train_model did "
                           "not change: train that model itself, in place"),
            (train_a_new_model, "your losses change from epoch to epoch, so some model was trained"),
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
            (lambda logits, labels: F.binary_cross_entropy_with_logits(logits.reshape(-1), labels.float()),
             "3 logits per sample is a multiclass output with C = 3"),
            (patching(lambda *a: 0.5, lesson05, "close"), "replaced helpers.checks.lesson05.close"),
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
        "correct": [OutputFirst, budget_float64, budget_net(), budget_by_formula, budget_by_counting, BudgetNet,
                    budget_net(act=nn.Sigmoid)],
        "wrong": [
            (budget_count_without_output_bias, "build_model(3, 5, 418) has hidden width 16 and 421 parameters"),
            (budget_strictly_below, "build_model(4, 3, 583) has hidden width 19 (535 parameters), within the "
                                    "budget of 583, but width 20 fits too (583 parameters)"),
            (budget_layers([nn.ReLU()], []), "the output of the second hidden layer (negative values included) "
                                             "goes into the next nn.Linear unchanged"),
            (budget_layers([], [nn.ReLU()]), "the output of the first hidden layer"),
            (budget_layers([nn.Dropout(0.2)], [nn.ReLU()]), "the output of the first hidden layer"),
            (budget_zeros, "gives the same outputs (tensor([0., 0., 0.]) (dtype torch.float32)) for every input"),
            (NanOutputs, "contains nan or inf"),
            (lesson_network, "has hidden width 64 and 4,547 parameters; the budget is 1,000"),
            (budget_net(biases=False), "widest that fits if the biases are left out: count them too"),
            (budget_net(off=-1), "but width 28 fits too (983 parameters)"),
            (budget_net(off=1), "has hidden width 29 and 1,047 parameters; the budget is 1,000"),
            (one_hidden_layer, "has 2 nn.Linear layers"),
            (mlp(20, depth=3), "has 4 nn.Linear layers"),
            (uneven_widths, "two hidden layers of the same width h"),
            (budget_batchnorm, "nothing else that trains"),
            (lambda n, c, b: nn.Sequential(*(nn.Linear(m.in_features, m.out_features, bias=False)
                                             if isinstance(m, nn.Linear) else m for m in budget_net()(n, c, b))),
             "keep the biases"),
            (NoActivationNet, "is linear"),
            (lambda n, c, b: nn.Sequential(*budget_net()(n, c, b), nn.Softmax(dim=1)), "raw logits"),
            (lambda n, c, b: nn.Sequential(*budget_net()(n, c, b), nn.ReLU()), "never negative"),
            (lambda n, c, b: budget_net()(2, 3, 1000), "n_features and n_classes"),
            (budget_symmetric, "held-out accuracy"),
            (lambda n, c, b: SHARED, "same model twice"),
            (lambda n, c, b: nn.Sequential, "is the class"),
            (MisspelledForward, "forward"),
        ],
        "placeholder": not_implemented,
    },
    "q5": {
        "correct": [classifier_sizes_from_closure, classifier(),
                    classifier(width=16, epochs=400, lr=0.02, act=nn.Tanh),
                    classifier_with_fit, classifier(width=64, hidden=1, epochs=250), classifier_numpy_sizes],
        "wrong": [
            (lambda X, y: NearestNeighbourNumPy(X, y), "stores 2,560 numbers"),
            (lambda X, y: NearestNeighbourList(X, y), "Only 0 of them are trained parameters"),
            (nearest_neighbour_closure, "Only 0 of them are trained parameters"),
            (nearest_neighbour_global, "Only 0 of them are trained parameters"),
            (classifier_nan, "outputs on new points contain nan or inf"),
            (lesson_model_and_loop, "expects 2 inputs"),  # the lesson's 2-64-64-3 network, pasted
            (classifier(n_features=2, n_classes=3), "expects 2 inputs"),
            (classifier(n_classes=3), "fewer outputs than there are classes"),
            (classifier(n_features=3, n_classes=4), "expects 3 inputs"),  # fits the first set only
            (classifier(extra_outputs=1), "expected logits of shape (160, 4)"),
            (lambda X, y: Memoriser(y), "stores 2,560 numbers"),
            (lambda X, y: OnlyItsOwnPoints(classifier()(X, y), len(X)), "does well only on what it has seen"),
            (classifier_untrained, "has not learned"),
            (classifier(hidden=0), "has not learned"),  # a straight-line model cannot draw a ring
            (classifier(width=64, hidden=2), "stores 4,676 numbers (parameters, buffers and other data it "
                                             "keeps, together); the limit is 2,000. Use a smaller model"),
            (lambda X, y: NearestNeighbour(X, y), "Only 0 of them are trained parameters"),
            (lambda X, y: NearestNeighbourAttributes(X, y), "Only 0 of them are trained parameters"),
            (lambda X, y: (X.sub_(X.mean()), classifier(epochs=5)(X, y))[1], "changed its input"),
            (lambda X, y: None, "returned None"),
            (lambda X, y: classifier()(X, y.float()), "raised"),
            (classifier_slow, "limit is 10 s"),
        ],
        "placeholder": not_implemented,
    },
    "q6": {
        "correct": [scores_fraction, scores_loop, scores_lists, scores_bincount, scores_numpy],
        "wrong": [
            (scores_with(lambda m, a, r, p: (m, a, [str(v) for v in r.tolist()], p)), "holding numbers"),
            (scores_with(lambda m, a, r, p: (m, 100 * a, r, p)), "is a percentage"),
            (scores_with(lambda m, a, r, p: (m / m.sum(), a, r, p)), "fractions of all samples"),
            (scores_with(lambda m, a, r, p: (m * float("nan"), a, r, p)), "contains nan or inf"),
            (scores_torchmetrics, "switches off for this exercise: count the pairs yourself"),
            (scores_sklearn, "switches off for this exercise: count the pairs yourself"),
            (scores_sized_from_data, "sized from the labels that occur; it must be (4, 4)"),
            (scores_with(lambda m, a, r, p: (m.T, a, r, p)), "is the transpose"),
            (scores_counts_each_once, "your matrix counts 6 samples in all; there are 7"),
            (scores_with(lambda m, a, r, p: (m, r.nanmean().item(), r, p)), "macro"),
            (scores_with(lambda m, a, r, p: (m, m.diag().sum().item(), r, p)), "number of correct samples"),
            (scores_with(lambda m, a, r, p: (m, a, p, r)), "recall and precision are swapped"),
            (scores_with(lambda m, a, r, p: (m, a, r, p.nan_to_num(0.0))),
             "your precision is [1.0, 0.0, 0.5]: right where it is defined"),
            (scores_with(lambda m, a, r, p: (m, a, r.nan_to_num(0.0), p)), "row sum is 0 the recall is 0 / 0"),
            (scores_integer_division, "whole number"),
            (scores_with(lambda m, a, r, p: (m, a, r, 1 - p)), "the precision should be"),
            (scores_with(lambda m, a, r, p: (m, a, r)), "return four things"),
            (scores_with(lambda m, a, r, p: (m, 0.5714, r, p)), "the accuracy should be"),  # hard-coded
            (scores_in_place, "changed its input"),
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
    lesson05.q4.evaluate(budget_net())
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


def test_q1_tolerance_grows_with_the_answers_dtype():
    logits = torch.linspace(-3.0, 3.0, 15).reshape(5, 3)
    rtol32, atol32 = lesson05._softmax_tolerance(logits, torch.float32)
    assert lesson05._softmax_tolerance(logits, torch.float64) == (rtol32, atol32)  # float32 logits
    rtol16, atol16 = lesson05._softmax_tolerance(logits, torch.float16)
    assert rtol16 == pytest.approx(rtol32 + 8 * torch.finfo(torch.float16).eps) and atol16 > atol32
    assert lesson05._softmax_tolerance(logits, torch.bfloat16)[0] > rtol16


def test_q6_restores_the_metrics_it_switches_off():
    from sklearn.metrics import confusion_matrix
    from torchmetrics.classification import MulticlassConfusionMatrix
    assert lesson05.q6.evaluate(scores_torchmetrics).status == INCORRECT
    y_true, y_pred = torch.tensor([0, 1, 2, 2]), torch.tensor([0, 2, 2, 1])
    expected = torch.tensor([[1, 0, 0], [0, 0, 1], [0, 1, 1]])
    assert torch.equal(MulticlassConfusionMatrix(num_classes=3)(y_pred, y_true), expected)
    assert (confusion_matrix(y_true, y_pred) == expected.numpy()).all()


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


def test_an_answer_that_rebinds_torch_or_the_check_is_undone():
    allclose, close = torch.allclose, lesson05.close
    assert lesson05.q1.evaluate(patching(softmax_stable, torch, "allclose")).status == INCORRECT
    assert lesson05.q3.evaluate(patching(lambda *a: 0.5, lesson05, "close")).status == INCORRECT
    assert lesson05.q2.evaluate(patching(lambda *a: [0.0] * a[3], torch.Tensor, "argmax")).status == INCORRECT
    assert torch.allclose is allclose and lesson05.close is close and "argmax" not in vars(torch.Tensor)
    assert lesson05.q1.evaluate(softmax_stable).status == CORRECT


def test_q5_counts_data_wherever_the_model_keeps_it():
    X, y = torch.randn(700, 3), torch.arange(700) % 4
    assert lesson05._numbers_stored(mlp(32)(3, 4)) == sum(p.numel() for p in mlp(32)(3, 4).parameters())
    for model in (NearestNeighbourNumPy(X, y), NearestNeighbourList(X, y), nearest_neighbour_closure(X, y),
                  nearest_neighbour_global(X, y)):
        assert lesson05._numbers_stored(model) >= 700 * 4, type(model).__name__


def endless(*_):
    while True:
        try:
            time.sleep(0.01)
        except Exception:  # noqa: S112  (a learner's catch-all does not keep the check waiting)
            continue


@pytest.mark.parametrize("name", ["q1", "q2", "q3", "q4", "q6"])
def test_code_that_does_not_end_is_stopped(name, monkeypatch):
    monkeypatch.setattr(lesson05, "_CALL_SECONDS", 0.5)
    started = time.perf_counter()
    outcome = getattr(lesson05, name).evaluate(endless)
    assert outcome.status == INCORRECT and "still running after 0.5 s, so the check stopped it" in outcome.message
    assert time.perf_counter() - started < 5


def test_q5_stops_training_soon_after_its_time_limit(monkeypatch):
    monkeypatch.setattr(lesson05, "_Q5_SECONDS", 0.5)
    outcome = lesson05.q5.evaluate(endless)
    assert "train_classifier was still running after 2.5 s, so the check stopped it" in outcome.message
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
