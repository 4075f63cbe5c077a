"""
===============================================
Dimensionality reduction: autoencoder vs PCA
===============================================

:class:`~sk_autoencoder.AutoencoderTransformer` is a drop-in replacement for
:class:`~sklearn.decomposition.PCA`. Here both compress the 8 x 8 digits (64 pixels)
to a few components; we compare how well they reconstruct held-out digits and look at
the reconstructions.
"""

# sphinx_gallery_thumbnail_number = 2

# %%
# Data and models
# ---------------
# The digits ship with scikit-learn. A quarter is held out to measure reconstruction
# error on rows neither model has seen.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from sk_autoencoder import AutoencoderTransformer, ReconstructionDisplay

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)


def make_autoencoder(n_components):
    # The defaults, nothing tuned for the digits: they start from PCA's solution
    # (init="pca") and anneal the learning rate over 200 epochs.
    return AutoencoderTransformer(n_components=n_components, random_state=0)


def test_mse(model):
    """Mean squared reconstruction error on the held-out digits, in pixel units."""
    X_rec = model.inverse_transform(model.transform(X_test))
    return float(np.mean((X_rec - X_test) ** 2))


# %%
# Reconstruction error
# --------------------
# For each code width, fit both models and measure the held-out error (pixels range
# from 0 to 16). The autoencoder's nonlinear decoder uses a narrow code better than
# PCA's linear one.
models = {}
rows = []
for k in (2, 4, 8):
    pca = PCA(n_components=k, random_state=0).fit(X_train)
    ae = make_autoencoder(k).fit(X_train)
    models[k] = (pca, ae)
    rows.append(
        {
            "n_components": k,
            "PCA MSE": test_mse(pca),
            "autoencoder MSE": test_mse(ae),
        }
    )
table = pd.DataFrame(rows).set_index("n_components")
table["autoencoder / PCA"] = table["autoencoder MSE"] / table["PCA MSE"]
table.round(3)

# %%
# The same numbers as a figure.
ax = table[["PCA MSE", "autoencoder MSE"]].plot.bar(rot=0, figsize=(6, 3.5))
ax.set(ylabel="held-out MSE (pixel units)", title="Reconstruction error of held-out digits")
plt.tight_layout()

# %%
# Reconstructions
# ---------------
# :class:`~sk_autoencoder.ReconstructionDisplay` draws the originals above the
# reconstructions. ``from_estimator`` reconstructs with the autoencoder;
# ``from_predictions`` takes PCA's reconstructions computed by hand.
pca, ae = models[4]
fig, axes = plt.subplots(2, 1, figsize=(9, 5))
ReconstructionDisplay.from_estimator(ae, X_test, n_samples=10, image_shape=(8, 8), ax=axes[0])
axes[0].set_title("Autoencoder, 4 components")
X_pca = pca.inverse_transform(pca.transform(X_test))
ReconstructionDisplay.from_predictions(X_test, X_pca, n_samples=10, image_shape=(8, 8), ax=axes[1])
axes[1].set_title("PCA, 4 components")
plt.show()
