"""The ``nabla`` sub-commands against a real server: readable output, --json, --points (.npy, .csv), exit codes."""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.test_cli import NABLA
from tests.e2e.test_server import server  # noqa: F401 (the fixture)

pytestmark = pytest.mark.e2e


def nabla(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NABLA_URL": url}
    return subprocess.run([str(NABLA), *args], env=env, capture_output=True, text=True, timeout=60)


def test_a_readable_gradient(server: str) -> None:  # noqa: F811
    result = nabla(server, "gradient", "x^2*y", "--at", "x=1,y=2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:3] == ["variables: [x, y]", "gradient: [2*x*y, x^2]", "value: [4.0, 1.0]"]


def test_json_is_the_servers_answer(server: str) -> None:  # noqa: F811
    result = nabla(server, "derivative", "sin(x)", "--order", "2", "--at", "1", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["derivative"]["expression"] == "-sin(x)"
    assert answer["value"] == pytest.approx(-math.sin(1), rel=1e-15)


def test_points_from_npy_in_chunks(server: str, tmp_path: Path) -> None:  # noqa: F811
    points = np.linspace(0, 1, 10).reshape(5, 2)
    np.save(tmp_path / "p.npy", points)
    result = nabla(
        server, "gradient", "x*y", "--points", str(tmp_path / "p.npy"), "--chunk", "2", "--json", "--progress"
    )
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(json.loads(result.stdout)["values"], points[:, ::-1])
    assert "5/5 points" in result.stderr


def test_points_from_csv_with_a_header(server: str, tmp_path: Path) -> None:  # noqa: F811
    (tmp_path / "p.csv").write_text("y,x\n1,2\n3,4\n")
    result = nabla(server, "gradient", "x - 2*y", "--points", str(tmp_path / "p.csv"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["values"] == [[1.0, -2.0], [1.0, -2.0]]


def test_a_problem_is_exit_1_with_its_message(server: str) -> None:  # noqa: F811
    result = nabla(server, "gradient", "sin(x", "--at", "1")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "nabla gradient: 422 Expression syntax error: expected ')' to close the '(' at position 3, found the end of "
        "the input at position 5\n"
    )


def test_a_usage_error_is_exit_2(server: str) -> None:  # noqa: F811
    result = nabla(server, "gradient", "x", "--at", "x=1,2")
    assert result.returncode == 2
    assert "give every value by name or none: 'x=1,2'" in result.stderr


def test_no_server_is_exit_3() -> None:
    result = nabla("http://127.0.0.1:18799", "gradient", "x", "--at", "1")
    assert result.returncode == 3
    assert result.stderr.startswith("nabla gradient: cannot reach http://127.0.0.1:18799: ")
