"""What every baseline method is: a model with an encoder and a per-example training loss.

A method is an ``nn.Module`` with

* ``encode(x) -> (mean, variance)`` for observations ``(..., d_x)``, the representation the
  metrics score (``mean``, shape ``(..., d_z)``);
* ``loss_terms(x, a, z) -> dict`` of per-example tensors of shape ``(B,)`` for a minibatch of
  sequences ``x`` (B, T, d_x), auxiliary variables ``a`` (B, T, d_a) or None and, for methods
  that are supervised by the truth only, the true latents ``z`` (B, T, d_z). The key ``loss``
  is minimised; the others are logged.

:class:`DataSpec` describes the data a method is asked to fit, so that it can refuse data it
cannot handle with a clear message (:func:`Method.unsupported`) before anything is trained.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

__all__ = ["DataSpec", "Method", "MethodNotApplicable"]


class MethodNotApplicable(ValueError):
    """A method was asked to fit data it cannot handle (e.g. PCL on data without time)."""


@dataclass(frozen=True)
class DataSpec:
    """The shape of the data a method is built for.

    Attributes:
        d_x: observed dimension.
        d_z: number of latents of the model.
        d_a: auxiliary dimension (0: no actions or regimes).
        n_frames: frames T per sequence.
        aux_type: ``"continuous"`` actions, ``"discrete"`` one-hot regimes, or None.
        n_train: number of training sequences (β-TCVAE's minibatch-weighted sampling needs it).
        has_latents: the true latents are known (benchmarks), as ``supervised`` needs.
    """

    d_x: int
    d_z: int
    d_a: int
    n_frames: int
    aux_type: str | None
    n_train: int
    has_latents: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Method:
    """Mixin with the class-level facts of a method; subclasses are also ``nn.Module`` s.

    Attributes:
        name: the method's name in configs and on the command line.
        applies_to: one line saying which data the method handles (shown in errors and docs).
        needs_latents: the loss uses the true latents (``supervised`` only).
        trains: False for methods evaluated at initialisation (``random``).
    """

    name: ClassVar[str]
    applies_to: ClassVar[str] = "any data"
    needs_latents: ClassVar[bool] = False
    trains: ClassVar[bool] = True

    @classmethod
    def unsupported(cls, spec: DataSpec) -> str | None:
        """Why the method cannot fit data of this spec, or None when it can."""
        return None

    @classmethod
    def check_applicable(cls, spec: DataSpec) -> None:
        """Raise :class:`MethodNotApplicable` naming the method and the reason."""
        reason = cls.unsupported(spec)
        if reason is not None:
            raise MethodNotApplicable(
                f"method {cls.name!r} cannot be applied to these data: {reason} "
                f"({cls.name} applies to {cls.applies_to})."
            )

    def loss_terms(
        self,
        x: Tensor,
        a: Tensor | None = None,
        z: Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> dict[str, Tensor]:
        raise NotImplementedError
