"""Visualisations in the style of scikit-learn's Display objects.

Each Display is built with ``from_estimator`` (from a fitted autoencoder and data) or
``from_predictions`` (from values already computed), draws with :meth:`plot`, and keeps
the matplotlib artists it drew as attributes ending in ``_``, as
:class:`sklearn.metrics.RocCurveDisplay` does.

matplotlib is optional: install it with ``pip install ".[plot]"``. It is
imported only when something is drawn, so ``import sk_autoencoder`` never needs it.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

__all__ = [
    "AnomalyScoreDisplay",
    "LatentSpaceDisplay",
    "LossCurveDisplay",
    "ReconstructionDisplay",
]


def _check_matplotlib(caller: str) -> None:
    """Raise an ImportError that says how to install matplotlib when it is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib, which is not installed. Install it with "
            '`pip install ".[plot]"` from a checkout of sk-autoencoder (or `pip install '
            "matplotlib`)."
        ) from exc


def _get_ax(ax):
    """The given Axes, or a new one on a new figure."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


# --------------------------------------------------------------------------- loss curve
class LossCurveDisplay:
    """Training (and validation) loss per epoch, with the best epoch marked.

    Build it with :meth:`from_estimator`, or directly from loss lists and then call
    :meth:`plot`.

    Parameters
    ----------
    train_loss : array-like of shape (n_epochs,)
        Mean training loss of each epoch.
    validation_loss : array-like of shape (n_epochs,) or None, default=None
        Mean validation loss of each epoch.
    best_epoch : int or None, default=None
        1-based epoch to mark. None marks the epoch with the lowest validation loss,
        or the lowest training loss when there is no validation loss.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The training loss curve.
    validation_line_ : matplotlib Line2D or None
        The validation loss curve, if any.
    best_marker_ : matplotlib Line2D
        The marker at the best epoch.
    best_epoch_ : int
        The 1-based epoch that is marked.
    ax_ : matplotlib Axes
        Axes holding the curves.
    figure_ : matplotlib Figure
        Figure holding the axes.

    See Also
    --------
    LossCurveDisplay.from_estimator : Plot the curves of a fitted autoencoder.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sk_autoencoder import AutoencoderTransformer, LossCurveDisplay
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(max_epochs=5, random_state=0).fit(X)
    >>> display = LossCurveDisplay.from_estimator(ae)
    >>> len(display.line_.get_xdata())
    5
    """

    def __init__(self, *, train_loss, validation_loss=None, best_epoch=None):
        self.train_loss = train_loss
        self.validation_loss = validation_loss
        self.best_epoch = best_epoch

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, log_scale=False):
        """Plot the loss curves recorded while ``estimator`` was fitted.

        The training curve is ``loss_curve_``; the validation curve is
        ``-validation_scores_`` (present when the estimator was fitted with
        ``early_stopping=True``, whose best epoch is the one whose weights were
        kept).

        Parameters
        ----------
        estimator : AutoencoderTransformer or AutoencoderAnomalyDetector
            A fitted autoencoder.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        log_scale : bool, default=False
            Draw the loss on a logarithmic axis.

        Returns
        -------
        display : LossCurveDisplay
            The display, with its artists drawn.
        """
        _check_matplotlib(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator, "loss_curve_")
        validation = getattr(estimator, "validation_scores_", None)
        if validation is not None:
            validation = -np.asarray(validation, dtype=float)
        display = cls(train_loss=estimator.loss_curve_, validation_loss=validation)
        return display.plot(ax=ax, log_scale=log_scale)

    def plot(self, ax=None, *, log_scale=False):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        log_scale : bool, default=False
            Draw the loss on a logarithmic axis.

        Returns
        -------
        display : LossCurveDisplay
            The display, with its artists drawn.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        train = column_or_1d(np.asarray(self.train_loss, dtype=float))
        validation = self.validation_loss
        if validation is not None:
            validation = column_or_1d(np.asarray(validation, dtype=float))
            if validation.shape != train.shape:
                raise ValueError(
                    f"validation_loss has {validation.shape[0]} epochs but train_loss "
                    f"has {train.shape[0]}."
                )
        monitored = train if validation is None else validation
        best = self.best_epoch
        if best is None:
            best = int(np.nanargmin(monitored)) + 1
        if not 1 <= best <= train.shape[0]:
            raise ValueError(f"best_epoch must be in [1, {train.shape[0]}], got {best}.")

        ax = _get_ax(ax)
        epochs = np.arange(1, train.shape[0] + 1)
        (self.line_,) = ax.plot(epochs, train, label="training loss")
        self.validation_line_ = None
        if validation is not None:
            (self.validation_line_,) = ax.plot(epochs, validation, label="validation loss")
        (self.best_marker_,) = ax.plot(
            [best],
            [monitored[best - 1]],
            marker="o",
            markersize=9,
            markerfacecolor="none",
            markeredgecolor="black",
            linestyle="none",
            label=f"best epoch ({best})",
        )
        ax.axvline(best, color="black", linestyle=":", linewidth=1, alpha=0.5)
        if log_scale:
            ax.set_yscale("log")
        ax.set(xlabel="epoch", ylabel="loss (scaled space)")
        ax.legend()
        self.best_epoch_ = best
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


# ------------------------------------------------------------------- reconstruction
class ReconstructionDisplay:
    """Original rows next to their reconstructions.

    With ``image_shape`` the rows are images: each original above its
    reconstruction, the pairs laid out in as many rows as fit the Axes' shape, so
    that the images stay as large as the Axes allows (a small subplot gets a
    compact grid, a wide one a single row). Without it the rows are tabular: one
    panel per row, each feature on the x axis, the original value as a dot, the
    reconstruction as a cross, and a line between them showing the error.
    :meth:`from_estimator` draws tabular rows in the estimator's scaled units (the
    units its errors are measured in), so that a column in thousands does not
    flatten a column in fractions.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Original rows, in the original units.
    X_reconstructed : array-like of shape (n_samples, n_features)
        Their reconstructions, in the same units.
    image_shape : tuple of int or None, default=None
        Shape of one image, e.g. ``(8, 8)``; its product must be ``n_features``.
    feature_names : array-like of str or None, default=None
        Names of the features (tabular view only).
    value_label : str, default="value"
        What the values are, the label of the tabular view's value axes.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes
        Image mode: shape (2, n_samples), originals on row 0 and reconstructions on
        row 1. Tabular mode: shape (n_samples,), one panel per row.
    images_ : ndarray of matplotlib AxesImage or None
        Image mode: shape (2, n_samples), the drawn images. None in tabular mode.
    original_lines_ : list of matplotlib Line2D or None
        Tabular mode: the original values, one per row. None in image mode.
    reconstruction_lines_ : list of matplotlib Line2D or None
        Tabular mode: the reconstructions, one per row. None in image mode.
    ax_ : matplotlib Axes
        The Axes the display occupies (its area is divided into the image axes or
        the row panels, and the Axes itself is hidden).
    figure_ : matplotlib Figure
        Figure holding the axes.

    See Also
    --------
    ReconstructionDisplay.from_estimator : Reconstruct rows with a fitted autoencoder.
    ReconstructionDisplay.from_predictions : Plot reconstructions computed elsewhere.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sk_autoencoder import AutoencoderTransformer, ReconstructionDisplay
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=8, max_epochs=5, random_state=0).fit(X)
    >>> display = ReconstructionDisplay.from_estimator(ae, X[:6], image_shape=(8, 8))
    >>> display.images_.shape
    (2, 6)
    """

    def __init__(
        self, *, X, X_reconstructed, image_shape=None, feature_names=None, value_label="value"
    ):
        self.X = X
        self.X_reconstructed = X_reconstructed
        self.image_shape = image_shape
        self.feature_names = feature_names
        self.value_label = value_label

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        n_samples=None,
        image_shape=None,
        feature_names=None,
        ax=None,
        cmap="gray_r",
    ):
        """Reconstruct the first ``n_samples`` rows of ``X`` and plot them.

        The reconstruction is the network's output, for the transformer and the
        detector alike. Images are drawn in the original units; tabular rows in the
        estimator's scaled units (``preprocessing``), where every column has a
        comparable spread and the errors are those the estimator scores (in the
        original units when ``preprocessing=None``).

        Parameters
        ----------
        estimator : AutoencoderTransformer or AutoencoderAnomalyDetector
            A fitted autoencoder.
        X : array-like of shape (n_samples, n_features)
            Rows to reconstruct; only the first ``n_samples`` are used.
        n_samples : int or None, default=None
            How many rows to show; None shows 8 images or 4 tabular rows.
        image_shape : tuple of int or None, default=None
            Shape of one image, e.g. ``(8, 8)``; None gives the tabular view.
        feature_names : array-like of str or None, default=None
            Feature names for the tabular view; defaults to the estimator's
            ``feature_names_in_`` when it has them.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        cmap : str, default="gray_r"
            Colormap of the images.

        Returns
        -------
        display : ReconstructionDisplay
            The display, with its artists drawn.
        """
        _check_matplotlib(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        n_samples = _default_rows(n_samples, image_shape)
        rows = X.iloc[:n_samples] if hasattr(X, "iloc") else X[:n_samples]
        reconstructed = estimator._reconstruct(rows)
        if feature_names is None:
            feature_names = getattr(estimator, "feature_names_in_", None)
        if feature_names is None and hasattr(rows, "columns"):
            feature_names = [str(c) for c in rows.columns]
        value_label = "value"
        if image_shape is None and estimator._affine is not None:
            a, b = estimator._affine
            original = check_array(rows, dtype=np.float64)
            rows, reconstructed = original * a + b, reconstructed * a + b
            value_label = f"scaled value (preprocessing={estimator.preprocessing!r})"
        display = cls(
            X=rows,
            X_reconstructed=reconstructed,
            image_shape=image_shape,
            feature_names=feature_names,
            value_label=value_label,
        )
        return display.plot(ax=ax, cmap=cmap)

    @classmethod
    def from_predictions(
        cls,
        X,
        X_reconstructed,
        *,
        n_samples=None,
        image_shape=None,
        feature_names=None,
        ax=None,
        cmap="gray_r",
    ):
        """Plot rows next to reconstructions computed elsewhere.

        Useful to compare with another model, e.g. ``pca.inverse_transform(
        pca.transform(X))``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Original rows.
        X_reconstructed : array-like of shape (n_samples, n_features)
            Their reconstructions, in the same units (tabular rows are drawn as
            given: pass standardised values when the columns' scales differ).
        n_samples : int or None, default=None
            How many rows (the first ones) to show; None shows 8 images or 4
            tabular rows.
        image_shape : tuple of int or None, default=None
            Shape of one image, e.g. ``(8, 8)``; None gives the tabular view.
        feature_names : array-like of str or None, default=None
            Feature names for the tabular view.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        cmap : str, default="gray_r"
            Colormap of the images.

        Returns
        -------
        display : ReconstructionDisplay
            The display, with its artists drawn.
        """
        _check_matplotlib(f"{cls.__name__}.from_predictions")
        n_samples = _default_rows(n_samples, image_shape)
        if feature_names is None and hasattr(X, "columns"):
            feature_names = [str(c) for c in X.columns]
        X = check_array(X, ensure_all_finite=False)[:n_samples]
        X_reconstructed = check_array(X_reconstructed, ensure_all_finite=False)[:n_samples]
        display = cls(
            X=X,
            X_reconstructed=X_reconstructed,
            image_shape=image_shape,
            feature_names=feature_names,
        )
        return display.plot(ax=ax, cmap=cmap)

    def plot(self, ax=None, *, cmap="gray_r"):
        """Draw originals and reconstructions.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure. In image mode its area is
            divided into one small axes per image.
        cmap : str, default="gray_r"
            Colormap of the images.

        Returns
        -------
        display : ReconstructionDisplay
            The display, with its artists drawn.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        X = check_array(self.X, ensure_all_finite=False)
        X_rec = check_array(self.X_reconstructed, ensure_all_finite=False)
        if X.shape != X_rec.shape:
            raise ValueError(
                f"X has shape {X.shape} but X_reconstructed has shape {X_rec.shape}; "
                "they must match."
            )
        if self.image_shape is not None:
            image_shape = tuple(int(s) for s in self.image_shape)
            if int(np.prod(image_shape)) != X.shape[1]:
                raise ValueError(
                    f"image_shape {image_shape} holds {int(np.prod(image_shape))} values "
                    f"but the rows have {X.shape[1]} features."
                )
            if ax is None:
                import matplotlib.pyplot as plt

                _, ax = plt.subplots(figsize=(1.1 * X.shape[0] + 0.6, 2.6))
            self._plot_images(ax, X, X_rec, image_shape, cmap)
        else:
            if ax is None:
                import matplotlib.pyplot as plt

                _, ax = plt.subplots(
                    figsize=(max(6.4, 0.5 * X.shape[1] + 1.5), 1.0 + 1.1 * len(X))
                )
            self._plot_table(ax, X, X_rec)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _plot_images(self, ax, X, X_rec, image_shape, cmap) -> None:
        n = X.shape[0]
        # Drop unit axes, so a channel-first (1, 8, 8) image draws as 8 x 8.
        shape_2d = tuple(s for s in image_shape if s != 1) or (1,)
        if len(shape_2d) == 1:
            shape_2d = (1, shape_2d[0])
        if len(shape_2d) != 2:
            raise ValueError(
                f"image_shape {image_shape} is not a grey-level image: once its unit "
                "axes are dropped it must have two dimensions."
            )
        ax.set_axis_off()
        # Each column uses its original's colour range for both images, so that the
        # original always looks the same and reconstruction values beyond the
        # original's range (e.g. negative pixels) saturate instead of shifting it.
        low, high = X.min(axis=1), X.max(axis=1)
        flat = high <= low
        low = np.where(flat, np.minimum(low, X_rec.min(axis=1)), low)
        high = np.where(flat, np.maximum(high, X_rec.max(axis=1)), high)
        axes = np.empty((2, n), dtype=object)
        images = np.empty((2, n), dtype=object)
        n_cols, width, height = _pair_grid(ax, n, shape_2d)
        n_rows = -(-n // n_cols)
        # Axes-relative cells of the images' own aspect, the grid centred: each pair
        # is an original above its reconstruction, pairs set apart by a gap.
        gap = 0.06
        left0 = (1 - n_cols * width) / 2
        top0 = 1 - (1 - n_rows * height) / 2
        for j in range(n):
            col, grid_row = j % n_cols, j // n_cols
            left = left0 + (col + gap / 2) * width
            bottom = top0 - (grid_row + 1) * height + gap * height / 2
            half = (1 - gap) * height / 2
            for row, values in enumerate((X, X_rec)):
                sub = ax.inset_axes([left, bottom + (1 - row) * half, (1 - gap) * width, half])
                images[row, j] = sub.imshow(
                    values[j].reshape(shape_2d),
                    cmap=cmap,
                    vmin=low[j],
                    vmax=high[j],
                    interpolation="nearest",
                    aspect="equal",
                )
                sub.set_xticks([])
                sub.set_yticks([])
                if col == 0:
                    sub.set_ylabel("orig." if row == 0 else "recon.", fontsize="small")
                axes[row, j] = sub
        self.axes_ = axes
        self.images_ = images
        self.original_lines_ = None
        self.reconstruction_lines_ = None

    def _plot_table(self, ax, X, X_rec) -> None:
        n_samples, n_features = X.shape
        names = self.feature_names
        if names is None:
            names = [f"x{i}" for i in range(n_features)]
        names = [str(name) for name in names]
        if len(names) != n_features:
            raise ValueError(
                f"feature_names has {len(names)} names but the rows have {n_features} features."
            )
        ax.set_axis_off()
        positions = np.arange(n_features)
        finite = np.concatenate([X[np.isfinite(X)], X_rec[np.isfinite(X_rec)]])
        low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        margin = 0.08 * (high - low or 1.0)
        axes = np.empty(n_samples, dtype=object)
        self.original_lines_, self.reconstruction_lines_ = [], []
        # One panel per row, on a shared value range, with room below for the names.
        height = 0.85 / n_samples
        for i in range(n_samples):
            sub = ax.inset_axes([0.1, 1 - (i + 1) * height + 0.12 * height, 0.88, 0.8 * height])
            sub.vlines(positions, X[i], X_rec[i], color="C3", alpha=0.6, linewidth=1.5)
            (orig,) = sub.plot(positions, X[i], "o", color="C0", markersize=5, label="original")
            (rec,) = sub.plot(
                positions, X_rec[i], "x", color="C1", markersize=6, label="reconstruction"
            )
            sub.set_ylim(low - margin, high + margin)
            sub.set_xlim(-0.5, n_features - 0.5)
            sub.axhline(0, color="0.8", linewidth=0.8, zorder=0)
            sub.text(0.005, 0.96, f"row {i}", transform=sub.transAxes, va="top", fontsize="small")
            sub.tick_params(labelsize="small")
            sub.set_xticks(positions)
            if i == n_samples - 1:
                sub.set_xticklabels(
                    names,
                    rotation=45 if n_features > 6 else 0,
                    ha="right" if n_features > 6 else "center",
                )
            else:
                sub.set_xticklabels([])
            if i == 0:
                sub.legend(fontsize="small", ncols=2, loc="lower right", bbox_to_anchor=(1, 1))
            axes[i] = sub
            self.original_lines_.append(orig)
            self.reconstruction_lines_.append(rec)
        ax.text(
            0.02, 1 - n_samples * height / 2, self.value_label, rotation=90,
            ha="left", va="center", fontsize="small", transform=ax.transAxes,
        )  # fmt: skip
        self.axes_ = axes
        self.images_ = None


def _default_rows(n_samples, image_shape) -> int:
    """``n_samples=None``: 8 images, or 4 tabular rows (one panel each)."""
    if n_samples is None:
        return 8 if image_shape is not None else 4
    return n_samples


def _pair_grid(ax, n: int, shape_2d: tuple[int, int]) -> tuple[int, float, float]:
    """How many (original, reconstruction) pairs per grid row make the images
    largest in ``ax`` (a wide Axes gets one row of pairs, a small square one a
    compact grid), and the width and height of a pair's cell as fractions of the
    Axes, in the images' own aspect."""
    bbox = ax.get_position()
    figure_width, figure_height = ax.figure.get_size_inches()
    width, height = bbox.width * figure_width, bbox.height * figure_height
    image_h, image_w = shape_2d
    best, best_size = 1, 0.0
    for n_cols in range(1, n + 1):
        n_rows = -(-n // n_cols)
        # Each pair is one image wide and two tall; the scale that fits both ways.
        size = min(width / (n_cols * image_w), height / (n_rows * 2 * image_h))
        if size > best_size * 1.0001:
            best, best_size = n_cols, size
    return best, best_size * image_w / width, best_size * 2 * image_h / height


# ---------------------------------------------------------------------- latent space
class LatentSpaceDisplay:
    """Codes in two dimensions, coloured by an optional target.

    Codes with two components are drawn as they are; wider codes are projected to
    two dimensions first, with :class:`~sklearn.decomposition.PCA` (default) or
    :class:`~sklearn.manifold.TSNE`.

    Parameters
    ----------
    embedding : ndarray of shape (n_samples, 2)
        The points to draw (codes or their projection).
    y : array-like of shape (n_samples,) or None, default=None
        Values that colour the points: classes (at most 20 distinct values, or any
        non-float labels) get a legend, continuous values a colorbar.
    axis_labels : tuple of str, default=("code 0", "code 1")
        Labels of the two axes.

    Attributes
    ----------
    scatter_ : matplotlib PathCollection
        The points.
    legend_ : matplotlib Legend or None
        The class legend, when ``y`` holds classes.
    colorbar_ : matplotlib Colorbar or None
        The colorbar, when ``y`` is continuous.
    ax_ : matplotlib Axes
        Axes holding the scatter.
    figure_ : matplotlib Figure
        Figure holding the axes.

    See Also
    --------
    LatentSpaceDisplay.from_estimator : Encode rows with a fitted autoencoder.
    LatentSpaceDisplay.from_predictions : Plot codes computed elsewhere.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sk_autoencoder import AutoencoderTransformer, LatentSpaceDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=2, max_epochs=5, random_state=0).fit(X)
    >>> display = LatentSpaceDisplay.from_estimator(ae, X, y)
    >>> display.scatter_.get_offsets().shape
    (1797, 2)
    """

    def __init__(self, *, embedding, y=None, axis_labels=("code 0", "code 1")):
        self.embedding = embedding
        self.y = y
        self.axis_labels = axis_labels

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y=None,
        *,
        projection="pca",
        random_state=None,
        ax=None,
        scatter_kwargs=None,
    ):
        """Encode ``X`` with ``estimator`` and plot the codes.

        Parameters
        ----------
        estimator : estimator with ``transform``, or AutoencoderAnomalyDetector
            A fitted :class:`AutoencoderTransformer` (or a pipeline ending in one),
            or a fitted :class:`AutoencoderAnomalyDetector`, whose encoder is used.
        X : array-like of shape (n_samples, n_features)
            Rows to encode.
        y : array-like of shape (n_samples,) or None, default=None
            Values that colour the points.
        projection : {"pca", "tsne"}, default="pca"
            How codes with more than two components are brought to two dimensions.
        random_state : int, RandomState instance or None, default=None
            Seed of the projection.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        scatter_kwargs : dict or None, default=None
            Keyword arguments passed to ``ax.scatter``.

        Returns
        -------
        display : LatentSpaceDisplay
            The display, with its artists drawn.
        """
        _check_matplotlib(f"{cls.__name__}.from_estimator")
        # The detector has no transform; its encoder gives the same codes.
        codes = estimator.transform(X) if hasattr(estimator, "transform") else estimator._encode(X)
        return cls.from_predictions(
            codes,
            y,
            projection=projection,
            random_state=random_state,
            ax=ax,
            scatter_kwargs=scatter_kwargs,
        )

    @classmethod
    def from_predictions(
        cls, codes, y=None, *, projection="pca", random_state=None, ax=None, scatter_kwargs=None
    ):
        """Plot codes computed elsewhere (e.g. the output of ``transform``).

        Parameters
        ----------
        codes : array-like of shape (n_samples, n_components)
            The codes.
        y : array-like of shape (n_samples,) or None, default=None
            Values that colour the points.
        projection : {"pca", "tsne"}, default="pca"
            How codes with more than two components are brought to two dimensions.
        random_state : int, RandomState instance or None, default=None
            Seed of the projection.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        scatter_kwargs : dict or None, default=None
            Keyword arguments passed to ``ax.scatter``.

        Returns
        -------
        display : LatentSpaceDisplay
            The display, with its artists drawn.
        """
        _check_matplotlib(f"{cls.__name__}.from_predictions")
        if projection not in ("pca", "tsne"):
            raise ValueError(f"projection must be 'pca' or 'tsne', got {projection!r}.")
        codes = check_array(codes)
        n_components = codes.shape[1]
        if n_components == 1:
            # One component: spread the points vertically by row so they stay visible.
            embedding = np.column_stack([codes[:, 0], np.arange(codes.shape[0])])
            labels = ("code 0", "row")
        elif n_components == 2:
            embedding, labels = codes, ("code 0", "code 1")
        elif projection == "pca":
            from sklearn.decomposition import PCA

            pca = PCA(n_components=2, random_state=random_state).fit(codes)
            embedding = pca.transform(codes)
            ratio = pca.explained_variance_ratio_
            labels = tuple(
                f"PCA {i} of the codes ({100 * r:.0f}% of variance)" for i, r in enumerate(ratio)
            )
        else:
            from sklearn.manifold import TSNE

            perplexity = min(30.0, (codes.shape[0] - 1) / 3)
            embedding = TSNE(
                n_components=2, init="pca", perplexity=perplexity, random_state=random_state
            ).fit_transform(codes)
            labels = ("t-SNE 0 of the codes", "t-SNE 1 of the codes")
        display = cls(embedding=embedding, y=y, axis_labels=labels)
        return display.plot(ax=ax, scatter_kwargs=scatter_kwargs)

    def plot(self, ax=None, *, scatter_kwargs=None):
        """Draw the points.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        scatter_kwargs : dict or None, default=None
            Keyword arguments passed to ``ax.scatter``.

        Returns
        -------
        display : LatentSpaceDisplay
            The display, with its artists drawn.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        embedding = check_array(self.embedding)
        if embedding.shape[1] != 2:
            raise ValueError(f"embedding must have 2 columns, got {embedding.shape[1]}.")
        ax = _get_ax(ax)
        kwargs = {"s": 12, "alpha": 0.8, **(scatter_kwargs or {})}
        self.legend_ = None
        self.colorbar_ = None
        if self.y is None:
            self.scatter_ = ax.scatter(embedding[:, 0], embedding[:, 1], **kwargs)
        else:
            y = column_or_1d(np.asarray(self.y))
            if y.shape[0] != embedding.shape[0]:
                raise ValueError(
                    f"y has {y.shape[0]} values but there are {embedding.shape[0]} points."
                )
            classes = np.unique(y)
            if y.dtype.kind == "f" and classes.shape[0] > 20:
                kwargs.setdefault("cmap", "viridis")
                self.scatter_ = ax.scatter(embedding[:, 0], embedding[:, 1], c=y, **kwargs)
                self.colorbar_ = ax.figure.colorbar(self.scatter_, ax=ax)
            else:
                codes = np.searchsorted(classes, y)
                kwargs.setdefault("cmap", "tab10" if classes.shape[0] <= 10 else "tab20")
                self.scatter_ = ax.scatter(
                    embedding[:, 0],
                    embedding[:, 1],
                    c=codes,
                    vmin=-0.5,
                    vmax=classes.shape[0] - 0.5,
                    **kwargs,
                )
                handles, _ = self.scatter_.legend_elements(num=list(range(classes.shape[0])))
                self.legend_ = ax.legend(
                    handles,
                    [str(c) for c in classes],
                    title="class",
                    fontsize="small",
                    loc="center left",
                    bbox_to_anchor=(1.0, 0.5),
                )
        ax.set(xlabel=self.axis_labels[0], ylabel=self.axis_labels[1])
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


# --------------------------------------------------------------------- anomaly scores
class AnomalyScoreDisplay:
    """Histogram of anomaly scores with the decision threshold.

    Scores follow scikit-learn's convention for outlier detectors (that of
    ``score_samples``): higher is more normal, so outliers sit to the left of the
    threshold.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Scores, higher is more normal.
    threshold : float or None, default=None
        Rows scoring below it are outliers (the detector's ``offset_``).
    y : array-like of shape (n_samples,) or None, default=None
        Labels (e.g. known inlier/outlier classes); one histogram per label, on
        shared bins.

    Attributes
    ----------
    bars_ : list of matplotlib BarContainer
        One histogram per label (a single one without ``y``).
    threshold_line_ : matplotlib Line2D or None
        The vertical line at ``threshold``.
    ax_ : matplotlib Axes
        Axes holding the histogram.
    figure_ : matplotlib Figure
        Figure holding the axes.

    See Also
    --------
    AnomalyScoreDisplay.from_estimator : Score rows with a fitted detector.
    AnomalyScoreDisplay.from_predictions : Plot scores computed elsewhere.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sk_autoencoder import AnomalyScoreDisplay, AutoencoderAnomalyDetector
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 5))
    >>> detector = AutoencoderAnomalyDetector(max_epochs=5, random_state=0).fit(X)
    >>> display = AnomalyScoreDisplay.from_estimator(detector, X)
    >>> bool(display.threshold_line_.get_xdata()[0] == detector.offset_)
    True
    """

    def __init__(self, *, scores, threshold=None, y=None):
        self.scores = scores
        self.threshold = threshold
        self.y = y

    @classmethod
    def from_estimator(cls, estimator, X, y=None, *, bins=50, density=False, ax=None):
        """Score ``X`` with ``estimator.score_samples`` and plot the histogram.

        The threshold line is drawn at the estimator's ``offset_`` when it has one
        (:class:`AutoencoderAnomalyDetector` does; the transformer has none).

        Parameters
        ----------
        estimator : AutoencoderAnomalyDetector or AutoencoderTransformer
            A fitted autoencoder.
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        y : array-like of shape (n_samples,) or None, default=None
            Labels splitting the histogram.
        bins : int, default=50
            Number of bins.
        density : bool, default=False
            Normalise each histogram to unit area, so that a small class stays
            visible next to a large one.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.

        Returns
        -------
        display : AnomalyScoreDisplay
            The display, with its artists drawn.
        """
        _check_matplotlib(f"{cls.__name__}.from_estimator")
        scores = estimator.score_samples(X)
        return cls.from_predictions(
            scores,
            threshold=getattr(estimator, "offset_", None),
            y=y,
            bins=bins,
            density=density,
            ax=ax,
        )

    @classmethod
    def from_predictions(cls, scores, *, threshold=None, y=None, bins=50, density=False, ax=None):
        """Plot scores computed elsewhere.

        Parameters
        ----------
        scores : array-like of shape (n_samples,)
            Scores, higher is more normal (e.g. ``score_samples``).
        threshold : float or None, default=None
            Rows scoring below it are outliers.
        y : array-like of shape (n_samples,) or None, default=None
            Labels splitting the histogram.
        bins : int, default=50
            Number of bins.
        density : bool, default=False
            Normalise each histogram to unit area.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.

        Returns
        -------
        display : AnomalyScoreDisplay
            The display, with its artists drawn.
        """
        _check_matplotlib(f"{cls.__name__}.from_predictions")
        display = cls(scores=scores, threshold=threshold, y=y)
        return display.plot(ax=ax, bins=bins, density=density)

    def plot(self, ax=None, *, bins=50, density=False):
        """Draw the histogram and the threshold.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        bins : int, default=50
            Number of bins.
        density : bool, default=False
            Normalise each histogram to unit area.

        Returns
        -------
        display : AnomalyScoreDisplay
            The display, with its artists drawn.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        scores = column_or_1d(np.asarray(self.scores, dtype=float))
        ax = _get_ax(ax)
        finite = scores[np.isfinite(scores)]
        low, high = finite.min(), finite.max()
        if self.threshold is not None:
            low, high = min(low, self.threshold), max(high, self.threshold)
        edges = np.histogram_bin_edges(finite, bins=bins, range=(low, high))
        self.bars_ = []
        if self.y is None:
            groups = [(None, scores)]
        else:
            y = column_or_1d(np.asarray(self.y))
            if y.shape[0] != scores.shape[0]:
                raise ValueError(
                    f"y has {y.shape[0]} values but there are {scores.shape[0]} scores."
                )
            groups = [(label, scores[y == label]) for label in np.unique(y)]
        for label, values in groups:
            name = "scores" if label is None else f"{label} (n={values.shape[0]})"
            _, _, bars = ax.hist(values, bins=edges, density=density, alpha=0.6, label=name)
            self.bars_.append(bars)
        self.threshold_line_ = None
        if self.threshold is not None:
            self.threshold_line_ = ax.axvline(
                self.threshold,
                color="black",
                linestyle="--",
                label=f"threshold ({self.threshold:.3g})",
            )
        ax.set(
            xlabel="score (higher = more normal)",
            ylabel="density" if density else "rows",
        )
        if self.y is not None or self.threshold is not None:
            ax.legend()
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
