"""Fixtures shared by every test package."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARK_SCRIPTS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def benchmark_script():
    """Import a script of ``benchmarks/`` by name (``"prior_fit"``) as a module."""

    def load(name: str) -> ModuleType:
        path = BENCHMARK_SCRIPTS / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"{name}_script", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
