"""The step rules: where each method goes from an iterate, given f, its gradient (and Hessian, or metric) there.

Each rule returns a ``Proposal``: the step, and the evaluation at the new point when the rule already made it (a
line search does), or the ``problem`` that stops the run. Rules that keep state between steps (a velocity, Adam's
moments) keep it in ``Memory``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from service.compute.optimize.objectives import Evaluation
from service.compute.optimize.task import ARMIJO, MAX_HALVINGS, OptimizeTask

__all__ = ["RULES", "Memory", "Objective", "Proposal", "shown", "stay_valid"]


class Objective(Protocol):
    variables: tuple[str, ...]

    def valid(self, x: np.ndarray) -> bool: ...

    def evaluate(self, x: np.ndarray) -> Evaluation: ...


@dataclass
class Memory:
    """What a rule carries from one step to the next, and what the run reports about the steps."""

    size: int
    velocity: np.ndarray = field(init=False)
    first_moment: np.ndarray = field(init=False)
    second_moment: np.ndarray = field(init=False)
    modified_hessians: int = 0  # newton: steps whose Hessian was not positive definite
    first_modified: int | None = None
    halved: int = 0  # steps shortened to keep a model's parameters valid

    def __post_init__(self) -> None:
        self.velocity = np.zeros(self.size)
        self.first_moment = np.zeros(self.size)
        self.second_moment = np.zeros(self.size)


@dataclass(frozen=True)
class Proposal:
    step: np.ndarray | None
    there: Evaluation | None = None
    problem: str | None = None
    why: str = ""


@dataclass(frozen=True)
class Context:
    task: OptimizeTask
    objective: Objective
    rate: float
    iteration: int  # the step being taken: 1 for the first


def shown(x: np.ndarray) -> str:
    """A point for messages: (1, 2.5)."""
    return "(" + ", ".join(f"{v:.6g}" for v in x) + ")"


def _problem(problem: str, why: str) -> Proposal:
    return Proposal(None, None, problem, why)


def stay_valid(objective: Objective, x: np.ndarray, step: np.ndarray, memory: Memory) -> np.ndarray | None:
    """``step``, halved until ``x + step`` is inside the parameter space (a model's; a function's is everywhere)."""
    if objective.valid(x + step):
        return step
    for _ in range(MAX_HALVINGS):
        step = step / 2
        if objective.valid(x + step):
            memory.halved += 1
            return step
    return None


def _along(context: Context, x: np.ndarray, here: Evaluation, direction: np.ndarray, memory: Memory) -> Proposal:
    """A step of ``rate`` along ``direction``, or with a backtracking line search from that length (Armijo)."""
    full = stay_valid(context.objective, x, context.rate * direction, memory)
    if full is None:
        return _problem("left_domain", "every shortening of the step leaves the parameter space")
    if context.task.line_search != "backtracking":
        return Proposal(full)
    slope = float(here.gradient @ full)
    t = 1.0
    for _ in range(MAX_HALVINGS):
        there = context.objective.evaluate(x + t * full)
        if there.problem is None and there.value <= here.value + ARMIJO * t * slope:
            return Proposal(t * full, there)
        t /= 2
    return _problem(
        "line_search_failed",
        f"no step along the direction lowers f enough (the Armijo condition) after {MAX_HALVINGS} halvings: the "
        "point is a minimum to float64 precision, or f is not differentiable here",
    )


def gradient_descent(context: Context, x: np.ndarray, here: Evaluation, memory: Memory) -> Proposal:
    return _along(context, x, here, -here.gradient, memory)


def _safeguarded_inverse(hessian: np.ndarray, gradient: np.ndarray, memory: Memory, iteration: int) -> np.ndarray:
    """-H^{-1} g, with H's eigenvalues replaced by max(|lambda|, delta) where H is not positive definite: the step
    is then a descent direction, and it moves away from saddles and maxima instead of towards them."""
    eigenvalues, vectors = np.linalg.eigh((hessian + hessian.T) / 2)
    delta = 1e-8 * max(1.0, float(np.max(np.abs(eigenvalues))))
    if np.min(eigenvalues) <= delta:
        memory.modified_hessians += 1
        memory.first_modified = memory.first_modified or iteration
        eigenvalues = np.maximum(np.abs(eigenvalues), delta)
    result: np.ndarray = -vectors @ ((vectors.T @ gradient) / eigenvalues)
    return result


def newton(context: Context, x: np.ndarray, here: Evaluation, memory: Memory) -> Proposal:
    assert here.hessian is not None
    if not np.all(np.isfinite(here.hessian)):
        return _problem("not_differentiable", "the Hessian is not finite there")
    direction = _safeguarded_inverse(here.hessian, here.gradient, memory, context.iteration)
    return _along(context, x, here, direction, memory)


def natural_gradient(context: Context, x: np.ndarray, here: Evaluation, memory: Memory) -> Proposal:
    metric = getattr(context.objective, "metric")(x)  # noqa: B009 (only likelihood objectives reach this rule)
    try:
        if not np.all(np.isfinite(metric)) or np.min(np.linalg.eigvalsh(metric)) <= 0:
            raise np.linalg.LinAlgError
        direction = -np.linalg.solve(metric, here.gradient)
    except np.linalg.LinAlgError:
        return _problem("diverged", "the Fisher information is singular or infinite there (a boundary of the model)")
    return _along(context, x, here, direction, memory)


def _moved(context: Context, x: np.ndarray, velocity: np.ndarray, memory: Memory) -> Proposal:
    step = stay_valid(context.objective, x, velocity, memory)
    if step is None:
        return _problem("left_domain", "every shortening of the step leaves the parameter space")
    memory.velocity = step
    return Proposal(step)


def momentum(context: Context, x: np.ndarray, here: Evaluation, memory: Memory) -> Proposal:
    """Polyak's heavy ball: v <- beta v - rate g(x); x <- x + v."""
    velocity = context.task.momentum * memory.velocity - context.rate * here.gradient
    return _moved(context, x, velocity, memory)


def nesterov(context: Context, x: np.ndarray, here: Evaluation, memory: Memory) -> Proposal:
    """Nesterov's accelerated gradient: the gradient is taken at the look-ahead point x + beta v."""
    ahead = x + context.task.momentum * memory.velocity
    if not context.objective.valid(ahead):
        return _problem("left_domain", "the look-ahead point is outside the parameter space")
    looked = context.objective.evaluate(ahead)
    if looked.problem is not None:
        return _problem(looked.problem, f"at the look-ahead point {shown(ahead)}: {looked.why}")
    velocity = context.task.momentum * memory.velocity - context.rate * looked.gradient
    return _moved(context, x, velocity, memory)


def adam(context: Context, x: np.ndarray, here: Evaluation, memory: Memory) -> Proposal:
    """Kingma and Ba's Adam, with bias-corrected moment estimates."""
    task, t, g = context.task, context.iteration, here.gradient
    memory.first_moment = task.beta1 * memory.first_moment + (1 - task.beta1) * g
    memory.second_moment = task.beta2 * memory.second_moment + (1 - task.beta2) * g * g
    mean = memory.first_moment / (1 - task.beta1**t)
    scale = memory.second_moment / (1 - task.beta2**t)
    step = stay_valid(context.objective, x, -context.rate * mean / (np.sqrt(scale) + task.epsilon), memory)
    if step is None:
        return _problem("left_domain", "every shortening of the step leaves the parameter space")
    return Proposal(step)


Rule = Callable[[Context, np.ndarray, Evaluation, Memory], Proposal]
RULES: dict[str, Rule] = {
    "gradient_descent": gradient_descent,
    "momentum": momentum,
    "nesterov": nesterov,
    "newton": newton,
    "natural_gradient": natural_gradient,
    "adam": adam,
}
