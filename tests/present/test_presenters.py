"""The presenters only arrange what the compute layer computed: each field of the contract from its result."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from service.compute.answer import answer
from service.compute.calculus import CalculusQuery, CalculusTask, run
from service.compute.notes import Note, Notes
from service.compute.numeric import compile_evaluator
from service.compute.stochastic import StochasticAnswer, StochasticQuery, StochasticResult
from service.present import calculus, distributions, stochastic
from service.present.encoding import encode, matrix, warnings


def _answer(query: CalculusQuery, points: list[list[float]]) -> calculus.CalculusAnswer:
    task = CalculusTask("gradient" if query.operation == "directional" else query.operation, query.functions, None, ())
    result = run(task)
    evaluator = compile_evaluator(result.variables, result.functions, [d.expr for d in result.derivatives])
    evaluation = evaluator.evaluate(np.array(points, dtype=float))
    unit = np.array([0.6, 0.8]) if query.operation == "directional" else None
    return answer(query, result, evaluation, None, unit, max_warnings=1)


class TestEncoding:
    def test_large_arrays_are_written_in_blocks_as_one_array(self) -> None:
        values = np.arange(100_000, dtype=float).reshape(-1, 2)
        values[3, 1] = np.nan
        decoded = orjson.loads(encode({"values": values, "n": 1}))
        assert decoded["n"] == 1
        assert decoded["values"][3] == [6.0, None]
        assert decoded["values"][-1] == [99_998.0, 99_999.0]

    def test_matrix_is_row_major(self) -> None:
        assert matrix([1, 2, 3, 4, 5, 6], (2, 3)) == [[1, 2, 3], [4, 5, 6]]
        assert matrix([1, 2], (2,)) == [1, 2]

    def test_every_warning_has_every_field(self) -> None:
        notes = Notes((Note("few_draws", "d"), Note("null_value", "e", field="pdf", index=2)), omitted=4)
        assert warnings(notes) == {
            "warnings": [
                {"code": "few_draws", "detail": "d", "point": None, "status": None, "field": None, "index": None},
                {"code": "null_value", "detail": "e", "point": None, "status": None, "field": "pdf", "index": 2},
            ],
            "warnings_omitted": 4,
        }


class TestCalculus:
    def test_a_gradient_at_a_point(self) -> None:
        body = calculus.body(_answer(CalculusQuery("gradient", ("x^2*y",), at=[1, 2]), [[1, 2]]))
        assert body["variables"] == ["x", "y"]
        assert body["gradient"]["expressions"] == ["2*x*y", "x^2"]
        assert body["value"].tolist() == [4.0, 1.0]
        assert (body["status"], body["warnings"], body["warnings_omitted"]) == ("ok", [], 0)

    def test_a_batch_counts_statuses_and_lists_the_first_warnings(self) -> None:
        query = CalculusQuery("derivative", ("log(x)",), points=[[1], [-1], [-2]])
        body = calculus.body(_answer(query, [[1], [-1], [-2]]))
        assert body["status_counts"] == {"ok": 1, "domain_error": 2}
        assert [w["point"] for w in body["warnings"]] == [1]
        assert body["warnings_omitted"] == 1

    def test_a_directional_gradient_has_the_gradient_endpoints_shape(self) -> None:
        single = calculus.body(_answer(CalculusQuery("directional", ("x*y",), at=[1, 2]), [[1, 2]]))
        assert single["gradient"].tolist() == [2.0, 1.0]
        assert single["value"] == pytest.approx(2 * 0.6 + 1 * 0.8)
        batch = calculus.body(_answer(CalculusQuery("directional", ("x*y",), points=[[1, 2]]), [[1, 2]]))
        assert batch["gradient"].tolist() == [[2.0, 1.0]]
        assert batch["gradients"] is batch["gradient"]  # the deprecated alias

    def test_a_hessian_with_its_definiteness(self) -> None:
        body = calculus.body(_answer(CalculusQuery("hessian", ("x^2 - y^2",), at=[0, 0], classify=True), [[0, 0]]))
        assert body["symmetric"] is True
        assert body["classification"] == "indefinite"
        assert body["eigenvalues"].tolist() == [-2.0, 2.0]

    def test_without_a_point_only_the_symbols(self) -> None:
        result = run(CalculusTask("derivative", ("sin(x)",), None, ()))
        body = calculus.body(answer(CalculusQuery("derivative", ("sin(x)",)), result, None))
        assert body == {
            "variables": ["x"],
            "variable": "x",
            "order": 1,
            "wrt": ["x"],
            "derivative": {"expression": "cos(x)", "latex": "\\cos{\\left(x \\right)}"},
        }


class TestStochastic:
    def test_every_field_of_the_result(self) -> None:
        result = StochasticResult(
            wrt=("t",),
            estimator="score",
            treatments={"X": "score"},
            estimate=(1.0,),
            standard_error=(0.1,),
            low=(0.8,),
            high=(1.2,),
            variance={"pathwise": None, "score": (4.0,)},
            exact=None,
            expectation=None,
            exact_derivatives=None,
            warnings=(Note("few_draws", "rough"),),
        )
        query = StochasticQuery("X", (), (("t", 2.0),), ("t",), samples=400, confidence=0.9)
        body = orjson.loads(stochastic.present(StochasticAnswer(result, query, seed=5)))
        assert body["at"] == {"t": 2.0}
        assert body["confidence_interval"] == {"level": 0.9, "low": [0.8], "high": [1.2]}
        assert (body["samples"], body["seed"], body["exact"]) == (400, 5, None)
        assert body["variance"] == {"pathwise": None, "score": [4.0]}
        assert body["warnings"][0]["code"] == "few_draws"


class TestDistributions:
    def test_the_catalogue_is_encoded_once(self) -> None:
        assert distributions.catalogue() is distributions.catalogue()
        families = orjson.loads(distributions.catalogue())["families"]
        assert [f["name"] for f in families][:3] == ["normal", "bernoulli", "binomial"]
