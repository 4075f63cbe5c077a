"""ADBench: AutoencoderAnomalyDetector against IsolationForest, PCA and PyOD.

The unsupervised protocol on each dataset: standardise X (the same scaling for every
method), fit on all rows without labels, score all rows, and compare the anomaly score
(higher = more abnormal) with the labels by ROC-AUC and average precision. Fit+score
seconds are wall-clock on this machine; compare them only within one run.

Example::

    python benchmarks/bench_adbench.py --data-dir ../shared/datasets/adbench \\
        --output adbench.csv

Datasets with more than ``--max-rows`` rows are subsampled (stratified on the labels,
seeded by ``--seed``) so that the rare anomalies of e.g. smtp are kept.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sk_autoencoder import AutoencoderAnomalyDetector

# Named parameter sets for our detector (plain estimator keyword arguments), chosen
# with --variant; --params adds to / overrides the chosen one.
VARIANTS: dict[str, dict] = {
    "default": {},
    "no-noise": {"noise": 0.0},
    "denoising": {"noise": 0.1, "noise_type": "gaussian"},
    "masking": {"noise": 0.2, "noise_type": "masking"},
    "variational": {"architecture": "variational"},
}

BASELINE = "iforest"


def _load(path: Path, max_rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    data = np.load(path)
    X, y = data["X"].astype(np.float64), data["y"].astype(int)
    if max_rows and len(X) > max_rows:
        X, _, y, _ = train_test_split(X, y, train_size=max_rows, stratify=y, random_state=seed)
    return StandardScaler().fit_transform(X), y


def _pca_scores(X: np.ndarray, seed: int) -> np.ndarray:
    # Reconstruction error from the components explaining 90% of the variance (at
    # least one left out, so that the error is not identically zero).
    pca = PCA(random_state=seed).fit(X)
    k = int(np.searchsorted(np.cumsum(pca.explained_variance_ratio_), 0.9) + 1)
    k = max(1, min(k, X.shape[1] - 1))
    pca = PCA(n_components=k, random_state=seed).fit(X)
    return ((pca.inverse_transform(pca.transform(X)) - X) ** 2).mean(axis=1)


def _make_methods(params: dict, seed: int) -> dict:
    def ours(X):
        return (
            -AutoencoderAnomalyDetector(**{"random_state": seed, **params}).fit(X).score_samples(X)
        )

    def iforest(X):
        return -IsolationForest(random_state=seed).fit(X).score_samples(X)

    methods = {"autoencoder": ours, "iforest": iforest, "pca": lambda X: _pca_scores(X, seed)}
    try:
        from pyod.models.auto_encoder import AutoEncoder
    except ImportError:
        pass
    else:

        def pyod_ae(X):
            return AutoEncoder(verbose=0, random_state=seed).fit(X).decision_function(X)

        methods["pyod_ae"] = pyod_ae
    return methods


def _name(path: Path) -> str:
    return path.stem.split("_", 1)[1]


def run(args) -> pd.DataFrame:
    params = {**VARIANTS[args.variant], **json.loads(args.params)}
    methods = _make_methods(params, args.seed)
    if args.methods:
        missing = set(args.methods) - set(methods)
        if missing:
            raise SystemExit(f"unknown or unavailable methods: {sorted(missing)}")
        methods = {m: methods[m] for m in args.methods}
    paths = sorted(Path(args.data_dir).glob("*.npz"), key=lambda p: int(p.stem.split("_", 1)[0]))
    if not paths:
        raise SystemExit(f"no .npz files in {args.data_dir}")
    if args.datasets:
        paths = [p for p in paths if _name(p) in set(args.datasets)]
    print(f"our detector: {params or 'defaults'}")
    # One untimed call each, so that library start-up (torch's first forward pass,
    # thread pools) is not charged to the first dataset.
    warm_up = np.random.RandomState(0).normal(size=(300, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in methods.values():
            method(warm_up)
    rows = []
    for path in paths:
        X, y = _load(path, args.max_rows, args.seed)
        row = {"dataset": _name(path), "n": len(X), "d": X.shape[1]}
        for name, method in methods.items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scores = method(X)
            row[f"{name}_s"] = time.perf_counter() - start
            row[f"{name}_auc"] = roc_auc_score(y, scores)
            row[f"{name}_ap"] = average_precision_score(y, scores)
        rows.append(row)
        print(
            f"{row['dataset']:>14} n={row['n']:>6} d={row['d']:>5}  "
            + "  ".join(f"{m}={row[f'{m}_auc']:.3f} ({row[f'{m}_s']:.1f}s)" for m in methods),
            flush=True,
        )
    return pd.DataFrame(rows), list(methods)


def summarise(table: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    aucs = table[[f"{m}_auc" for m in methods]].to_numpy()
    wins = (aucs == aucs.max(axis=1, keepdims=True)).sum(axis=0)
    summary = pd.DataFrame(
        {
            "mean ROC-AUC": [table[f"{m}_auc"].mean() for m in methods],
            "mean AP": [table[f"{m}_ap"].mean() for m in methods],
            "wins (ROC-AUC)": wins,
            "total s": [table[f"{m}_s"].sum() for m in methods],
        },
        index=methods,
    )
    if BASELINE in methods:
        summary["ROC-AUC - iforest"] = (
            summary["mean ROC-AUC"] - summary.loc[BASELINE, "mean ROC-AUC"]
        )
        summary["AP - iforest"] = summary["mean AP"] - summary.loc[BASELINE, "mean AP"]
        summary["time / iforest"] = summary["total s"] / summary.loc[BASELINE, "total s"]
    return summary


def _run_seeds(args) -> None:
    rows = []
    for seed in args.seeds:
        args.seed = seed
        table, methods = run(args)
        summary = summarise(table, methods)
        row = {"seed": seed}
        for m in methods:
            row[f"{m} ROC-AUC"] = summary.loc[m, "mean ROC-AUC"]
            row[f"{m} AP"] = summary.loc[m, "mean AP"]
            row[f"{m} s"] = summary.loc[m, "total s"]
        rows.append(row)
    per_seed = pd.DataFrame(rows).set_index("seed")
    per_seed.loc["mean"] = per_seed.mean()
    if BASELINE in methods:
        for m in methods:
            if m != BASELINE:
                per_seed[f"{m} - {BASELINE}"] = (
                    per_seed[f"{m} ROC-AUC"] - per_seed[f"{BASELINE} ROC-AUC"]
                )
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print()
        print(per_seed.round(3))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/datasets/adbench")
    parser.add_argument("--max-rows", type=int, default=20000)
    parser.add_argument("--datasets", nargs="+", help="subset by name, e.g. cardio glass")
    parser.add_argument("--methods", nargs="+", help="subset of: autoencoder iforest pca pyod_ae")
    parser.add_argument("--params", default="{}", help="JSON keyword arguments for ours")
    parser.add_argument("--variant", default="default", choices=sorted(VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        help="run once per seed (subsample and every method's random_state) and print "
        "each run's means and their mean, to tell a real difference from seed noise",
    )
    parser.add_argument("--output", help="CSV file for the per-dataset table")
    args = parser.parse_args(argv)
    if args.seeds:
        _run_seeds(args)
        return
    table, methods = run(args)
    if table.empty:
        raise SystemExit("no dataset matched")
    if args.output:
        table.to_csv(args.output, index=False)
    summary = summarise(table, methods)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print()
        print(table[["dataset", "n", "d", *[f"{m}_auc" for m in methods]]].round(3))
        print()
        print(summary.round(3))


if __name__ == "__main__":
    main()
