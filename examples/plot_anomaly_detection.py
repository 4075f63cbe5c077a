"""
===========================================
Anomaly detection with reconstruction error
===========================================

An autoencoder trained on a table learns to reconstruct its typical rows; rows it
reconstructs badly are abnormal. :class:`~sk_autoencoder.AutoencoderAnomalyDetector`
turns that error into an outlier detector with the API of
:class:`~sklearn.ensemble.IsolationForest`, and
:meth:`~sk_autoencoder.AutoencoderAnomalyDetector.score_features` says which columns
made a row abnormal.

The data: the benign tumours of scikit-learn's breast cancer table, with a few
malignant ones mixed in as the anomalies. The labels are used only to evaluate.
"""

# %%
# A contaminated table
# --------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from sk_autoencoder import AutoencoderAnomalyDetector

data = load_breast_cancer(as_frame=True)
X_all, y_all = data.data, data.target  # target 1 = benign, 0 = malignant
rng = np.random.RandomState(0)
benign = X_all[y_all == 1]
malignant = X_all[y_all == 0].sample(15, random_state=rng)
X = pd.concat([benign, malignant])
is_anomaly = np.r_[np.zeros(len(benign)), np.ones(len(malignant))].astype(int)
print(f"{len(X)} rows, {is_anomaly.sum()} anomalies, {X.shape[1]} features")

# %%
# Fit without labels, score every row
# -----------------------------------
# ``score_samples`` is the negative error (higher is more normal): the reconstruction
# error plus the neighbour term (the gap to the 10th nearest well-reconstructed training
# row), so ``-score_samples`` ranks the anomalies first.
detector = AutoencoderAnomalyDetector(random_state=0).fit(X)
scores = -detector.score_samples(X)
forest = IsolationForest(random_state=0).fit(X)
print(f"ROC-AUC autoencoder:     {roc_auc_score(is_anomaly, scores):.3f}")
print(f"ROC-AUC IsolationForest: {roc_auc_score(is_anomaly, -forest.score_samples(X)):.3f}")
print(f"rows flagged by the 'auto' threshold: {(detector.predict(X) == -1).sum()}")

# %%
# Why is a row abnormal?
# ----------------------
# ``score_features`` returns each row's error per column, reconstruction plus neighbour
# term (a DataFrame with the table's column names); its mean over the columns is the
# row's score. The
# three columns with the largest errors explain each of the top-ranked rows.
per_feature = detector.score_features(X)
top = np.argsort(scores)[::-1][:8]
explained = pd.DataFrame(
    {
        "score": scores[top],
        "malignant": is_anomaly[top].astype(bool),
        "most responsible features": [
            ", ".join(per_feature.iloc[i].nlargest(3).index) for i in top
        ],
    },
    index=X.index[top],
)
with pd.option_context("display.max_colwidth", 80, "display.width", 140, "display.max_columns", 5):
    print(explained)

# %%
# Scores and the threshold
# ------------------------
# The training rows' errors (``scores`` above, ``-score_samples``)
# against the cut chosen by ``contamination="auto"``: Tukey's fence on the training
# errors, which is ``-offset_`` in this unit.
fig, ax = plt.subplots(figsize=(7, 4))
bins = np.histogram_bin_edges(np.log10(scores), bins=40)
for label, name in [(0, "benign"), (1, "malignant")]:
    ax.hist(np.log10(scores[is_anomaly == label]), bins=bins, alpha=0.6, label=name)
ax.axvline(np.log10(-detector.offset_), color="k", linestyle="--", label="threshold")
ax.set_xlabel("log10 reconstruction error (-score_samples)")
ax.set_ylabel("rows")
ax.legend()
fig.tight_layout()
plt.show()
