"""Data sets shipped with the course, and two small generators.

Files are found relative to this package, so every loader works from any
working directory (a notebook in ``notebooks/``, a test, or Colab).

Example:
    >>> from helpers.data import load_mtcars
    >>> load_mtcars().shape
    (32, 12)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
"""The folder ``data/`` at the root of the repository."""


def _read_csv(name: str) -> pd.DataFrame:
    path = DATA_DIR / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing. The course's data files live in data/ next to helpers/: "
            "run from a full clone of the repository (in Colab, run the set-up cell first)."
        )
    return pd.read_csv(path)


def load_mtcars() -> pd.DataFrame:
    """Return the 1974 Motor Trend car road tests table (32 cars, 12 columns).

    Columns: ``model`` (the car's name) and the 11 numeric columns ``mpg``,
    ``cyl``, ``disp``, ``hp``, ``drat``, ``wt`` (1000 lb), ``qsec``, ``vs``,
    ``am``, ``gear``, ``carb``. See ``data/README.md`` for their meanings.

    Example:
        >>> cars = load_mtcars()
        >>> float(cars["mpg"].mean().round(2))
        20.09
    """
    return _read_csv("mtcars.csv")


def load_crop_yields(regions: int = 5) -> pd.DataFrame:
    """Return the toy crop-yields table with 5 or 15 regions.

    Inputs: ``temp_f`` (degrees Fahrenheit), ``rainfall_mm``, ``humidity_pct``.
    Targets: ``apples_t_ha`` and ``oranges_t_ha`` (tonnes per hectare).

    Args:
        regions: 5 (the small table of lesson 01) or 15 (lesson 03).

    Example:
        >>> load_crop_yields(15).shape
        (15, 6)
    """
    if regions not in (5, 15):
        raise ValueError(f"regions must be 5 or 15, got {regions!r}")
    return _read_csv(f"crop_yields_{regions}.csv")


CROP_INPUTS = ["temp_f", "rainfall_mm", "humidity_pct"]
"""Input columns of the crop-yields tables."""
CROP_TARGETS = ["apples_t_ha", "oranges_t_ha"]
"""Target columns of the crop-yields tables."""


def make_linear_data(
    n: int = 20,
    slope: float = 0.5,
    intercept: float = -1.0,
    noise: float = 1.0,
    low: float = -5.0,
    high: float = 5.0,
    seed: int = 42,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Make noisy points on a known line: ``y = slope * x + intercept + N(0, noise**2)``.

    The same recipe as lesson 01, so lesson 02 can recreate its data in one line.

    Returns:
        ``(x, y)``, each a float32 tensor of shape ``(n, 1)``.

    Example:
        >>> x, y = make_linear_data()
        >>> x.shape, y.dtype
        (torch.Size([20, 1]), torch.float32)
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not low < high:
        raise ValueError(f"low must be smaller than high, got low={low}, high={high}")
    generator = torch.Generator().manual_seed(seed)
    x = low + (high - low) * torch.rand(n, 1, generator=generator)
    y = slope * x + intercept + noise * torch.randn(n, 1, generator=generator)
    return x, y


def make_spirals(
    n_per_class: int = 300,
    n_classes: int = 3,
    noise: float = 0.2,
    seed: int = 42,
) -> tuple[np.ndarray, np.ndarray]:
    """Make interleaved spiral arms, one arm per class (a classic non-linear toy problem).

    The data set follows the spiral example of Stanford's CS231n course notes
    (Andrej Karpathy, "Putting it together: minimal neural network case study"),
    written anew here with NumPy's seeded generator.

    Like ``sklearn.datasets.make_moons`` this returns NumPy arrays, so the
    notebook shows the conversion to tensors.

    Args:
        n_per_class: points in each arm.
        n_classes: number of arms (classes).
        noise: standard deviation of the angle jitter, in radians.
        seed: seed for NumPy's random generator.

    Returns:
        ``(X, y)``: ``X`` float32 of shape ``(n_per_class * n_classes, 2)`` with
        points inside the unit disc, ``y`` int64 class labels ``0 .. n_classes - 1``.

    Example:
        >>> X, y = make_spirals(n_per_class=10)
        >>> X.shape, sorted(set(y.tolist()))
        ((30, 2), [0, 1, 2])
    """
    if n_per_class < 1 or n_classes < 2:
        raise ValueError("need n_per_class >= 1 and n_classes >= 2")
    rng = np.random.default_rng(seed)
    X = np.zeros((n_per_class * n_classes, 2), dtype=np.float32)
    y = np.zeros(n_per_class * n_classes, dtype=np.int64)
    radius = np.linspace(0.0, 1.0, n_per_class)
    for label in range(n_classes):
        rows = slice(label * n_per_class, (label + 1) * n_per_class)
        start = label * 2 * np.pi / n_classes
        theta = start + radius * 4.0 + rng.normal(0.0, noise, n_per_class)
        X[rows] = np.c_[radius * np.sin(theta), radius * np.cos(theta)]
        y[rows] = label
    return X, y


def make_rings(n_per_class: int = 200, n_classes: int = 3, noise: float = 0.12, seed: int = 0,
               n_features: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Points on concentric rings around the centre, one ring per class.

    Lesson 05's exercise 5 trains on them (its check holds back other sizes).

    Ring ``k`` has radius ``k + 1``; each point's radius is jittered by ``noise``
    times a standard normal draw, its direction is uniform (a uniform angle in
    2-D). With ``n_features`` above 2 the rings are spherical shells in that many
    dimensions. Returns float32 points ``(n_classes * n_per_class, n_features)``
    and long labels, shuffled.

    >>> X, y = make_rings(n_per_class=5, seed=1)
    >>> tuple(X.shape), X.dtype, tuple(y.shape), y.dtype
    ((15, 2), torch.float32, (15,), torch.int64)
    >>> X, y = make_rings(n_per_class=5, n_classes=4, n_features=3, seed=1)
    >>> tuple(X.shape), sorted(set(y.tolist()))
    ((20, 3), [0, 1, 2, 3])
    """
    if n_per_class < 1 or n_classes < 2 or n_features < 2:
        raise ValueError("need n_per_class >= 1, n_classes >= 2 and n_features >= 2")
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), n_per_class)
    radius = labels + 1.0 + noise * rng.standard_normal(len(labels))
    directions = rng.standard_normal((len(labels), n_features))  # normalised: uniform on the sphere
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    points = radius[:, None] * directions
    order = rng.permutation(len(labels))
    return (torch.from_numpy(points[order].astype(np.float32)), torch.from_numpy(labels[order]))
