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


def test_feature_error_scale_is_the_median_training_error(planted):
    X, _ = planted
    # Trained on every row, so the median is taken over all of them.
    detector = AutoencoderAnomalyDetector(max_samples=1.0, **FAST_5_EPOCHS).fit(X)
    raw = detector.score_features(X) * detector.feature_error_scale_
    # Columns the network reproduces exactly (digits' constant pixels) sit at the floor.
    expected = np.maximum(np.median(raw, axis=0), 1e-6)
    np.testing.assert_allclose(detector.feature_error_scale_, expected, rtol=1e-5)
    medians = np.median(detector.score_features(X), axis=0)
    np.testing.assert_allclose(medians[expected > 1e-6], 1.0, rtol=1e-4)


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
        n_components=1, hidden_layer_sizes=(16,), max_epochs=30, random_state=0
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
    ],
)
def test_invalid_parameters(planted, params, match):
    X, _ = planted
    with pytest.raises(ValueError, match=match):
        AutoencoderAnomalyDetector(**{**FAST_5_EPOCHS, **params}).fit(X)
