"""Robust training on contaminated data: trimmed reconstruction loss.

An autoencoder trained on every row also learns to reconstruct the outliers among
them, which shrinks exactly the errors that should stand out. Trimming (as in
least-trimmed-squares) fits the network to the bulk instead: after a few warm-up
epochs on all rows, each epoch trains only on the rows whose current reconstruction
error is below the ``1 - trim_fraction`` quantile. The trimmed rows are re-chosen at
the start of every epoch, so a row wrongly dropped early can come back.
"""

from __future__ import annotations

import torch
from skorch.callbacks import Callback

from ._net import elementwise_loss

# Rows per forward pass when measuring every training row's error.
_SCORING_BATCH_SIZE = 16384


class _TrimmedTraining(Callback):
    """skorch callback: each epoch after ``warmup_epochs``, train on the rows with
    the smallest reconstruction errors, leaving out a ``trim_fraction`` share.

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
                    elementwise_loss(module(batch)[0], batch, self.loss).mean(dim=1)
                    for batch in X.split(_SCORING_BATCH_SIZE)
                ]
            )
        module.train(was_training)
        n_keep = max(1, len(X) - int(self.trim_fraction * len(X)))
        dataset_train.rows = torch.sort(torch.topk(errors, n_keep, largest=False).indices)[0]

    def on_train_end(self, net, X=None, y=None, **kwargs):
        # The dataset may be reused (partial_fit); start from all rows again.
        if isinstance(X, torch.utils.data.Dataset) and hasattr(X, "rows"):
            X.rows = None
