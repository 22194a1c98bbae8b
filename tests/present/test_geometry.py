"""The geometry presenters only arrange what the compute layer computed: each field of the contract from its result."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
import symengine

from service.compute.anchor import FunctionSpec
from service.compute.critical import CriticalAnswer, CriticalPoint, CriticalPoints, CriticalQuery
from service.compute.level_set import LevelSetAnswer, LevelSetQuery, LevelSetTask, level_set
from service.compute.taylor import TaylorAnswer, TaylorQuery, TaylorTask, compare, compile_comparison, expand
from service.present import geometry


def test_taylor_without_and_with_points() -> None:
    result = expand(TaylorTask(FunctionSpec("exp(x)"), (0,), order=2))
    query = TaylorQuery("exp(x)", at=(0,))
    body = geometry.taylor(TaylorAnswer(query, result))
    assert body == {
        "variables": ["x"],
        "at": [0.0],
        "order": 2,
        "polynomial": {"expression": "1 + x + x^2/2", "latex": r"1 + x + \frac{x^{2}}{2}"},
        "function_value": 1.0,
        "warnings": [],
        "warnings_omitted": 0,
        "provenance": {"method": "symbolic", "engine": f"symengine {symengine.__version__}", "cached": False},
    }
    comparison = compare(compile_comparison(result), np.array([[1.0], [2.0]]))
    decoded = orjson.loads(geometry.present_taylor(TaylorAnswer(query, result, comparison)))
    assert decoded["values"] == [2.5, 5.0]
    assert decoded["status_counts"] == {"ok": 2}
    assert decoded["errors"] == pytest.approx([np.e - 2.5, np.e**2 - 5.0], rel=1e-14)


def test_level_set_has_a_slope_only_with_two_variables() -> None:
    answer = LevelSetAnswer(LevelSetQuery("x^2 + y^2"), level_set(LevelSetTask(FunctionSpec("x^2 + y^2"), (0, 0))))
    body = geometry.level_set(answer)
    assert body["slope"] is None
    assert [w["code"] for w in body["warnings"]] == ["critical_point"]
    three = level_set(LevelSetTask(FunctionSpec("x + y + z"), (0, 0, 0)))
    assert "slope" not in geometry.level_set(LevelSetAnswer(LevelSetQuery("x + y + z"), three))


def test_critical_points_bounds_by_name_and_warnings_with_codes() -> None:
    point = CriticalPoint((0.0,), 0.5, 0.0, (-2.0,), "maximum")
    result = CriticalPoints(("x",), (point,), "numeric", False, ((-10.0, 10.0),), (("default_bounds", "searched"),))
    body = geometry.critical_points(CriticalAnswer(CriticalQuery("x"), result))
    assert body["bounds"] == {"x": [-10.0, 10.0]}
    assert body["points"] == [
        {"at": [0.0], "function_value": 0.5, "gradient_norm": 0.0, "eigenvalues": [-2.0], "kind": "maximum"}
    ]
    assert body["warnings"][0]["code"] == "default_bounds"
    assert body["warnings"][0]["detail"] == "searched"
