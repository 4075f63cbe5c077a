"""The skorch callbacks the estimators attach to their training net.

- :class:`_InterruptGuard`: a ``KeyboardInterrupt`` keeps the best completed epoch.
- :class:`_DivergenceCheck` and :func:`_check_finite_weights`: a loss that grows by
  orders of magnitude or stops being finite, or a weight that stops being finite,
  raises :class:`~sk_autoencoder.TrainingDivergedError`.
- :class:`_EarlyStopping`: ``early_stopping`` and ``n_iter_no_change``/``tol``.
- :class:`_KeepBetterStart`: a PCA-initialised network ends no worse than it began.
- :class:`_TrimmedTraining`: robust training on contaminated data (the detector).
- :class:`_LearningRateSchedule`: ``learning_rate_schedule``.
- :class:`_HeldOutCurve`: ``check_start="conservative"``'s measurements along training.
- :class:`_EpochProgressBar`: ``verbose=1``; :func:`_print_epoch_row`: ``verbose=2``.

A new training behaviour (clipping, a schedule) is a callback here, added to the list
that ``_BaseAutoencoder._make_callbacks`` builds.
"""

from __future__ import annotations

import math
import re
import sys
import warnings

import torch
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback, EarlyStopping

from ._data import _network_input
from ._losses import _elementwise_loss, _reconstruction_errors
from ._scaling import _SCALED_CHOICES
from .exceptions import TrainingDivergedError, TrainingInterruptedWarning


def _noop(*args, **kwargs):
    pass


# ------------------------------------------------------------------- faults
class _InterruptGuard(Callback):
    """Turn a ``KeyboardInterrupt`` during training into a usable model and a warning.

    skorch's ``partial_fit`` swallows a ``KeyboardInterrupt`` raised in its epoch loop
    and goes on to ``on_train_end``. An epoch that began but never ended marks the
    interruption: the partial epoch is dropped from the history, and the weights of
    the best completed epoch (by ``monitor``) are restored. If no epoch completed,
    there is nothing worth keeping and the ``KeyboardInterrupt`` is raised again.
    """

    def __init__(self, monitor: str) -> None:
        self.monitor = monitor

    def initialize(self):
        self.epoch_open_ = self.interrupted_ = False
        self.best_loss_ = math.inf
        self.best_epoch_ = None
        self.best_state_ = None
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.epoch_open_ = True

    def on_epoch_end(self, net, **kwargs):
        self.epoch_open_ = False
        loss = net.history[-1].get(self.monitor)
        if loss is not None and loss < self.best_loss_:
            self.best_loss_ = loss
            self.best_epoch_ = net.history[-1, "epoch"]
            self.best_state_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}

    def on_train_end(self, net, **kwargs):
        if not self.epoch_open_:
            return
        self.epoch_open_ = False
        self.interrupted_ = True
        epoch = net.history[-1, "epoch"]
        del net.history[-1]
        if self.best_state_ is None:
            raise KeyboardInterrupt(
                f"Training was interrupted in epoch {epoch}, before any epoch completed; "
                "the estimator is left as it was before fit."
            )
        net.module_.load_state_dict(self.best_state_)
        warnings.warn(
            f"Training was interrupted (KeyboardInterrupt) in epoch {epoch}; the model "
            f"keeps the weights of epoch {self.best_epoch_}, the best completed epoch "
            f"by {self.monitor} ({self.best_loss_:.6g}).",
            TrainingInterruptedWarning,
            stacklevel=2,
        )


# Divergence is judged against a reference loss (see _DivergenceCheck): an epoch loss
# _DIVERGENCE_FACTOR times above it for _DIVERGENCE_PATIENCE epochs, or in the last
# epoch, stops the fit; a last epoch _POOR_FIT_FACTOR times above it warns.
_DIVERGENCE_FACTOR = 100.0
_DIVERGENCE_PATIENCE = 3
_POOR_FIT_FACTOR = 10.0


def _mean_predictor_loss(dataset, loss: str) -> float:
    """Mean per-entry ``loss`` of predicting each feature's mean on the scaled training
    rows of ``dataset`` (read chunk by chunk): the loss of a network that learnt
    nothing (about 1 for standardised rows and "mse"). Entries that are not finite
    (missing values) are left out."""
    total, count = 0, 0
    for chunk in dataset.chunks():
        total = total + torch.nansum(chunk.double(), dim=0)
        count = count + (~chunk.isnan()).sum(dim=0)
    if isinstance(count, int):  # no rows
        return 0.0
    mean = total / count.clamp(min=1)
    errors = 0.0
    for chunk in dataset.chunks():
        inputs, observed = _network_input(chunk)  # losses such as BCE refuse NaN targets
        chunk_errors = _elementwise_loss(mean.to(inputs.dtype).expand_as(inputs), inputs, loss)
        if observed is not None:
            chunk_errors = chunk_errors.masked_fill(~observed, 0.0)
        errors += float(chunk_errors.double().sum())
    return float(errors) / max(int(count.sum()), 1)


def _finite_or_zero(value: float) -> float:
    return value if math.isfinite(value) else 0.0


class _DivergenceCheck(Callback):
    """Stop training with :class:`~sk_autoencoder.TrainingDivergedError` when it diverges.

    Read from the history once per epoch (no work per batch). Training has diverged
    when an epoch's loss is not finite, or when it is more than ``_DIVERGENCE_FACTOR``
    times the reference loss for ``_DIVERGENCE_PATIENCE`` epochs in a row, or in the
    last epoch of the call. A last epoch more than ``_POOR_FIT_FACTOR`` times the
    reference warns (``ConvergenceWarning``): the network ends far worse than one that
    learnt nothing. Not in a fresh fit with ``start_judged=True``, which the
    estimators pass when :class:`_KeepBetterStart` judges the end: it keeps the PCA
    start, which is no worse than learning nothing, wherever training ended worse
    than that start, so the warning would describe weights that are not kept.

    The reference is the larger of the loss of the first batch of the call (computed
    before any optimiser step: the untrained network, penalties included) and the
    loss of predicting each feature's mean on the training rows. Both describe a
    network that has learnt nothing, on any table and for any loss, so the rule needs
    no scale of its own; legitimate fits of every variant in the test suite and the
    gallery stay below 2.2 times the reference in every epoch.
    """

    def __init__(self, learning_rate: float, loss: str, start_judged: bool = False) -> None:
        self.learning_rate = learning_rate
        self.loss = loss
        self.start_judged = start_judged

    def on_train_begin(self, net, X=None, **kwargs):
        self.first_epoch_ = len(net.history)  # history rows of earlier calls
        chunks = getattr(X, "chunks", None)
        self.reference_ = 0.0 if chunks is None else _mean_predictor_loss(X, self.loss)
        self.epochs_above_ = 0

    def _advice(self) -> str:
        return (
            f"Lower learning_rate (currently {self.learning_rate}), and make sure the input "
            f"is scaled ({_SCALED_CHOICES})."
        )

    def _ratio(self, loss: float) -> str:
        return (
            f"{loss / self.reference_:.3g} times the larger of the untrained network's loss "
            f"and that of predicting each feature's mean ({self.reference_:.3g})"
        )

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        epoch, loss = row["epoch"], row["train_loss"]
        if not math.isfinite(loss):
            losses = [b["train_loss"] for b in row["batches"]]
            batch = next((i for i, v in enumerate(losses) if not math.isfinite(v)), 0)
            raise TrainingDivergedError(
                f"Training diverged: the loss became {loss} in batch {batch + 1} of epoch "
                f"{epoch}. {self._advice()}"
            )
        if len(net.history) == self.first_epoch_ + 1:
            first_batch = row["batches"][0]["train_loss"]
            self.reference_ = max(self.reference_, first_batch, key=_finite_or_zero)
        above = loss > _DIVERGENCE_FACTOR * self.reference_
        self.epochs_above_ = self.epochs_above_ + 1 if above else 0
        last = len(net.history) - self.first_epoch_ >= net.max_epochs
        if self.epochs_above_ >= _DIVERGENCE_PATIENCE or (above and last):
            how = (
                f"for {self.epochs_above_} epochs in a row"
                if self.epochs_above_ >= _DIVERGENCE_PATIENCE
                else "in the last epoch"
            )
            raise TrainingDivergedError(
                f"Training diverged: the loss reached {loss:.3g} in epoch {epoch}, "
                f"{self._ratio(loss)}, and stayed above {_DIVERGENCE_FACTOR:g} times that "
                f"{how}. {self._advice()}"
            )

    def on_train_end(self, net, **kwargs):
        if len(net.history) <= self.first_epoch_ or (self.start_judged and not self.first_epoch_):
            return
        loss = net.history[-1, "train_loss"]
        if loss > _POOR_FIT_FACTOR * self.reference_:
            warnings.warn(
                f"Training ended with a loss of {loss:.3g}, {self._ratio(loss)}: the "
                f"network has not learnt the data. {self._advice()}",
                ConvergenceWarning,
                stacklevel=2,
            )


def _check_finite_weights(module: torch.nn.Module) -> None:
    """Refuse a network whose last optimiser step made a weight non-finite.

    The divergence callback sees batch losses, which are computed before each step;
    a step after the last loss can still break the weights.
    """
    for name, value in module.state_dict().items():
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise TrainingDivergedError(
                f"Training diverged: the network weight {name!r} is not finite after "
                "the last step. Lower learning_rate, and make sure the input is scaled "
                f"({_SCALED_CHOICES})."
            )


# ------------------------------------------------------------- keep the start
def _mean_loss(module: torch.nn.Module, dataset, loss: str) -> float:
    """Mean reconstruction loss of ``module`` over the observed entries of a training
    dataset's rows, each row counting with its sample weight, in eval mode (the
    network sees missing entries as the training batches show them)."""
    was_training = module.training
    module.eval()
    weights = getattr(dataset, "weights", None)
    total, count, start = 0.0, 0.0, 0
    with torch.no_grad():
        for chunk in dataset.chunks():
            rows, observed = _network_input(chunk)
            errors = _elementwise_loss(module(rows)[0], rows, loss).double()
            counted = torch.ones_like(errors) if observed is None else observed.double()
            if weights is not None:
                counted = counted * weights[start : start + len(chunk), None].to(errors)
            start += len(chunk)
            # Missing entries' errors are NaN-free here (input filled), but not counted.
            total += float((errors * counted).sum())
            count += float(counted.sum())
    module.train(was_training)
    return total / max(count, 1e-300)


class _KeepBetterStart(Callback):
    """Keep a fresh network's initial weights if training ends worse than it began.

    A network that starts from PCA's solution (``init="pca"``) starts from a known
    good reconstruction; on tables that PCA already reconstructs almost exactly,
    the optimiser's steps can only add error. At the end of a fresh fit, the
    reconstruction loss is compared with the initial one, and the initial weights
    come back if they were better. The loss is measured on the validation rows when
    there are some (``early_stopping=True``): on held-out rows the comparison also
    catches a network that fits its training rows better than PCA but new rows
    worse. Without them it is measured on all training rows. Continued training
    (``warm_start``, ``partial_fit``) is left alone.
    """

    def __init__(self, loss: str) -> None:
        self.loss = loss

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.start_state_ = self.rows_ = None
        if len(net.history) or not isinstance(X, torch.utils.data.Dataset):
            return
        self.start_state_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        # The first epoch's begin comes before any step, and is the first event
        # that knows the validation split.
        if self.start_state_ is None or self.rows_ is not None:
            return
        self.rows_ = dataset_valid if dataset_valid is not None else dataset_train
        self.start_loss_ = _mean_loss(net.module_, self.rows_, self.loss)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        state, rows = self.start_state_, self.rows_
        self.start_state_ = self.rows_ = None
        if state is None or rows is None or not len(net.history):
            return
        if _mean_loss(net.module_, rows, self.loss) > self.start_loss_:
            net.module_.load_state_dict(state)


class _EarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping`` with scikit-learn's meaning of ``tol``.

    Training stops once the monitored loss has not improved by ``tol`` (absolute) for
    ``n_iter_no_change`` epochs, as in ``MLPRegressor``. The weights restored at the
    end (``load_best``) are those of the epoch with the lowest loss, however small
    its lead: skorch counts only an improvement by the threshold as a new best, so on
    a table whose loss is far below ``tol`` (a close fit, or a loss in scaled units
    of order 1e-5) it restored one of the first epochs, many times worse than the
    last. ``MLPRegressor`` keeps its best coefficients the same way.
    """

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.best_score_ = math.inf

    def on_epoch_end(self, net, **kwargs):
        score = net.history[-1, self.monitor]
        if self.load_best and score < self.best_score_:
            self.best_score_ = score
            self.best_epoch_ = net.history[-1, "epoch"]
            self.best_model_weights_ = {
                k: v.detach().clone() for k, v in net.module_.state_dict().items()
            }
        if score < self.dynamic_threshold_:
            self.misses_ = 0
            self.dynamic_threshold_ = self._calc_new_threshold(score)
        else:
            self.misses_ += 1
        if self.misses_ == self.patience:
            self._sink(
                f"Stopping since {self.monitor} has not improved by {self.threshold} in "
                f"the last {self.patience} epochs.",
                verbose=net.verbose,
            )
            raise KeyboardInterrupt


# ------------------------------------------------------------- robust training
def _kept_rows(
    errors: torch.Tensor, trim_fraction: float, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Sorted indices of the rows a trimmed loss keeps: all but the
    ``int(trim_fraction * n)`` rows of largest error, or with ``weights`` all but the
    largest-error rows holding at most ``trim_fraction`` of the total weight (at
    least one row either way)."""
    if weights is None:
        n = len(errors)
        kept = torch.topk(errors, max(1, n - int(trim_fraction * n)), largest=False).indices
    else:
        order = torch.argsort(errors, descending=True, stable=True)
        trimmed_weight = torch.cumsum(weights.to(errors.device)[order], dim=0)
        n_trimmed = int((trimmed_weight <= trim_fraction * trimmed_weight[-1]).sum())
        kept = order[min(n_trimmed, len(order) - 1) :]
    return torch.sort(kept)[0]


class _TrimmedTraining(Callback):
    """Robust training on contaminated data: a trimmed reconstruction loss.

    An autoencoder trained on every row also learns to reconstruct the outliers among
    them, which shrinks exactly the errors that should stand out. Trimming (as in
    least-trimmed-squares) fits the network to the bulk instead: after
    ``warmup_epochs`` epochs on all rows, each epoch trains only on the rows whose
    current reconstruction error is below the ``1 - trim_fraction`` quantile. The
    trimmed rows are re-chosen at the start of every epoch, so a row wrongly dropped
    early can come back.

    A row's error is the mean loss over its observed entries. With sample weights,
    the trimmed rows are the worst reconstructed ones that together weigh at most
    ``trim_fraction`` of the total weight.

    It sets ``rows`` on the training dataset (``_data._TensorDataset`` or
    ``_SparseDataset``), which ``_BatchIterator`` then visits instead of all rows.
    """

    def __init__(self, trim_fraction: float, warmup_epochs: int, loss: str) -> None:
        self.trim_fraction = trim_fraction
        self.warmup_epochs = warmup_epochs
        self.loss = loss

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        # net.history already holds a row for the epoch that is starting.
        if dataset_train is None or len(net.history) <= self.warmup_epochs:
            return
        module = net.module_
        was_training = module.training
        module.eval()  # errors without dropout
        row_mean = torch.nanmean if dataset_train.has_missing else torch.mean
        with torch.no_grad():
            errors = torch.cat(
                [
                    row_mean(_reconstruction_errors(module, chunk, self.loss), dim=1)
                    for chunk in dataset_train.chunks()
                ]
            )
        module.train(was_training)
        kept = _kept_rows(errors, self.trim_fraction, dataset_train.weights)
        dataset_train.rows = kept.to(dataset_train.device)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        # The dataset may be reused (partial_fit); start from all rows again.
        if isinstance(X, torch.utils.data.Dataset) and hasattr(X, "rows"):
            X.rows = None


# ----------------------------------------------------------- learning rate
#: The ``learning_rate_schedule`` choices and what each does, for the docstrings.
_LEARNING_RATE_SCHEDULES: dict[str, str] = {
    "constant": "``learning_rate`` throughout",
    "cosine": (
        "cosine annealing over the epochs of each call (``max_epochs`` for ``fit``, "
        "``partial_fit_epochs`` for ``partial_fit``): epoch ``e`` of ``E`` trains at "
        "``learning_rate * (1 + cos(pi * e / E)) / 2``, from ``learning_rate`` down "
        "to nearly zero"
    ),
    "plateau": (
        "``learning_rate``, divided by 5 whenever the monitored loss (the validation "
        "loss with ``early_stopping=True``, else the training loss) has not improved "
        "by ``tol`` for ``max(1, n_iter_no_change // 2)`` epochs"
    ),
}

# Divisor of the learning rate at each plateau.
_PLATEAU_FACTOR = 5.0


class _LearningRateSchedule(Callback):
    """Set the optimiser's learning rate at the start of every epoch.

    ``schedule`` is a key of :data:`_LEARNING_RATE_SCHEDULES` other than
    ``"constant"``. Every training call (``fit``, each ``partial_fit``) starts again
    from ``learning_rate``. The rate of each epoch is recorded in the history as
    ``"lr"``. ``horizon``: the number of epochs the cosine anneals over, where it is
    not the call's own (``None``): a fit stopped early by ``check_start="conservative"``
    follows the first epochs of the unstopped fit's schedule.
    """

    def __init__(
        self,
        schedule: str,
        learning_rate: float,
        monitor: str,
        patience: int,
        tol: float,
        horizon: int | None = None,
    ) -> None:
        self.schedule = schedule
        self.learning_rate = learning_rate
        self.monitor = monitor
        self.patience = patience
        self.tol = tol
        self.horizon = horizon

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.first_epoch_ = len(net.history)
        self.n_epochs_ = net.max_epochs if self.horizon is None else self.horizon
        self.lr_ = self.learning_rate
        self.best_ = math.inf
        self.wait_ = 0

    def on_epoch_begin(self, net, **kwargs):
        if self.schedule == "cosine":
            # net.history already holds a row for the epoch that is starting.
            epoch = len(net.history) - 1 - self.first_epoch_
            self.lr_ = self.learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / self.n_epochs_))
        for group in net.optimizer_.param_groups:
            group["lr"] = self.lr_
        net.history.record("lr", self.lr_)

    def on_epoch_end(self, net, **kwargs):
        if self.schedule != "plateau":
            return
        loss = net.history[-1].get(self.monitor)
        if loss is None:
            return
        if loss < self.best_ - self.tol:
            self.best_, self.wait_ = loss, 0
            return
        self.wait_ += 1
        if self.wait_ >= self.patience:
            self.lr_ /= _PLATEAU_FACTOR
            self.wait_ = 0


class _HeldOutCurve(Callback):
    """Measure a fresh network on rows it does not train on, along its training.

    ``measure(net, dataset)`` (``dataset``: the training rows) returns the other
    rows' errors (an array, one per row) as a fitted network would give them; it is
    called before the first epoch (epoch 0, the network's start) and at the end of
    every epoch in ``epochs``. ``curve_`` maps each measured epoch to its errors.
    ``measure`` must leave training as it was (the module back in training mode, no
    random draw), so that a network trained with the callback ends as it would
    without.
    """

    def __init__(self, measure, epochs) -> None:
        self.measure = measure
        self.epochs = epochs

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.dataset_, self.curve_ = X, {}
        if not len(net.history):
            self.curve_[0] = self.measure(net, X)

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        if epoch in self.epochs:
            self.curve_[epoch] = self.measure(net, self.dataset_)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self.dataset_ = None  # not held past training


# ------------------------------------------------------------------ progress
# A progress bar written to a log file or a pipe refreshes at most this often, so the
# log holds a few states rather than one per epoch.
_LOG_REFRESH_SECONDS = 10.0
_ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")


def _is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class _EpochProgressBar(Callback):
    """``verbose=1``: a tqdm bar over the epochs of one training call.

    The total is the number of epochs that call runs (``max_epochs`` for ``fit``,
    ``partial_fit_epochs`` for a ``partial_fit`` call), read from the net when
    training starts. The final state stays on screen (and in notebooks and logs);
    a bar that stops short of its total (early stopping) says so. On a stream that
    is not a terminal the bar is plain ASCII and refreshes every few seconds.
    """

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        from tqdm.auto import tqdm

        stream = sys.stderr
        terminal = _is_terminal(stream)
        self.bar_ = tqdm(
            total=net.max_epochs,
            desc="epochs",
            unit="epoch",
            leave=True,
            file=stream,
            ascii=None if terminal else True,
            mininterval=0.1 if terminal else _LOG_REFRESH_SECONDS,
        )

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        postfix = {k: f"{row[k]:.4g}" for k in ("train_loss", "valid_loss") if k in row}
        self.bar_.set_postfix(postfix, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        if self.bar_.n < self.bar_.total:
            self.bar_.set_description("epochs (stopped early)", refresh=False)
        self.bar_.close()
        # A closed bar still holds the stream it wrote to, which cannot be pickled.
        del self.bar_


def _print_epoch_row(text: str) -> None:
    """``verbose=2``'s sink for skorch's ``PrintLog``: its table, with the colour
    codes that mark the best values only where stdout is a terminal."""
    stream = sys.stdout
    if not _is_terminal(stream):
        text = _ANSI_CODES.sub("", text)
    print(text, file=stream, flush=True)
