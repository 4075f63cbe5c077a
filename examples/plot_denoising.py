"""
============================
Denoising handwritten digits
============================

A denoising autoencoder is trained to reconstruct clean rows from corrupted copies
of them: ``noise`` adds Gaussian noise to the training inputs only, while the
targets stay clean. Here it learns on the clean digits of scikit-learn and is then
given test digits with heavy Gaussian noise. For comparison, a plain autoencoder of
the same size is trained without noise.
"""

# %%
# Data: clean training digits, noisy test digits
# ----------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sk_autoencoder import AutoencoderTransformer

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
rng = np.random.RandomState(0)
X_noisy = X_test + rng.normal(0, 4.0, X_test.shape)  # pixels span 0..16

# %%
# Two autoencoders of the same size
# ---------------------------------
# ``noise`` is measured after ``preprocessing``: with min-max scaling a pixel range of
# 16 becomes 1, so ``noise=0.25`` matches the std of 4 pixels added to the test rows.
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

denoised = denoising.inverse_transform(denoising.transform(X_noisy))
plain_out = plain.inverse_transform(plain.transform(X_noisy))


def mse(a, b):
    return np.mean((a - b) ** 2)


print(f"noisy rows vs clean:        MSE {mse(X_noisy, X_test):6.2f}")
print(f"plain autoencoder vs clean: MSE {mse(plain_out, X_test):6.2f}")
print(f"denoising autoencoder:      MSE {mse(denoised, X_test):6.2f}")

# %%
# Noisy, denoised and clean digits
# --------------------------------
rows = [
    ("noisy", X_noisy),
    ("plain AE", plain_out),
    ("denoising AE", denoised),
    ("clean", X_test),
]
n_digits = 10
fig, axes = plt.subplots(len(rows), n_digits, figsize=(n_digits, len(rows) * 1.1))
for row, (name, images) in zip(axes, rows, strict=True):
    for i, ax in enumerate(row):
        ax.imshow(np.clip(images[i], 0, 16).reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name, rotation=0, ha="right", va="center")
fig.suptitle("Gaussian noise of std 4 on 0..16 pixels")
plt.show()
