"""Data iteration for training: whole batches sliced from in-memory rows.

skorch's default ``Dataset`` + ``DataLoader`` pair fetches and collates rows one by one,
which costs more than the forward and backward pass of a small tabular network. Here a
dataset holds the scaled rows (one tensor, or a scipy sparse matrix scaled batch by
batch) and the iterator hands out slices of it.

Missing entries are NaN in the scaled rows. :func:`_network_input` is the one rule for
what the network sees of them (0 in the scaled space, the value masking noise also
uses), for training batches and for every inference and scoring batch alike; a
training batch with missing entries or sample weights carries them to the loss in a
:class:`_Target`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from torch.utils.data import Dataset

# Rows per chunk wherever every row passes through in pieces (inference, the scaling
# statistics, error scans during training): large enough to amortise per-call
# overhead, small enough that millions of rows never become one giant tensor.
_CHUNK_ROWS = 16384
# Entries per densified chunk of sparse rows (4 MB of float32), so that a chunk of a
# wide sparse matrix stays small next to the matrix itself.
_SPARSE_CHUNK_ENTRIES = 1 << 20


def _chunk_rows(X) -> int:
    """Rows per chunk of ``X``: ``_CHUNK_ROWS``, fewer for wide sparse matrices."""
    if sp.issparse(X):
        return max(1, min(_CHUNK_ROWS, _SPARSE_CHUNK_ENTRIES // max(1, X.shape[1])))
    return _CHUNK_ROWS


def _row_chunks(X):
    """``(start, stop, rows)`` over consecutive chunks of the rows of ``X``; rows of a
    sparse matrix come densified, one chunk at a time."""
    step = _chunk_rows(X)
    for start in range(0, X.shape[0], step):
        rows = X[start : start + step]
        if sp.issparse(rows):
            rows = rows.toarray()
        yield start, start + rows.shape[0], rows


def _has_nan(X) -> bool:
    """Whether ``X`` (an ndarray, a scipy sparse matrix or a tensor) has a NaN entry,
    found without a temporary of its size: NaN propagates through a sum, so a sum
    that is not NaN (of an array: that is finite, see :func:`_finite_sum`) rules it
    out in one pass; otherwise chunks are checked."""
    if isinstance(X, torch.Tensor):
        if not torch.isnan(X.sum()):
            return False
        return any(bool(torch.isnan(chunk).any()) for chunk in X.split(_CHUNK_ROWS))
    if sp.issparse(X):
        X = X.data
    if _finite_sum(X):
        return False
    return any(
        np.isnan(X[start : start + _CHUNK_ROWS]).any() for start in range(0, len(X), _CHUNK_ROWS)
    )


def _torch_can_share(X: np.ndarray) -> bool:
    """Whether ``torch.from_numpy`` takes the array's memory as it is: it refuses
    read-only memory (with a warning) and negative strides (with an error)."""
    return X.flags.writeable and all(stride >= 0 for stride in X.strides)


def _finite_sum(X) -> bool:
    """Whether the sum of the entries of the array ``X`` is finite, which proves every
    entry finite (no NaN, no infinity) in one pass. A sum that is not finite proves
    nothing (finite entries can overflow it): the caller then checks entry by entry.

    Summed by torch, on its threads, where it can take the memory as it is; by numpy
    otherwise."""
    if X.size == 0:
        return True
    if _torch_can_share(X):
        return bool(torch.isfinite(torch.from_numpy(X).sum()))
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(X.sum()))


def _mark_complete(batch: torch.Tensor) -> None:
    """Record on a batch that it has no missing entry, proved by whoever made it
    (the inference scaling, from the batch's finite sum), so that
    :func:`_network_input` need not check again. Tensors derived from it (slices,
    copies) are not marked."""
    batch._sk_autoencoder_complete = True


def _network_input(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """What the network sees of a batch of scaled rows, and which entries are observed.

    Missing entries (NaN) are fed as 0 in the scaled space: the training mean of the
    column under ``preprocessing="standard"``, its minimum under ``"minmax"``, and the
    value that masking noise gives the entries it hides. ``observed`` is None when no
    entry is missing (the batch is then returned as it is).
    """
    if getattr(batch, "_sk_autoencoder_complete", False):
        return batch, None
    # NaN propagates through a sum: one pass and no mask the size of the batch
    # decide the common case of a batch without missing entries.
    if not torch.isnan(batch.sum()):
        return batch, None
    missing = torch.isnan(batch)
    if not missing.any():
        return batch, None
    return batch.masked_fill(missing, 0.0), ~missing


@dataclass
class _Target:
    """The target of a training batch that has missing entries or sample weights.

    ``values`` are the batch's rows with missing entries as 0 (the network's input
    before any noise), ``observed`` the mask of observed entries (None: all) and
    ``weights`` the rows' sample weights (None: all equal). The loss is taken over the
    observed entries, each row counting with its weight.
    """

    values: torch.Tensor
    observed: torch.Tensor | None
    weights: torch.Tensor | None


def _training_batch(rows: torch.Tensor, has_missing: bool, weights: torch.Tensor | None):
    """``(network input, target)`` of scaled rows; the target is the rows themselves
    unless entries are missing or rows are weighted."""
    observed = None
    if has_missing:
        rows, observed = _network_input(rows)
    if observed is None and weights is None:
        return rows, rows
    return rows, _Target(rows, observed, weights)


class _TensorDataset(Dataset):
    """Scaled rows in one tensor, their sample weights (None: all equal), and whether
    any entry is missing (NaN)."""

    def __init__(
        self,
        X: torch.Tensor,
        weights: torch.Tensor | None = None,
        has_missing: bool | None = None,
    ) -> None:
        self.X = X
        self.weights = weights
        self.has_missing = _has_nan(X) if has_missing is None else has_missing
        # Indices of the rows the training iterator visits; None means all. Set by
        # callbacks that train on a subset, e.g. ``_callbacks._TrimmedTraining``.
        self.rows: torch.Tensor | None = None

    @property
    def device(self) -> torch.device:
        """Where the rows (and the row indices that select them) live."""
        return self.X.device

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i):
        return self.batch(slice(i, i + 1))

    def batch(self, index):
        """``(network input, target)`` of the rows at ``index`` (a slice or indices)."""
        weights = None if self.weights is None else self.weights[index]
        # A slice is a view, no gather copy; indices go through index_select, a third
        # of the time of X[indices] for batches of a few hundred rows.
        rows = self.X[index] if isinstance(index, slice) else self.X.index_select(0, index)
        return _training_batch(rows, self.has_missing, weights)

    def chunks(self):
        """The scaled rows in order, in chunks of ``_CHUNK_ROWS`` (NaN where missing)."""
        return self.X.split(_CHUNK_ROWS)

    def subset(self, index: torch.Tensor) -> _TensorDataset:
        weights = None if self.weights is None else self.weights[index]
        return _TensorDataset(self.X[index], weights, self.has_missing)


class _SparseDataset(Dataset):
    """Rows of a scipy CSR matrix, densified and scaled batch by batch.

    ``scale`` maps a dense chunk of rows to the network's float32 rows (the fitted
    ``preprocessing``); batches are moved to ``batch_device``. The matrix itself and
    the row indices stay on the CPU, so its memory is never more than the matrix plus
    one batch.
    """

    def __init__(
        self,
        X: sp.csr_matrix,
        scale,
        batch_device,
        weights: torch.Tensor | None = None,
    ) -> None:
        self.X = X
        self.scale = scale
        self.batch_device = torch.device(batch_device)
        self.weights = weights
        self.has_missing = _has_nan(X)
        self.rows: torch.Tensor | None = None

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def __len__(self) -> int:
        return self.X.shape[0]

    def __getitem__(self, i):
        return self.batch(slice(i, i + 1))

    def _dense(self, rows) -> torch.Tensor:
        scaled = self.scale(rows.toarray())
        return torch.from_numpy(scaled).to(self.batch_device)

    def batch(self, index):
        rows = self.X[index if isinstance(index, slice) else index.numpy()]
        weights = None if self.weights is None else self.weights[index].to(self.batch_device)
        return _training_batch(self._dense(rows), self.has_missing, weights)

    def chunks(self):
        step = _chunk_rows(self.X)
        for start in range(0, self.X.shape[0], step):
            yield self._dense(self.X[start : start + step])

    def subset(self, index: torch.Tensor) -> _SparseDataset:
        weights = None if self.weights is None else self.weights[index]
        return _SparseDataset(self.X[index.numpy()], self.scale, self.batch_device, weights)


class _BatchIterator:
    """Yield ``(network input, target)`` batches of a ``_TensorDataset`` or
    ``_SparseDataset``; the target is the input itself when no entry is missing and
    rows are not weighted.

    Accepts the keyword arguments skorch passes to a ``DataLoader`` so that it can be
    used as ``iterator_train`` and ``iterator_valid``. A new permutation is drawn from
    ``generator`` at the start of every epoch when ``shuffle`` is true.
    """

    def __init__(
        self,
        dataset: _TensorDataset | _SparseDataset,
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
        dataset = self.dataset
        rows = getattr(dataset, "rows", None)
        n = len(dataset) if rows is None else len(rows)
        stop = n - n % self.batch_size if self.drop_last else n
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(dataset.device)
            rows = order if rows is None else rows[order]
        for start in range(0, stop, self.batch_size):
            window = slice(start, start + self.batch_size)
            yield dataset.batch(window if rows is None else rows[window])


class _TensorValidSplit:
    """skorch ``train_split``: hold out a random fraction of the rows for validation."""

    def __init__(self, fraction: float, generator: torch.Generator) -> None:
        self.fraction = fraction
        self.generator = generator

    def __call__(self, dataset, y=None, **fit_params):
        n = len(dataset)
        n_valid = max(1, int(round(self.fraction * n)))
        if n - n_valid < 1:
            raise ValueError(
                f"validation_fraction={self.fraction} leaves no training rows out of "
                f"{n}; use more rows or early_stopping=False."
            )
        order = torch.randperm(n, generator=self.generator).to(dataset.device)
        return dataset.subset(order[n_valid:]), dataset.subset(order[:n_valid])
