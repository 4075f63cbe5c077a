"""What importing the package and starting the command line load: the heavy
libraries only when something needs them."""

import subprocess
import sys

import pytest

import sk_autoencoder

HEAVY = ("torch", "skorch", "skops", "sklearn", "pandas")


def _loaded_after(code: str) -> list[str]:
    """The heavy top-level packages in ``sys.modules`` after running ``code`` in a
    fresh interpreter."""
    probe = f"{code}\nimport sys\nprint(sorted({{m.split('.')[0] for m in sys.modules}}))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    loaded = eval(out.strip().splitlines()[-1])
    return [name for name in HEAVY if name in loaded]


def test_import_loads_no_heavy_library():
    assert _loaded_after("import sk_autoencoder; sk_autoencoder.__version__") == []


def test_help_loads_no_heavy_library():
    code = "from sk_autoencoder.cli import main; main(['--help'])"
    assert _loaded_after(code) == []


def test_estimators_load_torch_but_not_skops():
    # skops (which loads pytest and dask.array) only when a model is saved or loaded.
    loaded = _loaded_after("from sk_autoencoder import AutoencoderTransformer")
    assert "torch" in loaded and "skorch" in loaded
    assert "skops" not in loaded


def test_public_names_resolve_on_first_use():
    from sk_autoencoder._transformer import AutoencoderTransformer

    assert sk_autoencoder.AutoencoderTransformer is AutoencoderTransformer
    assert set(sk_autoencoder.__all__) <= set(dir(sk_autoencoder))
    for name in sk_autoencoder.__all__:
        assert getattr(sk_autoencoder, name) is not None
    with pytest.raises(AttributeError, match="has no attribute 'AutoEncoder'"):
        sk_autoencoder.AutoEncoder  # noqa: B018
