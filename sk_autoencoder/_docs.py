"""Docstring pieces shared by the estimators, so each parameter is described once.

The choices of string parameters are read from the tables that define them (losses,
activations, optimisers, scalings, architectures), so the docs cannot drift.
"""

import textwrap

from ._callbacks import _LEARNING_RATE_SCHEDULES
from ._losses import _LOSSES
from ._optimizers import _OPTIMIZERS
from ._scaling import _PREPROCESSING
from .modules import _ACTIVATIONS, _ARCHITECTURES

_NETWORK_PARAMETERS = """\
n_components : int, default={n_components}
        Width of the code (the bottleneck). Values at or above ``n_features_in_``
        are allowed: such an over-complete network can learn the identity, which
        gives near-zero reconstruction error and little use as a feature extractor.

    hidden_layer_sizes : array-like of int or "auto", default={hidden_layer_sizes}
        Widths of the encoder's hidden layers, outermost first; the decoder mirrors
        them. ``()`` gives a single linear map on each side. ``"auto"`` chooses, for
        the dense network, between one hidden layer of 100 and two of 128 and 64 by
        ``check_start``'s cross-fit (the two layers only if their networks trained
        on each half of the rows reconstruct the other half better than the single
        layer's do, on both halves; one layer of 100 where there is no cross-fit:
        ``check_start=False``, ``init="random"``, ``noise``, ``partial_fit``), and
        the architecture's own default for the others. The widths used are
        ``hidden_layer_sizes_``.

    activation : {activation_choices}, default="relu"
        Activation of the hidden layers. The code layer is always linear, so
        ``activation="identity"`` gives a linear autoencoder, whose optimum spans
        the same subspace as :class:`~sklearn.decomposition.PCA`.

    dropout : float in [0, 1), default={dropout}
        Dropout probability after each hidden layer, during training only.

    init : {{"pca", "random"}}, default="{init}"
        How a new network starts. ``"pca"`` (``architecture="dense"``): a linear map
        runs beside the hidden layers of the encoder and of the decoder, set before
        training to :class:`~sklearn.decomposition.PCA`'s solution of the scaled
        training rows, while the hidden layers' last weights start at zero, so
        training starts from PCA's reconstruction and the hidden layers learn what
        a linear map cannot. If training ends with a larger reconstruction error on
        the training rows than that start (tables PCA already reconstructs almost
        exactly), the start is kept; not with ``noise``, ``sparsity`` or
        ``contractive``, whose objective is not the reconstruction error alone. The
        hidden layers see the input and the code clipped to their training ranges,
        and at inference what lies beyond those ranges goes through the linear
        path's starting maps, PCA's: a row far outside the training range is
        reconstructed as PCA would, plus a difference that stops growing at the
        edge of the range.
        The start and the comparison with it weigh the rows by ``sample_weight`` as
        training does, and see missing entries as the network does.
        ``"random"``: PyTorch's random initialisation of the network alone. Other
        architectures always start at random; a custom ``module`` with an
        ``init_linear_path(X)`` method is given the scaled training rows with
        ``"pca"``.

    check_start : bool or "conservative", default={check_start}
        With ``init="pca"`` (and no ``noise``), whether ``fit`` also checks on
        held-out rows that the trained network beats its PCA start: before it,
        networks with the same settings are trained on each half of the rows (a
        split seeded by ``random_state``; for each candidate of
        ``hidden_layer_sizes="auto"``), and each is measured on the other half
        against its own PCA start; unless the trained networks reconstruct the
        held-out halves better, the fitted network is set back to its start,
        PCA's reconstruction (``start_kept_``). This catches networks that fit
        their training rows better than PCA but new rows worse (small or nearly
        linear tables), at about twice the fit time per candidate;
        ``partial_fit`` and continued training do not check. ``"conservative"``:
        the same cross-fit, whose networks are also measured on their held-out
        halves every ``max_epochs / 20`` epochs; the fitted network stops training
        at the earliest of those epochs whose held-out error is within 3 standard
        errors (over the held-out rows) of the lowest, on the learning rates of the
        unstopped run, and keeps PCA's start where that is the start. A network
        then replaces PCA only where it beats it clearly: for users who need no
        worse than PCA more than a lower median error. Measured in the user guide's
        "How training converges".

    loss : {loss_choices}, default="mse"
        Reconstruction loss per entry, which training minimises and every score
        is built from:

{loss_descriptions}

    preprocessing : {preprocessing_choices} or None, default="{preprocessing}"
        Scaling learnt in ``fit`` and applied before the network; errors and scores
        are measured in the scaled space, and reconstructions are returned in the
        original units:

        - ``"standard"``: per-feature standardisation
          (:class:`~sklearn.preprocessing.StandardScaler`), so that every feature
          counts alike;
        - ``"global"``: each feature centred, every feature divided by one common
          scale (:class:`~sk_autoencoder.GlobalScaler`), so that errors are those in
          the data's own units, as PCA's are, and a feature that is almost always
          one value is not blown up by its tiny standard deviation;
        - ``"minmax"``: per-feature min-max scaling into [0, 1];
        - None: the rows as they are.

        Constant features are left unscaled (scale 1). With any scaling, the
        hidden layers of the built-in networks see their input clipped to the
        range of the training rows (errors are still measured against the
        unclipped rows), so that a value outside it cannot make them extrapolate
        wildly. Scaling is computed in float64 and its result cast
        to float32, the network's precision, so columns of any magnitude whose
        spread fits in float64 work (a column of 1e30s next to one of 1e-30s);
        columns whose spread overflows float64, or values beyond float32's range
        after scaling, raise ValueError. ``"minmax"`` treats a column whose range is
        below about 2e-15 as constant, as :class:`~sklearn.preprocessing.MinMaxScaler`
        does.

    optimizer : {optimizer_choices} or torch optimizer class, default="adam"
        Optimiser of the network weights.

    learning_rate : float, default={learning_rate}
        Step size of the optimiser (the initial one, under a schedule).

    learning_rate_schedule : {schedule_choices}, default="{learning_rate_schedule}"
        How the step size changes during training:

{schedule_descriptions}

    weight_decay : float, default={weight_decay}
        L2 penalty passed to the optimiser.

    batch_size : int or "auto", default="auto"
        Rows per training batch; ``"auto"`` means ``min(200, n_samples)``.

    max_epochs : int, default={max_epochs}
        Maximum number of passes over the training data.

    early_stopping : bool, default={early_stopping}
        If True, hold out ``validation_fraction`` of the rows and stop when the
        validation loss has not improved by ``tol`` for ``n_iter_no_change`` epochs;
        the weights of the epoch with the lowest validation loss are restored, by
        however little it led. If False, training stops when
        the training loss has not improved by ``tol`` for ``n_iter_no_change``
        epochs, as in :class:`~sklearn.neural_network.MLPRegressor`, except under
        ``learning_rate_schedule="cosine"``, which runs all ``max_epochs``: the
        schedule is the budget, and stopping while the rate is still high would
        skip the annealed epochs that converge.

    validation_fraction : float in (0, 1), default=0.1
        Share of the rows held out when ``early_stopping=True``.

    n_iter_no_change : int, default={n_iter_no_change}
        Epochs without improvement tolerated before stopping.

    tol : float, default={tol}
        Smallest loss decrease that counts as an improvement.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation split.
        The same integer gives the same results on CPU for the same torch thread
        count (the user guide's "Speed and threads" rule picks it from the work per
        step), also for fits running in parallel threads. PyTorch's global random
        state is left as it was.

    device : {{"cpu", "cuda", "mps", "auto"}} or str, default="cpu"
        Where the network is trained and run: any torch device string, such as
        ``"cuda:1"`` or ``"xpu"`` (``str(device)`` for a ``torch.device``);
        ``"auto"`` picks the first accelerator PyTorch finds (CUDA, then
        MPS, then XPU), else the CPU. ``fit`` raises a ValueError naming the device
        when PyTorch finds no such device, so a grid search over
        ``{{"device": ["cuda:0", "cuda:1"]}}`` can spread models over GPUs. A saved
        model loads on its device where that exists, else on the CPU.

    verbose : {{0, 1, 2}}, default=0
        0 is silent, 1 shows a progress bar over epochs, 2 prints a table with one
        row per epoch.

    callbacks : list of skorch callbacks or None, default=None
        Extra :mod:`skorch.callbacks` instances (or ``(name, callback)`` pairs)
        attached to the training net, for power users.

    noise : float >= 0, default={noise}
        Corruption of the training inputs, which makes a denoising autoencoder: the
        standard deviation of added Gaussian noise (at most 100 times the largest
        standard deviation of the scaled training features, beyond which nothing of
        the data survives), or the probability of zeroing each entry
        (``noise_type="masking"``, below 1). It is applied in the scaled
        space (after ``preprocessing``), to training batches only: targets,
        validation rows and every prediction use clean rows. Drawn from a
        generator seeded by ``random_state``. Missing entries (NaN) are 0 in the
        network's input under any noise, the value masking gives hidden entries;
        masking noise is what teaches the network to fill them in.

    noise_type : {{"gaussian", "masking"}}, default="{noise_type}"
        Kind of corruption set by ``noise``.

    sparsity : float >= 0, default=0.0
        Weight of an L1 penalty on the code (its mean absolute value), added to the
        training loss; pushes codes towards few active units (a sparse
        autoencoder).

    contractive : float >= 0, default=0.0
        Weight of the squared Frobenius norm of the encoder's Jacobian
        ``d code / d x``, averaged over rows and added to the training loss (a
        contractive autoencoder): codes become insensitive to small input changes.
        Computed exactly with one extra backward pass per code unit, so it costs
        about ``n_components`` times a plain training step.

    architecture : {architecture_choices}, default="dense"
        The network (see :mod:`sk_autoencoder.modules`):

        - ``"dense"``: fully connected layers of ``hidden_layer_sizes``.
        - ``"variational"``: a dense variational autoencoder. The encoder outputs
          the mean and log-variance of a Gaussian posterior ``q(z | x)``; training
          decodes a reparameterised draw and minimises the per-entry
          reconstruction loss plus ``beta * KL(q(z | x) || N(0, I)) /
          n_features``. ``transform`` returns the posterior mean and ``sample``
          generates new rows. ``score_samples`` returns each row's ELBO, ``-(sum
          over features of e_j) - KL - c``, where ``e_j`` is the per-entry loss
          expected under ``q(z | x)`` (the mean over 16 fixed posterior draws, the
          same for every row, so scores are deterministic), ``KL`` is in nats and
          ``c`` is ``n_features`` times the constant of the decoder likelihood
          that ``loss`` stands for:

{loss_likelihoods}

          It is thus a sum over features, not the mean that
          the other architectures report, and not comparable with their scores.
          Dense only: for a variational convolutional or recurrent network, pass
          a custom ``module`` with a ``posterior`` method.
        - ``"convolutional"``: for image rows of ``input_shape=(channels, height,
          width)``, flattened row-major. Stride-2 3x3 convolutions with
          ``hidden_layer_sizes`` channels, a linear code layer, and transposed
          convolutions back. Without ``input_shape``, rows are treated as
          ``(1, 1, n_features)``: a 1-D convolution along the features.
        - ``"recurrent"``: for rows that are windows of a multivariate series,
          ``input_shape=(timesteps, n_channels)``, flattened time-major (as
          :func:`~sk_autoencoder.make_windows` returns them). Stacked GRUs of
          ``hidden_layer_sizes`` encode; the code is fed to a GRU decoder at every
          step. Without ``input_shape``, rows are univariate sequences
          ``(n_features, 1)``; beyond 1,000 steps that warns (a table is then better
          served by ``"dense"``).

    beta : float > 0, default=1.0
        Weight of the KL term of ``architecture="variational"`` (a beta-VAE); with
        ``loss="mse"``, training with ``beta`` is training a Gaussian decoder of
        variance ``beta / 2``. Ignored by the other architectures.

    input_shape : tuple of int or None, default=None
        Shape of one row for ``architecture="convolutional"`` (``(channels, height,
        width)``) or ``"recurrent"`` (``(timesteps, n_channels)``); ``X`` stays 2-D
        and the network reshapes it. The product must equal ``n_features``. Passed
        on to a custom ``module`` when set; an error with the dense architectures.

    module : torch.nn.Module subclass or None, default=None
        A custom network class, used instead of ``architecture`` (which must stay
        ``"dense"``); ``hidden_layer_sizes``, ``activation``, ``dropout`` and
        ``beta`` are then not used. It is constructed as ``module(n_features=...,
        n_components=...)``, plus ``input_shape=...`` when set and ``sparsity=...,
        contractive=...`` when it subclasses
        :class:`~sk_autoencoder.modules.AutoencoderModule`, and must follow the
        protocol of :mod:`sk_autoencoder.modules`: ``encode``, ``decode``,
        ``forward`` returning ``(reconstruction, *extras)``, optional
        ``regularization`` and, for a variational model, ``posterior``.

    warm_start : bool, default=False
        If True, ``fit`` on a fitted estimator continues training its network
        (weights and optimiser state) for ``max_epochs`` more epochs, keeping the
        fitted scaling, instead of starting a new network; ``n_iter_`` and
        ``loss_curve_`` keep accumulating. The parameters the network was built
        with (its architecture, ``loss``, ``preprocessing``, ``early_stopping``,
        ``optimizer``, ``learning_rate_schedule``) must be unchanged, or ``fit``
        raises a ValueError; the settings of how to train (``learning_rate``,
        ``weight_decay``, ``batch_size``, ``noise``, ``noise_type``,
        ``n_iter_no_change``, ``tol``) are those set now, as in
        :class:`~sklearn.neural_network.MLPRegressor`, while the optimiser's state
        (Adam's moment estimates) carries over. ``partial_fit`` continues the same
        way.

    partial_fit_epochs : int, default=1
        Epochs (passes over the chunk) that each ``partial_fit`` call trains."""

_FITTED_ATTRIBUTES = """\
n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column names.

    n_components_ : int
        Width of the code.

    n_samples_seen_ : int
        Number of rows the estimator has processed, as in
        :class:`~sklearn.decomposition.IncrementalPCA`: ``fit`` sets it to the rows
        of ``X``; each ``partial_fit`` call (and a ``fit`` that continues training
        with ``warm_start=True``) adds the rows of its chunk.

    scaler_ : StandardScaler, GlobalScaler, MinMaxScaler or None
        The fitted scaling, per ``preprocessing``.

    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch module and
        ``net_.history`` the per-epoch training record.

    n_iter_ : int
        Number of epochs run (fewer than ``max_epochs`` where
        ``check_start="conservative"`` stopped the fit early).

    loss_curve_ : list of float
        Mean training loss of each epoch.

    hidden_layer_sizes_ : tuple of int
        Widths of the fitted network's hidden layers (those chosen with
        ``hidden_layer_sizes="auto"``).

    start_kept_ : bool
        Whether ``check_start`` set the fitted network back to its PCA start
        (False where it did not run, and after continued training).

    validation_scores_ : list of float
        Negative mean validation loss of each epoch, higher is better (only with
        ``early_stopping=True``).

    best_validation_score_ : float
        Largest entry of ``validation_scores_`` (only with ``early_stopping=True``)."""


_NOTES = """\
Input: numeric columns only, of any numeric or boolean dtype (pandas nullable
    dtypes included), as arrays, DataFrames or scipy sparse matrices (CSR, CSC or
    any format scikit-learn converts, and DataFrames whose columns are all sparse
    with fill value 0). DataFrame columns that are categorical, strings or other
    objects raise ValueError (encode them first, e.g. with
    :class:`~sklearn.compose.ColumnTransformer` and
    :class:`~sklearn.preprocessing.OneHotEncoder`); so does infinity. Inference
    works in batches of rows, so its memory stays near the size of the input plus
    the output; sparse rows are densified one batch at a time, in training as in
    inference, never as a whole.

    Missing values (NaN, pandas ``NA``) are part of the model, not filled in
    silently: the scaling statistics ignore them; the network sees a missing entry
    as 0 in the scaled space (the column's training mean with
    ``preprocessing="standard"``, its minimum with ``"minmax"``), the value masking
    noise gives the entries it hides; the training loss is the mean over the
    observed entries only, and a penalty per row (``sparsity``, ``contractive``,
    the variational KL term) is divided by the share of entries observed, so that
    the objective stays the sum of the observed losses and the penalties per
    observed entry. Scores are taken over a row's observed entries (the mean error;
    for a variational model the ELBO of the observed entries, whose constant ``c``
    counts those entries only), and reconstructions are complete rows. A row with
    every entry missing raises ValueError, as does, in the first ``fit`` or
    ``partial_fit``, a column with every entry missing.

    ``sample_weight`` weighs each row in the training loss (and its per-row
    penalties) and in the scaling statistics (``preprocessing="standard"``;
    positive weights do not move a min-max scaling), and in the detector the
    trimming and the quantiles behind ``offset_`` and ``feature_error_scale_``.
    Only the ratios of the weights matter: equal weights are exactly no weights,
    and a row of weight 0 is left out of fitting altogether, so it counts exactly
    as a dropped row. An integer weight ``k`` counts like ``k`` copies of the row
    in expectation: the objective is the same, while the mini-batches (and noise
    draws) differ, so a fit on repeated rows matches up to float32 rounding only
    when one batch holds every row.

    Interrupting ``fit`` (Ctrl-C, ``KeyboardInterrupt``) after at least one epoch
    keeps the weights of the best completed epoch (by validation loss with
    ``early_stopping=True``, training loss otherwise) and warns with
    :class:`~sk_autoencoder.exceptions.TrainingInterruptedWarning`; earlier, the
    interrupt propagates and the estimator is left as before ``fit``. Training that
    diverges raises :class:`~sk_autoencoder.TrainingDivergedError`, leaving the
    estimator as before: a loss or weight that stops being finite, or an epoch loss
    more than 100 times the larger of the untrained network's loss and the loss of
    predicting each feature's mean, for three epochs in a row or in the last epoch. A
    last epoch more than 10 times that reference warns with
    :class:`~sklearn.exceptions.ConvergenceWarning`.

    Scores are finite for every row the network accepts: rows whose errors overflow
    float32 (values around 1e19 and beyond, far from the training data) are scored
    again in float64 and rank as the most abnormal. ``transform`` and
    ``inverse_transform`` refuse input or codes whose network output would overflow
    float32, with a ``ValueError``.

    Reproducibility: the same ``random_state`` gives the same results on the CPU
    under the same number of torch threads (``torch.get_num_threads()``), also when
    several estimators are fitted in parallel threads; across thread counts, results
    may differ by float32 rounding. Fitting an estimator while another thread uses it
    is not supported, as in scikit-learn (which makes no thread-safety promise for
    it): fit a clone and swap it in. Concurrent ``transform`` and scoring calls on a
    fitted estimator are safe.

    Persistence: ``pickle``, ``joblib`` and :mod:`sk_autoencoder.persistence` (the
    ``skops.io`` format, which loads without running code from the file) all store
    the network as a portable record (network class, its arguments, weights as
    numpy arrays, history), so a model fitted on a GPU loads on a CPU-only machine.
    :func:`sk_autoencoder.persistence.load` trusts this estimator class and the
    network classes of :mod:`sk_autoencoder.modules`; other types a model refers to
    (a custom optimizer class or network, skorch callbacks) must be trusted
    explicitly. Loading under another major version of sk-autoencoder or PyTorch
    warns."""


_PARTIAL_FIT = """\
{summary}

        The first call (on an unfitted estimator) sets the input width, the scaling
        and the network from ``X``: the network's input width is fixed by this first
        chunk, and so is the scaling until more chunks arrive (``batch_size="auto"``
        also resolves from it). Each call first updates the scaling statistics with
        ``X`` (the incremental ``partial_fit`` of the scaler), then trains
        ``partial_fit_epochs`` epochs on ``X``. ``n_iter_``, ``loss_curve_`` and
        ``n_samples_seen_`` keep accumulating. A fitted estimator (from ``fit``)
        continues the same way. :class:`dask_ml.wrappers.Incremental` calls this
        method to train on a Dask array chunk by chunk.
{extra}
        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
            One chunk of training rows; every chunk must have the features of the
            first one.
        y : Ignored
            Not used, present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row of the chunk, as in :meth:`fit`.

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


def _choices(table) -> str:
    """``{"a", "b"}``: the keys of a table, as numpydoc writes a set of choices."""
    return "{" + ", ".join(f'"{name}"' for name in table) + "}"


def _bullets(items, indent: int) -> str:
    """``- "name": text.`` per ``(name, text)``, wrapped as numpydoc indents a list
    inside a parameter's description (``indent`` spaces before each dash)."""
    return "\n".join(
        textwrap.fill(
            f'- ``"{name}"``: {text}.',
            width=84,
            initial_indent=" " * indent,
            subsequent_indent=" " * (indent + 2),
        )
        for name, text in items
    )


def _table_defaults() -> dict[str, str]:
    """The docstring fields that come from the tables of string choices."""
    return {
        "activation_choices": _choices(_ACTIVATIONS),
        "loss_choices": _choices(_LOSSES),
        "loss_descriptions": _bullets(
            ((name, loss.description) for name, loss in _LOSSES.items()), indent=8
        ),
        "loss_likelihoods": _bullets(
            ((name, loss.likelihood) for name, loss in _LOSSES.items()), indent=10
        ),
        "optimizer_choices": _choices(_OPTIMIZERS),
        "preprocessing_choices": _choices(_PREPROCESSING),
        "schedule_choices": _choices(_LEARNING_RATE_SCHEDULES),
        "schedule_descriptions": _bullets(_LEARNING_RATE_SCHEDULES.items(), indent=8),
        "architecture_choices": _choices(_ARCHITECTURES),
    }


def _fill_doc(**defaults):
    """Class decorator that fills ``{network_parameters}``, ``{fitted_attributes}``
    and ``{notes}``."""

    def decorate(cls):
        cls.__doc__ = cls.__doc__.format(
            network_parameters=_NETWORK_PARAMETERS.format(**defaults, **_table_defaults()),
            fitted_attributes=_FITTED_ATTRIBUTES,
            notes=_NOTES,
        )
        return cls

    return decorate
