"""helpers.plotting: decision boundaries, loss curves and regression lines."""

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from helpers.plotting import plot_decision_boundary, plot_loss_curves, plot_regression, predicted_labels


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def points(n=50):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 2, generator=g)
    return X, (X[:, 0] > 0).long()


class HalfPlane(nn.Module):
    """Logit = x1 (binary), shaped (N, 1) or (N,)."""

    def __init__(self, flat=False):
        super().__init__()
        self.flat = flat
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, X):
        logits = self.scale * X[:, :1]
        return logits.squeeze(1) if self.flat else logits


@pytest.mark.parametrize("flat", [False, True])
def test_binary_boundary_from_n1_or_n_logits(flat):
    X, y = points()
    ax = plot_decision_boundary(HalfPlane(flat), X, y)
    assert ax.collections, "a filled contour and a scatter are drawn"
    assert len(ax.collections[-1].get_offsets()) == len(X)


def test_multiclass_boundary_uses_argmax():
    X, _ = points()
    model = nn.Linear(2, 3)
    y = model(X).argmax(1).detach()
    _, ax = plt.subplots()
    assert plot_decision_boundary(model, X.numpy(), y.numpy(), ax=ax, title="t") is ax
    assert ax.get_title() == "t"


def test_boundary_restores_train_mode_and_does_not_move_model():
    X, y = points()
    model = nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.5), nn.Linear(4, 1)).train()
    plot_decision_boundary(model, X, y)
    assert model.training
    assert next(model.parameters()).device.type == "cpu"
    model.eval()
    plot_decision_boundary(model, X, y)
    assert not model.training


def test_boundary_rejects_three_features():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plot_decision_boundary(nn.Linear(3, 1), torch.randn(5, 3), torch.zeros(5))


def test_boundary_rejects_label_count_mismatch():
    X, y = points()
    with pytest.raises(ValueError, match="labels"):
        plot_decision_boundary(HalfPlane(), X, y[:-1])


def test_boundary_rejects_a_non_module():
    X, y = points()
    with pytest.raises(TypeError, match=r"nn\.Module"):
        plot_decision_boundary(lambda t: t, X, y)


def test_loss_curves_train_and_test():
    history = {"epoch": [1, 2, 3], "train_loss": [3, 2, 1], "test_loss": [3.5, 2.5, 1.5],
               "train_metric": [0.5, 0.7, 0.9]}
    ax = plot_loss_curves(history)
    assert [line.get_label() for line in ax.get_lines()] == ["train", "test"]
    ax = plot_loss_curves(history, metric=True, log_scale=True)
    assert ax.get_ylabel() == "metric" and ax.get_yscale() == "log"


def test_loss_curves_explains_a_wrong_history():
    with pytest.raises(KeyError, match="fit"):
        plot_loss_curves({"loss": [1, 2]})


def test_regression_accepts_tensors_that_require_grad():
    x = torch.linspace(0, 1, 10).unsqueeze(1)
    w = torch.tensor(2.0, requires_grad=True)
    ax = plot_regression(x, 2 * x, w * x)  # no .detach() needed
    assert len(ax.get_lines()) == 1


def test_regression_rejects_length_mismatch():
    with pytest.raises(ValueError, match="values"):
        plot_regression([1, 2, 3], [1, 2])
    with pytest.raises(TypeError, match="tensor"):
        plot_regression("abc", [1, 2, 3])


class _SigmoidForward(torch.nn.Module):
    """A forward that ends in torch.sigmoid: probabilities, not logits."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


def _separable():
    X = torch.tensor([[-1.0, 0.0], [-0.5, 0.2], [0.5, 0.1], [1.0, -0.2]])
    y = torch.tensor([0, 0, 1, 1])
    return X, y


def test_boundary_warns_when_outputs_look_like_probabilities():
    X, y = _separable()
    model = _SigmoidForward()
    with torch.no_grad():
        model.linear.weight.copy_(torch.tensor([[5.0, 0.0]]))
        model.linear.bias.zero_()
    with pytest.warns(UserWarning, match="sigmoid"):
        plot_decision_boundary(model, X, y)


def test_boundary_thresholds_an_nn_sigmoid_model_at_one_half():
    X, y = _separable()
    model = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Sigmoid())
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[5.0, 0.0]]))
        model[0].bias.zero_()
    with pytest.warns(UserWarning, match="probabilities"):
        assert predicted_labels(model, X).tolist() == [0, 0, 1, 1]
    with pytest.warns(UserWarning, match="probabilities"):
        plot_decision_boundary(model, X, y)


def test_boundary_of_a_logit_model_does_not_warn(recwarn):
    assert predicted_labels(HalfPlane(), _separable()[0]).tolist() == [0, 0, 1, 1]
    X, y = _separable()
    model = torch.nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[5.0, 0.0]]))
        model.bias.zero_()
    plot_decision_boundary(model, X, y)
    assert not [w for w in recwarn if "sigmoid" in str(w.message)]
