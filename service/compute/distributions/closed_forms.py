"""Closed forms of the summary statistics, in the parameters: a fixed table built from SymPy symbols.

Each entry is a SymPy expression in the canonical parameters and, where it only holds on part of the parameter space,
the condition (the variance of a Student t is ``df/(df - 2)`` for df > 2). ``closed_forms(family, names)`` writes the
table in the client's names (``shape/rate`` rather than ``shape*scale`` when the client gave ``rate``) with the
service's printer, so every expression parses back with the service's grammar. Statistics with no closed form in that
grammar (the median of a gamma, the entropy of a Poisson, a mode that needs floor) are absent. The table is fixed, so
its cost is too: it is built once per family and naming and remembered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import sympy as sp

from service.compute.distributions.families import FAMILIES
from service.compute.language.printer import to_latex, to_text

Entry = tuple[sp.Expr, str | None]


@dataclass(frozen=True)
class ClosedForm:
    expression: str
    latex: str
    condition: str | None


def _s(name: str, **assumptions: bool) -> sp.Symbol:
    return sp.Symbol(name, **assumptions)


mu, a, b = _s("mu", real=True), _s("a", real=True), _s("b", real=True)
sigma, p, n, lam, df, scale, shape = (_s(v, positive=True) for v in ("sigma", "p", "n", "lam", "df", "scale", "shape"))
dfn, dfd, alpha, beta = (_s(v, positive=True) for v in ("dfn", "dfd", "alpha", "beta"))
_q = 1 - p
_psi, _half = sp.digamma, sp.Rational(1, 2)


def _log_beta(x: sp.Expr, y: sp.Expr) -> sp.Expr:
    return sp.loggamma(x) + sp.loggamma(y) - sp.loggamma(x + y)


def _moments(mean: Entry, variance: Entry, skewness: Entry, kurtosis: Entry) -> dict[str, Entry]:
    return {"mean": mean, "variance": variance, "skewness": skewness, "excess_kurtosis": kurtosis}


def _plain(*values: sp.Expr) -> tuple[Entry, ...]:
    return tuple((v, None) for v in values)


_F_SKEW = (2 * dfn + dfd - 2) * sp.sqrt(8 * (dfd - 4)) / ((dfd - 6) * sp.sqrt(dfn * (dfn + dfd - 2)))
_F_KURT = (
    12
    * (dfn * (5 * dfd - 22) * (dfn + dfd - 2) + (dfd - 4) * (dfd - 2) ** 2)
    / (dfn * (dfd - 6) * (dfd - 8) * (dfn + dfd - 2))
)
_F_ENTROPY = (
    _log_beta(dfn / 2, dfd / 2)
    + (1 - dfn / 2) * _psi(dfn / 2)
    - (1 + dfd / 2) * _psi(dfd / 2)
    + (dfn + dfd) / 2 * _psi((dfn + dfd) / 2)
    + sp.log(dfd / dfn)
)
_BETA_SKEW = 2 * (beta - alpha) * sp.sqrt(alpha + beta + 1) / ((alpha + beta + 2) * sp.sqrt(alpha * beta))
_BETA_KURT = (
    6
    * ((alpha - beta) ** 2 * (alpha + beta + 1) - alpha * beta * (alpha + beta + 2))
    / (alpha * beta * (alpha + beta + 2) * (alpha + beta + 3))
)
_T_ENTROPY = (df + 1) / 2 * (_psi((df + 1) / 2) - _psi(df / 2)) + sp.log(df) / 2 + _log_beta(df / 2, _half)

TABLE: Mapping[str, dict[str, Entry]] = {
    "normal": {
        **_moments(*_plain(mu, sigma**2, sp.S.Zero, sp.S.Zero)),
        "entropy": (sp.log(2 * sp.pi * sp.E * sigma**2) / 2, None),
        "median": (mu, None),
        "mode": (mu, None),
    },
    "bernoulli": {
        **_moments(*_plain(p, p * _q, (1 - 2 * p) / sp.sqrt(p * _q), (1 - 6 * p * _q) / (p * _q))),
        "entropy": (-p * sp.log(p) - _q * sp.log(_q), None),
    },
    "binomial": _moments(
        *_plain(n * p, n * p * _q, (1 - 2 * p) / sp.sqrt(n * p * _q), (1 - 6 * p * _q) / (n * p * _q))
    ),
    "poisson": _moments(*_plain(lam, lam, 1 / sp.sqrt(lam), 1 / lam)),
    "uniform": {
        **_moments(*_plain((a + b) / 2, (b - a) ** 2 / 12, sp.S.Zero, sp.Rational(-6, 5))),
        "entropy": (sp.log(b - a), None),
        "median": ((a + b) / 2, None),
    },
    "geometric": {
        **_moments(*_plain(1 / p, _q / p**2, (2 - p) / sp.sqrt(_q), 6 + p**2 / _q)),
        "entropy": ((-_q * sp.log(_q) - p * sp.log(p)) / p, None),
        "mode": (sp.S.One, None),
    },
    "student_t": {
        **_moments((sp.S.Zero, "df > 1"), (df / (df - 2), "df > 2"), (sp.S.Zero, "df > 3"), (6 / (df - 4), "df > 4")),
        "entropy": (_T_ENTROPY, None),
        "median": (sp.S.Zero, None),
        "mode": (sp.S.Zero, None),
    },
    "chi2": {
        **_moments(*_plain(df, 2 * df, sp.sqrt(8 / df), 12 / df)),
        "entropy": (df / 2 + sp.log(2) + sp.loggamma(df / 2) + (1 - df / 2) * _psi(df / 2), None),
        "mode": (df - 2, "df >= 2"),
    },
    "exponential": {
        **_moments(*_plain(scale, scale**2, sp.Integer(2), sp.Integer(6))),
        "entropy": (1 + sp.log(scale), None),
        "median": (scale * sp.log(2), None),
        "mode": (sp.S.Zero, None),
    },
    "f": {
        **_moments(
            (dfd / (dfd - 2), "dfd > 2"),
            (2 * dfd**2 * (dfn + dfd - 2) / (dfn * (dfd - 2) ** 2 * (dfd - 4)), "dfd > 4"),
            (_F_SKEW, "dfd > 6"),
            (_F_KURT, "dfd > 8"),
        ),
        "entropy": (_F_ENTROPY, None),
        "mode": ((dfn - 2) / dfn * dfd / (dfd + 2), "dfn > 2"),
    },
    "gamma": {
        **_moments(*_plain(shape * scale, shape * scale**2, 2 / sp.sqrt(shape), 6 / shape)),
        "entropy": (shape + sp.log(scale) + sp.loggamma(shape) + (1 - shape) * _psi(shape), None),
        "mode": ((shape - 1) * scale, "shape >= 1"),
    },
    "beta": {
        **_moments(
            *_plain(
                alpha / (alpha + beta),
                alpha * beta / ((alpha + beta) ** 2 * (alpha + beta + 1)),
                _BETA_SKEW,
                _BETA_KURT,
            )
        ),
        "entropy": (
            _log_beta(alpha, beta)
            - (alpha - 1) * _psi(alpha)
            - (beta - 1) * _psi(beta)
            + (alpha + beta - 2) * _psi(alpha + beta),
            None,
        ),
        "mode": ((alpha - 1) / (alpha + beta - 2), "alpha > 1 and beta > 1"),
    },
}
"""Per family, statistic -> (expression in the canonical parameters, condition or None)."""


def _with_std(entries: Mapping[str, Entry]) -> dict[str, Entry]:
    variance, condition = entries["variance"]
    ordered = {k: v for k, v in entries.items() if k != "variance"}
    return {
        "mean": ordered.pop("mean"),
        "variance": (variance, condition),
        "std": (sp.sqrt(variance), condition),
        **ordered,
    }


@cache
def closed_forms(family: str, names: frozenset[str]) -> dict[str, ClosedForm]:
    """The table of ``family`` in the client's parameter ``names`` (``rate`` for ``scale`` when given)."""
    spec = FAMILIES[family]
    renamed = {
        sp.Symbol(alt.canonical, positive=True): alt.to_canonical(sp.Symbol(alt.name, positive=True))
        for alt in spec.alternatives
        if alt.name in names
    }
    return {
        name: ClosedForm(to_text(e.xreplace(renamed)), to_latex(e.xreplace(renamed)), condition)
        for name, (e, condition) in _with_std(TABLE[family]).items()
    }
