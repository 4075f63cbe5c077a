"""The exceptions and warnings that sk-autoencoder raises, in one place (as
:mod:`sklearn.exceptions` and ``skorch.exceptions`` do)."""

from __future__ import annotations

__all__ = ["InconsistentVersionWarning", "TrainingDivergedError"]


class TrainingDivergedError(RuntimeError):
    """Raised when the training loss or a network weight stops being finite.

    The estimator is left as it was before ``fit``: no fitted attribute points to the
    diverged network.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_autoencoder import AutoencoderTransformer, TrainingDivergedError
    >>> X = np.random.RandomState(0).normal(size=(100, 4)) * 1e20
    >>> try:  # unscaled values of 1e20 square to infinity in float32
    ...     AutoencoderTransformer(preprocessing=None, max_epochs=2).fit(X)
    ... except TrainingDivergedError as exc:
    ...     print(str(exc).split(":")[0])
    Training diverged
    """


class InconsistentVersionWarning(UserWarning):
    """A model is loaded with a release series of sk-autoencoder or PyTorch other
    than the one it was saved with.

    A release series is the major version, or ``0.minor`` before 1.0. Outputs may
    differ, and loading may fail outright when the network classes changed.
    """
