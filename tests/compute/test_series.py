"""Exact expectations of discrete models by summation: values against mpmath at 40 digits and closed forms, the
growth envelope's soundness, and every refusal's message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.compute.language.build import build, symbol
from service.compute.language.syntax import parse
from service.compute.limits import DEFAULT_LIMITS
from service.compute.stochastic import ModelSpec, RandomSpec
from service.compute.stochastic.growth import envelope
from service.compute.stochastic.model import Model, build_model
from service.compute.stochastic.series import TOLERANCE, NotSummable, Summed, summed

mpmath.mp.dps = 40
Mpf = Any  # mpmath numbers (untyped)


def model(function: str, random: dict[str, tuple[str, dict[str, Any]]], at: dict[str, float]) -> Model:
    laws = tuple(RandomSpec(name, family, tuple(params.items())) for name, (family, params) in random.items())
    return build_model(ModelSpec(function, laws, tuple(at), tuple(at), DEFAULT_LIMITS, 200_000))


def sum_of(
    function: str, random: dict[str, tuple[str, dict[str, Any]]], at: dict[str, float], terms: int = 1_000_000
) -> Summed:
    return summed(model(function, random, at), at, terms, 10.0)


def refusal(function: str, random: dict[str, tuple[str, dict[str, Any]]], at: dict[str, float], **kw: Any) -> str:
    with pytest.raises(NotSummable) as caught:
        summed(model(function, random, at), at, kw.get("terms", 1_000_000), kw.get("timeout", 10.0))
    return str(caught.value)


Law = tuple[Callable[[int], Mpf], Callable[[int], Mpf], range]


def poisson(lam: Mpf) -> Law:
    """The pmf, its derivative in lam and the counts that carry all but 1e-60 of every sum here (Chernoff)."""
    top = int(lam + 60 * mpmath.sqrt(lam) + 300)
    return (
        lambda k: mpmath.exp(k * mpmath.log(lam) - lam - mpmath.loggamma(k + 1)),
        lambda k: mpmath.exp(k * mpmath.log(lam) - lam - mpmath.loggamma(k + 1)) * (k / lam - 1),
        range(top),
    )


def geometric(p: Mpf) -> Law:
    top = int(150 / p) + 100  # (1 - p)^top < 1e-60
    return (
        lambda k: p * (1 - p) ** (k - 1),
        lambda k: (1 - p) ** (k - 1) - p * (k - 1) * (1 - p) ** (k - 2),
        range(1, top),
    )


def reference(f: Callable[[Mpf], Mpf], law: Law) -> tuple[Mpf, Mpf]:
    """E[f] and its derivative in the law's parameter: mpmath at 40 digits, summed term by term over the counts
    that carry all but a negligible tail (mpmath.nsum's extrapolation is not reliable for peaked terms: it gave
    -0.33 for d/dlam E[sqrt(X)] at lam = 15, where the truth is 0.13)."""
    pmf, dpmf, counts = law
    fs = [f(mpmath.mpf(k)) for k in counts]
    return (
        mpmath.fsum(v * pmf(k) for v, k in zip(fs, counts, strict=True)),
        mpmath.fsum(v * dpmf(k) for v, k in zip(fs, counts, strict=True)),
    )


def close(value: float | None, truth: Mpf, rel: float = TOLERANCE) -> bool:
    return value is not None and abs(mpmath.mpf(value) - truth) <= rel * abs(truth)


def agrees(text: str, f: Callable[[Mpf], Mpf], law: tuple[str, str, float], truth: Callable[[Mpf], Law]) -> None:
    """The sum of ``text`` for X of the one-parameter ``law`` (family, parameter, value) is mpmath's to 1e-12."""
    family, parameter, value = law
    result = sum_of(text, {"X": (family, {parameter: parameter})}, {parameter: value})
    expected, slope = reference(f, truth(mpmath.mpf(value)))
    assert close(result.derivatives[0], slope)
    assert close(result.expectation, expected)


class TestPoisson:
    def test_the_second_moment_against_its_closed_form(self) -> None:
        # E[X^2] = lam + lam^2, d/dlam = 1 + 2 lam.
        result = sum_of("X^2", {"X": ("poisson", {"lam": "lam"})}, {"lam": 3.7})
        assert result.derivatives[0] == pytest.approx(1 + 2 * 3.7, rel=1e-12)
        assert result.expectation == pytest.approx(3.7 + 3.7**2, rel=1e-12)

    @settings(max_examples=15, deadline=None)
    @given(st.floats(0.05, 300.0))
    @example(3.0)  # the example: d/dlam E[sqrt(X)], X ~ Poisson(3)
    @example(0.05)
    def test_sqrt_against_mpmath(self, lam: float) -> None:
        agrees("sqrt(X)", mpmath.sqrt, ("poisson", "lam", lam), poisson)

    def test_the_chain_rule_through_a_rate_written_in_theta(self) -> None:
        # lam = theta^2 + 1: d/dtheta E[log(1 + X)] = 2 theta * d/dlam E[log(1 + X)].
        result = sum_of("log(1 + X)", {"X": ("poisson", {"lam": "theta^2 + 1"})}, {"theta": 1.5})
        _, slope = reference(lambda k: mpmath.log(1 + k), poisson(mpmath.mpf(1.5) ** 2 + 1))
        assert close(result.derivatives[0], 2 * mpmath.mpf(1.5) * slope)

    def test_theta_in_the_function_and_in_the_law(self) -> None:
        # d/dtheta E[theta sqrt(X)], X ~ Poisson(theta) = E[sqrt(X)] + theta d/dlam E[sqrt(X)].
        result = sum_of("theta*sqrt(X)", {"X": ("poisson", {"lam": "theta"})}, {"theta": 2.5})
        value, slope = reference(mpmath.sqrt, poisson(mpmath.mpf(2.5)))
        assert close(result.derivatives[0], value + mpmath.mpf(2.5) * slope)

    @pytest.mark.parametrize("function", ["sqrt(X)", "log(1 + X)"])
    def test_a_large_rate(self, function: str) -> None:
        f = mpmath.sqrt if function == "sqrt(X)" else (lambda k: mpmath.log(1 + k))
        agrees(function, f, ("poisson", "lam", 1e4), poisson)


class TestOtherLaws:
    @pytest.mark.parametrize("p", [0.9, 0.3, 0.01])
    def test_geometric_sqrt_against_mpmath(self, p: float) -> None:
        agrees("sqrt(X)", mpmath.sqrt, ("geometric", "p", p), geometric)

    def test_geometric_mean_against_its_closed_form(self) -> None:
        # E[X] = 1/p, d/dp = -1/p^2.
        result = sum_of("X", {"X": ("geometric", {"p": "p"})}, {"p": 0.2})
        assert result.derivatives[0] == pytest.approx(-25.0, rel=1e-12)

    @pytest.mark.parametrize(("n", "p"), [(1, 0.3), (50, 0.3), (2000, 0.999)])
    def test_binomial_is_a_finite_sum(self, n: int, p: float) -> None:
        result = sum_of("sqrt(X) + sin(X)", {"X": ("binomial", {"n": n, "p": "p"})}, {"p": p})
        q = mpmath.mpf(p)

        def f(k: int) -> Mpf:
            return mpmath.sqrt(k) + mpmath.sin(k)

        pmf = [mpmath.binomial(n, k) * q**k * (1 - q) ** (n - k) for k in range(n + 1)]
        value = mpmath.fsum(f(k) * pmf[k] for k in range(n + 1))
        slope = mpmath.fsum(f(k) * pmf[k] * (k / q - (n - k) / (1 - q)) for k in range(n + 1))
        assert close(result.derivatives[0], slope)
        assert close(result.expectation, value)

    def test_bernoulli_is_two_terms(self) -> None:
        # E[f] = (1 - p) f(0) + p f(1): d/dp = f(1) - f(0).
        result = sum_of("cos(X) + X", {"X": ("bernoulli", {"p": "p"})}, {"p": 0.25})
        assert result.derivatives[0] == pytest.approx(float(mpmath.cos(1) + 1 - 1), rel=1e-14)
        assert result.terms == 2

    def test_two_independent_laws_and_two_parameters(self) -> None:
        random = {"X": ("poisson", {"lam": "a"}), "Y": ("geometric", {"p": "b"})}
        result = sum_of("sqrt(X + Y)", random, {"a": 2.0, "b": 0.4})
        (px, dpx, xs), (py, dpy, ys) = poisson(mpmath.mpf(2)), geometric(mpmath.mpf(0.4))
        root = [[mpmath.sqrt(x + y) for y in ys] for x in xs]
        da = mpmath.fsum(root[i][j] * dpx(x) * py(y) for i, x in enumerate(xs) for j, y in enumerate(ys))
        db = mpmath.fsum(root[i][j] * px(x) * dpy(y) for i, x in enumerate(xs) for j, y in enumerate(ys))
        assert close(result.derivatives[0], da)
        assert close(result.derivatives[1], db)


class TestRefusals:
    def test_a_function_growing_faster_than_any_power(self) -> None:
        message = refusal("exp(X)", {"X": ("poisson", {"lam": "lam"})}, {"lam": 2.0})
        assert message == (
            "the function's growth in the random variables cannot be bounded (Nabla bounds sums, products, powers, "
            "logarithms and bounded functions such as sin, tanh, erf), so neither can the sum's tail"
        )

    def test_a_continuous_variable(self) -> None:
        message = refusal("sqrt(abs(X))", {"X": ("normal", {"mu": "t", "sigma": 1})}, {"t": 1.0})
        assert message == "summation needs every random variable discrete, and 'X' is normal"

    def test_a_law_depending_on_another_variable(self) -> None:
        random = {"N": ("poisson", {"lam": 3}), "X": ("binomial", {"n": "N", "p": "t"})}
        message = refusal("sqrt(X)", random, {"t": 0.5})
        assert message == "the law of 'X' depends on the random N: summation is done for independent variables only"

    def test_too_many_terms(self) -> None:
        message = refusal("sqrt(X)", {"X": ("geometric", {"p": "p"})}, {"p": 1e-3}, terms=1000)
        assert message == (
            "the sum over 'X' needs more than 1000 terms (NABLA_MAX_SERIES_TERMS) to reach the tolerance"
        )

    def test_too_many_terms_in_the_box(self) -> None:
        random = {"X": ("binomial", {"n": 40, "p": "p"}), "Y": ("binomial", {"n": 40, "p": 0.5})}
        message = refusal("sqrt(X*Y)", random, {"p": 0.5}, terms=1000)
        assert message == "the sum needs 41 x 41 = 1681 terms, more than 1000 (NABLA_MAX_SERIES_TERMS)"

    def test_a_support_point_where_f_is_not_finite(self) -> None:
        message = refusal("log(X)", {"X": ("poisson", {"lam": "lam"})}, {"lam": 2.0})
        assert message == "the function or its derivative is not finite at X = 0, a point of the support"

    def test_an_edge_of_the_parameters(self) -> None:
        message = refusal("sqrt(X)", {"X": ("binomial", {"n": 5, "p": "p"})}, {"p": 0.0})
        assert message == "'X' is at the edge of its parameters (n = 5, p = 0), where no score exists"

    def test_terms_that_cancel_below_the_tolerance(self) -> None:
        # d/dlam E[X^2] = 1 + 2 lam at lam = 1e6: the weights' recurrence alone may be off by more than 1e-12.
        message = refusal("X^2", {"X": ("poisson", {"lam": "lam"})}, {"lam": 1e6})
        assert message.startswith("the sum for the derivative by lam (2e+06) is not within 1e-12 of itself")

    def test_out_of_time(self) -> None:
        message = refusal("sqrt(X)", {"X": ("poisson", {"lam": "lam"})}, {"lam": 1e4}, timeout=1e-6)
        assert message == "the sum took longer than 1e-06 s (NABLA_EXACT_TIMEOUT)"


FUNCTIONS = [
    "sqrt(X)", "X^3 - 7*X + 2", "log(1 + X)*sin(X)", "1/(1 + X)", "sigmoid(X - 4)", "exp(-X)*X^2", "abs(X - 3)^1.5",
    "max(X, 2)*tanh(X)", "log(2 + X^2)", "cbrt(X + 1)",
]  # fmt: skip


class TestEnvelope:
    @settings(max_examples=60, deadline=None)
    @given(st.sampled_from(FUNCTIONS), st.integers(0, 10**6))
    def test_it_bounds_the_function_at_every_count(self, text: str, k: int) -> None:
        expr = build(parse(text, DEFAULT_LIMITS), {"X"}, DEFAULT_LIMITS, declared={"X"})
        bound = envelope(expr, {"X": 0})
        assert bound is not None
        value = abs(complex(sp.N(expr.xreplace({symbol("X"): sp.Integer(k)}), 30)))
        assert value <= bound.constant * (1 + k) ** bound.degrees.get("X", 0.0) * (1 + 1e-12)

    @pytest.mark.parametrize("text", ["exp(X)", "2^X", "gamma(X + 1)", "1/(X - 3)", "log(X - 1)"])
    def test_it_refuses_what_it_cannot_bound(self, text: str) -> None:
        expr = build(parse(text, DEFAULT_LIMITS), {"X"}, DEFAULT_LIMITS, declared={"X"})
        assert envelope(expr, {"X": 0}) is None

    def test_degrees_follow_the_growth(self) -> None:
        expr = build(parse("X^2*sqrt(Y) + 3", DEFAULT_LIMITS), {"X", "Y"}, DEFAULT_LIMITS, declared={"X", "Y"})
        bound = envelope(expr, {"X": 0, "Y": 1})
        assert bound is not None
        assert (bound.constant, dict(bound.degrees)) == (4.0, {"X": 2.0, "Y": 0.5})
        assert np.isfinite(bound.constant)


PAIRS: dict[str, Callable[[Mpf], Mpf]] = {
    "sqrt(X)": mpmath.sqrt,
    "log(1 + X)": lambda k: mpmath.log(1 + k),
    "X^3 - 2*X": lambda k: k**3 - 2 * k,
    "1/(1 + X)": lambda k: 1 / (1 + k),
    "sin(X)": mpmath.sin,
    "X*exp(-X/10)": lambda k: k * mpmath.exp(-k / 10),
}


def binomial(n: int) -> Callable[[Mpf], Law]:
    def law(p: Mpf) -> Law:
        return (
            lambda k: mpmath.binomial(n, k) * p**k * (1 - p) ** (n - k),
            lambda k: mpmath.binomial(n, k) * p**k * (1 - p) ** (n - k) * (k / p - (n - k) / (1 - p)),
            range(n + 1),
        )

    return law


LAWS = st.one_of(
    st.tuples(st.just("poisson"), st.just("lam"), st.floats(0.01, 1000.0), st.just(poisson)),
    st.tuples(st.just("geometric"), st.just("p"), st.floats(0.02, 0.999), st.just(geometric)),
    st.integers(1, 300).flatmap(
        lambda n: st.tuples(st.just(f"binomial {n}"), st.just("p"), st.floats(0.001, 0.999), st.just(binomial(n)))
    ),
)


class TestNeverWrong:
    @settings(max_examples=40, deadline=None)
    @given(st.sampled_from(sorted(PAIRS)), LAWS)
    @example("sqrt(X)", ("poisson", "lam", 15.0, poisson))  # where mpmath.nsum's extrapolation was wrong
    @example("X^3 - 2*X", ("binomial 300", "p", 0.999, binomial(300)))
    def test_a_reported_value_is_within_the_tolerance(self, text: str, law: tuple[str, str, float, Any]) -> None:
        """Across laws, parameters and functions: the sum is either refused or correct to 1e-12 (mpmath truth)."""
        family, parameter, value, truth = law
        name, *n = family.split()
        params: dict[str, Any] = {parameter: parameter} | ({"n": int(n[0])} if n else {})
        try:
            result = sum_of(text, {"X": (name, params)}, {parameter: value})
        except NotSummable:
            return
        expected, slope = reference(PAIRS[text], truth(mpmath.mpf(value)))
        assert close(result.derivatives[0], slope)
        if result.expectation is not None:
            assert close(result.expectation, expected)
