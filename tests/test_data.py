"""The shipped data files and the generators in helpers.data."""

import hashlib

import numpy as np
import pytest
import torch

from helpers.data import (
    CROP_INPUTS,
    CROP_TARGETS,
    DATA_DIR,
    load_crop_yields,
    load_mtcars,
    make_linear_data,
    make_rings,
    make_spirals,
)


def test_checksums_match_sha256sums():
    lines = (DATA_DIR / "SHA256SUMS").read_text().split("\n")
    entries = dict(reversed(line.split()) for line in lines if line.strip())
    csvs = sorted(p.name for p in DATA_DIR.glob("*.csv"))
    assert sorted(entries) == csvs, "every data file needs a line in SHA256SUMS, and no more"
    for name, digest in entries.items():
        assert hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest() == digest, name


def test_every_data_file_is_documented():
    readme = (DATA_DIR / "README.md").read_text()
    for path in DATA_DIR.glob("*.csv"):
        assert f"`{path.name}`" in readme, f"data/README.md does not describe {path.name}"


def test_mtcars_is_the_motor_trend_table():
    cars = load_mtcars()
    assert cars.shape == (32, 12)
    assert list(cars.columns) == [
        "model", "mpg", "cyl", "disp", "hp", "drat", "wt", "qsec", "vs", "am", "gear", "carb",
    ]
    assert cars["model"].is_unique
    assert cars["hp"].sum() == 4694 and round(cars["mpg"].mean(), 4) == 20.0906


def test_mtcars_ols_of_mpg_on_wt_matches_the_reference():
    cars = load_mtcars()
    slope, intercept = np.polyfit(cars["wt"], cars["mpg"], deg=1)
    assert round(slope, 4) == -5.3445
    assert round(intercept, 4) == 37.2851
    mse = np.mean((cars["mpg"] - (slope * cars["wt"] + intercept)) ** 2)
    assert round(mse, 4) == 8.6976


@pytest.mark.parametrize("regions", [5, 15])
def test_crop_yields_tables(regions):
    crops = load_crop_yields(regions)
    assert crops.shape == (regions, 6)
    assert list(crops.columns) == ["region", *CROP_INPUTS, *CROP_TARGETS]
    assert crops[CROP_INPUTS + CROP_TARGETS].notna().all().all()


def test_crop_yields_15_starts_with_the_5_region_table():
    assert load_crop_yields(15).head(5).equals(load_crop_yields(5))


def test_crop_yields_rejects_other_sizes():
    with pytest.raises(ValueError, match="5 or 15"):
        load_crop_yields(10)


def test_make_linear_data_is_seeded_and_near_the_line():
    x, y = make_linear_data()
    assert x.shape == y.shape == (20, 1) and x.dtype == torch.float32
    assert x.min() >= -5 and x.max() <= 5
    x2, y2 = make_linear_data()
    assert torch.equal(x, x2) and torch.equal(y, y2)
    big_x, big_y = make_linear_data(n=20_000)
    slope, intercept = np.polyfit(big_x.squeeze().numpy(), big_y.squeeze().numpy(), 1)
    assert abs(slope - 0.5) < 0.02 and abs(intercept + 1) < 0.05


def test_make_linear_data_rejects_bad_ranges():
    with pytest.raises(ValueError, match="low must be smaller"):
        make_linear_data(low=1, high=0)
    with pytest.raises(ValueError, match="at least 1"):
        make_linear_data(n=0)


def test_make_spirals_shapes_labels_and_seed():
    X, y = make_spirals(n_per_class=50, n_classes=4)
    assert X.shape == (200, 2) and X.dtype == np.float32
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [50] * 4
    assert np.all(np.hypot(X[:, 0], X[:, 1]) <= 1.0 + 1e-6)
    X2, _ = make_spirals(n_per_class=50, n_classes=4)
    assert np.array_equal(X, X2)
    X3, _ = make_spirals(n_per_class=50, n_classes=4, seed=0)
    assert not np.array_equal(X, X3)


def test_make_spirals_rejects_one_class():
    with pytest.raises(ValueError):
        make_spirals(n_classes=1)


def test_make_rings_is_seeded_and_balanced():
    X, y = make_rings(n_per_class=50, seed=3)
    X2, _ = make_rings(n_per_class=50, seed=3)
    assert torch.equal(X, X2) and torch.equal(torch.bincount(y), torch.tensor([50, 50, 50]))


def test_make_rings_puts_class_k_at_radius_k_plus_1_in_any_dimension():
    X, y = make_rings(n_per_class=100, n_classes=5, n_features=4, noise=0.0, seed=1)
    assert X.shape == (500, 4) and torch.equal(torch.bincount(y), torch.full((5,), 100))
    assert torch.allclose(X.norm(dim=1), (y + 1).float(), atol=1e-5)


def test_make_rings_rejects_degenerate_sizes():
    for bad in ({"n_classes": 1}, {"n_per_class": 0}, {"n_features": 1}):
        with pytest.raises(ValueError, match="need n_per_class"):
            make_rings(**bad)
