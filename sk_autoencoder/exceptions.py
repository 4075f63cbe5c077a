"""The exceptions and warnings that sk-autoencoder raises, in one place (as
:mod:`sklearn.exceptions` and ``skorch.exceptions`` do)."""

from __future__ import annotations

__all__ = ["InconsistentVersionWarning", "TrainingDivergedError", "TrainingInterruptedWarning"]


class TrainingDivergedError(RuntimeError):
    """Raised when training diverges: the loss stops being finite, or grows by orders
    of magnitude and does not come back, or a network weight stops being finite.

    The estimator is left as it was before ``fit``: no fitted attribute points to the
    diverged network. The message names the learning rate to lower.

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


class TrainingInterruptedWarning(UserWarning):
    """``fit`` was interrupted (Ctrl-C, ``KeyboardInterrupt``) after at least one epoch.

    The estimator is fitted with the weights of the best completed epoch; the message
    says which. The command line turns it into exit code 130 after saving that model.
    """
