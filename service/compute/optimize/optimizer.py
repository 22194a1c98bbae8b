"""One optimisation run, from a task to its trajectory: validate, build the objective once, iterate, stop.

Stopping rules, checked at every iterate in this order: the gradient norm is at most ``tolerance`` (converged);
the last step was shorter than ``step_tolerance`` times (1 + the point's norm); ``max_iterations`` steps were taken;
the ``time_budget`` is spent. A run also stops, with its finite trajectory so far, when the next iterate diverges
(``DIVERGED_GROWTH``, ``DIVERGED_RISE``, or float64 overflow), leaves f's domain, or reaches a kink.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.compute.errors import InvalidInput, InvalidPoint, NablaError, TooLarge, located
from service.compute.notes import Note
from service.compute.optimize.methods import RULES, Context, Memory, Objective, shown
from service.compute.optimize.objectives import (
    Evaluation,
    ExpectationObjective,
    FunctionObjective,
    LikelihoodObjective,
)
from service.compute.optimize.task import (
    DEFAULT_LEARNING_RATE,
    DIVERGED_GROWTH,
    DIVERGED_RISE,
    LINE_SEARCH_METHODS,
    MAX_DATA,
    MAX_SGD_DRAWS,
    METHODS,
    Iterate,
    OptimizeResult,
    OptimizeTask,
)
from service.compute.points import exact_constants, read_parameters, read_vector, strings_in
from service.compute.trust import Provenance, versions

__all__ = ["run"]


def _invalid(detail: str, *loc: str | int) -> NablaError:
    return located(InvalidInput, detail, ("body", *loc))


def _validate(task: OptimizeTask) -> None:
    """Every precondition of a run that the fields alone decide."""
    if task.method not in METHODS:
        raise _invalid(f"'{task.method}' is not a method; use one of {', '.join(METHODS)}", "method")
    sources = [name for name, given in (("function", task.function), ("model", task.model)) if given is not None]
    if len(sources) != 1:
        detail = "give either 'function' (a function to minimise) or 'model' (data to fit), exactly one of them"
        raise _invalid(detail + ("; got both" if sources else "; got neither"), sources[-1] if sources else "function")
    if task.method == "natural_gradient" and task.model is None:
        raise _invalid(
            "natural_gradient needs 'model' {family, data}: its metric is the Fisher information of a family's "
            "parameters; for a plain function use newton (the Hessian as metric) or gradient_descent",
            "method",
        )
    if (task.method == "sgd") != (task.expectation is not None):
        detail = (
            "sgd needs 'random' (the random variables of f) and 'samples'"
            if task.method == "sgd"
            else f"'random' is for method sgd only (it minimises E[f(X, theta)]); {task.method} minimises f itself"
        )
        raise _invalid(detail, "random" if task.method != "sgd" else "method")
    if task.method == "sgd" and task.model is not None:
        raise _invalid("sgd minimises E[f(X, theta)] of a 'function'; fit a 'model' with another method", "model")
    _validate_numbers(task)


def _validate_numbers(task: OptimizeTask) -> None:
    if task.learning_rate is not None and not (math.isfinite(task.learning_rate) and task.learning_rate > 0):
        raise _invalid(f"learning_rate must be a positive number, got {task.learning_rate}", "learning_rate")
    if not 0 <= task.max_iterations <= task.iteration_limit:
        detail = (
            f"max_iterations is {task.max_iterations}; it must be between 0 and {task.iteration_limit} "
            "(NABLA_MAX_OPTIMIZE_ITERATIONS)"
        )
        raise located(TooLarge if task.max_iterations > 0 else InvalidInput, detail, ("body", "max_iterations"))
    if task.line_search != "none" and task.method not in LINE_SEARCH_METHODS:
        detail = (
            f"line_search '{task.line_search}' is for {', '.join(LINE_SEARCH_METHODS)}; {task.method} keeps its own "
            "step (momentum or moments), so use line_search 'none'"
        )
        raise _invalid(detail, "line_search")
    if task.model is not None and len(task.model.data) > MAX_DATA:
        detail = f"model.data has {len(task.model.data)} observations; at most {MAX_DATA} are allowed"
        raise located(TooLarge, detail, ("body", "model", "data"))
    if task.expectation is not None and task.expectation.samples < 2:
        detail = (
            f"samples is {task.expectation.samples}; sgd needs at least 2 draws per step (the estimators' baseline)"
        )
        raise _invalid(detail, "samples")
    if task.expectation is not None and task.expectation.samples * max(task.max_iterations, 1) > MAX_SGD_DRAWS:
        detail = (
            f"sgd would draw samples x max_iterations = {task.expectation.samples} x {task.max_iterations} times; "
            f"at most {MAX_SGD_DRAWS} draws are allowed in one run: ask for fewer samples or iterations"
        )
        raise located(TooLarge, detail, ("body", "samples"))


def _objective(task: OptimizeTask) -> ExpectationObjective | LikelihoodObjective | FunctionObjective:
    parameters = read_parameters(task.parameters)
    if task.model is not None:
        return LikelihoodObjective(task.model, task.variables, dict(parameters), task.method == "newton")
    assert task.function is not None
    if task.expectation is not None:
        return ExpectationObjective(task.function, task.expectation, task.variables, parameters, task.limits)
    return FunctionObjective(task.function, task.variables, parameters, task.limits, task.method == "newton")


def _start(task: OptimizeTask, variables: Sequence[str]) -> np.ndarray:
    if not variables:
        raise _invalid("the function has no variables to optimise (its names are all parameters or constants)")
    named = bool(task.start) and all(isinstance(c, tuple) for c in task.start)
    raw: list[Any] | dict[str, Any] = dict(task.start) if named else list(task.start)  # type: ignore[arg-type]
    constants = exact_constants(sorted(strings_in(raw)))
    return np.array(read_vector(raw, variables, ("start",), constants), dtype=float)


@dataclass
class _Run:
    """The trajectory being built, and how the run ended."""

    task: OptimizeTask
    variables: tuple[str, ...]
    rate: float
    start: np.ndarray
    start_value: float
    trajectory: list[Iterate]
    began: float
    reason: str = ""
    detail: str = ""

    def record(self, x: np.ndarray, here: Evaluation, step: np.ndarray | None) -> None:
        length = None if step is None else float(np.linalg.norm(step))
        iterate = Iterate(len(self.trajectory), tuple(float(v) for v in x), here.value, _norm(here.gradient), length)
        self.trajectory.append(iterate)

    def stop(self, reason: str, detail: str) -> None:
        self.reason, self.detail = reason, detail

    def verdict(self, x: np.ndarray, here: Evaluation) -> bool:
        """Whether a stopping rule holds at the current iterate (and which one, then)."""
        task, last = self.task, self.trajectory[-1]
        norm = last.gradient_norm
        if norm <= task.tolerance:
            self.stop("gradient_norm", f"the gradient norm {norm:.3g} is at most the tolerance {task.tolerance:g}")
        elif last.step is not None and last.step <= task.step_tolerance * (1 + float(np.linalg.norm(x))):
            self.stop(
                "step_size",
                f"the last step ({last.step:.3g}) is shorter than step_tolerance {task.step_tolerance:g} relative "
                f"to the point, while the gradient norm is still {norm:.3g}: the run has stalled",
            )
        elif last.iteration >= task.max_iterations:
            self.stop(
                "max_iterations",
                f"{task.max_iterations} iterations were taken; the gradient norm is still {norm:.3g} (tolerance "
                f"{task.tolerance:g}): allow more iterations or a larger learning_rate",
            )
        elif task.time_budget is not None and time.monotonic() - self.began > task.time_budget:
            self.stop(
                "time_budget",
                f"the run's time budget of {task.time_budget:g} s was spent after {last.iteration} iterations (the "
                "trajectory so far is given): ask for fewer iterations or a larger learning_rate",
            )
        return bool(self.reason)

    def diverged(self, x: np.ndarray, value: float | None) -> bool:
        """Whether the next iterate (or its f) has run away; the run then stops before recording it."""
        steps = len(self.trajectory)
        bound = DIVERGED_GROWTH * (1 + float(np.max(np.abs(self.start))))
        if not np.all(np.isfinite(x)) or float(np.max(np.abs(x))) > bound:
            largest = float(np.max(np.abs(x))) if np.all(np.isfinite(x)) else math.inf
            self.stop(
                "diverged",
                f"the iterates grew without bound (a coordinate reached {largest:.3g} at step {steps}): the learning "
                "rate is too large for f's curvature, or f has no minimum in that direction",
            )
            return True
        if value is None:
            return False
        margin = DIVERGED_RISE * (1 + abs(self.start_value))
        if value > self.start_value + margin:
            self.stop(
                "diverged",
                f"f rose from {self.start_value:.6g} at the start to {value:.3g} at step {steps}: the steps "
                "overshoot; lower learning_rate or use line_search 'backtracking'",
            )
            return True
        if value < self.start_value - margin:
            self.stop(
                "diverged",
                f"f fell from {self.start_value:.6g} at the start to {value:.3g} at step {steps} and keeps falling: "
                "f looks unbounded below",
            )
            return True
        return False


def _norm(v: np.ndarray) -> float:
    return float(np.linalg.norm(v))


def _begin(
    task: OptimizeTask, variables: tuple[str, ...], evaluate: Callable[[np.ndarray], Evaluation], began: float
) -> tuple[_Run, Evaluation]:
    rate = task.learning_rate if task.learning_rate is not None else DEFAULT_LEARNING_RATE[task.method]
    x = _start(task, variables)
    here = evaluate(x)
    if here.problem is not None:
        detail = f"the run cannot start at {shown(x)}: {here.why}; choose another start"
        raise located(InvalidPoint, detail, ("body", "start"))
    run = _Run(task, variables, rate, x, here.value, [], began)
    run.record(x, here, None)
    return run, here


def _descend(task: OptimizeTask, objective: Objective, began: float) -> tuple[_Run, Memory]:
    run, here = _begin(task, objective.variables, objective.evaluate, began)
    x = run.start
    memory = Memory(len(run.variables))
    rule = RULES[task.method]
    while not run.verdict(x, here):
        context = Context(task, objective, run.rate, len(run.trajectory))
        proposal = rule(context, x, here, memory)
        if proposal.step is None:
            run.stop(proposal.problem or "diverged", f"at {shown(x)} {proposal.why}")
            break
        candidate = x + proposal.step
        if run.diverged(candidate, None):
            break
        there = proposal.there or objective.evaluate(candidate)
        if there.problem is not None:
            run.stop(there.problem, f"the next iterate {shown(candidate)} cannot be used: {there.why}")
            break
        if run.diverged(candidate, there.value):
            break
        x, here = candidate, there
        run.record(x, here, proposal.step)
    return run, memory


def _sgd(task: OptimizeTask, objective: ExpectationObjective, began: float) -> tuple[_Run, np.ndarray, float]:
    """Stochastic gradient descent: x <- x - rate g_k, g_k the mean of ``samples`` fresh derivative draws; step k
    draws with the k-th seed of ``SeedSequence(seed)``, so a run is reproducible."""
    assert task.expectation is not None
    seeds = np.random.SeedSequence(task.expectation.seed).generate_state(task.max_iterations + 2)
    run, here = _begin(task, objective.variables, lambda x: objective.estimate(x, int(seeds[0])), began)
    x = run.start
    while not run.verdict(x, here):
        step = -run.rate * here.gradient
        candidate = x + step
        if run.diverged(candidate, None):
            break
        there = objective.estimate(candidate, int(seeds[len(run.trajectory)]))
        if there.problem is not None:
            run.stop(there.problem, f"the next iterate {shown(candidate)} cannot be used: {there.why}")
            break
        if run.diverged(candidate, there.value):
            break
        x, here = candidate, there
        run.record(x, here, step)
    points = np.array([it.point for it in run.trajectory[len(run.trajectory) // 2 :]])
    average = points.mean(axis=0)
    return run, average, objective.estimate(average, int(seeds[-1])).value


def _warnings(task: OptimizeTask, memory: Memory | None) -> tuple[Note, ...]:
    notes = []
    if memory is not None and memory.modified_hessians:
        notes.append(
            Note(
                "hessian_modified",
                f"the Hessian was not positive definite at {memory.modified_hessians} of the steps (first at step "
                f"{memory.first_modified}): there each eigenvalue was replaced by its absolute value (at least 1e-8 "
                "times the largest), so that the step still goes downhill and away from saddles and maxima",
            )
        )
    if memory is not None and memory.halved:
        notes.append(
            Note(
                "steps_halved",
                f"{memory.halved} steps left the family's parameter space and were halved until they stayed inside it",
            )
        )
    if task.method in ("momentum", "nesterov", "adam"):
        notes.append(
            Note("not_monotone", f"{task.method} does not lower f at every step: the trajectory may climb first")
        )
    if task.expectation is not None:
        notes.append(
            Note(
                "monte_carlo",
                f"function_value and gradient_norm are Monte Carlo estimates from {task.expectation.samples} draws per "
                "step; the stochastic gradient's norm rarely falls below a small tolerance, so runs usually end at "
                "max_iterations",
            )
        )
    return tuple(notes)


def run(task: OptimizeTask) -> OptimizeResult:
    """Minimise as ``task`` asks. Raises ``NablaError`` for every client mistake; a run that goes wrong is a result
    with its ``reason``, not an error."""
    began = time.monotonic()  # the time budget counts the compilation too: the worker's deadline does
    _validate(task)
    objective = _objective(task)
    memory: Memory | None = None
    if isinstance(objective, ExpectationObjective):
        run, best, best_value = _sgd(task, objective, began)
        note = (
            "the average of the second half of the iterates (Polyak-Ruppert averaging), with f estimated there from "
            "fresh draws: less noisy than the last iterate"
        )
    else:
        run, memory = _descend(task, objective, began)
        lowest = min(range(len(run.trajectory)), key=lambda i: (run.trajectory[i].function_value, -i))
        best = np.array(run.trajectory[lowest].point)
        best_value = run.trajectory[lowest].function_value
        note = f"the iterate with the lowest f the run visited (iteration {lowest})"
    return OptimizeResult(
        method=task.method,
        variables=tuple(run.variables),
        learning_rate=run.rate,
        trajectory=tuple(run.trajectory),
        converged=run.reason == "gradient_norm",
        reason=run.reason,
        detail=run.detail,
        minimum_at=tuple(float(v) for v in best),
        minimum_value=float(best_value),
        minimum_note=note,
        warnings=_warnings(task, memory),
        seed=None if task.expectation is None else task.expectation.seed,
        provenance=Provenance("numeric", versions("numpy")),
    )
