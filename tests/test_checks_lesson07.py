"""Lesson 07 checks: several correct answers pass, typical mistakes fail with their hint."""

import copy

import numpy as np
import pytest
import torch
from checkcases import assert_complete, cases, verify
from sklearn.model_selection import train_test_split
from torch import nn

from helpers.checks import lesson07


def not_implemented(*_):
    raise NotImplementedError("Write your code here")


# ---- q1: three_way_split
def split_two_calls(X, y, val_fraction, test_fraction, seed):
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_fraction, stratify=y, random_state=seed)
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_fraction / (1 - test_fraction), stratify=y_rest, random_state=seed)
    return X_train, X_val, X_test, y_train, y_val, y_test


def split_validation_first(X, y, val_fraction, test_fraction, seed):  # the other cut first, as tensors
    X_rest, X_val, y_rest, y_val = train_test_split(
        X, y, test_size=val_fraction, stratify=y, random_state=seed)
    X_train, X_test, y_train, y_test = train_test_split(
        X_rest, y_rest, test_size=test_fraction / (1 - val_fraction), stratify=y_rest, random_state=seed + 100)
    return tuple(torch.from_numpy(a) for a in (X_train, X_val, X_test, y_train, y_val, y_test))


def split_not_stratified(X, y, val_fraction, test_fraction, seed):
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=test_fraction, random_state=seed)
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_fraction / (1 - test_fraction), random_state=seed)
    return X_train, X_val, X_test, y_train, y_val, y_test


def split_val_too_small(X, y, val_fraction, test_fraction, seed):  # val_fraction of the rest, not of all
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_fraction, stratify=y, random_state=seed)
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_fraction, stratify=y_rest, random_state=seed)
    return X_train, X_val, X_test, y_train, y_val, y_test


def split_lesson_copy(X, y, val_fraction, test_fraction, seed):  # the lesson's 60/20/20, fractions ignored
    return split_two_calls(X, y, 0.2, 0.2, seed)


def split_fixed_seed(X, y, val_fraction, test_fraction, seed):
    return split_two_calls(X, y, val_fraction, test_fraction, 0)


def split_shuffled_apart(X, y, val_fraction, test_fraction, seed):  # rows lose their labels
    X_rest, X_test = train_test_split(X, test_size=test_fraction, random_state=seed)
    y_rest, y_test = train_test_split(y, test_size=test_fraction, random_state=seed + 1)
    rest = val_fraction / (1 - test_fraction)
    X_train, X_val = train_test_split(X_rest, test_size=rest, random_state=seed)
    y_train, y_val = train_test_split(y_rest, test_size=rest, random_state=seed)
    return X_train, X_val, X_test, y_train, y_val, y_test


def split_wrong_order(X, y, val_fraction, test_fraction, seed):
    X_train, X_val, X_test, y_train, y_val, y_test = split_two_calls(X, y, val_fraction, test_fraction, seed)
    return X_train, y_train, X_val, y_val, X_test, y_test


def split_by_hand(X, y, val_fraction, test_fraction, seed):  # no train_test_split: one permutation per class
    rng = np.random.default_rng(seed)
    parts = ([], [], [])
    for cls in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == cls))
        n_test, n_val = round(test_fraction * len(rows)), round(val_fraction * len(rows))
        parts[2].extend(rows[:n_test])
        parts[1].extend(rows[n_test:n_test + n_val])
        parts[0].extend(rows[n_test + n_val:])
    train, val, test = (np.array(p) for p in parts)
    return X[train], X[val], X[test], y[train], y[val], y[test]


def split_train_size(X, y, val_fraction, test_fraction, seed):  # train first, then halve the rest
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, train_size=1 - val_fraction - test_fraction, stratify=y, random_state=seed)
    X_val, X_test, y_val, y_test = train_test_split(
        X_rest, y_rest, train_size=val_fraction / (val_fraction + test_fraction), stratify=y_rest,
        random_state=seed)
    return X_train, X_val, X_test, y_train, y_val, y_test


def split_randperm(X, y, val_fraction, test_fraction, seed):  # by hand, seeded, but not stratified
    rows = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed)).numpy()
    n_test, n_val = round(test_fraction * len(y)), round(val_fraction * len(y))
    test, val, train = rows[:n_test], rows[n_test:n_test + n_val], rows[n_test + n_val:]
    return X[train], X[val], X[test], y[train], y[val], y[test]


def split_labels_val_test_swapped(X, y, val_fraction, test_fraction, seed):  # y_test returned before y_val
    X_train, X_val, X_test, y_train, y_val, y_test = split_two_calls(X, y, val_fraction, test_fraction, seed)
    return X_train, X_val, X_test, y_train, y_test, y_val


def split_X_val_test_swapped(X, y, val_fraction, test_fraction, seed):
    X_train, X_val, X_test, y_train, y_val, y_test = split_two_calls(X, y, val_fraction, test_fraction, seed)
    return X_train, X_test, X_val, y_train, y_val, y_test


def split_fractions_swapped(X, y, val_fraction, test_fraction, seed):
    return split_two_calls(X, y, test_fraction, val_fraction, seed)


def split_parts_swapped(X, y, val_fraction, test_fraction, seed):  # validation and test, both X and y
    X_train, X_val, X_test, y_train, y_val, y_test = split_two_calls(X, y, val_fraction, test_fraction, seed)
    return X_train, X_test, X_val, y_train, y_test, y_val


def split_labels_as_column(X, y, val_fraction, test_fraction, seed):  # y parts of shape (n, 1)
    parts = split_two_calls(X, y, val_fraction, test_fraction, seed)
    return parts[:3] + tuple(p.reshape(-1, 1) for p in parts[3:])


def split_generator(X, y, val_fraction, test_fraction, seed):  # unpacks like a tuple
    return (part for part in split_two_calls(X, y, val_fraction, test_fraction, seed))


def split_lists_sss(X, y, val_fraction, test_fraction, seed):  # StratifiedShuffleSplit, lists back
    from sklearn.model_selection import StratifiedShuffleSplit

    rest, test = next(StratifiedShuffleSplit(1, test_size=test_fraction, random_state=seed).split(X, y))
    inner = StratifiedShuffleSplit(1, test_size=val_fraction / (1 - test_fraction), random_state=seed)
    train, val = (rest[i] for i in next(inner.split(X[rest], y[rest])))
    return [X[i].tolist() for i in (train, val, test)] + [y[i].tolist() for i in (train, val, test)]


# ---- q2: scale_splits (min-max, training statistics, a column constant in training)
def scale_numpy(X_train, X_val, X_test):
    low, high = X_train.min(axis=0), X_train.max(axis=0)
    spread = np.where(high > low, high - low, 1.0)
    return (X_train - low) / spread, (X_val - low) / spread, (X_test - low) / spread


def scale_torch_float32(X_train, X_val, X_test):  # tensors, float32, a loop over columns
    train = torch.from_numpy(X_train).float()
    low, high = train.min(dim=0).values, train.max(dim=0).values
    spread = high - low
    spread[spread == 0] = 1.0
    return [(torch.from_numpy(X).float() - low) / spread for X in (X_train, X_val, X_test)]


def scale_sklearn(X_train, X_val, X_test):
    from sklearn.preprocessing import MinMaxScaler

    scaler = MinMaxScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_val), scaler.transform(X_test)


def scale_leaky(X_train, X_val, X_test):  # the bug in the exercise, with the constant column handled
    X_all = np.concatenate([X_train, X_val, X_test])
    low, high = X_all.min(axis=0), X_all.max(axis=0)
    return [(X - low) / (high - low) for X in (X_train, X_val, X_test)]


def scale_divides_by_zero(X_train, X_val, X_test):  # the leak fixed, the constant column not
    low, high = X_train.min(axis=0), X_train.max(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return [(X - low) / (high - low) for X in (X_train, X_val, X_test)]


def scale_constant_to_zero(X_train, X_val, X_test):  # the constant column set to 0 everywhere
    parts = scale_numpy(X_train, X_val, X_test)
    constant = X_train.max(axis=0) == X_train.min(axis=0)
    return [np.where(constant, 0.0, P) for P in parts]


def scale_clipped(X_train, X_val, X_test):
    return [np.clip(P, 0, 1) for P in scale_numpy(X_train, X_val, X_test)]


def scale_each_own(X_train, X_val, X_test):
    return tuple(scale_numpy(X, X, X)[0] for X in (X_train, X_val, X_test))


def scale_standardise(X_train, X_val, X_test):  # the lesson's standardisation, pasted
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std = np.where(std == 0, 1.0, std)
    return (X_train - mean) / std, (X_val - mean) / std, (X_test - mean) / std


def scale_in_place(X_train, X_val, X_test):
    low, high = X_train.min(axis=0), X_train.max(axis=0)
    spread = np.where(high > low, high - low, 1.0)
    for X in (X_val, X_test, X_train):
        X -= low
        X /= spread
    return X_train, X_val, X_test


def scale_whole_array(X_train, X_val, X_test):  # one range for all columns
    low, high = X_train.min(), X_train.max()
    return (X_train - low) / (high - low), (X_val - low) / (high - low), (X_test - low) / (high - low)


def scale_generator(X_train, X_val, X_test):  # np.ptp, a generator of the three parts
    low, spread = X_train.min(axis=0), np.ptp(X_train, axis=0)
    spread[spread == 0] = 1.0
    return ((X - low) / spread for X in (X_train, X_val, X_test))


def scale_object_dtype(X_train, X_val, X_test):  # right values in arrays of dtype object
    return [P.astype(object) for P in scale_numpy(X_train, X_val, X_test)]


def scale_text(X_train, X_val, X_test):  # the numbers formatted as text
    return [P.astype(str) for P in scale_numpy(X_train, X_val, X_test)]


def scale_train_only(X_train, X_val, X_test):  # the other splits returned as they came
    return scale_numpy(X_train, X_val, X_test)[0], X_val, X_test


def scale_test_forgotten(X_train, X_val, X_test):
    train, val, _ = scale_numpy(X_train, X_val, X_test)
    return train, val, X_test.copy()


def scale_all_nan(X_train, X_val, X_test):
    return [np.full_like(X, np.nan) for X in (X_train, X_val, X_test)]


def scale_nan_first_column(X_train, X_val, X_test):  # right, except nan in column 0 of the training rows
    parts = list(scale_numpy(X_train, X_val, X_test))
    parts[0] = parts[0].copy()
    parts[0][:, 0] = np.nan
    return parts


def scale_divide_where(X_train, X_val, X_test):  # np.divide(where=...) leaves 0 in the constant column
    low, spread = X_train.min(axis=0), X_train.max(axis=0) - X_train.min(axis=0)
    return [np.divide(X - low, spread, out=np.zeros_like(X), where=spread != 0) for X in (X_train, X_val, X_test)]


# ---- q3: majority_baseline_accuracy
def baseline_bincount(y_train, y_eval):
    majority = np.bincount(np.asarray(y_train)).argmax()
    return float((np.asarray(y_eval) == majority).mean())


def baseline_torch(y_train, y_eval):
    y_train, y_eval = torch.as_tensor(y_train), torch.as_tensor(y_eval)
    majority = torch.bincount(y_train).argmax()
    return (y_eval == majority).float().mean()


def baseline_counter(y_train, y_eval):
    from collections import Counter

    majority = Counter(int(v) for v in y_train).most_common(1)[0][0]
    return sum(int(v) == majority for v in y_eval) / len(y_eval)


def baseline_eval_majority(y_train, y_eval):
    return baseline_bincount(y_eval, y_eval)


def baseline_class(y_train, y_eval):
    return int(np.bincount(np.asarray(y_train)).argmax())


def baseline_percent(y_train, y_eval):
    return 100 * baseline_bincount(y_train, y_eval)


def baseline_lesson_rule(y_train, y_eval):  # the lesson's two-class rule (cell 23), renamed
    majority_class = int(np.asarray(y_train).mean() > 0.5)
    return int((np.asarray(y_eval) == majority_class).sum()) / len(y_eval)


def baseline_lesson_rule_torch(y_train, y_eval):  # the same rule in torch, with a float mean
    majority_class = int(torch.as_tensor(y_train).float().mean() > 0.5)
    return (torch.as_tensor(y_eval) == majority_class).float().mean()


def baseline_lesson_pasted(y_train, y_eval):  # pasted as it is: mean() of an integer tensor raises
    majority_class = int(y_train.mean() > 0.5)
    return int((y_eval == majority_class).sum()) / len(y_eval)


def baseline_train_length(y_train, y_eval):  # divides the hits by the wrong count
    majority = np.bincount(np.asarray(y_train)).argmax()
    return float((np.asarray(y_eval) == majority).sum()) / len(y_train)


def baseline_unique(y_train, y_eval):
    values, counts = np.unique(np.asarray(y_train), return_counts=True)
    return (np.asarray(y_eval) == values[counts.argmax()]).mean()


def baseline_fraction(y_train, y_eval):  # torch.mode, an exact fraction
    from fractions import Fraction

    majority = torch.mode(torch.as_tensor(y_train)).values
    return Fraction(int((torch.as_tensor(y_eval) == majority).sum()), len(y_eval))


def baseline_minority(y_train, y_eval):  # argmin: the least common class of y_train
    minority = np.bincount(np.asarray(y_train)).argmin()
    return float(np.mean(np.asarray(y_eval) == minority))


def baseline_count(y_train, y_eval):  # the hits, not divided
    majority = np.bincount(np.asarray(y_train)).argmax()
    return int((np.asarray(y_eval) == majority).sum())


# ---- q4: threshold_for_costs(probs, labels, cost_fn, cost_fp)
def _costs_of(probs, labels, thresholds, cost_fn, cost_fp, strict=False):
    positive = labels == 1
    costs = []
    for t in thresholds:
        pred = probs > t if strict else probs >= t
        costs.append(cost_fn * (~pred & positive).sum().item() + cost_fp * (pred & ~positive).sum().item())
    return costs


def threshold_scan(probs, labels, cost_fn, cost_fp):
    candidates = sorted(set(probs.tolist())) + [float("inf")]
    costs = _costs_of(probs, labels, candidates, cost_fn, cost_fp)
    return candidates[costs.index(min(costs))]


def threshold_vectorised(probs, labels, cost_fn, cost_fp):  # every cut at once; a tensor element back
    values = torch.unique(probs)  # sorted ascending
    predicted = probs[None, :] >= values[:, None]
    positive = (labels == 1)[None, :]
    cost = cost_fn * (~predicted & positive).sum(1) + cost_fp * (predicted & ~positive).sum(1)
    nothing_positive = cost_fn * positive.sum()
    if nothing_positive < cost.min():
        return float("inf")
    return values[cost.argmin()]


def threshold_numpy_midpoints(probs, labels, cost_fn, cost_fp):  # NumPy, thresholds between the scores
    p = probs.numpy().astype(np.float64)
    y = labels.numpy().astype(int)
    values = np.unique(p)
    candidates = np.concatenate([[values[0] - 1.0], (values[:-1] + values[1:]) / 2, [values[-1] + 1.0]])
    costs = [cost_fn * np.sum((p < t) & (y == 1)) + cost_fp * np.sum((p >= t) & (y == 0)) for t in candidates]
    return np.float64(candidates[int(np.argmin(costs))])


def threshold_lesson(probs, labels, cost_fn, cost_fp):  # the lesson's recall-goal cell, renamed: wrong goal
    from torchmetrics.classification import BinaryPrecisionRecallCurve

    _, curve_recall, curve_thresholds = BinaryPrecisionRecallCurve()(probs.float(), labels.long())
    return curve_thresholds[curve_recall[:-1] >= 0.98].max().item()


def threshold_bayes(probs, labels, cost_fn, cost_fp):  # right only for calibrated probabilities
    return cost_fp / (cost_fn + cost_fp)


def threshold_swapped(probs, labels, cost_fn, cost_fp):
    return threshold_scan(probs, labels, cost_fp, cost_fn)


def threshold_strict(probs, labels, cost_fn, cost_fp):  # searches with >, returns the same number
    candidates = [-1.0] + sorted(set(probs.tolist()))  # -1.0: everything positive
    costs = _costs_of(probs, labels, candidates, cost_fn, cost_fp, strict=True)
    return candidates[costs.index(min(costs))]


def threshold_no_inf(probs, labels, cost_fn, cost_fp):  # never considers "nothing positive"
    candidates = sorted(set(probs.tolist()))
    costs = _costs_of(probs, labels, candidates, cost_fn, cost_fp)
    return candidates[costs.index(min(costs))]


def threshold_sorts_in_place(probs, labels, cost_fn, cost_fp):
    order = probs.argsort()
    probs[:] = probs[order]  # the caller's tensor is now sorted, away from its labels
    labels[:] = labels[order]
    return threshold_scan(probs, labels, cost_fn, cost_fp)


def threshold_rates(probs, labels, cost_fn, cost_fp):  # weighs the error *rates*, not the counts
    candidates = sorted(set(probs.tolist())) + [float("inf")]
    positive = labels == 1
    best, best_cost = None, float("inf")
    for t in candidates:
        pred = probs >= t
        cost = (cost_fn * (~pred & positive).sum() / positive.sum()
                + cost_fp * (pred & ~positive).sum() / (~positive).sum()).item()
        if cost < best_cost:
            best, best_cost = t, cost
    return best


# ---- q5: train_with_early_stopping(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs)
def early_stopping_copy(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    best_accuracy, best_epoch, best_state, waited = float("-inf"), 0, None, 0
    for epoch in range(1, max_epochs + 1):
        train_one_epoch()
        accuracy = validation_accuracy()
        if accuracy > best_accuracy + min_delta:
            best_accuracy, best_epoch, best_state, waited = accuracy, epoch, copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if waited == patience:
                break
    model.load_state_dict(best_state)
    return best_epoch, best_accuracy


def early_stopping_clone(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    history, best_epoch, best_state = [], None, None  # a list of accuracies, epochs from 0 inside
    for epoch in range(max_epochs):
        train_one_epoch()
        history.append(validation_accuracy())
        if best_epoch is None or history[-1] - history[best_epoch] > min_delta:
            best_epoch = epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif epoch - best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    return [np.int64(best_epoch + 1), torch.tensor(history[best_epoch])]


def early_stopping_reference(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    best_accuracy, best_epoch, best_state, waited = float("-inf"), 0, None, 0
    for epoch in range(1, max_epochs + 1):
        train_one_epoch()
        accuracy = validation_accuracy()
        if accuracy > best_accuracy + min_delta:
            best_accuracy, best_epoch, best_state, waited = accuracy, epoch, model.state_dict(), 0
        else:
            waited += 1
            if waited == patience:
                break
    model.load_state_dict(best_state)
    return best_epoch, best_accuracy


def early_stopping_one_late(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    best_accuracy, best_epoch, best_state, waited = float("-inf"), 0, None, 0
    for epoch in range(1, max_epochs + 1):
        train_one_epoch()
        accuracy = validation_accuracy()
        if accuracy > best_accuracy + min_delta:
            best_accuracy, best_epoch, best_state, waited = accuracy, epoch, copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if waited > patience:
                break
    model.load_state_dict(best_state)
    return best_epoch, best_accuracy


def early_stopping_as_given(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    best_accuracy, best_epoch, best_state, waited = float("-inf"), 0, None, 0
    for epoch in range(1, max_epochs + 1):
        train_one_epoch()
        accuracy = validation_accuracy()
        if accuracy > best_accuracy + min_delta:
            best_accuracy, best_epoch, best_state, waited = accuracy, epoch, model.state_dict(), 0
        else:
            waited += 1
            if waited > patience:
                break
    model.load_state_dict(best_state)
    return best_epoch, best_accuracy


def early_stopping_no_restore(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    best_accuracy, best_epoch, waited = float("-inf"), 0, 0
    for epoch in range(1, max_epochs + 1):
        train_one_epoch()
        accuracy = validation_accuracy()
        if accuracy > best_accuracy + min_delta:
            best_accuracy, best_epoch, waited = accuracy, epoch, 0
        else:
            waited += 1
            if waited == patience:
                break
    return best_epoch, best_accuracy


def early_stopping_ignores_delta(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    return early_stopping_copy(model, train_one_epoch, validation_accuracy, patience, 0.0, max_epochs)


def early_stopping_lesson(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    # the lesson's loop (lower is better), pasted and renamed: it keeps the *worst* accuracy
    best_val_loss, best_state, es_best_epoch, epochs_without_improvement = float("inf"), None, 0, 0
    for epoch in range(1, max_epochs + 1):
        train_one_epoch()
        val_loss = validation_accuracy()
        if val_loss < best_val_loss:
            best_val_loss, es_best_epoch, epochs_without_improvement = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            epochs_without_improvement += 1
            if epochs_without_improvement == patience:
                break
    model.load_state_dict(best_state)
    return es_best_epoch, best_val_loss


def early_stopping_from_zero(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    best_epoch, best_accuracy = early_stopping_copy(model, train_one_epoch, validation_accuracy, patience,
                                                    min_delta, max_epochs)
    return best_epoch - 1, best_accuracy


def early_stopping_accuracy_only(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    return early_stopping_copy(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs)[1]


def early_stopping_tie_improves(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    best_accuracy, best_epoch, best_state, waited = float("-inf"), 0, None, 0
    for epoch in range(1, max_epochs + 1):
        train_one_epoch()
        accuracy = validation_accuracy()
        if accuracy >= best_accuracy + min_delta:  # a tie counts as an improvement
            best_accuracy, best_epoch, waited = accuracy, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            waited += 1
            if waited == patience:
                break
    model.load_state_dict(best_state)
    return best_epoch, best_accuracy


def early_stopping_tie_while(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    # a while loop; "not better by min_delta" written as a difference, with the tie on the wrong side
    best, best_epoch, best_state, waited, epoch = None, 0, None, 0, 0
    while epoch < max_epochs and waited < patience:
        epoch += 1
        train_one_epoch()
        accuracy = validation_accuracy()
        if best is None or not accuracy - best < min_delta:
            best, best_epoch, waited = accuracy, epoch, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
    model.load_state_dict(best_state)
    return best_epoch, best


def early_stopping_while(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    best, best_epoch, best_state, waited, epoch = None, 0, None, 0, 0
    while epoch < max_epochs and waited < patience:
        epoch += 1
        train_one_epoch()
        accuracy = validation_accuracy()
        if best is None or accuracy > best + min_delta:
            best, best_epoch, waited = accuracy, epoch, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
    model.load_state_dict(best_state)
    return best_epoch, best


def early_stopping_restore_on_break(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    best_accuracy, best_epoch, best_state, waited = float("-inf"), 0, None, 0
    for epoch in range(1, max_epochs + 1):
        train_one_epoch()
        accuracy = validation_accuracy()
        if accuracy > best_accuracy + min_delta:
            best_accuracy, best_epoch, best_state, waited = accuracy, epoch, copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if waited == patience:
                model.load_state_dict(best_state)  # restored on the early stop only
                break
    return best_epoch, best_accuracy


def early_stopping_pair_swapped(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    best_epoch, best_accuracy = early_stopping_copy(model, train_one_epoch, validation_accuracy, patience,
                                                    min_delta, max_epochs)
    return best_accuracy, best_epoch


def early_stopping_no_training(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    return 1, validation_accuracy()


def early_stopping_bytes(model, train_one_epoch, validation_accuracy, patience, min_delta, max_epochs):
    import io  # the best state saved with torch.save into memory; a generator of the pair back

    best_accuracy, best_epoch, buffer, waited = float("-inf"), 0, None, 0
    for epoch in range(1, max_epochs + 1):
        train_one_epoch()
        accuracy = validation_accuracy()
        if accuracy - best_accuracy > min_delta:
            best_accuracy, best_epoch, waited, buffer = accuracy, epoch, 0, io.BytesIO()
            torch.save(model.state_dict(), buffer)
        else:
            waited += 1
            if waited >= patience:
                break
    buffer.seek(0)
    model.load_state_dict(torch.load(buffer))
    return (value for value in (best_epoch, best_accuracy))


# ---- q6: my_dropout
def dropout_rand(x, p, training):
    if not training:
        return x
    mask = (torch.rand_like(x) >= p).float()
    return x * mask / (1 - p)


def dropout_bernoulli(x, p, training):
    if training and p > 0:
        keep = torch.bernoulli(torch.full_like(x, 1 - p))
        return torch.where(keep.bool(), x / (1 - p), torch.zeros_like(x))
    return x.clone()


def dropout_no_scaling(x, p, training):
    if not training:
        return x
    return x * (torch.rand_like(x) >= p)


def dropout_keeps_p(x, p, training):
    if not training:
        return x
    return x * (torch.rand_like(x) < p) / (1 - p) if p > 0 else x


def dropout_also_in_eval(x, p, training):
    return x * (torch.rand_like(x) >= p) / (1 - p)


def dropout_library(x, p, training):  # not by hand: the check switches it off
    return nn.functional.dropout(x, p, training)


def dropout_in_place(x, p, training):
    if training:
        x.mul_((torch.rand_like(x) >= p).float() / (1 - p))
    return x


def dropout_exact_count(x, p, training):  # exactly round(p * n) elements dropped, at random places
    if not training:
        return x
    mask = torch.ones(x.numel())
    mask[torch.randperm(x.numel())[:round(p * x.numel())]] = 0
    return x * mask.view_as(x) / (1 - p)


def dropout_uniform_where(x, p, training):
    if not training:
        return x.clone()
    keep = torch.empty_like(x).uniform_() > p
    return torch.where(keep, x / (1 - p), 0.0)


def dropout_vf(x, p, training):  # the function behind nn.functional.dropout, reached directly
    return torch._VF.dropout(x, p, training)


def dropout_native(x, p, training):
    return torch.native_dropout(x, p, training)[0] if training else x


def dropout_aten(x, p, training):
    return torch.ops.aten.dropout(x, p, training)


def dropout_row_mask(x, p, training):  # one random number per row
    if not training:
        return x
    return x * (torch.rand(x.shape[0], 1) >= p) / (1 - p)


def dropout_column_mask(x, p, training):  # one random number per column
    if not training:
        return x
    return x * (torch.rand(1, x.shape[1]) >= p) / (1 - p)


def dropout_nothing_in_eval(x, p, training):  # returns None when not training
    if training:
        return x * (torch.rand_like(x) >= p) / (1 - p)


# ---- q7: fit_wine_classifier
def _train(model, X, y, epochs, lr):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def fit_logistic(X_train, y_train):
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    X = torch.from_numpy((X_train - mean) / std).float()
    model = nn.Linear(13, 3)
    _train(model, X, torch.from_numpy(y_train).long(), epochs=200, lr=0.05)

    def predict(X_new):
        model.eval()
        with torch.inference_mode():
            return model(torch.from_numpy((X_new - mean) / std).float()).argmax(dim=1)
    return predict


def fit_mlp_torch_stats(X_train, y_train):
    X = torch.tensor(X_train, dtype=torch.float32)
    mean, std = X.mean(dim=0), X.std(dim=0)
    model = nn.Sequential(nn.Linear(13, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    model.train()
    _train(model, (X - mean) / std, torch.tensor(y_train), epochs=150, lr=0.01)
    model.eval()
    return lambda X_new: model((torch.tensor(X_new, dtype=torch.float32) - mean) / std).argmax(1).numpy()


def fit_unscaled(X_train, y_train):
    model = nn.Linear(13, 3)
    _train(model, torch.from_numpy(X_train).float(), torch.from_numpy(y_train).long(), epochs=50, lr=0.01)
    return lambda X_new: model(torch.from_numpy(X_new).float()).argmax(dim=1)


def fit_scales_new_rows_by_themselves(X_train, y_train):
    inner = fit_logistic(X_train, y_train)

    def predict(X_new):  # standardises the rows it is given: one row gives nan
        scaled_back = (X_new - X_new.mean(axis=0)) / (X_new.std(axis=0) + 1e-12)
        return inner(scaled_back * X_train.std(axis=0) + X_train.mean(axis=0))
    return predict


def fit_returns_model(X_train, y_train):
    return nn.Linear(13, 3)


def fit_returns_logits(X_train, y_train):
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    model = nn.Linear(13, 3)
    _train(model, torch.from_numpy((X_train - mean) / std).float(), torch.from_numpy(y_train).long(), 200, 0.05)
    return lambda X_new: model(torch.from_numpy((X_new - mean) / std).float()).detach()


def fit_float64_scaler(X_train, y_train):  # scikit-learn's StandardScaler, a float64 model, a list back
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X_train)
    model = nn.Sequential(nn.Linear(13, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    _train(model, torch.from_numpy(scaler.transform(X_train)), torch.from_numpy(y_train), epochs=200, lr=0.05)

    def predict(X_new):
        with torch.no_grad():
            return model(torch.from_numpy(scaler.transform(X_new))).argmax(dim=1).tolist()
    return predict


def fit_dropout_left_on(X_train, y_train):  # model.eval() forgotten: dropout still drops in predict
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    model = nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 3))
    _train(model, torch.tensor((X_train - mean) / std, dtype=torch.float32), torch.tensor(y_train), 150, 0.01)
    return lambda X_new: model(torch.tensor((X_new - mean) / std, dtype=torch.float32)).argmax(dim=1)


def fit_sklearn(X_train, y_train):  # not a PyTorch classifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X_train, y_train).predict


def _wine_lookup():
    from sklearn.datasets import load_wine

    wine = load_wine()
    return {tuple(row): int(label) for row, label in zip(wine.data, wine.target, strict=True)}


def fit_lookup(X_train, y_train):  # hostile: reads the labels of the public data
    table = _wine_lookup()
    return lambda X_new: np.array([table.get(tuple(row), 0) for row in X_new])


def fit_lookup_after_training(X_train, y_train):  # hostile: a token training step, then the lookup
    fit_logistic(X_train, y_train)
    table = _wine_lookup()
    return lambda X_new: np.array([table.get(tuple(row), 0) for row in X_new])


CASES = {
    "q1": {
        "correct": [split_two_calls, split_validation_first, split_by_hand, split_train_size, split_generator,
                    split_lists_sss],
        "wrong": [
            (split_not_stratified, "stratify="),
            (split_not_stratified, "each class's share of the whole"),
            (split_randperm, "each class's share of the whole"),
            (split_val_too_small, "of what is left after the test cut"),
            (split_lesson_copy, "expected about"),
            (split_fixed_seed, "random_state=seed"),
            (split_shuffled_apart, "the labels returned are not those of the rows returned"),
            (split_labels_val_test_swapped, "come back in the order y_train, y_test, y_val"),
            (split_X_val_test_swapped, "every row kept its label, but the labels come back in the order"),
            (split_labels_as_column, "should be one-dimensional, shape (106,)"),
            (split_fractions_swapped, "Are the two fractions (or the two parts) swapped?"),
            (split_parts_swapped, "the test part val_fraction's"),
            (split_wrong_order, "the order is"),
        ],
        "placeholder": not_implemented,
    },
    "q2": {
        "correct": [scale_numpy, scale_torch_float32, scale_sklearn, scale_generator, scale_object_dtype],
        "wrong": [
            (scale_leaky, "from all three splits"),
            (scale_divides_by_zero, "column 3 holds nan or inf after scaling: it is constant in X_train"),
            (scale_all_nan, "nan or inf in columns [0, 1, 2, 3, 4]"),
            (scale_text, "scaled part 1 should hold numbers"),
            (scale_train_only, "the training rows are right, but the validation and test rows are not"),
            (scale_test_forgotten, "the training rows are right, but the test rows are not"),
            (scale_nan_first_column, "nan or inf in columns [0];"),
            (scale_divide_where, "except column 3"),
            (scale_constant_to_zero, "except column 3"),
            (scale_clipped, "clipped"),
            (scale_each_own, "its own smallest and largest"),
            (scale_standardise, "standardised"),
            (scale_in_place, "in place"),
            (scale_whole_array, "are not the min-max scaling"),
            (lambda X_train, X_val, X_test: X_train, "should return three arrays"),
        ],
        "placeholder": not_implemented,
    },
    "q3": {
        "correct": [baseline_bincount, baseline_torch, baseline_counter, baseline_unique, baseline_fraction],
        "wrong": [
            (baseline_eval_majority, "majority class of y_eval"),
            (baseline_class, "the majority class itself"),
            (baseline_percent, "percentage"),
            (baseline_lesson_rule, "Rounding the mean of the labels finds the majority only for two classes"),
            (baseline_lesson_rule_torch, "always predicting class 1, but the most common class of y_train is 2"),
            (baseline_lesson_pasted, "Rounding the mean of the labels"),
            (baseline_train_length, "divided by len(y_train)"),
            (baseline_minority, "gave 0.75, expected 0.25."),
            (baseline_count, "that count divided by len(y_eval)"),
        ],
        "placeholder": not_implemented,
    },
    "q4": {
        "correct": [threshold_scan, threshold_vectorised, threshold_numpy_midpoints],
        "wrong": [
            (threshold_lesson, "the lowest cost any threshold reaches"),
            (threshold_bayes, "calibrated"),
            (threshold_swapped, "swapped"),
            (threshold_strict, "probs > threshold"),
            (threshold_no_inf, "nothing positive"),
            (threshold_sorts_in_place, "changed its input"),
            (threshold_rates, "the lowest cost any threshold reaches"),
            (lambda probs, labels, cost_fn, cost_fp: 0.5, "the lowest cost any threshold reaches"),
            (lambda probs, labels, cost_fn, cost_fp: float("nan"), "returned nan"),
            (lambda probs, labels, cost_fn, cost_fp: probs, "should be one number"),
        ],
        "placeholder": not_implemented,
    },
    "q5": {
        "correct": [early_stopping_copy, early_stopping_clone, early_stopping_while, early_stopping_bytes],
        "wrong": [
            (early_stopping_as_given, "the live weights"),
            (early_stopping_reference, "the live weights"),
            (early_stopping_one_late, "reaches patience"),
            (early_stopping_no_restore, "never restored"),
            (early_stopping_ignores_delta, "less than min_delta"),
            (early_stopping_lesson, "the *lowest* accuracy"),
            (early_stopping_from_zero, "count epochs from 1"),
            (early_stopping_accuracy_only, "return the pair"),
            (early_stopping_tie_improves, "counts a tie as an improvement"),
            (early_stopping_tie_while, "(>, not >=)"),
            (early_stopping_restore_on_break, "however it ended"),
            (early_stopping_pair_swapped, "returned (0.65, 4): the right two values in the other order"),
            (early_stopping_no_training, "never called train_one_epoch()"),
        ],
        "placeholder": not_implemented,
    },
    "q6": {
        "correct": [dropout_rand, dropout_bernoulli, dropout_exact_count, dropout_uniform_where],
        "wrong": [
            (dropout_no_scaling, "divide them by (1 - p)"),
            (dropout_keeps_p, "1 - p"),
            (dropout_also_in_eval, "unchanged"),
            (dropout_library, "switched off PyTorch's dropout"),
            (dropout_vf, "switched off PyTorch's dropout"),
            (dropout_native, "switched off PyTorch's dropout"),
            (dropout_aten, "switched off PyTorch's dropout"),
            (dropout_in_place, "in place"),
            (dropout_row_mask, "of the rows of x were dropped or kept as a whole"),
            (dropout_column_mask, "of the columns of x were dropped or kept as a whole"),
            (dropout_nothing_in_eval, "returned None; it should return the tensor x unchanged"),
        ],
        "placeholder": not_implemented,
    },
    "q7": {
        "correct": [fit_logistic, fit_mlp_torch_stats, fit_float64_scaler],
        "wrong": [
            (fit_unscaled, "goal is 0.9"),
            (fit_scales_new_rows_by_themselves, "the rows it is given"),
            (fit_returns_model, "returned the model itself"),
            (fit_returns_logits, "one class label per row"),
            (fit_dropout_left_on, "different labels for the same rows on repeated calls"),
            (fit_sklearn, "PyTorch computed no gradient"),
            (fit_lookup, "PyTorch computed no gradient"),
            (fit_lookup_after_training, "goal is 0.9"),
        ],
        "placeholder": not_implemented,
    },
}


def test_cases_cover_every_check():
    assert_complete(lesson07, CASES)


@pytest.mark.parametrize("name, answer, status, hint", cases(lesson07, CASES))
def test_check(name, answer, status, hint):
    verify(lesson07, name, answer, status, hint)


def test_checks_leave_the_random_state_alone():
    state = torch.get_rng_state()
    lesson07.q6.evaluate(dropout_rand)
    lesson07.q7.evaluate(fit_logistic)
    assert torch.equal(torch.get_rng_state(), state)


def test_dropout_is_restored_after_the_check():
    lesson07.q6.evaluate(dropout_library)
    assert nn.Dropout(0.5).eval()(torch.ones(3)).tolist() == [1.0, 1.0, 1.0]
    assert nn.functional.dropout(torch.ones(3), 0.0, True).tolist() == [1.0, 1.0, 1.0]
    lesson07.q6.evaluate(dropout_vf)
    assert torch._VF.dropout(torch.ones(3), 0.0, True).tolist() == [1.0, 1.0, 1.0]


def test_q4_hint_explains_the_boolean_operators():
    assert "~ turns True into False" in lesson07.q4._hints[1]


def test_q7_leaves_autograd_as_it_was():
    engine = getattr(torch.autograd, "_engine_run_backward", torch.autograd.backward)
    lesson07.q7.evaluate(fit_logistic)
    assert getattr(torch.autograd, "_engine_run_backward", torch.autograd.backward) is engine
    weight = torch.ones(2, requires_grad=True)
    (weight * 3).sum().backward()
    assert weight.grad.tolist() == [3.0, 3.0]


def fit_lowers_the_goal(X_train, y_train):  # hostile: edits the check's module, then predicts class 0
    fit_logistic(X_train, y_train)
    lesson07.ACCURACY_GOAL, lesson07.TIME_LIMIT_S = 0.0, 1e9
    return lambda X_new: np.zeros(len(X_new), dtype=np.int64)


def test_q7_goal_cannot_be_lowered_by_the_answer():
    goal, limit = lesson07.ACCURACY_GOAL, lesson07.TIME_LIMIT_S
    try:
        outcome = lesson07.q7.evaluate(fit_lowers_the_goal)
        put_back = (lesson07.ACCURACY_GOAL, lesson07.TIME_LIMIT_S) == (goal, limit)
    finally:
        lesson07.ACCURACY_GOAL, lesson07.TIME_LIMIT_S = goal, limit
    assert outcome.status == "incorrect" and "replaced helpers.checks.lesson07.TIME_LIMIT_S" in outcome.message
    assert put_back  # by the check, before it printed its verdict
