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
# Types are given in the numpydoc Parameters and Returns sections, as in
# scikit-learn's reference; annotations in the signatures would repeat them and
# name private classes (``_BaseAutoencoder``).
autodoc_typehints = "none"
# An undocumented override (a network's ``forward``) must not borrow the docstring of
# the torch method it overrides, which describes torch's protocol, not ours.
autodoc_inherit_docstrings = False
# Methods are listed by the class template; numpydoc's own member table would
# duplicate them.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# Every cross-reference must resolve, so that a renamed or removed object fails the
# build instead of leaving a dead link. The build runs offline (tests/test_docs.py),
# where intersphinx cannot fetch other projects' inventories: references into these
# packages render as code without a link, and only they are exempt.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", rf"{package}(\..*)?")
    for package in ("sklearn", "skorch", "skops", "dask_ml", "pyod")
]

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


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document the members this package defines, inherited ones included (``sample``
    comes from the estimators' private base class), and leave scikit-learn's, torch's
    and Python's own members to their documentation."""
    if what not in ("class", "exception"):
        return None
    obj = getattr(obj, "fget", obj)  # a property: where its getter is defined
    module = getattr(obj, "__module__", None)
    if module is None and hasattr(obj, "__objclass__"):  # a method of a builtin type
        module = obj.__objclass__.__module__
    return True if module is None or not module.startswith("sk_autoencoder") else None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)


_write_cli_help()
sys.path.insert(0, str(HERE))
