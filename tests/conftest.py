"""Data fixtures shared by the test files; constants and helpers are in ``_shared.py``.

Every fixture is module-scoped: each test module gets its own copy, so a module that
changed one could not change another's.
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's digits split 75/25, stratified by class:
    ``(X_train, X_test, y_train, y_test)``."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def digits_unlabelled():
    """The digits' pixels split 75/25 without their labels: ``(X_train, X_test)``."""
    X, _ = load_digits(return_X_y=True)
    return train_test_split(X, test_size=0.25, random_state=0)


@pytest.fixture(scope="module")
def digits_head():
    """The first 300 digits and their labels: ``(X, y)``."""
    X, y = load_digits(return_X_y=True)
    return X[:300], y[:300]


@pytest.fixture(scope="module")
def planted():
    """Digits: all the 1s as inliers, 12 of the 7s planted as outliers (~6%):
    ``(X, is_outlier)``."""
    X, y = load_digits(return_X_y=True)
    inliers, outliers = X[y == 1], X[y == 7][:12]
    X = np.vstack([inliers, outliers])
    is_outlier = np.r_[np.zeros(len(inliers)), np.ones(len(outliers))].astype(int)
    return X, is_outlier
