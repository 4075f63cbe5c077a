"""partial_fit and warm_start: incremental scaling and continued training (no Dask)."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from _shared import ESTIMATORS, SMALL_NET, curved_manifold
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sk_autoencoder import (
    AutoencoderAnomalyDetector,
    AutoencoderTransformer,
    TrainingDivergedError,
)

# Both estimators with a 2-wide code, trained in batches of 20 rows.
SMALL_BATCHES = dict(SMALL_NET, n_components=2, batch_size=20)


def make_data(n_rows=200):
    """Five columns on different scales, shifted away from zero."""
    return curved_manifold(n_rows, 5, shift=3.0)[0]


def weights(estimator):
    return [p.detach().clone() for p in estimator.net_.module_.parameters()]


def assert_same_weights(a, b):
    for wa, wb in zip(a, b, strict=True):
        torch.testing.assert_close(wa, wb, rtol=0, atol=0)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize(
    "preprocessing, scaler_cls, stats",
    [
        ("standard", StandardScaler, ("mean_", "var_")),
        ("minmax", MinMaxScaler, ("data_min_", "data_max_")),
    ],
)
def test_partial_fit_scaling_statistics_match_full_data(cls, preprocessing, scaler_cls, stats):
    X = make_data()
    est = cls(preprocessing=preprocessing, partial_fit_epochs=2, **SMALL_BATCHES)
    for chunk in np.array_split(X, 4):
        est.partial_fit(chunk)
    reference = scaler_cls().fit(X)
    for stat in stats:
        np.testing.assert_allclose(getattr(est.scaler_, stat), getattr(reference, stat), rtol=1e-5)
    assert est.scaler_.n_samples_seen_ == len(X)
    # As IncrementalPCA counts them: every row of every chunk.
    assert est.n_samples_seen_ == len(X)
    # The cached affine map used by inference follows the updated statistics.
    np.testing.assert_allclose(
        est._map_batches(X, lambda b: b, X.shape[1]), reference.transform(X), atol=1e-5
    )
    # Epochs accumulate across calls: 4 chunks x 2 epochs.
    assert est.n_iter_ == 8
    assert len(est.loss_curve_) == 8


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_first_chunk_sets_width_and_auto_batch_size(cls):
    X = make_data()
    est = cls(**{**SMALL_BATCHES, "batch_size": "auto"}).partial_fit(X[:30])
    assert est.n_features_in_ == X.shape[1]
    assert est.net_.batch_size == 30  # min(200, rows of the first chunk)
    est.partial_fit(X[30:])
    # Resolved again for every call, as MLPRegressor's partial_fit does.
    assert est.net_.batch_size == min(200, len(X) - 30) != 30


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_partial_fit_on_whole_data_equals_fit(cls):
    # Whole data as every chunk: k calls of partial_fit are k epochs of fit (same
    # initial weights, shuffling generator and optimiser state carried over).
    X = make_data()
    # A schedule restarts with every call, and init="pca" keeps its start if a fresh
    # call ends worse (decided after 1 epoch here, after 3 in fit): the equality needs
    # a constant rate and a random start.
    constant = dict(SMALL_BATCHES, learning_rate_schedule="constant", init="random")
    streamed = cls(**constant)
    for _ in range(3):
        streamed.partial_fit(X)
    batch = cls(max_epochs=3, **constant).fit(X)
    np.testing.assert_allclose(streamed.loss_curve_, batch.loss_curve_, rtol=1e-6)
    assert_same_weights(weights(streamed), weights(batch))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_partial_fit_feature_mismatch(cls):
    X = make_data()
    est = cls(**SMALL_BATCHES).partial_fit(X)
    with pytest.raises(ValueError, match="X has 4 features, but .* is expecting 5 features"):
        est.partial_fit(X[:, :4])


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_partial_fit_continues_a_fitted_estimator(cls):
    X = make_data()
    est = cls(max_epochs=3, **SMALL_BATCHES).fit(X)
    before = list(est.loss_curve_)
    assert est.n_samples_seen_ == len(X)
    est.partial_fit(X[:50])
    assert est.n_iter_ == 4
    assert est.loss_curve_[:3] == before
    assert est.n_samples_seen_ == len(X) + 50
    # A new fit starts counting again, as IncrementalPCA's does.
    assert est.fit(X[:30]).n_samples_seen_ == 30


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_partial_fit_with_early_stopping_records_validation_per_epoch(cls):
    X = make_data()
    est = cls(early_stopping=True, partial_fit_epochs=2, **SMALL_BATCHES)
    est.partial_fit(X[:100]).partial_fit(X[100:])
    assert est.n_iter_ == 4
    assert len(est.validation_scores_) == 4
    assert est.best_validation_score_ == max(est.validation_scores_)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_warm_start_continues_from_where_it_stopped(cls):
    X = make_data()
    # A schedule restarts with every call, so the equality needs a constant rate.
    constant = dict(SMALL_BATCHES, learning_rate_schedule="constant")
    est = cls(max_epochs=3, warm_start=True, **constant).fit(X)
    first = list(est.loss_curve_)
    est.set_params(max_epochs=2).fit(X)
    assert est.n_iter_ == 5
    assert est.n_samples_seen_ == 2 * len(X)
    assert est.loss_curve_[:3] == first
    # Exactly the curve of one 5-epoch fit: nothing was reinitialised.
    straight = cls(max_epochs=5, **constant).fit(X)
    np.testing.assert_allclose(est.loss_curve_, straight.loss_curve_, rtol=1e-6)
    assert_same_weights(weights(est), weights(straight))
    # The continued epochs start below where a new network starts.
    assert est.loss_curve_[3] < first[0]


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_warm_start_keeps_scaling(cls):
    X = make_data()
    est = cls(max_epochs=2, warm_start=True, **SMALL_BATCHES).fit(X)
    mean = est.scaler_.mean_.copy()
    est.fit(X[:50] * 10)
    np.testing.assert_array_equal(est.scaler_.mean_, mean)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_warm_start_false_reinitialises(cls):
    X = make_data()
    est = cls(max_epochs=3, **SMALL_BATCHES).fit(X)
    first, first_weights = list(est.loss_curve_), weights(est)
    est.fit(X)
    assert est.n_iter_ == 3
    np.testing.assert_allclose(est.loss_curve_, first, rtol=1e-6)
    assert_same_weights(weights(est), first_weights)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize(
    "change, name",
    [
        (dict(n_components=3), "n_components"),
        (dict(hidden_layer_sizes=(4,)), "hidden_layer_sizes"),
        (dict(preprocessing="minmax"), "preprocessing"),
        (dict(early_stopping=True), "early_stopping"),
        (dict(optimizer="sgd"), "optimizer"),
        (dict(learning_rate_schedule="plateau"), "learning_rate_schedule"),
    ],
)
def test_continuing_after_changing_the_network_is_refused(cls, change, name):
    X = make_data()
    est = cls(max_epochs=2, warm_start=True, **SMALL_BATCHES).fit(X)
    curve = list(est.loss_curve_)
    est.set_params(**change)
    with pytest.raises(ValueError, match=f"network was built with: {name}"):
        est.fit(X)
    with pytest.raises(ValueError, match=f"network was built with: {name}"):
        est.partial_fit(X)
    assert est.loss_curve_ == curve


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(partial_fit_epochs=0), "'partial_fit_epochs' parameter"),
        (dict(partial_fit_epochs=1.5), "'partial_fit_epochs' parameter"),
        (dict(warm_start="yes"), "'warm_start' parameter"),
    ],
)
def test_invalid_parameters(cls, params, match):
    X = make_data()
    with pytest.raises(ValueError, match=match):
        cls(**SMALL_BATCHES, **params).partial_fit(X)
    with pytest.raises(ValueError, match=match):
        cls(**SMALL_BATCHES, **params).fit(X)


def test_diverging_chunk_leaves_model_as_it_was():
    X = make_data()
    est = AutoencoderTransformer(preprocessing=None, **SMALL_BATCHES).partial_fit(X)
    before, curve = weights(est), list(est.loss_curve_)
    state = est.net_.optimizer_.state_dict()["state"][0]["exp_avg"].clone()
    with pytest.raises(TrainingDivergedError, match="Training diverged"):
        est.partial_fit(np.full((40, 5), 1e30, dtype=np.float32))
    assert_same_weights(weights(est), before)
    assert est.loss_curve_ == curve and len(est.net_.history) == 1
    torch.testing.assert_close(est.net_.optimizer_.state_dict()["state"][0]["exp_avg"], state)
    np.testing.assert_array_equal(est.transform(X), est.transform(X))
    assert np.isfinite(est.transform(X)).all()


def test_failed_partial_fit_keeps_previous_scaling(monkeypatch):
    X = make_data()
    est = AutoencoderTransformer(**SMALL_BATCHES).partial_fit(X[:100])
    mean, seen = est.scaler_.mean_.copy(), est.scaler_.n_samples_seen_
    before = est.transform(X)

    def interrupted(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(est, "_train", interrupted)
    with pytest.raises(RuntimeError, match="interrupted"):
        est.partial_fit(X[100:] + 5)
    np.testing.assert_array_equal(est.scaler_.mean_, mean)
    assert est.scaler_.n_samples_seen_ == seen
    assert est.n_samples_seen_ == 100
    monkeypatch.undo()
    np.testing.assert_array_equal(est.transform(X), before)


@pytest.mark.parametrize("contamination", ["auto", 0.1])
def test_detector_threshold_from_latest_chunk(contamination):
    X = make_data(300)
    X[-10:] += 8.0  # outliers, all in the last chunk
    det = AutoencoderAnomalyDetector(contamination=contamination, **SMALL_BATCHES)
    for chunk in np.array_split(X, 3):
        det.partial_fit(chunk)
    last = X[200:]
    scores = det.score_samples(last)
    assert det.n_samples_seen_ == 300
    if contamination == "auto":
        q1, q3 = np.percentile(-scores, [25, 75])
        assert -det.offset_ == pytest.approx(q3 + 1.5 * (q3 - q1), rel=1e-6)
    else:
        assert det.offset_ == pytest.approx(np.percentile(scores, 10), rel=1e-6)
        assert (det.predict(last) == -1).sum() == 10
    # The planted outliers are the rows flagged worst.
    assert set(np.argsort(scores)[:10]) == set(range(90, 100))


def test_import_does_not_import_dask():
    # Dask is an optional extra: the package must import (and partial_fit work)
    # without it.
    code = (
        "import sys, numpy as np, sk_autoencoder;"
        "sk_autoencoder.AutoencoderTransformer(max_epochs=1).partial_fit(np.eye(4));"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dask', 'distributed', 'dask_ml')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("continue_", ["warm_start", "partial_fit"])
def test_continuing_trains_with_the_settings_set_now(cls, continue_):
    # As MLPRegressor's warm start: a new learning rate, weight decay and batch size
    # apply to the epochs that follow (they had silently kept the first fit's).
    X = make_data()
    fitted = {}
    for rate in (1e-12, 1e-2):
        est = cls(max_epochs=2, partial_fit_epochs=2, **SMALL_BATCHES).fit(X)
        before = est.transform(X) if hasattr(est, "transform") else est.score_samples(X)
        est.set_params(learning_rate=rate, weight_decay=0.5, batch_size=7, warm_start=True)
        est.fit(X) if continue_ == "warm_start" else est.partial_fit(X)
        after = est.transform(X) if hasattr(est, "transform") else est.score_samples(X)
        fitted[rate] = np.abs(after - before).max()
        net = est.net_
        assert net.batch_size == 7
        assert all(g["weight_decay"] == 0.5 for g in net.optimizer_.param_groups)
        assert net.history[-1, "lr"] <= rate if "lr" in net.history[-1] else net.lr == rate
    assert fitted[1e-12] < 1e-6 < fitted[1e-2]
