"""scikit-learn compatible autoencoders built on skorch and PyTorch."""

from ._detector import AutoencoderAnomalyDetector
from ._net import TrainingDivergedError
from ._transformer import AutoencoderTransformer
from ._version import __version__

__all__ = [
    "AutoencoderAnomalyDetector",
    "AutoencoderTransformer",
    "TrainingDivergedError",
    "__version__",
]
