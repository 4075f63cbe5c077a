"""What each training step does: the optimiser's implementation, the callbacks it
calls, the loss it adds up; the speed-ups must leave the training unchanged."""

import numpy as np
import pytest
import torch
from _shared import SMALL, SMALL_NET
from skorch.callbacks import Callback

from sk_autoencoder import AutoencoderTransformer
from sk_autoencoder._optimizers import _fused_on, _optimizer_kwargs
from sk_autoencoder.modules import DenseAutoencoder

X = np.random.RandomState(0).normal(size=(250, 6)) @ np.random.RandomState(1).normal(size=(6, 6))
FUSED_ON_CPU = _fused_on("cpu")


@pytest.mark.parametrize(
    "optimizer, expected",
    [
        ("adam", {"fused": True} if FUSED_ON_CPU else {"foreach": True}),
        ("adamw", {"fused": True} if FUSED_ON_CPU else {"foreach": True}),
        ("sgd", {"fused": True} if FUSED_ON_CPU else {"foreach": True}),
        ("rmsprop", {"foreach": True}),
        (torch.optim.Adam, {}),  # a class is built with its own defaults
    ],
)
def test_named_optimisers_are_built_fused_or_foreach(optimizer, expected):
    assert _optimizer_kwargs(optimizer, "cpu") == expected
    model = AutoencoderTransformer(**SMALL, optimizer=optimizer).fit(X)
    defaults = model.net_.optimizer_.defaults
    for key in ("fused", "foreach"):
        assert bool(defaults.get(key)) == bool(expected.get(key)), key


def test_fused_kernels_on_cuda():
    assert _optimizer_kwargs("adam", "cuda") == {"fused": True}
    assert _optimizer_kwargs("rmsprop", "cuda:0") == {"foreach": True}


@pytest.mark.parametrize(
    "name, cls, learning_rate", [("adam", torch.optim.Adam, 1e-2), ("sgd", torch.optim.SGD, 0.1)]
)
def test_fused_update_matches_torchs_default_loop(name, cls, learning_rate):
    # The same network and batches, trained with the named (fused or foreach)
    # optimiser and with the class torch builds by default (a Python loop over
    # parameters): the same update up to float32 rounding.
    # The former defaults (random start, constant rate, standardised): from
    # init="pca" there is little left to train.
    former = dict(init="random", learning_rate_schedule="constant", preprocessing="standard")
    params = dict(SMALL_NET, max_epochs=20, learning_rate=learning_rate, **former)
    fast = AutoencoderTransformer(**params, optimizer=name).fit(X)
    loop = AutoencoderTransformer(**params, optimizer=cls).fit(X)
    assert not loop.net_.optimizer_.defaults.get("fused")
    np.testing.assert_allclose(fast.loss_curve_, loop.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(fast.transform(X), loop.transform(X), rtol=1e-3, atol=1e-4)
    assert fast.loss_curve_[-1] < 0.8 * fast.loss_curve_[0]  # it did train


class _Counts(Callback):
    """Counts the per-step events it receives."""

    def initialize(self):
        self.counts_ = {"begin": 0, "end": 0, "grad": 0}
        return self

    def on_batch_begin(self, net, **kwargs):
        self.counts_["begin"] += 1

    def on_batch_end(self, net, **kwargs):
        self.counts_["end"] += 1

    def on_grad_computed(self, net, named_parameters, **kwargs):
        assert {name for name, _ in named_parameters} == set(dict(net.module_.named_parameters()))
        self.counts_["grad"] += 1


def test_step_events_reach_the_callbacks_that_listen():
    counts = _Counts()
    model = AutoencoderTransformer(
        **SMALL, batch_size=100, early_stopping=True, callbacks=[counts]
    ).fit(X)
    # 225 training rows in 3 batches and 25 validation rows in 1, for 3 epochs.
    assert counts.counts_ == {"begin": 12, "end": 12, "grad": 9}
    assert [len(row["batches"]) for row in model.net_.history] == [4, 4, 4]
    assert model.net_.history[-1, "train_batch_count"] == 3
    assert not hasattr(model.net_, "_step_listeners")  # only while training


class _ZeroPenalty(DenseAutoencoder):
    """``SMALL_NET``'s dense network with a regularization of its own, always zero."""

    def __init__(self, n_features, n_components, sparsity=0.0, contractive=0.0):
        super().__init__(
            n_features,
            n_components,
            hidden_layer_sizes=SMALL_NET["hidden_layer_sizes"],
            sparsity=sparsity,
            contractive=contractive,
        )

    def regularization(self, X, reconstruction, code, *extras):
        return reconstruction.new_zeros(())


def test_skipping_the_zero_penalty_changes_nothing():
    # Without sparsity or contractive terms the base class's penalty is not added
    # at all; a network whose zero penalty is added must train identically.
    # A random start: a custom module has no PCA start.
    skipped = AutoencoderTransformer(**SMALL, init="random").fit(X)
    added = AutoencoderTransformer(**SMALL, init="random", module=_ZeroPenalty).fit(X)
    np.testing.assert_array_equal(skipped.loss_curve_, added.loss_curve_)
    np.testing.assert_array_equal(skipped.transform(X), added.transform(X))


def test_penalties_still_count():
    plain = AutoencoderTransformer(**SMALL).fit(X)
    sparse = AutoencoderTransformer(**SMALL, sparsity=1.0).fit(X)
    assert sparse.loss_curve_[0] > plain.loss_curve_[0]
