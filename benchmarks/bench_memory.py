"""Peak memory of batched inference on a large table.

Fits a small model once, saves it, then runs each measured call in a fresh Python
process: the process loads the model, builds the input (float32, or float64 with
``--dtype float64``), records its resident set size (the baseline), calls the method
once, and reports its peak resident set size. The figure printed is

    (peak RSS - baseline RSS) / (input bytes + output bytes)

so 1.0 means the call needed nothing beyond its input and output; the input is built
after the baseline, so it counts. Linux only (reads ``/proc/self/status``).

Run::

    python benchmarks/bench_memory.py                 # 2,000,000 x 50 float32
    python benchmarks/bench_memory.py --rows 200000   # quicker
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


def _child(args) -> None:
    import numpy as np

    import sk_autoencoder.persistence as persistence

    model = persistence.load(args.model)
    rng = np.random.default_rng(0)
    dtype = np.dtype(args.dtype)
    n_in = model.n_components_ if args.method == "inverse_transform" else model.n_features_in_
    # Warm up the code path on a few rows, so imports and caches are in the baseline.
    getattr(model, args.method)(rng.standard_normal((1000, n_in), dtype=dtype))
    _reset_peak()
    baseline = _rss_bytes("VmRSS")
    X = rng.standard_normal((args.rows, n_in), dtype=dtype)
    out = getattr(model, args.method)(X)
    peak = _rss_bytes("VmHWM")
    print(json.dumps({"peak": peak - baseline, "input": X.nbytes, "output": out.nbytes}))


def _measure(model_path: str, method: str, rows: int, dtype: str) -> dict:
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
            str(rows),
            "--dtype",
            dtype,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    import numpy as np

    from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer
    from sk_autoencoder.persistence import dump

    rng = np.random.default_rng(0)
    X_fit = rng.standard_normal((5000, args.features))
    small = dict(n_components=8, hidden_layer_sizes=(32,), max_epochs=2, random_state=0)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for cls in (AutoencoderTransformer, AutoencoderAnomalyDetector):
            paths[cls] = os.path.join(tmp, f"{cls.__name__}.skops")
            dump(cls(**small).fit(X_fit), paths[cls])
        print(f"{args.rows:,} x {args.features} {args.dtype}, one fresh process per call")
        print(
            f"{'method':<20}{'input MB':>10}{'output MB':>11}{'peak-base MB':>14}{'multiple':>10}"
        )
        for method in METHODS:
            cls = (
                AutoencoderTransformer
                if method in ("transform", "inverse_transform")
                else AutoencoderAnomalyDetector
            )
            r = _measure(paths[cls], method, args.rows, args.dtype)
            multiple = r["peak"] / (r["input"] + r["output"])
            print(
                f"{method:<20}{r['input'] / 1e6:>10.0f}{r['output'] / 1e6:>11.0f}"
                f"{r['peak'] / 1e6:>14.0f}{multiple:>10.2f}"
            )


if __name__ == "__main__":
    main()
