"""docs/tutorial.md runs as written: its Python blocks in order in one namespace, and the
``mechsparse ...`` lines of its shell blocks through ``mechsparse.cli.main``."""

import re
import shlex
from pathlib import Path

import pytest
import torch

from mechsparse.cli import main
from mechsparse.estimator import ShortScheduleWarning

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks():
    return [(lang, body) for lang, body in BLOCK.findall(TUTORIAL.read_text())]


def test_tutorial_has_python_and_shell_blocks():
    langs = [lang for lang, _ in blocks()]
    assert langs.count("python") >= 5 and langs.count("bash") >= 3


def test_tutorial_runs(tmp_path, monkeypatch, capsys):
    torch.set_num_threads(1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "tutorial"}
    commands = 0
    # the tutorial says that its 200 steps end before the constraint's schedule does
    with pytest.warns(ShortScheduleWarning, match="training stops after max_steps = 200"):
        for lang, body in blocks():
            if lang == "python":
                exec(compile(body, f"{TUTORIAL.name} (python block)", "exec"), namespace)
            elif lang == "bash":
                for line in body.splitlines():
                    if not line.startswith("mechsparse "):
                        continue
                    argv = shlex.split(line)[1:]
                    assert main(argv) == 0, (line, capsys.readouterr().err)
                    commands += 1
            else:
                pytest.fail(f"unexpected code block language {lang!r} in the tutorial")
    assert commands == 4
    out = capsys.readouterr().out
    assert "observations.csv: 4,000 sequences of T = 1 frames, 20 features" in out
    assert "G^a (graph_a)" in out and "MCC after 200 steps" in out
    for name in ("observations.csv", "latents.csv", "graph.graphml", "run/report.html"):
        assert (tmp_path / name).is_file(), name
    assert namespace["joined"].shape == (4000, 1 + 20 + 10 + 3 + 10)
    assert namespace["z"].shape == (4000, 1, 10)
