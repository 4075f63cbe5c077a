"""Checks of the data given to the estimators, beyond scikit-learn's ``validate_data``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array, check_is_fitted


def _check_numeric_columns(estimator, X) -> None:
    """Refuse DataFrame columns that are not numbers, naming them."""
    if not isinstance(X, pd.DataFrame):
        return
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
