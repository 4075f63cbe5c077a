"""Save and load fitted estimators with :mod:`skops.io`, without pickle.

``pickle`` and ``joblib`` files can run arbitrary code when loaded, so a model file
from someone else should not be loaded with them. :func:`dump` and :func:`load`
store a model in the ``skops.io`` format instead: loading builds only the types that
the caller trusts, and refuses the file otherwise.

What a file holds, and which types must be trusted
--------------------------------------------------
An estimator's state is saved as plain data: its parameters, the fitted scaler
(scikit-learn's own types, trusted by ``skops`` already, or
:class:`~sk_autoencoder.GlobalScaler`), numpy arrays, and a record
of the network: the network's class, its constructor arguments, its weights as
numpy arrays, the optimiser state and the training history as lists and dicts. The
network is rebuilt from that record at load time by calling the class with those
arguments, so the class is the one type of ours besides the estimators that a file
names. :data:`TRUSTED_TYPES` lists them:

- ``sk_autoencoder._transformer.AutoencoderTransformer``
- ``sk_autoencoder._detector.AutoencoderAnomalyDetector``
- ``sk_autoencoder._scaling.GlobalScaler`` (``preprocessing="global"``)
- every network class of :mod:`sk_autoencoder.modules` (``DenseAutoencoder``...)

:func:`load` trusts these by default. A model whose parameters hold other objects
names their types too, and those must be trusted explicitly with ``trusted=``: an
``optimizer`` given as a class (e.g. ``"torch.optim.adam.Adam"``), skorch
``callbacks``, a network class of your own. Check what a file needs with
:func:`skops.io.get_untrusted_types` before trusting anything.

:func:`load` returns only the two estimators (or an object of a type the caller
lists in ``trusted=``), and checks the archive's table of contents before skops
reads anything: a file of more than 10,000 members, or one that declares more than
1 GiB once decompressed (a decompression bomb), is refused at once
(``max_members=``, ``max_size=`` raise or lift the limits).

A model saved from a GPU loads on a machine without one: the weights are stored as
numpy arrays and placed on the CPU when CUDA is not available (the ``device``
parameter keeps its value, so a refit there needs ``device="cpu"``).

Files record the sk-autoencoder and PyTorch versions that wrote them; loading with
another major version (``0.minor`` before 1.0) warns with
:class:`~sk_autoencoder.exceptions.InconsistentVersionWarning`.

Examples
--------
>>> import numpy as np
>>> from sk_autoencoder import AutoencoderTransformer
>>> from sk_autoencoder.persistence import dump, load
>>> X = np.random.RandomState(0).normal(size=(50, 4))
>>> model = AutoencoderTransformer(max_epochs=2, random_state=0).fit(X)
>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "model.skops")
>>> dump(model, path)
>>> restored = load(path)
>>> bool(np.array_equal(restored.transform(X), model.transform(X)))
True
"""

from __future__ import annotations

import inspect
import io
import json
import os
import zipfile
from collections.abc import Sequence
from typing import IO

from torch import nn

from . import modules as _modules
from ._base import _BaseAutoencoder
from ._detector import AutoencoderAnomalyDetector
from ._scaling import GlobalScaler
from ._transformer import AutoencoderTransformer
from .exceptions import InconsistentVersionWarning

__all__ = ["TRUSTED_TYPES", "InconsistentVersionWarning", "dump", "load"]


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _network_classes() -> list[type]:
    """The public network classes defined in :mod:`sk_autoencoder.modules`."""
    return [
        cls
        for name, cls in vars(_modules).items()
        if inspect.isclass(cls)
        and issubclass(cls, nn.Module)
        and cls.__module__ == _modules.__name__
        and not name.startswith("_")
    ]


#: Types that :func:`load` trusts by default: the two estimators, the
#: ``GlobalScaler`` and the network classes of :mod:`sk_autoencoder.modules`.
#: Everything else in a file must be trusted by the caller.
TRUSTED_TYPES: tuple[str, ...] = tuple(
    sorted(
        {
            _type_name(AutoencoderTransformer),
            _type_name(AutoencoderAnomalyDetector),
            _type_name(GlobalScaler),
            *(_type_name(cls) for cls in _network_classes()),
        }
    )
)


# load's default limits on what an archive may declare before skops reads it: generous
# for real models (a transformer with hidden layers (1024, 512) on 2,000 features
# is a 62 MB file of 56 members; 2,000 epochs of history add 12 MB), and far below
# what a crafted archive can make the decompressor produce from a few megabytes.
_MAX_SIZE = 2**30  # bytes, uncompressed
_MAX_MEMBERS = 10_000

_ESTIMATOR_TYPES = (
    _type_name(AutoencoderTransformer),
    _type_name(AutoencoderAnomalyDetector),
)


def _check_archive(archive: zipfile.ZipFile, trusted: Sequence[str], max_size, max_members):
    """Refuse, before skops builds anything: an archive that declares more members or
    more uncompressed bytes than the limits, and a file whose top-level object is not
    an estimator of ours (or of a type in ``trusted``)."""
    members = archive.infolist()
    if max_members is not None and len(members) > max_members:
        raise ValueError(
            f"The file holds {len(members)} archive members, more than max_members="
            f"{max_members}; a model file has fewer than a hundred. Pass a larger "
            "max_members only for a file you trust."
        )
    size = sum(member.file_size for member in members)
    if max_size is not None and size > max_size:
        raise ValueError(
            f"The file declares {size} bytes once decompressed, more than max_size="
            f"{max_size}: too large for a model, or a decompression bomb. Pass a larger "
            "max_size only for a file you trust."
        )
    try:
        schema = json.loads(archive.read("schema.json"))
        name = f"{schema['__module__']}.{schema['__class__']}"
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"The file is not a model written by dump: {exc!r}.") from None
    if name not in (*_ESTIMATOR_TYPES, *trusted):
        raise TypeError(
            f"The file holds a {name}, not an sk-autoencoder estimator; load returns only "
            "AutoencoderTransformer and AutoencoderAnomalyDetector, or a type you list in "
            "trusted=. Use skops.io.load for other objects."
        )


def dump(estimator: _BaseAutoencoder, file: str | os.PathLike | IO[bytes]) -> None:
    """Save an estimator (fitted or not) in the ``skops.io`` format.

    Parameters
    ----------
    estimator : AutoencoderTransformer or AutoencoderAnomalyDetector
        The estimator to save.
    file : str, path-like or binary file object
        Where to write; ``.skops`` is the customary extension.

    Examples
    --------
    >>> import io
    >>> from sk_autoencoder import AutoencoderTransformer
    >>> from sk_autoencoder.persistence import dump, load
    >>> buffer = io.BytesIO()
    >>> dump(AutoencoderTransformer(n_components=3), buffer)
    >>> _ = buffer.seek(0)
    >>> load(buffer).n_components
    3
    """
    if not isinstance(estimator, _BaseAutoencoder):
        raise TypeError(
            "dump saves sk-autoencoder estimators; use skops.io.dump for other objects, "
            f"got {type(estimator).__name__}."
        )
    import skops.io as sio  # here, not at import: it loads pytest and dask.array

    sio.dump(estimator, file)


def load(
    file: str | os.PathLike | IO[bytes],
    trusted: Sequence[str] | None = None,
    *,
    max_size: int | None = _MAX_SIZE,
    max_members: int | None = _MAX_MEMBERS,
) -> _BaseAutoencoder:
    """Load an estimator saved by :func:`dump`, building only trusted types.

    Before anything is built, the archive's table of contents is checked: the number
    of members and their declared uncompressed size (Python's ``zipfile`` never
    decompresses more than a member declares), and the type of the saved object.

    Parameters
    ----------
    file : str, path-like or binary file object
        A file written by :func:`dump`.
    trusted : sequence of str or None, default=None
        Type names trusted in addition to :data:`TRUSTED_TYPES`, as listed by
        :func:`skops.io.get_untrusted_types`. Trust only types you know. A type
        listed here may also be the saved object itself.
    max_size : int or None, default=1073741824
        Largest total uncompressed size in bytes (1 GiB by default, sixteen times a
        model with hidden layers (1024, 512) on 2,000 features) the archive may
        declare; None for no limit.
    max_members : int or None, default=10000
        Largest number of archive members (a model file has fewer than a hundred);
        None for no limit.

    Returns
    -------
    estimator : AutoencoderTransformer or AutoencoderAnomalyDetector
        The estimator, with its network on the recorded device where available and
        on the CPU otherwise.

    Raises
    ------
    skops.io.exceptions.UntrustedTypesFoundException
        If the file names a type that is neither in :data:`TRUSTED_TYPES` nor in
        ``trusted``; nothing from the file is built.
    TypeError
        If the saved object is not one of the two estimators (nor of a type in
        ``trusted``), e.g. a plain dict or another library's model.
    ValueError
        If the file is not a zip archive, declares more than ``max_size`` bytes or
        ``max_members`` members, or has no skops schema.

    Examples
    --------
    >>> import io
    >>> from sk_autoencoder import AutoencoderAnomalyDetector
    >>> from sk_autoencoder.persistence import dump, load
    >>> buffer = io.BytesIO()
    >>> dump(AutoencoderAnomalyDetector(), buffer)
    >>> _ = buffer.seek(0)
    >>> type(load(buffer)).__name__
    'AutoencoderAnomalyDetector'
    """
    import skops.io as sio  # here, not at import: it loads pytest and dask.array

    trusted = list(trusted or [])
    trusted_types = [*TRUSTED_TYPES, *trusted]
    data = file.read() if hasattr(file, "read") else None
    try:
        with zipfile.ZipFile(io.BytesIO(data) if data is not None else file) as archive:
            _check_archive(archive, trusted, max_size, max_members)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"The file is not a model written by dump: {exc}.") from None
    if data is not None:
        return sio.loads(data, trusted=trusted_types)
    return sio.load(file, trusted=trusted_types)
