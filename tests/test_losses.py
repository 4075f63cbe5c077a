"""The loss table is the one source of every rule about a loss."""

import math

import numpy as np
import pytest
import torch

from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer
from sk_autoencoder._losses import _LOSSES, _elementwise_loss, _ReconstructionLoss
from sk_autoencoder.modules import _ACTIVATIONS

ESTIMATORS = [AutoencoderTransformer, AutoencoderAnomalyDetector]
SMALL = dict(n_components=2, hidden_layer_sizes=(8,), max_epochs=3, random_state=0)


def _pair(loss, shape=(7, 5), seed=0):
    """A reconstruction and a target inside ``loss``'s domain."""
    generator = torch.Generator().manual_seed(seed)
    low, high = _LOSSES[loss].domain or (-3.0, 3.0)
    reconstruction = low + (high - low) * torch.rand(shape, generator=generator)
    target = low + (high - low) * torch.rand(shape, generator=generator)
    if _LOSSES[loss].domain is not None:  # keep log() finite at the edges
        reconstruction = reconstruction.clamp(1e-3, 1 - 1e-3)
    return reconstruction, target


def test_elementwise_losses_against_hand_computed_values():
    reconstruction = torch.tensor([[0.25, 0.5, 0.9]])
    target = torch.tensor([[0.0, 1.0, 1.0]])
    np.testing.assert_allclose(
        _elementwise_loss(reconstruction, target, "mse").numpy(),
        [[0.0625, 0.25, 0.01]],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        _elementwise_loss(reconstruction, target, "bce").numpy(),
        [[-math.log(0.75), -math.log(0.5), -math.log(0.9)]],
        rtol=1e-6,
    )


@pytest.mark.parametrize("loss", sorted(_LOSSES))
def test_training_mean_is_the_mean_of_the_scored_errors(loss):
    # Training minimises the fused mean; scores read the elementwise loss: one quantity.
    reconstruction, target = _pair(loss)
    trained = _ReconstructionLoss(loss)(reconstruction, target)
    scored = _elementwise_loss(reconstruction, target, loss).mean()
    torch.testing.assert_close(trained, scored, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_constraints_and_docstrings_list_every_loss(Estimator):
    (options,) = Estimator._parameter_constraints["loss"]
    assert set(options.options) == set(_LOSSES)
    doc = Estimator.__doc__
    section = doc[doc.index("    loss : ") : doc.index("    preprocessing : ")]
    for name, loss in _LOSSES.items():
        assert f'``"{name}"``: {loss.description.split()[0]}' in section


@pytest.mark.parametrize("loss", sorted(_LOSSES))
@pytest.mark.parametrize("architecture", ["dense", "variational", "convolutional"])
def test_network_output_activation_comes_from_the_loss(loss, architecture):
    X = np.random.RandomState(0).uniform(size=(40, 6))
    model = AutoencoderTransformer(
        loss=loss, preprocessing="minmax", architecture=architecture, **SMALL
    ).fit(X)
    activation = _ACTIVATIONS[_LOSSES[loss].output_activation]
    assert type(model.net_.module_.output_activation) is activation


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_loss_domain_is_enforced_with_advice(Estimator):
    X = np.random.RandomState(0).normal(size=(40, 4))
    with pytest.raises(ValueError, match=r"loss='bce' needs scaled training data in \[0, 1\]"):
        Estimator(loss="bce", preprocessing="standard", **SMALL).fit(X)
    # In the domain, it trains.
    Estimator(loss="bce", preprocessing="minmax", **SMALL).fit(X)


@pytest.mark.parametrize("loss", sorted(_LOSSES))
def test_variational_elbo_uses_the_loss_likelihood_constant(loss):
    X = np.random.RandomState(0).uniform(size=(100, 5))
    det = AutoencoderAnomalyDetector(
        loss=loss, preprocessing="minmax", architecture="variational", **SMALL
    ).fit(X)
    with torch.no_grad():
        mean, log_var = det.net_.module_.posterior(
            torch.tensor(det.scaler_.transform(X[:20]), dtype=torch.float32)
        )
    kl = 0.5 * (mean**2 + log_var.exp() - log_var - 1).sum(dim=1).numpy()
    # Gaussian decoder of variance 1/2 for mse: log(pi) / 2 per entry; Bernoulli: 0.
    constant = {"mse": 0.5 * np.log(np.pi), "bce": 0.0}[loss]
    assert _LOSSES[loss].log_likelihood_constant == pytest.approx(constant)
    expected = -det.score_features(X[:20]).sum(axis=1) - kl - 5 * constant
    np.testing.assert_allclose(det.score_samples(X[:20]), expected, rtol=1e-5, atol=1e-5)
