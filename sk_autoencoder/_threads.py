"""How many threads PyTorch computes with while an estimator trains or infers.

PyTorch's intra-op pool has one thread per core by default. The networks of tabular
autoencoders are small: a training step of the 50-64-32-8 network on 256 rows is 17
MFLOP, a fraction of a millisecond of arithmetic, and handing each of its few dozen
operations to several threads costs more in wake-ups and barriers than it saves. On a
machine where other processes run, it is worse: every operation waits for the thread
that lost its core, and fits become tens of times slower. So every fit and every
inference call runs under :func:`_thread_limit`:

- on a device other than the CPU, nothing changes;
- if the user chose a thread count (see :func:`_user_chose_threads`), it is kept;
- otherwise torch gets one thread per ``_FLOPS_PER_THREAD`` of work per step (a
  training batch's forward and backward pass, or an inference chunk's forward
  pass), at least one and at most the caller's count;
- the caller's count is restored afterwards.

Inference over several chunks of a network whose results do not depend on the thread
count (``thread_invariant``, the dense networks) times its chunks instead and keeps
the faster of one thread and the caller's count (:class:`_TimedThreads`): a chunk is a
few large operations, where more threads win up to twofold on an idle machine and lose
many times over on a busy one, which no rule on the size of the work can tell apart.

Threads only change the order of floating-point sums, but that shows in the last bits
of the results; the count chosen depends only on the network, the batch size and the
caller's setting, so the same ``random_state`` gives the same results run to run.
With PyTorch's OpenMP backend (its builds for Linux, macOS and Windows), the count is
a setting of the calling thread: fits running at once in several Python threads each
set and restore their own. (As after any ``torch.set_num_threads``, a thread whose
first torch call comes while another thread's fit runs starts from that fit's count.)
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import torch

# Work per step that one more thread needs before it pays for itself: measured with
# ``benchmarks/bench_training.py --threads``, where two threads win only on steps
# of this size and more, on an idle machine; below it they lose or tie, and they
# lose tenfold on a busy one.
_FLOPS_PER_THREAD = 2e8

# Environment variables that set the thread count of torch's pool at start-up.
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")

# Inference that times its chunks first re-checks the count it is not using after
# this many chunks (then after twice as many each time nothing changed, up to
# _RECHECK_AT_MOST, so that a change of load shows within a million rows or so).
_RECHECK_EVERY = 8
_RECHECK_AT_MOST = 64

_T = TypeVar("_T")
_clock = time.perf_counter  # what _TimedThreads times chunks with

_local = threading.local()


def _user_chose_threads() -> bool:
    """Whether the thread count of torch's pool was set by the user.

    True when ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` is set (also the way joblib
    limits the threads of its worker processes), or when the current count differs
    from torch's default, which is the size torch also gives its inter-op pool:
    ``torch.set_num_threads`` and ``threadpoolctl.threadpool_limits`` change the
    former only. A count set to exactly torch's default cannot be told apart.
    """
    if any(os.environ.get(name, "").strip() for name in _THREAD_VARIABLES):
        return True
    return torch.get_num_threads() != torch.get_num_interop_threads()


def _threads_for(flops_per_step: float, available: int) -> int:
    """One thread per ``_FLOPS_PER_THREAD`` of work per step, 1 to ``available``."""
    return max(1, min(available, int(flops_per_step // _FLOPS_PER_THREAD)))


def _forward_flops_per_row(module: torch.nn.Module) -> float:
    """About the floating-point operations of one row's forward pass through ``module``.

    Two per weight and use: a dense layer uses each weight once per row, a
    convolutional or recurrent layer once per pixel or time step, which is the row's
    size over its channels (``input_shape`` and ``input_axes`` of the module).
    """
    n_weights = sum(p.numel() for p in module.parameters())
    axes = getattr(module, "input_axes", None) or ()
    shape = getattr(module, "input_shape", None)
    positions = 1
    if shape is not None and len(axes) == len(shape):
        channels = [
            size for axis, size in zip(axes, shape, strict=True) if axis.endswith("channels")
        ]
        positions = max(1, math.prod(shape) // max(1, math.prod(channels)))
    return 2.0 * n_weights * positions


@contextmanager
def _thread_limit(flops_per_step: float, device) -> Iterator[None]:
    """Run the body with the thread count the policy above gives to steps of
    ``flops_per_step`` on ``device``, then restore the caller's.

    Nested uses (inference inside a fit) decide from the outermost caller's
    setting, not from the count an enclosing use set.
    """
    if torch.device(device).type != "cpu":
        yield
        return
    outer = getattr(_local, "caller", None)
    previous = torch.get_num_threads()
    caller, chosen = outer if outer is not None else (previous, _user_chose_threads())
    threads = caller if chosen else _threads_for(flops_per_step, caller)
    _local.caller = (caller, chosen)
    try:
        if threads != previous:
            torch.set_num_threads(threads)
        yield
    finally:
        _local.caller = outer
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


class _TimedThreads:
    """Choose between one thread and the caller's count for a run of chunks, by timing.

    Inference splits its rows into chunks of equal work, and each chunk's forward
    pass is a few large operations: on an idle machine more threads compute it up to
    twice as fast, on a busy one they can make it many times slower. No rule on the
    size of the work gets both right, but the chunks themselves tell: the first two
    run with each count, later chunks with the faster one (by seconds per row, the
    better of a count's last two chunks: one chunk slowed by a passing hiccup does
    not move the choice, two in a row do), and now and then one with the other, so
    that a change in load is followed: after ``_RECHECK_EVERY`` chunks, then after
    twice as many each time the faster count stays the faster (at most
    ``_RECHECK_AT_MOST``), back to ``_RECHECK_EVERY`` when it changes. Used only for
    networks whose results do not depend on the thread count
    (``AutoencoderModule.thread_invariant``), so the results stay the same whichever
    count each chunk gets.
    """

    def __init__(self, caller: int) -> None:
        self.counts = (1, caller)
        # The last two timings of each count, seconds per row.
        self.seconds_per_row: dict[int, deque[float]] = {}
        self.full_rows = 0
        self.n_chunks = 0
        self.interval = _RECHECK_EVERY
        self.next_check = _RECHECK_EVERY
        self.best: int | None = None

    def _next_count(self) -> int:
        untried = [c for c in self.counts if c not in self.seconds_per_row]
        if untried:
            return untried[0]
        best = min(self.counts, key=lambda count: min(self.seconds_per_row[count]))
        if self.best is not None and best != self.best:
            self.interval = _RECHECK_EVERY  # the load changed: watch it closely again
            self.next_check = self.n_chunks + self.interval
        self.best = best
        if self.n_chunks >= self.next_check:
            self.interval = min(2 * self.interval, _RECHECK_AT_MOST)
            self.next_check = self.n_chunks + self.interval
            return self.counts[1] if best == self.counts[0] else self.counts[0]
        return best

    def run(self, n_rows: int, fn: Callable[..., _T], *args) -> _T:
        """``fn(*args)``, the work of a chunk of ``n_rows`` rows, with the count this
        chunk gets, timed."""
        threads = self._next_count()
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        start = _clock()
        result = fn(*args)
        # Only full chunks count: a call's short last chunk costs more per row on
        # any count (its fixed costs weigh more) and would mislead the next call.
        self.full_rows = max(self.full_rows, n_rows)
        if n_rows == self.full_rows:
            seconds = (_clock() - start) / max(n_rows, 1)
            self.seconds_per_row.setdefault(threads, deque(maxlen=2)).append(seconds)
            self.n_chunks += 1
        return result


def _run_untimed(n_rows: int, fn: Callable[..., _T], *args) -> _T:
    return fn(*args)


@contextmanager
def _chunk_threads(
    flops_per_chunk: float, device, n_chunks: int, thread_invariant: bool
) -> Iterator[Callable[..., _T]]:
    """Run inference chunks, each through the function this yields (``run(n_rows, fn,
    *args)``), with the thread count :func:`_thread_limit` gives, or, for a
    thread-invariant network over several chunks on the CPU with no count chosen by
    the user and more than one thread available, with the count that
    :class:`_TimedThreads` finds faster. The caller's count is restored afterwards."""
    with _thread_limit(flops_per_chunk, device):
        caller, chosen = _local.caller if torch.device(device).type == "cpu" else (1, True)
        if chosen or caller < 2 or n_chunks < 2 or not thread_invariant:
            yield _run_untimed
        else:
            yield _timing_of(caller, flops_per_chunk).run


def _timing_of(caller: int, flops_per_chunk: float) -> _TimedThreads:
    """The :class:`_TimedThreads` of this Python thread's inference chunks of about
    this much work, kept from call to call: the load it measures is the machine's,
    not the call's, so a call need not spend its first chunks finding it again (a
    call of two chunks would otherwise run one of them on the slower count)."""
    timings = getattr(_local, "timings", None)
    if timings is None:
        timings = _local.timings = {}
    # Chunks within a factor of about 1.4 in work share a timing.
    key = (caller, round(2 * math.log2(max(flops_per_chunk, 1.0))))
    if key not in timings:
        timings[key] = _TimedThreads(caller)
    return timings[key]
