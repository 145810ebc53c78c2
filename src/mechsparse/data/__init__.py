"""Synthetic benchmarks: ground-truth graphs, mixing function, generators and file I/O.

Quick start::

    from mechsparse.data import load_benchmark
    bench = load_benchmark("action_sparsity_non_trivial", n_samples=100_000, seed=0)
    bench.train.x.shape  # (80000, 1, 20)

Your own data (``.npz``, CSV or Parquet) are read with :func:`read_data` (see
``mechsparse.data.files``).
"""

from mechsparse.data.benchmarks import Benchmark, Split, list_benchmarks, load_benchmark
from mechsparse.data.files import UserData, from_frame, read_data, write_latents
from mechsparse.data.graphs import list_graphs, named_graph
from mechsparse.data.io import load_benchmark_file, save_benchmark

__all__ = [
    "Benchmark",
    "Split",
    "UserData",
    "from_frame",
    "list_benchmarks",
    "list_graphs",
    "load_benchmark",
    "load_benchmark_file",
    "named_graph",
    "read_data",
    "save_benchmark",
    "write_latents",
]
