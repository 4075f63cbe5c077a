"""The scaling layer and the network's input range: ``GlobalScaler``
(``preprocessing="global"``), and rows with rare or unseen values in near-constant,
sparse and one-hot columns, for both estimators."""

import numpy as np
import pytest
import torch
from _shared import ESTIMATORS, SMALL_NET, correlated_rows
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer, GlobalScaler
from sk_autoencoder._scaling import _PREPROCESSING


# ------------------------------------------------------------------ GlobalScaler
def test_global_scaler_divides_by_the_rms_of_the_standard_deviations():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4)) * [1.0, 10.0, 100.0, 0.0] + [5.0, -3.0, 0.0, 7.0]
    scaler = GlobalScaler().fit(X)
    # The constant last column does not count in the common scale.
    common = np.sqrt(np.mean(X[:, :3].var(axis=0)))
    np.testing.assert_allclose(scaler.scale_, np.full(4, common))
    np.testing.assert_allclose(scaler.transform(X), (X - X.mean(axis=0)) / common, atol=1e-12)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X, atol=1e-10)
    # Relative sizes are kept: the varying columns' scaled variances average 1.
    assert np.mean(scaler.transform(X)[:, :3].var(axis=0)) == pytest.approx(1.0)


def test_global_scaler_partial_fit_matches_fit_and_constant_data_gets_scale_one():
    X = correlated_rows(300, 5)
    streamed = GlobalScaler()
    for chunk in np.array_split(X, 7):
        streamed.partial_fit(chunk)
    np.testing.assert_allclose(streamed.scale_, GlobalScaler().fit(X).scale_, rtol=1e-12)
    np.testing.assert_array_equal(GlobalScaler().fit(np.ones((5, 3))).scale_, np.ones(3))


def test_global_preprocessing_measures_errors_in_the_data_s_own_units(digits):
    X_train, X_test, _, _ = digits
    ae = AutoencoderTransformer(preprocessing="global", hidden_layer_sizes=(8,), max_epochs=2)
    ae.fit(X_train)
    assert type(ae.scaler_) is GlobalScaler
    assert _PREPROCESSING["global"].scaler is GlobalScaler
    raw_mse = np.mean((ae.inverse_transform(ae.transform(X_test)) - X_test) ** 2, axis=1)
    # score_samples is minus the raw squared error over the one common scale squared.
    scale = ae.scaler_.scale_[0]
    np.testing.assert_allclose(-ae.score_samples(X_test), raw_mse / scale**2, rtol=1e-4)


# ------------------------------------------------------------- the input range
def _sparse_one_hot_table(n_rows=1000, n_sparse=8, seed=0):
    """Four correlated Gaussian columns, ``n_sparse`` count columns that are 0 in 99%
    of the rows and 1 otherwise (like rarely inked pixels), and a one-hot block of
    four categories (the last one 1% of rows)."""
    rng = np.random.RandomState(seed)
    gaussian = correlated_rows(n_rows, 4, seed) / 2
    sparse = np.zeros((n_rows, n_sparse))
    for j in range(n_sparse):
        sparse[rng.choice(n_rows, n_rows // 100, replace=False), j] = 1.0
    categories = rng.choice(4, n_rows, p=[0.7, 0.2, 0.09, 0.01])
    return np.column_stack([gaussian, sparse, np.eye(4)[categories]])


def _unusual_rows(X):
    """Legal rows the training data rarely or never shows: the rare category with
    every count at its rare value 1 (each seen, never together), and every count at
    3 or 5 (never seen; the training maximum is 1)."""
    rows = np.repeat(X[:1], 3, axis=0)
    rows[:, -4:] = np.eye(4)[3]
    rows[:, 4:-4] = np.array([[1.0], [3.0], [5.0]])
    return rows


def _hull_bounds(X, rows):
    """Per column: the range of the training rows and of ``rows``, widened on each side
    by the training range (1 for a constant column)."""
    low = np.minimum(X.min(axis=0), rows.min(axis=0))
    high = np.maximum(X.max(axis=0), rows.max(axis=0))
    width = np.where(np.ptp(X, axis=0) > 0, np.ptp(X, axis=0), 1.0)
    return low - width, high + width


# Not "standard": standardised, each rare count is a 10-sigma input, and a row with all
# of them at once is a code far outside the training codes (reconstructions down to -6
# where the bound is -1): the reason the transformer's default is "global".
@pytest.mark.parametrize("preprocessing", ["global", "minmax"])
def test_transformer_outputs_on_rare_and_unseen_legal_values_stay_bounded(preprocessing):
    # A ReLU network fed counts of 5 where training saw 0 or 1 extrapolates them far
    # outside the data: without the clipping of its input, reconstructions reached 40
    # (bound: about 9).
    X = _sparse_one_hot_table()
    rows = _unusual_rows(X)
    ae = AutoencoderTransformer(
        n_components=3, preprocessing=preprocessing, max_epochs=60, random_state=0
    ).fit(X)
    reconstruction = ae.inverse_transform(ae.transform(rows))
    low, high = _hull_bounds(X, rows)
    assert np.isfinite(reconstruction).all()
    assert ((reconstruction >= low) & (reconstruction <= high)).all(), reconstruction
    # Reconstruction and row both in [low, high]: each scaled squared error is at
    # most the scaled width squared.
    a, _ = ae._affine
    bound = np.mean(((high - low) * a) ** 2)
    scores = ae.score_samples(rows)
    assert np.isfinite(scores).all() and (scores >= -bound).all(), (scores, bound)


def test_detector_scores_of_rare_and_unseen_legal_values_stay_bounded():
    X = _sparse_one_hot_table()
    rows = _unusual_rows(X)
    detector = AutoencoderAnomalyDetector(n_components=3, max_epochs=60, random_state=0).fit(X)
    low, high = _hull_bounds(X, rows)
    a, _ = detector._affine
    # A reconstruction within [low, high] keeps each scaled error below the scaled
    # width squared, here in units of the feature's typical error (without the
    # clipping of the network's input: up to 3.7 times this bound).
    bound = ((high - low) * a) ** 2 / detector.feature_error_scale_
    errors = detector.score_features(rows)
    assert np.isfinite(errors).all() and (errors <= bound).all(), errors / bound
    # The unseen counts are still the most abnormal rows.
    scores = detector.score_samples(rows)
    assert scores[2] < scores[1] < detector.offset_


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_hidden_layers_see_rows_clipped_to_the_training_range(Estimator):
    X = correlated_rows(200, 5)
    model = Estimator(
        n_components=2, init="random", max_epochs=3, preprocessing="standard", **SMALL_NET
    ).fit(X)
    module = model.net_.module_
    scaled = torch.from_numpy(model.scaler_.transform(X).astype(np.float32))
    np.testing.assert_allclose(module.input_low, scaled.amin(dim=0), rtol=1e-6)
    np.testing.assert_allclose(module.input_high, scaled.amax(dim=0), rtol=1e-6)
    # A row beyond the range reconstructs as its clipped copy does...
    far = X[:2] + [50.0, 0.0, 0.0, 0.0, -50.0]
    clipped = np.clip(far, X.min(axis=0), X.max(axis=0))
    reconstruction = model._reconstruct(far)
    np.testing.assert_allclose(reconstruction, model._reconstruct(clipped), rtol=1e-5, atol=1e-6)
    # ...while the error (the transformer's, the network's loss) is measured against
    # the real, unclipped values.
    if hasattr(model, "transform"):
        errors = model._elementwise_errors
        far_errors = errors(model._check_X(far))
        clipped_errors = errors(model._check_X(clipped))
        assert (far_errors[:, [0, 4]] > clipped_errors[:, [0, 4]] + 100).all()
        np.testing.assert_allclose(
            far_errors[:, 1:4], clipped_errors[:, 1:4], rtol=1e-4, atol=1e-6
        )
    a, _ = model._affine
    assert (((far - reconstruction) * a)[:, [0, 4]] ** 2 > 100).all()


def test_partial_fit_widens_the_input_range():
    X = correlated_rows(200, 3)
    ae = AutoencoderTransformer(n_components=2, preprocessing=None, **SMALL_NET)
    ae.partial_fit(X[:100])
    ae.partial_fit(X[100:] * 3)
    module = ae.net_.module_
    np.testing.assert_allclose(module.input_high, (X[100:] * 3).max(axis=0), rtol=1e-6)
    np.testing.assert_allclose(
        module.input_low, np.minimum(X[:100].min(axis=0), (X[100:] * 3).min(axis=0)), rtol=1e-6
    )


# --------------------------------------------------------------------- init="pca"
def test_pca_init_starts_from_pca_s_reconstruction(digits):
    X_train, X_test, _, _ = digits
    pca = PCA(n_components=5).fit(X_train)
    expected = pca.inverse_transform(pca.transform(X_test))
    # One epoch at a negligible rate: the network is still as initialised.
    ae = AutoencoderTransformer(
        n_components=5, init="pca", learning_rate=1e-9, max_epochs=1, random_state=0
    ).fit(X_train)
    np.testing.assert_allclose(
        ae.inverse_transform(ae.transform(X_test)), expected, rtol=1e-3, atol=1e-3
    )
    # The codes are PCA's scores in the scaled units, up to each axis's sign.
    codes = ae.transform(X_test) * ae.scaler_.scale_[0]
    signs = np.sign(np.sum(codes * pca.transform(X_test), axis=0))
    np.testing.assert_allclose(codes * signs, pca.transform(X_test), rtol=1e-3, atol=1e-3)


def test_pca_init_standardised_matches_pca_on_standardised_rows(digits):
    X_train, X_test, _, _ = digits
    scaler = StandardScaler().fit(X_train)
    pca = PCA(n_components=3).fit(scaler.transform(X_train))
    ae = AutoencoderTransformer(
        n_components=3,
        preprocessing="standard",
        hidden_layer_sizes=(),
        learning_rate=1e-9,
        max_epochs=1,
    ).fit(X_train)
    expected = scaler.inverse_transform(
        pca.inverse_transform(pca.transform(scaler.transform(X_test)))
    )
    np.testing.assert_allclose(
        ae.inverse_transform(ae.transform(X_test)), expected, rtol=1e-3, atol=1e-3
    )
