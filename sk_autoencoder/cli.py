"""The ``sk-autoencoder`` command line: fit, transform and score CSV or Parquet tables.

Run ``sk-autoencoder --help`` (or ``python -m sk_autoencoder --help``) for the commands
and ``sk-autoencoder <command> --help`` for their options. Tables are read and written
with pandas; the format follows the file extension (``.csv``, ``.parquet`` or ``.pq``).
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import persistence
from ._detector import AutoencoderAnomalyDetector
from ._transformer import AutoencoderTransformer
from .modules import _ACTIVATIONS

_PROG = "sk-autoencoder"
_ESTIMATORS = {"transformer": AutoencoderTransformer, "detector": AutoencoderAnomalyDetector}
_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


class _InputError(Exception):
    """A problem with the user's files or tables: reported in one line, exit code 2."""


# ------------------------------------------------------------------ model files
# The only two functions that know the model file format.
def _save_model(model, path) -> None:
    # skops format: a model file from someone else loads without running its code.
    _atomic_write(path, lambda tmp: persistence.dump(model, tmp))


def _load_model(path):
    path = Path(path)
    if not path.is_file():
        raise _InputError(f"model file not found: {path}")
    try:
        model = persistence.load(path)
    except Exception as exc:
        raise _InputError(f"cannot read a model from {path}: {exc}") from exc
    if not isinstance(model, tuple(_ESTIMATORS.values())):
        raise _InputError(f"{path} does not hold an sk-autoencoder model.")
    return model


# ----------------------------------------------------------------------- tables
def _format_of(path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in _FORMATS:
        raise _InputError(
            f"unsupported file extension {suffix!r} for {path}: use .csv, .parquet or .pq."
        )
    return _FORMATS[suffix]


def _read_table(path) -> pd.DataFrame:
    fmt = _format_of(path)
    if not Path(path).is_file():
        raise _InputError(f"input file not found: {path}")
    try:
        table = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
    except Exception as exc:
        raise _InputError(f"cannot read {path}: {exc}") from exc
    table.columns = [str(c) for c in table.columns]
    return table


def _atomic_write(path, write) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``, so a failure leaves no file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_table(table: pd.DataFrame, path) -> None:
    fmt = _format_of(path)
    if fmt == "csv":
        _atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))
    else:
        _atomic_write(path, lambda tmp: table.to_parquet(tmp, index=False))


def _names(columns) -> str:
    columns = list(columns)
    shown = ", ".join(str(c) for c in columns[:10])
    return shown + (f" and {len(columns) - 10} more" if len(columns) > 10 else "")


def _features(table: pd.DataFrame, id_column: str | None, model=None) -> pd.DataFrame:
    """The numeric feature columns, checked; in the model's column order if given."""
    if id_column is not None:
        if id_column not in table.columns:
            raise _InputError(f"--id-column {id_column!r} is not a column of the table.")
        table = table.drop(columns=id_column)
    if table.shape[1] == 0:
        raise _InputError("the table has no feature columns.")
    if model is not None:
        expected = [str(c) for c in getattr(model, "feature_names_in_", [])]
        missing = [c for c in expected if c not in table.columns]
        extra = [c for c in table.columns if c not in expected]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {_names(missing)}")
            if extra:
                parts.append(f"unexpected {_names(extra)}")
            raise _InputError(f"columns differ from the model's: {'; '.join(parts)}.")
        table = table[expected]
    non_numeric = [
        c
        for c in table.columns
        if not (pd.api.types.is_numeric_dtype(table[c]) or pd.api.types.is_bool_dtype(table[c]))
    ]
    if non_numeric:
        raise _InputError(
            f"non-numeric columns: {_names(non_numeric)} (drop or encode them, or name an "
            "identifier with --id-column)."
        )
    values = table.astype(np.float64)
    bad = [c for c in values.columns if not np.isfinite(values[c].to_numpy()).all()]
    if bad:
        raise _InputError(
            f"missing or infinite values in columns: {_names(bad)} (impute or drop them first)."
        )
    return values


def _with_id(result: pd.DataFrame, table: pd.DataFrame, id_column: str | None) -> pd.DataFrame:
    if id_column is not None:
        result.insert(0, id_column, table[id_column].to_numpy())
    return result


# --------------------------------------------------------------------- commands
def _estimator_params(args) -> dict:
    params = {}
    for name in _PARAM_OPTIONS:
        value = getattr(args, name)
        if value is not None:
            params[name] = value
    if args.early_stopping:
        params["early_stopping"] = True
    if params.get("preprocessing") == "none":
        params["preprocessing"] = None
    for name in ("contamination", "max_samples"):
        if name in params and args.estimator != "detector":
            option = "--" + name.replace("_", "-")
            raise _InputError(f"{option} applies to --estimator detector only.")
    return params


def _show_progress(args) -> bool:
    if args.progress is not None:
        return args.progress
    return sys.stderr.isatty()


def _cmd_fit(args) -> int:
    model = _ESTIMATORS[args.estimator](**_estimator_params(args))
    table = _read_table(args.input)
    X = _features(table, args.id_column)
    if _show_progress(args):
        model.set_params(verbose=1)
    model.fit(X)
    if model.verbose:
        model.set_params(verbose=0)
    _save_model(model, args.model)
    print(
        f"fitted {type(model).__name__} on {X.shape[0]} rows x {X.shape[1]} columns in "
        f"{model.n_iter_} epochs; saved to {args.model}",
        file=sys.stderr,
    )
    return 0


def _cmd_transform(args) -> int:
    model = _load_model(args.model)
    if not isinstance(model, AutoencoderTransformer):
        raise _InputError(
            "transform needs a model fitted with --estimator transformer; use score for a "
            "detector."
        )
    _format_of(args.output)
    table = _read_table(args.input)
    X = _features(table, args.id_column, model)
    codes = pd.DataFrame(model.transform(X), columns=model.get_feature_names_out())
    _write_table(_with_id(codes, table, args.id_column), args.output)
    return 0


def _cmd_score(args) -> int:
    model = _load_model(args.model)
    if not isinstance(model, AutoencoderAnomalyDetector):
        raise _InputError(
            "score needs a model fitted with --estimator detector; use transform for a "
            "transformer."
        )
    if args.top_k < 0:
        raise _InputError(f"--top-k must be >= 0, got {args.top_k}.")
    _format_of(args.output)
    table = _read_table(args.input)
    X = _features(table, args.id_column, model)
    errors = np.asarray(model.score_features(X))
    scores = -errors.mean(axis=1)
    result = pd.DataFrame(
        {
            "anomaly_score": -scores,
            "is_outlier": (scores < model.offset_).astype(int),
        }
    )
    k = min(args.top_k, X.shape[1])
    # Columns by decreasing error; a stable sort keeps ties in column order.
    order = np.argsort(-errors, axis=1, kind="stable")[:, :k]
    columns = np.asarray(X.columns)
    for rank in range(k):
        result[f"top_{rank + 1}_column"] = columns[order[:, rank]]
        result[f"top_{rank + 1}_error"] = np.take_along_axis(errors, order[:, [rank]], axis=1)[
            :, 0
        ]
    _write_table(_with_id(result, table, args.id_column), args.output)
    n_out = int(result["is_outlier"].sum())
    print(f"scored {len(result)} rows, {n_out} flagged as outliers", file=sys.stderr)
    return 0


def _cmd_demo(args) -> int:
    from .demo import main as demo_main

    argv = ["--max-epochs", str(args.max_epochs), "--random-state", str(args.random_state)]
    return demo_main(argv)


# ----------------------------------------------------------------------- parser
# Estimator parameters offered by ``fit``: (type, help). Defaults come from the
# estimators' signatures so the help text never drifts from the code.
_PARAM_OPTIONS = {
    "n_components": (int, "width of the code (the bottleneck)"),
    "hidden_layer_sizes": (
        None,
        "comma-separated widths of the encoder's hidden layers, e.g. 64,32 (the decoder "
        "mirrors them); an empty string for none",
    ),
    "activation": (
        str,
        "activation of the hidden layers: relu, leaky_relu, elu, gelu, tanh, sigmoid or identity",
    ),
    "dropout": (float, "dropout probability after each hidden layer, in [0, 1)"),
    "loss": (str, "reconstruction loss: mse, or bce (needs --preprocessing minmax)"),
    "preprocessing": (str, "scaling learnt before the network: standard, minmax or none"),
    "optimizer": (str, "optimiser: adam, adamw, sgd or rmsprop"),
    "learning_rate": (float, "step size of the optimiser"),
    "weight_decay": (float, "L2 penalty of the optimiser"),
    "batch_size": (None, "rows per training batch, or auto for min(200, rows)"),
    "max_epochs": (int, "maximum passes over the training rows"),
    "validation_fraction": (float, "share of rows held out with --early-stopping"),
    "n_iter_no_change": (int, "epochs without improvement tolerated before stopping"),
    "tol": (float, "smallest loss decrease that counts as an improvement"),
    "random_state": (int, "seed; the same seed gives the same model on CPU"),
    "contamination": (
        None,
        "detector only: expected share of outliers in (0, 0.5] setting the threshold, or "
        "auto for Tukey's fence on the training errors",
    ),
    "max_samples": (
        None,
        "detector only: rows the network trains on, a random subsample: auto for "
        "min(1000, rows), a count, or a share in (0, 1]",
    ),
}


def _sizes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def _int_or_auto(text: str):
    return text if text == "auto" else int(text)


def _float_or_auto(text: str):
    return text if text == "auto" else float(text)


def _count_share_or_auto(text: str):
    if text == "auto":
        return text
    return int(text) if text.strip().isdigit() else float(text)


_METAVARS = {
    "hidden_layer_sizes": "SIZES",
    "activation": "NAME",
    "loss": "NAME",
    "preprocessing": "NAME",
    "optimizer": "NAME",
    "dropout": "P",
    "learning_rate": "RATE",
    "weight_decay": "ALPHA",
    "validation_fraction": "FRACTION",
    "tol": "TOL",
    "random_state": "SEED",
    "contamination": "SHARE",
    "max_samples": "ROWS",
}
_CHOICES = {
    "activation": sorted(_ACTIVATIONS),
    "loss": ["mse", "bce"],
    "preprocessing": ["standard", "minmax", "none"],
    "optimizer": ["adam", "adamw", "sgd", "rmsprop"],
}

_CONVERTERS = {
    "hidden_layer_sizes": _sizes,
    "batch_size": _int_or_auto,
    "contamination": _float_or_auto,
    "max_samples": _count_share_or_auto,
}


def _default_text(name: str) -> str:
    defaults = {}
    for key, cls in _ESTIMATORS.items():
        param = inspect.signature(cls).parameters.get(name)
        if param is not None:
            value = param.default
            if isinstance(value, tuple):
                value = ",".join(str(v) for v in value)
            defaults[key] = "none" if value is None else value
    values = set(map(str, defaults.values()))
    if len(values) == 1:
        return f"default: {values.pop()}"
    return "default: " + ", ".join(f"{v} for the {k}" for k, v in defaults.items())


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sk-autoencoder`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        The parser, with one sub-parser per command.
    """
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description=(
            "Autoencoders for CSV and Parquet tables: fit a transformer or an anomaly "
            "detector, save it, then encode or score other tables with it. Tables are "
            "read and written with pandas; the file extension (.csv, .parquet, .pq) "
            "picks the format. Every column except --id-column must be numeric and "
            "complete; otherwise the command stops with exit code 2 and writes nothing."
        ),
        epilog=f"Run '{_PROG} COMMAND --help' for the options of a command.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser(
        "demo",
        help="compare the autoencoder with PCA on scikit-learn's digits",
        description="Fit PCA and autoencoders on scikit-learn's digits (no download) and "
        "print the test reconstruction error and the accuracy of a classifier trained on "
        "the codes.",
    )
    demo.add_argument(
        "--max-epochs", type=int, default=200, help="autoencoder epochs (default: %(default)s)"
    )
    demo.add_argument("--random-state", type=int, default=0, help="seed (default: %(default)s)")
    demo.set_defaults(handler=_cmd_demo)

    id_help = (
        "name of an identifier column: left out of the features and, for transform "
        "and score, copied as the first output column"
    )

    fit = commands.add_parser(
        "fit",
        help="fit a transformer or an anomaly detector on a table and save it",
        description="Fit an autoencoder on every column of INPUT (except --id-column) and "
        "save it to --model. Unset options keep the estimator's default.",
    )
    fit.add_argument("input", metavar="INPUT", help="training table (.csv, .parquet, .pq)")
    fit.add_argument("--model", required=True, metavar="PATH", help="where to save the model")
    fit.add_argument(
        "--estimator",
        choices=sorted(_ESTIMATORS),
        default="detector",
        help="transformer (AutoencoderTransformer: codes with 'transform') or detector "
        "(AutoencoderAnomalyDetector: outlier scores with 'score') (default: %(default)s)",
    )
    fit.add_argument("--id-column", metavar="NAME", help=id_help)
    group = fit.add_argument_group("estimator parameters")
    for name, (type_, text) in _PARAM_OPTIONS.items():
        group.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            type=_CONVERTERS.get(name, type_),
            metavar=_METAVARS.get(name, "N"),
            choices=_CHOICES.get(name),
            help=f"{text} ({_default_text(name)})",
        )
    group.add_argument(
        "--early-stopping",
        action="store_true",
        help="hold out --validation-fraction of the rows and stop when their loss stops "
        "improving; the best epoch's weights are kept (default: off, training stops when "
        "the training loss stops improving)",
    )
    fit.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar over epochs on stderr (default: only when stderr is a terminal)",
    )
    fit.set_defaults(handler=_cmd_fit)

    transform = commands.add_parser(
        "transform",
        help="encode a table with a fitted transformer",
        description="Write the codes of each row of INPUT to --output, one column per code "
        "component (named autoencodertransformer0, autoencodertransformer1, ...), rows in "
        "input order. INPUT must have the training table's columns (any order).",
    )
    transform.add_argument("input", metavar="INPUT", help="table to encode")
    transform.add_argument("--model", required=True, metavar="PATH", help="fitted transformer")
    transform.add_argument(
        "-o", "--output", required=True, metavar="PATH", help="where to write the codes"
    )
    transform.add_argument("--id-column", metavar="NAME", help=id_help)
    transform.set_defaults(handler=_cmd_transform)

    score = commands.add_parser(
        "score",
        help="score the rows of a table with a fitted anomaly detector",
        description="Write one row per row of INPUT (same order) to --output with the "
        "columns anomaly_score (the reconstruction error; higher is more abnormal), "
        "is_outlier (1 when the score passes the model's threshold, else 0) and, for r = "
        "1..TOP_K, top_r_column and top_r_error: the columns with the largest "
        "reconstruction error in that row and their error. INPUT must have the training "
        "table's columns (any order).",
    )
    score.add_argument("input", metavar="INPUT", help="table to score")
    score.add_argument("--model", required=True, metavar="PATH", help="fitted detector")
    score.add_argument(
        "-o", "--output", required=True, metavar="PATH", help="where to write the scores"
    )
    score.add_argument(
        "--top-k",
        type=int,
        default=3,
        help="how many contributing columns to list per row, capped at the number of "
        "columns (default: %(default)s)",
    )
    score.add_argument("--id-column", metavar="NAME", help=id_help)
    score.set_defaults(handler=_cmd_score)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sk-autoencoder`` command line.

    Parameters
    ----------
    argv : sequence of str or None, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 for a usage or input error (reported in one line on stderr).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help and argparse's own usage errors
        return int(exc.code or 0)
    try:
        return args.handler(args)
    except (_InputError, ValueError) as exc:
        message = " ".join(str(exc).split())
        print(f"{_PROG} {args.command}: error: {message}", file=sys.stderr)
        return 2
