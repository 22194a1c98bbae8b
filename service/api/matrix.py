"""The matrix derivative: gradients, Jacobians and Hessians of expressions over vectors and matrices."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.api.deps import Matrix
from service.api.routing import JSONRoute, reply
from service.present.matrix import body as present
from service.schemas.matrix import MatrixRequest, MatrixResponse

router = APIRouter(prefix="/v1", tags=["matrix"], route_class=JSONRoute)


@router.post(
    "/matrix/derivative",
    response_model=MatrixResponse,
    summary="Derivative in matrix notation (gradient, Jacobian, Hessian)",
    description=(
        "The derivative of a function of scalars, vectors and matrices by one of them, in matrix notation "
        "(`A'*b`, `A + A'`, `inv(X)'`) and LaTeX, checked entry by entry before it is returned; its value at the "
        "arrays of `at`, and NumPy code computing it. A scalar function by a vector gives its gradient, by a matrix "
        "a matrix of the same shape; a vector function by a vector its Jacobian; `order: 2` the Hessian."
    ),
)
async def matrix_derivative(body: MatrixRequest, matrix: Matrix) -> Response:
    return await reply(matrix, present, await matrix.answer(body.to_query()))
