"""Grid points from ranges: ij order flattened row-major, exact bounds, sizes, and located messages."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from service.compute.errors import InvalidPoint, NablaError, TooLarge
from service.compute.grid import expand_grid as _expand_grid
from service.compute.grid import grid_shape
from service.compute.points import exact_constants, strings_in

XY = ("x", "y")


def expand_grid(grid: Any, variables: tuple[str, ...], max_points: int) -> np.ndarray:
    """Exact strings evaluated first, as the runtime does in a worker."""
    return _expand_grid(grid, variables, max_points, exact_constants(sorted(strings_in(grid))))


def _error(grid: Any, variables: tuple[str, ...] = XY, max_points: int = 1000) -> NablaError:
    with pytest.raises(NablaError) as caught:
        expand_grid(grid, variables, max_points)
    assert len(caught.value.errors) == 1
    assert caught.value.errors[0].msg == caught.value.detail
    return caught.value


class TestExpand:
    def test_ij_order_last_variable_fastest(self) -> None:
        points = expand_grid({"x": [0, 1, 3], "y": [10, 20, 2]}, XY, 100)
        assert points.tolist() == [[0, 10], [0, 20], [0.5, 10], [0.5, 20], [1, 10], [1, 20]]

    def test_matches_numpy_meshgrid(self) -> None:
        points = expand_grid({"x": [-1, 1, 4], "y": [0, 2, 5], "z": [3, 4, 2]}, ("x", "y", "z"), 100)
        xs, ys, zs = np.meshgrid(np.linspace(-1, 1, 4), np.linspace(0, 2, 5), np.linspace(3, 4, 2), indexing="ij")
        np.testing.assert_array_equal(points, np.column_stack([xs.ravel(), ys.ravel(), zs.ravel()]))
        assert grid_shape({"x": [-1, 1, 4], "y": [0, 2, 5], "z": [3, 4, 2]}, ("x", "y", "z"), 100) == (4, 5, 2)

    def test_order_of_the_object_does_not_matter(self) -> None:
        points = expand_grid({"y": [0, 1, 2], "x": [5, 5, 1]}, XY, 100)
        assert points.tolist() == [[5, 0], [5, 1]]

    def test_exact_bounds(self) -> None:
        points = expand_grid({"x": [0, "2*pi", 5]}, ("x",), 100)
        np.testing.assert_allclose(points[:, 0], [0, math.pi / 2, math.pi, 3 * math.pi / 2, 2 * math.pi], rtol=1e-15)

    def test_one_value_is_lo_and_descending_ranges_work(self) -> None:
        assert expand_grid({"x": [2, 9, 1]}, ("x",), 10).tolist() == [[2.0]]
        assert expand_grid({"x": [1, 0, 3]}, ("x",), 10).tolist() == [[1.0], [0.5], [0.0]]


class TestErrors:
    def test_missing_and_unknown_variables(self) -> None:
        error = _error({"x": [0, 1, 2], "z": [0, 1, 2]})
        assert isinstance(error, InvalidPoint)
        assert (
            error.detail
            == "grid must give a range [lo, hi, count] for exactly the variables (x, y): missing y; unknown z"
        )
        assert error.errors[0].loc == ("body", "grid")

    def test_not_an_object(self) -> None:
        error = _error([[0, 1, 2]])
        assert error.detail == "grid must be an object giving [lo, hi, count] for each variable, got an array of 1"

    def test_a_range_of_the_wrong_length(self) -> None:
        error = _error({"x": [0, 1], "y": [0, 1, 2]})
        assert error.detail == "grid.x must be [lo, hi, count], e.g. [-1, 1, 21]; got an array of 2"
        assert error.errors[0].loc == ("body", "grid", "x")

    @pytest.mark.parametrize(("count", "shown"), [(0, "0"), (2.5, "2.5"), (True, "true"), ("3", "'3'")])
    def test_a_bad_count(self, count: Any, shown: str) -> None:
        error = _error({"x": [0, 1, count], "y": [0, 1, 2]})
        assert error.detail == f"grid.x[2] (the number of values) must be a whole number of at least 1, got {shown}"
        assert error.errors[0].loc == ("body", "grid", "x", 2)

    def test_a_bad_bound(self) -> None:
        error = _error({"x": [None, 1, 2], "y": [0, 1, 2]})
        assert error.detail == "grid.x[0] (the lo end) must be a number or an exact string, got null"
        assert error.errors[0].loc == ("body", "grid", "x", 0)

    def test_a_huge_bound(self) -> None:
        error = _error({"x": [0, 10**400, 2], "y": [0, 1, 2]})
        assert error.detail == "grid.x[1] (the hi end) is outside the float64 range"

    def test_a_name_in_an_exact_bound(self) -> None:
        error = _error({"x": [0, "2*tau", 2], "y": [0, 1, 2]})
        assert error.detail == (
            "'2*tau' is not a number: 'tau' is a name; an exact value may use numbers, pi, e and the functions "
            "(e.g. 'pi/4', 'sqrt(2)', '1/3') (at grid.x[1], the hi end)"
        )

    def test_too_many_points(self) -> None:
        error = _error({"x": [0, 1, 200], "y": [0, 1, 300]}, max_points=50_000)
        assert isinstance(error, TooLarge)
        assert (
            error.detail
            == "the grid has 200 x 300 = 60000 points; the limit is 50000; ask for fewer values per variable"
        )

    def test_no_variables(self) -> None:
        error = _error({}, variables=())
        assert error.detail == "grid needs variables to range over, and the function has none"
