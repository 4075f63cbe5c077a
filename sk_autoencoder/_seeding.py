"""Randomness that the same ``random_state`` reproduces, also when fits run in threads.

Torch draws weight initialisation, dropout masks and ``randn_like`` from one global
generator shared by every thread. Seeding it for each fit (``torch.manual_seed``) is
reproducible only while one fit runs at a time: two fits in parallel threads draw
from, and re-seed, the same stream. So:

- the seeded sections that must use the global generator (building a network, whose
  layers initialise their weights from it) hold a process-wide lock and leave the
  caller's random state as it was (:func:`_global_rng`);
- during training, the built-in networks draw dropout masks and the variational
  noise from a generator of the fit's own, which :func:`_training_generator` makes
  current for the calling thread (:func:`_dropout`, :func:`_randn`);
- a custom ``module`` may draw from the global generator while it trains, so its
  whole training holds the lock (``_BaseAutoencoder._train``): fits of custom modules
  in parallel threads run one at a time.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import torch

from . import _devices

# Reentrant: a seeded section may build a network inside another seeded section.
_GLOBAL_RNG_LOCK = threading.RLock()
_current = threading.local()


@contextmanager
def _global_rng(seed: int | None, device):
    """Hold the lock, seed torch's global generator with ``seed`` (None: leave it),
    and restore the generator's state afterwards."""
    with _GLOBAL_RNG_LOCK, torch.random.fork_rng(**_devices._rng_devices(device)):
        if seed is not None:
            torch.manual_seed(seed)
        yield


@contextmanager
def _training_generator(generator: torch.Generator):
    """Make ``generator`` the source of :func:`_dropout` and :func:`_randn` in this
    thread while the block runs."""
    previous = getattr(_current, "generator", None)
    _current.generator = generator
    try:
        yield
    finally:
        _current.generator = previous


def _generator() -> torch.Generator | None:
    """The current training generator of this thread (None outside training)."""
    return getattr(_current, "generator", None)


def _dropout(X: torch.Tensor, p: float) -> torch.Tensor:
    """Inverted dropout of ``X`` with the current training generator."""
    keep = torch.empty_like(X).bernoulli_(1.0 - p, generator=_generator())
    return X * keep / (1.0 - p)


def _randn(like: torch.Tensor) -> torch.Tensor:
    """Standard normal draws shaped like ``like``, from the current training generator."""
    return torch.randn(like.shape, generator=_generator(), device=like.device, dtype=like.dtype)
