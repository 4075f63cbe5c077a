"""How long should ``check_start``'s full fit train? Rules measured offline, exactly.

``record`` runs ``bench_reduction.py`` as shipped (same arguments) and records, for
every transformer fit with ``check_start``:

- its cross-fit: for each candidate and half, the per-row held-out errors every
  ``max_epochs / 20`` epochs (epoch 0 is the PCA start, ``max_epochs`` the trained
  network);
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

import math
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from skorch.callbacks import Callback

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_reduction  # noqa: E402

from sk_autoencoder import AutoencoderTransformer, _base  # noqa: E402

N_PROBES = 20  # as many points along training as the seventh round measured
_RECORDS: dict = {}
_CURRENT: dict = {}


def _row_errors(estimator, X) -> np.ndarray:
    """Per-row reconstruction loss in the scaled space (``_held_out_error``'s terms)."""

    def make_means(module):
        terms = estimator._loss_terms(module)
        return lambda batch: _base._observed_row_means(terms(batch))

    errors = estimator._map_errors(estimator._check_X(X), make_means, 1, per_entry=False)
    return errors[:, 0].copy()


class _Probe(Callback):
    """Measure the net as a fitted one would be (eval mode, codes' range observed on
    its training rows) at the start and every ``every`` epochs."""

    def __init__(self, evaluate, every: int) -> None:
        self.evaluate = evaluate
        self.every = every

    def _measure(self, net, epoch: int) -> None:
        module = net.module_
        module.eval()
        try:
            for i, rows in enumerate(_base._module_rows(self.dataset_)):
                module.observe_code_range(rows, reset=i == 0)
            self.errors_[epoch] = self.evaluate(net)
        finally:
            module.train()

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.dataset_, self.errors_ = X, {}
        if not len(net.history):
            self._measure(net, 0)

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) % self.every == 0:
            self._measure(net, len(net.history))


def _every(max_epochs: int) -> int:
    return max(1, -(-max_epochs // N_PROBES))


def _recording_cross_fit(self, X, weights, seed, candidates):
    """``_BaseAutoencoder._cross_fit`` (same halves, settings and results), with the
    per-row errors along each fold's training kept on ``self._stopping_record``."""
    n = X.shape[0]
    if n < 4:
        return [[-math.inf]] * len(candidates), 0.0, None
    if weights is not None:
        raise SystemExit("the recorder measures unweighted fits only")
    order = np.random.RandomState(seed).permutation(n)
    halves = np.sort(order[: n // 2]), np.sort(order[n // 2 :])
    settings = {
        **self.get_params(deep=False),
        "check_start": False,
        "callbacks": None,
        "verbose": 0,
        "warm_start": False,
    }
    trained, start = [[] for _ in candidates], 0.0
    curves: list[list[dict]] = [[] for _ in candidates]
    for fit_rows, held_out in (halves, halves[::-1]):
        for i, sizes in enumerate(candidates):
            fold = type(self)(**{**settings, "hidden_layer_sizes": sizes})

            def evaluate(net, fold=fold, held_out=held_out):
                fold.net_ = net
                return _row_errors(fold, X[held_out])

            probe = _Probe(evaluate, _every(self.max_epochs))
            fold.set_params(callbacks=[("probe", probe)])
            fold_data = fold._fit(X[fit_rows], None)
            trained[i].append(float(_row_errors(fold, X[held_out]).mean()))
            curves[i].append(probe.errors_)
        fold._reset_to_start(fold.net_.module_, fold_data)
        start += float(_row_errors(fold, X[held_out]).mean())
    self._stopping_record = {
        "trained": trained,
        "start": start,
        "curves": curves,
        "max_epochs": self.max_epochs,
    }
    return trained, start, None


def _recording_measure(reducer, X_train, X_test, y_train, y_test) -> dict:
    if not isinstance(reducer, AutoencoderTransformer):
        return _plain_measure(reducer, X_train, X_test, y_train, y_test)

    def evaluate(net):
        reducer.net_ = net  # set again when the fit ends
        reducer.n_components_ = reducer.n_components
        Z = reducer.transform(X_test)
        mse = float(np.mean((reducer.inverse_transform(Z) - X_test) ** 2))
        return mse, bench_reduction._downstream(reducer.transform(X_train), Z, y_train, y_test)

    probe = _Probe(evaluate, _every(reducer.max_epochs))
    reducer.set_params(callbacks=[("test_probe", probe)])
    result = _plain_measure(reducer, X_train, X_test, y_train, y_test)
    key = (_CURRENT["table"], _CURRENT["seed"], _CURRENT["units"], reducer.n_components)
    _RECORDS[key] = {
        "cross_fit": getattr(reducer, "_stopping_record", None),
        "test": dict(probe.errors_),
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
def _epochs(cross_fit, i, points: int | None) -> list[int]:
    """The recorded epochs both halves reached; with ``points``, only the ends and
    the ``points - 1`` equally spaced epochs between them."""
    common = set.intersection(*(set(c) for c in cross_fit["curves"][i]))
    if points is not None:
        M = cross_fit["max_epochs"]
        common &= {round(M * j / points) for j in range(points + 1)}
    return sorted(common)


def _rows(cross_fit, i, epoch) -> np.ndarray:
    return np.concatenate([c[epoch] for c in cross_fit["curves"][i]])


def lowest(points: int | None):
    """The epoch of lowest summed held-out error (``points=1``: the two ends, which
    is the shipped rule)."""

    def rule(cross_fit, i):
        errors = {
            e: sum(c[e].mean() for c in cross_fit["curves"][i])
            for e in _epochs(cross_fit, i, points)
        }
        return min(errors, key=errors.get)

    return rule


def within_se(points: int | None, z: float):
    """The earliest epoch (closest to the PCA start) whose held-out error is within
    ``z`` paired standard errors (over the held-out rows) of the lowest one."""

    def rule(cross_fit, i):
        epochs = _epochs(cross_fit, i, points)
        rows = {e: _rows(cross_fit, i, e) for e in epochs}
        best = min(epochs, key=lambda e: rows[e].mean())
        for e in epochs:
            d = rows[e] - rows[best]
            if d.mean() <= z * d.std(ddof=1) / math.sqrt(len(d)):
                return e

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
