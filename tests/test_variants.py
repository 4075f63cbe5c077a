"""The autoencoder family: denoising, sparse, contractive, variational, convolutional,
recurrent and custom networks, in both estimators."""

import numpy as np
import pytest
import torch
from _shared import ESTIMATORS
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from torch import nn
from torch.func import jacrev, vmap

from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer, make_windows
from sk_autoencoder.modules import AutoencoderModule


def _mse(a, b):
    return float(np.mean((a - b) ** 2))


def _reconstruct(ae, X):
    return ae.inverse_transform(ae.transform(X))


# ------------------------------------------------------------------ properties
def test_denoising_reconstruction_is_closer_to_clean_rows(digits_unlabelled):
    X_train, X_test = digits_unlabelled
    X_noisy = X_test + np.random.RandomState(0).normal(0, 4.0, X_test.shape)
    # Pixels span 0..16, so noise of std 4 px is std 0.25 after min-max scaling.
    params = dict(
        n_components=16,
        hidden_layer_sizes=(64,),
        preprocessing="minmax",
        max_epochs=30,
        batch_size=64,
        learning_rate=3e-3,
        random_state=0,
    )
    denoising = AutoencoderTransformer(noise=0.25, **params).fit(X_train)
    plain = AutoencoderTransformer(**params).fit(X_train)
    pca = PCA(16).fit(X_train)
    error_denoised = _mse(_reconstruct(denoising, X_noisy), X_test)
    # Measured: 5.0 against 15.8 for the noisy rows, 7.0 for PCA's projection of them
    # and 7.0 for the plain network (17.9 before noisy entries beyond the training
    # range extrapolated along PCA's maps).
    assert error_denoised < 0.75 * _mse(X_noisy, X_test)
    assert error_denoised < 0.85 * _mse(pca.inverse_transform(pca.transform(X_noisy)), X_test)
    assert error_denoised < 0.85 * _mse(_reconstruct(plain, X_noisy), X_test)


def _near_zero_share(Z):
    # Relative to the codes' own scale, so shrinking codes (and growing the decoder)
    # does not count as sparsity.
    return float(np.mean(np.abs(Z) < 0.05 * np.sqrt(np.mean(Z**2))))


def test_sparse_codes_have_more_near_zero_entries(digits_unlabelled):
    X_train, X_test = digits_unlabelled
    # Standardised: the weight of the L1 penalty against the error depends on the
    # scaling (under "global", sparsity=1.0 gives 0.077 against 0.048).
    params = dict(
        n_components=16,
        hidden_layer_sizes=(64,),
        max_epochs=30,
        preprocessing="standard",
        random_state=0,
    )
    plain = AutoencoderTransformer(**params).fit(X_train)
    sparse = AutoencoderTransformer(sparsity=1.0, **params).fit(X_train)
    # Measured: 0.152 against 0.049. Gaussian-like dense codes put ~4% of entries
    # within 0.05 RMS of zero; an L1 penalty piles entries up at zero.
    assert _near_zero_share(sparse.transform(X_test)) > 2 * _near_zero_share(
        plain.transform(X_test)
    )


def _mean_jacobian_norm(ae, X):
    # An independent reference: torch.func's Jacobian, not the training penalty's.
    encode = ae.net_.module_.encode
    X_t = torch.tensor(ae.scaler_.transform(X), dtype=torch.float32)
    J = vmap(jacrev(lambda x: encode(x[None])[0]))(X_t)
    return float(J.detach().square().sum(dim=(1, 2)).sqrt().mean())


def test_contractive_encoder_has_smaller_jacobian(digits_unlabelled):
    X_train, X_test = digits_unlabelled
    params = dict(n_components=8, hidden_layer_sizes=(32,), max_epochs=20, random_state=0)
    plain = AutoencoderTransformer(**params).fit(X_train)
    contractive = AutoencoderTransformer(contractive=0.1, **params).fit(X_train)
    # Measured: 0.63 against 1.99.
    assert _mean_jacobian_norm(contractive, X_test) < 0.5 * _mean_jacobian_norm(plain, X_test)


def _low_rank_rows(n, rng, A):
    return 3 * np.tanh(rng.normal(size=(n, 2))) @ A + 5 + 0.1 * rng.normal(size=(n, 6))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_variational_samples_match_training_moments(Estimator):
    rng = np.random.RandomState(0)
    A = rng.normal(size=(2, 6))
    X = _low_rank_rows(2000, rng, A)
    # The detector's robust defaults narrow the distribution it learns (trimming
    # leaves out the rows it reconstructs worst; masking noise pulls reconstructions
    # to the mean), and it trains on a subsample: moments need every row, clean.
    robust_off = dict(trim_fraction=0.0, noise=0.0, max_samples=1.0)
    trimming = robust_off if Estimator is AutoencoderAnomalyDetector else {}
    vae = Estimator(
        n_components=2,
        hidden_layer_sizes=(32,),
        architecture="variational",
        max_epochs=60,
        learning_rate=3e-3,
        random_state=0,
        **trimming,
    ).fit(X)
    S = vae.sample(1000, random_state=0)
    assert S.shape == (1000, 6)
    mean, std = X.mean(axis=0), X.std(axis=0)
    # Means: the standard error of a mean of 1000 draws is 0.032 std, so 0.15 std
    # leaves room for ~4 standard errors plus model error (measured: <= 0.05).
    np.testing.assert_array_less(np.abs(S.mean(axis=0) - mean), 0.15 * std)
    # Stds: sample() returns decoder means, without the decoder's noise of variance
    # 1/2 (scaled units). For this 2-factor data that removes about 2 * 0.5 / 6 of
    # each feature's unit variance (as in probabilistic PCA), so the ratio is about
    # sqrt(1 - 1/6) = 0.91 (measured 0.80-0.93 over seeds); 1000 draws add ~2%.
    ratio = S.std(axis=0) / std
    assert np.all((ratio > 0.7) & (ratio < 1.1)), ratio
    # The ELBO ranks rows: in-distribution rows against uniform rows in the same box.
    X_in = _low_rank_rows(300, rng, A)
    X_out = rng.uniform(X.min(axis=0), X.max(axis=0), size=(300, 6))
    assert vae.score_samples(X_in).mean() > vae.score_samples(X_out).mean() + 3  # nats


def test_variational_scores_are_the_elbo():
    """score_samples == -(sum of score_features) - KL - c, with KL checked by hand."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 5))
    det = AutoencoderAnomalyDetector(
        n_components=2,
        hidden_layer_sizes=(8,),
        architecture="variational",
        max_epochs=5,
        random_state=0,
    ).fit(X)
    module = det.net_.module_
    with torch.no_grad():
        mean, log_var = module.posterior(
            torch.tensor(det.scaler_.transform(X[:20]), dtype=torch.float32)
        )
    kl = 0.5 * (mean**2 + log_var.exp() - log_var - 1).sum(dim=1).numpy()
    expected = -det.score_features(X[:20]).sum(axis=1) - kl - 5 * 0.5 * np.log(np.pi)
    np.testing.assert_allclose(det.score_samples(X[:20]), expected, rtol=1e-5, atol=1e-5)
    # Deterministic and independent of the other rows in the call.
    # float32 rounding aside (it depends on the batch size).
    np.testing.assert_allclose(det.score_samples(X[:5]), det.score_samples(X[:20])[:5], rtol=1e-6)


def test_convolutional_beats_pca_on_digits(digits_unlabelled):
    X_train, X_test = digits_unlabelled
    pca = PCA(n_components=8).fit(X_train)
    conv = AutoencoderTransformer(
        n_components=8,
        architecture="convolutional",
        input_shape=(1, 8, 8),
        hidden_layer_sizes=(16, 32),
        preprocessing="minmax",
        max_epochs=30,
        batch_size=64,
        learning_rate=3e-3,
        random_state=0,
    ).fit(X_train)
    # Measured: 4.46 against PCA's 6.37 (squared pixel units).
    assert _mse(_reconstruct(conv, X_test), X_test) < 0.9 * _mse(_reconstruct(pca, X_test), X_test)


def test_recurrent_detector_ranks_corrupted_windows_first():
    rng = np.random.RandomState(0)
    t = np.arange(2400)[:, None]
    phases = np.array([0, 2 * np.pi / 3, 4 * np.pi / 3])
    series = np.sin(2 * np.pi * t / 16 + phases) * [1.0, 0.5, 2.0]
    series += 0.05 * rng.normal(size=series.shape)
    windows = make_windows(series, window=16, step=4).reshape(-1, 16, 3)
    corrupted = rng.choice(len(windows), 15, replace=False)
    for i in corrupted:
        channel, start = rng.randint(3), rng.randint(8)
        # A stuck sensor: one channel holds its value for half a period.
        windows[i, start : start + 8, channel] = windows[i, start, channel]
    X = windows.reshape(len(windows), -1)
    y = np.isin(np.arange(len(X)), corrupted)
    detector = AutoencoderAnomalyDetector(
        n_components=2,
        architecture="recurrent",
        input_shape=(16, 3),
        hidden_layer_sizes=(16,),
        max_epochs=20,
        learning_rate=1e-2,
        batch_size=64,
        random_state=0,
    ).fit(X)
    # Measured 1.0 over four seeds: a stuck half period departs from the sine by
    # about the amplitude, while normal windows reconstruct to ~0.02 (scaled MSE).
    # 0.95 still allows each corrupted window to be outranked by 5% of the normal ones.
    assert roc_auc_score(y, -detector.score_samples(X)) > 0.95


# ------------------------------------------------------------------ noise
def test_noise_is_reproducible_and_changes_training():
    X = np.random.RandomState(0).normal(size=(100, 6))
    params = dict(n_components=2, hidden_layer_sizes=(8,), max_epochs=3)
    for noise_type in ("gaussian", "masking"):
        a = AutoencoderTransformer(noise=0.3, noise_type=noise_type, random_state=0, **params)
        b = clone(a)
        np.testing.assert_array_equal(a.fit(X).transform(X), b.fit(X).transform(X))
        assert a.loss_curve_ == b.loss_curve_
        c = AutoencoderTransformer(noise=0.3, noise_type=noise_type, random_state=1, **params)
        assert c.fit(X).loss_curve_ != a.loss_curve_
        clean = AutoencoderTransformer(random_state=0, **params).fit(X)
        assert clean.loss_curve_ != a.loss_curve_


def test_noise_leaves_validation_rows_clean():
    # With a negligible step size the weights stay put: the validation loss (clean,
    # same split) is the same with and without noise; the training loss is not.
    X = np.random.RandomState(0).normal(size=(200, 6))
    params = dict(
        n_components=2,
        max_epochs=2,
        early_stopping=True,
        optimizer="sgd",
        learning_rate=1e-12,
        random_state=0,
    )
    noisy = AutoencoderTransformer(noise=2.0, **params).fit(X)
    clean = AutoencoderTransformer(**params).fit(X)
    np.testing.assert_allclose(noisy.validation_scores_, clean.validation_scores_, rtol=1e-6)
    # Measured 1.11 against 1.06: the noisy inputs reach the network.
    assert abs(noisy.loss_curve_[0] - clean.loss_curve_[0]) > 0.02


@pytest.mark.parametrize("noise_type, noise", [("gaussian", 0.5), ("masking", 0.3)])
def test_corruption_statistics(noise_type, noise):
    ae = AutoencoderTransformer(
        noise=noise, noise_type=noise_type, max_epochs=1, random_state=0
    ).fit(np.random.RandomState(0).normal(size=(20, 3)))
    X = torch.ones(200, 100)
    corrupted = ae.net_._corrupt(X)
    assert torch.equal(X, torch.ones(200, 100))  # never in place: X is the target
    if noise_type == "masking":
        # 20,000 Bernoulli(0.3) draws: standard error 0.0032.
        assert abs(float((corrupted == 0).float().mean()) - noise) < 0.015
        assert set(corrupted.unique().tolist()) == {0.0, 1.0}
    else:
        assert abs(float((corrupted - X).std()) - noise) < 0.02


# ------------------------------------------------------------------ custom module
class _ConstantPenalty(nn.Module):
    """A protocol module that is not an AutoencoderModule, with a known penalty."""

    def __init__(self, n_features, n_components, penalty=0.0):
        super().__init__()
        self.encoder = nn.Linear(n_features, n_components)
        self.decoder = nn.Linear(n_components, n_features)
        self.penalty = penalty

    def encode(self, X):
        return self.encoder(X)

    def decode(self, code):
        return self.decoder(code)

    def forward(self, X):
        code = self.encode(X)
        return self.decode(code), code

    def regularization(self, X, reconstruction, code):
        return reconstruction.new_tensor(self.penalty)


class _WithPenalty(_ConstantPenalty):
    def __init__(self, n_features, n_components):
        super().__init__(n_features, n_components, penalty=5.0)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_custom_module_regularization_enters_the_loss(Estimator):
    X = np.random.RandomState(0).normal(size=(60, 4))
    params = dict(n_components=2, max_epochs=4, random_state=0)
    base = Estimator(module=_ConstantPenalty, **params).fit(X)
    penalised = Estimator(module=_WithPenalty, **params).fit(X)
    module = penalised.net_.module_
    assert isinstance(module, _WithPenalty)
    assert (module.encoder.in_features, module.encoder.out_features) == (4, 2)
    # A constant has no gradient: same weights, every epoch's loss exactly 5 higher.
    np.testing.assert_allclose(
        np.subtract(penalised.loss_curve_, base.loss_curve_), 5.0, rtol=1e-5
    )


class _Windowed(AutoencoderModule):
    def __init__(self, n_features, n_components, input_shape, sparsity=0.0, contractive=0.0):
        super().__init__(sparsity=sparsity, contractive=contractive)
        self.input_shape = input_shape
        self.encoder = nn.Linear(n_features, n_components)
        self.decoder = nn.Linear(n_components, n_features)

    def encode(self, X):
        return self.encoder(X)

    def decode(self, code):
        return self.decoder(code)


def test_custom_module_gets_input_shape_and_penalties():
    X = np.random.RandomState(0).normal(size=(40, 6))
    ae = AutoencoderTransformer(
        module=_Windowed,
        input_shape=(3, 2),
        sparsity=0.5,
        contractive=0.1,
        max_epochs=2,
        random_state=0,
    ).fit(X)
    module = ae.net_.module_
    assert (module.input_shape, module.sparsity, module.contractive) == ((3, 2), 0.5, 0.1)


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(noise=-0.1), "'noise' parameter"),
        (dict(noise_type="salt"), "'noise_type' parameter"),
        (dict(sparsity=-1.0), "'sparsity' parameter"),
        (dict(contractive=-1.0), "'contractive' parameter"),
        (dict(architecture="transformer"), "'architecture' parameter"),
        (dict(beta=0.0), "'beta' parameter"),
        (dict(input_shape="8x8"), "'input_shape' parameter"),
        (dict(module="dense"), "'module' parameter"),
        (dict(noise=1.0, noise_type="masking"), "is a masking probability .* must be below 1"),
        (dict(architecture="convolutional", input_shape=(1, 4, 4)), "holds 16 values per row"),
        (dict(architecture="convolutional", input_shape=(8, 8)), r"\(channels, height, width\)"),
        (dict(architecture="recurrent", input_shape=(4, 4, 4)), r"\(timesteps, n_channels\)"),
        (dict(architecture="recurrent", input_shape=(0, 64)), "positive integers"),
        (dict(input_shape=(8, 8)), "only used by architecture='convolutional'"),
        (dict(architecture="variational", input_shape=(1, 8, 8)), "variational convolutional"),
        (dict(module=dict), "torch.nn.Module subclass"),
        (dict(module=_ConstantPenalty, architecture="recurrent"), "leave architecture"),
        (dict(module=_ConstantPenalty, sparsity=0.1), "subclasses .*AutoencoderModule"),
    ],
)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_invalid_variant_parameters(Estimator, params, match):
    X = np.random.RandomState(0).normal(size=(20, 64))
    with pytest.raises(ValueError, match=match):
        Estimator(max_epochs=1, **params).fit(X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_sample_errors(Estimator):
    X = np.random.RandomState(0).normal(size=(30, 4))
    with pytest.raises(NotFittedError):
        Estimator(architecture="variational").sample()
    dense = Estimator(n_components=2, max_epochs=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match="sample needs a variational model"):
        dense.sample(3)
    vae = Estimator(n_components=2, architecture="variational", max_epochs=1).fit(X)
    with pytest.raises(ValueError, match="'n_samples' parameter"):
        vae.sample(0)
    np.testing.assert_array_equal(vae.sample(4, random_state=1), vae.sample(4, random_state=1))
    assert not np.array_equal(vae.sample(4, random_state=1), vae.sample(4, random_state=2))


def test_default_input_shapes_fit_any_width():
    X = np.random.RandomState(0).normal(size=(30, 7))
    for architecture, shape in [("convolutional", (1, 1, 7)), ("recurrent", (7, 1))]:
        ae = AutoencoderTransformer(
            architecture=architecture, hidden_layer_sizes=(4,), max_epochs=1
        ).fit(X)
        assert ae.net_.module_.input_shape == shape


def test_variant_parameters_in_grid_search(digits_unlabelled):
    X_train, _ = digits_unlabelled
    search = GridSearchCV(
        AutoencoderTransformer(
            n_components=4, hidden_layer_sizes=(16,), max_epochs=3, random_state=0
        ),
        [
            {"noise": [0.0, 0.1], "sparsity": [0.0, 0.1]},
            {"architecture": ["convolutional"], "input_shape": [(1, 8, 8)]},
        ],
        cv=2,
        error_score="raise",
    )
    search.fit(X_train[:300])
    assert len(search.cv_results_["params"]) == 5
    est = AutoencoderTransformer().set_params(architecture="variational", beta=0.5)
    assert clone(est).get_params()["beta"] == 0.5


# ------------------------------------------------------------------ windows
def test_make_windows_hand_computed():
    series = np.array([[0, 10], [1, 11], [2, 12], [3, 13], [4, 14]])
    expected = np.array([[0, 10, 1, 11, 2, 12], [2, 12, 3, 13, 4, 14]])
    np.testing.assert_array_equal(make_windows(series, window=3, step=2), expected)
    np.testing.assert_array_equal(
        make_windows(np.arange(5), window=2), [[0, 1], [1, 2], [2, 3], [3, 4]]
    )
    out = make_windows(series, window=5)
    assert out.shape == (1, 10) and out.flags.c_contiguous
    out[0, 0] = 99  # a copy, not a view of the caller's series
    assert series[0, 0] == 0


def test_make_windows_errors():
    with pytest.raises(ValueError, match="longer than the series"):
        make_windows(np.zeros((4, 2)), window=5)
    with pytest.raises(ValueError, match="must be 1-D"):
        make_windows(np.zeros((4, 2, 2)), window=2)
    with pytest.raises(ValueError, match="'step' parameter"):
        make_windows(np.zeros(4), window=2, step=0)


def test_variational_transform_is_the_posterior_mean():
    X = np.random.RandomState(0).normal(size=(100, 5))
    vae = AutoencoderTransformer(
        n_components=2, architecture="variational", max_epochs=3, random_state=0
    ).fit(X)
    with torch.no_grad():
        mean, _ = vae.net_.module_.posterior(
            torch.tensor(vae.scaler_.transform(X), dtype=torch.float32)
        )
    np.testing.assert_allclose(vae.transform(X), mean.numpy(), rtol=1e-5, atol=1e-6)
