"""The measure_valued estimator of discrete laws: each family's coupling against the derivative of its summed
expectation (mpmath), unbiasedness and coverage over many seeds, the chain rule, models of several variables, the
fallback to the score, and the Bernoulli whose probability reaches 0 or 1.

Truths are derivatives of expectations summed with mpmath at 30 digits (or closed forms derived by hand, noted
beside each), never the service's own output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath as mp
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from service.compute.distributions.families import FAMILIES
from service.compute.errors import InvalidInput, NablaError
from service.compute.stochastic import run
from tests.compute.test_stochastic import (
    PROBLEMS,
    REPEATS,
    Problem,
    assert_covers_at_nominal_rate,
    assert_unbiased,
    task,
)

Pmf = Callable[[int, Any], Any]

# The laws as mpmath sums (support, pmf in the parameter q), written from their definitions.
LAWS: dict[str, tuple[Callable[[Any], range], Pmf]] = {
    "bernoulli": (lambda q: range(2), lambda k, q: q if k == 1 else 1 - q),
    "binomial": (lambda q: range(8), lambda k, q: mp.binomial(7, k) * q**k * (1 - q) ** (7 - k)),
    "poisson": (lambda q: range(400), lambda k, q: mp.exp(-q) * q**k / mp.factorial(k)),
    "geometric": (lambda q: range(1, 1500), lambda k, q: (1 - q) ** (k - 1) * q),
}
LAW_PMF: dict[str, Pmf] = {
    "bernoulli": LAWS["bernoulli"][1],
    "binomial": lambda k, q: mp.binomial(9, k) * q**k * (1 - q) ** (9 - k),
    "geometric": LAWS["geometric"][1],
}
FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "x^2": lambda x: mp.mpf(x) ** 2,
    "sqrt(x)": lambda x: mp.sqrt(x),
    "exp(-x/3)": lambda x: mp.exp(-mp.mpf(x) / 3),
    "1/(1 + x)": lambda x: 1 / (1 + mp.mpf(x)),
}


def expectation(family: str, f: Callable[[Any], Any], q: Any) -> Any:
    support, pmf = LAWS[family]
    return mp.fsum(pmf(k, q) * f(k) for k in support(q))


def derivative(family: str, f: Callable[[Any], Any], q: Any) -> float:
    """d/dq E[f(X)]: mpmath's derivative of the summed expectation, at 30 digits."""
    with mp.workdps(30):
        return float(mp.diff(lambda t: expectation(family, f, t), mp.mpf(q)))


def coupled(family: str, f: Callable[[Any], Any], q: Any) -> float:
    """E[sum_k w_k(X) f(r_k(X))] by summation, with the record's weights and replacements, at 30 digits."""
    with mp.workdps(30):
        return float(_coupled(family, f, mp.mpf(q)))


def _coupled(family: str, f: Callable[[Any], Any], q: Any) -> Any:
    x = sp.Symbol("x")
    params = {"p": sp.Float(str(q), 40), "lam": sp.Float(str(q), 40), "n": sp.Integer(7)}
    coupling = FAMILIES[family].coupling
    assert coupling is not None
    terms = coupling.terms(x, params)
    support, pmf = LAWS[family]
    total = mp.mpf(0)
    for k in support(q):
        for weight, replacement in terms:
            w = mp.mpf(str(sp.N(weight.subs(x, k), 35)))
            if w != 0:
                total += pmf(k, q) * w * f(int(replacement.subs(x, k)))
    return total


class TestCouplingIdentity:
    """d/dq E[f(X)] (mpmath's derivative of the summed series) equals the coupling's expectation."""

    @pytest.mark.parametrize("family", list(LAWS))
    @pytest.mark.parametrize("function", list(FUNCTIONS))
    def test_the_coupling_is_the_derivative(self, family: str, function: str) -> None:
        q = 0.3 if family != "poisson" else 2.5
        f = FUNCTIONS[function]
        assert coupled(family, f, q) == pytest.approx(derivative(family, f, q), rel=1e-12, abs=1e-14)

    @settings(max_examples=25, deadline=None)
    @given(q=st.floats(0.05, 0.95), family=st.sampled_from(["bernoulli", "binomial", "geometric"]))
    def test_across_the_parameter_range(self, q: float, family: str) -> None:
        f = FUNCTIONS["sqrt(x)"]
        assert coupled(family, f, q) == pytest.approx(derivative(family, f, q), rel=1e-10, abs=1e-12)

    @settings(max_examples=15, deadline=None)
    @given(lam=st.floats(0.05, 20.0))
    def test_poisson_across_its_rates(self, lam: float) -> None:
        f = FUNCTIONS["sqrt(x)"]
        assert coupled("poisson", f, lam) == pytest.approx(derivative("poisson", f, lam), rel=1e-10)

    def test_the_weights_of_every_draw_sum_to_zero(self) -> None:
        x = sp.Symbol("x")
        params = {"p": sp.Symbol("p"), "lam": sp.Symbol("lam"), "n": sp.Symbol("n")}
        for family in LAWS:
            coupling = FAMILIES[family].coupling
            assert coupling is not None
            assert sp.simplify(sum(w for w, _ in coupling.terms(x, params))) == 0


def assert_covers(result: Any, truth: float) -> None:
    """The 95% interval of one run holds the truth."""
    assert result.low[0] is not None
    assert result.high[0] is not None
    assert result.low[0] <= truth <= result.high[0]


COUPLED = [p for p in PROBLEMS if "measure_valued" in p.estimators]


@pytest.mark.parametrize("problem", COUPLED, ids=[p.name for p in COUPLED])
def test_the_coupling_has_the_lower_variance_on_the_same_draws(problem: Problem) -> None:
    result = run(task(problem.function, problem.random, problem.at, samples=20_000, seed=11))
    assert result.treatments["X"] == "measure_valued"  # auto's choice
    coupled, scored = result.variance["measure_valued"], result.variance["score"]
    assert coupled is not None
    assert scored is not None
    assert all(3 * c < s for c, s in zip(coupled, scored, strict=True)), (coupled, scored)
    assert result.variance["pathwise"] is None


class TestAutoChoosesPerVariable:
    """auto takes, per discrete variable, the coupling or the score: whichever has the lower variance on a pilot."""

    # E[cos(pi X)] = E[(-1)^X] = exp(-2 lam) for X ~ Poisson(lam): derivative -2 exp(-2 lam) = -2 exp(-10) at 5.
    # The coupling's samples are +-2 (cos(pi (X + 1)) - cos(pi X)), the score's nearly 0: the score is lower here.
    OSCILLATING = ("cos(pi*X)", {"X": ("poisson", {"lam": "t"})}, {"t": 5.0})

    def test_the_score_where_it_is_lower(self) -> None:
        result = run(task(*self.OSCILLATING, samples=50_000, seed=2))
        assert (result.estimator, dict(result.treatments)) == ("score", {"X": "score"})
        coupled, scored = result.variance["measure_valued"], result.variance["score"]
        assert coupled is not None
        assert scored is not None
        assert coupled[0] > 10 * scored[0]
        assert result.standard_error[0] == pytest.approx((scored[0] / 50_000) ** 0.5)
        assert_covers(result, -2 * float(mp.exp(-10)))

    def test_per_variable(self) -> None:
        # X's score term is (F - b) d/dt log p(X), and F carries the noise of the other variable: with 10 sqrt(N)
        # in F (N ~ Poisson(3t), coupled) that term's variance exceeds the coupling's +-2, so X keeps its coupling;
        # with sqrt(N) of a fixed law it stays below, and X alone is scored.
        random = {"X": ("poisson", {"lam": "t"}), "N": ("poisson", {"lam": "3*t"})}
        result = run(task("cos(pi*X) + 10*sqrt(N)", random, {"t": 5.0}, samples=20_000, seed=2))
        assert dict(result.treatments) == {"X": "measure_valued", "N": "measure_valued"}
        alone = run(task("cos(pi*X) + sqrt(N)", {"X": random["X"], "N": ("poisson", {"lam": 3})}, {"t": 5.0}))
        assert dict(alone.treatments) == {"X": "score", "N": "independent"}

    def test_the_choice_does_not_bias_the_estimate(self) -> None:
        truth = (-2 * float(mp.exp(-10)),)
        runs = [run(task(*self.OSCILLATING, seed=seed)) for seed in range(REPEATS)]
        assert_unbiased(runs, truth)
        assert_covers_at_nominal_rate(runs, truth)


def test_a_lone_bernoulli_is_exact() -> None:
    # E[(X - 0.3)^2] = 0.09 + 0.4p: every draw's f(1) - f(0) is 0.4.
    result = run(task("(X - 0.3)^2", {"X": ("bernoulli", {"p": "theta"})}, {"theta": 0.3}, seed=4))
    assert result.estimate[0] == pytest.approx(0.4, abs=1e-15)


class TestModels:
    """Several variables: the coupled one carries its reparameterised children; others keep their treatment."""

    def test_a_normal_child_moves_with_its_poisson_parent(self) -> None:
        # Y | X ~ N(X, 1), X ~ Poisson(theta): E[Y^2] = 1 + theta + theta^2, derivative 1 + 2 theta = 4 at 1.5.
        random = {"X": ("poisson", {"lam": "theta"}), "Y": ("normal", {"mu": "X", "sigma": 1})}
        result = run(task("Y^2", random, {"theta": 1.5}, samples=100_000, seed=3))
        assert dict(result.treatments) == {"X": "measure_valued", "Y": "independent"}
        assert_covers(result, 4.0)

    def test_a_pathwise_child_of_a_coupled_parent(self) -> None:
        # Y | X ~ N(X, theta), X ~ Poisson(theta): E[Y^2] = theta^2 + theta + theta^2, derivative 4 theta + 1 = 7.
        random = {"X": ("poisson", {"lam": "theta"}), "Y": ("normal", {"mu": "X", "sigma": "theta"})}
        result = run(task("Y^2", random, {"theta": 1.5}, samples=100_000, seed=3))
        assert dict(result.treatments) == {"X": "measure_valued", "Y": "pathwise"}
        assert_covers(result, 7.0)

    def test_two_coupled_variables(self) -> None:
        # E[X N] = theta^2 for X ~ Bernoulli(theta), N ~ Poisson(theta) independent: derivative 2 theta = 0.8.
        random = {"X": ("bernoulli", {"p": "theta"}), "N": ("poisson", {"lam": "theta"})}
        result = run(task("X*N", random, {"theta": 0.4}, samples=50_000, seed=8))
        assert dict(result.treatments) == {"X": "measure_valued", "N": "measure_valued"}
        assert_covers(result, 0.8)

    def test_a_coupled_rate_drawn_pathwise(self) -> None:
        # Y | X ~ Poisson(X), X ~ Gamma(2, scale theta): E[sqrt(Y + 1) * theta] has no closed form, but E[Y^2] =
        # 2 theta + 6 theta^2: derivative 2 + 12 theta = 20 at 1.5 (the rate's chain rule runs through the noise).
        random = {"X": ("gamma", {"shape": 2, "scale": "theta"}), "Y": ("poisson", {"lam": "X"})}
        result = run(task("Y^2", random, {"theta": 1.5}, estimator="measure_valued", samples=100_000, seed=3))
        assert dict(result.treatments) == {"X": "pathwise", "Y": "measure_valued"}
        assert_covers(result, 20.0)

    def test_a_parent_whose_child_is_drawn_directly_takes_the_score(self) -> None:
        # Y | N ~ Binomial(N, 1/2), N ~ Poisson(theta): E[Y] = theta/2, derivative 1/2. N + 1 would need Y redrawn.
        random = {"N": ("poisson", {"lam": "theta"}), "Y": ("binomial", {"n": "N", "p": 0.5})}
        result = run(task("Y", random, {"theta": 2.0}, samples=100_000, seed=6))
        assert dict(result.treatments) == {"N": "score", "Y": "independent"}
        assert result.variance["measure_valued"] is None
        assert_covers(result, 0.5)

    def test_measure_valued_there_is_refused_with_why(self) -> None:
        random = {"N": ("poisson", {"lam": "theta"}), "Y": ("binomial", {"n": "N", "p": 0.5})}
        with pytest.raises(NablaError) as caught:
            run(task("Y", random, {"theta": 2.0}, estimator="measure_valued"))
        error = caught.value
        assert isinstance(error, InvalidInput)
        assert error.errors[0].loc == ("body", "random", "N")
        assert error.detail == (
            "the measure_valued estimator does not apply to 'N': the law of 'Y' depends on 'N' and its binomial law "
            "is drawn directly, not as a transform of noise, so its draws at a shifted value are not available (the "
            "coupling would need it drawn again); use estimator 'score', or 'auto' (which takes the score there)"
        )

    def test_a_scored_child_blocks_the_coupling(self) -> None:
        # Y | X ~ Gamma(shape theta, scale X + 1): Y's score would change with X, so X takes the score too.
        random = {"X": ("poisson", {"lam": "theta"}), "Y": ("gamma", {"shape": "theta", "scale": "X + 1"})}
        result = run(task("Y", random, {"theta": 2.0}, samples=2_000))
        assert dict(result.treatments) == {"X": "score", "Y": "score"}
        with pytest.raises(NablaError) as caught:
            run(task("Y", random, {"theta": 2.0}, estimator="measure_valued"))
        assert "it is treated by its score, whose log-density would change with the shifted value" in (
            caught.value.detail
        )

    def test_a_continuous_model_has_no_coupling_to_report(self) -> None:
        result = run(task("X^2", {"X": ("normal", {"mu": "t", "sigma": 1})}, {"t": 1.0}, estimator="measure_valued"))
        assert dict(result.treatments) == {"X": "pathwise"}
        assert result.variance["measure_valued"] is None

    def test_a_function_undefined_below_the_support_is_fine(self) -> None:
        # The binomial coupling weighs f(X - 1) by X: at X = 0 that term (sqrt(-1)) is absent, not NaN.
        truth = derivative("binomial", FUNCTIONS["sqrt(x)"], 0.2)
        result = run(task("sqrt(X)", {"X": ("binomial", {"n": 7, "p": "t"})}, {"t": 0.2}, samples=100_000, seed=2))
        assert result.warnings == ()
        assert_covers(result, truth)


# K ~ Binomial(2, 1/2) and P = K(K - 1)/2 + K(2 - K) theta: P is exactly 0 (K = 0), theta (K = 1) or 1 (K = 2),
# E[P] = 1/4 + theta/2.
EDGE = "K*(K - 1)/2 + K*(2 - K)*theta"
K = {"K": ("binomial", {"n": 2, "p": 0.5})}
EDGES = K | {"X": ("bernoulli", {"p": EDGE})}


class TestProbabilitiesOfZeroAndOne:
    """A law whose probability is exactly 0 or 1 in some draws: the score stays finite (it was null)."""

    def test_the_bernoulli_score_form_is_finite_there(self) -> None:
        x, p = sp.Symbol("x"), sp.Symbol("p")
        log_pmf = FAMILIES["bernoulli"].score_log(x, {"p": p})
        slope = sp.diff(log_pmf, p)
        # d/dp log(1 - p) = -1/(1 - p) = -1 at p = 0; d/dp log(p) = 1/p = 1 at p = 1.
        assert (log_pmf.subs({x: 0, p: 0}), slope.subs({x: 0, p: 0})) == (0, -1)
        assert (log_pmf.subs({x: 1, p: 1}), slope.subs({x: 1, p: 1})) == (0, 1)

    @settings(max_examples=30, deadline=None)
    @given(
        q=st.floats(0.001, 0.999), k=st.integers(0, 9), family=st.sampled_from(["bernoulli", "binomial", "geometric"])
    )
    def test_the_score_forms_are_the_log_pmf_on_the_support(self, q: float, k: int, family: str) -> None:
        law = FAMILIES[family]
        x = {"bernoulli": k % 2, "binomial": k, "geometric": k + 1}[family]
        params = {"p": sp.Float(q, 30), "n": sp.Integer(9)}
        guarded, plain = law.score_log(sp.Integer(x), params), law.log_density(sp.Integer(x), params)
        assert float(guarded) == pytest.approx(float(plain), rel=1e-12, abs=1e-12)
        truth = float(mp.log(LAW_PMF[family](x, mp.mpf(q))))  # the pmf from its definition
        assert float(guarded) == pytest.approx(truth, rel=1e-10, abs=1e-12)

    @pytest.mark.parametrize("estimator", ["score", "measure_valued"])
    def test_a_bernoulli_estimate_is_not_null(self, estimator: str) -> None:
        # E[(X + 1)^2] = E[3X + 1] = 3 (1/4 + theta/2) + 1: derivative 3/2.
        result = run(task("(X + 1)^2", EDGES, {"theta": 0.3}, estimator=estimator, samples=50_000, seed=1))
        assert result.warnings == ()
        assert_covers(result, 1.5)

    @pytest.mark.parametrize("estimator", ["score", "measure_valued"])
    @pytest.mark.parametrize(
        ("law", "truth"),
        [
            # E[X] = 3 E[P]: derivative 3/2.
            (("binomial", {"n": 3, "p": EDGE}), 1.5),
            # p = (P + 1)/2 is 1/2, (theta + 1)/2 or 1: E[X] = E[1/p] = 1/2 + 1/(theta + 1) + 1/4, derivative
            # -1/(theta + 1)^2.
            (("geometric", {"p": f"({EDGE} + 1)/2"}), -1 / 1.3**2),
        ],
        ids=["binomial", "geometric"],
    )
    def test_binomial_and_geometric_estimates_are_not_null(
        self, law: tuple[str, dict[str, Any]], truth: float, estimator: str
    ) -> None:
        result = run(task("X", K | {"X": law}, {"theta": 0.3}, estimator=estimator, samples=50_000, seed=1))
        assert result.warnings == ()
        assert_covers(result, truth)

    @settings(max_examples=20, deadline=None)
    @given(theta=st.floats(0.02, 0.98), c=st.floats(-3.0, 3.0))
    def test_across_the_range(self, theta: float, c: float) -> None:
        # E[(X + c)^2] = c^2 + (1 + 2c) P(X = 1), P(X = 1) = 1/4 + theta/2: derivative (1 + 2c)/2.
        result = run(task(f"(X + {c!r})^2", EDGES, {"theta": theta}, estimator="score", samples=4_000, seed=5))
        assert result.estimate[0] is not None
        assert result.standard_error[0] is not None
        assert abs(result.estimate[0] - (1 + 2 * c) / 2) <= 6 * result.standard_error[0] + 1e-12
