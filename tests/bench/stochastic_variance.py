"""The variance figures and coverage tables of the discrete estimators (README, "Stochastic derivatives").

    .venv/bin/python -m tests.bench.stochastic_variance        # about half a minute

For each discrete problem of ``tests/compute/test_stochastic.py``: the variance of one derivative sample under the
score and the measure_valued estimators on the same 100 000 draws (seed 1), their ratio and the standard errors,
then the coverage of the nominal 95% interval over 200 seeds of 4000 draws each. Not a test: the suite asserts the
coverage band (90-99%) and the lower variance; this prints the numbers.
"""

from __future__ import annotations

from service.compute.stochastic import run
from tests.compute.test_stochastic import PROBLEMS, REPEATS, Problem, coverage, task

DISCRETE = [p for p in PROBLEMS if "measure_valued" in p.estimators]


def _variances(problem: Problem) -> str:
    result = run(task(problem.function, problem.random, problem.at, samples=100_000, seed=1))
    score, coupled = result.variance["score"], result.variance["measure_valued"]
    assert score is not None
    assert coupled is not None
    cells = [
        f"{s:.4g} | {c:.4g} | {s / c:.1f}x | {(s / 1e5) ** 0.5:.3g} | {(c / 1e5) ** 0.5:.3g}"
        for s, c in zip(score, coupled, strict=True)
    ]
    return f"| {problem.name} | `{problem.function}` | " + " / ".join(cells) + " |"


def _coverage(problem: Problem) -> str:
    cells = []
    for estimator in ("score", "measure_valued"):
        runs = [
            run(task(problem.function, problem.random, problem.at, estimator=estimator, seed=seed))
            for seed in range(REPEATS)
        ]
        cells.append(" / ".join(f"{c:.1%}" for c in coverage(runs, problem.truth)))
    return f"| {problem.name} | " + " | ".join(cells) + " |"


def main() -> None:
    print("| problem | function | var score | var measure_valued | ratio | se score | se measure_valued |")  # noqa: T201 (a report)
    print("|---|---|---|---|---|---|---|")  # noqa: T201
    for problem in DISCRETE:
        print(_variances(problem))  # noqa: T201
    print(f"\n| problem | score: coverage of 95% over {REPEATS} seeds | measure_valued |")  # noqa: T201
    print("|---|---|---|")  # noqa: T201
    for problem in DISCRETE:
        print(_coverage(problem))  # noqa: T201


if __name__ == "__main__":
    main()
