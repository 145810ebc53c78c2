"""Identifiability theory: what the ground-truth graphs allow to be recovered (§4.3)."""

from mechsparse.theory.entanglement import entangled_groups, entanglement_graph, fully_disentangled

__all__ = ["entangled_groups", "entanglement_graph", "fully_disentangled"]
