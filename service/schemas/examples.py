"""Examples of every response model, for the OpenAPI document: real answers of the server to the request examples
(a test checks that each one validates against its model)."""

from __future__ import annotations

from typing import Any

DERIVATIVE: dict[str, Any] = {
    "variables": ["x"],
    "variable": "x",
    "order": 2,
    "wrt": ["x", "x"],
    "derivative": {
        "expression": "-x^2*sin(x) + 4*x*cos(x) + 2*sin(x)",
        "latex": "- x^{2} \\sin{\\left(x \\right)} + 4 x \\cos{\\left(x \\right)} + 2 \\sin{\\left(x \\right)}",
    },
    "value": 3.002680208280456,
    "status": "ok",
    "warnings": [],
    "warnings_omitted": 0,
}

GRADIENT: dict[str, Any] = {
    "variables": ["x", "y", "z"],
    "gradient": {
        "expressions": ["2^(x*y)*y*log(2) - z*sin(x)", "2^(x*y)*x*log(2)", "cos(x)"],
        "latex": [
            "2^{x y} y \\log{\\left(2 \\right)} - z \\sin{\\left(x \\right)}",
            "2^{x y} x \\log{\\left(2 \\right)}",
            "\\cos{\\left(x \\right)}",
        ],
    },
    "value": [3.020764490055873, 2.772588722239781, 0.5403023058681398],
    "status": "ok",
    "warnings": [],
    "warnings_omitted": 0,
}

DIRECTIONAL: dict[str, Any] = {
    "variables": ["x", "y"],
    "gradient_expressions": {"expressions": ["2*x*y^2", "2*x^2*y"], "latex": ["2 x y^{2}", "2 x^{2} y"]},
    "value": 8.0,
    "gradient": [8.0, 4.0],
    "direction": [0.6, 0.8],
    "steepest_ascent": {"direction": [0.8944271909999159, 0.4472135954999579], "rate": 8.94427190999916},
    "status": "ok",
    "warnings": [],
    "warnings_omitted": 0,
}

JACOBIAN: dict[str, Any] = {
    "variables": ["x", "y"],
    "jacobian": {
        "expressions": [["4*x", "0"], ["sqrt(y)", "x/2/sqrt(y)"]],
        "latex": [["4 x", "0"], ["\\sqrt{y}", "\\frac{x}{2 \\sqrt{y}}"]],
    },
    "value": [[4.0, 0.0], [2.0, 0.25]],
    "status": "ok",
    "warnings": [],
    "warnings_omitted": 0,
}

HESSIAN: dict[str, Any] = {
    "variables": ["x", "y"],
    "hessian": {
        "expressions": [["2*y^3", "6*x*y^2"], ["6*x*y^2", "6*x^2*y"]],
        "latex": [["2 y^{3}", "6 x y^{2}"], ["6 x y^{2}", "6 x^{2} y"]],
    },
    "symmetric": True,
    "value": [[16.0, 24.0], [24.0, 12.0]],
    "eigenvalues": [-10.083189157584595, 38.083189157584584],
    "classification": "indefinite",
    "status": "ok",
    "warnings": [],
    "warnings_omitted": 0,
}

STOCHASTIC: dict[str, Any] = {
    "wrt": ["theta"],
    "at": {"theta": 1.5},
    "estimate": [2.9973473618252298],
    "standard_error": [0.006313814258202621],
    "confidence_interval": {"level": 0.95, "low": [2.984972513274077], "high": [3.0097222103763825]},
    "estimator": "pathwise",
    "estimators": {"X": "pathwise"},
    "variance": {"pathwise": [3.9864250487082713], "score": [27.110780298448493], "measure_valued": None},
    "samples": 100000,
    "seed": 7,
    "exact": [3.0],
    "exact_method": "closed_form",
    "expected_value": 3.25,
    "expectation": {"expression": "theta^2 + 1", "latex": "\\theta^{2} + 1"},
    "exact_derivatives": {"expressions": ["2*theta"], "latex": ["2 \\theta"]},
    "warnings": [],
    "warnings_omitted": 0,
}

STATISTICS: dict[str, Any] = {
    "family": "gamma",
    "parameters": {"shape": 2.0, "rate": 0.5},
    "discrete": False,
    "mean": 4.0,
    "variance": 8.0,
    "std": 2.8284271247461903,
    "skewness": 1.414213562373095,
    "excess_kurtosis": 3.0,
    "entropy": 2.270362845461478,
    "median": 3.3566939800333224,
    "mode": 2.0,
    "undefined": {},
    "infinite": [],
    "support": {"lower": 0.0, "upper": None, "description": "[0, inf)"},
    "pdf": [0.15163266492815836],
    "log_pdf": [-1.8862943611198908],
    "cdf": [0.09020401043104986],
    "sf": [0.9097959895689501],
    "quantiles": [3.3566939800333224],
    "warnings": [],
    "warnings_omitted": 0,
}

FIT: dict[str, Any] = {
    "family": "exponential",
    "parameters": {"rate": 0.47619047619047616},
    "estimated": ["rate"],
    "standard_errors": {"rate": 0.21295885499997996},
    "confidence_interval": {"level": 0.95, "low": {"rate": 0.058798790201627815}, "high": {"rate": 0.8935821621793245}},
    "covariance": [[0.045351473922902494]],
    "method": "closed form",
    "iterations": 0,
    "likelihood": {
        "parameters": ["rate"],
        "observations": 5,
        "log_likelihood": -8.709686723646886,
        "score": [4.440892098500626e-16],
        "fisher_information": {"per_observation": [[4.41]], "sample": [[22.05]]},
        "observed_information": [[22.05]],
        "notes": {},
    },
    "notes": {},
    "warnings": [],
    "warnings_omitted": 0,
}

DISTRIBUTIONS: dict[str, Any] = {
    "families": [
        {
            "name": "normal",
            "title": "Normal (Gaussian)",
            "discrete": False,
            "parameters": [
                {"name": "mu", "constraint": "mu real", "description": "Mean (location).", "integer": False},
                {"name": "sigma", "constraint": "sigma > 0", "description": "Standard deviation.", "integer": False},
            ],
            "required": "mu, sigma",
            "support": "all real numbers (-inf, inf)",
            "convention": "sigma is the standard deviation, not the variance.",
            "regular": True,
        }
    ]
}

RESPONSES: dict[str, dict[str, Any]] = {
    "DerivativeResponse": DERIVATIVE,
    "GradientResponse": GRADIENT,
    "DirectionalResponse": DIRECTIONAL,
    "JacobianResponse": JACOBIAN,
    "HessianResponse": HESSIAN,
    "StochasticResponse": STOCHASTIC,
    "StatisticsResponse": STATISTICS,
    "FitResponse": FIT,
    "DistributionsResponse": DISTRIBUTIONS,
}
"""By component name. FastAPI drops the nulls of schema examples when it builds the document; the OpenAPI
customisation puts these back whole."""
