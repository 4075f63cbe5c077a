"""The documentation builds with warnings as errors and runs every gallery example.

``docs/conf.py`` sets ``nitpicky = True``, so a cross-reference that resolves to
nothing is one of those errors.

The build runs on a copy of ``docs/`` and ``examples/`` in a temporary directory, so
that the generated files never land in the source tree.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("sphinx")
pytest.importorskip("sphinx_gallery")
pytest.importorskip("numpydoc")
pytest.importorskip("pydata_sphinx_theme")
pytest.importorskip("matplotlib")


@pytest.mark.timeout(600)
def test_docs_build_with_gallery(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(
        ROOT / "docs",
        docs,
        ignore=shutil.ignore_patterns("_build", "auto_examples", "generated", "sg_*"),
    )
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    html = tmp_path / "html"
    env = dict(os.environ, MPLBACKEND="Agg")
    # One torch thread per process: on a shared 2-core runner, torch's default thread
    # pool can spin against other jobs and multiply the examples' run time.
    env.setdefault("OMP_NUM_THREADS", "1")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", str(docs), str(html)],
        capture_output=True,
        text=True,
        env=env,
        timeout=540,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]

    examples = sorted(p.stem for p in (ROOT / "examples").glob("plot_*.py"))
    assert {"plot_dimensionality_reduction", "plot_grid_search", "plot_latent_space"} <= set(
        examples
    )
    for name in examples:
        page = html / "auto_examples" / f"{name}.html"
        assert page.is_file(), f"no gallery page for examples/{name}.py"
        # Executed, not just converted: each example draws at least one figure.
        assert f"sphx_glr_{name}_001" in page.read_text(), f"{name} drew no figure"
    for page in ("index", "getting_started", "user_guide", "cli", "api"):
        assert (html / f"{page}.html").is_file()
    api = (html / "generated" / "sk_autoencoder.LossCurveDisplay.html").read_text()
    assert "from_estimator" in api
    for name in ("DenseAutoencoder", "VariationalAutoencoder", "gaussian_kl"):
        assert (html / "generated" / f"sk_autoencoder.modules.{name}.html").is_file()
    # Members inherited from the package's own base class are documented (sample),
    # scikit-learn's are left to scikit-learn's reference.
    page = (html / "generated" / "sk_autoencoder.AutoencoderTransformer.html").read_text()
    assert 'id="sk_autoencoder.AutoencoderTransformer.sample"' in page
    assert 'id="sk_autoencoder.AutoencoderTransformer.get_params"' not in page
