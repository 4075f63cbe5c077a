"""scikit-learn compatible autoencoders built on skorch and PyTorch.

The public names are imported on first use (PEP 562), so ``import sk_autoencoder``
and the ``sk-autoencoder --help`` command load neither PyTorch nor skorch nor skops;
``from sk_autoencoder import AutoencoderTransformer`` imports what the estimator needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._version import __version__

# Each public name and the module that defines it.
_LAZY = {
    "AnomalyScoreDisplay": ".plotting",
    "AutoencoderAnomalyDetector": "._detector",
    "AutoencoderTransformer": "._transformer",
    "GlobalScaler": "._scaling",
    "LatentSpaceDisplay": ".plotting",
    "LossCurveDisplay": ".plotting",
    "ReconstructionDisplay": ".plotting",
    "TrainingDivergedError": ".exceptions",
    "make_windows": "._windows",
}

__all__ = [
    "AnomalyScoreDisplay",
    "AutoencoderAnomalyDetector",
    "AutoencoderTransformer",
    "GlobalScaler",
    "LatentSpaceDisplay",
    "LossCurveDisplay",
    "ReconstructionDisplay",
    "TrainingDivergedError",
    "__version__",
    "make_windows",
]

if TYPE_CHECKING:  # static analysers and IDEs see ordinary imports
    from ._detector import AutoencoderAnomalyDetector
    from ._scaling import GlobalScaler
    from ._transformer import AutoencoderTransformer
    from ._windows import make_windows
    from .exceptions import TrainingDivergedError
    from .plotting import (
        AnomalyScoreDisplay,
        LatentSpaceDisplay,
        LossCurveDisplay,
        ReconstructionDisplay,
    )


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
