"""Checks of the data given to the estimators, beyond scikit-learn's ``validate_data``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_array, check_is_fitted

from . import _data


# ------------------------------------------------------------ parameter constraints
class _Number(Interval):
    """scikit-learn's ``Interval``, refusing booleans: Python counts ``True`` as the
    integer 1, but a flag given where a count, a size or a rate belongs is a mistake
    (``batch_size=True`` would silently train on batches of one row)."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


class _SubclassOf(HasMethods):
    """A constraint on class-valued parameters: a subclass of ``base`` whose class
    defines ``methods``; ``name`` describes it in the error message.

    A ``HasMethods`` so that scikit-learn's parameter validation takes it as one of its
    own constraints (it accepts no other constraint classes).
    """

    def __init__(self, base: type, name: str, methods: tuple[str, ...] = ()):
        super().__init__(list(methods) or ["__init__"])
        self.base = base
        self.name = name

    def is_satisfied_by(self, val):
        return (
            isinstance(val, type) and issubclass(val, self.base) and super().is_satisfied_by(val)
        )

    def __str__(self):
        return self.name


# ---------------------------------------------------------------------- data


def _check_numeric_columns(estimator, X) -> None:
    """Refuse input that is not numbers, naming what it is: DataFrame columns of other
    dtypes or with duplicate names, and arrays of dates or durations (which numpy would
    cast to their integer encoding, NaT to -9.2e18)."""
    estimator_name = type(estimator).__name__
    dtype = getattr(X, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "mM":
        raise ValueError(
            f"{estimator_name} needs numbers; X has dtype {dtype} (dates or durations). "
            "Convert them to numbers first, e.g. elapsed seconds: "
            "(X - X.min()) / np.timedelta64(1, 's')."
        )
    if not isinstance(X, pd.DataFrame):
        return
    counts = pd.Series(X.columns).value_counts()
    duplicated = counts[counts > 1]
    if len(duplicated):
        listed = ", ".join(f"{column!r} ({n} times)" for column, n in duplicated.items())
        raise ValueError(
            f"{estimator_name} needs one column per name; X has duplicate column names: "
            f"{listed}. Rename or drop the duplicates (columns are matched by name between "
            "fit and transform)."
        )
    bad = {}
    for name, dtype in X.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype) or (
            pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)
        ):
            continue
        if pd.api.types.is_object_dtype(dtype):
            try:
                pd.to_numeric(X[name])
                continue
            except (TypeError, ValueError):
                pass
        bad[name] = str(dtype)
    if bad:
        listed = ", ".join(f"{name!r} ({dtype})" for name, dtype in bad.items())
        raise ValueError(
            f"{type(estimator).__name__} needs numeric columns; these are not: {listed}. "
            "Encode them first, e.g. with sklearn.compose.ColumnTransformer and "
            "sklearn.preprocessing.OneHotEncoder in a Pipeline before the autoencoder."
        )


def _check_codes(estimator, Z) -> np.ndarray:
    """Validate codes given to ``inverse_transform``."""
    check_is_fitted(estimator)
    Z = check_array(Z, dtype=(np.float64, np.float32))
    if Z.shape[1] != estimator.n_components_:
        raise ValueError(
            f"X has {Z.shape[1]} features, but {type(estimator).__name__}."
            f"inverse_transform is expecting {estimator.n_components_} features "
            "(n_components_) as input."
        )
    return Z


def _check_sparse_frame(X) -> None:
    """Refuse DataFrames whose sparse columns scikit-learn cannot turn into a sparse
    matrix, saying what to do (scikit-learn takes only all-sparse frames whose
    implicit value is 0)."""
    if not isinstance(X, pd.DataFrame):
        return
    sparse = [name for name, dtype in X.dtypes.items() if isinstance(dtype, pd.SparseDtype)]
    if not sparse:
        return
    shown = ", ".join(repr(name) for name in sparse[:5]) + (" ..." if len(sparse) > 5 else "")
    if len(sparse) < X.shape[1]:
        raise ValueError(
            f"X mixes sparse columns ({shown}) with dense ones, which scikit-learn cannot "
            "turn into one sparse matrix; make every column sparse, e.g. "
            "X.astype(pd.SparseDtype('float64', 0)), or pass a scipy sparse matrix."
        )
    nonzero_fill = [name for name, dtype in X.dtypes.items() if not dtype.fill_value == 0]
    if nonzero_fill:
        raise ValueError(
            "X has sparse columns whose implicit value is not 0 (fill_value "
            f"{X.dtypes[nonzero_fill[0]].fill_value!r} in {nonzero_fill[0]!r}); sparse "
            "input must leave out zeros, e.g. X.astype(pd.SparseDtype('float64', 0))."
        )


def _check_missing(X, columns: bool = False) -> None:
    """Refuse rows whose every entry is missing (NaN), and with ``columns=True``
    (the first fit) columns that have no observed entry, naming them.

    ``X`` is validated (dense or CSR); a quick test skips tables without NaN.
    """
    if not _data._has_nan(X):
        return
    empty_rows = []
    observed = np.zeros(X.shape[1], dtype=bool)
    for start, _, rows in _data._row_chunks(X):
        missing = np.isnan(rows)
        empty_rows.extend((start + np.flatnonzero(missing.all(axis=1))).tolist())
        if columns:
            observed |= ~missing.all(axis=0)
    if empty_rows:
        raise ValueError(
            f"X has {len(empty_rows)} row(s) with every entry missing (NaN), e.g. row(s) "
            f"{empty_rows[:10]}: such a row has nothing to encode or score; drop it."
        )
    empty_columns = np.flatnonzero(~observed) if columns else []
    if len(empty_columns):
        raise ValueError(
            f"X has {len(empty_columns)} column(s) with every entry missing (NaN): "
            f"{empty_columns.tolist()[:10]}; nothing can be learnt about them, drop them."
        )
