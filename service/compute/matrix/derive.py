"""Derivatives in matrix notation, by the rules of matrix differential calculus on the typed tree.

Three modes, each exact and each printing in the language:

- ``gradient``: a scalar function by a scalar, vector or matrix variable, in reverse mode: each node receives its
  adjoint (a value of its own shape), ``A*B`` passes ``G*B'`` and ``A'*G``, ``det(X)`` passes ``G*det(X)*inv(X)'``.
- ``jacobian``: a scalar or vector function by a vector variable, in forward mode: each node carries the Jacobian of
  its entries (a row vector counts by its entries), ``f(u)`` carries ``diag(f'(u))*J(u)``. An intermediate matrix
  that depends on the variable would need a three-index tensor: that is refused (``NoMatrixForm``).
- ``tangent``: anything by a scalar variable: the differential with d(variable) = 1, of the function's own shape.

The Hessian of a scalar function by a vector is the Jacobian of its gradient (one implementation per concept).
These are the derivative rules of Laue, Mitterreiter and Giesen's tensor calculus restricted to order <= 2, where
every tensor is a matrix and every contraction a matrix product, so no index form has to be translated back.
"""

from __future__ import annotations

from fractions import Fraction

import service.compute.matrix.expr as E
from service.compute.errors import NoMatrixForm, located
from service.compute.matrix.build import describe_shape
from service.compute.matrix.printer import to_text

__all__ = ["derivative", "elementwise_derivative"]


def elementwise_derivative(name: str, a: E.Expr) -> E.Expr:
    """f'(a), entry by entry, for an elementwise function f."""
    one = E.ones(a.shape)
    f = E.fn(name, a)
    if name == "exp":
        return f
    if name == "log":
        return E.ediv(one, a)
    if name == "sin":
        return E.fn("cos", a)
    if name == "cos":
        return E.neg(E.fn("sin", a))
    if name == "tan":
        return E.add(one, E.epow(f, E.num(2)))
    if name == "tanh":
        return E.sub(one, E.epow(f, E.num(2)))
    if name == "sinh":
        return E.fn("cosh", a)
    if name == "cosh":
        return E.fn("sinh", a)
    if name == "sigmoid":
        return E.hadamard(f, E.sub(one, f))
    if name == "softplus":
        return E.fn("sigmoid", a)
    if name == "abs":
        return E.fn("sign", a)
    if name == "sqrt":
        return E.times(E.num(Fraction(1, 2)), E.ediv(one, f))
    if name == "sign":
        return E.zero(a.shape)
    raise AssertionError(name)


def _inner(g: E.Expr, m: E.Expr) -> E.Expr:
    """The scalar sum of g .* m (g'*m for vectors)."""
    if g.is_scalar:
        return E.times(g, m)
    if g.is_vector:
        return E.matmul(E.transpose(E.column(g)), E.column(m))
    return E.reduce("sum", E.hadamard(g, m))


def _is_norm_squared(node: E.Expr) -> bool:
    return node.op == "epow" and E.is_num(node.args[1], 2) and node.args[0].op == "norm2"


# Reverse mode ------------------------------------------------------------------------------------------------------


def _order(f: E.Expr, name: str) -> list[E.Expr]:
    """Nodes that depend on ``name``, parents before children."""
    dependent: set[E.Expr] = set()
    order: list[E.Expr] = []
    for node in f.walk():
        if (node.op == "var" and node.name == name) or any(a in dependent for a in node.args):
            dependent.add(node)
            order.append(node)
    return order[::-1]


def gradient(f: E.Expr, variable: E.Expr) -> E.Expr:
    """The derivative of the scalar ``f`` by ``variable``, of the variable's shape (reverse mode)."""
    order = _order(f, variable.name)
    adjoints: dict[E.Expr, list[E.Expr]] = {f: [E.ONE]} if order else {}
    dependent = set(order)
    for node in order:
        parts = adjoints.pop(node, [])
        if not parts:
            continue
        g = E.add(*reversed(parts))
        if node.op == "var":
            adjoints[node] = [g]
            break
        for child, contribution in _pullback(node, g, dependent):
            adjoints.setdefault(child, []).append(contribution)
    parts = adjoints.get(variable, [])
    return E.add(*reversed(parts)) if parts else E.zero(variable.shape)


def _pullback(node: E.Expr, g: E.Expr, dependent: set[E.Expr]) -> list[tuple[E.Expr, E.Expr]]:
    op, args = node.op, node.args
    out: list[tuple[E.Expr, E.Expr]] = []

    def give(child: E.Expr, contribution: object) -> None:
        if child in dependent:
            out.append((child, contribution() if callable(contribution) else contribution))  # type: ignore[arg-type]

    if op == "add":
        for a in args:
            give(a, g)
    elif op == "neg":
        give(args[0], lambda: E.neg(g))
    elif op == "times":
        s, m = args
        give(s, lambda: _inner(g, m))
        give(m, lambda: E.times(s, g))
    elif op == "matmul":
        a, b = args
        give(a, lambda: E.matmul(g, E.transpose(b)))
        give(b, lambda: E.matmul(E.transpose(a), g))
    elif op == "hadamard":
        a, b = args
        give(a, lambda: E.hadamard(g, b))
        give(b, lambda: E.hadamard(g, a))
    elif op == "ediv":
        a, b = args
        if b.is_scalar and not a.is_scalar:
            give(a, lambda: E.ediv(g, b))
            give(b, lambda: E.neg(E.ediv(_inner(g, a), E.epow(b, E.num(2)))))
        else:
            give(a, lambda: E.ediv(g, b))
            give(b, lambda: E.neg(E.hadamard(g, E.ediv(a, E.epow(b, E.num(2))))))
    elif op == "epow":
        a, p = args
        if _is_norm_squared(node):
            give(a, None)  # the fused rule below skips norm2: d(norm2(u)^2) = 2*u'*du
            inner = a.args[0]
            if inner in dependent:
                out.append((inner, E.times(E.times(E.num(2), g), inner)))
            out[:] = [(c, x) for c, x in out if x is not None]
        else:
            give(a, lambda: E.hadamard(g, E.times(p, E.epow(a, E.sub(p, E.ONE)))))
        give(p, lambda: _inner(g, E.hadamard(node, E.fn("log", a))))
    elif op == "fn":
        give(args[0], lambda: E.hadamard(g, elementwise_derivative(node.name, args[0])))
    elif op == "T":
        give(args[0], lambda: E.transpose(g))
    elif op == "sum":
        give(args[0], lambda: E.times(g, E.ones(args[0].shape)))
    elif op == "tr":
        give(args[0], lambda: E.times(g, E.eye(args[0].shape[0])))
    elif op == "det":
        give(args[0], lambda: E.times(g, E.times(node, E.transpose(E.inv(args[0])))))
    elif op == "logdet":
        give(args[0], lambda: E.times(g, E.transpose(E.inv(args[0]))))
    elif op == "norm2":
        give(args[0], lambda: E.times(g, E.ediv(args[0], node)))
    elif op == "norm1":
        give(args[0], lambda: E.times(g, E.fn("sign", args[0])))
    elif op == "inv":
        t = E.transpose(node)
        give(args[0], lambda: E.neg(E.matmul(E.matmul(t, g), t)))
    elif op == "diagm":
        give(args[0], lambda: E.diagv(g))
    elif op == "diagv":
        give(args[0], lambda: E.diagm(g))
    else:
        raise AssertionError(op)
    return out


# Forward mode by a vector ------------------------------------------------------------------------------------------


class _Jacobian:
    """J(node): the Jacobian of node's entries by the vector variable (None when the node does not depend on it)."""

    def __init__(self, variable: E.Expr) -> None:
        self.variable = variable
        self.n = variable.shape[0]
        self.memo: dict[E.Expr, E.Expr | None] = {}

    def __call__(self, node: E.Expr) -> E.Expr | None:
        for item in node.walk():
            if item not in self.memo:
                self.memo[item] = self.rule(item)
        return self.memo[node]

    def refuse(self, node: E.Expr) -> NoMatrixForm:
        return located(  # type: ignore[return-value]
            NoMatrixForm,
            f"the Jacobian by the vector {self.variable.name} passes through {to_text(node)} "
            f"({describe_shape(node.shape)} that depends on {self.variable.name}), whose derivative would have three "
            "indices; no matrix form is found for it. Write the function so that matrices depending on "
            f"{self.variable.name} appear only inside scalar results (as in x'*A*x), or differentiate a scalar "
            "function",
        )

    def rule(self, node: E.Expr) -> E.Expr | None:
        op, args = node.op, node.args
        if op == "var":
            return E.eye(self.n) if node == self.variable else None
        if not node.args:
            return None
        js = [self.memo[a] for a in args]
        if all(j is None for j in js):
            return None
        if node.is_matrix:
            raise self.refuse(node)
        J = self.memo

        def col(e: E.Expr) -> E.Expr:
            return E.column(e)

        def diag_of(e: E.Expr) -> E.Expr:
            return e if e.is_scalar else E.diagm(col(e))

        terms: list[E.Expr] = []
        if op == "add":
            terms = [j for j in js if j is not None]
        elif op == "neg":
            terms = [E.neg(js[0])]  # type: ignore[arg-type]
        elif op == "T":
            terms = [js[0]]  # type: ignore[list-item]
        elif op == "times":
            s, m = args
            if J[s] is not None:
                terms.append(E.matmul(col(m), J[s]) if not m.is_scalar else E.times(m, J[s]))  # type: ignore[arg-type]
            if J[m] is not None:
                terms.append(E.times(s, J[m]))  # type: ignore[arg-type]
        elif op == "matmul":
            a, b = args
            if J[a] is not None:
                if a.is_matrix:
                    raise self.refuse(a)
                terms.append(E.matmul(E.transpose(b), J[a]))  # type: ignore[arg-type]
            if J[b] is not None:
                if b.is_matrix or b.shape[0] == 1:
                    raise self.refuse(b)
                terms.append(E.matmul(a, J[b]))  # type: ignore[arg-type]
        elif op == "hadamard":
            a, b = args
            if J[a] is not None:
                terms.append(E.matmul(diag_of(b), J[a]))  # type: ignore[arg-type]
            if J[b] is not None:
                terms.append(E.matmul(diag_of(a), J[b]))  # type: ignore[arg-type]
        elif op == "ediv":
            a, b = args
            if b.is_scalar and not a.is_scalar:
                if J[a] is not None:
                    terms.append(E.ediv(J[a], b))  # type: ignore[arg-type]
                if J[b] is not None:
                    terms.append(E.neg(E.matmul(col(E.ediv(a, E.epow(b, E.num(2)))), J[b])))  # type: ignore[arg-type]
            else:
                if J[a] is not None:
                    terms.append(E.matmul(diag_of(E.ediv(E.ones(b.shape), b)), J[a]))  # type: ignore[arg-type]
                if J[b] is not None:
                    terms.append(E.neg(E.matmul(diag_of(E.ediv(a, E.epow(b, E.num(2)))), J[b])))  # type: ignore[arg-type]
        elif op == "epow":
            a, p = args
            if _is_norm_squared(node) and J[a.args[0]] is not None:
                u = a.args[0]
                terms.append(E.times(E.num(2), E.matmul(E.transpose(col(u)), J[u])))  # type: ignore[arg-type]
            elif J[a] is not None:
                terms.append(E.matmul(diag_of(E.times(p, E.epow(a, E.sub(p, E.ONE)))), J[a]))  # type: ignore[arg-type]
            if J[p] is not None:
                terms.append(E.matmul(col(E.hadamard(node, E.fn("log", a))), J[p]))  # type: ignore[arg-type]
        elif op == "fn":
            terms = [E.matmul(diag_of(elementwise_derivative(node.name, args[0])), js[0])]  # type: ignore[arg-type]
        elif op in ("sum", "norm1", "norm2"):
            a = args[0]
            if a.is_matrix:
                raise self.refuse(a)
            weight = {
                "sum": E.ones(col(a).shape),
                "norm1": E.fn("sign", col(a)),
                "norm2": E.ediv(col(a), node),
            }[op]
            terms = [E.matmul(E.transpose(weight), js[0])]  # type: ignore[arg-type]
        else:  # tr det logdet inv diagm diagv of an argument that depends on the variable: a matrix
            raise self.refuse(args[0])
        return E.add(*terms) if terms else None


def jacobian(f: E.Expr, variable: E.Expr) -> E.Expr:
    """The Jacobian of a scalar or vector ``f`` by the vector ``variable`` (rows: the entries of f)."""
    if f.is_matrix:
        raise located(
            NoMatrixForm,
            f"the derivative of {describe_shape(f.shape)} by a vector has three indices; no matrix form exists",
        )
    result = _Jacobian(variable)(f)
    rows = E.column(f).shape[0]
    return result if result is not None else E.zero((rows, variable.shape[0]))


# Forward mode by a scalar ------------------------------------------------------------------------------------------


def tangent(f: E.Expr, variable: E.Expr) -> E.Expr:
    """d f / d t for a scalar variable t, of the shape of f (the differential with dt = 1)."""
    memo: dict[E.Expr, E.Expr | None] = {}
    for node in f.walk():
        if node.op == "var":
            memo[node] = E.ONE if node == variable else None
        elif all(memo.get(a) is None for a in node.args):
            memo[node] = None
        else:
            memo[node] = _differential(node, [memo.get(a) or E.zero(a.shape) for a in node.args], memo)
    result = memo.get(f)
    return result if result is not None else E.zero(f.shape)


def _differential(node: E.Expr, dz: list[E.Expr], memo: dict[E.Expr, E.Expr | None]) -> E.Expr:
    """d(node) from the differentials ``dz`` of its arguments (zero where they do not depend on the variable)."""
    op, args = node.op, node.args
    if op == "add":
        return E.add(*dz)
    if op == "neg":
        return E.neg(dz[0])
    if op == "T":
        return E.transpose(dz[0])
    if op in ("times", "matmul", "hadamard"):
        make = {"times": E.times, "matmul": E.matmul, "hadamard": E.hadamard}[op]
        return E.add(make(dz[0], args[1]), make(args[0], dz[1]))
    if op == "ediv":
        a, b = args
        square = E.epow(b, E.num(2))
        correction = E.times(dz[1], E.ediv(a, square)) if b.is_scalar else E.hadamard(dz[1], E.ediv(a, square))
        return E.sub(E.ediv(dz[0], b), correction)
    if op == "epow":
        a, p = args
        if _is_norm_squared(node) and memo.get(a.args[0]) is not None:
            u = a.args[0]
            return E.times(E.num(2), _inner(u, memo[u]))  # type: ignore[arg-type]
        return E.add(
            E.hadamard(dz[0], E.times(p, E.epow(a, E.sub(p, E.ONE)))),
            E.times(dz[1], E.hadamard(node, E.fn("log", a))),
        )
    if op == "fn":
        return E.hadamard(elementwise_derivative(node.name, args[0]), dz[0])
    if op in ("sum", "tr"):
        return E.reduce(op, dz[0])
    if op == "det":
        return E.times(node, E.reduce("tr", E.matmul(E.inv(args[0]), dz[0])))
    if op == "logdet":
        return E.reduce("tr", E.matmul(E.inv(args[0]), dz[0]))
    if op == "norm2":
        return E.ediv(_inner(args[0], dz[0]), node)
    if op == "norm1":
        return _inner(E.fn("sign", args[0]), dz[0])
    if op == "inv":
        return E.neg(E.matmul(E.matmul(node, dz[0]), node))
    if op == "diagm":
        return E.diagm(dz[0])
    if op == "diagv":
        return E.diagv(dz[0])
    raise AssertionError(op)


def derivative(f: E.Expr, variable: E.Expr) -> E.Expr:
    """The first derivative of ``f`` by ``variable`` in the contract's layout, or ``NoMatrixForm``."""
    if variable.is_scalar:
        return tangent(f, variable)
    if f.is_scalar:
        return gradient(f, variable)
    if variable.is_matrix or variable.shape[0] == 1:
        raise located(
            NoMatrixForm,
            f"the derivative of {describe_shape(f.shape)} by the matrix {variable.name} has more than two indices; "
            "no matrix form exists (differentiate a scalar function by a matrix, or by a vector or a scalar)",
        )
    return jacobian(f, variable)
