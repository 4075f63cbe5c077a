"""Where the first ``GridSearchCV(n_jobs=2)`` spends its time before training.

Measures, in fresh interpreters and in one run (compare the ratios, not the seconds,
on a shared machine):

1. Importing an estimator, split into torch, skorch and the package's own modules:
   what every joblib (loky) or Dask worker pays once when it starts.
2. The first ``fit`` in a process against the second: PyTorch imports
   ``torch._dynamo`` (and sympy) the first time any optimiser is built, once per
   process.
3. Per-call set-up: a one-epoch ``fit`` on 100 rows and one ``partial_fit`` call,
   against one epoch of a hand-written PyTorch loop on the same rows.
4. The README's grid search (4 candidates x 3 folds, 20 epochs) with ``n_jobs=1``,
   then ``n_jobs=2`` twice: the first call starts the workers, the second reuses
   them (loky keeps its executor).

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_search_startup.py``
"""

from __future__ import annotations

import subprocess
import sys
import time

_IMPORTS = """
import time
t0 = time.perf_counter(); import torch
t1 = time.perf_counter(); import skorch
t2 = time.perf_counter(); from sk_autoencoder import AutoencoderTransformer
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""

_FIRST_FIT = """
import time, numpy as np
from sk_autoencoder import AutoencoderTransformer
X = np.random.RandomState(0).normal(size=(100, 8))
t0 = time.perf_counter(); AutoencoderTransformer(max_epochs=1).fit(X)
t1 = time.perf_counter(); AutoencoderTransformer(max_epochs=1).fit(X)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def _fresh(code: str) -> list[float]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [float(v) for v in out.stdout.split()]


def _median(runs: list[list[float]]) -> list[float]:
    import numpy as np

    return [float(v) for v in np.median(np.array(runs), axis=0)]


def _per_call(repeats: int = 50) -> dict[str, float]:
    import numpy as np
    import torch

    from sk_autoencoder import AutoencoderTransformer

    X = np.random.RandomState(0).normal(size=(100, 8)).astype(np.float32)
    AutoencoderTransformer(max_epochs=1).fit(X)  # one-time costs out of the way
    start = time.perf_counter()
    for _ in range(repeats):
        AutoencoderTransformer(max_epochs=1, random_state=0).fit(X)
    fit = (time.perf_counter() - start) / repeats
    est = AutoencoderTransformer(random_state=0).partial_fit(X)
    start = time.perf_counter()
    for _ in range(repeats):
        est.partial_fit(X)
    partial = (time.perf_counter() - start) / repeats

    X_t = torch.from_numpy(X)
    start = time.perf_counter()
    for _ in range(repeats):
        net = torch.nn.Sequential(
            torch.nn.Linear(8, 100), torch.nn.ReLU(), torch.nn.Linear(100, 2),
            torch.nn.Linear(2, 100), torch.nn.ReLU(), torch.nn.Linear(100, 8),
        )  # fmt: skip
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        loss = ((net(X_t) - X_t) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch_loop = (time.perf_counter() - start) / repeats
    return {"fit": fit, "partial_fit": partial, "torch": torch_loop}


def _grid_search(n_jobs: int) -> float:
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from sk_autoencoder import AutoencoderTransformer

    X, y = load_digits(return_X_y=True)
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("ae", AutoencoderTransformer(max_epochs=20, random_state=0)),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    )
    grid = GridSearchCV(
        pipe,
        {"ae__n_components": [4, 8], "ae__hidden_layer_sizes": [(64,), (128, 64)]},
        cv=3,
        n_jobs=n_jobs,
    )
    start = time.perf_counter()
    grid.fit(X, y)
    return time.perf_counter() - start


def main() -> None:
    torch_s, skorch_s, ours_s = _median([_fresh(_IMPORTS) for _ in range(3)])
    first, second = _median([_fresh(_FIRST_FIT) for _ in range(3)])
    calls = _per_call()
    serial = _grid_search(1)
    cold = _grid_search(2)
    warm = _grid_search(2)

    rows = [
        ("import torch (fresh process)", torch_s, ""),
        ("import skorch (after torch)", skorch_s, ""),
        ("the estimator's modules (after both)", ours_s, ""),
        ("first fit in a process (1 epoch)", first, f"{first / second:.0f}x the second"),
        ("second fit (1 epoch, 100 rows)", second, ""),
        ("fit, 1 epoch on 100 rows", calls["fit"], f"{calls['fit'] / calls['torch']:.1f}x torch"),
        (
            "partial_fit call, 100 rows",
            calls["partial_fit"],
            f"{calls['partial_fit'] / calls['torch']:.1f}x torch",
        ),
        ("hand-written torch epoch (+ model, Adam)", calls["torch"], "baseline"),
        ("README grid search, n_jobs=1", serial, "baseline"),
        ("README grid search, n_jobs=2, first", cold, f"{cold / serial:.2f}x n_jobs=1"),
        ("README grid search, n_jobs=2, again", warm, f"{warm / serial:.2f}x n_jobs=1"),
    ]
    print(f"{'what':<42} {'seconds':>9}  ratio")
    for name, seconds, ratio in rows:
        print(f"{name:<42} {seconds:>9.3f}  {ratio}")


if __name__ == "__main__":
    main()
