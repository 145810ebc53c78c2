"""Save and load generated benchmarks as a single ``.npz`` file.

File layout (``np.savez``, uncompressed, readable with ``np.load(..., allow_pickle=False)``):

===============================  ===============================================================
key                              content
===============================  ===============================================================
``x_train``, ``x_valid``,        observations, (n, T, d_x) float32
``x_test``
``z_train``, ``z_valid``,        ground-truth latents, (n, T, d_z) float32
``z_test``
``a_train``, ``a_valid``,        auxiliary variables, (n, T, d_a) float32 — only when present
``a_test``
``graph_z``                      G^z, (d_z, d_z) int64 — only when present
``graph_a``                      G^a, (d_z, d_a) int64 — only when present
``meta``                         0-d unicode array holding a JSON object with ``format``
                                 ("mechsparse-benchmark"), ``format_version`` (1), ``name``,
                                 ``params``, ``aux_type`` and ``description``
===============================  ===============================================================

Saving is atomic: the archive is written to a temporary file in the target directory and moved
into place with ``os.replace``, so an interrupted or failed save never leaves a partial file.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from mechsparse._atomic import atomic_write
from mechsparse.data.benchmarks import SPLIT_NAMES, Benchmark, Split

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "load_benchmark_file", "save_benchmark"]

FORMAT_NAME = "mechsparse-benchmark"
FORMAT_VERSION = 1


def _arrays(benchmark: Benchmark) -> dict[str, np.ndarray]:
    """The arrays to store, keyed as documented in the module docstring."""
    arrays: dict[str, np.ndarray] = {}
    for split_name in SPLIT_NAMES:
        split = benchmark.split(split_name)
        arrays[f"x_{split_name}"] = split.x
        arrays[f"z_{split_name}"] = split.z
        if split.a is not None:
            arrays[f"a_{split_name}"] = split.a
    for key in ("graph_z", "graph_a"):
        graph = getattr(benchmark, key)
        if graph is not None:
            arrays[key] = np.asarray(graph, dtype=np.int64)
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "name": benchmark.name,
        "params": benchmark.params,
        "aux_type": benchmark.aux_type,
        "description": benchmark.description,
    }
    arrays["meta"] = np.array(json.dumps(meta))
    return arrays


def save_benchmark(benchmark: Benchmark, path: str | Path) -> Path:
    """Write a benchmark to one ``.npz`` file, atomically.

    Args:
        benchmark: the benchmark to save.
        path: target file (kept exactly as given; ``.npz`` is the recommended suffix). Its
            directory must exist; an existing file is replaced.

    Returns:
        The path written, as a ``Path``.

    Raises:
        TypeError: if ``benchmark`` is not a Benchmark.
        FileNotFoundError: if the target directory does not exist.
    """
    if not isinstance(benchmark, Benchmark):
        raise TypeError(f"benchmark must be a Benchmark; got {type(benchmark).__name__}.")
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"cannot save the benchmark to {str(path)!r}: directory {str(path.parent)!r} does "
            "not exist."
        )
    arrays = _arrays(benchmark)
    atomic_write(path, lambda tmp: np.savez(tmp, **arrays))
    return path


def _require(archive: np.lib.npyio.NpzFile, key: str, path: Path) -> np.ndarray:
    if key not in archive.files:
        raise ValueError(
            f"{str(path)!r} is not a complete mechsparse benchmark file: key {key!r} is missing "
            f"(found {sorted(archive.files)})."
        )
    return archive[key]


def load_benchmark_file(path: str | Path) -> Benchmark:
    """Load a benchmark written by ``save_benchmark``.

    Args:
        path: the ``.npz`` file.

    Returns:
        The Benchmark, with the arrays, graphs, params and aux_type that were saved.

    Raises:
        FileNotFoundError: if the file does not exist.
        ValueError: if the file is not an ``.npz`` archive, is corrupt, has missing keys or an
            unsupported format version.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"benchmark file {str(path)!r} does not exist.")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{str(path)!r} is not a readable .npz benchmark file: {err}") from err
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{str(path)!r} is a .npy array, not a .npz benchmark archive.")
    try:
        with archive:
            meta = json.loads(str(_require(archive, "meta", path)))
            if meta.get("format") != FORMAT_NAME or meta.get("format_version") != FORMAT_VERSION:
                raise ValueError(
                    f"{str(path)!r} has format {meta.get('format')!r} version "
                    f"{meta.get('format_version')!r}; expected {FORMAT_NAME!r} version "
                    f"{FORMAT_VERSION}."
                )
            has_aux = meta.get("aux_type") is not None
            splits = {
                name: Split(
                    x=_require(archive, f"x_{name}", path),
                    z=_require(archive, f"z_{name}", path),
                    a=_require(archive, f"a_{name}", path) if has_aux else None,
                )
                for name in SPLIT_NAMES
            }
            graphs = {
                key: (archive[key] if key in archive.files else None)
                for key in ("graph_z", "graph_a")
            }
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as err:
        raise ValueError(f"{str(path)!r} is a corrupt benchmark file: {err}") from err
    except ValueError as err:
        if str(path) in str(err):
            raise
        raise ValueError(f"{str(path)!r} is a corrupt benchmark file: {err}") from err
    return Benchmark(
        name=meta["name"],
        train=splits["train"],
        valid=splits["valid"],
        test=splits["test"],
        graph_z=graphs["graph_z"],
        graph_a=graphs["graph_a"],
        aux_type=meta["aux_type"],
        params=meta["params"],
    )
