"""scikit-learn's conformance suite, run on every public estimator."""

from _shared import SMALL
from sklearn.utils.estimator_checks import parametrize_with_checks
from torch import nn

from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer
from sk_autoencoder.modules import AutoencoderModule


class TinyLinear(AutoencoderModule):
    """The smallest custom module: the ``module=`` route through the checks."""

    def __init__(self, n_features, n_components, sparsity=0.0, contractive=0.0):
        super().__init__(sparsity=sparsity, contractive=contractive)
        self.encoder = nn.Linear(n_features, n_components)
        self.decoder = nn.Linear(n_components, n_features)

    def encode(self, X):
        return self.encoder(X)

    def decode(self, code):
        return self.decoder(code)


ESTIMATORS = [
    AutoencoderTransformer(n_components=2, **SMALL),
    AutoencoderAnomalyDetector(n_components=2, **SMALL),
]

# Every member of the autoencoder family, in both estimators. Convolutional and
# recurrent networks run without input_shape, whose defaults ((1, 1, n_features) and
# (n_features, 1)) fit the varying widths the checks use.
VARIANTS = [
    dict(noise=0.2),
    dict(noise=0.2, noise_type="masking"),
    dict(sparsity=0.1),
    dict(contractive=0.1),
    dict(architecture="variational"),
    dict(architecture="convolutional", hidden_layer_sizes=(4,)),
    dict(architecture="recurrent", hidden_layer_sizes=(4,)),
    dict(module=TinyLinear, sparsity=0.1),
    dict(check_start="conservative"),  # stops along the cross-fit's curves
]
ESTIMATORS += [
    cls(n_components=2, **{**SMALL, **variant})
    for variant in VARIANTS
    for cls in (AutoencoderTransformer, AutoencoderAnomalyDetector)
]

EXPECTED_FAILED_CHECKS = {}

try:
    from sk_autoencoder.pyod import PyODAutoencoder
except ImportError:  # PyOD is an optional extra
    pass
else:
    ESTIMATORS.append(PyODAutoencoder(AutoencoderAnomalyDetector(n_components=2, **SMALL)))
    _PYOD_LABELS = (
        "PyOD's convention, which PyODAutoencoder exists to follow: predict returns 1 "
        "for outliers and 0 for inliers, where scikit-learn's outlier checks expect "
        "-1 and 1 (AutoencoderAnomalyDetector passes them)."
    )
    _PYOD_PROBA = (
        "PyOD's detectors have predict_proba (outlier probabilities, two columns), and "
        "the sparse checks read classifier tags of every estimator with predict_proba, "
        "which an outlier detector does not have (AttributeError on None). The sparse "
        "input itself is accepted, as the wrapped detector accepts it."
    )
    EXPECTED_FAILED_CHECKS[PyODAutoencoder] = {
        "check_outliers_train": _PYOD_LABELS,
        "check_outliers_fit_predict": _PYOD_LABELS,
        # tests/test_pyod.py checks sparse input against the dense table instead.
        "check_estimator_sparse_array": _PYOD_PROBA,
        "check_estimator_sparse_matrix": _PYOD_PROBA,
    }


_WEIGHTS_AS_REPEATS = (
    "Integer weights equal repeated rows in expectation, not bit for bit: with one "
    "batch holding every row (15 here) the weighted and the repeated objectives are "
    "the same function, but float32 sums taken in another order move the outputs by "
    "1-3 float32 ulps (seen: 1.1e-7 to 1.9e-7 relative, above the check's rtol of "
    "1e-7); noise and the variational draws are drawn per entry, so a repeated table "
    "gets other draws (differences up to 0.2); and the detector's weighted threshold "
    "is a quantile of the weighted distribution (averaged inverted CDF) where the "
    "unweighted fit interpolates linearly. Weight 0 is exactly a dropped row. "
    "tests/test_sample_weight.py checks both equivalences at float32 precision."
)


def _expected_failed_checks(estimator) -> dict:
    # Non-strict: the check still runs and passes for most weights and thread counts.
    return {
        "check_sample_weight_equivalence_on_dense_data": _WEIGHTS_AS_REPEATS,
        "check_sample_weight_equivalence_on_sparse_data": _WEIGHTS_AS_REPEATS,
        "check_methods_subset_invariance": (
            "The network computes in float32, and BLAS/oneDNN pick matrix kernels "
            "by the number of rows, so a row scored within 20 rows and alone can "
            "differ by 1-2 float32 ulps (seen: 3.2e-7 on 1.5, 4.8e-7 on 3.0), "
            "above the check's absolute tolerance of 1e-7. Which configuration "
            "trips it depends on the trained weights and torch's thread count."
        ),
        **EXPECTED_FAILED_CHECKS.get(type(estimator), {}),
    }


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
