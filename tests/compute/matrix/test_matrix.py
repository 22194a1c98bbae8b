"""The matrix area against independent truth: hand-derived formulas, NumPy, central differences, component
expansion with the scalar engine, and SymPy-free re-parsing of every printed form."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import service.compute.matrix.expr as E
from service.compute.errors import (
    CheckFailed,
    ExpressionSyntaxError,
    InvalidExpression,
    InvalidInput,
    InvalidPoint,
    LimitExceeded,
    NoMatrixForm,
    ShapeMismatch,
    TooComplex,
    TooLarge,
    UnknownName,
)
from service.compute.matrix.build import build
from service.compute.matrix.check import check_derivative
from service.compute.matrix.derive import derivative
from service.compute.matrix.evaluate import compile_evaluator
from service.compute.matrix.printer import to_text
from service.compute.matrix.syntax import parse
from service.compute.matrix.task import (
    MatrixTask,
    check_at_from,
    evaluator,
    run,
    shapes_from_request,
    validate_at,
)

SHAPES = {
    "A": ("n", "n"), "B": ("n", "n"), "X": ("n", "n"), "x": ("n", 1), "a": ("n", 1), "b": ("n", 1),
    "w": ("n", 1), "y": ("m", 1), "M": ("m", "n"), "c": (1, 1), "t": (1, 1), "z": ("n", 1),
}  # fmt: skip
CONTRACT = tuple(sorted((k, tuple(d for d in v if d != 1) if v != (1, 1) else ()) for k, v in SHAPES.items()))


def d(text: str, wrt: str, order: int = 1) -> E.Expr:
    f = build(parse(text), SHAPES)
    result = derivative(f, E.var(wrt, SHAPES[wrt]))
    return derivative(result, E.var(wrt, SHAPES[wrt])) if order == 2 else result


def arrays(seed: int = 1, n: int = 3, m: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for name, (r, c) in SHAPES.items():
        rows = {"n": n, "m": m}.get(r, r)  # type: ignore[call-overload]
        cols = {"n": n, "m": m}.get(c, c)  # type: ignore[call-overload]
        value = rng.uniform(0.2, 1.0, size=(rows, cols))
        if rows == cols and rows != 1:
            value += rows * np.eye(rows)
        out[name] = value.reshape(-1) if cols == 1 and rows != 1 else (value.item() if rows == cols == 1 else value)
    out["y"] = np.sign(rng.normal(size=m))
    return out


def value(text: str, wrt: str, order: int = 1, at: dict[str, np.ndarray] | None = None) -> np.ndarray:
    return compile_evaluator(d(text, wrt, order), SHAPES)(at or arrays())


def central(text: str, wrt: str, at: dict[str, np.ndarray], h: float = 1e-6) -> np.ndarray:
    """Central differences of the function itself (no derivative rule involved)."""
    f = compile_evaluator(build(parse(text), SHAPES), SHAPES)
    base = np.asarray(at[wrt], dtype=float)
    out = []
    for index in np.ndindex(base.shape):
        up, down = base.copy(), base.copy()
        up[index] += h
        down[index] -= h
        out.append((f({**at, wrt: up}) - f({**at, wrt: down})) / (2 * h))
    grid = np.array(out)
    fshape = np.shape(f(at))
    if base.ndim == 0:
        return grid.reshape(fshape)
    return grid.reshape(base.shape + fshape) if not fshape else np.moveaxis(grid.reshape(base.shape + fshape), 0, -1)


class TestSyntax:
    def test_transpose_binds_tightest(self) -> None:
        assert to_text(build(parse("-x'*A*x"), SHAPES)) == "-x'*A*x"

    def test_elementwise_operators_do_not_swallow_a_decimal_point(self) -> None:
        assert to_text(build(parse("2.*x ./ 2.5"), SHAPES)) == "0.8*x"

    def test_b_caret_t_gets_a_hint(self) -> None:
        with pytest.raises(ExpressionSyntaxError, match=r"found 'A' \(write x' for the transpose of x, not x\^T\)"):
            parse("b^T A a")

    def test_unknown_character(self) -> None:
        with pytest.raises(ExpressionSyntaxError, match="unexpected character '@' at position 1"):
            parse("x@y")

    @pytest.mark.parametrize(
        "text",
        ["b'*A*a", "2*A'*(A*x - y)" if False else "2*A'*(A*x - b)", "A*x + A'*x", "inv(X)'", "det(X)*inv(X)'",
         "M'*diag(y .* (1 - y))*M", "exp(x)/sum(exp(x))", "x .^ 3 ./ (1 + x)", "vector(1)'*x", "eye + A", "c^-2"],
    )  # fmt: skip
    def test_printed_forms_parse_back_to_the_same_text(self, text: str) -> None:
        printed = to_text(build(parse(text), SHAPES))
        assert to_text(build(parse(printed), SHAPES)) == printed


class TestShapes:
    def test_the_issue_example(self) -> None:
        with pytest.raises(ShapeMismatch) as caught:
            build(parse("A*x"), {"A": (3, 2), "x": (3, 1)})
        assert caught.value.detail == (
            "A*x at position 1: A has 2 columns but x has 3 rows (A is a matrix of 3 rows and 2 columns, x is a "
            "vector of length 3); use .* for an elementwise product or ' to transpose"
        )
        assert caught.value.errors[0].position == 1

    def test_elementwise_needs_equal_shapes(self) -> None:
        with pytest.raises(ShapeMismatch, match=r"x \+ y at position 2: \+ needs operands of the same shape, but x "
                           r"is a vector of length n and y is a vector of length m"):  # fmt: skip
            build(parse("x + y"), SHAPES)

    def test_power_of_a_vector(self) -> None:
        with pytest.raises(ShapeMismatch, match=r"x\^2 at position 1: \^ needs a scalar base, but x is a vector of "
                           r"length n; use \.\^ for the elementwise operation"):  # fmt: skip
            build(parse("x^2"), SHAPES)

    def test_det_of_a_rectangular_matrix(self) -> None:
        with pytest.raises(ShapeMismatch, match=r"det\(M\) at position 0: det needs a square matrix, but M is a "
                           "matrix of m rows and n columns"):  # fmt: skip
            build(parse("det(M)"), SHAPES)

    def test_vector_without_context(self) -> None:
        with pytest.raises(ShapeMismatch, match=r"the size of vector\(\.\.\.\) or eye at position 4 is not fixed"):
            build(parse("sum(vector(1))"), SHAPES)

    def test_missing_shape(self) -> None:
        with pytest.raises(UnknownName, match="'q' at position 0 has no shape: give it in 'shapes'"):
            build(parse("q"), SHAPES)

    def test_function_used_as_a_name(self) -> None:
        with pytest.raises(InvalidExpression, match=r"'tr' at position 0 is a function; call it as tr\(\.\.\.\)"):
            build(parse("tr"), SHAPES)

    def test_shapes_must_agree_with_at(self) -> None:
        with pytest.raises(InvalidInput, match=r"'x' has the shape \['n', 'k'\] in 'shapes' but its value in 'at' "
                           r"has the shape \[3\]; make them agree"):  # fmt: skip
            shapes_from_request({"x": ["n", "k"]}, {"x": np.zeros(3)})

    def test_one_size_per_dimension_name(self) -> None:
        with pytest.raises(InvalidInput, match="the dimension 'n' is 3 in the value of 'x' but 2 in the value of 'z'"):
            shapes_from_request({"x": ["n"], "z": ["n"]}, {"x": np.zeros(3), "z": np.zeros(2)})


class TestTextbookForms:
    @pytest.mark.parametrize(
        ("function", "wrt", "order", "expected"),
        [
            ("b'*a", "a", 1, "b"),
            ("b'*A*a", "a", 1, "A'*b"),
            ("norm2(a)^2", "a", 1, "2*a"),
            ("a'*a", "a", 1, "2*a"),
            ("(w'*x + c - t)^2", "w", 1, "2*(w'*x + c - t)*x"),
            ("sigmoid(w'*x + c)", "w", 1, "sigmoid(w'*x + c)*(1 - sigmoid(w'*x + c))*x"),
            ("x'*A*x", "x", 1, "A*x + A'*x"),
            ("x'*A*x", "x", 2, "A + A'"),
            ("det(X)", "X", 1, "det(X)*inv(X)'"),
            ("log(det(X))", "X", 1, "inv(X)'"),
            ("logdet(X)", "X", 1, "inv(X)'"),
            ("tr(A*X*B)", "X", 1, "A'*B'"),
            ("norm2(M*w - y)^2", "w", 1, "2*M'*(M*w - y)"),
            ("norm2(M*w - y)^2", "w", 2, "2*M'*M"),
            ("x'*inv(X)*x", "X", 1, "-inv(X)'*x*x'*inv(X)'"),
            ("A*x", "x", 1, "A"),
            ("exp(x)", "x", 1, "diag(exp(x))"),
            ("tr(X)", "X", 1, "eye(n)"),
            ("t^2*x", "t", 1, "2*t*x"),
            ("sum(log(vector(1) + exp(-y .* (M*w))))", "w", 1, "-M'*(sigmoid(-y .* (M*w)) .* y)"),
            (
                "sum(log(vector(1) + exp(-y .* (M*w))))",
                "w",
                2,
                "M'*diag(y.^2 .* (sigmoid(-y .* (M*w)) .* (1 - sigmoid(-y .* (M*w)))))*M",
            ),
            ("sigmoid(w'*x + c)", "w", 2, "(1 - 2*sigmoid(w'*x + c))*sigmoid(w'*x + c)*(1 - sigmoid(w'*x + c))*x*x'"),
            ("log(sum(exp(x)))", "x", 1, "exp(x)/sum(exp(x))"),
            ("log(sum(exp(x)))", "x", 2, "diag(exp(x))/sum(exp(x)) - exp(x)*exp(x)'/sum(exp(x))^2"),
            ("norm2(x)", "x", 2, "eye(n)/norm2(x) - x*x'/norm2(x)^3"),
            # matrixcalculus.org's default example
            ("x'*A*x + c*sin(z)'*x", "x", 1, "A*x + A'*x + c*sin(z)"),
        ],
    )
    def test_form(self, function: str, wrt: str, order: int, expected: str) -> None:
        result = d(function, wrt, order)
        assert to_text(result) == expected
        assert to_text(build(parse(expected), SHAPES)) == expected  # the printed form parses back


class TestValues:
    """Values against hand-written NumPy formulas and central differences at random arrays."""

    def test_seed_identities(self) -> None:
        at = arrays()
        a, b, A, x, w, c, t = at["a"], at["b"], at["A"], at["x"], at["w"], at["c"], at["t"]
        np.testing.assert_allclose(value("b'*A*a", "a", at=at), A.T @ b)
        np.testing.assert_allclose(value("norm2(a)^2", "a", at=at), 2 * a)
        np.testing.assert_allclose(value("(w'*x + c - t)^2", "w", at=at), 2 * (w @ x + c - t) * x)
        s = 1 / (1 + np.exp(-(w @ x + c)))
        np.testing.assert_allclose(value("sigmoid(w'*x + c)", "w", at=at), s * (1 - s) * x)
        np.testing.assert_allclose(value("x'*A*x", "x", 2, at=at), A + A.T)

    def test_matrix_identities(self) -> None:
        at = arrays()
        X, A, B, x = at["X"], at["A"], at["B"], at["x"]
        inverse = np.linalg.inv(X)
        np.testing.assert_allclose(value("det(X)", "X", at=at), np.linalg.det(X) * inverse.T)
        np.testing.assert_allclose(value("logdet(X)", "X", at=at), inverse.T)
        np.testing.assert_allclose(value("tr(A*X*B)", "X", at=at), A.T @ B.T)
        np.testing.assert_allclose(value("x'*inv(X)*x", "X", at=at), -inverse.T @ np.outer(x, x) @ inverse.T)

    def test_logistic_loss(self) -> None:
        at = arrays()
        M, w, y = at["M"], at["w"], at["y"]
        s = 1 / (1 + np.exp(y * (M @ w)))  # sigmoid(-y .* (M*w))
        loss = "sum(log(vector(1) + exp(-y .* (M*w))))"
        np.testing.assert_allclose(value(loss, "w", at=at), M.T @ (-y * s))
        np.testing.assert_allclose(value(loss, "w", 2, at=at), M.T @ np.diag(s * (1 - s) * y**2) @ M)

    def test_log_sum_exp(self) -> None:
        at = arrays()
        softmax = np.exp(at["x"]) / np.exp(at["x"]).sum()
        np.testing.assert_allclose(value("log(sum(exp(x)))", "x", at=at), softmax)
        np.testing.assert_allclose(
            value("log(sum(exp(x)))", "x", 2, at=at), np.diag(softmax) - np.outer(softmax, softmax)
        )

    @pytest.mark.parametrize(
        ("function", "wrt"),
        [
            ("sum(tanh(M*x) .* y)", "x"), ("norm1(A*x - b)", "x"), ("norm2(X)", "X"), ("sqrt(x'*x + 1)", "x"),
            ("sum(softplus(M*w) ./ (1 + y .^ 2))", "w"), ("tr(X'*A*X)", "X"), ("sum(diag(X) .* x)", "X"),
            ("cos(x)'*diag(x)*b", "x"), ("dot(exp(x), b)/c", "x"), ("x/norm2(x)", "x"), ("det(t*A)", "t"),
            ("inv(X)", "t"), ("inv(A + t*X)", "t"), ("sigmoid(M*w)", "w"), ("abs(x) .* log(x)", "x"),
        ],
    )  # fmt: skip
    def test_central_differences(self, function: str, wrt: str) -> None:
        at = arrays(seed=7)
        np.testing.assert_allclose(value(function, wrt, at=at), central(function, wrt, at), rtol=1e-6, atol=1e-7)


class TestCheck:
    def test_a_right_form_agrees_with_the_components(self) -> None:
        f = build(parse("sum(log(vector(1) + exp(-y .* (M*w))))"), SHAPES)
        w = E.var("w", SHAPES["w"])
        assert check_derivative(f, w, 2, d("sum(log(vector(1) + exp(-y .* (M*w))))", "w", 2), SHAPES).agreed

    def test_a_wrong_form_is_caught(self) -> None:
        f = build(parse("x'*A*x"), SHAPES)
        wrong = build(parse("2*A*x"), SHAPES)  # right only for a symmetric A
        assert check_derivative(f, E.var("x", SHAPES["x"]), 1, wrong, SHAPES).agreed is False

    def test_a_transposed_gradient_is_caught(self) -> None:
        f = build(parse("tr(A*X)"), SHAPES)
        assert check_derivative(f, E.var("X", SHAPES["X"]), 1, build(parse("A"), SHAPES), SHAPES).agreed is False


class TestRun:
    def task(self, function: str, wrt: str, order: int = 1, **shapes: tuple[object, ...]) -> MatrixTask:
        given = shapes or dict(CONTRACT)
        return MatrixTask(function, wrt, order, tuple(sorted(given.items())))  # type: ignore[arg-type]

    def test_result_is_frozen_picklable_and_evaluates(self) -> None:
        result = run(self.task("x'*A*x", "x", 2))
        assert (result.expression, result.latex, result.shape) == ("A + A'", "A + {A}^\\top", ("n", "n"))
        again = pickle.loads(pickle.dumps(result))
        A = np.arange(9.0).reshape(3, 3)
        np.testing.assert_allclose(evaluator(again)({"A": A, "x": np.ones(3)}), A + A.T)  # type: ignore[misc]

    def test_the_task_is_a_cache_key(self) -> None:
        assert hash(self.task("x'*A*x", "x")) == hash(self.task("x'*A*x", "x"))

    def test_generated_numpy_code_computes_the_derivative(self) -> None:
        result = run(self.task("sum(log(vector(1) + exp(-y .* (M*w))))", "w", 2))
        namespace: dict[str, object] = {}
        exec(compile(result.code_numpy or "", "<code.numpy>", "exec"), namespace)
        at = arrays()
        expected = evaluator(result)(at)  # type: ignore[misc]
        np.testing.assert_allclose(namespace["derivative"](**{k: at[k] for k in ("M", "w", "y")}), expected)  # type: ignore[operator]

    def test_order_three_is_refused(self) -> None:
        with pytest.raises(InvalidInput, match=r"'order' is 3; it must be 1 \(gradient or Jacobian\) or 2"):
            run(self.task("x'*x", "x", 3))

    def test_a_matrix_by_a_matrix_has_no_matrix_form(self) -> None:
        with pytest.raises(NoMatrixForm, match="by the matrix X has more than two indices; no matrix form exists"):
            run(self.task("inv(X)", "X"))

    def test_a_hessian_by_a_matrix_has_no_matrix_form(self) -> None:
        with pytest.raises(NoMatrixForm, match="a second derivative has a matrix form only for a scalar function"):
            run(self.task("det(X)", "X", 2))

    def test_an_intermediate_matrix_depending_on_the_vector(self) -> None:
        with pytest.raises(NoMatrixForm, match=r"the Jacobian by the vector x passes through x\*x' \(a matrix of n "
                           r"rows and n columns that depends on x\), whose derivative would have three"):  # fmt: skip
            run(self.task("x*x'*b", "x"))

    def test_a_scalar_through_a_matrix_intermediate_is_fine(self) -> None:
        assert run(self.task("sum(x*x'*b)", "x")).expression == "b*vector(1, n)'*x + vector(1, n)*b'*x"

    def test_wrt_without_a_shape(self) -> None:
        with pytest.raises(InvalidInput, match="'wrt' is 'q', which has no shape"):
            run(self.task("x'*x", "q"))

    def test_a_function_undefined_at_every_test_array_is_returned_with_a_warning(self) -> None:
        result = run(MatrixTask("sum(sqrt(x - 10))", "x", 1, (("x", ("n",)),)))
        assert result.expression == "0.5*(1 ./ sqrt(x - 10))"
        assert [(n.code, n.detail) for n in result.warnings] == [
            ("unchecked", "the matrix form could not be checked: the function is not finite at the random test arrays")
        ]

    def test_integer_shapes(self) -> None:
        result = run(MatrixTask("x'*A*x", "x", 1, (("A", (2, 2)), ("x", (2,)))))
        assert result.shape == (2,)

    def test_a_disagreement_is_withheld(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import service.compute.matrix.task as task_module

        monkeypatch.setattr(task_module, "derivative", lambda f, v: build(parse("2*A*x"), SHAPES))
        with pytest.raises(CheckFailed, match="disagreed with its component-by-component check, so it is withheld"):
            run(self.task("x'*A*x", "x"))
        at = (("A", (2, 2), (1.0, 2.0, 3.0, 4.0)), ("x", (2,), (1.0, 1.0)))
        result = run(MatrixTask("x'*A*x", "x", 1, (("A", ("n", "n")), ("x", ("n",))), check_at=at))
        assert result.derivative is None
        assert result.expression is None
        assert [note.code for note in result.warnings] == ["withheld"]
        np.testing.assert_allclose(
            result.component_value, np.array([[1, 2], [3, 4]]) @ [1, 1] + [[1, 3], [2, 4]] @ np.ones(2)
        )  # type: ignore[arg-type]


class TestMatrixCalculusOrgExamples:
    """Examples in the style of matrixcalculus.org's list, against NumPy formulas derived by hand."""

    def test_default_example(self) -> None:
        at = arrays()
        A, x, c, z = at["A"], at["x"], at["c"], at["z"]
        np.testing.assert_allclose(value("x'*A*x + c*sin(z)'*x", "x", at=at), (A + A.T) @ x + c * np.sin(z))

    def test_ridge_regression_with_a_keyword_name(self) -> None:
        shapes = (("M", ("m", "n")), ("lambda", ()), ("w", ("n",)), ("y", ("m",)))
        result = run(MatrixTask("norm2(M*w - y)^2 + lambda*norm2(w)^2", "w", 1, shapes))
        assert result.expression == "2*M'*(M*w - y) + 2*lambda*w"
        namespace: dict[str, object] = {}
        exec(compile(result.code_numpy or "", "<code.numpy>", "exec"), namespace)
        at = arrays()
        M, w, y = at["M"], at["w"], at["y"]
        got = namespace["derivative"](M=M, lambda_=0.5, w=w, y=y)  # type: ignore[operator]
        np.testing.assert_allclose(got, 2 * M.T @ (M @ w - y) + 2 * 0.5 * w)

    def test_trace_quadratic_form(self) -> None:
        assert to_text(d("tr(X'*A*X)", "X")) == "A*X + A'*X"

    def test_exponential_loss(self) -> None:
        at = arrays()
        M, w, y = at["M"], at["w"], at["y"]
        np.testing.assert_allclose(value("sum(exp(-y .* (M*w)))", "w", at=at), M.T @ (-y * np.exp(-y * (M @ w))))


class TestEvaluation:
    def result(self, function: str, wrt: str, order: int = 1) -> object:
        return run(MatrixTask(function, wrt, order, CONTRACT))

    def test_status_of_a_domain_error(self) -> None:
        result = run(MatrixTask("sum(log(x))", "x", 1, (("x", ("n",)),)))
        outcome = evaluator(result).evaluate({"x": np.array([1.0, -1.0])})  # type: ignore[union-attr]
        assert outcome.status.label == "domain_error"

    def test_status_of_an_infinity(self) -> None:
        result = run(MatrixTask("sum(log(x))", "x", 1, (("x", ("n",)),)))
        outcome = evaluator(result).evaluate({"x": np.array([1.0, 0.0])})  # type: ignore[union-attr]
        assert outcome.status.label == "non_finite"

    def test_work_is_bounded(self) -> None:
        result = run(MatrixTask("x'*A*x", "x", 2, (("A", ("n", "n")), ("x", ("n",)))))
        with pytest.raises(TooLarge, match=r"needs 2700 intermediate entries; the limit is 100 \(NABLA_MATRIX"):
            evaluator(result).evaluate({"A": np.eye(30), "x": np.ones(30)}, max_work=100)  # type: ignore[union-attr]

    def test_at_must_name_every_variable(self) -> None:
        result = run(MatrixTask("x'*A*x", "x", 1, (("A", ("n", "n")), ("x", ("n",)))))
        with pytest.raises(InvalidPoint, match=r"'at' has no value for 'A'; give a value for every name of the "
                           r"function \(A, x\)"):  # fmt: skip
            validate_at(result, {"x": np.ones(2)})

    def test_at_must_not_name_others(self) -> None:
        result = run(MatrixTask("x'*x", "x", 1, (("x", ("n",)),)))
        with pytest.raises(InvalidPoint, match=r"'at' gives 'q', which the function does not use \(its names: x\)"):
            validate_at(result, {"x": np.ones(2), "q": np.ones(2)})

    def test_the_check_also_runs_at_small_given_arrays(self) -> None:
        at = {"A": np.array([[2.0, 1.0], [0.0, 3.0]]), "x": np.array([1.0, -2.0])}
        task = MatrixTask("x'*A*x", "x", 2, (("A", ("n", "n")), ("x", ("n",))), check_at=check_at_from(at))
        assert task.check_at == (("A", (2, 2), (2.0, 1.0, 0.0, 3.0)), ("x", (2,), (1.0, -2.0)))
        assert run(task).expression == "A + A'"

    def test_a_derivative_inside_its_function(self) -> None:
        result = run(MatrixTask("t^2/2", "t", 1, (("t", ()),)))
        assert evaluator(result).evaluate({"t": np.asarray(3.0)}).value == 3.0  # type: ignore[union-attr]

    def test_large_arrays_are_not_part_of_the_key(self) -> None:
        assert check_at_from({"x": np.ones(100)}) == ()


class TestBounds:
    def test_a_derivative_that_prints_too_large_is_refused(self) -> None:
        nested = "x"
        for _ in range(30):  # 507 distinct nodes, but 49730 when printed out
            nested = f"sigmoid({nested})"
        with pytest.raises(TooComplex, match="the derivative grew past 20000 expression nodes"):
            run(MatrixTask(f"sum({nested})", "x", 2, (("x", ("n",)),)))

    def test_a_long_text_is_refused_by_the_shared_limits(self) -> None:
        with pytest.raises(LimitExceeded, match="the expression has 10001 characters; the limit is 10000"):
            run(MatrixTask("x" * 10_001, "x", 1, (("x", ("n",)),)))

    def test_a_bad_dimension(self) -> None:
        with pytest.raises(InvalidInput, match=r"the shape of 'x' has the dimension -1; a dimension is a positive"):
            run(MatrixTask("x'*x", "x", 1, (("x", (-1,)),)))

    def test_three_dimensions(self) -> None:
        with pytest.raises(InvalidInput, match="the shape of 'x' has 3 dimensions; a name is a scalar"):
            run(MatrixTask("x'*x", "x", 1, (("x", ("n", "n", "n")),)))
