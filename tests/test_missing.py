"""Missing values (NaN, pandas NA): training on observed entries, imputation, scores."""

import numpy as np
import pandas as pd
import pytest
import torch
from _shared import ESTIMATORS, SMALL_NET, TINY, curved_manifold
from sklearn.utils import get_tags

from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer
from sk_autoencoder._data import _network_input, _Target
from sk_autoencoder._losses import _LOSSES, _observed_loss

# The imputation setting of the user guide, small: masking noise teaches the network to
# predict hidden entries from the others.
IMPUTER = dict(
    SMALL_NET,
    n_components=4,
    noise=0.3,
    noise_type="masking",
    learning_rate=3e-3,
    max_epochs=30,
    n_iter_no_change=30,
)


@pytest.fixture(scope="module")
def holes():
    """Rows near a curved 2-d manifold in 8 columns, 20% of the entries removed at
    random: ``(X complete, X with NaN, mask of the removed entries)``."""
    X, _ = curved_manifold(400, 8)
    X = X.astype(np.float64)
    mask = np.random.RandomState(0).rand(*X.shape) < 0.2
    return X, np.where(mask, np.nan, X), mask


def _rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def test_allow_nan_tag_is_set():
    for cls in ESTIMATORS:
        assert get_tags(cls()).input_tags.allow_nan


def test_transformer_imputes_better_than_column_means(holes):
    X, X_missing, mask = holes
    ae = AutoencoderTransformer(**IMPUTER).fit(X_missing)
    # Training converges (measured 0.73: the first epoch starts at PCA's solution).
    assert ae.loss_curve_[-1] < 0.8 * ae.loss_curve_[0]
    completed = ae.inverse_transform(ae.transform(X_missing))
    assert np.isfinite(completed).all()  # a complete table
    means = np.broadcast_to(np.nanmean(X_missing, axis=0), X.shape)
    # Measured: 2.07 against 3.28 for the column means.
    assert _rmse(completed[mask], X[mask]) < 0.75 * _rmse(means[mask], X[mask])
    scores = ae.score_samples(X_missing)
    assert np.isfinite(scores).all() and np.isfinite(ae.score(X_missing))


def test_missing_entry_is_fed_as_zero_in_the_scaled_space(holes):
    """The network sees a hole as 0 after scaling: the training mean of the column with
    standardisation, its minimum with min-max scaling (what masking noise also uses)."""
    _, X_missing, mask = holes
    for preprocessing, fill in [("standard", "mean_"), ("minmax", "data_min_")]:
        ae = AutoencoderTransformer(preprocessing=preprocessing, **TINY).fit(X_missing)
        filled = np.where(mask, getattr(ae.scaler_, fill), X_missing)
        np.testing.assert_allclose(ae.transform(X_missing), ae.transform(filled), atol=1e-6)
    batch = torch.tensor([[1.0, float("nan")], [2.0, 3.0]])
    inputs, observed = _network_input(batch)
    assert inputs.tolist() == [[1.0, 0.0], [2.0, 3.0]]
    assert observed.tolist() == [[True, False], [True, True]]
    assert _network_input(inputs)[1] is None


def test_training_loss_counts_observed_entries_only():
    reconstruction = torch.tensor([[1.0, 2.0, 0.0], [0.5, 0.0, 1.0]])
    values = torch.tensor([[0.0, 0.0, 0.0], [1.5, 2.0, 0.0]])  # holes are 0
    observed = torch.tensor([[True, True, False], [True, False, True]])
    loss, share = _observed_loss(reconstruction, _Target(values, observed, None), "mse")
    # Squared errors of the observed entries: 1, 4 | 1, 1.
    assert loss.item() == pytest.approx(7 / 4)
    assert share.item() == pytest.approx(4 / 6)
    weights = torch.tensor([1.0, 3.0])
    loss, share = _observed_loss(reconstruction, _Target(values, observed, weights), "mse")
    assert loss.item() == pytest.approx((1 + 4 + 3 * (1 + 1)) / (2 + 3 * 2))
    assert share.item() == pytest.approx((2 + 3 * 2) / (3 * (1 + 3)))


def test_detector_scores_average_over_observed_entries(holes):
    _, X_missing, mask = holes
    detector = AutoencoderAnomalyDetector(max_epochs=5, **SMALL_NET).fit(X_missing)
    errors = detector.score_features(X_missing)
    np.testing.assert_array_equal(np.isnan(errors), mask)
    scores = detector.score_samples(X_missing)
    assert np.isfinite(scores).all() and np.isfinite(detector.feature_error_scale_).all()
    np.testing.assert_allclose(scores, -np.nanmean(errors, axis=1), rtol=1e-12)
    np.testing.assert_array_equal(
        detector.predict(X_missing), np.where(scores < detector.offset_, -1, 1)
    )
    # A complete row scores as before: holes elsewhere do not change it.
    complete = ~mask.any(axis=1)
    np.testing.assert_array_equal(detector.score_samples(X_missing[complete]), scores[complete])


def test_variational_elbo_counts_the_observed_entries(holes):
    _, X_missing, mask = holes
    vae = AutoencoderTransformer(architecture="variational", max_epochs=5, **SMALL_NET)
    vae.fit(X_missing)
    errors, kl = vae._variational_terms(vae._check_X(X_missing))
    np.testing.assert_array_equal(np.isnan(errors), mask)
    constant = _LOSSES["mse"].log_likelihood_constant * (~mask).sum(axis=1)
    np.testing.assert_allclose(
        vae.score_samples(X_missing), -np.nansum(errors, axis=1) - kl - constant, rtol=1e-12
    )


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_partial_fit_and_warm_start_take_holes(Estimator, holes):
    _, X_missing, _ = holes
    model = Estimator(**TINY)
    model.partial_fit(X_missing[:200])
    # A later chunk may miss a whole column; only the first one may not.
    chunk = X_missing[200:].copy()
    chunk[:, 0] = np.nan
    model.partial_fit(chunk)
    assert np.isfinite(model.score_samples(X_missing)).all()
    warm = Estimator(warm_start=True, **TINY).fit(X_missing)
    warm.fit(chunk)
    assert warm.n_iter_ == 2 * TINY["max_epochs"]


def test_binary_cross_entropy_and_early_stopping_with_holes(holes):
    _, X_missing, _ = holes
    ae = AutoencoderTransformer(
        loss="bce", preprocessing="minmax", early_stopping=True, max_epochs=3, **SMALL_NET
    ).fit(X_missing)
    assert np.isfinite(ae.validation_scores_).all()
    assert np.isfinite(ae.score_samples(X_missing)).all()
    # The domain check still sees the observed values.
    with pytest.raises(ValueError, match="loss='bce' needs scaled training data"):
        AutoencoderTransformer(loss="bce", **TINY).fit(X_missing)


def test_detector_trims_with_holes_and_penalties_with_holes(holes):
    _, X_missing, _ = holes
    detector = AutoencoderAnomalyDetector(
        trim_warmup_epochs=1, sparsity=0.1, contractive=0.1, max_epochs=3, **SMALL_NET
    ).fit(X_missing)
    assert np.isfinite(detector.loss_curve_).all()
    assert np.isfinite(detector.decision_function(X_missing)).all()


def test_pandas_na_in_a_frame_works_like_nan(holes):
    _, X_missing, _ = holes
    frame = pd.DataFrame(X_missing, columns=list("abcdefgh")).astype("Float64")
    assert frame.isna().to_numpy().any() and frame.dtypes.iloc[0] == "Float64"
    a = AutoencoderAnomalyDetector(**TINY).fit(frame)
    b = AutoencoderAnomalyDetector(**TINY).fit(X_missing)
    np.testing.assert_array_equal(a.score_samples(frame), b.score_samples(X_missing))
    assert list(a.score_features(frame).columns) == list("abcdefgh")


def test_overflowing_row_with_holes_is_scored_in_float64(holes):
    # A hole is NaN by design in score_features; an entry whose float32 error overflows
    # is recomputed in float64: the two must not be confused.
    _, X_missing, _ = holes
    detector = AutoencoderAnomalyDetector(**TINY).fit(X_missing)
    row = np.zeros((2, X_missing.shape[1]))
    row[:, 0] = np.nan
    row[0, 1] = 1e25  # its squared error overflows float32
    features = detector.score_features(row)
    assert np.isnan(features[:, 0]).all() and np.isfinite(features[:, 1:]).all()
    assert features[0, 1] > 1e40
    scores = detector.score_samples(row)
    np.testing.assert_allclose(scores, -np.nanmean(features, axis=1), rtol=1e-12)
    assert np.isfinite(scores).all() and scores[0] < scores[1]
