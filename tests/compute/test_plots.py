"""Pictures: every kind renders to a valid SVG (parsed as XML) or PNG (signature and the asked size), the title says
in plain words what is drawn (with values computed by hand), the numbers behind the drawings (Taylor coefficients,
ranges) are checked against closed forms, and every client mistake is a located error."""

from __future__ import annotations

import math
import struct
import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from service.compute.errors import InvalidInput, InvalidPoint, NablaError, TooLarge
from service.compute.plots import DistributionSpec, PlotResult, PlotTask
from service.compute.plots import run as plot
from service.compute.plots.sampling import axes, compile_function, taylor_coefficients

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}svg"


def png_size(image: bytes) -> tuple[int, int]:
    assert image[:8] == PNG_SIGNATURE
    assert image[12:16] == b"IHDR"
    width, height = struct.unpack(">II", image[16:24])
    return width, height


def svg_root(image: bytes) -> ET.Element:
    root = ET.fromstring(image)
    assert root.tag == SVG
    return root


NORMAL = DistributionSpec("normal", (("mu", 0.0), ("sigma", 1.0)))
TASKS = {
    "contour": PlotTask(
        "contour",
        function="x^2 + 3*y^2",
        overlays=("gradient_arrows", "level_set", "tangent"),
        at=(1, 1),
        trajectory=((2, 1.5), (1.2, 0.3), (0.2, 0.0)),
    ),
    "curve": PlotTask("curve", function="sin(x)", overlays=("tangent",), at=(1,), taylor_orders=(2, 3)),
    "surface": PlotTask("surface", function="x^2 - y^2", at=(0.5, 0.5), overlays=("tangent",), resolution=30),
    "vector_field": PlotTask(
        "vector_field", function="x^3 - 3*x*y^2", overlays=("level_set",), at=(("x", 1), ("y", 0.5))
    ),
    "normal": PlotTask("distribution", distribution=NORMAL, at=(1.0,)),
    "poisson": PlotTask("distribution", distribution=DistributionSpec("poisson", (("lam", 3.0),)), at=(2,)),
}


@pytest.fixture(scope="module")
def rendered() -> dict[str, PlotResult]:
    return {name: plot(task) for name, task in TASKS.items()}


def raises(kind: type[NablaError], task: PlotTask) -> NablaError:
    with pytest.raises(kind) as caught:
        plot(task)
    return caught.value


class TestRendering:
    @pytest.mark.parametrize("name", list(TASKS))
    def test_svg_parses_as_xml_with_the_asked_size(self, rendered: dict[str, PlotResult], name: str) -> None:
        result = rendered[name]
        assert result.media_type == "image/svg+xml"
        root = svg_root(result.image)
        assert (root.attrib["width"], root.attrib["height"]) == ("800px", "600px")
        assert root.attrib["viewBox"] == "0 0 576 432"  # matplotlib's points: 8 x 6 in at 72 pt

    @pytest.mark.parametrize(("name", "size"), [("curve", (640, 480)), ("poisson", (1000, 400))])
    def test_png_has_its_signature_and_the_asked_size(self, name: str, size: tuple[int, int]) -> None:
        result = plot(replace(TASKS[name], format="png", width=size[0], height=size[1]))
        assert result.media_type == "image/png"
        assert png_size(result.image) == size

    def test_svg_is_deterministic(self, rendered: dict[str, PlotResult]) -> None:
        assert plot(TASKS["curve"]).image == rendered["curve"].image

    def test_svg_text_is_drawn_as_paths(self, rendered: dict[str, PlotResult]) -> None:
        root = svg_root(rendered["curve"].image)
        assert not list(root.iter("{http://www.w3.org/2000/svg}text"))  # no font is needed to show it

    def test_a_function_undefined_on_part_of_the_plane_renders(self) -> None:
        result = plot(PlotTask("contour", function="log(x) + y^2", ranges=(("x", -1, 3), ("y", -2, 2))))
        svg_root(result.image)

    def test_a_pole_renders(self) -> None:
        result = plot(PlotTask("surface", function="1/(x^2 + y^2)", resolution=20))
        svg_root(result.image)


class TestTitles:
    def test_contour(self, rendered: dict[str, PlotResult]) -> None:
        # f(1, 1) = 1 + 3 = 4.
        assert rendered["contour"].title == (
            "Level curves of f(x, y) = x^2 + 3*y^2, with gradient arrows, the level set f = 4 through the point, the "
            "tangent line and the gradient at the point and a trajectory of 3 points from (2, 1.5) to (0.2, 0)"
        )

    def test_curve(self, rendered: dict[str, PlotResult]) -> None:
        assert rendered["curve"].title == (
            "The curve f(x) = sin(x), with its tangent line at x = 1 and Taylor polynomials of order 2, 3 about x = 1"
        )

    def test_surface_field_and_distributions(self, rendered: dict[str, PlotResult]) -> None:
        assert rendered["surface"].title.startswith("The surface z = f(x, y) = x^2 - y^2, with the tangent plane")
        # f(1, 0.5) = 1 - 3 * 0.25 = 0.25.
        assert "the level set f = 0.25 through the point" in rendered["vector_field"].title
        assert rendered["normal"].title == (
            "The Normal (Gaussian) distribution (mu = 0, sigma = 1): probability density and cumulative distribution, "
            "with x = 1 marked"
        )
        assert rendered["poisson"].title.startswith("The Poisson distribution (lam = 3): probability mass and")


class TestNumbers:
    def test_taylor_coefficients_are_the_derivatives_of_sin(self) -> None:
        task = PlotTask("curve", function="sin(x)", at=(1,))
        coefficients = taylor_coefficients(task, compile_function(task), 1.0, 5)
        s, c = math.sin(1), math.cos(1)
        np.testing.assert_allclose(coefficients, [s, c, -s, -c, s, c], rtol=1e-14)

    def test_ranges_default_around_the_points(self) -> None:
        task = PlotTask("contour", function="x*y", ranges=(("y", -1, 1),))
        found = axes(task, ("x", "y"), [np.array([0.5, 0.0]), np.array([[2.0, 0.0], [6.0, 0.0]])])
        assert found == {"x": (-3.0, 6.55), "y": (-1, 1)}  # [-3, 3] widened to 6 + max(0.5, 0.1 * 5.5)
        assert axes(task, ("x", "y"), [])["x"] == (-3.0, 3.0)


def bad(**fields: Any) -> PlotTask:
    base = {"kind": "contour", "function": "x*y"}
    return PlotTask(**(base | fields))


class TestErrors:
    def test_an_unknown_kind(self) -> None:
        error = raises(InvalidInput, bad(kind="pie"))
        assert (
            error.detail
            == "'pie' is not a kind of plot; use one of contour, curve, surface, vector_field, distribution"
        )

    def test_an_overlay_the_kind_cannot_draw(self) -> None:
        error = raises(InvalidInput, bad(kind="curve", function="x", overlays=("gradient_arrows",)))
        assert error.detail == (
            "kind 'curve' cannot draw the overlay 'gradient_arrows' (it is drawn on contour); its overlays: tangent, "
            "trajectory"
        )
        assert error.errors[0].loc == ("body", "overlays")

    def test_a_level_set_needs_a_point(self) -> None:
        error = raises(InvalidInput, bad(overlays=("level_set",)))
        assert error.detail == "the overlay 'level_set' is drawn through a point: give 'at'"
        error = raises(InvalidInput, bad(overlays=("trajectory",)))
        assert error.detail == "the overlay 'trajectory' draws the points of 'trajectory': give them"

    def test_the_number_of_variables(self) -> None:
        error = raises(InvalidInput, bad(function="x^2"))
        assert error.detail == "kind 'contour' draws a function of 2 variables; the function has 1 (x): use kind curve"

    def test_sizes_are_bounded(self) -> None:
        error = raises(TooLarge, bad(width=5000))
        assert error.detail == "width is 5000 pixels; it must be between 200 and 2400"
        error = raises(TooLarge, bad(resolution=1000))
        assert error.detail == "resolution 1000 for kind 'contour' must be between 2 and 400"

    def test_taylor_orders(self) -> None:
        error = raises(InvalidInput, bad(kind="curve", function="x", at=(0,), taylor_orders=(11,)))
        assert error.detail == "each Taylor order must be between 0 and 10, got [11]"

    def test_a_bad_point(self) -> None:
        error = raises(InvalidPoint, bad(at=(1, 2, 3)))
        assert "has 3 values but there are 2 variables (x, y)" in error.detail

    def test_a_bad_range(self) -> None:
        error = raises(InvalidInput, bad(ranges=(("x", 2, 1),)))
        assert error.detail == "the range of x must be [low, high] with low < high, got [2, 1]"
        error = raises(InvalidInput, bad(ranges=(("z", 0, 1),)))
        assert error.detail == "'ranges' names 'z', which is not a variable (x, y)"

    def test_a_bad_distribution(self) -> None:
        error = raises(InvalidInput, PlotTask("distribution", distribution=DistributionSpec("normal", (("mu", 0.0),))))
        assert error.errors[0].loc[:2] == ("body", "distribution")
        assert "normal needs the parameter 'sigma'" in error.detail
        error = raises(InvalidInput, PlotTask("distribution"))
        assert error.detail == "kind 'distribution' needs 'distribution' {family, parameters}"


def test_a_result_pickles_for_the_way_back_from_a_worker(rendered: dict[str, PlotResult]) -> None:
    import pickle

    assert pickle.loads(pickle.dumps(rendered["curve"])) == rendered["curve"]


def test_a_function_undefined_everywhere_in_the_ranges() -> None:
    error = raises(InvalidInput, PlotTask("contour", function="sqrt(-1 - x^2 - y^2)", ranges=(("x", 0, 1),)))
    assert error.detail == (
        "f is undefined or infinite everywhere in the ranges (x in [0, 1], y in [-3, 3]); give 'ranges' where it is "
        "defined"
    )
    assert error.errors[0].loc == ("body", "ranges")
