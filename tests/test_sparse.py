"""scipy sparse and pandas sparse input: densified batch by batch, same as dense."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from _shared import ESTIMATORS, FAST, TINY, outputs

import sk_autoencoder._data as data_module
from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer


def _sparse_table(n_rows=300, n_features=20, density=0.2, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_rows, n_features)) * (rng.rand(n_rows, n_features) < density)
    return X


def _assert_close_outputs(a, b, X_a, X_b):
    expected, actual = outputs(a, X_a), outputs(b, X_b)
    for name, value in expected.items():
        # Within float32 rounding of the network's outputs.
        np.testing.assert_allclose(actual[name], value, rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.coo_array])
def test_sparse_input_gives_the_dense_results(Estimator, container, monkeypatch):
    X = _sparse_table()
    # Chunks of 5 rows of 20 features: every fit and call densifies piece by piece.
    monkeypatch.setattr(data_module, "_SPARSE_CHUNK_ENTRIES", 100)
    dense = Estimator(**FAST).fit(X)
    sparse = Estimator(**FAST).fit(container(X))
    np.testing.assert_allclose(sparse.scaler_.mean_, dense.scaler_.mean_, rtol=1e-12)
    _assert_close_outputs(dense, sparse, X, container(X))
    # And a model fitted on dense rows answers sparse ones alike, float32 included.
    _assert_close_outputs(dense, dense, X, container(X))
    X32 = X.astype(np.float32)
    np.testing.assert_allclose(
        dense.score_samples(sp.csr_matrix(X32)), dense.score_samples(X32), rtol=1e-6
    )
    assert dense.score_samples(sp.csr_matrix(X32)).dtype == np.float32


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_sparse_with_missing_entries_and_weights(Estimator):
    X = _sparse_table()
    X[np.random.RandomState(1).rand(*X.shape) < 0.1] = np.nan  # explicit NaN: missing
    weights = np.arange(len(X)) % 3 * 1.0
    dense = Estimator(**FAST).fit(X, sample_weight=weights)
    sparse = Estimator(**FAST).fit(sp.csr_matrix(X), sample_weight=weights)
    _assert_close_outputs(dense, sparse, X, sp.csr_matrix(X))
    sparse.partial_fit(sp.csr_matrix(X[:100]))
    assert np.isfinite(sparse.score_samples(sp.csr_matrix(X))).all()


def test_sparse_training_options(monkeypatch):
    """Early stopping (a validation split of the sparse rows), trimming, BCE."""
    X = np.abs(_sparse_table())
    monkeypatch.setattr(data_module, "_SPARSE_CHUNK_ENTRIES", 100)
    for params in (
        dict(early_stopping=True, max_epochs=4),
        dict(loss="bce", preprocessing="minmax"),
    ):
        dense = AutoencoderAnomalyDetector(trim_warmup_epochs=1, **{**FAST, **params}).fit(X)
        sparse = AutoencoderAnomalyDetector(trim_warmup_epochs=1, **{**FAST, **params}).fit(
            sp.csr_matrix(X)
        )
        _assert_close_outputs(dense, sparse, X, sp.csr_matrix(X))


def test_pandas_sparse_columns():
    X = _sparse_table(n_rows=100, n_features=4)
    columns = ["a", "b", "c", "d"]
    frame = pd.DataFrame(X, columns=columns).astype(pd.SparseDtype("float64", 0))
    dense_frame = pd.DataFrame(X, columns=columns)
    dense = AutoencoderAnomalyDetector(**TINY).fit(dense_frame)
    sparse = AutoencoderAnomalyDetector(**TINY).fit(frame)
    assert list(sparse.feature_names_in_) == columns
    np.testing.assert_allclose(
        sparse.score_samples(frame), dense.score_samples(dense_frame), rtol=1e-6
    )
    assert list(sparse.score_features(frame).columns) == columns
    mixed = frame.assign(d=X[:, 3])
    with pytest.raises(ValueError, match=r"X mixes sparse columns \('a', 'b', 'c'\) with dense"):
        AutoencoderAnomalyDetector(**TINY).fit(mixed)
    nan_fill = pd.DataFrame(X, columns=columns).astype(pd.SparseDtype("float64"))
    with pytest.raises(ValueError, match="implicit value is not 0 \\(fill_value nan in 'a'\\)"):
        AutoencoderAnomalyDetector(**TINY).fit(nan_fill)


def test_sparse_rows_are_never_densified_as_a_whole(monkeypatch):
    """A 5,000 x 1,000 CSR matrix at 1% density: 0.6 MB as float64 CSR, 40 MB dense. Fit,
    transform and scores allocate no more than the output and a few densified chunks
    (of 64k entries here, 0.5 MB) or training batches (200 rows, 1.6 MB)."""
    monkeypatch.setattr(data_module, "_SPARSE_CHUNK_ENTRIES", 1 << 16)
    rng = np.random.RandomState(0)
    X = sp.random(5_000, 1_000, density=0.01, format="csr", random_state=rng)
    params = dict(n_components=4, hidden_layer_sizes=(8,), max_epochs=1, random_state=0)
    AutoencoderTransformer(**params).fit(X[:300])  # imports on first training: not data
    chunk = max(data_module._SPARSE_CHUNK_ENTRIES, 200 * X.shape[1]) * 8
    tracemalloc.start()
    try:
        ae = AutoencoderTransformer(**params).fit(X)
        _, fit_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        codes = ae.transform(X)
        scores = ae.score_samples(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fit_peak < 4 * chunk
    assert peak < codes.nbytes + scores.nbytes + 4 * chunk
    assert np.isfinite(codes).all() and np.isfinite(scores).all()


def test_training_checks_read_sparse_rows_as_the_dense_ones():
    # The noise bound and the divergence reference read the training rows chunk by
    # chunk: a sparse matrix gives the same figures as its dense equivalent.
    X = sp.random(300, 20, density=0.1, random_state=0, format="csr")
    messages = []
    for rows in (X, X.toarray()):
        with pytest.raises(ValueError, match="standard deviation of the Gaussian") as info:
            AutoencoderTransformer(max_epochs=2, noise=1e6, random_state=0).fit(rows)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    references = [
        dict(AutoencoderTransformer(**TINY).fit(rows).net_.callbacks_)[
            "divergence_check"
        ].reference_
        for rows in (X, X.toarray())
    ]
    assert references[0] == pytest.approx(references[1], rel=1e-6) and references[0] > 0
