"""AutoencoderAnomalyDetector: detection quality on planted anomalies, thresholds,
sign conventions, model selection, explanations, its own parameters. What it shares
with the transformer is in test_common.py."""

import numpy as np
import pandas as pd
import pytest
from _shared import FAST
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from sk_autoencoder import AutoencoderAnomalyDetector

FAST_5_EPOCHS = dict(FAST, max_epochs=5)


@pytest.fixture(scope="module")
def fitted(planted):
    X, _ = planted
    return AutoencoderAnomalyDetector(random_state=0).fit(X)


def _pca_error_auc(X, is_outlier, n_components):
    Xs = StandardScaler().fit_transform(X)
    pca = PCA(n_components=n_components, random_state=0).fit(Xs)
    errors = ((pca.inverse_transform(pca.transform(Xs)) - Xs) ** 2).mean(axis=1)
    return roc_auc_score(is_outlier, errors)


def test_planted_anomalies_ranked_first(planted, fitted):
    X, is_outlier = planted
    auc = roc_auc_score(is_outlier, -fitted.score_samples(X))
    # The reference is the reconstruction error of PCA with as many components as our
    # code, on the same standardised data: a nonlinear network trained with the
    # defaults should do at least as well as that linear one, up to 0.02 of noise.
    # The absolute floor 0.9 rules out a mere better-than-chance ranking.
    reference = _pca_error_auc(X, is_outlier, fitted.n_components_)
    assert auc >= min(0.9, reference - 0.02) and auc >= 0.9, (auc, reference)


def test_no_pyod_named_attributes(fitted):
    # PyOD's names carry PyOD's signs (higher = more abnormal, 1 = outlier); next to
    # scikit-learn's methods they read wrongly. sk_autoencoder.pyod has them.
    for name in ("decision_scores_", "threshold_", "labels_"):
        assert not hasattr(fitted, name), name


@pytest.mark.parametrize("contamination", [0.05, 0.2])
def test_float_contamination_flags_that_share(planted, contamination):
    X, _ = planted
    detector = AutoencoderAnomalyDetector(contamination=contamination, **FAST_5_EPOCHS).fit(X)
    flagged = np.mean(detector.predict(X) == -1)
    # The threshold is the contamination quantile of the training scores: up to one
    # row either side (ties, interpolation).
    assert abs(flagged - contamination) <= 1 / len(X), flagged
    assert np.isclose(
        detector.offset_, np.percentile(detector.score_samples(X), 100 * contamination)
    )


def test_auto_contamination_is_tukey_fence(planted, fitted):
    X, _ = planted
    errors = -fitted.score_samples(X)
    q1, q3 = np.percentile(errors, [25, 75])
    fence = q3 + 1.5 * (q3 - q1)
    assert np.isclose(-fitted.offset_, fence)
    assert np.array_equal(fitted.predict(X) == -1, errors > fence)


def test_sign_conventions(planted, fitted):
    X, _ = planted
    scores = fitted.score_samples(X)
    np.testing.assert_allclose(fitted.decision_function(X), scores - fitted.offset_)
    predicted = fitted.predict(X)
    assert set(np.unique(predicted)) <= {-1, 1}
    assert np.array_equal(predicted, np.where(fitted.decision_function(X) < 0, -1, 1))
    # Higher score_samples is more normal: the planted outliers score lower on average.
    assert (scores <= 0).all()


def test_fit_predict_equals_fit_then_predict(planted):
    X, _ = planted
    a = AutoencoderAnomalyDetector(contamination=0.1, **FAST_5_EPOCHS).fit_predict(X)
    b = AutoencoderAnomalyDetector(contamination=0.1, **FAST_5_EPOCHS).fit(X).predict(X)
    assert np.array_equal(a, b)
    assert (a == -1).sum() > 0


def test_grid_search_picks_best_validation_auc(planted):
    X, is_outlier = planted
    y = np.where(is_outlier == 1, -1, 1)  # roc_auc on decision_function: inliers positive
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    grid = {"n_components": [1, 8], "max_epochs": [1, 10]}
    base = AutoencoderAnomalyDetector(hidden_layer_sizes=(16,), random_state=0)
    search = GridSearchCV(base, grid, scoring="roc_auc", cv=cv).fit(X, y)
    # Recompute every candidate's mean validation AUC by hand.
    mine = []
    for params in search.cv_results_["params"]:
        aucs = []
        for train, test in cv.split(X, y):
            detector = AutoencoderAnomalyDetector(**{**base.get_params(), **params})
            detector.fit(X[train])
            aucs.append(roc_auc_score(y[test], detector.decision_function(X[test])))
        mine.append(np.mean(aucs))
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], mine)
    assert search.best_params_ == search.cv_results_["params"][int(np.argmax(mine))]


def test_score_features_explains_score_samples(planted, fitted):
    X, _ = planted
    per_feature = fitted.score_features(X)
    assert per_feature.shape == X.shape
    assert (per_feature >= 0).all()
    np.testing.assert_allclose(-per_feature.mean(axis=1), fitted.score_samples(X), rtol=1e-5)


def test_score_features_as_dataframe(planted):
    X, _ = planted
    columns = [f"pixel_{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns, index=np.arange(len(X)) + 100)
    detector = AutoencoderAnomalyDetector(**FAST_5_EPOCHS).fit(frame)
    out = detector.score_features(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == columns and list(out.index) == list(frame.index)
    # ndarray input with pandas output configured: column names from fit.
    detector.set_output(transform="pandas")
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        out = detector.score_features(X)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == columns
    detector.set_output(transform="default")
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        assert isinstance(detector.score_features(X), np.ndarray)


def test_trimmed_training_leaves_out_the_largest_errors(planted):
    X, _ = planted
    seen = []

    class CountRows(Callback):
        def on_epoch_begin(self, net, **kwargs):
            seen.append(0)

        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            if training:
                seen[-1] += len(batch[0])

    params = dict(FAST, max_epochs=4, n_iter_no_change=10)
    AutoencoderAnomalyDetector(
        trim_fraction=0.25, trim_warmup_epochs=2, callbacks=[CountRows()], **params
    ).fit(X)
    n = len(X)
    assert seen == [n, n, n - int(0.25 * n), n - int(0.25 * n)]


class _CountRows(Callback):
    """Training rows seen in each epoch."""

    def __init__(self):
        self.seen = []

    def on_epoch_begin(self, net, **kwargs):
        self.seen.append(0)

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            self.seen[-1] += len(batch[0])


@pytest.mark.parametrize(
    "max_samples, n_trained",
    [("auto", 1000), (300, 300), (5000, 1500), (0.5, 750), (1.0, 1500)],
)
def test_max_samples_is_the_training_subsample(max_samples, n_trained):
    X = np.random.RandomState(0).normal(size=(1500, 4))
    counter = _CountRows()
    detector = AutoencoderAnomalyDetector(
        max_samples=max_samples, trim_fraction=0.0, callbacks=[counter], **dict(FAST, max_epochs=2)
    ).fit(X)
    assert counter.seen == [n_trained, n_trained]
    # Every row is still scaled and scored for the threshold.
    assert detector.n_samples_seen_ == 1500
    errors = -detector.score_samples(X)
    q1, q3 = np.percentile(errors, [25, 75])
    assert -detector.offset_ == pytest.approx(q3 + 1.5 * (q3 - q1), rel=1e-6)


def test_max_samples_draw_follows_random_state():
    X = np.random.RandomState(0).normal(size=(1500, 4))
    params = dict(FAST_5_EPOCHS, max_samples=200)
    a = AutoencoderAnomalyDetector(**params).fit(X).score_samples(X)
    b = AutoencoderAnomalyDetector(**params).fit(X).score_samples(X)
    c = AutoencoderAnomalyDetector(**{**params, "random_state": 1}).fit(X).score_samples(X)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_partial_fit_trains_on_the_whole_chunk():
    X = np.random.RandomState(0).normal(size=(1500, 4))
    counter = _CountRows()
    detector = AutoencoderAnomalyDetector(callbacks=[counter], trim_fraction=0.0, **FAST_5_EPOCHS)
    detector.partial_fit(X)
    detector.partial_fit(X[:1200])
    assert counter.seen == [1500, 1200]


def _scaled(detector, X):
    """Rows in the detector's scaled space, as the network sees them."""
    return detector.scaler_.transform(X)


def _reconstruction_errors(detector, X):
    """Per-entry squared reconstruction errors in the scaled space, by hand."""
    return (_scaled(detector, X) - _scaled(detector, detector._reconstruct(X))) ** 2


def test_feature_error_scale_makes_the_typical_training_row_one(planted):
    X, _ = planted
    # Trained on every row, so the medians are taken over all of them.
    detector = AutoencoderAnomalyDetector(max_samples=1.0, n_neighbors=None, **FAST_5_EPOCHS).fit(
        X
    )
    raw = _reconstruction_errors(detector, X)
    # Each feature's median training error (columns the network reproduces exactly,
    # digits' constant pixels, sit at the floor), times the median row's mean error
    # so divided.
    per_feature = np.maximum(np.median(raw, axis=0), 1e-6)
    expected = per_feature * np.median((raw / per_feature).mean(axis=1))
    np.testing.assert_allclose(detector.feature_error_scale_, expected, rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(
        detector.score_features(X), raw / detector.feature_error_scale_, rtol=1e-4, atol=1e-6
    )
    assert np.median(detector.score_samples(X)) == pytest.approx(-1.0, rel=1e-5)
    assert detector.neighbor_rows_ is None and detector.neighbor_distance_scale_ is None


def test_neighbor_term_is_the_gap_to_the_kth_nearest_reference_row(planted):
    X, _ = planted
    detector = AutoencoderAnomalyDetector(max_samples=1.0, n_neighbors=4, **FAST_5_EPOCHS).fit(X)
    Xs = _scaled(detector, X)
    reference = detector.neighbor_rows_.astype(np.float64)
    # Brute force: every distance, sorted; the 4th nearest reference row.
    distances = ((Xs[:, None, :] - reference[None, :, :]) ** 2).sum(axis=2)
    kth = reference[np.argsort(distances, axis=1, kind="stable")[:, 3]]
    gaps = (Xs - kth) ** 2
    reconstruction = _reconstruction_errors(detector, X) / detector.feature_error_scale_
    expected = reconstruction + gaps / detector.neighbor_distance_scale_
    np.testing.assert_allclose(detector.score_features(X), expected, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(
        -detector.score_features(X).mean(axis=1), detector.score_samples(X), rtol=1e-5
    )
    # The scale is the median training row's mean gap: that term is 1 for it.
    assert np.median(gaps.mean(axis=1)) == pytest.approx(
        detector.neighbor_distance_scale_, rel=1e-3
    )


def test_reference_rows_are_the_best_reconstructed_training_rows(planted):
    X, _ = planted
    detector = AutoencoderAnomalyDetector(
        max_samples=1.0, trim_fraction=0.25, **FAST_5_EPOCHS
    ).fit(X)
    n_kept = len(X) - int(0.25 * len(X))
    assert detector.neighbor_rows_.shape == (n_kept, X.shape[1])
    assert detector.neighbor_rows_.dtype == np.float32
    # They are training rows, in the scaled space, in their original order...
    Xs = _scaled(detector, X).astype(np.float32)
    matches = (np.abs(Xs[:, None, :] - detector.neighbor_rows_[None]) < 1e-5).all(axis=2)
    rows = np.flatnonzero(matches.any(axis=1))
    assert len(rows) == n_kept and (np.diff(matches[rows].argmax(axis=1)) > 0).all()
    # ...and none of the left-out rows is reconstructed better than a kept one.
    term = (_reconstruction_errors(detector, X) / detector.feature_error_scale_).mean(axis=1)
    left_out = np.setdiff1d(np.arange(len(X)), rows)
    assert term[left_out].min() >= term[rows].max() - 1e-6


def test_reference_is_capped_at_256_training_rows():
    X = np.random.RandomState(0).normal(size=(1500, 4))
    detector = AutoencoderAnomalyDetector(**dict(FAST, max_epochs=2)).fit(X)
    # 1,000 training rows, 800 kept by the 20% trim, 256 of them drawn.
    assert detector.neighbor_rows_.shape == (256, 4)
    again = AutoencoderAnomalyDetector(**dict(FAST, max_epochs=2)).fit(X)
    assert np.array_equal(detector.neighbor_rows_, again.neighbor_rows_)


def test_neighbor_term_finds_anomalies_the_reconstruction_misses():
    # Inliers: two tight clusters on a line through 6-d space; anomalies: rows on the
    # same line between the clusters. A network with a 1-wide code reconstructs the
    # whole line, so the anomalies' reconstruction error is small; they are far from
    # every inlier, which the neighbour term measures.
    rng = np.random.RandomState(0)
    direction = rng.normal(size=6)
    clusters = rng.choice([-3.0, 3.0], size=600) + 0.2 * rng.normal(size=600)
    t = np.r_[clusters, rng.uniform(-1, 1, 12)]
    X = t[:, None] * direction + 0.05 * rng.normal(size=(612, 6))
    is_outlier = np.r_[np.zeros(600), np.ones(12)]
    params = dict(n_components=1, hidden_layer_sizes=(16,), max_epochs=30, random_state=0)
    auc = {}
    for n_neighbors in [None, 10]:
        detector = AutoencoderAnomalyDetector(n_neighbors=n_neighbors, **params).fit(X)
        auc[n_neighbors] = roc_auc_score(is_outlier, -detector.score_samples(X))
    # Seeds 0-2 (data and model): reconstruction alone 0.78, 0.49, 0.14; with the
    # neighbour term 1.00, 1.00, 1.00.
    assert auc[10] > 0.99 and auc[10] > auc[None] + 0.1, auc


def test_n_neighbors_beyond_the_reference_uses_its_farthest_row():
    X = np.random.RandomState(0).normal(size=(60, 3))
    params = dict(FAST, max_epochs=2, trim_fraction=0.0)
    capped = AutoencoderAnomalyDetector(n_neighbors=500, **params).fit(X)
    exact = AutoencoderAnomalyDetector(n_neighbors=60, **params).fit(X)
    np.testing.assert_allclose(capped.score_samples(X), exact.score_samples(X))


def test_partial_fit_takes_the_reference_from_its_chunk():
    rng = np.random.RandomState(0)
    first, second = rng.normal(size=(300, 4)), rng.normal(size=(200, 4)) + 1
    detector = AutoencoderAnomalyDetector(**FAST_5_EPOCHS).partial_fit(first)
    detector.partial_fit(second)
    assert len(detector.neighbor_rows_) == 200 - int(0.2 * 200)
    Xs = _scaled(detector, second).astype(np.float32)
    assert all(np.abs(Xs - row).max(axis=1).min() < 1e-5 for row in detector.neighbor_rows_)


def test_error_scaling_keeps_a_noisy_feature_from_drowning_the_others():
    # Inliers: four columns driven by one latent factor plus a fifth column of
    # independent noise that a 1-wide code cannot carry. Outliers break the relation
    # between the first four columns and leave the noise column as it is.
    rng = np.random.RandomState(0)
    t = rng.normal(size=(2000, 1))
    X = np.hstack([t, 2 * t, -t, 0.5 * t]) + 0.05 * rng.normal(size=(2000, 4))
    X[-40:, :4] += rng.choice([-1.0, 1.0], size=(40, 4))
    X = np.hstack([X, rng.normal(size=(2000, 1))])
    is_outlier = np.r_[np.zeros(1960), np.ones(40)]
    detector = AutoencoderAnomalyDetector(
        n_components=1, hidden_layer_sizes=(16,), max_epochs=30, n_neighbors=None, random_state=0
    ).fit(X)
    # The noise column's typical error is several times the others'.
    assert detector.feature_error_scale_[4] > 4 * detector.feature_error_scale_[:4].max()
    scaled = -detector.score_samples(X)
    raw = (detector.score_features(X) * detector.feature_error_scale_).mean(axis=1)
    auc_scaled, auc_raw = roc_auc_score(is_outlier, scaled), roc_auc_score(is_outlier, raw)
    # In the raw mean the noise column's large errors blur the planted deviations
    # (seeds 0-2: 0.90, 0.94, 0.87); divided by their typical error, each column
    # counts alike (0.94, 0.99, 0.93).
    assert auc_scaled >= 0.9 and auc_scaled > auc_raw + 0.02, (auc_scaled, auc_raw)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"max_samples": 0}, "'max_samples' parameter"),
        ({"max_samples": 1.5}, "'max_samples' parameter"),
        ({"max_samples": "all"}, "'max_samples' parameter"),
        ({"contamination": 0.7}, "'contamination' parameter"),
        ({"contamination": "high"}, "'contamination' parameter"),
        ({"trim_fraction": 1.0}, "'trim_fraction' parameter"),
        ({"trim_warmup_epochs": -1}, "'trim_warmup_epochs' parameter"),
        ({"n_neighbors": 0}, "'n_neighbors' parameter"),
        ({"n_neighbors": 2.5}, "'n_neighbors' parameter"),
    ],
)
def test_invalid_parameters(planted, params, match):
    X, _ = planted
    with pytest.raises(ValueError, match=match):
        AutoencoderAnomalyDetector(**{**FAST_5_EPOCHS, **params}).fit(X)


def test_neighbor_term_leaves_missing_entries_out(planted):
    X, _ = planted
    detector = AutoencoderAnomalyDetector(max_samples=1.0, n_neighbors=3, **FAST_5_EPOCHS).fit(X)
    holes = np.array(X[:20], dtype=float)
    holes[np.arange(20), np.arange(20) % X.shape[1]] = np.nan
    features = detector.score_features(holes)
    assert np.array_equal(np.isnan(features), np.isnan(holes))
    np.testing.assert_allclose(
        detector.score_samples(holes), -np.nanmean(features, axis=1), rtol=1e-6
    )
    # The neighbour part by brute force over each row's observed entries.
    Xs = _scaled(detector, holes)
    observed = ~np.isnan(Xs)
    filled = np.where(observed, Xs, 0.0)
    reference = detector.neighbor_rows_.astype(np.float64)
    distances = (((filled[:, None, :] - reference[None]) ** 2) * observed[:, None, :]).sum(axis=2)
    kth = reference[np.argsort(distances, axis=1, kind="stable")[:, 2]]
    gaps = np.where(observed, (filled - kth) ** 2, np.nan) / detector.neighbor_distance_scale_
    reconstruction = features - gaps
    # What is left is the reconstruction term: finite where observed, as scored alone.
    expected = detector._map_errors(
        detector._check_X(holes),
        lambda module: detector._loss_terms(module, detector.feature_error_scale_),
        X.shape[1],
    )
    np.testing.assert_allclose(reconstruction, expected, rtol=1e-3, atol=1e-5)
