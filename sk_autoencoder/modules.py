"""PyTorch modules: encoders and decoders that the estimators train.

Every autoencoder module follows one small protocol so that the estimators and the
training net never need to know which network they hold:

- ``encode(X) -> code`` maps scaled rows to the code that ``transform`` returns;
- ``decode(code) -> reconstruction`` maps codes back to scaled rows;
- ``forward(X)`` returns a tuple whose first element is the reconstruction and whose
  further elements are whatever ``regularization`` needs (here: the code);
- ``regularization(X, *outputs)`` (optional) returns a scalar added to the
  reconstruction loss during training, e.g. a sparsity or KL term.

A custom network written to this protocol can be passed to the estimators.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}


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
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class DenseAutoencoder(nn.Module):
    """Fully connected encoder and mirrored decoder.

    The encoder maps ``n_features -> hidden_layer_sizes... -> n_components``; the
    decoder mirrors it. The code layer is linear (no activation), so that with
    ``activation="identity"`` the whole network is a linear autoencoder whose optimum
    spans PCA's subspace.

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

    Examples
    --------
    >>> import torch
    >>> from sk_autoencoder.modules import DenseAutoencoder
    >>> ae = DenseAutoencoder(n_features=8, n_components=2, hidden_layer_sizes=(4,))
    >>> reconstruction, code = ae(torch.zeros(3, 8))
    >>> tuple(reconstruction.shape), tuple(code.shape)
    ((3, 8), (3, 2))
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str = "relu",
        dropout: float = 0.0,
        output_activation: str = "identity",
    ) -> None:
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.encoder = _mlp(
            [n_features, *hidden, n_components], activation, dropout, last_activation=False
        )
        self.decoder = _mlp(
            [n_components, *reversed(hidden), n_features],
            activation,
            dropout,
            last_activation=False,
        )
        self.output_activation = nn.Sigmoid() if output_activation == "sigmoid" else nn.Identity()

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        return self.encoder(X)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        return self.output_activation(self.decoder(code))

    def forward(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        code = self.encode(X)
        return self.decode(code), code
