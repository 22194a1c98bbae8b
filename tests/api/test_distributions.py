"""Distribution endpoints over HTTP (in-process): the catalogue, statistics, closed forms, likelihood and fits, and
every refusal as a problem document naming the parameter and its constraint."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.config import Settings
from tests.conftest import http_client, started

pytestmark = pytest.mark.anyio

FAMILIES = "'normal', 'bernoulli', 'binomial', 'poisson', 'uniform', 'geometric', 'student_t', 'chi2', "
FAMILIES += "'exponential', 'f', 'gamma' or 'beta'"


async def statistics(client: httpx.AsyncClient, family: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/v1/distributions/{family}/statistics", json=body)


def assert_problem(response: httpx.Response, status: int, slug: str, loc: list[str | int], detail: str) -> None:
    """A problem document with one located error carrying the detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["detail"] == detail
    assert [e["loc"] for e in body["errors"]] == [loc]


class TestCatalogue:
    async def test_lists_the_twelve_families_with_parameters_and_conventions(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/distributions")
        assert response.status_code == 200
        families = {f["name"]: f for f in response.json()["families"]}
        assert len(families) == 12
        assert families["normal"]["parameters"][1] == {
            "name": "sigma",
            "constraint": "sigma > 0",
            "description": "Standard deviation.",
            "integer": False,
        }
        assert families["geometric"]["support"] == "{1, 2, 3, ...}"
        assert "Counts trials up to and including the first success" in families["geometric"]["convention"]
        assert families["gamma"]["required"] == "shape, rate or scale (exactly one)"
        assert [p["name"] for p in families["gamma"]["parameters"]] == ["shape", "rate", "scale"]
        assert families["binomial"]["parameters"][0]["integer"] is True
        assert families["uniform"]["regular"] is False
        assert families["poisson"]["discrete"] is True


class TestStatistics:
    async def test_gamma_with_rate(self, client: httpx.AsyncClient) -> None:
        body = {"parameters": {"shape": 2, "rate": 0.5}, "x": [0, 4], "q": [0.5], "exact": True}
        response = await statistics(client, "gamma", body)
        assert response.status_code == 200, response.text
        result = response.json()
        assert (result["mean"], result["variance"], result["mode"]) == (4.0, 8.0, 2.0)
        assert result["support"] == {"lower": 0.0, "upper": None, "description": "[0, inf)"}
        assert set(result) >= {"pdf", "log_pdf", "cdf", "sf", "quantiles"}
        assert "pmf" not in result
        assert result["log_pdf"][0] is None
        assert result["warnings"] == [
            {
                "code": "null_value",
                "detail": "log_pdf is -infinity at x = 0: the density there is 0",
                "point": None,
                "status": None,
                "field": "log_pdf",
                "index": 0,
            }
        ]
        assert result["exact"]["mean"] == {
            "expression": "shape/rate",
            "latex": "\\frac{shape}{rate}",
            "condition": None,
        }
        assert result["quantiles"] == [pytest.approx(result["median"])]

    async def test_seven_or_more_girls_of_eight(self, client: httpx.AsyncClient) -> None:
        response = await statistics(client, "binomial", {"parameters": {"n": 8, "p": 0.5}, "x": [6]})
        assert response.json()["sf"] == [pytest.approx(9 / 256, rel=1e-14)]
        assert "pdf" not in response.json()

    async def test_undefined_statistics_are_null_with_the_reason(self, client: httpx.AsyncClient) -> None:
        result = (await statistics(client, "student_t", {"parameters": {"df": 1.5}})).json()
        assert result["mean"] == 0.0
        assert result["variance"] is None
        assert result["undefined"]["variance"] == "the variance of a Student t is infinite for 1 < df <= 2"
        assert result["infinite"] == ["variance", "std"]
        cauchy = (await statistics(client, "student_t", {"parameters": {"df": 1}})).json()
        assert cauchy["mean"] is None
        assert cauchy["undefined"]["mean"] == "the mean of a Student t is undefined for df <= 1 (both tails diverge)"

    async def test_data_gives_the_likelihood(self, client: httpx.AsyncClient) -> None:
        body = {"parameters": {"mu": 0, "sigma": 1}, "data": [1.0, 2.0, -0.5]}
        likelihood = (await statistics(client, "normal", body)).json()["likelihood"]
        assert likelihood["parameters"] == ["mu", "sigma"]
        assert likelihood["observations"] == 3
        assert likelihood["score"] == [pytest.approx(2.5), pytest.approx(1 + 4 + 0.25 - 3)]
        assert likelihood["fisher_information"]["per_observation"] == [
            [pytest.approx(1.0), pytest.approx(0.0, abs=1e-9)],
            [pytest.approx(0.0, abs=1e-9), pytest.approx(2.0)],
        ]
        assert likelihood["observed_information"][0][0] == pytest.approx(3.0)
        assert likelihood["notes"] == {}

    async def test_warnings_are_capped(self, client: httpx.AsyncClient) -> None:
        body = {"parameters": {"lam": 2}, "x": [0.5] * 30}
        result = (await statistics(client, "poisson", body)).json()
        assert len(result["warnings"]) == 20
        assert result["warnings_omitted"] == 10


class TestRepeats:
    async def test_a_repeated_request_is_answered_without_a_worker(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        body = {"parameters": {"lam": 7.25}, "x": [0, 3], "q": [0.5]}
        first = await statistics(client, "poisson", body)
        answers = app.state.services.distributions.cache
        hits = answers.hits
        again = await statistics(client, "poisson", body)
        remembered, computed = again.json(), first.json()
        assert (computed.pop("provenance")["cached"], remembered.pop("provenance")["cached"]) == (False, True)
        assert remembered == computed
        assert answers.hits == hits + 1

    async def test_another_parameter_is_another_answer(self, client: httpx.AsyncClient) -> None:
        one = await statistics(client, "poisson", {"parameters": {"lam": 7.5}})
        other = await statistics(client, "poisson", {"parameters": {"lam": 8.5}})
        assert (one.json()["mean"], other.json()["mean"]) == (7.5, 8.5)


class TestFit:
    async def test_gamma_in_rate(self, client: httpx.AsyncClient) -> None:
        body = {"data": [1.2, 3.4, 2.2, 5.0, 0.3], "parameterization": "rate", "confidence": 0.9}
        response = await client.post("/v1/distributions/gamma/fit", json=body)
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["estimated"] == ["shape", "rate"]
        assert result["method"] == "newton"
        assert result["confidence_interval"]["level"] == 0.9
        assert result["likelihood"]["score"] == [pytest.approx(0, abs=1e-8), pytest.approx(0, abs=1e-8)]
        assert set(result["standard_errors"]) == {"shape", "rate"}

    async def test_binomial_with_n_fixed(self, client: httpx.AsyncClient) -> None:
        body = {"data": [3, 4, 5], "fixed": {"n": 10}}
        result = (await client.post("/v1/distributions/binomial/fit", json=body)).json()
        assert result["parameters"] == {"n": 10.0, "p": pytest.approx(0.4)}
        assert result["standard_errors"]["p"] == pytest.approx((0.4 * 0.6 / 30) ** 0.5)


class TestErrors:
    async def test_unknown_family_lists_the_known_ones(self, client: httpx.AsyncClient) -> None:
        response = await statistics(client, "lognormal", {"parameters": {}})
        assert_problem(
            response, 422, "validation_error", ["path", "family"], f"path.family: Input should be {FAMILIES}"
        )

    @pytest.mark.parametrize(
        ("family", "parameters", "loc", "detail"),
        [
            ("normal", {"mu": 0, "sigma": 0}, "sigma", "normal needs sigma > 0, got sigma = 0.0"),
            ("bernoulli", {"p": 1.5}, "p", "bernoulli needs 0 <= p <= 1, got p = 1.5"),
            ("binomial", {"n": 2.5, "p": 0.5}, "n", "binomial needs n a positive integer <= 2^53, got n = 2.5"),
            ("binomial", {"n": -3, "p": 0.5}, "n", "binomial needs n a positive integer <= 2^53, got n = -3.0"),
            ("poisson", {"lam": -1}, "lam", "poisson needs lam > 0, got lam = -1.0"),
            ("uniform", {"a": 1, "b": 1}, "b", "uniform needs a < b, got a = 1.0, b = 1.0"),
            ("geometric", {"p": 0}, "p", "geometric needs 0 < p <= 1, got p = 0.0"),
            ("student_t", {"df": 0}, "df", "student_t needs df > 0, got df = 0.0"),
            ("exponential", {"rate": 1, "scale": 1}, "rate",
             "exponential takes 'rate' and 'scale' as alternatives: give exactly one of them"),
            ("gamma", {"shape": 2}, "scale",
             "gamma needs the parameter 'rate' or 'scale'; its parameters are shape, rate or scale (exactly one)"),
            ("beta", {"alpha": 1, "beta": 1, "gamma": 1}, "gamma",
             "beta has no parameter 'gamma'; its parameters are alpha, beta"),
        ],
    )  # fmt: skip
    async def test_invalid_parameters_name_the_parameter_and_its_constraint(
        self, client: httpx.AsyncClient, family: str, parameters: dict[str, float], loc: str, detail: str
    ) -> None:
        response = await statistics(client, family, {"parameters": parameters})
        assert_problem(response, 422, "invalid_input", ["body", "parameters", loc], detail)

    async def test_probabilities_outside_0_1(self, client: httpx.AsyncClient) -> None:
        response = await statistics(client, "normal", {"parameters": {"mu": 0, "sigma": 1}, "q": [0.5, -0.1]})
        detail = "q[1] = -0.1 is not a probability: every q must be in [0, 1]"
        assert_problem(response, 422, "invalid_input", ["body", "q", 1], detail)

    async def test_impossible_data(self, client: httpx.AsyncClient) -> None:
        response = await statistics(client, "poisson", {"parameters": {"lam": 1}, "data": [1, -2]})
        detail = "data[1] = -2 cannot be an observation of poisson: it needs x an integer >= 0"
        assert_problem(response, 422, "invalid_input", ["body", "data", 1], detail)

    async def test_a_string_is_not_a_number(self, client: httpx.AsyncClient) -> None:
        response = await statistics(client, "normal", {"parameters": {"mu": 0, "sigma": "1"}})
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "parameters", "sigma"]

    async def test_unknown_fields_are_refused(self, client: httpx.AsyncClient) -> None:
        response = await statistics(client, "normal", {"parameters": {"mu": 0, "sigma": 1}, "points": [1]})
        assert_problem(
            response, 422, "validation_error", ["body", "points"], "body.points: Extra inputs are not permitted"
        )

    async def test_fit_needs_n_for_a_binomial(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/distributions/binomial/fit", json={"data": [1, 2]})
        detail = "binomial needs 'n' in 'fixed': an integer parameter is known, not estimated"
        assert_problem(response, 422, "invalid_input", ["body", "fixed", "n"], detail)

    async def test_fit_without_a_maximum(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/distributions/poisson/fit", json={"data": [0, 0]})
        detail = "the likelihood of poisson is largest at lam = 0, outside lam > 0: every observation is 0"
        assert_problem(response, 422, "invalid_input", ["body", "data"], detail)

    async def test_fit_needs_data(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/distributions/normal/fit", json={"data": []})
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "data"]

    async def test_confidence_must_be_between_0_and_1(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/distributions/normal/fit", json={"data": [1, 2], "confidence": 1})
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "confidence"]

    async def test_too_many_values_is_413(self) -> None:
        async with started(Settings(workers=1, max_distribution_values=10)) as app, http_client(app) as client:
            response = await statistics(client, "normal", {"parameters": {"mu": 0, "sigma": 1}, "x": [0] * 11})
            detail = "'x' has 11 values, more than the limit of 10 (NABLA_MAX_DISTRIBUTION_VALUES)"
            assert_problem(response, 413, "too_large", ["body", "x"], detail)
            response = await client.post("/v1/distributions/normal/fit", json={"data": [0] * 11})
            assert response.status_code == 413


class TestExtremeParameters:
    """The examples that found each class of wrong answers at extreme parameters, over HTTP (the property test over
    every family's range is tests/compute/test_distributions_extremes.py)."""

    async def test_binomial_log_pmf_and_log_likelihood_at_huge_n_and_tiny_p(self, client: httpx.AsyncClient) -> None:
        # mpmath at 50 digits: log C(1e15, 1000) + 1000 log(1e-12) + (1e15 - 1000) log1p(-1e-12) = -4.37289950602580
        body = {"parameters": {"n": 1e15, "p": 1e-12}, "x": [1000], "data": [1000, 1000]}
        result = (await statistics(client, "binomial", body)).json()
        assert result["log_pmf"][0] == pytest.approx(-4.372899506025797, rel=1e-13)
        assert result["likelihood"]["log_likelihood"] == pytest.approx(2 * -4.372899506025797, rel=1e-13)

    async def test_binomial_n_beyond_2_to_the_53_is_a_422(self, client: httpx.AsyncClient) -> None:
        response = await statistics(client, "binomial", {"parameters": {"n": 1e20, "p": 0.5}})
        detail = "binomial needs n a positive integer <= 2^53, got n = 1e+20"
        assert_problem(response, 422, "invalid_input", ["body", "parameters", "n"], detail)

    async def test_geometric_with_p_1(self, client: httpx.AsyncClient) -> None:
        result = (await statistics(client, "geometric", {"parameters": {"p": 1}, "q": [0.5, 1]})).json()
        assert (result["median"], result["entropy"], result["quantiles"]) == (1.0, 0.0, [1.0, 1.0])

    async def test_uniform_wider_than_the_largest_double(self, client: httpx.AsyncClient) -> None:
        body = {"parameters": {"a": -1e308, "b": 1e308}, "x": [0], "q": [0.25, 0.5]}
        result = (await statistics(client, "uniform", body)).json()
        assert (result["cdf"], result["quantiles"], result["mean"], result["median"]) == ([0.5], [-5e307, 0.0], 0, 0)
        assert result["std"] == pytest.approx(1e308 / 3**0.5, rel=1e-15)  # (b - a)/sqrt(12), b - a = 2e308

    async def test_student_t_fit_of_identical_values_has_no_maximum(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/distributions/student_t/fit", json={"data": [1, 1, 1]})
        detail = "the likelihood of student_t is largest at df = inf, outside df > 0: every observation is 1"
        assert_problem(response, 422, "invalid_input", ["body", "data"], detail)


class TestDocumentation:
    MODELS = (
        "DistributionsResponse", "FamilyInfo", "ParameterInfo", "StatisticsRequest", "StatisticsResponse",
        "DistributionSupport", "AnswerWarning", "ClosedForm", "FisherInformation", "Likelihood", "FitRequest",
        "FitResponse", "WaldInterval",
    )  # fmt: skip

    async def test_every_model_and_field_is_described(self, client: httpx.AsyncClient) -> None:
        schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
        for name in self.MODELS:
            assert schemas[name].get("description"), f"{name} has no description"
            for field, definition in schemas[name]["properties"].items():
                ref = definition.get("$ref") or next(
                    (b["$ref"] for b in definition.get("anyOf", []) if "$ref" in b), None
                )
                described = definition.get("description") or (ref and schemas[ref.split("/")[-1]].get("description"))
                assert described, f"{name}.{field} has no description"

    async def test_every_request_field_is_shown_by_a_whole_example_or_has_a_default(
        self, client: httpx.AsyncClient
    ) -> None:
        schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
        for name in ("StatisticsRequest", "FitRequest"):
            shown = {field for example in schemas[name]["examples"] for field in example}
            for field, definition in schemas[name]["properties"].items():
                assert field in shown or "default" in definition, f"{name}.{field} is in no example"
