"""helpers.device: device choice, seeding and the environment report."""

import random

import numpy as np
import pytest
import torch

from helpers.device import environment_report, get_device, set_seed


def test_get_device_names_an_available_device():
    device = get_device()
    assert device in {"cuda", "mps", "cpu"}
    torch.zeros(1, device=device)  # usable as it is
    if not torch.cuda.is_available():
        assert device != "cuda"


def test_set_seed_makes_random_numpy_and_torch_repeat():
    set_seed(7)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    set_seed(7)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def test_set_seed_deterministic_option():
    try:
        set_seed(0, deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(False)


@pytest.mark.parametrize("bad", ["42", 4.2, True])
def test_set_seed_rejects_non_int(bad):
    with pytest.raises(TypeError, match="seed must be an int"):
        set_seed(bad)


def test_environment_report_names_python_torch_and_device(capsys):
    environment_report()
    report = capsys.readouterr().out
    assert "Python" in report and torch.__version__ in report and get_device() in report
    assert report.count("\n") == 1, "one line, easy to paste into a question"
