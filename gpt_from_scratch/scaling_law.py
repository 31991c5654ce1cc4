"""Fitting the scaling law L(N) = E + A / N^alpha with NumPy alone.

The loss is linear in (E, A) once alpha is fixed, so the fit runs in two stages:

1. for each alpha on a grid, solve the linear least-squares problem for E and A and keep the alpha
   with the smallest residual sum of squares (this finds the right basin without a starting guess);
2. refine (E, A, alpha) together with damped Gauss-Newton (Levenberg-Marquardt) steps.

The standard errors come from the Jacobian at the optimum: cov = s^2 (J^T J)^-1 with s^2 = RSS / (m - 3)
for m points, the usual asymptotic covariance of nonlinear least squares. With only a few points it is a
rough estimate, so :func:`bootstrap_alpha` also offers the spread of alpha over resampled training seeds.

N is divided by its geometric mean during the fit, which keeps J^T J well conditioned; A is reported for
N in its own units.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from gpt_from_scratch.errors import GPTError

ALPHA_GRID = np.geomspace(0.005, 4.0, 800)
MIN_POINTS = 4  # three parameters, plus at least one degree of freedom for the residual variance


@dataclass
class PowerLawFit:
    """L(N) = E + A / N^alpha with one-sigma standard errors (NaN when they cannot be estimated)."""

    E: float
    A: float
    alpha: float
    E_stderr: float
    A_stderr: float
    alpha_stderr: float
    rss: float  # residual sum of squares
    points: int

    def predict(self, n: np.ndarray | float) -> np.ndarray:
        return self.E + self.A * np.asarray(n, dtype=float) ** -self.alpha

    def to_dict(self) -> dict[str, Any]:
        return {name: (None if isinstance(value, float) and math.isnan(value) else value)
                for name, value in asdict(self).items()}


def fit_power_law(n: np.ndarray | list[float], loss: np.ndarray | list[float]) -> PowerLawFit:
    """Fit L(N) = E + A / N^alpha to losses at sizes N by least squares; see the module docstring."""
    n, loss = _check_points(n, loss)
    scale = float(np.exp(np.mean(np.log(n))))
    x = n / scale

    params = _grid_start(x, loss)
    params = _levenberg_marquardt(x, loss, params)
    e, a, alpha = params
    residuals = loss - _model(x, params)
    rss = float(residuals @ residuals)

    covariance = _covariance(x, params, rss, len(n))
    # A x^-alpha = a (N / scale)^-alpha, so A = a * scale^alpha; the delta method carries the covariance over.
    big_a = a * scale**alpha
    to_raw = np.array([[1.0, 0.0, 0.0],
                       [0.0, scale**alpha, big_a * math.log(scale)],
                       [0.0, 0.0, 1.0]])
    raw_covariance = to_raw @ covariance @ to_raw.T
    stderr = np.sqrt(np.clip(np.diag(raw_covariance), 0.0, None))
    return PowerLawFit(E=float(e), A=float(big_a), alpha=float(alpha), E_stderr=float(stderr[0]),
                       A_stderr=float(stderr[1]), alpha_stderr=float(stderr[2]), rss=rss, points=len(n))


def bootstrap_alpha(n: np.ndarray | list[float], losses: np.ndarray | list[list[float]], rounds: int = 1000,
                    seed: int = 0) -> tuple[float, float]:
    """Return the mean and standard deviation of alpha over fits to resampled seeds.

    ``losses`` is (sizes, seeds): each round draws, for every size independently, one of its seeds' losses
    (with replacement) and fits the law again.
    """
    losses = np.asarray(losses, dtype=float)
    if losses.ndim != 2 or losses.shape[1] < 2:
        raise GPTError(f"a bootstrap over seeds needs at least 2 seeds per size, got losses of shape {losses.shape}")
    rng = np.random.default_rng(seed)
    rows = np.arange(losses.shape[0])
    alphas = [fit_power_law(n, losses[rows, rng.integers(losses.shape[1], size=len(rows))]).alpha
              for _ in range(rounds)]
    return float(np.mean(alphas)), float(np.std(alphas, ddof=1))


# ---------------------------------------------------------------- the two stages


def _check_points(n, loss) -> tuple[np.ndarray, np.ndarray]:
    n = np.asarray(n, dtype=float)
    loss = np.asarray(loss, dtype=float)
    if n.shape != loss.shape or n.ndim != 1:
        raise GPTError(f"sizes and losses must be two lists of the same length, got shapes {n.shape} and {loss.shape}")
    if len(n) < MIN_POINTS:
        raise GPTError(f"fitting E, A and alpha with an error estimate needs at least {MIN_POINTS} model sizes, "
                       f"got {len(n)}; add sizes")
    if not (np.all(np.isfinite(n)) and np.all(n > 0)):
        raise GPTError(f"model sizes must be positive numbers of parameters, got {n.tolist()}")
    if not np.all(np.isfinite(loss)):
        raise GPTError(f"losses must be finite numbers, got {loss.tolist()}; a run diverged")
    return n, loss


def _model(x: np.ndarray, params: np.ndarray) -> np.ndarray:
    e, a, alpha = params
    return e + a * x**-alpha


def _jacobian(x: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Partial derivatives of the model by (E, a, alpha): (m, 3)."""
    _, a, alpha = params
    power = x**-alpha
    return np.stack([np.ones_like(x), power, -a * power * np.log(x)], axis=1)


def _grid_start(x: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Return (E, a, alpha) with the least residual over ALPHA_GRID, E and a solved exactly for each alpha."""
    features = x[None, :] ** -ALPHA_GRID[:, None]  # (grid, m)
    # Simple linear regression of loss on each row of features, all alphas at once.
    feature_mean = features.mean(axis=1, keepdims=True)
    centred = features - feature_mean
    slope = (centred @ (loss - loss.mean())) / np.maximum((centred**2).sum(axis=1), 1e-300)
    intercept = loss.mean() - slope * feature_mean[:, 0]
    residuals = loss[None, :] - intercept[:, None] - slope[:, None] * features
    best = int(np.argmin((residuals**2).sum(axis=1)))
    return np.array([intercept[best], slope[best], ALPHA_GRID[best]])


def _levenberg_marquardt(x: np.ndarray, loss: np.ndarray, params: np.ndarray, max_steps: int = 200) -> np.ndarray:
    damping = 1e-3
    residuals = loss - _model(x, params)
    cost = residuals @ residuals
    for _ in range(max_steps):
        jacobian = _jacobian(x, params)
        normal = jacobian.T @ jacobian
        gradient = jacobian.T @ residuals
        step = np.linalg.solve(normal + damping * np.diag(np.diag(normal) + 1e-12), gradient)
        trial = params + step
        trial_residuals = loss - _model(x, trial)
        trial_cost = trial_residuals @ trial_residuals
        if trial_cost < cost:
            converged = np.all(np.abs(step) <= 1e-12 * (1.0 + np.abs(params)))
            params, residuals, cost = trial, trial_residuals, trial_cost
            damping = max(damping / 10, 1e-12)
            if converged:
                break
        else:
            damping *= 10
            if damping > 1e12:
                break
    return params


def _covariance(x: np.ndarray, params: np.ndarray, rss: float, points: int) -> np.ndarray:
    jacobian = _jacobian(x, params)
    variance = rss / (points - 3)
    try:
        return variance * np.linalg.inv(jacobian.T @ jacobian)
    except np.linalg.LinAlgError:
        return np.full((3, 3), np.nan)
