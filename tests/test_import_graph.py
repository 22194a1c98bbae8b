"""The layers of service/ hold: no import circle, no import the wrong way (tests/import_graph.py prints the graph)."""

from __future__ import annotations

from tests import import_graph


def test_there_is_no_import_circle() -> None:
    assert import_graph.circles(import_graph.graph()) == []


def test_no_module_imports_the_wrong_way() -> None:
    assert import_graph.wrong_way(import_graph.graph()) == []


def test_a_circle_is_found() -> None:
    assert import_graph.circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_an_upward_import_is_found() -> None:
    edges = {"service.compute.x": {"service.runtime.y"}, "service.runtime.y": {"service.compute.x"}}
    assert import_graph.wrong_way(edges) == [("service.compute.x", "service.runtime.y")]


def test_nothing_may_import_an_entry_point() -> None:
    edges = {"service.main": {"service.openapi.__main__"}, "service.openapi.__main__": set()}
    assert import_graph.wrong_way(edges) == [("service.main", "service.openapi.__main__")]
