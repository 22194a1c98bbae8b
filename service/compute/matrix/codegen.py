"""``code.numpy``: the source of a plain NumPy function computing a derivative, for users to paste.

It is text for people, built from the same step list as the evaluator; the service never executes it. Variables
keep their names (a Python keyword gets a trailing underscore: ``lambda_``); temporaries are ``t0, t1, ...``.
"""

from __future__ import annotations

import keyword
from collections.abc import Sequence

from service.compute.matrix.evaluate import Step, layout, plan
from service.compute.matrix.expr import Dim, Expr, Shape
from service.compute.matrix.printer import format_number, to_text

__all__ = ["numpy_source", "python_name"]

_CALLS = {
    "neg": "-{0}", "times": "{0} * {1}", "hadamard": "{0} * {1}", "ediv": "{0} / {1}", "epow": "{0} ** {1}",
    "square": "{0} ** 2", "matmul": "{0} @ {1}", "outer": "np.outer({0}, {1})", "diag_left": "{0}[:, None] * {1}",
    "gram": "{0}.T @ ({1}[:, None] * {0})",
    "diag_vector": "{0} * {1}", "diag_right": "{0} * {1}", "exp": "np.exp({0})", "log": "np.log({0})",
    "sin": "np.sin({0})", "cos": "np.cos({0})", "tan": "np.tan({0})", "tanh": "np.tanh({0})",
    "sinh": "np.sinh({0})", "cosh": "np.cosh({0})", "sigmoid": "0.5 * (1.0 + np.tanh(0.5 * {0}))",
    "softplus": "np.logaddexp(0.0, {0})", "abs": "np.abs({0})", "sqrt": "np.sqrt({0})", "sign": "np.sign({0})",
    "sum": "np.sum({0})", "tr": "np.trace({0})", "det": "np.linalg.det({0})",
    "logdet": "np.linalg.slogdet({0})[1]", "norm1": "np.sum(np.abs({0}))", "norm2": "np.linalg.norm({0})",
    "inv": "np.linalg.inv({0})", "diagm": "np.diag({0})", "diagv": "np.diag({0})",
}  # fmt: skip


def python_name(name: str) -> str:
    return f"{name}_" if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name == "np" else name


def _size_expressions(variables: Sequence[tuple[str, Shape]]) -> dict[Dim, str]:
    sizes: dict[Dim, str] = {}
    for name, shape in variables:
        for axis, dim in enumerate(layout(shape)):
            if isinstance(dim, str):
                sizes.setdefault(dim, f"{python_name(name)}.shape[{axis}]")
    return sizes


def numpy_source(expr: Expr, variables: Sequence[tuple[str, Shape]], title: str) -> str:
    """``def derivative(<every variable>)`` returning the value of ``expr`` (a float or an ndarray)."""
    sizes = _size_expressions(variables)

    def size(dim: Dim) -> str:
        return str(dim) if isinstance(dim, int) else sizes[dim]

    steps = plan(expr)
    names: list[str] = []
    lines: list[str] = []
    for number, step in enumerate(steps):
        text = _expression(step, names, size)
        if step.kind in ("var", "num") or number == len(steps) - 1:
            names.append(text if step.kind != "var" else python_name(step.node.name))
            continue
        names.append(f"t{len(lines)}")
        lines.append(f"    t{len(lines)} = {text}")
    signature = ", ".join(python_name(name) for name, _ in variables)
    result = names[-1] if steps[-1].kind in ("var", "num") else _expression(steps[-1], names, size)
    if steps[-1].kind == "num" or not layout(expr.shape):
        result = f"float({result})"
    body = "\n".join(lines)
    return (
        "import numpy as np\n\n\n"
        f"def derivative({signature}):\n"
        f'    """{title}\n\n    Vectors are 1-d arrays, matrices 2-d; returns {to_text(expr)}."""\n'
        + (body + "\n" if body else "")
        + f"    return {result}\n"
    )


def _expression(step: Step, names: list[str], size: object) -> str:
    node = step.node
    shape = layout(node.shape)
    if step.kind == "var":
        return python_name(node.name)
    if step.kind == "num":
        text = format_number(node.value)
        return f"({text})" if "/" in text or node.value < 0 else text
    if step.kind in ("ones", "zero", "eye"):
        dims = ", ".join(size(d) for d in (shape if step.kind != "eye" else shape[:1]))  # type: ignore[operator]
        call = {"ones": "np.ones", "zero": "np.zeros", "eye": "np.eye"}[step.kind]
        return f"{call}({dims})" if step.kind == "eye" or len(shape) == 1 else f"{call}(({dims}))"
    args = [names[i] for i in step.args]
    if step.kind == "T":
        return f"{args[0]}.T" if node.is_matrix else args[0]
    if step.kind == "add":
        return " + ".join(args)
    return _CALLS[step.kind].format(*args)
