"""Property-based contract tests: schemathesis generates requests from the app's own OpenAPI schema.

Every operation, with JSON and msgpack bodies, and every default check (no 5xx, documented status codes, content
types and headers, responses that conform to their schemas, schema-valid data accepted and invalid data rejected),
against an in-process app. The schema is the one the app builds; its lifespan (worker pool) starts with the first
request and stops after the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, reject, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi

from service.config import Settings
from service.main import create_app

# Schema-valid data may still be refused with the documented problem responses: the schema cannot say which strings
# are expressions in the grammar, nor that a point has one value per variable.
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "413", "422"]}}}
)


@schemathesis.serializer("application/msgpack")
def _to_msgpack(ctx: Any, value: Any) -> bytes:
    try:
        return msgspec.msgpack.encode(value)
    except OverflowError:  # an integer beyond 64 bits: no msgpack body can carry it, so no client can send it
        reject()


def _lists(value: Any) -> Any:
    """A decoded msgpack answer with its wire arrays as the nested lists the schema describes."""
    if isinstance(value, dict) and value.keys() == {"dtype", "shape", "data"}:
        return np.frombuffer(value["data"], dtype=value["dtype"]).reshape(value["shape"]).tolist()
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lists(v) for v in value]
    return value


@schemathesis.deserializer("application/msgpack")
def _from_msgpack(ctx: Any, response: Any) -> Any:
    return _lists(msgspec.msgpack.decode(response.content))


APP = create_app(Settings(workers=2, compute_timeout=5.0, cache_size=64))
schema = schemathesis.openapi.from_dict(APP.openapi(), config=CONFIG)


@pytest.fixture(scope="module", autouse=True)
def _stop_app() -> Iterator[None]:
    yield
    asgi.shutdown_lifespans()


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_honours_its_schema(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(app=APP)
