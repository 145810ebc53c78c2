"""Ground-truth causal graphs of the synthetic benchmarks (reference spec §1.6–§1.7).

Convention everywhere: rows = children, columns = parents, entries in {0, 1}, dtype int64.

* G^z (``graph_z``), shape (d_z, d_z): entry (i, j) = 1 iff z^{t-1}_j → z^t_i. Temporal graphs
  always contain the diagonal (every latent depends on its own past), as in the reference.
* G^a (``graph_a``), shape (d_z, d_a): entry (i, j) = 1 iff a_j → z_i (actions), or, for the
  interventions benchmark, iff regime j targets z_i (a d_z × K target matrix).

Three sources of graphs:

* the default graphs of the benchmarks (identity, cyclic action graph, lower-triangular temporal
  graph, block-diagonal graphs violating the graphical criterion, intervention targets);
* the named graphs of the reference (``named_graph`` / ``list_graphs``);
* random graphs (``random_graph``), drawn with the reference's exact call so that edge counts match
  the reference logs, plus ``ensure_parent`` which gives every parent-less latent of a random
  action graph one parent (a deliberate deviation: the reference leaves such latents as pure
  noise, a factor no method can recover).
"""

from __future__ import annotations

import numpy as np

from mechsparse._validation import check_binary_graph, check_choice, check_positive_int

__all__ = [
    "GRAPH_KINDS",
    "RANDOM_GRAPH_SEED_OFFSET",
    "block_diagonal_graph",
    "check_action_graph",
    "check_intervention_targets",
    "check_temporal_graph",
    "default_action_graph",
    "default_intervention_targets",
    "default_temporal_graph",
    "ensure_parent",
    "graph_kind",
    "identity_graph",
    "list_graphs",
    "named_graph",
    "random_graph",
]

GRAPH_KINDS: tuple[str, ...] = ("action", "temporal")
"""Kinds of named / random graphs: G^a of action benchmarks or G^z of temporal benchmarks."""

RANDOM_GRAPH_SEED_OFFSET = 45321
"""The reference draws random graphs from ``default_rng(45321 + seed)``."""


def _from_bits(rows: str) -> np.ndarray:
    """Graph from comma-separated bit strings, one per row (column 0 first)."""
    return np.array([[int(c) for c in row] for row in rows.split(",")], dtype=np.int64)


def _blocks(n_blocks: int, size: int) -> str:
    """Bit strings of ``n_blocks`` all-ones diagonal blocks of side ``size``."""
    d = n_blocks * size
    return ",".join(
        "".join("1" if col // size == row // size else "0" for col in range(d)) for row in range(d)
    )


# Named graphs of the reference (§1.6). Those used in the paper are the four ``*_3_easy/hard``.
_NAMED_GRAPHS: dict[str, str] = {
    "graph_action_3_easy": "10000,10000,01000,01000,00100,00100,00010,00010,00001,00001",
    "graph_action_3_hard": "10000,10000,01000,01000,00100,00100,00010,00010,10001,10001",
    "graph_action_3.1_hard": "10000,10000,01010,01010,00100,00100,00010,00010,00001,00001",
    "graph_action_3.2_hard": "10000,10000,01100,01100,00100,00100,00010,00010,10001,10001",
    "graph_action_1": (
        "0101101001,0000000010,0001000110,0000000100,0101100000,"
        "0101100001,0010100000,1001011001,0000000000,0000000100"
    ),
    "graph_action_1.1": (
        "0101101001,0000000010,0001000110,0000000100,0101100000,"
        "0101100001,0010100000,1001011001,0100000000,0000000100"
    ),
    "graph_action_2": _blocks(5, 2),
    "graph_temporal_3_easy": (
        "1100000000,1100000000,0011000000,0011000000,0000110000,"
        "0000110000,0000001100,0000001100,0000000011,0000000011"
    ),
    "graph_temporal_3_hard": (
        "1100000011,1100000011,0011000000,0011000000,0000110000,"
        "0000110000,0000001100,0000001100,1100110011,1100110011"
    ),
    "graph_temporal_3.1_hard": (
        "1100000000,1100000000,0011111100,0011111100,0000110000,"
        "0000110000,0011001100,0011001100,0000000011,0000000011"
    ),
    "graph_temporal_1": (
        "1111111101,1111101110,1111111111,1111111111,1011111111,"
        "1011110011,1111111111,1111111110,1111111111,1111111111"
    ),
    "graph_temporal_2": _blocks(2, 5),
}


def list_graphs(kind: str | None = None) -> list[str]:
    """Names of the registered named graphs.

    Args:
        kind: "action" or "temporal" to list only that kind; None lists all.

    Returns:
        Sorted graph names.
    """
    if kind is not None:
        check_choice(kind, "graph kind", GRAPH_KINDS)
    return sorted(name for name in _NAMED_GRAPHS if kind is None or graph_kind(name) == kind)


def graph_kind(name: str) -> str:
    """Kind of a named graph: "action" (G^a, d_z × d_a) or "temporal" (G^z, d_z × d_z)."""
    check_choice(name, "graph name", list(_NAMED_GRAPHS))
    return "action" if name.startswith("graph_action") else "temporal"


def named_graph(name: str) -> np.ndarray:
    """A named ground-truth graph of the reference (§1.6).

    Args:
        name: one of ``list_graphs()``, e.g. "graph_action_3_easy" (G^a, 10 × 5) or
            "graph_temporal_3_hard" (G^z, 10 × 10).

    Returns:
        A fresh int64 {0,1} array, rows = children z_i, columns = parents.

    Raises:
        ValueError: for an unknown name (the message lists the valid names).
    """
    check_choice(name, "graph name", list(_NAMED_GRAPHS))
    return _from_bits(_NAMED_GRAPHS[name])


def identity_graph(d_z: int) -> np.ndarray:
    """I_{d_z}: the graph of the ``*_trivial`` benchmarks (each latent has only its own parent)."""
    return np.eye(check_positive_int(d_z, "d_z"), dtype=np.int64)


def default_action_graph(d_z: int) -> np.ndarray:
    """Default G^a of the action benchmarks: I + cyclic sub-diagonal, shape (d_z, d_z).

    Row i has ones at columns i and (i - 1) mod d_z (20 edges for d_z = 10, G[0, d_z - 1] = 1).
    """
    d_z = check_positive_int(d_z, "d_z")
    rows = np.arange(d_z)
    graph = np.zeros((d_z, d_z), dtype=np.int64)
    graph[rows, rows] = 1
    graph[rows, (rows - 1) % d_z] = 1
    return graph


def default_temporal_graph(d_z: int) -> np.ndarray:
    """Default G^z of the temporal benchmarks: lower-triangular all-ones including the diagonal.

    Row i has ones in columns 0..i (d_z (d_z + 1) / 2 edges, 55 for d_z = 10).
    """
    return np.tril(np.ones((check_positive_int(d_z, "d_z"),) * 2, dtype=np.int64))


def block_diagonal_graph(block_sizes: list[int] | tuple[int, ...]) -> np.ndarray:
    """Square graph made of all-ones diagonal blocks (violates the graphical criterion).

    Args:
        block_sizes: side of each block, e.g. (2, 2, 2, 2, 2) for the ``no_graph_crit`` action
            graph or (5, 5) for the temporal one.

    Returns:
        int64 array of shape (sum(block_sizes), sum(block_sizes)).
    """
    sizes = [check_positive_int(s, "block size") for s in block_sizes]
    labels = np.repeat(np.arange(len(sizes)), sizes)  # block index of each latent
    return (labels[:, None] == labels[None, :]).astype(np.int64)


def default_intervention_targets(d_z: int) -> np.ndarray:
    """Default target matrix of ``interventions_unknown_targets``, shape (d_z, K), K = 2 d_z + 1.

    Column 0 is the observational regime (no target). Regime r = 1..d_z targets
    {r - 1, r mod d_z}; regime r = d_z + 1..2 d_z targets {r - d_z - 1, (r - d_z - 1 + 3) mod d_z}.
    For d_z >= 4 every latent is targeted by exactly 4 regimes and (for d_z >= 3) no latent's
    target set is contained in another's, so C = I.

    Args:
        d_z: number of latents, at least 3.
    """
    d_z = check_positive_int(d_z, "d_z", minimum=3)
    targets = np.zeros((d_z, 2 * d_z + 1), dtype=np.int64)
    first = np.arange(d_z)  # regimes 1..d_z: consecutive pairs
    targets[first, first + 1] = 1
    targets[(first + 1) % d_z, first + 1] = 1
    second = d_z + 1 + first  # regimes d_z+1..2 d_z: pairs at distance 3
    targets[first, second] = 1
    targets[(first + 3) % d_z, second] = 1
    return targets


def check_density(density: object) -> float:
    """Check an edge probability p in (0, 1] and return it as a float."""
    if isinstance(density, bool) or not isinstance(density, int | float | np.floating):
        raise TypeError(f"density must be a float in (0, 1]; got {density!r}.")
    if not 0.0 < float(density) <= 1.0:
        raise ValueError(f"density must be in (0, 1]; got {density!r}.")
    return float(density)


def random_graph(
    kind: str, density: float, seed: int, d_z: int = 10, d_a: int | None = None
) -> np.ndarray:
    """Random graph drawn exactly as the reference does (§1.7).

    One call ``np.random.default_rng(45321 + seed).binomial(1, P)`` on the full probability
    matrix, with P = min(1, I + p) for temporal graphs (the diagonal is always present) and
    P = p for action graphs. Edge counts therefore match the reference logs (e.g. p = 0.1,
    seed 44: 14 temporal edges, 4 action edges). Action graphs may have parent-less latents;
    ``load_benchmark`` repairs them with ``ensure_parent``.

    Args:
        kind: "temporal" (G^z, (d_z, d_z)) or "action" (G^a, (d_z, d_a)).
        density: edge probability p in (0, 1].
        seed: non-negative integer (the data seed).
        d_z: number of latents.
        d_a: number of actions (action graphs only; default d_z).

    Returns:
        int64 {0,1} array.
    """
    check_choice(kind, "graph kind", GRAPH_KINDS)
    p = check_density(density)
    d_z = check_positive_int(d_z, "d_z")
    seed = check_positive_int(seed, "seed", minimum=0)
    if kind == "temporal":
        if d_a is not None:
            raise ValueError(
                f"d_a is only used for action graphs; got d_a={d_a!r} for kind 'temporal'."
            )
        prob = np.minimum(1.0, np.eye(d_z) + p)
    else:
        d_a = d_z if d_a is None else check_positive_int(d_a, "d_a")
        prob = np.full((d_z, d_a), p)
    rng = np.random.default_rng(RANDOM_GRAPH_SEED_OFFSET + seed)
    return rng.binomial(1, prob).astype(np.int64)


def ensure_parent(graph: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    """Give every latent without a parent one parent drawn uniformly among the columns.

    Args:
        graph: G^a, shape (d_z, d_a), {0,1}.
        rng: generator of the "graph repair" stream; draws one integer per empty row.

    Returns:
        (repaired copy of the graph, sorted indices of the rows that were repaired).
    """
    out = check_binary_graph(graph, "graph").copy()
    empty = np.flatnonzero(out.sum(axis=1) == 0)
    out[empty, rng.integers(0, out.shape[1], size=empty.size)] = 1
    return out, empty.tolist()


def check_temporal_graph(graph: object, name: str = "graph", d_z: int | None = None) -> np.ndarray:
    """Validate a temporal graph G^z: binary, square (d_z, d_z), diagonal all ones.

    Returns:
        The graph as int64.
    """
    g = check_binary_graph(graph, name, shape=(d_z, d_z))
    if g.shape[0] != g.shape[1]:
        raise ValueError(
            f"{name} must be a square temporal graph (d_z, d_z) (rows = children z^t, columns = "
            f"parents z^(t-1)); got shape {g.shape}."
        )
    missing = np.flatnonzero(np.diag(g) == 0)
    if missing.size:
        raise ValueError(
            f"{name} must have an all-ones diagonal (every latent depends on its own past, as in "
            f"the reference); the diagonal is 0 at rows {missing.tolist()}."
        )
    return g


def check_action_graph(
    graph: object, name: str = "graph", d_z: int | None = None, d_a: int | None = None
) -> np.ndarray:
    """Validate an action graph G^a: binary, shape (d_z, d_a).

    Returns:
        The graph as int64.
    """
    return check_binary_graph(graph, name, shape=(d_z, d_a))


def check_intervention_targets(
    graph: object, name: str = "graph", d_z: int | None = None
) -> np.ndarray:
    """Validate a target matrix (d_z, K): binary, K >= 2, column 0 (observational regime) empty.

    Returns:
        The target matrix as int64.
    """
    g = check_binary_graph(graph, name, shape=(d_z, None))
    if g.shape[1] < 2:
        raise ValueError(
            f"{name} must have at least 2 columns (the observational regime 0 and one "
            f"intervention); got shape {g.shape}."
        )
    if g[:, 0].any():
        raise ValueError(
            f"column 0 of {name} is the observational regime and must be all zero; it targets "
            f"latents {np.flatnonzero(g[:, 0]).tolist()}."
        )
    return g
