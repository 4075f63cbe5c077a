"""Sliding windows: a long series as rows for ``architecture="recurrent"``."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params


@validate_params(
    {
        "series": ["array-like"],
        "window": [Interval(Integral, 1, None, closed="left")],
        "step": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def make_windows(series, window: int, step: int = 1) -> np.ndarray:
    """Cut a series into overlapping windows, one flattened window per row.

    Window ``i`` covers timesteps ``i * step`` to ``i * step + window - 1``; each is
    flattened time-major (``window.reshape(-1)``), so that the rows fit an
    estimator with ``architecture="recurrent", input_shape=(window, n_channels)``.
    Timesteps after the last full window are dropped.

    Parameters
    ----------
    series : array-like of shape (n_timesteps, n_channels) or (n_timesteps,)
        The series; 1-D input is one channel.
    window : int
        Timesteps per window.
    step : int, default=1
        Timesteps between the starts of consecutive windows.

    Returns
    -------
    windows : ndarray of shape (n_windows, window * n_channels)
        ``n_windows = (n_timesteps - window) // step + 1``; a new array.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_autoencoder import make_windows
    >>> series = np.arange(10).reshape(5, 2)  # 5 timesteps, 2 channels
    >>> make_windows(series, window=2, step=2)
    array([[0, 1, 2, 3],
           [4, 5, 6, 7]])
    """
    series = np.asarray(series)
    if series.ndim == 1:
        series = series[:, None]
    if series.ndim != 2:
        raise ValueError(
            "series must be 1-D (n_timesteps,) or 2-D (n_timesteps, n_channels), got "
            f"an array of shape {series.shape}."
        )
    n_timesteps, n_channels = series.shape
    if window > n_timesteps:
        raise ValueError(f"window={window} is longer than the series ({n_timesteps} timesteps).")
    # (n_windows, n_channels, window) views, made time-major and copied.
    views = np.lib.stride_tricks.sliding_window_view(series, window, axis=0)[::step]
    return np.array(views.transpose(0, 2, 1).reshape(len(views), -1))  # always a copy
