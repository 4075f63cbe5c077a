"""The skorch training net and the callbacks the estimators attach to it."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring
from torch import nn


class TrainingDivergedError(RuntimeError):
    """Raised when the training loss stops being finite.

    The estimator is left as it was before ``fit``: no fitted attribute points to the
    diverged network.
    """


def elementwise_loss(reconstruction: torch.Tensor, target: torch.Tensor, loss: str):
    """Per-entry reconstruction loss, the quantity every score is built from."""
    if loss == "bce":
        return F.binary_cross_entropy(reconstruction, target, reduction="none")
    return (reconstruction - target).square()


class _ReconstructionLoss(nn.Module):
    """Mean of :func:`elementwise_loss` over rows and features."""

    def __init__(self, loss: str = "mse") -> None:
        super().__init__()
        self.loss = loss

    def forward(self, reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.loss == "bce":
            return F.binary_cross_entropy(reconstruction, target)
        return F.mse_loss(reconstruction, target)


class AutoencoderNet(NeuralNet):
    """skorch ``NeuralNet`` whose loss is reconstruction plus the module's penalty.

    The module's ``forward`` returns ``(reconstruction, *extras)``; if the module
    defines ``regularization(X, reconstruction, *extras)``, its value is added to the
    reconstruction loss. This is the one place where variants change the objective.

    ``noise > 0`` corrupts the inputs of training batches only (Gaussian noise of
    standard deviation ``noise``, or zeroing with probability ``noise`` for
    ``noise_type="masking"``), drawn from ``noise_generator``; the targets and the
    validation batches stay clean, which makes a denoising autoencoder.
    """

    def __init__(self, *args, noise=0.0, noise_type="gaussian", noise_generator=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.noise = noise
        self.noise_type = noise_type
        self.noise_generator = noise_generator

    @property
    def _default_callbacks(self):
        # skorch's PrintLog is added by the estimator only when verbose=2.
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
        ]

    def _set_training(self, training=True):
        # skorch sets the mode before every batch; walking the module tree each time
        # costs ~8% of an epoch of a small tabular network, so skip it when unchanged.
        if self.module_.training != training:
            super()._set_training(training)

    def _corrupt(self, X: torch.Tensor) -> torch.Tensor:
        """A noisy copy of ``X`` (never in place: ``X`` is also the target)."""
        # Drawn on the CPU generator so results do not depend on the device.
        if self.noise_type == "masking":
            keep = torch.rand(X.shape, generator=self.noise_generator) >= self.noise
            return X * keep.to(device=X.device, dtype=X.dtype)
        noise = torch.randn(X.shape, generator=self.noise_generator)
        return X + self.noise * noise.to(device=X.device, dtype=X.dtype)

    def train_step_single(self, batch, **fit_params):
        if self.noise:
            Xi, yi = batch
            batch = (self._corrupt(Xi), yi)
        return super().train_step_single(batch, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        reconstruction, *extras = y_pred if isinstance(y_pred, tuple) else (y_pred,)
        loss = self.criterion_(reconstruction, y_true)
        regularization = getattr(self.module_, "regularization", None)
        if regularization is not None:
            loss = loss + regularization(X, reconstruction, *extras)
        return loss


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
