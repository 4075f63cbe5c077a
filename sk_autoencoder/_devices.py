"""Where the network runs: the ``device`` parameter.

Any torch device string is accepted (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``,
``"xpu:0"``...), and ``"auto"`` picks the first accelerator PyTorch finds. Whether a
device exists is decided here, once, for ``fit`` (a ``ValueError`` naming the device
when it does not) and for loading a saved model (which falls back to the CPU).
"""

from __future__ import annotations

import torch

# What ``device="auto"`` tries, in order, before the CPU.
_AUTO_ORDER = ("cuda", "mps", "xpu")

# How messages name the device types.
_NAMES = {"cuda": "CUDA", "mps": "MPS (Apple GPU)", "xpu": "XPU"}


def _device_count(device_type: str) -> int:
    """How many devices of ``device_type`` PyTorch can use here (0: none)."""
    if device_type == "cpu":
        return 1
    if device_type == "mps":
        return int(torch.backends.mps.is_available())
    backend = getattr(torch, device_type, None)
    is_available = getattr(backend, "is_available", None)
    if is_available is None or not is_available():
        return 0
    count = getattr(backend, "device_count", None)
    return int(count()) if count is not None else 1


def _parse(device) -> torch.device:
    try:
        return torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(
            f"device={device!r} is not a torch device; use 'cpu', 'auto', 'cuda', "
            "'cuda:N', 'mps' or another device string torch.device accepts."
        ) from None


def _is_available(device) -> bool:
    """Whether the torch device ``device`` (a string or torch.device) exists here."""
    parsed = _parse(device)
    return (parsed.index or 0) < _device_count(parsed.type)


def _resolve_device(device) -> str:
    """The torch device string that ``device`` (the estimator parameter) stands for.

    Raises ValueError naming the device when it is not a device string or PyTorch
    finds no such device here.
    """
    if isinstance(device, str) and device == "auto":
        return next((kind for kind in _AUTO_ORDER if _device_count(kind)), "cpu")
    parsed = _parse(device)
    count = _device_count(parsed.type)
    if (parsed.index or 0) >= count:
        name = _NAMES.get(parsed.type, parsed.type)
        if count == 0:
            found = f"no {name} device"
        else:
            listed = ", ".join(f"{parsed.type}:{i}" for i in range(count))
            found = f"{count} {name} device{'s' if count > 1 else ''} ({listed})"
        raise ValueError(
            f"device={str(device)!r} was requested but PyTorch finds {found}; use "
            "device='cpu', device='auto' or a device that exists."
        )
    return str(parsed)


def _rng_devices(device) -> dict:
    """Keyword arguments of :func:`torch.random.fork_rng` that fork the CPU generator
    and that of ``device`` only (not every GPU of the machine)."""
    parsed = torch.device(device)
    if parsed.type == "cpu":
        return {"devices": []}
    index = parsed.index
    if index is None:
        current = getattr(getattr(torch, parsed.type, None), "current_device", None)
        index = current() if current is not None else 0
    return {"devices": [index], "device_type": parsed.type}
