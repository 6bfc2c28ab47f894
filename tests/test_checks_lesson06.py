"""Lesson 06 checks: several correct answers pass, typical and hostile wrong ones fail with their hint."""

import itertools
import time

import numpy as np
import pytest
import torch
from checkcases import args, assert_complete, cases, verify
from torch import nn

from helpers.checks import lesson06
from helpers.checks.core import PLACEHOLDER


def not_implemented(*_):
    raise NotImplementedError(PLACEHOLDER)


# ---- q1: adapt_state_dict(old_state, model)
def adapt_zip(old_state, model):
    return dict(zip(model.state_dict().keys(), old_state.values(), strict=True))


def adapt_loop_with_shapes(old_state, model):
    new = {}
    for (name, target), tensor in zip(model.state_dict().items(), old_state.values(), strict=True):
        assert tensor.shape == target.shape
        new[name] = tensor.clone()
    return new


def adapt_by_loading(old_state, model):  # loads into the model and returns its state: also right
    with torch.no_grad():
        for target, tensor in zip(model.state_dict().values(), old_state.values(), strict=True):
            target.copy_(tensor)
    return model.state_dict()


def adapt_hard_coded(old_state, model):  # the lesson's renaming, whatever the model
    return {k.replace("layers.", "net.", 1): v for k, v in old_state.items()}


def adapt_model_weights(old_state, model):  # the model's own (random) weights
    return dict(model.state_dict())


def adapt_mutates(old_state, model):  # renames in place
    for new_name, old_name in zip(list(model.state_dict()), list(old_state), strict=True):
        old_state[new_name] = old_state.pop(old_name)
    return old_state


def adapt_reversed(old_state, model):  # pairs names with the wrong tensors
    return dict(zip(model.state_dict().keys(), reversed(list(old_state.values())), strict=False))


def adapt_misspelled_forward(old_state, model):  # not the placeholder: an attempt that failed
    raise NotImplementedError('Module [X] is missing the required "forward" function')


# ---- q2: resume(path, model, optimizer)
def resume(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    return checkpoint["epoch"]


def resume_optimizer_first_cpu(path, model, optimizer):
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    model.load_state_dict(checkpoint["model_state_dict"])
    return int(checkpoint["epoch"])


def resume_as_given(path, model, optimizer):  # the broken snippet, unchanged
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    return checkpoint["epoch"]


def resume_model_only(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    return checkpoint["epoch"]


def resume_hard_coded_epoch(path, model, optimizer):
    resume(path, model, optimizer)
    return 6


def resume_epoch_as_float(path, model, optimizer):
    return float(resume(path, model, optimizer))


# ---- q3: make_checkpoint / restore_checkpoint with the loader's generator
def make_checkpoint(model, optimizer, generator, epoch):
    return {"epoch": epoch, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(), "generator_state": generator.get_state()}


def restore_checkpoint(checkpoint, model, optimizer, generator):
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    generator.set_state(checkpoint["generator_state"])
    return checkpoint["epoch"]


def make_checkpoint_nested(model, optimizer, generator, epoch):
    return {"meta": {"epoch": epoch}, "states": [model.state_dict(), optimizer.state_dict()],
            "rng": {"loader": generator.get_state().clone(), "global": torch.get_rng_state()}}


def restore_checkpoint_nested(checkpoint, model, optimizer, generator):
    generator.set_state(checkpoint["rng"]["loader"])
    model.load_state_dict(checkpoint["states"][0])
    optimizer.load_state_dict(checkpoint["states"][1])
    return checkpoint["meta"]["epoch"]


def make_checkpoint_global_rng(model, optimizer, generator, epoch):  # the lesson's recipe: wrong RNG here
    return {"epoch": epoch, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(), "rng_state": torch.get_rng_state()}


def restore_checkpoint_global_rng(checkpoint, model, optimizer, generator):
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    torch.set_rng_state(checkpoint["rng_state"])
    return checkpoint["epoch"]


def make_checkpoint_generator_object(model, optimizer, generator, epoch):  # refused by the safe loader
    return {"epoch": epoch, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(), "generator": generator}


def make_checkpoint_numpy_epoch(model, optimizer, generator, epoch):  # a NumPy scalar: refused too
    return {**make_checkpoint(model, optimizer, generator, epoch), "epoch": np.int64(epoch)}


# ---- q4: load_for_inference(path, build_model, device)
def load_for_inference(path, build_model, device):
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(**checkpoint["config"])
    model.load_state_dict(checkpoint["model_state_dict"])
    return model.to(device).eval()


def load_for_inference_straight_to_device(path, build_model, device):
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    model = build_model(hidden_units=checkpoint["config"]["hidden_units"]).to(device)
    model.load_state_dict(checkpoint["model_state_dict"])
    model.eval()
    return model


def load_for_inference_no_map_location(path, build_model, device):
    checkpoint = torch.load(path, weights_only=True)
    model = build_model(**checkpoint["config"])
    model.load_state_dict(checkpoint["model_state_dict"])
    return model.to(device).eval()


def load_for_inference_hard_coded_config(path, build_model, device):
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(hidden_units=5)
    model.load_state_dict(checkpoint["model_state_dict"])
    return model.eval()


def load_for_inference_no_eval(path, build_model, device):
    return load_for_inference(path, build_model, device).train()


def load_for_inference_returns_report(path, build_model, device):
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(**checkpoint["config"]).eval()
    return model.load_state_dict(checkpoint["model_state_dict"])


# ---- q5: grid_search(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs)
def _fit(model, X, y, lr, epochs):
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X).squeeze(), y)
        loss.backward()
        optimizer.step()
    return model.eval()


def _accuracy(model, X, y, threshold=0.5):
    with torch.no_grad():
        return ((torch.sigmoid(model(X)).squeeze() > threshold).float() == y).float().mean().item()


def grid_search(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs):
    results = []
    for lr in learning_rates:
        for hidden_units in hidden_units_options:
            torch.manual_seed(0)
            model = _fit(make_model(hidden_units), X_fit, y_fit, lr, epochs)
            results.append({"lr": lr, "hidden_units": hidden_units, "val_acc": _accuracy(model, X_val, y_val)})
    best = max(results, key=lambda r: r["val_acc"])
    return results, (best["lr"], best["hidden_units"])


def grid_search_numpy(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs):
    results = []
    for hidden_units, lr in itertools.product(hidden_units_options, learning_rates):
        torch.manual_seed(0)
        model = _fit(make_model(hidden_units), X_fit, y_fit, lr, epochs)
        with torch.no_grad():
            pred = model(X_val).reshape(-1).numpy() > 0
        results.append({"lr": np.float64(lr), "hidden_units": np.int64(hidden_units),
                        "val_acc": np.mean(pred == y_val.numpy().astype(bool)), "extra": "ok"})
    best = sorted(results, key=lambda r: -r["val_acc"])[0]
    return tuple(results), [best["lr"], best["hidden_units"]]


def grid_search_on_fit(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs):
    return grid_search(make_model, X_fit, y_fit, X_fit, y_fit, learning_rates, hidden_units_options, epochs)


def grid_search_ignores_lr(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs):
    results = []
    for lr in learning_rates:
        for hidden_units in hidden_units_options:
            torch.manual_seed(0)
            model = _fit(make_model(hidden_units), X_fit, y_fit, 0.1, epochs)  # hard-coded rate
            results.append({"lr": lr, "hidden_units": hidden_units, "val_acc": _accuracy(model, X_val, y_val)})
    best = max(results, key=lambda r: r["val_acc"])
    return results, (best["lr"], best["hidden_units"])


def grid_search_worst(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs):
    results, _ = grid_search(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs)
    worst = min(results, key=lambda r: r["val_acc"])
    return results, (worst["lr"], worst["hidden_units"])


def grid_search_percent(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs):
    results, best = grid_search(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
                                epochs)
    return [{**r, "val_acc": 100 * r["val_acc"]} for r in results], best


def grid_search_one_model(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs):
    # one model reused across learning rates: later runs start from trained weights
    results = []
    for hidden_units in hidden_units_options:
        torch.manual_seed(0)
        model = make_model(hidden_units)
        for lr in learning_rates:
            _fit(model, X_fit, y_fit, lr, epochs)
            results.append({"lr": lr, "hidden_units": hidden_units, "val_acc": _accuracy(model, X_val, y_val)})
    best = max(results, key=lambda r: r["val_acc"])
    return results, (best["lr"], best["hidden_units"])


def grid_search_mutates(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs):
    X_fit -= X_fit.mean(0)  # standardises the caller's tensor in place
    return grid_search(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs)


def grid_search_huge(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs):
    return list(range(100_000)), None


# ---- q6: build_classifier(X, y)
def _mlp(hidden_units):
    return nn.Sequential(nn.Linear(2, hidden_units), nn.ReLU(), nn.Linear(hidden_units, hidden_units), nn.ReLU(),
                         nn.Linear(hidden_units, 1))


def _adam(model, X, y, lr=0.01, epochs=300):
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        loss = loss_fn(model(X).squeeze(1), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def build_classifier(X, y):
    torch.manual_seed(0)
    return _adam(_mlp(16), X, y)


class RadiusFeatures(nn.Module):  # a different approach: a hand-made feature, then a tiny network
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))

    def forward(self, x):
        return self.net(torch.cat([x, (x**2).sum(1, keepdim=True)], dim=1))


def build_classifier_features(X, y):
    torch.manual_seed(1)
    return _adam(RadiusFeatures(), X, y, lr=0.05, epochs=200)


def build_classifier_linear(X, y):  # no hidden layer: a straight line cannot separate rings
    torch.manual_seed(0)
    return _adam(nn.Linear(2, 1), X, y)


class NoActivation(nn.Module):  # layers without an activation: still a straight line
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(2, 16), nn.Linear(16, 1)

    def forward(self, x):
        return self.b(self.a(x))


def build_classifier_no_activation(X, y):
    torch.manual_seed(0)
    return _adam(NoActivation(), X, y)


def build_classifier_sigmoid(X, y):
    model = build_classifier(X, y)
    return nn.Sequential(model, nn.Sigmoid())


class Memoriser(nn.Module):  # returns the training targets whatever its input
    def __init__(self, y):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.register_buffer("y", 10 * (2 * y - 1))

    def forward(self, x):
        return self.y[: len(x)] if len(x) <= len(self.y) else self.y.repeat(len(x) // len(self.y) + 1)[: len(x)]


def build_classifier_huge(X, y):
    torch.manual_seed(0)
    return _adam(_mlp(128), X, y, epochs=1)


CASES = {
    "q1": {
        "correct": [adapt_zip, adapt_loop_with_shapes, adapt_by_loading],
        "wrong": [
            (adapt_hard_coded, "missing keys"),
            (adapt_model_weights, "predicts differently"),
            (adapt_mutates, "changed old_state"),
            (adapt_reversed, "has shape"),
            (adapt_misspelled_forward, "forward"),
            (lambda old_state, model: None, "should return a dict"),
        ],
        "placeholder": not_implemented,
    },
    "q2": {
        "correct": [resume, resume_optimizer_first_cpu],
        "wrong": [
            (resume_as_given, "optimizer passed in"),
            (resume_model_only, "optimizer passed in"),
            (resume_hard_coded_epoch, "checkpoint holds epoch 9"),
            (resume_epoch_as_float, "return checkpoint['epoch']"),
        ],
        "placeholder": not_implemented,
    },
    "q3": {
        "correct": [args(make_checkpoint, restore_checkpoint),
                    args(make_checkpoint_nested, restore_checkpoint_nested)],
        "wrong": [
            (args(make_checkpoint_global_rng, restore_checkpoint_global_rng), "generator passed in"),
            (args(make_checkpoint_generator_object, restore_checkpoint), "refuses"),
            (args(make_checkpoint_numpy_epoch, restore_checkpoint), "numpy"),
            (args(lambda *a: [1, 2], restore_checkpoint), "should return a dict"),
        ],
        "placeholder": args(not_implemented, not_implemented),
    },
    "q4": {
        "correct": [load_for_inference, load_for_inference_straight_to_device],
        "wrong": [
            (load_for_inference_no_map_location, "gpu"),
            (load_for_inference_hard_coded_config, "size mismatch"),
            (load_for_inference_no_eval, "training mode"),
            (load_for_inference_returns_report, "torch.nn.Module"),
        ],
        "placeholder": not_implemented,
    },
    "q5": {
        "correct": [grid_search, grid_search_numpy],
        "wrong": [
            (grid_search_on_fit, "fit data"),
            (grid_search_ignores_lr, "learning rate"),
            (grid_search_worst, "is not the highest"),
            (grid_search_percent, "above 1"),
            (grid_search_one_model, "one fresh model per combination"),
            (grid_search_mutates, "changed its input"),
            (grid_search_huge, "100000 items"),
        ],
        "placeholder": not_implemented,
    },
    "q6": {
        "correct": [build_classifier, build_classifier_features],
        "wrong": [
            (build_classifier_linear, "kept back"),
            (build_classifier_no_activation, "kept back"),
            (build_classifier_sigmoid, "leave out a final sigmoid"),
            (lambda X, y: Memoriser(y), "kept back"),
            (build_classifier_huge, "parameters; the limit"),
            (lambda X, y: nn.Linear, "is the class"),
        ],
        "placeholder": not_implemented,
    },
}


def test_cases_cover_every_check():
    assert_complete(lesson06, CASES)


@pytest.mark.parametrize("name, answer, status, hint", cases(lesson06, CASES))
def test_check(name, answer, status, hint):
    verify(lesson06, name, answer, status, hint)


def test_checks_leave_the_random_state_alone():
    state = torch.get_rng_state()
    lesson06.q3.evaluate(make_checkpoint, restore_checkpoint)
    lesson06.q5.evaluate(grid_search)
    assert torch.equal(torch.get_rng_state(), state)


def test_a_wrong_answer_is_judged_about_as_fast_as_a_right_one():
    start = time.perf_counter()
    lesson06.q5.evaluate(grid_search)
    right = time.perf_counter() - start
    start = time.perf_counter()
    lesson06.q5.evaluate(grid_search_on_fit)
    wrong = time.perf_counter() - start
    assert wrong < 2 * right + 0.5


def test_hints_stay_short_for_huge_answers():
    outcome = lesson06.q5.evaluate(grid_search_huge)
    assert len(outcome.message) < 400


def test_the_pretend_gpu_file_is_only_pretend_while_saving(tmp_path):
    lesson06._save_as_if_on_gpu({"w": torch.ones(2)}, tmp_path / "gpu.pt")
    torch.save({"w": torch.ones(2)}, tmp_path / "cpu.pt")
    assert torch.load(tmp_path / "cpu.pt", weights_only=True)["w"].device.type == "cpu"
    locations = []
    torch.load(tmp_path / "gpu.pt", weights_only=True,
               map_location=lambda storage, location: locations.append(location) or storage)
    assert locations == [f"cuda:{torch.cuda.device_count()}"]
