"""Training faults: a stopped fit keeps the best weights, a diverged one keeps nothing."""

from __future__ import annotations

import math
import warnings

import torch
from skorch.callbacks import Callback

from ._net import TrainingDivergedError


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
            self.best_state_ = {
                k: v.detach().clone() for k, v in net.module_.state_dict().items()
            }

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
