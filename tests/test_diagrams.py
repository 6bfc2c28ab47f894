"""helpers.diagrams: every conceptual diagram draws, renders, and shows what it claims."""

import io

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers import diagrams

matplotlib.use("Agg")
DIAGRAMS = ["tensor_axes", "broadcasting", "computation_graph", "training_step", "batches",
            "logits_to_labels", "softmax_cross_entropy", "checkpoint_contents"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(fig):
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts) + " " + fig._suptitle.get_text()


@pytest.mark.parametrize("name", DIAGRAMS)
def test_diagram_draws_a_titled_figure_that_renders(name):
    fig = getattr(diagrams, name)()
    assert isinstance(fig, Figure) and fig._suptitle is not None
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue()[:4] == b"\x89PNG"


def test_every_public_diagram_is_tested():
    public = sorted(n for n, v in vars(diagrams).items() if callable(v) and not n.startswith("_")
                    and getattr(v, "__module__", "") == diagrams.__name__)
    assert public == sorted(DIAGRAMS)


def test_numbers_in_the_logits_diagram_are_computed():
    shown = texts(diagrams.logits_to_labels())
    assert f"{1 / (1 + np.exp(-2.0)):.2f}" in shown  # sigmoid(2.0)
    z = np.array([2.0, 0.5, -1.0])
    p = np.exp(z) / np.exp(z).sum()
    assert ", ".join(f"{v:.2f}" for v in p) in shown


def test_softmax_diagram_loss_is_minus_log_of_the_true_class():
    z = np.array([1.0, 3.0, 0.0])
    p = np.exp(z) / np.exp(z).sum()
    shown = texts(diagrams.softmax_cross_entropy(z, target=2))
    assert f"loss = -log p = {-np.log(p[2]):.2f}" in shown


def test_batches_diagram_counts_steps_per_epoch():
    fig = diagrams.batches(n_samples=12, batch_size=3)
    assert "4 steps per epoch" in fig._suptitle.get_text()
