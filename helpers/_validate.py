"""Input checks shared by the helpers: each error names the problem and the fix."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


def ensure_module(model: Any, name: str = "model") -> nn.Module:
    """Return ``model`` if it is an ``nn.Module`` instance, else raise a TypeError with the fix."""
    if isinstance(model, nn.Module):
        return model
    if isinstance(model, type) and issubclass(model, nn.Module):
        raise TypeError(
            f"{name} is the class {model.__name__}, not a model: create one first, "
            f"e.g. {name} = {model.__name__}(...), and pass that."
        )
    raise TypeError(
        f"{name} must be a torch.nn.Module (got {type(model).__name__}). "
        "Subclass nn.Module (or use nn.Sequential) and pass an instance."
    )


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (CPU for a model with neither)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def resolve_device(model: nn.Module, device: str | torch.device | None) -> torch.device:
    """Return the device to compute on, checking that the model lives there."""
    here = model_device(model)
    if device is None:
        return here
    wanted = torch.device(device)
    same = wanted.type == here.type and (wanted.index is None or wanted.index == here.index)
    if not same:
        raise ValueError(
            f"the model is on '{here}' but device='{wanted}' was asked for: "
            f"move it first with model.to('{wanted}'), or leave device unset to use the model's."
        )
    return here


def as_tensor(x: Any, name: str) -> torch.Tensor:
    """Turn a NumPy array (or a tensor) into a tensor; anything else is a TypeError."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x)
    raise TypeError(
        f"{name} must be a torch.Tensor or a NumPy array (got {type(x).__name__}); "
        f"convert it with torch.tensor({name})."
    )
