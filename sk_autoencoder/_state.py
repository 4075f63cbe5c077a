"""Portable estimator state: what ``pickle``, ``joblib`` and ``skops.io`` store.

A fitted estimator holds a skorch net whose module, optimizer and history are torch
objects tied to a device. :func:`_net_record` turns that net into a plain record, and
:func:`_rebuild_net` turns the record back into a net, so that

- ``skops.io`` can store a model with nothing but the estimator classes and the
  network class trusted (a record holds builtins, numpy arrays and one class);
- a model fitted on a GPU loads on a machine without one (tensors are stored as
  numpy arrays and placed on the model's device only where that device exists);
- the record is the same for every network: module class, its keyword arguments and
  its ``state_dict``; no network variant needs code here.
"""

from __future__ import annotations

import warnings

import numpy as np
import sklearn
import torch
from packaging.version import InvalidVersion, Version
from skorch.history import History

from . import _seeding
from ._devices import _is_available
from ._version import __version__
from .exceptions import InconsistentVersionWarning

_VERSION_KEYS = {"_sk_autoencoder_version": "sk-autoencoder", "_torch_version": "torch"}
# Recorded for the warning's scikit-learn fields only: scikit-learn's own estimators
# in the state (the scaler) warn about their version themselves.
_SKLEARN_KEY = "_saved_sklearn_version"


def _current_versions() -> dict[str, str]:
    return {
        "_sk_autoencoder_version": __version__,
        "_torch_version": torch.__version__,
        _SKLEARN_KEY: sklearn.__version__,
    }


def _series(version: str) -> tuple[int, ...] | str:
    """The release series, whose changes may break a model: ``"2.13.0+cpu" -> (2,)``,
    ``"0.1.0" -> (0, 1)``. A string that is no version is its own series."""
    try:
        release = Version(version).release
    except InvalidVersion:
        return version
    return release[:2] if release[0] == 0 else release[:1]


def _check_versions(state: dict, name: str) -> None:
    """Pop the recorded versions from ``state``; warn across a release series."""
    current = _current_versions()
    sklearn_version = state.pop(_SKLEARN_KEY, None)
    for key, library in _VERSION_KEYS.items():
        saved = state.pop(key, None)
        if saved is not None and _series(saved) != _series(current[key]):
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=name,
                    library=library,
                    current_version=current[key],
                    original_version=saved,
                    original_sklearn_version=sklearn_version,
                ),
                stacklevel=3,
            )


def _to_numpy(obj):
    """Tensors to numpy arrays, numpy scalars to Python, through dicts and lists."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().numpy().copy()
    if isinstance(obj, dict):
        return {k: _to_numpy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_numpy(v) for v in obj)
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _to_torch(obj, device):
    """Inverse of :func:`_to_numpy` for states that held only tensors as arrays."""
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.array(obj)).to(device)
    if isinstance(obj, dict):
        return {k: _to_torch(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_torch(v, device) for v in obj)
    return obj


def _plain_history(history) -> list:
    """skorch history as lists and dicts of builtins (numpy scalars unwrapped)."""
    return _to_numpy([dict(row) for row in history])


def _net_record(net) -> dict:
    """Everything needed to rebuild a fitted net, as builtins and numpy arrays."""
    optimizer = getattr(net, "optimizer_", None)
    # skops only takes str-keyed dicts; optimizer states key parameters by index.
    optimizer_state = None
    if optimizer is not None:
        optimizer_state = _to_numpy(optimizer.state_dict())
        optimizer_state["state"] = [[int(k), v] for k, v in optimizer_state["state"].items()]
    generator = getattr(net, "iterator_train__generator", None)
    return {
        "module_class": type(net.module_),
        "module_kwargs": net.get_params_for("module"),
        "state_dict": _to_numpy(dict(net.module_.state_dict())),
        "optimizer_state": optimizer_state,
        "history": _plain_history(net.history),
        "batch_size": int(net.batch_size),
        "generator_state": None if generator is None else _to_numpy(generator.get_state()),
        "device": str(net.device),
    }


def _load_device(device: str) -> str:
    """The recorded device where it exists here, else the CPU."""
    return device if _is_available(device) else "cpu"


def _rebuild_net(estimator, record: dict):
    """A fitted net from :func:`_net_record`'s output, on the recorded device if any."""
    device = _load_device(record["device"])
    net = estimator._build_net((record["batch_size"], estimator.n_features_in_), device, 0)
    # The record's arguments replace, not extend, those of the estimator's current spec.
    for name in [k for k in vars(net) if k.startswith("module__")]:
        if name.removeprefix("module__") not in record["module_kwargs"]:
            delattr(net, name)
    net.set_params(
        module=record["module_class"],
        batch_size=record["batch_size"],
        **{f"module__{k}": v for k, v in record["module_kwargs"].items()},
    )
    # initialize() draws initial weights from torch's global generator; they are
    # overwritten at once, and neither the caller's random stream nor a seeded fit in
    # another thread may move.
    with _seeding._global_rng(None, "cpu"):
        net.initialize()
    net.module_.load_state_dict(_to_torch(record["state_dict"], device))
    net.module_.eval()
    if record.get("optimizer_state") is not None:
        state = dict(record["optimizer_state"])
        state["state"] = {int(k): v for k, v in state["state"]}
        # On the CPU: the optimizer moves each state to its parameter's device itself,
        # and keeps step counters where they must be.
        net.optimizer_.load_state_dict(_to_torch(state, "cpu"))
    generator = getattr(net, "iterator_train__generator", None)
    if generator is not None and record.get("generator_state") is not None:
        generator.set_state(torch.from_numpy(np.array(record["generator_state"])))
    net.history = History(record["history"])
    return net
