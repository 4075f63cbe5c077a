"""The base shared by every autoencoder estimator: parameters, validation, training
and batched inference. Subclasses add what their task needs on top (``transform``,
``predict``...)."""

from __future__ import annotations

import copy
import math
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from skorch.callbacks import Callback, EarlyStopping, PrintLog

from . import _state
from ._data import _BatchIterator, _TensorDataset, _TensorValidSplit
from ._faults import _check_finite_weights, _InterruptGuard
from ._net import (
    AutoencoderNet,
    _DivergenceCheck,
    _EpochProgressBar,
    _ReconstructionLoss,
    elementwise_loss,
)
from .modules import (
    _ACTIVATIONS,
    AutoencoderModule,
    ConvolutionalAutoencoder,
    DenseAutoencoder,
    RecurrentAutoencoder,
    VariationalAutoencoder,
    gaussian_kl,
)

_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

# Rows per batch at inference: large enough to amortise per-call overhead, small
# enough that transform of millions of rows never builds one giant tensor.
_INFERENCE_BATCH_SIZE = 16384

_ARCHITECTURES = {
    "dense": DenseAutoencoder,
    "variational": VariationalAutoencoder,
    "convolutional": ConvolutionalAutoencoder,
    "recurrent": RecurrentAutoencoder,
}

# Posterior draws behind a variational model's ELBO. The same draws (from a fixed
# seed) serve every row, so scores are deterministic and do not depend on which
# other rows share the call.
_ELBO_DRAWS = 16

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _noop(*args, **kwargs):
    pass


def _scale_in_float32(rows: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """``rows * a + b`` computed in float32, or None where a coefficient or a result
    leaves float32's normal range (the caller then scales in float64)."""
    with np.errstate(over="ignore", under="ignore"):
        a32, b32 = a.astype(np.float32), b.astype(np.float32)
    if not (np.isfinite(a32).all() and np.isfinite(b32).all()):
        return None
    if (np.abs(a32) < np.finfo(np.float32).tiny).any():
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        out = rows * a32
        out += b32
        # One fast reduction; an overflow (or a sum of huge finite values) makes it
        # non-finite, and the float64 path then decides.
        finite = np.isfinite(out.sum())
    return out if finite else None


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
        "noise": [Interval(Real, 0, None, closed="left")],
        "noise_type": [StrOptions({"gaussian", "masking"})],
        "sparsity": [Interval(Real, 0, None, closed="left")],
        "contractive": [Interval(Real, 0, None, closed="left")],
        "architecture": [StrOptions(set(_ARCHITECTURES))],
        "beta": [Interval(Real, 0, None, closed="neither")],
        "input_shape": [tuple, list, None],
        "module": [type, None],
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

    def _check_input_shape(self, n_features: int) -> tuple[int, ...] | None:
        """``input_shape`` as a tuple checked against the architecture and the rows."""
        arch = self.architecture if self.module is None else "custom"
        shape = self.input_shape
        if shape is None:
            # Defaults that fit any width: a 1-pixel-high image (a 1-D convolution
            # along the features) and a univariate sequence.
            return {"convolutional": (1, 1, n_features), "recurrent": (n_features, 1)}.get(arch)
        if arch in ("dense", "variational"):
            raise ValueError(
                f"input_shape={shape!r} is only used by architecture='convolutional' or "
                f"'recurrent' (or a custom module); architecture={arch!r} reads flat "
                "rows. architecture='variational' is a dense network: for a "
                "variational convolutional or recurrent network, pass a custom module "
                "with a posterior method (see sk_autoencoder.modules)."
            )
        shape = tuple(shape)
        if not shape or not all(isinstance(s, Integral) and s > 0 for s in shape):
            raise ValueError(f"input_shape must be a tuple of positive integers, got {shape!r}.")
        expected = {"convolutional": 3, "recurrent": 2}.get(arch)
        if expected is not None and len(shape) != expected:
            what = "(channels, height, width)" if expected == 3 else "(timesteps, n_channels)"
            raise ValueError(f"architecture={arch!r} needs input_shape={what}, got {shape!r}.")
        if math.prod(shape) != n_features:
            raise ValueError(
                f"input_shape={shape!r} holds {math.prod(shape)} values per row, but X "
                f"has {n_features} features; the product of input_shape must equal "
                "n_features."
            )
        return tuple(int(s) for s in shape)

    def _module_spec(self, n_features: int) -> tuple[type, dict]:
        """The torch module class and its keyword arguments."""
        input_shape = self._check_input_shape(n_features)
        penalties = {"sparsity": self.sparsity, "contractive": self.contractive}
        if self.module is not None:
            return self._custom_module_spec(n_features, input_shape, penalties)
        kwargs = {
            "n_features": n_features,
            "n_components": self.n_components,
            "hidden_layer_sizes": self._check_hidden_layer_sizes(),
            "activation": self.activation,
            "dropout": self.dropout,
            "output_activation": "sigmoid" if self.loss == "bce" else "identity",
            **penalties,
        }
        if input_shape is not None:
            kwargs["input_shape"] = input_shape
        if self.architecture == "variational":
            kwargs["beta"] = self.beta
        return _ARCHITECTURES[self.architecture], kwargs

    def _custom_module_spec(self, n_features, input_shape, penalties) -> tuple[type, dict]:
        module = self.module
        if not issubclass(module, torch.nn.Module):
            raise ValueError(f"module must be a torch.nn.Module subclass, got {module!r}.")
        if self.architecture != "dense":
            raise ValueError(
                f"module={module.__name__} replaces the built-in networks; leave "
                f"architecture at 'dense' (got {self.architecture!r})."
            )
        kwargs = {"n_features": n_features, "n_components": self.n_components}
        if input_shape is not None:
            kwargs["input_shape"] = input_shape
        if issubclass(module, AutoencoderModule):
            kwargs.update(penalties)
        elif self.sparsity or self.contractive:
            raise ValueError(
                f"sparsity and contractive need a module that subclasses "
                f"sk_autoencoder.modules.AutoencoderModule; {module.__name__} does not."
            )
        return module, kwargs

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

    def _fit_unguarded(
        self, X, epochs: int | None = None, subsample: bool = True
    ) -> np.ndarray:
        """Fit from scratch (or continue, with ``warm_start``); ``epochs`` overrides
        ``max_epochs`` (the first ``partial_fit`` call trains ``partial_fit_epochs``
        and, with ``subsample=False``, on every row of its chunk)."""
        self._validate_params()
        if self.warm_start and hasattr(self, "net_"):
            return self._warm_fit(X)
        _check_numeric_columns(self, X)
        # Float input is not copied here; the one float32 copy is the scaled one.
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=True)
        device = self._resolve_device()
        self._fit_scaler(X)
        seed = self._base_seed()
        X_t = self._training_tensor(self._training_rows(X, seed) if subsample else X)
        net = self._build_net(X.shape, device, seed)
        if epochs is not None:
            net.max_epochs = epochs
        self._train(net, X_t, seed)
        return X_t.numpy()

    def _warm_fit(self, X) -> np.ndarray:
        """``fit`` with ``warm_start=True`` on a fitted estimator: keep the network, its
        optimiser state and the scaling, and train ``max_epochs`` more epochs on ``X``."""
        X = self._check_training_chunk(X)
        X_t = self._training_tensor(self._training_rows(X, self._continuation_seed()))
        self._continue_training(X_t, self.max_epochs)
        return X_t.numpy()

    def _base_seed(self) -> int:
        """The seed of a fit from scratch, drawn from ``random_state``."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _continuation_seed(self) -> int:
        """A different seed for every continuation (dropout masks, subsample), still
        reproducible: the base seed shifted by the epochs trained so far."""
        return (self._base_seed() + len(self.net_.history)) % np.iinfo(np.int32).max

    def _training_rows(self, X: np.ndarray, seed: int) -> np.ndarray:
        """The rows ``fit`` trains the network on: all of them here; the detector
        draws a subsample (``max_samples``)."""
        return X

    def _check_training_chunk(self, X) -> np.ndarray:
        """Validate more training rows for a fitted estimator (same checks as ``fit``)."""
        _check_numeric_columns(self, X)
        return validate_data(self, X, dtype=(np.float64, np.float32), reset=False)

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
                return self._fit_unguarded(X, epochs=self.partial_fit_epochs, subsample=False)
            X = self._check_training_chunk(X)
            if self.scaler_ is not None:
                # A copy, so that a failed call leaves the previous statistics intact.
                self.scaler_ = copy.deepcopy(self.scaler_).partial_fit(X)
                _check_scaler_finite(self.scaler_)
                self._set_affine()
            X_t = self._training_tensor(X)
            self._continue_training(X_t, self.partial_fit_epochs)
            return X_t.numpy()

    def _continue_training(self, X_t: torch.Tensor, epochs: int) -> None:
        """Train the fitted ``net_`` ``epochs`` more epochs on scaled rows ``X_t``.

        The optimiser state and the history carry over, so ``n_iter_`` and
        ``loss_curve_`` keep accumulating. If training fails (e.g. diverges), the
        weights, optimiser state and history are put back as they were.
        """
        self._check_same_network()
        net = self.net_
        n_done = len(net.history)
        seed = self._continuation_seed()
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
        """Fit ``scaler_`` per ``preprocessing`` and cache it as an affine map.

        The statistics are accumulated over row chunks in float64, so that fitting
        needs no full-size temporary and huge or tiny magnitudes do not overflow.
        """
        if self.preprocessing is None:
            self.scaler_ = None
        else:
            scaler_cls = StandardScaler if self.preprocessing == "standard" else MinMaxScaler
            self.scaler_ = scaler_cls()
            with np.errstate(over="ignore", invalid="ignore"):
                for start in range(0, X.shape[0], _INFERENCE_BATCH_SIZE):
                    self.scaler_.partial_fit(X[start : start + _INFERENCE_BATCH_SIZE])
            _check_scaler_finite(self.scaler_)
        self._set_affine()

    def _scaled_float32(self, X: np.ndarray) -> np.ndarray:
        """The network's input: ``X`` scaled and cast to float32, by chunks.

        The result is a new C-contiguous float32 array (the only full-size copy that
        ``fit`` makes).
        """
        out = np.empty(X.shape, dtype=np.float32)
        for start in range(0, X.shape[0], _INFERENCE_BATCH_SIZE):
            stop = start + _INFERENCE_BATCH_SIZE
            out[start:stop] = self._network_rows(X[start:stop])
        return out

    def _network_rows(self, rows: np.ndarray) -> np.ndarray:
        """Scale a chunk of validated rows and cast it to float32.

        float32 rows are scaled in float32 where that stays in range (the rounding
        is then of the order of the rows' own); float64 rows, and float32 rows whose
        scaling would overflow, in float64. Raises ValueError where a scaled value
        lies beyond float32's range, which the network computes in.
        """
        if self._affine is None:
            with np.errstate(over="ignore"):
                out = rows.astype(np.float32)
        else:
            a, b = self._affine
            if rows.dtype == np.float32:
                out = _scale_in_float32(rows, a, b)
                if out is not None:
                    return out
            scaled = np.multiply(rows, a, dtype=np.float64)
            scaled += b
            with np.errstate(over="ignore"):
                out = scaled.astype(np.float32)
        if not np.isfinite(out).all():
            if self._affine is None:
                raise ValueError(
                    "X contains values beyond float32's range (about 3.4e38), which the "
                    "network computes in; use preprocessing='standard' or 'minmax', or "
                    "rescale the columns."
                )
            raise ValueError(
                "X contains values so far outside the training data that, scaled by "
                f"preprocessing={self.preprocessing!r}, they exceed float32's range "
                "(about 3.4e38), which the network computes in."
            )
        return out

    def _training_tensor(self, X: np.ndarray) -> torch.Tensor:
        """Validated rows as the network trains on them: scaled, float32, checked."""
        X_t = torch.from_numpy(self._scaled_float32(X))
        if self.loss == "bce" and (X_t.min() < 0 or X_t.max() > 1):
            raise ValueError(
                "loss='bce' needs scaled training data in [0, 1]; use "
                "preprocessing='minmax' or loss='mse'."
            )
        return X_t

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
        if self.noise_type == "masking" and self.noise >= 1:
            raise ValueError(
                f"noise={self.noise} is a masking probability with noise_type='masking' "
                "and must be below 1."
            )
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
            noise=self.noise,
            noise_type=self.noise_type,
            # Its own stream, so adding noise leaves shuffling and splits unchanged.
            noise_generator=torch.Generator().manual_seed(seed + 1),
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
        _check_finite_weights(net.module_)
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
            # First, so that its epoch end runs before EarlyStopping stops training
            # (EarlyStopping stops it by raising KeyboardInterrupt).
            ("interrupt_guard", _InterruptGuard(monitor)),
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
        """Express the fitted scaling as ``X * a + b`` (both scalers are affine).

        Kept in float64: a float32 ``a`` or ``b`` would overflow or lose the data for
        columns of magnitude near float32's limits (1e30, 1e-30).
        """
        scaler = self.scaler_
        if scaler is None:
            self._affine = None
        elif isinstance(scaler, StandardScaler):
            a = 1.0 / scaler.scale_
            self._affine = (a.astype(np.float64), (-scaler.mean_ * a).astype(np.float64))
        else:
            self._affine = (scaler.scale_.astype(np.float64), scaler.min_.astype(np.float64))

    def _affine_tensors(self, device) -> tuple[torch.Tensor, torch.Tensor] | None:
        if self._affine is None:
            return None
        a, b = self._affine
        return torch.from_numpy(a).to(device), torch.from_numpy(b).to(device)

    def _in_original_units(self, fn):
        """Wrap a batch function whose output is in the scaled space, so that its
        output is in the units of the training data."""
        affine = self._affine_tensors(self._device)
        if affine is None:
            return fn
        a, b = affine
        return lambda batch: (fn(batch) - b) / a

    # -------------------------------------------------------------- inference
    @property
    def _device(self) -> torch.device:
        return next(self.net_.module_.parameters()).device

    def _check_X(self, X) -> np.ndarray:
        """Validate rows for inference without copying float input."""
        check_is_fitted(self)
        _check_numeric_columns(self, X)
        return validate_data(self, X, dtype=(np.float64, np.float32), reset=False)

    def _map_batches(self, X: np.ndarray, fn, n_out: int, scale: bool = True):
        """Apply ``fn`` to scaled float32 batches of ``X`` and stack the results."""
        out_dtype = np.float32 if X.dtype == np.float32 else np.float64
        out = np.empty((X.shape[0], n_out), dtype=out_dtype)
        device = self._device
        with torch.inference_mode():
            for start in range(0, X.shape[0], _INFERENCE_BATCH_SIZE):
                stop = start + _INFERENCE_BATCH_SIZE
                rows = X[start:stop]
                if scale:
                    rows = self._network_rows(rows)  # a new float32 array
                elif rows.dtype != np.float32 or not rows.flags.writeable:
                    rows = rows.astype(np.float32)  # torch refuses read-only memory
                batch = torch.from_numpy(np.ascontiguousarray(rows)).to(device)
                out[start:stop] = fn(batch).cpu().numpy()
        return out

    def _encode(self, X) -> np.ndarray:
        """Codes of rows (validated here), as ``transform`` returns them."""
        return self._map_batches(self._check_X(X), self.net_.module_.encode, self.n_components_)

    def _reconstruct(self, X) -> np.ndarray:
        """The network's output for ``X``, in the original units (scaling undone)."""
        module = self.net_.module_
        reconstruct = self._in_original_units(lambda batch: module(batch)[0])
        return self._map_batches(self._check_X(X), reconstruct, self.n_features_in_)

    def _is_variational(self) -> bool:
        return hasattr(self.net_.module_, "posterior")

    def _elementwise_errors(self, X: np.ndarray) -> np.ndarray:
        """Per-entry reconstruction loss of validated rows, in the scaled space.

        For a variational model, the loss expected under the posterior.
        """
        if self._is_variational():
            return self._variational_terms(X)[0]
        errors = self._weighted_errors(self._error_scale())
        return self._map_batches(X, errors, self.n_features_in_)

    def _error_scale(self) -> np.ndarray | None:
        """Per-feature divisor of the reconstruction errors (None: no division).

        The detector divides by each feature's typical training error."""
        return None

    def _weighted_errors(self, scale: np.ndarray | None):
        """Batch function: per-entry loss, divided by ``scale`` unless it is None."""
        module = self.net_.module_
        if scale is None:
            return lambda batch: elementwise_loss(module(batch)[0], batch, self.loss)
        weights = torch.from_numpy(1.0 / np.asarray(scale, dtype=np.float64)).to(self._device)

        def errors(batch):
            loss = elementwise_loss(module(batch)[0], batch, self.loss)
            return loss.double() * weights

        return errors

    def _variational_terms(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Expected per-entry losses under ``q(z | x)`` and the per-row KL term.

        The expectation is the mean over ``_ELBO_DRAWS`` reparameterised draws
        ``z = mean + std * eps`` with the same ``eps`` for every row.
        """
        module = self.net_.module_
        n_features = self.n_features_in_

        def terms(batch):
            mean, log_var = module.posterior(batch)
            std = (0.5 * log_var).exp()
            generator = torch.Generator().manual_seed(0)
            draws = torch.randn((_ELBO_DRAWS, mean.shape[1]), generator=generator)
            errors = torch.zeros_like(batch)
            for eps in draws.to(mean):
                errors += elementwise_loss(module.decode(mean + std * eps), batch, self.loss)
            kl = gaussian_kl(mean, log_var)
            return torch.cat([errors / _ELBO_DRAWS, kl[:, None]], dim=1)

        out = self._map_batches(X, terms, n_features + 1)
        return out[:, :n_features], out[:, n_features]

    def _score_samples(self, X: np.ndarray) -> np.ndarray:
        if self._is_variational():
            errors, kl = self._variational_terms(X)
            # -log p(x | z) per entry is the loss itself for BCE (a Bernoulli decoder)
            # and the squared error plus log(pi) / 2 for MSE (a Gaussian decoder of
            # variance 1/2): the ELBO is minus their sum, minus the KL term.
            constant = 0.0 if self.loss == "bce" else 0.5 * math.log(math.pi) * errors.shape[1]
            return -errors.sum(axis=1) - kl - constant
        # Row means per batch: never an (n_samples, n_features) array of errors.
        errors = self._weighted_errors(self._error_scale())

        def mean_errors(batch):
            return errors(batch).double().mean(dim=1, keepdim=True)

        return -self._map_batches(X, mean_errors, 1)[:, 0]

    # ------------------------------------------------------------ persistence
    def __getstate__(self):
        """Replace the skorch net by a portable record (see ``_state``)."""
        # A copy: object.__getstate__ may hand back the instance's own __dict__.
        state = dict(super().__getstate__())
        if isinstance(state.get("net_"), AutoencoderNet):
            state["net_"] = _state._net_record(state["net_"])
        state.update(_state._current_versions())
        return state

    def __setstate__(self, state):
        state = dict(state)
        record = state.pop("net_", None)
        _state._check_versions(state, type(self).__name__)
        super().__setstate__(state)
        if isinstance(record, dict):
            record = _state._rebuild_net(self, record)
        if record is not None:
            self.net_ = record

    def _decode(self, Z: np.ndarray) -> np.ndarray:
        """Decode codes to rows in the original units (scaling undone)."""
        decode = self._in_original_units(self.net_.module_.decode)
        return self._map_batches(Z, decode, self.n_features_in_, scale=False)

    @validate_params(
        {
            "n_samples": [Interval(Integral, 1, None, closed="left")],
            "random_state": ["random_state"],
        },
        prefer_skip_nested_validation=True,
    )
    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Generate new rows from a variational model.

        Draws codes from the prior ``N(0, I)`` and decodes them: each row is the
        decoder's mean for one draw (no observation noise is added), in the original
        units of the training data (scaling undone). Only available with
        ``architecture="variational"`` or a custom module with a ``posterior``
        method; other models raise a ``ValueError``.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws; None uses NumPy's global random state, as elsewhere in
            scikit-learn.

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_in_`)
            Generated rows, float64.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sk_autoencoder import AutoencoderTransformer
        >>> X, _ = load_digits(return_X_y=True)
        >>> vae = AutoencoderTransformer(
        ...     n_components=4, architecture="variational", max_epochs=5, random_state=0
        ... ).fit(X)
        >>> vae.sample(3, random_state=0).shape
        (3, 64)
        """
        check_is_fitted(self)
        if not self._is_variational():
            raise ValueError(
                "sample needs a variational model (architecture='variational', or a "
                "custom module with a posterior method); this one has architecture="
                f"{self.architecture!r} and no generative model."
            )
        codes = check_random_state(random_state).standard_normal((n_samples, self.n_components_))
        return self._decode(codes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def _check_numeric_columns(estimator: _BaseAutoencoder, X) -> None:
    """Refuse DataFrame columns that are not numbers, naming them."""
    if not isinstance(X, pd.DataFrame):
        return
    bad = {}
    for name, dtype in X.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype) or (
            pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)
        ):
            continue
        if pd.api.types.is_object_dtype(dtype):
            try:
                pd.to_numeric(X[name])
                continue
            except (TypeError, ValueError):
                pass
        bad[name] = str(dtype)
    if bad:
        listed = ", ".join(f"{name!r} ({dtype})" for name, dtype in bad.items())
        raise ValueError(
            f"{type(estimator).__name__} needs numeric columns; these are not: {listed}. "
            "Encode them first, e.g. with sklearn.compose.ColumnTransformer and "
            "sklearn.preprocessing.OneHotEncoder in a Pipeline before the autoencoder."
        )


def _check_scaler_finite(scaler) -> None:
    """Refuse columns whose scaling statistics overflow float64."""
    if isinstance(scaler, StandardScaler):
        # var_, not scale_: scikit-learn sets scale_ to 1 where var_ overflowed.
        stats = np.vstack([scaler.mean_, scaler.var_])
    else:
        stats = np.vstack([scaler.data_min_, scaler.data_range_])
    bad = np.flatnonzero(~np.isfinite(stats).all(axis=0))
    if bad.size:
        raise ValueError(
            f"Cannot scale feature(s) {bad.tolist()[:10]}: their spread overflows float64 "
            "(values beyond about 1e154 in magnitude). Divide those columns by a "
            "constant first."
        )


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
