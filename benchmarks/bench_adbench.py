"""ADBench: AutoencoderAnomalyDetector against IsolationForest, PCA and PyOD.

The unsupervised protocol on each dataset: standardise X (the same scaling for every
method), fit on all rows without labels, score all rows, and compare the anomaly score
(higher = more abnormal) with the labels by ROC-AUC and average precision. Fit+score
seconds are wall-clock on this machine; compare them only within one run (the printed
ratios to IsolationForest).

Example::

    python benchmarks/bench_adbench.py --data-dir ../shared/datasets/adbench \\
        --output adbench.csv

Baselines: IsolationForest and PCA reconstruction error (scikit-learn), and, when
``pyod`` is importable (a benchmark-only dependency), PyOD's KNN, LOF, ECOD and
AutoEncoder with their defaults. ``--methods`` picks a subset (PyOD's AutoEncoder
alone takes minutes per seed).

The datasets fall into two fixed halves: sorted by name (ignoring case), half ``a``
holds the even positions and half ``b`` the odd ones. Choose a setting on one half
(``--half a``), confirm it on the other; without ``--half`` both are run and reported
side by side. ``--seeds`` repeats everything per seed (the subsample of large sets and
every method's ``random_state``) and prints each seed's means and their mean.

Datasets with more than ``--max-rows`` rows are subsampled (stratified on the labels,
seeded by the seed) so that the rare anomalies of e.g. smtp are kept.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _tables import halves, table_name, table_paths
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
OURS = "autoencoder"


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
    """Anomaly-score functions (higher = more abnormal) by method name."""

    def ours(X):
        detector = AutoencoderAnomalyDetector(**{"random_state": seed, **params})
        return -detector.fit(X).score_samples(X)

    def iforest(X):
        return -IsolationForest(random_state=seed).fit(X).score_samples(X)

    methods = {OURS: ours, BASELINE: iforest, "pca": lambda X: _pca_scores(X, seed)}
    try:
        from pyod.models.auto_encoder import AutoEncoder
        from pyod.models.ecod import ECOD
        from pyod.models.knn import KNN
        from pyod.models.lof import LOF
    except ImportError:
        return methods
    # PyOD's defaults; decision_function is higher for more abnormal rows.
    methods["knn"] = lambda X: KNN().fit(X).decision_function(X)
    methods["lof"] = lambda X: LOF().fit(X).decision_function(X)
    methods["ecod"] = lambda X: ECOD().fit(X).decision_function(X)
    methods["pyod_ae"] = lambda X: (
        AutoEncoder(verbose=0, random_state=seed).fit(X).decision_function(X)
    )
    return methods


def run(args, seed: int) -> tuple[pd.DataFrame, list[str]]:
    """One row per dataset: size, half, and each method's ROC-AUC, AP and seconds."""
    params = {**VARIANTS[args.variant], **json.loads(args.params)}
    methods = _make_methods(params, seed)
    if args.methods:
        missing = set(args.methods) - set(methods)
        if missing:
            raise SystemExit(f"unknown or unavailable methods: {sorted(missing)}")
        methods = {m: methods[m] for m in args.methods}
    paths = table_paths(args.data_dir)
    if not paths:
        raise SystemExit(f"no .npz files in {args.data_dir}")
    half_of = halves(paths)
    if args.datasets:
        paths = [p for p in paths if table_name(p) in set(args.datasets)]
    if args.half:
        paths = [p for p in paths if half_of[table_name(p)] == args.half]
    print(f"seed {seed}; our detector: {params or 'defaults'}")
    # One untimed call each, so that library start-up (torch's first forward pass,
    # thread pools) is not charged to the first dataset.
    warm_up = np.random.RandomState(0).normal(size=(300, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in methods.values():
            method(warm_up)
    rows = []
    for path in paths:
        X, y = _load(path, args.max_rows, seed)
        name = table_name(path)
        row = {"seed": seed, "dataset": name, "half": half_of[name], "n": len(X), "d": X.shape[1]}
        for method_name, method in methods.items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scores = method(X)
            row[f"{method_name}_s"] = time.perf_counter() - start
            row[f"{method_name}_auc"] = roc_auc_score(y, scores)
            row[f"{method_name}_ap"] = average_precision_score(y, scores)
        rows.append(row)
        print(
            f"{name:>14} ({row['half']}) n={row['n']:>6} d={row['d']:>5}  "
            + "  ".join(f"{m}={row[f'{m}_auc']:.3f} ({row[f'{m}_s']:.1f}s)" for m in methods),
            flush=True,
        )
    return pd.DataFrame(rows), list(methods)


def summarise(table: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    """Per method: mean ROC-AUC and AP, wins, seconds and the ratios to IsolationForest.

    ``table`` holds one seed's rows (one per dataset). A win is the best ROC-AUC (or
    AP) on a dataset; ties count for every tied method.
    """
    summary = pd.DataFrame(
        {
            "mean ROC-AUC": [table[f"{m}_auc"].mean() for m in methods],
            "mean AP": [table[f"{m}_ap"].mean() for m in methods],
        },
        index=methods,
    )
    for metric, label in [("auc", "wins (ROC-AUC)"), ("ap", "wins (AP)")]:
        values = table[[f"{m}_{metric}" for m in methods]].to_numpy()
        summary[label] = (values == values.max(axis=1, keepdims=True)).sum(axis=0)
    summary["total s"] = [table[f"{m}_s"].sum() for m in methods]
    if BASELINE in methods:
        base = summary.loc[BASELINE]
        summary["ROC-AUC - iforest"] = summary["mean ROC-AUC"] - base["mean ROC-AUC"]
        summary["AP - iforest"] = summary["mean AP"] - base["mean AP"]
        summary["time / iforest"] = summary["total s"] / base["total s"]
    return summary


def _by_half(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The table's halves, then all its datasets (when it holds both halves)."""
    parts = [(f"half {h}", table[table["half"] == h]) for h in sorted(table["half"].unique())]
    if len(parts) > 1:
        parts.append(("all", table))
    return parts


def _print_halves(table: pd.DataFrame) -> None:
    for half in sorted(table["half"].unique()):
        names = table.loc[table["half"] == half, "dataset"].unique()
        print(f"half {half} ({len(names)} datasets): {' '.join(names)}")


def seed_summary(table: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    """Means over seeds, per half: each seed's mean ROC-AUC, then the means of the
    ROC-AUC, AP, wins and time ratio over the seeds."""
    out = []
    for label, part in _by_half(table):
        per_seed = {seed: summarise(rows, methods) for seed, rows in part.groupby("seed")}
        frame = pd.DataFrame(
            {f"ROC-AUC seed {s}": summary["mean ROC-AUC"] for s, summary in per_seed.items()}
        )
        stacked = pd.concat(per_seed.values())
        means = stacked.groupby(level=0, sort=False).mean()
        frame["mean ROC-AUC"] = means["mean ROC-AUC"]
        frame["mean AP"] = means["mean AP"]
        frame["wins (ROC-AUC)"] = means["wins (ROC-AUC)"]
        if BASELINE in methods:
            frame["ROC-AUC - iforest"] = means["ROC-AUC - iforest"]
            frame["time / iforest"] = means["time / iforest"]
        frame.index = pd.MultiIndex.from_product([[label], frame.index], names=["", "method"])
        out.append(frame)
    return pd.concat(out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/datasets/adbench")
    parser.add_argument("--max-rows", type=int, default=20000)
    parser.add_argument("--datasets", nargs="+", help="subset by name, e.g. cardio glass")
    parser.add_argument(
        "--half", choices=["a", "b"], help="only this half of the datasets (see above)"
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        help="subset of: autoencoder iforest pca knn lof ecod pyod_ae (the last four need pyod)",
    )
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
    parser.add_argument("--output", help="CSV file for the per-dataset (and seed) table")
    args = parser.parse_args(argv)
    seeds = args.seeds or [args.seed]
    tables = []
    for seed in seeds:
        table, methods = run(args, seed)
        if table.empty:
            raise SystemExit("no dataset matched")
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    if args.output:
        table.to_csv(args.output, index=False)
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print()
        _print_halves(table)
        if len(seeds) == 1:
            print()
            print(table[["dataset", "half", "n", "d", *[f"{m}_auc" for m in methods]]].round(3))
            for label, part in _by_half(table):
                print(f"\n{label} ({part['dataset'].nunique()} datasets)")
                print(summarise(part, methods).round(3))
        else:
            print()
            print(seed_summary(table, methods).round(3))


if __name__ == "__main__":
    main()
