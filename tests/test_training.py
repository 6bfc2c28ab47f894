"""helpers.training: the loops train, evaluate, average correctly and explain bad input."""

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchmetrics.classification import Accuracy

from helpers.training import fit, test_step, train_step


def line_data(n=40):
    X = torch.linspace(-1, 1, n).unsqueeze(1)
    return X, 3 * X - 1


def blob_data(n=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 2, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).float().unsqueeze(1)  # (N, 1) labels, like the model's output
    return X, y


def test_fit_regression_on_tensors_reaches_the_line():
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    history = fit(model, line_data(), nn.MSELoss(), optimizer, epochs=300, progress=False)
    assert history["epoch"] == list(range(1, 301))
    assert history["train_loss"][-1] < 1e-6
    assert model.weight.item() == pytest.approx(3, abs=1e-3)
    assert model.bias.item() == pytest.approx(-1, abs=1e-3)


def test_fit_binary_classification_with_a_dataloader_and_metric():
    torch.manual_seed(0)
    X, y = blob_data()
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    history = fit(model, loader, nn.BCEWithLogitsLoss(), optimizer, epochs=20,
                  test_data=(X, y), metric=Accuracy(task="binary"), progress=False)
    assert set(history) == {"epoch", "train_loss", "train_metric", "test_loss", "test_metric"}
    assert history["test_metric"][-1] >= 0.95
    assert 0.0 <= min(history["train_metric"]) <= max(history["train_metric"]) <= 1.0


def test_fit_multiclass_with_long_labels():
    torch.manual_seed(0)
    X = torch.randn(300, 2)
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0).long()  # classes 0, 1, 2
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    history = fit(model, (X, y), nn.CrossEntropyLoss(), optimizer, epochs=100,
                  metric=Accuracy(task="multiclass", num_classes=3), progress=False)
    assert history["train_metric"][-1] >= 0.9


def test_loss_and_metric_are_averaged_over_samples_not_batches():
    X = torch.tensor([[0.0], [0.0], [0.0]])
    y = torch.tensor([[1.0], [1.0], [4.0]])
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    loader = DataLoader(TensorDataset(X, y), batch_size=2)  # batches of 2 and 1
    result = test_step(model, loader, nn.MSELoss())
    assert result["loss"] == pytest.approx((1 + 1 + 16) / 3)  # not (1 + 16) / 2


def test_test_step_changes_nothing_and_restores_train_mode():
    X, y = blob_data()
    model = nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    before = [p.clone() for p in model.parameters()]
    model.train()
    test_step(model, (X, y), nn.BCEWithLogitsLoss())
    assert model.training
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_train_step_and_test_step_share_argument_order():
    X, y = line_data()
    model = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    first = train_step(model, (X, y), nn.MSELoss(), optimizer)
    assert test_step(model, (X, y), nn.MSELoss())["loss"] < first["loss"]


def test_progress_bar_can_be_shown(capsys):
    X, y = line_data()
    model = nn.Linear(1, 1)
    fit(model, (X, y), nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1), epochs=3)
    assert "epochs" in capsys.readouterr().err


# --- bad input: every error names the problem and the fix -----------------------------

def test_output_n_by_1_against_labels_n_says_squeeze():
    X, y = blob_data()
    model = nn.Linear(2, 1)
    with pytest.raises(ValueError, match=r"\(200, 1\).*\(200,\).*squeeze"):
        test_step(model, (X, y.squeeze(1)), nn.BCEWithLogitsLoss())


def test_float_labels_for_cross_entropy_say_long():
    X = torch.randn(10, 2)
    y = torch.randint(0, 3, (10,)).float()
    with pytest.raises(TypeError, match=r"y\.long\(\)"):
        test_step(nn.Linear(2, 3), (X, y), nn.CrossEntropyLoss())


def test_integer_labels_for_bce_say_float():
    X, y = blob_data()
    with pytest.raises(TypeError, match=r"y\.float\(\)"):
        test_step(nn.Linear(2, 1), (X, y.long()), nn.BCEWithLogitsLoss())


def test_wrong_logit_shape_for_cross_entropy():
    X = torch.randn(10, 2)
    y = torch.randint(0, 3, (10, 1))
    with pytest.raises(ValueError, match=r"\(N, classes\)"):
        test_step(nn.Linear(2, 3), (X, y), nn.CrossEntropyLoss())


def test_sample_count_mismatch():
    with pytest.raises(ValueError, match="same first dimension"):
        test_step(nn.Linear(2, 1), (torch.randn(5, 2), torch.randn(4, 1)), nn.MSELoss())


@pytest.mark.parametrize("not_a_model", [lambda x: x, "model", None])
def test_non_module_model(not_a_model):
    with pytest.raises(TypeError, match=r"nn\.Module"):
        test_step(not_a_model, line_data(), nn.MSELoss())


def test_model_class_instead_of_instance():
    with pytest.raises(TypeError, match=r"create one first"):
        test_step(nn.Linear, line_data(), nn.MSELoss())


def test_optimizer_built_on_another_model():
    model, other = nn.Linear(1, 1), nn.Linear(1, 1)
    optimizer = torch.optim.SGD(other.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"model\.parameters\(\)"):
        train_step(model, line_data(), nn.MSELoss(), optimizer)


def test_optimizer_that_is_not_an_optimizer():
    model = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="torch.optim.Optimizer"):
        train_step(model, line_data(), nn.MSELoss(), "sgd")


def test_model_and_requested_device_differ():
    # A GPU is not needed to see the check: the meta device stands in for "elsewhere".
    model = nn.Linear(1, 1).to("meta")
    with pytest.raises(ValueError, match=r"model\.to\('cpu'\)"):
        test_step(model, line_data(), nn.MSELoss(), device="cpu")


def test_data_of_the_wrong_form():
    with pytest.raises(TypeError, match=r"pair \(X, y\)"):
        test_step(nn.Linear(1, 1), (torch.randn(4, 1),), nn.MSELoss())
    with pytest.raises(TypeError, match="tensors"):
        test_step(nn.Linear(1, 1), [([0.0], [1.0])], nn.MSELoss())


def test_empty_loader():
    empty = DataLoader(TensorDataset(torch.empty(0, 1), torch.empty(0, 1)), batch_size=4)
    with pytest.raises(ValueError, match="no batches"):
        test_step(nn.Linear(1, 1), empty, nn.MSELoss())


@pytest.mark.parametrize("epochs", [0, -1, 2.5])
def test_fit_rejects_bad_epochs(epochs):
    model = nn.Linear(1, 1)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, line_data(), nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1), epochs)


def test_metric_is_averaged_over_samples_not_batches():
    X = torch.tensor([[1.0], [1.0], [1.0]])
    y = torch.tensor([1, 1, 0])  # the model always predicts class 1: 2 of 3 right
    model = nn.Linear(1, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.0], [1.0]]))
        model.bias.zero_()
    loader = DataLoader(TensorDataset(X, y), batch_size=2)  # batch accuracies 1.0 and 0.0
    result = test_step(model, loader, nn.CrossEntropyLoss(),
                       metric=Accuracy(task="multiclass", num_classes=2))
    assert result["metric"] == pytest.approx(2 / 3)  # not the batch mean, 0.5


def test_binary_metric_gets_probabilities_even_when_logits_lie_in_0_1():
    # Logits of 0.2 and 0.9 both mean "class 1" (sigmoid > 0.5); read as
    # probabilities they would wrongly give class 0 for the first.
    X = torch.tensor([[0.2], [0.9]])
    y = torch.tensor([[1.0], [1.0]])
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.fill_(1.0)
        model.bias.zero_()
    result = test_step(model, (X, y), nn.BCEWithLogitsLoss(), metric=Accuracy(task="binary"))
    assert result["metric"] == 1.0


def overfitting_setup():
    torch.manual_seed(0)
    X = torch.randn(20, 5)
    y = torch.randn(20, 1)  # noise: the validation loss must turn up
    X_val, y_val = torch.randn(50, 5), torch.randn(50, 1)
    model = nn.Sequential(nn.Linear(5, 64), nn.ReLU(), nn.Linear(64, 1))
    return model, (X, y), (X_val, y_val), torch.optim.Adam(model.parameters(), lr=0.01)


def test_fit_early_stopping_restores_the_best_epoch():
    model, train, val, optimizer = overfitting_setup()
    history = fit(model, train, nn.MSELoss(), optimizer, epochs=300, test_data=val,
                  progress=False, early_stopping=5)
    losses = history["test_loss"]
    best = losses.index(min(losses))
    assert len(losses) == best + 1 + 5 < 300  # stopped 5 epochs after the best one
    assert test_step(model, val, nn.MSELoss())["loss"] == pytest.approx(losses[best], abs=1e-6)
    assert test_step(model, val, nn.MSELoss())["loss"] < losses[-1]


def test_fit_early_stopping_keeps_the_best_when_epochs_run_out():
    model, train, val, optimizer = overfitting_setup()
    history = fit(model, train, nn.MSELoss(), optimizer, epochs=3, test_data=val,
                  progress=False, early_stopping=50)
    assert len(history["test_loss"]) == 3
    assert test_step(model, val, nn.MSELoss())["loss"] == pytest.approx(min(history["test_loss"]), abs=1e-6)


@pytest.mark.parametrize("patience", [0, -2, 1.5, True])
def test_fit_rejects_a_bad_patience(patience):
    model, train, val, optimizer = overfitting_setup()
    with pytest.raises(ValueError, match="patience"):
        fit(model, train, nn.MSELoss(), optimizer, 5, test_data=val, early_stopping=patience)


def test_fit_early_stopping_needs_validation_data():
    model, train, _, optimizer = overfitting_setup()
    with pytest.raises(ValueError, match="test_data"):
        fit(model, train, nn.MSELoss(), optimizer, 5, early_stopping=3)
