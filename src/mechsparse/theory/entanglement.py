"""Entanglement pattern C implied by the ground-truth graphs (paper §4.3, Lachapelle et al.).

Mechanism-sparsity regularisation identifies the true latents z up to a permutation, element-wise
maps and, in general, *partial* mixing: a learned latent matched to z_i may still depend on z_j
when C_ij = 1. The pattern is a purely graphical quantity:

* temporal graph G^z (``graph_z``, rows = children z^t_i, columns = parents z^{t-1}_j):
  C^z_ij = 1 iff Pa(i) ⊆ Pa(j) and Ch(i) ⊆ Ch(j);
* auxiliary graph G^a (``graph_a``, rows = children z_i, columns = auxiliary variables a_j):
  C^a_ij = 1 iff Pa^a(i) ⊆ Pa^a(j);
* C = C^z ⊙ C^a (the element-wise product of those given).

The graphical criterion for complete disentanglement is C = I. Everything here is plain numpy.
"""

from __future__ import annotations

import numpy as np

from mechsparse._validation import check_binary_graph

__all__ = ["entangled_groups", "entanglement_graph", "fully_disentangled"]


def _check_graphs(
    graph_z: np.ndarray | None, graph_a: np.ndarray | None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Validate the pair of graphs: at least one, binary, G^z square, same number of latents."""
    if graph_z is None and graph_a is None:
        raise ValueError(
            "entanglement_graph needs at least one graph: pass graph_z (d_z, d_z) and/or "
            "graph_a (d_z, d_a); got neither."
        )
    gz = None if graph_z is None else check_binary_graph(graph_z, "graph_z")
    ga = None if graph_a is None else check_binary_graph(graph_a, "graph_a")
    if gz is not None and gz.shape[0] != gz.shape[1]:
        raise ValueError(
            f"graph_z must be square (d_z, d_z) (rows = children z^t, columns = parents z^(t-1)); "
            f"got shape {gz.shape}."
        )
    if gz is not None and ga is not None and gz.shape[0] != ga.shape[0]:
        raise ValueError(
            "graph_z and graph_a must describe the same number of latents (rows); "
            f"got graph_z with {gz.shape[0]} rows and graph_a with {ga.shape[0]}."
        )
    return gz, ga


def _parents_included(graph: np.ndarray) -> np.ndarray:
    """Boolean (d_z, d_z) matrix S with S_ij = [row i of ``graph`` ⊆ row j of ``graph``].

    Row i ⊆ row j iff no column k has graph_ik = 1 and graph_jk = 0, i.e.
    [G (1 - G)^T]_ij = 0.
    """
    return graph @ (1 - graph).T == 0


def entanglement_graph(
    graph_z: np.ndarray | None = None, graph_a: np.ndarray | None = None
) -> np.ndarray:
    """Entanglement pattern C of the true latents (§4.3).

    Args:
        graph_z: G^z, shape (d_z, d_z), {0,1}; entry (i, j) = 1 iff z^{t-1}_j → z^t_i.
        graph_a: G^a, shape (d_z, d_a), {0,1}; entry (i, j) = 1 iff a_j → z_i.

    Returns:
        C, shape (d_z, d_z), int64 {0,1}: C_ij = 1 iff Pa(i) ⊆ Pa(j) and Ch(i) ⊆ Ch(j) in G^z
        (when given) and Pa^a(i) ⊆ Pa^a(j) in G^a (when given). The diagonal is always 1.

    Raises:
        ValueError: if neither graph is given, a graph is not binary, G^z is not square, or
            the two graphs have different numbers of rows.
    """
    gz, ga = _check_graphs(graph_z, graph_a)
    d_z = (gz if gz is not None else ga).shape[0]
    pattern = np.ones((d_z, d_z), dtype=bool)
    if gz is not None:
        pattern &= _parents_included(gz)  # Pa(i) ⊆ Pa(j)
        pattern &= _parents_included(gz.T)  # Ch(i) ⊆ Ch(j)
    if ga is not None:
        pattern &= _parents_included(ga)  # Pa^a(i) ⊆ Pa^a(j)
    return pattern.astype(np.int64)


def fully_disentangled(
    graph_z: np.ndarray | None = None, graph_a: np.ndarray | None = None
) -> bool:
    """Graphical criterion for complete disentanglement: C == I.

    Args:
        graph_z: G^z, shape (d_z, d_z), or None.
        graph_a: G^a, shape (d_z, d_a), or None.

    Returns:
        True iff the entanglement pattern C is the identity matrix.
    """
    pattern = entanglement_graph(graph_z, graph_a)
    return bool(np.array_equal(pattern, np.eye(pattern.shape[0], dtype=np.int64)))


def entangled_groups(
    graph_z: np.ndarray | None = None, graph_a: np.ndarray | None = None
) -> list[list[int]]:
    """Groups of true latents that may stay mixed with each other.

    The groups are the connected components of the undirected graph C + C^T that have more than
    one member; a latent that is entangled with no other latent is not listed.

    Args:
        graph_z: G^z, shape (d_z, d_z), or None.
        graph_a: G^a, shape (d_z, d_a), or None.

    Returns:
        Sorted lists of latent indices, ordered by their smallest member; [] when C = I.
    """
    pattern = entanglement_graph(graph_z, graph_a).astype(bool)
    reach = pattern | pattern.T | np.eye(pattern.shape[0], dtype=bool)
    # Transitive closure by repeated boolean squaring (at most log2(d_z) + 1 products).
    while True:
        grown = (reach.astype(np.int64) @ reach.astype(np.int64)) > 0
        if np.array_equal(grown, reach):
            break
        reach = grown
    components = np.unique(reach, axis=0)  # one row per component (its membership mask)
    groups = [np.flatnonzero(row).tolist() for row in components if row.sum() > 1]
    return sorted(groups, key=lambda group: group[0])
