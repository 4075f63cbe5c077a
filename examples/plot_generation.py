"""
================================================
Generating digits with a variational autoencoder
================================================

``architecture="variational"`` trains a variational autoencoder: the encoder gives a
Gaussian posterior over the code, and the decoder learns to turn draws from the
standard normal prior into rows. :meth:`~sk_autoencoder.AutoencoderTransformer.sample`
draws codes from the prior and decodes them, returning new rows in the original
units (scaling undone). ``score_samples`` returns each row's ELBO, a lower bound on
its log-likelihood under the model.
"""

# %%
# Train a variational autoencoder on the digits
# ---------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from sk_autoencoder import AutoencoderTransformer

X, _ = load_digits(return_X_y=True)
vae = AutoencoderTransformer(
    n_components=8,
    architecture="variational",
    hidden_layer_sizes=(128,),
    preprocessing="minmax",
    beta=0.5,
    max_epochs=100,
    learning_rate=3e-3,
    random_state=0,
).fit(X)

# %%
# Draw new digits from the prior
# ------------------------------
samples = vae.sample(40, random_state=0)
fig, axes = plt.subplots(4, 10, figsize=(10, 4.4))
for ax, image in zip(axes.ravel(), samples, strict=True):
    ax.imshow(np.clip(image, 0, 16).reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Digits decoded from codes drawn from N(0, I)")
plt.show()

# %%
# The ELBO tells digits from noise
# --------------------------------
# Rows of uniform noise in the same pixel range get a far lower ELBO.
noise = np.random.RandomState(0).uniform(0, 16, size=(200, 64))
print(f"mean ELBO of digits:        {vae.score_samples(X).mean():8.1f} nats")
print(f"mean ELBO of uniform noise: {vae.score_samples(noise).mean():8.1f} nats")
