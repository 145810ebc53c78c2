"""Training: config and presets, the sparsity regularisers, the loop, checkpoints, evaluation."""

from mechsparse.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from mechsparse.train.config import (
    PRESETS,
    Config,
    DataConfig,
    ModelConfig,
    OptimConfig,
    RegularizerConfig,
    load_config,
    preset,
)
from mechsparse.train.loop import (
    RunResult,
    TrainingDiverged,
    build_model,
    load_data,
    load_trained_model,
    train,
)
from mechsparse.train.regularizers import GraphBudget, Regularizer, SparsityProblem, linear_bound
from mechsparse.train.run_dir import RunDir, RunDirError

__all__ = [
    "PRESETS",
    "CheckpointError",
    "Config",
    "DataConfig",
    "GraphBudget",
    "ModelConfig",
    "OptimConfig",
    "Regularizer",
    "RegularizerConfig",
    "RunDir",
    "RunDirError",
    "RunResult",
    "SparsityProblem",
    "TrainingDiverged",
    "build_model",
    "linear_bound",
    "load_checkpoint",
    "load_config",
    "load_data",
    "load_trained_model",
    "preset",
    "save_checkpoint",
    "train",
]
