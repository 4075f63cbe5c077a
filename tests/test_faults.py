"""Training faults (interruption, divergence, early stopping) and concurrency."""

import re
import warnings
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _shared import ESTIMATORS, SMALL_NET, assert_same_outputs, correlated_rows
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback

from sk_autoencoder import (
    AutoencoderAnomalyDetector,
    AutoencoderTransformer,
    TrainingDivergedError,
)
from sk_autoencoder._callbacks import _DIVERGENCE_FACTOR, _DivergenceCheck
from sk_autoencoder.modules import AutoencoderModule


@pytest.fixture(scope="module")
def X():
    return correlated_rows(120, 6)


class _InterruptAt(Callback):
    """Raise KeyboardInterrupt (as Ctrl-C would) at a given batch of a given epoch."""

    def __init__(self, epoch, batch=1):
        self.epoch = epoch
        self.batch = batch

    def on_epoch_begin(self, net, **kwargs):
        self.batches_ = 0

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.batches_ += 1
            if len(net.history) == self.epoch and self.batches_ == self.batch:
                raise KeyboardInterrupt


class _Snapshots(Callback):
    """Weights at the end of each epoch, and the validation data."""

    def on_train_begin(self, net, **kwargs):
        self.states_ = {}

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        epoch = net.history[-1, "epoch"]
        self.states_[epoch] = {k: v.clone() for k, v in net.module_.state_dict().items()}
        self.valid_ = dataset_valid


def _validation_loss(model, snapshots) -> float:
    """The fitted network's loss on the validation rows the snapshots saw."""
    Xv = snapshots.valid_.X
    with torch.inference_mode():
        return F.mse_loss(model.net_.module_(Xv)[0], Xv).item()


def _assert_weights(module, state):
    for name, value in module.state_dict().items():
        if name in ("code_low", "code_high"):
            continue  # observed after training, from the weights kept
        torch.testing.assert_close(value, state[name], rtol=0, atol=0)


# ------------------------------------------------------------------ interruption
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_keyboard_interrupt_keeps_best_weights_and_warns(X, cls):
    snapshots = _Snapshots()
    model = cls(
        max_epochs=50,
        batch_size=16,
        learning_rate=0.05,  # noisy enough that the last epoch is not always the best
        callbacks=[snapshots, _InterruptAt(epoch=6, batch=3)],
        init="random",  # a PCA start beats these noisy epochs, and would be kept
        **SMALL_NET,
    )
    with pytest.warns(UserWarning, match=r"interrupted \(KeyboardInterrupt\) in epoch 6"):
        model.fit(X)
    # Five complete epochs are kept; the partial sixth is dropped from the record.
    assert model.n_iter_ == 5
    assert len(model.loss_curve_) == 5
    best_epoch = int(np.argmin(model.loss_curve_)) + 1
    _assert_weights(model.net_.module_, snapshots.states_[best_epoch])
    scores = model.score_samples(X)
    assert np.isfinite(scores).all()
    if cls is AutoencoderAnomalyDetector:
        assert set(np.unique(model.predict(X))) <= {-1, 1}


def test_keyboard_interrupt_with_early_stopping_uses_validation_loss(X):
    snapshots = _Snapshots()
    model = AutoencoderTransformer(
        max_epochs=50,
        early_stopping=True,
        n_iter_no_change=50,
        learning_rate=0.05,
        batch_size=16,
        callbacks=[snapshots, _InterruptAt(epoch=8, batch=2)],
        # From PCA's start, the start can beat every completed epoch on the
        # validation rows (it does on some CPUs' float kernels) and be kept instead.
        init="random",
        **SMALL_NET,
    )
    with pytest.warns(UserWarning, match="best completed epoch by valid_loss"):
        model.fit(X)
    best_epoch = int(np.argmax(model.validation_scores_)) + 1
    _assert_weights(model.net_.module_, snapshots.states_[best_epoch])


def test_keyboard_interrupt_in_first_epoch_propagates_and_keeps_old_model(X):
    model = AutoencoderTransformer(max_epochs=3, **SMALL_NET).fit(X)
    before = model.transform(X)
    model.set_params(callbacks=[_InterruptAt(epoch=1, batch=1)])
    with pytest.raises(KeyboardInterrupt, match="before any epoch completed"):
        model.fit(X)
    np.testing.assert_array_equal(model.transform(X), before)
    with pytest.raises(KeyboardInterrupt):
        AutoencoderTransformer(callbacks=[_InterruptAt(epoch=1)], **SMALL_NET).fit(X)


def test_early_stopping_is_not_reported_as_an_interrupt(X):
    # skorch's EarlyStopping stops training by raising KeyboardInterrupt itself.
    model = AutoencoderTransformer(
        max_epochs=200, n_iter_no_change=2, tol=10.0, early_stopping=True, **SMALL_NET
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(X)
    assert model.n_iter_ == 3


# ------------------------------------------------------------------ early stopping
def test_early_stopping_restores_best_weights(X):
    snapshots = _Snapshots()
    model = AutoencoderTransformer(
        max_epochs=40,
        early_stopping=True,
        n_iter_no_change=4,
        optimizer="sgd",
        learning_rate=0.3,  # oscillates, so the best epoch is not the last one
        batch_size=8,
        callbacks=[snapshots],
        init="random",  # a PCA start beats these noisy epochs, and would be kept
        **SMALL_NET,
    ).fit(X)
    valid_losses = -np.asarray(model.validation_scores_)
    best = int(np.argmin(valid_losses))
    assert best < len(valid_losses) - 1, "the test needs a run that got worse at the end"
    assert model.best_validation_score_ == -valid_losses[best]
    _assert_weights(model.net_.module_, snapshots.states_[best + 1])
    # The restored network's loss on the validation rows is the best recorded one.
    loss = _validation_loss(model, snapshots)
    np.testing.assert_allclose(loss, valid_losses[best], rtol=1e-5)
    assert not np.isclose(loss, valid_losses[-1], rtol=1e-3)


def test_early_stopping_restores_the_best_epoch_however_small_its_lead(X):
    # tol is far above any epoch's improvement: patience runs out after
    # n_iter_no_change + 1 epochs, and the best of them, not the first (which is all
    # that skorch's EarlyStopping counts as an improvement by tol), comes back.
    snapshots = _Snapshots()
    model = AutoencoderTransformer(
        max_epochs=40,
        early_stopping=True,
        n_iter_no_change=5,
        tol=1.0,
        learning_rate_schedule="constant",
        callbacks=[snapshots],
        init="random",
        **SMALL_NET,
    ).fit(X)
    assert model.n_iter_ == 6
    valid_losses = -np.asarray(model.validation_scores_)
    best = int(np.argmin(valid_losses))
    assert best > 0 and valid_losses[best] < valid_losses[0]
    # The network kept is the best epoch's: its loss on the validation rows.
    loss = _validation_loss(model, snapshots)
    np.testing.assert_allclose(loss, valid_losses[best], rtol=1e-5)


# ------------------------------------------------------------------ divergence
@pytest.fixture(scope="module")
def normal_rows():
    return np.random.RandomState(0).normal(size=(200, 5))


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize(
    "learning_rate, batch_size",
    [(1e3, "auto"), (10.0, "auto"), (1e3, 16)],  # 16: it diverges within the first epoch
)
def test_loss_growing_by_orders_of_magnitude_stops_fit(
    normal_rows, cls, learning_rate, batch_size
):
    # Adam at these rates: the loss goes 1.07 -> 2.5e26 (1e3) or 2e10 (10) and stays,
    # finite all along, so only a rule on its growth catches it.
    model = cls(
        n_components=2,
        hidden_layer_sizes=(8,),
        max_epochs=5,
        learning_rate=learning_rate,
        batch_size=batch_size,
        random_state=0,
    )
    with pytest.raises(
        TrainingDivergedError,
        match=(
            r"Training diverged: the loss reached .* in epoch [34], .* times the larger of the "
            r"untrained network's loss and that of predicting each feature's mean "
            r"\(1(\.\d+)?\), and stayed above 100 times that for 3 epochs in a row\. "
            rf"Lower learning_rate \(currently {re.escape(str(learning_rate))}\)"
        ),
    ):
        model.fit(normal_rows)
    with pytest.raises(NotFittedError):
        model.score_samples(normal_rows)


def test_divergence_in_the_last_epoch_stops_fit(normal_rows):
    # Two epochs: the second is already far above the reference, and there is no third.
    model = AutoencoderTransformer(
        hidden_layer_sizes=(8,), max_epochs=2, learning_rate=1e3, random_state=0
    )
    with pytest.raises(TrainingDivergedError, match="in epoch 2, .* in the last epoch"):
        model.fit(normal_rows)


# Standard scaling, a random start and a constant rate.
POOR_FIT_START = dict(preprocessing="standard", init="random", learning_rate_schedule="constant")


def test_network_worse_than_the_mean_at_the_end_warns(normal_rows):
    # Adam at 1: the loss jumps around (1.07, 179, 13.8, 463, 14.4), never 100 times the
    # reference for three epochs, but ends 13 times worse than learning nothing.
    # The transformer's former defaults: a PCA start and a cosine schedule make this
    # fit end well.
    model = AutoencoderTransformer(
        hidden_layer_sizes=(8,),
        max_epochs=5,
        learning_rate=1.0,
        random_state=0,
        **POOR_FIT_START,
    )
    with pytest.warns(ConvergenceWarning, match=r"ended with a loss of 14\.4, 13\.4 times"):
        model.fit(normal_rows)
    assert model.loss_curve_[-1] == pytest.approx(14.4, rel=0.01)


class _ShiftOutputsInLastEpoch(Callback):
    """Add ``shift`` to every output before the last epoch's step: its loss is about
    ``shift ** 2`` on standardised rows, however the CPU rounds (one batch of 200)."""

    def __init__(self, shift):
        self.shift = shift

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) == net.max_epochs:
            with torch.no_grad():
                net.module_.decoder_linear.bias += self.shift


def test_no_poor_fit_warning_where_the_pca_start_is_kept(normal_rows):
    # As above, from a PCA start: training ends as badly, the start comes back, and a
    # warning about the weights that were replaced would mislead. The bad end is
    # made (a chaotic learning rate ends differently on other CPUs' float kernels):
    # a loss near 16 is more than 10 times the reference (about 1), not 100 times.
    params = dict(
        hidden_layer_sizes=(8,),
        max_epochs=3,
        learning_rate=1e-3,
        random_state=0,
        check_start=False,  # the start comes back through _KeepBetterStart alone
        **dict(POOR_FIT_START, init="pca"),
    )
    model = AutoencoderTransformer(**params, callbacks=[_ShiftOutputsInLastEpoch(4.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(normal_rows)
    assert 10 < model.loss_curve_[-1] < 100  # the last epoch was as bad ...
    start = AutoencoderTransformer(**dict(params, max_epochs=1, learning_rate=1e-12))
    start.fit(normal_rows)  # ... and the network kept is the PCA start
    np.testing.assert_allclose(model.transform(normal_rows), start.transform(normal_rows))
    # Continued training (history from an earlier call) has no start to go back to:
    # there the same end still warns.
    check = _DivergenceCheck(0.7, "mse", start_judged=True)
    check.reference_ = 1.0
    check.first_epoch_ = 0
    check.on_train_end(model.net_)  # a fresh fit: silent
    check.first_epoch_ = 1
    last = f"{model.loss_curve_[-1]:.3g}"
    with pytest.warns(ConvergenceWarning, match=f"ended with a loss of {re.escape(last)},"):
        check.on_train_end(model.net_)


def test_reference_is_the_untrained_loss_or_the_mean_predictor(normal_rows):
    model = AutoencoderTransformer(hidden_layer_sizes=(8,), max_epochs=1, random_state=0)
    model.fit(normal_rows)
    check = dict(model.net_.callbacks_)["divergence_check"]
    first_batch = model.net_.history[0, "batches", 0, "train_loss"]
    # Standardised columns: predicting the mean costs exactly 1 per entry.
    assert check.reference_ == pytest.approx(max(1.0, first_batch), rel=1e-6)


# Variants whose early epochs are noisy, each at a high but sane learning rate.
LEGITIMATE = [
    dict(architecture="variational", learning_rate=0.01),
    dict(contractive=1.0, learning_rate=0.01),
    dict(sparsity=1.0, learning_rate=0.01),
    dict(noise=1.0, learning_rate=0.01),
    dict(noise=0.5, noise_type="masking", dropout=0.5, learning_rate=0.01),
    dict(optimizer="sgd", learning_rate=0.3, batch_size=8),
    dict(early_stopping=True, learning_rate=0.05, batch_size=8),
    dict(preprocessing=None, learning_rate=0.01),
    dict(preprocessing="minmax", loss="bce", learning_rate=0.05),
]


@pytest.mark.parametrize("params", LEGITIMATE)
def test_legitimate_noisy_fits_stay_far_below_the_divergence_rule(X, params):
    model = AutoencoderTransformer(max_epochs=10, **{**SMALL_NET, **params})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(X * 30 if params.get("preprocessing", "standard") is None else X)
    check = dict(model.net_.callbacks_)["divergence_check"]
    assert isinstance(check, _DivergenceCheck)
    worst = max(model.loss_curve_) / check.reference_
    assert worst < _DIVERGENCE_FACTOR / 20, worst


class _BreakWeightsAtEnd(Callback):
    """Turn a weight non-finite after the last batch, where no loss sees it."""

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == net.max_epochs:
            with torch.no_grad():
                next(net.module_.parameters())[0, 0] = float("nan")


def test_non_finite_weights_after_last_step_are_refused(X):
    model = AutoencoderTransformer(max_epochs=2, callbacks=[_BreakWeightsAtEnd()], **SMALL_NET)
    with pytest.raises(TrainingDivergedError, match="weight 'encoder.0.weight' is not finite"):
        model.fit(X)
    with pytest.raises(NotFittedError):
        model.transform(X)


# ------------------------------------------------------------------ concurrency
def test_transform_from_threads_matches_serial(X):
    model = AutoencoderAnomalyDetector(max_epochs=3, **SMALL_NET).fit(X)
    rng = np.random.RandomState(1)
    chunks = [rng.normal(size=(200 + 37 * i, X.shape[1])) for i in range(8)]
    serial = [(model.score_samples(c), model.score_features(c)) for c in chunks]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(
            pool.map(lambda c: (model.score_samples(c), model.score_features(c)), chunks * 3)
        )
    for i, (scores, features) in enumerate(threaded):
        np.testing.assert_array_equal(scores, serial[i % 8][0])
        np.testing.assert_array_equal(features, serial[i % 8][1])

    transformer = AutoencoderTransformer(max_epochs=3, **SMALL_NET).fit(X)
    serial = [transformer.transform(c) for c in chunks]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for i, codes in enumerate(pool.map(transformer.transform, chunks * 3)):
            np.testing.assert_array_equal(codes, serial[i % 8])


def _torch_threads(estimator, X, y=None):
    return torch.get_num_threads()


def test_grid_search_workers_do_not_oversubscribe_and_match_serial(X):
    # joblib's loky backend starts each worker with OMP_NUM_THREADS set to its share
    # of the CPUs, and torch sizes its intra-op pool from it: no code of ours needed.
    search = dict(
        estimator=AutoencoderTransformer(max_epochs=3, **SMALL_NET),
        param_grid={"n_components": [1, 2, 3]},
        cv=2,
        scoring={"score": lambda est, X, y=None: est.score(X), "threads": _torch_threads},
        refit="score",
    )
    parallel = GridSearchCV(n_jobs=2, **search).fit(X)
    serial = GridSearchCV(n_jobs=1, **search).fit(X)
    worker_threads = parallel.cv_results_["mean_test_threads"]
    assert worker_threads.max() <= max(1, joblib.cpu_count() // 2)
    np.testing.assert_allclose(
        parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"], rtol=1e-5
    )
    assert parallel.best_params_ == serial.best_params_


class _GlobalDropoutNet(AutoencoderModule):
    """A custom network drawing from torch's global generator (plain ``nn.Dropout``)."""

    def __init__(self, n_features, n_components, sparsity=0.0, contractive=0.0):
        super().__init__(sparsity=sparsity, contractive=contractive)
        self.encoder = torch.nn.Sequential(
            torch.nn.Linear(n_features, 16), torch.nn.Dropout(0.3), torch.nn.ReLU(),
            torch.nn.Linear(16, n_components),
        )  # fmt: skip
        self.decoder = torch.nn.Linear(n_components, n_features)

    def encode(self, X):
        return self.encoder(X)

    def decode(self, code):
        return self.decoder(code)


# Every source of randomness in training: dropout, the variational draws, masking and
# trimming (the detector), and a custom module on torch's global generator.
THREADED = [
    (AutoencoderTransformer, dict(dropout=0.3)),
    (AutoencoderTransformer, dict(architecture="variational")),
    (AutoencoderAnomalyDetector, dict(dropout=0.2, early_stopping=True)),
    (AutoencoderTransformer, dict(module=_GlobalDropoutNet)),
]


def test_same_seed_fits_in_parallel_threads_match_serial_fits(X):
    def fit(case):
        cls, params = case
        return cls(max_epochs=4, batch_size=16, **{**SMALL_NET, **params}).fit(X)

    serial = [fit(case) for case in THREADED]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(fit, THREADED * 3))
    for i, model in enumerate(threaded):
        assert_same_outputs(model, serial[i % len(THREADED)], X)


def test_threading_backend_grid_search_matches_serial(X):
    search = dict(
        estimator=AutoencoderTransformer(max_epochs=3, batch_size=16, **SMALL_NET),
        param_grid={"dropout": [0.0, 0.2, 0.4], "n_components": [1, 2]},
        cv=2,
    )
    serial = GridSearchCV(n_jobs=1, **search).fit(X)
    with joblib.parallel_backend("threading"):
        threaded = GridSearchCV(n_jobs=4, **search).fit(X)
    np.testing.assert_array_equal(
        threaded.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    assert threaded.best_params_ == serial.best_params_


@pytest.mark.parametrize("n_threads", [1, 2])
def test_same_seed_same_thread_count_gives_identical_results(X, n_threads):
    # The documented promise: same random_state, same torch thread count, CPU. The
    # convolutional kernels split their work by thread count, so across counts the
    # results may differ by float32 rounding; at one count they are identical.
    before = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        conv = dict(architecture="convolutional", input_shape=(1, 2, 3), dropout=0.2)
        params = dict(max_epochs=3, batch_size=16, **{**SMALL_NET, **conv})
        first = AutoencoderTransformer(**params).fit(X)
        second = AutoencoderTransformer(**params).fit(X)
        assert_same_outputs(first, second, X)
        assert first.loss_curve_ == second.loss_curve_
    finally:
        torch.set_num_threads(before)
