"""The scaling between the user's units and the network's: ``preprocessing``.

Every scaling the estimators offer is affine per feature, ``x * a + b``, fitted on
the training rows. This module holds the table of ``preprocessing`` choices, fits the
scaler in float64 over row chunks, turns it into the ``(a, b)`` pair, and applies the
map in the two precisions the rows can arrive in:

- float32 rows are scaled in float32 where every coefficient and result stays in
  float32's normal range (the rounding is then of the order of the rows' own);
- float64 rows, and float32 rows whose scaling would leave that range, in float64.

The network computes in float32, so a scaled value beyond float32's range is refused
with a ``ValueError``; so are columns whose spread overflows float64. Missing entries
(NaN) stay NaN through the map, and the statistics ignore them; sample weights weigh
the statistics of scalers whose ``partial_fit`` takes them (rows of weight 0 never
reach a scaler). Sparse rows are densified chunk by chunk.
"""

from __future__ import annotations

import copy
import inspect
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from . import _data

_Affine = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class _Preprocessing:
    """One ``preprocessing`` choice: its scaler and how to read it as ``x * a + b``.

    ``statistics`` returns the fitted statistics that must be finite (a column whose
    spread overflows float64 cannot be scaled). ``unseen`` gives the per-feature
    attributes of a column that no chunk has observed yet the values from which the
    scaler's ``partial_fit`` counts only later observations (see
    :func:`_partial_fit_chunk`).
    """

    scaler: type
    affine: Callable[[object], _Affine]
    statistics: Callable[[object], list[np.ndarray]]
    unseen: dict[str, float]


class GlobalScaler(StandardScaler):
    """Centre each feature and divide every feature by one common scale.

    The common scale is the root mean square of the non-constant features'
    standard deviations, so the scaled data has, on average over those features,
    unit variance, while the features keep their relative sizes: squared errors
    measured after this scaling are the errors in the data's own units divided by
    one constant, the quantity :class:`~sklearn.decomposition.PCA` minimises. A
    feature that is almost always one value stays small instead of being divided by
    its own tiny standard deviation. This is ``preprocessing="global"`` of the
    autoencoder estimators.

    Parameters
    ----------
    copy : bool, default=True
        If False, try to scale in place, as :class:`~sklearn.preprocessing.StandardScaler`.
    with_mean : bool, default=True
        If True, centre each feature before scaling.
    with_std : bool, default=True
        If True, divide by the common scale.

    Attributes
    ----------
    scale_ : ndarray of shape (n_features,) or None
        The common scale, repeated for every feature (None if ``with_std=False``).
    mean_ : ndarray of shape (n_features,) or None
        Per-feature mean (None if ``with_mean=False`` and ``with_std=False``).
    var_ : ndarray of shape (n_features,) or None
        Per-feature variance.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column names.
    n_samples_seen_ : int or ndarray of shape (n_features,)
        Rows seen by ``fit`` and ``partial_fit``.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : One scale per feature.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_autoencoder import GlobalScaler
    >>> X = np.array([[0.0, 10.0], [2.0, 30.0], [4.0, 50.0]])
    >>> scaler = GlobalScaler().fit(X)
    >>> scaler.scale_.round(3).tolist()
    [11.605, 11.605]
    >>> scaler.transform(X).round(3).tolist()
    [[-0.172, -1.723], [0.0, 0.0], [0.172, 1.723]]
    """

    def __init__(self, *, copy=True, with_mean=True, with_std=True):
        super().__init__(copy=copy, with_mean=with_mean, with_std=with_std)

    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the statistics with ``X``, then the common scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to learn from.
        y : Ignored
            Not used, present for API consistency.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Per-row weights, as in :class:`~sklearn.preprocessing.StandardScaler`.

        Returns
        -------
        self : GlobalScaler
            The fitted scaler.
        """
        super().partial_fit(X, y, sample_weight)
        self._set_common_scale()
        return self

    def _set_common_scale(self) -> None:
        """``scale_`` from the per-feature variances (again after they are mended:
        :func:`_updated_scaler` restores those of columns a chunk left empty)."""
        if self.with_std:
            common = _common_scale(self.var_, self.mean_, self.n_samples_seen_)
            self.scale_ = np.full_like(self.var_, common)


def _common_scale(var: np.ndarray, mean: np.ndarray, n_samples) -> float:
    """Root mean square of the standard deviations of the non-constant features; 1 if
    every feature is constant or a variance overflowed. NaN variances (columns with
    no observed entry yet) do not count. Constant is ``StandardScaler``'s rule (a
    variance within the float64 error bound of the two-pass algorithm), which gives
    those features scale 1."""
    if np.isinf(var).any():
        return 1.0
    eps = np.finfo(np.float64).eps
    with np.errstate(invalid="ignore", over="ignore"):
        varying = var > n_samples * eps * var + (n_samples * mean * eps) ** 2
    varying &= np.isfinite(var)
    if not varying.any():
        return 1.0
    var = var[varying]
    # Factored so that the mean of huge variances cannot overflow.
    top = var.max()
    return float(np.sqrt(top) * np.sqrt(np.mean(var / top)))


def _standard_affine(scaler: StandardScaler) -> _Affine:
    a = 1.0 / scaler.scale_
    return a.astype(np.float64), (-scaler.mean_ * a).astype(np.float64)


def _minmax_affine(scaler: MinMaxScaler) -> _Affine:
    return scaler.scale_.astype(np.float64), scaler.min_.astype(np.float64)


_PREPROCESSING: dict[str, _Preprocessing] = {
    "standard": _Preprocessing(
        StandardScaler,
        _standard_affine,
        # var_, not scale_: scikit-learn sets scale_ to 1 where var_ overflowed.
        lambda scaler: [scaler.mean_, scaler.var_],
        # With a count of 0, the incremental mean and variance then add nothing.
        {"mean_": 0.0, "var_": 0.0, "scale_": 1.0},
    ),
    "global": _Preprocessing(
        GlobalScaler,
        _standard_affine,
        lambda scaler: [scaler.mean_, scaler.var_],
        {"mean_": 0.0, "var_": 0.0, "scale_": 1.0},
    ),
    "minmax": _Preprocessing(
        MinMaxScaler,
        _minmax_affine,
        lambda scaler: [scaler.data_min_, scaler.data_range_],
        # The running minimum and maximum then start at the first observed value.
        {"data_min_": np.inf, "data_max_": -np.inf},
    ),
}

# What error messages advise when the input is not scaled: every scaling the table has.
_SCALED_CHOICES = "preprocessing={} or {}".format(
    ", ".join(repr(name) for name in list(_PREPROCESSING)[:-1]), repr(list(_PREPROCESSING)[-1])
)


def _preprocessing_of(scaler) -> str | None:
    """The ``preprocessing`` name of a fitted scaler (None for no scaler)."""
    for name, entry in _PREPROCESSING.items():
        if type(scaler) is entry.scaler:
            return name
    return None


def _fit_scaler(preprocessing: str | None, X, weights: np.ndarray | None = None):
    """The fitted scaler of ``preprocessing`` (None for no scaling).

    The statistics are accumulated over row chunks in float64, so that fitting
    needs no full-size temporary and huge or tiny magnitudes do not overflow.
    """
    if preprocessing is None:
        return None
    return _updated_scaler(_PREPROCESSING[preprocessing].scaler(), X, weights, copy_first=False)


def _updated_scaler(scaler, X, weights: np.ndarray | None = None, copy_first: bool = True):
    """``scaler`` with statistics that also cover the rows ``X`` (dense or sparse, NaN
    for missing entries), weighted by ``weights`` (None: equal) where the scaler takes
    weights; a copy unless ``copy_first`` is false (``partial_fit``)."""
    if scaler is None:
        return None
    # A copy, so that a failed call leaves the previous statistics intact.
    if copy_first:
        scaler = copy.deepcopy(scaler)
    weighted = weights is not None and _takes_weights(scaler)
    # Columns observed so far (all of them in a fitted scaler: its first fit saw each).
    seen = np.full(X.shape[1], hasattr(scaler, "n_samples_seen_"))
    with np.errstate(over="ignore", invalid="ignore"):
        for start, stop, rows in _data._row_chunks(X):
            chunk_weights = weights[start:stop] if weighted else None
            seen |= _partial_fit_chunk(scaler, rows, chunk_weights, seen)
    set_common_scale = getattr(scaler, "_set_common_scale", None)
    if set_common_scale is not None:
        set_common_scale()
    _check_scaler_finite(scaler)
    return scaler


def _partial_fit_chunk(scaler, rows: np.ndarray, weights, seen: np.ndarray) -> np.ndarray:
    """``scaler.partial_fit`` on one chunk of rows; returns the chunk's observed columns.

    scikit-learn's scalers turn the statistics of a column with no observed entry in
    the chunk into NaN (their variance and running minimum divide or compare with
    nothing). Such a column keeps its earlier statistics here, or, never observed
    yet, gets the preprocessing's ``unseen`` values, from which the next chunk's
    observations count alone.
    """
    observed = ~np.isnan(rows).all(axis=0)
    before = None
    if not observed.all():
        before = {k: v.copy() for k, v in vars(scaler).items() if _per_feature(v, len(observed))}
    with warnings.catch_warnings():
        # "All-NaN slice": the empty columns, mended below.
        warnings.simplefilter("ignore", RuntimeWarning)
        scaler.partial_fit(rows, **({} if weights is None else {"sample_weight": weights}))
    if before is not None:
        empty = ~observed
        unseen = _PREPROCESSING[_preprocessing_of(scaler)].unseen
        for name, value in vars(scaler).items():
            if not _per_feature(value, len(observed)):
                continue
            if name in before:
                value[empty & seen] = before[name][empty & seen]
            if name in unseen:
                value[empty & ~seen] = unseen[name]
    return observed


def _per_feature(value, n_features: int) -> bool:
    """Whether a scaler attribute holds one float per feature."""
    return (
        isinstance(value, np.ndarray)
        and value.shape == (n_features,)
        and np.issubdtype(value.dtype, np.floating)
    )


def _takes_weights(scaler) -> bool:
    """Whether the scaler's ``partial_fit`` takes sample weights (``StandardScaler``
    does; ``MinMaxScaler`` does not, and positive weights leave a minimum alone)."""
    return "sample_weight" in inspect.signature(scaler.partial_fit).parameters


def _check_scaler_finite(scaler) -> None:
    """Refuse columns whose scaling statistics overflow float64."""
    stats = np.vstack(_PREPROCESSING[_preprocessing_of(scaler)].statistics(scaler))
    bad = np.flatnonzero(~np.isfinite(stats).all(axis=0))
    if bad.size:
        raise ValueError(
            f"Cannot scale feature(s) {bad.tolist()[:10]}: their spread overflows float64 "
            "(values beyond about 1e154 in magnitude). Divide those columns by a "
            "constant first."
        )


def _affine_map(scaler) -> _Affine | None:
    """The fitted scaling as float64 ``(a, b)`` with ``scaled = X * a + b``.

    Kept in float64: a float32 ``a`` or ``b`` would overflow or lose the data for
    columns of magnitude near float32's limits (1e30, 1e-30).
    """
    if scaler is None:
        return None
    return _PREPROCESSING[_preprocessing_of(scaler)].affine(scaler)


def _float32_coefficients(
    a: np.ndarray, b: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(a, b)`` as float32 tensors, or None where one leaves float32's normal range
    (float32 arithmetic would then lose or overflow the scaling)."""
    with np.errstate(over="ignore", under="ignore"):
        a32, b32 = a.astype(np.float32), b.astype(np.float32)
    if not (np.isfinite(a32).all() and np.isfinite(b32).all()):
        return None
    if (np.abs(a32) < np.finfo(np.float32).tiny).any():
        return None
    return torch.from_numpy(a32), torch.from_numpy(b32)


def _scale_in_float32(rows: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """``rows * a + b`` computed in float32, or None where a coefficient or a result
    leaves float32's normal range (the caller then scales in float64)."""
    coefficients = _float32_coefficients(a, b)
    if coefficients is None:
        return None
    if not _data._torch_can_share(rows):
        rows = np.array(rows)  # a copy torch takes: every layout scales to the same bits
    a32, b32 = coefficients
    # One pass in torch (a fused multiply-add, one rounding) where numpy takes two.
    scaled = torch.addcmul(b32, torch.from_numpy(rows), a32)
    out, total = scaled.numpy(), float(scaled.sum())
    # One fast reduction; an overflow (or a sum of huge finite values) makes it
    # non-finite, and the float64 path then decides. Missing entries (NaN) make it
    # NaN too: then only an infinity counts.
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.isfinite(total) or (np.isnan(total) and not np.isinf(out).any())
    return out if finite else None


class _ChunkScaler:
    """The network's input for chunks of validated dense rows, scaled into one
    reused float32 buffer: the fast path of inference.

    :meth:`__call__` returns the scaled chunk only where the sum of its entries is
    finite, which proves that no entry is missing or infinite and that nothing
    overflowed; otherwise None, and the caller takes :func:`_network_rows` (whose
    checks and errors then apply). Float32 rows are scaled in float32 as
    :func:`_scale_in_float32` does (same bits), float64 rows in float64 and then
    rounded, as :func:`_network_rows` does. Each call overwrites the buffer: a chunk
    is used up before the next is scaled.
    """

    def __init__(self, affine: _Affine | None, n_rows: int, n_features: int) -> None:
        self.affine = affine
        self.float32 = None if affine is None else _float32_coefficients(*affine)
        self.float64 = None if affine is None else tuple(torch.from_numpy(v) for v in affine)
        self.buffer = torch.empty((n_rows, n_features), dtype=torch.float32)
        self.buffer64: torch.Tensor | None = None

    def __call__(self, rows: np.ndarray) -> torch.Tensor | None:
        if not _data._torch_can_share(rows) or rows.dtype not in (np.float32, np.float64):
            return None
        x, out = torch.from_numpy(rows), self.buffer[: rows.shape[0]]
        if self.affine is None:
            out.copy_(x)
        elif rows.dtype == np.float32:
            if self.float32 is None:
                return None
            a, b = self.float32
            torch.addcmul(b, x, a, out=out)
        else:
            # Multiply, then add, each rounded in float64 as numpy does: the same
            # bits as the general path.
            if self.buffer64 is None:
                self.buffer64 = torch.empty(self.buffer.shape, dtype=torch.float64)
            a, b = self.float64
            scaled = torch.mul(x, a, out=self.buffer64[: rows.shape[0]]).add_(b)
            out.copy_(scaled)
        return out if math.isfinite(float(out.sum())) else None


def _network_rows(rows: np.ndarray, affine: _Affine | None, preprocessing) -> np.ndarray:
    """Scale a chunk of validated rows and cast it to float32 (a new array).

    Raises ValueError where a scaled value lies beyond float32's range, which the
    network computes in; ``preprocessing`` names the scaling in that message.
    """
    if affine is None:
        with np.errstate(over="ignore"):
            out = rows.astype(np.float32)
    else:
        a, b = affine
        if rows.dtype == np.float32:
            out = _scale_in_float32(rows, a, b)
            if out is not None:
                return out
        scaled = np.multiply(rows, a, dtype=np.float64)
        scaled += b
        with np.errstate(over="ignore"):
            out = scaled.astype(np.float32)
    if np.isinf(out).any():  # NaN marks a missing entry
        if affine is None:
            raise ValueError(
                "X contains values beyond float32's range (about 3.4e38), which the "
                f"network computes in; use {_SCALED_CHOICES}, or rescale the columns."
            )
        raise ValueError(
            "X contains values so far outside the training data that, scaled by "
            f"preprocessing={preprocessing!r}, they exceed float32's range "
            "(about 3.4e38), which the network computes in."
        )
    return out


def _scaled_float32(X: np.ndarray, affine: _Affine | None, preprocessing) -> np.ndarray:
    """The network's input: ``X`` scaled and cast to float32, by chunks.

    The result is a new C-contiguous float32 array (the only full-size copy that
    ``fit`` makes).
    """
    out = np.empty(X.shape, dtype=np.float32)
    for start in range(0, X.shape[0], _data._CHUNK_ROWS):
        stop = start + _data._CHUNK_ROWS
        out[start:stop] = _network_rows(X[start:stop], affine, preprocessing)
    return out


def _in_original_units(affine: _Affine | None):
    """The map from rows in the scaled space (network outputs, as float32 numpy
    arrays) to float64 rows in the units of the training data; None for no scaling.

    Applied on the CPU, after a batch leaves the device, so that every device works
    (MPS has no float64)."""
    if affine is None:
        return None
    a, b = affine
    return lambda rows: (rows - b) / a
