"""A thirteenth family is one record: a Rayleigh law built here, added to FAMILIES alone, gets its statistics,
closed forms, maximum-likelihood fit and stochastic derivative (both estimators, and SymPy's exact form) with no
other module touched.

Every truth is the Rayleigh's textbook formula (density x/s^2 exp(-x^2/(2 s^2)) on x > 0), never the service's
output: mean s sqrt(pi/2), variance (4 - pi)/2 s^2, median s sqrt(2 log 2), mode s, entropy 1 + log(s/sqrt(2)) +
euler_gamma/2, E[X^2] = 2 s^2; the MLE is s^2 = sum(x^2)/(2n), with Fisher information 4/s^2 per observation."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pytest
import sympy as sp
from scipy import stats
from sympy import stats as sympy_stats

from service.compute.distributions import FAMILIES, Family, Parameter
from service.compute.distributions.closed_forms import closed_forms
from service.compute.distributions.fit import fit
from service.compute.distributions.record import FitRule, Noise
from service.compute.distributions.statistics import describe, prepare
from service.compute.errors import InvalidInput
from service.compute.limits import DEFAULT_LIMITS
from service.compute.stochastic import ModelSpec, RandomSpec, StochasticTask, run

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # as in test_stochastic

sigma = sp.Symbol("sigma", positive=True)


def _log_density(x: sp.Expr, p: Mapping[str, sp.Expr]) -> sp.Expr:
    return sp.log(x) - 2 * sp.log(p["sigma"]) - x**2 / (2 * p["sigma"] ** 2)


def _fit(x: np.ndarray, fixed: Mapping[str, float]) -> dict[str, float]:
    return {"sigma": float(np.sqrt(np.mean(x**2) / 2))}


RAYLEIGH = Family(
    "rayleigh", "Rayleigh", False,
    (Parameter("sigma", "sigma > 0", "Scale.", low=0.0),), ("sigma",),
    "[0, inf)", "The length of a vector of two independent normal(0, sigma) components.",
    _log_density, lambda rng, p, n: rng.rayleigh(p["sigma"], n), lambda p: stats.rayleigh(scale=p["sigma"]),
    closed_forms={
        "mean": (sigma * sp.sqrt(sp.pi / 2), None),
        "variance": ((4 - sp.pi) / 2 * sigma**2, None),
        "median": (sigma * sp.sqrt(2 * sp.log(2)), None),
        "mode": (sigma, None),
    },
    mode=lambda p: p["sigma"],
    fit=FitRule(_fit, exact=True),
    sympy_stats=lambda x, p: sympy_stats.Rayleigh(x, p["sigma"]),
    observation=Parameter("x", "x > 0", "One observation.", low=0.0),
    # X = sigma*sqrt(2E) with E ~ exponential(1): arithmetic only, so one transform serves SymPy and NumPy.
    reparameterisation=Noise(
        (), lambda rng, p, n: rng.standard_exponential(n), lambda e, p: p["sigma"] * (2 * e) ** 0.5
    ),
    support_sign="positive",
)  # fmt: skip


@pytest.fixture(autouse=True)
def rayleigh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(FAMILIES, "rayleigh", RAYLEIGH)  # the one place a family is registered


def test_statistics_come_from_the_record() -> None:
    s = 1.7
    result = describe(prepare("rayleigh", {"sigma": s}), x=np.array([1.0]), q=np.array([0.5]))
    expected = {
        "mean": s * math.sqrt(math.pi / 2),
        "variance": (4 - math.pi) / 2 * s**2,
        "std": math.sqrt((4 - math.pi) / 2) * s,
        "median": s * math.sqrt(2 * math.log(2)),
        "mode": s,
        "entropy": 1 + math.log(s / math.sqrt(2)) + np.euler_gamma / 2,
        "skewness": 2 * math.sqrt(math.pi) * (math.pi - 3) / (4 - math.pi) ** 1.5,
    }
    for name, value in expected.items():
        assert result.summary[name] == pytest.approx(value, rel=1e-9), name
    assert result.at_x is not None
    assert result.quantiles is not None
    assert result.at_x["pdf"][0] == pytest.approx(math.exp(-1 / (2 * s**2)) / s**2, rel=1e-12)
    assert result.quantiles[0] == pytest.approx(s * math.sqrt(2 * math.log(2)), rel=1e-12)


def test_closed_forms_are_printed_in_the_service_grammar() -> None:
    forms = closed_forms("rayleigh", frozenset({"sigma"}))
    assert set(forms) == {"mean", "variance", "std", "median", "mode"}
    assert forms["mode"].expression == "sigma"
    assert forms["mean"].condition is None


def test_constraints_come_from_the_record() -> None:
    with pytest.raises(InvalidInput, match="rayleigh needs sigma > 0"):
        prepare("rayleigh", {"sigma": -1.0})


def test_fit_and_its_standard_error() -> None:
    data = np.random.default_rng(7).rayleigh(0.8, 400)
    s = math.sqrt(np.sum(data**2) / (2 * data.size))
    result = fit("rayleigh", data, {})
    assert result.method == "closed form"
    assert result.estimate["sigma"] == pytest.approx(s, rel=1e-12)
    assert result.standard_errors["sigma"] == pytest.approx(s / (2 * math.sqrt(data.size)), rel=1e-6)


def _task(estimator: str) -> StochasticTask:
    random = (RandomSpec("X", "rayleigh", (("sigma", "theta"),)),)
    model = ModelSpec("X^2", random, ("theta",), ("theta",), DEFAULT_LIMITS, 200_000)
    return StochasticTask(model, (("theta", 1.5),), 20_000, 3, estimator, 0.95, True)  # type: ignore[arg-type]


@pytest.mark.parametrize("estimator", ["pathwise", "score"])
def test_stochastic_derivative(estimator: str) -> None:
    # d/dtheta E[X^2] = d/dtheta 2 theta^2 = 4 theta.
    truth = 4 * 1.5
    result = run(_task(estimator))
    assert result.treatments == {"X": estimator}
    estimate, error = np.ravel(result.estimate)[0], np.ravel(result.standard_error)[0]
    assert abs(estimate - truth) < 5 * error
    assert result.exact is not None  # SymPy integrates the record's sympy.stats law
    assert result.exact[0] == pytest.approx(truth, rel=1e-12)
