"""Models of the operations endpoints (liveness and readiness)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Health(BaseModel):
    """The process answers (liveness), or its workers are warm (readiness)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: str = Field(description="`ok` from /healthz, `ready` from /readyz.")
