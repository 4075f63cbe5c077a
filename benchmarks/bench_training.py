"""Training and inference speed of the estimators against raw PyTorch, in one process.

Training (the default): seconds per epoch on synthetic float32 rows (default 100,000 x
50), network 50-64-32-8-32-64-50, batch 256, Adam, for

- ``AutoencoderTransformer`` with ``init="random"``, the hand loop's network (its
  epoch, and its whole ``fit`` per epoch), and its epoch at the default
  ``init="pca"``, whose linear path beside the layers adds work;
- the plain PyTorch loop a user would write (``torch.optim.Adam()``'s defaults), at
  torch's default thread count and on one thread;
- the same loop with ``torch.optim.Adam(fused=True)``;
- the FLOP limit: the epoch's FLOPs (6 per weight and row: forward and backward) at
  the rate of a 2048 x 2048 float32 matmul measured here, on one thread and on all;
- the floors of a step at its own shapes, on one thread: its matrix products alone,
  and the hand network's forward and backward pass and its fused Adam update, each
  alone on one batch (a loop's step costs at least the sum of the last two).

Everything runs alternately in the same process, so all see the same machine load;
compare the ratios, not the seconds. Inference: ``transform`` and ``score_samples``
on 1,000,000 rows against a raw batched no-grad forward pass of the same network over
the same rows (scaled by the same affine map inside the timed call, as a user's
pipeline would), on one thread and on torch's default count.

``--threads`` instead prints the table behind the thread policy (``_threads.py``):
seconds per training step of dense networks of several sizes and batch sizes on one
thread and on all, first on the idle machine, then with a background load that the
benchmark starts itself (one busy process per core), and which count the policy picks.

    python benchmarks/bench_training.py                 # training and inference
    python benchmarks/bench_training.py --rows 20000 --epochs 2 --repeats 1   # quick
    python benchmarks/bench_training.py --threads       # the thread-policy table
    python benchmarks/bench_training.py --compile       # also torch.compile's cost
    python benchmarks/bench_training.py --skorch-default   # also skorch's stock loader
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time

import numpy as np
import torch
from torch import nn

from sk_autoencoder import AutoencoderTransformer
from sk_autoencoder._threads import _FLOPS_PER_THREAD, _threads_for
from sk_autoencoder.modules import DenseAutoencoder

HIDDEN = (64, 32)
CODE = 8
ALL_THREADS = torch.get_num_threads()  # torch's default, or OMP_NUM_THREADS


def make_data(n_rows: int, n_features: int, seed: int = 0) -> np.ndarray:
    """Rows near a nonlinear 8-dimensional manifold, plus noise."""
    rng = np.random.RandomState(seed)
    latent = rng.normal(size=(n_rows, CODE))
    W = rng.normal(size=(CODE, n_features))
    X = np.tanh(latent @ W) + 0.1 * rng.normal(size=(n_rows, n_features))
    return X.astype(np.float32)


def _mlp(sizes) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def hand_model(n_features: int, hidden=HIDDEN, code=CODE) -> nn.Module:
    """The network a user would write: encoder and mirrored decoder, ReLU, linear code."""
    sizes = [n_features, *hidden, code]
    return nn.Sequential(_mlp(sizes), _mlp(sizes[::-1]))


def hand_loop(X: np.ndarray, epochs: int, batch_size: int, seed: int, **adam) -> tuple:
    """The minimal PyTorch loop a user would write by hand: seconds per epoch and the
    mean training loss of the last epoch."""
    torch.manual_seed(seed)
    model = hand_model(X.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, **adam)
    X_t = torch.from_numpy((X - X.mean(0)) / X.std(0))
    durations = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(X_t))
        total = torch.zeros(())
        for i in range(0, len(X_t), batch_size):
            batch = X_t[order[i : i + batch_size]]
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(batch), batch)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(batch)
        durations.append(time.perf_counter() - start)
    return durations, float(total) / len(X_t)


def with_threads(n: int, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with torch on ``n`` threads, then the previous count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        return fn(*args, **kwargs)
    finally:
        torch.set_num_threads(previous)


def ours(X: np.ndarray, epochs: int, batch_size: int, seed: int, **params) -> tuple:
    ae = AutoencoderTransformer(
        n_components=CODE,
        hidden_layer_sizes=HIDDEN,
        batch_size=batch_size,
        max_epochs=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=seed,
        # One training run against one hand loop: not check_start's two more.
        check_start=False,
        **params,
    )
    start = time.perf_counter()
    ae.fit(X)
    wall = time.perf_counter() - start
    return ae, list(ae.net_.history[:, "dur"]), wall / epochs, ae.loss_curve_[-1]


def skorch_default(X: np.ndarray, epochs: int, batch_size: int, seed: int) -> tuple:
    """skorch's stock regressor with its per-sample DataLoader, for reference."""
    from skorch import NeuralNetRegressor

    torch.manual_seed(seed)

    class _Plain(DenseAutoencoder):
        def forward(self, X):
            return super().forward(X)[0]

    net = NeuralNetRegressor(
        _Plain,
        module__n_features=X.shape[1],
        module__n_components=CODE,
        module__hidden_layer_sizes=HIDDEN,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        batch_size=batch_size,
        max_epochs=epochs,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
    )
    Xs = (X - X.mean(0)) / X.std(0)
    net.fit(Xs, Xs)
    return list(net.history[:, "dur"]), float(net.history[-1, "train_loss"])


def matmul_rate(threads: int, size: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of a float32 ``size x size`` matmul on ``threads`` threads (best of)."""
    a, b = torch.randn(size, size), torch.randn(size, size)

    def run():
        best = np.inf
        a @ b  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - start)
        return 2 * size**3 / best

    return with_threads(threads, run)


def step_matmuls_seconds(n_features: int, batch_size: int, repeats: int = 50) -> float:
    """One thread's seconds for the matrix products of one training step alone, at
    the step's own shapes: per layer the forward product, the weight gradient and
    (but for the first layer) the input gradient. The arithmetic floor of a step."""
    sizes = [n_features, *HIDDEN, CODE]
    layers = list(zip(sizes[:-1], sizes[1:], strict=True))
    layers += [(b, a) for a, b in reversed(layers)]
    products = []
    for i, (n_in, n_out) in enumerate(layers):
        x, w, g = (
            torch.randn(batch_size, n_in),
            torch.randn(n_out, n_in),
            torch.randn(batch_size, n_out),
        )
        products.append((x, w.T))  # forward
        products.append((g.T, x))  # weight gradient
        if i:
            products.append((g, w))  # input gradient

    def run():
        best = np.inf
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(repeats):
                for a, b in products:
                    torch.mm(a, b)
            best = min(best, (time.perf_counter() - start) / repeats)
        return best

    return with_threads(1, run)


def step_parts_seconds(n_features: int, batch_size: int, repeats: int = 200) -> dict:
    """One thread's seconds for the two halves of a training step of the hand-written
    network, each alone and repeated on one batch: the forward and backward pass
    through autograd (gradients reset to None first, as ``zero_grad`` does), and
    ``torch.optim.Adam(fused=True)``'s update. Whatever a training loop adds, its step
    costs at least their sum."""
    torch.manual_seed(0)
    model = hand_model(n_features)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    batch = torch.randn(batch_size, n_features)

    def forward_backward():
        optimizer.zero_grad()
        nn.functional.mse_loss(model(batch), batch).backward()

    def best_of(fn):
        fn()  # warm-up, and gradients for the update
        best = np.inf
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(repeats):
                fn()
            best = min(best, (time.perf_counter() - start) / repeats)
        return best

    return with_threads(
        1,
        lambda: {"forward+backward": best_of(forward_backward), "update": best_of(optimizer.step)},
    )


def epoch_flops(n_rows: int, n_features: int) -> float:
    """Forward and backward FLOPs of one epoch: 6 per weight and row."""
    n_weights = sum(p.numel() for p in hand_model(n_features).parameters())
    return 6.0 * n_weights * n_rows


def bench_training(args) -> object:
    X = make_data(args.rows, args.features)
    flops = epoch_flops(args.rows, args.features)
    runs = {
        "hand loop, torch.optim.Adam()": lambda r: hand_loop(X, args.epochs, args.batch_size, r),
        "hand loop, torch.optim.Adam(), 1 thread": lambda r: with_threads(
            1, hand_loop, X, args.epochs, args.batch_size, r
        ),
        "hand loop, torch.optim.Adam(fused=True)": lambda r: hand_loop(
            X, args.epochs, args.batch_size, r, fused=True
        ),
    }
    if args.skorch_default:
        runs["skorch NeuralNetRegressor, default DataLoader"] = lambda r: skorch_default(
            X, 1, args.batch_size, r
        )
    times: dict[str, list[float]] = {name: [] for name in runs}
    losses: dict[str, list[float]] = {name: [] for name in runs}
    ours_epoch, ours_wall, ours_loss = [], [], []
    default_epoch, default_loss = [], []
    rates: dict[int, list[float]] = {1: [], ALL_THREADS: []}
    matmuls: list[float] = []
    parts: dict[str, list[float]] = {"forward+backward": [], "update": []}
    ae = None
    for r in range(args.repeats):
        for threads in rates:
            rates[threads].append(matmul_rate(threads))
        matmuls.append(step_matmuls_seconds(args.features, args.batch_size))
        for part, seconds in step_parts_seconds(args.features, args.batch_size).items():
            parts[part].append(seconds)
        for name, run in runs.items():
            durations, loss = run(r)
            times[name] += durations
            losses[name].append(loss)
        # The hand loop's network: init="random" (init="pca" adds a linear path).
        ae, durations, wall, loss = ours(X, args.epochs, args.batch_size, r, init="random")
        ours_epoch += durations
        ours_wall.append(wall)
        ours_loss.append(loss)
        _, durations, _, loss = ours(X, args.epochs, args.batch_size, r)
        default_epoch += durations
        default_loss.append(loss)
    base = statistics.median(times["hand loop, torch.optim.Adam()"])
    rows = [
        (name, statistics.median(t), statistics.median(losses[name])) for name, t in times.items()
    ]
    rows += [
        (
            "AutoencoderTransformer, epoch",
            statistics.median(ours_epoch),
            statistics.median(ours_loss),
        ),
        ("AutoencoderTransformer, fit wall / epochs", statistics.median(ours_wall), None),
        (
            'same, init="pca" (default: + linear path)',
            statistics.median(default_epoch),
            statistics.median(default_loss),
        ),
    ]
    rows += [
        (
            f"FLOP limit, {threads} thread{'s' if threads > 1 else ''} "
            f"({statistics.median(rate) / 1e9:.0f} GFLOP/s)",
            flops / statistics.median(rate),
            None,
        )
        for threads, rate in rates.items()
    ]
    n_steps = -(-args.rows // args.batch_size)
    rows.append(
        ("the step's matrix products alone, 1 thread", n_steps * statistics.median(matmuls), None)
    )
    rows += [
        (
            f"hand network's {part} alone, 1 thread",
            n_steps * statistics.median(seconds),
            None,
        )
        for part, seconds in parts.items()
    ]
    print(
        f"training: {args.rows} x {args.features} float32 rows, net {args.features}-64-32-8-"
        f"32-64-{args.features} ({flops / 1e9:.2f} GFLOP per epoch), batch {args.batch_size}, "
        f"{args.epochs} epochs x {args.repeats} alternating rounds; torch {torch.__version__}, "
        f"{ALL_THREADS} threads by default; load average {os.getloadavg()[0]:.2f}\n"
    )
    print(f"{'':<48} {'s/epoch':>8} {'vs hand':>8} {'vs limit':>9} {'last loss':>10}")
    limit = flops / max(statistics.median(rate) for rate in rates.values())
    for name, seconds, loss in rows:
        loss_text = f"{loss:>10.4f}" if loss is not None else ""
        ratios = f"{seconds / base:>8.2f} {seconds / limit:>9.1f}"
        print(f"{name:<48} {seconds:>8.3f} {ratios} {loss_text}")
    return ae


def bench_inference(args) -> None:
    dtype = np.dtype(getattr(args, "inference_dtype", "float32"))
    X = make_data(args.inference_rows, args.features, seed=1).astype(dtype)
    ae = AutoencoderTransformer(
        n_components=CODE, hidden_layer_sizes=HIDDEN, max_epochs=1, random_state=0
    ).fit(X[:20000])
    module = ae.net_.module_
    # The raw loop scales in the rows' own precision, then hands float32 to the network.
    a, b = (torch.from_numpy(v.astype(dtype)) for v in ae._affine)

    X_scaled = np.asarray(X * a.numpy() + b.numpy(), dtype=np.float32)

    def raw_forward(fn, scaled=False):
        # Scaled in torch per batch (the cheapest a user's own code would do), or
        # from rows scaled beforehand, outside the timed call.
        rows = X_scaled if scaled else X
        with torch.inference_mode():
            return np.concatenate(
                [
                    fn(
                        torch.from_numpy(batch)
                        if scaled
                        else (torch.from_numpy(batch) * a + b).float()
                    ).numpy()
                    for batch in np.array_split(rows, range(16384, len(rows), 16384))
                ]
            )

    def raw_errors(batch):
        return ((module(batch)[0] - batch) ** 2).mean(dim=1)

    cases = {
        "transform": (lambda: ae.transform(X), module.encode),
        "score_samples": (lambda: ae.score_samples(X), raw_errors),
    }
    print(
        f"\ninference: {args.inference_rows} x {args.features} {dtype} rows, best of "
        f"{args.repeats}; raw: a batched no-grad forward, scaling in the call or before; "
        f"load average {os.getloadavg()[0]:.2f}\n"
    )
    print(
        f"{'':<14} {'threads':>7} {'ours rows/s':>12} {'raw':>12} {'raw, scaled':>12} "
        f"{'ours/raw':>9} {'median':>7} {'ours/scaled':>11}"
    )
    for name, (our_fn, raw_fn) in cases.items():
        for threads in sorted({1, ALL_THREADS}):
            runs = {
                "raw": lambda fn=raw_fn: raw_forward(fn),
                "scaled": lambda fn=raw_fn: raw_forward(fn, scaled=True),
                "ours": our_fn,
            }
            seconds = {key: [] for key in runs}
            for _ in range(args.repeats):
                for key, fn in runs.items():
                    start = time.perf_counter()
                    with_threads(threads, fn)
                    seconds[key].append(time.perf_counter() - start)
            best = {key: min(values) for key, values in seconds.items()}
            rates = {key: len(X) / value for key, value in best.items()}
            # Best against best, and the median of the ratios within each repeat
            # (the two runs of a repeat see the same load).
            paired = np.median(np.divide(seconds["ours"], seconds["raw"]))
            print(
                f"{name:<14} {threads:>7} {rates['ours']:>12,.0f} {rates['raw']:>12,.0f} "
                f"{rates['scaled']:>12,.0f} {best['ours'] / best['raw']:>9.2f} {paired:>7.2f} "
                f"{best['ours'] / best['scaled']:>11.2f}"
            )
    np.testing.assert_allclose(raw_forward(module.encode), ae.transform(X), rtol=1e-4, atol=1e-4)


# -------------------------------------------------------------------- threads
NETWORKS = [  # (n_features, hidden_layer_sizes, code)
    (20, (32,), 4),
    (50, (64, 32), 8),
    (64, (128, 64), 8),
    (100, (256, 128), 16),
    (200, (512, 256), 32),
    (500, (1024, 512), 64),
]
# (network index, "train" or "infer", rows per step): training batches and inference
# chunks (16384 rows, the estimators' chunk size; fewer for a small call).
THREAD_CASES = [
    (0, "train", 256),
    (1, "train", 256),
    (2, "train", 200),
    (1, "train", 2048),
    (3, "train", 256),
    (4, "train", 256),
    (3, "train", 2048),
    (5, "train", 256),
    (4, "train", 2048),
    (5, "train", 1024),
    (1, "infer", 1000),
    (1, "infer", 4096),
    (1, "infer", 16384),
    (2, "infer", 16384),
    (3, "infer", 16384),
    (4, "infer", 16384),
    (5, "infer", 16384),
]


def step_seconds(network, kind: str, rows: int, threads: int, min_seconds=0.3) -> float:
    """Median seconds of a step on ``threads``: a training step (forward, backward,
    fused Adam) or an inference chunk (no-grad forward)."""
    n_features, hidden, code = network

    def run():
        torch.manual_seed(0)
        module = DenseAutoencoder(n_features, code, hidden)
        optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, fused=True)
        X = torch.randn(rows * 4, n_features)
        steps = []
        start = time.perf_counter()
        while time.perf_counter() - start < min_seconds or len(steps) < 5:
            batch = X[(len(steps) % 4) * rows :][:rows]
            t = time.perf_counter()
            if kind == "train":
                optimizer.zero_grad()
                loss = nn.functional.mse_loss(module(batch)[0], batch)
                loss.backward()
                optimizer.step()
            else:
                with torch.inference_mode():
                    module(batch)[0].numpy()
            steps.append(time.perf_counter() - t)
        return statistics.median(steps[2:])

    return with_threads(threads, run)


def _spin(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def bench_threads(args) -> None:
    counts = sorted({1, 2, ALL_THREADS} & set(range(1, ALL_THREADS + 1)))
    n_load = args.load_processes or os.cpu_count() or 1
    print(
        f"thread policy: milliseconds per step, median; the policy gives one thread per "
        f"{_FLOPS_PER_THREAD / 1e6:.0f} MFLOP of work per step, up to {ALL_THREADS}; "
        f"torch {torch.__version__}, {os.cpu_count()} CPUs"
    )
    for loaded in (False, True):
        stop = multiprocessing.Event()
        workers = []
        if loaded:
            workers = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(n_load)]
            for w in workers:
                w.start()
            time.sleep(1.0)
        try:
            state = f"with {n_load} busy processes" if loaded else "no load of ours"
            print(f"\n{state}, load average {os.getloadavg()[0]:.2f}")
            header = f"{'network':<18} {'step':>5} {'rows':>6} {'MFLOP':>8}"
            header += "".join(f" {f'{n} thr':>8}" for n in counts)
            header += f" {'policy':>6} {'best':>5} {'policy/best':>11}"
            print(header)
            for index, kind, rows in THREAD_CASES:
                network = NETWORKS[index]
                n_features, hidden, code = network
                n_weights = sum(
                    p.numel() for p in DenseAutoencoder(n_features, code, hidden).parameters()
                )
                work = (6.0 if kind == "train" else 2.0) * n_weights * rows
                seconds = {n: [] for n in counts}
                for _ in range(args.repeats):
                    for n in counts:
                        seconds[n].append(step_seconds(network, kind, rows, n))
                seconds = {n: statistics.median(s) for n, s in seconds.items()}
                best = min(seconds, key=seconds.get)
                policy = _threads_for(work, ALL_THREADS)
                sizes = "-".join(str(s) for s in (n_features, *hidden, code))
                line = f"{sizes:<18} {kind:>5} {rows:>6} {work / 1e6:>8.1f}"
                line += "".join(f" {seconds[n] * 1e3:>8.2f}" for n in counts)
                line += f" {policy:>6} {best:>5} {seconds[policy] / seconds[best]:>11.2f}"
                print(line, flush=True)
        finally:
            stop.set()
            for w in workers:
                w.join()


# -------------------------------------------------------------------- compile
def bench_compile(args) -> None:
    """torch.compile of the training step: its compile time and its steady state."""
    X = make_data(args.rows, args.features)
    X_t = torch.from_numpy((X - X.mean(0)) / X.std(0))

    def train(compiled: bool):
        torch.manual_seed(0)
        model = hand_model(X.shape[1])
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)

        def step(batch):
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(batch), batch)
            loss.backward()
            optimizer.step()
            return loss

        step_fn = torch.compile(step) if compiled else step
        start = time.perf_counter()
        step_fn(X_t[: args.batch_size])
        first = time.perf_counter() - start
        durations = []
        for _ in range(args.epochs):
            start = time.perf_counter()
            order = torch.randperm(len(X_t))
            n_full = len(X_t) // args.batch_size * args.batch_size
            for i in range(0, n_full, args.batch_size):
                step_fn(X_t.index_select(0, order[i : i + args.batch_size]))
            durations.append(time.perf_counter() - start)
        return first, statistics.median(durations)

    eager_first, eager = with_threads(1, train, False)
    compiled_first, compiled = with_threads(1, train, True)
    print(f"\ntorch.compile of the training step, 1 thread, {args.rows} rows, full batches only")
    print(f"eager:    first step {eager_first:.3f} s, {eager:.3f} s/epoch")
    ratio = compiled / eager
    print(f"compiled: first step {compiled_first:.1f} s, {compiled:.3f} s/epoch ({ratio:.2f}x)")
    saved = eager - compiled
    if saved > 0:
        print(f"break-even after {compiled_first / saved:.0f} epochs of this size")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds")
    parser.add_argument("--inference-rows", type=int, default=1_000_000)
    parser.add_argument("--inference-dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--threads", action="store_true", help="the thread-policy table")
    parser.add_argument(
        "--load-processes",
        type=int,
        default=0,
        help="busy processes for --threads (0: one per CPU)",
    )
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument(
        "--skorch-default",
        action="store_true",
        help="also time skorch's stock per-sample DataLoader (slow)",
    )
    args = parser.parse_args()
    if args.threads:
        bench_threads(args)
        return
    bench_training(args)
    bench_inference(args)
    if args.compile:
        bench_compile(args)


if __name__ == "__main__":
    main()
