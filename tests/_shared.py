"""Configurations, data and comparisons that several test files use.

Constants and helpers live here so that test modules can import them; the data
fixtures built from them are in ``conftest.py``. Sizes are the smallest that still
make each kind of test meaningful, so the suite stays fast.
"""

import numpy as np

from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer

ESTIMATORS = [AutoencoderTransformer, AutoencoderAnomalyDetector]

# Estimator settings, smallest first. A test that needs other epochs or widths
# extends one of these (``dict(FAST, max_epochs=5)``) rather than spelling a new one.
#: Many fits on small odd tables (hostile input).
TINY = dict(hidden_layer_sizes=(4,), max_epochs=2, random_state=0)
#: The network and seed of the API tests on small tables; the test sets the epochs.
SMALL_NET = dict(hidden_layer_sizes=(8,), random_state=0)
SMALL = dict(SMALL_NET, max_epochs=3)
#: Digits-sized tables (64 columns).
FAST = dict(hidden_layer_sizes=(16,), max_epochs=3, random_state=0)


def correlated_rows(n_rows: int, n_features: int, seed: int = 0) -> np.ndarray:
    """Gaussian rows with correlated columns: standard normal rows times a random
    square matrix."""
    rng = np.random.RandomState(seed)
    return rng.normal(size=(n_rows, n_features)) @ rng.normal(size=(n_features, n_features))


def curved_manifold(
    n_rows: int, n_features: int, seed: int = 0, shift: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Float32 rows near a curved 2-d manifold, column ``j`` scaled by ``j + 1`` and
    shifted by ``shift``; and the 2-d latent coordinates each row was drawn from."""
    rng = np.random.RandomState(seed)
    latent = rng.normal(size=(n_rows, 2))
    X = np.tanh(latent @ rng.normal(size=(2, n_features)))
    X += 0.05 * rng.normal(size=X.shape)
    return (X * np.arange(1, n_features + 1) + shift).astype(np.float32), latent


def outputs(model, X) -> dict:
    """Every public output of a fitted estimator on ``X``, by method name."""
    result = {"score_samples": model.score_samples(X)}
    if hasattr(model, "transform"):
        result["transform"] = model.transform(X)
        result["inverse_transform"] = model.inverse_transform(result["transform"])
    else:
        result["decision_function"] = model.decision_function(X)
        result["predict"] = model.predict(X)
        result["score_features"] = model.score_features(X)
    return result


def assert_same_outputs(a, b, X) -> None:
    """``a`` and ``b`` give identical outputs on ``X``, bit for bit."""
    expected, actual = outputs(a, X), outputs(b, X)
    assert actual.keys() == expected.keys()
    for name, value in expected.items():
        np.testing.assert_array_equal(actual[name], value, err_msg=name)
