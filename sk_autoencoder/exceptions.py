"""The exceptions and warnings that sk-autoencoder raises, in one place (as
:mod:`sklearn.exceptions` and ``skorch.exceptions`` do)."""

from __future__ import annotations

from sklearn.exceptions import (
    InconsistentVersionWarning as _SklearnInconsistentVersionWarning,
)

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


class InconsistentVersionWarning(_SklearnInconsistentVersionWarning):
    """A model is loaded with a release series of sk-autoencoder or PyTorch other
    than the one it was saved with.

    A release series is the major version, or ``0.minor`` before 1.0. Outputs may
    differ, and loading may fail outright when the network classes changed.

    A subclass of scikit-learn's :class:`sklearn.exceptions.InconsistentVersionWarning`,
    so a filter on scikit-learn's warning applies to this one too. The attributes
    scikit-learn's warning defines (``estimator_name``, ``current_sklearn_version``,
    ``original_sklearn_version``) are set; scikit-learn's versions are those of the
    loading process and of the one that saved the model (None for files that did
    not record it).

    Parameters
    ----------
    estimator_name : str
        Class name of the loaded estimator.
    library : str
        The library whose version changed: ``"sk-autoencoder"`` or ``"torch"``.
    current_version : str
        Its version in the loading process.
    original_version : str
        Its version when the model was saved.
    original_sklearn_version : str or None, default=None
        scikit-learn's version when the model was saved, if recorded.

    Attributes
    ----------
    library : str
        The library whose version changed.
    current_version : str
        Its version in the loading process.
    original_version : str
        Its version when the model was saved.

    Examples
    --------
    >>> import warnings
    >>> from sklearn.exceptions import InconsistentVersionWarning as SklearnWarning
    >>> from sk_autoencoder.exceptions import InconsistentVersionWarning
    >>> warning = InconsistentVersionWarning(
    ...     estimator_name="AutoencoderTransformer",
    ...     library="torch",
    ...     current_version="2.13.0",
    ...     original_version="1.13.1",
    ... )
    >>> isinstance(warning, SklearnWarning)
    True
    >>> with warnings.catch_warnings():  # a filter on scikit-learn's warning
    ...     warnings.simplefilter("error")
    ...     warnings.simplefilter("ignore", SklearnWarning)
    ...     warnings.warn(warning)
    >>> warning.library, warning.original_version
    ('torch', '1.13.1')
    """

    def __init__(
        self,
        *,
        estimator_name: str,
        library: str,
        current_version: str,
        original_version: str,
        original_sklearn_version: str | None = None,
    ) -> None:
        from sklearn import __version__ as sklearn_version

        super().__init__(
            estimator_name=estimator_name,
            current_sklearn_version=sklearn_version,
            original_sklearn_version=original_sklearn_version,
        )
        self.library = library
        self.current_version = current_version
        self.original_version = original_version
        # warnings and pytest.warns(match=...) read the message from args.
        self.args = (str(self),)

    def __str__(self) -> str:
        return (
            f"This {self.estimator_name} was saved with {self.library} "
            f"{self.original_version} and is loaded with {self.library} "
            f"{self.current_version}, a different major version; its outputs may differ. "
            "Refit it, or load it with the version it was saved with."
        )


class TrainingInterruptedWarning(UserWarning):
    """``fit`` was interrupted (Ctrl-C, ``KeyboardInterrupt``) after at least one epoch.

    The estimator is fitted with the weights of the best completed epoch; the message
    says which. The command line turns it into exit code 130 after saving that model.
    """
