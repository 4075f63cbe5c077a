"""Behaviour both estimators share, checked on both, as imbalanced-learn's common tests
do: reproducibility, persistence, cloning, fitted attributes, dtypes, feature names,
bad input and parameters, and the training controls of the shared base class.

What only one estimator does is tested in ``test_transformer.py`` and
``test_detector.py``; the topic files (faults, persistence, incremental, variants)
parametrise over both estimators where their subject is shared.
"""

import pickle
import re
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from _shared import ESTIMATORS, FAST, TINY, assert_same_outputs, outputs
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback

import sk_autoencoder._data as data_module
from sk_autoencoder import (
    AutoencoderAnomalyDetector,
    AutoencoderTransformer,
    TrainingDivergedError,
)
from sk_autoencoder._data import _BatchIterator

# The methods that take rows like those of fit.
ROW_METHODS = {
    AutoencoderTransformer: ("transform", "score_samples", "score"),
    AutoencoderAnomalyDetector: (
        "score_samples",
        "decision_function",
        "predict",
        "score_features",
    ),
}
# The estimators' default n_components.
DEFAULT_N_COMPONENTS = {AutoencoderTransformer: 2, AutoencoderAnomalyDetector: 16}


@pytest.fixture(scope="module", params=ESTIMATORS, ids=lambda cls: cls.__name__)
def Estimator(request):
    return request.param


@pytest.fixture(scope="module")
def fitted(Estimator, digits):
    """``Estimator(**FAST)`` fitted on the digits; tests must not modify it."""
    X_train, _, _, _ = digits
    return Estimator(**FAST).fit(X_train)


# ------------------------------------------------------------------ reproducibility
def test_same_random_state_same_outputs(Estimator, digits):
    X_train, X_test, _, _ = digits
    a = Estimator(**FAST).fit(X_train)
    b = Estimator(**FAST).fit(X_train)
    assert_same_outputs(a, b, X_test)
    c = Estimator(**{**FAST, "random_state": 1}).fit(X_train)
    expected, other = outputs(a, X_test), outputs(c, X_test)
    for name in ("score_samples", "transform"):
        if name in expected:
            assert not np.allclose(expected[name], other[name]), name


def test_fit_leaves_global_torch_rng_alone(Estimator, digits):
    X_train, _, _, _ = digits
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    Estimator(**FAST).fit(X_train)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_loading_leaves_global_torch_rng_alone(fitted):
    data = pickle.dumps(fitted)
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    pickle.loads(data)
    np.testing.assert_array_equal(torch.rand(3), expected)


# ------------------------------------------------------------------ persistence, clone
@pytest.mark.parametrize("via", ["pickle", "joblib"])
def test_pickle_and_joblib_round_trip(fitted, digits, tmp_path, via):
    _, X_test, _, _ = digits
    if via == "joblib":
        joblib.dump(fitted, tmp_path / "model.joblib")
        restored = joblib.load(tmp_path / "model.joblib")
    else:
        restored = pickle.loads(pickle.dumps(fitted))
    assert_same_outputs(fitted, restored, X_test)
    if isinstance(fitted, AutoencoderAnomalyDetector):
        assert restored.offset_ == fitted.offset_


def test_clone_of_fitted_is_unfitted(fitted, digits):
    X_train, _, _, _ = digits
    cloned = clone(fitted)
    assert cloned.get_params() == fitted.get_params()
    for method in ROW_METHODS[type(fitted)]:
        with pytest.raises(NotFittedError):
            getattr(cloned, method)(X_train)


# ------------------------------------------------------------------ fitted model
def test_fitted_attributes(fitted, Estimator):
    assert fitted.n_features_in_ == 64
    assert fitted.n_components_ == DEFAULT_N_COMPONENTS[Estimator]
    assert fitted.n_iter_ == 3 == len(fitted.loss_curve_)
    assert not hasattr(fitted, "validation_scores_")
    assert not hasattr(fitted, "feature_names_in_")
    assert isinstance(fitted.net_.module_, torch.nn.Module)
    assert fitted.loss_curve_[-1] < fitted.loss_curve_[0]


@pytest.mark.parametrize(
    "dtype, out_dtype",
    [(np.float32, np.float32), (np.float64, np.float64), (np.int64, np.float64)],
)
def test_float_outputs_follow_the_input_dtype(fitted, digits, dtype, out_dtype):
    # Fitted on float64: float32 rows are answered in float32, all others in float64.
    _, X_test, _, _ = digits
    X = X_test.astype(dtype)
    for name, value in outputs(fitted, X).items():
        if name != "predict":  # labels are integers
            assert value.dtype == out_dtype, name


def test_inference_in_batches_matches_whole(Estimator, monkeypatch):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1000, 5))
    model = Estimator(**FAST).fit(X)
    whole = outputs(model, X)
    monkeypatch.setattr(data_module, "_CHUNK_ROWS", 7)
    for name, value in outputs(model, X).items():
        # Decoding codes that differ by float32 rounding moves the rows a little more.
        atol = 1e-5 if name == "inverse_transform" else 1e-6
        np.testing.assert_allclose(value, whole[name], rtol=1e-5, atol=atol, err_msg=name)
    if "transform" in whole:
        codes = whole["transform"]
        np.testing.assert_allclose(
            model.inverse_transform(codes),
            model.inverse_transform(codes[:500]).tolist()
            + model.inverse_transform(codes[500:]).tolist(),
            rtol=1e-5,
            atol=1e-5,
        )


# ------------------------------------------------------------------ feature names
def test_feature_names_recorded_and_checked(Estimator):
    rng = np.random.RandomState(0)
    df = pd.DataFrame(rng.normal(size=(30, 3)), columns=["a", "b", "c"])
    model = Estimator(**TINY).fit(df)
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    assert model.n_features_in_ == 3
    for method in ROW_METHODS[Estimator]:
        with pytest.raises(ValueError, match="Feature names must be in the same order"):
            getattr(model, method)(df[["b", "a", "c"]])
        with pytest.raises(ValueError, match="Feature names unseen at fit time:\n- d"):
            getattr(model, method)(df.rename(columns={"c": "d"}))
        with pytest.warns(UserWarning, match="X does not have valid feature names"):
            getattr(model, method)(df.to_numpy())


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[1.0, np.nan], [np.nan, np.nan]]), r"1 row\(s\) with every entry missing"),
        (np.array([[1.0, np.nan], [2.0, np.nan]]), r"1 column\(s\) with every entry missing"),
        (np.array([[1.0, np.inf], [2.0, 3.0]]), "Input X contains infinity"),
        (np.array([[1.0, np.nan], [2.0, -np.inf]]), "Input X contains infinity"),
        (np.empty((0, 3)), "0 sample"),
        (np.arange(5.0), "Expected 2D array, got 1D array"),
        (np.array([["a", "b"], ["c", "d"]]), "could not convert string to float"),
        (np.array([[1 + 2j, 3], [4, 5]]), "Complex data not supported"),
    ],
)
def test_bad_input_to_fit(Estimator, X, match):
    with pytest.raises(ValueError, match=match):
        Estimator(**FAST).fit(X)


def test_bad_input_after_fit(fitted, digits):
    _, X_test, _, _ = digits
    name = type(fitted).__name__
    for method in ROW_METHODS[type(fitted)]:
        with pytest.raises(
            ValueError, match=f"X has 10 features, but {name} is expecting 64 features"
        ):
            getattr(fitted, method)(X_test[:, :10])
        all_missing = np.where(np.arange(len(X_test))[:, None] == 3, np.nan, X_test)
        with pytest.raises(ValueError, match=r"row\(s\) \[3\]: such a row has nothing"):
            getattr(fitted, method)(all_missing)
        with pytest.raises(ValueError, match="Input X contains infinity"):
            getattr(fitted, method)(np.where(X_test == 0, np.inf, X_test))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": (8, 0)}, "hidden_layer_sizes must be a sequence of positive"),
        ({"n_components": 0}, "'n_components' parameter"),
        ({"activation": "swish"}, "'activation' parameter"),
        ({"learning_rate": -1.0}, "'learning_rate' parameter"),
        ({"learning_rate_schedule": "step"}, "'learning_rate_schedule' parameter"),
        ({"init": "zeros"}, "'init' parameter"),
        # Digits standardised have negative entries: outside the [0, 1] of BCE.
        ({"loss": "bce"}, "loss='bce' needs scaled training data in"),
    ],
)
def test_invalid_parameters(Estimator, digits, params, match):
    X_train, _, _, _ = digits
    with pytest.raises(ValueError, match=match):
        Estimator(**{**FAST, **params}).fit(X_train)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_cuda_without_gpu_is_a_clear_error(Estimator, digits):
    X_train, _, _, _ = digits
    with pytest.raises(ValueError, match="device='cuda' was requested"):
        Estimator(device="cuda", **FAST).fit(X_train)


# ------------------------------------------------------------------ training
def _fitted_attributes(model) -> dict:
    return {k: v for k, v in vars(model).items() if k.endswith("_") and not k.startswith("_")}


def test_divergence_stops_with_advice_and_leaves_the_estimator_as_it_was(Estimator, digits):
    X_train, X_test, _, _ = digits
    diverging = dict(optimizer="sgd", learning_rate=1e6, max_epochs=5)
    fresh = Estimator(**{**FAST, **diverging})
    with pytest.raises(
        TrainingDivergedError,
        match="Training diverged: the loss (became|reached) .* Lower learning_rate \\(currently",
    ):
        fresh.fit(X_train)
    for method in ROW_METHODS[Estimator]:
        with pytest.raises(NotFittedError):
            getattr(fresh, method)(X_train)
    assert _fitted_attributes(fresh) == {}  # no scaler_, offset_, ...

    model = Estimator(**FAST).fit(X_train)
    before = outputs(model, X_test)
    fitted_before = _fitted_attributes(model)
    model.set_params(**diverging)
    with pytest.raises(TrainingDivergedError):
        model.fit(X_train)
    for name, value in outputs(model, X_test).items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    # The network and scaler are judged by the outputs above; the rest by value.
    fitted_after = _fitted_attributes(model)
    assert fitted_after.keys() == fitted_before.keys()
    for name in fitted_before.keys() - {"net_", "scaler_"}:
        np.testing.assert_equal(fitted_after[name], fitted_before[name], err_msg=name)


def test_early_stopping_records_validation_and_stops(Estimator, digits):
    X_train, _, _, _ = digits
    model = Estimator(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        n_iter_no_change=2,
        tol=10.0,  # no epoch can improve by this much: stop after the patience runs out
        max_epochs=50,
        random_state=0,
    ).fit(X_train)
    assert model.n_iter_ == 3
    assert len(model.validation_scores_) == 3
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert all(score < 0 for score in model.validation_scores_)


def test_cosine_schedule_anneals_over_max_epochs_and_trains_all_of_them(Estimator, digits):
    X_train, _, _, _ = digits
    # tol: no epoch improves by this much, which would stop a constant-rate fit at
    # once; the cosine schedule runs its whole budget.
    model = Estimator(
        learning_rate=0.01,
        learning_rate_schedule="cosine",
        tol=10.0,
        n_iter_no_change=1,
        **dict(FAST, max_epochs=4),
    ).fit(X_train)
    assert model.n_iter_ == 4
    expected = [0.01 * (1 + np.cos(np.pi * e / 4)) / 2 for e in range(4)]
    np.testing.assert_allclose(model.net_.history[:, "lr"], expected)
    assert model.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(expected[-1])
    constant = Estimator(
        learning_rate_schedule="constant", tol=10.0, n_iter_no_change=1, **dict(FAST, max_epochs=4)
    ).fit(X_train)
    assert constant.n_iter_ == 2


def test_plateau_schedule_divides_the_rate_when_the_loss_stalls(Estimator, digits):
    X_train, _, _, _ = digits
    # With tol=10 every epoch is a stall: the rate drops by 5 every
    # n_iter_no_change // 2 = 2 epochs, and training stops after n_iter_no_change.
    model = Estimator(
        learning_rate=0.01,
        learning_rate_schedule="plateau",
        tol=10.0,
        n_iter_no_change=4,
        **dict(FAST, max_epochs=20),
    ).fit(X_train)
    assert model.n_iter_ == 5
    np.testing.assert_allclose(model.net_.history[:, "lr"], [0.01, 0.01, 0.01, 0.002, 0.002])


def test_training_uses_whole_batch_iterator(Estimator, digits):
    X_train, _, _, _ = digits
    model = Estimator(batch_size=100, **FAST).fit(X_train)
    assert model.net_.iterator_train is _BatchIterator
    # The detector trains on a subsample of max_samples="auto" = 1000 rows.
    n_trained = len(X_train) if Estimator is AutoencoderTransformer else 1000
    assert model.net_.history[-1, "train_batch_count"] == int(np.ceil(n_trained / 100))


def test_verbose_levels(Estimator, digits, capsys):
    X_train, _, _, _ = digits
    Estimator(**FAST).fit(X_train)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    model = Estimator(verbose=1, partial_fit_epochs=2, **FAST).fit(X_train)
    err = capsys.readouterr().err
    # The tqdm bar keeps its final state, a line of its own, with the right total;
    # stderr is not a terminal here, so it is plain ASCII.
    assert err.endswith("\n") and err.isascii()
    final = err.rstrip("\n").split("\r")[-1]
    assert final.startswith("epochs: 100%") and " 3/3 " in final and "train_loss=" in final
    model.partial_fit(X_train[:300])
    final = capsys.readouterr().err.rstrip("\n").split("\r")[-1]
    assert " 2/2 " in final  # the epochs of this call: partial_fit_epochs
    Estimator(verbose=2, **FAST).fit(X_train)
    out = capsys.readouterr().out
    assert "train_loss" in out and len([line for line in out.splitlines() if line]) >= 5
    # skorch colours the best values; not in a log (stdout is not a terminal here).
    assert "\x1b[" not in out


def test_verbose_stopped_early_says_so(Estimator, digits, capsys):
    X_train, _, _, _ = digits
    # A constant rate: a cosine schedule runs all its epochs.
    params = dict(FAST, max_epochs=50, n_iter_no_change=1, tol=10.0)
    Estimator(verbose=1, learning_rate_schedule="constant", **params).fit(X_train)
    final = capsys.readouterr().err.rstrip("\n").split("\r")[-1]
    assert final.startswith("epochs (stopped early):") and "/50 " in final


def test_verbose_2_keeps_colours_on_a_terminal(Estimator, digits, capsys, monkeypatch):
    X_train, _, _, _ = digits
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    Estimator(verbose=2, **FAST).fit(X_train)
    # skorch colours each column's best values, one colour per column in turn.
    assert re.search(r"\x1b\[3[0-9]m[0-9.]+\x1b\[0m", capsys.readouterr().out)


def test_user_callbacks_are_called(Estimator, digits):
    class CountEpochs(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    X_train, _, _, _ = digits
    model = Estimator(callbacks=[CountEpochs()], **FAST).fit(X_train)
    counters = [cb for _, cb in model.net_.callbacks_ if isinstance(cb, CountEpochs)]
    assert counters[0].epochs == 3
    with pytest.raises(ValueError, match="callbacks must hold skorch Callback"):
        Estimator(callbacks=["nope"], **FAST).fit(X_train)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_any_memory_layout_gives_the_same_outputs(Estimator, dtype):
    # Inference hands rows to torch without copying where it can: views with negative
    # strides, Fortran order and read-only memory must give what a plain copy gives.
    X = np.random.RandomState(0).normal(size=(80, 6)).astype(dtype)
    model = Estimator(**TINY).fit(X)
    read_only = X.copy()
    read_only.setflags(write=False)
    for rows, plain in [
        (X[::-1], X[::-1].copy()),
        (X[:, ::-1], X[:, ::-1].copy()),
        (np.asfortranarray(X), X),
        (read_only, X),
    ]:
        expected = outputs(model, plain)
        for name, value in outputs(model, rows).items():
            np.testing.assert_array_equal(value, expected[name], err_msg=name)
