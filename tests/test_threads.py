"""The thread policy (``_threads``): which torch thread count fits and inference run
with, that the user's choice wins, and that the caller's count comes back."""

import threading

import numpy as np
import pytest
import torch
from _shared import ESTIMATORS, SMALL, outputs
from skorch.callbacks import Callback

from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer, _data, _threads
from sk_autoencoder.modules import (
    ConvolutionalAutoencoder,
    DenseAutoencoder,
    RecurrentAutoencoder,
)

X = np.random.RandomState(0).normal(size=(300, 6))
DEFAULT = 4  # the pretend default of torch's pool in these tests


class _ThreadsSeen(Callback):
    """Records torch's thread count at every epoch of training."""

    def initialize(self):
        self.seen_ = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.seen_.append(torch.get_num_threads())


@pytest.fixture
def default_threads(monkeypatch):
    """torch at a pretend default of 4 threads that nobody chose: no thread variable
    in the environment and as many threads as torch gives its inter-op pool."""
    for name in _threads._THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(torch, "get_num_interop_threads", lambda: DEFAULT)
    monkeypatch.setattr(_threads._local, "timings", {}, raising=False)
    previous = torch.get_num_threads()
    torch.set_num_threads(DEFAULT)
    yield
    torch.set_num_threads(previous)


def test_threads_for_gives_one_thread_per_share_of_work():
    share = _threads._FLOPS_PER_THREAD
    assert _threads._threads_for(0.0, DEFAULT) == 1
    assert _threads._threads_for(0.99 * share, DEFAULT) == 1
    assert _threads._threads_for(2.5 * share, DEFAULT) == 2
    assert _threads._threads_for(100 * share, DEFAULT) == DEFAULT
    assert _threads._threads_for(100 * share, 1) == 1


def test_forward_flops_count_each_weight_once_per_position():
    dense = DenseAutoencoder(n_features=10, n_components=2, hidden_layer_sizes=(4,))
    n_weights = sum(p.numel() for p in dense.parameters())
    assert n_weights == (10 * 4 + 4) + (4 * 2 + 2) + (2 * 4 + 4) + (4 * 10 + 10)
    assert _threads._forward_flops_per_row(dense) == 2 * n_weights
    # A convolution slides over the 8 x 8 pixels, a recurrent layer over 10 steps.
    conv = ConvolutionalAutoencoder(n_features=64, n_components=2, input_shape=(1, 8, 8))
    conv_weights = sum(p.numel() for p in conv.parameters())
    assert _threads._forward_flops_per_row(conv) == 2 * conv_weights * 64
    rnn = RecurrentAutoencoder(n_features=20, n_components=2, input_shape=(10, 2))
    rnn_weights = sum(p.numel() for p in rnn.parameters())
    assert _threads._forward_flops_per_row(rnn) == 2 * rnn_weights * 10


def test_user_choice_detected(default_threads, monkeypatch):
    assert not _threads._user_chose_threads()
    torch.set_num_threads(3)  # torch.set_num_threads, or threadpoolctl's limits
    assert _threads._user_chose_threads()
    torch.set_num_threads(DEFAULT)
    monkeypatch.setenv("OMP_NUM_THREADS", str(DEFAULT))
    assert _threads._user_chose_threads()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_small_network_trains_on_one_thread_and_restores(Estimator, default_threads):
    seen = _ThreadsSeen()
    model = Estimator(**SMALL, callbacks=[seen]).fit(X)
    assert seen.seen_ == [1] * model.n_iter_
    assert torch.get_num_threads() == DEFAULT


def test_large_steps_use_the_callers_threads(default_threads, monkeypatch):
    monkeypatch.setattr(_threads, "_FLOPS_PER_THREAD", 1.0)
    seen = _ThreadsSeen()
    AutoencoderTransformer(**SMALL, callbacks=[seen]).fit(X)
    assert seen.seen_ == [DEFAULT] * 3


@pytest.mark.parametrize("threads", [1, 3])
def test_set_count_is_kept(threads, default_threads):
    torch.set_num_threads(threads)
    seen = _ThreadsSeen()
    AutoencoderTransformer(**SMALL, callbacks=[seen]).fit(X)
    assert seen.seen_ == [threads] * 3
    assert torch.get_num_threads() == threads


def test_environment_variable_is_kept(default_threads, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", str(DEFAULT))
    seen = _ThreadsSeen()
    AutoencoderTransformer(**SMALL, callbacks=[seen]).fit(X)
    assert seen.seen_ == [DEFAULT] * 3


def test_inference_runs_under_the_policy_and_restores(default_threads, monkeypatch):
    model = AutoencoderTransformer(**SMALL).fit(X)
    module = model.net_.module_
    seen = []
    encode = module.encode

    def recording_encode(batch):
        seen.append(torch.get_num_threads())
        return encode(batch)

    monkeypatch.setattr(module, "encode", recording_encode)
    model.transform(X)
    assert seen == [1]
    monkeypatch.setattr(_threads, "_FLOPS_PER_THREAD", 1.0)
    model.transform(X)
    assert seen == [1, DEFAULT]
    assert torch.get_num_threads() == DEFAULT


def test_count_restored_when_training_fails(default_threads):
    class Fail(Callback):
        def on_epoch_end(self, net, **kwargs):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        AutoencoderTransformer(**SMALL, callbacks=[Fail()]).fit(X)
    assert torch.get_num_threads() == DEFAULT


def test_nested_use_decides_from_the_outer_caller(default_threads):
    share = _threads._FLOPS_PER_THREAD
    with _threads._thread_limit(0.0, "cpu"):
        assert torch.get_num_threads() == 1
        # Not mistaken for the user's choice of one thread.
        with _threads._thread_limit(100 * share, "cpu"):
            assert torch.get_num_threads() == DEFAULT
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == DEFAULT


def test_other_devices_are_left_alone(default_threads):
    with _threads._thread_limit(0.0, "cuda"):
        assert torch.get_num_threads() == DEFAULT


def test_concurrent_fits_in_threads_each_restore_their_own_count(default_threads):
    # With PyTorch's OpenMP backend the count belongs to each Python thread: fits
    # running at once each lower and restore their own. (That their results match
    # sequential fits is the seeding's business, not the thread count's.)
    seen = [_ThreadsSeen(), _ThreadsSeen()]
    after = [None, None]
    barrier = threading.Barrier(2)

    def fit(i):
        # A thread takes its count at its first torch call, from the last count set
        # in any thread: start each at the default before the other fit lowers it.
        torch.set_num_threads(DEFAULT)
        assert torch.get_num_threads() == DEFAULT
        barrier.wait()
        AutoencoderTransformer(**SMALL, callbacks=[seen[i]]).fit(X)
        after[i] = torch.get_num_threads()

    workers = [threading.Thread(target=fit, args=(i,)) for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert [s.seen_ for s in seen] == [[1] * 3, [1] * 3]
    assert after == [DEFAULT, DEFAULT]
    assert torch.get_num_threads() == DEFAULT


def test_timed_threads_take_the_faster_count_and_follow_a_change(monkeypatch):
    clock = [0.0]
    cost = {1: 2.0, DEFAULT: 1.0}  # seconds per row at each count
    monkeypatch.setattr(_threads, "_clock", lambda: clock[0])
    used = []

    def chunk():
        used.append(torch.get_num_threads())
        clock[0] += 10 * cost[torch.get_num_threads()]

    timed = _threads._TimedThreads(DEFAULT)
    previous = torch.get_num_threads()
    try:
        for _ in range(25):
            timed.run(10, chunk)
        # Each count once, then the faster; the other re-checked after 8 chunks, then
        # after 16 more (twice as many) since nothing changed.
        assert used == [1, DEFAULT] + [DEFAULT] * 6 + [1] + [DEFAULT] * 15 + [1]
        # One chunk slowed by a hiccup does not move the choice.
        cost[DEFAULT] = 5.0
        used.clear()
        timed.run(10, chunk)
        cost[DEFAULT] = 1.0
        for _ in range(3):
            timed.run(10, chunk)
        assert used == [DEFAULT] * 4
        cost[DEFAULT] = 5.0  # the machine gets busy: many threads now lose
        used.clear()
        for _ in range(11):
            timed.run(10, chunk)
        # Two slow chunks in a row show it; the other count takes over, re-checked
        # after 8.
        assert used == [DEFAULT] * 2 + [1] * 8 + [DEFAULT]
        # Re-checks grow twice as far apart while nothing changes, up to a bound.
        used.clear()
        for _ in range(300):
            timed.run(10, chunk)
        gaps = np.diff([i for i, count in enumerate(used) if count == DEFAULT])
        assert gaps[0] == 32 and set(gaps[1:]) == {_threads._RECHECK_AT_MOST}
    finally:
        torch.set_num_threads(previous)


def _record_counts(monkeypatch) -> list:
    """The counts that timed inference gives its chunks, as they run."""
    counts = []
    run = _threads._TimedThreads.run

    def recording_run(self, n_rows, fn, *args):
        def recorded(*args):
            counts.append(torch.get_num_threads())
            return fn(*args)

        return run(self, n_rows, recorded, *args)

    monkeypatch.setattr(_threads._TimedThreads, "run", recording_run)
    return counts


@pytest.mark.parametrize(
    "Estimator, params",
    [
        (AutoencoderTransformer, {}),
        (AutoencoderTransformer, dict(init="random", hidden_layer_sizes=(16, 8))),
        (AutoencoderTransformer, dict(architecture="variational")),
        (AutoencoderAnomalyDetector, {}),
        (AutoencoderAnomalyDetector, dict(architecture="variational")),
    ],
)
def test_dense_inference_gives_the_same_bits_whatever_count_its_chunks_get(
    Estimator, params, default_threads, monkeypatch
):
    # Timed inference may give each chunk another count; that is allowed only for
    # networks whose results do not depend on it (``thread_invariant``).
    rows = np.random.RandomState(1).normal(size=(2000, 6))
    model = Estimator(**dict(SMALL, **params)).fit(X)
    assert model.net_.module_.thread_invariant
    monkeypatch.setattr(_data, "_CHUNK_ROWS", 100)
    # Chunks alternate between the two counts, as under a load that comes and goes.
    monkeypatch.setattr(
        _threads._TimedThreads, "_next_count", lambda self: self.counts[self.n_chunks % 2]
    )
    counts = _record_counts(monkeypatch)
    timed = outputs(model, rows)
    assert {1, DEFAULT} <= set(counts)
    torch.set_num_threads(1)  # chosen by the user: every chunk on one thread
    one = outputs(model, rows)
    torch.set_num_threads(DEFAULT)
    for name, value in one.items():
        np.testing.assert_array_equal(timed[name], value, err_msg=name)


def test_convolutions_keep_the_count_of_the_policy(default_threads, monkeypatch):
    digits = np.random.RandomState(0).uniform(size=(200, 16))
    model = AutoencoderTransformer(
        **SMALL, architecture="convolutional", input_shape=(1, 4, 4)
    ).fit(digits)
    assert not model.net_.module_.thread_invariant
    monkeypatch.setattr(_data, "_CHUNK_ROWS", 50)
    counts = _record_counts(monkeypatch)
    model.transform(digits)
    assert counts == []  # not timed: every chunk at the policy's count


def test_timed_inference_restores_the_callers_count(default_threads, monkeypatch):
    model = AutoencoderTransformer(**SMALL).fit(X)
    monkeypatch.setattr(_data, "_CHUNK_ROWS", 50)
    counts = _record_counts(monkeypatch)
    model.transform(X)
    assert len(counts) == 6 and counts[:2] == [1, DEFAULT]
    assert torch.get_num_threads() == DEFAULT
    # The next call goes on from what the first one measured: no chunk of it is
    # spent finding the faster count again, unless a re-check is due.
    counts.clear()
    model.transform(X[:100])
    assert len(counts) == 2 and counts[0] == counts[1]
