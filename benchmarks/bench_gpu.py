"""Training and inference on a GPU: AutoencoderTransformer against a hand-written loop.

Training: seconds per epoch of ``AutoencoderTransformer(device=...)`` on synthetic
float32 rows (default 200,000 x 100, network 100-256-128-16-128-256-100, Adam), against
the minimal PyTorch loop a user would write for the same GPU (the whole scaled table
moved to the GPU once, a permutation drawn there each epoch, batches sliced from it),
at a small and a large batch size, alternating in one process so both see the same
machine.

Inference: rows per second of ``transform`` and ``score_samples`` (rows start in host
memory, as a user's numpy array does) against a raw no-grad forward pass of the same
encoder over rows already scaled and already on the GPU, and over rows copied from
host memory in chunks of the same size.

Without the device (no CUDA here, or ``--device`` not found), it says so and exits 0.
``--device cpu`` runs the same comparison on the CPU, e.g. to check the script.

    python benchmarks/bench_gpu.py                   # cuda, full size
    python benchmarks/bench_gpu.py --device cuda:1 --rows 50000
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from bench_training import _mlp  # the same hand-written network as the CPU benchmark
from torch import nn

from sk_autoencoder import AutoencoderTransformer
from sk_autoencoder._devices import _is_available

HIDDEN = (256, 128)
CODE = 16


def make_data(n_rows: int, n_features: int, seed: int = 0) -> np.ndarray:
    """Rows near a nonlinear 16-dimensional manifold, plus noise."""
    rng = np.random.RandomState(seed)
    latent = rng.normal(size=(n_rows, CODE)).astype(np.float32)
    W = rng.normal(size=(CODE, n_features)).astype(np.float32)
    X = np.tanh(latent @ W) + 0.1 * rng.normal(size=(n_rows, n_features)).astype(np.float32)
    return X.astype(np.float32)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def hand_loop(X: np.ndarray, epochs: int, batch_size: int, device, seed: int) -> list[float]:
    """The loop a user writes by hand for a GPU; returns seconds per epoch."""
    torch.manual_seed(seed)
    sizes = [X.shape[1], *HIDDEN, CODE]
    model = nn.Sequential(_mlp(sizes), _mlp(sizes[::-1])).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    X_t = torch.from_numpy((X - X.mean(0)) / X.std(0)).to(device)
    durations = []
    for _ in range(epochs):
        _sync(device)
        start = time.perf_counter()
        order = torch.randperm(len(X_t), device=device)
        for i in range(0, len(X_t), batch_size):
            batch = X_t[order[i : i + batch_size]]
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(batch), batch)
            loss.backward()
            optimizer.step()
        _sync(device)
        durations.append(time.perf_counter() - start)
    return durations


def ours(X: np.ndarray, epochs: int, batch_size: int, device, seed: int):
    ae = AutoencoderTransformer(
        n_components=CODE,
        hidden_layer_sizes=HIDDEN,
        batch_size=batch_size,
        max_epochs=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=seed,
        device=str(device),
        check_start=False,  # epochs of one training run
    )
    ae.fit(X)
    return ae, list(ae.net_.history[:, "dur"])


def bench_inference(ae, X: np.ndarray, device, repeats: int) -> dict:
    encoder = ae.net_.module_.encoder
    X_scaled = ae.scaler_.transform(X).astype(np.float32)
    on_device = torch.from_numpy(X_scaled).to(device)
    chunk = 16384

    def raw_on_device():
        with torch.inference_mode():
            out = torch.cat([encoder(part) for part in on_device.split(chunk)])
            return out.cpu().numpy()

    def raw_from_host():
        with torch.inference_mode():
            return np.concatenate(
                [
                    encoder(torch.from_numpy(X_scaled[i : i + chunk]).to(device)).cpu().numpy()
                    for i in range(0, len(X_scaled), chunk)
                ]
            )

    timings = {
        "raw forward, scaled rows already on the device": raw_on_device,
        "raw forward, scaled rows copied from host": raw_from_host,
        "AutoencoderTransformer.transform": lambda: ae.transform(X),
        "AutoencoderTransformer.score_samples": lambda: ae.score_samples(X),
    }
    raw_on_device()  # warm-up
    best: dict[str, float] = {}
    for _ in range(repeats):
        for name, fn in timings.items():
            _sync(device)
            start = time.perf_counter()
            fn()
            _sync(device)
            best[name] = min(best.get(name, np.inf), time.perf_counter() - start)
    np.testing.assert_allclose(raw_on_device(), ae.transform(X), rtol=1e-3, atol=1e-3)
    return {name: len(X) / seconds for name, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[256, 4096])
    parser.add_argument("--repeats", type=int, default=2, help="alternating rounds")
    parser.add_argument("--inference-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if not _is_available(args.device):
        print(f"No device {args.device!r} here (PyTorch {torch.__version__}): nothing to measure.")
        return
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else device.type
    X = make_data(args.rows, args.features)
    print(
        f"{name}, torch {torch.__version__}; {args.rows:,} x {args.features} float32 rows, "
        f"net {args.features}-{'-'.join(map(str, HIDDEN))}-{CODE}-..., {args.epochs} epochs x "
        f"{args.repeats} alternating rounds\n"
    )
    print(f"{'training':<34} {'batch':>6} {'s/epoch':>9} {'rows/s':>11} {'ratio':>7}")
    ae = None
    for batch_size in args.batch_sizes:
        hand, our = [], []
        hand_loop(X[: batch_size * 4], 1, batch_size, device, 0)  # warm-up (kernels, cuDNN)
        for r in range(args.repeats):
            hand += hand_loop(X, args.epochs, batch_size, device, seed=r)
            ae, durations = ours(X, args.epochs, batch_size, device, seed=r)
            our += durations
        base = statistics.median(hand)
        for label, seconds in (
            ("hand-written loop on the device", base),
            ("AutoencoderTransformer (epoch)", statistics.median(our)),
        ):
            print(
                f"{label:<34} {batch_size:>6} {seconds:>9.3f} {args.rows / seconds:>11,.0f} "
                f"{seconds / base:>7.2f}"
            )

    X_inf = make_data(args.inference_rows, args.features, seed=1)
    rates = bench_inference(ae, X_inf, device, args.repeats + 1)
    base = rates["raw forward, scaled rows already on the device"]
    print(f"\n{'inference, ' + format(args.inference_rows, ',') + ' rows':<48} {'rows/s':>12}")
    for label, rate in rates.items():
        print(f"{label:<48} {rate:>12,.0f}   {rate / base:>5.2f}x")


if __name__ == "__main__":
    main()
