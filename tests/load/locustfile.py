"""Locust user for Nabla's mixed workload (tests/load/workload.py); run it through ``python -m tests.load.run``.

Every answer is classified (``workload.classify``) and kept in memory; when locust quits, the records are written as
JSON to the file named by ``NABLA_LOAD_RESULTS`` for the runner to summarise (latency percentiles of successful
requests only, errors by class).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from locust import FastHttpUser, constant, events

from tests.load import workload
from tests.load.workload import Call

RECORDS: list[tuple[str, str, float, float]] = []  # kind, outcome, end time (epoch s), response time (ms)
HEADERS = {"content-type": "application/json"}


@events.request.add_listener
def _record(name: str, response_time: float, response: Any, context: dict[str, Any], **_: Any) -> None:
    status = int(getattr(response, "status_code", 0) or 0)
    RECORDS.append((name, workload.classify(context["expected_status"], status), time.time(), response_time))


@events.quitting.add_listener
def _save(**_: Any) -> None:
    path = os.environ.get("NABLA_LOAD_RESULTS")
    if path:
        with open(path, "w") as output:
            json.dump(RECORDS, output)


def _task(factory: Callable[[], Call]) -> Callable[[NablaUser], None]:
    """A locust task that sends the next call ``factory`` makes; named after the request kind."""

    def send(user: NablaUser) -> None:
        user.send(factory())

    send.__name__ = factory.__name__
    return send


class NablaUser(FastHttpUser):
    """A client that sends the next request as soon as the last one is answered (a closed loop)."""

    wait_time = constant(0)
    tasks = {_task(factory): weight for weight, factory in workload.WORKLOAD.values()}  # noqa: RUF012  (locust reads tasks as a class attribute)
    network_timeout = 60.0
    connection_timeout = 10.0

    def send(self, call: Call) -> None:
        with self.client.post(
            call.path,
            data=call.body,
            headers=HEADERS,
            name=call.kind,
            context={"expected_status": call.expected_status},
            catch_response=True,
        ) as response:
            outcome = workload.classify(call.expected_status, response.status_code or 0)
            if outcome in (workload.OK, workload.EXPECTED_4XX):
                response.success()
            else:
                response.failure(f"{outcome}: HTTP {response.status_code}")
