"""Random expressions of the matrix language: every derivative agrees with central differences of the function,
and every printed derivative parses back to a tree of the same value (a property test over the simplifier too)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import service.compute.matrix.expr as E
from service.compute.errors import NoMatrixForm
from service.compute.matrix.build import build
from service.compute.matrix.derive import derivative
from service.compute.matrix.evaluate import compile_evaluator
from service.compute.matrix.printer import to_text
from service.compute.matrix.syntax import parse

SHAPES = {"x": ("n", 1), "b": ("n", 1), "A": ("n", "n"), "c": (1, 1)}
N = 3
RNG = np.random.default_rng(5)
AT = {
    "x": RNG.uniform(0.3, 0.9, N),
    "b": RNG.uniform(0.3, 0.9, N),
    "A": RNG.uniform(-0.5, 0.5, (N, N)) + 2 * np.eye(N),
    "c": np.asarray(0.7),
}

_FUNCTIONS = ("sin", "tanh", "sigmoid", "exp", "softplus")


def _vector(rng: random.Random, depth: int) -> str:
    """A random vector expression; every composite is parenthesised, so operators never regroup."""
    if depth == 0 or rng.random() < 0.3:
        return rng.choice(["x", "b", "(A*x)", "(A'*b)"])
    u = _vector(rng, depth - 1)
    choice = rng.randrange(7)
    if choice < 3:
        return f"({u} {('+', '-', '.*')[choice]} {_vector(rng, depth - 1)})"
    if choice == 3:
        return f"(({_scalar(rng, depth - 1)})*{u})"
    if choice == 4:
        return f"(A*{u})"
    if choice == 5:
        return f"{rng.choice(_FUNCTIONS)}({u})"
    return f"({u} ./ (1 + {u}.^2))"


def _scalar(rng: random.Random, depth: int) -> str:
    if depth == 0 or rng.random() < 0.3:
        return rng.choice(["c", "2", "(x'*b)", "sum(x)"])
    u = _vector(rng, depth - 1)
    return rng.choice(
        [f"(({u})'*{_vector(rng, depth - 1)})", f"(norm2({u})^2)", f"sum({u})", f"log(1 + norm2({u}))", f"({u}'*A*{u})"]
    )


def _function(rng: random.Random) -> str:
    u = _vector(rng, 2)
    return rng.choice(
        [_scalar(rng, 3), f"sum(log(vector(1) + exp({u})))", f"logdet(A + {u}*{u}')", f"tr(A*A'*({_scalar(rng, 2)}))"]
    )


_functions = st.integers(0, 10**9).map(lambda seed: _function(random.Random(seed)))
_scalars = st.integers(0, 10**9).map(lambda seed: _scalar(random.Random(seed), 3))


def central(f: object, wrt: str, h: float = 1e-6) -> np.ndarray:
    base = AT[wrt]
    out = np.zeros(np.shape(base))
    for index in np.ndindex(np.shape(base)):
        up, down = base.copy(), base.copy()
        up[index] += h
        down[index] -= h
        out[index] = (f({**AT, wrt: up}) - f({**AT, wrt: down})) / (2 * h)  # type: ignore[operator]
    return out


@settings(max_examples=40, deadline=None, derandomize=True)
@given(text=_functions, wrt=st.sampled_from(["x", "A", "c"]))
def test_gradient_agrees_with_central_differences(text: str, wrt: str) -> None:
    f = build(parse(text), SHAPES)
    result = derivative(f, E.var(wrt, SHAPES[wrt]))
    function = compile_evaluator(f, SHAPES)
    got = compile_evaluator(result, SHAPES)(AT)
    np.testing.assert_allclose(got, central(function, wrt), rtol=1e-5, atol=1e-6)
    reparsed = build(parse(to_text(result)), SHAPES)
    np.testing.assert_allclose(compile_evaluator(reparsed, SHAPES)(AT), got, rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(text=_scalars)
def test_hessian_agrees_with_central_differences_of_the_gradient(text: str) -> None:
    f = build(parse(text), SHAPES)
    x = E.var("x", SHAPES["x"])
    try:
        gradient = derivative(f, x)
        hessian = derivative(gradient, x)
    except NoMatrixForm:  # a matrix intermediate may be refused: never a wrong matrix
        return
    g = compile_evaluator(gradient, SHAPES)
    base = AT["x"]
    expected = np.zeros((N, N))
    for j in range(N):
        up, down = base.copy(), base.copy()
        up[j] += 1e-6
        down[j] -= 1e-6
        expected[:, j] = (g({**AT, "x": up}) - g({**AT, "x": down})) / 2e-6
    np.testing.assert_allclose(compile_evaluator(hessian, SHAPES)(AT), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("text", ["x .* sin(x)", "A*tanh(x) + c*x", "sigmoid(A*x) ./ (1 + x.^2)"])
def test_jacobian_agrees_with_central_differences(text: str) -> None:
    f = build(parse(text), SHAPES)
    jacobian = compile_evaluator(derivative(f, E.var("x", SHAPES["x"])), SHAPES)(AT)
    function = compile_evaluator(f, SHAPES)
    expected = np.zeros((N, N))
    for j in range(N):
        up, down = AT["x"].copy(), AT["x"].copy()
        up[j] += 1e-6
        down[j] -= 1e-6
        expected[:, j] = (function({**AT, "x": up}) - function({**AT, "x": down})) / 2e-6
    np.testing.assert_allclose(jacobian, expected, rtol=1e-5, atol=1e-6)
