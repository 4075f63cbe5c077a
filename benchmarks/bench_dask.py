"""Incremental training through Dask: throughput against in-memory ``fit``, and the
peak memory of a worker training on an array larger than it may hold.

1. Throughput: the same float32 rows (default 200,000 x 50, near an 8-dimensional
   manifold), the same network (50-64-32-8-32-64-50, batch 256) and the same number
   of passes, trained (a) in memory with ``fit(max_epochs=passes)`` and (b) through
   ``dask_ml.wrappers.Incremental`` on a Dask array in row blocks, one
   ``Incremental.partial_fit`` per pass, on a ``LocalCluster`` with one single-threaded
   worker process, the array persisted on the worker first; both with one torch
   thread, alternated ``--repeats`` times. Reported as median rows/s
   (rows x passes / seconds) and their ratio.

2. Out-of-core: a worker with ``memory_limit`` (default 1 GiB) trains one pass over a
   Dask array ``--oversize`` (default 5) times larger than that limit, generated
   lazily by ``da.random`` block by block, so the array never exists in full
   anywhere; batches of 4096 rows make one pass over gigabytes affordable.
   The limit must leave room for the worker's fixed cost (~0.5 GiB once torch is
   imported). Reported: the worker's peak RSS (``ru_maxrss`` read inside the worker
   process), as a share of its memory limit and of the array size.

    python benchmarks/bench_dask.py                          # full size
    python benchmarks/bench_dask.py --rows 40000 --passes 2 --memory-limit 512MiB \\
        --oversize 2                                         # quick
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import dask
import dask.array as da
import numpy as np
import torch
from dask.utils import format_bytes, parse_bytes
from dask_ml.wrappers import Incremental
from distributed import Client, LocalCluster, wait

from sk_autoencoder import AutoencoderTransformer

# check_start off: the in-memory fit is compared with partial_fit, which never checks.
NET = dict(
    hidden_layer_sizes=(64, 32),
    n_components=8,
    batch_size=256,
    random_state=0,
    check_start=False,
)


def make_data(n_rows: int, n_features: int, seed: int = 0) -> np.ndarray:
    """Rows near a nonlinear 8-dimensional manifold, plus noise."""
    rng = np.random.RandomState(seed)
    latent = rng.normal(size=(n_rows, 8))
    X = np.tanh(latent @ rng.normal(size=(8, n_features))) + 0.1 * rng.normal(
        size=(n_rows, n_features)
    )
    return X.astype(np.float32)


def _peak_rss() -> int:
    """Peak resident memory of the calling process, in bytes (Linux: KiB units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def throughput(args) -> None:
    X = make_data(args.rows, args.features)
    # The worker runs torch with one thread (the nanny sets OMP_NUM_THREADS=1);
    # the in-memory baseline gets the same, so the ratio measures Dask's overhead.
    torch.set_num_threads(1)
    in_memory, through_dask = [], []
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        # Data already on the cluster, as after loading it with Dask.
        X_dask = da.from_array(X, chunks=(args.block_rows, args.features)).persist()
        wait(X_dask)
        for _ in range(args.repeats):  # alternate, so both see the same machine load
            start = time.perf_counter()
            AutoencoderTransformer(max_epochs=args.passes, tol=0, **NET).fit(X)
            in_memory.append(args.rows * args.passes / (time.perf_counter() - start))

            incremental = Incremental(AutoencoderTransformer(**NET), random_state=0)
            start = time.perf_counter()
            for _ in range(args.passes):
                incremental.partial_fit(X_dask)
            through_dask.append(args.rows * args.passes / (time.perf_counter() - start))

    fit_rate, dask_rate = statistics.median(in_memory), statistics.median(through_dask)
    print(
        f"throughput, {args.rows} x {args.features} rows, {args.passes} passes, "
        f"blocks of {args.block_rows} rows, median of {args.repeats}, 1 torch thread each"
    )
    print(f"  in-memory fit            {fit_rate:12,.0f} rows/s")
    print(f"  Incremental via Dask     {dask_rate:12,.0f} rows/s")
    print(f"  ratio Dask / in-memory   {dask_rate / fit_rate:12.2f}")


def out_of_core(args) -> None:
    limit = parse_bytes(args.memory_limit)
    n_features = args.features
    array_bytes = args.oversize * limit
    n_rows = array_bytes // (4 * n_features)
    block_rows = max(1, args.block_bytes // (4 * n_features))
    X = da.random.RandomState(0).random_sample((n_rows, n_features), chunks=(block_rows, -1))
    X = X.astype(np.float32)
    with (
        # Spilling off: the blocks are generated and consumed in place, so nothing
        # needs to go to disk; the limit is enforced by the nanny.
        dask.config.set({"distributed.worker.memory.spill": False}),
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            memory_limit=limit,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        (baseline,) = client.run(_rss).values()
        # Large batches: this part measures memory, and they make a pass over
        # gigabytes affordable on a small machine.
        net = {**NET, "batch_size": args.memory_batch_size}
        incremental = Incremental(
            AutoencoderTransformer(**net), shuffle_blocks=False, random_state=0
        )
        start = time.perf_counter()
        incremental.fit(X)
        seconds = time.perf_counter() - start
        (peak,) = client.run(_peak_rss).values()

    print(
        f"out-of-core, one worker with memory_limit={format_bytes(limit)}, "
        f"array {n_rows:,} x {n_features} float32 = {format_bytes(n_rows * n_features * 4)} "
        f"({args.oversize}x the limit) in blocks of {format_bytes(block_rows * n_features * 4)}"
    )
    print(f"  worker RSS before training  {format_bytes(baseline)}")
    print(
        f"  worker peak RSS             {format_bytes(peak)} "
        f"({peak / limit:.2f} of the limit, {peak / array_bytes:.3f} of the array)"
    )
    print(f"  one pass                    {seconds:.1f} s, {n_rows / seconds:,.0f} rows/s")
    print(f"  trained epochs (blocks)     {incremental.estimator_.n_iter_}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--block-rows", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-limit", default="1GiB")
    parser.add_argument("--oversize", type=int, default=5)
    parser.add_argument("--block-bytes", type=parse_bytes, default="16MiB")
    parser.add_argument("--memory-batch-size", type=int, default=4096)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    if not args.skip_throughput:
        throughput(args)
    if not args.skip_memory:
        out_of_core(args)


if __name__ == "__main__":
    main()
