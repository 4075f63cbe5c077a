"""Dimensionality reduction: AutoencoderTransformer against PCA, table by table.

For every table: a 75/25 split (stratified on the labels), PCA and each autoencoder
configuration fitted on the training rows with ``n_components=k`` for every ``k`` in
``--ks`` below the table's width, and on the held-out rows:

- reconstruction MSE (``inverse_transform(transform(X))`` against ``X``), and its ratio
  to PCA's (below 1: the autoencoder reconstructs better);
- the downstream score of a logistic regression trained on each method's codes of the
  training rows (codes standardised first): accuracy, or ROC-AUC for a binary task;
- seconds per fit.

Each table is measured in two unit systems (``--units``): ``own``, the columns as
they come (where near-constant and sparse columns bite), and ``standardised``, after
a ``StandardScaler`` fitted on the training rows (MSE then in standard deviations),
as in a ``Pipeline`` that scales before reducing. Every configuration sees the same
rows as PCA.

Tables: scikit-learn's digits, iris, wine, breast cancer and diabetes (its target,
disease progression, split at the training median into a binary task; raw units, not
scikit-learn's pre-scaled copy), and every ``.npz`` table under ``--data-dir`` (``X``,
``y``; the 33 ADBench tables, whose anomaly labels serve as a binary task). Tables
with more rows than ``--max-rows / 0.75`` are subsampled (stratified, seeded) so that
at most ``--max-rows`` rows train.

Halves (``--half``), to choose settings on one and confirm them on the other: the
``--data-dir`` tables sorted by name ignoring case, half ``a`` the even positions and
half ``b`` the odd ones (``_tables.halves``, the same halves as ``bench_adbench.py``);
the scikit-learn tables belong to half ``a``.

Example (the issue-15 figures; about an hour on two cores)::

    OMP_NUM_THREADS=1 python benchmarks/bench_reduction.py \\
        --data-dir ../shared/datasets/adbench --seeds 0 1 2 --output reduction.csv

``--config NAME=JSON`` (repeatable) adds autoencoder configurations (keyword arguments
on top of the defaults), measured in the same run on the same splits, e.g.
``--config default={} --config old='{"hidden_layer_sizes": [100]}'``.

``--best-of`` adds a row that takes, for every (table, units, k), whichever of PCA and
the configurations reconstructs the *held-out* rows best: a bound on what any rule
choosing among them from the training rows could reach, not a method. ``--input``
summarises the CSV files of earlier runs (``--output``) instead of running, e.g. the
halves of one study run on two cores::

    python benchmarks/bench_reduction.py --input half_a.csv half_b.csv --best-of
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from _tables import halves, table_name, table_paths
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
)
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_autoencoder import AutoencoderTransformer

BASELINE = "pca"


def _diabetes() -> tuple[np.ndarray, np.ndarray]:
    # Raw units (scikit-learn's default copy is already centred and scaled); the
    # continuous target is binarised per split (see _split).
    return load_diabetes(return_X_y=True, scaled=False)


SKLEARN_TABLES: dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = {
    "digits": lambda: load_digits(return_X_y=True),
    "iris": lambda: load_iris(return_X_y=True),
    "sk_wine": lambda: load_wine(return_X_y=True),
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
    "diabetes": _diabetes,
}
# Tables whose target is continuous: split at the training median.
_REGRESSION = {"diabetes"}


def tables(data_dir: str | None) -> dict[str, tuple[str, Callable]]:
    """Every table by name: ``(half, loader)``."""
    out = {name: ("a", loader) for name, loader in SKLEARN_TABLES.items()}
    if data_dir is None:
        return out
    paths = {table_name(p): p for p in table_paths(data_dir)}
    if not paths:
        raise SystemExit(f"no .npz files in {data_dir}")
    half_of = halves(list(paths.values()))
    for name in paths:

        def load(path=paths[name]):
            data = np.load(path)
            return data["X"], data["y"]

        out[name] = (half_of[name], load)
    return out


def _split(name, X, y, seed, max_rows):
    """75/25 split, stratified; at most ``max_rows`` training rows."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    strata = y if name not in _REGRESSION else y > np.median(y)
    n_keep = int(max_rows / 0.75)
    if max_rows and len(X) > n_keep:
        X, _, y, _, strata, _ = train_test_split(
            X, y, strata, train_size=n_keep, stratify=strata, random_state=seed
        )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=strata, random_state=seed
    )
    if name in _REGRESSION:
        threshold = np.median(y_train)
        y_train, y_test = (y_train > threshold).astype(int), (y_test > threshold).astype(int)
    return X_train, X_test, y_train, y_test


def in_units(unit: str, X_train, X_test):
    """The split in ``unit``: as it comes (``"own"``), or ``"standardised"`` by a
    ``StandardScaler`` fitted on the training rows."""
    if unit == "own":
        return X_train, X_test
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


def _downstream(Z_train, Z_test, y_train, y_test) -> float:
    """Logistic regression on standardised codes: ROC-AUC if binary, else accuracy;
    NaN where the training rows hold one class (a subsample of a table with a few
    dozen anomalies in 95,000 rows)."""
    if len(np.unique(y_train)) < 2:
        return float("nan")
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(Z_train, y_train)
    if len(np.unique(y_train)) == 2:
        return float(roc_auc_score(y_test, clf.predict_proba(Z_test)[:, 1]))
    return float(clf.score(Z_test, y_test))


def _measure(reducer, X_train, X_test, y_train, y_test) -> dict:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reducer.fit(X_train)
    seconds = time.perf_counter() - start
    Z_test = reducer.transform(X_test)
    mse = float(np.mean((reducer.inverse_transform(Z_test) - X_test) ** 2))
    down = _downstream(reducer.transform(X_train), Z_test, y_train, y_test)
    return {"mse": mse, "down": down, "s": seconds}


def run_table(name, loader, configs, seeds, ks, units, max_rows) -> list[dict]:
    """One row per (seed, units, k) of ``name``, every method's figures side by side."""
    X, y = loader()
    rows = []
    for seed in seeds:
        X_train, X_test, y_train, y_test = _split(name, X, y, seed, max_rows)
        for unit in units:
            Xtr, Xte = in_units(unit, X_train, X_test)
            for k in ks:
                if k >= X.shape[1]:
                    continue
                row = {"table": name, "n": len(Xtr), "d": X.shape[1], "seed": seed}
                row.update({"units": unit, "k": k})
                methods = {BASELINE: PCA(n_components=k, random_state=seed)}
                for cname, params in configs.items():
                    methods[cname] = AutoencoderTransformer(
                        **{"n_components": k, "random_state": seed, **params}
                    )
                for method, reducer in methods.items():
                    for key, value in _measure(reducer, Xtr, Xte, y_train, y_test).items():
                        row[f"{method}_{key}"] = value
                rows.append(row)
    return rows


BEST_OF = "best-of"


def _add_best_of(means: pd.DataFrame, configs: list[str]) -> pd.DataFrame:
    """``means`` with the figures of whichever method (PCA or a configuration) has the
    lowest held-out MSE on each row, as the pseudo-configuration ``best-of``."""
    methods = [BASELINE, *configs]
    mse = means[[f"{m}_mse" for m in methods]].to_numpy()
    pick = np.nanargmin(mse, axis=1)
    rows = np.arange(len(means))
    out = means.copy()
    for key in ("mse", "down"):
        out[f"{BEST_OF}_{key}"] = means[[f"{m}_{key}" for m in methods]].to_numpy()[rows, pick]
    # Choosing costs every candidate's fit.
    out[f"{BEST_OF}_s"] = means[[f"{m}_s" for m in methods]].sum(axis=1)
    return out


def summarise(table: pd.DataFrame, configs: list[str], best_of: bool = False) -> pd.DataFrame:
    """Per units, configuration and half: the figures the issue asks for.

    Seeds are averaged first (per table and k, MSE ratio = mean MSE / mean PCA MSE);
    ``best_of`` adds the ``best-of`` bound, chosen on those averages.
    """
    keys = ["table", "half", "units", "k"]
    means = table.groupby(keys).mean(numeric_only=True).reset_index()
    if best_of:
        means, configs = _add_best_of(means, configs), [*configs, BEST_OF]
    groups = [(unit, half, g) for (unit, half), g in means.groupby(["units", "half"])]
    if means["half"].nunique() > 1:
        groups += [(unit, "all", g) for unit, g in means.groupby("units")]
    out = []
    for unit, half, group in groups:
        for c in configs:
            ratio = group[f"{c}_mse"] / group[f"{BASELINE}_mse"]
            small = ratio[group["k"] <= 4]
            per_table = group.groupby("table")[[f"{c}_down", f"{BASELINE}_down"]].mean()
            out.append(
                {
                    "units": unit,
                    "half": half,
                    "config": c,
                    "tables": group["table"].nunique(),
                    "pairs": len(group),
                    "median MSE ratio": ratio.median(),
                    "median ratio k<=4": small.median(),
                    "worst ratio": ratio.max(),
                    "pairs worse than PCA": int((ratio > 1).sum()),
                    # Without the ties in float32 rounding (a network that kept its
                    # PCA start can come out 1.00001 of PCA's error).
                    "worse by > 1%": int((ratio > 1.01).sum()),
                    "tables downstream >= PCA": int(
                        (per_table[f"{c}_down"] >= per_table[f"{BASELINE}_down"] - 1e-12).sum()
                    ),
                    "mean downstream - PCA": (
                        group[f"{c}_down"] - group[f"{BASELINE}_down"]
                    ).mean(),
                    "s per fit": group[f"{c}_s"].mean(),
                    "s / PCA's": group[f"{c}_s"].sum() / group[f"{BASELINE}_s"].sum(),
                }
            )
    return pd.DataFrame(out).sort_values(["units", "half", "config"]).reset_index(drop=True)


def per_table(table: pd.DataFrame, configs: list[str]) -> pd.DataFrame:
    """Per table, units and k (seeds averaged): MSE ratios and downstream scores."""
    means = table.groupby(["table", "half", "units", "k"]).mean(numeric_only=True)
    out = pd.DataFrame(index=means.index)
    out["pca_mse"] = means[f"{BASELINE}_mse"]
    for c in configs:
        out[f"{c}/pca"] = means[f"{c}_mse"] / means[f"{BASELINE}_mse"]
    out["pca_down"] = means[f"{BASELINE}_down"]
    for c in configs:
        out[f"{c}_down"] = means[f"{c}_down"]
    return out.reset_index()


def _parse_config(text: str) -> tuple[str, dict]:
    name, sep, params = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--config needs NAME=JSON, got {text!r}")
    return name, json.loads(params)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="folder of .npz tables (X, y), e.g. ADBench's")
    parser.add_argument("--tables", nargs="+", help="subset by name, e.g. digits cardio")
    parser.add_argument("--half", choices=["a", "b"], help="only the tables of one half")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--ks", type=int, nargs="+", default=[2, 4, 8, 16])
    parser.add_argument(
        "--units", nargs="+", choices=["own", "standardised"], default=["own", "standardised"]
    )
    parser.add_argument("--max-rows", type=int, default=5000, help="training rows at most")
    parser.add_argument(
        "--config",
        type=_parse_config,
        action="append",
        help="NAME=JSON autoencoder keyword arguments (repeatable); default: the defaults",
    )
    parser.add_argument("--output", help="CSV file for the raw per-(table, seed, k) rows")
    parser.add_argument("--per-table", action="store_true", help="print per-table rows")
    parser.add_argument(
        "--best-of",
        action="store_true",
        help="add the best of PCA and the configurations per pair, chosen on held-out rows",
    )
    parser.add_argument(
        "--input", nargs="+", help="summarise these --output CSV files instead of running"
    )
    args = parser.parse_args(argv)
    if args.input:
        _report(pd.concat([pd.read_csv(path) for path in args.input]), args)
        return
    configs = dict(args.config or [("autoencoder", {})])
    for reserved in (BASELINE, BEST_OF):
        if reserved in configs:
            raise SystemExit(f"--config name {reserved!r} is reserved")
    available = tables(args.data_dir)
    if args.tables:
        missing = set(args.tables) - set(available)
        if missing:
            raise SystemExit(f"unknown tables: {sorted(missing)}")
        available = {name: available[name] for name in args.tables}
    if args.half:
        available = {n: v for n, v in available.items() if v[0] == args.half}
    print("configurations:", json.dumps(configs))
    for half in "ab":
        names = [n for n, (h, _) in available.items() if h == half]
        if names:
            print(f"half {half}: {' '.join(names)}")
    print(f"seeds {args.seeds}, k in {args.ks}, units {args.units}, <= {args.max_rows} rows")
    # One untimed fit, so that torch's start-up is not charged to the first table.
    AutoencoderTransformer(max_epochs=1).fit(np.random.RandomState(0).normal(size=(50, 4)))
    rows = []
    for name, (half, loader) in available.items():
        start = time.perf_counter()
        table_rows = run_table(
            name, loader, configs, args.seeds, args.ks, args.units, args.max_rows
        )
        for row in table_rows:
            row["half"] = half
        rows += table_rows
        done = pd.DataFrame(table_rows).groupby(["units", "k"]).mean(numeric_only=True)
        ratios = "  ".join(
            f"{c}: "
            + " ".join(
                f"{u[0]}{k}={done.loc[(u, k), f'{c}_mse'] / done.loc[(u, k), 'pca_mse']:.2f}"
                for u, k in done.index
            )
            for c in configs
        )
        print(f"{name:>14} ({time.perf_counter() - start:5.0f}s)  {ratios}", flush=True)
    table = pd.DataFrame(rows)
    if args.output:
        table.to_csv(args.output, index=False)
    _report(table, args)


def _configs(table: pd.DataFrame) -> list[str]:
    """The configurations whose figures ``table`` holds, in column order."""
    return [
        c[: -len("_mse")] for c in table.columns if c.endswith("_mse") and c != f"{BASELINE}_mse"
    ]


def _report(table: pd.DataFrame, args) -> None:
    configs = _configs(table)
    with pd.option_context(
        "display.width", 250, "display.max_columns", 40, "display.max_rows", 500
    ):
        if args.per_table:
            print()
            print(per_table(table, configs).round(3).to_string(index=False))
        print()
        print(summarise(table, configs, args.best_of).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
