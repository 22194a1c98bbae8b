"""Points from JSON values to a float matrix: the batch layouts of the contract, exact strings, strict types.

A coordinate is a JSON number (never a boolean) or an exact string in the expression language without variables
(``"1/3"``, ``"pi/4"``, ``"sqrt(2)"``). Batches of plain numbers take a fast path straight into NumPy; anything else
is checked element by element, and every error names the exact location.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NoReturn

import msgspec
import numpy as np
import orjson
import sympy as sp

from service.compute.errors import (
    InvalidExpression,
    InvalidInput,
    InvalidPoint,
    MalformedJSON,
    NablaError,
    TooLarge,
    UnknownName,
    count,
    located,
)
from service.compute.language.build import parse_expression
from service.compute.limits import Limits

Loc = tuple[str | int, ...]
_EXACT_LIMITS = Limits(max_length=200, max_nodes=100, max_depth=20)


@dataclass(frozen=True)
class RawJSON:
    """The JSON text of a batch not decoded yet: large batches are decoded here, in pieces, so that no single step
    holds the interpreter for long (orjson on 200 MB holds it for two seconds)."""

    text: bytes


@dataclass(frozen=True)
class Points:
    """A batch of points: one row per point, one column per input (variables, then parameters)."""

    matrix: np.ndarray
    exact: tuple[sp.Expr, ...] | None = None  # the exact coordinates of a single point given with strings


def _error(detail: str, loc: Loc) -> NablaError:
    kind = InvalidPoint if loc and loc[0] in ("at", "points") else InvalidInput
    return located(kind, detail, ("body", *loc))


@lru_cache(maxsize=4096)
def exact_value(text: str) -> sp.Expr:
    """The exact real constant that ``text`` denotes; raises ``NablaError`` if it has names or is not real."""
    try:
        value = parse_expression(text, known=(), limits=_EXACT_LIMITS)
    except UnknownName as error:
        name = error.detail.split("'")[1]
        raise located(
            InvalidPoint,
            f"{text!r} is not a number: '{name}' is a name; an exact value may use numbers, pi, e and the "
            "functions (e.g. 'pi/4', 'sqrt(2)', '1/3')",
        ) from None
    except InvalidExpression as error:
        if "not a real number" in error.detail:
            raise located(InvalidPoint, f"{text!r} is not a real number") from None
        raise
    try:
        approx = complex(value.evalf(30))
    except (TypeError, ValueError, OverflowError):  # dirac(0) stays unevaluated; exp(exp(exp(exp(9)))) overflows
        raise located(InvalidPoint, f"{text!r} is not a finite real number") from None
    if approx.imag != 0:
        raise located(InvalidPoint, f"{text!r} is not a real number")
    if not np.isfinite(approx.real):
        raise located(InvalidPoint, f"{text!r} is outside the float64 range (about 1.8e308)")
    return value


Constant = tuple[sp.Expr, float] | str  # an exact value and its float, or why the text is no number
Constants = Mapping[str, Constant]


def exact_constants(texts: Sequence[str]) -> dict[str, Constant]:
    """Each exact string's value, or the reason it has none. Symbolic work: it runs in a worker."""
    out: dict[str, Constant] = {}
    for text in texts:
        try:
            value = exact_value(text)
            out[text] = (value, float(value))
        except NablaError as error:
            out[text] = error.detail
    return out


def strings_in(*values: Any) -> set[str]:
    """Every string among ``values`` and inside their lists and objects (not the objects' keys)."""
    found: set[str] = set()
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, Mapping):
            stack.extend(value.values())
    return found


def _number(value: Any, loc: Loc, constants: Constants) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _error(f"expected a number or an exact string at {_where(loc)}, got {_json_type(value)}", loc)
    if isinstance(value, str):
        constant = constants.get(value, f"{value!r} was not evaluated")
        if isinstance(constant, str):
            raise _error(f"{constant} (at {_where(loc)})", loc)
        return constant[1]
    try:
        number = float(value)
    except OverflowError:
        number = float("inf")
    if not np.isfinite(number):
        raise _error(f"the number at {_where(loc)} is outside the float64 range", loc)
    return number


def _where(loc: Loc) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a string" if isinstance(value, str) else "a number"


def _fast_matrix(rows: Sequence[Sequence[Any]], width: int, may_hold_booleans: bool = True) -> np.ndarray | None:
    """A float matrix when every coordinate is a finite int or float and the rows are ``width`` wide, else None.

    NumPy turns booleans into numbers silently, so they are looked for element by element, unless the caller knows
    there are none (``may_hold_booleans`` false: no true/false token in the text); strings make NumPy's array one of
    strings, which is refused here."""
    if may_hold_booleans:
        try:
            kinds = set(map(type, itertools.chain.from_iterable(rows)))
        except TypeError:
            return None
        if not kinds <= {int, float}:
            return None
    try:
        matrix = np.array(rows)
    except (ValueError, OverflowError):
        return None
    if matrix.dtype.kind not in "if" or matrix.shape != (len(rows), width):
        return None
    matrix = matrix.astype(np.float64, copy=False)
    if not np.isfinite(matrix).all():
        return None
    return matrix


def _check_point(raw: Any, names: Sequence[str], loc: Loc) -> None:
    """A point (or a vector given like one) has exactly one coordinate per name."""
    if isinstance(raw, Mapping):
        missing = [n for n in names if n not in raw]
        extra = [k for k in raw if k not in names]
        if missing or extra:
            parts = [f"missing {', '.join(missing)}" if missing else "", f"unknown {', '.join(extra)}" if extra else ""]
            raise _error(
                f"{_where(loc)} must give exactly the variables ({', '.join(names)}): "
                + "; ".join(p for p in parts if p),
                loc,
            )
    elif isinstance(raw, list):
        if len(raw) != len(names):
            raise _error(
                f"{_where(loc)} has {count(len(raw), 'value')} but there {'is' if len(names) == 1 else 'are'} "
                f"{count(len(names), 'variable')} "
                f"({', '.join(names)}); give one value per variable, in that order",
                loc,
            )
    else:
        raise _error(f"{_where(loc)} must be an array or an object of coordinates, got {_json_type(raw)}", loc)


def _point(raw: Any, names: Sequence[str], loc: Loc, constants: Constants) -> list[float]:
    _check_point(raw, names, loc)
    if isinstance(raw, Mapping):
        return [_number(raw[n], (*loc, n), constants) for n in names]
    return [_number(v, (*loc, i), constants) for i, v in enumerate(raw)]


def plain_point(raw: Any, names: Sequence[str]) -> list[float] | None:
    """The coordinates of a point given as plain numbers, one per name (an array in order, or an object with exactly
    the names), each a float or an integer that a float holds exactly; None for anything else, which the checked way
    (``read_points``) reads or refuses in its own words."""
    if isinstance(raw, Mapping):
        if len(raw) != len(names):
            return None
        try:
            raw = [raw[n] for n in names]
        except KeyError:
            return None
    if not isinstance(raw, list) or len(raw) != len(names):
        return None
    for value in raw:
        kind = type(value)
        if kind is not float and not (kind is int and -_EXACT_INTEGERS <= value <= _EXACT_INTEGERS):
            return None
    return [float(v) for v in raw]


_EXACT_INTEGERS = 2**53


def check_shapes(variables: Sequence[str], at: Any = None, points: Any = None, direction: Any = None) -> None:
    """The sizes of a point, a batch (its columns, or its first row) and a direction against the variables: cheap
    checks that read no values, so that a request of the wrong shape is refused before any symbolic work."""
    if at is not None:
        _check_point(at, variables, ("at",))
    if direction is not None:
        _check_point(direction, variables, ("direction",))
    if isinstance(points, np.ndarray):
        _check_matrix(points, variables)
    elif isinstance(points, list) and points and isinstance(points[0], list | Mapping):
        _check_point(points[0], variables, ("points", 0))
    elif isinstance(points, Mapping):
        extra = [k for k in points if k not in variables]
        if extra or any(n not in points for n in variables):
            _columns_error(variables, extra)


def _check_matrix(points: np.ndarray, names: Sequence[str]) -> None:
    """A batch sent as a binary array (msgpack): N x n for n variables, finite."""
    if points.ndim != 2 or points.shape[1] != len(names):
        raise _error(
            f"points has shape {list(points.shape)}; it must be [N, {len(names)}]: one row per point, one column "
            f"per variable ({', '.join(names)})",
            ("points",),
        )
    if not np.isfinite(points).all():
        row, column = np.argwhere(~np.isfinite(points))[0]
        raise _error(f"points[{row}][{column}] is {points[row, column]}; coordinates must be finite", ("points",))


def _columns_error(names: Sequence[str], extra: Sequence[str]) -> NoReturn:
    raise _error(
        f"points given as columns must have one array for each variable ({', '.join(names)})"
        + (f"; unknown: {', '.join(extra)}" if extra else ""),
        ("points",),
    )


def read_vector(raw: Any, names: Sequence[str], loc: Loc, constants: Constants) -> list[float]:
    """One vector given like a point (an object by name or an array in order), e.g. a direction."""
    return _point(raw, names, loc, constants)


_PIECE_BYTES = 1 << 20


def _pieces(text: bytes, start: int, end: int) -> Iterator[bytes]:
    """``text[start:end]`` (the inside of an array of arrays of numbers) cut at row boundaries into pieces of about
    a megabyte, without copying the whole. In such text every ']' closes a row."""
    while start < end:
        close = text.find(b"]", min(start + _PIECE_BYTES, end - 1), end)
        comma = -1 if close < 0 else text.find(b",", close, end)
        stop = end if comma < 0 else comma
        yield text[start:stop]
        start = stop + 1


def _first(text: bytes, indexes: range) -> int:
    """The first index in ``indexes`` where ``text`` is not white space (-1 when there is none)."""
    return next((i for i in indexes if text[i] not in b" \t\r\n"), -1)


@lru_cache(maxsize=64)
def _rows_decoder(width: int) -> msgspec.json.Decoder[list[tuple[float, ...]]]:
    """A decoder of rows of exactly ``width`` numbers into float tuples. It refuses what the fast path must not take:
    booleans, strings, nulls, rows of another width, and numbers beyond float64 (JSON has no NaN or Infinity)."""
    row = tuple.__class_getitem__((float,) * width)
    return msgspec.json.Decoder(list[row])  # type: ignore[valid-type]


def _raw_rows(raw: RawJSON, names: Sequence[str], max_points: int) -> Any:
    """Rows decoded a piece at a time into a matrix; anything but plain numeric rows is decoded whole and returned
    as it is, for the element-by-element way."""
    text = raw.text
    first, last = _first(text, range(len(text))), _first(text, range(len(text) - 1, -1, -1))
    try:
        # An array whose first element is an array: rows (anything else goes the general way below).
        opening = _first(text, range(first + 1, len(text)))
        if text[first : first + 1] != b"[" or text[last : last + 1] != b"]" or text[opening : opening + 1] != b"[":
            raise ValueError
        blocks, count = [], 0
        decoder = _rows_decoder(len(names))
        for piece in _pieces(text, first + 1, last):
            rows = decoder.decode(b"[" + piece + b"]")
            flat = itertools.chain.from_iterable(rows)  # fromiter: a third faster than np.array of the tuples
            block = np.fromiter(flat, dtype=np.float64, count=len(rows) * len(names)).reshape(-1, len(names))
            count += len(block)
            _check_count(count, max_points)
            blocks.append(block)
        return np.concatenate(blocks) if blocks else np.empty((0, len(names)))
    except (ValueError, msgspec.DecodeError):  # msgspec's ValidationError is a DecodeError
        pass
    try:
        decoded = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise located(MalformedJSON, f"points is not valid JSON ({error}); NaN and Infinity are not JSON numbers",
                      ("body", "points")) from None  # fmt: skip
    return decoded


def decode_batch(raw: Any, width: int, max_points: int) -> Any:
    """A batch as a float matrix when it is plain numbers (the fast path), else as decoded JSON values: those may
    hold exact strings, to be evaluated (in a worker) before ``read_points``."""
    if isinstance(raw, RawJSON):
        raw = _raw_rows(raw, [""] * width, max_points)
    if isinstance(raw, list) and len(raw) <= max_points:
        fast = _fast_matrix(raw, width)
        if fast is not None:
            return fast
    return raw


def _rows(raw: Any, names: Sequence[str], max_points: int, constants: Constants) -> np.ndarray:
    if isinstance(raw, np.ndarray):
        _check_matrix(raw, names)
        _check_count(len(raw), max_points)
        return raw
    if isinstance(raw, RawJSON):
        raw = _raw_rows(raw, names, max_points)
        if isinstance(raw, np.ndarray):
            return raw
    if isinstance(raw, Mapping):
        columns: list[Any] = [raw.get(n) for n in names]
        extra = [k for k in raw if k not in names]
        if extra or any(not isinstance(c, list | np.ndarray) for c in columns):
            _columns_error(names, extra)
        if all(isinstance(c, np.ndarray) for c in columns):  # binary columns (msgpack)
            return _binary_columns(columns, names, max_points)
        lengths = {len(c) for c in columns if isinstance(c, list)}
        if len(lengths) > 1:
            raise _error("every column of points must have the same length", ("points",))
        count = lengths.pop() if lengths else 0
        _check_count(count, max_points)
        fast = _fast_matrix(columns, count) if columns else None
        if fast is not None:
            return fast.T.copy()
        return np.array(
            [
                [_number(c[i], ("points", n, i), constants) for n, c in zip(names, columns, strict=True)]
                for i in range(count)
            ],
            dtype=np.float64,
        ).reshape(count, len(names))
    if not isinstance(raw, list):
        raise _error(f"points must be an array of points or an object of columns, got {_json_type(raw)}", ("points",))
    _check_count(len(raw), max_points)
    fast = _fast_matrix(raw, len(names))
    if fast is not None:
        return fast
    rows = [_point(p, names, ("points", i), constants) for i, p in enumerate(raw)]
    return np.array(rows, dtype=np.float64).reshape(len(raw), len(names))


def _binary_columns(columns: list[np.ndarray], names: Sequence[str], max_points: int) -> np.ndarray:
    for name, column in zip(names, columns, strict=True):
        if column.ndim != 1 or len(column) != len(columns[0]):
            raise _error(
                f"points.{name} has shape {list(column.shape)}; every column must be one array of the same length",
                ("points", name),
            )
    _check_count(len(columns[0]), max_points)
    matrix = np.column_stack(columns)
    _check_matrix(matrix, names)
    return matrix


def _check_count(count: int, max_points: int) -> None:
    if count > max_points:
        raise located(TooLarge, f"the batch has {count} points; the limit is {max_points}", ("body", "points"))
    if count == 0:
        raise _error("points must hold at least one point", ("points",))


def _parameter_row(parameters: Mapping[str, Any], names: Sequence[str], constants: Constants) -> list[float]:
    return [_number(parameters[n], ("parameters", n), constants) for n in names]


def read_points(
    *,
    variables: Sequence[str],
    parameters: Mapping[str, Any],
    at: Any = None,
    points: Any = None,
    max_points: int,
    constants: Constants,
) -> Points | None:
    """The evaluation points of a request as one matrix over variables and parameters, or None when there are none.

    ``constants`` holds the value of every exact string in the request (``exact_constants``, run in a worker)."""
    names = list(parameters)
    values = _parameter_row(parameters, names, constants)
    if at is not None:
        row = _point(at, variables, ("at",), constants)
        given = [at[n] for n in variables] if isinstance(at, Mapping) else list(at)
        given += [parameters[n] for n in names]
        exact = tuple(_exact(v, constants) for v in given) if any(isinstance(v, str) for v in given) else None
        return Points(np.array([row + values], dtype=np.float64), exact)
    if points is not None:
        matrix = _rows(points, variables, max_points, constants)
        if names:
            matrix = np.hstack([matrix, np.broadcast_to(np.array(values), (len(matrix), len(names)))])
        return Points(matrix)
    return None


def _exact(value: Any, constants: Constants) -> sp.Expr:
    if isinstance(value, str):
        constant = constants[value]
        assert not isinstance(constant, str)  # _number refused it already
        return constant[0]
    if isinstance(value, int):
        return sp.Integer(value)
    return sp.Rational(repr(value))  # the decimal the client wrote (0.1 is 1/10), not its binary approximation


def read_parameters(parameters: Sequence[tuple[str, Any]]) -> tuple[tuple[str, float], ...]:
    """Constants given as numbers or exact strings, as floats (in a worker: exact strings are symbolic work)."""
    values = dict(parameters)
    numbers = read_vector(values, list(values), ("parameters",), exact_constants(sorted(strings_in(values))))
    return tuple(zip(values, numbers, strict=True))
