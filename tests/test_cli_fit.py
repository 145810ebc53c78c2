import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from mechsparse import MechanismSparsityVAE
from mechsparse.cli import main
from mechsparse.data import load_benchmark, read_data
from mechsparse.metrics import mcc
from mechsparse.train import preset, train

TINY = {
    "preset": "fast",
    "model": {
        "encoder_width": 16,
        "encoder_depth": 1,
        "decoder_width": 16,
        "decoder_depth": 1,
        "prior_width": 8,
        "prior_depth": 1,
    },
    "optim": {
        "batch_size": 64,
        "eval_every": 10,
        "log_every": 5,
        "checkpoint_every": 10,
        "eval_frames": 100,
    },
    "regularizer": {"schedule_steps": 10, "coef_warmup_steps": 10},
}
SMALL = {
    **TINY,
    "model": {**TINY["model"], "encoder_width": 64, "encoder_depth": 2},
    "optim": {**TINY["optim"], "batch_size": 256, "eval_every": 300, "checkpoint_every": 300},
    "regularizer": {"schedule_steps": 150, "coef_warmup_steps": 150},
}
SMALL["model"].update(decoder_width=64, decoder_depth=2)


def action_table(split):
    """A T = 1 action benchmark split as a CSV-ready table: x0..x19, a0..a9."""
    x = pd.DataFrame(split.x[:, 0], columns=[f"x{j}" for j in range(split.x.shape[2])])
    a = pd.DataFrame(split.a[:, 0], columns=[f"a{j}" for j in range(split.a.shape[2])])
    return pd.concat([x, a], axis=1)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A small action benchmark exported to CSV (train, valid, test) plus config files."""
    root = tmp_path_factory.mktemp("cli")
    data = load_benchmark("action_sparsity_trivial", n_samples=4_000, seed=0)
    for name in ("train", "valid", "test"):
        action_table(data.split(name)).to_csv(root / f"{name}.csv", index=False)
    (root / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    (root / "small.yaml").write_text(yaml.safe_dump(SMALL))
    return root, data


def run(*argv):
    return main([str(a) for a in argv])


def fit_tiny(root, out, *extra):
    return run(
        "fit", root / "train.csv", "--latents", 4, "--action-cols", "a*", "--max-steps", 20,
        "--config", root / "tiny.yaml", "--device", "cpu", "--no-progress", "--out", out, *extra,
    )  # fmt: skip


@pytest.fixture(scope="module")
def tiny_run(files):
    root, _ = files
    assert fit_tiny(root, root / "tiny_run") == 0
    return root / "tiny_run"


def test_fit_then_encode_reproduces_the_train_run_and_the_api(files, tmp_path, capsys):
    """CSV → `fit` → `encode` gives the test MCC of `mechsparse train` on the same splits
    (within 0.01), and exactly the latents of the Python API on the same file and seed."""
    torch.set_num_threads(1)
    root, data = files
    config = preset("fast").updated(
        {
            **SMALL,
            "data.benchmark": "action_sparsity_trivial",
            "data.n_samples": 4_000,
            "optim.max_steps": 300,
            "optim.device": "cpu",
        }
    )
    reference = train(config, tmp_path / "train_run", data=data, progress=False, report=False)
    argv = ["--latents", 10, "--action-cols", "a*", "--edges", 10, "--seed", 0]
    argv += ["--max-steps", 300, "--config", root / "small.yaml", "--device", "cpu"]
    assert run("fit", root / "train.csv", "--valid", root / "valid.csv", *argv,
               "--no-progress", "--out", tmp_path / "fit_run") == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "train.csv: 3,200 sequences of T = 1 frames, 20 features, 10 continuous actions" in out
    assert "G^a (graph_a)" in out and "E|G^a| ≤ 10" in out
    assert run("encode", tmp_path / "fit_run", root / "test.csv", "--out", tmp_path / "z.npz") == 0
    with np.load(tmp_path / "z.npz", allow_pickle=False) as z:
        z_cli, rows = z["z"], z["row"]
    assert z_cli.shape == (400, 1, 10)
    np.testing.assert_array_equal(rows[:, 0], np.arange(400))
    score = mcc(data.test.z, z_cli).score
    assert abs(score - reference.scores["mcc"]) < 0.01, (score, reference.scores["mcc"])

    api = MechanismSparsityVAE(
        10,
        edges=10,
        seed=0,
        max_steps=300,
        device="cpu",
        config_overrides={
            f"{section}.{key}": value
            for section in ("model", "optim", "regularizer")
            for key, value in SMALL[section].items()
        },
    )
    read = {"action_cols": "a*"}
    api.fit(read_data(root / "train.csv", **read), x_valid=read_data(root / "valid.csv", **read))
    np.testing.assert_array_equal(api.transform(read_data(root / "test.csv", **read)), z_cli)


def test_report_of_a_run_without_ground_truth(tiny_run):
    html = (tiny_run / "report.html").read_text()
    assert "need the true latents and graphs" in html
    assert sorted(p.name for p in (tiny_run / "figures").iterdir()) == [
        "graph_a.png",
        "training_curves.png",
    ]
    final = json.loads((tiny_run / "final.json").read_text())
    assert final["permutation"] is None and final["graph_a"]["true"] is None


def test_encode_csv_joins_back_to_source_rows(files, tiny_run, tmp_path):
    root, _ = files
    out = tmp_path / "z.csv"
    assert run("encode", tiny_run, root / "test.csv", "--out", out) == 0
    table = pd.read_csv(out)
    assert list(table.columns[:4]) == ["row", "sequence", "time", "window"]
    source = pd.read_csv(root / "test.csv")
    est = MechanismSparsityVAE.load(tiny_run)
    expected = est.transform(source.loc[table["row"], [f"x{j}" for j in range(20)]].to_numpy())
    np.testing.assert_allclose(table[["z0", "z1", "z2", "z3"]].to_numpy(), expected, rtol=1e-6)
    assert run("encode", tiny_run, root / "test.csv", "--out", tmp_path / "z.pq") == 0
    assert len(pd.read_parquet(tmp_path / "z.pq")) == 400


def test_graph_formats(tiny_run, tmp_path, capsys):
    assert run("graph", tiny_run) == 0
    text = capsys.readouterr().out
    assert "G^a (graph_a): auxiliary variable → z" in text and "a9" in text
    est = MechanismSparsityVAE.load(tiny_run)
    assert run("graph", tiny_run, "--format", "csv", "--out", tmp_path / "g.csv") == 0
    edges = pd.read_csv(tmp_path / "g.csv")
    assert len(edges) == 40 and set(edges["graph"]) == {"graph_a"}
    assert edges.loc[0, ["parent", "child"]].tolist() == ["a0", "z0"]
    np.testing.assert_allclose(
        edges["probability"].to_numpy().reshape(4, 10), est.edge_probabilities_a_, rtol=1e-5
    )
    assert run("graph", tiny_run, "--format", "graphml", "--out", tmp_path / "g.graphml") == 0
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    graph = ET.parse(tmp_path / "g.graphml").getroot().find("g:graph", ns)
    assert len(graph.findall("g:node", ns)) == 14
    assert len(graph.findall("g:edge", ns)) == int(est.graph_a_.sum())
    assert run("graph", tiny_run, "--format", "csv", "--out", tmp_path / "g.csv") == 2


def test_temporal_table_with_sequences_windows_and_penalty(tmp_path, capsys):
    data = load_benchmark("temporal_sparsity_trivial", n_samples=300, seed=0)
    n, t, d = data.train.x.shape
    table = pd.DataFrame(data.train.x.reshape(-1, d), columns=[f"s{j}" for j in range(d)])
    table.insert(0, "step", np.tile(np.arange(t), n))
    table.insert(0, "subject", np.repeat(np.arange(n), t))
    table = table.sample(frac=1, random_state=0)  # rows in any order
    table.to_parquet(tmp_path / "seq.parquet")
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    argv = ["--sequence-col", "subject", "--time-col", "step", "--latents", 3, "--coef", 1]
    argv += ["--max-steps", 20, "--config", tmp_path / "tiny.yaml", "--no-progress"]
    assert run("fit", tmp_path / "seq.parquet", *argv, "--out", tmp_path / "run") == 0
    est = MechanismSparsityVAE.load(tmp_path / "run")
    assert est.config_.regularizer.kind == "penalty" and est.graph_z_.shape == (3, 3)
    assert est.data_info_["sequence_col"] == "subject" and est.n_timesteps_ == 2
    # encode reuses the sequence and time columns of fit; windows of T = 2 are sorted by time
    assert (
        run("encode", tmp_path / "run", tmp_path / "seq.parquet", "--out", tmp_path / "z.csv") == 0
    )
    z = pd.read_csv(tmp_path / "z.csv")
    assert len(z) == 2 * n and z.groupby("window")["step"].apply(list).tolist() == [[0, 1]] * n
    assert "G^z (graph_z)" in capsys.readouterr().out


# ------------------------------------------------------------------ errors write nothing
def test_fit_refuses_an_output_that_holds_other_files(files, tmp_path, capsys):
    root, _ = files
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    assert fit_tiny(root, out) == 2
    assert "already holds other files" in capsys.readouterr().err
    assert fit_tiny(root, out, "--overwrite") == 2
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]


def test_fit_overwrite_replaces_a_previous_run(files, tmp_path, capsys):
    root, _ = files
    out = tmp_path / "run"
    assert fit_tiny(root, out) == 0
    before = (out / "final.json").read_text()
    assert fit_tiny(root, out, "--seed", 1) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert (out / "final.json").read_text() == before
    assert fit_tiny(root, out, "--seed", 1, "--overwrite") == 0
    assert (out / "final.json").read_text() != before
    assert yaml.safe_load((out / "config.yaml").read_text())["seed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporaries left


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.assign(x3=t["x3"].where(t.index != 7)), r"'x3' has a missing value \(NaN\) at row 7"),
        (lambda t: t.assign(x5="text"), r"column 'x5' is not numeric"),
        (lambda t: t.head(9), r"yields 9 sequences of T = 1 frames but at least 10"),
    ],
)  # fmt: skip
def test_fit_rejects_bad_data_and_writes_nothing(files, tmp_path, capsys, edit, message):
    root, _ = files
    edit(pd.read_csv(root / "train.csv")).to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    assert fit_tiny(tmp_path, tmp_path / "run") == 2
    err = capsys.readouterr().err
    assert "mechsparse fit: error:" in err and "train.csv" in err
    assert re.search(message, err), err
    assert not (tmp_path / "run").exists()


def test_fit_option_errors(files, tmp_path, capsys):
    root, _ = files
    assert fit_tiny(root, tmp_path / "r", "--edges", "true") == 2
    assert "ground-truth graph" in capsys.readouterr().err
    assert fit_tiny(root, tmp_path / "r", "--window", 5000) == 2  # one sequence of 3,200 rows
    assert "window 5000 is longer than every sequence" in capsys.readouterr().err
    assert fit_tiny(root, tmp_path / "r", "--edges", 41) == 2
    assert "at most its 40 possible edges" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_encode_rejects_other_features_and_existing_outputs(files, tiny_run, tmp_path, capsys):
    root, _ = files
    test = pd.read_csv(root / "test.csv")
    test.rename(columns={"x3": "y3"}).to_csv(tmp_path / "renamed.csv", index=False)
    out = tmp_path / "z.npz"
    assert run("encode", tiny_run, tmp_path / "renamed.csv", "--out", out) == 2
    assert "entry 'x3' matches no column" in capsys.readouterr().err
    cols = ",".join(["y3", *(f"x{j}" for j in range(20) if j != 3)])
    assert (
        run("encode", tiny_run, tmp_path / "renamed.csv", "--feature-cols", cols, "--out", out) == 2
    )
    assert "missing ['x3'], unexpected ['y3']" in capsys.readouterr().err
    np.savez(tmp_path / "few.npz", x=test[[f"x{j}" for j in range(19)]].to_numpy())
    assert run("encode", tiny_run, tmp_path / "few.npz", "--out", out) == 2
    assert "x has 19 features per frame" in capsys.readouterr().err
    assert not out.exists()
    out.write_text("keep")
    assert run("encode", tiny_run, root / "test.csv", "--out", out) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert out.read_text() == "keep"
    assert run("encode", tiny_run, root / "test.csv", "--out", out, "--overwrite") == 0
    assert np.load(out)["z"].shape == (400, 1, 4)


def test_missing_or_corrupt_model_is_an_error(files, tiny_run, tmp_path, capsys):
    root, _ = files
    assert run("graph", tmp_path / "nothing") == 2
    assert "model directory" in capsys.readouterr().err
    broken = MechanismSparsityVAE.load(tiny_run).save(tmp_path / "broken")
    (broken / "checkpoints" / "last.safetensors").write_bytes(b"\x00" * 10)
    assert run("encode", broken, root / "test.csv", "--out", tmp_path / "z.npz") == 2
    assert "corrupt" in capsys.readouterr().err
    assert not (tmp_path / "z.npz").exists()
