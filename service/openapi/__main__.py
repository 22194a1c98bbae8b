"""``python -m service.openapi``: print the OpenAPI document the app serves, as stable, pretty JSON."""

from __future__ import annotations

import json

from service.main import create_app


def document() -> str:
    """The served OpenAPI document as stable, pretty JSON."""
    return json.dumps(create_app().openapi(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(document(), end="")  # noqa: T201 (the command prints the document)
