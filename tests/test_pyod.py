"""sk_autoencoder.pyod: the detector with PyOD's conventions, tested with PyOD's tools.

PyOD is in the ``test`` extra, so CI runs these; without it they skip (except the
import test, which needs no PyOD).
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from _shared import TINY
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer

try:
    import pyod  # noqa: F401
except ImportError:
    HAS_PYOD = False
else:
    HAS_PYOD = True

needs_pyod = pytest.mark.skipif(not HAS_PYOD, reason='needs PyOD: pip install ".[pyod]"')


def test_import_sk_autoencoder_does_not_import_pyod():
    # And without PyOD, importing the adapter says how to install it.
    code = (
        "import sys, sk_autoencoder\n"
        "print('pyod' in sys.modules)\n"
        "sys.modules['pyod'] = None\n"
        "try:\n"
        "    import sk_autoencoder.pyod\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported, message = out.stdout.strip().splitlines()
    assert imported == "False"
    assert message.startswith("sk_autoencoder.pyod needs PyOD, which is not installed")
    assert 'pip install ".[pyod]"' in message


@pytest.fixture(scope="module")
def generated():
    """PyOD's own benchmark scenario: 10% uniform outliers around Gaussian inliers."""
    from pyod.utils.data import generate_data

    return generate_data(n_train=300, n_test=200, n_features=5, contamination=0.1, random_state=0)


@pytest.fixture(scope="module")
def fitted(generated):
    from sk_autoencoder.pyod import PyODAutoencoder

    X_train = generated[0]
    detector = AutoencoderAnomalyDetector(max_epochs=20, random_state=0)
    return PyODAutoencoder(detector, contamination=0.1).fit(X_train)


@needs_pyod
def test_is_a_pyod_detector(fitted):
    from pyod.models.base import BaseDetector

    assert isinstance(fitted, BaseDetector)
    assert fitted.get_params(deep=False) == {
        "contamination": 0.1,
        "estimator": fitted.estimator,
    }
    # The wrapped detector was cloned: the one passed in stays unfitted.
    assert not hasattr(fitted.estimator, "net_")
    assert fitted.estimator_.n_iter_ == 20


@needs_pyod
def test_generate_data_scenario(generated, fitted):
    X_train, X_test, y_train, y_test = generated
    # PyOD's convention: higher decision_function is more abnormal. The reversed sign
    # would give 1 - AUC (0.0 on this data), which the floor rules out.
    assert roc_auc_score(y_test, fitted.decision_function(X_test)) > 0.9
    assert roc_auc_score(y_train, fitted.decision_scores_) > 0.9
    # threshold_ is the 90th percentile of the training scores: labels_ flags 10%.
    assert fitted.labels_.mean() == pytest.approx(0.1, abs=1 / len(X_train))
    assert fitted.threshold_ == pytest.approx(np.percentile(fitted.decision_scores_, 90))
    np.testing.assert_allclose(fitted.decision_function(X_train), fitted.decision_scores_)
    np.testing.assert_array_equal(fitted.predict(X_train), fitted.labels_)
    assert set(np.unique(fitted.predict(X_test))) <= {0, 1}
    # The mapping to the scikit-learn estimator it wraps.
    np.testing.assert_array_equal(
        fitted.decision_function(X_test), -fitted.estimator_.score_samples(X_test)
    )


@needs_pyod
def test_fit_ignores_labels(generated, fitted):
    X_train, _, y_train, _ = generated
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyOD's "y should not be presented" stays quiet
        supervised = clone(fitted).fit(X_train, y_train)
    np.testing.assert_array_equal(supervised.decision_scores_, fitted.decision_scores_)
    # All-zero labels (one class) would make PyOD's own helper set one class and break
    # predict_proba; it keeps two columns.
    one_class = clone(fitted).fit(X_train, np.zeros(len(X_train)))
    assert one_class.predict_proba(X_train[:3]).shape == (3, 2)


@needs_pyod
@pytest.mark.parametrize("method", ["linear", "unify"])
def test_predict_proba_rows_sum_to_one_in_score_order(generated, fitted, method):
    X_test = generated[1]
    proba = fitted.predict_proba(X_test, method=method)
    assert proba.shape == (len(X_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    # Column 1 is the outlier probability: it rises with the outlier score.
    order = np.argsort(fitted.decision_function(X_test), kind="stable")
    assert (np.diff(proba[order, 1]) >= 0).all()
    assert proba[:, 1].max() > proba[:, 1].min()


@needs_pyod
def test_predict_confidence(generated, fitted):
    X_test = generated[1]
    confidence = fitted.predict_confidence(X_test)
    assert confidence.shape == (len(X_test),)
    assert ((confidence >= 0) & (confidence <= 1)).all()
    labels, same = fitted.predict(X_test, return_confidence=True)
    np.testing.assert_array_equal(same, confidence)
    np.testing.assert_array_equal(labels, fitted.predict(X_test))


def _planted_rows(seed):
    """300 rows near a 3-d subspace of 10 columns, and 15 planted rows whose values
    are each column's own (drawn from the bulk) but whose correlations are broken."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(315, 3)) @ rng.normal(size=(3, 10)) + 0.1 * rng.normal(size=(315, 10))
    X[300:] = np.column_stack([rng.permutation(X[:300, j])[:15] for j in range(10)])
    return X, np.r_[np.zeros(300), np.ones(15)]


@needs_pyod
def test_lscp_with_lof_at_least_as_good_as_lof(recwarn):
    from pyod.models.lof import LOF
    from pyod.models.lscp import LSCP

    from sk_autoencoder.pyod import PyODAutoencoder

    X, is_outlier = _planted_rows(0)
    ours = PyODAutoencoder(AutoencoderAnomalyDetector(random_state=0))
    lscp = LSCP([LOF(), ours], random_state=0).fit(X)
    lof_auc = roc_auc_score(is_outlier, lscp.detector_list[0].decision_scores_)
    lscp_auc = roc_auc_score(is_outlier, lscp.decision_scores_)
    # Measured: LOF 0.961, ours 1.0, LSCP 0.990. With scikit-learn's sign (higher =
    # more normal) LSCP would pick and combine reversed scores and fall far below.
    assert lscp_auc >= lof_auc, (lscp_auc, lof_auc)
    assert roc_auc_score(is_outlier, ours.decision_scores_) > lof_auc


@needs_pyod
def test_grid_search_over_wrapped_parameters(generated):
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from sk_autoencoder.pyod import PyODAutoencoder

    X_train, _, y_train, _ = generated
    search = GridSearchCV(
        PyODAutoencoder(AutoencoderAnomalyDetector(**dict(TINY, max_epochs=10))),
        {"estimator__n_components": [1, 2]},
        # PyOD's usual evaluation, on held-out rows: roc_auc_score(y, decision_function).
        scoring=lambda est, X, y: roc_auc_score(y, est.decision_function(X)),
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
    ).fit(X_train, y_train)
    assert (
        search.best_estimator_.estimator_.n_components_
        == search.best_params_["estimator__n_components"]
    )
    assert search.best_score_ > 0.9


@needs_pyod
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(contamination=0.7), r"contamination must be in \(0, 0.5\], got 0.7"),
        (dict(contamination="auto"), "contamination must be a float in"),
        (dict(estimator=AutoencoderTransformer()), "estimator must be an AutoencoderAnomalyDet"),
    ],
)
def test_invalid_parameters(generated, params, match):
    from sk_autoencoder.pyod import PyODAutoencoder

    with pytest.raises(ValueError, match=match):
        PyODAutoencoder(**params).fit(generated[0])


@needs_pyod
def test_unfitted_raises_not_fitted(generated):
    from sk_autoencoder.pyod import PyODAutoencoder

    with pytest.raises(NotFittedError):
        PyODAutoencoder().decision_function(generated[1])


@needs_pyod
def test_feature_names_follow_the_input(generated):
    import pandas as pd

    from sk_autoencoder.pyod import PyODAutoencoder

    frame = pd.DataFrame(generated[0], columns=list("abcde"))
    clf = PyODAutoencoder(AutoencoderAnomalyDetector(**TINY)).fit(frame)
    assert clf.feature_names_in_.tolist() == list("abcde")
    assert clf.n_features_in_ == 5
    clf.fit(generated[0])
    assert not hasattr(clf, "feature_names_in_")


@needs_pyod
def test_sparse_and_missing_input_as_the_wrapped_detector_takes_it(generated):
    import scipy.sparse as sp

    from sk_autoencoder.pyod import PyODAutoencoder

    X = np.where(generated[0] > 1.0, generated[0], 0.0)  # mostly zeros
    dense = PyODAutoencoder(AutoencoderAnomalyDetector(**TINY)).fit(X)
    sparse = PyODAutoencoder(AutoencoderAnomalyDetector(**TINY)).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(
        sparse.decision_function(sp.csr_matrix(X)), dense.decision_function(X), rtol=1e-5
    )
    assert sparse.predict_proba(sp.csr_matrix(X)).shape == (len(X), 2)
    X_missing = X.copy()
    X_missing[::7, 0] = np.nan
    holes = PyODAutoencoder(AutoencoderAnomalyDetector(**TINY)).fit(X_missing)
    assert np.isfinite(holes.decision_scores_).all()
    np.testing.assert_array_equal(holes.predict(X_missing), holes.labels_)
