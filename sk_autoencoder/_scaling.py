"""The scaling between the user's units and the network's: ``preprocessing``.

Every scaling the estimators offer is affine per feature, ``x * a + b``, fitted on
the training rows. This module holds the table of ``preprocessing`` choices, fits the
scaler in float64 over row chunks, turns it into the ``(a, b)`` pair, and applies the
map in the two precisions the rows can arrive in:

- float32 rows are scaled in float32 where every coefficient and result stays in
  float32's normal range (the rounding is then of the order of the rows' own);
- float64 rows, and float32 rows whose scaling would leave that range, in float64.

The network computes in float32, so a scaled value beyond float32's range is refused
with a ``ValueError``; so are columns whose spread overflows float64.
"""

from __future__ import annotations

import copy
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
    spread overflows float64 cannot be scaled).
    """

    scaler: type
    affine: Callable[[object], _Affine]
    statistics: Callable[[object], list[np.ndarray]]


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
    ),
    "minmax": _Preprocessing(
        MinMaxScaler, _minmax_affine, lambda scaler: [scaler.data_min_, scaler.data_range_]
    ),
}


def _preprocessing_of(scaler) -> str | None:
    """The ``preprocessing`` name of a fitted scaler (None for no scaler)."""
    for name, entry in _PREPROCESSING.items():
        if type(scaler) is entry.scaler:
            return name
    return None


def _fit_scaler(preprocessing: str | None, X: np.ndarray):
    """The fitted scaler of ``preprocessing`` (None for no scaling).

    The statistics are accumulated over row chunks in float64, so that fitting
    needs no full-size temporary and huge or tiny magnitudes do not overflow.
    """
    if preprocessing is None:
        return None
    scaler = _PREPROCESSING[preprocessing].scaler()
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, X.shape[0], _data._CHUNK_ROWS):
            scaler.partial_fit(X[start : start + _data._CHUNK_ROWS])
    _check_scaler_finite(scaler)
    return scaler


def _updated_scaler(scaler, X: np.ndarray):
    """A copy of ``scaler`` whose statistics also cover ``X`` (``partial_fit``)."""
    if scaler is None:
        return None
    # A copy, so that a failed call leaves the previous statistics intact.
    scaler = copy.deepcopy(scaler).partial_fit(X)
    _check_scaler_finite(scaler)
    return scaler


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


def _scale_in_float32(rows: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """``rows * a + b`` computed in float32, or None where a coefficient or a result
    leaves float32's normal range (the caller then scales in float64)."""
    with np.errstate(over="ignore", under="ignore"):
        a32, b32 = a.astype(np.float32), b.astype(np.float32)
    if not (np.isfinite(a32).all() and np.isfinite(b32).all()):
        return None
    if (np.abs(a32) < np.finfo(np.float32).tiny).any():
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        out = rows * a32
        out += b32
        # One fast reduction; an overflow (or a sum of huge finite values) makes it
        # non-finite, and the float64 path then decides.
        finite = np.isfinite(out.sum())
    return out if finite else None


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
    if not np.isfinite(out).all():
        if affine is None:
            raise ValueError(
                "X contains values beyond float32's range (about 3.4e38), which the "
                "network computes in; use preprocessing='standard' or 'minmax', or "
                "rescale the columns."
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


def _in_original_units(fn, affine: _Affine | None, device):
    """Wrap a batch function whose output is in the scaled space, so that its output
    is in the units of the training data."""
    if affine is None:
        return fn
    a, b = (torch.from_numpy(v).to(device) for v in affine)
    return lambda batch: (fn(batch) - b) / a
