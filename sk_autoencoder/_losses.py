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

from ._data import _network_input, _Target

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


def _reconstruction_errors(module: nn.Module, batch: _Tensor, loss: str) -> _Tensor:
    """Per-entry loss of the network's reconstruction of a batch of scaled rows, NaN
    where an entry is missing: what every score and error scan is built from."""
    inputs, observed = _network_input(batch)
    errors = _elementwise_loss(module(inputs)[0], inputs, loss)
    return errors if observed is None else errors.masked_fill(~observed, math.nan)


def _observed_loss(reconstruction: _Tensor, target: _Target, loss: str):
    """Training loss of a batch with missing entries or weighted rows.

    The mean of the per-entry loss over the observed entries, each entry counting with
    its row's weight; and the (weighted) share of the batch's entries that are
    observed, None when all are. A penalty per row is divided by that share, so that
    the objective stays "the sum of the observed entries' losses and of the rows'
    penalties, per observed entry", as it is for complete rows.
    """
    errors = _LOSSES[loss].elementwise(reconstruction, target.values)
    weights, observed = target.weights, target.observed
    if observed is None:
        return (errors.mean(dim=1) * weights).sum() / weights.sum(), None
    mass = observed.to(errors.dtype)
    if weights is not None:
        mass = mass * weights[:, None]
    total = mass.sum()
    row_mass = mass.shape[1] * (mass.shape[0] if weights is None else weights.sum())
    return (errors * mass).sum() / total, total / row_mass


def _check_domain(chunks, loss: str) -> None:
    """Refuse scaled training rows (an iterable of chunks; NaN marks a missing entry)
    outside the range that ``loss`` is defined on."""
    domain = _LOSSES[loss].domain
    if domain is None:
        return
    low, high = domain
    for chunk in chunks:
        observed = chunk[~torch.isnan(chunk)]
        if observed.numel() and (observed.min() < low or observed.max() > high):
            raise ValueError(
                f"loss={loss!r} needs scaled training data in [{low:g}, {high:g}]; "
                f"{_LOSSES[loss].domain_advice}."
            )


class _ReconstructionLoss(nn.Module):
    """skorch criterion: the mean of the per-entry loss over rows and features (over
    the observed entries, weighted by the rows' weights, for a :class:`_Target`)."""

    def __init__(self, loss: str = "mse") -> None:
        super().__init__()
        self.loss = loss

    def forward(self, reconstruction: _Tensor, target: _Tensor | _Target) -> _Tensor:
        if isinstance(target, _Target):
            return _observed_loss(reconstruction, target, self.loss)[0]
        return _LOSSES[self.loss].mean(reconstruction, target)
