"""Matrix-derivative benchmarks (issue 9): every figure a ratio against hand-written NumPy in the same run.

    python -m tests.bench.matrix                 # about half a minute
    python -m tests.bench.matrix --jax PYTHON    # also time jax.jit(jax.hessian(...)) in another interpreter

Targets:
  1. cached gradient and Hessian of the logistic loss sum(log(vector(1) + exp(-y .* (X*w)))), X 10 000 x 100:
     server-side compute <= 1.2x the hand-written formulas X'(-y s) and X' diag(s(1 - s)) X
  2. cached Hessian of x'*A*x at n = 1000: <= 1.5x NumPy's A + A.T
  3. a cold request (never-seen expression) over HTTP: within 50 ms plus its evaluation
Timings are medians of interleaved runs (ours, NumPy, ours, ...), so that load on the machine hits both alike.
JAX is never a dependency: give --jax the interpreter of a separate environment that has it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from service.compute.matrix import MatrixTask, evaluator, run
from service.config import Settings
from tests.conftest import http_client, started

LOSS = "sum(log(vector(1) + exp(-y .* (X*w))))"
SHAPES = (("X", ("m", "n")), ("w", ("n",)), ("y", ("m",)))


def interleaved(ours: Callable[[], Any], theirs: Callable[[], Any], repeat: int = 21) -> tuple[float, float]:
    """Median seconds of each, measured alternately."""
    a, b = [], []
    ours(), theirs()
    for _ in range(repeat):
        start = time.perf_counter()
        ours()
        a.append(time.perf_counter() - start)
        start = time.perf_counter()
        theirs()
        b.append(time.perf_counter() - start)
    return statistics.median(a), statistics.median(b)


def report(number: int, text: str, ratio: float, goal: float) -> None:
    verdict = "MET" if ratio <= goal else "NOT MET"
    print(f"target {number}: {text}: ratio {ratio:.2f} (goal <= {goal}) {verdict}", flush=True)  # noqa: T201 (the benchmark prints its report)


def logistic_data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10_000, 100))
    return {"X": X, "w": 0.1 * rng.normal(size=100), "y": np.sign(rng.normal(size=10_000))}


def target_1() -> None:
    at = logistic_data()
    X, y = at["X"], at["y"]
    for order, name in ((1, "gradient"), (2, "Hessian")):
        compiled = evaluator(run(MatrixTask(LOSS, "w", order, SHAPES)))
        assert compiled is not None

        def ours(compiled: Any = compiled) -> Any:
            return compiled.evaluate(at).value

        def gradient() -> np.ndarray:
            s = 1 / (1 + np.exp(y * (X @ at["w"])))
            return X.T @ (-y * s)

        def hessian() -> np.ndarray:
            s = 1 / (1 + np.exp(y * (X @ at["w"])))
            return X.T @ (X * (s * (1 - s))[:, None])

        theirs = gradient if order == 1 else hessian
        np.testing.assert_allclose(ours(), theirs(), rtol=1e-9)
        a, b = interleaved(ours, theirs)
        report(1, f"logistic loss {name}, X 10000x100: ours {a * 1e3:.2f} ms vs NumPy {b * 1e3:.2f} ms", a / b, 1.2)


def target_2() -> None:
    rng = np.random.default_rng(1)
    at = {"A": rng.normal(size=(1000, 1000)), "x": rng.normal(size=1000)}
    compiled = evaluator(run(MatrixTask("x'*A*x", "x", 2, (("A", ("n", "n")), ("x", ("n",))))))
    assert compiled is not None
    A = at["A"]
    a, b = interleaved(lambda: compiled.evaluate(at).value, lambda: A + A.T)
    report(2, f"Hessian of x'*A*x, n=1000: ours {a * 1e3:.2f} ms vs NumPy A + A.T {b * 1e3:.2f} ms", a / b, 1.5)


def target_3() -> None:
    async def measure() -> tuple[float, float]:
        async with started(Settings(workers=1)) as app, http_client(app) as client:
            at = {"A": np.eye(3).tolist(), "x": [1.0, 2.0, 3.0]}
            await client.post("/v1/matrix/derivative", json={"function": "x'*A*x", "wrt": "x", "at": at})
            colds, warms = [], []
            for _ in range(7):
                function = f"x'*A*x + {uuid.uuid4().int % 1000}*sum(exp(x))"  # never seen: a cold request
                body = {"function": function, "wrt": "x", "order": 2, "at": at}
                start = time.perf_counter()
                (await client.post("/v1/matrix/derivative", json=body)).raise_for_status()
                colds.append(time.perf_counter() - start)
                start = time.perf_counter()
                (await client.post("/v1/matrix/derivative", json=body)).raise_for_status()
                warms.append(time.perf_counter() - start)
            return statistics.median(colds), statistics.median(warms)

    cold, warm = asyncio.run(measure())
    extra = cold - warm  # the repeat pays the evaluation and HTTP: the difference is the symbolic work
    text = f"cold Hessian request {cold * 1e3:.0f} ms, repeat {warm * 1e3:.1f} ms: symbolic work {extra * 1e3:.0f} ms"
    report(3, text, extra / 0.050, 1.0)


JAX_SCRIPT = """
import time, statistics, numpy as np, jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
def paired(f, g):
    f(); g(); a, b = [], []
    for _ in range(21):
        t = time.perf_counter(); f(); a.append(time.perf_counter() - t)
        t = time.perf_counter(); g(); b.append(time.perf_counter() - t)
    return statistics.median(a), statistics.median(b)
rng = np.random.default_rng(0)
X = rng.normal(size=(10_000, 100)); w = 0.1 * rng.normal(size=100); y = np.sign(rng.normal(size=10_000))
h = jax.jit(jax.hessian(lambda w, X, y: jnp.sum(jnp.logaddexp(0.0, -y * (X @ w)))))
def by_hand():
    s = 1 / (1 + np.exp(y * (X @ w))); return X.T @ (X * (s * (1 - s))[:, None])
print(*paired(lambda: h(w, X, y).block_until_ready(), by_hand))
rng = np.random.default_rng(1)
A = rng.normal(size=(1000, 1000)); x = rng.normal(size=1000)
q = jax.jit(jax.hessian(lambda x, A: x @ A @ x))
print(*paired(lambda: q(x, A).block_until_ready(), lambda: A + A.T))
"""


def target_jax(python: str) -> None:
    """JAX runs in its own interpreter; both sides are timed against the same hand-written NumPy formula, each
    interleaved in its own process, and compared through it (the machine's load changes between the two runs)."""
    out = subprocess.run([python, "-c", JAX_SCRIPT], capture_output=True, text=True, timeout=600, check=True)
    (jax_h, numpy_h), (jax_q, numpy_q) = ((float(v) for v in line.split()) for line in out.stdout.splitlines())
    at = logistic_data()
    X, y = at["X"], at["y"]
    hessian = evaluator(run(MatrixTask(LOSS, "w", 2, SHAPES)))
    assert hessian is not None

    def by_hand() -> np.ndarray:
        s = 1 / (1 + np.exp(y * (X @ at["w"])))
        return X.T @ (X * (s * (1 - s))[:, None])

    ours, numpy = interleaved(lambda: hessian.evaluate(at).value, by_hand)
    ratio = (ours / numpy) / (jax_h / numpy_h)
    report(4, f"logistic Hessian vs jax.jit(jax.hessian): ours {ours / numpy:.2f}x NumPy, JAX {jax_h / numpy_h:.2f}x "
           f"NumPy ({jax_h * 1e3:.1f} ms vs {numpy_h * 1e3:.1f} ms in its run)", ratio, 1.0)  # fmt: skip
    rng = np.random.default_rng(1)
    qat = {"A": rng.normal(size=(1000, 1000)), "x": rng.normal(size=1000)}
    q = evaluator(run(MatrixTask("x'*A*x", "x", 2, (("A", ("n", "n")), ("x", ("n",))))))
    assert q is not None
    A = qat["A"]
    ours, numpy = interleaved(lambda: q.evaluate(qat).value, lambda: A + A.T)
    ratio = (ours / numpy) / (jax_q / numpy_q)
    report(5, f"x'*A*x Hessian vs jax.jit(jax.hessian): ours {ours / numpy:.2f}x NumPy, JAX {jax_q / numpy_q:.2f}x "
           f"NumPy ({jax_q * 1e3:.1f} ms vs {numpy_q * 1e3:.1f} ms in its run)", ratio, 1.0)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jax", metavar="PYTHON", help="an interpreter whose environment has jax")
    options = parser.parse_args()
    target_1()
    target_2()
    target_3()
    if options.jax:
        target_jax(options.jax)


if __name__ == "__main__":
    sys.exit(main())
