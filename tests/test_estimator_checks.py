"""scikit-learn's conformance suite, run on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer

SMALL = dict(hidden_layer_sizes=(8,), max_epochs=3, random_state=0)

ESTIMATORS = [
    AutoencoderTransformer(n_components=2, **SMALL),
    AutoencoderAnomalyDetector(n_components=2, **SMALL),
]

EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est), {})
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
