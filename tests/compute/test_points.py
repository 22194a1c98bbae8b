"""Points from JSON values: both batch layouts, exact strings, strict types, sizes, and located messages."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson
import pytest
import sympy as sp

from service.compute import points as points_module
from service.compute.errors import InvalidInput, InvalidPoint, MalformedJSON, NablaError, TooLarge
from service.compute.points import (
    Points,
    RawJSON,
    check_shapes,
    decode_batch,
    exact_constants,
    exact_value,
    read_vector,
    strings_in,
)

XY = ("x", "y")


def read_points(
    *, variables: tuple[str, ...], parameters: Mapping[str, Any], at: Any = None, points: Any = None, max_points: int
) -> Points | None:
    """What the calculus service does: decode the batch, evaluate its exact strings (in a worker there), read."""
    batch = None if points is None else decode_batch(points, len(variables), max_points)
    strings = strings_in(parameters, at, None if isinstance(batch, np.ndarray) else batch)
    return points_module.read_points(
        variables=variables,
        parameters=parameters,
        at=at,
        points=batch,
        max_points=max_points,
        constants=exact_constants(sorted(strings)),
    )


def _read(at: Any = None, points: Any = None, parameters: Mapping[str, Any] | None = None) -> Points | None:
    return read_points(variables=XY, parameters=parameters or {}, at=at, points=points, max_points=5)


def _matrix(**request: Any) -> list[list[float]]:
    result = _read(**request)
    assert result is not None
    return result.matrix.tolist()


def _error(**request: Any) -> NablaError:
    with pytest.raises(NablaError) as caught:
        _read(**request)
    assert len(caught.value.errors) == 1
    assert caught.value.errors[0].msg == caught.value.detail
    return caught.value


class TestSinglePoint:
    def test_list(self) -> None:
        result = _read(at=[1, 2.5])
        assert result is not None
        assert result.matrix.tolist() == [[1.0, 2.5]]
        assert result.matrix.dtype == np.float64
        assert result.exact is None

    def test_object_in_variable_order(self) -> None:
        assert _matrix(at={"y": 2, "x": -1}) == [[-1.0, 2.0]]

    def test_exact_strings(self) -> None:
        result = _read(at=[1.5, "pi/4"])
        assert result is not None
        assert result.matrix.tolist() == [[1.5, math.pi / 4]]
        assert result.exact == (sp.Rational(3, 2), sp.pi / 4)

    def test_floats_beside_exact_strings_are_the_decimals_written(self) -> None:
        result = _read(at=[0.1, "1/3"])
        assert result is not None
        assert result.exact == (sp.Rational(1, 10), sp.Rational(1, 3))

    def test_vector(self) -> None:
        constants = exact_constants(["1/2"])
        assert read_vector({"y": 1, "x": "1/2"}, XY, ("direction",), constants) == [0.5, 1.0]
        with pytest.raises(InvalidInput) as caught:
            read_vector([1, True], XY, ("direction",), {})
        assert caught.value.detail == "expected a number or an exact string at direction[1], got a boolean"
        assert caught.value.errors[0].loc == ("body", "direction", 1)

    def test_exact_object(self) -> None:
        result = _read(at={"x": "1/3", "y": "sqrt(2)"}, parameters={"a": 2})
        assert result is not None
        assert result.matrix.tolist() == [[1 / 3, math.sqrt(2), 2.0]]
        assert result.exact == (sp.Rational(1, 3), sp.sqrt(2), sp.Integer(2))

    def test_parameters_are_columns_after_the_variables(self) -> None:
        assert _matrix(at=[1, 2], parameters={"b": "e", "a": 3}) == [[1.0, 2.0, math.e, 3.0]]

    def test_nothing_to_evaluate(self) -> None:
        assert _read() is None


class TestBatches:
    def test_rows(self) -> None:
        assert _matrix(points=[[1, 2], [3, 4.5]]) == [[1.0, 2.0], [3.0, 4.5]]

    def test_columns(self) -> None:
        assert _matrix(points={"y": [2, 4], "x": [1, 3]}) == [[1.0, 2.0], [3.0, 4.0]]

    def test_layouts_agree_with_exact_strings_and_objects(self) -> None:
        rows = _matrix(points=[[1, "pi"], {"x": "1/4", "y": 2}])
        columns = _matrix(points={"x": [1, "1/4"], "y": ["pi", 2]})
        assert rows == columns == [[1.0, math.pi], [0.25, 2.0]]

    def test_parameters_broadcast(self) -> None:
        assert _matrix(points=[[1, 2], [3, 4]], parameters={"a": "pi"}) == [[1, 2, math.pi], [3, 4, math.pi]]

    @pytest.mark.parametrize(
        "points",
        [
            [[1, 2], [3, 4.5]],
            {"x": [1, 3], "y": [2, 4.5]},
            [[1, "2"], [3, 4.5]],
            [[1, 2], {"x": 3, "y": "9/2"}],
        ],
    )
    def test_undecoded_text_gives_the_same_matrix(self, points: Any) -> None:
        raw = RawJSON(orjson.dumps(points))
        result = read_points(variables=XY, parameters={}, points=raw, max_points=5)
        assert result is not None
        assert result.matrix.tolist() == [[1.0, 2.0], [3.0, 4.5]]

    def test_batch_results_carry_no_exact_point(self) -> None:
        result = _read(points=[["1/3", 1]])
        assert result is not None
        assert result.exact is None


class TestUndecodedBatches:
    """Large batches arrive as JSON text and are decoded a piece at a time."""

    @pytest.fixture(autouse=True)
    def _small_pieces(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(points_module, "_PIECE_BYTES", 16)

    def test_many_pieces_make_one_matrix(self) -> None:
        rows = np.random.default_rng(3).uniform(-5, 5, (257, 2))
        text = orjson.dumps(rows.tolist()).replace(b",", b", ")
        result = read_points(variables=XY, parameters={}, points=RawJSON(text), max_points=1000)
        assert result is not None
        assert np.array_equal(result.matrix, rows)

    def test_the_count_is_checked_while_decoding(self) -> None:
        text = orjson.dumps([[1, 2]] * 50)
        with pytest.raises(TooLarge, match="the limit is 10"):
            read_points(variables=XY, parameters={}, points=RawJSON(text), max_points=10)

    def test_a_boolean_in_a_piece_is_still_refused(self) -> None:
        text = orjson.dumps([[1, 2]] * 20 + [[True, 2]])
        with pytest.raises(InvalidPoint, match=r"at points\[20\]\[0\], got a boolean"):
            read_points(variables=XY, parameters={}, points=RawJSON(text), max_points=100)

    def test_nan_inside_the_batch_is_malformed_json(self) -> None:
        with pytest.raises(MalformedJSON, match="points is not valid JSON"):
            read_points(variables=XY, parameters={}, points=RawJSON(b"[[1, 2], [NaN, 1]]"), max_points=100)

    def test_exact_strings_take_the_element_by_element_way(self) -> None:
        text = orjson.dumps([[1, 2]] * 20 + [["pi", "1/2"]])
        result = read_points(variables=XY, parameters={}, points=RawJSON(text), max_points=100)
        assert result is not None
        assert result.matrix[-1].tolist() == [math.pi, 0.5]


class TestRejected:
    @pytest.mark.parametrize(
        ("request_", "detail", "loc"),
        [
            ({"at": [True, 2]}, "expected a number or an exact string at at[0], got a boolean", ("body", "at", 0)),
            (
                {"points": [[1, 2], [3, False]]},
                "expected a number or an exact string at points[1][1], got a boolean",
                ("body", "points", 1, 1),
            ),
            (
                {"points": {"x": [1, 3], "y": [2, True]}},
                "expected a number or an exact string at points.y[1], got a boolean",
                ("body", "points", "y", 1),
            ),
            (
                {"at": {"x": True, "y": 1}},
                "expected a number or an exact string at at.x, got a boolean",
                ("body", "at", "x"),
            ),
        ],
    )
    def test_booleans(self, request_: dict[str, Any], detail: str, loc: tuple[str | int, ...]) -> None:
        error = _error(**request_)
        assert type(error) is InvalidPoint
        assert error.detail == detail
        assert error.errors[0].loc == loc

    def test_boolean_parameter_is_invalid_input(self) -> None:
        error = _error(at=[1, 2], parameters={"a": False})
        assert type(error) is InvalidInput
        assert error.detail == "expected a number or an exact string at parameters.a, got a boolean"
        assert error.errors[0].loc == ("body", "parameters", "a")

    @pytest.mark.parametrize(
        ("request_", "detail"),
        [
            ({"at": [1]}, "at has 1 value but there are 2 variables (x, y); give one value per variable, in that "
             "order"),
            ({"at": [1, 2, 3]}, "at has 3 values but there are 2 variables (x, y); give one value per variable, in "
             "that order"),
            ({"points": [[1, 2], [3]]}, "points[1] has 1 value but there are 2 variables (x, y); give one value per "
             "variable, in that order"),
            ({"at": {"x": 1}}, "at must give exactly the variables (x, y): missing y"),
            ({"at": {"x": 1, "y": 2, "z": 3}}, "at must give exactly the variables (x, y): unknown z"),
            ({"at": {"z": 3}}, "at must give exactly the variables (x, y): missing x, y; unknown z"),
            ({"points": {"x": [1, 3], "y": [2]}}, "every column of points must have the same length"),
            ({"points": {"x": [1, 3], "z": [2, 3]}},
             "points given as columns must have one array for each variable (x, y); unknown: z"),
            ({"points": {"x": [1, 3]}}, "points given as columns must have one array for each variable (x, y)"),
            ({"points": []}, "points must hold at least one point"),
            ({"points": {"x": [], "y": []}}, "points must hold at least one point"),
        ],
    )  # fmt: skip
    def test_sizes(self, request_: dict[str, Any], detail: str) -> None:
        error = _error(**request_)
        assert type(error) is InvalidPoint
        assert error.detail == detail

    @pytest.mark.parametrize(
        ("request_", "detail"),
        [
            ({"at": 5}, "at must be an array or an object of coordinates, got a number"),
            ({"at": "1, 2"}, "at must be an array or an object of coordinates, got a string"),
            ({"points": "ab"}, "points must be an array of points or an object of columns, got a string"),
            ({"points": [[1, 2], "ab"]}, "points[1] must be an array or an object of coordinates, got a string"),
            ({"points": [[1, 2], None]}, "points[1] must be an array or an object of coordinates, got null"),
            ({"at": [1, None]}, "expected a number or an exact string at at[1], got null"),
            ({"at": [1, [2]]}, "expected a number or an exact string at at[1], got an array"),
            ({"at": [1, {"v": 2}]}, "expected a number or an exact string at at[1], got an object"),
            ({"points": [[[1], 2]]}, "expected a number or an exact string at points[0][0], got an array"),
            ({"points": {"x": [[1]], "y": [2]}}, "expected a number or an exact string at points.x[0], got an array"),
        ],
    )
    def test_nested_junk(self, request_: dict[str, Any], detail: str) -> None:
        error = _error(**request_)
        assert type(error) is InvalidPoint
        assert error.detail == detail

    @pytest.mark.parametrize(
        ("value", "detail"),
        [
            (10**400, "the number at at[1] is outside the float64 range"),
            (math.inf, "the number at at[1] is outside the float64 range"),
            (math.nan, "the number at at[1] is outside the float64 range"),
            ("sqrt(-1)", "'sqrt(-1)' is not a real number (at at[1])"),
            ("exp(1000)", "'exp(1000)' is outside the float64 range (about 1.8e308) (at at[1])"),
            ("1/0", "division by zero at position 1 (at at[1])"),
            ("", "expected an expression, found an empty text (at at[1])"),
            (
                "x",
                "'x' is not a number: 'x' is a name; an exact value may use numbers, pi, e and the functions "
                "(e.g. 'pi/4', 'sqrt(2)', '1/3') (at at[1])",
            ),
            ("1" * 201, "the expression has 201 characters; the limit is 200 (at at[1])"),
        ],
    )
    def test_bad_coordinates(self, value: Any, detail: str) -> None:
        error = _error(at=[1, value])
        assert type(error) is InvalidPoint
        assert error.detail == detail
        assert error.errors[0].loc == ("body", "at", 1)

    @pytest.mark.parametrize("points", [[[1, 2]] * 6, {"x": [1] * 6, "y": [2] * 6}])
    def test_too_many_points(self, points: Any) -> None:
        error = _error(points=points)
        assert type(error) is TooLarge
        assert error.status == 413
        assert error.detail == "the batch has 6 points; the limit is 5"
        assert error.errors[0].loc == ("body", "points")

    def test_at_the_limit(self) -> None:
        assert len(_matrix(points=[[1, 2]] * 5)) == 5


class TestExactValue:
    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ("pi/4", sp.pi / 4),
            ("1/3", sp.Rational(1, 3)),
            ("sqrt(2)", sp.sqrt(2)),
            ("-e^2", -sp.exp(2)),
            ("0.1", sp.Rational(1, 10)),
        ],
    )
    def test_values(self, text: str, value: sp.Expr) -> None:
        assert exact_value(text) == value

    def test_errors_are_service_errors(self) -> None:
        with pytest.raises(InvalidPoint, match=r"^'asin\(2\)' is not a real number$"):
            exact_value("asin(2)")


class TestShapes:
    """Sizes are checked before any symbolic work: no values are read."""

    def test_a_direction_of_the_wrong_size(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            check_shapes(XY, direction=[1, 0, 0])
        assert caught.value.detail == (
            "direction has 3 values but there are 2 variables (x, y); give one value per variable, in that order"
        )
        assert caught.value.errors[0].loc == ("body", "direction")

    def test_a_point_with_an_unknown_name(self) -> None:
        with pytest.raises(InvalidPoint, match=r"at must give exactly the variables \(x, y\): unknown z"):
            check_shapes(XY, at={"x": 1, "y": 2, "z": 3})

    def test_columns_that_miss_a_variable(self) -> None:
        with pytest.raises(InvalidPoint, match="one array for each variable"):
            check_shapes(XY, points={"x": [1]})

    def test_the_first_row_of_a_batch(self) -> None:
        with pytest.raises(InvalidPoint, match=r"points\[0\] has 1 value"):
            check_shapes(XY, points=[[1]])

    def test_values_are_not_read(self) -> None:
        check_shapes(XY, at=["pi", True], points=[[None, "x"]], direction={"x": "?", "y": []})
