"""The shared ADBench tables and their two fixed halves, for every benchmark.

One rule, so that a setting chosen on half ``a`` of one benchmark is confirmed on the
same tables' other half in every other: the ``.npz`` files of ``--data-dir`` sorted by
table name ignoring case, half ``a`` the even positions and half ``b`` the odd ones.
"""

from __future__ import annotations

from pathlib import Path


def table_name(path: Path) -> str:
    """The table's name: ADBench files are named ``<number>_<name>.npz``."""
    stem = path.stem
    number, _, name = stem.partition("_")
    return name if number.isdigit() and name else stem


def table_paths(data_dir: str | Path) -> list[Path]:
    """The ``.npz`` files of ``data_dir``, sorted by table name ignoring case."""
    return sorted(Path(data_dir).glob("*.npz"), key=lambda p: table_name(p).lower())


def halves(paths: list[Path]) -> dict[str, str]:
    """Half ``"a"`` or ``"b"`` of each table: alternate positions in name order."""
    ordered = sorted(paths, key=lambda p: table_name(p).lower())
    return {table_name(p): "ab"[i % 2] for i, p in enumerate(ordered)}
