import base64
import json
import re

import numpy as np
import pytest
import yaml

from mechsparse.report import write_report

G_Z = [[1, 0, 0], [1, 1, 0], [0, 1, 1]]
SCORES = {"mcc": 0.912345, "linear_r": 0.987654, "consistent_r": 0.95, "mcc_spearman": 0.93}


def _write_run(run_dir, *, ground_truth, config=None, records=True):
    config = (
        {
            "data": {"benchmark": "action_sparsity_trivial"},
            "regularizer": {"kind": "constraint"},
            "seed": 22,
        }
        if config is None
        else config
    )
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    if records:
        lines = []
        for step in range(0, 50, 10):
            lines.append(
                {
                    "kind": "train",
                    "step": step,
                    "loss": 1.0 - step / 100,
                    "expected_edges_z": 9 - step / 10,
                    "bound_z": 9 - step / 20,
                }
            )
            lines.append(
                {
                    "kind": "eval",
                    "step": step,
                    "valid/nll": 0.3,
                    **({"mcc": step / 50} if ground_truth else {}),
                }
            )
        (run_dir / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    probs = np.array([[0.9, 0.1, 0.2], [0.8, 0.7, 0.1], [0.1, 0.9, 0.3]]).tolist()
    if ground_truth:
        final = {
            "step": 50,
            "wall_time_s": 12.5,
            "scores": SCORES,
            "graph_z": {
                "true": G_Z,
                "probabilities": probs,
                "learned": G_Z,
                "errors": {"fn": 1, "fp": 0, "shd": 1},
            },
            "graph_a": None,
            "permutation": [0, 1, 2],
            "corr": np.eye(3).tolist(),
            "entanglement_predicted": np.eye(3, dtype=int).tolist(),
            "entanglement_measured": np.eye(3).tolist(),
            "benchmark": "action_sparsity_trivial",
        }
    else:
        final = {
            "step": 50,
            "wall_time_s": 12.5,
            "scores": {"valid_nll": -1.25},
            "graph_z": {"true": None, "probabilities": probs, "learned": G_Z, "errors": None},
            "graph_a": None,
            "permutation": None,
            "corr": None,
            "entanglement_predicted": None,
            "entanglement_measured": None,
            "benchmark": None,
        }
    (run_dir / "final.json").write_text(json.dumps(final))


def _images(text):
    return re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)


def test_report_with_ground_truth(tmp_path):
    _write_run(tmp_path, ground_truth=True)
    out = write_report(tmp_path)
    assert out == tmp_path / "report.html" and out.is_file()
    text = out.read_text(encoding="utf-8")
    for value in SCORES.values():
        assert f"{value:.4f}" in text
    assert "action_sparsity_trivial" in text and "constraint" in text and "<dd>22</dd>" in text
    images = _images(text)
    assert len(images) == 4  # graph_z, entanglement, correlation, training curves
    assert all(base64.b64decode(img).startswith(b"\x89PNG") for img in images)
    pngs = sorted(p.name for p in (tmp_path / "figures").glob("*.png"))
    assert pngs == ["correlation.png", "entanglement.png", "graph_z.png", "training_curves.png"]
    assert "<details><summary>config.yaml</summary>" in text and "seed: 22" in text
    assert "need the true latents" not in text
    assert "http://" not in text and "https://" not in text  # self-contained
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary file


def test_report_without_ground_truth(tmp_path):
    _write_run(tmp_path, ground_truth=False)
    text = write_report(tmp_path).read_text(encoding="utf-8")
    assert "-1.2500" in text
    assert "need the true latents" in text
    assert len(_images(text)) == 2  # learned graph and training curves only
    assert not (tmp_path / "figures" / "correlation.png").exists()
    assert (tmp_path / "figures" / "graph_z.png").is_file()


def test_missing_config_keys_and_files_are_tolerated(tmp_path):
    _write_run(tmp_path, ground_truth=True, config={"data": {}}, records=False)
    text = write_report(tmp_path).read_text(encoding="utf-8")
    assert "<dt>regulariser</dt><dd>—</dd>" in text and "<dt>seed</dt><dd>—</dd>" in text
    assert len(_images(text)) == 3  # no training curves without metrics.jsonl
    (tmp_path / "config.yaml").unlink()
    assert "No config.yaml" in write_report(tmp_path).read_text(encoding="utf-8")


def test_truncated_metrics_line_warns_and_is_skipped(tmp_path):
    _write_run(tmp_path, ground_truth=False)
    with (tmp_path / "metrics.jsonl").open("a") as handle:
        handle.write('{"kind": "train", "step": 60, "lo')
    with pytest.warns(UserWarning, match="skipped 1 line"):
        out = write_report(tmp_path)
    assert out.is_file()


def test_missing_final_json_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"final\.json not found"):
        write_report(tmp_path)
    with pytest.raises(FileNotFoundError, match="run directory not found"):
        write_report(tmp_path / "nope")


def test_inconsistent_final_json_raises_clearly(tmp_path):
    _write_run(tmp_path, ground_truth=True, records=False)
    final = json.loads((tmp_path / "final.json").read_text())
    final["permutation"] = [0, 1]
    (tmp_path / "final.json").write_text(json.dumps(final))
    with pytest.raises(ValueError, match="permutation must have shape"):
        write_report(tmp_path)
