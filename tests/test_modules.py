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


# ------------------------------------------------------------ ranges, linear path
def test_linear_path_starts_at_pca_and_handles_more_components_than_features():
    import torch
    from sklearn.decomposition import PCA

    rng = np.random.RandomState(0)
    X = torch.from_numpy((rng.normal(size=(80, 6)) @ rng.normal(size=(6, 6)) + 3).astype("f4"))
    ae = DenseAutoencoder(6, 3, hidden_layer_sizes=(5,), linear_path=True)
    ae.init_linear_path(X)
    pca = PCA(3).fit(X.numpy())
    code = ae.encode(X).detach().numpy()
    # The codes are PCA's scores, each axis with its largest loading positive.
    signs = np.sign(pca.components_[np.arange(3), np.abs(pca.components_).argmax(axis=1)])
    np.testing.assert_allclose(code, pca.transform(X.numpy()) * signs, atol=1e-4)
    # Axes beyond the rank are zero: a code wider than the rows reconstructs exactly.
    wide = DenseAutoencoder(6, 8, hidden_layer_sizes=(), linear_path=True)
    wide.init_linear_path(X)
    assert wide.encoder is None and wide.decoder is None
    np.testing.assert_allclose(wide(X)[0].detach().numpy(), X.numpy(), atol=1e-4)
    np.testing.assert_array_equal(wide.encoder_linear.weight[6:].detach().numpy(), 0)
    with pytest.raises(ValueError, match="linear_path=True"):
        DenseAutoencoder(6, 2).init_linear_path(X)


def test_rows_beyond_the_training_range_extrapolate_along_the_starting_maps():
    import torch

    rng = np.random.RandomState(0)
    X = torch.from_numpy(rng.normal(size=(64, 4)).astype("f4"))
    ae = DenseAutoencoder(4, 2, hidden_layer_sizes=(6,), linear_path=True)
    ae.init_linear_path(X)
    start_encoder, start_decoder = (
        ae.encoder_linear.weight.clone(),
        ae.decoder_linear.weight.clone(),
    )
    with torch.no_grad():  # what training does: every map moves
        for p in ae.parameters():
            p.add_(0.1 * torch.randn_like(p))
    ae.observe_input_range(X, reset=True)
    ae.eval()
    ae.observe_code_range(X, reset=True)
    # The starting maps were PCA's: the decoder's is the encoder's transpose.
    assert torch.equal(start_decoder, start_encoder.T)
    assert torch.equal(ae.start_axes, start_encoder)
    inside = X[:5]
    # Inside the ranges, the trained network as it is.
    code = ae.encoder_linear(inside) + ae.encoder(inside)
    torch.testing.assert_close(ae.encode(inside), code)
    torch.testing.assert_close(
        ae.decode(code), ae.decoder_linear(code) + ae.decoder(ae.clip_code(code))
    )
    # Beyond them: the clipped part through the trained network, the rest through
    # the starting maps (worked out by hand for a row 1000 out in its first feature).
    far = inside[:1] + torch.tensor([[1000.0, 0.0, 0.0, 0.0]])
    clipped = ae.clip_input(far)
    code = ae.encoder_linear(clipped) + ae.encoder(clipped) + (far - clipped) @ start_encoder.T
    torch.testing.assert_close(ae.encode(far), code)
    code_clipped = ae.clip_code(code)
    assert not torch.equal(code_clipped, code)
    out = (
        ae.decoder_linear(code_clipped)
        + ae.decoder(code_clipped)
        + (code - code_clipped) @ start_decoder.T
    )
    torch.testing.assert_close(ae.decode(code), out)


def test_weighted_linear_path_is_pca_of_repeated_rows_whatever_the_weights_scale():
    import torch

    rng = np.random.RandomState(0)
    X = torch.from_numpy(rng.normal(size=(40, 5)) @ rng.normal(size=(5, 5)) + 3)
    counts = torch.from_numpy(rng.randint(1, 4, size=40)).double()
    repeated = DenseAutoencoder(5, 2, hidden_layer_sizes=(), linear_path=True).double()
    repeated.init_linear_path(X.repeat_interleave(counts.long(), dim=0))
    # Weights are relative: scaled so that they sum to far below one, the same start.
    for scale in (1.0, 1e-3 / counts.sum()):
        weighted = DenseAutoencoder(5, 2, hidden_layer_sizes=(), linear_path=True).double()
        weighted.init_linear_path(X, sample_weight=counts * scale)
        for name, value in repeated.state_dict().items():
            torch.testing.assert_close(weighted.state_dict()[name], value, msg=name)


def test_input_and_code_ranges_clip_the_hidden_layers_only():
    import torch

    X = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    ae = DenseAutoencoder(2, 1, hidden_layer_sizes=(4,), linear_path=True)
    far = torch.tensor([[10.0, -10.0]])
    # Unobserved: nothing is clipped.
    assert torch.equal(ae.clip_input(far), far)
    ae.observe_input_range(X, reset=True)
    assert torch.equal(ae.clip_input(far), torch.tensor([[2.0, 1.0]]))
    ae.observe_input_range(torch.tensor([[-1.0, 5.0]]))  # widened, not replaced
    assert ae.input_low.tolist() == [-1.0, 1.0] and ae.input_high.tolist() == [2.0, 5.0]
    ae.observe_code_range(X, reset=True)
    codes = ae.encode(X).detach()
    assert torch.equal(ae.code_low, codes.amin(dim=0))
    assert torch.equal(ae.code_high, codes.amax(dim=0))
    # Training: the linear path sees the row, the hidden layers the clipped row.
    expected = ae.encoder_linear(far) + ae.encoder(ae.clip_input(far))
    assert torch.allclose(ae.encode(far), expected)
    # A custom module that did not register the ranges passes rows through.
    grid = _Grid(2, 1, input_shape=(1, 2))
    grid.observe_input_range(X, reset=True)
    grid.observe_code_range(X, reset=True)
    assert torch.equal(grid.clip_input(far), far) and torch.equal(grid.clip_code(far), far)
    assert "input_low" not in grid.state_dict()
