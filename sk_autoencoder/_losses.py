"""The reconstruction losses: one table that every use of a loss reads.

Each entry of :data:`_LOSSES` carries everything the estimators need to know about a
loss: its per-entry error (what training minimises and every score is built from),
the output activation the decoder needs, the range the scaled training data must lie
in, and the constant that turns the loss into a negative log-likelihood (the ELBO of
a variational model). Training, scoring, parameter validation, the docstrings and the
command line all read this table, so adding a loss is one entry here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

_Tensor = torch.Tensor


@dataclass(frozen=True)
class _Loss:
    """One reconstruction loss.

    Attributes
    ----------
    elementwise : callable
        ``(reconstruction, target) -> tensor`` of per-entry losses.
    mean : callable
        The mean of ``elementwise`` over all entries, as one fused kernel (training
        computes this on every batch).
    output_activation : str
        Key of ``modules._ACTIVATIONS`` applied to the decoder's output.
    domain : (float, float) or None
        Range the scaled training data must lie in; None for any value.
    domain_advice : str
        What to do when the training data leaves ``domain``.
    log_likelihood_constant : float
        Per entry, ``-log p(x | z) = loss + log_likelihood_constant`` for the
        decoder likelihood this loss corresponds to.
    description : str
        One sentence for the ``loss`` parameter's docstring.
    likelihood : str
        That decoder likelihood and its constant, for the docstrings.
    """

    elementwise: Callable[[_Tensor, _Tensor], _Tensor]
    mean: Callable[[_Tensor, _Tensor], _Tensor]
    output_activation: str
    domain: tuple[float, float] | None
    domain_advice: str
    log_likelihood_constant: float
    description: str
    likelihood: str


def _squared_error(reconstruction: _Tensor, target: _Tensor) -> _Tensor:
    return (reconstruction - target).square()


def _binary_cross_entropy(reconstruction: _Tensor, target: _Tensor) -> _Tensor:
    return F.binary_cross_entropy(reconstruction, target, reduction="none")


_LOSSES: dict[str, _Loss] = {
    "mse": _Loss(
        elementwise=_squared_error,
        mean=F.mse_loss,
        output_activation="identity",
        domain=None,
        domain_advice="",
        # A Gaussian decoder of variance 1/2: -log p = (x - mean)^2 + log(pi) / 2.
        log_likelihood_constant=0.5 * math.log(math.pi),
        description="squared error",
        likelihood=(
            "a Gaussian decoder of variance 1/2 in the scaled space, ``log(pi) / 2`` per entry"
        ),
    ),
    "bce": _Loss(
        elementwise=_binary_cross_entropy,
        mean=F.binary_cross_entropy,
        output_activation="sigmoid",
        domain=(0.0, 1.0),
        domain_advice="use preprocessing='minmax' or loss='mse'",
        # A Bernoulli decoder: -log p is the cross-entropy itself.
        log_likelihood_constant=0.0,
        description=(
            "binary cross-entropy on a sigmoid output (needs training data scaled "
            'into [0, 1], e.g. ``preprocessing="minmax"``)'
        ),
        likelihood="a Bernoulli decoder, 0",
    ),
}


def _elementwise_loss(reconstruction: _Tensor, target: _Tensor, loss: str) -> _Tensor:
    """Per-entry reconstruction loss ``loss``, the quantity every score is built from."""
    return _LOSSES[loss].elementwise(reconstruction, target)


def _check_domain(X: _Tensor, loss: str) -> None:
    """Refuse scaled training rows outside the range that ``loss`` is defined on."""
    domain = _LOSSES[loss].domain
    if domain is None:
        return
    low, high = domain
    if X.min() < low or X.max() > high:
        raise ValueError(
            f"loss={loss!r} needs scaled training data in [{low:g}, {high:g}]; "
            f"{_LOSSES[loss].domain_advice}."
        )


class _ReconstructionLoss(nn.Module):
    """skorch criterion: the mean of the per-entry loss over rows and features."""

    def __init__(self, loss: str = "mse") -> None:
        super().__init__()
        self.loss = loss

    def forward(self, reconstruction: _Tensor, target: _Tensor) -> _Tensor:
        return _LOSSES[self.loss].mean(reconstruction, target)
