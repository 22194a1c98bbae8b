"""Request and response of the matrix derivative: expressions over scalars, vectors and matrices."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SkipValidation, WithJsonSchema

from service.compute import limits
from service.compute.matrix import MAX_CHECK_AT_ENTRIES, MatrixQuery
from service.compute.matrix.syntax import FUNCTION_NAMES
from service.schemas.common import StrictModel, WarningsFields


def _not_a_matrix_function(name: str) -> str:
    if name in FUNCTION_NAMES:
        raise ValueError(f"'{name}' is a function of the matrix language and cannot name a variable")
    return name


MatrixName = Annotated[
    str,
    AfterValidator(_not_a_matrix_function),
    Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_]*$",
        max_length=64,
        description="A name: a letter, then letters, digits or underscores.",
        examples=["x", "A", "w"],
        # stated again for the schema: pydantic 2.14 leaves the pattern out where the field adds its own Field
        json_schema_extra={"pattern": r"^[A-Za-z][A-Za-z0-9_]*$"},
    ),
]
MatrixExpression = Annotated[
    str,
    Field(
        min_length=1,
        description=(
            "An expression over scalars, vectors and matrices: x' (transpose), * (matrix or scalar product), .* ./ "
            ".^ (elementwise), + -, ^ and / with scalar operands, elementwise exp log sin cos tan tanh sinh cosh "
            "sigmoid softplus abs sqrt sign, and sum norm1 norm2 tr det logdet inv diag dot vector eye. Limited "
            f"like every expression (NABLA_MAX_EXPRESSION_LENGTH, default {limits.MAX_EXPRESSION_LENGTH})."
        ),
        examples=["x'*A*x", "sum(log(vector(1) + exp(-y .* (X*w))))"],
    ),
]
Dimension = Annotated[int | str, Field(description='A positive integer or a dimension name such as "n".')]
_ARRAY_SCHEMA = {
    "anyOf": [
        {"type": "number"},
        {"type": "array", "items": {"type": "number"}},
        {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
    ],
    "description": "A scalar (a number), a vector (a list) or a matrix (a list of equal-length rows).",
}
ArrayValue = Annotated[SkipValidation[Any], WithJsonSchema(_ARRAY_SCHEMA)]


class MatrixRequest(StrictModel):
    """The derivative of a scalar, vector or matrix function by one scalar, vector or matrix variable."""

    model_config = StrictModel.model_config | {
        "json_schema_extra": {
            "examples": [
                {"function": "x'*A*x", "wrt": "x", "shapes": {"x": ["n"], "A": ["n", "n"]}},
                {
                    "function": "x'*A*x",
                    "wrt": "x",
                    "order": 2,
                    "at": {"x": [1, 2], "A": [[1, 2], [3, 4]]},
                },
                {
                    "function": "sum(log(vector(1) + exp(-y .* (X*w))))",
                    "wrt": "w",
                    "shapes": {"X": ["m", "n"], "w": ["n"], "y": ["m"]},
                },
                {"function": "log(det(X))", "wrt": "X", "at": {"X": [[2, 1], [1, 3]]}},
            ]
        }
    }

    function: MatrixExpression
    wrt: MatrixName = Field(description="The one variable to differentiate by.")
    order: int = Field(
        1, description="1: gradient or Jacobian; 2: the Hessian of a scalar function by a vector (or d2/dt2)."
    )
    shapes: dict[MatrixName, list[Dimension]] = Field(
        default_factory=dict,
        max_length=64,
        description=(
            'Each name\'s shape: [] a scalar, ["n"] a vector, ["m", "n"] a matrix (dimension names or integers). '
            "Optional for a name whose value is in `at`."
        ),
        examples=[{"x": ["n"], "A": ["n", "n"]}],
    )
    at: dict[MatrixName, ArrayValue] | None = Field(
        None,
        max_length=64,
        description=(
            "Values to evaluate the derivative at: numbers, lists (vectors) and lists of rows (matrices). The "
            f"response then has `value`. Arrays of at most {MAX_CHECK_AT_ENTRIES} numbers in total are also used "
            "to check the symbolic result."
        ),
        examples=[{"x": [1, 2], "A": [[1, 2], [3, 4]]}],
    )

    def to_query(self) -> MatrixQuery:
        """The plain query the matrix service takes."""
        return MatrixQuery(
            function=self.function,
            wrt=self.wrt,
            order=self.order,
            shapes=tuple((name, tuple(dims)) for name, dims in self.shapes.items()),
            at=None if self.at is None else tuple(self.at.items()),
        )


class MatrixDerivative(BaseModel):
    expression: str | None = Field(
        description="The derivative in the matrix language (it parses back); null when it was withheld.",
        examples=["A*x + A'*x"],
    )
    latex: str | None = Field(description="The derivative as LaTeX.", examples=["A x + {A}^\\top x"])
    shape: list[int | str] = Field(
        description="The derivative's shape: integers where the sizes are known, dimension names otherwise.",
        examples=[["n"]],
    )


class MatrixCode(BaseModel):
    numpy: str | None = Field(
        description="Source of `def derivative(<every variable>)` computing the value with NumPy (never run here)."
    )


class MatrixResponse(WarningsFields):
    """A derivative in matrix notation, its value at `at`, and NumPy code computing it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "derivative": {"expression": "A*x + A'*x", "latex": "A x + {A}^\\top x", "shape": ["n"]},
                    "value": None,
                    "status": None,
                    "code": {"numpy": "import numpy as np\n\n\ndef derivative(A, x):\n    ...\n"},
                    "warnings": [],
                    "warnings_omitted": 0,
                }
            ]
        }
    )

    derivative: MatrixDerivative
    value: Any = Field(
        None,
        description="With `at`: the value, of `derivative.shape` (a number, a list or a list of rows); null entries "
        "where it is undefined.",
    )
    status: str | None = Field(
        None, description="With `at`: ok, domain_error (undefined there) or non_finite (infinite there)."
    )
    code: MatrixCode
