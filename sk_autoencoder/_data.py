"""Data iteration for training: whole batches sliced from in-memory tensors.

skorch's default ``Dataset`` + ``DataLoader`` pair fetches and collates rows one by one,
which costs more than the forward and backward pass of a small tabular network. Here a
dataset holds one tensor and the iterator hands out slices of it.
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

# Rows per chunk wherever every row passes through in pieces (inference, the scaling
# statistics, error scans during training): large enough to amortise per-call
# overhead, small enough that millions of rows never become one giant tensor.
_CHUNK_ROWS = 16384


class _TensorDataset(Dataset):
    """Rows of one tensor; each item is ``(x, x)`` since the target is the input."""

    def __init__(self, X: torch.Tensor) -> None:
        self.X = X
        # Indices of the rows the training iterator visits; None means all. Set by
        # callbacks that train on a subset, e.g. ``_callbacks._TrimmedTraining``.
        self.rows: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.X[i]


class _BatchIterator:
    """Yield ``(X_batch, X_batch)`` slices of a ``_TensorDataset``.

    Accepts the keyword arguments skorch passes to a ``DataLoader`` so that it can be
    used as ``iterator_train`` and ``iterator_valid``. A new permutation is drawn from
    ``generator`` at the start of every epoch when ``shuffle`` is true.
    """

    def __init__(
        self,
        dataset: _TensorDataset,
        batch_size: int = 128,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
    ) -> None:
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.drop_last = drop_last

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def __iter__(self):
        X = self.dataset.X
        rows = getattr(self.dataset, "rows", None)
        n = len(X) if rows is None else len(rows)
        stop = n - n % self.batch_size if self.drop_last else n
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(X.device)
            rows = order if rows is None else rows[order]
        for start in range(0, stop, self.batch_size):
            window = slice(start, start + self.batch_size)
            # All rows in order: a view, no gather copy. Otherwise index_select, a
            # third of the time of X[indices] for batches of a few hundred rows.
            batch = X[window] if rows is None else X.index_select(0, rows[window])
            yield batch, batch


class _TensorValidSplit:
    """skorch ``train_split``: hold out a random fraction of the rows for validation."""

    def __init__(self, fraction: float, generator: torch.Generator) -> None:
        self.fraction = fraction
        self.generator = generator

    def __call__(self, dataset: _TensorDataset, y=None, **fit_params):
        X = dataset.X
        n = len(X)
        n_valid = max(1, int(round(self.fraction * n)))
        if n - n_valid < 1:
            raise ValueError(
                f"validation_fraction={self.fraction} leaves no training rows out of "
                f"{n}; use more rows or early_stopping=False."
            )
        order = torch.randperm(n, generator=self.generator).to(X.device)
        return _TensorDataset(X[order[n_valid:]]), _TensorDataset(X[order[:n_valid]])
