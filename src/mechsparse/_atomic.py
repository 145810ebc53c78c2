"""Atomic file writes: every file mechsparse writes appears whole or not at all.

The content is written to a uniquely named temporary file beside the target, flushed to disk,
then renamed over the target with ``os.replace`` (atomic on POSIX and Windows). If writing
fails, the temporary file is removed and the target is untouched.
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_csv", "atomic_write_text"]


def atomic_write(path: str | Path, write: Callable[[str], Any]) -> Path:
    """Call ``write(tmp_path)`` to create a temporary file beside ``path``, then rename it.

    Args:
        path: the target file; its folder must exist.
        write: writes the whole content to the file name it is given (e.g.
            ``lambda tmp: np.savez(tmp, ...)`` or safetensors' ``save_file``).

    Returns:
        ``path`` as a Path.

    Raises:
        FileNotFoundError: the target's folder does not exist (nothing is written).
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"cannot write {str(path)!r}: folder {str(path.parent)!r} does not exist."
        )
    # a unique sibling name that does not exist yet, so writers that open by name create it
    # with the usual permissions (umask), unlike mkstemp's 0600; it keeps the target's suffix
    # because some writers add theirs otherwise (np.savez appends ".npz")
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex}.tmp{path.suffix}")
    try:
        write(str(tmp))
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def atomic_write_csv(path: str | Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Write ``rows`` (one dict per row, the first row's keys as the header; ``None`` as an
    empty cell) to ``path`` as CSV, atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return atomic_write_text(path, buffer.getvalue())
