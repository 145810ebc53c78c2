"""The mixing function f: z → x of the synthetic benchmarks (reference spec §1.3).

f is a bias-free 4-layer leaky-ReLU MLP with widths d_z → d_x → d_x → d_x → d_x (row-vector
convention)::

    f(z) = lrelu(lrelu(lrelu(z W1) W2) W3) W4,    lrelu(u) = max(0.2 u, u).

Each weight matrix is a random (semi-)orthogonal matrix: a N(0, 1) matrix is transposed,
QR-decomposed, and its Q factor transposed back, so W1 (d_z × d_x) has orthonormal rows and
W2..W4 (d_x × d_x) are orthogonal. Each is then scaled by the He gain for leaky ReLU,
sqrt(2 / (1 + 0.2²)), times sqrt(2 / (fan_in + fan_out)): for d_z = 10, d_x = 20 all singular
values of W1 equal 0.35806 and those of W2..W4 equal 0.31009. Because z W1 is injective
(d_z <= d_x, full row rank), leaky ReLU is bijective and W2..W4 are invertible, f is injective.

f is evaluated in float64 numpy, in row chunks, so results never depend on the device.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from mechsparse._validation import check_array

__all__ = ["NEGATIVE_SLOPE", "N_LAYERS", "MixingMLP", "make_mixing", "semi_orthogonal"]

NEGATIVE_SLOPE = 0.2
"""Slope of the leaky ReLU for negative inputs."""

N_LAYERS = 4
"""Number of linear layers of f (leaky ReLU after all but the last)."""

_CHUNK_ROWS = 65_536  # rows per chunk: keeps the (chunk, d_x) temporaries in cache


def semi_orthogonal(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """Random scaled semi-orthogonal weight matrix (row-vector convention, x_out = x_in W).

    Args:
        fan_in: input width, at most ``fan_out``.
        fan_out: output width.
        rng: generator; draws one (fan_in, fan_out) standard normal matrix.

    Returns:
        W, shape (fan_in, fan_out), float64, with all singular values equal to
        sqrt(2 / (1 + 0.2²)) · sqrt(2 / (fan_in + fan_out)).
    """
    if fan_in > fan_out:
        raise ValueError(
            f"fan_in must be <= fan_out for an injective layer; got fan_in={fan_in}, "
            f"fan_out={fan_out}."
        )
    gaussian = rng.standard_normal((fan_in, fan_out))
    q, _ = np.linalg.qr(gaussian.T)  # (fan_out, fan_in), orthonormal columns
    gain = np.sqrt(2.0 / (1.0 + NEGATIVE_SLOPE**2))
    return q.T * (gain * np.sqrt(2.0 / (fan_in + fan_out)))


@dataclass(frozen=True, eq=False)
class MixingMLP:
    """Injective bias-free leaky-ReLU MLP f (the ground-truth decoder of the benchmarks).

    Attributes:
        weights: (W1, ..., W_L); W1 of shape (d_z, d_x), the others (d_x, d_x).
        negative_slope: leaky-ReLU slope applied after every layer but the last.
    """

    weights: tuple[np.ndarray, ...]
    negative_slope: float = NEGATIVE_SLOPE

    @property
    def d_z(self) -> int:
        """Input (latent) dimension."""
        return int(self.weights[0].shape[0])

    @property
    def d_x(self) -> int:
        """Output (observation) dimension."""
        return int(self.weights[-1].shape[1])

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """Apply f to latents.

        Args:
            z: shape (..., d_z); any leading shape, e.g. (n, T, d_z).

        Returns:
            f(z), shape (..., d_x), float64.
        """
        z = check_array(z, "z", dtype=np.float64)
        if z.ndim < 1 or z.shape[-1] != self.d_z:
            raise ValueError(f"z must have shape (..., {self.d_z}); got {z.shape}.")
        flat = z.reshape(-1, self.d_z)  # (m, d_z)
        out = np.empty((flat.shape[0], self.d_x))  # (m, d_x)
        for start in range(0, flat.shape[0], _CHUNK_ROWS):
            h = flat[start : start + _CHUNK_ROWS] @ self.weights[0]
            for weight in self.weights[1:-1]:
                np.maximum(h, self.negative_slope * h, out=h)
                h = h @ weight
            np.maximum(h, self.negative_slope * h, out=h)
            np.matmul(h, self.weights[-1], out=out[start : start + h.shape[0]])
        return out.reshape(*z.shape[:-1], self.d_x)


def make_mixing(d_z: int, d_x: int, rng: np.random.Generator) -> MixingMLP:
    """Draw the random mixing f of the benchmarks.

    Args:
        d_z: latent dimension.
        d_x: observation dimension (= hidden width), d_x >= d_z.
        rng: generator of the "mixing" stream; draws W1, W2, W3, W4 in that order.

    Returns:
        The MixingMLP with widths d_z → d_x → d_x → d_x → d_x.
    """
    if d_x < d_z:
        raise ValueError(f"d_x must be >= d_z for an injective mixing; got d_x={d_x}, d_z={d_z}.")
    widths = [d_z] + [d_x] * N_LAYERS
    weights = tuple(
        semi_orthogonal(fan_in, fan_out, rng) for fan_in, fan_out in itertools.pairwise(widths)
    )
    return MixingMLP(weights=weights)
