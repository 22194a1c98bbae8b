"""The typed tree of the matrix language: one node class, shapes on every node, simplifying constructors.

Every value is a matrix of a known shape ``(rows, columns)`` whose dimensions are integers or dimension names: a
scalar is ``(1, 1)``, a vector of length n the column ``(n, 1)``, its transpose the row ``(1, n)``. Scalars
broadcast explicitly: ``1 - s`` for a vector s is built as ``ones - s``, never left to NumPy's rules, so each
derivative rule has one shape to think about.

The constructors (``add``, ``matmul``, ``transpose``, ...) are the simplifier: each applies the textbook rewrites
for its operator as it builds (``(A*B)' = B'*A'``, ``eye*A = A``, ``A + A = 2*A``, ``diag(a)*diag(b) =
diag(a .* b)``, ``log(1 + exp(u)) = softplus(u)``, ``log(det(X)) = logdet(X)``), so every tree is built
simplified and equal trees are equal values (hash-consed by structure, used for common subexpressions).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

Dim = int | str
Shape = tuple[Dim, Dim]
SCALAR: Shape = (1, 1)

# Elementwise functions: name -> how to write the derivative in terms of the argument (built in ``derivative_of``).
ELEMENTWISE = (
    "exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "sigmoid", "softplus", "abs", "sqrt", "sign",
)  # fmt: skip
REDUCTIONS = ("sum", "tr", "det", "logdet", "norm1", "norm2")


@dataclass(frozen=True, eq=False)
class Expr:
    """One node. ``op`` is one of: var num ones eye zero add neg times matmul hadamard ediv epow fn T inv diagm
    diagv, or a reduction (sum tr det logdet norm1 norm2). ``name`` is the variable or function name."""

    op: str
    args: tuple[Expr, ...]
    shape: Shape
    name: str = ""
    value: Fraction = Fraction(0)
    _key: tuple[object, ...] = field(init=False, repr=False, compare=False)
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        key = (self.op, self.args, self.shape, self.name, self.value)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_hash", hash(key))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        return isinstance(other, Expr) and self._hash == other._hash and self._key == other._key

    def __reduce__(self) -> tuple[object, ...]:
        return (Expr, (self.op, self.args, self.shape, self.name, self.value))

    @property
    def is_scalar(self) -> bool:
        return self.shape == SCALAR

    @property
    def is_vector(self) -> bool:
        """A column or a row (but not a scalar)."""
        return not self.is_scalar and 1 in self.shape

    @property
    def is_matrix(self) -> bool:
        """Neither a scalar nor a vector."""
        return 1 not in self.shape

    def walk(self) -> Iterator[Expr]:
        """Every distinct node once, children before parents."""
        seen: set[Expr] = set()
        stack: list[tuple[Expr, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                yield node
                continue
            if node in seen:
                continue
            seen.add(node)
            stack.append((node, True))
            stack.extend((arg, False) for arg in reversed(node.args) if arg not in seen)

    def depends_on(self, name: str) -> bool:
        return any(node.op == "var" and node.name == name for node in self.walk())


def _node(op: str, args: tuple[Expr, ...], shape: Shape, name: str = "", value: Fraction = Fraction(0)) -> Expr:
    return Expr(op, args, shape, name, value)


# Leaves ---------------------------------------------------------------------------------------------------------


def var(name: str, shape: Shape) -> Expr:
    return _node("var", (), shape, name)


def num(value: Fraction | int) -> Expr:
    return _node("num", (), SCALAR, value=Fraction(value))


ONE = num(1)


def ones(shape: Shape) -> Expr:
    """The all-ones value of ``shape`` (``vector(1)`` for a column); the number 1 for a scalar."""
    return ONE if shape == SCALAR else _node("ones", (), shape)


def eye(dim: Dim) -> Expr:
    return ONE if dim == 1 else _node("eye", (), (dim, dim))


def zero(shape: Shape) -> Expr:
    return num(0) if shape == SCALAR else _node("zero", (), shape)


def is_zero(e: Expr) -> bool:
    return e.op == "zero" or (e.op == "num" and e.value == 0)


def is_num(e: Expr, value: int | Fraction | None = None) -> bool:
    return e.op == "num" and (value is None or e.value == value)


def _is_ones(e: Expr) -> bool:
    return e.op == "ones" or is_num(e, 1)


def constant_of(e: Expr) -> Fraction | None:
    """c for ``c`` and ``c*ones``: a constant that is the same in every entry."""
    if e.op == "num":
        return e.value
    if e.op == "ones":
        return Fraction(1)
    if e.op == "times" and is_num(e.args[0]) and e.args[1].op == "ones":
        return e.args[0].value
    return None


def broadcast(e: Expr, shape: Shape) -> Expr:
    """A scalar ``e`` spread over ``shape`` (``e*ones``); any other ``e`` unchanged."""
    if e.shape == shape or not e.is_scalar:
        return e
    return times(e, ones(shape))


# Sums ------------------------------------------------------------------------------------------------------------


def _split_coefficient(term: Expr) -> tuple[Fraction, Expr]:
    if term.op == "neg":
        coefficient, core = _split_coefficient(term.args[0])
        return -coefficient, core
    if term.op == "times" and is_num(term.args[0]):
        return term.args[0].value, term.args[1]
    if term.op == "num":
        return term.value, ONE
    return Fraction(1), term


def _with_coefficient(coefficient: Fraction, core: Expr) -> Expr:
    if core == ONE:
        return num(coefficient)
    if coefficient == 1:
        return core
    if coefficient == -1:
        return neg(core)
    if coefficient < 0:
        scaled = times(num(-coefficient), core)
        return _node("neg", (scaled,), scaled.shape)
    return times(num(coefficient), core)


def add(*terms: Expr) -> Expr:
    """The sum of same-shaped terms: nested sums flattened, zeros dropped, like terms collected in first-seen order."""
    shape = terms[0].shape
    flat: list[Expr] = []
    for term in terms:
        flat.extend(term.args if term.op == "add" else (term,))
    collected: dict[Expr, Fraction] = {}
    for term in flat:
        if is_zero(term):
            continue
        coefficient, core = _split_coefficient(term)
        collected[core] = collected.get(core, Fraction(0)) + coefficient
    parts = [_with_coefficient(c, core) for core, c in collected.items() if c != 0]
    if shape != SCALAR:
        parts = _collect_scalar_coefficients(parts)
    if not parts:
        return zero(shape)
    if len(parts) == 1:
        return parts[0]
    return _node("add", tuple(parts), shape)


def _scalar_coefficient(term: Expr) -> tuple[Expr, Expr]:
    """s and M for a vector or matrix term s*M (or -s*M); 1 and the term otherwise."""
    if term.op == "neg":
        s, core = _scalar_coefficient(term.args[0])
        return neg(s), core
    if term.op == "times" and term.args[0].is_scalar and not is_num(term.args[0]):
        return term.args[0], term.args[1]
    return ONE, term


def _collect_scalar_coefficients(parts: list[Expr]) -> list[Expr]:
    """a*M + b*M = (a + b)*M for scalar a, b (only when a core repeats; the order of first appearance is kept)."""
    split = [_scalar_coefficient(p) for p in parts]
    cores = [core for _, core in split]
    if len(set(cores)) == len(cores):
        return parts
    grouped: dict[Expr, list[Expr]] = {}
    for s, core in split:
        grouped.setdefault(core, []).append(s)
    out = []
    for core, coefficients in grouped.items():
        total = add(*coefficients) if len(coefficients) > 1 else coefficients[0]
        if not is_zero(total):
            out.append(times(total, core))
    return out


def sub(a: Expr, b: Expr) -> Expr:
    return add(a, neg(b))


def neg(a: Expr) -> Expr:
    if is_zero(a):
        return a
    if a.op == "num":
        return num(-a.value)
    if a.op == "neg":
        return a.args[0]
    if a.op == "add":
        return add(*(neg(t) for t in a.args))
    return _node("neg", (a,), a.shape)


# Products --------------------------------------------------------------------------------------------------------


def times(s: Expr, m: Expr) -> Expr:
    """A scalar ``s`` times anything ``m`` (or ``m`` a scalar times ``s``)."""
    if not s.is_scalar:
        s, m = m, s
    if is_zero(s) or is_zero(m):
        return zero(m.shape)
    if is_num(s, 1):
        return m
    if m.is_scalar and m.op == "num":
        if s.op == "num":
            return num(s.value * m.value)
        s, m = m, s
    if m.is_scalar and s.op != "num":
        power = _power_of(s, m)
        if power is not None:
            return power
    if s.op == "neg":
        return neg(times(s.args[0], m))
    if m.op == "neg":
        return neg(times(s, m.args[0]))
    if m.op == "times" and is_num(m.args[0]):
        return (
            times(m.args[0], times(s, m.args[1])) if s.op != "num" else times(num(s.value * m.args[0].value), m.args[1])
        )
    if s.op == "times" and is_num(s.args[0]):
        return times(s.args[0], times(s.args[1], m))
    if s.op == "num" and s.value == -1:
        return neg(m)
    if s.op == "num" and s.value < 0:
        return neg(times(num(-s.value), m))
    if m.op == "ediv" and m.args[1] == s and m.args[1].is_scalar:  # s*(a/s) = a
        return m.args[0]
    if s.op == "ediv" and s.args[1] == m:  # (a/s)*s = a
        return s.args[0]
    if m.op == "ediv" and m.args[1].is_scalar and is_num(m.args[0], 1) and m.is_scalar:  # s*(1/d) = s/d
        return ediv(s, m.args[1])
    if s.op == "ediv" and is_num(s.args[0], 1) and not m.is_scalar:  # (1/d)*M = M/d
        return ediv(m, s.args[1])
    return _node("times", (s, m), m.shape if not m.is_scalar else s.shape)


def matmul(a: Expr, b: Expr) -> Expr:
    """The matrix product; with a scalar factor it is ``times``."""
    if a.is_scalar or b.is_scalar:
        return times(a, b)
    shape = (a.shape[0], b.shape[1])
    if is_zero(a) or is_zero(b):
        return zero(shape)
    if a.op == "eye":
        return b
    if b.op == "eye":
        return a
    if a.op == "neg":
        return neg(matmul(a.args[0], b))
    if b.op == "neg":
        return neg(matmul(a, b.args[0]))
    if _divided_by_scalar(a):
        return ediv(matmul(a.args[0], b), a.args[1])
    if _divided_by_scalar(b):
        return ediv(matmul(a, b.args[0]), b.args[1])
    if a.op == "times":
        return times(a.args[0], matmul(a.args[1], b))
    if b.op == "times":
        return times(b.args[0], matmul(a, b.args[1]))
    if a.op == "diagm" and b.op == "diagm":
        return diagm(hadamard(a.args[0], b.args[0]))
    if a.op == "diagm" and b.op == "matmul" and b.args[0].op == "diagm":
        return matmul(diagm(hadamard(a.args[0], b.args[0].args[0])), b.args[1])
    if a.op == "diagm" and b.shape[1] == 1 and b.op != "diagm":  # diag(v)*u = v .* u
        return hadamard(a.args[0], b)
    if b.op == "diagm" and a.op == "T" and a.args[0].op == "ones":  # vector(1)'*diag(v) = v'
        return transpose(b.args[0])
    return _node("matmul", (a, b), shape)


def hadamard(a: Expr, b: Expr) -> Expr:
    """The elementwise product (``times`` when one side is a scalar)."""
    if a.is_scalar or b.is_scalar:
        return times(a, b)
    if is_zero(a) or is_zero(b):
        return zero(a.shape)
    for x, y in ((a, b), (b, a)):
        if _divided_by_scalar(x):  # (u/s) .* v = (u .* v)/s
            return ediv(hadamard(x.args[0], y), x.args[1])
    for x, y in ((a, b), (b, a)):
        c = constant_of(x)
        if c is not None:
            return times(num(c), y)
    if a.op in ("neg", "times") or b.op in ("neg", "times"):
        sa, ca = _scalar_part(a)
        sb, cb = _scalar_part(b)
        if sa is not None or sb is not None:
            scale = times(sa or ONE, sb or ONE)
            return times(scale, hadamard(ca, cb))
    if a == b:
        return epow(a, num(2))
    if b.op == "hadamard" and a == b.args[1]:  # a .* (b .* a) = a.^2 .* b
        return hadamard(epow(a, num(2)), b.args[0])
    if b.op == "hadamard" and a == b.args[0]:
        return hadamard(epow(a, num(2)), b.args[1])
    return _node("hadamard", (a, b), a.shape)


def _power_of(a: Expr, b: Expr) -> Expr | None:
    """a*b as one power when a and b are powers of the same scalar (s*s = s^2, s*s^2 = s^3)."""

    def split(e: Expr) -> tuple[Expr, Fraction]:
        if e.op == "epow" and e.args[1].op == "num":
            return e.args[0], e.args[1].value
        return e, Fraction(1)

    (base_a, pa), (base_b, pb) = split(a), split(b)
    return epow(base_a, num(pa + pb)) if base_a == base_b else None


def _divided_by_scalar(e: Expr) -> bool:
    return e.op == "ediv" and e.args[1].is_scalar and not e.is_scalar


def _scalar_part(e: Expr) -> tuple[Expr | None, Expr]:
    if e.op == "neg":
        s, core = _scalar_part(e.args[0])
        return neg(s or ONE), core
    if e.op == "times" and not e.args[1].is_scalar:
        return e.args[0], e.args[1]
    return None, e


def ediv(a: Expr, b: Expr) -> Expr:
    """``a ./ b`` elementwise, or ``a / s`` for a scalar divisor s."""
    if is_zero(a):
        return zero(a.shape if not a.is_scalar else b.shape)
    divisor = constant_of(b)
    if divisor is not None and divisor != 0:
        return (
            times(num(1 / divisor), a)
            if not a.is_scalar or b.is_scalar
            else times(num(1 / divisor), broadcast(a, b.shape))
        )
    if a.is_scalar and not b.is_scalar:
        a = broadcast(a, b.shape)
    if a.op == "ediv" and a.args[1].is_scalar and b.is_scalar:  # (u/s)/t = u/(s*t)
        return ediv(a.args[0], times(a.args[1], b))
    if a.op == "neg":
        return neg(ediv(a.args[0], b))
    if b.op == "neg":
        return neg(ediv(a, b.args[0]))
    if a.op == "times" and is_num(a.args[0]) and not (a.is_scalar and a.args[1].op == "num"):
        return times(a.args[0], ediv(a.args[1], b))
    if a == b:
        return ones(a.shape)
    if a.op == "fn" and a.name == "exp" and b.op == "add" and len(b.args) == 2:  # exp(u) ./ (1 + exp(u))
        terms = set(b.args)
        if a in terms and constant_of(next(iter(terms - {a}), a)) == 1:
            return fn("sigmoid", a.args[0])
    if _is_ones(a) and b.op == "add" and len(b.args) == 2:  # 1 ./ (1 + exp(-u)) = sigmoid(u)
        others = [t for t in b.args if constant_of(t) != 1]
        if len(others) == 1 and others[0].op == "fn" and others[0].name == "exp":
            return fn("sigmoid", neg(others[0].args[0]))
    return _node("ediv", (a, b), a.shape)


def epow(a: Expr, p: Expr) -> Expr:
    """``a .^ p`` (``a ^ p`` for scalars) with a scalar exponent p."""
    if is_num(p, 1):
        return a
    if is_num(p, 0):
        return ones(a.shape)
    if a.op == "num" and p.op == "num" and p.value.denominator == 1 and abs(p.value) <= 64:
        if a.value != 0 or p.value > 0:
            return num(a.value ** int(p.value))
    if a.op == "epow" and p.op == "num" and a.args[1].op == "num" and p.value.denominator == 1:
        return epow(a.args[0], num(a.args[1].value * p.value))
    if a.op == "fn" and a.name == "sqrt" and is_num(p, 2):
        return a.args[0]
    return _node("epow", (a, p), a.shape)


# Everything else -------------------------------------------------------------------------------------------------


def transpose(a: Expr) -> Expr:
    if a.is_scalar or a.op in ("eye", "diagm"):
        return a
    if a.op == "zero":
        return zero((a.shape[1], a.shape[0]))
    if a.op == "T":
        return a.args[0]
    if a.op == "matmul":
        return matmul(transpose(a.args[1]), transpose(a.args[0]))
    if a.op == "add":
        return add(*(transpose(t) for t in a.args))
    if a.op == "neg":
        return neg(transpose(a.args[0]))
    if a.op == "times":
        return times(a.args[0], transpose(a.args[1]))
    if _divided_by_scalar(a):
        return ediv(transpose(a.args[0]), a.args[1])
    if a.op in ("hadamard", "ediv", "epow", "fn") and all(
        arg.op == "T" or arg.is_scalar or arg.op == "ones" for arg in a.args
    ):
        return _rebuild(a, tuple(transpose(arg) for arg in a.args))
    return _node("T", (a,), (a.shape[1], a.shape[0]))


def _rebuild(a: Expr, args: tuple[Expr, ...]) -> Expr:
    if a.op == "hadamard":
        return hadamard(*args)
    if a.op == "ediv":
        return ediv(*args)
    if a.op == "epow":
        return epow(*args)
    return fn(a.name, args[0])


def fn(name: str, a: Expr) -> Expr:
    """An elementwise function, with the two rewrites that give textbook derivatives."""
    if name == "log" and a.op == "add" and len(a.args) == 2:
        exps = [t for t in a.args if t.op == "fn" and t.name == "exp"]
        if len(exps) == 1 and constant_of(next(t for t in a.args if t is not exps[0])) == 1:
            return fn("softplus", exps[0].args[0])
    if name == "log" and a.op == "det":
        return reduce("logdet", a.args[0])
    if name == "exp" and a.op == "fn" and a.name == "log":
        return a.args[0]
    if is_zero(a) and name in ("sin", "tan", "tanh", "sinh", "abs", "sqrt", "sign"):
        return a
    return _node("fn", (a,), a.shape, name)


def reduce(name: str, a: Expr) -> Expr:
    """A scalar of a vector or matrix: sum, tr, det, logdet, norm1, norm2."""
    if is_zero(a) and name in ("sum", "tr", "det", "norm1", "norm2"):
        return num(0)
    if name == "sum" and a.is_scalar:
        return a
    if name == "tr" and a.is_scalar:
        return a
    if name == "tr" and a.op == "eye":
        return _node("tr", (a,), SCALAR)
    if name in ("sum", "tr") and a.op == "neg":
        return neg(reduce(name, a.args[0]))
    if name in ("sum", "tr") and a.op == "times" and a.args[0].is_scalar:
        return times(a.args[0], reduce(name, a.args[1]))
    if name == "tr" and a.op == "T":
        return reduce("tr", a.args[0])
    if name == "det" and a.op == "inv":
        return ediv(ONE, reduce("det", a.args[0]))
    return _node(name, (a,), SCALAR)


def inv(a: Expr) -> Expr:
    if a.is_scalar:
        return ediv(ONE, a)
    if a.op == "eye":
        return a
    if a.op == "inv":
        return a.args[0]
    return _node("inv", (a,), a.shape)


def diagm(v: Expr) -> Expr:
    """The diagonal matrix of a column vector."""
    c = constant_of(v)
    if c is not None and v.op != "num":
        return times(num(c), eye(v.shape[0]))
    if is_zero(v):
        return zero((v.shape[0], v.shape[0]))
    if v.op == "neg":
        return neg(diagm(v.args[0]))
    if v.op == "times" and v.args[0].is_scalar:
        return times(v.args[0], diagm(v.args[1]))
    if _divided_by_scalar(v):
        return ediv(diagm(v.args[0]), v.args[1])
    return _node("diagm", (v,), (v.shape[0], v.shape[0]))


def diagv(m: Expr) -> Expr:
    """The diagonal of a square matrix, as a column vector."""
    if m.op == "diagm":
        return m.args[0]
    if m.op == "eye":
        return ones((m.shape[0], 1))
    if m.op == "zero":
        return zero((m.shape[0], 1))
    if m.op == "T":
        return diagv(m.args[0])
    if m.op == "neg":
        return neg(diagv(m.args[0]))
    if m.op == "times":
        return times(m.args[0], diagv(m.args[1]))
    return _node("diagv", (m,), (m.shape[0], 1))


def column(e: Expr) -> Expr:
    """A vector as a column (a row is transposed); scalars and columns unchanged."""
    return transpose(e) if e.shape[0] == 1 and e.shape[1] != 1 else e


def node_count(e: Expr) -> int:
    """Distinct nodes (a shared subtree counted once): the size of the work to evaluate ``e``."""
    return sum(1 for _ in e.walk())


def printed_size(e: Expr) -> int:
    """Nodes of ``e`` written out as a tree (a shared subtree counted each time it appears): the size of its text."""
    sizes: dict[Expr, int] = {}
    for node in e.walk():
        sizes[node] = 1 + sum(sizes[a] for a in node.args)
    return sizes[e]


PENDING: Dim = "?"  # the length of vector(c) before its context fixes it


def has_pending(e: Expr) -> bool:
    return any(PENDING in node.shape for node in e.walk())


def rebuild(e: Expr, args: tuple[Expr, ...]) -> Expr:
    """``e`` with new arguments, through the simplifying constructors."""
    op = e.op
    if op == "add":
        return add(*args)
    if op in ("neg", "T", "inv", "diagm", "diagv"):
        return {"neg": neg, "T": transpose, "inv": inv, "diagm": diagm, "diagv": diagv}[op](args[0])
    if op in ("times", "matmul", "hadamard", "ediv", "epow"):
        return {"times": times, "matmul": matmul, "hadamard": hadamard, "ediv": ediv, "epow": epow}[op](*args)
    if op == "fn":
        return fn(e.name, args[0])
    if op in REDUCTIONS:
        return reduce(op, args[0])
    return e


def resolve(e: Expr, dim: Dim) -> Expr:
    """``e`` with the pending length of its ``vector(c)`` leaves fixed to ``dim``."""
    if not has_pending(e):
        return e
    memo: dict[Expr, Expr] = {}
    for node in e.walk():
        if node.op == "ones":
            memo[node] = ones(tuple(dim if d == PENDING else d for d in node.shape))  # type: ignore[arg-type]
        elif node.op == "eye" and node.shape[0] == PENDING:
            memo[node] = eye(dim)
        elif node.args:
            memo[node] = rebuild(node, tuple(memo[a] for a in node.args))
        else:
            memo[node] = node
    return memo[e]
