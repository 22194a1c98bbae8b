"""Probability distributions: the catalogue of families (``families``), their statistics and likelihood inference.

No web framework is imported here.
"""

from service.compute.distributions.families import FAMILIES, Family, Parameter

__all__ = ["FAMILIES", "Family", "Parameter"]
