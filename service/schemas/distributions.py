"""Request and response models of the distribution endpoints: the catalogue, statistics, and maximum likelihood."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.compute import limits
from service.compute.distributions import FAMILIES
from service.compute.distributions.answers import FitQuery, StatisticsQuery
from service.schemas import examples
from service.schemas.common import StrictModel, WarningsFields, named_enum

if TYPE_CHECKING:
    FamilyName = str
else:
    FamilyName = named_enum("FamilyName", FAMILIES)
ParameterName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=32, examples=["sigma"])]
ParameterValues = Annotated[
    dict[ParameterName, float],
    Field(
        max_length=8,
        description=(
            "The family's parameters by name (see GET /v1/distributions): e.g. normal {mu, sigma}; gamma {shape, "
            "and rate or scale, exactly one}. Each must meet its constraint (sigma > 0, 0 <= p <= 1, n a positive "
            "integer, ...), or the answer is a 422 problem naming the parameter and its constraint."
        ),
        examples=[{"shape": 2, "rate": 0.5}],
    ),
]
Numbers = Annotated[list[float], Field(max_length=limits.HARD_MAX_DISTRIBUTION_VALUES)]
Value = Annotated[float | None, Field(description="A finite number, or null with the reason given alongside.")]
Matrix = list[list[Value]]


# --- GET /v1/distributions ----------------------------------------------------------------------------------------


class ParameterInfo(BaseModel):
    """One parameter a family accepts, with its constraint."""

    name: str = Field(description="The name to use in `parameters`.", examples=["sigma"])
    constraint: str = Field(description="What a valid value is.", examples=["sigma > 0"])
    description: str = Field(description="What the parameter means.", examples=["Standard deviation."])
    integer: bool = Field(description="True when the value must be an integer (binomial n).", examples=[False])


class FamilyInfo(BaseModel):
    """One distribution family: its parameters, support and convention."""

    name: FamilyName = Field(description="The family's name in the path of /v1/distributions/{family}/...")
    title: str = Field(description="The usual name of the distribution.", examples=["Gamma"])
    discrete: bool = Field(description="True for a probability mass function (pmf), false for a density (pdf).")
    parameters: list[ParameterInfo] = Field(description="Every name the family accepts.")
    required: str = Field(description="Which parameters to give.", examples=["shape, rate or scale (exactly one)"])
    support: str = Field(description="The values the variable takes.", examples=["[0, inf)"])
    convention: str = Field(
        description="The convention where there is a choice (geometric counts trials; rate or scale).",
        examples=["Takes shape and exactly one of rate and scale, scale = 1/rate; mean shape*scale."],
    )
    regular: bool = Field(
        description="False when the support moves with the parameters (uniform): no score or Fisher information."
    )


class DistributionsResponse(BaseModel):
    """The catalogue of distribution families."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.DISTRIBUTIONS]})

    families: list[FamilyInfo] = Field(description="The twelve families, each with its parameters and support.")


# --- POST /v1/distributions/{family}/statistics ----------------------------------------------------------------------

DATA_DESCRIPTION = (
    "Observations, each a possible value of the family (integers for discrete families). At most "
    f"NABLA_MAX_DISTRIBUTION_VALUES (default {limits.MAX_DISTRIBUTION_VALUES}); 413 above."
)


class StatisticsRequest(StrictModel):
    """A distribution at given parameters; optionally points, probabilities, closed forms and data."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"parameters": {"shape": 2, "rate": 0.5}, "x": [1, 4], "q": [0.5, 0.95], "exact": True},
                {"parameters": {"shape": 2, "rate": 0.5}, "data": [1.2, 3.4, 2.2, 5.0]},
            ]
        }
    )

    parameters: ParameterValues
    x: Numbers | None = Field(
        None,
        description=(
            "Points at which to give the pdf (continuous) or pmf (discrete), its logarithm, the cdf P(X <= x) and "
            "sf P(X > x). At most NABLA_MAX_DISTRIBUTION_VALUES values."
        ),
        examples=[[0.5, 1, 4]],
    )
    q: Numbers | None = Field(
        None,
        description=(
            "Probabilities in [0, 1] at which to give quantiles: the smallest x with cdf(x) >= q (q = 0 gives the "
            "lower end of the support)."
        ),
        examples=[[0.025, 0.5, 0.975]],
    )
    exact: bool = Field(
        False,
        description="Also give the closed forms of the statistics in the parameters (`exact`), where they exist.",
    )
    data: Numbers | None = Field(
        None,
        description=DATA_DESCRIPTION + " With data the response has `likelihood`: log-likelihood, score, Fisher "
        "and observed information at the given parameters.",
        examples=[[1.2, 3.4, 2.2, 5.0]],
    )

    def to_query(self, family: str) -> StatisticsQuery:
        """The plain query of this request for ``family`` (from the path)."""
        return StatisticsQuery(
            family=str(family),
            parameters=tuple(self.parameters.items()),
            x=_optional(self.x),
            q=_optional(self.q),
            exact=self.exact,
            data=_optional(self.data),
        )


def _optional(values: list[float] | None) -> tuple[float, ...] | None:
    return None if values is None else tuple(values)


class DistributionSupport(BaseModel):
    """The values the random variable takes."""

    lower: Value = Field(description="The lowest possible value; null for -infinity.", examples=[0])
    upper: Value = Field(description="The highest possible value; null for +infinity.", examples=[None])
    description: str = Field(description="The support in words.", examples=["[0, inf)"])


class ClosedForm(BaseModel):
    """A statistic in closed form, in the parameters."""

    expression: str = Field(description="The closed form in Nabla's grammar; it parses back.", examples=["shape/rate"])
    latex: str = Field(description="The same as LaTeX.", examples=["\\frac{shape}{rate}"])
    condition: str | None = Field(
        description="Where the formula holds, or null when it always does.", examples=["df > 2"]
    )


class FisherInformation(BaseModel):
    """The expected (Fisher) information matrix, rows and columns in the order of `parameters`."""

    per_observation: Matrix = Field(
        description="Expected Fisher information of one observation: minus the expected Hessian of the log density."
    )
    sample: Matrix = Field(description="Fisher information of the sample: the number of observations times that.")


class Likelihood(BaseModel):
    """Likelihood quantities of `data` at the parameters: the bridge from distributions to derivatives."""

    parameters: list[str] = Field(
        description=(
            "The parameters the score and the matrices are taken in, in order, as the client named them; integer "
            "parameters (binomial n) are known constants and are left out."
        ),
        examples=[["shape", "rate"]],
    )
    observations: int = Field(description="How many observations `data` holds.", examples=[4])
    log_likelihood: Value = Field(description="The sum of the log pdf (or pmf) over the data.")
    score: list[Value] | None = Field(None, description="The gradient of the log-likelihood in the parameters.")
    fisher_information: FisherInformation | None = Field(None, description="The expected (Fisher) information.")
    observed_information: Matrix | None = Field(
        None, description="Minus the Hessian of the log-likelihood at the parameters."
    )
    notes: dict[str, str] = Field(
        description="Why a quantity is null (a boundary parameter, an irregular family, data of probability 0).",
        examples=[{}],
    )


_STAT = "null when it is undefined or infinite; the reason is in `undefined`."


class StatisticsResponse(WarningsFields):
    """Statistics of one distribution. Every number is finite; a null has its reason alongside."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.STATISTICS]})

    family: FamilyName = Field(description="The family.")
    parameters: dict[str, float] = Field(description="The parameters as given.", examples=[{"shape": 2, "rate": 0.5}])
    discrete: bool = Field(description="Whether the family is discrete (pmf) or continuous (pdf).")
    mean: Value = Field(description="E[X]; " + _STAT, examples=[4.0])
    variance: Value = Field(description="Var(X); " + _STAT, examples=[8.0])
    std: Value = Field(description="The standard deviation; " + _STAT, examples=[2.8284271247461903])
    skewness: Value = Field(description="E[(X - mean)^3] / std^3; " + _STAT, examples=[1.4142135623730951])
    excess_kurtosis: Value = Field(description="E[(X - mean)^4] / std^4 - 3; " + _STAT, examples=[3.0])
    entropy: Value = Field(
        description="Differential entropy (continuous) or Shannon entropy (discrete), in nats.",
        examples=[2.2703628454614782],
    )
    median: Value = Field(description="The smallest x with cdf(x) >= 1/2.", examples=[3.3566939800333224])
    mode: Value = Field(
        description=(
            "Where the pdf or pmf is largest (an end of the support where the density is unbounded); null when it "
            "is not unique (uniform; poisson with integer lam), with the modes named in `undefined`."
        ),
        examples=[2.0],
    )
    undefined: dict[str, str] = Field(
        description="For each null statistic, why.",
        examples=[{"variance": "the variance of a Student t is infinite for 1 < df <= 2"}],
    )
    infinite: list[str] = Field(
        description=(
            "The null statistics that are +infinity (the integral diverges), as opposed to undefined. JSON has no "
            "infinity, so they are null too."
        ),
        examples=[["variance", "std"]],
    )
    support: DistributionSupport
    pdf: list[Value] | None = Field(None, description="With `x`, continuous families: the density at each x.")
    log_pdf: list[Value] | None = Field(None, description="With `x`, continuous families: log pdf at each x.")
    pmf: list[Value] | None = Field(None, description="With `x`, discrete families: P(X = x) at each x.")
    log_pmf: list[Value] | None = Field(None, description="With `x`, discrete families: log pmf at each x.")
    cdf: list[Value] | None = Field(None, description="With `x`: P(X <= x).")
    sf: list[Value] | None = Field(None, description="With `x`: P(X > x) = 1 - cdf, computed directly.")
    quantiles: list[Value] | None = Field(None, description="With `q`: the quantile at each probability.")
    exact: dict[str, ClosedForm] | None = Field(
        None,
        description=(
            "With `exact: true`: the closed forms of the statistics in the parameters (in the names given: "
            "shape/rate when rate was given). Statistics without a closed form in the grammar are absent."
        ),
    )
    likelihood: Likelihood | None = Field(None, description="With `data`: log-likelihood, score and information.")


# --- POST /v1/distributions/{family}/fit ---------------------------------------------------------------------------


class FitRequest(StrictModel):
    """Maximum-likelihood estimation of a family's parameters from data."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"data": [2.1, 0.7, 3.3, 1.8, 2.6], "parameterization": "rate"},
                {"data": [2.1, 0.7, 3.3, 1.8, 2.6], "fixed": {"shape": 2}, "confidence": 0.9},
            ]
        }
    )

    data: Annotated[Numbers, Field(min_length=1)] = Field(
        description=DATA_DESCRIPTION, examples=[[2.1, 0.7, 3.3, 1.8, 2.6]]
    )
    fixed: ParameterValues = Field(
        default_factory=dict,
        description=(
            "Parameters held at known values and not estimated. Binomial `n` (the number of trials) must be given here."
        ),
        examples=[{"n": 10}],
    )
    parameterization: ParameterName | None = Field(
        None,
        description=("For exponential and gamma: 'rate' to estimate the rate instead of the scale (the default)."),
        examples=["rate"],
    )
    confidence: float = Field(0.95, gt=0, lt=1, description="Level of the Wald confidence intervals.", examples=[0.95])

    def to_query(self, family: str) -> FitQuery:
        """The plain query of this request for ``family`` (from the path)."""
        return FitQuery(
            family=str(family),
            data=tuple(self.data),
            fixed=tuple(self.fixed.items()),
            parameterization=self.parameterization,
            confidence=self.confidence,
        )


class WaldInterval(BaseModel):
    """Wald confidence intervals: estimate +- z*se, z the normal quantile at (1 + level)/2."""

    level: float = Field(description="The confidence level.", examples=[0.95])
    low: dict[str, Value] = Field(description="Estimate - z*se for each estimated parameter.")
    high: dict[str, Value] = Field(description="Estimate + z*se for each estimated parameter.")


class FitResponse(WarningsFields):
    """The maximum-likelihood estimate, its standard errors, and the likelihood quantities there."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.FIT]})

    family: FamilyName = Field(description="The family.")
    parameters: dict[str, float] = Field(
        description="The estimate, with the fixed parameters, as parameters for /statistics.",
        examples=[{"shape": 2.1, "rate": 0.95}],
    )
    estimated: list[str] = Field(description="The parameters that were estimated, in order.", examples=[["shape"]])
    standard_errors: dict[str, Value] = Field(
        description="sqrt of the diagonal of the inverse sample Fisher information; null with the reason in `notes`."
    )
    confidence_interval: WaldInterval
    covariance: Matrix | None = Field(
        description="The inverse of the sample Fisher information over the estimated parameters."
    )
    method: Literal["closed form", "newton"] = Field(
        description="'closed form', or 'newton' (Newton's method from SciPy's fit or a moment estimate)."
    )
    iterations: int = Field(description="Newton iterations taken (0 for a closed form).", examples=[3])
    likelihood: Likelihood = Field(description="Log-likelihood, score (about 0) and information at the estimate.")
    notes: dict[str, str] = Field(description="Why standard errors are null, when they are.", examples=[{}])
