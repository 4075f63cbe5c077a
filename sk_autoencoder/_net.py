"""The skorch training net: reconstruction loss plus the module's penalty, and the
input corruption of denoising autoencoders."""

from __future__ import annotations

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring

from ._data import _Target
from ._losses import _observed_loss
from ._threads import _forward_flops_per_row, _thread_limit
from .modules import AutoencoderModule


# Input corruptions of denoising autoencoders, by ``noise_type``: each returns a noisy
# copy of ``X`` (never in place: ``X`` is also the target). Drawn on the CPU
# generator, so that results do not depend on the device.
def _gaussian_noise(X: torch.Tensor, noise: float, generator) -> torch.Tensor:
    draws = torch.randn(X.shape, generator=generator)
    return X + noise * draws.to(device=X.device, dtype=X.dtype)


def _masking_noise(X: torch.Tensor, noise: float, generator) -> torch.Tensor:
    keep = torch.rand(X.shape, generator=generator) >= noise
    return X * keep.to(device=X.device, dtype=X.dtype)


_NOISE_TYPES = {"gaussian": _gaussian_noise, "masking": _masking_noise}

# The events skorch sends on every training step (and validation batch).
_STEP_EVENTS = ("on_batch_begin", "on_batch_end", "on_grad_computed")


def _implements(callback, event: str) -> bool:
    """Whether ``callback`` does something on ``event`` (``Callback``'s methods do
    nothing)."""
    method = getattr(callback, event, None)
    return getattr(method, "__func__", method) is not getattr(Callback, event, None)


def _no_penalty(module) -> bool:
    """Whether ``module``'s regularization is the base class's, with no penalty on:
    always zero, so adding it (and its backward step) is skipped."""
    return (
        isinstance(module, AutoencoderModule)
        and type(module).regularization is AutoencoderModule.regularization
        and not (module.sparsity or module.contractive)
    )


# Largest Gaussian noise, as a multiple of the largest spread of the scaled training
# features: beyond it every feature's signal-to-noise ratio is below 1e-4, and the
# corrupted rows keep no usable trace of the data.
_MAX_NOISE_RATIO = 100.0


def _check_noise(noise: float, noise_type: str, dataset) -> None:
    """Refuse a ``noise`` that would leave nothing of the scaled training rows of
    ``dataset`` (a ``_data._TensorDataset`` or ``_data._SparseDataset``)."""
    if noise_type == "masking":
        if noise >= 1:
            raise ValueError(
                f"noise={noise} is a masking probability with noise_type='masking' and "
                "must be below 1."
            )
        return
    if not noise or len(dataset) < 2:
        return
    # Two passes over the chunks (a sparse matrix is densified chunk by chunk); missing
    # entries (NaN) left out.
    count, total = 0, 0
    for chunk in dataset.chunks():
        count = count + (~chunk.isnan()).sum(dim=0)
        total = total + torch.nansum(chunk.double(), dim=0)
    count = count.clamp(min=1)
    mean = total / count
    var = sum(torch.nansum((c.double() - mean).square(), dim=0) for c in dataset.chunks()) / count
    spread = float(var.max().sqrt())
    if spread > 0 and noise > _MAX_NOISE_RATIO * spread:
        raise ValueError(
            f"noise={noise} is the standard deviation of the Gaussian corruption, "
            f"{noise / spread:.3g} times the largest spread (standard deviation) of the "
            f"scaled training features ({spread:.3g}): the corrupted rows would keep no "
            f"trace of the data. Use noise of at most {_MAX_NOISE_RATIO:g} times that "
            "spread (0.05 to 1 is typical with preprocessing='standard')."
        )


class AutoencoderNet(NeuralNet):
    """skorch ``NeuralNet`` whose loss is reconstruction plus the module's penalty.

    The module's ``forward`` returns ``(reconstruction, *extras)``; if the module
    defines ``regularization(X, reconstruction, *extras)``, its value is added to the
    reconstruction loss. This is the one place where variants change the objective.
    A penalty given per row (a tensor of shape ``(n_samples,)``) is averaged with the
    rows' sample weights; where entries are missing, the reconstruction loss is the
    mean over the observed entries and the penalty is divided by the share of
    entries observed (see ``_losses._observed_loss``).

    ``noise > 0`` corrupts the inputs of training batches only (Gaussian noise of
    standard deviation ``noise``, or zeroing with probability ``noise`` for
    ``noise_type="masking"``), drawn from ``noise_generator``; the targets and the
    validation batches stay clean, which makes a denoising autoencoder.

    The epochs run with the thread count that ``_threads`` gives the work of one step,
    and on the events of every step (``on_batch_begin``, ``on_batch_end``,
    ``on_grad_computed``) only the callbacks that implement them are called.
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

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # skorch calls every callback on every event; on the events of each step,
        # only those that act on them are called (listed here, for these epochs).
        self._step_listeners = {
            event: [getattr(self, event)]  # the net's own (history records)
            + [getattr(cb, event) for _, cb in self.callbacks_ if _implements(cb, event)]
            for event in _STEP_EVENTS
        }
        # The thread count the step's work calls for (see ``_threads``): forward and
        # backward pass of a batch.
        rows = min(self.batch_size, len(X)) if self.batch_size > 0 else len(X)
        work = 3 * rows * _forward_flops_per_row(self.module_)
        try:
            with _thread_limit(work, self.device):
                return super().fit_loop(X, y, epochs=epochs, **fit_params)
        finally:
            del self._step_listeners

    def notify(self, method_name, **cb_kwargs):
        listeners = getattr(self, "_step_listeners", None)
        if listeners is None or method_name not in listeners:
            return super().notify(method_name, **cb_kwargs)
        for listener in listeners[method_name]:
            listener(self, **cb_kwargs)

    def _set_training(self, training=True):
        # skorch sets the mode before every batch; walking the module tree each time
        # costs ~8% of an epoch of a small tabular network, so skip it when unchanged.
        if self.module_.training != training:
            super()._set_training(training)

    def _corrupt(self, X: torch.Tensor) -> torch.Tensor:
        """A noisy copy of ``X``, by ``noise_type``."""
        return _NOISE_TYPES[self.noise_type](X, self.noise, self.noise_generator)

    def train_step_single(self, batch, **fit_params):
        if self.noise:
            Xi, yi = batch
            Xi = self._corrupt(Xi)
            if isinstance(yi, _Target) and yi.observed is not None:
                Xi = Xi * yi.observed  # missing entries stay 0 under any noise
            batch = (Xi, yi)
        return super().train_step_single(batch, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        reconstruction, *extras = y_pred if isinstance(y_pred, tuple) else (y_pred,)
        weights = share = None
        if isinstance(y_true, _Target):
            loss, share = _observed_loss(reconstruction, y_true, self.criterion_.loss)
            weights = y_true.weights
        else:
            loss = self.criterion_(reconstruction, y_true)
        regularization = getattr(self.module_, "regularization", None)
        if regularization is not None and not _no_penalty(self.module_):
            penalty = regularization(X, reconstruction, *extras)
            if penalty.ndim:  # one value per row
                penalty = penalty.mean() if weights is None else penalty @ weights / weights.sum()
            if share is not None:
                penalty = penalty / share
            loss = loss + penalty
        return loss
