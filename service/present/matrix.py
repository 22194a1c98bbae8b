"""Matrix-derivative answers to the JSON of the contract."""

from __future__ import annotations

from service.compute.matrix import MatrixAnswer
from service.present.encoding import Body, encode, provenance, warnings


def body(answer: MatrixAnswer) -> Body:
    result = answer.result
    return {
        "derivative": {"expression": result.expression, "latex": result.latex, "shape": list(answer.shape)},
        "value": answer.value,
        "status": None if answer.status is None else answer.status.label,
        "code": {"numpy": result.code_numpy},
        **warnings(answer.notes),
        **provenance(answer.provenance),
    }


def present(answer: MatrixAnswer) -> bytes:
    return encode(body(answer))
