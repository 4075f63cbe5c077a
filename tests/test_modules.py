"""Each network class carries its own ``input_shape`` rules."""

import numpy as np
import pytest
from torch import nn

from sk_autoencoder import AutoencoderTransformer
from sk_autoencoder.modules import (
    _ARCHITECTURES,
    AutoencoderModule,
    ConvolutionalAutoencoder,
    DenseAutoencoder,
    RecurrentAutoencoder,
    VariationalAutoencoder,
    _resolve_input_shape,
)


def test_built_in_rules():
    assert DenseAutoencoder.input_axes == () == VariationalAutoencoder.input_axes
    assert ConvolutionalAutoencoder.input_axes == ("channels", "height", "width")
    assert RecurrentAutoencoder.input_axes == ("timesteps", "n_channels")
    assert ConvolutionalAutoencoder.default_input_shape(12) == (1, 1, 12)
    assert RecurrentAutoencoder.default_input_shape(12) == (12, 1)
    assert DenseAutoencoder.default_input_shape(12) is None
    assert set(_ARCHITECTURES.values()) == {
        DenseAutoencoder,
        VariationalAutoencoder,
        ConvolutionalAutoencoder,
        RecurrentAutoencoder,
    }


class _Grid(AutoencoderModule):
    """A custom network that declares its own rules: rows are (rows, columns) grids,
    square by default."""

    input_axes = ("rows", "columns")

    @classmethod
    def default_input_shape(cls, n_features):
        side = int(round(n_features**0.5))
        return (side, n_features // side)

    def __init__(self, n_features, n_components, input_shape, sparsity=0.0, contractive=0.0):
        super().__init__(sparsity=sparsity, contractive=contractive)
        self.input_shape = input_shape
        self.encoder = nn.Linear(n_features, n_components)
        self.decoder = nn.Linear(n_components, n_features)

    def encode(self, X):
        return self.encoder(X)

    def decode(self, code):
        return self.decoder(code)


def test_custom_module_rules_are_read_from_the_class():
    X = np.random.RandomState(0).normal(size=(30, 16))
    model = AutoencoderTransformer(module=_Grid, max_epochs=1, random_state=0).fit(X)
    assert model.net_.module_.input_shape == (4, 4)
    model.set_params(input_shape=(2, 8)).fit(X)
    assert model.net_.module_.input_shape == (2, 8)
    with pytest.raises(ValueError, match=r"module=_Grid needs input_shape=\(rows, columns\)"):
        model.set_params(input_shape=(2, 2, 4)).fit(X)
    with pytest.raises(ValueError, match="holds 12 values per row, but X has 16 features"):
        model.set_params(input_shape=(3, 4)).fit(X)


def test_module_without_declared_rules_takes_any_matching_shape():
    class Plain(nn.Module):
        pass

    assert _resolve_input_shape(Plain, None, 12, "module=Plain") is None
    assert _resolve_input_shape(Plain, (2, 3, 2), 12, "module=Plain") == (2, 3, 2)
    with pytest.raises(ValueError, match="positive integers"):
        _resolve_input_shape(Plain, (0, 12), 12, "module=Plain")
