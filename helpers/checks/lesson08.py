"""Checks for exercises/08_data_parallel_training_exercises.ipynb.

None of these checks starts processes: that would cost seconds. Exercise 3 runs
the learner's gradient average in two and three ranks that are *threads* of the
notebook's own process, each with its own gloo process group over an in-memory
store; the others call the learner's functions on their own small inputs. Only
exercise 6 judges the result of a real torchrun launch, which the learner ran:
the check loads the saved checkpoint and scores it on data it holds back.
"""

from __future__ import annotations

import contextlib
import functools
import math
import numbers
import pickle
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import torch
import torch.distributed as dist
import torch.serialization
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

from helpers.checks.core import (
    Incorrect,
    NotAttempted,
    call,
    describe,
    exercise,
    expect,
    expect_module,
    is_placeholder,
    seeded,
    unimplemented_hint,
)

# --------------------------------------------------------------------------- exercise 1


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _not_implemented(error: NotImplementedError) -> Exception:
    """Only the untouched placeholder is "not attempted"; any other NotImplementedError is an attempt."""
    return NotAttempted() if is_placeholder(error) else Incorrect(unimplemented_hint(error))


@exercise(
    "Each process reads global_batch / world_size rows per step; use // for a whole number.",
    "Check first: if global_batch % world_size != 0, raise ValueError(...). Otherwise return "
    "global_batch // world_size.",
)
def q1(per_process_batch: Any) -> None:
    """per_process_batch(global_batch, world_size) -> rows per process, or ValueError if uneven."""
    for global_batch, world_size in ((32, 2), (32, 1), (96, 4), (256, 8), (12, 3)):
        expected = global_batch // world_size
        got = call(per_process_batch, global_batch, world_size)
        if isinstance(got, float) and got == expected:
            raise Incorrect(f"per_process_batch({global_batch}, {world_size}) returned the float {got}; "
                            "a DataLoader's batch_size must be an int: use // instead of /.")
        expect(_is_int(got), f"per_process_batch({global_batch}, {world_size}) should return an int, "
               f"got {describe(got)}.")
        if got == global_batch * world_size != expected:
            raise Incorrect(f"per_process_batch({global_batch}, {world_size}) returned {got}, the product: "
                            "the global batch is *split* over the processes, so divide.")
        expect(got == expected, f"per_process_batch({global_batch}, {world_size}) returned {describe(got)}; "
               f"{global_batch} rows over {world_size} processes is {expected} rows each.")
    for global_batch, world_size in ((30, 4), (33, 2)):
        try:
            got = per_process_batch(global_batch, world_size)
        except ValueError:
            continue
        except Exception as error:
            if is_placeholder(error):
                raise NotAttempted from error
            raise Incorrect(f"per_process_batch({global_batch}, {world_size}) raised {type(error).__name__}; "
                            "raise ValueError when the batch does not split evenly.") from error
        raise Incorrect(f"per_process_batch({global_batch}, {world_size}) returned {describe(got)}, but "
                        f"{global_batch} rows do not split into {world_size} equal shards: raise a "
                        "ValueError, because unequal shards make the averaged gradient wrong.")


# --------------------------------------------------------------------------- exercise 2


def _plain_number(value: Any) -> Any:
    """A NumPy scalar or a one-element tensor as the Python number it holds; anything else as it is."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.requires_grad:
        value = value.item()
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            return float(value)
    return value


@exercise(
    "The global batch is what the optimiser sees: per_process_batch * world_size rows per step.",
    "Linear scaling: new_lr = base_lr * global_batch / base_batch. Return (global_batch, new_lr).",
)
def q2(scale_up: Any) -> None:
    """scale_up(base_batch, base_lr, per_process_batch, world_size) -> (global_batch, lr)."""
    cases = ((32, 0.1, 32, 8), (64, 0.05, 16, 4), (32, 0.1, 16, 2), (128, 0.4, 32, 2), (100, 0.3, 50, 6))
    for base_batch, base_lr, per_process, world_size in cases:
        shown = f"scale_up({base_batch}, {base_lr}, {per_process}, {world_size})"
        got = call(scale_up, base_batch, base_lr, per_process, world_size)
        expect(isinstance(got, (tuple, list)) and len(got) == 2,
               f"{shown} should return two values, (global_batch, lr); got {describe(got)}.")
        global_batch, lr = (_plain_number(v) for v in got)
        expected_batch = per_process * world_size
        expected_lr = base_lr * expected_batch / base_batch
        expect(_is_int(global_batch) or (isinstance(global_batch, float) and global_batch.is_integer()),
               f"{shown}: the global batch should be a whole number, got {describe(global_batch)}.")
        if global_batch == per_process:
            raise Incorrect(f"{shown}: the global batch {global_batch} is one process's batch; every one "
                            f"of the {world_size} processes reads {per_process} rows per step.")
        expect(global_batch == expected_batch, f"{shown}: global batch {global_batch}, expected "
               f"{per_process} rows x {world_size} processes = {expected_batch}.")
        expect(isinstance(lr, (int, float)) and not isinstance(lr, bool),
               f"{shown}: the learning rate should be a number, got {describe(lr)}.")
        if math.isclose(lr, base_lr * world_size, rel_tol=1e-9) and not math.isclose(
                expected_lr, base_lr * world_size, rel_tol=1e-9):
            raise Incorrect(f"{shown}: lr {lr} is base_lr x world size; scale by how much the global "
                            f"batch grew ({expected_batch} / {base_batch}), not by the number of processes.")
        if math.isclose(lr, base_lr * base_batch / expected_batch, rel_tol=1e-9) and lr != expected_lr:
            raise Incorrect(f"{shown}: lr {lr} scales the wrong way: a larger global batch gets a "
                            "larger learning rate (base_lr * global_batch / base_batch).")
        expect(math.isclose(lr, expected_lr, rel_tol=1e-6), f"{shown}: lr {lr}, expected "
               f"{base_lr} x {expected_batch} / {base_batch} = {expected_lr:g}.")


# --------------------------------------------------------------------------- exercise 3

# A rank left waiting in a collective for a partner gives up after this long, and its thread ends. Every
# thread must end before the check returns: a thread still inside gloo when Python exits aborts the process.
# The collectives of a right answer are tiny and in one process: they take milliseconds.
_GROUP_TIMEOUT = timedelta(seconds=2)


def _replica(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))


@contextlib.contextmanager
def _registered(groups: list[Any]) -> Iterator[None]:
    """Make the check's groups behave as groups of a real launch for the learner's code.

    The threads have no default process group, so torch.distributed cannot look these groups up:
    dist.get_rank(group) would fail, and so would dist.broadcast / dist.reduce, which translate
    their src / dst rank through the group's table. Inside the block each group is registered with
    ranks 0..n-1 (as in a torchrun launch), and dist.get_rank(group) answers group.rank().
    """
    c10d = dist.distributed_c10d
    table = c10d._world.pg_group_ranks
    original_get_rank = dist.get_rank

    def get_rank(group: Any = None) -> int:
        return group.rank() if any(group is g for g in groups) else original_get_rank(group)

    for group in groups:
        table[group] = {rank: rank for rank in range(group.size())}
    try:
        with mock.patch.object(dist, "get_rank", get_rank), mock.patch.object(c10d, "get_rank", get_rank):
            yield
    finally:
        for group in groups:
            table.pop(group, None)


def _in_ranks(world_size: int, work: Callable[[int, Any], Any], timeout: float = 20) -> list[Any]:
    """Run work(rank, group) in `world_size` threads, each rank with its own gloo group.

    Returns each rank's result; an exception in any rank becomes Incorrect (or NotAttempted). A rank
    whose partners never join a collective gives up after _GROUP_TIMEOUT, so ranks that wait for each
    other are judged within about two seconds, and no thread is left behind inside gloo.
    """
    store = dist.HashStore()
    results: list[Any] = [None] * world_size
    errors: list[BaseException | None] = [None] * world_size
    made = threading.Barrier(world_size + 1, timeout=timeout)
    group_of: list[Any] = [None] * world_size

    def run(rank: int) -> None:
        try:
            group_of[rank] = dist.ProcessGroupGloo(dist.PrefixStore("check", store), rank, world_size,
                                                   _GROUP_TIMEOUT)
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors[rank] = error
        try:
            made.wait()   # every group exists, and is registered, before any rank runs the answer
            made.wait()
        except threading.BrokenBarrierError:
            return
        try:
            if errors[rank] is None:
                results[rank] = work(rank, group_of[rank])
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors[rank] = error

    threads = [threading.Thread(target=run, args=(rank,), daemon=True) for rank in range(world_size)]
    for thread in threads:
        thread.start()
    try:
        made.wait()
    except threading.BrokenBarrierError as error:
        raise Incorrect("the check could not set up its process groups; run the cell again.") from error
    groups = [g for g in group_of if g is not None]
    with _registered(groups):
        made.wait()
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        raise Incorrect(f"your function did not return within {timeout:g} s.")
    failed = [(rank, error) for rank, error in enumerate(errors) if error is not None]
    # A rank's own error first; a rank that timed out waiting for it comes last.
    failed.sort(key=lambda item: _timed_out(item[1]))
    for rank, error in failed:
        if _timed_out(error):
            raise Incorrect(f"with {world_size} ranks, rank {rank} waited {_GROUP_TIMEOUT.seconds} s in a "
                            "collective (all_reduce, ...) for a partner that never joined: every rank must "
                            "call the same collectives, the same number of times, in the same order.") from error
        if isinstance(error, (Incorrect, NotAttempted)):
            raise error
        if isinstance(error, NotImplementedError):
            raise _not_implemented(error) from error
        text = str(error)
        if "Default process group has not been initialized" in text:
            raise Incorrect("your function used the default process group, which the check does not have: "
                            "pass the group in every call, dist.all_reduce(..., group=group) and "
                            "dist.get_world_size(group).") from error
        if "AVG" in text:
            raise Incorrect("this version of gloo cannot all_reduce with ReduceOp.AVG: sum with "
                            "ReduceOp.SUM, then divide by dist.get_world_size(group).") from error
        first = text.strip().splitlines()[0] if text.strip() else ""
        raise Incorrect(f"in rank {rank} of {world_size} your code raised {type(error).__name__}: "
                        f"{first[:200]}") from error
    return results


def _timed_out(error: BaseException) -> bool:
    """Whether a rank's error is gloo giving up on a partner that never joined the collective."""
    text = str(error).lower()
    return isinstance(error, RuntimeError) and ("timed out" in text or "timeout" in text)


def _grads(model: nn.Module) -> list[torch.Tensor]:
    return [p.grad.detach().clone() for p in model.parameters()]


@exercise(
    "For every parameter p: dist.all_reduce(p.grad, op=dist.ReduceOp.SUM, group=group), then divide "
    "p.grad by dist.get_world_size(group).",
    "all_reduce works in place on the tensor you pass: pass p.grad itself, not a copy, and not p.",
)
def q3(average_gradients: Any) -> None:
    """average_gradients(model, group): every rank's gradients become their average over the ranks."""
    if average_gradients is Ellipsis:
        raise NotAttempted
    expect(callable(average_gradients), f"expected a function, got {describe(average_gradients)}.")
    with seeded(0):
        # 1. Known gradients: rank r holds (r + 1)**2 * base, so no rank's own equals the mean.
        base = _grads_from_one_backward()
        for world_size in (2, 3):
            replicas = [_replica() for _ in range(world_size)]  # built here: threads share one RNG
            for rank, model in enumerate(replicas):
                for p, g in zip(model.parameters(), base, strict=True):
                    p.grad = g * (rank + 1) ** 2

            def set_and_average(rank: int, group: Any, replicas: list = replicas) -> Any:
                model = replicas[rank]
                weights = [p.detach().clone() for p in model.parameters()]
                average_gradients(model, group)
                return model, weights

            results = _in_ranks(world_size, set_and_average)
            factors = [(rank + 1) ** 2 for rank in range(world_size)]
            mean_factor = sum(factors) / world_size
            for rank, (model, weights_before) in enumerate(results):
                if any(p.grad is None for p in model.parameters()):
                    raise Incorrect("after your function some p.grad is None: average the gradients in place "
                                    "(or assign p.grad a tensor); do not delete them.")
                if not all(torch.equal(p.detach(), w) for p, w in zip(model.parameters(), weights_before,
                                                                       strict=True)):
                    raise Incorrect("your function changed the weights themselves: all_reduce p.grad, "
                                    "not p (or p.data).")
                got = _grads(model)
                own = [g * factors[rank] for g in base]
                total = [g * sum(factors) for g in base]
                if all(torch.allclose(a, b) for a, b in zip(got, own, strict=True)):
                    raise Incorrect(f"with {world_size} ranks, rank {rank}'s gradients did not change: call "
                                    "dist.all_reduce on each p.grad itself (it works in place).")
                if all(torch.allclose(a, b) for a, b in zip(got, total, strict=True)):
                    raise Incorrect(f"with {world_size} ranks the gradients became the sum over the ranks: "
                                    "divide by dist.get_world_size(group) to get the average.")
                expected = [g * mean_factor for g in base]
                expect(all(torch.allclose(a, b, atol=1e-6) for a, b in zip(got, expected, strict=True)),
                       f"with {world_size} ranks, rank {rank}'s gradients are not the average of all ranks' "
                       "gradients.")
        # 2. Training: 2 ranks on half-batches must follow one process on the full batch.
        _expect_same_training(average_gradients)


def _grads_from_one_backward() -> list[torch.Tensor]:
    model = _replica()
    X = torch.randn(8, 2)
    nn.functional.mse_loss(model(X).squeeze(1), X[:, 0]).backward()
    return _grads(model)


def _expect_same_training(average_gradients: Any, steps: int = 5) -> None:
    generator = torch.Generator().manual_seed(1)
    X = torch.randn(steps, 16, 2, generator=generator)
    y = (X[..., 0] * X[..., 1] > 0).float()
    loss_fn = nn.BCEWithLogitsLoss()

    # Plain SGD steps written out: creating a torch.optim optimiser first imports torch._dynamo, which
    # costs seconds in a notebook that has not used one yet.
    def sgd_step(model: nn.Module, lr: float = 0.5) -> None:
        with torch.no_grad():
            for p in model.parameters():
                if p.grad is not None:
                    p -= lr * p.grad
                p.grad = None

    reference = _replica()
    for step in range(steps):
        loss_fn(reference(X[step]).squeeze(1), y[step]).backward()
        sgd_step(reference)

    replicas = [_replica() for _ in range(2)]  # built here: threads share one random generator

    def train(rank: int, group: Any) -> nn.Module:
        model = replicas[rank]
        for step in range(steps):
            rows = slice(8 * rank, 8 * rank + 8)  # this rank's half of the batch
            loss_fn(model(X[step, rows]).squeeze(1), y[step, rows]).backward()
            average_gradients(model, group)
            sgd_step(model)
        return model

    for model in _in_ranks(2, train):
        gap = max((p - q).abs().max().item() for p, q in zip(model.parameters(), reference.parameters(),
                                                            strict=True))
        expect(gap < 1e-5, f"after {steps} training steps on half-batches with your average, the weights are "
               f"{gap:.2g} away from one process training on the full batches; they should agree.")


# --------------------------------------------------------------------------- exercise 4


def _rows(batch: Any) -> list[int]:
    """The row numbers in one batch of the check's TensorDataset(arange(n))."""
    if isinstance(batch, (list, tuple)):
        batch = batch[0]
    if not isinstance(batch, torch.Tensor):
        raise Incorrect(f"a batch from your loader is {describe(batch)}; build a DataLoader over the dataset.")
    return batch.reshape(-1).tolist()


@exercise(
    "Two bugs: the batch size per process, and the order of the rows, which never changes from one "
    "epoch to the next.",
    "batch_size=global_batch // world_size, and call sampler.set_epoch(epoch) before returning the loader.",
)
def q4(make_loader: Any) -> None:
    """make_loader(dataset, rank, world_size, global_batch, epoch) -> this rank's DataLoader."""
    for n, world_size, global_batch in ((64, 2, 16), (48, 4, 16), (30, 3, 6)):
        dataset = TensorDataset(torch.arange(n))
        orders = []
        for epoch in range(3):
            reference = DistributedSampler(dataset, num_replicas=1, rank=0, shuffle=True, seed=0)
            reference.set_epoch(epoch)
            order = list(reference)
            global_batches = [sorted(order[i:i + global_batch]) for i in range(0, n, global_batch)]
            per_rank = []
            for rank in range(world_size):
                loader = call(make_loader, dataset, rank, world_size, global_batch, epoch)
                expect(isinstance(loader, DataLoader), f"make_loader should return a DataLoader, got "
                       f"{describe(loader)}.")
                per_rank.append([_rows(batch) for batch in loader])
            sizes = {len(b) for batches in per_rank for b in batches}
            if sizes == {global_batch}:
                raise Incorrect(f"with world_size={world_size} and global_batch={global_batch} each process "
                                f"reads {global_batch} rows per step, so one step uses "
                                f"{global_batch * world_size}: the batch size per process is "
                                "global_batch // world_size.")
            expect(sizes == {global_batch // world_size},
                   f"with world_size={world_size}, global_batch={global_batch} the batches have sizes "
                   f"{sorted(sizes)}; each should hold {global_batch // world_size} rows.")
            all_rows = sorted(r for batches in per_rank for b in batches for r in b)
            expect(all_rows == list(range(n)), f"over all {world_size} ranks one epoch should read every one "
                   f"of the {n} rows exactly once: give DistributedSampler num_replicas=world_size and "
                   "rank=rank.")
            steps = [sorted(r for batches in per_rank for r in batches[k]) for k in range(len(per_rank[0]))]
            if epoch > 0 and steps == orders[0] != global_batches:
                raise Incorrect(f"epoch {epoch} reads the rows in the same order as epoch 0: call "
                                "sampler.set_epoch(epoch), so that each epoch gets a new shuffle.")
            orders.append(steps)
            expect(steps == global_batches, "the ranks' batches of one step together should be the rows one "
                   "process would read in that step: use DistributedSampler(dataset, "
                   "num_replicas=world_size, rank=rank, shuffle=True, seed=0).")


# --------------------------------------------------------------------------- exercise 5


class _Wrapper(nn.Module):
    """A layer kept as an attribute called `module`: its names contain "module." in the middle."""

    def __init__(self) -> None:
        super().__init__()
        self.module = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)


class _Net(nn.Module):
    """Names that trip the usual shortcuts: 'head.module.weight' (str.replace) and 'embed.weight', whose
    first letters are among those str.lstrip('module.') strips; buffers (BatchNorm's running statistics,
    one of them int64) that must travel with the weights; Dropout, so that eval mode matters."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(2, 3)
        self.norm = nn.BatchNorm1d(3)
        self.drop = nn.Dropout(0.5)
        self.head = _Wrapper()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(torch.relu(self.norm(self.embed(x)))))


def _small() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Dropout(0.2), nn.Linear(4, 1))


PREFIXES = ("module.", "_orig_mod.")
WRAPPER_KEYS = ("model_state_dict", "model")

# The files the check saves, cheapest mistakes first: (model, where the state_dict is, prefix, saved on a GPU).
# None: the file holds the state_dict itself; otherwise the key of the checkpoint dict that holds it.
_FILES: tuple[tuple[Callable[[], nn.Module], str | None, str, bool], ...] = (
    (_small, None, "", False),
    (_small, None, "module.", False),
    (_small, "model_state_dict", "", False),
    (_small, "model", "_orig_mod.", False),
    (_Net, None, "module.", False),
    (_Net, "model_state_dict", "module._orig_mod.", True),
    (_Net, "model", "_orig_mod.module.", False),
    (_small, None, "", True),
)


@contextlib.contextmanager
def _recording_loads() -> Iterator[list[tuple[list[str], bool]]]:
    """Record the names and the strict flag of every load_state_dict call made inside the block."""
    calls: list[tuple[list[str], bool]] = []
    original = nn.Module.load_state_dict

    def recording(self: nn.Module, state_dict: Mapping[str, Any], strict: bool = True, *args: Any,
                  **kwargs: Any) -> Any:
        with contextlib.suppress(Exception):
            calls.append((list(state_dict), bool(strict)))
        return original(self, state_dict, strict, *args, **kwargs)

    with mock.patch.object(nn.Module, "load_state_dict", recording):
        yield calls


@contextlib.contextmanager
def _folder() -> Iterator[Path]:
    with torch.random.fork_rng(devices=[]), tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def _save(content: Any, path: Path, on_gpu: bool) -> None:
    """torch.save; with on_gpu, every tensor is recorded as stored on 'cuda:0', as a GPU run writes it
    (loading it without saying where to put the tensors fails on a machine without a GPU)."""
    if on_gpu:
        with mock.patch.object(torch.serialization, "location_tag", lambda storage: "cuda:0"):
            torch.save(content, path)
    else:
        torch.save(content, path)


def _same(model: nn.Module, state: Mapping[str, torch.Tensor]) -> bool:
    own = model.state_dict()
    return set(own) == set(state) and all(own[k].shape == state[k].shape and torch.equal(own[k].cpu(), state[k])
                                          for k in own)


def _trained(make: Callable[[], nn.Module], seed: int) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """A state_dict unlike a fresh model's (buffers included), and an optimizer's state_dict beside it."""
    torch.manual_seed(seed)
    model = make()
    for buffer in model.buffers():
        if buffer.is_floating_point():
            buffer.uniform_(0.5, 1.5)
        else:
            buffer.fill_(7 + seed)
    # What SGD(momentum=0.9).state_dict() holds, written out: building an optimizer would import
    # torch._dynamo, seconds the first time.
    parameters = list(model.parameters())
    optimizer_state = {"state": {i: {"momentum_buffer": torch.randn_like(p)} for i, p in enumerate(parameters)},
                       "param_groups": [{"lr": 0.1, "momentum": 0.9, "dampening": 0, "weight_decay": 0,
                                         "nesterov": False, "params": list(range(len(parameters)))}]}
    return {k: v.detach().clone() for k, v in model.state_dict().items()}, optimizer_state


def _describe_file(key: str | None, prefix: str, on_gpu: bool) -> str:
    held = "that holds the state_dict itself" if key is None else f"whose dict holds the state_dict under '{key}'"
    names = f"names starting with '{prefix}'" if prefix else "names without a prefix"
    return f"for a file {held}, {names}{', saved on a GPU' if on_gpu else ''}"


def _diagnose(names: list[str], expected: list[str], saved: list[str], file_keys: list[str],
              optimizer_keys: list[str], what: str) -> str | None:
    """Why the names given to load_state_dict do not fit the model, where the names prove it."""
    given, wanted = set(names), set(expected)
    if given == wanted:
        return None
    if given and given <= set(file_keys):
        return (f"{what}, you passed load_state_dict the whole checkpoint dict (its keys "
                f"{describe(sorted(given))}); the model's state_dict is the dict under one of its keys.")
    if given and given == set(optimizer_keys):
        return (f"{what}, you passed load_state_dict the optimizer's state_dict (keys 'state', 'param_groups'), "
                "not the model's: look the state_dict up by its key.")
    stripped = set("module._orig_mod.")
    for name in sorted(given - wanted):
        for full in expected:
            if full != name and full.endswith(name) and set(full[:len(full) - len(name)]) <= stripped:
                return (f"{what}, some names lost letters at the start ('{full}' became '{name}'). "
                        "str.lstrip('module.') removes any of the characters m, o, d, u, l, e and '.' from the "
                        "start, not the word (str.lstrip('_orig_mod.') likewise): remove a prefix with "
                        "str.removeprefix.")
    for name in sorted(given - wanted):
        for prefix in PREFIXES:
            if name.startswith(prefix):
                return (f"{what}, the names you gave load_state_dict still start with '{prefix}' (such as "
                        f"{describe(name)}), the model's do not. A name may carry both prefixes, one after "
                        "the other, in either order.")
    damaged = [e for e in expected if ".module." in e and e.replace("module.", "") in given]
    if damaged:
        return (f"{what}, this model has a layer stored as an attribute named `module`, so its own names "
                f"contain '{damaged[0]}'. Remove a prefix only at the *start* of a name (str.removeprefix), "
                "not everywhere (str.replace).")
    extra = sorted(given - wanted)
    if extra and any(e.endswith(x) or x.endswith(e) for x in extra for e in expected):
        return (f"{what}, the names you gave load_state_dict (such as {describe(extra[0])}) do not match the "
                f"model's (such as {describe(expected[0])}).")
    return None


@exercise(
    "Three things vary between the files: where the state_dict sits (the file itself, or a dict under "
    "'model_state_dict' or 'model'), which prefixes its names carry, and the device it was saved on. Handle "
    "them one at a time, and print the keys of what torch.load returns to see which case you have.",
    "torch.load(path, map_location=device, weights_only=True) puts every tensor on `device` whatever it was "
    "saved on. A dict is a checkpoint if it has one of the two keys. Remove prefixes in a loop: while a name "
    "starts with 'module.' or '_orig_mod.', name = name.removeprefix(...).",
    "checkpoint = torch.load(path, map_location=device, weights_only=True); state = checkpoint.get("
    "'model_state_dict', checkpoint.get('model', checkpoint)); clean each name as above; "
    "model.load_state_dict(clean); return model.to(device).eval()",
)
def q5(load_checkpoint: Any) -> None:
    """load_checkpoint(model, path, device): any of several checkpoint formats -> the model on device, eval."""
    if not callable(load_checkpoint):
        raise Incorrect(f"expected a function, got {describe(load_checkpoint)}.")
    devices: list[Any] = ["cpu", torch.device("cpu")]
    if torch.cuda.is_available():
        devices += ["cuda", torch.device("cuda", 0)]
    placed: str | None = None
    with _folder() as folder:
        for number, (make, key, prefix, on_gpu) in enumerate(_FILES):
            trained, optimizer_state = _trained(make, number)
            saved = {prefix + k: v for k, v in trained.items()}
            if key is None:
                content: dict[str, Any] = saved
            else:  # the optimizer's state_dict comes first: "the first dict in the file" is the wrong one
                content = {"epoch": 12 + number, "optimizer_state_dict": optimizer_state, key: saved,
                           "train_seconds": 1.5}
            path = folder / f"checkpoint_{number}.pt"
            _save(content, path, on_gpu)
            device = devices[number % len(devices)]
            torch.manual_seed(100 + number)
            fresh = make().train()
            before = {k: v.clone() for k, v in fresh.state_dict().items()}
            expected = list(before)
            what = _describe_file(key, prefix, on_gpu)
            diagnose = functools.partial(_diagnose, expected=expected, saved=list(saved),
                                         file_keys=list(content) if key is not None else [],
                                         optimizer_keys=list(optimizer_state), what=what)
            with _recording_loads() as loads:
                result = _call_loader(load_checkpoint, fresh, path if number % 2 else str(path), device, what,
                                      on_gpu, loads, diagnose)
            expect(result is not None, "load_checkpoint returned None: return the model after loading.")
            if isinstance(result, tuple) and hasattr(result, "missing_keys"):
                raise Incorrect("load_checkpoint returned what load_state_dict returns (a report of keys); "
                                "return the model itself.")
            result = expect_module(result, "the value load_checkpoint returned")
            if _same(result, before):
                if not loads:
                    raise Incorrect(f"{what}, the model's weights did not change: load_checkpoint never "
                                    "called load_state_dict.")
                cause = diagnose(loads[-1][0])
                if any(not strict for _, strict in loads):
                    skipped = ("With strict=False, load_state_dict silently skipped every name that did not "
                               "match: make the names match instead.")
                    raise Incorrect(f"{cause} {skipped}" if cause else
                                    f"{what}, the model's weights did not change. {skipped}")
                raise Incorrect(cause or f"{what}, the model's weights did not change.")
            if not _same(result, trained):
                cause = diagnose(loads[-1][0]) if loads else None
                raise Incorrect(cause or f"{what}, the loaded weights are not the saved ones.")
            placed = placed or _placement(result, device, what)
        if placed:  # every file loaded the right weights; now where and how the model was returned
            raise Incorrect(placed)


def _placement(model: nn.Module, device: Any, what: str) -> str | None:
    """What is wrong with where the loaded model is, or with its mode (None: nothing)."""
    target = torch.device(device)
    for name, tensor in model.state_dict().items():
        if tensor.device.type != target.type or (target.index is not None and tensor.device.index != target.index):
            return (f"{what}, with device={describe(device)}, '{name}' ended on {tensor.device}: the returned "
                    "model's weights and buffers must all be on `device`.")
    still = [name or "the model itself" for name, m in model.named_modules() if m.training]
    if still:
        return (f"{what}, the returned model is in training mode ({describe(still[0])}): layers such as "
                "Dropout and BatchNorm still behave as they do in training. Return it ready to predict.")
    return None


def _call_loader(load_checkpoint: Any, model: nn.Module, path: Path | str, device: Any, what: str, on_gpu: bool,
                 loads: list[tuple[list[str], bool]], diagnose: Callable[[list[str]], str | None]) -> Any:
    """Call the learner's loader, turning the errors it raises into targeted hints."""
    try:
        return load_checkpoint(model, path, device)
    except NotImplementedError as error:
        raise _not_implemented(error) from error
    except Exception as error:
        text = str(error).strip()
        if (isinstance(error, RuntimeError) and "on a CUDA device" in text and on_gpu
                and not torch.cuda.is_available()):
            raise Incorrect(f"{what}: torch.load tried to put its tensors back on the GPU they were saved on, "
                            "and this machine has none. Tell torch.load where to put them (map_location=, "
                            "lesson 06).") from error
        if isinstance(error, RuntimeError) and ("Unexpected key(s)" in text or "Missing key(s)" in text) and loads:
            cause = diagnose(loads[-1][0])
            if cause:
                raise Incorrect(cause) from error
        first = text.splitlines()[0] if text else ""
        raise Incorrect(f"{what}, your code raised {type(error).__name__}: {first[:200]} (called with "
                        f"device={describe(device)})") from error


# --------------------------------------------------------------------------- exercise 6


def _held_back_spirals() -> tuple[torch.Tensor, torch.Tensor]:
    from helpers.data import make_spirals

    X, y = make_spirals(n_per_class=200, seed=2024)  # not the seed the exercise trains on
    return torch.from_numpy(X), torch.from_numpy(y)


MIN_ACCURACY = 0.9


@exercise(
    "In the script: DistributedSampler + set_epoch, batch size = global batch // world size, DDP(model), "
    "and on rank 0 only: torch.save(model.module.state_dict(), path).",
    "make_classifier() must build exactly the architecture the script trained (same layers, same sizes), "
    "ending in 3 logits.",
)
def q6(make_classifier: Any, checkpoint_path: Any) -> None:
    """Load the checkpoint into make_classifier() and score it on spirals the check holds back."""
    if checkpoint_path is Ellipsis:
        raise NotAttempted
    expect(isinstance(checkpoint_path, (str, Path)), f"checkpoint_path should be the path of the saved file (a "
           f"str or a Path), but it is {describe(checkpoint_path)}.")
    path = Path(checkpoint_path)
    expect(path.is_file(), f"there is no file at checkpoint_path ({path.name}): did the launch finish, and "
           "does rank 0 save to the path you pass to the check?")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise Incorrect("the checkpoint holds objects, not just tensors (torch.load with weights_only=True "
                        "refuses it): save model.module.state_dict(), not the model.") from error
    if isinstance(state, Mapping) and any(isinstance(v, Mapping) for v in state.values()):
        inner = [k for k, v in state.items() if isinstance(v, Mapping)]
        raise Incorrect(f"the checkpoint is a dict around the state_dict (its key(s) {describe(list(state))}, "
                        f"with a dict under {describe(inner[0])}), as in the lesson; this exercise asks for the "
                        "state_dict itself: torch.save(model.module.state_dict(), path).")
    expect(isinstance(state, Mapping) and state and all(isinstance(v, torch.Tensor) for v in state.values()),
           f"the checkpoint should hold a state_dict (names -> tensors); it holds {describe(state)}.")
    if all(k.startswith("module.") for k in state):
        raise Incorrect("the checkpoint's names start with 'module.': rank 0 saved the DDP wrapper's "
                        "state_dict. Save model.module.state_dict() instead.")
    with seeded(0):
        model = expect_module(call(make_classifier), "make_classifier()")
        try:
            model.load_state_dict(state)
        except RuntimeError as error:
            first = str(error).strip().splitlines()[1].strip() if "\n" in str(error) else str(error)
            raise Incorrect("the checkpoint does not fit make_classifier(): build the same layers the script "
                            f"trained. PyTorch says: {first}") from error
        X, y = _held_back_spirals()
        model.eval()
        with torch.inference_mode():
            logits = model(X)
        expect(isinstance(logits, torch.Tensor) and tuple(logits.shape) == (len(X), 3),
               f"the model should give 3 logits per point, shape ({len(X)}, 3); got {describe(logits)}.")
        accuracy = (logits.argmax(dim=1) == y).float().mean().item()
    expect(accuracy >= MIN_ACCURACY, f"accuracy on the check's held-back spirals is {accuracy:.3f}; it should "
           f"be at least {MIN_ACCURACY}. Train longer, or with a larger model or learning rate.")
