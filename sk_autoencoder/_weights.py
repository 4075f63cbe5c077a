"""Sample weights: their validation, and the weighted statistics built from them.

Weights are relative: only their ratios matter, so rows of equal weight are rows
without weights, and the estimators then run exactly their unweighted code. A row of
weight 0 is left out of everything that is fitted (scaling, training rows, the
detector's threshold), which makes it exactly a dropped row.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.utils.validation import _check_sample_weight


def _check_weights(sample_weight, X) -> np.ndarray | None:
    """``sample_weight`` validated as scikit-learn does (one finite, non-negative
    weight per row of ``X``, not all zero), as float64; None stays None."""
    if sample_weight is None:
        return None
    weights = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    if not (weights > 0).any():  # scikit-learn < 1.7 lets all-zero weights through
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return weights


def _positive_rows(weights: np.ndarray | None) -> np.ndarray | None:
    """Indices of the rows of positive weight, or None when that is every row."""
    if weights is None or (weights > 0).all():
        return None
    return np.flatnonzero(weights > 0)


def _relative(weights: np.ndarray | None) -> np.ndarray | None:
    """``weights`` of rows that are all kept, or None when they are all equal."""
    if weights is None or (weights == weights[0]).all():
        return None
    return weights


def _weighted_percentile(values: np.ndarray, weights: np.ndarray | None, q):
    """Percentile(s) ``q`` (in [0, 100]) of ``values`` along axis 0; NaN is ignored
    (a column without any other value gives NaN).

    Without weights, or where the rows of positive weight all weigh the same, this is
    :func:`numpy.percentile` on those rows (linear interpolation), so equal weights
    give exactly the unweighted result. Otherwise it is the percentile of the
    weighted distribution, NumPy's ``"averaged_inverted_cdf"`` method (as
    scikit-learn's ``_weighted_percentile(average=True)``): it depends only on the
    weights' ratios, and an integer weight ``k`` counts exactly like ``k`` copies of
    the row under the same method.
    """
    values = np.asarray(values, dtype=np.float64)
    if weights is not None:
        kept = _positive_rows(weights)
        if kept is not None:
            values, weights = values[kept], weights[kept]
        weights = _relative(weights)
    if weights is None:
        if not np.isnan(values).any():
            return np.percentile(values, q, axis=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NaN for an empty column
            return np.nanpercentile(values, q, axis=0)
    one_dimensional = values.ndim == 1
    if one_dimensional:
        values = values[:, None]
    order = np.argsort(values, axis=0, kind="stable")  # NaN last
    values = np.take_along_axis(values, order, axis=0)
    mass = np.where(np.isnan(values), 0.0, weights[order])
    cumulative = np.cumsum(mass, axis=0)
    n_valid = (~np.isnan(values)).sum(axis=0)
    columns = np.arange(values.shape[1])
    results = []
    for rank in np.atleast_1d(q):
        target = rank / 100.0 * cumulative[-1]
        # The first value whose cumulative weight reaches the target...
        first = np.minimum((cumulative < target).sum(axis=0), np.maximum(n_valid - 1, 0))
        result = values[first, columns]
        # ...averaged with the next one where the target falls exactly on a step.
        on_step = (cumulative[first, columns] == target) & (first < n_valid - 1)
        following = values[np.minimum(first + 1, len(values) - 1), columns]
        result = np.where(on_step, (result + following) / 2, result)
        results.append(np.where(n_valid > 0, result, np.nan))
    out = np.stack(results)
    if one_dimensional:
        out = out[:, 0]
    return out if np.ndim(q) else out[0]


def _weighted_median(values: np.ndarray, weights: np.ndarray | None):
    """:func:`_weighted_percentile` at 50, with :func:`numpy.median` (exactly its
    midpoint rule) where rows are unweighted and nothing is missing."""
    if weights is None and not np.isnan(values).any():
        return np.median(values, axis=0)
    return _weighted_percentile(values, weights, 50)
