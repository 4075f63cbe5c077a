"""The optimisers a string ``optimizer`` parameter names."""

from __future__ import annotations

import torch

_OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}


def _optimizer_class(optimizer: str | type) -> type:
    """The optimiser class that ``optimizer`` (a name or a class) stands for."""
    return _OPTIMIZERS[optimizer] if isinstance(optimizer, str) else optimizer
