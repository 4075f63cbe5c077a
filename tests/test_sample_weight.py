"""Sample weights: weight 0 is a dropped row, integer weights are repeated rows, errors."""

import numpy as np
import pytest
import sklearn
from _shared import ESTIMATORS, FAST, SMALL_NET, TINY, assert_same_outputs, correlated_rows
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from skorch.callbacks import Callback

from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer
from sk_autoencoder._callbacks import _mean_loss
from sk_autoencoder._weights import _weighted_percentile


@pytest.fixture(scope="module")
def table():
    X = correlated_rows(300, 6)
    weights = np.random.RandomState(1).randint(0, 4, size=len(X)).astype(float)
    return X, weights


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_zero_weight_is_exactly_a_dropped_row(Estimator, table):
    X, weights = table
    kept = weights > 0
    # Positive weights that differ, and all-equal ones (which are no weights).
    for positive in (weights, np.where(kept, 2.5, 0.0)):
        weighted = Estimator(**FAST).fit(X, sample_weight=positive)
        dropped = Estimator(**FAST).fit(X[kept], sample_weight=positive[kept])
        assert_same_outputs(weighted, dropped, X)
        np.testing.assert_array_equal(weighted.scaler_.mean_, dropped.scaler_.mean_)
        if Estimator is AutoencoderAnomalyDetector:
            assert weighted.offset_ == dropped.offset_
    unweighted = Estimator(**FAST).fit(X[kept])
    assert_same_outputs(Estimator(**FAST).fit(X, sample_weight=kept * 1.0), unweighted, X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_integer_weights_are_repeated_rows(Estimator, table):
    """With one batch holding every row, the weighted and the repeated objectives are the
    same function: the fits agree up to float32 rounding (summation order). With smaller
    batches they agree in expectation only (the batches differ)."""
    X, weights = table
    repeated = np.repeat(X, weights.astype(int), axis=0)
    # A random start: from a PCA start the hidden layers' last weights are zero, and
    # Adam turns the rounding-level differences of the first gradients into full steps
    # (the start itself is checked in the next test).
    params = dict(
        SMALL_NET, max_epochs=20, n_iter_no_change=20, batch_size=len(repeated), init="random"
    )
    if Estimator is AutoencoderAnomalyDetector:
        # Every row trained on, no noise draws (drawn per entry) and no trimming. No
        # neighbour term: it counts each reference row once, whatever its weight,
        # where the repeated table holds several copies.
        params.update(
            max_samples=1.0, noise=0.0, trim_fraction=0.0, contamination=0.1, n_neighbors=None
        )
    weighted = Estimator(**params).fit(X, sample_weight=weights)
    reference = Estimator(**params).fit(repeated)
    np.testing.assert_allclose(weighted.scaler_.mean_, reference.scaler_.mean_, rtol=1e-12)
    np.testing.assert_allclose(weighted.scaler_.var_, reference.scaler_.var_, rtol=1e-12)
    np.testing.assert_allclose(weighted.loss_curve_, reference.loss_curve_, rtol=1e-5)
    # Measured: 1.2e-7 at most, one float32 ulp of the outputs.
    np.testing.assert_allclose(
        weighted.score_samples(X), reference.score_samples(X), rtol=1e-5, atol=1e-6
    )
    if Estimator is AutoencoderAnomalyDetector:
        # The threshold is the weighted distribution's quantile of the training scores:
        # for integer weights, that quantile of the repeated scores.
        scores = weighted.score_samples(X)
        expected = np.percentile(
            np.repeat(scores, weights.astype(int)), 10, method="averaged_inverted_cdf"
        )
        assert weighted.offset_ == pytest.approx(expected, rel=1e-12)
        # Each feature's typical error is a weighted median the same way.
        errors = weighted._map_errors(X, weighted._loss_terms, X.shape[1])
        median = np.percentile(
            np.repeat(errors, weights.astype(int), axis=0),
            50,
            axis=0,
            method="averaged_inverted_cdf",
        )
        # Times the weighted median of the rows' mean errors so divided.
        terms = np.repeat((errors / median).mean(axis=1), weights.astype(int))
        typical = np.percentile(terms, 50, method="averaged_inverted_cdf")
        np.testing.assert_allclose(weighted.feature_error_scale_, median * typical, rtol=1e-6)


def test_pca_start_and_its_comparison_weigh_rows_as_repetition(table):
    X, weights = table
    repeated = np.repeat(X, weights.astype(int), axis=0)
    start = dict(SMALL_NET, max_epochs=1, learning_rate=1e-12, init="pca")
    weighted = AutoencoderTransformer(**start).fit(X, sample_weight=weights)
    reference = AutoencoderTransformer(**start).fit(repeated)
    expected = reference.net_.module_.state_dict()
    for name, value in weighted.net_.module_.state_dict().items():
        if "linear" in name:  # the PCA start: weighted mean and covariance
            np.testing.assert_allclose(value, expected[name], atol=1e-6, err_msg=name)
    # _KeepBetterStart's loss: the weighted mean of the rows' errors.
    module = weighted.net_.module_
    kept, relative = weighted._weighted_rows(X, weights)
    losses = [
        _mean_loss(module, weighted._training_dataset(rows, w, "cpu"), "mse")
        for rows, w in ((kept, relative), (repeated, None))
    ]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-6)
    unweighted = _mean_loss(module, weighted._training_dataset(kept, None, "cpu"), "mse")
    assert not np.isclose(unweighted, losses[1], rtol=1e-3)


def test_weighted_percentile_matches_repetition():
    rng = np.random.RandomState(0)
    values = rng.normal(size=40)
    counts = rng.randint(0, 4, size=40)
    for q in (0, 10, 25, 50, 75, 100):
        expected = np.percentile(np.repeat(values, counts), q, method="averaged_inverted_cdf")
        assert _weighted_percentile(values, counts * 0.5, q) == pytest.approx(expected)
    # Equal weights are no weights: numpy's linear interpolation.
    assert _weighted_percentile(values, np.full(40, 3.0), 10) == np.percentile(values, 10)
    assert _weighted_percentile(values, None, [25, 75]).tolist() == list(
        np.percentile(values, [25, 75])
    )


def test_auto_threshold_uses_weighted_quartiles(table):
    X, weights = table
    detector = AutoencoderAnomalyDetector(**FAST).fit(X, sample_weight=weights)
    errors = np.repeat(-detector.score_samples(X), weights.astype(int))
    q1, q3 = np.percentile(errors, [25, 75], method="averaged_inverted_cdf")
    assert detector.offset_ == pytest.approx(-(q3 + 1.5 * (q3 - q1)), rel=1e-12)
    assert detector.predict(X).shape == (len(X),)  # zero-weight rows are labelled too


def test_weighted_trimming_drops_at_most_the_trimmed_weight(table):
    X, weights = table
    positive = weights[weights > 0]

    class Trimmed(Callback):
        def on_epoch_begin(self, net, dataset_train=None, **kwargs):
            if dataset_train.rows is not None:
                kept[:] = dataset_train.rows.tolist()

    kept = []
    AutoencoderAnomalyDetector(
        trim_fraction=0.25, trim_warmup_epochs=1, callbacks=[Trimmed()], **FAST
    ).fit(X, sample_weight=weights)
    trimmed = np.setdiff1d(np.arange(len(positive)), kept)
    assert 0 < positive[trimmed].sum() <= 0.25 * positive.sum()
    assert positive[trimmed].sum() > 0.25 * positive.sum() - positive.max()


def test_weighted_scaling_statistics():
    X = correlated_rows(50, 3)
    weights = np.arange(50) % 3 * 1.0
    repeated = np.repeat(X, weights.astype(int), axis=0)
    ae = AutoencoderTransformer(**TINY).fit(X[:30], sample_weight=weights[:30])
    ae.partial_fit(X[30:], sample_weight=weights[30:])
    reference = StandardScaler().fit(repeated)
    np.testing.assert_allclose(ae.scaler_.mean_, reference.mean_, rtol=1e-12)
    np.testing.assert_allclose(ae.scaler_.var_, reference.var_, rtol=1e-12)
    # Min-max scaling is left alone by positive weights; rows of weight 0 are dropped.
    minmax = AutoencoderTransformer(preprocessing="minmax", **TINY).fit(X, sample_weight=weights)
    reference = MinMaxScaler().fit(X[weights > 0])
    np.testing.assert_array_equal(minmax.scaler_.data_min_, reference.data_min_)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_bad_weights_give_scikit_learn_errors(Estimator, method, table):
    X, _ = table
    model = Estimator(**TINY)
    cases = [
        (np.ones(3), r"sample_weight.shape == \(3,\), expected \(300,\)!"),
        (-np.ones(300), "Negative values in data passed to `sample_weight`"),
        (np.zeros(300), "Sample weights must contain at least one non-zero number"),
        (np.ones((300, 2)), "Sample weights must be 1D array or scalar"),
    ]
    for weights, match in cases:
        with pytest.raises(ValueError, match=match):
            getattr(model, method)(X, sample_weight=weights)
        assert not hasattr(model, "net_")
    model.fit(X)
    with pytest.raises(ValueError, match="Negative values"):
        getattr(model, method)(X, sample_weight=-np.ones(300))


def test_weights_route_through_pipelines_and_grid_search(table):
    X, weights = table
    kept = weights > 0
    pipe = make_pipeline(AutoencoderTransformer(**FAST))
    pipe.fit(X, autoencodertransformer__sample_weight=kept * 1.0)
    np.testing.assert_array_equal(
        pipe.transform(X), AutoencoderTransformer(**FAST).fit(X[kept]).transform(X)
    )
    with sklearn.config_context(enable_metadata_routing=True):
        ae = AutoencoderTransformer(**FAST).set_fit_request(sample_weight=True)
        ae.set_score_request(sample_weight=True)
        grid = GridSearchCV(ae, {"n_components": [1, 2]}, cv=KFold(2)).fit(
            X, sample_weight=kept * 1.0
        )
    # The refit on all rows saw the weights: it is the fit without the weight-0 rows.
    np.testing.assert_array_equal(
        grid.best_estimator_.transform(X),
        AutoencoderTransformer(**{**FAST, **grid.best_params_}).fit(X[kept]).transform(X),
    )


def test_transformer_score_takes_weights(table):
    X, weights = table
    ae = AutoencoderTransformer(**TINY).fit(X)
    assert ae.score(X, sample_weight=weights) == pytest.approx(
        np.average(ae.score_samples(X), weights=weights)
    )
