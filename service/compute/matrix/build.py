"""Syntax tree to typed tree: every name given a shape, every operator checked against its operands' shapes.

A shape error names the operator as written, its position, each operand's shape and what was expected:
``A*x at position 1: A has 2 columns but x has 3 rows``.
"""

from __future__ import annotations

from collections.abc import Mapping

import service.compute.matrix.expr as E
from service.compute.errors import InvalidExpression, ShapeMismatch, UnknownName, UnsupportedFunction, located
from service.compute.language.syntax import Binary, Call, Name, Node, Number, Unary
from service.compute.matrix.printer import to_text
from service.compute.matrix.syntax import FUNCTION_NAMES, TRANSPOSE

__all__ = ["build", "describe_shape", "names_of"]

_CALLS = {
    **dict.fromkeys(E.ELEMENTWISE, 1),
    **dict.fromkeys(E.REDUCTIONS, 1),
    "inv": 1,
    "diag": 1,
    "dot": 2,
    "vector": 1,
    "eye": 1,
}


def describe_shape(shape: E.Shape) -> str:
    rows, cols = shape
    if shape == E.SCALAR:
        return "a scalar"
    if cols == 1:
        return f"a vector of length {rows}"
    if rows == 1:
        return f"a row vector of length {cols} (a transposed vector)"
    return f"a matrix of {rows} rows and {cols} columns"


def names_of(tree: Node) -> list[str]:
    """Names used as values, in order of first appearance."""
    found: dict[str, None] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            found.setdefault(node.name, None)
        elif isinstance(node, Call):
            stack.extend(reversed(node.args))
        elif isinstance(node, Unary):
            stack.append(node.operand)
        elif isinstance(node, Binary):
            stack.extend((node.right, node.left))
    return list(found)


def _mismatch(message: str, pos: int) -> ShapeMismatch:
    return located(ShapeMismatch, message, (), pos)  # type: ignore[return-value]


class _Builder:
    def __init__(self, shapes: Mapping[str, E.Shape]) -> None:
        self.shapes = shapes

    def build(self, node: Node) -> E.Expr:
        if isinstance(node, Number):
            return E.num(node.value)
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, Unary):
            operand = self.build(node.operand)
            if node.op == TRANSPOSE:
                return E.transpose(operand)
            return E.neg(operand) if node.op == "-" else operand
        if isinstance(node, Binary):
            return self.binary(node, self.build(node.left), self.build(node.right))
        return self.call(node)

    def name(self, node: Name) -> E.Expr:
        if node.name == "eye" and "eye" not in self.shapes:
            return E.eye(E.PENDING)  # the identity whose size the context fixes
        if node.name in FUNCTION_NAMES:
            raise located(
                InvalidExpression,
                f"'{node.name}' at position {node.pos} is a function; call it as {node.name}(...)",
                (),
                node.pos,
            )
        shape = self.shapes.get(node.name)
        if shape is None:
            raise located(
                UnknownName,
                f"'{node.name}' at position {node.pos} has no shape: give it in 'shapes' (e.g. \"{node.name}\": "
                f"[\"n\"] for a vector, [] for a scalar) or its value in 'at'",
                (),
                node.pos,
            )
        return E.var(node.name, shape)

    def binary(self, node: Binary, a: E.Expr, b: E.Expr) -> E.Expr:
        op = node.op
        written = f"{to_text(a)}{op}{to_text(b)}" if op in "*/^" else f"{to_text(a)} {op} {to_text(b)}"
        where = f"{written} at position {node.pos}"
        if op == "*":
            return self.product(a, b, where, node.pos)
        if op in ("^", "/"):
            return self.scalar_operator(op, a, b, where, node.pos)
        if op == ".^":
            if not b.is_scalar:
                raise _mismatch(
                    f"{where}: the exponent of .^ must be a scalar, but {to_text(b)} is {describe_shape(b.shape)}",
                    node.pos,
                )
            return E.epow(a, b)
        if op == "./" and b.is_scalar:
            return E.ediv(a, b)
        a, b = self.elementwise_operands(a, b, op, where, node.pos)
        if op == "+":
            return E.add(a, b)
        if op == "-":
            return E.sub(a, b)
        if op == ".*":
            return E.hadamard(a, b)
        return E.ediv(a, b)

    def product(self, a: E.Expr, b: E.Expr, where: str, pos: int) -> E.Expr:
        if a.shape[1] == E.PENDING and b.shape[0] != E.PENDING:
            a = E.resolve(a, b.shape[0])
        elif b.shape[0] == E.PENDING and a.shape[1] != E.PENDING:
            b = E.resolve(b, a.shape[1])
        if a.is_scalar or b.is_scalar:
            return E.times(a, b)
        if a.shape[1] != b.shape[0]:
            raise _mismatch(
                f"{where}: {to_text(a)} has {a.shape[1]} column{'s' if a.shape[1] != 1 else ''} but {to_text(b)} "
                f"has {b.shape[0]} row{'s' if b.shape[0] != 1 else ''} ({to_text(a)} is {describe_shape(a.shape)}, "
                f"{to_text(b)} is {describe_shape(b.shape)}); use .* for an elementwise product or ' to transpose",
                pos,
            )
        return E.matmul(a, b)

    def scalar_operator(self, op: str, a: E.Expr, b: E.Expr, where: str, pos: int) -> E.Expr:
        if not b.is_scalar or (op == "^" and not a.is_scalar):
            culprit = b if not b.is_scalar else a
            elementwise = ".^" if op == "^" else "./"
            side = "exponent" if op == "^" and culprit is b else ("divisor" if op == "/" else "base")
            raise _mismatch(
                f"{where}: {op} needs a scalar {side}, but {to_text(culprit)} is {describe_shape(culprit.shape)}; "
                f"use {elementwise} for the elementwise operation",
                pos,
            )
        return E.epow(a, b) if op == "^" else E.ediv(a, b)

    def elementwise_operands(self, a: E.Expr, b: E.Expr, op: str, where: str, pos: int) -> tuple[E.Expr, E.Expr]:
        a, b = _fit(a, b), _fit(b, a)
        if a.shape == b.shape:
            return a, b
        if a.is_scalar:
            return E.broadcast(a, b.shape), b
        if b.is_scalar:
            return a, E.broadcast(b, a.shape)
        raise _mismatch(
            f"{where}: {op} needs operands of the same shape, but {to_text(a)} is {describe_shape(a.shape)} and "
            f"{to_text(b)} is {describe_shape(b.shape)}",
            pos,
        )

    def call(self, node: Call) -> E.Expr:
        arity = _CALLS.get(node.name)
        if arity is None:
            raise located(
                UnsupportedFunction,
                f"unknown function '{node.name}' at position {node.pos}; supported functions: "
                + ", ".join(sorted(_CALLS)),
                (),
                node.pos,
            )
        if len(node.args) != arity and not (node.name == "vector" and len(node.args) == 2):
            raise located(
                InvalidExpression,
                f"{node.name} takes {arity} argument{'s' if arity != 1 else ''}, got {len(node.args)} at position "
                f"{node.pos}",
                (),
                node.pos,
            )
        if node.name == "eye":
            return self.eye(node)
        if node.name == "vector" and len(node.args) == 2:
            length = self.eye(Call("vector", node.args[1:], node.pos)).shape[0]
            return E.resolve(self.vector(node, self.build(node.args[0]), f"vector at position {node.pos}"), length)
        args = [self.build(arg) for arg in node.args]
        where = f"{node.name}({', '.join(to_text(a) for a in args)}) at position {node.pos}"
        if node.name in E.ELEMENTWISE:
            return E.fn(node.name, args[0])
        if node.name == "vector":
            return self.vector(node, args[0], where)
        if node.name == "dot":
            return self.dot(args[0], args[1], where, node.pos)
        if node.name == "diag":
            return self.diag(args[0], where, node.pos)
        arg = args[0]
        if node.name in ("tr", "det", "logdet", "inv"):
            if arg.shape[0] != arg.shape[1] or (node.name != "tr" and arg.is_vector):
                raise _mismatch(
                    f"{where}: {node.name} needs a square matrix, but {to_text(arg)} is {describe_shape(arg.shape)}",
                    node.pos,
                )
            return E.inv(arg) if node.name == "inv" else E.reduce(node.name, arg)
        return E.reduce(node.name, arg)

    def vector(self, node: Call, arg: E.Expr, where: str) -> E.Expr:
        if arg.op != "num":
            raise located(
                InvalidExpression,
                f"{where}: vector(c) takes a number c (a constant vector whose length the context fixes)",
                (),
                node.pos,
            )
        return E.times(arg, E.ones((E.PENDING, 1)))  # its length is fixed by the context: see _fit

    def dot(self, u: E.Expr, v: E.Expr, where: str, pos: int) -> E.Expr:
        if u.shape != v.shape or u.is_matrix:
            raise _mismatch(
                f"{where}: dot needs two vectors of the same length, but {to_text(u)} is "
                f"{describe_shape(u.shape)} and {to_text(v)} is {describe_shape(v.shape)}",
                pos,
            )
        return E.times(u, v) if u.is_scalar else E.matmul(E.transpose(E.column(u)), E.column(v))

    def diag(self, arg: E.Expr, where: str, pos: int) -> E.Expr:
        if arg.shape[1] == 1 and not arg.is_scalar:
            return E.diagm(arg)
        if arg.is_matrix and arg.shape[0] == arg.shape[1]:
            return E.diagv(arg)
        raise _mismatch(
            f"{where}: diag needs a vector (to make a diagonal matrix) or a square matrix (to take its diagonal), "
            f"but {to_text(arg)} is {describe_shape(arg.shape)}",
            pos,
        )

    def eye(self, node: Call) -> E.Expr:
        arg = node.args[0]
        if isinstance(arg, Number) and arg.value.denominator == 1 and arg.value >= 1:
            return E.eye(int(arg.value))
        if isinstance(arg, Name):
            dims = {d for shape in self.shapes.values() for d in shape}
            if arg.name in dims:
                return E.eye(arg.name)
        raise located(
            InvalidExpression,
            f"{node.name} at position {node.pos} takes a dimension: a positive integer or a dimension name used in "
            "'shapes'",
            (),
            node.pos,
        )


def _fit(pending: E.Expr, other: E.Expr) -> E.Expr:
    """``pending`` with the length of its ``vector(c)`` taken from the same-placed dimension of ``other``."""
    for axis in (0, 1):
        if pending.shape[axis] == E.PENDING and other.shape[axis] not in (E.PENDING, 1):
            return E.resolve(pending, other.shape[axis])
    return pending


def _first_vector_call(tree: Node) -> int:
    stack = [tree]
    while stack:
        node = stack.pop()
        if (isinstance(node, Call) and node.name == "vector") or (isinstance(node, Name) and node.name == "eye"):
            return node.pos
        if isinstance(node, Call):
            stack.extend(node.args)
        elif isinstance(node, Unary):
            stack.append(node.operand)
        elif isinstance(node, Binary):
            stack.extend((node.left, node.right))
    return 0


def build(tree: Node, shapes: Mapping[str, E.Shape]) -> E.Expr:
    """The typed tree of ``tree``, whose names have ``shapes``."""
    result = _Builder(shapes).build(tree)
    if E.has_pending(result):
        pos = _first_vector_call(tree)
        raise located(
            ShapeMismatch,
            f"the size of vector(...) or eye at position {pos} is not fixed by its context: use it beside a "
            "vector or matrix (vector(1) + exp(x), eye + A) or give the size (vector(1, n), eye(n))",
            (),
            pos,
        )
    return result
