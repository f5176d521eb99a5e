"""Durable and atomic file writes, and file digests: shared by every layer.

A report, a processed table or a run record is either the old bytes or the new bytes, never a
half-written file: :func:`write_atomic` writes a temp file beside the target, fsyncs it and
renames it over the target (atomic on POSIX), then fsyncs the directory.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["fsync_dir", "jsonable", "sha256_file", "write_atomic", "write_durable"]


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes.

    Examples
    --------
    >>> p = Path("/tmp/_kpi_sha_example")
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)  # FIPS 180-2 test vector for "abc"
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fsync_dir(path: Path) -> None:
    """Flush a directory entry (so a rename survives a power cut)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durable(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (a new file in a staging area) and fsync it.

    Examples
    --------
    >>> write_durable(Path("/tmp/_kpi_durable_example"), b"x")
    """
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically: temp file beside it, fsync, rename.

    On any error the temp file is removed and ``path`` is untouched.

    Examples
    --------
    >>> write_atomic(Path("/tmp/_kpi_atomic_example"), "年度".encode())
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write_durable(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def jsonable(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN (also numpy's) is not JSON
        return None
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "columns") and hasattr(value, "to_dict"):  # a DataFrame: one dict a row
        return jsonable(value.to_dict(orient="records"))
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return jsonable(item())
        except (TypeError, ValueError):
            pass
    return str(value)
