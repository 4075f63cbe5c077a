"""scikit-learn compatible autoencoders built on skorch and PyTorch."""

from ._detector import AutoencoderAnomalyDetector
from ._net import TrainingDivergedError
from ._transformer import AutoencoderTransformer
from ._version import __version__
from .plotting import (
    AnomalyScoreDisplay,
    LatentSpaceDisplay,
    LossCurveDisplay,
    ReconstructionDisplay,
)

__all__ = [
    "AnomalyScoreDisplay",
    "AutoencoderAnomalyDetector",
    "AutoencoderTransformer",
    "LatentSpaceDisplay",
    "LossCurveDisplay",
    "ReconstructionDisplay",
    "TrainingDivergedError",
    "__version__",
]
