"""Smoke test of benchmarks/data_generation.py (tiny sizes)."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "data_generation.py"


def load_script():
    spec = importlib.util.spec_from_file_location("data_generation_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_measure_and_table(capsys):
    script = load_script()
    assert (
        script.main(["--names", "action_sparsity_trivial", "--n-samples", "300", "--repeats", "1"])
        == 0
    )
    out = capsys.readouterr().out
    assert "| action_sparsity_trivial |" in out and "peak RSS" in out


def test_write_section_replaces_only_its_section(tmp_path):
    script = load_script()
    path = tmp_path / "BENCHMARKS.md"
    script.write_section(path, "Data generation", "first")
    assert path.read_text() == "# Benchmarks\n\n## Data generation\n\nfirst\n"
    path.write_text("# Benchmarks\n\n## A\n\na\n\n## Data generation\n\nold\n\n## B\n\nb\n")
    script.write_section(path, "Data generation", "new")
    assert (
        path.read_text() == "# Benchmarks\n\n## A\n\na\n\n## Data generation\n\nnew\n\n## B\n\nb\n"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["BENCHMARKS.md"]
