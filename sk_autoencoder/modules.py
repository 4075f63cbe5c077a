"""PyTorch modules: encoders and decoders that the estimators train.

Every autoencoder module follows one small protocol so that the estimators and the
training net never need to know which network they hold:

- ``encode(X) -> code`` maps scaled rows to the code that ``transform`` returns;
- ``decode(code) -> reconstruction`` maps codes back to scaled rows;
- ``forward(X)`` returns a tuple whose first element is the reconstruction and whose
  further elements are whatever ``regularization`` needs (here: the code);
- ``regularization(X, reconstruction, *extras)`` (optional) returns the penalty added
  to the reconstruction loss during training, e.g. a sparsity or KL term: a tensor of
  one value per row (averaged with the rows' sample weights) or a scalar (added as it
  is, whatever the weights);
- ``posterior(X) -> (mean, log_variance)`` (optional) makes the module variational:
  the estimators then score rows by their ELBO and offer ``sample``;
- ``observe_input_range(X, reset)`` (optional, :class:`AutoencoderModule` has it) is
  called with the scaled rows of every training call (chunk by chunk) before training, and
  ``observe_code_range(X, reset)`` after it; the built-in networks clip the input of
  their hidden layers to those ranges (:meth:`AutoencoderModule.clip_input`,
  :meth:`AutoencoderModule.clip_code`);
- ``init_linear_path(X)`` (optional) is called once, on the scaled training rows,
  when a fresh network is trained with ``init="pca"``; with the rows' weights as
  ``sample_weight=`` too, if the fit is weighted and the method takes that argument.

A custom network written to this protocol can be passed to the estimators as
``module=MyNetwork`` (the class, not an instance). The estimator constructs it as
``MyNetwork(n_features=..., n_components=...)``, adding ``input_shape=...`` when that
parameter is set, and ``sparsity=...`` and ``contractive=...`` when the class
subclasses :class:`AutoencoderModule`, which implements those penalties for any
encoder. ``X`` is always 2-D ``(n_samples, n_features)`` and already scaled.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from numbers import Integral

import torch
from torch import nn

from . import _seeding
from ._data import _CHUNK_ROWS

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}


class _Dropout(nn.Dropout):
    """``nn.Dropout`` whose masks come from the fit's own generator (see ``_seeding``),
    so that fits in parallel threads stay reproducible."""

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return X
        return _seeding._dropout(X, self.p)


def _mlp(
    sizes: Sequence[int], activation: str, dropout: float, last_activation: bool
) -> nn.Sequential:
    """Stack of Linear layers; the activation follows every layer but maybe the last."""
    layers: list[nn.Module] = []
    n_layers = len(sizes) - 1
    for i in range(n_layers):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        is_last = i == n_layers - 1
        if not is_last or last_activation:
            if activation != "identity":
                layers.append(_ACTIVATIONS[activation]())
            if not is_last and dropout > 0:
                layers.append(_Dropout(dropout))
    return nn.Sequential(*layers)


def _jacobian_sq_norms(encode, X: torch.Tensor) -> torch.Tensor:
    """Squared Frobenius norm of the Jacobian of ``encode`` at each row of ``X``.

    Exact, by one backward pass per code unit: row ``i`` of ``d code[:, j].sum() / dX``
    is ``d code[i, j] / dX[i]`` because an encoder maps rows independently. Unlike
    ``torch.func.vmap(jacrev(...))``, this works for every layer, recurrent ones
    included (vmap has no batching rule for them). The graph is kept so the penalty
    can be trained through.
    """
    with torch.enable_grad(), torch.backends.cudnn.flags(enabled=False):
        # cuDNN's RNN kernels have no double backward; the native ones do.
        X = X.detach().requires_grad_(True)
        code = encode(X)
        norms = X.new_zeros(X.shape[0])
        for j in range(code.shape[1]):
            (grad,) = torch.autograd.grad(code[:, j].sum(), X, create_graph=True)
            norms = norms + grad.square().sum(dim=1)
    return norms


class AutoencoderModule(nn.Module):
    """Base class of the autoencoder modules: code penalties for any encoder.

    Subclasses define ``encode`` and ``decode`` (and may override ``forward``, whose
    first output must be the reconstruction and second the code). This class adds
    ``regularization``, the term the estimators' training net adds to the
    reconstruction loss:

    ``sparsity * mean(|code_i|) + contractive * ||d code_i / d x_i||_F^2``

    per row ``i`` (the training net averages it over the rows of a batch, with their
    sample weights).

    Parameters
    ----------
    sparsity : float, default=0.0
        Weight of the L1 penalty on the code (mean absolute activation).
    contractive : float, default=0.0
        Weight of the squared Frobenius norm of the encoder's Jacobian, averaged
        over rows (a contractive autoencoder).

    Examples
    --------
    A custom network for ``AutoencoderTransformer(module=...)``:

    >>> import torch
    >>> from torch import nn
    >>> from sk_autoencoder.modules import AutoencoderModule
    >>> class Linear(AutoencoderModule):
    ...     def __init__(self, n_features, n_components, sparsity=0.0, contractive=0.0):
    ...         super().__init__(sparsity=sparsity, contractive=contractive)
    ...         self.encoder = nn.Linear(n_features, n_components)
    ...         self.decoder = nn.Linear(n_components, n_features)
    ...     def encode(self, X):
    ...         return self.encoder(X)
    ...     def decode(self, code):
    ...         return self.decoder(code)
    >>> net = Linear(n_features=5, n_components=2, sparsity=0.1)
    >>> X = torch.ones(3, 5)
    >>> reconstruction, code = net(X)
    >>> penalty = net.regularization(X, reconstruction, code)  # one value per row
    >>> tuple(penalty.shape), bool((penalty >= 0).all())
    ((3,), True)
    """

    #: How the network reads a row, which decides what ``input_shape`` it takes:
    #: ``()`` for flat rows (no ``input_shape``), the names of the axes of one row
    #: (e.g. ``("channels", "height", "width")``) for a network that reshapes rows,
    #: or None for any ``input_shape`` whose product is ``n_features``.
    input_axes: tuple[str, ...] | None = None

    #: Whether a forward pass gives the same bits on any number of threads. Inference
    #: then lets the timing of its chunks choose the thread count (see
    #: ``_threads._TimedThreads``); otherwise the count follows from the network's
    #: size alone. False unless a subclass knows: convolutions split their sums by
    #: thread count.
    thread_invariant: bool = False

    def __init__(self, sparsity: float = 0.0, contractive: float = 0.0) -> None:
        super().__init__()
        self.sparsity = sparsity
        self.contractive = contractive

    @classmethod
    def default_input_shape(cls, n_features: int) -> tuple[int, ...] | None:
        """The ``input_shape`` used when the estimator's is None (None: not passed).

        Parameters
        ----------
        n_features : int
            Width of the rows.

        Returns
        -------
        input_shape : tuple of int or None
            The shape of one row, or None to construct the network without one.
        """
        return None

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, X: torch.Tensor) -> tuple[torch.Tensor, ...]:
        code = self.encode(X)
        return self.decode(code), code

    def _register_range(self, name: str, width: int) -> None:
        """Create the buffers ``{name}_low`` and ``{name}_high`` of a per-column range:
        the whole float32 line until observed."""
        big = torch.finfo(torch.float32).max
        self.register_buffer(f"{name}_low", torch.full((width,), -big))
        self.register_buffer(f"{name}_high", torch.full((width,), big))

    def _widen_range(self, name: str, low, high, reset: bool) -> None:
        """Set the range ``name`` to ``[low, high]``, or widen it to hold them."""
        old_low, old_high = getattr(self, f"{name}_low"), getattr(self, f"{name}_high")
        low, high = low.to(old_low), high.to(old_high)
        if not reset:
            low, high = torch.minimum(low, old_low), torch.maximum(high, old_high)
        old_low.copy_(low)
        old_high.copy_(high)

    def _register_input_range(self, n_features: int) -> None:
        """Create the buffers of the per-feature training range that
        :meth:`clip_input` clips to."""
        self._register_range("input", n_features)

    @torch.no_grad()
    def observe_input_range(self, X: torch.Tensor, reset: bool = False) -> None:
        """Widen the range that :meth:`clip_input` clips to so that it holds ``X``.

        A no-op for modules without the range (a subclass opts in by calling
        ``self._register_input_range(n_features)`` in its constructor).

        Parameters
        ----------
        X : Tensor of shape (n_samples, n_features)
            Scaled training rows.
        reset : bool, default=False
            If True, the range becomes exactly that of ``X`` (a fresh network).
        """
        if not hasattr(self, "input_low") or len(X) == 0:
            return
        self._widen_range("input", X.amin(dim=0), X.amax(dim=0), reset)

    def _register_code_range(self, n_components: int) -> None:
        """Create the buffers of the per-unit range of the training rows' codes that
        :meth:`clip_code` clips to."""
        self._register_range("code", n_components)

    @torch.no_grad()
    def observe_code_range(self, X: torch.Tensor, reset: bool = False) -> None:
        """Widen the range that :meth:`clip_code` clips to so that it holds the codes
        of ``X`` (a no-op for modules without the range).

        Parameters
        ----------
        X : Tensor of shape (n_samples, n_features)
            Scaled training rows, encoded in chunks by the module as it is.
        reset : bool, default=False
            If True, the range becomes exactly that of the codes of ``X``.
        """
        if not hasattr(self, "code_low") or len(X) == 0:
            return
        codes = [self.encode(chunk) for chunk in X.split(_CHUNK_ROWS)]
        low = torch.stack([c.amin(dim=0) for c in codes]).amin(dim=0)
        high = torch.stack([c.amax(dim=0) for c in codes]).amax(dim=0)
        self._widen_range("code", low, high, reset)

    def clip_code(self, code: torch.Tensor) -> torch.Tensor:
        """``code`` with each unit clipped to the range of the training rows' codes
        (``code`` itself for modules without the range).

        Parameters
        ----------
        code : Tensor of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        code_clipped : Tensor of shape (n_samples, n_components)
            The clipped codes, or ``code``.
        """
        if not hasattr(self, "code_low"):
            return code
        return torch.clamp(code, self.code_low, self.code_high)

    def clip_input(self, X: torch.Tensor) -> torch.Tensor:
        """``X`` with each feature clipped to the range seen in training.

        The hidden layers of the built-in networks see only values they were trained
        on, so a value far outside the training data (a near-constant column's rare
        value, noise) cannot drive them to extrapolate; the estimators still measure
        errors against the unclipped rows. ``X`` itself for modules without the range.

        Parameters
        ----------
        X : Tensor of shape (n_samples, n_features)
            Scaled rows.

        Returns
        -------
        X_clipped : Tensor of shape (n_samples, n_features)
            The clipped rows (a new tensor), or ``X``.
        """
        if not hasattr(self, "input_low"):
            return X
        return torch.clamp(X, self.input_low, self.input_high)

    def regularization(self, X, reconstruction, code, *extras) -> torch.Tensor:
        if not (self.sparsity or self.contractive):
            return reconstruction.new_zeros(())  # nothing to weigh
        penalty = reconstruction.new_zeros(reconstruction.shape[0])
        if self.sparsity:
            penalty = penalty + self.sparsity * code.abs().mean(dim=1)
        if self.contractive:
            penalty = penalty + self.contractive * _jacobian_sq_norms(self.encode, X)
        return penalty


class _DenseLayers(AutoencoderModule):
    """The fully connected encoder and mirrored decoder of the dense networks."""

    input_axes = ()
    # Matrix products of many rows split their work over rows, not over the sums of
    # one output (tests/test_threads.py checks it for every dense configuration).
    thread_invariant = True

    def _build_layers(
        self,
        n_features: int,
        n_components: int,
        encoder_width: int,
        hidden_layer_sizes: Sequence[int],
        activation: str,
        dropout: float,
        output_activation: str,
    ) -> None:
        """The encoder ``n_features -> hidden... -> encoder_width`` and its mirror, the
        decoder ``n_components -> reversed(hidden)... -> n_features``, then the output
        activation."""
        hidden = list(hidden_layer_sizes)
        self._register_input_range(n_features)
        self.encoder = _mlp(
            [n_features, *hidden, encoder_width], activation, dropout, last_activation=False
        )
        self.decoder = _mlp(
            [n_components, *reversed(hidden), n_features],
            activation,
            dropout,
            last_activation=False,
        )
        self.output_activation = _ACTIVATIONS[output_activation]()

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        return self.output_activation(self.decoder(code))


class DenseAutoencoder(_DenseLayers):
    """Fully connected encoder and mirrored decoder, optionally beside a linear path.

    The encoder maps ``n_features -> hidden_layer_sizes... -> n_components``; the
    decoder mirrors it. The code layer is linear (no activation), so that with
    ``activation="identity"`` the whole network is a linear autoencoder whose optimum
    spans PCA's subspace. The hidden layers see the input clipped to the range of
    the training rows (:meth:`~AutoencoderModule.clip_input`).

    With ``linear_path=True`` a linear map runs beside each half: the code is
    ``A x + b + encoder(clip(x))`` and the reconstruction ``C code + d +
    decoder(code)``. The last layers of ``encoder`` and ``decoder`` start at zero,
    and :meth:`init_linear_path` sets the linear maps to PCA's solution of the
    training rows, so that training starts from PCA and the hidden layers learn
    what a linear map cannot. With ``hidden_layer_sizes=()`` the network is the
    linear path alone.

    At inference, a row outside the training range is split into its clipped part
    (:meth:`~AutoencoderModule.clip_input`), which goes through the trained network,
    and what lies beyond, which goes through the linear map the encoder *started*
    from (PCA's axes, after :meth:`init_linear_path`); the code likewise, beyond the
    range of the training rows' codes (:meth:`~AutoencoderModule.clip_code`), through
    PCA's decoder (those axes' transpose). Rows inside the ranges are unaffected. A
    row far out is then reconstructed as PCA would reconstruct it, plus a difference
    that stops growing at the edge of the range: maps that training moved slightly
    from PCA's solution would otherwise multiply that move by the row's distance.

    Parameters
    ----------
    n_features : int
        Width of the input rows.
    n_components : int
        Width of the code.
    hidden_layer_sizes : sequence of int, default=(100,)
        Widths of the encoder's hidden layers; the decoder uses them reversed.
    activation : str, default="relu"
        One of ``"relu"``, ``"leaky_relu"``, ``"elu"``, ``"gelu"``, ``"tanh"``,
        ``"sigmoid"``, ``"identity"``.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    output_activation : {"identity", "sigmoid"}, default="identity"
        Applied to the reconstruction; ``"sigmoid"`` suits a binary cross-entropy loss.
    sparsity, contractive : float, default=0.0
        Penalty weights, see :class:`AutoencoderModule`.
    linear_path : bool, default=False
        Add the linear maps beside the hidden layers (``init="pca"`` of the
        estimators).

    Examples
    --------
    >>> import torch
    >>> from sk_autoencoder.modules import DenseAutoencoder
    >>> ae = DenseAutoencoder(n_features=8, n_components=2, hidden_layer_sizes=(4,))
    >>> reconstruction, code = ae(torch.zeros(3, 8))
    >>> tuple(reconstruction.shape), tuple(code.shape)
    ((3, 8), (3, 2))

    Starting from PCA:

    >>> X = torch.randn(100, 8)
    >>> ae = DenseAutoencoder(8, 2, hidden_layer_sizes=(4,), linear_path=True)
    >>> ae.init_linear_path(X)
    >>> from sklearn.decomposition import PCA
    >>> pca = PCA(2).fit(X.numpy())
    >>> pca_rec = pca.inverse_transform(pca.transform(X.numpy()))
    >>> bool(torch.allclose(ae(X)[0], torch.from_numpy(pca_rec), atol=1e-4))
    True
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str = "relu",
        dropout: float = 0.0,
        output_activation: str = "identity",
        sparsity: float = 0.0,
        contractive: float = 0.0,
        linear_path: bool = False,
    ) -> None:
        super().__init__(sparsity=sparsity, contractive=contractive)
        self._build_layers(
            n_features,
            n_components,
            n_components,
            hidden_layer_sizes,
            activation,
            dropout,
            output_activation,
        )
        self.linear_path = linear_path
        if linear_path:
            self.encoder_linear = nn.Linear(n_features, n_components)
            self.decoder_linear = nn.Linear(n_components, n_features)
            if hidden_layer_sizes:
                self._zero_correction()
                # The linear path's codes are unbounded; the decoder's hidden layers
                # see them clipped to the training rows' range.
                self._register_code_range(n_components)
                # The encoder's starting map, PCA's axes once init_linear_path sets
                # it: what rows beyond the training range extrapolate along, and (its
                # transpose, PCA's decoder) codes beyond the range of the codes.
                self.register_buffer("start_axes", self.encoder_linear.weight.detach().clone())
            else:
                # Without hidden layers the linear path is the whole network.
                self.encoder = self.decoder = None

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        if not self.linear_path:
            return self.encoder(self.clip_input(X))
        if self.encoder is None:
            return self.encoder_linear(X)
        clipped = self.clip_input(X)
        if self.training:
            # The training rows are inside the range (a continued fit's new rows may
            # not be): the trained maps learn from them as they are.
            return self.encoder_linear(X) + self.encoder(clipped)
        beyond = (X - clipped) @ self.start_axes.T
        return self.encoder_linear(clipped) + self.encoder(clipped) + beyond

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        if not self.linear_path:
            return self.output_activation(self.decoder(code))
        if self.decoder is None:
            return self.output_activation(self.decoder_linear(code))
        if self.training:
            # Not clipped while training: the range is that of an earlier call's codes
            # (partial_fit) or not yet observed (fit).
            return self.output_activation(self.decoder_linear(code) + self.decoder(code))
        clipped = self.clip_code(code)
        beyond = (code - clipped) @ self.start_axes
        return self.output_activation(
            self.decoder_linear(clipped) + self.decoder(clipped) + beyond
        )

    @torch.no_grad()
    def _zero_correction(self) -> None:
        """Zero the hidden layers' last weights: with a linear path, their output is
        then a zero correction to it (how a new network starts)."""
        for last in (self.encoder[-1], self.decoder[-1]):
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    @torch.no_grad()
    def init_linear_path(self, X: torch.Tensor, sample_weight: torch.Tensor | None = None) -> None:
        """Set the linear path to PCA's solution of ``X``.

        The encoder's map becomes the projection on the ``n_components`` leading
        principal axes of ``X`` (centred), the decoder's its transpose plus the
        mean, so that with the hidden layers still at zero the network's code and
        reconstruction are PCA's. With hidden layers, the maps are also kept as the
        starting maps that rows and codes beyond the training ranges extrapolate
        along at inference. Computed in float64 from the covariance matrix, over row
        chunks. Each axis's sign makes its largest loading positive, so the result
        does not depend on the eigensolver.

        Parameters
        ----------
        X : Tensor of shape (n_samples, n_features) or iterable of Tensor
            Scaled training rows, or chunks of them (read once).
        sample_weight : Tensor of shape (n_samples,), default=None
            Weight of each row (a row of weight 2 counts as two copies of it).
        """
        if not self.linear_path:
            raise ValueError("init_linear_path needs a network built with linear_path=True.")
        n_components = self.encoder_linear.out_features
        mean, axes = _principal_axes(X, n_components, sample_weight)
        weight = self.encoder_linear.weight
        axes = axes.to(weight)
        self.encoder_linear.weight.copy_(axes)
        self.encoder_linear.bias.copy_(-(axes @ mean.to(weight)))
        self.decoder_linear.weight.copy_(axes.T)
        self.decoder_linear.bias.copy_(mean.to(weight))
        if self.encoder is not None:
            self.start_axes.copy_(axes)


def _principal_axes(
    X, n_components: int, sample_weight: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and the ``n_components`` leading principal axes (rows) of the rows ``X``
    (a tensor, or an iterable of row chunks read once), in float64, each row
    counting ``sample_weight`` times (all once if None).

    Axes beyond the rank of ``X`` (more components than features or rows) are
    zero, so their codes are zero."""
    chunks = X.split(_CHUNK_ROWS) if isinstance(X, torch.Tensor) else X
    total = gram = None
    n_rows = 0.0
    start = 0
    for chunk in chunks:
        chunk = chunk.double()
        if total is None:
            total = chunk.new_zeros(chunk.shape[1])
            gram = chunk.new_zeros((chunk.shape[1], chunk.shape[1]))
        if sample_weight is None:
            weighted = chunk
            n_rows += len(chunk)
        else:
            w = sample_weight[start : start + len(chunk)].to(chunk)
            weighted = chunk * w[:, None]
            n_rows += float(w.sum())
        start += len(chunk)
        total += weighted.sum(dim=0)
        gram += weighted.T @ chunk
    n_features = total.shape[0]
    # Weights need not sum to 1 or more: only an empty table has no mean.
    mean = total / n_rows if n_rows > 0 else total
    # One pass over the rows: the scaled rows are centred or near it, so the
    # cancellation in X'X - n m m' costs little precision in float64.
    cov = gram - n_rows * torch.outer(mean, mean)
    eigenvalues, eigenvectors = torch.linalg.eigh(cov)
    order = torch.argsort(eigenvalues, descending=True)[:n_components]
    axes = eigenvectors[:, order].T
    signs = torch.sign(axes.gather(1, axes.abs().argmax(dim=1, keepdim=True)))
    axes = axes * torch.where(signs == 0, 1.0, signs)
    if n_components > n_features:
        axes = torch.cat([axes, axes.new_zeros((n_components - n_features, n_features))])
    return mean, axes


def gaussian_kl(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """Per-row ``KL(N(mean, diag(exp(log_var))) || N(0, I))``, in nats.

    Parameters
    ----------
    mean, log_var : Tensor of shape (n_samples, n_components)
        Parameters of a diagonal Gaussian posterior.

    Returns
    -------
    kl : Tensor of shape (n_samples,)
        ``0.5 * sum(mean**2 + exp(log_var) - log_var - 1)`` over components.

    Examples
    --------
    >>> import torch
    >>> from sk_autoencoder.modules import gaussian_kl
    >>> gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3)).tolist()
    [0.0, 0.0]
    """
    return 0.5 * (mean.square() + log_var.exp() - log_var - 1.0).sum(dim=1)


class VariationalAutoencoder(_DenseLayers):
    """Dense variational autoencoder (Kingma & Welling, 2014).

    The encoder outputs the mean and log-variance of a diagonal Gaussian posterior
    ``q(z | x)``; training decodes a draw ``z = mean + exp(log_var / 2) * eps`` (the
    reparameterisation trick) and adds ``beta * KL(q(z | x) || N(0, I)) / n_features``
    to the per-entry reconstruction loss, so that with ``beta=1`` the training loss
    is the negative ELBO per feature (up to a constant). ``encode`` returns the
    posterior mean; out of training mode ``forward`` decodes the mean.

    Parameters
    ----------
    n_features, n_components, hidden_layer_sizes, activation, dropout, \
output_activation
        As in :class:`DenseAutoencoder`.
    beta : float, default=1.0
        Weight of the KL term (a beta-VAE for ``beta != 1``).
    sparsity, contractive : float, default=0.0
        Penalty weights on the posterior mean, see :class:`AutoencoderModule`.

    Examples
    --------
    >>> import torch
    >>> from sk_autoencoder.modules import VariationalAutoencoder
    >>> vae = VariationalAutoencoder(n_features=8, n_components=2, hidden_layer_sizes=(4,))
    >>> mean, log_var = vae.posterior(torch.zeros(3, 8))
    >>> tuple(vae.decode(mean).shape)
    (3, 8)
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str = "relu",
        dropout: float = 0.0,
        output_activation: str = "identity",
        beta: float = 1.0,
        sparsity: float = 0.0,
        contractive: float = 0.0,
    ) -> None:
        super().__init__(sparsity=sparsity, contractive=contractive)
        self.n_features = n_features
        self.beta = beta
        # Mean and log-variance heads on a shared trunk, as one linear map of width 2k.
        self._build_layers(
            n_features,
            n_components,
            2 * n_components,
            hidden_layer_sizes,
            activation,
            dropout,
            output_activation,
        )

    def posterior(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.encoder(self.clip_input(X)).chunk(2, dim=1)
        # Bounded so exp() stays finite early in training.
        return mean, log_var.clamp(-20.0, 20.0)

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        return self.posterior(X)[0]

    def forward(self, X: torch.Tensor) -> tuple[torch.Tensor, ...]:
        mean, log_var = self.posterior(X)
        z = mean
        if self.training:
            z = mean + (0.5 * log_var).exp() * _seeding._randn(mean)
        return self.decode(z), mean, log_var

    def regularization(self, X, reconstruction, mean, log_var) -> torch.Tensor:
        penalty = super().regularization(X, reconstruction, mean)
        return penalty + self.beta * gaussian_kl(mean, log_var) / self.n_features


def _conv_sizes(size: int, n_layers: int) -> list[int]:
    """Spatial sizes after each stride-2, kernel-3, padding-1 convolution."""
    sizes = [size]
    for _ in range(n_layers):
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


class ConvolutionalAutoencoder(AutoencoderModule):
    """Convolutional encoder and transposed-convolutional decoder for image rows.

    Rows arrive flattened (row-major, as ``image.reshape(-1)`` gives them) and are
    reshaped to ``input_shape`` inside. Each hidden layer is a 3x3 convolution of
    stride 2 (halving height and width, rounding up); a linear layer maps the last
    feature map to the code. The decoder mirrors this with transposed convolutions
    that restore the exact input size.

    Parameters
    ----------
    n_features : int
        Width of the input rows, ``prod(input_shape)``.
    n_components : int
        Width of the code.
    input_shape : tuple of int
        ``(channels, height, width)`` of one row.
    hidden_layer_sizes : sequence of int, default=(16, 32)
        Channels of the encoder's convolutions; the decoder uses them reversed.
    activation, dropout, output_activation, sparsity, contractive
        As in :class:`DenseAutoencoder`.

    Examples
    --------
    >>> import torch
    >>> from sk_autoencoder.modules import ConvolutionalAutoencoder
    >>> ae = ConvolutionalAutoencoder(n_features=64, n_components=4, input_shape=(1, 8, 8))
    >>> reconstruction, code = ae(torch.zeros(3, 64))
    >>> tuple(reconstruction.shape), tuple(code.shape)
    ((3, 64), (3, 4))
    """

    input_axes = ("channels", "height", "width")

    def __init__(
        self,
        n_features: int,
        n_components: int,
        input_shape: Sequence[int],
        hidden_layer_sizes: Sequence[int] = (16, 32),
        activation: str = "relu",
        dropout: float = 0.0,
        output_activation: str = "identity",
        sparsity: float = 0.0,
        contractive: float = 0.0,
    ) -> None:
        super().__init__(sparsity=sparsity, contractive=contractive)
        channels, height, width = input_shape
        if channels * height * width != n_features:
            raise ValueError(
                f"input_shape={tuple(input_shape)} holds {channels * height * width} "
                f"values but rows have n_features={n_features}."
            )
        self.input_shape = tuple(input_shape)
        self._register_input_range(n_features)
        hidden = list(hidden_layer_sizes) or [channels]
        heights = _conv_sizes(height, len(hidden))
        widths = _conv_sizes(width, len(hidden))
        self._map_shape = (hidden[-1], heights[-1], widths[-1])
        map_size = hidden[-1] * heights[-1] * widths[-1]

        def act(layers):
            if activation != "identity":
                layers.append(_ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(_Dropout(dropout))

        encoder: list[nn.Module] = []
        for c_in, c_out in zip([channels, *hidden[:-1]], hidden, strict=True):
            encoder.append(nn.Conv2d(c_in, c_out, 3, stride=2, padding=1))
            act(encoder)
        encoder += [nn.Flatten(), nn.Linear(map_size, n_components)]
        self.encoder = nn.Sequential(*encoder)

        decoder: list[nn.Module] = [nn.Linear(n_components, map_size)]
        act(decoder)
        decoder.append(nn.Unflatten(1, self._map_shape))
        outs = [*reversed(hidden[:-1]), channels]
        for i, (c_in, c_out) in enumerate(zip(reversed(hidden), outs, strict=True)):
            k = len(hidden) - i  # this layer restores heights[k - 1] from heights[k]
            padding = (heights[k - 1] - 2 * heights[k] + 1, widths[k - 1] - 2 * widths[k] + 1)
            decoder.append(
                nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=padding)
            )
            if i < len(hidden) - 1:  # the last layer outputs the image, linear
                act(decoder)
        decoder.append(nn.Flatten())
        self.decoder = nn.Sequential(*decoder)
        self.output_activation = _ACTIVATIONS[output_activation]()

    @classmethod
    def default_input_shape(cls, n_features: int) -> tuple[int, ...]:
        """``(1, 1, n_features)``: a 1-D convolution along the features.

        Parameters
        ----------
        n_features : int
            Width of the rows.

        Returns
        -------
        input_shape : tuple of int
            ``(1, 1, n_features)``.
        """
        return (1, 1, n_features)

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        return self.encoder(self.clip_input(X).reshape(X.shape[0], *self.input_shape))

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        return self.output_activation(self.decoder(code))


class RecurrentAutoencoder(AutoencoderModule):
    """GRU sequence autoencoder for rows that are windows of a multivariate series.

    Rows arrive flattened as ``window.reshape(-1)`` of a ``(timesteps, n_channels)``
    window (what :func:`sk_autoencoder.make_windows` returns). A stack of GRUs reads
    the window; a linear layer maps the last hidden state to the code. The decoder
    feeds the code, mapped to the first decoder width, to a GRU stack at every step
    and maps each step's output back to the channels.

    Parameters
    ----------
    n_features : int
        Width of the input rows, ``timesteps * n_channels``.
    n_components : int
        Width of the code.
    input_shape : tuple of int
        ``(timesteps, n_channels)`` of one row.
    hidden_layer_sizes : sequence of int, default=(32,)
        Hidden sizes of the stacked encoder GRUs; the decoder uses them reversed.
    activation : str, default="relu"
        Applied to the decoder's input projection.
    dropout, output_activation, sparsity, contractive
        As in :class:`DenseAutoencoder`; dropout acts between stacked GRUs.

    Examples
    --------
    >>> import torch
    >>> from sk_autoencoder.modules import RecurrentAutoencoder
    >>> ae = RecurrentAutoencoder(n_features=20, n_components=3, input_shape=(10, 2))
    >>> reconstruction, code = ae(torch.zeros(4, 20))
    >>> tuple(reconstruction.shape), tuple(code.shape)
    ((4, 20), (4, 3))
    """

    input_axes = ("timesteps", "n_channels")

    def __init__(
        self,
        n_features: int,
        n_components: int,
        input_shape: Sequence[int],
        hidden_layer_sizes: Sequence[int] = (32,),
        activation: str = "relu",
        dropout: float = 0.0,
        output_activation: str = "identity",
        sparsity: float = 0.0,
        contractive: float = 0.0,
    ) -> None:
        super().__init__(sparsity=sparsity, contractive=contractive)
        timesteps, n_channels = input_shape
        if timesteps * n_channels != n_features:
            raise ValueError(
                f"input_shape={tuple(input_shape)} holds {timesteps * n_channels} values "
                f"but rows have n_features={n_features}."
            )
        self.input_shape = (int(timesteps), int(n_channels))
        self._register_input_range(n_features)
        hidden = list(hidden_layer_sizes) or [n_components]
        self.encoder_rnns = nn.ModuleList(
            nn.GRU(size_in, size_out, batch_first=True)
            for size_in, size_out in zip([n_channels, *hidden[:-1]], hidden, strict=True)
        )
        self.to_code = nn.Linear(hidden[-1], n_components)
        rev = list(reversed(hidden))
        self.from_code = nn.Sequential(
            nn.Linear(n_components, rev[0]),
            _ACTIVATIONS[activation]() if activation != "identity" else nn.Identity(),
        )
        self.decoder_rnns = nn.ModuleList(
            nn.GRU(size_in, size_out, batch_first=True)
            for size_in, size_out in zip([rev[0], *rev[:-1]], rev, strict=True)
        )
        self.to_channels = nn.Linear(rev[-1], n_channels)
        self.dropout = _Dropout(dropout) if dropout > 0 else nn.Identity()
        self.output_activation = _ACTIVATIONS[output_activation]()

    @classmethod
    def default_input_shape(cls, n_features: int) -> tuple[int, ...]:
        """``(n_features, 1)``: a univariate sequence.

        Parameters
        ----------
        n_features : int
            Width of the rows.

        Returns
        -------
        input_shape : tuple of int
            ``(n_features, 1)``.
        """
        return (n_features, 1)

    def _run(self, rnns: nn.ModuleList, h: torch.Tensor) -> torch.Tensor:
        for i, rnn in enumerate(rnns):
            if i:
                h = self.dropout(h)
            h, _ = rnn(h)
        return h

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        rows = self.clip_input(X).reshape(X.shape[0], *self.input_shape)
        h = self._run(self.encoder_rnns, rows)
        return self.to_code(h[:, -1])

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        steps = self.from_code(code).unsqueeze(1).expand(-1, self.input_shape[0], -1)
        h = self._run(self.decoder_rnns, steps)
        return self.output_activation(self.to_channels(h).reshape(code.shape[0], -1))


# The built-in networks behind the ``architecture`` parameter.
_ARCHITECTURES: dict[str, type[AutoencoderModule]] = {
    "dense": DenseAutoencoder,
    "variational": VariationalAutoencoder,
    "convolutional": ConvolutionalAutoencoder,
    "recurrent": RecurrentAutoencoder,
}


# A sequence longer than this, from the default input_shape (None), warns: a recurrent
# network runs its steps one after another, so training time grows with the length,
# and its gradients rarely carry information across more than a few hundred steps.
_LONG_DEFAULT_SEQUENCE = 1000


def _warn_long_default_sequence(module_cls: type, input_shape, n_features: int, name: str):
    """Warn when ``input_shape=None`` makes ``module_cls`` read each row as a sequence of
    more than ``_LONG_DEFAULT_SEQUENCE`` steps (wide tables under
    ``architecture="recurrent"``)."""
    axes = getattr(module_cls, "input_axes", None) or ()
    if input_shape is not None or "timesteps" not in axes:
        return
    shape = _resolve_input_shape(module_cls, None, n_features, name)
    steps = shape[axes.index("timesteps")]
    if steps > _LONG_DEFAULT_SEQUENCE:
        warnings.warn(
            f"{name} reads each row of {n_features} features as a sequence of {steps} "
            f"steps (input_shape=None means {shape}). Its steps run one after another, so "
            "training will be slow, and a recurrent network rarely learns across that many "
            "steps. Give input_shape=(timesteps, n_channels) for a multivariate series "
            "(sk_autoencoder.make_windows builds such rows), or use architecture='dense' "
            "for a table.",
            UserWarning,
            stacklevel=7,  # the caller of fit or partial_fit
        )


def _resolve_input_shape(module_cls: type, input_shape, n_features: int, name: str):
    """``input_shape`` checked against the rules ``module_cls`` declares
    (``input_axes``, ``default_input_shape``) and the width of the rows; None where
    the network is built without one. ``name`` names the network in messages (e.g.
    ``"architecture='dense'"``)."""
    axes = getattr(module_cls, "input_axes", None)
    if input_shape is None:
        default = getattr(module_cls, "default_input_shape", None)
        return None if default is None else default(n_features)
    if axes == ():
        shaped = [repr(a) for a, cls in _ARCHITECTURES.items() if cls.input_axes]
        message = (
            f"input_shape={input_shape!r} is only used by architecture="
            f"{' or '.join(shaped)} (or a custom module); {name} reads flat rows."
        )
        if hasattr(module_cls, "posterior"):
            message += (
                f" {name} is a dense variational network: for a variational "
                "convolutional or recurrent network, pass a custom module with a "
                "posterior method (see sk_autoencoder.modules)."
            )
        raise ValueError(message)
    shape = tuple(input_shape)
    if not shape or not all(
        isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in shape
    ):
        raise ValueError(f"input_shape must be a tuple of positive integers, got {shape!r}.")
    if axes is not None and len(shape) != len(axes):
        raise ValueError(f"{name} needs input_shape=({', '.join(axes)}), got {shape!r}.")
    if math.prod(shape) != n_features:
        raise ValueError(
            f"input_shape={shape!r} holds {math.prod(shape)} values per row, but X "
            f"has {n_features} features; the product of input_shape must equal "
            "n_features."
        )
    return tuple(int(s) for s in shape)
