"""Sphinx configuration: numpydoc API reference, sphinx-gallery examples, pydata theme.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html``. The gallery
runs every ``examples/plot_*.py`` during the build.
"""

import os
import sys
from pathlib import Path

import sk_autoencoder

HERE = Path(__file__).resolve().parent
project = "sk-autoencoder"
author = "the sk-autoencoder developers"
copyright = "the sk-autoencoder developers"
version = release = sk_autoencoder.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "sg_execution_times.rst", "auto_examples/*.ipynb"]
autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
# Methods are listed by the class template; numpydoc's own member table would
# duplicate them.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

html_theme = "pydata_sphinx_theme"
html_title = f"sk-autoencoder {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_static_path = []

# Every examples/plot_*.py is executed; a failing example fails the build.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "doc_module": ("sk_autoencoder",),
    "backreferences_dir": "generated/backreferences",
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "min_reported_time": 1,
}


def _write_cli_help() -> None:
    """Write ``sk-autoencoder --help`` texts for the CLI page, so it never drifts."""
    from sk_autoencoder.cli import build_parser

    out = HERE / "generated" / "cli"
    out.mkdir(parents=True, exist_ok=True)
    parser = build_parser()
    os.environ["COLUMNS"] = "88"  # argparse wraps at the terminal width
    (out / "main.txt").write_text(parser.format_help())
    for action in parser._subparsers._group_actions:
        for name, sub in action.choices.items():
            (out / f"{name}.txt").write_text(sub.format_help())


_write_cli_help()
sys.path.insert(0, str(HERE))
