"""Request and response of the stochastic derivative: d/dθ E[f(X, θ)] where the laws of X depend on θ."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema, model_validator

from service.compute import limits
from service.compute.stochastic import RandomSpec, StochasticQuery
from service.schemas import examples
from service.schemas.common import (
    NAME_PATTERN,
    Expression,
    StrictModel,
    SymbolicExpression,
    SymbolicVector,
    VariableName,
    WarningsFields,
)
from service.schemas.laws import LawParameters, law_models


def _law_parameter(value: Any) -> float | str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("a law's parameter is a number or an expression string such as '2*theta'")
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("an expression must not be empty")
        return value
    if not math.isfinite(value):
        raise ValueError("a law's parameter must be finite")
    return float(value)


LawParameter = Annotated[
    Any,
    PlainValidator(_law_parameter),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number"}, {"type": "string", "minLength": 1, "examples": ["theta", "2*X + 1"]}],
            "description": (
                "A number, or an expression in the values of `at` and in other random variables (a hierarchical "
                'model: `{"lam": "X"}` makes a Poisson whose rate is the random X).'
            ),
        }
    ),
]


if TYPE_CHECKING:

    class Law(StrictModel):
        """What the per-family law models have in common (the type checker's view of them)."""

        family: str
        parameters: LawParameters

else:
    Law = Annotated[
        Union[tuple(law_models(LawParameter, "Law").values())],  # noqa: UP007 (a Union of models built at import)
        Field(discriminator="family"),
    ]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class StochasticRequest(StrictModel):
    """The derivative of θ -> E[f(X, θ)], by Monte Carlo with a standard error, and in closed form when found."""

    model_config = StrictModel.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "function": "X^2",
                    "random": {"X": {"family": "normal", "parameters": {"mu": "theta", "sigma": 1}}},
                    "at": {"theta": 1.5},
                    "samples": 100000,
                    "seed": 7,
                }
            ]
        }
    }

    _one_of_required: ClassVar[tuple[str, ...]] = ("at",)
    function: Expression
    random: dict[VariableName, Law] = Field(
        min_length=1,
        max_length=64,
        description=(
            "The random variables by name, each with its law (a family and exactly that family's parameters); laws "
            "may use `at` names and other variables."
        ),
        json_schema_extra={"propertyNames": {"pattern": NAME_PATTERN, "maxLength": 64}},
    )
    at: dict[VariableName, Finite] = Field(
        default_factory=dict,
        max_length=64,
        description=(
            "The value of every non-random name of the function and of the laws (θ and any constants); at least the "
            "one to differentiate by."
        ),
        json_schema_extra={"propertyNames": {"pattern": NAME_PATTERN, "maxLength": 64}, "minProperties": 1},
        examples=[{"theta": 1.5}],
    )
    wrt: list[VariableName] | None = Field(
        None,
        max_length=64,
        description="The names of `at` to differentiate by, in the order of the results. Default: every name of `at`.",
    )
    samples: int = Field(
        10_000,
        ge=10,
        le=limits.HARD_MAX_SAMPLES,
        description=f"Monte Carlo draws; at most NABLA_MAX_SAMPLES (default {limits.MAX_SAMPLES}).",
    )
    seed: int | None = Field(
        None, ge=0, le=2**63 - 1, description="Seed of NumPy's generator; the same seed gives the same numbers."
    )
    estimator: Literal["pathwise", "score", "measure_valued", "auto"] = Field(
        "auto",
        description=(
            "pathwise: reparameterisation (normal, uniform, exponential, gamma scale). score: the score function "
            "(REINFORCE, any family) with a leave-one-out baseline. measure_valued: a discrete law (bernoulli, "
            "binomial, poisson, geometric) by the coupling of its finite differences on the same draws (a Poisson: "
            "f(X + 1) - f(X)), the other laws as auto treats them. auto: per variable, the valid estimator of "
            "lowest variance: pathwise where it applies; for a discrete law measure_valued or score, whichever has "
            "the lower variance on a pilot of 2000 independent draws; score elsewhere."
        ),
    )
    confidence: float = Field(0.95, gt=0, lt=1, description="Level of the confidence interval.")
    exact: bool | None = Field(
        None,
        description=(
            "The exact derivative (`exact`): omitted or null, the closed form is looked for (within "
            "NABLA_EXACT_TIMEOUT) once per model: when none is found the outcome is remembered and identical requests "
            "do not search again; a model whose random variables are all discrete is then summed instead (to 1e-12 "
            "relative, with a bound on the tail). true: search afresh even when an earlier search found nothing. "
            "false: no exact value at all (no search, no sum)."
        ),
    )

    @model_validator(mode="after")
    def _wrt_in_at(self) -> StochasticRequest:
        wrt = self.wrt if self.wrt is not None else list(self.at)
        if not wrt:
            raise ValueError("nothing to differentiate by: give the parameters' values in 'at' (e.g. {\"theta\": 1})")
        if len(set(wrt)) != len(wrt):
            raise ValueError("wrt must not repeat a name")
        missing = [name for name in wrt if name not in self.at]
        if missing:
            raise ValueError(
                f"'{missing[0]}' in wrt has no value in 'at'; give one, e.g. \"at\": {{\"{missing[0]}\": 1}}"
            )
        return self

    def to_query(self) -> StochasticQuery:
        """The plain query the stochastic service takes."""
        random = tuple(
            RandomSpec(name, str(law.family), tuple(law.parameters.given().items()))
            for name, law in self.random.items()
        )
        return StochasticQuery(
            function=self.function,
            random=random,
            at=tuple(self.at.items()),
            wrt=tuple(self.wrt if self.wrt is not None else self.at),
            samples=self.samples,
            seed=self.seed,
            estimator=self.estimator,
            confidence=self.confidence,
            exact=self.exact,
        )


Numbers = list[float | None]


class ConfidenceInterval(BaseModel):
    level: float = Field(description="The requested confidence level.")
    low: Numbers
    high: Numbers


class Variances(BaseModel):
    """The variance of one derivative sample under each estimator that applies (same draws): lower is better."""

    pathwise: Numbers | None = Field(description="null when some law is not reparameterisable (discrete, ...).")
    score: Numbers | None
    measure_valued: Numbers | None = Field(
        description="The couplings of the discrete laws (the rest as auto); null when no discrete law moves with θ."
    )


class StochasticResponse(WarningsFields):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.STOCHASTIC]})

    wrt: list[str]
    at: dict[str, float]
    estimate: Numbers = Field(description="The Monte Carlo estimate of d/dθ E[f], per name of `wrt`.")
    standard_error: Numbers
    confidence_interval: ConfidenceInterval
    estimator: Literal["pathwise", "score", "measure_valued", "mixed"] = Field(
        description="The estimator used: mixed when the variables were treated in more than one way."
    )
    estimators: dict[str, Literal["pathwise", "score", "measure_valued", "independent"]] = Field(
        description="Per random variable: its treatment (independent: its law does not depend on `wrt`)."
    )
    variance: Variances
    samples: int
    seed: int = Field(description="The seed used (generated when none was given): send it back to reproduce.")
    exact: list[float] | None = Field(
        description=(
            "d/dθ E[f] computed exactly, correct to 1e-12 relative: from the closed form, or by summing a discrete "
            "model's series with a bound on its tail (see `exact_method`); null when neither was possible (the "
            "warnings say why)."
        )
    )
    exact_method: Literal["closed_form", "summation"] | None = Field(
        None, description="How `exact` was computed: closed_form (sympy.stats) or summation (the series over the laws)."
    )
    expected_value: float | None = Field(
        None,
        description="E[f] itself at `at`, exact as `exact` is (null when not found, or not within 1e-12 when summed).",
    )
    expectation: SymbolicExpression | None = Field(description="E[f] in closed form, when found.")
    exact_derivatives: SymbolicVector | None = Field(description="The closed-form derivatives, when found.")
