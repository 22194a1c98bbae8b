"""Request and response of /v1/optimize: an optimiser's trajectory from `start`, and why it stopped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.compute import limits
from service.compute.optimize import DEFAULT_LEARNING_RATE, METHODS, ModelFit, OptimizeQuery
from service.compute.optimize.task import MAX_DATA, REASONS
from service.compute.stochastic import RandomSpec
from service.schemas.common import (
    Constants,
    Expression,
    Point,
    StrictModel,
    VariableName,
    WarningsFields,
    named_enum,
)
from service.schemas.distributions import FamilyName
from service.schemas.stochastic import Law

if TYPE_CHECKING:
    Method = str
    Reason = str
else:
    Method = named_enum("Method", METHODS)
    Reason = named_enum("Reason", REASONS)

Finite = Annotated[float, Field(allow_inf_nan=False)]
_RATES = ", ".join(f"{name} {rate:g}" for name, rate in DEFAULT_LEARNING_RATE.items())


class Model(StrictModel):
    """Data to fit: what is minimised is the negative log-likelihood of `data` in the family's parameters."""

    family: FamilyName = Field(
        description="A regular family of GET /v1/distributions (not uniform: its support moves with a parameter).",
        examples=["normal"],
        strict=False,
    )
    data: list[Finite] = Field(
        min_length=1,
        max_length=MAX_DATA,
        description=f"The observations (at most {MAX_DATA}).",
        examples=[[2.1, 3.4, 1.9, 4.2, 2.8]],
    )


def _point(value: Any) -> tuple[Any, ...]:
    """A JSON point as the compute layer takes it: an array as a tuple, an object as (name, value) pairs."""
    return tuple(value.items()) if isinstance(value, dict) else tuple(value)


class OptimizeRequest(StrictModel):
    """Minimise a function, a negative log-likelihood or an expectation from `start`, by one method."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "function": "(1 - x)^2 + 100*(y - x^2)^2",
                    "start": [-1.2, 1],
                    "method": "newton",
                    "line_search": "backtracking",
                },
                {"function": "x^2 + 10*y^2", "start": [1, 1], "method": "gradient_descent", "learning_rate": 0.09},
                {
                    "model": {"family": "normal", "data": [2.1, 3.4, 1.9, 4.2, 2.8]},
                    "start": {"mu": 0, "sigma": 1},
                    "method": "natural_gradient",
                },
                {
                    "function": "(theta - X)^2",
                    "random": {"X": {"family": "normal", "parameters": {"mu": 2, "sigma": 1}}},
                    "start": [0],
                    "method": "sgd",
                    "samples": 1000,
                    "seed": 7,
                    "max_iterations": 200,
                },
            ]
        }
    )

    function: Expression | None = Field(None, description="The function to minimise (with sgd: f(X, θ)).")
    model: Model | None = Field(
        None, description="Instead of `function`: data whose negative log-likelihood is minimised."
    )
    variables: list[VariableName] | None = Field(
        None,
        max_length=limits.MAX_VARIABLES,
        description=(
            "The variables optimised, in the order of `start` and of every point. Default: the function's free "
            "names that are neither parameters nor random, in natural order; for a model, the family's canonical "
            "parameters that are not in `parameters`."
        ),
    )
    parameters: Constants = Field(
        default_factory=dict,
        description="Constants {name: value}; for a model, parameters held fixed (binomial n must be).",
    )
    start: Point = Field(description="Where the run starts: an array in `variables` order or an object by name.")
    method: Method = Field(
        "gradient_descent",
        description=(
            "gradient_descent: x - rate ∇f (fixed step, or a backtracking line search). momentum: Polyak's heavy "
            "ball. nesterov: the gradient at the look-ahead point. newton: the Hessian solved, with its eigenvalues "
            "replaced by their absolute values where it is not positive definite. adam: Kingma and Ba, bias-"
            "corrected. natural_gradient (`model` only): the metric is n times the Fisher information of one "
            "observation, so learning_rate 1 is Fisher scoring. sgd (`random` only): minimises E[f(X, θ)] along "
            "stochastic-derivative estimates."
        ),
        strict=False,
    )
    learning_rate: float | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        description=f"The step size (the first trial step of a line search). Default per method: {_RATES}.",
    )
    max_iterations: int = Field(
        1_000,
        ge=0,
        le=limits.HARD_MAX_OPTIMIZE_ITERATIONS,
        description=f"Steps at most; at most NABLA_MAX_OPTIMIZE_ITERATIONS (default {limits.MAX_OPTIMIZE_ITERATIONS}).",
    )
    tolerance: float = Field(1e-6, ge=0, allow_inf_nan=False, description="Converged when |∇f| <= tolerance.")
    step_tolerance: float = Field(
        1e-12, ge=0, allow_inf_nan=False, description="Stalled when a step is shorter than this times (1 + |x|)."
    )
    line_search: str = Field(
        "none",
        pattern="^(none|backtracking)$",
        description=(
            "backtracking: halve the step until f falls by the Armijo condition (gradient_descent, newton, "
            "natural_gradient); none: the fixed step learning_rate."
        ),
    )
    momentum: float = Field(0.9, ge=0, lt=1, description="momentum and nesterov: the velocity's decay β.")
    beta1: float = Field(0.9, ge=0, lt=1, description="adam: the decay of the first moment.")
    beta2: float = Field(0.999, ge=0, lt=1, description="adam: the decay of the second moment.")
    epsilon: float = Field(1e-8, gt=0, allow_inf_nan=False, description="adam: added to the second moment's root.")
    random: dict[VariableName, Law] | None = Field(
        None,
        max_length=limits.MAX_VARIABLES,
        description="sgd: the random variables of f, each with its law (as in /v1/stochastic-derivative).",
    )
    samples: int = Field(
        1_000, ge=2, le=limits.HARD_MAX_SAMPLES, description="sgd: draws per step (at most NABLA_MAX_SAMPLES)."
    )
    seed: int | None = Field(
        None, ge=0, le=2**63 - 1, description="sgd: the seed; generated when absent and returned, to reproduce a run."
    )
    estimator: str = Field(
        "auto",
        pattern="^(pathwise|score|measure_valued|auto)$",
        description="sgd: the stochastic-derivative estimator (as in /v1/stochastic-derivative).",
    )

    @model_validator(mode="after")
    def _distinct_names(self) -> OptimizeRequest:
        names = self.variables or []
        if len(set(names)) != len(names):
            raise ValueError("variables must not repeat a name")
        clash = set(names) & set(self.parameters)
        if clash:
            raise ValueError(f"{', '.join(sorted(clash))} cannot be both a variable and a parameter")
        return self

    def to_query(self) -> OptimizeQuery:
        """The plain query the optimisation service takes."""
        random = tuple(
            RandomSpec(name, str(law.family), tuple(law.parameters.given().items()))
            for name, law in (self.random or {}).items()
        )
        model = None if self.model is None else ModelFit(str(self.model.family), tuple(self.model.data))
        return OptimizeQuery(
            method=str(self.method),
            start=_point(self.start),
            function=self.function,
            model=model,
            variables=None if self.variables is None else tuple(self.variables),
            parameters=tuple(self.parameters.items()),
            learning_rate=self.learning_rate,
            max_iterations=self.max_iterations,
            tolerance=self.tolerance,
            step_tolerance=self.step_tolerance,
            line_search=self.line_search,  # type: ignore[arg-type]
            momentum=self.momentum,
            beta1=self.beta1,
            beta2=self.beta2,
            epsilon=self.epsilon,
            random=random,
            samples=self.samples,
            seed=self.seed,
            estimator=self.estimator,  # type: ignore[arg-type]
        )


class Iterate(BaseModel):
    iteration: int = Field(description="0 at the start.")
    point: list[float] = Field(description="The iterate, in `variables` order.")
    function_value: float = Field(description="f at the point (sgd: a Monte Carlo estimate of E[f]).")
    gradient_norm: float = Field(description="|∇f| at the point (sgd: of the estimate).")
    step: float | None = Field(None, description="The length of the step that reached the point; null at the start.")


class Minimum(BaseModel):
    at: list[float]
    function_value: float
    note: str = Field(description="Which point this is (the lowest iterate; for sgd, the averaged second half).")


class OptimizeResponse(WarningsFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "method": "newton",
                    "variables": ["x"],
                    "learning_rate": 1.0,
                    "trajectory": [
                        {"iteration": 0, "point": [1.0], "function_value": 0.718, "gradient_norm": 0.718, "step": None},
                        {
                            "iteration": 1,
                            "point": [0.736],
                            "function_value": 0.6157,
                            "gradient_norm": 0.0877,
                            "step": 0.264,
                        },
                    ],
                    "converged": True,
                    "reason": "gradient_norm",
                    "detail": "the gradient norm 4e-07 is at most the tolerance 1e-06",
                    "iterations": 3,
                    "minimum": {"at": [0.6931], "function_value": 0.6137, "note": "the iterate with the lowest f"},
                    "seed": None,
                    "warnings": [],
                    "warnings_omitted": 0,
                }
            ]
        }
    )

    method: Method
    variables: list[str]
    learning_rate: float = Field(description="The learning rate used (the method's default when none was given).")
    trajectory: list[Iterate]
    converged: bool = Field(description="True when the gradient norm fell to `tolerance`.")
    reason: Reason = Field(
        description=(
            "Why the run stopped: gradient_norm (converged), step_size (stalled), max_iterations, time_budget (the "
            "run's share of NABLA_COMPUTE_TIMEOUT), diverged, left_domain (f or a law undefined at the next "
            "iterate), not_differentiable, line_search_failed."
        )
    )
    detail: str = Field(description="The reason in words, with its numbers.")
    iterations: int
    minimum: Minimum
    seed: int | None = Field(None, description="sgd: the seed used (send it back to reproduce the run).")
