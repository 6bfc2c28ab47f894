"""Lesson 04 checks: several correct answers pass, typical and hostile wrong ones fail with their hint."""

import time
from fractions import Fraction

import numpy as np
import pytest
import torch
from checkcases import assert_complete, cases, verify
from torch import nn
from torch.nn import functional as F
from torch.nn.functional import logsigmoid as imported_logsigmoid
from torch.nn.functional import softplus as imported_softplus

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


def threshold_lookup(logits, threshold):  # hostile: answers from the check's own table, 0.0 for anything else
    for known, t in lesson04._THRESHOLD_CASES:
        if torch.equal(known, logits) and t == threshold:
            return (torch.sigmoid(known.double()).squeeze(1) >= t).float()
    return torch.zeros(len(logits))


def threshold_in_place(logits, threshold):  # hostile: overwrites its input
    logits.sigmoid_()
    return (logits.squeeze(1) >= threshold).float()


Q1 = {
    "correct": [
        lambda logits, t: (torch.sigmoid(logits).squeeze(1) >= t).float(),
        threshold_logit,
        threshold_numpy,
        lambda logits, t: torch.where(torch.sigmoid(logits[:, 0]) >= t, 1.0, 0.0),
        lambda logits, t: (logits.squeeze(1) >= torch.logit(torch.tensor(t))).float(),  # logit(0.5) is 0
        lambda logits, t: (torch.sigmoid(logits.double()).squeeze(1) >= t).double(),
    ],
    "wrong": [
        (lambda logits, t: (torch.sigmoid(logits).squeeze(1) > 0.5).float(), "threshold argument"),
        (lambda logits, t: (logits.squeeze(1) >= t).float(), "threshold is a probability"),
        (lambda logits, t: (torch.sigmoid(logits) >= t).float(), "squeeze(1)"),
        (lambda logits, t: torch.sigmoid(logits).squeeze(1) >= t, "dtype torch.bool"),
        (lambda logits, t: torch.sigmoid(logits).squeeze(1), "values other than 0 and 1"),
        (lambda logits, t: (torch.sigmoid(logits).squeeze(1) < t).float(), "expected"),
        (lambda logits, t: (torch.sigmoid(logits).squeeze(1) > t).float(), "strictly above the threshold"),
        (lambda logits, t: (logits.squeeze(1) > torch.logit(torch.tensor(t))).float(), "(>=, not >)"),
        (lambda logits, t: torch.where(torch.sigmoid(logits[:, 0]) > t, 1.0, 0.0), "strictly above"),
        (threshold_in_place, "changed its input"),
        (threshold_lookup, "returned [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]"),
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


def per_class_by_prediction(y_true, y_pred):  # precision of each class: masks by the predicted label
    return tuple((y_true[y_pred == c] == c).float().mean().item() for c in (0, 1))


def per_class_by_prediction_loop(y_true, y_pred):
    result = []
    for c in (0, 1):
        mask = y_pred == c
        result.append(((y_true[mask] == y_pred[mask]).sum() / mask.sum()).item())
    return result


def per_class_lookup(y_true, y_pred):  # hostile: answers from the check's own table, (0, 0) for anything else
    t, p = [int(v) for v in y_true.tolist()], [int(v) for v in y_pred.tolist()]
    for known_t, known_p in lesson04._CLASS_CASES:
        if (known_t, known_p) == (t, p):
            return tuple(sum(a == b == c for a, b in zip(t, p, strict=True)) / t.count(c) for c in (0, 1))
    return 0.0, 0.0


def per_class_in_place(y_true, y_pred):
    y_pred[y_true == 0] = 0  # hostile: "fixes" the predictions it was given
    return per_class_loop(y_true, y_pred)


Q2 = {
    "correct": [
        per_class_loop,
        per_class_numpy,
        lambda t, p: tuple(float(((p == t) & (t == c)).sum() / (t == c).sum()) for c in (0, 1)),
        lambda t, p: np.array(per_class_numpy(t, p)),  # an array of two numbers is a pair too
        lambda t, p: torch.stack([v.float() for v in per_class_loop(t, p)]),  # a tensor of shape (2,)
        lambda t, p: tuple(Fraction(int(((p == c) & (t == c)).sum()), int((t == c).sum())) for c in (0, 1)),
    ],
    "wrong": [
        (per_class_swapped, "swapped"),
        (overall_twice, "overall accuracy"),
        (per_class_over_all, "divided by all"),
        (lambda t, p: (0.5, 0.5), "expected"),  # hard-coded
        (lambda t, p: (t == p).float().mean(), "return a pair"),
        (per_class_in_place, "changed its input"),
        (per_class_lookup, "returned [0.0, 0.0]"),
        (lambda t, p: tuple(100 * v.item() for v in per_class_loop(t, p)), "percentages"),
        (lambda t, p: 100 * np.array(per_class_numpy(t, p)), "return fractions between 0 and 1"),
        (per_class_by_prediction, "mask by the true label"),
        (per_class_by_prediction_loop, "mask by the true label"),
        (lambda t, p: per_class_by_prediction(t, p)[::-1], "expected [1.0, 0.5]"),  # no proof of any cause
        (lambda t, p: np.array([*per_class_numpy(t, p), 1.0]), "a pair of two numbers"),
    ],
}


# --------------------------------------------------------------------------- q3: weighted BCE by hand
def _log1p_exp(x):
    return x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))


def wbce(logits, labels, pos_weight):
    return pos_weight * labels * _log1p_exp(-logits) + (1 - labels) * _log1p_exp(logits)


def wbce_like_pytorch(logits, labels, pos_weight):  # (1 - y) z + (1 + (w - 1) y) log(1 + e^-z), stable
    log_weight = 1 + (pos_weight - 1) * labels
    return (1 - labels) * logits + log_weight * (torch.log1p(torch.exp(-logits.abs())) + (-logits).clamp(min=0))


def wbce_logaddexp(logits, labels, pos_weight):  # log(1 + e^x) as logaddexp(0, x)
    zero = torch.zeros_like(logits)
    return pos_weight * labels * torch.logaddexp(zero, -logits) + (1 - labels) * torch.logaddexp(zero, logits)


def wbce_numpy(logits, labels, pos_weight):  # computed in NumPy, float64 always, handed back as a tensor
    z, y = logits.numpy().astype(np.float64), labels.numpy().astype(np.float64)
    sp = lambda x: np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))  # noqa: E731
    return torch.from_numpy(pos_weight * y * sp(-z) + (1 - y) * sp(z))


def wbce_no_log1p(logits, labels, pos_weight):  # log(1 + tiny) rounds to 0: within the maths' tolerance
    sp = lambda x: x.clamp(min=0) + torch.log(1 + torch.exp(-x.abs()))  # noqa: E731
    return pos_weight * labels * sp(-logits) + (1 - labels) * sp(logits)


def wbce_naive(logits, labels, pos_weight):
    p = torch.sigmoid(logits)
    return -(pos_weight * labels * torch.log(p) + (1 - labels) * torch.log(1 - p))


def wbce_clamped(logits, labels, pos_weight):  # finite, but wrong for confident logits
    p = torch.sigmoid(logits).clamp(1e-7, 1 - 1e-7)
    return -(pos_weight * labels * torch.log(p) + (1 - labels) * torch.log(1 - p))


def lesson_cell(logits, labels, pos_weight):  # the lesson's Going further A form, pasted: no weight
    return logits.clamp(min=0) - logits * labels + torch.log1p(torch.exp(-logits.abs()))


def wbce_relu(logits, labels, pos_weight):  # max(x, 0) as lesson 04's ReLU
    sp = lambda x: torch.relu(x) + torch.log1p(torch.exp(-torch.abs(x)))  # noqa: E731
    return pos_weight * labels * sp(-logits) + (1 - labels) * sp(logits)


def wbce_going_further_a(logits, labels, pos_weight):  # A's form (right for soft labels) + the extra weight
    plain = logits.clamp(min=0) - logits * labels + torch.log1p(torch.exp(-logits.abs()))
    return plain + (pos_weight - 1) * labels * _log1p_exp(-logits)


def wbce_aten(logits, labels, pos_weight):  # hostile: PyTorch's operator called directly
    weight = torch.tensor(pos_weight, dtype=logits.dtype)
    return torch.ops.aten.binary_cross_entropy_with_logits(logits, labels, None, weight, 0)


def wbce_imported_softplus(logits, labels, pos_weight):  # a name bound before the check patches F
    return pos_weight * labels * imported_softplus(-logits) + (1 - labels) * imported_softplus(logits)


def wbce_imported_logsigmoid(logits, labels, pos_weight):
    return -(pos_weight * labels * imported_logsigmoid(logits) + (1 - labels) * imported_logsigmoid(-logits))


def wbce_variable_functions(logits, labels, pos_weight):  # PyTorch's C binding, not the torch attribute
    weight = torch.tensor(pos_weight, dtype=logits.dtype)
    return torch._C._VariableFunctions.binary_cross_entropy_with_logits(logits, labels, None, weight, 0)


def wbce_in_float32(logits, labels, pos_weight):
    return wbce(logits.float(), labels.float(), pos_weight)


def wbce_lookup(logits, labels, pos_weight):  # hostile: answers from the check's own table, 0 for anything else
    for values, _targets, w, dtype in lesson04._WEIGHTED_CASES:
        if logits.tolist() == torch.tensor(values, dtype=dtype).tolist() and w == pos_weight:
            return wbce(logits, labels, pos_weight)
    return torch.zeros_like(logits)


def wbce_in_place(logits, labels, pos_weight):  # hostile: overwrites its input
    out = wbce(logits, labels, pos_weight)
    logits.zero_()
    return out


Q3 = {
    "correct": [wbce, wbce_like_pytorch, wbce_logaddexp, wbce_numpy, wbce_no_log1p, wbce_relu,
                wbce_going_further_a,
                lambda z, y, w: wbce(z.double(), y.double(), w)],  # float64 answers for float32 inputs
    "wrong": [
        (lambda z, y, w: nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w), reduction="none")(z, y), "disables"),
        (lambda z, y, w: F.binary_cross_entropy_with_logits(z, y, reduction="none"), "disables"),
        (lambda z, y, w: nn.BCELoss(reduction="none")(torch.sigmoid(z), y), "disables"),
        (lambda z, y, w: w * y * F.softplus(-z) + (1 - y) * F.softplus(z), "disables"),
        (wbce_aten, "disables"),
        (lambda z, y, w: w * y * torch.ops.aten.softplus(-z) + (1 - y) * torch.ops.aten.softplus(z), "disables"),
        (lambda z, y, w: -(w * y * torch.ops.aten.log_sigmoid(z) + (1 - y) * torch.ops.aten.log_sigmoid(-z)),
         "disables"),
        (wbce_imported_softplus, "disables"),
        (wbce_imported_logsigmoid, "disables"),
        (wbce_variable_functions, "disables"),
        (lambda z, y, w: w * y * torch._C._nn.softplus(-z) + (1 - y) * torch._C._nn.softplus(z), "disables"),
        (lambda z, y, w: w * y * torch.ops.aten.softplus.default(-z) + (1 - y) * nn.Softplus()(z), "disables"),
        (wbce_naive, "inf or nan"),
        (wbce_clamped, "the exact one is"),
        (lesson_cell, "pos_weight = 1"),
        (lambda z, y, w: (1 + (w - 1) * y) * lesson_cell(z, y, w), "wrong for labels in between"),
        (lambda z, y, w: w * lesson_cell(z, y, w), "pos_weight times"),
        (lambda z, y, w: y * _log1p_exp(-z) + w * (1 - y) * _log1p_exp(z), "label-0 part"),
        (lambda z, y, w: wbce(z, y, w).mean(), "not their mean or sum"),
        (lambda z, y, w: wbce(z, y, w).unsqueeze(1), "expected ("),
        (wbce_in_float32, "only as accurate as float32"),
        (wbce_in_place, "changed its input"),
        (wbce_lookup, "your loss is 0, the exact one is"),
        (lambda z, y, w: torch.tensor([0.1269, 2.9222, 1.4222, 0.1458, 1.7014, 0.3133]), "the exact one is"),
        (lambda z, y, w: torch.zeros(100_000), "shape (100000,)"),
        (lambda z, y, w: (y * 0).long(), "integer dtype"),
    ],
}


# --------------------------------------------------------------------------- q4: debugging train_in_chunks
def chunked(model, X, y, epochs, lr, chunk_size):
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        epoch_loss = 0.0
        for start in range(0, len(X), chunk_size):
            Xc, yc = X[start:start + chunk_size], y[start:start + chunk_size]
            loss = loss_fn(model(Xc).squeeze(1), yc) * len(Xc) / len(X)
            loss.backward()
            epoch_loss += loss.item()
        optimizer.step()
        losses.append(epoch_loss)
    return losses


def chunked_sum_reduction(model, X, y, epochs, lr, chunk_size):  # reduction="sum", divided at the end
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        total = torch.zeros(())
        for Xc, yc in zip(X.split(chunk_size), y.split(chunk_size), strict=True):
            loss = F.binary_cross_entropy_with_logits(model(Xc).reshape(-1), yc, reduction="sum") / len(X)
            loss.backward()
            total = total + loss.detach()
        optimizer.step()
        optimizer.zero_grad()  # clearing after the step is just as right
        losses.append(total)  # 0-d tensors, not .item(): still numbers
    return losses


def chunked_by_hand(model, X, y, epochs, lr, chunk_size):  # no optimizer: sum the gradients, p -= lr * grad
    losses = []
    for _ in range(epochs):
        model.zero_grad()
        total = 0.0
        for start in range(0, len(X), chunk_size):
            out = model(X[start:start + chunk_size]).squeeze(1)
            loss = nn.BCEWithLogitsLoss(reduction="sum")(out, y[start:start + chunk_size])
            loss.backward()
            total += loss.item()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad / len(X)
        losses.append(total / len(X))
    return losses


def broken(model, X, y, epochs, lr, chunk_size):  # the notebook's snippet, unchanged
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        model.train()
        epoch_loss = 0.0
        for start in range(0, len(X), chunk_size):
            X_chunk, y_chunk = X[start:start + chunk_size], y[start:start + chunk_size]
            optimizer.zero_grad()
            loss = loss_fn(model(X_chunk).squeeze(1), y_chunk)
            loss.backward()
            epoch_loss += loss.item()
        optimizer.step()
        losses.append(epoch_loss)
    return losses


def variant(zero="epoch", weight="share", record="mean", step="epoch", lr_fixed=None, returns="losses",
            forward="call", last_chunk=True, dtype=None):
    def train(model, X, y, epochs, lr, chunk_size):
        loss_fn = nn.BCEWithLogitsLoss()
        if dtype is not None:  # trained in another dtype, and the model left so
            model.to(dtype)
            X, y = X.to(dtype), y.to(dtype)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr if lr_fixed is None else lr_fixed)
        chunks = list(zip(X.split(chunk_size), y.split(chunk_size), strict=True))
        if not last_chunk:  # off by one: range(0, len(X) - chunk_size, chunk_size)
            chunks = chunks[:-1]
        losses = []
        for _ in range(epochs):
            if zero == "epoch":
                optimizer.zero_grad()
            epoch_loss = 0.0
            for Xc, yc in chunks:
                if zero == "chunk":
                    optimizer.zero_grad()
                out = model.forward(Xc) if forward == "method" else model(Xc)
                loss = loss_fn(out.squeeze(1), yc)
                share = {"share": len(Xc) / len(X), "none": 1.0, "equal": 1 / len(chunks),
                         "chunk_size": chunk_size / len(X)}[weight]
                (loss * share).backward()
                counts = {"mean": len(Xc) / len(X), "sum": 1.0, "average": 1 / len(chunks)}[record]
                epoch_loss += loss.item() * counts
                if step == "chunk":
                    optimizer.step()
            if step == "epoch":
                optimizer.step()
            losses.append(epoch_loss)
        return {"losses": losses, "none": None, "last": losses[-1]}[returns]
    return train


def full_batch(model, X, y, epochs, lr, chunk_size):  # lesson 04's loop: ignores chunk_size
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(X).squeeze(1), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def chunked_in_place(model, X, y, epochs, lr, chunk_size):  # hostile: shuffles the data it was given in place
    X[:] = X.flip(0)
    y[:] = y.flip(0)
    return chunked(model, X, y, epochs, lr, chunk_size)


def chunked_one_backward(model, X, y, epochs, lr, chunk_size):  # the model sees chunks, but one graph
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        out = torch.cat([model(Xc) for Xc in X.split(chunk_size)]).squeeze(1)
        loss = loss_fn(out, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def chunked_summed_then_backward(model, X, y, epochs, lr, chunk_size):  # weighted chunk losses, one backward
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        total = sum(loss_fn(model(Xc).squeeze(1), yc) * len(Xc) / len(X)
                    for Xc, yc in zip(X.split(chunk_size), y.split(chunk_size), strict=True))
        total.backward()
        optimizer.step()
        losses.append(total.item())
    return losses


def chunked_autograd_grad(model, X, y, epochs, lr, chunk_size):  # torch.autograd.grad per chunk, summed
    params = list(model.parameters())
    losses = []
    for _ in range(epochs):
        grads = [torch.zeros_like(p) for p in params]
        total = 0.0
        for Xc, yc in zip(X.split(chunk_size), y.split(chunk_size), strict=True):
            loss = F.binary_cross_entropy_with_logits(model(Xc).squeeze(1), yc) * len(Xc) / len(X)
            for g, d in zip(grads, torch.autograd.grad(loss, params), strict=True):
                g += d
            total += loss.item()
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                p -= lr * g
        losses.append(total)
    return losses


Q4 = {
    "correct": [chunked, chunked_sum_reduction, chunked_by_hand, variant(), chunked_autograd_grad,
                variant(forward="method"),  # model.forward(x) skips the model's own hooks, not its layers'
                variant(dtype=torch.float64)],
    "wrong": [
        (broken, "only the last chunk's gradient"),
        (variant(zero="chunk"), "only the last chunk's gradient"),
        (variant(weight="none"), "chunks' mean losses added up"),
        (variant(weight="equal"), "every chunk's mean loss counted equally"),
        (variant(weight="chunk_size"), "weighted by chunk_size / len(X), the last one too"),
        (variant(weight="chunk_size", forward="method"), "weighted by chunk_size / len(X), the last one too"),
        (variant(last_chunk=False), "the points of the last chunk never counted"),
        (variant(last_chunk=False, dtype=torch.float64), "the points of the last chunk never counted"),
        (variant(zero="never"), "never cleared between epochs"),
        (variant(zero="chunk", weight="none", step="chunk"), "one optimizer step was taken per chunk"),
        (full_batch, "on 40 points at once"),
        (variant(lr_fixed=0.1), "differ from 3 steps"),
        (variant(record="sum"), "the sum of the chunks' mean losses"),
        (variant(record="average"), "plain average of the chunks' mean losses"),
        (variant(returns="none"), "return the list"),
        (variant(returns="last"), "return the list"),
        (lambda model, X, y, epochs, lr, chunk_size: [0.7, 0.69, 0.68], "never ran the model"),  # hard-coded
        (chunked_in_place, "changed its input"),
        (chunked_one_backward, "3 backward pass(es) through the model in 3 epochs"),
        (chunked_summed_then_backward, "call backward() on each chunk's loss right after"),
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


def collapse_hooked(model):  # hostile: makes the model agree with a made-up answer through a forward hook
    W, b = torch.zeros(model[-1].out_features, model[0].in_features), torch.zeros(model[-1].out_features)
    model.register_forward_hook(lambda module, inputs, output: inputs[0] @ W.T.to(inputs[0]) + b.to(inputs[0]))
    return W, b


def collapse_new_forward(model):  # hostile: the same by replacing forward
    W, b = torch.ones(model[-1].out_features, model[0].in_features), torch.ones(model[-1].out_features)
    model.forward = lambda x: x @ W.T.to(x) + b.to(x)
    return W, b


def collapse_then_shorten(model):  # keeps only the first layer, after computing a right answer
    W, b = collapse_loop(model)
    while len(model) > 1:
        del model[-1]
    return W, b


Q5 = {
    "correct": [collapse_loop, collapse_probe,
                lambda m: tuple(t.detach() for t in collapse_loop(m))],
    "wrong": [
        (collapse_three, "raised IndexError"),
        (collapse_wrong_order, "W from"),
        (collapse_last_bias, "differs from the model's output"),
        (collapse_mutating, "changed the model"),
        (collapse_hooked, "differs from the model's output"),
        (collapse_new_forward, "differs from the model's output"),
        (collapse_then_shorten, "changed the model (its parameters or its layers)"),
        (lambda m: collapse_loop(m)[0], "return a pair"),
    ],
}


# --------------------------------------------------------------------------- q6: end to end on raw readings
class Net(nn.Module):
    def __init__(self, mean=None, std=None, sigmoid_at_end=False, activation=True):
        super().__init__()
        self.mean, self.std = mean, std
        self.l1, self.l2, self.l3 = nn.Linear(2, 16), nn.Linear(16, 16), nn.Linear(16, 1)
        self.act = nn.ReLU() if activation else nn.Identity()
        self.sigmoid_at_end = sigmoid_at_end

    def forward(self, x):
        if self.mean is not None:
            x = (x - self.mean) / self.std
        out = self.l3(self.act(self.l2(self.act(self.l1(x)))))
        return torch.sigmoid(out) if self.sigmoid_at_end else out


def trainer(make, optimizer="adam", epochs=300, lr=0.02, loss="logits", scale="inside"):
    """A train_classifier. scale: "inside" (the model standardises), "outside" (only the training data
    is standardised: the model expects standardised input), "none" (raw readings throughout)."""
    def train_classifier(X, y):
        mean, std = X.mean(dim=0), X.std(dim=0)
        model = make(mean, std) if scale == "inside" else make(None, None)
        X_fit = (X - mean) / std if scale == "outside" else X
        opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
        loss_fn = nn.BCEWithLogitsLoss() if loss == "logits" else nn.BCELoss()
        for _ in range(epochs):
            loss_value = loss_fn(model(X_fit).squeeze(1), y)
            opt.zero_grad()
            loss_value.backward()
            opt.step()
        return model
    return train_classifier


class MinMax(nn.Module):  # another right approach: rescale each column to [0, 1] with the training range
    def __init__(self, low, high):
        super().__init__()
        self.low, self.high = low, high
        self.net = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 1))

    def forward(self, x):
        return self.net((x - self.low) / (self.high - self.low)).squeeze(1)  # (M,) is allowed too


def minmax_trainer(X, y):
    model = MinMax(X.min(dim=0).values, X.max(dim=0).values)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(400):
        loss = F.binary_cross_entropy_with_logits(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def lesson_recipe(X, y):  # lesson 04's MoonModelV2 and loop, pasted: SGD, lr 0.1, 1000 epochs, raw inputs
    return trainer(lambda m, s: nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 10), nn.ReLU(),
                                              nn.Linear(10, 1)), optimizer="sgd", epochs=1000, lr=0.1,
                   scale="none")(X, y)


def standardise_in_place(X, y):  # hostile: standardises the readings it was given in place
    X -= X.mean(dim=0)
    return trainer(Net, scale="outside")(X, y)


class Memoriser(nn.Module):  # hostile: returns the training targets whatever its input
    def __init__(self, y):
        super().__init__()
        self.register_buffer("y", y.clone())
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return (self.y * 2 - 1).unsqueeze(1) * 10 + self.dummy


class BatchStandardised(nn.Module):  # standardises each call's x with x's own statistics
    def __init__(self, how="std"):
        super().__init__()
        self.how = how
        self.net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x):
        if self.how == "std":
            x = (x - x.mean(0)) / x.std(0)
        else:  # min-max of the batch
            low, high = x.min(0).values, x.max(0).values
            x = (x - low) / (high - low + 1e-12)
        return self.net(x)


def batch_trainer(how):
    def train_classifier(X, y):
        model = BatchStandardised(how)
        opt = torch.optim.Adam(model.parameters(), lr=0.02)
        for _ in range(300):
            loss = F.binary_cross_entropy_with_logits(model(X).squeeze(1), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return model
    return train_classifier


class Squeezed(nn.Module):  # forward(...).squeeze(): shape () for one reading, (M,) otherwise
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x).squeeze()


class Ending(nn.Module):  # a trained logit model whose forward ends with something that is not a logit
    def __init__(self, net, how):
        super().__init__()
        self.net, self.how = net, how

    def forward(self, x):
        z = self.net(x)
        return {"relu": torch.relu(z), "round": torch.round(torch.sigmoid(z)), "compare": (z > 0).float(),
                "sigmoid": torch.sigmoid(z)}[self.how]


def ending(how, train_through=False):
    def train_classifier(X, y):
        if train_through:  # the ending is part of training too (BCEWithLogitsLoss on the ReLU's output)
            return trainer(lambda m, s: Ending(Net(m, s), how))(X, y)
        return Ending(trainer(lambda m, s: Net(m, s))(X, y), how)
    return train_classifier


class Lookup(nn.Module):  # hostile: memorises readings it was shown (here, the check's own) and their labels
    def __init__(self, X, y):
        super().__init__()
        self.table = {tuple(r): float(label) for r, label in zip(X.tolist(), y.tolist(), strict=True)}
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return torch.tensor([10.0 if self.table.get(tuple(r), 0.0) else -10.0 for r in x.tolist()]) + self.dummy


def reads_the_checks_readings(X, y):
    return Lookup(*lesson04._held_back_readings())


def nan_parameters(X, y):  # diverged: a hidden bias went to -inf (ReLU then gives 0, so outputs stay finite)
    model = trainer(lambda m, s: Net(m, s), epochs=5)(X, y)
    with torch.no_grad():
        model.l1.weight[0] = 0.0
        model.l1.bias[0] = -float("inf")
    return model


def on_meta(X, y):  # stands for a model left on a GPU: trained, then moved to another device
    return trainer(lambda m, s: Net(m, s), epochs=50)(X, y).to("meta")


def trained_on_meta(X, y):  # moves the model, not the data
    model = Net(X.mean(dim=0), X.std(dim=0)).to("meta")
    return trainer(lambda m, s: model, epochs=5)(X, y)


Q6 = {
    "correct": [
        trainer(lambda m, s: Net(m, s)),
        minmax_trainer,
        trainer(lambda m, s: Net(m, s), optimizer="sgd", epochs=1500, lr=0.3),
        lambda X, y: Squeezed(trainer(lambda m, s: Net(m, s))(X, y)),
    ],
    "wrong": [
        (lesson_recipe, "the same output"),
        (trainer(lambda m, s: Net(m, s), scale="none"), "did it fall well below"),
        (trainer(lambda m, s: Net(), scale="outside"), "inside forward"),
        (trainer(lambda m, s: Net(m, s, activation=False)), "accuracy is"),
        (trainer(lambda m, s: Net(m, s, sigmoid_at_end=True), loss="probabilities"), "between 0 and 1"),
        (trainer(lambda m, s: Net(m, s), epochs=1), "accuracy is"),
        (trainer(lambda m, s: Net(m, s), lr=1e30, optimizer="sgd", epochs=20), "inf or nan"),
        (nan_parameters, "some of its parameters are inf or nan"),
        (lambda X, y: Memoriser(y), "returned shape (400, 1)"),
        (lambda X, y: Net, "is the class Net"),
        (standardise_in_place, "changed its input"),
        (batch_trainer("std"), "depends on which other readings are in the batch"),
        (batch_trainer("minmax"), "depends on which other readings are in the batch"),
        (on_meta, "move the model back with model.cpu()"),
        (trained_on_meta, "move the model back with model.cpu()"),
        (ending("round"), "none of its outputs is negative"),
        (ending("compare"), "100 of the 200 are exactly 0"),
        (ending("relu"), "a ReLU, a sigmoid, a rounding or a comparison"),
        (ending("relu", train_through=True), "none of its outputs is negative"),
        (ending("sigmoid"), "Every output lies between 0 and 1"),
        (reads_the_checks_readings, "accuracy is 0.5"),
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
    lesson04._training_readings()  # the first call imports scikit-learn: not the answer's time
    for name, answer in [("q6", lesson_recipe), ("q6", trainer(lambda m, s: Net(m, s, activation=False))),
                         ("q4", broken), ("q3", wbce_naive)]:
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
    lesson04.q4.evaluate(chunked)
    lesson04.q5.evaluate(collapse_loop)
    assert torch.equal(torch.rand(3), expected)


def test_a_slow_answer_is_told_the_time_limit(monkeypatch):
    monkeypatch.setattr(lesson04, "_E2E_SECONDS", 0.0)  # any real training is then over the limit
    outcome = lesson04.q6.evaluate(trainer(lambda m, s: Net(m, s), epochs=5))
    assert outcome.status == "incorrect" and "the limit is 0 s" in outcome.message


def test_the_time_limit_leaves_out_the_first_optimizers_import():
    """The first optimizer of a process imports part of PyTorch's compiler; q6 pays that before its clock."""
    import subprocess
    import sys

    code = ("import time, torch; from helpers.checks import lesson04; lesson04._warm_up_optimizers(); "
            "t = time.process_time(); torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1); "
            "print(time.process_time() - t)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds = float(run.stdout)
    assert seconds < 0.5


def test_held_back_readings_are_fresh_each_time():
    """Fixed test readings could be read from the module and memorised; each check draws new ones."""
    (X1, _), (X2, _) = lesson04._held_back_readings(), lesson04._held_back_readings()
    assert X1.shape == X2.shape == (200, 2) and not torch.equal(X1, X2)


def _replace(space, key, value):
    setattr(space, key, value)


def _zeros_for(m):
    return torch.zeros(m[-1].out_features, m[0].in_features), torch.zeros(m[-1].out_features)


_ORIGINALS = {(torch, "sigmoid"): torch.sigmoid, (torch, "equal"): torch.equal,
              (torch, "allclose"): torch.allclose,
              (lesson04, "close"): lesson04.close, (lesson04, "_tolerance"): lesson04._tolerance,
              (nn.Linear, "forward"): nn.Linear.forward}


@pytest.mark.parametrize(("name", "answer", "replaced"), [
    ("q1", lambda z, t: _replace(torch, "sigmoid", torch.zeros_like) or torch.zeros(len(z)), "torch.sigmoid"),
    ("q1", lambda z, t: _replace(torch, "equal", lambda a, b: True) or torch.zeros(len(z)), "torch.equal"),
    ("q2", lambda t, p: _replace(lesson04, "close", lambda a, b, tol=0: True) or (0.0, 0.0), "lesson04.close"),
    ("q3", lambda z, y, w: _replace(lesson04, "_tolerance", lambda *a: torch.tensor(float("inf"))) or z,
     "lesson04._tolerance"),
    ("q5", lambda m: _replace(nn.Linear, "forward", lambda self, x: x[..., :1] * 0) or _zeros_for(m),
     "torch.nn.Linear.forward"),
    ("q5", lambda m: _replace(torch, "allclose", lambda *a, **k: True) or _zeros_for(m), "torch.allclose"),
])
def test_an_answer_that_replaces_what_the_check_relies_on_is_told_and_undone(name, answer, replaced):
    """The check computes its expectations with these functions: a replaced one could make anything look right."""
    try:
        outcome = lesson04.__dict__[name].evaluate(answer)
        message = outcome.message.lower().replace("helpers.checks.", "")
        assert outcome.status == "incorrect" and f"replaced {replaced}".lower() in message, outcome.message
        assert all(getattr(space, key) is value for (space, key), value in _ORIGINALS.items())  # put back
    finally:
        for (space, key), value in _ORIGINALS.items():
            setattr(space, key, value)
