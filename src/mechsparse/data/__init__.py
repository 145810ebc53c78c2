"""Synthetic benchmarks: ground-truth graphs, mixing function, generators and file I/O.

Quick start::

    from mechsparse.data import load_benchmark
    bench = load_benchmark("action_sparsity_non_trivial", n_samples=100_000, seed=0)
    bench.train.x.shape  # (80000, 1, 20)
"""

from mechsparse.data.benchmarks import Benchmark, Split, list_benchmarks, load_benchmark
from mechsparse.data.graphs import list_graphs, named_graph
from mechsparse.data.io import load_benchmark_file, save_benchmark

__all__ = [
    "Benchmark",
    "Split",
    "list_benchmarks",
    "list_graphs",
    "load_benchmark",
    "load_benchmark_file",
    "named_graph",
    "save_benchmark",
]
