"""The learned graphs G^z and G^a as text, a CSV edge list or GraphML.

Nodes are the latents ``z0`` … ``z{K-1}`` and the auxiliary variables, named by their columns
(continuous actions) or ``<regime column>=<value>`` (regimes). Every edge goes from a parent to
a child: ``z_j[t-1] → z_i`` for G^z (``graph_z``, rows = children, columns = parents) and
``a_j → z_i`` for G^a (``graph_a``). Its probability is σ(α), the learned edge probability; an
edge is learned when σ(α) > ``threshold`` (0.5, as in the paper's graph metrics).

Pure numpy and the standard library; the inputs are the fitted attributes of
:class:`mechsparse.MechanismSparsityVAE` (``edge_probabilities_z_``, ``edge_probabilities_a_``,
``action_names_``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import numpy as np

from mechsparse._validation import check_array

__all__ = ["GRAPH_FORMATS", "Edge", "edge_list", "graphs_csv", "graphs_graphml", "graphs_text"]

GRAPH_FORMATS = ("text", "csv", "graphml")


@dataclass(frozen=True)
class Edge:
    """One possible edge parent → child of a learned graph.

    Attributes:
        graph: ``graph_z`` or ``graph_a``.
        parent: ``z{j}[t-1]`` for G^z, the auxiliary variable's name for G^a.
        child: ``z{i}``.
        probability: σ(α), in [0, 1].
        learned: probability > threshold.
    """

    graph: str
    parent: str
    child: str
    probability: float
    learned: bool


def _checked(
    probabilities_z: object, probabilities_a: object, action_names: Sequence[str] | None
) -> tuple[np.ndarray | None, np.ndarray | None, list[str]]:
    pz = (
        None if probabilities_z is None else check_array(probabilities_z, "probabilities_z", ndim=2)
    )
    pa = (
        None if probabilities_a is None else check_array(probabilities_a, "probabilities_a", ndim=2)
    )
    if pz is not None and pz.shape[0] != pz.shape[1]:
        raise ValueError(f"probabilities_z must be square (K, K); got {pz.shape}.")
    if pz is not None and pa is not None and pa.shape[0] != pz.shape[0]:
        raise ValueError(
            f"probabilities_a must have K = {pz.shape[0]} rows like probabilities_z; got {pa.shape}."
        )
    names = [f"a{j}" for j in range(pa.shape[1])] if pa is not None else []
    if pa is not None and action_names is not None:
        names = [str(n) for n in action_names]
        if len(names) != pa.shape[1]:
            raise ValueError(
                f"action_names must name the {pa.shape[1]} columns of probabilities_a; got "
                f"{len(names)} names."
            )
    return pz, pa, names


def edge_list(
    probabilities_z: object,
    probabilities_a: object,
    action_names: Sequence[str] | None = None,
    *,
    threshold: float = 0.5,
) -> list[Edge]:
    """Every possible edge of both graphs, G^z first, children in order, then parents.

    Args:
        probabilities_z: (K, K) edge probabilities of G^z, or None.
        probabilities_a: (K, d_a) edge probabilities of G^a, or None.
        action_names: d_a names of G^a's columns (default ``a0`` …).
        threshold: an edge is learned when its probability exceeds this.
    """
    pz, pa, names = _checked(probabilities_z, probabilities_a, action_names)
    edges = []
    for graph, probs, parents in (
        ("graph_z", pz, None if pz is None else [f"z{j}[t-1]" for j in range(pz.shape[1])]),
        ("graph_a", pa, names),
    ):
        if probs is None:
            continue
        for i, j in np.ndindex(*probs.shape):
            p = float(probs[i, j])
            edges.append(Edge(graph, parents[j], f"z{i}", p, p > threshold))
    return edges


def graphs_text(
    probabilities_z: object,
    probabilities_a: object,
    action_names: Sequence[str] | None = None,
    *,
    threshold: float = 0.5,
    list_edges: bool = True,
) -> str:
    """A terminal view: each graph's probability matrix, then (``list_edges``) its learned
    edges one per line."""
    pz, pa, names = _checked(probabilities_z, probabilities_a, action_names)
    if pz is None and pa is None:
        return "the model has no learned graph."
    blocks = []
    for graph, title, probs, parents in (
        ("graph_z", "G^z (graph_z): z^{t-1} → z^t", pz, None),
        ("graph_a", "G^a (graph_a): auxiliary variable → z", pa, names),
    ):
        if probs is None:
            continue
        parents = parents or [f"z{j}" for j in range(probs.shape[1])]
        learned = probs > threshold
        lines = [
            f"{title}: {int(learned.sum())} of {probs.size} possible edges learned "
            f"(σ(α) > {threshold:g}); rows = children, columns = parents",
        ]
        width = max(6, *(len(p) for p in parents))
        label = max(len(f"z{probs.shape[0] - 1}"), 3)
        lines.append(" " * (label + 2) + "".join(f"{p:>{width}}" for p in parents))
        for i, row in enumerate(probs):
            cells = "".join(f"{v:>{width}.2f}" for v in row)
            lines.append(f"  {f'z{i}':<{label}}{cells}")
        if list_edges:
            lines.append("learned edges (parent → child: probability):")
            edges = [
                e
                for e in edge_list(pz, pa, names, threshold=threshold)
                if e.graph == graph and e.learned
            ]
            lines += [f"  {e.parent} → {e.child}: {e.probability:.3f}" for e in edges] or ["  none"]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def graphs_csv(
    probabilities_z: object,
    probabilities_a: object,
    action_names: Sequence[str] | None = None,
    *,
    threshold: float = 0.5,
) -> str:
    """Every possible edge as CSV: ``graph,parent,child,probability,learned`` (learned 0/1)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["graph", "parent", "child", "probability", "learned"])
    for e in edge_list(probabilities_z, probabilities_a, action_names, threshold=threshold):
        writer.writerow([e.graph, e.parent, e.child, f"{e.probability:.6g}", int(e.learned)])
    return buffer.getvalue()


def graphs_graphml(
    probabilities_z: object,
    probabilities_a: object,
    action_names: Sequence[str] | None = None,
    *,
    threshold: float = 0.5,
) -> str:
    """The learned edges as one directed GraphML graph.

    Nodes ``latent:z{i}`` (kind ``latent``) and ``aux:<name>`` (kind ``action``); an edge of
    G^z goes z_j → z_i with ``lag`` 1 (a self-loop for z_i's dependence on its own past), an
    edge of G^a goes a_j → z_i with ``lag`` 0. Edges carry ``graph`` and ``probability``;
    only learned edges (probability > threshold) are written.
    """
    pz, pa, names = _checked(probabilities_z, probabilities_a, action_names)
    k = next((p.shape[0] for p in (pz, pa) if p is not None), 0)  # number of latents
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
        '  <key id="label" for="node" attr.name="label" attr.type="string"/>',
        '  <key id="kind" for="node" attr.name="kind" attr.type="string"/>',
        '  <key id="graph" for="edge" attr.name="graph" attr.type="string"/>',
        '  <key id="probability" for="edge" attr.name="probability" attr.type="double"/>',
        '  <key id="lag" for="edge" attr.name="lag" attr.type="int"/>',
        '  <graph id="mechsparse" edgedefault="directed">',
    ]

    def node(node_id: str, label: str, kind: str) -> str:
        return (
            f'    <node id={quoteattr(node_id)}><data key="label">{_text(label)}</data>'
            f'<data key="kind">{kind}</data></node>'
        )

    out += [node(f"latent:z{i}", f"z{i}", "latent") for i in range(k)]
    out += [node(f"aux:{n}", n, "action") for n in names]
    for graph, probs, source, lag in (
        ("graph_z", pz, lambda j: f"latent:z{j}", 1),
        ("graph_a", pa, lambda j: f"aux:{names[j]}", 0),
    ):
        if probs is None:
            continue
        for i, j in zip(*np.nonzero(probs > threshold), strict=True):
            out.append(
                f"    <edge source={quoteattr(source(j))} target={quoteattr(f'latent:z{i}')}>"
                f'<data key="graph">{graph}</data>'
                f'<data key="probability">{float(probs[i, j]):.6g}</data>'
                f'<data key="lag">{lag}</data></edge>'
            )
    out += ["  </graph>", "</graphml>", ""]
    return "\n".join(out)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
