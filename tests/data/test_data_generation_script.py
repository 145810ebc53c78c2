"""Smoke test of benchmarks/data_generation.py (tiny sizes)."""


def test_measure_and_table(capsys, benchmark_script):
    script = benchmark_script("data_generation")
    assert (
        script.main(["--names", "action_sparsity_trivial", "--n-samples", "300", "--repeats", "1"])
        == 0
    )
    out = capsys.readouterr().out
    assert "| action_sparsity_trivial |" in out and "peak RSS" in out


def test_write_section_replaces_only_its_section(tmp_path, benchmark_script):
    script = benchmark_script("data_generation")
    path = tmp_path / "BENCHMARKS.md"
    script.write_section(path, "Data generation", "first")
    assert path.read_text() == "# Benchmarks\n\n## Data generation\n\nfirst\n"
    path.write_text("# Benchmarks\n\n## A\n\na\n\n## Data generation\n\nold\n\n## B\n\nb\n")
    script.write_section(path, "Data generation", "new")
    assert (
        path.read_text() == "# Benchmarks\n\n## A\n\na\n\n## Data generation\n\nnew\n\n## B\n\nb\n"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["BENCHMARKS.md"]
