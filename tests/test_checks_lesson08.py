"""Lesson 08 checks: several correct answers pass, typical mistakes fail with their hint."""

import numpy as np
import pytest
import torch
import torch.distributed as dist
from checkcases import args, assert_complete, cases, lazy, verify
from torch import nn
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

from helpers.checks import lesson08
from helpers.data import make_spirals


def not_implemented(*_):
    raise NotImplementedError("Write your code here")


# ---- q1: per_process_batch
def split_floor(global_batch, world_size):
    if global_batch % world_size:
        raise ValueError(f"{global_batch} rows do not split over {world_size} processes")
    return global_batch // world_size


def split_divmod(global_batch, world_size):
    per_process, rest = divmod(global_batch, world_size)
    if rest != 0:
        raise ValueError("uneven shards")
    return per_process


def split_true_division(global_batch, world_size):  # a float: DataLoader wants an int
    if global_batch % world_size:
        raise ValueError("uneven")
    return global_batch / world_size


def split_without_check(global_batch, world_size):  # silently drops rows
    return global_batch // world_size


def split_multiplied(global_batch, world_size):
    return global_batch * world_size


def split_wrong_error(global_batch, world_size):
    assert global_batch % world_size == 0
    return global_batch // world_size


def split_not_implemented(global_batch, world_size):  # an attempt that raises NotImplementedError itself
    if global_batch % world_size:
        raise NotImplementedError("uneven shards are not supported")
    return global_batch // world_size


# ---- q2: scale_up
def scale_linear(base_batch, base_lr, per_process_batch, world_size):
    global_batch = per_process_batch * world_size
    return global_batch, base_lr * global_batch / base_batch


def scale_as_list(base_batch, base_lr, per_process_batch, world_size):
    factor = per_process_batch * world_size / base_batch
    return [per_process_batch * world_size, base_lr * factor]


def scale_by_world_size(base_batch, base_lr, per_process_batch, world_size):
    return per_process_batch * world_size, base_lr * world_size


def scale_inverse(base_batch, base_lr, per_process_batch, world_size):
    global_batch = per_process_batch * world_size
    return global_batch, base_lr * base_batch / global_batch


def scale_forgets_world(base_batch, base_lr, per_process_batch, world_size):
    return per_process_batch, base_lr * per_process_batch / base_batch


def scale_numpy(base_batch, base_lr, per_process_batch, world_size):  # NumPy numbers are numbers
    global_batch = np.int64(per_process_batch) * world_size
    return global_batch, np.float32(base_lr) * global_batch / base_batch


def scale_tensor_lr(base_batch, base_lr, per_process_batch, world_size):
    global_batch = per_process_batch * world_size
    return global_batch, torch.tensor(base_lr * global_batch / base_batch, dtype=torch.float64)


def scale_sqrt(base_batch, base_lr, per_process_batch, world_size):  # another rule, not the linear one
    global_batch = per_process_batch * world_size
    return global_batch, base_lr * (global_batch / base_batch) ** 0.5


# ---- q3: average_gradients
def average_sum_then_divide(model, group=None):
    world_size = dist.get_world_size(group)
    for p in model.parameters():
        dist.all_reduce(p.grad, op=dist.ReduceOp.SUM, group=group)
        p.grad /= world_size


def average_flattened(model, group=None):  # one all_reduce for all gradients, as DDP's buckets do
    grads = [p.grad for p in model.parameters()]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat, group=group)
    flat /= dist.get_world_size(group)
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def average_forgets_division(model, group=None):
    for p in model.parameters():
        dist.all_reduce(p.grad, group=group)


def average_on_a_copy(model, group=None):
    for p in model.parameters():
        grad = p.grad.clone()
        dist.all_reduce(grad, group=group)
        grad /= dist.get_world_size(group)


def average_with_default_group(model, group=None):
    for p in model.parameters():
        dist.all_reduce(p.grad)
        p.grad /= dist.get_world_size()


def average_reduce_then_broadcast(model, group=None):  # rank 0 averages, then sends: right too
    world_size = dist.get_world_size(group)
    for p in model.parameters():
        dist.reduce(p.grad, dst=0, group=group)
        if dist.get_rank(group) == 0:
            p.grad /= world_size
        dist.broadcast(p.grad, src=0, group=group)


def average_by_rank_zero_only(model, group=None):  # only rank 0 reduces: the others never join
    if dist.get_rank(group) == 0:
        for p in model.parameters():
            dist.all_reduce(p.grad, group=group)


def average_one_rank_fails(model, group=None):
    if dist.get_rank(group) == 1:
        raise RuntimeError("rank 1 gave up")
    for p in model.parameters():
        dist.all_reduce(p.grad, group=group)


def average_not_implemented(model, group=None):  # an attempt, not the placeholder
    raise NotImplementedError("sparse gradients are not handled yet")


def average_divides_by_two(model, group=None):  # right for 2 ranks only
    for p in model.parameters():
        dist.all_reduce(p.grad, group=group)
        p.grad /= 2


# ---- q4: make_loader
def loader_fixed(dataset, rank, world_size, global_batch, epoch):
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=0)
    sampler.set_epoch(epoch)
    return DataLoader(dataset, batch_size=global_batch // world_size, sampler=sampler)


def loader_fixed_other_order(dataset, rank, world_size, global_batch, epoch):
    per_process = global_batch // world_size
    sampler = DistributedSampler(dataset, world_size, rank, shuffle=True, seed=0, drop_last=False)
    loader = DataLoader(dataset, per_process, sampler=sampler, num_workers=0)
    sampler.set_epoch(epoch)  # before iterating is what matters
    return loader


def loader_broken(dataset, rank, world_size, global_batch, epoch):  # the exercise's starting point
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=0)
    return DataLoader(dataset, batch_size=global_batch, sampler=sampler)


def loader_no_set_epoch(dataset, rank, world_size, global_batch, epoch):
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=0)
    return DataLoader(dataset, batch_size=global_batch // world_size, sampler=sampler)


def loader_every_rank_same(dataset, rank, world_size, global_batch, epoch):  # rank ignored
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=0, shuffle=True, seed=0)
    sampler.set_epoch(epoch)
    return DataLoader(dataset, batch_size=global_batch // world_size, sampler=sampler)


# ---- q5: load_checkpoint(model, path, device)
PREFIXES = ("module.", "_orig_mod.")


def state_of(checkpoint):
    for key in ("model_state_dict", "model"):
        if key in checkpoint:
            return checkpoint[key]
    return checkpoint


def clean_loop(state):
    clean = {}
    for name, tensor in state.items():
        while name.startswith(PREFIXES):
            name = name.removeprefix("module.").removeprefix("_orig_mod.")
        clean[name] = tensor
    return clean


def load_loop(model, path, device):  # the worked answer
    state = state_of(torch.load(path, map_location=device, weights_only=True))
    model.load_state_dict(clean_loop(state))
    return model.to(device).eval()


def load_cpu_then_move(model, path, device):  # load on the CPU, move afterwards; consume_prefix in place
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    state = dict(checkpoint.get("model_state_dict", checkpoint.get("model", checkpoint)))
    for _ in range(2):
        for prefix in PREFIXES:
            consume_prefix_in_state_dict_if_present(state, prefix)
    model.load_state_dict(state)
    model.eval()
    model.to(torch.device(device))
    return model


def load_regex(model, path, device):
    import re
    checkpoint = torch.load(str(path), map_location=torch.device(device), weights_only=True)
    if any(isinstance(v, dict) for v in checkpoint.values()):
        checkpoint = checkpoint["model_state_dict"] if "model_state_dict" in checkpoint else checkpoint["model"]
    model.to(device).train(False)
    model.load_state_dict({re.sub(r"^(module\.|_orig_mod\.)+", "", k): v for k, v in checkpoint.items()})
    return model


def load_new_model(model, path, device):  # returns a deep copy: another module, same weights, also fine
    import copy
    twin = copy.deepcopy(model)
    twin.load_state_dict(clean_loop(state_of(torch.load(path, map_location="cpu", weights_only=True))))
    return twin.to(device).eval()


def load_lesson_cell(model, path, device):  # lesson 08's cell, wrapped in a function
    state = torch.load(path, weights_only=True)
    model.load_state_dict({k.removeprefix("module."): v for k, v in state.items()})
    return model


def load_unchanged(model, path, device):  # the exercise's starting point
    model.load_state_dict(torch.load(path, weights_only=True))
    return model


def load_module_prefix_only(model, path, device):
    state = state_of(torch.load(path, map_location=device, weights_only=True))
    model.load_state_dict({k.removeprefix("module."): v for k, v in state.items()})
    return model.to(device).eval()


def load_prefixes_once(model, path, device):  # one fixed order: misses "_orig_mod.module."
    state = state_of(torch.load(path, map_location=device, weights_only=True))
    model.load_state_dict({k.removeprefix("module.").removeprefix("_orig_mod."): v for k, v in state.items()})
    return model.to(device).eval()


def load_replace_everywhere(model, path, device):
    state = state_of(torch.load(path, map_location=device, weights_only=True))
    model.load_state_dict({k.replace("module.", "").replace("_orig_mod.", ""): v for k, v in state.items()})
    return model.to(device).eval()


def load_lstrip(model, path, device):  # lstrip removes letters, not a prefix
    state = state_of(torch.load(path, map_location=device, weights_only=True))
    model.load_state_dict({k.lstrip("module.").lstrip("_orig_mod."): v  # noqa: B005 (the mistake)
                           for k, v in state.items()})
    return model.to(device).eval()


def load_first_dict(model, path, device):  # "the dict inside the checkpoint": the optimizer's comes first
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    inner = [v for v in checkpoint.values() if isinstance(v, dict)]
    model.load_state_dict(clean_loop(inner[0] if inner else checkpoint))
    return model.to(device).eval()


def load_only_model_state_dict_key(model, path, device):
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    if any(isinstance(v, dict) for v in checkpoint.values()):
        checkpoint = checkpoint["model_state_dict"]
    model.load_state_dict(clean_loop(checkpoint))
    return model.to(device).eval()


def load_no_map_location(model, path, device):
    model.load_state_dict(clean_loop(state_of(torch.load(path, weights_only=True))))
    return model.to(device).eval()


def load_no_eval(model, path, device):
    model.load_state_dict(clean_loop(state_of(torch.load(path, map_location=device, weights_only=True))))
    return model.to(device)


def load_top_only_eval(model, path, device):  # sets the flag on the top module only
    model.load_state_dict(clean_loop(state_of(torch.load(path, map_location=device, weights_only=True))))
    model.training = False
    return model.to(device)


def load_not_strict(model, path, device):
    state = state_of(torch.load(path, map_location=device, weights_only=True))
    model.load_state_dict(state, strict=False)
    return model.to(device).eval()


def load_noop(model, path, device):  # returns the model untouched
    return model.eval()


def load_returns_report(model, path, device):
    return model.load_state_dict(clean_loop(state_of(torch.load(path, map_location=device, weights_only=True))))


def load_returns_huge(model, path, device):
    return list(range(10 ** 6))


def load_always_cuda(model, path, device):  # ignores `device`
    model.load_state_dict(clean_loop(state_of(torch.load(path, map_location="cuda", weights_only=True))))
    return model.to("cuda").eval()


def load_then_nudge(model, path, device):  # right names, wrong values
    model.load_state_dict(clean_loop(state_of(torch.load(path, map_location=device, weights_only=True))))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1e-3)
    return model.to(device).eval()


def load_not_implemented(model, path, device):
    raise NotImplementedError("old checkpoints")


Q5_CORRECT = [load_loop, load_cpu_then_move, load_regex, load_new_model]
Q5_WRONG = [
    (load_lesson_cell, "whole checkpoint dict"),
    (load_unchanged, "still start with 'module.'"),
    (load_module_prefix_only, "still start with '_orig_mod.'"),
    (load_prefixes_once, "in either order"),
    (load_replace_everywhere, "str.removeprefix"),
    (load_lstrip, "str.lstrip('module.') removes any of the characters"),
    (load_first_dict, "the optimizer's state_dict"),
    (load_only_model_state_dict_key, "KeyError: 'model_state_dict'"),
    (load_no_eval, "training mode ('the model itself'): layers such as Dropout"),
    (load_top_only_eval, "training mode ('0')"),
    (load_not_strict, "strict=False"),
    (load_noop, "never called load_state_dict"),
    (load_then_nudge, "the loaded weights are not the saved ones"),
    (load_returns_report, "a report of keys"),
    (load_returns_huge, "should be a torch.nn.Module, but it is a list of 1000000"),
    (load_not_implemented, "NotImplementedError (old checkpoints"),
]
if torch.cuda.is_available():  # the GPU the files were saved on exists: loading without map_location works
    Q5_CORRECT.append(load_no_map_location)
else:
    Q5_WRONG += [(load_no_map_location, "map_location="), (load_always_cuda, "your code raised")]


# ---- q6: make_classifier, checkpoint_path (trained here in one process: the check only sees the file)
def spirals_model(hidden=64):
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, 3))


def trained_spirals(tmp_path, name, hidden=64, epochs=20, prefix="", steps_only=None):
    X, y = (torch.from_numpy(a) for a in make_spirals(300, seed=42))
    torch.manual_seed(0)
    model = spirals_model(hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    loss_fn = nn.CrossEntropyLoss()
    steps = 0
    for _ in range(epochs):
        for idx in torch.randperm(len(X)).split(64):
            if steps_only is not None and steps >= steps_only:
                break
            optimizer.zero_grad()
            loss_fn(model(X[idx]), y[idx]).backward()
            optimizer.step()
            steps += 1
    path = tmp_path / name
    torch.save({prefix + k: v for k, v in model.state_dict().items()}, path)
    return path


def wrapped_checkpoint(folder):  # the lesson's format: a dict around the state_dict
    path = folder / "wrapped.pt"
    torch.save({"model": spirals_model().state_dict(), "epoch": 3}, path)
    return path


@pytest.fixture(scope="module")
def spirals_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spirals")
    with torch.random.fork_rng(devices=[]):
        return {
            "good": trained_spirals(folder, "good.pt"),
            "good_small": trained_spirals(folder, "small.pt", hidden=48, epochs=25),
            "prefixed": trained_spirals(folder, "prefixed.pt", prefix="module."),
            "untrained": trained_spirals(folder, "untrained.pt", steps_only=3),
            "wrapped": wrapped_checkpoint(folder),
        }


FILES = {}


def spirals(name):
    return lazy(lambda: FILES[name])


CASES = {
    "q1": {
        "correct": [split_floor, split_divmod],
        "wrong": [
            (split_true_division, "use // instead of /"),
            (split_without_check, "raise a ValueError"),
            (split_multiplied, "divide"),
            (split_wrong_error, "raised AssertionError"),
            (split_not_implemented, "raised NotImplementedError"),   # not "Not attempted"
            (lambda global_batch, world_size: 10 ** 400, "rows each"),      # a huge number, described briefly
        ],
    },
    "q2": {
        "correct": [scale_linear, scale_as_list, scale_numpy, scale_tensor_lr],
        "wrong": [
            (scale_by_world_size, "not by the number of processes"),
            (scale_inverse, "scales the wrong way"),
            (scale_forgets_world, "is one process's batch"),
            (scale_sqrt, "expected 0.1 x 256 / 32 = 0.8"),
        ],
    },
    "q3": {
        "correct": [average_sum_then_divide, average_flattened, average_reduce_then_broadcast],
        "wrong": [
            (average_forgets_division, "became the sum"),
            (average_on_a_copy, "did not change"),
            (average_with_default_group, "pass the group"),
            (average_by_rank_zero_only, "for a partner that never joined"),
            (average_one_rank_fails, "in rank 1 of 2 your code raised RuntimeError: rank 1 gave up"),
            (average_not_implemented, "NotImplementedError (sparse gradients"),
            (average_divides_by_two, "with 3 ranks"),
        ],
    },
    "q4": {
        "correct": [loader_fixed, loader_fixed_other_order],
        "wrong": [
            (loader_broken, "global_batch // world_size"),
            (loader_no_set_epoch, "set_epoch"),
            (loader_every_rank_same, "exactly once"),
        ],
    },
    "q5": {"correct": Q5_CORRECT, "wrong": Q5_WRONG},
    "q6": {
        "correct": [
            lazy(lambda: args(spirals_model, FILES["good"])),
            lazy(lambda: args(lambda: spirals_model(48), FILES["good_small"])),
        ],
        "wrong": [
            (lazy(lambda: args(spirals_model, FILES["prefixed"])), "model.module.state_dict()"),
            (lazy(lambda: args(lambda: spirals_model(32), FILES["good"])), "does not fit"),
            (lazy(lambda: args(spirals_model, FILES["untrained"])), "held-back"),
            (lazy(lambda: args(spirals_model, "no_such_file.pt")), "no file"),
            (lazy(lambda: args(spirals_model, FILES["wrapped"])), "a dict around the state_dict"),
            (lazy(lambda: args(spirals_model, None)), "the path of the saved file"),
        ],
        "placeholder": args(spirals_model, ...),
    },
}


def test_table_is_complete():
    assert_complete(lesson08, CASES)


@pytest.mark.parametrize(("name", "answer", "status", "hint"), cases(lesson08, CASES))
def test_check(name, answer, status, hint, spirals_files):
    FILES.update(spirals_files)
    verify(lesson08, name, answer, status, hint)


def test_a_huge_number_is_described_briefly():
    outcome = lesson08.q1.evaluate(lambda global_batch, world_size: 10 ** 400)
    assert outcome.status == "incorrect" and len(outcome.message) < 300


def test_a_deadlock_is_judged_quickly():
    """Ranks that wait for each other are reported after gloo's 2 s timeout, not after 20 s."""
    import time
    start = time.perf_counter()
    outcome = lesson08.q3.evaluate(average_by_rank_zero_only)
    assert outcome.status == "incorrect" and time.perf_counter() - start < 6


def test_q3_leaves_no_rank_behind():
    """A thread still inside gloo when Python exits aborts the process (exit code 134): the check waits
    for every rank, however the answer failed."""
    import threading
    for answer in (average_by_rank_zero_only, average_one_rank_fails):
        before = threading.active_count()
        lesson08.q3.evaluate(answer)
        assert threading.active_count() == before


def test_q3_leaves_torch_distributed_as_it_was():
    lesson08.q3.evaluate(average_reduce_then_broadcast)
    assert dist.get_rank is dist.distributed_c10d.get_rank
    assert not dist.is_initialized()
    assert not any(isinstance(g, dist.ProcessGroupGloo)
                   for g in dist.distributed_c10d._world.pg_group_ranks)


def test_q5_leaves_torch_save_and_the_random_state_as_they_were():
    import torch.serialization
    tag = torch.serialization.location_tag
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    assert lesson08.q5.evaluate(load_loop).status == "correct"
    assert torch.equal(torch.rand(3), expected)
    assert torch.serialization.location_tag is tag


def test_placeholders_of_the_exercise_notebook():
    for name in ("q1", "q2", "q3", "q4", "q5"):
        assert getattr(lesson08, name).evaluate(not_implemented).status == "not attempted"
    assert lesson08.q6.evaluate(..., ...).status == "not attempted"
