"""The ``device`` parameter: any torch device, checked at fit; no GPU needed here."""

import numpy as np
import pytest
import torch
from _shared import ESTIMATORS, TINY, correlated_rows
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from sk_autoencoder import _devices, _state
from sk_autoencoder.cli import main


@pytest.fixture
def two_gpus(monkeypatch):
    """PyTorch believes there are two CUDA devices and an Apple GPU (nothing runs on
    them: only the availability checks are patched)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)


@pytest.fixture
def no_accelerator(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(torch.xpu, "is_available", lambda: False)


def test_device_strings_resolve(two_gpus):
    assert _devices._resolve_device("auto") == "cuda"
    assert _devices._resolve_device("cuda:1") == "cuda:1"
    assert _devices._resolve_device("cuda:0") == "cuda:0"
    assert _devices._resolve_device("mps") == "mps"
    assert _devices._resolve_device("cpu") == "cpu"
    with pytest.raises(
        ValueError,
        match=r"device='cuda:2' was requested but PyTorch finds 2 CUDA devices "
        r"\(cuda:0, cuda:1\)",
    ):
        _devices._resolve_device("cuda:2")
    assert _devices._rng_devices("cuda:1") == {"devices": [1], "device_type": "cuda"}
    assert _devices._rng_devices("cuda") == {"devices": [0], "device_type": "cuda"}
    assert _devices._rng_devices("cpu") == {"devices": []}


def test_unavailable_devices_are_named(no_accelerator):
    assert _devices._resolve_device("auto") == "cpu"
    for device, found in [
        ("cuda", "no CUDA device"),
        ("cuda:1", "no CUDA device"),
        ("mps", r"no MPS \(Apple GPU\) device"),
        ("meta", "no meta device"),
        ("cpu:1", "1 cpu device"),
    ]:
        with pytest.raises(ValueError, match=f"device='{device}' was requested but PyTorch "):
            _devices._resolve_device(device)
        with pytest.raises(ValueError, match=found):
            _devices._resolve_device(device)
    with pytest.raises(ValueError, match="device='gpu' is not a torch device"):
        _devices._resolve_device("gpu")


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fit_refuses_an_unavailable_device(Estimator, no_accelerator):
    X = correlated_rows(40, 3)
    model = Estimator(device="cuda:1", **TINY)
    with pytest.raises(ValueError, match="device='cuda:1' was requested"):
        model.fit(X)
    assert not hasattr(model, "net_")
    for device in (1, torch.device("cpu")):  # strings only: str(torch.device(...))
        with pytest.raises(InvalidParameterError, match="'device' parameter"):
            Estimator(device=device, **TINY).fit(X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_cpu_device_strings_fit(Estimator, no_accelerator):
    X = correlated_rows(40, 3)
    reference = Estimator(**TINY).fit(X).score_samples(X)
    for device in ("cpu:0", "auto"):
        model = Estimator(device=device, **TINY)
        assert clone(model).device == device
        np.testing.assert_array_equal(model.fit(X).score_samples(X), reference)


def test_saved_models_load_on_the_cpu_where_their_device_is_missing(two_gpus, monkeypatch):
    assert _state._load_device("cuda:1") == "cuda:1"
    assert _state._load_device("cuda:3") == "cpu"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert _state._load_device("mps") == "cpu"
    assert _state._load_device("cpu") == "cpu"


def test_cli_takes_any_device_string(tmp_path, capsys, no_accelerator):
    table = tmp_path / "train.csv"
    np.savetxt(table, correlated_rows(30, 3), delimiter=",", header="a,b,c", comments="")
    model = tmp_path / "m.skops"
    code = main(["fit", str(table), "--model", str(model), "--device", "cuda:1"])
    assert code == 2
    err = capsys.readouterr().err
    assert "device='cuda:1' was requested" in err and err.count("\n") == 1
    assert not model.exists()
