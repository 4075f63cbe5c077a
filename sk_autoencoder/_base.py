"""The base shared by every autoencoder estimator: parameters, training orchestration
and batched inference. Subclasses add what their task needs on top (``transform``,
``predict``...).

What lives elsewhere: the losses in ``_losses``, the scaling in ``_scaling``, the
networks and their ``input_shape`` rules in ``modules``, the training callbacks in
``_callbacks``, the optimisers in ``_optimizers``, input checks in ``_validation``,
training datasets and what the network sees of missing entries in ``_data``, sample
weights in ``_weights``, devices in ``_devices``.
"""

from __future__ import annotations

import copy
import inspect
import math
from contextlib import contextmanager, nullcontext
from functools import partial
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import Callback, PrintLog

from . import _data, _devices, _scaling, _seeding, _state, _threads, _weights
from ._callbacks import (
    _LEARNING_RATE_SCHEDULES,
    _check_finite_weights,
    _DivergenceCheck,
    _EarlyStopping,
    _EpochProgressBar,
    _HeldOutCurve,
    _InterruptGuard,
    _KeepBetterStart,
    _LearningRateSchedule,
    _noop,
    _print_epoch_row,
)
from ._data import (
    _BatchIterator,
    _network_input,
    _SparseDataset,
    _TensorDataset,
    _TensorValidSplit,
)
from ._losses import (
    _LOSSES,
    _check_domain,
    _elementwise_loss,
    _reconstruction_errors,
    _ReconstructionLoss,
)
from ._net import _NOISE_TYPES, AutoencoderNet, _check_noise
from ._optimizers import _OPTIMIZERS, _optimizer_class, _optimizer_kwargs
from ._validation import (
    _check_missing,
    _check_numeric_columns,
    _check_sparse_frame,
    _Number,
    _SubclassOf,
)
from .modules import (
    _ACTIVATIONS,
    _ARCHITECTURES,
    AutoencoderModule,
    _resolve_input_shape,
    _warn_long_default_sequence,
    gaussian_kl,
)

# Posterior draws behind a variational model's ELBO. The same draws (from a fixed
# seed) serve every row, so scores are deterministic and do not depend on which
# other rows share the call.
_ELBO_DRAWS = 16
# hidden_layer_sizes="auto" for the dense network: the candidates cross-fitted on
# halves of the rows (the first is also the choice where nothing is cross-fitted).
_AUTO_HIDDEN_LAYERS = ((100,), (128, 64))


def _consistent_winner(errors: list[list[float]]) -> int:
    """Index of the candidate chosen from held-out errors (one list per candidate, one
    entry per half): the first, replaced by a later one only where that one is lower
    on every half. Picking the lowest sum would favour whichever candidate one noisy
    half happens to flatter, more so the more candidates there are."""
    chosen = 0
    for i in range(1, len(errors)):
        if all(e < c for e, c in zip(errors[i], errors[chosen], strict=True)):
            chosen = i
    return chosen


# check_start="conservative": the cross-fit's networks are measured on their held-out
# halves at the start and at this many evenly spaced epochs, and the full fit stops
# at the earliest whose error is within this many standard errors of the lowest
# (measured on both halves of the benchmark tables: benchmarks/README.md, "Eighth
# round"; a 3-sigma margin is the one that left no pair more than 1% worse than PCA).
_STOPPING_POINTS = 20
_STOPPING_MARGIN = 3.0


def _stopping_epochs(max_epochs: int) -> frozenset[int]:
    """The epochs at which ``check_start="conservative"`` measures its cross-fit: 0
    (the PCA start) to ``max_epochs``, evenly spaced."""
    points = range(_STOPPING_POINTS + 1)
    return frozenset(round(max_epochs * j / _STOPPING_POINTS) for j in points)


def _mean_and_standard_error(values: np.ndarray, weights: np.ndarray | None):
    """Mean of ``values`` and its standard error; weighted, over the weights'
    effective number of rows (Kish's), so that scaling every weight changes nothing."""
    values = np.asarray(values, dtype=np.float64)
    if weights is None:
        return values.mean(), values.std(ddof=1) / math.sqrt(len(values))
    w = np.asarray(weights, dtype=np.float64) / np.sum(weights)
    mean = w @ values
    n_eff = 1.0 / (w @ w)
    if n_eff <= 1.0:  # one row carries the weight: nothing to estimate the noise from
        return mean, math.inf
    variance = (w @ (values - mean) ** 2) * n_eff / (n_eff - 1.0)
    return mean, math.sqrt(variance / n_eff)


def _earliest_within_margin(
    curve: dict[int, np.ndarray], weights: np.ndarray | None, margin: float = _STOPPING_MARGIN
) -> int:
    """The epoch ``check_start="conservative"`` stops at: the earliest of ``curve``
    (epoch -> the held-out rows' errors) whose mean error exceeds the lowest one's by
    at most ``margin`` standard errors of their row-by-row difference.

    The lowest of many points is biased low by the choice itself, and on a small
    table its gain can be the rows' noise; an earlier point, and the PCA start
    (epoch 0) above all, is kept unless training beats it clearly."""
    epochs = sorted(curve)
    means = {e: _mean_and_standard_error(curve[e], weights)[0] for e in epochs}
    best = min(epochs, key=means.__getitem__)
    for epoch in epochs:
        mean, error = _mean_and_standard_error(curve[epoch] - curve[best], weights)
        if mean <= margin * error:
            return epoch
    return best  # not reached: the lowest is within any margin of itself


@contextmanager
def _as_fitted(net, dataset):
    """A net that is training on ``dataset``, as the fitted network will be: its
    module in eval mode, its codes' range observed on the training rows (``_train``
    observes it again once training ends); back in training mode afterwards."""
    module = net.module_
    module.eval()
    try:
        for i, rows in enumerate(_module_rows(dataset)):
            module.observe_code_range(rows, reset=i == 0)
        yield module
    finally:
        module.train()


def _training_row_errors(fold, X, net, dataset) -> np.ndarray:
    """``fold._row_errors(X)`` from ``net`` while it trains on ``dataset``, as the
    fitted network will give them."""
    fold.net_ = net  # the estimator measures through net_, which training then sets
    with _as_fitted(net, dataset):
        return fold._row_errors(X)


def _interrupted(net) -> bool:
    """Whether a KeyboardInterrupt cut the net's last training short."""
    return dict(net.callbacks_)["interrupt_guard"].interrupted_


def _snapshot(state):
    """A copy of a nested torch state (``state_dict()``): tensors cloned, dicts and
    lists rebuilt, other values shared. ``copy.deepcopy`` gives the same through each
    tensor's ``__deepcopy__``, several times slower, on every ``partial_fit`` call."""
    if isinstance(state, torch.Tensor):
        return state.detach().clone()
    if isinstance(state, dict):
        return {k: _snapshot(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_snapshot(v) for v in state)
    return state


def _overflowed_rows(
    result: torch.Tensor, batch: torch.Tensor, errors: bool
) -> torch.Tensor | None:
    """Rows of a batch function's ``result`` that are not finite, i.e. overflowed, as
    a boolean mask; None where there are none.

    With ``errors``, the first columns are per-entry errors, NaN by design where the
    batch's entry is missing; those do not count."""
    # A finite sum means every entry is finite: one reduction decides the common case.
    if math.isfinite(result.sum()):
        return None
    finite = torch.isfinite(result)
    if errors and result.shape[1] >= batch.shape[1]:
        n = batch.shape[1]
        finite[:, :n] |= torch.isnan(batch) & torch.isnan(result[:, :n])
    bad = ~finite.all(dim=1)
    return bad if bad.any() else None


def _observed_row_means(terms: torch.Tensor) -> torch.Tensor:
    """Each row's mean over its observed entries (those of ``terms`` that are not
    NaN), as a column: the rule that turns per-entry terms into a row's error."""
    means = terms.mean(dim=1, keepdim=True)
    holes = torch.isnan(means[:, 0])
    if holes.any():  # rows with a missing entry
        means[holes] = torch.nanmean(terms[holes], dim=1, keepdim=True)
    return means


def _module_rows(dataset):
    """The training rows as the network sees them (missing entries as
    :func:`~sk_autoencoder._data._network_input` feeds them), chunk by chunk."""
    for chunk in dataset.chunks():
        yield _data._network_input(chunk)[0]


class _BaseAutoencoder(BaseEstimator):
    """Shared machinery of the autoencoder estimators.

    Subclasses define ``__init__`` with the parameters below (and their own), and
    public methods built on :meth:`_fit`, :meth:`_map_batches` and
    :meth:`_elementwise_errors`.
    """

    # Numbers are _Number intervals: scikit-learn's Interval, refusing booleans.
    _parameter_constraints: dict = {
        "n_components": [_Number(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", StrOptions({"auto"})],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "dropout": [_Number(Real, 0, 1, closed="left")],
        "init": [StrOptions({"pca", "random"})],
        "loss": [StrOptions(set(_LOSSES))],
        "preprocessing": [StrOptions(set(_scaling._PREPROCESSING)), None],
        "optimizer": [
            StrOptions(set(_OPTIMIZERS)),
            _SubclassOf(torch.optim.Optimizer, "a subclass of torch.optim.Optimizer"),
        ],
        "learning_rate": [_Number(Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions(set(_LEARNING_RATE_SCHEDULES))],
        "weight_decay": [_Number(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), _Number(Integral, 1, None, closed="left")],
        "max_epochs": [_Number(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "check_start": ["boolean", StrOptions({"conservative"})],
        "validation_fraction": [_Number(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [_Number(Integral, 1, None, closed="left")],
        "tol": [_Number(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        # Any torch device string ("cuda:1"...); fit checks that it exists. Strings
        # only, so that a saved model holds no torch object beyond its network.
        "device": [StrOptions({"cpu", "cuda", "mps", "auto"}), str],
        # Booleans allowed, as scikit-learn's verbose parameters take them.
        "verbose": [Interval(Integral, 0, 2, closed="both")],
        "callbacks": [list, None],
        "noise": [_Number(Real, 0, None, closed="left")],
        "noise_type": [StrOptions(set(_NOISE_TYPES))],
        "sparsity": [_Number(Real, 0, None, closed="left")],
        "contractive": [_Number(Real, 0, None, closed="left")],
        "architecture": [StrOptions(set(_ARCHITECTURES))],
        "beta": [_Number(Real, 0, None, closed="neither")],
        "input_shape": [tuple, list, None],
        "module": [
            _SubclassOf(
                torch.nn.Module,
                "a torch.nn.Module subclass with 'encode' and 'decode' methods (the protocol "
                "of sk_autoencoder.modules)",
                ("encode", "decode"),
            ),
            None,
        ],
        "warm_start": ["boolean"],
        "partial_fit_epochs": [_Number(Integral, 1, None, closed="left")],
    }

    # ------------------------------------------------------------------ validation
    def _check_hidden_layer_sizes(self) -> tuple[int, ...]:
        """The hidden layers' widths: those given, or for ``"auto"`` those chosen by
        the last fit (``hidden_layer_sizes_``), else the first candidate."""
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, str) and sizes == "auto":
            return getattr(self, "hidden_layer_sizes_", None) or self._auto_candidates()[0]
        if isinstance(sizes, Integral):
            sizes = (sizes,)
        sizes = tuple(sizes)
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be a sequence of positive integers, got "
                f"{self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _validate_rows(self, X, reset: bool, check_entries: bool = True):
        """Rows checked and converted as every method takes them: numbers (NaN for a
        missing entry, never infinity), dense float32/float64 or a CSR matrix (CSC
        and other sparse formats are converted), no row without an observed entry,
        and on the first fit (``reset``) no column without one. Float input and CSR
        matrices are not copied.

        Without ``check_entries``, the entries of dense rows are left to the caller
        (:meth:`_map_batches` checks them as it reads them)."""
        _check_numeric_columns(self, X)
        _check_sparse_frame(X)
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=(np.float64, np.float32),
            ensure_all_finite=False,  # checked below, in one pass for the common case
            reset=reset,
        )
        if sp.issparse(X) and X.format != "csr":
            X = X.tocsr()  # batches are row slices
        if check_entries or sp.issparse(X):
            self._check_entries(X, columns=reset)
        return X

    def _check_entries(self, X, columns: bool = False) -> None:
        """Refuse infinite entries of validated rows, rows with every entry missing
        and, with ``columns``, columns with every entry missing."""
        values = X.data if sp.issparse(X) else X
        if not _data._finite_sum(values):
            # An entry is missing or infinite (or the sum overflowed): scikit-learn's
            # error for an infinity, then the rows and columns with nothing observed.
            assert_all_finite(
                values, allow_nan=True, estimator_name=type(self).__name__, input_name="X"
            )
            _check_missing(X, columns=columns)

    def _weighted_rows(self, X, sample_weight):
        """``X`` and its validated weights, without the rows of weight 0 (which then
        count exactly as rows that were never there); weights are None when the
        remaining rows all weigh the same."""
        weights = _weights._check_weights(sample_weight, X)
        kept = _weights._positive_rows(weights)
        if kept is not None:
            X, weights = X[kept], weights[kept]
        return X, _weights._relative(weights)

    def _module_spec(self, n_features: int) -> tuple[type, dict]:
        """The torch module class and its keyword arguments."""
        penalties = {"sparsity": self.sparsity, "contractive": self.contractive}
        if self.module is not None:
            return self._custom_module_spec(n_features, penalties)
        module_cls = _ARCHITECTURES[self.architecture]
        input_shape = _resolve_input_shape(
            module_cls, self.input_shape, n_features, f"architecture={self.architecture!r}"
        )
        kwargs = {
            "n_features": n_features,
            "n_components": self.n_components,
            "hidden_layer_sizes": self._check_hidden_layer_sizes(),
            "activation": self.activation,
            "dropout": self.dropout,
            "output_activation": _LOSSES[self.loss].output_activation,
            **penalties,
        }
        if input_shape is not None:
            kwargs["input_shape"] = input_shape
        if self.architecture == "variational":
            kwargs["beta"] = self.beta
        if self.architecture == "dense":
            kwargs["linear_path"] = self._starts_from_pca()
        return module_cls, kwargs

    def _warn_long_sequence(self, n_features: int) -> None:
        """Warn if the default ``input_shape`` makes rows very long sequences."""
        if self.module is None:
            module_cls, name = (
                _ARCHITECTURES[self.architecture],
                f"architecture={self.architecture!r}",
            )
        else:
            module_cls, name = self.module, f"module={self.module.__name__}"
        _warn_long_default_sequence(module_cls, self.input_shape, n_features, name)

    def _custom_module_spec(self, n_features, penalties) -> tuple[type, dict]:
        module = self.module
        if self.architecture != "dense":
            raise ValueError(
                f"module={module.__name__} replaces the built-in networks; leave "
                f"architecture at 'dense' (got {self.architecture!r})."
            )
        input_shape = _resolve_input_shape(
            module, self.input_shape, n_features, f"module={module.__name__}"
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
        try:
            inspect.signature(module).bind(**kwargs)
        except TypeError as exc:
            call = ", ".join(f"{k}=..." for k in kwargs)
            raise ValueError(
                f"module={module.__name__} must be constructible as {module.__name__}({call}) "
                f"(see sk_autoencoder.modules), but {exc}."
            ) from None
        return module, kwargs

    # ---------------------------------------------------------------- training
    def _fit(self, X, sample_weight=None):
        """Validate, scale and train; return the training dataset (the scaled rows the
        network was trained on and their weights).

        If anything fails, the estimator is restored to its state before the call, so a
        failed refit never leaves new scaling next to an old network.
        """
        with self._rollback_on_error():
            return self._fit_unguarded(X, sample_weight)

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
        self, X, sample_weight=None, epochs: int | None = None, subsample: bool = True
    ):
        """Fit from scratch (or continue, with ``warm_start``); ``epochs`` overrides
        ``max_epochs`` (the first ``partial_fit`` call trains ``partial_fit_epochs``
        and, with ``subsample=False``, on every row of its chunk)."""
        # The parameters were validated by fit's or partial_fit's _fit_context.
        if self.warm_start and hasattr(self, "net_"):
            return self._warm_fit(X, sample_weight)
        # Float input is not copied here; the one float32 copy is the scaled one.
        X, weights = self._weighted_rows(self._validate_rows(X, reset=True), sample_weight)
        device = _devices._resolve_device(self.device)
        self._fit_scaler(X, weights)
        seed = self._base_seed()
        dataset = self._training_dataset(
            *self._training_subsample(X, weights, seed, subsample), device
        )
        _check_noise(self.noise, self.noise_type, dataset)
        self._warn_long_sequence(X.shape[1])
        # The constraints leave "auto" as the only string; an array must not meet ==.
        if isinstance(self.hidden_layer_sizes, str):
            candidates = list(self._auto_candidates())
        else:
            candidates = [self._check_hidden_layer_sizes()]
        checked = epochs is None and self._checks_start(candidates[0])
        stop = None
        if checked:
            errors, start, curves = self._cross_fit(X, weights, seed, candidates)
            chosen = _consistent_winner(errors)
            candidates, trained = [candidates[chosen]], sum(errors[chosen])
            if curves is not None:
                stop = _earliest_within_margin(*curves[chosen])
        self.hidden_layer_sizes_ = candidates[0]
        net = self._build_net(X.shape, device, seed)
        if epochs is not None:
            net.max_epochs = epochs
        elif stop:
            # Stopped on the unstopped fit's schedule: its first `stop` epochs are
            # those the cross-fit measured. At 0 it trains, and is set back to its
            # start, as where check_start=True keeps the start.
            net.max_epochs = stop
            schedule = dict(net.callbacks).get("learning_rate_schedule")
            if schedule is not None:
                schedule.horizon = self.max_epochs
        self._train(net, dataset, seed)
        # An interrupted fit keeps what it trained, unjudged.
        self.start_kept_ = bool(
            checked and not _interrupted(net) and (trained >= start if stop is None else stop == 0)
        )
        if self.start_kept_:
            self._reset_to_start(net.module_, dataset)
        self.n_samples_seen_ = X.shape[0]  # rows of positive weight
        return dataset

    def _warm_fit(self, X, sample_weight=None):
        """``fit`` with ``warm_start=True`` on a fitted estimator: keep the network, its
        optimiser state and the scaling, and train ``max_epochs`` more epochs on ``X``."""
        X, weights = self._weighted_rows(self._check_training_chunk(X), sample_weight)
        dataset = self._training_dataset(
            *self._training_subsample(X, weights, self._continuation_seed()), self.net_.device
        )
        self._continue_training(dataset, self.max_epochs)
        self.n_samples_seen_ += X.shape[0]
        return dataset

    def _base_seed(self) -> int:
        """The seed of a fit from scratch, drawn from ``random_state``."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _continuation_seed(self) -> int:
        """A different seed for every continuation (dropout masks, subsample), still
        reproducible: the base seed shifted by the epochs trained so far."""
        return (self._base_seed() + len(self.net_.history)) % np.iinfo(np.int32).max

    def _training_indices(self, n_samples: int, seed: int) -> np.ndarray | None:
        """The rows ``fit`` trains the network on, as sorted indices; None (all of
        them) here; the detector draws a subsample (``max_samples``)."""
        return None

    def _training_subsample(self, X, weights, seed: int, subsample: bool = True):
        """``(X, weights)`` of the rows that :meth:`_training_indices` picks."""
        rows = self._training_indices(X.shape[0], seed) if subsample else None
        if rows is None:
            return X, weights
        return X[rows], None if weights is None else weights[rows]

    def _check_training_chunk(self, X):
        """Validate more training rows for a fitted estimator (same checks as ``fit``)."""
        return self._validate_rows(X, reset=False)

    def _partial_fit(self, X, sample_weight=None):
        """One incremental step: update the scaling with ``X``, then train on it.

        The first call (on an unfitted estimator) validates the parameters, sets the
        input width, the scaling and the network from ``X`` and trains it for
        ``partial_fit_epochs`` epochs. Later calls update the scaling statistics with
        ``X`` (the network is not re-mapped to the new scaling; it adapts while it
        trains on the chunk) and train ``partial_fit_epochs`` more epochs. On error
        the estimator is left as it was before the call. Returns the training dataset.
        """
        with self._rollback_on_error():
            if not hasattr(self, "net_"):
                return self._fit_unguarded(
                    X, sample_weight, epochs=self.partial_fit_epochs, subsample=False
                )
            X, weights = self._weighted_rows(self._check_training_chunk(X), sample_weight)
            if self.scaler_ is not None:
                self.scaler_ = _scaling._updated_scaler(self.scaler_, X, weights)
                self._set_affine()
            dataset = self._training_dataset(X, weights, self.net_.device)
            self._continue_training(dataset, self.partial_fit_epochs)
            self.n_samples_seen_ += X.shape[0]
            return dataset

    def _continue_training(self, dataset, epochs: int) -> None:
        """Train the fitted ``net_`` ``epochs`` more epochs on a training dataset.

        The optimiser state and the history carry over, so ``n_iter_`` and
        ``loss_curve_`` keep accumulating. If training fails (e.g. diverges), the
        weights, optimiser state and history are put back as they were.
        """
        self._check_same_network()
        net = self.net_
        self._apply_training_settings(net, len(dataset))
        n_done = len(net.history)
        seed = self._continuation_seed()
        weights = _snapshot(net.module_.state_dict())
        optimizer_state = _snapshot(net.optimizer_.state_dict())
        net.max_epochs = epochs
        try:
            self._train(net, dataset, seed, partial=True)
        except BaseException:
            net.module_.load_state_dict(weights)
            net.optimizer_.load_state_dict(optimizer_state)
            del net.history[n_done:]
            net.module_.eval()
            raise
        self.start_kept_ = False  # trained on from where it was

    def _check_same_network(self) -> None:
        """Continuing training needs the parameters that shaped the fitted network."""
        net = self.net_
        module_cls, module_kwargs = self._module_spec(self.n_features_in_)
        changed = [k for k, v in module_kwargs.items() if getattr(net, f"module__{k}", None) != v]
        if net.module is not module_cls:
            changed.append("module")
        if net.criterion__loss != self.loss:
            changed.append("loss")
        if _scaling._preprocessing_of(self.scaler_) != self.preprocessing:
            changed.append("preprocessing")
        if (net.train_split is not None) != bool(self.early_stopping):
            changed.append("early_stopping")
        # The optimiser's state belongs to its class; the schedule is a callback of
        # the fitted net (the other settings of how to train carry over).
        if net.optimizer is not _optimizer_class(self.optimizer):
            changed.append("optimizer")
        schedule = dict(net.callbacks_).get("learning_rate_schedule")
        if (schedule.schedule if schedule else "constant") != self.learning_rate_schedule:
            changed.append("learning_rate_schedule")
        if changed:
            raise ValueError(
                "Cannot continue training (warm_start=True or partial_fit) after changing "
                f"parameters that the fitted network was built with: {', '.join(changed)}. "
                "Set them back, or fit a new network with warm_start=False."
            )

    def _fit_scaler(self, X, weights: np.ndarray | None = None) -> None:
        """Fit ``scaler_`` per ``preprocessing`` and cache it as an affine map."""
        self.scaler_ = _scaling._fit_scaler(self.preprocessing, X, weights)
        self._set_affine()

    def _set_affine(self) -> None:
        """Cache the fitted scaling as float64 ``(a, b)``: scaled = ``X * a + b``."""
        self._affine = _scaling._affine_map(self.scaler_)

    def _network_rows(self, rows: np.ndarray) -> np.ndarray:
        """A chunk of validated rows, scaled and cast to float32 for the network."""
        return _scaling._network_rows(rows, self._affine, self.preprocessing)

    def _training_dataset(self, X, weights: np.ndarray | None, device):
        """Validated rows as the network trains on them, on ``device``: scaled to one
        float32 tensor (a sparse matrix stays sparse and is scaled batch by batch),
        with their weights, checked against the loss's domain."""
        if weights is not None:
            weights = torch.from_numpy(weights.astype(np.float32))
        if sp.issparse(X):
            dataset = _SparseDataset(X, self._network_rows, device, weights)
        else:
            X_t = torch.from_numpy(_scaling._scaled_float32(X, self._affine, self.preprocessing))
            has_missing = _data._has_nan(X_t)
            dataset = _TensorDataset(
                X_t.to(device), None if weights is None else weights.to(device), has_missing
            )
        _check_domain(dataset.chunks(), self.loss)
        return dataset

    def _build_net(self, shape: tuple[int, int], device: str, seed: int) -> AutoencoderNet:
        """A fresh, uninitialised training net for rows of ``shape``.

        ``seed`` seeds the net's own generator (shuffling, validation split); weight
        initialisation is seeded in :meth:`_train`.
        """
        n_samples, n_features = shape
        generator = torch.Generator().manual_seed(seed)
        batch_size = self._resolved_batch_size(n_samples)
        module_cls, module_kwargs = self._module_spec(n_features)
        return AutoencoderNet(
            module=module_cls,
            criterion=_ReconstructionLoss,
            criterion__loss=self.loss,
            optimizer=_optimizer_class(self.optimizer),
            optimizer__weight_decay=self.weight_decay,
            **{f"optimizer__{k}": v for k, v in _optimizer_kwargs(self.optimizer, device).items()},
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

    def _resolved_batch_size(self, n_samples: int) -> int:
        return min(200, n_samples) if self.batch_size == "auto" else self.batch_size

    def _apply_training_settings(self, net: AutoencoderNet, n_samples: int) -> None:
        """Give a fitted net the estimator's current settings of how to train (rate,
        weight decay, batch size, noise, patience), as scikit-learn's ``warm_start``
        does: a continuation trains with the parameters set now, not those of the
        first fit. The optimiser's state (Adam's moments) is kept."""
        net.lr = self.learning_rate
        for group in net.optimizer_.param_groups:
            group["lr"] = self.learning_rate
            group["weight_decay"] = self.weight_decay
        net.batch_size = self._resolved_batch_size(n_samples)
        net.noise, net.noise_type = self.noise, self.noise_type
        callbacks = dict(net.callbacks_)
        callbacks["divergence_check"].learning_rate = self.learning_rate
        schedule = callbacks.get("learning_rate_schedule")
        if schedule is not None:
            # Built again from the parameters set now; its state restarts every call.
            fresh = dict(self._schedule_callbacks(schedule.monitor))["learning_rate_schedule"]
            net.callbacks_ = [
                (name, fresh.initialize() if cb is schedule else cb) for name, cb in net.callbacks_
            ]
        stopping = callbacks.get("early_stopping")
        if stopping is not None:
            stopping.patience, stopping.threshold = self.n_iter_no_change, self.tol

    def _train(self, net: AutoencoderNet, dataset, seed: int, *, partial: bool = False) -> None:
        """Train ``net`` on a training dataset, then record it and its history.

        ``partial=False`` (re)initialises the net; ``partial=True`` continues training
        an initialised net (its ``max_epochs`` more epochs).
        """
        # A continuation appends epochs to a history the fitted curves already hold.
        n_kept = len(net.history) if partial and hasattr(self, "loss_curve_") else 0
        if not partial:
            # Layers initialise their weights from torch's global generator: seeded,
            # under the lock, the caller's random state left as it was.
            with _seeding._global_rng(seed, net.device):
                net.initialize()
        self._prepare_module(net.module_, dataset, fresh=not partial)
        # Dropout and variational draws of the built-in networks: the fit's own stream.
        generator = torch.Generator(device=net.device).manual_seed(seed + 2)
        # A custom module may draw from the global generator: seed it and hold the lock.
        custom = self.module is not None
        global_rng = _seeding._global_rng(seed + 3, net.device) if custom else nullcontext()
        with global_rng, _seeding._training_generator(generator):
            net.partial_fit(dataset, None)
        net.module_.eval()
        _check_finite_weights(net.module_)
        observe_codes = getattr(net.module_, "observe_code_range", None)
        if observe_codes is not None:
            for i, rows in enumerate(_module_rows(dataset)):
                observe_codes(rows, reset=not partial and i == 0)
        self._record_training(net, n_kept)

    def _prepare_module(self, module: torch.nn.Module, dataset, fresh: bool) -> None:
        """Show the module the scaled rows it is about to train on: the built-in
        networks record their range (a fresh network exactly theirs, a continued one
        widens it), and ``init="pca"`` starts a fresh network's linear path at PCA's
        solution, the rows weighted by their sample weights."""
        observe = getattr(module, "observe_input_range", None)
        if observe is not None:
            for i, rows in enumerate(_module_rows(dataset)):
                observe(rows, reset=fresh and i == 0)
        if fresh and self.init == "pca" and getattr(module, "linear_path", True):
            init_linear_path = getattr(module, "init_linear_path", None)
            if init_linear_path is None:
                return
            weights = getattr(dataset, "weights", None)
            if (
                weights is not None
                and "sample_weight" in inspect.signature(init_linear_path).parameters
            ):
                init_linear_path(_module_rows(dataset), sample_weight=weights)
            else:
                init_linear_path(_module_rows(dataset))

    def _record_training(self, net: AutoencoderNet, n_kept: int = 0) -> None:
        """Set ``net_`` and the fitted attributes read from its history.

        The curves' first ``n_kept`` entries (epochs of earlier calls, whose history
        rows a continuation does not change) are kept and only the new epochs read,
        so that a long run of ``partial_fit`` calls does not re-read a growing
        history on every call.
        """
        history = net.history
        self.net_ = net
        self.n_components_ = self.n_components
        self.n_iter_ = len(history)
        new = slice(n_kept, None)
        kept = getattr(self, "loss_curve_", [])[:n_kept]
        self.loss_curve_ = kept + [float(v) for v in history[new, "train_loss"]]
        if self.early_stopping:
            kept = getattr(self, "validation_scores_", [])[:n_kept]
            self.validation_scores_ = kept + [-float(v) for v in history[new, "valid_loss"]]
            self.best_validation_score_ = max(self.validation_scores_)
        elif hasattr(self, "validation_scores_"):
            del self.validation_scores_, self.best_validation_score_

    def _make_callbacks(self) -> list:
        quiet = self.verbose < 2
        monitor = "valid_loss" if self.early_stopping else "train_loss"
        # Only where the objective is the error (no noise), after early stopping's
        # restore (so appended below it).
        keeps_start = self._judges_start()
        callbacks: list = [
            # First, so that its epoch end runs before EarlyStopping stops training
            # (EarlyStopping stops it by raising KeyboardInterrupt).
            ("interrupt_guard", _InterruptGuard(monitor)),
            (
                "divergence_check",
                _DivergenceCheck(self.learning_rate, self.loss, start_judged=keeps_start),
            ),
            *self._schedule_callbacks(monitor),
        ]
        # A cosine schedule sets the budget itself: stopping when the training loss
        # stalls would end training at a high learning rate, before the annealing
        # that makes the last epochs converge. Validation-based stopping still acts.
        if self.early_stopping or self.learning_rate_schedule != "cosine":
            stopping = _EarlyStopping(
                monitor=monitor,
                patience=self.n_iter_no_change,
                threshold=self.tol,
                threshold_mode="abs",
                load_best=self.early_stopping,
                sink=_noop if quiet else print,
            )
            callbacks.append(("early_stopping", stopping))
        if keeps_start:
            callbacks.append(("keep_better_start", _KeepBetterStart(self.loss)))
        if self.verbose == 1:
            callbacks.append(("progress_bar", _EpochProgressBar()))
        elif self.verbose == 2:
            callbacks.append(("print_log", PrintLog(sink=_print_epoch_row)))
        for i, cb in enumerate(self.callbacks or []):
            if isinstance(cb, Callback):
                callbacks.append((f"user_{i}_{type(cb).__name__}", cb))
            elif (
                isinstance(cb, tuple)
                and len(cb) == 2
                and isinstance(cb[0], str)
                and isinstance(cb[1], Callback)
            ):
                callbacks.append(cb)
            else:
                raise ValueError(
                    "callbacks must hold skorch Callback instances or (name, Callback) "
                    f"tuples, got {cb!r}."
                )
        return callbacks

    def _starts_from_pca(self) -> bool:
        """Whether a new network's linear path starts at PCA's solution."""
        # Not under a penalty on the code: the linear path's PCA scores are dense and
        # its Jacobian fixed, which the sparsity and contractive penalties cannot shrink.
        return (
            self.init == "pca"
            and self.architecture == "dense"
            and self.module is None
            and not (self.sparsity or self.contractive)
        )

    def _judges_start(self) -> bool:
        """Whether a fresh network's end is compared with its PCA start: only where
        the objective is the reconstruction error (no noise)."""
        return self._starts_from_pca() and not self.noise

    def _auto_candidates(self) -> tuple[tuple[int, ...], ...]:
        """``hidden_layer_sizes="auto"``: the dense network's candidates, or the
        architecture's own default widths (one candidate) for the others."""
        if self.module is None and self.architecture == "dense":
            return _AUTO_HIDDEN_LAYERS
        cls = self.module if self.module is not None else _ARCHITECTURES[self.architecture]
        default = inspect.signature(cls).parameters.get("hidden_layer_sizes")
        if default is None or default.default is inspect.Parameter.empty:
            return (_AUTO_HIDDEN_LAYERS[0],)
        return (tuple(default.default),)

    def _checks_start(self, hidden_layer_sizes: tuple[int, ...]) -> bool:
        """Whether a fresh fit runs ``check_start``: a PCA start judged by the error,
        hidden layers to judge (without, the network is the linear path alone), and a
        loss without a bounded domain (a half's scaling can put the other half
        outside it)."""
        return (
            self.check_start
            and self._judges_start()
            and len(hidden_layer_sizes) > 0
            and _LOSSES[self.loss].domain is None
        )

    def _cross_fit(
        self, X, weights: np.ndarray | None, seed: int, candidates: list
    ) -> tuple[list[list[float]], float, list | None]:
        """``check_start``'s cross-fit: for each candidate ``hidden_layer_sizes``, the
        held-out errors of networks trained on each half of the rows and measured on
        the other half (one per half), and the summed error of their PCA starts.

        With ``check_start="conservative"`` also, for each candidate, its curve: the
        epochs of :func:`_stopping_epochs` that both halves' networks reached, each
        with the held-out rows' errors (both halves, one after the other), and those
        rows' weights (``None`` without weights); otherwise ``None``.

        ``X`` and ``weights`` are the validated training rows and their relative
        weights. With fewer than 4 rows nothing can be held out: every candidate
        then counts as beating its start, and no curve is measured."""
        n = X.shape[0]
        if n < 4:
            return [[-math.inf]] * len(candidates), 0.0, None
        conservative = self.check_start == "conservative"
        order = np.random.RandomState(seed).permutation(n)
        halves = np.sort(order[: n // 2]), np.sort(order[n // 2 :])
        # The same settings, without the user's callbacks (they are told about the
        # fit they asked for, not these) and without checking again.
        settings = {
            **self.get_params(deep=False),
            "check_start": False,
            "callbacks": None,
            "verbose": 0,
            "warm_start": False,
        }
        trained, start = [[] for _ in candidates], 0.0
        curves: list[list[dict]] = [[] for _ in candidates]
        for fit_rows, held_out in (halves, halves[::-1]):
            held_weights = None if weights is None else weights[held_out]
            # Otherwise indexed once trained, not held through training.
            held_rows = X[held_out] if conservative else None
            for i, sizes in enumerate(candidates):
                fold = type(self)(**{**settings, "hidden_layer_sizes": sizes})
                if conservative:
                    curve = _HeldOutCurve(
                        partial(_training_row_errors, fold, held_rows),
                        _stopping_epochs(self.max_epochs),
                    )
                    fold.set_params(callbacks=[("held_out_curve", curve)])
                fold_data = fold._fit(X[fit_rows], None if weights is None else weights[fit_rows])
                if _interrupted(fold.net_):
                    raise KeyboardInterrupt("fit was interrupted while checking its start.")
                trained[i].append(fold._held_out_error(X[held_out], held_weights))
                if conservative:
                    curves[i].append(curve.curve_)
            # The PCA start of a half does not depend on the hidden layers.
            fold._reset_to_start(fold.net_.module_, fold_data)
            start += fold._held_out_error(X[held_out], held_weights)
        if not conservative:
            return trained, start, None
        order = np.concatenate([halves[1], halves[0]])  # the held-out rows, fold by fold
        joined = None if weights is None else weights[order]
        joined_curves = []
        for first, second in curves:
            common = sorted(set(first) & set(second))
            curve = {e: np.concatenate([first[e], second[e]]) for e in common}
            joined_curves.append((curve, joined))
        return trained, start, joined_curves

    def _row_errors(self, X) -> np.ndarray:
        """Each row's mean reconstruction loss, in the scaled space, over its
        observed entries."""

        def make_means(module):
            terms = self._loss_terms(module)
            return lambda batch: _observed_row_means(terms(batch))

        return self._map_errors(self._check_X(X), make_means, 1, per_entry=False)[:, 0]

    def _held_out_error(self, X, weights: np.ndarray | None) -> float:
        """Mean reconstruction loss of rows (weighted), in the scaled space, over
        their observed entries."""
        return float(np.average(self._row_errors(X), weights=weights))

    def _reset_to_start(self, module: torch.nn.Module, dataset) -> None:
        """Set a fitted dense network back to its PCA start for ``dataset``: the linear
        path at PCA's solution, a zero correction from the hidden layers."""
        module._zero_correction()
        self._prepare_module(module, dataset, fresh=True)
        for i, rows in enumerate(_module_rows(dataset)):
            module.observe_code_range(rows, reset=i == 0)

    def _schedule_callbacks(self, monitor: str) -> list:
        """The learning-rate schedule's callback, if the rate is not constant."""
        if self.learning_rate_schedule == "constant":
            return []
        schedule = _LearningRateSchedule(
            self.learning_rate_schedule,
            self.learning_rate,
            monitor,
            patience=max(1, self.n_iter_no_change // 2),
            tol=self.tol,
        )
        return [("learning_rate_schedule", schedule)]

    # -------------------------------------------------------------- inference
    @property
    def _device(self) -> torch.device:
        return next(self.net_.module_.parameters()).device

    def _check_X(self, X):
        """Validate rows for inference without copying float input; the entries of
        dense rows are checked by :meth:`_map_batches`, as it reads them."""
        check_is_fitted(self)
        return self._validate_rows(X, reset=False, check_entries=False)

    def _map_batches(
        self,
        X,
        fn,
        n_out: int,
        scale: bool = True,
        finish=None,
        float64_fn=None,
        per_entry: bool = True,
    ) -> np.ndarray:
        """Apply ``fn`` to float32 batches of ``X`` (scaled unless ``scale`` is false;
        NaN where an entry is missing) on the model's device and stack the results.

        ``finish``, if given, maps each batch's result on the CPU (a numpy array)
        before it is stored: float64 work happens there, which every device supports.
        A sparse ``X`` is densified one chunk at a time.

        The network computes in float32, whose squares overflow beyond about 1.8e19.
        Rows whose output is not finite are computed again on the CPU with
        ``float64_fn(module)`` (the batch function of a float64 copy of the network)
        where given, so that scores stay finite for any row the network accepts;
        without it (codes, reconstructions) they raise a ``ValueError``, as do unscaled
        rows (``scale=False``) beyond float32's range. Error functions put the
        per-entry errors in their first columns, NaN where the entry is missing: those
        NaN are not an overflow (unless ``per_entry`` is false: a function of whole
        rows, such as their mean error, has no NaN by design).
        """
        out_dtype = np.float32 if X.dtype == np.float32 else np.float64
        out = np.empty((X.shape[0], n_out), dtype=out_dtype)
        device = self._device
        module = self.net_.module_
        chunk_rows = _data._chunk_rows(X)
        work = min(X.shape[0], chunk_rows) * _threads._forward_flops_per_row(module)
        n_chunks = -(-X.shape[0] // chunk_rows)
        invariant = getattr(module, "thread_invariant", False)
        module64: list = []
        # Chunks scaled into one reused buffer where the scaled chunk's sum proves it
        # complete and finite (the common case); the general path otherwise.
        scaler = (
            _scaling._ChunkScaler(self._affine, min(X.shape[0], chunk_rows), X.shape[1])
            if scale
            else None
        )
        # Dense entries are checked as they are read, not in a pass of their own over
        # all of X: a finite scaled chunk proves its rows finite.
        entries_checked = sp.issparse(X)
        with (
            torch.inference_mode(),
            _threads._chunk_threads(work, device, n_chunks, invariant) as run,
        ):
            for start, stop, rows in _data._row_chunks(X):
                batch = None if scaler is None else scaler(rows)
                complete = batch is not None
                if not complete:
                    if not entries_checked and not _data._finite_sum(rows):
                        self._check_entries(X)  # all of X, once: its messages count every row
                        entries_checked = True
                    batch = torch.from_numpy(self._float32_rows(rows, scale))
                batch = batch.to(device)
                if complete:
                    _data._mark_complete(batch)
                result = run(
                    len(rows), self._run_batch, batch, fn, float64_fn, module64, per_entry
                )
                out[start:stop] = result if finish is None else finish(result)
        return out

    def _float32_rows(self, rows: np.ndarray, scale: bool) -> np.ndarray:
        """A chunk of validated rows as the network takes them (scaled unless
        ``scale`` is false), a C-contiguous float32 array torch can share."""
        if scale:
            return self._network_rows(rows)  # a new float32 array
        if rows.dtype != np.float32 or not _data._torch_can_share(rows):
            with np.errstate(over="ignore"):
                rows = rows.astype(np.float32)  # torch refuses read-only memory
            if not np.isfinite(rows).all():
                raise ValueError(
                    "X contains values beyond float32's range (about 3.4e38), which "
                    "the network computes in."
                )
        return np.ascontiguousarray(rows)

    def _run_batch(
        self, batch: torch.Tensor, fn, float64_fn, module64: list, per_entry: bool = True
    ) -> np.ndarray:
        """``fn(batch)`` as a numpy array, its overflowed rows recomputed with
        ``float64_fn`` (see :meth:`_map_batches`); ``module64`` caches the float64 copy
        of the network (a list, empty until it is needed)."""
        result = fn(batch)
        bad = _overflowed_rows(result, batch, errors=per_entry and float64_fn is not None)
        if bad is not None:
            if float64_fn is None:
                raise ValueError(
                    f"X holds {int(bad.sum())} row(s) for which the network's output "
                    "overflows float32 (about 3.4e38), the precision it computes in: "
                    "values far outside the training data."
                )
            if not module64:
                module64.append(copy.deepcopy(self.net_.module_).cpu().double().eval())
            bad = bad.cpu()
            result = result.cpu().double()
            result[bad] = float64_fn(module64[0])(batch.cpu()[bad].double())
        return result.cpu().numpy()

    def _encode(self, X) -> np.ndarray:
        """Codes of rows (validated here), as ``transform`` returns them."""
        X = self._check_X(X)
        module = self.net_.module_
        return self._map_batches(
            X, lambda batch: module.encode(_network_input(batch)[0]), self.n_components_
        )

    def _reconstruct(self, X) -> np.ndarray:
        """The network's output for ``X``, in the original units (scaling undone);
        complete rows, missing entries filled in."""
        X = self._check_X(X)
        module = self.net_.module_
        return self._map_batches(
            X,
            lambda batch: module(_network_input(batch)[0])[0],
            self.n_features_in_,
            finish=_scaling._in_original_units(self._affine),
        )

    def _is_variational(self) -> bool:
        return hasattr(self.net_.module_, "posterior")

    def _elementwise_errors(self, X) -> np.ndarray:
        """Per-entry reconstruction loss of validated rows, in the scaled space; NaN
        where an entry is missing.

        For a variational model, the loss expected under the posterior.
        """
        if self._is_variational():
            return self._variational_terms(X)[0]
        return self._map_errors(X, self._scored_terms, self.n_features_in_)

    def _scored_terms(self, module):
        """Batch function of ``module``: the per-entry terms whose mean over a row's
        observed entries is its error (NaN where the entry is missing).

        Here the per-entry loss divided by :meth:`_error_scale`; the detector adds
        its neighbour term."""
        return self._loss_terms(module, self._error_scale())

    def _error_scale(self) -> np.ndarray | None:
        """Per-feature divisor of the reconstruction errors (None: no division).

        The detector divides by each feature's typical training error."""
        return None

    def _loss_terms(self, module, scale: np.ndarray | None = None):
        """Batch function of ``module``'s per-entry loss of scaled rows (NaN where
        missing), divided by ``scale`` per feature where given, on the batch's device
        and in its precision."""
        if scale is None:
            return lambda batch: _reconstruction_errors(module, batch, self.loss)
        factors = torch.from_numpy(1.0 / np.asarray(scale, dtype=np.float64))

        def divided(batch):
            errors = _reconstruction_errors(module, batch, self.loss)
            return errors * factors.to(errors)

        return divided

    def _map_errors(self, X, make_fn, n_out: int, per_entry: bool = True):
        """``_map_batches`` of the batch function ``make_fn(module)``, recomputing rows
        whose float32 result overflows with a float64 copy of the network.
        ``per_entry``: the result's first columns are per-entry errors, NaN by design
        where the entry is missing."""
        return self._map_batches(
            X, make_fn(self.net_.module_), n_out, float64_fn=make_fn, per_entry=per_entry
        )

    def _variational_terms(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Expected per-entry losses under ``q(z | x)`` (NaN where missing) and the
        per-row KL term.

        The expectation is the mean over ``_ELBO_DRAWS`` reparameterised draws
        ``z = mean + std * eps`` with the same ``eps`` for every row.
        """
        n_features = self.n_features_in_

        def make_terms(module):
            def terms(batch):
                inputs, observed = _network_input(batch)
                mean, log_var = module.posterior(inputs)
                std = (0.5 * log_var).exp()
                generator = torch.Generator().manual_seed(0)
                draws = torch.randn((_ELBO_DRAWS, mean.shape[1]), generator=generator)
                errors = torch.zeros_like(inputs)
                for eps in draws.to(mean):
                    errors += _elementwise_loss(module.decode(mean + std * eps), inputs, self.loss)
                errors = errors / _ELBO_DRAWS
                if observed is not None:
                    errors = errors.masked_fill(~observed, float("nan"))
                kl = gaussian_kl(mean, log_var)
                return torch.cat([errors, kl[:, None]], dim=1)

            return terms

        out = self._map_errors(X, make_terms, n_features + 1)
        return out[:, :n_features], out[:, n_features]

    def _score_samples(self, X) -> np.ndarray:
        if self._is_variational():
            errors, kl = self._variational_terms(X)
            # -log p(x | z) per observed entry is the loss plus the loss's likelihood
            # constant: the ELBO of a row's observed entries is minus their sum, minus
            # the KL term.
            observed = ~np.isnan(errors)
            constant = _LOSSES[self.loss].log_likelihood_constant * observed.sum(axis=1)
            return -np.where(observed, errors, 0.0).sum(axis=1) - kl - constant

        # Row means on the device, per batch: never an (n_samples, n_features) array
        # of errors leaves it.
        def make_means(module):
            terms = self._scored_terms(module)
            return lambda batch: _observed_row_means(terms(batch))

        return -self._map_errors(X, make_means, 1, per_entry=False)[:, 0]

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
        return self._map_batches(
            Z,
            self.net_.module_.decode,
            self.n_features_in_,
            scale=False,
            finish=_scaling._in_original_units(self._affine),
        )

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
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags
