"""Docstrings match signatures, in the manner of scikit-learn's
``check_docstring_parameters`` and imbalanced-learn's ``utils/tests/test_docstring.py``.

Every public class and function of ``sk_autoencoder`` (and every public method that
the package defines on its estimators and Displays, and every documented one on its
other classes) has a numpydoc ``Parameters`` section that names each parameter of
its signature, in signature order, and nothing else. Entries that share a
description (``sparsity, contractive : float``) count as one name each, as numpydoc
allows.
"""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from _shared import ESTIMATORS
from numpydoc.docscrape import NumpyDocString

import sk_autoencoder
from sk_autoencoder import (
    AnomalyScoreDisplay,
    LatentSpaceDisplay,
    LossCurveDisplay,
    ReconstructionDisplay,
)

DISPLAYS = [LossCurveDisplay, ReconstructionDisplay, LatentSpaceDisplay, AnomalyScoreDisplay]


def _public_modules():
    yield sk_autoencoder
    for info in pkgutil.iter_modules(sk_autoencoder.__path__):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{sk_autoencoder.__name__}.{info.name}")


def _public_objects():
    """``{qualified name: object}`` of the public classes and functions: those named
    in a public module's ``__all__``, or defined in it without a leading underscore."""
    found = {}
    for module in _public_modules():
        names = getattr(module, "__all__", None)
        if names is None:
            names = [
                name
                for name, obj in vars(module).items()
                if not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__
            ]
        for name in names:
            obj = getattr(module, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj not in found.values():
                found[f"{module.__name__}.{name}"] = obj
    return found


PUBLIC = _public_objects()


def _ours(obj) -> bool:
    return getattr(obj, "__module__", "").split(".")[0] == sk_autoencoder.__name__


def _public_methods(cls):
    """``{name: function}`` of the public methods the package defines on ``cls`` or on
    one of its own (private) base classes; scikit-learn's and torch's are theirs."""
    methods = {}
    for name in dir(cls):
        if name.startswith("_"):
            continue
        raw = inspect.getattr_static(cls, name)
        function = raw.__func__ if isinstance(raw, classmethod | staticmethod) else raw
        if inspect.isfunction(function) and _ours(function):
            methods[name] = getattr(cls, name)
    return methods


def _documented_parameters(doc: str, section: str = "Parameters") -> list[str]:
    names = []
    for entry in NumpyDocString(doc)[section]:
        names += [name.strip().strip("`") for name in entry.name.split(",")]
    return names


def _signature_parameters(function) -> list[str]:
    signature = inspect.signature(function)
    names = []
    for parameter in signature.parameters.values():
        if parameter.name in ("self", "cls"):
            continue
        if parameter.kind is parameter.VAR_POSITIONAL:
            names.append(f"*{parameter.name}")
        elif parameter.kind is parameter.VAR_KEYWORD:
            names.append(f"**{parameter.name}")
        else:
            names.append(parameter.name)
    return names


def _mismatch(documented: list[str], signature: list[str]) -> str:
    if documented == signature:
        return ""
    missing = [name for name in signature if name not in documented]
    extra = [name for name in documented if name not in signature]
    lines = [f"documented: {documented}", f"signature:  {signature}"]
    if missing:
        lines.append(f"not documented: {missing}")
    if extra:
        lines.append(f"documented but not in the signature: {extra}")
    if not missing and not extra:
        # Shorter only if a name is documented twice.
        pairs = zip(signature, documented, strict=False)
        first = next((s for s, d in pairs if s != d), signature[-1])
        lines.append(f"same names, in another order (or repeated) from {first!r} on")
    return "\n".join(lines)


def _cases():
    """(name, docstring, signature parameters) of everything that must match."""
    cases = []
    for name, obj in PUBLIC.items():
        if inspect.isfunction(obj):
            cases.append((name, obj.__doc__, _signature_parameters(obj)))
            continue
        # A class whose __init__ is inherited from elsewhere (an exception) takes
        # no parameters of ours.
        parameters = _signature_parameters(obj.__init__) if _ours(obj.__init__) else []
        cases.append((name, obj.__doc__, parameters))
        # Every public method of an estimator or Display must be documented; on the
        # other classes (the networks), the documented ones are checked.
        must_document = obj in ESTIMATORS or obj in DISPLAYS
        for method_name, method in _public_methods(obj).items():
            if must_document or method.__doc__:
                cases.append(
                    (f"{name}.{method_name}", method.__doc__, _signature_parameters(method))
                )
    return cases


CASES = _cases()


def test_the_walk_finds_the_public_api():
    # A walk that silently found nothing would pass everything below.
    names = {name.rpartition(".")[2] for name, _, _ in CASES}
    assert set(sk_autoencoder.__all__) - {"__version__"} <= names
    assert {"DenseAutoencoder", "gaussian_kl", "dump", "load", "main", "run_demo"} <= names
    assert "InconsistentVersionWarning" in names
    methods = {name.partition("sk_autoencoder.")[2] for name, _, _ in CASES}
    assert {
        "AutoencoderTransformer.sample",
        "AutoencoderTransformer.partial_fit",
        "AutoencoderAnomalyDetector.score_features",
        "LossCurveDisplay.from_estimator",
        "AnomalyScoreDisplay.plot",
    } <= methods


def test_a_mismatch_is_reported():
    def documented_out_of_order(a, b, *args, c=1, **kwargs):
        """Summary.

        Parameters
        ----------
        b, a : int
            Two numbers.
        *args : tuple
            More.
        d : int
            Not a parameter.
        **kwargs : dict
            Options.
        """

    documented = _documented_parameters(documented_out_of_order.__doc__)
    assert documented == ["b", "a", "*args", "d", "**kwargs"]
    message = _mismatch(documented, _signature_parameters(documented_out_of_order))
    assert "not documented: ['c']" in message
    assert "documented but not in the signature: ['d']" in message
    assert "another order (or repeated) from 'a' on" in _mismatch(["b", "a"], ["a", "b"])
    assert _mismatch(["a", "b"], ["a", "b"]) == ""


@pytest.mark.parametrize("name, doc, parameters", CASES, ids=[case[0] for case in CASES])
def test_parameters_section_matches_signature(name, doc, parameters):
    assert doc, f"{name} has no docstring"
    message = _mismatch(_documented_parameters(doc), parameters)
    if message:
        pytest.fail(f"{name}: Parameters section does not match the signature\n{message}")


@pytest.mark.parametrize("cls", ESTIMATORS + DISPLAYS, ids=lambda cls: cls.__name__)
def test_class_docstring_has_parameters_attributes_and_examples(cls):
    doc = NumpyDocString(cls.__doc__)
    for section in ("Parameters", "Attributes", "Examples"):
        assert doc[section], f"{cls.__name__} has no {section} section"


def _attributes_set_by_fit(cls):
    X = np.random.RandomState(0).normal(size=(40, 3))
    estimator = cls(hidden_layer_sizes=(4,), max_epochs=2, early_stopping=True, random_state=0)
    before = set(vars(estimator))
    estimator.fit(X)
    return {name for name in set(vars(estimator)) - before if not name.startswith("_")}


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_attributes_section_lists_every_fitted_attribute(cls):
    # scikit-learn's test_fit_docstring_attributes: what fit sets is documented.
    documented = set(_documented_parameters(cls.__doc__, "Attributes"))
    fitted = _attributes_set_by_fit(cls)
    assert fitted, "fit set no public attribute"
    assert fitted <= documented, f"undocumented: {sorted(fitted - documented)}"
