"""Missing values: the transformer as an imputer, and the detector on tables with holes.

**Imputation** (``--part imputation``). Each table is standardised once (complete
data, so that every column's RMSE counts alike), then a share of its entries is
removed: at random (MCAR, ``--rates``, default 10%, 30% and 50%), and once where the
removal depends on the value (MNAR, ``--mnar-rate``: entries above their column's
median are removed with twice that probability, those below are kept). No row or
column is left without an observed entry. Every method fits on the table with holes
and fills them; the score is the RMSE over the removed entries, in standard
deviations of the complete column, with fit and impute seconds:

- ``mean``: :class:`~sklearn.impute.SimpleImputer` (column means), the floor;
- ``knn``: :class:`~sklearn.impute.KNNImputer` (5 neighbours);
- ``iterative``: :class:`~sklearn.impute.IterativeImputer` (Bayesian ridge, 10 rounds);
- ``autoencoder``: ``AutoencoderTransformer(**IMPUTER)``, the setting recommended for
  imputation (``--params`` overrides), filling each hole with
  ``inverse_transform(transform(X))``;
- ``ae_defaults`` (with ``--with-defaults``): the transformer's defaults.

**Detection with holes** (``--part detection``). On the ADBench tables (subsampled to
``--max-rows``, stratified, and standardised as in ``bench_adbench.py``), 10% of the
entries are removed at random (``--detection-rate``); ROC-AUC of
``AutoencoderAnomalyDetector()`` and of ``IsolationForest()`` (which takes NaN
natively) on the table with holes, and of both on the complete table.

Tables are split into two fixed halves by name (``--half A`` / ``B``): settings were
chosen on half A and confirmed on half B, over the seeds given.

Example::

    OMP_NUM_THREADS=1 python benchmarks/bench_imputation.py \\
        --data-dir ../shared/datasets/adbench --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.ensemble import IsolationForest
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer

# The transformer set up as an imputer (the recommendation in the user guide).
IMPUTER: dict = {
    "n_components": 32,
    "hidden_layer_sizes": (256, 128),
    "noise": 0.3,
    "noise_type": "masking",
    "learning_rate": 3e-3,
    "max_epochs": 200,
    "n_iter_no_change": 200,
}

# Imputation tables: digits plus ADBench tables of 9 to 166 columns, in two fixed
# halves (alternating in this order).
IMPUTATION_TABLES = [
    "digits",
    "cardio",
    "letter",
    "satellite",
    "Waveform",
    "WDBC",
    "Ionosphere",
    "musk",
    "breastw",
    "optdigits",
    "pendigits",
    "vowels",
]
HALVES = {"A": IMPUTATION_TABLES[0::2], "B": IMPUTATION_TABLES[1::2]}


def _adbench_paths(data_dir: str) -> dict[str, Path]:
    paths = Path(data_dir).glob("*.npz")
    return {p.stem.split("_", 1)[1]: p for p in paths}


def _load_table(name: str, paths: dict[str, Path], max_rows: int) -> np.ndarray:
    """A complete table, standardised (constant columns dropped)."""
    if name == "digits":
        X = load_digits().data
    else:
        X = np.load(paths[name])["X"].astype(np.float64)
    if max_rows and len(X) > max_rows:
        X = X[np.random.RandomState(0).choice(len(X), max_rows, replace=False)]
    X = X[:, X.std(axis=0) > 0]
    return StandardScaler().fit_transform(X)


def _keep_one_per_line(mask: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Unmask one random entry of every row and column that lost all of them."""
    mask = mask.copy()
    for i in np.flatnonzero(mask.all(axis=1)):
        mask[i, rng.randint(mask.shape[1])] = False
    for j in np.flatnonzero(mask.all(axis=0)):
        mask[rng.randint(mask.shape[0]), j] = False
    return mask


def _mcar(X: np.ndarray, rate: float, rng) -> np.ndarray:
    return _keep_one_per_line(rng.rand(*X.shape) < rate, rng)


def _mnar(X: np.ndarray, rate: float, rng) -> np.ndarray:
    """Self-masking: entries above their column's median go missing with probability
    ``2 * rate``; the share removed is ``rate`` on average."""
    above = X > np.median(X, axis=0)
    return _keep_one_per_line(above & (rng.rand(*X.shape) < 2 * rate), rng)


def _sklearn_imputer(make):
    def impute(X_missing, seed):
        imputer = make(seed)
        start = time.perf_counter()
        imputer.fit(X_missing)
        fitted = time.perf_counter()
        filled = imputer.transform(X_missing)
        return filled, fitted - start, time.perf_counter() - fitted

    return impute


def _autoencoder(params: dict):
    def impute(X_missing, seed):
        ae = AutoencoderTransformer(**{**params, "random_state": seed})
        start = time.perf_counter()
        ae.fit(X_missing)
        fitted = time.perf_counter()
        completed = ae.inverse_transform(ae.transform(X_missing))
        filled = np.where(np.isnan(X_missing), completed, X_missing)
        return filled, fitted - start, time.perf_counter() - fitted

    return impute


def _imputers(params: dict, with_defaults: bool) -> dict:
    methods = {
        "mean": _sklearn_imputer(lambda seed: SimpleImputer()),
        "knn": _sklearn_imputer(lambda seed: KNNImputer()),
        "iterative": _sklearn_imputer(lambda seed: IterativeImputer(random_state=seed)),
        "autoencoder": _autoencoder(params),
    }
    if with_defaults:
        methods["ae_defaults"] = _autoencoder({})
    return methods


def run_imputation(args) -> pd.DataFrame:
    params = {**IMPUTER, **json.loads(args.params)}
    methods = _imputers(params, args.with_defaults)
    if args.methods:
        methods = {m: methods[m] for m in args.methods}
    tables = HALVES[args.half] if args.half in HALVES else IMPUTATION_TABLES
    if args.tables:
        tables = args.tables
    paths = _adbench_paths(args.data_dir)
    print(f"autoencoder: {params}")
    settings = [("MCAR", rate) for rate in args.rates] + [("MNAR", args.mnar_rate)]
    rows = []
    for name in tables:
        X = _load_table(name, paths, args.max_rows)
        half = next((h for h, names in HALVES.items() if name in names), "-")
        for mechanism, rate in settings:
            for seed in args.seeds:
                rng = np.random.RandomState(1000 * seed + int(100 * rate))
                mask = (_mcar if mechanism == "MCAR" else _mnar)(X, rate, rng)
                X_missing = np.where(mask, np.nan, X)
                row = {
                    "table": name,
                    "half": half,
                    "n": X.shape[0],
                    "d": X.shape[1],
                    "missing": f"{mechanism} {rate:.0%}",
                    "seed": seed,
                }
                for method, impute in methods.items():
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        filled, fit_s, impute_s = impute(X_missing, seed)
                    row[f"{method}_rmse"] = float(np.sqrt(np.mean((filled[mask] - X[mask]) ** 2)))
                    row[f"{method}_fit_s"] = fit_s
                    row[f"{method}_impute_s"] = impute_s
                rows.append(row)
                shown = ", ".join(f"{m} {row[f'{m}_rmse']:.3f}" for m in methods)
                print(f"{name:<11} {mechanism} {rate:.0%} seed {seed}: {shown}", flush=True)
    return pd.DataFrame(rows)


def summarise_imputation(results: pd.DataFrame) -> None:
    methods = [c[: -len("_rmse")] for c in results.columns if c.endswith("_rmse")]
    rmse = [f"{m}_rmse" for m in methods]
    per_table = results.groupby(["missing", "half", "table"], sort=False)[rmse].mean()
    print("\nRMSE of the removed entries (standard deviations), mean over seeds:\n")
    print(per_table.round(3).to_markdown())
    others = [m for m in methods if m not in ("autoencoder", "mean", "ae_defaults")]
    best_other = per_table[[f"{m}_rmse" for m in others]].min(axis=1)
    wins = (
        (per_table["autoencoder_rmse"] < best_other)
        .groupby(["missing", "half"])
        .agg(["sum", "count"])
    )
    ratio = (per_table["autoencoder_rmse"] / best_other).groupby(["missing", "half"]).mean()
    summary = pd.DataFrame(
        {
            "autoencoder beats knn and iterative": wins["sum"].astype(str)
            + " / "
            + wins["count"].astype(str),
            "mean RMSE ratio vs the best of them": ratio.round(3),
        }
    )
    print("\nAutoencoder against the better of KNNImputer and IterativeImputer, per table:\n")
    print(summary.to_markdown())
    seconds = results[[f"{m}_{k}" for m in methods for k in ("fit_s", "impute_s")]].sum()
    print("\nSeconds, summed over every run:\n")
    print(
        pd.DataFrame(
            {
                "fit s": [seconds[f"{m}_fit_s"] for m in methods],
                "impute s": [seconds[f"{m}_impute_s"] for m in methods],
            },
            index=methods,
        )
        .round(1)
        .to_markdown()
    )


# Both with their defaults; IsolationForest takes NaN natively.
DETECTORS = {"autoencoder": AutoencoderAnomalyDetector, "iforest": IsolationForest}


def run_detection(args) -> pd.DataFrame:
    paths = sorted(
        _adbench_paths(args.data_dir).items(), key=lambda item: int(item[1].stem.split("_")[0])
    )
    if args.tables:
        paths = [(name, path) for name, path in paths if name in set(args.tables)]
    rows = []
    for name, path in paths:
        data = np.load(path)
        X, y = data["X"].astype(np.float64), data["y"].astype(int)
        if args.max_rows and len(X) > args.max_rows:
            X, _, y, _ = train_test_split(
                X, y, train_size=args.max_rows, stratify=y, random_state=0
            )
        X = StandardScaler().fit_transform(X)
        for seed in args.seeds:
            rng = np.random.RandomState(seed)
            X_missing = np.where(_mcar(X, args.detection_rate, rng), np.nan, X)
            row = {"dataset": name, "n": len(X), "d": X.shape[1], "seed": seed}
            for method, detector in DETECTORS.items():
                for table, data_ in (("holes", X_missing), ("complete", X)):
                    start = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        model = detector(random_state=seed).fit(data_)
                        scores = -model.score_samples(data_)
                    row[f"{method}_{table}_auc"] = roc_auc_score(y, scores)
                    row[f"{method}_{table}_s"] = time.perf_counter() - start
            rows.append(row)
            print(
                f"{name:<13} seed {seed}: "
                + ", ".join(f"{k[:-4]} {v:.3f}" for k, v in row.items() if k.endswith("_auc")),
                flush=True,
            )
    return pd.DataFrame(rows)


def summarise_detection(results: pd.DataFrame, rate: float) -> None:
    auc = [c for c in results.columns if c.endswith("_auc")]
    per_dataset = results.groupby("dataset", sort=False)[auc].mean()
    print(f"\nROC-AUC with {rate:.0%} of the entries missing and on the complete table:\n")
    print(per_dataset.round(3).to_markdown())
    mean = per_dataset.mean()
    per_seed = results.groupby("seed")[auc].mean()
    print("\nMean over the datasets (per seed, then their mean):\n")
    print(pd.concat([per_seed, mean.to_frame("mean").T]).round(3).to_markdown())
    holes = per_dataset["autoencoder_holes_auc"] - per_dataset["iforest_holes_auc"]
    print(
        f"\nWith holes, autoencoder - iforest: {holes.mean():+.3f} on average, ahead on "
        f"{int((holes > 0).sum())} of {len(holes)} datasets; the holes cost the "
        f"autoencoder {mean['autoencoder_complete_auc'] - mean['autoencoder_holes_auc']:.3f} "
        f"and IsolationForest {mean['iforest_complete_auc'] - mean['iforest_holes_auc']:.3f}."
    )
    seconds = results[[c for c in results.columns if c.endswith("_s")]].sum()
    print("\nFit + score seconds, summed:", seconds.round(1).to_dict())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="folder of the ADBench .npz files")
    parser.add_argument("--part", choices=["imputation", "detection", "both"], default="both")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.1, 0.3, 0.5])
    parser.add_argument("--mnar-rate", type=float, default=0.3)
    parser.add_argument("--half", choices=["A", "B", "all"], default="all")
    parser.add_argument("--tables", nargs="*", help="only these tables (names)")
    parser.add_argument("--methods", nargs="*", help="only these imputation methods")
    parser.add_argument("--max-rows", type=int, default=2000, help="rows per imputation table")
    parser.add_argument("--params", default="{}", help="JSON overrides of the autoencoder's")
    parser.add_argument("--with-defaults", action="store_true", help="also the defaults")
    parser.add_argument("--detection-rate", type=float, default=0.1)
    parser.add_argument("--detection-max-rows", type=int, default=20000)
    parser.add_argument("--output", help="CSV prefix for the per-run results")
    args = parser.parse_args()
    if args.part in ("imputation", "both"):
        results = run_imputation(args)
        summarise_imputation(results)
        if args.output:
            results.to_csv(f"{args.output}_imputation.csv", index=False)
    if args.part in ("detection", "both"):
        args.max_rows = args.detection_max_rows
        results = run_detection(args)
        summarise_detection(results, args.detection_rate)
        if args.output:
            results.to_csv(f"{args.output}_detection.csv", index=False)


if __name__ == "__main__":
    main()
