"""scikit-learn compatible autoencoders built on skorch and PyTorch."""

from ._detector import AutoencoderAnomalyDetector
from ._net import TrainingDivergedError
from ._transformer import AutoencoderTransformer
from ._version import __version__
from ._windows import make_windows

__all__ = [
    "AutoencoderAnomalyDetector",
    "AutoencoderTransformer",
    "TrainingDivergedError",
    "__version__",
    "make_windows",
]
