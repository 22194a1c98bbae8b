"""One request model per distribution family, built from the family's record: its parameters, which of them are
alternatives (gamma's rate or scale, exactly one), their descriptions and constraints. So the schema of a law says
exactly which parameters the family takes, and a thirteenth family needs nothing here.

``law_models(value)`` gives, per family, a law model ``{family, parameters}`` whose ``parameters`` take ``value``
(a number, or a number or an expression); ``parameter_models(value)`` the parameter models alone.
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, GetJsonSchemaHandler, create_model, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from service.compute.distributions import FAMILIES, Family
from service.compute.errors import NablaError
from service.schemas.common import StrictModel


def _title(family: Family) -> str:
    return "".join(part.capitalize() for part in family.name.split("_"))


def _groups(family: Family) -> list[tuple[str, ...]]:
    """The canonical parameters' names: one group each, with its alternatives (``("scale", "rate")``)."""
    return [family.choices(canonical) for canonical in family.canonical]


class LawParameters(StrictModel):
    """Base of the per-family parameter models: exactly one name of each group of alternatives."""

    _family: ClassVar[Family]

    @classmethod
    def __get_pydantic_json_schema__(cls, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = super().__get_pydantic_json_schema__(core, handler)
        alternatives = [group for group in _groups(cls._family) if len(group) > 1]
        if alternatives:
            schema["allOf"] = [{"oneOf": [{"required": [name]} for name in group]} for group in alternatives]
        return schema

    @model_validator(mode="after")
    def _alternatives(self) -> LawParameters:
        given = {name: 1.0 for name, value in self if value is not None}  # the names decide; values are checked later
        try:
            type(self)._family.resolve(given)
        except NablaError as error:
            raise ValueError(error.detail) from None
        return self

    def given(self) -> dict[str, Any]:
        return {name: value for name, value in self if value is not None}


def _parameter_model(family: Family, value: Any, suffix: str) -> type[LawParameters]:
    fields: dict[str, Any] = {}
    for group in _groups(family):
        for name in group:
            parameter = family.parameter(name)
            text = f"{parameter.description} Constraint: {parameter.constraint}."
            if len(group) > 1:
                text += f" Give exactly one of {' and '.join(sorted(group))}."
            default = ... if len(group) == 1 else None
            fields[name] = (value, Field(default, description=text))
    model = create_model(
        f"{_title(family)}{suffix}",
        __base__=LawParameters,
        __doc__=f"The parameters of a {family.title} law: {family.expected()}. {family.convention}",
        **fields,
    )
    model._family = family
    return model


@cache
def parameter_models(value: Any, suffix: str) -> dict[str, type[LawParameters]]:
    """Per family, the model of its parameters, each of type ``value``; named ``<Family><suffix>``."""
    return {name: _parameter_model(family, value, suffix) for name, family in FAMILIES.items()}


@cache
def law_models(value: Any, suffix: str) -> dict[str, type[BaseModel]]:
    """Per family, the model ``{family: "<name>", parameters: {...}}`` of one random variable's law."""
    models: dict[str, type[BaseModel]] = {}
    for name, parameters in parameter_models(value, f"{suffix}Parameters").items():
        family = FAMILIES[name]
        models[name] = create_model(
            f"{_title(family)}{suffix}",
            __base__=StrictModel,
            __doc__=f"A {family.title} random variable: support {family.support}.",
            family=(Literal[name], Field(description="The family, as listed by GET /v1/distributions.")),  # type: ignore[arg-type, unused-ignore]
            parameters=(parameters, Field(description=f"Its parameters: {family.expected()}.")),
        )
    return models
