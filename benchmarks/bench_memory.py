"""Peak memory of batched inference on a large table.

Fits a small model once, saves it, then runs each measured call in a fresh Python
process: the process loads the model, builds the input (float32, or float64 with
``--dtype float64``), records its resident set size (the baseline), calls the method
once, and reports its peak resident set size. The figure printed is

    (peak RSS - baseline RSS) / (input bytes + output bytes)

so 1.0 means the call needed nothing beyond its input and output; the input is built
after the baseline, so it counts. Linux only (reads ``/proc/self/status``).

``--sparse`` measures a scipy CSR matrix instead (default 200,000 x 5,000 at 1%
density, float32): its bytes (data, indices and row pointers) are the input, and
``fit`` of both estimators (one epoch, from a fresh estimator in the child) is
measured too. The dense equivalent would be 4 GB; ``score_features`` and
``inverse_transform`` are left out there, their outputs being dense tables of that
size by definition.

Run::

    python benchmarks/bench_memory.py                 # 2,000,000 x 50 float32
    python benchmarks/bench_memory.py --rows 200000   # quicker
    python benchmarks/bench_memory.py --sparse        # 200,000 x 5,000 CSR, 1%
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

METHODS = [
    "score_samples",
    "decision_function",
    "transform",
    "inverse_transform",
    "score_features",
]
SPARSE_METHODS = ["fit", "fit (detector)", "score_samples", "decision_function", "transform"]
# Models for the measured calls: small, one epoch (the network is not what is measured).
SMALL = dict(n_components=8, hidden_layer_sizes=(32,), max_epochs=1, random_state=0)


def _rss_bytes(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not found in /proc/self/status")


def _reset_peak() -> None:
    """Make VmHWM start again from the current RSS (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _sparse_rows(n_rows: int, n_features: int, density: float, dtype, seed: int = 0):
    """A CSR matrix with ``density * n_features`` entries per row, one at a random
    place in each of that many equal blocks of columns (so distinct and sorted)."""
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    per_row = max(1, round(density * n_features))
    block = n_features // per_row
    indices = rng.integers(0, block, size=(n_rows, per_row), dtype=np.int32)
    indices += np.arange(per_row, dtype=np.int32) * block
    data = rng.standard_normal(n_rows * per_row, dtype=dtype)
    indptr = np.arange(0, n_rows * per_row + 1, per_row, dtype=np.int64)
    return sp.csr_matrix((data, indices.ravel(), indptr), shape=(n_rows, n_features))


def _nbytes(X) -> int:
    if hasattr(X, "indptr"):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


def _child(args) -> None:
    import numpy as np

    import sk_autoencoder.persistence as persistence
    from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer

    rng = np.random.default_rng(0)
    dtype = np.dtype(args.dtype)
    if args.method.startswith("fit"):
        cls = AutoencoderAnomalyDetector if "detector" in args.method else AutoencoderTransformer

        def call(X):
            cls(**SMALL).fit(X)
            return np.empty(0)

        n_in = args.features
    else:
        model = persistence.load(args.model)
        call = getattr(model, args.method)
        n_in = model.n_components_ if args.method == "inverse_transform" else model.n_features_in_
    if args.sparse:

        def make(n_rows):
            return _sparse_rows(n_rows, n_in, args.density, dtype, seed=1)
    else:

        def make(n_rows):
            return rng.standard_normal((n_rows, n_in), dtype=dtype)

    # Warm up the code path on a few rows, so imports and caches are in the baseline.
    call(make(1000))
    _reset_peak()
    baseline = _rss_bytes("VmRSS")
    X = make(args.rows)
    if args.sparse:
        _reset_peak()  # not the temporaries that built the matrix: the call's peak
    out = call(X)
    peak = _rss_bytes("VmHWM")
    print(json.dumps({"peak": peak - baseline, "input": _nbytes(X), "output": out.nbytes}))


def _measure(model_path: str, method: str, args) -> dict:
    sparse = ["--sparse", "--density", str(args.density)] if args.sparse else []
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            "--model",
            model_path,
            "--method",
            method,
            "--rows",
            str(args.rows),
            "--features",
            str(args.features),
            "--dtype",
            args.dtype,
            *sparse,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help="default: 2,000,000; 200,000 with --sparse")
    parser.add_argument("--features", type=int, help="default: 50; 5,000 with --sparse")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--sparse", action="store_true", help="a CSR matrix instead")
    parser.add_argument("--density", type=float, default=0.01, help="with --sparse")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rows is None:
        args.rows = 200_000 if args.sparse else 2_000_000
    if args.features is None:
        args.features = 5_000 if args.sparse else 50
    if args.child:
        _child(args)
        return

    import numpy as np

    from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer
    from sk_autoencoder.persistence import dump

    rng = np.random.default_rng(0)
    if args.sparse:
        X_fit = _sparse_rows(5000, args.features, args.density, np.float32)
    else:
        X_fit = rng.standard_normal((5000, args.features))
    kind = f"CSR at {args.density:.0%} density" if args.sparse else "dense"
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for cls in (AutoencoderTransformer, AutoencoderAnomalyDetector):
            paths[cls] = os.path.join(tmp, f"{cls.__name__}.skops")
            dump(cls(**SMALL).fit(X_fit), paths[cls])
        print(f"{args.rows:,} x {args.features} {args.dtype} {kind}, one fresh process per call")
        print(
            f"{'method':<20}{'input MB':>10}{'output MB':>11}{'peak-base MB':>14}{'multiple':>10}"
        )
        for method in SPARSE_METHODS if args.sparse else METHODS:
            cls = (
                AutoencoderTransformer
                if method in ("transform", "inverse_transform")
                else AutoencoderAnomalyDetector
            )
            r = _measure(paths[cls], method, args)
            multiple = r["peak"] / (r["input"] + r["output"])
            print(
                f"{method:<20}{r['input'] / 1e6:>10.0f}{r['output'] / 1e6:>11.0f}"
                f"{r['peak'] / 1e6:>14.0f}{multiple:>10.2f}"
            )


if __name__ == "__main__":
    main()
