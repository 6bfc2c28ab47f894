"""Checks for exercises/06_saving_loading_tuning_exercises.ipynb.

The checks save, load and train tiny models on tiny data in a temporary folder,
so each runs in well under a second. They seed themselves and leave the
learner's random state as they found it.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import pickle
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from helpers.checks.core import (
    Incorrect,
    NotAttempted,
    call,
    describe,
    exercise,
    expect,
    expect_module,
    is_placeholder,
    unimplemented_hint,
)

# --------------------------------------------------------------------------- helpers


class _TinyNet(nn.Module):
    """A small classifier (2 inputs, 1 logit), with dropout unless told otherwise (so eval() matters).

    Dropout draws random numbers while training; the resume checks leave it out, so that
    only the state they test decides whether two runs agree.
    """

    def __init__(self, hidden_units: int = 6, dropout: bool = True) -> None:
        super().__init__()
        self.hidden = nn.Linear(2, hidden_units)
        self.dropout = nn.Dropout(0.5) if dropout else nn.Identity()
        self.out = nn.Linear(hidden_units, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.dropout(torch.relu(self.hidden(x)))).squeeze(1)


def _sequential() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 5), nn.ReLU(), nn.Linear(5, 1))


def _data(n: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 2, generator=generator)
    y = (X[:, 0] * X[:, 1] > 0).float()  # an XOR-like pattern: needs the hidden layer
    return X, y


def _logits(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    return model(X).reshape(len(X))


def _train(model: nn.Module, optimizer: torch.optim.Optimizer, batches: Any, epochs: int) -> torch.Tensor:
    """Train for some epochs on a list of (X, y) batches or a DataLoader; return the last loss."""
    loss_fn = nn.BCEWithLogitsLoss()
    model.train()
    loss = torch.tensor(0.0)
    for _ in range(epochs):
        for X, y in batches:
            loss = loss_fn(_logits(model, X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return loss


def _same_tensors(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> bool:
    return set(a) == set(b) and all(
        isinstance(a[k], torch.Tensor) and a[k].shape == b[k].shape and torch.equal(a[k].cpu(), b[k].cpu())
        for k in a
    )


def _same_parameters(model_a: nn.Module, model_b: nn.Module) -> bool:
    return _same_tensors(model_a.state_dict(), model_b.state_dict())


def _same_data(a: Any, b: Any) -> bool:
    """Deep equality for checkpoints: dicts, lists, tuples, tensors and numbers."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape
                and a.dtype == b.dtype and torch.equal(a.cpu(), b.cpu()))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return set(a) == set(b) and all(_same_data(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_data(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _same_optimizer_state(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return _same_data(a.get("state"), b.get("state")) and _same_data(
        a.get("param_groups"), b.get("param_groups")
    )


@contextlib.contextmanager
def _sandbox() -> Iterator[Path]:
    """A temporary folder, and the learner's CPU random state restored afterwards."""
    with torch.random.fork_rng(devices=[]), tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def _load_safely(path: Path, what: str) -> Any:
    """torch.load with weights_only=True, turning a refusal into a hint."""
    try:
        return torch.load(path, weights_only=True)
    except pickle.UnpicklingError as error:
        refused = str(error).split("Unsupported global: GLOBAL ")[-1].split(" ")[0]
        fix = ("save state dicts (model.state_dict(), optimizer.state_dict()), tensors and plain "
               "numbers, not whole model or optimizer objects.")
        if refused.startswith("numpy"):
            fix = "it holds a NumPy array or number: convert it to a tensor or a plain number, or leave it out."
        raise Incorrect(
            f"{what} holds an object that torch.load(..., weights_only=True) refuses ({refused}): {fix}"
        ) from error


# The booby-trapped file of exercise 2 calls this function when it is unpickled.
_CODE_RAN: list[str] = []


def _record_code_ran(message: str) -> str:
    _CODE_RAN.append(message)
    return message


class _Payload:
    """Unpickled, this object runs _record_code_ran(...) instead of rebuilding itself."""

    def __reduce__(self) -> tuple[Callable[[str], str], tuple[str]]:
        return (_record_code_ran, ("code from inside the file ran",))


# Exercise 6 needs a file that says "saved on cuda:0" on any machine, GPU or not. torch.save
# asks each registered "tagger" where a tensor lives; ours answers "cuda:0" while _PRETEND_GPU
# is set and otherwise stays silent (returns None), so it changes nothing else.
_PRETEND_GPU = False
_TAGGER_REGISTERED = False


def _pretend_gpu_tagger(storage: Any) -> str | None:
    return "cuda:0" if _PRETEND_GPU else None


def _never_restores(storage: Any, location: str) -> None:
    return None


def _save_as_if_on_gpu(obj: Any, path: Path) -> None:
    """torch.save(obj, path), with every tensor recorded as living on cuda:0."""
    global _PRETEND_GPU, _TAGGER_REGISTERED
    if not _TAGGER_REGISTERED:
        torch.serialization.register_package(-1000, _pretend_gpu_tagger, _never_restores)
        _TAGGER_REGISTERED = True
    _PRETEND_GPU = True
    try:
        torch.save(obj, path)
    finally:
        _PRETEND_GPU = False


# --------------------------------------------------------------------------- checks


@exercise(
    "save_weights: torch.save(model.state_dict(), path). The state_dict holds the numbers; "
    "the model object itself should not go into the file.",
    "load_weights: model.load_state_dict(torch.load(path, weights_only=True)), then "
    "model.eval(), then return model (load_state_dict itself returns a report, not the model).",
)
def q1(save_weights: Any, load_weights: Any) -> None:
    """save_weights(model, path) saves the state_dict; load_weights(model, path) restores it."""
    with _sandbox() as folder:
        for number, make in enumerate((_TinyNet, _sequential)):
            torch.manual_seed(number)
            original = make().eval()
            path = folder / f"weights_{number}.pt"
            call(save_weights, original, str(path))
            expect(path.is_file(), "save_weights(model, path) did not create a file at path: "
                   "call torch.save(..., path).")
            saved = _load_safely(path, "the file written by save_weights")
            expected = original.state_dict()
            expect(isinstance(saved, Mapping) and set(saved) == set(expected),
                   f"the file should hold model.state_dict() (a dict of parameter names -> tensors), "
                   f"but it holds {describe(saved)}.")
            expect(_same_tensors(saved, expected), "the saved tensors differ from the model's: save "
                   "the state_dict of the model you were given, before changing anything.")

            torch.manual_seed(100 + number)
            fresh = make()  # different random weights, in training mode
            result = call(load_weights, fresh, str(path))
            if isinstance(result, tuple) and hasattr(result, "missing_keys"):
                raise Incorrect("load_weights returned what model.load_state_dict(...) returns (a "
                                "report of matched keys); return the model itself.")
            expect(result is not None, "load_weights returned None: return the model after loading "
                   "the weights into it.")
            if isinstance(result, Mapping):
                raise Incorrect("load_weights returned the state_dict; load it into the model with "
                                "model.load_state_dict(...) and return the model.")
            result = expect_module(result, "the value returned by load_weights")
            expect(_same_parameters(result, original), "the returned model's weights are not the "
                   "saved ones: call model.load_state_dict(torch.load(path, weights_only=True)).")
            expect(not result.training, "the returned model is in training mode, so its dropout "
                   "layer makes every prediction different: call model.eval() before returning it.")
            X, _ = _data(16)
            with torch.inference_mode():
                expect(torch.equal(_logits(result, X), _logits(original, X)),
                       "the loaded model's predictions differ from the original's.")


@exercise(
    "torch.load(path, weights_only=True) loads tensors and plain data only; a file that asks for "
    "anything else makes it raise pickle.UnpicklingError.",
    "try: return torch.load(path, weights_only=True) / except pickle.UnpicklingError: return None",
)
def q2(safe_load: Any) -> None:
    """safe_load(path): the file's contents loaded safely, or None if torch refuses the file."""
    with _sandbox() as folder:
        torch.manual_seed(0)
        model = _TinyNet()
        good_files = {
            "a state_dict": model.state_dict(),
            "a checkpoint with numbers and nested dicts": {
                "epoch": 3, "loss": 0.25, "model_state_dict": model.state_dict(),
                "settings": {"hidden_units": 6, "lr": 0.1, "names": ["a", "b"]},
            },
        }
        for label, content in good_files.items():
            path = folder / "good.pt"
            torch.save(content, path)
            loaded = call(safe_load, str(path))
            expect(loaded is not None, f"safe_load returned None for {label}, a file that is safe to "
                   "load: return what torch.load(path, weights_only=True) gives.")
            expect(_same_data(loaded, content), f"for {label} safe_load returned {describe(loaded)}, "
                   "not the file's contents.")

        bad_files = {
            "a booby-trapped checkpoint (unpickling it would run code)":
                {"model_state_dict": model.state_dict(), "note": _Payload()},
            "a whole pickled model object": _sequential(),
        }
        for label, content in bad_files.items():
            path = folder / "bad.pt"
            torch.save(content, path)
            _CODE_RAN.clear()
            try:
                loaded = safe_load(str(path))
            except NotImplementedError as error:
                if is_placeholder(error):
                    raise NotAttempted from error
                raise Incorrect(unimplemented_hint(error)) from error
            except pickle.UnpicklingError as error:
                raise Incorrect(f"for {label} torch refused to load the file (good!), but the "
                                "pickle.UnpicklingError escaped from safe_load: catch it and return "
                                "None.") from error
            except Exception as error:
                if _CODE_RAN:
                    raise Incorrect(f"loading {label} ran code from inside the file! Use "
                                    "torch.load(path, weights_only=True).") from error
                raise Incorrect(f"for {label} your code raised {type(error).__name__}: {error}") from error
            expect(not _CODE_RAN, f"loading {label} ran code from inside the file! Never use "
                   "weights_only=False for files you do not trust: use weights_only=True.")
            expect(loaded is None, f"for {label}, which torch refuses to load safely, safe_load "
                   f"should return None, but it returned {describe(loaded)}.")


@exercise(
    "The checkpoint is a dict with four keys: 'epoch', 'model_state_dict', 'optimizer_state_dict' "
    "and 'loss'. Save it with torch.save(checkpoint, path).",
    "Use model.state_dict() and optimizer.state_dict() (called, with brackets) and loss.item().",
)
def q3(save_checkpoint: Any) -> None:
    """save_checkpoint(path, model, optimizer, epoch, loss) writes a resumable checkpoint."""
    keys = {"epoch", "model_state_dict", "optimizer_state_dict", "loss"}
    with _sandbox() as folder:
        for number, (make_optimizer, epoch) in enumerate((
            (lambda params: torch.optim.Adam(params, lr=0.05), 4),
            (lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9), 7),
        )):
            torch.manual_seed(number)
            model = _TinyNet()
            optimizer = make_optimizer(model.parameters())
            loss = _train(model, optimizer, [_data(32)], epochs=epoch)  # a tensor with grad_fn
            path = folder / f"checkpoint_{number}.pt"
            call(save_checkpoint, str(path), model, optimizer, epoch, loss)
            expect(path.is_file(), "save_checkpoint did not create a file at path: "
                   "torch.save(checkpoint, path).")
            saved = _load_safely(path, "the checkpoint")
            expect(isinstance(saved, Mapping), f"the file should hold a dict, but it holds {describe(saved)}.")
            missing = sorted(keys - set(saved))
            expect(not missing, f"the checkpoint has no {missing} key(s); it needs exactly "
                   f"'epoch', 'model_state_dict', 'optimizer_state_dict' and 'loss'.")
            expect(isinstance(saved["epoch"], int) and saved["epoch"] == epoch,
                   f"checkpoint['epoch'] is {describe(saved['epoch'])}, expected the epoch passed in, {epoch}.")
            expect(isinstance(saved["model_state_dict"], Mapping)
                   and _same_tensors(saved["model_state_dict"], model.state_dict()),
                   "checkpoint['model_state_dict'] should be model.state_dict().")
            optimizer_state = saved["optimizer_state_dict"]
            if isinstance(optimizer_state, Mapping) and _same_tensors(optimizer_state, model.state_dict()):
                raise Incorrect("checkpoint['optimizer_state_dict'] holds the model's state_dict; "
                                "use optimizer.state_dict().")
            expect(isinstance(optimizer_state, Mapping) and {"state", "param_groups"} <= set(optimizer_state)
                   and _same_optimizer_state(optimizer_state, optimizer.state_dict()),
                   "checkpoint['optimizer_state_dict'] should be optimizer.state_dict(): it holds "
                   "the optimiser's running averages, which resuming needs.")
            value = saved["loss"]
            if isinstance(value, torch.Tensor) and value.numel() == 1:
                value = value.detach().item()  # a tensor works too, though a number is tidier
            is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
            expect(is_number and math.isclose(float(value), loss.item(), rel_tol=1e-6),
                   f"checkpoint['loss'] is {describe(value)}; store the loss passed in as a number, "
                   f"loss.item() (here {loss.item():.4f}).")


@exercise(
    "Load the checkpoint with torch.load(path, weights_only=True), then call load_state_dict on "
    "BOTH the model and the optimizer, and return checkpoint['epoch'].",
    "The model and optimizer passed in are the ones training continues with: load into them "
    "(model.load_state_dict(...), optimizer.load_state_dict(...)) rather than building new ones.",
)
def q4(resume: Any) -> None:
    """resume(path, model, optimizer): restore both states in place, return the saved epoch."""
    with _sandbox() as folder:
        data = [_data(48)]
        for number, (make_optimizer, epochs) in enumerate((
            (lambda params: torch.optim.Adam(params, lr=0.05), 6),
            (lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9), 9),
        )):
            torch.manual_seed(number)
            straight = _TinyNet(8, dropout=False)
            straight_optimizer = make_optimizer(straight.parameters())
            _train(straight, straight_optimizer, data, epochs=2 * epochs)

            torch.manual_seed(number)
            first = _TinyNet(8, dropout=False)
            first_optimizer = make_optimizer(first.parameters())
            loss = _train(first, first_optimizer, data, epochs=epochs)
            path = folder / f"checkpoint_{number}.pt"
            torch.save({"epoch": epochs, "model_state_dict": first.state_dict(),
                        "optimizer_state_dict": first_optimizer.state_dict(), "loss": loss.item()}, path)

            torch.manual_seed(1000 + number)  # "a new session": other random weights
            model = _TinyNet(8, dropout=False)
            optimizer = make_optimizer(model.parameters())
            epoch = call(resume, str(path), model, optimizer)
            expect(epoch is not None, "resume returned None: return the epoch stored in the "
                   "checkpoint, checkpoint['epoch'].")
            expect(isinstance(epoch, int) and epoch == epochs,
                   f"resume returned {describe(epoch)}, but the checkpoint holds epoch {epochs}: "
                   "return checkpoint['epoch'].")
            expect(_same_parameters(model, first), "after resume the model's parameters are not the "
                   "checkpoint's: call model.load_state_dict(checkpoint['model_state_dict']) on the "
                   "model passed in.")
            expect(_same_optimizer_state(optimizer.state_dict(), first_optimizer.state_dict()),
                   "the model was restored but the optimizer was not: call "
                   "optimizer.load_state_dict(checkpoint['optimizer_state_dict']) on the optimizer "
                   "passed in (its momentum and running averages are part of training).")
            _train(model, optimizer, data, epochs=epochs)
            expect(_same_parameters(model, straight), "after resuming and training on, the parameters "
                   "differ from an uninterrupted run of the same length.")


@exercise(
    "Besides the model's and optimizer's state dicts, the checkpoint needs the random state that "
    "decides the shuffle order: torch.get_rng_state() (a tensor, so the file still loads safely).",
    "In restore_checkpoint, call torch.set_rng_state(checkpoint['rng_state']) after loading the "
    "two state dicts, then return checkpoint['epoch'].",
)
def q5(make_checkpoint: Any, restore_checkpoint: Any) -> None:
    """make_checkpoint / restore_checkpoint: resume shuffled mini-batch training exactly."""
    with _sandbox() as folder:
        X, y = _data(64)
        loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)
        epochs = 3

        def make() -> tuple[nn.Module, torch.optim.Optimizer]:
            model = _TinyNet(8, dropout=False)
            return model, torch.optim.Adam(model.parameters(), lr=0.05)

        torch.manual_seed(0)
        straight, straight_optimizer = make()
        _train(straight, straight_optimizer, loader, epochs=2 * epochs)

        torch.manual_seed(0)
        first, first_optimizer = make()
        _train(first, first_optimizer, loader, epochs=epochs)
        checkpoint = call(make_checkpoint, first, first_optimizer, epochs)
        expect(isinstance(checkpoint, Mapping),
               f"make_checkpoint should return a dict, but it returned {describe(checkpoint)}.")
        path = folder / "checkpoint.pt"
        torch.save(dict(checkpoint), path)
        checkpoint = _load_safely(path, "the checkpoint")
        # The session ends. A new one builds fresh objects (drawing new random numbers) and restores.
        torch.manual_seed(1000)
        model, optimizer = make()
        epoch = call(restore_checkpoint, checkpoint, model, optimizer)
        expect(isinstance(epoch, int) and epoch == epochs,
               f"restore_checkpoint returned {describe(epoch)}; return the saved epoch ({epochs}).")
        expect(_same_parameters(model, first), "after restore_checkpoint the model's parameters "
               "are not the ones saved: save model.state_dict() and load it with model.load_state_dict.")
        expect(_same_optimizer_state(optimizer.state_dict(), first_optimizer.state_dict()),
               "the optimizer's state was not restored: save optimizer.state_dict() and load it with "
               "optimizer.load_state_dict.")
        _train(model, optimizer, loader, epochs=epochs)
        expect(_same_parameters(model, straight), "the model and optimizer were restored, but "
               "training after the restart took a different path: the shuffle order comes from "
               "PyTorch's random number generator. Save torch.get_rng_state() in the checkpoint and "
               "call torch.set_rng_state(...) in restore_checkpoint.")


@exercise(
    "torch.load has an argument for this: map_location. It decides where the tensors go while "
    "the file is read, before torch tries to recreate the device the file was saved on.",
    "return torch.load(path, map_location=device, weights_only=True)",
)
def q6(load_to: Any) -> None:
    """load_to(path, device): a saved state_dict with every tensor on `device`."""
    with _sandbox() as folder:
        torch.manual_seed(0)
        state = _TinyNet().state_dict()
        gpu_path = folder / "saved_on_gpu.pt"
        _save_as_if_on_gpu(state, gpu_path)
        try:
            loaded = load_to(str(gpu_path), "cpu")
        except NotImplementedError as error:
            if is_placeholder(error):
                raise NotAttempted from error
            raise Incorrect(unimplemented_hint(error)) from error
        except Exception as error:
            # torch raises a RuntimeError here; some older versions, with weights_only=True, raise
            # a pickle.UnpicklingError carrying the same text. The text is the evidence.
            if "deserialize object on" in str(error) or "CUDA" in str(error):
                raise Incorrect("torch.load tried to put the tensors back on the GPU the file was "
                                "saved from, which this machine lacks: pass map_location=device to "
                                "torch.load so that they go to the device you ask for.") from error
            raise Incorrect(f"your code raised {type(error).__name__}: {error}") from error
        expect(isinstance(loaded, Mapping) and set(loaded) == set(state),
               f"load_to should return the saved state_dict, but it returned {describe(loaded)}.")
        devices = {str(t.device) for t in loaded.values()}
        expect(devices == {"cpu"}, f"load_to(path, 'cpu') on a file saved on the GPU gave tensors on "
               f"{sorted(devices)}: pass map_location=device to torch.load.")
        expect(_same_tensors(loaded, state), "the loaded tensors differ from the saved ones.")

        cpu_path = folder / "saved_on_cpu.pt"
        torch.save(state, cpu_path)
        # "meta" is a device every PyTorch has: tensors with a shape but no data.
        loaded = call(load_to, str(cpu_path), "meta")
        expect(isinstance(loaded, Mapping) and set(loaded) == set(state),
               f"load_to should return the saved state_dict, but it returned {describe(loaded)}.")
        devices = {t.device.type for t in loaded.values()}
        expect(devices == {"meta"}, f"load_to(path, 'meta') gave tensors on {sorted(devices)}: use "
               "the device argument (map_location=device), not a fixed 'cpu'.")


def _results(rows: list[tuple], index: list[int] | None = None) -> pd.DataFrame:
    columns = ["lr", "hidden_units", "train_acc", "val_acc", "val_loss"]
    return pd.DataFrame(rows, columns=columns, index=index)


@exercise(
    "Judge on the validation columns only: the highest val_acc wins. Training accuracy rewards "
    "memorising the training data.",
    "Sort by val_acc (descending) then val_loss (ascending), e.g. results.sort_values(['val_acc', "
    "'val_loss'], ascending=[False, True]), and read lr and hidden_units from the first row.",
)
def q7(best_config: Any) -> None:
    """best_config(results): (lr, hidden_units) with the highest val_acc, ties by lowest val_loss."""
    tables = [
        # a clear winner on validation; another configuration fits the training data better
        (_results([(0.01, 8, 0.90, 0.88, 0.30), (0.1, 8, 1.00, 0.91, 0.35),
                   (0.1, 32, 0.97, 0.95, 0.20), (1.0, 2, 0.85, 0.84, 0.40)]), (0.1, 32),
         "unique best val_acc"),
        # a tie on val_acc, broken by val_loss; the lowest loss overall is elsewhere
        (_results([(0.1, 8, 0.99, 0.97, 0.12), (1.0, 32, 1.00, 0.97, 0.05),
                   (0.01, 32, 0.95, 0.96, 0.03), (1.0, 8, 0.98, 0.93, 0.10)],
                  index=[7, 3, 5, 0]), (1.0, 32), "tie"),
        # the row order and index are shuffled, as after filtering a bigger table
        (_results([(0.3, 16, 0.99, 0.90, 0.25), (0.03, 64, 0.96, 0.92, 0.21),
                   (0.3, 64, 1.00, 0.92, 0.22)], index=[10, 2, 4]), (0.03, 64), "tie, shuffled index"),
    ]
    for results, (lr, hidden_units), label in tables:
        try:
            answer = call(best_config, results.copy())
        except Incorrect as error:
            if "KeyError" in str(error) and 0 not in results.index:
                raise Incorrect(f"{error}. This table's row labels (its index) are {list(results.index)}: "
                                ".loc[0] looks for the row *labelled* 0. For the first row after "
                                "sorting, use .iloc[0].") from error
            raise
        if isinstance(answer, pd.Series):
            answer = tuple(answer)
        if isinstance(answer, numbers.Real) and not isinstance(answer, bool):
            raise Incorrect(f"best_config returned the single number {answer!r}; return the pair "
                            "(lr, hidden_units) read from the best row, not its index.")
        expect(isinstance(answer, (tuple, list)) and len(answer) == 2,
               f"best_config should return a pair (lr, hidden_units), but it returned {describe(answer)}.")
        got_lr, got_units = answer
        try:
            right = math.isclose(float(got_lr), lr) and int(got_units) == hidden_units
        except (TypeError, ValueError):
            right = False
        if right:
            continue
        by_train = results.sort_values("train_acc", ascending=False).iloc[0]
        by_loss = results.sort_values("val_loss").iloc[0]
        first_top = results[results["val_acc"] == results["val_acc"].max()].iloc[0]
        picked = (got_lr, got_units)
        if picked == (by_train["lr"], by_train["hidden_units"]):
            raise Incorrect("you picked the configuration with the best *training* accuracy; choose "
                            "by validation accuracy (val_acc).")
        top = results[results["val_acc"] == results["val_acc"].max()]
        worst_of_top = top.sort_values("val_loss", ascending=False).iloc[0]
        higher_loss_picks = [(row["lr"], row["hidden_units"]) for row in (first_top, worst_of_top)]
        if label.startswith("tie") and any(picked == pick for pick in higher_loss_picks):
            raise Incorrect("two configurations share the best val_acc, and you picked one with a higher "
                            "val_loss (the first in the table, or the larger loss); break the tie with the "
                            "lower val_loss: sort by val_loss ascending, e.g. ascending=[False, True].")
        if picked == (hidden_units, lr):
            raise Incorrect(f"best_config returned {describe(answer)}: the right row, in the wrong order. "
                            "Return (lr, hidden_units), learning rate first.")
        if 0 in results.index and picked == (results.loc[0, "lr"], results.loc[0, "hidden_units"]):
            raise Incorrect("you returned the row *labelled* 0 (.loc[0]), which sorting does not move; "
                            "for the first row after sorting, use .iloc[0].")
        if picked == (by_loss["lr"], by_loss["hidden_units"]):
            raise Incorrect("you picked the lowest val_loss overall; the rule is the highest val_acc "
                            "first, with val_loss only to break ties.")
        raise Incorrect(f"for a table with a {label}, the best configuration is (lr={lr}, "
                        f"hidden_units={hidden_units}), but best_config returned {describe(answer)}.")
