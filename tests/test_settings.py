"""The settings tables of deploy/README.md list every setting, and nothing that is not one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from service.config import ServerSettings, Settings

TABLES = Path(__file__).resolve().parents[1] / "deploy" / "README.md"


def variables(settings: type[BaseSettings]) -> set[str]:
    prefix = settings.model_config.get("env_prefix", "")
    return {f"{prefix}{name}".upper() for name in settings.model_fields}


def documented() -> set[str]:
    """The variables named in the first column of the tables of the "## Settings" section of deploy/README.md."""
    section = TABLES.read_text().split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`((?:NABLA|UVICORN)_[A-Z_]+)`", row)}


def test_every_setting_is_in_the_tables() -> None:
    missing = (variables(Settings) | variables(ServerSettings)) - documented()
    assert not missing, f"add a row to the settings tables of deploy/README.md for {sorted(missing)}"


def test_the_tables_list_no_setting_that_does_not_exist() -> None:
    unknown = documented() - variables(Settings) - variables(ServerSettings)
    assert not unknown, (
        f"the settings tables of deploy/README.md name {sorted(unknown)}, which service/config.py does not read"
    )


def test_the_server_settings_are_read_from_uvicorn_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN", "7")
    monkeypatch.setenv("UVICORN_PORT", "9001")
    server = ServerSettings()
    assert (server.timeout_graceful_shutdown, server.port) == (7, 9001)
