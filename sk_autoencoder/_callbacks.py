"""The skorch callbacks the estimators attach to their training net.

- :class:`_InterruptGuard`: a ``KeyboardInterrupt`` keeps the best completed epoch.
- :class:`_DivergenceCheck` and :func:`_check_finite_weights`: a loss or weight that
  stops being finite raises :class:`~sk_autoencoder.TrainingDivergedError`.
- :class:`_TrimmedTraining`: robust training on contaminated data (the detector).
- :class:`_EpochProgressBar`: ``verbose=1``.

A new training behaviour (clipping, a schedule) is a callback here, added to the list
that ``_BaseAutoencoder._make_callbacks`` builds.
"""

from __future__ import annotations

import math
import warnings

import torch
from skorch.callbacks import Callback

from . import _data
from ._losses import _elementwise_loss
from .exceptions import TrainingDivergedError


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
        self.epoch_open_ = False
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
            UserWarning,
            stacklevel=2,
        )


class _DivergenceCheck(Callback):
    """Stop training with a clear message as soon as a batch loss is not finite."""

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = learning_rate

    def on_batch_end(self, net, batch=None, training=False, loss=None, **kwargs):
        if loss is not None and not math.isfinite(loss.item()):
            epoch = len(net.history)
            raise TrainingDivergedError(
                f"Training diverged: the loss became {loss.item()} in epoch {epoch}. "
                f"Lower learning_rate (currently {self.learning_rate}), and make sure "
                "the input is scaled (preprocessing='standard' or 'minmax')."
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
                "(preprocessing='standard' or 'minmax')."
            )


# ------------------------------------------------------------- robust training
def _kept_rows(errors: torch.Tensor, trim_fraction: float) -> torch.Tensor:
    """Sorted indices of the rows a trimmed loss keeps: all but the
    ``int(trim_fraction * n)`` rows of largest error (at least one row)."""
    n_keep = max(1, len(errors) - int(trim_fraction * len(errors)))
    return torch.sort(torch.topk(errors, n_keep, largest=False).indices)[0]


class _TrimmedTraining(Callback):
    """Robust training on contaminated data: a trimmed reconstruction loss.

    An autoencoder trained on every row also learns to reconstruct the outliers among
    them, which shrinks exactly the errors that should stand out. Trimming (as in
    least-trimmed-squares) fits the network to the bulk instead: after
    ``warmup_epochs`` epochs on all rows, each epoch trains only on the rows whose
    current reconstruction error is below the ``1 - trim_fraction`` quantile. The
    trimmed rows are re-chosen at the start of every epoch, so a row wrongly dropped
    early can come back.

    It sets ``rows`` on the training ``_TensorDataset``, which ``_BatchIterator``
    then visits instead of all rows.
    """

    def __init__(self, trim_fraction: float, warmup_epochs: int, loss: str) -> None:
        self.trim_fraction = trim_fraction
        self.warmup_epochs = warmup_epochs
        self.loss = loss

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        # net.history already holds a row for the epoch that is starting.
        if dataset_train is None or len(net.history) <= self.warmup_epochs:
            return
        X = dataset_train.X
        module = net.module_
        was_training = module.training
        module.eval()  # errors without dropout
        with torch.no_grad():
            errors = torch.cat(
                [
                    _elementwise_loss(module(batch)[0], batch, self.loss).mean(dim=1)
                    for batch in X.split(_data._CHUNK_ROWS)
                ]
            )
        module.train(was_training)
        dataset_train.rows = _kept_rows(errors, self.trim_fraction)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        # The dataset may be reused (partial_fit); start from all rows again.
        if isinstance(X, torch.utils.data.Dataset) and hasattr(X, "rows"):
            X.rows = None


# ------------------------------------------------------------------ progress
class _EpochProgressBar(Callback):
    """A tqdm bar over epochs, showing the latest losses."""

    def __init__(self, total: int) -> None:
        self.total = total

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=self.total, desc="epochs", unit="epoch", leave=False)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        postfix = {k: f"{row[k]:.4g}" for k in ("train_loss", "valid_loss") if k in row}
        self.bar_.set_postfix(postfix, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self.bar_.close()
        # A closed bar still holds the stream it wrote to, which cannot be pickled.
        del self.bar_
