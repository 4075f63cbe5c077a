"""Display objects: what they draw, the artists they keep, and errors."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from _shared import FAST  # noqa: E402

from sk_autoencoder import (  # noqa: E402
    AnomalyScoreDisplay,
    AutoencoderAnomalyDetector,
    AutoencoderTransformer,
    LatentSpaceDisplay,
    LossCurveDisplay,
    ReconstructionDisplay,
)

FAST_4_EPOCHS = dict(FAST, max_epochs=4)


@pytest.fixture(scope="module")
def transformer(digits_head):
    return AutoencoderTransformer(n_components=3, **FAST_4_EPOCHS).fit(digits_head[0])


@pytest.fixture(scope="module")
def detector(digits_head):
    return AutoencoderAnomalyDetector(n_components=3, **FAST_4_EPOCHS).fit(digits_head[0])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_import_does_not_load_matplotlib():
    code = "import sys, sk_autoencoder; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------ loss curve
def test_loss_curve_marks_lowest_training_loss(transformer):
    display = LossCurveDisplay.from_estimator(transformer)
    np.testing.assert_allclose(display.line_.get_ydata(), transformer.loss_curve_)
    np.testing.assert_array_equal(display.line_.get_xdata(), np.arange(1, transformer.n_iter_ + 1))
    assert display.validation_line_ is None
    best = int(np.argmin(transformer.loss_curve_)) + 1
    assert display.best_epoch_ == best
    assert display.best_marker_.get_xdata()[0] == best
    assert display.best_marker_.get_ydata()[0] == pytest.approx(min(transformer.loss_curve_))
    assert display.ax_.figure is display.figure_


def test_loss_curve_with_validation_marks_best_validation_epoch(digits_head):
    ae = AutoencoderTransformer(
        n_components=3,
        hidden_layer_sizes=(16,),
        max_epochs=6,
        early_stopping=True,
        random_state=0,
    ).fit(digits_head[0])
    _, ax = plt.subplots()
    display = LossCurveDisplay.from_estimator(ae, ax=ax, log_scale=True)
    assert display.ax_ is ax
    validation_loss = -np.asarray(ae.validation_scores_)
    np.testing.assert_allclose(display.validation_line_.get_ydata(), validation_loss)
    assert display.best_epoch_ == int(np.argmax(ae.validation_scores_)) + 1
    assert display.best_marker_.get_ydata()[0] == pytest.approx(validation_loss.min())
    assert ax.get_yscale() == "log"


def test_loss_curve_direct_and_errors():
    display = LossCurveDisplay(train_loss=[3.0, 2.0, 2.5], best_epoch=3).plot()
    assert display.best_marker_.get_xdata()[0] == 3
    assert display.best_marker_.get_ydata()[0] == 2.5
    with pytest.raises(ValueError, match="validation_loss has 2 epochs but train_loss has 3"):
        LossCurveDisplay(train_loss=[3.0, 2.0, 1.0], validation_loss=[1.0, 2.0]).plot()
    with pytest.raises(ValueError, match=r"best_epoch must be in \[1, 3\]"):
        LossCurveDisplay(train_loss=[3.0, 2.0, 1.0], best_epoch=4).plot()


# -------------------------------------------------------------- reconstruction
@pytest.mark.parametrize("estimator_name", ["transformer", "detector"])
def test_reconstruction_images(request, digits_head, estimator_name):
    estimator = request.getfixturevalue(estimator_name)
    X = digits_head[0]
    display = ReconstructionDisplay.from_estimator(estimator, X, n_samples=5, image_shape=(8, 8))
    assert display.axes_.shape == (2, 5)
    assert display.images_.shape == (2, 5)
    # Top row shows the originals, bottom row the network's output in pixel units.
    np.testing.assert_allclose(display.images_[0, 2].get_array(), X[2].reshape(8, 8))
    expected = estimator._reconstruct(X[:5])
    np.testing.assert_allclose(display.images_[1, 4].get_array(), expected[4].reshape(8, 8))
    assert display.original_lines_ is None
    assert not display.ax_.axison


def test_transformer_reconstruction_is_inverse_of_transform(transformer, digits_head):
    X = digits_head[0][:10]
    np.testing.assert_allclose(
        transformer._reconstruct(X),
        transformer.inverse_transform(transformer.transform(X)),
        rtol=1e-5,
        atol=1e-4,
    )


def test_reconstruction_from_predictions_matches_pca(digits_head):
    X = digits_head[0]
    pca = PCA(n_components=4).fit(X)
    X_rec = pca.inverse_transform(pca.transform(X))
    display = ReconstructionDisplay.from_predictions(X, X_rec, n_samples=3, image_shape=(1, 8, 8))
    assert display.images_.shape == (2, 3)
    np.testing.assert_allclose(display.images_[1, 1].get_array(), X_rec[1].reshape(8, 8))


def test_reconstruction_table_uses_feature_names():
    import pandas as pd

    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(100, 3)), columns=["age", "income", "debt"])
    detector = AutoencoderAnomalyDetector(n_components=2, **FAST_4_EPOCHS).fit(X)
    display = ReconstructionDisplay.from_estimator(detector, X, n_samples=2)
    assert display.images_ is None
    assert len(display.original_lines_) == len(display.reconstruction_lines_) == 2
    # One panel per row; the feature names under the last one.
    assert display.axes_.shape == (2,)
    labels = [t.get_text() for t in display.axes_[-1].get_xticklabels()]
    assert labels == ["age", "income", "debt"]
    # In the estimator's scaled units, where the errors are measured.
    scaled = detector.scaler_.transform(X.to_numpy()[[1]])[0]
    np.testing.assert_allclose(display.original_lines_[1].get_ydata(), scaled)
    assert display.value_label == "scaled value (preprocessing='standard')"
    # One row against a batch of rows: float32 kernels may round differently by
    # batch size (see check_methods_subset_invariance in test_estimator_checks).
    np.testing.assert_allclose(
        display.reconstruction_lines_[0].get_ydata(),
        detector.scaler_.transform(detector._reconstruct(X.iloc[:1]))[0],
        rtol=1e-4,
        atol=1e-5,
    )


def test_reconstruction_table_defaults_are_readable():
    import pandas as pd

    rng = np.random.RandomState(0)
    # Columns a million times apart: in original units the small one would be flat.
    X = pd.DataFrame(rng.normal(size=(100, 3)) * [1e6, 1.0, 1e-3], columns=["a", "b", "c"])
    # Standardised: the display draws the space errors are measured in, which under
    # preprocessing="global" keeps the columns' relative sizes, as PCA's errors do.
    ae = AutoencoderTransformer(n_components=2, preprocessing="standard", **FAST_4_EPOCHS)
    ae.fit(X)
    display = ReconstructionDisplay.from_estimator(ae, X)
    assert display.axes_.shape == (4,)  # n_samples=None: four rows, one panel each
    spread = np.ptp(np.vstack([line.get_ydata() for line in display.original_lines_]), axis=0)
    assert spread.max() / spread.min() < 20, spread
    handles, labels = display.axes_[0].get_legend_handles_labels()
    assert labels == ["original", "reconstruction"]
    # from_predictions draws values as given, in the original units.
    X_rec = ae.inverse_transform(ae.transform(X))
    raw = ReconstructionDisplay.from_predictions(X, X_rec, n_samples=2)
    np.testing.assert_allclose(raw.original_lines_[0].get_ydata(), X.iloc[0])
    assert raw.value_label == "value"


def test_reconstruction_images_fill_a_small_subplot(digits_head):
    import matplotlib.pyplot as plt

    X, _ = digits_head
    fig, axes = plt.subplots(2, 2, figsize=(8, 6))
    display = ReconstructionDisplay.from_predictions(X, X, image_shape=(8, 8), ax=axes[0, 0])
    assert display.axes_.shape == (2, 8)
    # A near-square subplot gets a grid of pairs rather than one row of tiny images.
    rows = {round(sub.get_position().y0, 3) for sub in display.axes_.ravel()}
    assert len(rows) == 4  # 2 grid rows x (original, reconstruction)
    fig.canvas.draw()
    box = display.axes_[0, 0].get_window_extent()
    assert box.width == pytest.approx(box.height, rel=0.05)  # square pixels
    # Larger than in one row of eight across the subplot (the old layout).
    assert box.width > 1.3 * axes[0, 0].get_window_extent().width / 8
    wide = plt.figure(figsize=(12, 2)).add_subplot()
    display = ReconstructionDisplay.from_predictions(X, X, image_shape=(8, 8), ax=wide)
    assert len({round(sub.get_position().y0, 3) for sub in display.axes_.ravel()}) == 2
    plt.close("all")


def test_reconstruction_errors():
    X = np.zeros((2, 6))
    with pytest.raises(ValueError, match=r"image_shape \(8, 8\) holds 64 values but the rows"):
        ReconstructionDisplay.from_predictions(X, X, image_shape=(8, 8))
    with pytest.raises(ValueError, match="X has shape .* but X_reconstructed has shape"):
        ReconstructionDisplay(X=X, X_reconstructed=X[:, :5]).plot()
    with pytest.raises(ValueError, match="feature_names has 2 names but the rows have 6"):
        ReconstructionDisplay.from_predictions(X, X, feature_names=["a", "b"])


# ---------------------------------------------------------------- latent space
def test_latent_space_projects_wide_codes_with_pca(transformer, digits_head):
    X, y = digits_head
    display = LatentSpaceDisplay.from_estimator(transformer, X, y)
    codes = transformer.transform(X)
    expected = PCA(n_components=2).fit_transform(codes)
    points = display.scatter_.get_offsets()
    # PCA components are defined up to sign.
    for j in range(2):
        np.testing.assert_allclose(np.abs(points[:, j]), np.abs(expected[:, j]), atol=1e-4)
    assert [t.get_text() for t in display.legend_.get_texts()] == [str(c) for c in range(10)]
    assert display.colorbar_ is None
    assert "PCA 0" in display.ax_.get_xlabel()


def test_latent_space_two_codes_drawn_as_is_and_detector_encoder(digits_head):
    X, _ = digits_head
    detector = AutoencoderAnomalyDetector(n_components=2, **FAST_4_EPOCHS).fit(X)
    display = LatentSpaceDisplay.from_estimator(detector, X)
    # Independent path: scale with the fitted scaler, then run the encoder.
    with torch.no_grad():
        scaled = torch.tensor(detector.scaler_.transform(X[:5]), dtype=torch.float32)
        codes = detector.net_.module_.encode(scaled).numpy()
    np.testing.assert_allclose(display.scatter_.get_offsets()[:5], codes, rtol=1e-4, atol=1e-5)
    assert display.legend_ is None


def test_latent_space_tsne_and_continuous_colours():
    rng = np.random.RandomState(0)
    codes = rng.normal(size=(60, 4))
    target = rng.uniform(size=60)
    display = LatentSpaceDisplay.from_predictions(codes, target, projection="tsne", random_state=0)
    assert display.scatter_.get_offsets().shape == (60, 2)
    assert display.colorbar_ is not None
    assert "t-SNE" in display.ax_.get_xlabel()
    with pytest.raises(ValueError, match="projection must be 'pca' or 'tsne', got 'umap'"):
        LatentSpaceDisplay.from_predictions(codes, projection="umap")
    with pytest.raises(ValueError, match="y has 3 values but there are 60 points"):
        LatentSpaceDisplay.from_predictions(codes, [0, 1, 2])


# -------------------------------------------------------------- anomaly scores
def test_anomaly_scores_threshold_at_offset(detector, digits_head):
    X, _ = digits_head
    display = AnomalyScoreDisplay.from_estimator(detector, X, bins=20)
    assert display.threshold_line_.get_xdata()[0] == detector.offset_
    assert len(display.bars_) == 1
    heights = [patch.get_height() for patch in display.bars_[0]]
    assert len(heights) == 20 and sum(heights) == X.shape[0]


def test_anomaly_scores_split_by_labels():
    scores = np.array([-0.1, -0.2, -0.15, -3.0, -2.5])
    labels = np.array(["inlier"] * 3 + ["outlier"] * 2)
    display = AnomalyScoreDisplay.from_predictions(scores, threshold=-1.0, y=labels, bins=5)
    assert len(display.bars_) == 2
    counts = [sum(p.get_height() for p in bars) for bars in display.bars_]
    assert counts == [3, 2]
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert legend[:2] == ["inlier (n=3)", "outlier (n=2)"]


def test_anomaly_scores_transformer_has_no_threshold(transformer, digits_head):
    display = AnomalyScoreDisplay.from_estimator(transformer, digits_head[0])
    assert display.threshold_line_ is None


# ---------------------------------------------------------- missing matplotlib
@pytest.mark.parametrize(
    "call",
    [
        lambda: LossCurveDisplay(train_loss=[1.0, 0.5]).plot(),
        lambda: ReconstructionDisplay.from_predictions(np.ones((2, 4)), np.ones((2, 4))),
        lambda: LatentSpaceDisplay.from_predictions(np.ones((3, 2))),
        lambda: AnomalyScoreDisplay.from_predictions(np.ones(3)),
    ],
    ids=["loss", "reconstruction", "latent", "scores"],
)
def test_clear_error_without_matplotlib(monkeypatch, call):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"requires matplotlib.*pip install \"\.\[plot\]\""):
        call()
