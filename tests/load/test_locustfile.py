"""The load test's parts, cheaply: the locustfile imports with one task per request kind, every request of the
workload gets the answer it is counted as, outcomes are classified and summarised as the report says.

The load run itself is not part of the suite (``python -m tests.load.run``: minutes, and noisy on a shared machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import httpx
import pytest

from tests.load import workload
from tests.load.run import ROOT, render, summarise
from tests.load.workload import Call

CALLS = [factory() for _, factory in workload.WORKLOAD.values()] + list(workload.HOSTILE)


def test_the_locustfile_imports_with_each_kind_as_a_task_at_its_weight() -> None:
    # In a subprocess: importing locust monkey-patches the standard library (gevent).
    program = (
        "import json; from tests.load.locustfile import NablaUser; "
        "print(json.dumps([task.__name__ for task in NablaUser.tasks]))"
    )
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    tasks = Counter(json.loads(done.stdout.splitlines()[-1]))
    assert tasks == {kind: weight for kind, (weight, _) in workload.WORKLOAD.items()}


@pytest.mark.anyio
@pytest.mark.parametrize("call", CALLS, ids=[f"{call.kind}-{call.path}" for call in CALLS])
async def test_each_request_gets_the_answer_it_is_counted_as(client: httpx.AsyncClient, call: Call) -> None:
    response = await client.post(call.path, content=call.body, headers={"content-type": "application/json"})
    assert response.status_code == call.expected_status, response.text
    if call.expected_type is not None:
        assert response.json()["type"] == call.expected_type
    assert workload.classify(call.expected_status, response.status_code) in (workload.OK, workload.EXPECTED_4XX)


def test_the_batch_hessian_sends_1000_points() -> None:
    assert len(json.loads(workload.batch_hessian().body)["points"]) == 1000


def test_new_derivatives_are_new_functions() -> None:
    functions = {json.loads(workload.new_derivative().body)["function"] for _ in range(50)}
    assert len(functions) == 50


@pytest.mark.parametrize(
    ("expected", "status", "outcome"),
    [
        (200, 200, workload.OK),
        (422, 422, workload.EXPECTED_4XX),
        (200, 503, workload.ADMISSION_503),
        (422, 503, workload.ADMISSION_503),
        (200, 500, workload.OTHER_5XX),
        (200, 502, workload.OTHER_5XX),
        (200, 0, workload.CONNECTION),
        (200, 422, workload.UNEXPECTED),
        (422, 200, workload.UNEXPECTED),
        (422, 400, workload.UNEXPECTED),
    ],
)
def test_outcome_classes(expected: int, status: int, outcome: str) -> None:
    assert workload.classify(expected, status) == outcome


def test_latency_percentiles_count_only_requests_answered_as_expected() -> None:
    records = [("cached_gradient", workload.OK, 100.0 + i / 100, 10.0) for i in range(99)]
    records += [("cached_gradient", workload.OTHER_5XX, 105.5, 5000.0), ("hostile", workload.EXPECTED_4XX, 101, 30.0)]
    gradient, hostile, total = summarise(records)
    assert (gradient.kind, hostile.kind, total.kind) == ("cached_gradient", "hostile", "all")
    assert gradient.percentiles == (10.0, 10.0, 10.0)
    assert gradient.requests == 100
    assert gradient.outcomes == {workload.OK: 99, workload.OTHER_5XX: 1}
    assert total.requests == 101
    # The window runs from the first request's start (100 s - 10 ms) to the last answer (105.5 s).
    assert total.rate == pytest.approx(101 / 5.51)
    assert total.answered_rate == pytest.approx(100 / 5.51)


def test_the_report_has_every_column_in_every_row() -> None:
    records = [(kind, outcome, 1.0, 1.0) for kind in workload.WORKLOAD for outcome in workload.OUTCOMES]
    lines = render(summarise(records)).splitlines()
    assert len(lines) == 2 + len(workload.WORKLOAD) + 1
    assert {line.count("|") for line in lines} == {13}
    assert lines[-1].split(" | ")[-5:] == [str(len(workload.WORKLOAD))] * 4 + [f"{len(workload.WORKLOAD)} |"]
