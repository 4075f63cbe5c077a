"""The ``sk-autoencoder`` command line: fit, transform and score CSV or Parquet tables.

Run ``sk-autoencoder --help`` (or ``python -m sk_autoencoder --help``) for the commands
and ``sk-autoencoder <command> --help`` for their options. Tables are read and written
with pandas; the format follows the file extension (``.csv``, ``.parquet`` or ``.pq``).
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import io
import os
import re
import sys
import tempfile
import textwrap
import warnings
from collections import Counter
from collections.abc import Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

# numpy, pandas, scikit-learn and the estimators (torch) are imported by the
# functions that need them, so that `sk-autoencoder --help` starts in a blink.
from ._version import __version__

if TYPE_CHECKING:
    import pandas as pd

_PROG = "sk-autoencoder"
# The estimator behind each --estimator key, by its name in the package (imported
# when first needed) or as a class.
_ESTIMATORS: dict[str, str | type] = {
    "transformer": "AutoencoderTransformer",
    "detector": "AutoencoderAnomalyDetector",
}
_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
# "-" for INPUT or --output: standard input or output, as CSV.
_STDIO = "-"
# Exit codes: a usage or input error (argparse's), and an interrupt (128 + SIGINT).
_EXIT_ERROR = 2
_EXIT_INTERRUPTED = 130


class _InputError(Exception):
    """A problem with the user's files or tables: reported in one line, exit code 2."""


def _estimator(key: str) -> type:
    """The estimator class of an ``--estimator`` key."""
    cls = _ESTIMATORS[key]
    if isinstance(cls, str):
        import sk_autoencoder

        cls = getattr(sk_autoencoder, cls)
    return cls


def _estimator_classes() -> dict[str, type]:
    return {key: _estimator(key) for key in _ESTIMATORS}


# ------------------------------------------------------------------ model files
# The only two functions that know the model file format.
def _save_model(model, path) -> None:
    from . import persistence

    # skops format: a model file from someone else loads without running its code.
    _atomic_write(path, lambda tmp: persistence.dump(model, tmp))


def _load_model(path):
    if str(path) == _STDIO:
        raise _InputError("--model - is not supported: a model is a binary file; give a path.")
    from . import persistence

    path = Path(path)
    if not path.is_file():
        raise _InputError(f"model file not found: {path}")
    try:
        model = persistence.load(path)
    except Exception as exc:
        raise _InputError(f"cannot read a model from {path}: {exc}") from exc
    if not isinstance(model, tuple(_estimator_classes().values())):
        raise _InputError(f"{path} does not hold an sk-autoencoder model.")
    return model


# ----------------------------------------------------------------------- tables
def _format_of(path) -> str:
    if str(path) == _STDIO:
        return "csv"
    suffix = Path(path).suffix.lower()
    if suffix not in _FORMATS:
        raise _InputError(
            f"unsupported file extension {suffix!r} for {path}: use .csv, .parquet or .pq "
            "(or - for standard input or output, as CSV)."
        )
    return _FORMATS[suffix]


def _csv_header(source) -> list[str]:
    """The names in the first line of a CSV, as written: pandas renames duplicates
    (``a``, ``a.1``) when it reads the table."""
    import pandas as pd

    header = pd.read_csv(source, header=None, nrows=1, dtype=str, keep_default_na=False)
    return [] if header.empty else [str(name) for name in header.iloc[0]]


def _check_output_format(path) -> None:
    """Fail before any work when ``path``'s format cannot be written here."""
    if _format_of(path) == "parquet" and not any(
        importlib.util.find_spec(engine) for engine in ("pyarrow", "fastparquet")
    ):
        raise _InputError(
            f"cannot write {path}: Parquet needs pyarrow, which is not installed "
            '(pip install ".[parquet]" or pip install pyarrow), or write a .csv file.'
        )


def _read_table(path) -> pd.DataFrame:
    import pandas as pd

    fmt = _format_of(path)
    stdin = str(path) == _STDIO
    if not stdin and not Path(path).is_file():
        raise _InputError(f"input file not found: {path}")
    name = "standard input" if stdin else str(path)
    try:
        if fmt == "csv":
            # Parsed twice, the header as written and the table; standard input can be
            # read once only, so it is kept in memory.
            source = io.StringIO(sys.stdin.read()) if stdin else path
            header = _csv_header(source)
            if stdin:
                source.seek(0)
            table = pd.read_csv(source)
        else:
            header, table = None, pd.read_parquet(path)
    except Exception as exc:
        raise _InputError(f"cannot read {name}: {exc}") from exc
    if header is not None:
        counts = Counter(h for h in header if h)
        duplicated = [f"{h!r} ({n} times)" for h, n in counts.items() if n > 1]
        if duplicated:
            raise _InputError(
                f"{name} has duplicate column names: {', '.join(duplicated)}; give every "
                "column a unique name."
            )
    if len(table) == 0:
        raise _InputError(f"{name} has no data rows, only a header.")
    table.columns = [str(c) for c in table.columns]
    return table


def _file_mode(path: Path) -> int:
    """The permissions a plain ``open(path, "w")`` would leave: the existing file's,
    or 0o666 less the umask for a new file."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _atomic_write(path, write) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``, so a failure leaves no file;
    the file gets the permissions a plain write would give it."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_table(table: pd.DataFrame, path) -> None:
    fmt = _format_of(path)
    if str(path) == _STDIO:
        # Whole, or not at all: the text is built before anything is written.
        sys.stdout.write(table.to_csv(index=False))
        sys.stdout.flush()
        return
    if fmt == "csv":
        _atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))
        return
    try:
        _atomic_write(path, lambda tmp: table.to_parquet(tmp, index=False))
    except ImportError as exc:  # an engine that is installed but does not import
        raise _InputError(f"cannot write {path}: {exc}") from exc


def _same_file(a, b) -> bool:
    if _STDIO in (str(a), str(b)):
        return False
    a, b = Path(a), Path(b)
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def _check_output(path, option: str, inputs: dict, overwrite: bool) -> None:
    """Refuse, before any work, an output that would replace an input (unless
    ``--overwrite``) or that cannot be written: a missing or read-only directory."""
    if str(path) == _STDIO:
        return
    for name, source in inputs.items():
        if _same_file(path, source) and not overwrite:
            raise _InputError(
                f"{option} {path} is the {name}; writing it would destroy it. Choose another "
                "path, or pass --overwrite to replace it."
            )
    path = Path(path)
    if path.is_dir():
        raise _InputError(f"{option} {path} is a directory; give a file path.")
    parent = path.parent
    if not parent.is_dir():
        raise _InputError(f"cannot write {option} {path}: directory {parent} does not exist.")
    try:  # the real test: permissions, ACLs and read-only file systems alike
        fd, probe = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _InputError(f"cannot write {option} {path}: {exc.strerror}.") from exc
    os.close(fd)
    os.unlink(probe)


def _names(columns) -> str:
    columns = list(columns)
    shown = ", ".join(str(c) for c in columns[:10])
    return shown + (f" and {len(columns) - 10} more" if len(columns) > 10 else "")


def _features(table: pd.DataFrame, id_column: str | None, model=None) -> pd.DataFrame:
    """The numeric feature columns, checked; in the model's column order if given."""
    import numpy as np
    import pandas as pd

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
    # Missing values go to the model, which trains and scores on observed entries.
    bad = [c for c in values.columns if np.isinf(values[c].to_numpy()).any()]
    if bad:
        raise _InputError(f"infinite values in columns: {_names(bad)} (replace or drop them).")
    return values


def _with_id(result: pd.DataFrame, table: pd.DataFrame, id_column: str | None) -> pd.DataFrame:
    if id_column is not None:
        result.insert(0, id_column, table[id_column].to_numpy())
    return result


# ------------------------------------------------------- estimator parameters
# Every constructor parameter of the estimators is a ``fit`` option, built from the
# estimators themselves: the names and defaults from their signatures, the value
# forms and choices from ``_parameter_constraints``, the help from their numpydoc
# docstrings. A new parameter, or a new string choice of one, reaches the command
# line with no edit here. Only these stay off it, each for its reason; a test
# checks that every other parameter has an option and that no entry is stale.
_NOT_ON_COMMAND_LINE = {
    "verbose": "set by --progress",
    "callbacks": "skorch callback objects, which a command line cannot express",
    "module": "a Python class, a custom torch network: --architecture picks a built-in one",
    "warm_start": "fit always trains a new model from INPUT, never continues one",
    "partial_fit_epochs": "read by partial_fit only, which the command line never calls",
}

# Forms a value can take, in the order they are tried after the words: the metavar
# shown in the help, the reader, and how an error message names the form.
_FORMS = {
    "INT": (int, "an integer"),
    "FLOAT": (float, "a number"),
    "SEED": (int, "an integer seed"),
    "INT,...": (None, "comma-separated integers (an empty string for none)"),
    "TEXT": (str, "a string"),
}


def _sequence(text: str) -> tuple:
    """``"64,32"`` -> ``(64, 32)``; ``""`` -> ``()``. The estimator checks the values."""
    parts = [part.strip() for part in text.split(",")] if text.strip() else []
    values = []
    for part in parts:
        try:
            values.append(int(part))
        except ValueError:
            values.append(float(part))  # a ValueError here rejects the text
    return tuple(values)


class _ValueReader:
    """argparse ``type`` of one parameter option: the text as the first form of the
    parameter's constraints that accepts it. Whether the value is in range is the
    estimator's call (its error becomes the command's one-line error)."""

    def __init__(self, words: dict, forms: list[str]):
        self.words = words  # literal words (a StrOptions choice, "none") -> value
        self.forms = forms  # keys of _FORMS

    def __call__(self, text: str):
        if text in self.words:
            return self.words[text]
        for form in self.forms:
            read = _FORMS[form][0] or _sequence
            try:
                return read(text)
            except ValueError:
                pass
        raise argparse.ArgumentTypeError(f"expected {self.expected()}, got {text!r}")

    def _labels(self) -> tuple[list[str], list[str]]:
        words = [w for w in self.words if w != "none"]
        tail = ["none"] if "none" in self.words else []
        return words, tail

    def metavar(self) -> str:
        words, tail = self._labels()
        if not self.forms:
            return "{" + ",".join(words + tail) + "}"
        return "|".join(words + self.forms + tail)

    def expected(self) -> str:
        words, tail = self._labels()
        alternatives = [*words, *(_FORMS[f][1] for f in self.forms), *tail]
        if len(alternatives) == 1:
            return alternatives[0]
        return ", ".join(alternatives[:-1]) + " or " + alternatives[-1]


def _reader(constraints) -> _ValueReader | str | None:
    """How the command line reads a parameter with these sklearn constraints:
    a :class:`_ValueReader`, ``"flag"`` for a boolean, or None when no form of the
    parameter can be typed (only Python objects: classes, callables)."""
    from sklearn.utils._param_validation import Hidden, Interval, Options, StrOptions

    words, forms, boolean = {}, [], False
    none = False
    for constraint in constraints:
        if isinstance(constraint, Hidden):  # private or deprecated forms
            continue
        if constraint is None:
            none = True
        elif isinstance(constraint, StrOptions):
            live = constraint.options - (constraint.deprecated or set())
            words.update({word: word for word in sorted(live)})
        elif isinstance(constraint, Options):
            words.update({str(v): v for v in sorted(constraint.options)})
        elif isinstance(constraint, Interval):
            forms.append("INT" if issubclass(constraint.type, Integral) else "FLOAT")
        elif isinstance(constraint, str):
            form = {
                "boolean": "boolean",
                "random_state": "SEED",
                "verbose": "INT",
                "array-like": "INT,...",
            }.get(constraint)
            if form == "boolean":
                boolean = True
            elif form == "SEED":
                forms.append(form)
                none = True  # None: a fresh seed each run
            elif form is not None:
                forms.append(form)
        elif constraint is bool:
            boolean = True
        elif constraint in (list, tuple):
            forms.append("INT,...")
        elif constraint in (int, Integral):
            forms.append("INT")
        elif constraint in (float, Real):
            forms.append("FLOAT")
        elif constraint is str:
            forms.append("TEXT")
        # Anything else (type, callable, HasMethods, sparse matrices) is a Python object.
    if boolean and not (words or forms or none):
        return "flag"
    if boolean:
        words.update({"true": True, "false": False})
    if none:
        words["none"] = None
    forms = sorted(set(forms), key=list(_FORMS).index)
    if not (words or forms):
        return None
    return _ValueReader(words, forms)


_SECTION_RULE = re.compile(r"-{3,}")


def _parameter_docs(cls) -> dict[str, str]:
    """The description of each parameter in the ``Parameters`` section of a numpydoc
    class docstring (the format ``_docs.py`` generates), keyed by name."""
    lines = inspect.cleandoc(cls.__doc__ or "").splitlines()
    starts = [
        i + 2
        for i in range(len(lines) - 1)
        if lines[i].strip() == "Parameters" and _SECTION_RULE.fullmatch(lines[i + 1].strip())
    ]
    docs: dict[str, list[str]] = {}
    names: list[str] = []
    for i in range(starts[0] if starts else len(lines), len(lines)):
        line = lines[i]
        if line[:1].isspace() or not line:
            for name in names:
                docs[name].append(line.strip())
        elif i + 1 < len(lines) and _SECTION_RULE.fullmatch(lines[i + 1].strip()):
            break  # the next section
        else:  # "name : type" or "name1, name2 : type"
            names = [n.strip() for n in line.partition(" :")[0].split(",")]
            for name in names:
                docs[name] = []
    return {name: "\n".join(body).strip() for name, body in docs.items()}


# A sentence ends at . ! or ? before a space, except in these abbreviations.
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bcf)[.!?](?=\s|$)")


def _first_sentence(text: str) -> str:
    """The first sentence of a description, as argparse help is written: one line,
    lower case unless its first word is a name ("L2", "PyOD"), no final stop."""
    paragraph = " ".join(text.split("\n\n")[0].split())
    match = _SENTENCE_END.search(paragraph)
    sentence = (paragraph[: match.start()] if match else paragraph).rstrip(" :;,.")
    if sentence[:2].istitle() and sentence[1:2].isalpha():
        sentence = sentence[0].lower() + sentence[1:]
    return sentence


def _plain(text: str, flags: dict[str, str]) -> str:
    """reStructuredText to terminal text: roles to their target, literals unquoted, and
    ``name`` or ``name=value`` of a parameter written as its option."""
    text = re.sub(r":[\w:]+:`~[^`]*?([^`.]+)`", r"\1", text)  # :class:`~a.B` -> B
    text = re.sub(r":[\w:]+:`([^`]+)`", r"\1", text)

    def literal(match: re.Match) -> str:
        body = match.group(1)
        name, equals, value = body.partition("=")
        if body in flags:
            return flags[body]
        if equals and name in flags:
            value = value.strip("\"'")
            if value in ("True", "False"):
                return flags[name].replace("--", "--" if value == "True" else "--no-", 1)
            return f"{flags[name]} {'none' if value == 'None' else value}"
        return body[1:-1] if re.fullmatch(r"\"[^\"]*\"|'[^']*'", body) else body

    return re.sub(r"``(.+?)``", literal, text)


def _value_text(value, flag: bool) -> str:
    if flag and isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "none"
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value) or '""'
    return str(value)


class _ParameterOption(NamedTuple):
    """A ``fit`` option that sets one estimator parameter."""

    name: str  # the parameter, and the option's dest
    flag: str  # "--max-samples"
    estimators: tuple[str, ...]  # keys of _ESTIMATORS that take it
    reader: _ValueReader | str  # "flag" for --x/--no-x
    help: str


def _default_text(name: str, flag: bool = False) -> str:
    defaults = {
        key: _value_text(inspect.signature(cls).parameters[name].default, flag)
        for key, cls in _estimator_classes().items()
        if name in inspect.signature(cls).parameters
    }
    if len(set(defaults.values())) == 1:
        return f"default: {next(iter(defaults.values()))}"
    return "default: " + ", ".join(f"{v} for the {k}" for k, v in defaults.items())


def _parameter_options() -> list[_ParameterOption]:
    """One option per estimator parameter that a command line can express, in
    signature order (the transformer's, then those of the detector only)."""
    estimators = _estimator_classes()
    takers: dict[str, list[str]] = {}
    for key, cls in estimators.items():
        for name in inspect.signature(cls).parameters:
            takers.setdefault(name, []).append(key)
    readers = {}
    for name, keys in takers.items():
        constraints = estimators[keys[0]]._parameter_constraints.get(name)
        if name not in _NOT_ON_COMMAND_LINE and constraints is not None:
            reader = _reader(constraints)
            if reader is not None:
                readers[name] = reader
    flags = {name: "--" + name.replace("_", "-") for name in readers}
    docs = {key: _parameter_docs(cls) for key, cls in estimators.items()}
    options = []
    for name, reader in readers.items():
        keys = takers[name]
        description = next((docs[k][name] for k in keys if docs[k].get(name)), "")
        if description:
            sentence = _plain(_first_sentence(description), flags)
            if reader == "flag":  # "if True, hold out..." -> "hold out..."
                sentence = re.sub(r"^if True,\s*", "", sentence)
        else:  # undocumented: the docstring test reports it
            sentence = f"the estimator's {name} parameter"
        text = f"{sentence} ({_default_text(name, reader == 'flag')})"
        # argparse %-formats help strings.
        options.append(
            _ParameterOption(name, flags[name], tuple(keys), reader, text.replace("%", "%%"))
        )
    return options


# --------------------------------------------------------------------- commands
def _estimator_params(args) -> dict:
    given = vars(args)
    params = {}
    for option in _parameter_options():
        if option.name not in given:  # unset: the estimator's default
            continue
        if args.estimator not in option.estimators:
            allowed = " or ".join(f"--estimator {key}" for key in option.estimators)
            raise _InputError(f"{option.flag} applies to {allowed} only.")
        params[option.name] = given[option.name]
    return params


def _show_progress(args) -> bool:
    if args.progress is not None:
        return args.progress
    return sys.stderr.isatty()


def _fit_recording_interrupt(model, X) -> str | None:
    """``model.fit(X)``; the message of a :class:`TrainingInterruptedWarning` if training
    was cut short (other warnings are shown as usual)."""
    from .exceptions import TrainingInterruptedWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X)
    interrupted = None
    for w in caught:
        if issubclass(w.category, TrainingInterruptedWarning):
            interrupted = str(w.message)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return interrupted


def _cmd_fit(args) -> int:
    model = _estimator(args.estimator)(**_estimator_params(args))
    if args.model == _STDIO:
        raise _InputError("--model - is not supported: a model is a binary file; give a path.")
    _check_output(args.model, "--model", {"input table": args.input}, args.overwrite)
    table = _read_table(args.input)
    X = _features(table, args.id_column)
    if _show_progress(args):
        model.set_params(verbose=1)
    interrupted = _fit_recording_interrupt(model, X)
    if model.verbose:
        model.set_params(verbose=0)
    _save_model(model, args.model)
    if interrupted is not None:
        print(f"{_PROG} fit: {interrupted} Saved that model to {args.model}.", file=sys.stderr)
        return _EXIT_INTERRUPTED
    print(
        f"fitted {type(model).__name__} on {X.shape[0]} rows x {X.shape[1]} columns in "
        f"{model.n_iter_} epochs; saved to {args.model}",
        file=sys.stderr,
    )
    return 0


def _check_apply_paths(args) -> None:
    """The output of transform and score: a format that can be written here, a
    writable path, not an input."""
    _check_output_format(args.output)
    inputs = {"input table": args.input, "model file": args.model}
    _check_output(args.output, "--output", inputs, args.overwrite)


def _cmd_transform(args) -> int:
    import pandas as pd

    _check_apply_paths(args)
    model = _load_model(args.model)
    if not isinstance(model, _estimator("transformer")):
        raise _InputError(
            "transform needs a model fitted with --estimator transformer; use score for a "
            "detector."
        )
    table = _read_table(args.input)
    X = _features(table, args.id_column, model)
    codes = pd.DataFrame(model.transform(X), columns=model.get_feature_names_out())
    _write_table(_with_id(codes, table, args.id_column), args.output)
    return 0


def _cmd_score(args) -> int:
    import numpy as np
    import pandas as pd

    _check_apply_paths(args)
    model = _load_model(args.model)
    if not isinstance(model, _estimator("detector")):
        raise _InputError(
            "score needs a model fitted with --estimator detector; use transform for a "
            "transformer."
        )
    if args.top_k < 0:
        raise _InputError(f"--top-k must be >= 0, got {args.top_k}.")
    table = _read_table(args.input)
    X = _features(table, args.id_column, model)
    # The estimator's own rules, whatever the architecture (the ELBO of a variational
    # model included): the scores, the threshold and the per-column errors.
    result = pd.DataFrame(
        {
            "anomaly_score": -np.asarray(model.score_samples(X)),
            "is_outlier": (model.predict(X) == -1).astype(int),
        }
    )
    errors = np.asarray(model.score_features(X))
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
class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, wrapping lines at spaces only, so that an option named in
    a help text (``--trim-warmup-epochs``) is never split at a hyphen."""

    def _split_lines(self, text, width):
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sk-autoencoder`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        The parser, with one sub-parser per command.
    """
    return _build_parser(fit_options=True)


def _build_parser(fit_options: bool) -> argparse.ArgumentParser:
    """The parser; the estimator parameters' ``fit`` options (which import the
    estimators, and so torch) only with ``fit_options``."""
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description=(
            "Autoencoders for CSV and Parquet tables: fit a transformer or an anomaly "
            "detector, save it, then encode or score other tables with it. Tables are "
            "read and written with pandas; the file extension (.csv, .parquet, .pq) "
            "picks the format; - reads standard input or writes standard output, as CSV. "
            "Every column except --id-column must be numeric and complete; otherwise the "
            "command stops with exit code 2 and writes nothing. An output never replaces an "
            "input file unless --overwrite is given. Ctrl-C stops with exit code 130."
        ),
        epilog=f"Run '{_PROG} COMMAND --help' for the options of a command.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{_PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser(
        "demo",
        formatter_class=_HelpFormatter,
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
    overwrite_help = (
        "allow the output to replace an input file (the input table, or the model for "
        "transform and score); without it, such a command stops with exit code 2"
    )

    not_offered = "; ".join(f"{name} ({why})" for name, why in _NOT_ON_COMMAND_LINE.items())
    fit = commands.add_parser(
        "fit",
        formatter_class=_HelpFormatter,
        usage="%(prog)s INPUT --model PATH [options]",
        help="fit a transformer or an anomaly detector on a table and save it",
        description="Fit an autoencoder on every column of INPUT (except --id-column) and "
        "save it to --model. Each parameter of the estimator is an option, described as in "
        "its Python documentation; unset options keep the estimator's default, and the "
        "estimator checks the values. A fit that diverges saves nothing and exits with code "
        "2. Ctrl-C after the first epoch saves the model with the weights of the best "
        "completed epoch and exits with code 130; earlier, it saves nothing.",
        epilog=f"Parameters that are not options: {not_offered}.",
    )
    fit.add_argument(
        "input", metavar="INPUT", help="training table (.csv, .parquet, .pq; - for CSV on stdin)"
    )
    fit.add_argument("--model", required=True, metavar="PATH", help="where to save the model")
    fit.add_argument("--overwrite", action="store_true", help=overwrite_help)
    fit.add_argument(
        "--estimator",
        choices=sorted(_ESTIMATORS),
        default="detector",
        help="transformer (AutoencoderTransformer: codes with 'transform') or detector "
        "(AutoencoderAnomalyDetector: outlier scores with 'score') (default: %(default)s)",
    )
    fit.add_argument("--id-column", metavar="NAME", help=id_help)
    groups = {}
    for option in _parameter_options() if fit_options else []:
        shared = len(option.estimators) == len(_ESTIMATORS)
        title = (
            "estimator parameters"
            if shared
            else "parameters of "
            + " or ".join(f"--estimator {k}" for k in option.estimators)
            + " only"
        )
        if title not in groups:
            groups[title] = fit.add_argument_group(title)
        if option.reader == "flag":
            kwargs = {"action": argparse.BooleanOptionalAction}
        else:
            kwargs = {"type": option.reader, "metavar": option.reader.metavar()}
        groups[title].add_argument(
            option.flag, dest=option.name, default=argparse.SUPPRESS, help=option.help, **kwargs
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
        formatter_class=_HelpFormatter,
        help="encode a table with a fitted transformer",
        description="Write the codes of each row of INPUT to --output, one column per code "
        "component (named autoencodertransformer0, autoencodertransformer1, ...), rows in "
        "input order. INPUT must have the training table's columns (any order).",
    )
    transform.add_argument("input", metavar="INPUT", help="table to encode (- for CSV on stdin)")
    transform.add_argument("--model", required=True, metavar="PATH", help="fitted transformer")
    transform.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="PATH",
        help="where to write the codes (- for CSV on stdout)",
    )
    transform.add_argument("--id-column", metavar="NAME", help=id_help)
    transform.add_argument("--overwrite", action="store_true", help=overwrite_help)
    transform.set_defaults(handler=_cmd_transform)

    score = commands.add_parser(
        "score",
        formatter_class=_HelpFormatter,
        help="score the rows of a table with a fitted anomaly detector",
        description="Write one row per row of INPUT (same order) to --output with the "
        "columns anomaly_score (-score_samples: the reconstruction error, or the negative "
        "ELBO of a variational model; higher is more abnormal), is_outlier (1 where the "
        "model's predict flags the row as an outlier, else 0) and, for r = 1..TOP_K, "
        "top_r_column and top_r_error: the columns with the largest reconstruction error "
        "in that row (score_features) and their error. INPUT must have the training "
        "table's columns (any order).",
    )
    score.add_argument("input", metavar="INPUT", help="table to score (- for CSV on stdin)")
    score.add_argument("--model", required=True, metavar="PATH", help="fitted detector")
    score.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="PATH",
        help="where to write the scores (- for CSV on stdout)",
    )
    score.add_argument("--overwrite", action="store_true", help=overwrite_help)
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


def _as_options(message: str) -> str:
    """An estimator's message with its parameters written as options:
    ``learning_rate`` -> ``--learning-rate``, ``preprocessing='minmax'`` ->
    ``--preprocessing minmax`` (bare names only where they cannot be plain words)."""
    for option in _parameter_options():
        message = re.sub(rf"\b{option.name}='?([\w.+-]+)'?", rf"{option.flag} \1", message)
        if "_" in option.name:
            message = re.sub(rf"\b{option.name}\b", option.flag, message)
    return message


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _warning_printer(command: str):
    """``warnings.showwarning`` for the command line: one line per warning."""

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"{_PROG} {command}: warning: {_as_options(_one_line(message))}", file=sys.stderr)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sk-autoencoder`` command line.

    Parameters
    ----------
    argv : sequence of str or None, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success; 2 for a usage or input error, or a fit that diverged (reported in
        one line on stderr); 130 when interrupted (Ctrl-C), after saving what could be
        kept.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    # The command is the first argument that is not an option; only fit needs the
    # estimators' parameters (and so torch) to build its options.
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    parser = _build_parser(fit_options=command == "fit")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and argparse's own usage errors
        return int(exc.code or 0)
    from .exceptions import TrainingDivergedError  # scikit-learn: after --help

    error = f"{_PROG} {args.command}: error:"
    with warnings.catch_warnings():
        warnings.showwarning = _warning_printer(args.command)
        try:
            return args.handler(args)
        except KeyboardInterrupt:
            print(f"{_PROG} {args.command}: interrupted; nothing was written.", file=sys.stderr)
            return _EXIT_INTERRUPTED
        except TrainingDivergedError as exc:
            message = _as_options(_one_line(exc))
            print(f"{error} {message} No model was saved.", file=sys.stderr)
            return _EXIT_ERROR
        except (_InputError, ValueError) as exc:
            print(f"{error} {_one_line(exc)}", file=sys.stderr)
            return _EXIT_ERROR
        except BrokenPipeError:  # stdout closed early (| head): stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1
