"""
=====================================================
Grid search over an autoencoder in a pipeline
=====================================================

An :class:`~sk_autoencoder.AutoencoderTransformer` is an ordinary scikit-learn
transformer, so it can sit in a :class:`~sklearn.pipeline.Pipeline` between a scaler
and a classifier, and :class:`~sklearn.model_selection.GridSearchCV` can tune its
parameters together with the classifier's. The grid also swaps the autoencoder for
:class:`~sklearn.decomposition.PCA`, to compare them under the same cross-validation.
"""

# %%
# The pipeline and the grid
# -------------------------
# Step names make parameters addressable: ``reduce__n_components`` is the code width
# of whatever sits in the ``reduce`` step. The first grid covers autoencoders, the
# second PCA; epochs are kept small so that the example runs in seconds.
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sk_autoencoder import AutoencoderTransformer

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)

pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        ("reduce", AutoencoderTransformer(max_epochs=25, learning_rate=3e-3, random_state=0)),
        ("classify", LogisticRegression(max_iter=2000)),
    ]
)
param_grid = [
    {
        "reduce__n_components": [4, 8],
        "reduce__hidden_layer_sizes": [(64,), (128, 64)],
    },
    {
        "reduce": [PCA(random_state=0)],
        "reduce__n_components": [4, 8],
    },
]
grid = GridSearchCV(pipe, param_grid, cv=3)
grid.fit(X_train, y_train)
print("best parameters:", grid.best_params_)
print(f"held-out accuracy of the refitted best pipeline: {grid.score(X_test, y_test):.3f}")

# %%
# Results
# -------
# Mean cross-validated accuracy of every candidate.
results = pd.DataFrame(grid.cv_results_)
results["model"] = [
    "PCA" if isinstance(p.get("reduce"), PCA) else f"AE {p['reduce__hidden_layer_sizes']}"
    for p in results["params"]
]
results["n_components"] = results["param_reduce__n_components"]
summary = results[["model", "n_components", "mean_test_score", "std_test_score"]]
summary.sort_values("mean_test_score", ascending=False).round(3)

# %%
# The same as a figure. In this run the deeper autoencoder gives the best codes at
# both widths, while the shallow one falls behind PCA at width 4: the architecture
# matters as much as the code width, which is why it belongs in the search.
pivot = summary.pivot(index="n_components", columns="model", values="mean_test_score")
ax = pivot.plot.bar(rot=0, figsize=(7, 4))
ax.set(ylabel="mean CV accuracy", ylim=(0.5, 1.0), title="Logistic regression on the codes")
ax.legend(loc="upper left", ncols=3, fontsize="small")
plt.tight_layout()
plt.show()
