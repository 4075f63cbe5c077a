"""The autoencoder detector as a PyOD detector, with PyOD's conventions.

:class:`~sk_autoencoder.AutoencoderAnomalyDetector` follows scikit-learn's outlier
conventions (those of :class:`~sklearn.ensemble.IsolationForest`): higher
``decision_function`` is more *normal*, and ``predict`` returns -1 for outliers.
PyOD's detectors use the opposite: higher ``decision_function`` is more
*abnormal*, ``predict`` returns 1 for outliers and 0 for inliers, and the training
rows' scores and labels are kept in ``decision_scores_`` and ``labels_``. PyOD's
combination and model selection tools (:class:`pyod.models.lscp.LSCP`,
:class:`pyod.models.feature_bagging.FeatureBagging`, the score combiners of
:mod:`pyod.models.combination`) read PyOD's conventions, so they need
:class:`PyODAutoencoder`, a genuine :class:`pyod.models.base.BaseDetector`.

This module needs PyOD (``pip install ".[pyod]"`` from a checkout, or ``pip
install pyod``); ``import sk_autoencoder`` never imports it.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

try:
    from pyod.models.base import BaseDetector
except ImportError as exc:  # pragma: no cover - exercised without pyod installed
    raise ImportError(
        "sk_autoencoder.pyod needs PyOD, which is not installed. Install it with "
        '`pip install ".[pyod]"` from a checkout of sk-autoencoder (or `pip install pyod`).'
    ) from exc

from ._detector import AutoencoderAnomalyDetector

__all__ = ["PyODAutoencoder"]


class PyODAutoencoder(BaseDetector):
    """Autoencoder outlier detector with PyOD's conventions.

    A :class:`pyod.models.base.BaseDetector` that trains an
    :class:`~sk_autoencoder.AutoencoderAnomalyDetector` and reports its
    reconstruction errors the way PyOD's detectors do, so that it works wherever
    a PyOD detector does: in :class:`pyod.models.lscp.LSCP`,
    :class:`pyod.models.feature_bagging.FeatureBagging`, the combiners of
    :mod:`pyod.models.combination`, and PyOD's usual
    ``roc_auc_score(y_test, clf.decision_function(X_test))``.

    - ``decision_function(X)``: outlier score, **higher is more abnormal** (the
      wrapped detector's reconstruction error, ``-score_samples``).
    - ``decision_scores_``, ``threshold_``, ``labels_``: the training rows' scores,
      the threshold on them and their labels (1 outlier, 0 inlier), set by PyOD's
      own rule from ``contamination``.
    - ``predict(X)``: 1 for outliers, 0 for inliers; ``predict_proba(X,
      method="linear" | "unify")``, ``predict_confidence(X)`` and
      ``predict_with_rejection(X)`` are PyOD's.

    Parameters
    ----------
    estimator : AutoencoderAnomalyDetector or None, default=None
        The detector to train (cloned in ``fit``, so the one passed stays
        unfitted); None uses ``AutoencoderAnomalyDetector()`` with its defaults.
        Its parameters are reachable as ``estimator__<name>`` in ``set_params`` and
        parameter grids. Its own ``contamination`` and threshold (``offset_``) are
        not used: this detector's ``contamination`` sets the threshold.
    contamination : float in (0, 0.5] or PyThresh thresholder, default=0.1
        The expected share of outliers, as in PyOD: ``threshold_`` is the
        ``1 - contamination`` quantile of ``decision_scores_``, so ``labels_``
        flags that share of the training rows. A thresholder object of the
        ``pythresh`` package (with ``fit``, ``labels_`` and ``thresh_``) is also
        accepted, as by every PyOD detector.

    Attributes
    ----------
    estimator_ : AutoencoderAnomalyDetector
        The fitted detector.
    decision_scores_ : ndarray of shape (n_samples,)
        Outlier scores of the training rows, higher is more abnormal.
    threshold_ : float
        Rows whose score exceeds it are outliers.
    labels_ : ndarray of shape (n_samples,)
        Labels of the training rows: 1 for outliers, 0 for inliers.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column names.

    See Also
    --------
    sk_autoencoder.AutoencoderAnomalyDetector : The detector, with scikit-learn's
        conventions.

    Notes
    -----
    The mapping between the two conventions, for a fitted ``clf`` and its
    ``clf.estimator_``: ``clf.decision_function(X) ==
    -clf.estimator_.score_samples(X)``; ``clf.decision_scores_`` is the same for
    the training rows; ``clf.predict(X) == 1`` is ``clf.decision_function(X) >
    clf.threshold_`` (PyOD's threshold from ``contamination``), whereas
    ``clf.estimator_.predict(X) == -1`` uses the estimator's own ``offset_``.

    ``fit`` ignores ``y`` (PyOD's unsupervised detectors accept 0/1 labels and do
    not use them), so ``fit(X_train, y_train)`` trains on ``X_train`` alone.

    Examples
    --------
    >>> from pyod.utils.data import generate_data
    >>> from sklearn.metrics import roc_auc_score
    >>> from sk_autoencoder import AutoencoderAnomalyDetector
    >>> from sk_autoencoder.pyod import PyODAutoencoder
    >>> X_train, X_test, y_train, y_test = generate_data(
    ...     n_train=200, n_test=100, n_features=5, contamination=0.1, random_state=0
    ... )
    >>> clf = PyODAutoencoder(
    ...     AutoencoderAnomalyDetector(max_epochs=20, random_state=0), contamination=0.1
    ... ).fit(X_train)
    >>> float(clf.labels_.mean())
    0.1
    >>> bool(roc_auc_score(y_test, clf.decision_function(X_test)) > 0.9)
    True
    >>> clf.predict_proba(X_test[:2]).shape
    (2, 2)
    """

    def __init__(self, estimator=None, contamination=0.1):
        # Stored untouched, as scikit-learn requires; PyOD's BaseDetector.__init__
        # would check contamination here, fit does instead.
        self.estimator = estimator
        self.contamination = contamination

    def _check_contamination(self) -> None:
        contamination = self.contamination
        if isinstance(contamination, Real) and not isinstance(contamination, bool):
            if not 0 < contamination <= 0.5:
                raise ValueError(f"contamination must be in (0, 0.5], got {contamination!r}.")
        elif not (hasattr(contamination, "fit") and hasattr(contamination, "labels_")):
            raise ValueError(
                "contamination must be a float in (0, 0.5] or a PyThresh thresholder, got "
                f"{contamination!r}."
            )

    def _check_estimator(self) -> AutoencoderAnomalyDetector:
        if self.estimator is None:
            return AutoencoderAnomalyDetector()
        if not isinstance(self.estimator, AutoencoderAnomalyDetector):
            raise ValueError(
                "estimator must be an AutoencoderAnomalyDetector (or None for the "
                f"default one), got {self.estimator!r}."
            )
        return clone(self.estimator)

    def fit(self, X, y=None):
        """Train the wrapped detector on ``X`` and set PyOD's training attributes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows; they may contain outliers.
        y : Ignored
            Not used (0/1 labels are accepted and ignored), present for API
            consistency.

        Returns
        -------
        self : PyODAutoencoder
            The fitted detector.
        """
        self._check_contamination()
        estimator = self._check_estimator().fit(X)
        self.estimator_ = estimator
        self.n_features_in_ = estimator.n_features_in_
        if hasattr(estimator, "feature_names_in_"):
            self.feature_names_in_ = estimator.feature_names_in_
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.decision_scores_ = -estimator.score_samples(X)
        # Binary problem: predict_proba returns two columns, whatever y holds.
        self._classes = 2
        self._process_decision_scores()
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Input goes to the wrapped detector as it is: missing values and sparse
        # matrices are accepted as it accepts them.
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags

    def decision_function(self, X) -> np.ndarray:
        """Outlier score of each row: its reconstruction error, higher is more abnormal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        anomaly_scores : ndarray of shape (n_samples,)
            ``-estimator_.score_samples(X)``.
        """
        check_is_fitted(self, ["decision_scores_", "threshold_", "labels_"])
        return -self.estimator_.score_samples(X)
