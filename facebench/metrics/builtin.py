"""Registers the built-in metrics through the same hook external plugins use."""
from __future__ import annotations

from ..hookspecs import hookimpl
from .face import (
    ClassFairness,
    ClassFairnessLiteral,
    ClassFairnessWithSelf,
    FaCe,
    FaCeLiteral,
    FaCeWithSelf,
    VarianceCollapse,
)
from .gbc import GBC
from .hscore import HScore
from .leep import LEEP
from .logme import LogME
from .nc2 import NC2
from .nce import NCE


@hookimpl
def facebench_metrics():
    return [
        FaCe, VarianceCollapse, ClassFairness, FaCeWithSelf, ClassFairnessWithSelf, FaCeLiteral, ClassFairnessLiteral,
        NC2, LEEP, NCE, LogME, HScore, GBC,
    ]
