"""Saving and loading: skops with a short trusted list, pickle, devices, versions."""

import io
import pickle
import re
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
import sklearn
import skops.io as sio
import torch
from _shared import ESTIMATORS, SMALL, assert_same_outputs, correlated_rows
from skops.io.exceptions import UntrustedTypesFoundException
from skorch.callbacks import Callback

from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer, modules
from sk_autoencoder.modules import DenseAutoencoder
from sk_autoencoder.persistence import TRUSTED_TYPES, InconsistentVersionWarning, dump, load


@pytest.fixture(scope="module")
def X():
    return correlated_rows(80, 5)


def _skops_round_trip(estimator, trusted=None):
    buffer = io.BytesIO()
    dump(estimator, buffer)
    buffer.seek(0)
    return load(buffer, trusted=trusted)


def test_trusted_types_are_ours_and_short():
    assert {
        "sk_autoencoder._detector.AutoencoderAnomalyDetector",
        "sk_autoencoder._transformer.AutoencoderTransformer",
        "sk_autoencoder.modules.DenseAutoencoder",
    } <= set(TRUSTED_TYPES)
    # Beyond the estimators and the scaler of preprocessing="global", only network
    # classes of sk_autoencoder.modules.
    for name in set(TRUSTED_TYPES) - {
        "sk_autoencoder._detector.AutoencoderAnomalyDetector",
        "sk_autoencoder._transformer.AutoencoderTransformer",
        "sk_autoencoder._scaling.GlobalScaler",
    }:
        module, _, cls_name = name.rpartition(".")
        assert module == "sk_autoencoder.modules"
        assert issubclass(getattr(modules, cls_name), torch.nn.Module)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("early_stopping", [False, True])
def test_skops_round_trip_with_default_trusted_list(X, cls, early_stopping):
    model = cls(early_stopping=early_stopping, **SMALL).fit(X)
    buffer = io.BytesIO()
    dump(model, buffer)
    data = buffer.getvalue()
    # The file names only types of ours besides what skops trusts anyway...
    assert set(sio.get_untrusted_types(data=data)) <= set(TRUSTED_TYPES)
    # ...and holds no pickle: a JSON schema and .npy arrays.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert "schema.json" in names
        assert all(n == "schema.json" or n.endswith(".npy") for n in names)
        for n in names:
            if n.endswith(".npy"):
                np.load(io.BytesIO(archive.read(n)), allow_pickle=False)
    restored = load(io.BytesIO(data))
    assert type(restored) is cls
    assert_same_outputs(model, restored, X)
    assert restored.loss_curve_ == model.loss_curve_
    assert restored.n_iter_ == model.n_iter_
    assert restored.get_params() == model.get_params()
    assert list(restored.net_.history[:, "train_loss"]) == list(
        model.net_.history[:, "train_loss"]
    )


def test_skops_file_on_disk_and_unfitted(X, tmp_path):
    path = tmp_path / "model.skops"
    dump(AutoencoderTransformer(n_components=3), path)
    restored = load(path)
    assert restored.n_components == 3
    assert not hasattr(restored, "net_")


def test_dump_refuses_other_objects():
    with pytest.raises(TypeError, match="dump saves sk-autoencoder estimators"):
        dump({"a": 1}, io.BytesIO())


class _CountingCallback(Callback):
    def on_epoch_end(self, net, **kwargs):
        pass


def test_untrusted_type_is_refused_then_loads_when_trusted(X):
    model = AutoencoderTransformer(callbacks=[_CountingCallback()], **SMALL).fit(X)
    buffer = io.BytesIO()
    dump(model, buffer)
    name = f"{__name__}._CountingCallback"
    assert sio.get_untrusted_types(data=buffer.getvalue()) == sorted(
        {
            name,
            *[t for t in TRUSTED_TYPES if any(k in t for k in ("Transformer", "Dense", "Global"))],
        }
    )
    buffer.seek(0)
    with pytest.raises(UntrustedTypesFoundException, match="_CountingCallback"):
        load(buffer)
    buffer.seek(0)
    restored = load(buffer, trusted=[name])
    assert_same_outputs(model, restored, X)


def test_planted_object_is_refused(X):
    # A file that carries anything beyond the model's own types does not load, so
    # nothing in it can run.
    model = AutoencoderAnomalyDetector(**SMALL).fit(X)
    model.payload_ = _CountingCallback()
    buffer = io.BytesIO()
    dump(model, buffer)
    buffer.seek(0)
    with pytest.raises(UntrustedTypesFoundException):
        load(buffer)


class _WiderDense(DenseAutoencoder):
    """A network class that is not ours: it must be trusted explicitly."""


def test_record_is_generic_over_network_classes(X, monkeypatch):
    def spec(self, n_features):
        return _WiderDense, {
            "n_features": n_features,
            "n_components": self.n_components,
            "hidden_layer_sizes": (6, 4),
            "activation": "tanh",
        }

    monkeypatch.setattr(AutoencoderTransformer, "_module_spec", spec)
    model = AutoencoderTransformer(**SMALL).fit(X)
    monkeypatch.undo()
    # The rebuilt net follows the record, not the estimator's current spec.
    with pytest.raises(UntrustedTypesFoundException, match="_WiderDense"):
        _skops_round_trip(model)
    restored = _skops_round_trip(model, trusted=[f"{__name__}._WiderDense"])
    assert type(restored.net_.module_) is _WiderDense
    assert [m.out_features for m in restored.net_.module_.encoder if hasattr(m, "weight")] == [
        6,
        4,
        2,
    ]
    assert_same_outputs(model, restored, X)
    assert_same_outputs(model, pickle.loads(pickle.dumps(model)), X)


def test_model_fitted_on_cuda_loads_on_cpu(X, monkeypatch):
    # No GPU here: fit on the CPU, then make the saved record claim CUDA.
    model = AutoencoderTransformer(**SMALL).fit(X)
    state = model.__getstate__()
    assert isinstance(state["net_"], dict)
    state["net_"]["device"] = "cuda:0"
    state["device"] = "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(AutoencoderTransformer, "__getstate__", lambda self: state)
    restored = _skops_round_trip(model)
    monkeypatch.undo()
    assert str(restored.net_.device) == "cpu"
    assert restored._device.type == "cpu"
    assert restored.device == "cuda"  # the parameter is kept as the user set it
    assert_same_outputs(model, restored, X)
    # The same through pickle.
    fresh = AutoencoderTransformer.__new__(AutoencoderTransformer)
    fresh.__setstate__(state)
    assert_same_outputs(model, fresh, X)


def test_optimizer_and_shuffling_state_survive(X):
    model = AutoencoderTransformer(**SMALL).fit(X)
    restored = _skops_round_trip(model)
    saved, loaded = model.net_.optimizer_.state_dict(), restored.net_.optimizer_.state_dict()
    assert saved["param_groups"] == loaded["param_groups"]
    assert saved["state"].keys() == loaded["state"].keys()
    for k in saved["state"]:
        for name, value in saved["state"][k].items():
            torch.testing.assert_close(loaded["state"][k][name], value, rtol=0, atol=0)
    torch.testing.assert_close(
        restored.net_.iterator_train__generator.get_state(),
        model.net_.iterator_train__generator.get_state(),
    )


def test_versions_recorded_and_major_change_warns(X):
    model = AutoencoderAnomalyDetector(**SMALL).fit(X)
    state = model.__getstate__()
    import sk_autoencoder

    assert state["_sk_autoencoder_version"] == sk_autoencoder.__version__
    assert state["_torch_version"] == torch.__version__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AutoencoderAnomalyDetector.__new__(AutoencoderAnomalyDetector).__setstate__(state)

    old = {**model.__getstate__(), "_torch_version": "1.13.1+cu117"}
    with pytest.warns(InconsistentVersionWarning, match="saved with torch 1.13.1"):
        restored = AutoencoderAnomalyDetector.__new__(AutoencoderAnomalyDetector)
        restored.__setstate__(old)
    assert_same_outputs(model, restored, X)
    assert not hasattr(restored, "_torch_version")

    future = {**model.__getstate__(), "_sk_autoencoder_version": "7.0.0"}
    with pytest.warns(InconsistentVersionWarning, match="saved with sk-autoencoder 7.0.0") as rec:
        AutoencoderAnomalyDetector.__new__(AutoencoderAnomalyDetector).__setstate__(future)
    warning = rec[0].message
    assert (warning.library, warning.original_version) == ("sk-autoencoder", "7.0.0")
    assert warning.estimator_name == "AutoencoderAnomalyDetector"
    assert warning.original_sklearn_version == sklearn.__version__
    # A pre-release of the same series is the same series: no warning.
    same = {**model.__getstate__(), "_torch_version": f"{torch.__version__.split('+')[0]}rc1"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AutoencoderAnomalyDetector.__new__(AutoencoderAnomalyDetector).__setstate__(same)


def test_version_warning_is_caught_by_sklearns_filter(X):
    """Users silence scikit-learn's InconsistentVersionWarning; that filter covers ours."""
    from sklearn.exceptions import InconsistentVersionWarning as SklearnWarning

    model = AutoencoderTransformer(**SMALL).fit(X)
    # Same length, another major version: the pickle stays valid.
    other = "9" + torch.__version__[1:]
    old = pickle.dumps(model).replace(torch.__version__.encode(), other.encode())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", SklearnWarning)
        restored = pickle.loads(old)
    assert_same_outputs(model, restored, X)
    with pytest.warns(SklearnWarning, match=f"saved with torch {re.escape(other)}"):
        pickle.loads(old)


def test_state_holding_a_net_object_still_loads(X):
    # Pickles made before the portable record held the skorch net itself.
    model = AutoencoderTransformer(**SMALL).fit(X)
    legacy = {**model.__dict__}
    restored = AutoencoderTransformer.__new__(AutoencoderTransformer)
    restored.__setstate__(legacy)
    assert restored.net_ is model.net_
    assert_same_outputs(model, restored, X)


# ------------------------------------------------------------------ hostile files
def _with_member(data: bytes, name: str, content: bytes) -> bytes:
    """A copy of the zip archive ``data`` with one more member."""
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def _declaring(data: bytes, name: str, size: int) -> bytes:
    """``data`` whose central directory claims that member ``name`` decompresses to
    ``size`` bytes (as a crafted archive would), the rest unchanged."""
    raw = bytearray(data)
    start = 0
    while True:
        entry = raw.find(b"PK\x01\x02", start)
        name_length = int.from_bytes(raw[entry + 28 : entry + 30], "little")
        if raw[entry + 46 : entry + 46 + name_length] == name.encode():
            raw[entry + 24 : entry + 28] = size.to_bytes(4, "little")
            return bytes(raw)
        start = entry + 4


@pytest.fixture(scope="module")
def saved(X):
    buffer = io.BytesIO()
    dump(AutoencoderTransformer(**SMALL).fit(X), buffer)
    return buffer.getvalue()


def test_declared_sizes_are_checked_before_skops_reads(saved, monkeypatch):
    read = []
    monkeypatch.setattr(sio, "loads", lambda *a, **k: read.append(1))
    bomb = _declaring(_with_member(saved, "bomb.npy", b"\0" * 1000), "bomb.npy", 4_000_000_000)
    assert zipfile.ZipFile(io.BytesIO(bomb)).getinfo("bomb.npy").file_size == 4_000_000_000
    tracemalloc.start()
    try:
        message = r"declares 400\d+ bytes once decompressed, more than max_size=1073741824"
        with pytest.raises(ValueError, match=message):
            load(io.BytesIO(bomb))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * len(bomb)  # nothing was decompressed
    # A real deflate bomb, 50 MB of zeros in 50 kB, under a smaller limit.
    buffer = io.BytesIO(saved)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.npy", b"\0" * 50_000_000)
    assert len(buffer.getvalue()) < 1_000_000
    with pytest.raises(ValueError, match="max_size=10000000"):
        load(io.BytesIO(buffer.getvalue()), max_size=10_000_000)
    assert read == []
    # The limits are the caller's to raise.
    load(io.BytesIO(buffer.getvalue()), max_size=None)
    assert read == [1]


def test_member_count_is_checked(saved, tmp_path):
    buffer = io.BytesIO(saved)
    with zipfile.ZipFile(buffer, "a") as archive:
        for i in range(10_001):
            archive.writestr(f"m{i}", b"")
    path = tmp_path / "many.skops"
    path.write_bytes(buffer.getvalue())
    n_members = len(zipfile.ZipFile(io.BytesIO(saved)).infolist()) + 10_001
    with pytest.raises(ValueError, match=f"holds {n_members} archive members, more than max_"):
        load(path)
    assert isinstance(load(path, max_members=None), AutoencoderTransformer)


def test_load_returns_only_our_estimators(tmp_path):
    from sklearn.linear_model import LogisticRegression

    for obj, name in [
        ({"a": 1}, "builtins.dict"),
        (LogisticRegression(), "sklearn.linear_model._logistic.LogisticRegression"),
    ]:
        buffer = io.BytesIO()
        sio.dump(obj, buffer)  # types skops itself trusts
        assert sio.loads(buffer.getvalue()) is not None
        with pytest.raises(TypeError, match=f"holds a {re.escape(name)}, not an sk-autoencoder"):
            load(io.BytesIO(buffer.getvalue()))
        # Unless the caller asks for that type.
        assert type(load(io.BytesIO(buffer.getvalue()), trusted=[name])) is type(obj)
    not_zip = tmp_path / "model.skops"
    not_zip.write_bytes(b"not a zip archive")
    with pytest.raises(ValueError, match="not a model written by dump"):
        load(not_zip)
