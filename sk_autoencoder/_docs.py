"""Docstring pieces shared by the estimators, so each parameter is described once."""

_NETWORK_PARAMETERS = """\
n_components : int, default={n_components}
        Width of the code (the bottleneck). Values at or above ``n_features_in_``
        are allowed: such an over-complete network can learn the identity, which
        gives near-zero reconstruction error and little use as a feature extractor.

    hidden_layer_sizes : array-like of int, default={hidden_layer_sizes}
        Widths of the encoder's hidden layers, outermost first; the decoder mirrors
        them. ``()`` gives a single linear map on each side.

    activation : {{"relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid", \
"identity"}}, default="relu"
        Activation of the hidden layers. The code layer is always linear, so
        ``activation="identity"`` gives a linear autoencoder, whose optimum spans
        the same subspace as :class:`~sklearn.decomposition.PCA`.

    dropout : float in [0, 1), default={dropout}
        Dropout probability after each hidden layer, during training only.

    loss : {{"mse", "bce"}}, default="mse"
        Reconstruction loss per entry: squared error, or binary cross-entropy on a
        sigmoid output (needs training data scaled into [0, 1], e.g.
        ``preprocessing="minmax"``).

    preprocessing : {{"standard", "minmax"}} or None, default="{preprocessing}"
        Scaling learnt in ``fit`` and applied before the network: per-feature
        standardisation or min-max scaling into [0, 1]. Reconstructions are
        returned in the original units; errors and scores are measured in the
        scaled space, so that every feature counts alike. Constant features are
        left unscaled (scale 1).

    optimizer : {{"adam", "adamw", "sgd", "rmsprop"}} or torch optimizer class, \
default="adam"
        Optimiser of the network weights.

    learning_rate : float, default={learning_rate}
        Step size of the optimiser.

    weight_decay : float, default={weight_decay}
        L2 penalty passed to the optimiser.

    batch_size : int or "auto", default="auto"
        Rows per training batch; ``"auto"`` means ``min(200, n_samples)``.

    max_epochs : int, default={max_epochs}
        Maximum number of passes over the training data.

    early_stopping : bool, default={early_stopping}
        If True, hold out ``validation_fraction`` of the rows and stop when the
        validation loss has not improved by ``tol`` for ``n_iter_no_change`` epochs;
        the weights of the best epoch are restored. If False, training stops when
        the training loss has not improved by ``tol`` for ``n_iter_no_change``
        epochs, as in :class:`~sklearn.neural_network.MLPRegressor`.

    validation_fraction : float in (0, 1), default=0.1
        Share of the rows held out when ``early_stopping=True``.

    n_iter_no_change : int, default={n_iter_no_change}
        Epochs without improvement tolerated before stopping.

    tol : float, default={tol}
        Smallest loss decrease that counts as an improvement.

    warm_start : bool, default=False
        If True, ``fit`` on a fitted estimator continues training its network
        (weights and optimiser state) for ``max_epochs`` more epochs, keeping the
        fitted scaling, instead of starting a new network; ``n_iter_`` and
        ``loss_curve_`` keep accumulating. The parameters that define the network
        (its architecture, ``loss``, ``preprocessing``, ``early_stopping``) must be
        unchanged, or ``fit`` raises a ValueError; the optimiser settings
        (``optimizer``, ``learning_rate``, ``weight_decay``, ``batch_size``) of the
        first fit stay in force. As in
        :class:`~sklearn.neural_network.MLPRegressor`.

    partial_fit_epochs : int, default=1
        Epochs (passes over the chunk) that each ``partial_fit`` call trains.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation split.
        The same integer gives the same results on CPU. PyTorch's global random
        state is left as it was.

    device : {{"cpu", "cuda", "auto"}}, default="cpu"
        Where the network is trained and run; ``"auto"`` picks CUDA when available.

    verbose : {{0, 1, 2}}, default=0
        0 is silent, 1 shows a progress bar over epochs, 2 prints a table with one
        row per epoch.

    callbacks : list of skorch callbacks or None, default=None
        Extra :mod:`skorch.callbacks` instances (or ``(name, callback)`` pairs)
        attached to the training net, for power users."""

_FITTED_ATTRIBUTES = """\
n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column names.

    n_components_ : int
        Width of the code.

    scaler_ : StandardScaler, MinMaxScaler or None
        The fitted scaling, per ``preprocessing``.

    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch module and
        ``net_.history`` the per-epoch training record.

    n_iter_ : int
        Number of epochs run.

    loss_curve_ : list of float
        Mean training loss of each epoch.

    validation_scores_ : list of float
        Negative mean validation loss of each epoch, higher is better (only with
        ``early_stopping=True``).

    best_validation_score_ : float
        Largest entry of ``validation_scores_`` (only with ``early_stopping=True``)."""


_PARTIAL_FIT = """\
{summary}

        The first call (on an unfitted estimator) sets the input width, the scaling
        and the network from ``X``: the network's input width is fixed by this first
        chunk, and so is the scaling until more chunks arrive (``batch_size="auto"``
        also resolves from it). Each call first updates the scaling statistics with
        ``X`` (the incremental ``partial_fit`` of the scaler), then trains
        ``partial_fit_epochs`` epochs on ``X``. ``n_iter_`` and ``loss_curve_`` keep
        accumulating. A fitted estimator (from ``fit``) continues the same way.
        :class:`dask_ml.wrappers.Incremental` calls this method to train on a Dask
        array chunk by chunk.
{extra}
        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One chunk of training rows; every chunk must have the features of the
            first one.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : {cls}
            The estimator, trained on one more chunk.

        Notes
        -----
        The network is not re-mapped when a new chunk moves the scaling statistics:
        it sees the updated scaling from then on and adapts while it trains. The
        statistics settle after a few chunks, so large shifts happen only at the
        start; chunks drawn in random order (as ``Incremental`` does by default)
        keep them small. ``early_stopping=True`` holds out ``validation_fraction``
        of every chunk, and the stopping rule's patience restarts with every call.
        """


def _partial_fit_doc(cls: str, summary: str, extra: str = "") -> str:
    """The ``partial_fit`` docstring of estimator ``cls``."""
    return _PARTIAL_FIT.format(cls=cls, summary=summary, extra=extra)


def _fill_doc(**defaults):
    """Class decorator that fills ``{network_parameters}`` and ``{fitted_attributes}``."""

    def decorate(cls):
        cls.__doc__ = cls.__doc__.format(
            network_parameters=_NETWORK_PARAMETERS.format(**defaults),
            fitted_attributes=_FITTED_ATTRIBUTES,
        )
        return cls

    return decorate
