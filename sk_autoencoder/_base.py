"""The base shared by every autoencoder estimator: parameters, validation, training
and batched inference. Subclasses add what their task needs on top (``transform``,
``predict``...)."""

from __future__ import annotations

import copy
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from skorch.callbacks import Callback, EarlyStopping, PrintLog

from ._data import _BatchIterator, _TensorDataset, _TensorValidSplit
from ._net import (
    AutoencoderNet,
    _DivergenceCheck,
    _EpochProgressBar,
    _ReconstructionLoss,
    elementwise_loss,
)
from .modules import _ACTIVATIONS, DenseAutoencoder

_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

# Rows per batch at inference: large enough to amortise per-call overhead, small
# enough that transform of millions of rows never builds one giant tensor.
_INFERENCE_BATCH_SIZE = 16384


def _noop(*args, **kwargs):
    pass


class _BaseAutoencoder(BaseEstimator):
    """Shared machinery of the autoencoder estimators.

    Subclasses define ``__init__`` with the parameters below (and their own), and
    public methods built on :meth:`_fit`, :meth:`_map_batches` and
    :meth:`_elementwise_errors`.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "loss": [StrOptions({"mse", "bce"})],
        "preprocessing": [StrOptions({"standard", "minmax"}), None],
        "optimizer": [StrOptions(set(_OPTIMIZERS)), type],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "verbose": [Interval(Integral, 0, 2, closed="both")],
        "callbacks": [list, None],
        "warm_start": ["boolean"],
        "partial_fit_epochs": [Interval(Integral, 1, None, closed="left")],
    }

    # ------------------------------------------------------------------ validation
    def _check_hidden_layer_sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, Integral):
            sizes = (sizes,)
        sizes = tuple(sizes)
        if not all(isinstance(s, Integral) and s > 0 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be a sequence of positive integers, got "
                f"{self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _resolve_device(self) -> str:
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                "device='cuda' was requested but PyTorch finds no CUDA device; use "
                "device='cpu' or device='auto'."
            )
        return self.device

    def _module_spec(self, n_features: int) -> tuple[type, dict]:
        """The torch module class and its keyword arguments; variants override this."""
        return DenseAutoencoder, {
            "n_features": n_features,
            "n_components": self.n_components,
            "hidden_layer_sizes": self._check_hidden_layer_sizes(),
            "activation": self.activation,
            "dropout": self.dropout,
            "output_activation": "sigmoid" if self.loss == "bce" else "identity",
        }

    # ---------------------------------------------------------------- training
    def _fit(self, X) -> np.ndarray:
        """Validate, scale and train; return the scaled float32 training rows.

        If anything fails, the estimator is restored to its state before the call, so a
        failed refit never leaves new scaling next to an old network.
        """
        with self._rollback_on_error():
            return self._fit_unguarded(X)

    @contextmanager
    def _rollback_on_error(self):
        """Restore the estimator's attributes if the body raises."""
        state = self.__dict__.copy()
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "net_")

    def _fit_unguarded(self, X, epochs: int | None = None) -> np.ndarray:
        """Fit from scratch (or continue, with ``warm_start``); ``epochs`` overrides
        ``max_epochs`` (the first ``partial_fit`` call trains ``partial_fit_epochs``)."""
        self._validate_params()
        if self.warm_start and hasattr(self, "net_"):
            return self._warm_fit(X)
        # One float32 copy of the input; everything after works in place on it.
        X = validate_data(self, X, dtype=np.float32, copy=True, reset=True)
        device = self._resolve_device()
        self._fit_scaler(X)
        X_t = self._scale_(torch.from_numpy(X))
        self._check_scaled_training_data(X_t)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        net = self._build_net(X.shape, device, seed)
        if epochs is not None:
            net.max_epochs = epochs
        self._train(net, X_t, seed)
        return X

    def _warm_fit(self, X) -> np.ndarray:
        """``fit`` with ``warm_start=True`` on a fitted estimator: keep the network, its
        optimiser state and the scaling, and train ``max_epochs`` more epochs on ``X``."""
        X = validate_data(self, X, dtype=np.float32, copy=True, reset=False)
        X_t = self._scale_(torch.from_numpy(X))
        self._check_scaled_training_data(X_t)
        self._continue_training(X_t, self.max_epochs)
        return X

    def _partial_fit(self, X) -> np.ndarray:
        """One incremental step: update the scaling with ``X``, then train on it.

        The first call (on an unfitted estimator) validates the parameters, sets the
        input width, the scaling and the network from ``X`` and trains it for
        ``partial_fit_epochs`` epochs. Later calls update the scaling statistics with
        ``X`` (the network is not re-mapped to the new scaling; it adapts while it
        trains on the chunk) and train ``partial_fit_epochs`` more epochs. On error
        the estimator is left as it was before the call. Returns the scaled rows.
        """
        with self._rollback_on_error():
            if not hasattr(self, "net_"):
                return self._fit_unguarded(X, epochs=self.partial_fit_epochs)
            X = validate_data(self, X, dtype=np.float32, copy=True, reset=False)
            if self.scaler_ is not None:
                # A copy, so that a failed call leaves the previous statistics intact.
                self.scaler_ = copy.deepcopy(self.scaler_).partial_fit(X)
                self._set_affine()
            X_t = self._scale_(torch.from_numpy(X))
            self._check_scaled_training_data(X_t)
            self._continue_training(X_t, self.partial_fit_epochs)
            return X

    def _continue_training(self, X_t: torch.Tensor, epochs: int) -> None:
        """Train the fitted ``net_`` ``epochs`` more epochs on scaled rows ``X_t``.

        The optimiser state and the history carry over, so ``n_iter_`` and
        ``loss_curve_`` keep accumulating. If training fails (e.g. diverges), the
        weights, optimiser state and history are put back as they were.
        """
        self._check_same_network()
        net = self.net_
        n_done = len(net.history)
        # A different seed for every continuation (dropout masks), still reproducible.
        base_seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        seed = int((base_seed + n_done) % np.iinfo(np.int32).max)
        weights = copy.deepcopy(net.module_.state_dict())
        optimizer_state = copy.deepcopy(net.optimizer_.state_dict())
        net.max_epochs = epochs
        try:
            self._train(net, X_t, seed, partial=True)
        except BaseException:
            net.module_.load_state_dict(weights)
            net.optimizer_.load_state_dict(optimizer_state)
            del net.history[n_done:]
            net.module_.eval()
            raise

    def _check_same_network(self) -> None:
        """Continuing training needs the parameters that shaped the fitted network."""
        net = self.net_
        module_cls, module_kwargs = self._module_spec(self.n_features_in_)
        changed = [
            k for k, v in module_kwargs.items() if getattr(net, f"module__{k}", None) != v
        ]
        if net.module is not module_cls:
            changed.append("module")
        if net.criterion__loss != self.loss:
            changed.append("loss")
        scaling = {StandardScaler: "standard", MinMaxScaler: "minmax"}.get(type(self.scaler_))
        if scaling != self.preprocessing:
            changed.append("preprocessing")
        if (net.train_split is not None) != bool(self.early_stopping):
            changed.append("early_stopping")
        if changed:
            raise ValueError(
                "Cannot continue training (warm_start=True or partial_fit) after changing "
                f"parameters that define the fitted network: {', '.join(changed)}. Set "
                "them back, or fit a new network with warm_start=False."
            )

    def _fit_scaler(self, X: np.ndarray) -> None:
        """Fit ``scaler_`` per ``preprocessing`` and cache it as an affine map."""
        if self.preprocessing is None:
            self.scaler_ = None
        else:
            scaler_cls = StandardScaler if self.preprocessing == "standard" else MinMaxScaler
            self.scaler_ = scaler_cls().fit(X)
        self._set_affine()

    def _check_scaled_training_data(self, X_t: torch.Tensor) -> None:
        if self.loss == "bce" and (X_t.min() < 0 or X_t.max() > 1):
            raise ValueError(
                "loss='bce' needs scaled training data in [0, 1]; use "
                "preprocessing='minmax' or loss='mse'."
            )

    def _build_net(self, shape: tuple[int, int], device: str, seed: int) -> AutoencoderNet:
        """A fresh, uninitialised training net for rows of ``shape``.

        ``seed`` seeds the net's own generator (shuffling, validation split); weight
        initialisation is seeded in :meth:`_train`.
        """
        n_samples, n_features = shape
        generator = torch.Generator().manual_seed(seed)
        batch_size = min(200, n_samples) if self.batch_size == "auto" else self.batch_size
        module_cls, module_kwargs = self._module_spec(n_features)
        optimizer = self.optimizer
        if isinstance(optimizer, str):
            optimizer = _OPTIMIZERS[optimizer]
        return AutoencoderNet(
            module=module_cls,
            criterion=_ReconstructionLoss,
            criterion__loss=self.loss,
            optimizer=optimizer,
            optimizer__weight_decay=self.weight_decay,
            lr=self.learning_rate,
            max_epochs=self.max_epochs,
            batch_size=batch_size,
            iterator_train=_BatchIterator,
            iterator_train__shuffle=True,
            iterator_train__generator=generator,
            iterator_valid=_BatchIterator,
            train_split=(
                _TensorValidSplit(self.validation_fraction, generator)
                if self.early_stopping
                else None
            ),
            callbacks=self._make_callbacks(),
            verbose=int(self.verbose >= 2),
            device=device,
            **{f"module__{k}": v for k, v in module_kwargs.items()},
        )

    def _train(
        self, net: AutoencoderNet, X_t: torch.Tensor, seed: int, *, partial: bool = False
    ) -> None:
        """Train ``net`` on scaled rows, then record it and its history.

        ``partial=False`` (re)initialises the net; ``partial=True`` continues training
        an initialised net (its ``max_epochs`` more epochs).
        """
        dataset = _TensorDataset(X_t.to(net.device))
        # Seed torch's global generator (weight init, dropout) without disturbing the
        # caller's: fork_rng restores it afterwards.
        with torch.random.fork_rng(devices=[] if net.device == "cpu" else None):
            torch.manual_seed(seed)
            if partial:
                net.partial_fit(dataset, None)
            else:
                net.fit(dataset, None)
        net.module_.eval()
        self._record_training(net)

    def _record_training(self, net: AutoencoderNet) -> None:
        """Set ``net_`` and the fitted attributes read from its history."""
        history = net.history
        self.net_ = net
        self.n_components_ = self.n_components
        self.n_iter_ = len(history)
        self.loss_curve_ = [float(v) for v in history[:, "train_loss"]]
        if self.early_stopping:
            self.validation_scores_ = [-float(v) for v in history[:, "valid_loss"]]
            self.best_validation_score_ = max(self.validation_scores_)
        elif hasattr(self, "validation_scores_"):
            del self.validation_scores_, self.best_validation_score_

    def _make_callbacks(self) -> list:
        quiet = self.verbose < 2
        monitor = "valid_loss" if self.early_stopping else "train_loss"
        callbacks: list = [
            ("divergence_check", _DivergenceCheck(self.learning_rate)),
            (
                "early_stopping",
                EarlyStopping(
                    monitor=monitor,
                    patience=self.n_iter_no_change,
                    threshold=self.tol,
                    threshold_mode="abs",
                    load_best=self.early_stopping,
                    sink=_noop if quiet else print,
                ),
            ),
        ]
        if self.verbose == 1:
            callbacks.append(("progress_bar", _EpochProgressBar(self.max_epochs)))
        elif self.verbose == 2:
            callbacks.append(("print_log", PrintLog()))
        for i, cb in enumerate(self.callbacks or []):
            if isinstance(cb, tuple):
                callbacks.append(cb)
            elif isinstance(cb, Callback):
                callbacks.append((f"user_{i}_{type(cb).__name__}", cb))
            else:
                raise ValueError(
                    "callbacks must hold skorch Callback instances or (name, Callback) "
                    f"tuples, got {cb!r}."
                )
        return callbacks

    # -------------------------------------------------------------- scaling
    def _set_affine(self) -> None:
        """Express the fitted scaling as ``X * a + b`` (both scalers are affine)."""
        scaler = self.scaler_
        if scaler is None:
            self._affine = None
        elif isinstance(scaler, StandardScaler):
            a = 1.0 / scaler.scale_
            self._affine = (a.astype(np.float32), (-scaler.mean_ * a).astype(np.float32))
        else:
            self._affine = (scaler.scale_.astype(np.float32), scaler.min_.astype(np.float32))

    def _affine_tensors(self, device) -> tuple[torch.Tensor, torch.Tensor] | None:
        if self._affine is None:
            return None
        a, b = self._affine
        return torch.from_numpy(a).to(device), torch.from_numpy(b).to(device)

    def _scale_(self, X: torch.Tensor, affine=None) -> torch.Tensor:
        """Scale in place."""
        affine = affine if affine is not None else self._affine_tensors(X.device)
        if affine is not None:
            X.mul_(affine[0]).add_(affine[1])
        return X

    # -------------------------------------------------------------- inference
    @property
    def _device(self) -> torch.device:
        return next(self.net_.module_.parameters()).device

    def _check_X(self, X) -> np.ndarray:
        """Validate rows for inference without copying float input."""
        check_is_fitted(self)
        return validate_data(self, X, dtype=(np.float64, np.float32), reset=False)

    def _map_batches(self, X: np.ndarray, fn, n_out: int, scale: bool = True):
        """Apply ``fn`` to scaled float32 batches of ``X`` and stack the results."""
        out_dtype = np.float32 if X.dtype == np.float32 else np.float64
        out = np.empty((X.shape[0], n_out), dtype=out_dtype)
        device = self._device
        affine = self._affine_tensors(device) if scale else None
        with torch.inference_mode():
            for start in range(0, X.shape[0], _INFERENCE_BATCH_SIZE):
                stop = start + _INFERENCE_BATCH_SIZE
                rows = X[start:stop]
                if rows.dtype != np.float32 or not rows.flags.writeable:
                    rows = rows.astype(np.float32)  # torch refuses read-only memory
                batch = torch.from_numpy(rows).to(device)
                if affine is not None:
                    # Out of place: the batch may share memory with the caller's X.
                    batch = torch.addcmul(affine[1], batch, affine[0])
                out[start:stop] = fn(batch).cpu().numpy()
        return out

    def _elementwise_errors(self, X: np.ndarray) -> np.ndarray:
        """Per-entry reconstruction loss of validated rows, in the scaled space."""
        module = self.net_.module_

        def errors(batch):
            return elementwise_loss(module(batch)[0], batch, self.loss)

        return self._map_batches(X, errors, self.n_features_in_)

    def _score_samples(self, X: np.ndarray) -> np.ndarray:
        return -self._elementwise_errors(X).mean(axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def _check_codes(estimator: _BaseAutoencoder, Z) -> np.ndarray:
    """Validate codes given to ``inverse_transform``."""
    check_is_fitted(estimator)
    Z = check_array(Z, dtype=(np.float64, np.float32))
    if Z.shape[1] != estimator.n_components_:
        raise ValueError(
            f"X has {Z.shape[1]} features, but {type(estimator).__name__}."
            f"inverse_transform is expecting {estimator.n_components_} features "
            "(n_components_) as input."
        )
    return Z
