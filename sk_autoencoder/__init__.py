"""scikit-learn compatible autoencoders built on skorch and PyTorch."""

from ._detector import AutoencoderAnomalyDetector
from ._scaling import GlobalScaler
from ._transformer import AutoencoderTransformer
from ._version import __version__
from ._windows import make_windows
from .exceptions import TrainingDivergedError
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
    "GlobalScaler",
    "LatentSpaceDisplay",
    "LossCurveDisplay",
    "ReconstructionDisplay",
    "TrainingDivergedError",
    "__version__",
    "make_windows",
]
