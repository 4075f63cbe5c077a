"""Are the transformer's losses to PCA real? The losing fits of a ``bench_reduction.py``
run, refitted, with how far their test rows can tell them from PCA.

``bench_reduction.py`` scores a fit by its held-out MSE against PCA's on the same
rows: a small table's test rows are a few dozen, so a ratio above 1 may be the luck
of those rows. For every fit of ``--input`` (the CSV files of ``bench_reduction.py
--output``) whose MSE is above ``--above`` times PCA's, this refits PCA and the
configuration on the same split and units (``bench_reduction``'s own), checks that the
refit gives back the recorded MSE, and prints, over the test rows' paired differences
(the network's per-row squared error less PCA's):

- ``z``: their mean over its standard error; within about 2, the test rows cannot
  tell the loss from a tie;
- ``top 5%``: the share of their absolute sum held by the 5% of rows with the largest
  ones (where a few rows hold most of it, ``z`` itself is unreliable).

``--wins N`` adds, for contrast, N fits drawn at random (seeded) from those below
``1 / --above`` times PCA's MSE: the same figures show whether the test rows can tell
a win from a tie.

    python benchmarks/bench_losses.py --data-dir ../shared/datasets/adbench \\
        --input half_a.csv half_b.csv --max-rows 1000

``--max-rows`` and ``--config`` must be those of the run (the CSV records neither);
``--config`` names the configuration and its keyword arguments as in
``bench_reduction.py`` (default: ``autoencoder``, the defaults).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from bench_reduction import BASELINE, _parse_config, _split, in_units, tables
from sklearn.decomposition import PCA

from sk_autoencoder import AutoencoderTransformer


def _row_errors(reducer, X_train, X_test) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reducer.fit(X_train)
    return np.mean((reducer.inverse_transform(reducer.transform(X_test)) - X_test) ** 2, axis=1)


def refit(fit: pd.Series, loader, params: dict, max_rows: int) -> dict:
    """One recorded fit, refitted: its paired test-row figures against PCA."""
    X, y = loader()
    X_train, X_test, _, _ = _split(fit["table"], X, y, int(fit["seed"]), max_rows)
    X_train, X_test = in_units(fit["units"], X_train, X_test)
    k, seed = int(fit["k"]), int(fit["seed"])
    pca = _row_errors(PCA(n_components=k, random_state=seed), X_train, X_test)
    net = _row_errors(
        AutoencoderTransformer(**{"n_components": k, "random_state": seed, **params}),
        X_train,
        X_test,
    )
    diff = net - pca
    top = np.sort(np.abs(diff))[::-1][: max(1, len(diff) // 20)]
    return {
        "test rows": len(diff),
        "ratio": net.mean() / pca.mean(),
        "z": diff.mean() / (diff.std(ddof=1) / np.sqrt(len(diff))),
        "top 5%": top.sum() / np.abs(diff).sum(),
        # The refit must be the recorded fit: same split, same random_state.
        "refit gap": abs(net.mean() / fit["recorded"] - 1),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", nargs="+", required=True, help="bench_reduction CSV files")
    parser.add_argument("--data-dir", help="the run's --data-dir")
    parser.add_argument("--max-rows", type=int, default=5000, help="the run's --max-rows")
    parser.add_argument(
        "--config",
        type=_parse_config,
        default=("autoencoder", {}),
        help="NAME=JSON: the configuration to refit (default: autoencoder={})",
    )
    parser.add_argument(
        "--above", type=float, default=1.01, help="fits whose MSE is above this times PCA's"
    )
    parser.add_argument(
        "--wins", type=int, default=0, help="also N winning fits drawn at random, for contrast"
    )
    args = parser.parse_args(argv)
    name, params = args.config
    runs = pd.concat([pd.read_csv(path) for path in args.input], ignore_index=True)
    if f"{name}_mse" not in runs:
        raise SystemExit(f"no configuration {name!r} in {args.input}")
    runs["recorded"] = runs[f"{name}_mse"]
    ratio = runs["recorded"] / runs[f"{BASELINE}_mse"]
    groups = {"losing": runs[ratio > args.above]}
    if args.wins:
        winning = runs[ratio < 1 / args.above]
        groups["winning"] = winning.sample(min(args.wins, len(winning)), random_state=0)
    available = tables(args.data_dir)
    missing = sorted(set(runs["table"]) - set(available))
    if missing:
        raise SystemExit(f"tables not found (--data-dir?): {missing}")
    print(f"{len(groups['losing'])} of {len(runs)} fits above {args.above} times PCA's MSE")
    for group, fits in groups.items():
        rows = []
        for _, fit in fits.iterrows():
            row = {c: fit[c] for c in ("table", "units", "k", "seed")}
            row.update(refit(fit, available[fit["table"]][1], params, args.max_rows))
            rows.append(row)
            print(
                f"{group}: {row['table']} {row['units']} k={row['k']} seed={row['seed']}: "
                f"ratio {row['ratio']:.3f}, z {row['z']:+.2f}",
                flush=True,
            )
        if rows:
            _summarise(group, pd.DataFrame(rows).sort_values("ratio"))


def _summarise(group: str, table: pd.DataFrame) -> None:
    print()
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    size = table["z"].abs()
    print(
        f"\n{len(table)} {group} fits: {int((size > 2).sum())} with |z| > 2, "
        f"{int((size > 3).sum())} with |z| > 3; median z {table['z'].median():+.2f}; "
        f"largest refit gap {table['refit gap'].max():.1e}\n"
    )


if __name__ == "__main__":
    main()
