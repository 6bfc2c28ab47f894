"""Lesson 06 checks: several correct answers pass, typical mistakes fail with their hint."""

import pickle

import pytest
import torch
from checkcases import args, assert_complete, cases, verify

from helpers.checks import lesson06


def not_implemented(*_):
    raise NotImplementedError("Write your code here")


PLACEHOLDER_2 = args(not_implemented, not_implemented)


# ---- q1: save_weights / load_weights
def save_state_dict(model, path):
    torch.save(model.state_dict(), path)


def save_state_dict_to_open_file(model, path):
    with open(path, "wb") as f:
        torch.save(model.state_dict(), f)


def save_whole_model(model, path):  # pickles the object, not just the numbers
    torch.save(model, path)


def save_wrapped_model(model, path):  # a checkpoint-style dict instead of the bare state_dict
    torch.save({"model_state_dict": model.state_dict()}, path)


def load_and_eval(model, path):
    model.load_state_dict(torch.load(path, weights_only=True))
    model.eval()
    return model


def load_to_cpu_then_eval(model, path):
    state = torch.load(path, map_location="cpu")
    model.load_state_dict(state, strict=True)
    return model.eval()


def load_without_eval(model, path):
    model.load_state_dict(torch.load(path, weights_only=True))
    return model


def load_returns_report(model, path):
    model.eval()
    return model.load_state_dict(torch.load(path, weights_only=True))


def load_returns_none(model, path):
    model.load_state_dict(torch.load(path, weights_only=True))
    model.eval()


def load_returns_dict(model, path):
    return torch.load(path, weights_only=True)


def load_whole_model(model, path):
    return torch.load(path, weights_only=False).eval()


# ---- q2: safe_load
def safe_load_unpickling_error(path):
    try:
        return torch.load(path, weights_only=True)
    except pickle.UnpicklingError:
        return None


def safe_load_any_error(path):
    try:
        return torch.load(path, map_location="cpu")  # weights_only=True: the default in torch >= 2.6
    except Exception:
        return None


def unsafe_load(path):  # full unpickling: runs the payload
    try:
        return torch.load(path, weights_only=False)
    except Exception:
        return None


def safe_load_no_except(path):
    return torch.load(path, weights_only=True)


def safe_load_with_pickle(path):  # a torch file is a zip archive, not a bare pickle
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except Exception:
        return None


# ---- q3: save_checkpoint
def save_checkpoint(path, model, optimizer, epoch, loss):
    torch.save({"epoch": epoch, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "loss": loss.item()}, path)


def save_checkpoint_extra(path, model, optimizer, epoch, loss):
    checkpoint = dict(epoch=epoch, loss=float(loss.detach()), model_state_dict=model.state_dict(),
                      optimizer_state_dict=optimizer.state_dict(), note="checkpoint")
    torch.save(checkpoint, path)


def save_checkpoint_loss_tensor(path, model, optimizer, epoch, loss):
    torch.save({"epoch": epoch, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "loss": loss.detach()}, path)


def save_checkpoint_raw_loss(path, model, optimizer, epoch, loss):  # the tensor itself: accepted
    torch.save({"epoch": epoch, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "loss": loss}, path)


def save_checkpoint_no_optimizer(path, model, optimizer, epoch, loss):
    torch.save({"epoch": epoch, "model_state_dict": model.state_dict(), "loss": loss.item()}, path)


def save_checkpoint_objects(path, model, optimizer, epoch, loss):
    torch.save({"epoch": epoch, "model_state_dict": model, "optimizer_state_dict": optimizer,
                "loss": loss.item()}, path)


def save_checkpoint_model_twice(path, model, optimizer, epoch, loss):
    torch.save({"epoch": epoch, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": model.state_dict(), "loss": loss.item()}, path)


def save_checkpoint_next_epoch(path, model, optimizer, epoch, loss):
    torch.save({"epoch": epoch + 1, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "loss": loss.item()}, path)


# ---- q4: resume
def resume(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    return checkpoint["epoch"]


def resume_optimizer_first(path, model, optimizer):
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    model.load_state_dict(checkpoint["model_state_dict"])
    return int(checkpoint["epoch"])


def resume_model_only(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    return checkpoint["epoch"]


def resume_new_optimizer(path, model, optimizer):  # rebinding the name leaves the caller's untouched
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer = torch.optim.Adam(model.parameters())
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    return checkpoint["epoch"]


def resume_no_return(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])


def resume_next_epoch(path, model, optimizer):
    return resume(path, model, optimizer) + 1


# ---- q5: make_checkpoint / restore_checkpoint with the random state
def make_checkpoint(model, optimizer, epoch):
    return {"epoch": epoch, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(), "rng_state": torch.get_rng_state()}


def restore_checkpoint(checkpoint, model, optimizer):
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    torch.set_rng_state(checkpoint["rng_state"])
    return checkpoint["epoch"]


def make_checkpoint_all_rngs(model, optimizer, epoch):
    import random

    return {"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "torch_rng": torch.random.get_rng_state(), "python_rng": random.getstate()}


def restore_checkpoint_all_rngs(checkpoint, model, optimizer):
    import random

    torch.random.set_rng_state(checkpoint["torch_rng"])  # nothing below draws random numbers
    random.setstate(checkpoint["python_rng"])
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["epoch"]


def make_checkpoint_no_rng(model, optimizer, epoch):
    return {"epoch": epoch, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict()}


def restore_checkpoint_no_rng(checkpoint, model, optimizer):
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    return checkpoint["epoch"]


def make_checkpoint_numpy_rng(model, optimizer, epoch):  # a NumPy array: refused by the safe loader
    import numpy as np

    return {**make_checkpoint(model, optimizer, epoch), "numpy_rng": np.random.get_state()}


def restore_checkpoint_model_only(checkpoint, model, optimizer):
    model.load_state_dict(checkpoint["model_state_dict"])
    torch.set_rng_state(checkpoint["rng_state"])
    return checkpoint["epoch"]


# ---- q6: load_to
def load_to(path, device):
    return torch.load(path, map_location=device, weights_only=True)


def load_to_torch_device(path, device):
    return torch.load(path, map_location=torch.device(device))


def load_then_move(path, device):  # too late: torch.load already tried to recreate the GPU tensors
    return {name: t.to(device) for name, t in torch.load(path, weights_only=True).items()}


def load_as_older_torch_fails(path, device):  # the same mistake; older torch reports it like this
    try:
        return torch.load(path, weights_only=True)
    except RuntimeError as error:
        raise pickle.UnpicklingError(f"Weights only load failed. Original error: {error}") from None


def load_to_fixed_cpu(path, device):
    return torch.load(path, map_location="cpu", weights_only=True)


# ---- q7: best_config
def best_by_sorting(results):
    best = results.sort_values(["val_acc", "val_loss"], ascending=[False, True]).iloc[0]
    return best["lr"], int(best["hidden_units"])


def best_by_filtering(results):
    top = results[results["val_acc"] == results["val_acc"].max()]
    best = top.loc[top["val_loss"].idxmin()]
    return [float(best.lr), int(best.hidden_units)]


def best_as_series(results):
    ranked = results.sort_values(["val_acc", "val_loss"], ascending=[False, True])
    return ranked.iloc[0][["lr", "hidden_units"]]


def best_by_train_acc(results):
    best = results.sort_values("train_acc", ascending=False).iloc[0]
    return best["lr"], best["hidden_units"]


def best_first_of_ties(results):
    best = results.loc[results["val_acc"].idxmax()]
    return best["lr"], best["hidden_units"]


def best_by_val_loss(results):
    best = results.loc[results["val_loss"].idxmin()]
    return best["lr"], best["hidden_units"]


def best_higher_loss_wins(results):  # sorts val_loss the wrong way
    best = results.sort_values(["val_acc", "val_loss"], ascending=False).iloc[0]
    return best["lr"], best["hidden_units"]


def best_swapped(results):
    best = results.sort_values(["val_acc", "val_loss"], ascending=[False, True]).iloc[0]
    return best["hidden_units"], best["lr"]


def best_by_label(results):  # .loc[0] is the row labelled 0, not the first row after sorting
    ranked = results.sort_values(["val_acc", "val_loss"], ascending=[False, True])
    return ranked.loc[0, "lr"], ranked.loc[0, "hidden_units"]


def best_index(results):
    return results.sort_values(["val_acc", "val_loss"], ascending=[False, True]).index[0]


CASES = {
    "q1": {
        "correct": [
            args(save_state_dict, load_and_eval),
            args(save_state_dict_to_open_file, load_to_cpu_then_eval),
        ],
        "wrong": [
            (args(save_whole_model, load_whole_model), "refuses"),
            (args(save_wrapped_model, load_and_eval), "should hold model.state_dict()"),
            (args(save_state_dict, load_without_eval), "model.eval()"),
            (args(save_state_dict, load_returns_report), "return the model itself"),
            (args(save_state_dict, load_returns_none), "returned None"),
            (args(save_state_dict, load_returns_dict), "model.load_state_dict"),
        ],
        "placeholder": PLACEHOLDER_2,
    },
    "q2": {
        "correct": [safe_load_unpickling_error, safe_load_any_error],
        "wrong": [
            (unsafe_load, "ran code from inside the file"),
            (safe_load_no_except, "catch it and return None"),
            (safe_load_with_pickle, "returned None for a state_dict"),
            (lambda path: None, "returned None for a state_dict"),
        ],
        "placeholder": not_implemented,
    },
    "q3": {
        "correct": [save_checkpoint, save_checkpoint_extra, save_checkpoint_loss_tensor,
                    save_checkpoint_raw_loss],
        "wrong": [
            (save_checkpoint_no_optimizer, "no ['optimizer_state_dict'] key"),
            (save_checkpoint_objects, "refuses"),
            (save_checkpoint_model_twice, "holds the model's state_dict"),
            (save_checkpoint_next_epoch, "expected the epoch passed in"),
        ],
        "placeholder": not_implemented,
    },
    "q4": {
        "correct": [resume, resume_optimizer_first],
        "wrong": [
            (resume_model_only, "the optimizer was not"),
            (resume_new_optimizer, "the optimizer was not"),
            (resume_no_return, "returned None"),
            (resume_next_epoch, "return checkpoint['epoch']"),
        ],
        "placeholder": not_implemented,
    },
    "q5": {
        "correct": [
            args(make_checkpoint, restore_checkpoint),
            args(make_checkpoint_all_rngs, restore_checkpoint_all_rngs),
        ],
        "wrong": [
            (args(make_checkpoint_no_rng, restore_checkpoint_no_rng), "torch.get_rng_state()"),
            (args(make_checkpoint, restore_checkpoint_no_rng), "torch.set_rng_state"),
            (args(make_checkpoint_numpy_rng, restore_checkpoint), "refuses"),
            (args(make_checkpoint, restore_checkpoint_model_only), "optimizer's state was not restored"),
        ],
        "placeholder": PLACEHOLDER_2,
    },
    "q6": {
        "correct": [load_to, load_to_torch_device],
        "wrong": [
            (lambda path, device: torch.load(path, weights_only=True), "map_location=device"),
            (load_as_older_torch_fails, "map_location=device"),
            (load_to_fixed_cpu, "not a fixed 'cpu'"),
            # With a GPU, loading onto it and moving afterwards works (if wastefully); without
            # one, torch.load fails before there is anything to move.
            *([] if torch.cuda.is_available() else [(load_then_move, "map_location=device")]),
        ],
        "placeholder": not_implemented,
    },
    "q7": {
        "correct": [best_by_sorting, best_by_filtering, best_as_series],
        "wrong": [
            (best_by_train_acc, "training* accuracy"),
            (best_first_of_ties, "break the tie"),
            (best_by_val_loss, "lowest val_loss overall"),
            (best_index, "not its index"),
            (best_higher_loss_wins, "lower val_loss"),
            (best_swapped, "wrong order"),
            (best_by_label, ".iloc[0]"),
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
    lesson06.q5.evaluate(make_checkpoint, restore_checkpoint)
    lesson06.q1.evaluate(save_state_dict, load_and_eval)
    assert torch.equal(torch.get_rng_state(), state)


def test_the_pretend_gpu_file_is_only_pretend_while_saving(tmp_path):
    lesson06._save_as_if_on_gpu({"w": torch.ones(2)}, tmp_path / "gpu.pt")
    torch.save({"w": torch.ones(2)}, tmp_path / "cpu.pt")
    assert torch.load(tmp_path / "cpu.pt", weights_only=True)["w"].device.type == "cpu"
    locations = []
    torch.load(tmp_path / "gpu.pt", weights_only=True,
               map_location=lambda storage, location: locations.append(location) or storage)
    assert locations == ["cuda:0"]
