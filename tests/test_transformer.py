"""AutoencoderTransformer: correctness against PCA, the scikit-learn API, bad input."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

import sk_autoencoder._data as data_module
from sk_autoencoder import AutoencoderTransformer, TrainingDivergedError
from sk_autoencoder._data import _BatchIterator

FAST = dict(hidden_layer_sizes=(16,), max_epochs=3, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def _reconstruction_mse(model, X):
    return float(np.mean((model.inverse_transform(model.transform(X)) - X) ** 2))


def test_linear_autoencoder_matches_pca(digits):
    # A linear autoencoder's optimum spans PCA's subspace, so trained to convergence
    # its held-out error must land within 3% of PCA's (it can't be much better either).
    X_train, X_test, _, _ = digits
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    pca = PCA(n_components=8).fit(X_train)
    ae = AutoencoderTransformer(
        n_components=8,
        hidden_layer_sizes=(),
        activation="identity",
        preprocessing=None,
        learning_rate=3e-3,
        batch_size=32,
        max_epochs=300,
        tol=1e-6,
        n_iter_no_change=20,
        random_state=0,
    ).fit(X_train)
    ratio = _reconstruction_mse(ae, X_test) / _reconstruction_mse(pca, X_test)
    assert abs(ratio - 1) < 0.03, ratio


@pytest.mark.parametrize("n_components", [2, 4])
def test_nonlinear_autoencoder_beats_pca(digits, n_components):
    X_train, X_test, _, _ = digits
    pca = PCA(n_components=n_components).fit(X_train)
    ae = AutoencoderTransformer(
        n_components=n_components,
        hidden_layer_sizes=(128, 64),
        learning_rate=3e-3,
        max_epochs=100,
        random_state=0,
    ).fit(X_train)
    assert _reconstruction_mse(ae, X_test) < 0.95 * _reconstruction_mse(pca, X_test)


def test_grid_search_in_pipeline_with_two_jobs(digits):
    X_train, _, y_train, _ = digits
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("ae", AutoencoderTransformer(max_epochs=2, random_state=0)),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    )
    grid = GridSearchCV(
        pipe,
        {"ae__n_components": [2, 8], "ae__hidden_layer_sizes": [(16,), (32, 16)]},
        cv=2,
        n_jobs=2,
        error_score="raise",
    )
    grid.fit(X_train[:400], y_train[:400])
    assert len(grid.cv_results_["params"]) == 4
    best = grid.best_estimator_.named_steps["ae"]
    assert best.n_components_ == grid.best_params_["ae__n_components"]
    assert grid.predict(X_train[:5]).shape == (5,)


def test_grid_search_without_scoring_prefers_better_reconstruction(digits):
    # score() is the negative reconstruction error: a wider code must win.
    X_train, _, _, _ = digits
    grid = GridSearchCV(
        AutoencoderTransformer(max_epochs=30, hidden_layer_sizes=(32,), random_state=0),
        {"n_components": [1, 16]},
        cv=2,
    ).fit(X_train)
    assert grid.best_params_ == {"n_components": 16}


def test_same_random_state_same_output(digits):
    X_train, X_test, _, _ = digits
    a = AutoencoderTransformer(**FAST).fit(X_train).transform(X_test)
    b = AutoencoderTransformer(**FAST).fit(X_train).transform(X_test)
    np.testing.assert_array_equal(a, b)
    c = AutoencoderTransformer(**{**FAST, "random_state": 1}).fit(X_train).transform(X_test)
    assert not np.allclose(a, c)


def test_fit_leaves_global_torch_rng_alone(digits):
    X_train, _, _, _ = digits
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    AutoencoderTransformer(**FAST).fit(X_train)
    np.testing.assert_array_equal(torch.rand(3), expected)


@pytest.mark.parametrize("dumps,loads", [(pickle.dumps, pickle.loads), ("joblib", "joblib")])
def test_persistence_round_trip(digits, tmp_path, dumps, loads):
    X_train, X_test, _, _ = digits
    ae = AutoencoderTransformer(**FAST).fit(X_train)
    if dumps == "joblib":
        joblib.dump(ae, tmp_path / "model.joblib")
        restored = joblib.load(tmp_path / "model.joblib")
    else:
        restored = loads(dumps(ae))
    np.testing.assert_array_equal(restored.transform(X_test), ae.transform(X_test))
    np.testing.assert_array_equal(restored.score_samples(X_test), ae.score_samples(X_test))


def test_clone_of_fitted_is_unfitted(digits):
    X_train, _, _, _ = digits
    ae = AutoencoderTransformer(**FAST).fit(X_train)
    cloned = clone(ae)
    assert cloned.get_params() == ae.get_params()
    with pytest.raises(NotFittedError):
        cloned.transform(X_train)


def test_fitted_attributes(digits):
    X_train, _, _, _ = digits
    ae = AutoencoderTransformer(**FAST).fit(X_train)
    assert ae.n_features_in_ == 64
    assert ae.n_components_ == 2
    assert ae.n_iter_ == 3 == len(ae.loss_curve_)
    assert not hasattr(ae, "validation_scores_")
    assert isinstance(ae.net_.module_, torch.nn.Module)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]


def test_early_stopping_records_validation_and_stops(digits):
    X_train, _, _, _ = digits
    ae = AutoencoderTransformer(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        n_iter_no_change=2,
        tol=10.0,  # no epoch can improve by this much: stop after the patience runs out
        max_epochs=50,
        random_state=0,
    ).fit(X_train)
    assert ae.n_iter_ == 3
    assert len(ae.validation_scores_) == 3
    assert ae.best_validation_score_ == max(ae.validation_scores_)
    assert all(score < 0 for score in ae.validation_scores_)


def test_score_samples_is_negative_scaled_reconstruction_error(digits):
    X_train, X_test, _, _ = digits
    ae = AutoencoderTransformer(**FAST).fit(X_train)
    scaled = ae.scaler_.transform(X_test)
    reconstructed = ae.scaler_.transform(ae.inverse_transform(ae.transform(X_test)))
    expected = -np.mean((scaled - reconstructed) ** 2, axis=1)
    np.testing.assert_allclose(ae.score_samples(X_test), expected, rtol=1e-4, atol=1e-6)
    assert ae.score(X_test) == pytest.approx(np.mean(ae.score_samples(X_test)))


def test_bce_loss_with_minmax_scaling(digits):
    X_train, X_test, _, _ = digits
    ae = AutoencoderTransformer(loss="bce", preprocessing="minmax", **FAST).fit(X_train)
    reconstruction = ae.inverse_transform(ae.transform(X_test))
    # The sigmoid output maps back inside the training range of each pixel.
    assert reconstruction.min() >= X_train.min() - 1e-6
    assert reconstruction.max() <= X_train.max() + 1e-6
    with pytest.raises(ValueError, match="loss='bce' needs scaled training data in"):
        AutoencoderTransformer(loss="bce", **FAST).fit(X_train)


def test_dtype_preserved(digits):
    X_train, X_test, _, _ = digits
    ae = AutoencoderTransformer(**FAST).fit(X_train)
    assert ae.transform(X_test.astype(np.float32)).dtype == np.float32
    assert ae.transform(X_test).dtype == np.float64
    assert ae.transform(X_test.astype(np.int64)).dtype == np.float64


def test_feature_names_and_pandas_output(digits):
    X_train, X_test, _, _ = digits
    columns = [f"pixel_{i}" for i in range(64)]
    ae = AutoencoderTransformer(n_components=3, **{**FAST}).set_output(transform="pandas")
    out = ae.fit_transform(pd.DataFrame(X_train, columns=columns))
    assert list(out.columns) == [f"autoencodertransformer{i}" for i in range(3)]
    assert list(ae.feature_names_in_) == columns
    X_test = pd.DataFrame(X_test, columns=columns)
    test_out = ae.transform(X_test)
    default_out = ae.set_output(transform="default").transform(X_test)
    np.testing.assert_allclose(test_out.to_numpy(), default_out, rtol=1e-6)


def test_transform_in_batches_matches_whole(monkeypatch):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1000, 5))
    ae = AutoencoderTransformer(**FAST).fit(X)
    whole = ae.transform(X)
    monkeypatch.setattr(data_module, "_CHUNK_ROWS", 7)
    np.testing.assert_allclose(ae.transform(X), whole, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        ae.inverse_transform(whole),
        ae.inverse_transform(whole[:500]).tolist() + ae.inverse_transform(whole[500:]).tolist(),
        rtol=1e-5,
        atol=1e-5,
    )


def test_training_uses_whole_batch_iterator(digits):
    X_train, _, _, _ = digits
    ae = AutoencoderTransformer(batch_size=100, **FAST).fit(X_train)
    assert ae.net_.iterator_train is _BatchIterator
    assert ae.net_.history[-1, "train_batch_count"] == int(np.ceil(len(X_train) / 100))


def test_verbose_levels(digits, capsys):
    X_train, _, _, _ = digits
    AutoencoderTransformer(**FAST).fit(X_train)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    AutoencoderTransformer(verbose=1, **FAST).fit(X_train)
    assert "epochs" in capsys.readouterr().err  # the tqdm bar
    AutoencoderTransformer(verbose=2, **FAST).fit(X_train)
    out = capsys.readouterr().out
    assert "train_loss" in out and len([line for line in out.splitlines() if line]) >= 5


def test_user_callbacks_are_called(digits):
    class CountEpochs(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    X_train, _, _, _ = digits
    ae = AutoencoderTransformer(callbacks=[CountEpochs()], **FAST).fit(X_train)
    counters = [cb for _, cb in ae.net_.callbacks_ if isinstance(cb, CountEpochs)]
    assert counters[0].epochs == 3
    with pytest.raises(ValueError, match="callbacks must hold skorch Callback"):
        AutoencoderTransformer(callbacks=["nope"], **FAST).fit(X_train)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_cuda_without_gpu_is_a_clear_error(digits):
    X_train, _, _, _ = digits
    with pytest.raises(ValueError, match="device='cuda' was requested"):
        AutoencoderTransformer(device="cuda", **FAST).fit(X_train)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": (8, 0)}, "hidden_layer_sizes must be a sequence of positive"),
        ({"n_components": 0}, "'n_components' parameter"),
        ({"activation": "swish"}, "'activation' parameter"),
        ({"learning_rate": -1.0}, "'learning_rate' parameter"),
    ],
)
def test_invalid_parameters(digits, params, match):
    X_train, _, _, _ = digits
    with pytest.raises(ValueError, match=match):
        AutoencoderTransformer(**{**FAST, **params}).fit(X_train)


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[1.0, np.nan], [2.0, 3.0]]), "Input X contains NaN"),
        (np.array([[1.0, np.inf], [2.0, 3.0]]), "Input X contains infinity"),
        (np.empty((0, 3)), "0 sample"),
        (np.arange(5.0), "Expected 2D array, got 1D array"),
        (np.array([["a", "b"], ["c", "d"]]), "could not convert string to float"),
        (np.array([[1 + 2j, 3], [4, 5]]), "Complex data not supported"),
    ],
)
def test_bad_input_to_fit(X, match):
    with pytest.raises(ValueError, match=match):
        AutoencoderTransformer(**FAST).fit(X)


def test_bad_input_after_fit(digits):
    X_train, X_test, _, _ = digits
    ae = AutoencoderTransformer(**FAST).fit(X_train)
    with pytest.raises(
        ValueError, match="X has 10 features, but AutoencoderTransformer is expecting 64 features"
    ):
        ae.transform(X_test[:, :10])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        ae.transform(np.where(X_test == 0, np.nan, X_test))
    with pytest.raises(ValueError, match="inverse_transform is expecting 2 features"):
        ae.inverse_transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="Input contains infinity"):
        ae.inverse_transform(np.full((3, 2), np.inf))


def test_divergence_stops_with_advice(digits):
    X_train, _, _, _ = digits
    ae = AutoencoderTransformer(
        optimizer="sgd",
        learning_rate=1e6,
        hidden_layer_sizes=(16,),
        max_epochs=5,
        random_state=0,
    )
    with pytest.raises(TrainingDivergedError, match="Lower learning_rate \\(currently"):
        ae.fit(X_train)
    with pytest.raises(NotFittedError):
        ae.transform(X_train)
