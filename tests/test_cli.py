"""The sk-autoencoder command line: round trips over CSV and Parquet, and bad input."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer
from sk_autoencoder.cli import _load_model, main

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
    elif kind == "missing":
        table.loc[2, "d"] = np.nan
        table.loc[3, "a"] = np.nan
        expected = "missing or infinite values in columns: a, d"
    else:
        table = table.rename(columns={"c": "colour"})
        expected = "columns differ from the model's: missing c; unexpected colour"
    path = tmp_path / "bad.csv"
    table.to_csv(path, index=False)
    return path, expected


@pytest.mark.parametrize("kind", ["non-numeric", "missing", "columns"])
def test_bad_input_score(detector_path, tmp_path, capsys, kind):
    source, expected = _bad_table(tmp_path, kind)
    out = tmp_path / "scores.csv"
    code = main(["score", str(source), "--model", str(detector_path), "-o", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert expected in err
    assert err.count("\n") == 1  # one line
    assert list(tmp_path.iterdir()) == [source]  # no output, no leftover temp file


@pytest.mark.parametrize("kind", ["non-numeric", "missing"])
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
    assert "--max-samples ROWS" in " ".join(text.split())
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
