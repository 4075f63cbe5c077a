"""
=================================
Visualising the latent space
=================================

An autoencoder with a two-unit code is a nonlinear 2-D map of the data. Here we train
one on the digits with early stopping, check its training with
:class:`~sk_autoencoder.LossCurveDisplay`, and draw the codes coloured by digit with
:class:`~sk_autoencoder.LatentSpaceDisplay`. A wider code is then drawn through a PCA
and a t-SNE projection.
"""

# sphinx_gallery_thumbnail_number = 2

# %%
# Training with early stopping
# ----------------------------
# ``early_stopping=True`` holds out 10% of the rows; training stops when their loss
# has not improved for ``n_iter_no_change`` epochs and the best epoch's weights are
# kept. The loss curve shows both losses and circles that epoch.
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

from sk_autoencoder import AutoencoderTransformer, LatentSpaceDisplay, LossCurveDisplay

X, y = load_digits(return_X_y=True)

ae = AutoencoderTransformer(
    n_components=2, early_stopping=True, n_iter_no_change=10, random_state=0
).fit(X)
curves = LossCurveDisplay.from_estimator(ae)
print(f"trained for {ae.n_iter_} epochs; weights kept from epoch {curves.best_epoch_}")
plt.title("Loss per epoch (scaled space)")
plt.tight_layout()

# %%
# A two-dimensional code
# ----------------------
# The codes are drawn as they are. Digits of the same class gather although the
# network never saw the labels: 0, 2, 3, 4, 6 and 7 form clusters of their own,
# while 1, 5, 8 and 9 overlap in the middle.
display = LatentSpaceDisplay.from_estimator(ae, X, y, scatter_kwargs={"s": 8})
display.ax_.set_title("Autoencoder codes of the digits (2 components)")
plt.tight_layout()

# %%
# Wider codes, projected
# ----------------------
# A code with 8 components reconstructs better but cannot be drawn directly:
# ``LatentSpaceDisplay`` projects it to two dimensions, with PCA by default or
# t-SNE with ``projection="tsne"`` (slower, and it preserves neighbourhoods rather
# than distances).
ae8 = AutoencoderTransformer(n_components=8, random_state=0).fit(X)
fig, axes = plt.subplots(1, 2, figsize=(12, 5))
LatentSpaceDisplay.from_estimator(ae8, X, y, ax=axes[0], scatter_kwargs={"s": 6})
axes[0].set_title("8 components, PCA projection")
LatentSpaceDisplay.from_estimator(
    ae8, X, y, projection="tsne", random_state=0, ax=axes[1], scatter_kwargs={"s": 6}
)
axes[1].set_title("8 components, t-SNE projection")
plt.tight_layout()
plt.show()
