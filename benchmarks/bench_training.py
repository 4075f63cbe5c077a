"""Training and inference overhead of AutoencoderTransformer against raw PyTorch.

Training: seconds per epoch on synthetic float32 rows (default 100,000 x 50) with the
network 50-64-32-8-32-64-50, batch 256, Adam, against a minimal hand-written PyTorch
loop over the same data, run alternately in the same process so both see the same
machine load. Optionally also skorch's stock ``NeuralNetRegressor`` with its default
per-sample ``DataLoader``.

Inference: ``transform`` rows per second against a raw no-grad forward pass of the same
encoder over pre-scaled rows, and against ``PCA.transform``.

    python benchmarks/bench_training.py            # full size
    python benchmarks/bench_training.py --rows 20000 --epochs 2 --repeats 1   # quick
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from sklearn.decomposition import PCA
from torch import nn

from sk_autoencoder import AutoencoderTransformer

HIDDEN = (64, 32)
CODE = 8


def make_data(n_rows: int, n_features: int, seed: int = 0) -> np.ndarray:
    """Rows near a nonlinear 8-dimensional manifold, plus noise."""
    rng = np.random.RandomState(seed)
    latent = rng.normal(size=(n_rows, CODE))
    W = rng.normal(size=(CODE, n_features))
    X = np.tanh(latent @ W) + 0.1 * rng.normal(size=(n_rows, n_features))
    return X.astype(np.float32)


def hand_loop(X: np.ndarray, epochs: int, batch_size: int, seed: int) -> list[float]:
    """The minimal PyTorch loop a user would write by hand; returns seconds per epoch."""
    torch.manual_seed(seed)
    n_features = X.shape[1]
    sizes = [n_features, *HIDDEN, CODE]
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
    encoder = nn.Sequential(*layers[:-1])
    sizes = sizes[::-1]
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
    decoder = nn.Sequential(*layers[:-1])
    model = nn.Sequential(encoder, decoder)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    X_t = torch.from_numpy((X - X.mean(0)) / X.std(0))
    durations = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(X_t))
        for i in range(0, len(X_t), batch_size):
            batch = X_t[order[i : i + batch_size]]
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(batch), batch)
            loss.backward()
            optimizer.step()
        durations.append(time.perf_counter() - start)
    return durations


def ours(X: np.ndarray, epochs: int, batch_size: int, seed: int):
    ae = AutoencoderTransformer(
        n_components=CODE,
        hidden_layer_sizes=HIDDEN,
        batch_size=batch_size,
        max_epochs=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=seed,
    )
    start = time.perf_counter()
    ae.fit(X)
    wall = time.perf_counter() - start
    return ae, list(ae.net_.history[:, "dur"]), wall


def skorch_default(X: np.ndarray, epochs: int, batch_size: int, seed: int) -> list[float]:
    """skorch's stock regressor with per-sample collation, for reference."""
    from skorch import NeuralNetRegressor

    from sk_autoencoder.modules import DenseAutoencoder

    class _Plain(DenseAutoencoder):
        def forward(self, X):
            return super().forward(X)[0]

    torch.manual_seed(seed)
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
    return list(net.history[:, "dur"])


def bench_inference(ae: AutoencoderTransformer, X: np.ndarray, repeats: int) -> dict:
    encoder = ae.net_.module_.encoder
    X_scaled = ae.scaler_.transform(X).astype(np.float32)
    pca = PCA(n_components=CODE, random_state=0).fit(X[:20000])

    def raw():
        with torch.no_grad():
            return encoder(torch.from_numpy(X_scaled)).numpy()

    def raw_batched(batch_size=16384):
        with torch.no_grad():
            return np.concatenate(
                [
                    encoder(torch.from_numpy(X_scaled[i : i + batch_size])).numpy()
                    for i in range(0, len(X_scaled), batch_size)
                ]
            )

    timings = {
        "raw forward (no grad, pre-scaled)": raw,
        "raw forward in 16384-row batches": raw_batched,
        "AutoencoderTransformer.transform": lambda: ae.transform(X),
        "PCA.transform": lambda: pca.transform(X),
    }
    raw()  # warm-up
    best = {}
    for _ in range(repeats):
        for name, fn in timings.items():
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
            best[name] = min(best.get(name, np.inf), elapsed)
    np.testing.assert_allclose(raw(), ae.transform(X), rtol=1e-4, atol=1e-4)
    return {name: len(X) / seconds for name, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds")
    parser.add_argument("--inference-rows", type=int, default=1_000_000)
    parser.add_argument(
        "--skorch-default",
        action="store_true",
        help="also time skorch's stock per-sample DataLoader (slow)",
    )
    args = parser.parse_args()

    X = make_data(args.rows, args.features)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"{args.rows} x {args.features} float32 rows, net {args.features}-64-32-8-32-64-"
        f"{args.features}, batch {args.batch_size}, {args.epochs} epochs x "
        f"{args.repeats} alternating rounds\n"
    )
    hand, our_epochs, our_walls = [], [], []
    ae = None
    for r in range(args.repeats):
        hand += hand_loop(X, args.epochs, args.batch_size, seed=r)
        ae, durations, wall = ours(X, args.epochs, args.batch_size, seed=r)
        our_epochs += durations
        our_walls.append(wall / args.epochs)
    rows = [
        ("hand-written PyTorch loop", statistics.median(hand)),
        ("AutoencoderTransformer (epoch)", statistics.median(our_epochs)),
        ("AutoencoderTransformer (fit wall / epochs)", statistics.median(our_walls)),
    ]
    if args.skorch_default:
        rows.append(
            (
                "skorch NeuralNetRegressor, default DataLoader",
                statistics.median(skorch_default(X, 1, args.batch_size, 0)),
            )
        )
    base = rows[0][1]
    print(f"{'training':<48} {'s/epoch':>9} {'ratio':>7}")
    for name, seconds in rows:
        print(f"{name:<48} {seconds:>9.3f} {seconds / base:>7.2f}")

    X_inf = make_data(args.inference_rows, args.features, seed=1)
    rates = bench_inference(ae, X_inf, args.repeats)
    raw = rates["raw forward (no grad, pre-scaled)"]
    print(
        f"\n{'inference on ' + str(args.inference_rows) + ' rows':<48} {'rows/s':>12} "
        f"{'time vs raw':>12}"
    )
    for name, rate in rates.items():
        print(f"{name:<48} {rate:>12,.0f} {raw / rate:>12.2f}")


if __name__ == "__main__":
    main()
