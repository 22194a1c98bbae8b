"""Names that surprise: a variable whose name is other names side by side gets an ``ambiguous_name`` warning."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from service.compute.answer import name_notes
from service.compute.calculus import CalculusTask, run


def _details(function: str) -> list[tuple[str, str]]:
    result = run(CalculusTask("gradient", (function,), None, ()))
    return [(note.code, note.detail) for note in name_notes(result).listed]


def test_xy_beside_x_and_y() -> None:
    assert _details("xy + x*y") == [("ambiguous_name", "xy is one variable named xy; did you mean x*y?")]


def test_names_that_are_no_concatenation_stay_silent() -> None:
    assert _details("theta*t + x1*x") == []


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "x", "y", "mu"]), min_size=2, max_size=4))
def test_every_concatenation_of_present_names_is_named(parts: list[str]) -> None:
    joined = "".join(parts)
    details = _details(f"{joined} + {' + '.join(parts)}")
    assert details
    assert details[0][1].startswith(f"{joined} is one variable named {joined}; did you mean ")
    suggestion = details[0][1].removesuffix("?").rsplit(" ", 1)[1]
    assert suggestion.replace("*", "") == joined
