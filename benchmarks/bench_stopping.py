"""How long should ``check_start``'s full fit train? Rules measured offline, exactly.

``record`` runs ``bench_reduction.py`` as shipped (same arguments) and records, for
every transformer fit with ``check_start``:

- its cross-fit: for each candidate, the per-row held-out errors of both halves
  every ``max_epochs / 20`` epochs (epoch 0 is the PCA start, ``max_epochs`` the
  trained network), measured as ``check_start="conservative"`` measures them;
- its full fit: the test rows' MSE (the benchmark's units) and downstream score at
  the same epochs.

The full fit's learning-rate schedule has ``max_epochs`` as its horizon, so a fit
stopped at epoch ``e`` on that schedule is the recorded fit at epoch ``e``: ``rules``
evaluates any stopping or choosing rule from the records without refitting. It
checks itself: the shipped two-way rule must give back every fit's own figure.

    python benchmarks/bench_stopping.py record --data-dir ../shared/datasets/adbench \\
        --half a --seeds 6 7 8 --max-rows 1000 --output stop_a     # stop_a.csv, .pkl
    python benchmarks/bench_stopping.py rules stop_a stop_b

The recorder wraps private methods of this version (``_cross_fit``); it is a
measuring tool, not an API.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_reduction  # noqa: E402

from sk_autoencoder import AutoencoderTransformer, _base  # noqa: E402
from sk_autoencoder._callbacks import _HeldOutCurve  # noqa: E402

_RECORDS: dict = {}
_CURRENT: dict = {}
_library_cross_fit = _base._BaseAutoencoder._cross_fit


def _recording_cross_fit(self, X, weights, seed, candidates):
    """``_BaseAutoencoder._cross_fit`` with ``check_start="conservative"``'s curves
    measured for every candidate and kept on ``self._stopping_record``; the fit is
    given no curves, so it decides as its own ``check_start`` does."""
    if weights is not None:
        raise SystemExit("the recorder measures unweighted fits only")
    given = self.check_start
    self.check_start = "conservative"  # the folds are built with check_start=False
    try:
        trained, start, curves = _library_cross_fit(self, X, weights, seed, candidates)
    finally:
        self.check_start = given
    n = X.shape[0]
    self._stopping_record = None
    if curves is not None:
        self._stopping_record = {
            "trained": trained,
            "start": start,
            "curves": [curve for curve, _ in curves],
            "max_epochs": self.max_epochs,
            "split": n - n // 2,  # rows of the first fold's held-out half
        }
    return trained, start, None


def _recording_measure(reducer, X_train, X_test, y_train, y_test) -> dict:
    if not isinstance(reducer, AutoencoderTransformer):
        return _plain_measure(reducer, X_train, X_test, y_train, y_test)

    def evaluate(net, dataset):
        reducer.net_ = net  # set again when the fit ends
        reducer.n_components_ = reducer.n_components
        with _base._as_fitted(net, dataset):
            Z = reducer.transform(X_test)
            mse = float(np.mean((reducer.inverse_transform(Z) - X_test) ** 2))
            Z_train = reducer.transform(X_train)
        return mse, bench_reduction._downstream(Z_train, Z, y_train, y_test)

    probe = _HeldOutCurve(evaluate, _base._stopping_epochs(reducer.max_epochs))
    reducer.set_params(callbacks=[("test_probe", probe)])
    result = _plain_measure(reducer, X_train, X_test, y_train, y_test)
    key = (_CURRENT["table"], _CURRENT["seed"], _CURRENT["units"], reducer.n_components)
    _RECORDS[key] = {
        "cross_fit": getattr(reducer, "_stopping_record", None),
        "test": dict(probe.curve_),
        "mse": result["mse"],
    }
    return result


def _recording_run_table(name, loader, configs, seeds, ks, units, max_rows):
    rows = []
    for seed in seeds:
        for unit in units:
            _CURRENT.update(table=name, seed=seed, units=unit)
            rows += _plain_run_table(name, loader, configs, [seed], ks, [unit], max_rows)
    with open(_PICKLE, "wb") as f:  # after each table, so a cut run keeps its tables
        pickle.dump(_RECORDS, f)
    return rows


_plain_measure, _plain_run_table = bench_reduction._measure, bench_reduction.run_table
_PICKLE = None


def record(argv: list[str]) -> None:
    global _PICKLE
    if "--output" not in argv or "--config" in argv:
        raise SystemExit("record needs --output PREFIX and measures the defaults only")
    i = argv.index("--output") + 1
    prefix = argv[i]
    _PICKLE, argv[i] = f"{prefix}.pkl", f"{prefix}.csv"
    _base._BaseAutoencoder._cross_fit = _recording_cross_fit
    bench_reduction._measure = _recording_measure
    bench_reduction.run_table = _recording_run_table
    bench_reduction.main(argv)


# ------------------------------------------------------------------ rules
def _curve(cross_fit, i, points: int | None) -> dict:
    """Candidate ``i``'s curve (epoch -> held-out rows' errors, both halves); with
    ``points``, only the ends and the ``points - 1`` equally spaced epochs between."""
    curve = cross_fit["curves"][i]
    if points is None:
        return curve
    M = cross_fit["max_epochs"]
    keep = {round(M * j / points) for j in range(points + 1)}
    return {e: rows for e, rows in curve.items() if e in keep}


def lowest(points: int | None):
    """The epoch of lowest summed held-out error of the two halves (``points=1``:
    the two ends, which is the shipped rule)."""

    def rule(cross_fit, i):
        split = cross_fit["split"]
        errors = {
            e: rows[:split].mean() + rows[split:].mean()
            for e, rows in _curve(cross_fit, i, points).items()
        }
        return min(errors, key=errors.get)

    return rule


def within_se(points: int | None, z: float):
    """The earliest epoch (closest to the PCA start) whose held-out error is within
    ``z`` paired standard errors (over the held-out rows) of the lowest one: the
    library's rule (``z=3``, all points: ``check_start="conservative"``)."""

    def rule(cross_fit, i):
        return _base._earliest_within_margin(_curve(cross_fit, i, points), None, z)

    return rule


def lower_bound(points: int | None, z: float):
    """The epoch whose gain over the PCA start has the highest lower bound, the mean
    gain less ``z`` paired standard errors; the start where no bound is positive."""

    def rule(cross_fit, i):
        curve = _curve(cross_fit, i, points)
        bounds = {0: 0.0}
        for e, rows in curve.items():
            if e:
                mean, error = _base._mean_and_standard_error(curve[0] - rows, None)
                bounds[e] = mean - z * error
        return max(sorted(bounds), key=bounds.__getitem__)

    return rule


RULES = {
    "shipped: lower of the ends": lowest(1),
    "lowest of 20 points (7th round)": lowest(None),
    "lowest of 4 points": lowest(4),
    "ends, 1 SE": within_se(1, 1.0),
    "ends, 2 SE": within_se(1, 2.0),
    "4 points, 1 SE": within_se(4, 1.0),
    "4 points, 2 SE": within_se(4, 2.0),
    "20 points, 1 SE": within_se(None, 1.0),
    "20 points, 2 SE": within_se(None, 2.0),
    "20 points, 3 SE": within_se(None, 3.0),
    "ends, 3 SE": within_se(1, 3.0),
    "lower bound, 4 points, 2 SE": lower_bound(4, 2.0),
    "lower bound, 4 points, 3 SE": lower_bound(4, 3.0),
    "lower bound, 20 points, 2 SE": lower_bound(None, 2.0),
    "lower bound, 20 points, 3 SE": lower_bound(None, 3.0),
}
ORACLE = "bound: best test epoch"


def evaluate(prefixes: list[str]) -> pd.DataFrame:
    out = []
    for prefix in prefixes:
        table = pd.read_csv(f"{prefix}.csv").set_index(["table", "seed", "units", "k"])
        with open(f"{prefix}.pkl", "rb") as f:
            records = pickle.load(f)
        for key, rec in records.items():
            row = table.loc[key]
            entry = dict(zip(table.index.names, key, strict=True))
            entry.update(half=row["half"], pca_mse=row["pca_mse"], pca_down=row["pca_down"])
            entry["fit_mse"] = rec["mse"]
            cross_fit, test = rec["cross_fit"], rec["test"]
            for name, rule in RULES.items():
                if cross_fit is None:  # no cross-fit: the fit trains every epoch
                    epoch = max(test)
                else:
                    epoch = rule(cross_fit, _base._consistent_winner(cross_fit["trained"]))
                entry[f"{name}|mse"], entry[f"{name}|down"] = test[epoch]
            best = min(test, key=lambda e: test[e][0])
            entry[f"{ORACLE}|mse"], entry[f"{ORACLE}|down"] = test[best]
            out.append(entry)
    return pd.DataFrame(out)


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    """Per half, units and rule: bench_reduction's figures (seeds averaged per pair)."""
    means = raw.groupby(["table", "half", "units", "k"]).mean(numeric_only=True)
    out = []
    for (half, units), g in means.groupby(level=["half", "units"]):
        small = g.index.get_level_values("k") <= 4
        for name in [*RULES, ORACLE]:
            ratio = g[f"{name}|mse"] / g["pca_mse"]
            down = (g[f"{name}|down"] - g["pca_down"]).groupby(level="table").mean()
            out.append(
                {
                    "half": half,
                    "units": units,
                    "rule": name,
                    "median MSE / PCA": ratio.median(),
                    "k<=4": ratio[small].median(),
                    "worst": ratio.max(),
                    "> 1% worse": int((ratio > 1.01).sum()),
                    "tables downstream >= PCA": int((down >= 0).sum()),
                }
            )
    return pd.DataFrame(out)


def rules(prefixes: list[str]) -> None:
    missing = [p for p in prefixes if not Path(f"{p}.csv").is_file() or p.startswith("-")]
    if not prefixes or missing:
        raise SystemExit(f"rules takes the PREFIXes that record wrote; not found: {missing}")
    raw = evaluate(prefixes)
    gap = float(np.max(np.abs(raw["shipped: lower of the ends|mse"] / raw["fit_mse"] - 1)))
    print(f"self-check, shipped rule vs each fit's own MSE: max relative gap {gap:.1e}")
    pd.set_option("display.width", 250)
    print(summarise(raw).round(3).to_string(index=False))


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("record", "rules"):
        raise SystemExit(__doc__)
    (record if sys.argv[1] == "record" else rules)(sys.argv[2:])
