"""Synthetic benchmarks of mechanism-sparsity regularisation (reference spec §1).

Every benchmark draws latents z from a sparse latent mechanism, maps them through a random
injective mixing f (``mechsparse.data.mixing``), standardises f(z) per coordinate and adds
observation noise: x = (f(z) - μ_train) / σ_train + 0.01 ε, ε ~ N(0, I).

Families (d_z = 10, d_x = 20 by default; ω_i = (i + 3) / π and φ_i = i for latent i):

* ``action_sparsity_*`` (T = 1, continuous auxiliary variable): a ~ U(-2, 2)^{d_a},
  z_i | a ~ N(μ_i(a), σ_i²(a)) with μ_i(a) = Σ_j G^a_ij sin(ω_i a_j + φ_i), σ_i² = 1e-4.
* ``temporal_sparsity_*`` (T = 2, no auxiliary variable): z⁰ ~ N(0, I),
  z¹_i = z⁰_i + 0.5 δ_i(z⁰) + N(0, σ_i²) with δ_i(z) = Σ_j G^z_ij sin(ω_i z_j + φ_i), σ_i² = 1e-4.
* ``interventions_unknown_targets`` (T = 1, discrete auxiliary variable): see below.

Variants of the two sparsity families (suffix after ``action_sparsity_`` / ``temporal_sparsity_``),
with u = a (actions) or u = z⁰ (temporal) the parent values and d_par their number:

* ``trivial``: μ_i = sin(a_i) / δ_i = sin(z⁰_i); graph = identity.
* ``non_trivial``: the sinusoid mechanism above; default graph, a named graph (``graph=``), a
  user array (``graph=``) or a random graph (``density=``).
* ``non_trivial_k=2``: as non_trivial, but heteroscedastic noise
  σ_i² = (0.1 / d_par) exp(Σ_j G_ij cos(ω_i u_j + φ_i)); default graph.
* ``non_trivial_no_suff_var``: linear mechanism μ = A a / δ = A z⁰ with A = N(0, 1) ⊙ G
  (violates sufficient variability); default graph.
* ``non_trivial_no_graph_crit``: as non_trivial with a block-diagonal graph (violates the
  graphical criterion).

Default graphs: action G^a = I + cyclic sub-diagonal (20 edges); temporal G^z = lower-triangular
with diagonal (55 edges); no_graph_crit: action = all-ones 2 × 2 diagonal blocks (the last block
is 3 × 3 when d_z is odd), temporal = two all-ones diagonal blocks of sizes ⌊d_z/2⌋, ⌈d_z/2⌉.
``graph=`` and ``density=`` are accepted only by the two ``*_non_trivial`` benchmarks (and
``graph=`` by the interventions benchmark); named action graphs set d_a from their shape.

Interventions with unknown targets
----------------------------------
K regimes (a = one-hot regime indicator, shape (n, 1, K), ``aux_type = "discrete"``): regime 0 is
observational, regimes 1..K-1 are (multi-node) interventions. Each sample's regime r is uniform on
{0, .., K-1}. ``graph_a`` is the d_z × K target matrix (column 0 all zero). Mechanisms:

* latent i not targeted by the sample's regime (in particular in regime 0): z_i ~ N(0, 1);
* latent i targeted by regime r: z_i ~ N(m_{r,i}, s_{r,i}²) with |m_{r,i}| ~ U[1, 2.5], a random
  sign and s_{r,i} ~ U[0.5, 1.5] (drawn from the mechanism stream).

Sufficient variability: both natural parameters of latent i's Gaussian (m/s², -1/(2 s²)) change
between the observational regime and each regime targeting i, so the two sufficient statistics
(z_i, z_i²) vary across regimes: with the default targets each latent sees 5 regimes
(the observational one and the 4 regimes that target it), more than the 2 + 1 needed.
Default targets (K = 2 d_z + 1; d_z = 10 → K = 21): regime r = 1..d_z targets {r - 1, r mod d_z};
regime r = d_z + 1..2 d_z targets {r - d_z - 1, (r - d_z - 1 + 3) mod d_z}. Every latent is
targeted by 4 regimes (for d_z >= 4) and no latent's set of regimes is contained in another's, so
C = I: complete disentanglement is expected. ``graph=`` may give any other d_z × K target matrix.

Seed tree
---------
``seed`` is the DATA seed: it is separate from any training seed, so runs with different training
seeds share identical data (needed for UDR). ``np.random.SeedSequence(seed).spawn(6)`` gives:

=====  ================  ==========================================================================
child  stream            draws (in this order)
=====  ================  ==========================================================================
0      ``mechanism``     A = N(0, 1) (d_z × d_par) of the no_suff_var variants; for interventions
                         |m| ~ U[1, 2.5], sign, s ~ U[0.5, 1.5], each of shape (K, d_z)
1      ``mixing``        W1, W2, W3, W4 of f
2      ``graph_repair``  one parent per parent-less latent of a random action graph
3      ``train``         a (actions) / z⁰ / regimes, latent noise, observation noise
4      ``valid``         same as train
5      ``test``          same as train
=====  ================  ==========================================================================

Random graphs themselves (``density=p``) are drawn outside the tree, exactly as the reference:
``np.random.default_rng(45321 + seed).binomial(1, P)`` (so edge counts match the reference logs).
Because the mixing stream is separate from the mechanism stream, f depends only on (seed, d_z, d_x)
and is shared by all benchmarks built with the same seed.

Deviations from the reference
-----------------------------
1. The actions of the valid and test splits are drawn independently (split streams); the reference
   reuses the first 100,000 training actions for both (valid/test leakage, spec §7.2).
2. Every split is standardised with the TRAINING split's per-coordinate mean and std of f(z)
   (over all time steps); the reference uses each split's own statistics.
3. Everything is generated in float64 numpy on the CPU and x, z, a are then cast to float32, so
   the data never depend on the device (the reference evaluates f in float32 torch, on CUDA if
   available). Two shortcuts keep 1M samples under 3 s on one core without changing the data
   beyond float64 rounding: the sinusoids sin(ω_i u_j + φ_i) are evaluated by angle addition
   (they agree with ``np.sin`` to ~1e-14, see ``_sinusoid_sums``), and the two small noise
   terms (transition noise, std 0.01, and observation noise) are drawn in float32, whose
   rounding is far below the float32 resolution in which z and x are stored.
4. All randomness comes from the documented seed tree above (the reference uses fixed seeds
   265542 / 1 / 2 / 3 and its data do not depend on ``--seed``). Split sizes are
   n_valid = round(n_samples · p_valid), n_test = round(n_samples · p_test) and
   n_train = the rest, so the three add up to n_samples.
5. Random action graphs get at least one parent per latent: every parent-less latent receives one
   parent drawn uniformly (graph_repair stream); the repaired rows are listed in
   ``params["repaired_rows"]``. The reference leaves such latents as pure N(0, 1e-4) noise, a
   factor that no method can recover.
6. The interventions benchmark is new (not in the reference).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mechsparse._validation import check_choice, check_positive_int
from mechsparse.data.graphs import (
    block_diagonal_graph,
    check_action_graph,
    check_density,
    check_intervention_targets,
    check_temporal_graph,
    default_action_graph,
    default_intervention_targets,
    default_temporal_graph,
    ensure_parent,
    graph_kind,
    identity_graph,
    list_graphs,
    named_graph,
    random_graph,
)
from mechsparse.data.mixing import MixingMLP, make_mixing

__all__ = [
    "ACTION_RANGE",
    "LATENT_NOISE_VAR",
    "OBS_NOISE_STD",
    "SEED_STREAMS",
    "SPLIT_NAMES",
    "TEMPORAL_STEP",
    "Benchmark",
    "Split",
    "data_streams",
    "list_benchmarks",
    "load_benchmark",
]

SPLIT_NAMES: tuple[str, ...] = ("train", "valid", "test")
SEED_STREAMS: tuple[str, ...] = ("mechanism", "mixing", "graph_repair", *SPLIT_NAMES)
LATENT_NOISE_VAR = 1e-4
"""Variance of the latent transition noise (homoscedastic variants)."""
OBS_NOISE_STD = 0.01
"""Std of the observation noise added after standardisation."""
TEMPORAL_STEP = 0.5
"""z¹ = z⁰ + TEMPORAL_STEP · δ(z⁰) + noise (the reference's "lr")."""
ACTION_RANGE = 2.0
"""Actions are drawn from U(-ACTION_RANGE, ACTION_RANGE)."""

_CHUNK_ROWS = 65_536  # rows per chunk of the standardisation passes
_SINUSOID_CHUNK_ROWS = 16_384  # rows per chunk of the sinusoid mechanisms (fits in cache)


# --------------------------------------------------------------------------------------------
# Containers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Split:
    """One split (train, valid or test) of a benchmark.

    Attributes:
        x: observations, shape (n, T, d_x), float32.
        z: ground-truth latents, shape (n, T, d_z), float32 (for evaluation only); None for
            data without ground truth (a user's own data).
        a: auxiliary variables, shape (n, T, d_a), float32, or None (temporal benchmarks).
            a[:, t] acts on the latents of frame t (the paper's a^{t-1} → z^t, re-indexed);
            for discrete auxiliary variables a is a one-hot regime indicator.
    """

    x: np.ndarray
    z: np.ndarray | None
    a: np.ndarray | None = None

    def __post_init__(self) -> None:
        for key in ("x", "z", "a"):
            if key != "x" and getattr(self, key) is None:
                continue
            value = getattr(self, key)
            if not isinstance(value, np.ndarray) or value.ndim != 3:
                shape = getattr(value, "shape", type(value).__name__)
                raise ValueError(f"Split.{key} must be a 3-D array (n, T, dim); got {shape}.")
            if value.shape[:2] != self.x.shape[:2]:
                raise ValueError(
                    f"Split.{key} must have the same (n, T) as x {self.x.shape[:2]}; "
                    f"got {value.shape[:2]}."
                )

    @property
    def n(self) -> int:
        """Number of examples (sequences)."""
        return int(self.x.shape[0])

    @property
    def T(self) -> int:
        """Number of time steps per example (1 for action data, 2 for temporal data)."""
        return int(self.x.shape[1])


@dataclass(frozen=True, eq=False)
class Benchmark:
    """A generated benchmark: three splits and the ground-truth graphs.

    Attributes:
        name: registered benchmark name (see ``list_benchmarks``).
        train: training split.
        valid: validation split.
        test: test split.
        graph_z: G^z, shape (d_z, d_z), int64 {0,1}, rows = children z^t_i, columns = parents
            z^{t-1}_j; None for benchmarks without temporal dependencies.
        graph_a: G^a, shape (d_z, d_a), int64 {0,1}, rows = children z_i, columns = auxiliary
            variables a_j (for interventions: the target matrix); None for temporal benchmarks.
        aux_type: "continuous", "discrete" (one-hot regimes) or None.
        params: JSON-serialisable record of every parameter that made the benchmark.
    """

    name: str
    train: Split
    valid: Split
    test: Split
    graph_z: np.ndarray | None
    graph_a: np.ndarray | None
    aux_type: str | None
    params: dict[str, Any] = field(default_factory=dict)

    def split(self, name: str) -> Split:
        """Return the split called ``name`` ("train", "valid" or "test")."""
        check_choice(name, "split", SPLIT_NAMES)
        return getattr(self, name)

    @property
    def d_z(self) -> int:
        """Number of latents."""
        if self.train.z is not None:
            return int(self.train.z.shape[2])
        for graph in (self.graph_z, self.graph_a):
            if graph is not None:
                return int(graph.shape[0])
        raise ValueError(f"{self.name!r} has no ground truth: its number of latents is unknown.")

    @property
    def d_x(self) -> int:
        """Observation dimension."""
        return int(self.train.x.shape[2])

    @property
    def d_a(self) -> int:
        """Auxiliary-variable dimension (number of regimes K for discrete ones); 0 if none."""
        return 0 if self.train.a is None else int(self.train.a.shape[2])

    @property
    def T(self) -> int:
        """Time steps per example."""
        return self.train.T

    @property
    def n_edges_z(self) -> int:
        """Number of edges of G^z (0 if none)."""
        return 0 if self.graph_z is None else int(self.graph_z.sum())

    @property
    def n_edges_a(self) -> int:
        """Number of edges of G^a (0 if none)."""
        return 0 if self.graph_a is None else int(self.graph_a.sum())

    @property
    def description(self) -> str:
        """One-paragraph description from the benchmark registry."""
        spec = _REGISTRY.get(self.name)
        return "" if spec is None else spec.description


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    family: str  # "action" | "temporal" | "interventions"
    variant: str  # "trivial" | "non_trivial" | "k=2" | "no_suff_var" | "no_graph_crit" | ...
    description: str

    @property
    def accepts_graph(self) -> bool:
        return self.variant == "non_trivial" or self.family == "interventions"

    @property
    def accepts_density(self) -> bool:
        return self.variant == "non_trivial"


_VARIANT_SUFFIX = {
    "trivial": "trivial",
    "non_trivial": "non_trivial",
    "k=2": "non_trivial_k=2",
    "no_suff_var": "non_trivial_no_suff_var",
    "no_graph_crit": "non_trivial_no_graph_crit",
}

_DESCRIPTIONS = {
    ("action", "trivial"): "Action sparsity, T = 1: z_i = sin(a_i) + N(0, 1e-4) with "
    "a ~ U(-2, 2)^d_z; G^a = I (paper Sec. 8.1). Complete disentanglement expected.",
    ("action", "non_trivial"): "Action sparsity, T = 1: z_i = Σ_j G^a_ij sin(ω_i a_j + φ_i) + "
    "N(0, 1e-4); default G^a = I + cyclic sub-diagonal (20 edges, C = I), or a named / random "
    "graph (paper Sec. 8.1-8.2).",
    ("action", "k=2"): "Action sparsity with heteroscedastic noise σ_i² = (0.1/d_a) "
    "exp(Σ_j G^a_ij cos(ω_i a_j + φ_i)), default G^a; both mean and variance depend on a.",
    ("action", "no_suff_var"): "Action sparsity with a linear mechanism z = A a + noise, "
    "A = N(0,1) ⊙ G^a (default graph): violates sufficient variability, so the theory does not "
    "guarantee disentanglement.",
    ("action", "no_graph_crit"): "Action sparsity with G^a = all-ones 2×2 diagonal blocks: "
    "violates the graphical criterion; the latents of each pair may stay entangled.",
    ("temporal", "trivial"): "Temporal sparsity, T = 2: z⁰ ~ N(0, I), z¹_i = z⁰_i + "
    "0.5 sin(z⁰_i) + N(0, 1e-4); G^z = I (paper Sec. 8.1).",
    ("temporal", "non_trivial"): "Temporal sparsity, T = 2: z¹_i = z⁰_i + 0.5 Σ_j G^z_ij "
    "sin(ω_i z⁰_j + φ_i) + N(0, 1e-4); default G^z lower-triangular (55 edges, C = I), or a "
    "named / random graph (paper Sec. 8.1-8.2).",
    ("temporal", "k=2"): "Temporal sparsity with heteroscedastic noise σ_i² = (0.1/d_z) "
    "exp(Σ_j G^z_ij cos(ω_i z⁰_j + φ_i)) (heavy-tailed for the last latents), lower-triangular "
    "G^z.",
    ("temporal", "no_suff_var"): "Temporal sparsity with a linear transition z¹ = z⁰ + 0.5 A z⁰ "
    "+ noise, A = N(0,1) ⊙ G^z (lower-triangular): violates sufficient variability.",
    ("temporal", "no_graph_crit"): "Temporal sparsity with G^z = two all-ones diagonal blocks: "
    "violates the graphical criterion; each block may stay entangled.",
}


def _build_registry() -> dict[str, _Spec]:
    registry = {
        f"{family}_sparsity_{suffix}": _Spec(family, variant, _DESCRIPTIONS[(family, variant)])
        for family in ("action", "temporal")
        for variant, suffix in _VARIANT_SUFFIX.items()
    }
    registry["interventions_unknown_targets"] = _Spec(
        "interventions",
        "interventions",
        "Interventions with unknown targets, T = 1: a one-hot regime among K = 2 d_z + 1 "
        "(observational + 2 d_z two-target interventions); targeted latents get a shifted and "
        "rescaled Gaussian, others N(0, 1). Every latent is targeted by 4 regimes and C = I.",
    )
    return registry


_REGISTRY: dict[str, _Spec] = _build_registry()


def list_benchmarks() -> list[str]:
    """Names of all registered benchmarks, sorted."""
    return sorted(_REGISTRY)


# --------------------------------------------------------------------------------------------
# Argument checking and graph resolution
# --------------------------------------------------------------------------------------------


def _split_sizes(n_samples: int, splits: object) -> tuple[list[float], dict[str, int]]:
    """Validate the split proportions and return them with the split sizes."""
    try:
        props = [float(p) for p in splits]  # type: ignore[attr-defined]
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"splits must be three floats (train, valid, test); got {splits!r}."
        ) from err
    if len(props) != 3:
        raise ValueError(f"splits must have 3 entries (train, valid, test); got {len(props)}.")
    if not all(np.isfinite(p) and p > 0 for p in props):
        raise ValueError(f"every entry of splits must be a positive number; got {props}.")
    if abs(sum(props) - 1.0) > 1e-6:
        raise ValueError(f"splits must sum to 1; got {props} (sum {sum(props):.6g}).")
    n_valid = round(n_samples * props[1])
    n_test = round(n_samples * props[2])
    sizes = {"train": n_samples - n_valid - n_test, "valid": n_valid, "test": n_test}
    if sizes["train"] < 2 or n_valid < 1 or n_test < 1:
        raise ValueError(
            f"n_samples={n_samples} is too small for splits={tuple(props)}: it gives "
            f"n_train={sizes['train']}, n_valid={n_valid}, n_test={n_test}; every split needs at "
            "least 1 example and the training split at least 2."
        )
    return props, sizes


def _check_d_a(d_a: int | None, expected: int, why: str) -> int:
    if d_a is not None and d_a != expected:
        raise ValueError(f"d_a must be {expected} ({why}); got d_a={d_a}.")
    return expected


def _named(graph: str, kind: str, name: str) -> np.ndarray:
    if graph not in list_graphs():
        raise ValueError(f"unknown graph name {graph!r}; expected one of {list_graphs(kind)}.")
    if graph_kind(graph) != kind:
        raise ValueError(
            f"graph {graph!r} is a {graph_kind(graph)} graph but benchmark {name!r} needs a "
            f"{kind} graph; expected one of {list_graphs(kind)}."
        )
    return named_graph(graph)


def _check_rows(graph: np.ndarray, d_z: int, label: str) -> None:
    if graph.ndim == 2 and graph.shape[0] != d_z:
        raise ValueError(
            f"graph {label} has {graph.shape[0]} rows (latents) but d_z={d_z}; pass "
            f"d_z={graph.shape[0]} or a graph with {d_z} rows."
        )


def _resolve_graph(
    name: str,
    spec: _Spec,
    graph: str | np.ndarray | None,
    density: float | None,
    *,
    d_z: int,
    d_a: int | None,
    seed: int,
    repair_rng: np.random.Generator,
) -> tuple[np.ndarray, int | None, dict[str, Any]]:
    """Return (ground-truth graph, effective d_a, record for params)."""
    if graph is not None and density is not None:
        raise ValueError("pass either graph= or density=, not both.")
    if density is not None:
        density = check_density(density)
    allowed = [n for n, s in _REGISTRY.items() if s.accepts_graph]
    if graph is not None and not spec.accepts_graph:
        raise ValueError(
            f"benchmark {name!r} has a fixed ground-truth graph; graph= is accepted only by "
            f"{sorted(allowed)}."
        )
    if density is not None and not spec.accepts_density:
        allowed = [n for n, s in _REGISTRY.items() if s.accepts_density]
        raise ValueError(
            f"benchmark {name!r} has a fixed ground-truth graph; density= is accepted only by "
            f"{sorted(allowed)}."
        )
    record: dict[str, Any] = {"graph": None, "graph_source": "default", "density": None}
    if isinstance(graph, str):
        record.update(graph=graph, graph_source="named")
    elif graph is not None:
        record["graph_source"] = "user"  # record["graph"] is set once the array is validated
    elif density is not None:
        record.update(density=float(density), graph_source="random")

    if spec.family == "temporal":
        if d_a is not None:
            raise ValueError(f"d_a is not used by temporal benchmarks; got d_a={d_a} for {name!r}.")
        if isinstance(graph, str):
            matrix = _named(graph, "temporal", name)
            _check_rows(matrix, d_z, repr(graph))
            return check_temporal_graph(matrix, "graph", d_z), None, record
        if graph is not None:
            return check_temporal_graph(graph, "graph", d_z), None, record
        if density is not None:
            return random_graph("temporal", density, seed, d_z), None, record
        defaults: dict[str, Callable[[], np.ndarray]] = {
            "trivial": lambda: identity_graph(d_z),
            "no_graph_crit": lambda: block_diagonal_graph([d_z // 2, d_z - d_z // 2]),
        }
        if spec.variant == "no_graph_crit" and d_z < 2:
            raise ValueError(f"{name!r} needs d_z >= 2; got d_z={d_z}.")
        return defaults.get(spec.variant, lambda: default_temporal_graph(d_z))(), None, record

    if spec.family == "interventions":
        if density is not None:
            raise ValueError(f"density= is not supported by {name!r}; pass graph= instead.")
        if isinstance(graph, str):
            raise ValueError(
                f"{name!r} takes a target matrix (d_z, K) as graph=, not a graph name; "
                f"got {graph!r}."
            )
        if graph is not None:
            targets = check_intervention_targets(graph, "graph", d_z)
            k = _check_d_a(d_a, targets.shape[1], "the number of regimes K = graph.shape[1]")
            return targets, k, record
        if d_z < 3:
            raise ValueError(
                f"the default targets of {name!r} need d_z >= 3 (for d_z = 2 both latents share "
                f"all regimes); got d_z={d_z}. Pass graph= with your own target matrix."
            )
        k = _check_d_a(d_a, 2 * d_z + 1, "the default design has K = 2 d_z + 1 regimes")
        return default_intervention_targets(d_z), k, record

    # action family
    if isinstance(graph, str):
        matrix = _named(graph, "action", name)
        _check_rows(matrix, d_z, repr(graph))
        d_a = _check_d_a(d_a, matrix.shape[1], f"graph {graph!r} has {matrix.shape[1]} columns")
        return matrix, d_a, record
    if graph is not None:
        matrix = check_action_graph(graph, "graph", d_z, d_a)
        return matrix, matrix.shape[1], record
    if density is not None:
        d_a = d_z if d_a is None else check_positive_int(d_a, "d_a", minimum=1)
        matrix, repaired = ensure_parent(
            random_graph("action", density, seed, d_z, d_a), repair_rng
        )
        record["repaired_rows"] = repaired
        return matrix, d_a, record
    d_a = _check_d_a(d_a, d_z, f"the graph of {name!r} is square")
    if spec.variant == "trivial":
        return identity_graph(d_z), d_a, record
    if spec.variant == "no_graph_crit":
        if d_z < 2:
            raise ValueError(f"{name!r} needs d_z >= 2; got d_z={d_z}.")
        sizes = [2] * (d_z // 2)
        sizes[-1] += d_z % 2  # odd d_z: the last block is 3 × 3
        return block_diagonal_graph(sizes), d_a, record
    return default_action_graph(d_z), d_a, record


# --------------------------------------------------------------------------------------------
# Mechanisms (all vectorised over samples; loops run over row chunks and the d_z children)
# --------------------------------------------------------------------------------------------


def data_streams(seed: int) -> dict[str, np.random.Generator]:
    """The generators of the data seed tree (see the module docstring), keyed by stream name."""
    children = np.random.SeedSequence(seed).spawn(len(SEED_STREAMS))
    return {
        name: np.random.default_rng(child)
        for name, child in zip(SEED_STREAMS, children, strict=True)
    }


def _sinusoid_sums(
    u: np.ndarray, graph: np.ndarray, with_cos: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """S_i = Σ_j G_ij sin(ω_i u_j + φ_i) and (optionally) C_i = Σ_j G_ij cos(ω_i u_j + φ_i).

    With ω_i = (i + 3) / π and φ_i = i, ω_i u_j = k θ_j with θ_j = u_j / π and the integer
    k = i + 3. So e^{i k θ} is obtained by repeated rotation (complex multiplication by e^{iθ})
    from one sin and one cos per parent value, instead of one sin per edge and sample, and
    sin(kθ + φ) = sin(kθ) cos φ + cos(kθ) sin φ. The result agrees with a direct ``np.sin``
    evaluation to ~1e-14 (float64 rounding), at a fraction of the cost.

    Args:
        u: parent values (actions a or previous latents z⁰), shape (n, d_par), float64.
        graph: G, shape (d_z, d_par), {0,1}.
        with_cos: also return the cosine sums.

    Returns:
        S of shape (n, d_z) and C of shape (n, d_z) or None.
    """
    d_z = graph.shape[0]
    phase = np.arange(d_z, dtype=np.float64)  # φ_i = i
    weight_cos = graph * np.cos(phase)[:, None]  # (d_z, d_par): G_ij cos φ_i
    weight_sin = graph * np.sin(phase)[:, None]  # (d_z, d_par): G_ij sin φ_i
    sin_sum = np.empty((u.shape[0], d_z))
    cos_sum = np.empty((u.shape[0], d_z)) if with_cos else None
    for start in range(0, u.shape[0], _SINUSOID_CHUNK_ROWS):
        rows = slice(start, start + _SINUSOID_CHUNK_ROWS)
        theta = u[rows] / np.pi  # (chunk, d_par)
        sin_1, cos_1 = np.sin(theta), np.cos(theta)
        sin_k, cos_k = sin_1.copy(), cos_1.copy()  # k = 1
        sin_next, scratch = np.empty_like(theta), np.empty_like(theta)
        for k in range(2, d_z + 3):  # rotate: e^{ikθ} = e^{i(k-1)θ} e^{iθ}
            np.multiply(sin_k, cos_1, out=sin_next)
            np.multiply(cos_k, sin_1, out=scratch)
            sin_next += scratch
            np.multiply(sin_k, sin_1, out=scratch)
            cos_k *= cos_1
            cos_k -= scratch
            sin_k, sin_next = sin_next, sin_k
            if k < 3:
                continue
            i = k - 3  # the child whose frequency is ω_i = k / π
            sin_sum[rows, i] = sin_k @ weight_cos[i] + cos_k @ weight_sin[i]
            if cos_sum is not None:
                cos_sum[rows, i] = cos_k @ weight_cos[i] - sin_k @ weight_sin[i]
    return sin_sum, cos_sum


def _mean_and_std(
    variant: str, u: np.ndarray, graph: np.ndarray, coef: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | float]:
    """Mechanism output m(u) (μ for actions, δ for temporal data) and the noise std.

    Args:
        variant: benchmark variant.
        u: parent values, shape (n, d_par).
        graph: G, shape (d_z, d_par).
        coef: A = N(0,1) ⊙ G for the no_suff_var variants, else None.

    Returns:
        (m(u) of shape (n, d_z), noise std: a float or an (n, d_z) array).
    """
    noise_std = float(np.sqrt(LATENT_NOISE_VAR))
    if variant == "trivial":
        return np.sin(u), noise_std
    if variant == "no_suff_var":
        return u @ coef.T, noise_std  # type: ignore[union-attr]
    if variant == "k=2":
        sin_sum, cos_sum = _sinusoid_sums(u, graph, with_cos=True)
        # σ_i² = (0.1 / d_par) exp(C_i)  ⇒  σ_i = sqrt(0.1 / d_par) exp(C_i / 2)
        cos_sum *= 0.5  # type: ignore[operator]
        np.exp(cos_sum, out=cos_sum)
        cos_sum *= np.sqrt(0.1 / graph.shape[1])  # type: ignore[operator]
        return sin_sum, cos_sum  # type: ignore[return-value]
    return _sinusoid_sums(u, graph)[0], noise_std


def _add_noise(
    mean: np.ndarray,
    std: np.ndarray | float,
    rng: np.random.Generator,
    *,
    out: np.ndarray | None = None,
    dtype: type = np.float32,
) -> np.ndarray:
    """mean + std · ε with ε ~ N(0, I) of the shape of ``mean``, float64 result.

    ε is drawn in ``dtype``: float32 for the small transition noise (its rounding, relative
    1e-7 of a 0.01-scale term, is far below the float32 resolution of the stored latents),
    float64 when the noise is the signal itself (interventions).
    """
    noise = rng.standard_normal(mean.shape, dtype=dtype)
    if out is None:
        out = np.empty(mean.shape)
    np.multiply(noise, std, out=out)
    out += mean
    return out


@dataclass(frozen=True)
class _Mechanism:
    """Everything needed to sample the latents of one split."""

    family: str
    variant: str
    graph: np.ndarray
    coef: np.ndarray | None = None  # A of no_suff_var
    means: np.ndarray | None = None  # (K, d_z) intervention means m_{r,i}
    scales: np.ndarray | None = None  # (K, d_z) intervention stds s_{r,i}

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        """Draw z (n, T, d_z) float64 and a (n, T, d_a) float32 or None."""
        if self.family == "action":
            actions = rng.uniform(-ACTION_RANGE, ACTION_RANGE, size=(n, self.graph.shape[1]))
            mean, std = _mean_and_std(self.variant, actions, self.graph, self.coef)
            z = _add_noise(mean, std, rng)
            return z[:, None, :], actions.astype(np.float32)[:, None, :]
        if self.family == "temporal":
            z0 = rng.standard_normal((n, self.graph.shape[0]))
            delta, std = _mean_and_std(self.variant, z0, self.graph, self.coef)
            delta *= TEMPORAL_STEP
            delta += z0  # μ(z⁰) = z⁰ + 0.5 δ(z⁰)
            z = np.empty((n, 2, self.graph.shape[0]))  # (n, T = 2, d_z)
            z[:, 0] = z0
            _add_noise(delta, std, rng, out=z[:, 1])
            return z, None
        regimes = rng.integers(0, self.graph.shape[1], size=n)
        means, scales = self.means[regimes], self.scales[regimes]  # type: ignore[index]
        z = _add_noise(means, scales, rng, dtype=np.float64)
        one_hot = np.eye(self.graph.shape[1], dtype=np.float32)[regimes]  # (n, K)
        return z[:, None, :], one_hot[:, None, :]


def _make_mechanism(spec: _Spec, graph: np.ndarray, rng: np.random.Generator) -> _Mechanism:
    """Draw the mechanism parameters from the mechanism stream."""
    if spec.variant == "no_suff_var":
        return _Mechanism(
            spec.family, spec.variant, graph, coef=rng.standard_normal(graph.shape) * graph
        )
    if spec.family == "interventions":
        shape = graph.T.shape  # (K, d_z)
        magnitude = rng.uniform(1.0, 2.5, size=shape)
        sign = 2.0 * rng.integers(0, 2, size=shape) - 1.0
        scale = rng.uniform(0.5, 1.5, size=shape)
        targeted = graph.T.astype(bool)
        means = np.where(targeted, sign * magnitude, 0.0)
        scales = np.where(targeted, scale, 1.0)
        return _Mechanism(spec.family, spec.variant, graph, means=means, scales=scales)
    return _Mechanism(spec.family, spec.variant, graph)


def _column_stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and (population) std of ``values`` (m, d), two passes over row chunks."""
    total = np.zeros(values.shape[1])
    for start in range(0, values.shape[0], _CHUNK_ROWS):
        total += values[start : start + _CHUNK_ROWS].sum(axis=0)
    mean = total / values.shape[0]
    squares = np.zeros(values.shape[1])
    for start in range(0, values.shape[0], _CHUNK_ROWS):
        centred = values[start : start + _CHUNK_ROWS] - mean
        squares += np.einsum("ij,ij->j", centred, centred)
    return mean, np.sqrt(squares / values.shape[0])


def _observe(
    clean: np.ndarray, loc: np.ndarray, scale: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """x = (f(z) - loc) / scale + 0.01 ε, computed in chunks, returned as float32.

    Args:
        clean: f(z), shape (n, T, d_x), float64.
        loc: per-coordinate training mean, shape (d_x,).
        scale: per-coordinate training std, shape (d_x,).
        rng: split stream (draws the float32 observation noise).
    """
    x = np.empty(clean.shape, dtype=np.float32)
    flat_x = x.reshape(-1, x.shape[-1])  # (n T, d_x) view
    flat_clean = clean.reshape(-1, clean.shape[-1])
    noise_std = np.float32(OBS_NOISE_STD)
    for start in range(0, flat_x.shape[0], _CHUNK_ROWS):
        rows = slice(start, start + _CHUNK_ROWS)
        rng.standard_normal(dtype=np.float32, out=flat_x[rows])
        flat_x[rows] *= noise_std
        flat_x[rows] += (flat_clean[rows] - loc) / scale
    return x


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def load_benchmark(
    name: str,
    *,
    n_samples: int = 1_000_000,
    seed: int = 0,
    graph: str | np.ndarray | None = None,
    density: float | None = None,
    d_z: int = 10,
    d_x: int = 20,
    d_a: int | None = None,
    splits: tuple[float, float, float] = (0.8, 0.1, 0.1),
) -> Benchmark:
    """Generate a registered benchmark (see the module docstring for the processes).

    Args:
        name: one of ``list_benchmarks()``.
        n_samples: total number of examples over the three splits (sequences for T = 2).
        seed: data seed (root of the seed tree), a non-negative integer.
        graph: a named graph (``list_graphs()``) or a {0,1} array: G^a (d_z, d_a) for
            ``action_sparsity_non_trivial`` (sets d_a), G^z (d_z, d_z) with an all-ones diagonal
            for ``temporal_sparsity_non_trivial``, a target matrix (d_z, K) with an empty
            column 0 for ``interventions_unknown_targets``. Not accepted by other benchmarks.
        density: draw a random graph with edge probability p in (0, 1] (``*_non_trivial`` only).
        d_z: number of latents.
        d_x: observation dimension (d_x >= d_z).
        d_a: number of auxiliary variables; None = implied by the benchmark and graph (d_z for
            action benchmarks, the number of graph columns for named/user graphs, K = 2 d_z + 1
            for interventions). Not used by temporal benchmarks.
        splits: (train, valid, test) proportions, positive and summing to 1.

    Returns:
        The Benchmark (x, z, a as float32; z for evaluation only).

    Raises:
        ValueError / TypeError: for an unknown name (the message lists the valid names) or any
            invalid argument or combination of arguments.
    """
    check_choice(name, "benchmark name", list(_REGISTRY))
    spec = _REGISTRY[name]
    n_samples = check_positive_int(n_samples, "n_samples", minimum=3)
    seed = check_positive_int(seed, "seed", minimum=0)
    d_z = check_positive_int(d_z, "d_z", minimum=1)
    d_x = check_positive_int(d_x, "d_x", minimum=1)
    if d_x < d_z:
        raise ValueError(
            f"d_x must be >= d_z (the mixing must be injective); got d_x={d_x}, d_z={d_z}."
        )
    if d_a is not None:
        d_a = check_positive_int(d_a, "d_a", minimum=1)
    props, sizes = _split_sizes(n_samples, splits)

    streams = data_streams(seed)
    matrix, d_a, record = _resolve_graph(
        name, spec, graph, density, d_z=d_z, d_a=d_a, seed=seed, repair_rng=streams["graph_repair"]
    )
    if record["graph_source"] == "user":
        record["graph"] = matrix.tolist()
    mechanism = _make_mechanism(spec, matrix, streams["mechanism"])
    mixing: MixingMLP = make_mixing(d_z, d_x, streams["mixing"])

    out: dict[str, Split] = {}
    loc = scale = None
    for split in SPLIT_NAMES:  # train first: its statistics standardise every split
        rng = streams[split]
        z, a = mechanism.sample(sizes[split], rng)
        clean = mixing(z)  # (n, T, d_x) float64
        if loc is None:
            loc, scale = _column_stats(clean.reshape(-1, d_x))
            if not np.all(scale > 0):
                raise ValueError("f(z) is constant along some coordinate; cannot standardise.")
        x = _observe(clean, loc, scale, rng)
        del clean
        out[split] = Split(x=x, z=z.astype(np.float32), a=a)

    if spec.family == "temporal":
        graph_z, graph_a, aux_type, aux_names = matrix, None, None, None
    elif spec.family == "action":
        graph_z, graph_a, aux_type = None, matrix, "continuous"
        aux_names = [f"a_{j}" for j in range(matrix.shape[1])]
    else:
        graph_z, graph_a, aux_type = None, matrix, "discrete"
        aux_names = ["observational"] + [f"regime_{r}" for r in range(1, matrix.shape[1])]
    params: dict[str, Any] = {
        "name": name,
        "family": spec.family,
        "variant": spec.variant,
        "n_samples": n_samples,
        "seed": seed,
        **record,
        "d_z": d_z,
        "d_x": d_x,
        "d_a": d_a,
        "splits": props,
        "n_train": sizes["train"],
        "n_valid": sizes["valid"],
        "n_test": sizes["test"],
        "aux_names": aux_names,
    }
    return Benchmark(
        name=name,
        train=out["train"],
        valid=out["valid"],
        test=out["test"],
        graph_z=graph_z,
        graph_a=graph_a,
        aux_type=aux_type,
        params=params,
    )
