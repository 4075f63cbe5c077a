"""The README demo: autoencoder versus PCA on scikit-learn's digits.

Run it with ``python -m sk_autoencoder.demo``. For each code width it fits PCA and an
``AutoencoderTransformer`` on a training split, then prints the test reconstruction
error (mean squared error in pixel units) and the test accuracy of a logistic
regression trained on the codes.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._transformer import AutoencoderTransformer


def _evaluate(reducer, X_train, X_test, y_train, y_test) -> tuple[float, float, float]:
    start = time.perf_counter()
    reducer.fit(X_train)
    seconds = time.perf_counter() - start
    X_rec = reducer.inverse_transform(reducer.transform(X_test))
    mse = float(np.mean((X_rec - X_test) ** 2))
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    clf.fit(reducer.transform(X_train), y_train)
    accuracy = float(clf.score(reducer.transform(X_test), y_test))
    return mse, accuracy, seconds


def run_demo(
    n_components: Sequence[int] = (2, 4, 8),
    max_epochs: int | None = None,
    random_state: int = 0,
    on_row: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Compare PCA and an autoencoder on digits; return one dict per (method, width).

    The autoencoder is ``AutoencoderTransformer`` with its defaults: nothing is
    tuned for the digits.

    Parameters
    ----------
    n_components : sequence of int, default=(2, 4, 8)
        Code widths to compare.
    max_epochs : int or None, default=None
        Training epochs of the autoencoder; None keeps the estimator's default.
    random_state : int, default=0
        Seed of the split and of the network.
    on_row : callable or None, default=None
        Called with each row's dict as soon as it is measured (the command line
        prints it), so that a long run shows its progress.

    Returns
    -------
    rows : list of dict
        Keys ``method``, ``n_components``, ``test_mse``, ``accuracy``, ``fit_seconds``.
    """
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=random_state, stratify=y
    )
    rows = []
    for k in n_components:
        reducers = {
            "PCA": PCA(n_components=k, random_state=random_state),
            "Autoencoder": AutoencoderTransformer(
                n_components=k,
                random_state=random_state,
                **({} if max_epochs is None else {"max_epochs": max_epochs}),
            ),
        }
        for name, reducer in reducers.items():
            mse, accuracy, seconds = _evaluate(reducer, X_train, X_test, y_train, y_test)
            rows.append(
                {
                    "method": name,
                    "n_components": k,
                    "test_mse": mse,
                    "accuracy": accuracy,
                    "fit_seconds": seconds,
                }
            )
            if on_row is not None:
                on_row(rows[-1])
    return rows


_HEADER = (
    f"{'n_components':>12}  {'method':<12} {'test MSE':>9} {'vs PCA':>7} "
    f"{'accuracy':>9} {'fit s':>6}"
)


def _format_row(row: dict, pca_mse: float) -> str:
    """One table line; ``pca_mse`` is PCA's test MSE at the same width."""
    return (
        f"{row['n_components']:>12}  {row['method']:<12} {row['test_mse']:>9.3f} "
        f"{row['test_mse'] / pca_mse:>7.2f} {row['accuracy']:>9.3f} {row['fit_seconds']:>6.1f}"
    )


def _format_table(rows: list[dict]) -> str:
    lines = [_HEADER, "-" * len(_HEADER)]
    pca_mse = {r["n_components"]: r["test_mse"] for r in rows if r["method"] == "PCA"}
    lines += [_format_row(r, pca_mse[r["n_components"]]) for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: print the comparison table.

    Parameters
    ----------
    argv : sequence of str or None, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success.
    """
    parser = argparse.ArgumentParser(
        prog="python -m sk_autoencoder.demo",
        description="Autoencoder versus PCA on the digits dataset (ships with scikit-learn).",
    )
    parser.add_argument(
        "--max-epochs", type=int, default=None, help="autoencoder epochs (default: its own)"
    )
    parser.add_argument("--random-state", type=int, default=0, help="seed")
    args = parser.parse_args(argv)
    print("Digits (1797 rows x 64 pixels), 25% held out for testing.")
    print("test MSE: reconstruction error of held-out digits in pixel units (0-16 scale);")
    print("vs PCA:   test MSE divided by PCA's at the same n_components (below 1: better);")
    print("accuracy: logistic regression trained on the codes, on held-out digits;")
    epochs = args.max_epochs or AutoencoderTransformer().max_epochs
    print(f"fit s:    seconds to fit (the autoencoder trains {epochs} epochs).\n")
    print(_HEADER)
    print("-" * len(_HEADER), flush=True)
    pca_mse: dict[int, float] = {}

    def show(row: dict) -> None:
        # PCA comes first at each width: its error is the reference of the ratio.
        pca_mse.setdefault(row["n_components"], row["test_mse"])
        print(_format_row(row, pca_mse[row["n_components"]]), flush=True)

    run_demo(max_epochs=args.max_epochs, random_state=args.random_state, on_row=show)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
