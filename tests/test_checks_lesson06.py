"""Lesson 06 checks: several correct answers pass, typical and hostile wrong ones fail with their hint."""

import itertools
import os
import time
from pathlib import Path

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


def adapt_drops_last(old_state, model):  # zip stops at the shorter list: one key short
    return dict(zip(list(model.state_dict())[:-1], old_state.values(), strict=False))


def adapt_misspelled_forward(old_state, model):  # not the placeholder: an attempt that failed
    raise NotImplementedError('Module [X] is missing the required "forward" function')


# ---- q2: train_resumable(model, optimizer, X, y, total_epochs, path)
def _loop(model, optimizer, X, y, start, total_epochs, save):
    loss_fn = nn.BCEWithLogitsLoss()
    for epoch in range(start, total_epochs):
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        save(epoch)


def train_resumable(model, optimizer, X, y, total_epochs, path):
    start = 0
    if os.path.exists(path):
        checkpoint = torch.load(path, weights_only=True)
        model.load_state_dict(checkpoint["model_state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        start = checkpoint["epoch"]

    def save(epoch):
        torch.save({"epoch": epoch + 1, "model_state_dict": model.state_dict(),
                    "optimizer_state_dict": optimizer.state_dict()}, path)

    _loop(model, optimizer, X, y, start, total_epochs, save)
    return total_epochs - start


def train_resumable_last_index(model, optimizer, X, y, total_epochs, path):  # saves the index, adds 1
    start = 0
    if Path(path).is_file():
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        optimizer.load_state_dict(checkpoint["optimizer"])
        model.load_state_dict(checkpoint["model"])
        start = int(checkpoint["last_epoch_done"]) + 1

    def save(epoch):
        torch.save({"last_epoch_done": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict()},
                   path)

    _loop(model, optimizer, X, y, start, total_epochs, save)
    return total_epochs - start


def train_resumable_as_given(model, optimizer, X, y, total_epochs, path):  # the snippet, both bugs
    start = 0
    if os.path.exists(path):
        checkpoint = torch.load(path, weights_only=True)
        model.load_state_dict(checkpoint["model_state_dict"])
        optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        start = checkpoint["epoch"]

    def save(epoch):
        torch.save({"epoch": epoch, "model_state_dict": model.state_dict(),
                    "optimizer_state_dict": optimizer.state_dict()}, path)

    _loop(model, optimizer, X, y, start, total_epochs, save)
    return total_epochs - start


def train_resumable_new_optimizer(model, optimizer, X, y, total_epochs, path):  # only bug 2 fixed
    start = 0
    if os.path.exists(path):
        checkpoint = torch.load(path, weights_only=True)
        model.load_state_dict(checkpoint["model_state_dict"])
        optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        start = checkpoint["epoch"]

    def save(epoch):
        torch.save({"epoch": epoch + 1, "model_state_dict": model.state_dict(),
                    "optimizer_state_dict": optimizer.state_dict()}, path)

    _loop(model, optimizer, X, y, start, total_epochs, save)
    return total_epochs - start


def train_resumable_model_only(model, optimizer, X, y, total_epochs, path):  # forgets the optimiser state
    start = 0
    if os.path.exists(path):
        checkpoint = torch.load(path, weights_only=True)
        model.load_state_dict(checkpoint["model_state_dict"])
        start = checkpoint["epoch"]

    def save(epoch):
        torch.save({"epoch": epoch + 1, "model_state_dict": model.state_dict()}, path)

    _loop(model, optimizer, X, y, start, total_epochs, save)
    return total_epochs - start


def train_resumable_saves_at_end(model, optimizer, X, y, total_epochs, path):  # a crash loses everything
    start = 0
    if os.path.exists(path):
        checkpoint = torch.load(path, weights_only=True)
        model.load_state_dict(checkpoint["model_state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        start = checkpoint["epoch"]
    _loop(model, optimizer, X, y, start, total_epochs, lambda epoch: None)
    torch.save({"epoch": total_epochs, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict()}, path)
    return total_epochs - start


def train_resumable_returns_total(model, optimizer, X, y, total_epochs, path):
    train_resumable(model, optimizer, X, y, total_epochs, path)
    return total_epochs


def train_resumable_float(model, optimizer, X, y, total_epochs, path):
    return float(train_resumable(model, optimizer, X, y, total_epochs, path))


def train_resumable_tensor_epoch(model, optimizer, X, y, total_epochs, path):  # keeps the epoch as a tensor
    start = torch.tensor(0)
    if os.path.exists(path):
        checkpoint = torch.load(path, weights_only=True)
        model.load_state_dict(checkpoint["model_state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        start = checkpoint["epoch"]

    def save(epoch):
        torch.save({"epoch": torch.tensor(epoch + 1), "model_state_dict": model.state_dict(),
                    "optimizer_state_dict": optimizer.state_dict()}, path)

    _loop(model, optimizer, X, y, int(start), total_epochs, save)
    return total_epochs - start  # a one-element integer tensor


def train_resumable_catches_crash(model, optimizer, X, y, total_epochs, path):  # swallows the interruption
    try:
        return train_resumable(model, optimizer, X, y, total_epochs, path)
    except Exception:
        return 0


def train_resumable_saves_on_crash(model, optimizer, X, y, total_epochs, path):  # saves, then carries on
    try:
        return train_resumable(model, optimizer, X, y, total_epochs, path)
    except RuntimeError:
        raise
    except Exception:
        torch.save({"epoch": 0, "model_state_dict": model.state_dict(),
                    "optimizer_state_dict": optimizer.state_dict()}, path)
        return total_epochs


def train_resumable_does_nothing(model, optimizer, X, y, total_epochs, path):
    return 0


def train_resumable_bool(model, optimizer, X, y, total_epochs, path):
    return train_resumable(model, optimizer, X, y, total_epochs, path) > 0


# ---- q3: make_checkpoint / restore_checkpoint with the loader's generator and noise added to each batch
def make_checkpoint(model, optimizer, generator, epoch):
    return {"epoch": epoch, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(), "generator_state": generator.get_state(),
            "rng_state": torch.get_rng_state()}


def restore_checkpoint(checkpoint, model, optimizer, generator):
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    generator.set_state(checkpoint["generator_state"])
    torch.set_rng_state(checkpoint["rng_state"])
    return checkpoint["epoch"]


def make_checkpoint_nested(model, optimizer, generator, epoch):
    return {"meta": {"epoch": epoch}, "states": [model.state_dict(), optimizer.state_dict()],
            "rng": {"loader": generator.get_state().clone(), "global": torch.random.get_rng_state()}}


def restore_checkpoint_nested(checkpoint, model, optimizer, generator):
    torch.random.set_rng_state(checkpoint["rng"]["global"])
    generator.set_state(checkpoint["rng"]["loader"])
    model.load_state_dict(checkpoint["states"][0])
    optimizer.load_state_dict(checkpoint["states"][1])
    return checkpoint["meta"]["epoch"]


def make_checkpoint_generator_only(model, optimizer, generator, epoch):  # forgets what torch.randn draws from
    return {"epoch": epoch, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(), "generator_state": generator.get_state()}


def restore_checkpoint_generator_only(checkpoint, model, optimizer, generator):
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    generator.set_state(checkpoint["generator_state"])
    return checkpoint["epoch"]


def make_checkpoint_global_rng(model, optimizer, generator, epoch):  # the lesson's recipe: one RNG of two
    return {"epoch": epoch, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(), "rng_state": torch.get_rng_state()}


def restore_checkpoint_global_rng(checkpoint, model, optimizer, generator):
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    torch.set_rng_state(checkpoint["rng_state"])
    return checkpoint["epoch"]


def restore_checkpoint_rng_first(checkpoint, model, optimizer, generator):  # order free: loading draws nothing
    torch.set_rng_state(checkpoint["rng_state"])
    generator.set_state(checkpoint["generator_state"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    model.load_state_dict(checkpoint["model_state_dict"])
    return int(checkpoint["epoch"])


def restore_checkpoint_then_draws(checkpoint, model, optimizer, generator):  # draws after restoring
    restore_checkpoint(checkpoint, model, optimizer, generator)
    torch.randn(3)  # e.g. a look at some noise, after the global state was put back
    return checkpoint["epoch"]


def make_checkpoint_rng_seeded(model, optimizer, generator, epoch):  # saves a seed, not the state
    return {"epoch": epoch, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(), "generator_state": generator.get_state(),
            "seed": 0}


def restore_checkpoint_rng_seeded(checkpoint, model, optimizer, generator):
    restore_checkpoint_generator_only(checkpoint, model, optimizer, generator)
    torch.manual_seed(checkpoint["seed"])
    return checkpoint["epoch"]


def make_checkpoint_generator_object(model, optimizer, generator, epoch):  # refused by the safe loader
    return {"epoch": epoch, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(), "generator": generator}


def make_checkpoint_numpy_epoch(model, optimizer, generator, epoch):  # a NumPy scalar: refused too
    return {**make_checkpoint(model, optimizer, generator, epoch), "epoch": np.int64(epoch)}


def make_checkpoint_tensor_epoch(model, optimizer, generator, epoch):  # everything a tensor, the epoch too
    return {**make_checkpoint(model, optimizer, generator, epoch), "epoch": torch.tensor(epoch)}


def make_checkpoint_with_lambda(model, optimizer, generator, epoch):  # pickle cannot save a lambda
    return {**make_checkpoint(model, optimizer, generator, epoch), "lr_schedule": lambda e: 0.05 * 0.9**e}


def make_checkpoint_with_file(model, optimizer, generator, epoch):  # nor an open file
    return {**make_checkpoint(model, optimizer, generator, epoch), "log": open(os.devnull)}  # noqa: SIM115


def restore_checkpoint_float_epoch(checkpoint, model, optimizer, generator):
    return float(restore_checkpoint(checkpoint, model, optimizer, generator))


# ---- q4: load_for_inference(path, build_model, device), files saved through wrappers
def _unwrapped(state_dict):
    out = {}
    for name, tensor in state_dict.items():
        for prefix in ("module.", "_orig_mod."):
            if name.startswith(prefix):
                name = name[len(prefix):]
        out[name] = tensor
    return out


def load_for_inference(path, build_model, device):
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(**checkpoint["config"])
    model.load_state_dict(_unwrapped(checkpoint["model_state_dict"]))
    return model.to(device).eval()


def load_for_inference_removeprefix(path, build_model, device):  # straight to the device, removeprefix
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    state = {k.removeprefix("module.").removeprefix("_orig_mod."): v
             for k, v in checkpoint["model_state_dict"].items()}
    model = build_model(hidden_units=checkpoint["config"]["hidden_units"]).to(device)
    model.load_state_dict(state)
    model.eval()
    return model


def load_for_inference_by_shape(path, build_model, device):  # pairs keys in order, as in exercise 1
    checkpoint = torch.load(path, map_location=torch.device("cpu"), weights_only=True)
    model = build_model(**checkpoint["config"])
    model.load_state_dict(dict(zip(model.state_dict(), checkpoint["model_state_dict"].values(), strict=True)))
    model.eval()
    return model.to(device)


def load_for_inference_lesson(path, build_model, device):  # the lesson's cell 57 with eval(): no unwrapping
    saved = torch.load(path, map_location=device, weights_only=True)
    reloaded_model = build_model(**saved["config"]).to(device)
    reloaded_model.load_state_dict(saved["model_state_dict"])
    return reloaded_model.eval()


def load_for_inference_replace_all(path, build_model, device):  # also rewrites "input_module."
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    state = {k.replace("module.", "").replace("_orig_mod.", ""): v
             for k, v in checkpoint["model_state_dict"].items()}
    model = build_model(**checkpoint["config"])
    model.load_state_dict(state)
    return model.to(device).eval()


def load_for_inference_split_first(path, build_model, device):  # drops the first part of every key
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    state = {k.split(".", 1)[1]: v for k, v in checkpoint["model_state_dict"].items()}
    model = build_model(**checkpoint["config"])
    model.load_state_dict(state)
    return model.to(device).eval()


def load_for_inference_not_strict(path, build_model, device):  # silences the key errors: loads nothing
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(**checkpoint["config"])
    model.load_state_dict(checkpoint["model_state_dict"], strict=False)
    return model.to(device).eval()


def load_for_inference_no_map_location(path, build_model, device):
    checkpoint = torch.load(path, weights_only=True)
    model = build_model(**checkpoint["config"])
    model.load_state_dict(_unwrapped(checkpoint["model_state_dict"]))
    return model.to(device).eval()


def load_for_inference_hard_coded_config(path, build_model, device):
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(hidden_units=5)
    model.load_state_dict(_unwrapped(checkpoint["model_state_dict"]))
    return model.eval()


def load_for_inference_no_eval(path, build_model, device):
    return load_for_inference(path, build_model, device).train()


def load_for_inference_returns_report(path, build_model, device):
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(**checkpoint["config"]).eval()
    return model.load_state_dict(_unwrapped(checkpoint["model_state_dict"]))


def load_for_inference_meta(path, build_model, device):  # ignores the device asked for
    return load_for_inference(path, build_model, "meta")


def load_for_inference_assign(path, build_model, device):  # tensors loaded onto the device, taken as they are
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    model = build_model(**checkpoint["config"])
    model.load_state_dict(_unwrapped(checkpoint["model_state_dict"]), assign=True)
    return model.eval()


def load_for_inference_never_moved(path, build_model, device):  # forgets .to(device): right only on a CPU
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(**checkpoint["config"])
    model.load_state_dict(_unwrapped(checkpoint["model_state_dict"]))
    return model.eval()


def load_for_inference_cpu_fallback(path, build_model, device):  # ignores the device unless CUDA is here
    return load_for_inference(path, build_model, device if torch.cuda.is_available() else "cpu")


def load_for_inference_rewrites_file(path, build_model, device):  # fixes the names in the file itself
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    checkpoint["model_state_dict"] = _unwrapped(checkpoint["model_state_dict"])
    torch.save(checkpoint, path)
    return load_for_inference(path, build_model, device)


def load_for_inference_removes_file(path, build_model, device):  # tidies up after loading
    model = load_for_inference(path, build_model, device)
    os.remove(path)
    return model


def load_for_inference_data_parallel(path, build_model, device):  # loads through a wrapper and returns it
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = nn.DataParallel(build_model(**checkpoint["config"]))
    model.load_state_dict({"module." + k: v for k, v in _unwrapped(checkpoint["model_state_dict"]).items()})
    return model.to(device).eval()


def load_for_inference_sequential(path, build_model, device):  # the right model inside a Sequential
    return nn.Sequential(load_for_inference(path, build_model, device)).eval()


def load_for_inference_double(path, build_model, device):  # float64 weights: fails on float32 inputs
    return load_for_inference(path, build_model, device).double()


# ---- q5: smallest_good_model(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
#          epochs, tolerance)
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


def _n_params(model):
    return sum(p.numel() for p in model.parameters())


def _search(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs, val_on=None,
            count=_n_params):
    results = []
    for lr in learning_rates:
        for hidden_units in hidden_units_options:
            torch.manual_seed(0)
            model = _fit(make_model(hidden_units), X_fit, y_fit, lr, epochs)
            X_eval, y_eval = val_on if val_on is not None else (X_val, y_val)
            results.append({"lr": lr, "hidden_units": hidden_units, "parameters": count(model),
                            "val_acc": _accuracy(model, X_eval, y_eval)})
    return results


def smallest_good_model(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs,
                        tolerance):
    results = _search(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs)
    best = max(r["val_acc"] for r in results)
    good = [r for r in results if r["val_acc"] >= best - tolerance]
    fewest = min(r["parameters"] for r in good)
    chosen = max((r for r in good if r["parameters"] == fewest), key=lambda r: r["val_acc"])
    return results, (chosen["lr"], chosen["hidden_units"])


def smallest_good_model_numpy(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
                              epochs, tolerance):  # NumPy numbers, sorting, a tuple of rows
    results = []
    for hidden_units, lr in itertools.product(hidden_units_options, learning_rates):
        torch.manual_seed(0)
        model = _fit(make_model(hidden_units), X_fit, y_fit, lr, epochs)
        with torch.no_grad():
            pred = model(X_val).reshape(-1).numpy() > 0
        results.append({"lr": np.float64(lr), "hidden_units": np.int64(hidden_units),
                        "parameters": np.int64(_n_params(model)),
                        "val_acc": np.mean(pred == y_val.numpy().astype(bool)), "extra": "ok"})
    best = max(r["val_acc"] for r in results)
    ranked = sorted((r for r in results if best - r["val_acc"] <= tolerance + 1e-12),
                    key=lambda r: (r["parameters"], -r["val_acc"]))
    return tuple(results), [ranked[0]["lr"], ranked[0]["hidden_units"]]


def smallest_good_model_lesson(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
                               epochs, tolerance):  # the lesson's choice: the highest val_acc, size ignored
    results = _search(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs)
    best = max(results, key=lambda r: r["val_acc"])
    return results, (best["lr"], best["hidden_units"])


def smallest_good_model_any_of_smallest(make_model, X_fit, y_fit, X_val, y_val, learning_rates,
                                        hidden_units_options, epochs, tolerance):  # no tie-break on val_acc
    results = _search(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs)
    best = max(r["val_acc"] for r in results)
    good = [r for r in results if r["val_acc"] >= best - tolerance]
    chosen = min(good, key=lambda r: (r["parameters"], r["val_acc"]))  # the worse of the small ones
    return results, (chosen["lr"], chosen["hidden_units"])


def smallest_good_model_smallest(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
                                 epochs, tolerance):  # forgets the tolerance: the smallest, however bad
    results = _search(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs)
    chosen = min(results, key=lambda r: (r["parameters"], -r["val_acc"]))
    return results, (chosen["lr"], chosen["hidden_units"])


def smallest_good_model_hidden_as_size(make_model, X_fit, y_fit, X_val, y_val, learning_rates,
                                       hidden_units_options, epochs, tolerance):
    results, choice = smallest_good_model(make_model, X_fit, y_fit, X_val, y_val, learning_rates,
                                          hidden_units_options, epochs, tolerance)
    return [{**r, "parameters": r["hidden_units"]} for r in results], choice


def smallest_good_model_weights_only(make_model, X_fit, y_fit, X_val, y_val, learning_rates,
                                     hidden_units_options, epochs, tolerance):
    def count_weights(model):
        return sum(p.numel() for name, p in model.named_parameters() if name.endswith("weight"))

    results = _search(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs,
                      count=count_weights)
    return results, (results[0]["lr"], results[0]["hidden_units"])


def smallest_good_model_on_fit(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
                               epochs, tolerance):
    results = _search(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs,
                      val_on=(X_fit, y_fit))
    return results, (results[0]["lr"], results[0]["hidden_units"])


def smallest_good_model_ignores_lr(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
                                   epochs, tolerance):  # a fresh model per row, but always lr 0.1
    results = []
    for lr in learning_rates:
        rows = _search(make_model, X_fit, y_fit, X_val, y_val, [0.1], hidden_units_options, epochs)
        results += [{**r, "lr": lr} for r in rows]
    return results, (results[0]["lr"], results[0]["hidden_units"])


def smallest_good_model_fixed_tolerance(make_model, X_fit, y_fit, X_val, y_val, learning_rates,
                                        hidden_units_options, epochs, tolerance):  # 0.05 typed in
    return smallest_good_model(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
                               epochs, 0.05)


def smallest_good_model_percent(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
                                epochs, tolerance):
    results, choice = smallest_good_model(make_model, X_fit, y_fit, X_val, y_val, learning_rates,
                                          hidden_units_options, epochs, tolerance)
    return [{**r, "val_acc": 100 * r["val_acc"]} for r in results], choice


def smallest_good_model_one_model(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
                                  epochs, tolerance):  # one model reused across learning rates
    results = []
    for hidden_units in hidden_units_options:
        torch.manual_seed(0)
        model = make_model(hidden_units)
        for lr in learning_rates:
            _fit(model, X_fit, y_fit, lr, epochs)
            results.append({"lr": lr, "hidden_units": hidden_units, "parameters": _n_params(model),
                            "val_acc": _accuracy(model, X_val, y_val)})
    return results, (results[0]["lr"], results[0]["hidden_units"])


def smallest_good_model_mutates(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
                                epochs, tolerance):
    X_fit -= X_fit.mean(0)  # standardises the caller's tensor in place
    return smallest_good_model(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
                               epochs, tolerance)


def smallest_good_model_hard_coded(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
                                   epochs, tolerance):  # the first search's answer, whatever the grid
    results = _search(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs)
    return results, (0.5, 16)


def smallest_good_model_huge(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
                             epochs, tolerance):
    return list(range(100_000)), None


def smallest_good_model_float32_lr(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
                                   epochs, tolerance):  # the rates kept in a float32 tensor: 0.30000001...
    results, choice = smallest_good_model(make_model, X_fit, y_fit, X_val, y_val, torch.tensor(learning_rates),
                                          hidden_units_options, epochs, tolerance)
    return [{**r, "lr": r["lr"].item()} for r in results], (choice[0].item(), choice[1])


def smallest_good_model_nan(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs,
                            tolerance):  # the right choice, a table of NaN accuracies
    results, choice = smallest_good_model(make_model, X_fit, y_fit, X_val, y_val, learning_rates,
                                          hidden_units_options, epochs, tolerance)
    return [{**r, "val_acc": float("nan")} for r in results], choice


def smallest_good_model_one_nan(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
                                epochs, tolerance):
    results, choice = smallest_good_model(make_model, X_fit, y_fit, X_val, y_val, learning_rates,
                                          hidden_units_options, epochs, tolerance)
    return [{**r, "val_acc": np.nan} if i == 5 else r for i, r in enumerate(results)], choice


def _table_from_the_check(make_model, X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options, epochs,
                          tolerance):  # calls make_model as asked, reads the numbers from the check
    reference = lesson06._reference_search(X_fit, y_fit, X_val, y_val, learning_rates, hidden_units_options,
                                           epochs)
    results = []
    for (lr, hidden_units), (val_acc, _) in reference.items():
        results.append({"lr": lr, "hidden_units": hidden_units, "parameters": _n_params(make_model(hidden_units)),
                        "val_acc": val_acc})
    best = max(r["val_acc"] for r in results)
    chosen = min((r for r in results if r["val_acc"] >= best - tolerance),
                 key=lambda r: (r["parameters"], -r["val_acc"]))
    return results, (chosen["lr"], chosen["hidden_units"])


def smallest_good_model_untrained_copies(make_model, X_fit, y_fit, X_val, y_val, learning_rates,
                                         hidden_units_options, epochs, tolerance):  # a hard-coded first table
    rows = {(0.3, 4): 0.75, (0.3, 16): 0.9, (0.3, 24): 0.9, (0.5, 4): 0.825, (0.5, 16): 0.925, (0.5, 24): 0.95}
    results = [{"lr": lr, "hidden_units": h, "parameters": _n_params(make_model(h)),
                "val_acc": rows.get((lr, h), 0.5)}
               for lr, h in itertools.product(learning_rates, hidden_units_options)]
    return results, (learning_rates[0], hidden_units_options[0])


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


class Scaled(nn.Module):  # standardises raw readings with the training statistics, then the network
    def __init__(self, net, X):
        super().__init__()
        self.net = net
        self.register_buffer("mean", X.mean(0))
        self.register_buffer("std", X.std(0))

    def forward(self, x):
        return self.net((x - self.mean) / self.std)


def build_classifier(X, y):
    torch.manual_seed(0)
    return _adam(Scaled(_mlp(16), X), X, y)


def build_classifier_lesson_raw(X, y):  # the lesson's MoonModel recipe (cells 6 and 7) on raw readings
    torch.manual_seed(42)
    model = _mlp(10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(1000):
        loss = loss_fn(model(X).squeeze(1), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def build_classifier_adam_raw(X, y):  # a good recipe, but on unscaled inputs
    torch.manual_seed(0)
    return _adam(_mlp(16), X, y)


class RadiusFeatures(nn.Module):  # a different approach: a hand-made feature, then a tiny network
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))

    def forward(self, x):
        centred = (x - torch.tensor([300.0, -200.0])) / 100.0  # the sensor's centre and scale, from the prompt
        return self.net(torch.cat([centred, (centred**2).sum(1, keepdim=True)], dim=1))


def build_classifier_features(X, y):
    torch.manual_seed(1)
    return _adam(RadiusFeatures(), X, y, lr=0.05, epochs=200)


def build_classifier_linear(X, y):  # no hidden layer: a straight line cannot separate rings
    torch.manual_seed(0)
    return _adam(Scaled(nn.Linear(2, 1), X), X, y)


class NoActivation(nn.Module):  # layers without an activation: still a straight line
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(2, 16), nn.Linear(16, 1)

    def forward(self, x):
        return self.b(self.a(x))


def build_classifier_no_activation(X, y):
    torch.manual_seed(0)
    return _adam(Scaled(NoActivation(), X), X, y)


def build_classifier_scaled_outside(X, y):  # trains on standardised X, returns the bare network
    torch.manual_seed(0)
    X_scaled = (X - X.mean(0)) / X.std(0)
    return _adam(_mlp(16), X_scaled, y)


def build_classifier_scaled_on_part(X, y):  # the same with the statistics of a fit part only
    torch.manual_seed(0)
    X_fit, y_fit = X[:450], y[:450]
    return _adam(_mlp(16), (X_fit - X_fit.mean(0)) / X_fit.std(0), y_fit)


def build_classifier_sigmoid(X, y):
    model = build_classifier(X, y)
    return nn.Sequential(model, nn.Sigmoid())


class Labels(nn.Module):  # a trained model's decisions instead of its logits
    def __init__(self, model, as_bool):
        super().__init__()
        self.model, self.as_bool = model, as_bool

    def forward(self, x):
        decided = self.model(x).squeeze(-1) > 0
        return decided if self.as_bool else decided.float()


class Constant(nn.Module):  # the same output for every point
    def __init__(self, value):
        super().__init__()
        self.value = nn.Parameter(torch.tensor(value))

    def forward(self, x):
        return self.value.expand(len(x))


class Memoriser(nn.Module):  # returns the training targets whatever its input
    def __init__(self, y):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.register_buffer("y", 10 * (2 * y - 1))

    def forward(self, x):
        return self.y[: len(x)] if len(x) <= len(self.y) else self.y.repeat(len(x) // len(self.y) + 1)[: len(x)]


class HeldBackMemoriser(nn.Module):  # the check's held-back labels, found in its module, whatever the input
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        _, y_held = lesson06._rings_in_mm(2000, seed=4048)
        self.register_buffer("y", 10 * (2 * y_held - 1))

    def forward(self, x):
        return self.y if len(x) == len(self.y) else torch.zeros(len(x))


class RandomFeatures(nn.Module):  # a large fixed random projection kept outside the parameters
    def __init__(self, X, features, as_buffer):
        super().__init__()
        projection = torch.randn(2, features)
        if as_buffer:
            self.register_buffer("projection", projection)
        else:
            self.projection = projection
        self.register_buffer("mean", X.mean(0))
        self.register_buffer("std", X.std(0))
        self.head = nn.Linear(features, 1)

    def forward(self, x):
        return self.head(torch.cos((x - self.mean) / self.std @ self.projection)).squeeze(1)


def build_classifier_huge(X, y):
    torch.manual_seed(0)
    return _adam(_mlp(128), X, y, epochs=1)


# ---- answers that replace what the checks judge with (torch's functions, the check's own targets)
def adapt_patches_equal(old_state, model):  # the model's random weights, and torch.equal always True
    torch.equal = lambda a, b: True
    return dict(model.state_dict())


def restore_checkpoint_patches_equal(checkpoint, model, optimizer, generator):  # restores nothing
    torch.equal = lambda a, b: True
    return 3


def build_classifier_patches_mean(X, y):  # an untrained model, and every mean 1.0
    torch.Tensor.mean = lambda self, *args, **kwargs: torch.tensor(1.0)
    return nn.Linear(2, 1)


def build_classifier_lowers_target(X, y):  # writes the check's own limit
    lesson06.TARGET_ACCURACY = 0.0
    return nn.Linear(2, 1)


def load_for_inference_patches_load_state_dict(path, build_model, device):
    nn.Module.load_state_dict = lambda self, *args, **kwargs: None
    return load_for_inference(path, build_model, device)


CASES = {
    "q1": {
        "correct": [adapt_zip, adapt_loop_with_shapes, adapt_by_loading],
        "wrong": [
            (adapt_hard_coded, "missing keys"),
            (adapt_drops_last, "missing keys ['layers.2.bias'] (1 in all). Its keys"),
            (adapt_model_weights, "predicts differently"),
            (adapt_mutates, "changed old_state"),
            (adapt_reversed, "has shape"),
            (adapt_misspelled_forward, "forward"),
            (lambda old_state, model: None, "should return a dict"),
            (adapt_patches_equal, "replaced torch.equal"),
        ],
        "placeholder": not_implemented,
    },
    "q2": {
        "correct": [train_resumable, train_resumable_last_index, train_resumable_tensor_epoch],
        "wrong": [
            (train_resumable_as_given, "one more than the"),
            (train_resumable_new_optimizer, "holds no state at all"),
            (train_resumable_model_only, "holds no optimizer state"),
            (train_resumable_saves_at_end, "no checkpoint at path"),
            (train_resumable_returns_total, "trained all 12 epochs again"),
            (train_resumable_float, "an int"),
            (train_resumable_bool, "an int"),
            (train_resumable_catches_crash, "your function caught it"),
            (train_resumable_saves_on_crash, "your function caught it"),
            (train_resumable_does_nothing, "step() 0 time(s)"),
            (lambda *a: None, "step() 0 time(s)"),
        ],
        "placeholder": not_implemented,
    },
    "q3": {
        "correct": [args(make_checkpoint, restore_checkpoint),
                    args(make_checkpoint_nested, restore_checkpoint_nested),
                    args(make_checkpoint, restore_checkpoint_rng_first),
                    args(make_checkpoint_tensor_epoch, restore_checkpoint)],
        "wrong": [
            (args(make_checkpoint_global_rng, restore_checkpoint_global_rng), "generator passed in"),
            (args(make_checkpoint_generator_only, restore_checkpoint_generator_only),
             "the noise added to each batch (torch.randn) draws from it"),
            (args(make_checkpoint_rng_seeded, restore_checkpoint_rng_seeded), "global random state"),
            (args(make_checkpoint, restore_checkpoint_then_draws), "global random state"),
            (args(make_checkpoint_generator_object, restore_checkpoint), "refuses"),
            (args(make_checkpoint_numpy_epoch, restore_checkpoint), "numpy"),
            (args(lambda *a: [1, 2], restore_checkpoint), "should return a dict"),
            (args(make_checkpoint, restore_checkpoint_patches_equal), "replaced torch.equal"),
            (args(make_checkpoint_with_lambda, restore_checkpoint), "torch.save could not save"),
            (args(make_checkpoint_with_file, restore_checkpoint), "torch.save could not save"),
            (args(make_checkpoint, restore_checkpoint_float_epoch), "return the saved epoch (3)"),
        ],
        "placeholder": args(not_implemented, not_implemented),
    },
    "q4": {
        "correct": [load_for_inference, load_for_inference_removeprefix, load_for_inference_by_shape,
                    load_for_inference_assign],
        "wrong": [
            (load_for_inference_lesson, "missing or unexpected keys"),
            (load_for_inference_replace_all, "missing or unexpected keys"),
            (load_for_inference_split_first, "keys without a prefix"),
            (load_for_inference_not_strict, "still holds the random weights"),
            (load_for_inference_no_map_location, "gpu"),
            (load_for_inference_hard_coded_config, "size mismatch"),
            (load_for_inference_no_eval, "in evaluation mode (.eval())"),
            (load_for_inference_returns_report, "torch.nn.Module"),
            (load_for_inference_meta, "the device asked for"),
            (load_for_inference_patches_load_state_dict, "replaced torch.nn.Module.load_state_dict"),
            (load_for_inference_rewrites_file, "changed the file at path"),
            (load_for_inference_never_moved, "parameters are on ['cpu']"),
            (load_for_inference_cpu_fallback, "parameters are on ['cpu']"),
            (load_for_inference_removes_file, "changed the file at path"),
            (load_for_inference_data_parallel, "a DataParallel that holds the model build_model built"),
            (load_for_inference_sequential, "a Sequential that holds the model build_model built"),
            (load_for_inference_double, "failed on a (16, 2) float32 tensor"),
        ],
        "placeholder": not_implemented,
    },
    "q5": {
        "correct": [smallest_good_model, smallest_good_model_numpy, smallest_good_model_float32_lr],
        "wrong": [
            (smallest_good_model_lesson, "the most accurate candidate"),
            (smallest_good_model_any_of_smallest, "has a higher val_acc"),
            (smallest_good_model_smallest, "more than tolerance"),
            (smallest_good_model_hidden_as_size, "the number of hidden units"),
            (smallest_good_model_weights_only, "weights but not the biases"),
            (smallest_good_model_on_fit, "fit data"),
            (smallest_good_model_ignores_lr, "learning rate"),
            (smallest_good_model_percent, "above 1"),
            (smallest_good_model_one_model, "one fresh model per combination"),
            (smallest_good_model_mutates, "changed its input"),
            (smallest_good_model_hard_coded, "search 2"),
            (smallest_good_model_fixed_tolerance, "more than tolerance=0.0 below"),
            (smallest_good_model_huge, "100000 items"),
            (smallest_good_model_nan, "val_acc nan (not a number)"),
            (smallest_good_model_one_nan, "hidden_units=24 you report val_acc nan"),
            (_table_from_the_check, "still holds the weights it started with"),
            (smallest_good_model_untrained_copies, "still holds the weights it started with"),
        ],
        "placeholder": not_implemented,
    },
    "q6": {
        "correct": [build_classifier, build_classifier_features],
        "wrong": [
            (build_classifier_linear, "kept back"),
            (build_classifier_lesson_raw, "kept back"),
            (build_classifier_adam_raw, "kept back"),
            (build_classifier_no_activation, "kept back"),
            (build_classifier_sigmoid, "leave out a final sigmoid"),
            (lambda X, y: Labels(build_classifier(X, y), as_bool=False), "it returns class labels"),
            (lambda X, y: Labels(build_classifier(X, y), as_bool=True), "it returns class labels"),
            (lambda X, y: nn.Sequential(nn.Linear(2, 1), nn.ReLU(), nn.Flatten(0)), "kept back"),
            (lambda X, y: Constant(0.0), "kept back"),  # all 0: no labels, just one class
            (lambda X, y: Constant(1.0), "kept back"),
            (build_classifier_scaled_outside, "Put the standardising step inside the model you return"),
            (build_classifier_scaled_on_part, "trained on standardised inputs"),
            (lambda X, y: Memoriser(y), "kept back"),
            (lambda X, y: HeldBackMemoriser(), "kept back"),
            (build_classifier_huge, "parameters; the limit"),
            (lambda X, y: RandomFeatures(X, 4000, as_buffer=True), "8,004 more numbers in other tensors"),
            (lambda X, y: RandomFeatures(X, 3000, as_buffer=False), "6,004 more numbers"),
            (lambda X, y: nn.Linear, "is the class"),
            (build_classifier_patches_mean, "replaced torch.Tensor.mean"),
            (build_classifier_lowers_target, "replaced helpers.checks.lesson06.TARGET_ACCURACY"),
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
    lesson06.q5.evaluate(smallest_good_model)
    assert torch.equal(torch.get_rng_state(), state)


def test_a_wrong_answer_is_judged_about_as_fast_as_a_right_one():
    start = time.perf_counter()
    lesson06.q5.evaluate(smallest_good_model)
    right = time.perf_counter() - start
    start = time.perf_counter()
    lesson06.q5.evaluate(smallest_good_model_on_fit)
    wrong = time.perf_counter() - start
    assert wrong < 2 * right + 0.5


def test_hints_stay_short_for_huge_answers():
    outcome = lesson06.q5.evaluate(smallest_good_model_huge)
    assert len(outcome.message) < 400


def test_the_pretend_gpu_file_is_only_pretend_while_saving(tmp_path):
    lesson06._save_as_if_on_gpu({"w": torch.ones(2)}, tmp_path / "gpu.pt")
    torch.save({"w": torch.ones(2)}, tmp_path / "cpu.pt")
    assert torch.load(tmp_path / "cpu.pt", weights_only=True)["w"].device.type == "cpu"
    locations = []
    torch.load(tmp_path / "gpu.pt", weights_only=True,
               map_location=lambda storage, location: locations.append(location) or storage)
    assert locations == [f"cuda:{torch.cuda.device_count()}"]


def test_key_mismatch_hint_ends_its_quote_with_one_full_stop():
    outcome = lesson06.q4.evaluate(load_for_inference_replace_all)
    assert ".." not in outcome.message.replace("...", "")
    assert '"output_bias". Compare' in outcome.message


def test_no_check_model_has_dropout():  # lessons 00-06 do not teach dropout (issue 11)
    models = [lesson06._TinyNet(), lesson06._TinyNetV2(), lesson06._ServedNet(), lesson06._two_layer_net(4)]
    assert not any(isinstance(m, nn.Dropout) for model in models for m in model.modules())


def test_q3_noise_comes_from_the_global_random_state():  # the second source of randomness is real
    X, y = torch.zeros(4, 2), torch.zeros(4)
    model = lesson06._TinyNet(3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = torch.get_rng_state()
    lesson06._train(model, optimizer, [(X, y)], epochs=1, noise=lesson06._Q3_NOISE)
    assert not torch.equal(torch.get_rng_state(), before)


def test_a_replaced_torch_function_is_put_back():
    equal, mean, load = torch.equal, torch.Tensor.mean, nn.Module.load_state_dict
    target = lesson06.TARGET_ACCURACY
    lesson06.q1.evaluate(adapt_patches_equal)
    lesson06.q4.evaluate(load_for_inference_patches_load_state_dict)
    lesson06.q6.evaluate(build_classifier_patches_mean)
    lesson06.q6.evaluate(build_classifier_lowers_target)
    assert torch.equal is equal and nn.Module.load_state_dict is load and lesson06.TARGET_ACCURACY == target
    assert "mean" not in vars(torch.Tensor) and torch.Tensor.mean is mean
