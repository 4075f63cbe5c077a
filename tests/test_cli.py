"""The sk-autoencoder command line: round trips over CSV and Parquet, the options generated
from the estimators, and bad input."""

import argparse
import inspect
import io
import os
import re
import stat
import subprocess
import sys
from numbers import Real

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import Interval, StrOptions
from skorch import NeuralNet

import sk_autoencoder
from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer, cli
from sk_autoencoder.cli import _NOT_ON_COMMAND_LINE, _load_model, build_parser, main

FIT_OPTIONS = ["--hidden-layer-sizes", "8", "--max-epochs", "3", "--random-state", "0"]
COLUMNS = ["a", "b", "c", "d"]


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """A training CSV with an id column, and a test table with two planted outliers."""
    root = tmp_path_factory.mktemp("tables")
    rng = np.random.RandomState(0)
    train = pd.DataFrame(rng.normal(size=(200, 4)), columns=COLUMNS)
    train.insert(0, "id", [f"r{i}" for i in range(200)])
    train.to_csv(root / "train.csv", index=False)
    test = pd.DataFrame(rng.normal(size=(12, 4)), columns=COLUMNS)
    test.loc[10, "c"] = 40.0
    test.loc[11, "a"] = -40.0
    test.insert(0, "id", [f"t{i}" for i in range(12)])
    return root, train, test


@pytest.fixture(scope="module")
def detector_path(tables):
    root, _, _ = tables
    path = root / "detector.skops"
    code = main(
        [
            "fit",
            str(root / "train.csv"),
            "--model",
            str(path),
            "--id-column",
            "id",
            "--n-components",
            "2",
            "--no-progress",
            *FIT_OPTIONS,
        ]
    )
    assert code == 0
    return path


def test_fit_saves_the_configured_detector(detector_path):
    model = _load_model(detector_path)
    assert isinstance(model, AutoencoderAnomalyDetector)
    assert model.n_components == 2 and model.hidden_layer_sizes == (8,)
    assert list(model.feature_names_in_) == COLUMNS
    assert model.n_iter_ == 3


@pytest.mark.parametrize("ext", [".csv", ".parquet"])
def test_score_round_trip(tables, detector_path, tmp_path, ext):
    root, _, test = tables
    source = tmp_path / f"test{ext}"
    # Columns in another order than at fit time: matched by name.
    shuffled = test[["id", "d", "c", "b", "a"]]
    shuffled.to_csv(source, index=False) if ext == ".csv" else shuffled.to_parquet(source)
    out = tmp_path / f"scores{ext}"
    code = main(
        [
            "score",
            str(source),
            "--model",
            str(detector_path),
            "-o",
            str(out),
            "--id-column",
            "id",
            "--top-k",
            "2",
        ]
    )
    assert code == 0
    result = pd.read_csv(out) if ext == ".csv" else pd.read_parquet(out)
    assert list(result.columns) == [
        "id",
        "anomaly_score",
        "is_outlier",
        "top_1_column",
        "top_1_error",
        "top_2_column",
        "top_2_error",
    ]
    assert result["id"].tolist() == test["id"].tolist()

    model = _load_model(detector_path)
    X = test[COLUMNS]
    np.testing.assert_allclose(result["anomaly_score"], -model.score_samples(X), rtol=1e-5)
    np.testing.assert_array_equal(result["is_outlier"], (model.predict(X) == -1).astype(int))
    # The planted outliers are flagged and explained by the column that was changed.
    assert result["is_outlier"].iloc[10:].tolist() == [1, 1]
    assert result["top_1_column"].iloc[10:].tolist() == ["c", "a"]
    errors = model.score_features(X).to_numpy()
    np.testing.assert_allclose(result["top_1_error"], errors.max(axis=1), rtol=1e-5)
    np.testing.assert_allclose(result["top_2_error"], np.sort(errors, axis=1)[:, -2], rtol=1e-5)


def test_transform_round_trip(tables, tmp_path):
    root, train, test = tables
    model_path = tmp_path / "ae.skops"
    assert (
        main(
            [
                "fit",
                str(root / "train.csv"),
                "--model",
                str(model_path),
                "--estimator",
                "transformer",
                "--id-column",
                "id",
                "--n-components",
                "3",
                *FIT_OPTIONS,
            ]
        )
        == 0
    )
    model = _load_model(model_path)
    assert isinstance(model, AutoencoderTransformer)
    source = tmp_path / "test.parquet"
    test.to_parquet(source)
    out = tmp_path / "codes.csv"
    assert (
        main(
            [
                "transform",
                str(source),
                "--model",
                str(model_path),
                "-o",
                str(out),
                "--id-column",
                "id",
            ]
        )
        == 0
    )
    codes = pd.read_csv(out)
    assert list(codes.columns) == ["id"] + [f"autoencodertransformer{i}" for i in range(3)]
    np.testing.assert_allclose(
        codes.iloc[:, 1:], model.transform(test[COLUMNS]), rtol=1e-5, atol=1e-6
    )


def _bad_table(tmp_path, kind):
    rng = np.random.RandomState(1)
    table = pd.DataFrame(rng.normal(size=(5, 4)), columns=COLUMNS)
    if kind == "non-numeric":
        table["b"] = ["x", "y", "z", "w", "v"]
        expected = "non-numeric columns: b"
    elif kind == "infinite":
        table.loc[2, "d"] = np.inf
        table.loc[3, "a"] = -np.inf
        expected = "infinite values in columns: a, d"
    else:
        table = table.rename(columns={"c": "colour"})
        expected = "columns differ from the model's: missing c; unexpected colour"
    path = tmp_path / "bad.csv"
    table.to_csv(path, index=False)
    return path, expected


@pytest.mark.parametrize("kind", ["non-numeric", "infinite", "columns"])
def test_bad_input_score(detector_path, tmp_path, capsys, kind):
    source, expected = _bad_table(tmp_path, kind)
    out = tmp_path / "scores.csv"
    code = main(["score", str(source), "--model", str(detector_path), "-o", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert expected in err
    assert err.count("\n") == 1  # one line
    assert list(tmp_path.iterdir()) == [source]  # no output, no leftover temp file


@pytest.mark.parametrize("kind", ["non-numeric", "infinite"])
def test_bad_input_fit(tmp_path, capsys, kind):
    source, expected = _bad_table(tmp_path, kind)
    model = tmp_path / "model.skops"
    assert main(["fit", str(source), "--model", str(model), *FIT_OPTIONS]) == 2
    assert expected in capsys.readouterr().err
    assert not model.exists()


def test_other_usage_errors(detector_path, tables, tmp_path, capsys):
    root, _, _ = tables
    out = tmp_path / "x.csv"
    assert (
        main(["transform", str(root / "train.csv"), "--model", str(detector_path), "-o", str(out)])
        == 2
    )
    assert "transform needs a model fitted with --estimator transformer" in capsys.readouterr().err
    assert (
        main(
            [
                "score",
                str(root / "train.csv"),
                "--model",
                str(detector_path),
                "-o",
                str(tmp_path / "x.xlsx"),
                "--id-column",
                "id",
            ]
        )
        == 2
    )
    assert "unsupported file extension '.xlsx'" in capsys.readouterr().err
    for option, value in [("--contamination", "0.1"), ("--max-samples", "0.5")]:
        fit_transformer = ["fit", str(root / "train.csv"), "--model", str(tmp_path / "m")]
        assert main([*fit_transformer, "--estimator", "transformer", option, value]) == 2
        assert f"{option} applies to --estimator detector only" in capsys.readouterr().err
    assert (
        main(["score", str(root / "nope.csv"), "--model", str(detector_path), "-o", str(out)]) == 2
    )
    assert "input file not found" in capsys.readouterr().err
    assert (
        main(
            [
                "fit",
                str(root / "train.csv"),
                "--model",
                str(tmp_path / "m"),
                "--id-column",
                "id",
                "--dropout",
                "1.5",
            ]
        )
        == 2
    )
    assert "dropout" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_help_explains_every_option(capsys):
    assert main(["--help"]) == 0
    top = capsys.readouterr().out
    for command in ("demo", "fit", "transform", "score"):
        assert command in top
    assert main(["fit", "--help"]) == 0
    text = capsys.readouterr().out
    options = [word for word in text.split() if word.startswith("--")]
    assert {
        "--n-components",
        "--hidden-layer-sizes",
        "--contamination",
        "--early-stopping",
        "--progress",
        "--model",
        "--estimator",
    } <= {o.strip("[],") for o in options}
    # Each option's help names its default or what it does: no bare option lines.
    assert "default: 2 for the transformer, 16 for the detector" in " ".join(text.split())
    assert "--max-samples auto|INT|FLOAT" in " ".join(text.split())
    assert main(["score", "--help"]) == 0
    score_help = " ".join(capsys.readouterr().out.split())
    assert "anomaly_score" in score_help and "top_r_column" in score_help
    assert main(["fit"]) == 2  # argparse usage error: missing INPUT and --model


def test_python_m_help():
    out = subprocess.run(
        [sys.executable, "-m", "sk_autoencoder", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert out.stdout.startswith("usage: sk-autoencoder")
    assert "score" in out.stdout


def test_every_option_has_help():
    import argparse

    from sk_autoencoder.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == {"demo", "fit", "transform", "score"}
    for name, command in sub.choices.items():
        assert command.description, name
        for action in command._actions:
            assert action.help and len(action.help) > 10, (name, action.dest)


# ------------------------------------------------------- the estimator's own rules
def test_score_follows_predict_for_a_variational_detector(tables, tmp_path):
    """``score`` flags the rows ``predict`` flags and writes ``-score_samples``, also where
    the score is not a mean error: the ELBO of a variational model."""
    root, train, _ = tables
    model_path = tmp_path / "vae.skops"
    fit = ["fit", str(root / "train.csv"), "--model", str(model_path), "--id-column", "id"]
    options = ["--architecture", "variational", "--contamination", "0.1", "--n-components", "2"]
    assert main([*fit, *options, *FIT_OPTIONS]) == 0
    out = tmp_path / "scores.csv"
    score = ["score", str(root / "train.csv"), "--model", str(model_path), "-o", str(out)]
    assert main([*score, "--id-column", "id"]) == 0
    result = pd.read_csv(out)

    model = _load_model(model_path)
    assert model.architecture == "variational"
    X = train[COLUMNS]
    flagged = model.predict(X) == -1
    assert flagged.sum() == 20  # contamination=0.1 of the 200 training rows
    np.testing.assert_array_equal(result["is_outlier"], flagged.astype(int))
    np.testing.assert_allclose(result["anomaly_score"], -model.score_samples(X), rtol=1e-5)
    errors = model.score_features(X).to_numpy()
    np.testing.assert_allclose(result["top_1_error"], errors.max(axis=1), rtol=1e-5)


# ------------------------------------------------------------ parameter options
def _fit_parser(parser=None) -> argparse.ArgumentParser:
    parser = parser or build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["fit"]


def _parameters() -> dict:
    """Every constructor parameter of the two estimators -> the estimators taking it."""
    takers = {}
    for cls in (AutoencoderTransformer, AutoencoderAnomalyDetector):
        for name in inspect.signature(cls).parameters:
            takers.setdefault(name, []).append(cls)
    return takers


def test_every_parameter_is_an_option_or_excused():
    options = {a.dest: a for a in _fit_parser()._actions}
    parameters = _parameters()
    for name in parameters:
        if name in _NOT_ON_COMMAND_LINE:
            assert name not in options, name
            assert _NOT_ON_COMMAND_LINE[name].strip(), name
        else:
            assert name in options, f"{name} has no fit option and no reason to lack one"
            assert "--" + name.replace("_", "-") in options[name].option_strings
    stale = set(_NOT_ON_COMMAND_LINE) - set(parameters)
    assert not stale, f"_NOT_ON_COMMAND_LINE names parameters that do not exist: {stale}"


def _help_blocks(parser) -> dict:
    """The help text of each option of ``parser``, on one line, keyed by its flag."""
    blocks = [
        block
        for paragraph in parser.format_help().split("\n\n")
        for block in re.split(r"\n(?=  -)", paragraph)
        if block.startswith("  -")
    ]
    return {block.split()[0].rstrip(","): " ".join(block.split()) for block in blocks}


def _shown(value, flag):
    if isinstance(value, bool) and flag:
        return "on" if value else "off"
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or '""'
    return str(value)


def test_parameter_help_gives_the_default_and_the_choices():
    parser = _fit_parser()
    blocks = _help_blocks(parser)
    options = {a.dest: a for a in parser._actions}
    checked = 0
    for name, takers in _parameters().items():
        if name in _NOT_ON_COMMAND_LINE:
            continue
        action = options[name]
        block = blocks[action.option_strings[0]]
        flag = isinstance(action, argparse.BooleanOptionalAction)
        assert "default: " in block, name
        for cls in takers:
            default = _shown(inspect.signature(cls).parameters[name].default, flag)
            assert re.search(rf"default: [^)]*\b{re.escape(default)}(\)|,| for)", block), (
                name,
                default,
                block,
            )
        constraints = takers[0]._parameter_constraints[name]
        for constraint in constraints:
            if isinstance(constraint, StrOptions):
                for word in constraint.options:
                    assert word in block.split("(default")[0], (name, word)
                checked += 1
            if constraint is None:
                assert "none" in block, name
        # The description comes from the estimator's docstring.
        assert len(block.split()) > 4, block
    assert checked >= 8  # activation, loss, preprocessing, optimizer, batch_size, ...
    assert "(default: 2 for the transformer, 16 for the detector)" in blocks["--n-components"]
    assert "{bce,mse}" in blocks["--loss"]
    assert "--preprocessing {global,minmax,standard,none}" in blocks["--preprocessing"]
    assert "--batch-size auto|INT" in blocks["--batch-size"]


ROUND_TRIPS = [
    ("transformer", ["--activation", "tanh"], {"activation": "tanh"}),
    ("transformer", ["--preprocessing", "none"], {"preprocessing": None}),
    ("detector", ["--preprocessing", "global"], {"preprocessing": "global"}),
    ("detector", ["--init", "pca", "--learning-rate-schedule", "cosine"], {"init": "pca"}),
    ("detector", ["--preprocessing", "minmax", "--loss", "bce"], {"loss": "bce"}),
    ("transformer", ["--early-stopping"], {"early_stopping": True}),
    ("detector", ["--early-stopping", "--no-early-stopping"], {"early_stopping": False}),
    ("transformer", ["--batch-size", "16"], {"batch_size": 16}),
    ("detector", ["--batch-size", "auto"], {"batch_size": "auto"}),
    ("transformer", ["--hidden-layer-sizes", "6,3"], {"hidden_layer_sizes": (6, 3)}),
    ("detector", ["--hidden-layer-sizes", ""], {"hidden_layer_sizes": ()}),
    ("detector", ["--max-samples", "50"], {"max_samples": 50}),
    ("detector", ["--max-samples", "0.5"], {"max_samples": 0.5}),
    ("detector", ["--contamination", "0.05"], {"contamination": 0.05}),
    ("detector", ["--trim-fraction", "0", "--trim-warmup-epochs", "0"], {"trim_fraction": 0.0}),
    ("transformer", ["--random-state", "none"], {"random_state": None}),
    (
        "transformer",
        ["--architecture", "convolutional", "--input-shape", "1,2,2"],
        {"architecture": "convolutional", "input_shape": (1, 2, 2)},
    ),
    ("detector", ["--noise", "0.1", "--noise-type", "gaussian"], {"noise": 0.1}),
]


@pytest.mark.parametrize("estimator, options, expected", ROUND_TRIPS)
def test_parameter_options_round_trip(tables, tmp_path, estimator, options, expected):
    root, _, _ = tables
    path = tmp_path / "model.skops"
    fit = ["fit", str(root / "train.csv"), "--model", str(path), "--id-column", "id"]
    base = ["--estimator", estimator, "--max-epochs", "1", "--no-progress"]
    assert main([*fit, *base, *options]) == 0
    params = _load_model(path).get_params()
    for name, value in expected.items():
        assert params[name] == value and type(params[name]) is type(value), name


def test_option_values_are_read_by_the_constraints(tables, tmp_path, capsys):
    """A value in no form the constraints allow is a usage error naming the forms; one
    in a form but out of range is the estimator's error; both exit 2 with no model."""
    root, _, _ = tables
    path = tmp_path / "model.skops"
    fit = ["fit", str(root / "train.csv"), "--model", str(path), "--id-column", "id"]
    for option, value, message in [
        ("--batch-size", "many", "argument --batch-size: expected auto or an integer, got 'many'"),
        ("--loss", "huber", "argument --loss: expected bce or mse, got 'huber'"),
        ("--max-samples", "all", "expected auto, an integer or a number, got 'all'"),
        ("--hidden-layer-sizes", "8,x", "expected auto or comma-separated integers"),
        ("--batch-size", "0", "The 'batch_size' parameter of AutoencoderAnomalyDetector"),
    ]:
        assert main([*fit, option, value]) == 2
        err = capsys.readouterr().err
        assert message in err, err
    for option, value in [("--trim-fraction", "0.1"), ("--trim-warmup-epochs", "1")]:
        assert main([*fit, "--estimator", "transformer", option, value]) == 2
        assert f"{option} applies to --estimator detector only" in capsys.readouterr().err
    assert not path.exists()


class _TransformerWithClip(AutoencoderTransformer):
    """A transformer with a parameter and a loss that the command line has not seen.

    Parameters
    ----------
    n_components : int, default=2
        Width of the code.

    loss : {"mse", "bce", "huber"}, default="mse"
        Reconstruction loss per entry.

    gradient_clip : float or None, default=None
        Largest norm of the gradient. Not used by this test class.
    """

    _parameter_constraints = {
        **AutoencoderTransformer._parameter_constraints,
        "loss": [StrOptions({"mse", "bce", "huber"})],
        "gradient_clip": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(self, n_components=2, *, loss="mse", gradient_clip=None):
        self.n_components = n_components
        self.loss = loss
        self.gradient_clip = gradient_clip


def test_new_parameters_and_choices_need_no_cli_edit(monkeypatch, capsys):
    monkeypatch.setitem(cli._ESTIMATORS, "transformer", _TransformerWithClip)
    parser = build_parser()
    blocks = _help_blocks(_fit_parser(parser))
    assert blocks["--gradient-clip"] == (
        "--gradient-clip FLOAT|none largest norm of the gradient (default: none)"
    )
    assert "--loss {bce,huber,mse}" in blocks["--loss"]
    fit = ["fit", "x.csv", "--model", "m.skops", "--estimator", "transformer"]
    args = parser.parse_args([*fit, "--loss", "huber", "--gradient-clip", "0.5"])
    assert cli._estimator_params(args) == {"loss": "huber", "gradient_clip": 0.5}
    args = parser.parse_args([*fit, "--gradient-clip", "none"])
    assert cli._estimator_params(args) == {"gradient_clip": None}
    assert main(["fit", "x.csv", "--model", "m.skops", "--gradient-clip", "1"]) == 2
    assert "--gradient-clip applies to --estimator transformer only" in capsys.readouterr().err


# ------------------------------------------------------------ files, exits, signals
def _fit_args(source, model, *extra):
    return ["fit", str(source), "--model", str(model), "--no-progress", *FIT_OPTIONS, *extra]


@pytest.fixture
def train_csv(tables, tmp_path):
    """A copy of the training table (without the id column) in the test's own folder."""
    _, train, _ = tables
    path = tmp_path / "train.csv"
    train[COLUMNS].to_csv(path, index=False)
    return path


def test_unwritable_output_is_refused_before_training(train_csv, tmp_path, capsys, monkeypatch):
    def no_fit(*args, **kwargs):
        raise AssertionError("fit ran although the model could not be saved")

    monkeypatch.setattr(AutoencoderAnomalyDetector, "fit", no_fit)
    missing = tmp_path / "no" / "such" / "model.skops"
    assert main(_fit_args(train_csv, missing)) == 2
    err = capsys.readouterr().err
    assert err == (
        f"sk-autoencoder fit: error: cannot write --model {missing}: directory "
        f"{missing.parent} does not exist.\n"
    )
    assert main(_fit_args(train_csv, tmp_path)) == 2
    assert "is a directory; give a file path" in capsys.readouterr().err
    model = tmp_path / "m.skops"
    score = [
        "score",
        str(train_csv),
        "--model",
        str(model),
        "-o",
        str(missing.with_suffix(".csv")),
    ]
    assert main(score) == 2
    assert "cannot write --output" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.csv"]


def test_diverged_fit_is_one_line_exit_2_and_saves_nothing(train_csv, tmp_path, capsys):
    model = tmp_path / "m.skops"
    assert main(_fit_args(train_csv, model, "--learning-rate", "1000")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("sk-autoencoder fit: error: Training diverged: the loss reached")
    assert "Lower --learning-rate (currently 1000.0)" in err
    assert "(--preprocessing standard, 'global' or 'minmax')" in err and err.endswith(
        "No model was saved.\n"
    )
    assert not model.exists()


def test_poor_fit_warning_is_one_line(tmp_path, capsys):
    # The table and settings of test_faults' poor-fit test: Adam at 1 ends 13 times worse
    # than predicting the means.
    source, model = tmp_path / "normal.csv", tmp_path / "m.skops"
    pd.DataFrame(np.random.RandomState(0).normal(size=(200, 5))).to_csv(source, index=False)
    options = ["--learning-rate", "1", "--estimator", "transformer", "--max-epochs", "5"]
    options += ["--preprocessing", "standard", "--init", "random"]
    options += ["--learning-rate-schedule", "constant"]
    assert main(_fit_args(source, model, *options)) == 0
    err = capsys.readouterr().err.splitlines()
    warning = [line for line in err if line.startswith("sk-autoencoder fit: warning")]
    assert len(warning) == 1
    assert warning[0].startswith("sk-autoencoder fit: warning: Training ended with a loss of")
    assert "Lower --learning-rate (currently 1.0)" in warning[0]
    assert model.exists()


def test_inputs_are_never_overwritten_without_the_flag(train_csv, detector_path, tmp_path, capsys):
    before = train_csv.read_bytes()
    assert main(_fit_args(train_csv, train_csv)) == 2
    assert f"--model {train_csv} is the input table" in capsys.readouterr().err
    # The same file by another name.
    other = tmp_path / "." / "train.csv"
    for command in ("score", "transform"):
        out = ["-o", str(other)]
        assert main([command, str(train_csv), "--model", str(detector_path), *out]) == 2
        assert "is the input table; writing it would destroy it" in capsys.readouterr().err
    assert train_csv.read_bytes() == before
    # A model path written as a table is the model file: not replaced either.
    model_csv = tmp_path / "model.csv"
    model_csv.write_bytes(detector_path.read_bytes())
    assert main(["score", str(train_csv), "--model", str(model_csv), "-o", str(model_csv)]) == 2
    assert "is the model file" in capsys.readouterr().err
    assert model_csv.read_bytes() == detector_path.read_bytes()
    # --overwrite: replaced, as asked.
    assert main(["score", str(train_csv), "--model", str(detector_path), "-o", str(train_csv),
                 "--overwrite"]) == 0  # fmt: skip
    assert "anomaly_score" in train_csv.read_text().splitlines()[0]


@pytest.mark.parametrize("umask, existing", [(0o022, None), (0o077, None), (0o022, 0o640)])
def test_written_files_get_the_mode_of_a_plain_write(train_csv, tmp_path, umask, existing):
    model, scores = tmp_path / "m.skops", tmp_path / "scores.csv"
    if existing is not None:
        for path in (model, scores):
            path.write_text("old")
            path.chmod(existing)
    old = os.umask(umask)
    try:
        assert main(_fit_args(train_csv, model)) == 0
        assert main(["score", str(train_csv), "--model", str(model), "-o", str(scores)]) == 0
    finally:
        os.umask(old)
    expected = existing if existing is not None else 0o666 & ~umask
    for path in (model, scores):
        assert stat.S_IMODE(path.stat().st_mode) == expected, path.name
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_duplicate_and_missing_headers_are_named(tmp_path, capsys):
    duplicated = tmp_path / "dup.csv"
    duplicated.write_text("a,b,a,c,b\n1,2,3,4,5\n6,7,8,9,0\n")
    model = tmp_path / "m.skops"
    assert main(_fit_args(duplicated, model)) == 2
    assert capsys.readouterr().err == (
        f"sk-autoencoder fit: error: {duplicated} has duplicate column names: 'a' (2 times), "
        "'b' (2 times); give every column a unique name.\n"
    )
    # Names that only look like pandas' renaming are fine.
    renamed = tmp_path / "renamed.csv"
    renamed.write_text("a,a.1,b\n" + "\n".join(f"{i},{i % 3},{i % 5}" for i in range(30)) + "\n")
    assert main(_fit_args(renamed, model)) == 0
    assert list(_load_model(model).feature_names_in_) == ["a", "a.1", "b"]
    header_only = tmp_path / "header.csv"
    header_only.write_text("a,b,c\n")
    assert main(_fit_args(header_only, tmp_path / "h.skops")) == 2
    assert "header.csv has no data rows, only a header." in capsys.readouterr().err
    assert not (tmp_path / "h.skops").exists()


def test_stdin_and_stdout_as_dash(train_csv, detector_path, tmp_path, capsys, monkeypatch):
    text = train_csv.read_text()
    model = tmp_path / "stdin.skops"
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    assert main(_fit_args("-", model)) == 0
    assert _load_model(model).n_iter_ == 3
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    assert main(["score", "-", "--model", str(detector_path), "-o", "-"]) == 0
    out, err = capsys.readouterr()
    result = pd.read_csv(io.StringIO(out))
    expected = -_load_model(detector_path).score_samples(pd.read_csv(train_csv))
    np.testing.assert_allclose(result["anomaly_score"], expected, rtol=1e-5)
    assert err.startswith("scored 200 rows")  # messages stay off stdout
    assert main(["fit", "-", "--model", "-"]) == 2
    assert "--model - is not supported" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("a,a\n1,2\n"))
    assert main(_fit_args("-", model)) == 2
    assert "standard input has duplicate column names: 'a'" in capsys.readouterr().err


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"sk-autoencoder {sk_autoencoder.__version__}\n"


def _ctrl_c_at_step(step):
    """``NeuralNet.train_step`` that raises KeyboardInterrupt (as Ctrl-C does) at one step."""
    original, calls = NeuralNet.train_step, [0]

    def train_step(net, batch, **kwargs):
        calls[0] += 1
        if calls[0] == step:
            raise KeyboardInterrupt
        return original(net, batch, **kwargs)

    return train_step


@pytest.mark.parametrize("step", [1, 10])  # 4 batches an epoch: epochs 1 and 3
def test_ctrl_c_exits_130_saying_what_was_kept(train_csv, tmp_path, capsys, monkeypatch, step):
    model = tmp_path / "m.skops"
    monkeypatch.setattr(NeuralNet, "train_step", _ctrl_c_at_step(step))
    args = _fit_args(train_csv, model, "--batch-size", "50", "--max-epochs", "5")
    assert main(args) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    if step == 1:
        assert err == "sk-autoencoder fit: interrupted; nothing was written.\n"
        assert not model.exists()
    else:
        assert err.startswith(
            "sk-autoencoder fit: Training was interrupted (KeyboardInterrupt) in epoch 3; the "
            "model keeps the weights of epoch 2, the best completed epoch by train_loss"
        )
        assert err.endswith(f"Saved that model to {model}.\n")
        assert _load_model(model).n_iter_ == 2
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_ctrl_c_while_writing_leaves_no_file(
    train_csv, detector_path, tmp_path, capsys, monkeypatch
):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", interrupted)
    out = tmp_path / "scores.csv"
    assert main(["score", str(train_csv), "--model", str(detector_path), "-o", str(out)]) == 130
    assert capsys.readouterr().err == "sk-autoencoder score: interrupted; nothing was written.\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.csv"]


@pytest.mark.parametrize("engine_fails_on_import", [False, True])
def test_parquet_output_without_pyarrow_is_a_one_line_error(
    tables, detector_path, tmp_path, capsys, monkeypatch, engine_fails_on_import
):
    root, _, _ = tables
    out = tmp_path / "scores.parquet"
    if engine_fails_on_import:
        # Found but broken: pandas' own ImportError, raised while writing.
        def broken(*args, **kwargs):
            raise ImportError("Unable to find a usable engine; tried using: 'pyarrow'.")

        monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    else:
        real_find_spec = cli.importlib.util.find_spec
        monkeypatch.setattr(
            cli.importlib.util,
            "find_spec",
            lambda name, *a: None if name in ("pyarrow", "fastparquet") else real_find_spec(name),
        )
    score = ["score", str(root / "train.csv"), "--model", str(detector_path), "-o", str(out)]
    assert main([*score, "--id-column", "id"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"sk-autoencoder score: error: cannot write {out}")
    if not engine_fails_on_import:
        assert 'pip install ".[parquet]"' in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_tables_with_empty_cells_are_fitted_and_scored(tables, tmp_path):
    """Empty cells are missing values: the model trains and scores on observed entries,
    and a row's top columns are among its observed ones."""
    _, train, test = tables
    holes = train.copy()
    holes.loc[::7, "b"] = np.nan
    holes.to_csv(tmp_path / "train.csv", index=False)
    test = test.copy()
    test.loc[10, "a"] = np.nan  # the outlier is in "c"
    test.loc[:, "d"] = np.nan
    test.to_csv(tmp_path / "test.csv", index=False)
    model_path = tmp_path / "m.skops"
    fit = ["fit", str(tmp_path / "train.csv"), "--model", str(model_path), "--id-column", "id"]
    assert main([*fit, *FIT_OPTIONS]) == 0
    out = tmp_path / "scores.csv"
    score = ["score", str(tmp_path / "test.csv"), "--model", str(model_path), "-o", str(out)]
    assert main([*score, "--id-column", "id", "--top-k", "2"]) == 0
    result = pd.read_csv(out)
    model = _load_model(model_path)
    np.testing.assert_allclose(
        result["anomaly_score"], -model.score_samples(test[COLUMNS]), rtol=1e-5
    )
    assert result.loc[10, "top_1_column"] == "c"
    assert not result[["top_1_column", "top_2_column"]].isin(["d"]).any().any()
