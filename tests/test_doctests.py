"""The ``Examples`` sections of the public API's docstrings run as doctests.

One test per docstring that has examples: the public modules (those without a leading
underscore) and the objects they export, so ``sk_autoencoder.AutoencoderTransformer``'s
examples run as ``sk_autoencoder._transformer`` defines them. Examples train tiny
models (a few epochs), so the whole file stays fast.
"""

import doctest
import importlib
import inspect
import os
import pkgutil

import pytest

import sk_autoencoder

# Optional dependencies a module's examples need.
_NEEDS = {"sk_autoencoder.pyod": "pyod", "sk_autoencoder.plotting": "matplotlib"}


def _public_modules() -> list[str]:
    names = [sk_autoencoder.__name__]
    for info in pkgutil.iter_modules(sk_autoencoder.__path__):
        if not info.name.startswith("_") and info.name != "__main__":
            names.append(f"{sk_autoencoder.__name__}.{info.name}")
    return names


def _doctests():
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = {}
    for name in _public_modules():
        need = _NEEDS.get(name)
        if need is not None:
            try:
                importlib.import_module(need)
            except ImportError:
                continue
        module = importlib.import_module(name)
        # The module and what it defines, then what it exports from private modules
        # (sk_autoencoder's estimators), each under the name users import it by.
        objects = [(name, module, module)]
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__ != name:
                # A class's own methods, and those it inherits from the package's
                # private bases (the estimators' ``sample``).
                for part in inspect.getmro(obj) if inspect.isclass(obj) else [obj]:
                    if part.__module__.startswith(sk_autoencoder.__name__):
                        home = importlib.import_module(part.__module__)
                        objects.append((f"{name}.{attr}", part, home))
        for qualified, obj, home in objects:
            for test in finder.find(obj, qualified, module=home):
                key = (test.filename, test.lineno)
                if test.examples and key not in found:
                    found[key] = test
    return sorted(found.values(), key=lambda t: t.name)


DOCTESTS = _doctests()


def test_examples_are_collected():
    names = {t.name.rsplit(".", 1)[-1] for t in DOCTESTS}
    # Estimators, Displays, the persistence module and a method.
    assert {"AutoencoderTransformer", "AutoencoderAnomalyDetector", "sample"} <= names
    assert "persistence" in names and "LossCurveDisplay" in names


@pytest.mark.parametrize("test", DOCTESTS, ids=lambda t: t.name)
def test_docstring_examples(test, monkeypatch, tmp_path):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)  # files an example writes land here
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    test.globs = dict(test.globs)
    failures = []
    runner.run(test, out=failures.append)
    try:
        import matplotlib.pyplot as plt

        plt.close("all")
    except ImportError:
        pass
    assert runner.failures == 0, "".join(failures)
