"""Distributions endpoints (issue 3): filled in by the module's owner."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.routing import JSONRoute

router = APIRouter(prefix="/v1", tags=["distributions"], route_class=JSONRoute)
