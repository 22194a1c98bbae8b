"""One stochastic-derivative request, from plain values to a plain result (a worker's task)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import stats

from service.compute.engine import NodeBudget
from service.compute.errors import NablaError
from service.compute.limits import MAX_SERIES_TERMS
from service.compute.notes import Note
from service.compute.stochastic.estimate import CompiledSurrogate, Estimates, Sampler, draw
from service.compute.stochastic.exact import (
    ClosedForm,
    Exact,
    Search,
    closed_form,
    exact_answer,
    signs,
)
from service.compute.stochastic.model import (
    Estimator,
    Model,
    ModelSpec,
    RandomSpec,
    Surrogate,
    Treatment,
    build_model,
    estimator_of,
    surrogate,
)
from service.compute.trust import Provenance, versions

Numbers = tuple[float | None, ...]


@dataclass(frozen=True)
class StochasticQuery:
    """A validated stochastic-derivative request in plain values (no limits or seed applied yet)."""

    function: str
    random: tuple[RandomSpec, ...]
    at: tuple[tuple[str, float], ...]
    wrt: tuple[str, ...]
    samples: int
    seed: int | None = None
    estimator: Estimator = "auto"
    confidence: float = 0.95
    exact: bool | None = None  # None: search once per model (remembered); True: search afresh; False: no exact value


@dataclass(frozen=True)
class StochasticTask:
    model: ModelSpec
    at: tuple[tuple[str, float], ...]
    samples: int
    seed: int
    estimator: Estimator = "auto"
    confidence: float = 0.95
    exact: bool = True
    exact_timeout: float = 2.0
    remembered: Search | None = None  # what an earlier search for this model came to: do not search again
    max_series_terms: int = MAX_SERIES_TERMS


@dataclass(frozen=True)
class StochasticResult:
    wrt: tuple[str, ...]
    estimator: str  # pathwise | score | measure_valued | mixed
    treatments: Mapping[str, str]  # per random variable: independent | pathwise | measure_valued | score
    estimate: Numbers
    standard_error: Numbers
    low: Numbers
    high: Numbers
    variance: dict[str, Numbers | None]  # per estimator that applies: the variance of one derivative sample
    exact: tuple[float, ...] | None
    expectation: tuple[str, str] | None  # (text, LaTeX) of E[f]
    exact_derivatives: tuple[tuple[str, str], ...] | None
    warnings: tuple[Note, ...] = field(default=())
    exact_method: str | None = None  # closed_form | summation, when ``exact`` is given
    expected_value: float | None = None  # E[f] at the point, exact (closed form or sum)
    search: Search | None = None  # what this request's closed-form search came to (None: not searched)
    provenance: Provenance | None = None  # monte_carlo by NumPy; cached: this worker had the compiled model


@dataclass(frozen=True)
class StochasticAnswer:
    """A result with what the request fixed: the query (point, draws, confidence level) and the seed used."""

    result: StochasticResult
    query: StochasticQuery
    seed: int

    @property
    def size(self) -> int:
        return 0


@dataclass(frozen=True)
class Prepared:
    """What a model compiles to, kept between requests: samplers and the estimators that apply."""

    model: Model
    samplers: tuple[Sampler, ...]
    chosen: CompiledSurrogate
    alternatives: dict[str, CompiledSurrogate | None]


def _reported(estimator: Estimator, candidate: Surrogate) -> bool:
    """Whether ``estimator``'s variance is worth a key: measure_valued only where some discrete law is coupled
    (elsewhere it treats every variable as auto does)."""
    return estimator != "measure_valued" or "measure_valued" in candidate.treatments.values()


def _attempt(
    model: Model, estimator: Estimator, budget: NodeBudget, chosen: CompiledSurrogate
) -> CompiledSurrogate | None:
    """``estimator``'s compiled surrogate, or None where it does not apply; the chosen one's when they treat every
    variable alike (auto that took pathwise everywhere is not compiled twice)."""
    try:
        candidate = surrogate(model, estimator, budget)
    except NablaError:
        return None
    if not _reported(estimator, candidate):
        return None
    same = candidate.treatments == chosen.surrogate.treatments
    return chosen if same else CompiledSurrogate.of(candidate)


@lru_cache(maxsize=128)
def _model(spec: ModelSpec) -> Model:
    return build_model(spec)


@lru_cache(maxsize=128)
def prepare(spec: ModelSpec, estimator: Estimator) -> Prepared:
    """The compiled model (kept: a repeated request compiles nothing). Each estimator that applies is compiled too,
    so that the response can show their variances side by side."""
    model = _model(spec)
    budget = NodeBudget(spec.max_result_nodes)
    chosen = CompiledSurrogate.of(surrogate(model, estimator, budget))
    every: tuple[Estimator, ...] = ("pathwise", "score", "measure_valued")
    alternatives: dict[str, CompiledSurrogate | None] = {
        name: _attempt(model, name, budget, chosen)
        if name != estimator
        else chosen
        if _reported(name, chosen.surrogate)
        else None
        for name in every
    }
    return Prepared(model, tuple(Sampler.of(v) for v in model.variables), chosen, alternatives)


@lru_cache(maxsize=128)
def _closed_form(spec: ModelSpec, signs: tuple[tuple[str, float], ...], timeout: float) -> ClosedForm | None:
    return closed_form(_model(spec), dict(signs), timeout)


def _optional(values: tuple[float, ...]) -> Numbers:
    return tuple(v if math.isfinite(v) else None for v in values)


def _interval(estimates: Estimates, samples: int, level: float) -> tuple[Numbers, Numbers, Numbers]:
    z = float(stats.norm.ppf(0.5 + level / 2))
    se = tuple(math.sqrt(v / samples) for v in estimates.variance)
    low = tuple(m - z * s for m, s in zip(estimates.mean, se, strict=True))
    high = tuple(m + z * s for m, s in zip(estimates.mean, se, strict=True))
    return _optional(se), _optional(low), _optional(high)


_FEW_DRAWS = 1_000  # below this the normal interval of a skewed estimator covers noticeably less than its level
_DOMINANT_SHARE = 0.4  # one draw carrying this much of the variance: heavy tails, perhaps an infinite variance
# (measured: 49-93% for infinite variances at 2e5 draws; 10-29% for a finite one at 1e3 draws)


def _note(code: str, index: int | None, detail: str) -> Note:
    """A warning about the estimate by ``wrt[index]`` (or the whole answer when ``index`` is None)."""
    return Note(code, detail, field=None if index is None else "estimate", index=index)


def _warnings(wrt: tuple[str, ...], estimates: Estimates, samples: int, scored: bool) -> tuple[Note, ...]:
    """What the numbers cannot say themselves: draws that were not finite, a variance one draw dominates, a score or
    coupling estimate with no spread at all (every draw alike: rare events unseen, though a lone Bernoulli's
    coupling is exact), and intervals from few draws."""
    notes = []
    for index, (name, bad, variance, share) in enumerate(
        zip(wrt, estimates.non_finite, estimates.variance, estimates.largest_share, strict=True)
    ):
        if bad:
            detail = (
                f"the derivative by {name} is not finite or not real in {bad} of {samples} draws (the function, a "
                "log-density or a derivative there): the expectation or its derivative may not exist at this point, "
                "or the draws reach the edge of float64; no estimate is given"
            )
            notes.append(_note("non_finite_draws", index, detail))
        elif scored and variance == 0:
            detail = (
                f"every draw gave the same derivative sample by {name}, so the interval has zero width: the draws "
                "may have missed rare events (a probability near 0 or 1); ask for more samples"
            )
            notes.append(_note("zero_spread", index, detail))
        elif share > _DOMINANT_SHARE:
            detail = (
                f"one draw carries {share:.0%} of the variance of the derivative by {name}: the tails are heavy, the "
                "variance may be infinite and the interval unreliable"
            )
            notes.append(_note("heavy_tail", index, detail))
    if samples < _FEW_DRAWS:
        detail = (
            f"with {samples} draws the interval is a rough guide: it is a large-sample (normal) interval and covers "
            f"less than its level for skewed estimators; {_FEW_DRAWS} draws or more are advised"
        )
        notes.append(_note("few_draws", None, detail))
    return tuple(notes)


def _discrete_draws_matter(chosen: Surrogate) -> bool:
    """Whether a zero spread may mean rare draws unseen: the score, or the coupling of a discrete law."""
    return chosen.score is not None or bool(chosen.differences)


_DISAGREEMENT = 6.0  # standard errors: a gap this wide is a bug somewhere (or a law SymPy reads differently)


def _disagreements(
    wrt: tuple[str, ...], estimates: Estimates, se: Numbers, exact: tuple[float, ...] | None, method: str | None
) -> tuple[Note, ...]:
    if exact is None:
        return ()
    source = "the exact sum" if method == "summation" else "the closed form"
    return tuple(
        _note(
            "closed_form_disagrees",
            index,
            f"{source} gives {value:.12g} for the derivative by {name}, far from the Monte Carlo estimate "
            f"{mean:.12g} (standard error {error:.3g}): one of them is wrong, or the draws missed rare events; please "
            "report this model",
        )
        for index, (name, value, mean, error) in enumerate(zip(wrt, exact, estimates.mean, se, strict=True))
        if error is not None and abs(value - mean) > _DISAGREEMENT * error + 1e-12 * max(1.0, abs(value))
    )


def _exact(task: StochasticTask, model: Model, at: Mapping[str, float]) -> Exact:
    """The closed form (cached per model and signs of ``at``: a timeout is not cached here, the web process
    remembers it) and its values, else the sum over a discrete model."""
    key = signs(task.at)
    search = None if task.remembered else lambda: _closed_form(task.model, key, task.exact_timeout)
    return exact_answer(model, at, search, task.remembered, task.exact_timeout, task.max_series_terms)


_PILOT = 2_000  # draws of the pilot on which auto chooses between a coupling and the score


def _scored_instead(task: StochasticTask, prepared: Prepared, at: Mapping[str, float]) -> frozenset[str]:
    """The coupled variables that auto scores instead, chosen on a pilot of independent draws (a seed derived from
    the request's): choosing on the estimate's own draws would bias it slightly towards the luckier estimator."""
    if task.estimator != "auto" or not prepared.chosen.surrogate.differences:
        return frozenset()
    size = min(task.samples, _PILOT)
    seed = int(np.random.SeedSequence([task.seed, _PILOT]).generate_state(1, np.uint64)[0] >> np.uint64(1))
    return prepared.chosen.lowest_variance(draw(prepared.samplers, at, size, seed), size)


def run(task: StochasticTask) -> StochasticResult:
    """The estimate, its standard error and interval, every estimator's variance and the exact value if found."""
    hits = prepare.cache_info().hits
    prepared = prepare(task.model, task.estimator)
    cached = prepare.cache_info().hits > hits  # this worker compiled the model for an earlier request
    at = dict(task.at)
    columns = draw(prepared.samplers, at, task.samples, task.seed)  # first: its errors count the draws asked for
    scored = _scored_instead(task, prepared, at)
    score: Treatment = "score"
    treatments = {**prepared.chosen.surrogate.treatments, **dict.fromkeys(scored, score)}
    estimates = prepared.chosen.estimate(columns, task.samples, scored)

    def _estimates(candidate: CompiledSurrogate) -> Estimates:  # the chosen estimator is not evaluated twice
        reuse = candidate is prepared.chosen and not scored
        return estimates if reuse else candidate.estimate(columns, task.samples)

    se, low, high = _interval(estimates, task.samples, task.confidence)
    variance = {
        name: None if candidate is None else _optional(_estimates(candidate).variance)
        for name, candidate in prepared.alternatives.items()
    }
    found = _exact(task, prepared.model, at) if task.exact else Exact(None, None, None, None, None)
    values, form = found.values, found.form
    printed = form.printed() if form is not None and values is not None else None
    return StochasticResult(
        wrt=task.model.wrt,
        estimator=estimator_of(treatments),
        treatments=treatments,
        estimate=_optional(estimates.mean),
        standard_error=se,
        low=low,
        high=high,
        variance=variance,
        exact=values,
        expectation=printed[0] if printed else None,
        exact_derivatives=printed[1:] if printed else None,
        warnings=(
            *_warnings(task.model.wrt, estimates, task.samples, _discrete_draws_matter(prepared.chosen.surrogate)),
            *_disagreements(task.model.wrt, estimates, se, values, found.method),
            *found.notes,
        ),
        exact_method=found.method,
        expected_value=found.expectation,
        search=found.search,
        provenance=Provenance("monte_carlo", versions("numpy"), cached),
    )
