"""Registers the built-in metrics through the same hook external plugins use."""
from __future__ import annotations

from ..hookspecs import hookimpl
from .controls import ParamCount, PretrainEpochs, SourceAccuracy
from .etran import EnergyScore
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
from .hscore_shrinkage import ShrinkageHScore
from .leep import LEEP
from .logme import LogME
from .nc2 import NC2
from .nce import NCE
from .ncti import NCTI
from .nleep import NLEEP
from .pactran import PACTranGaussian
from .ped import PED
from .sfda import SFDA
from .transrate import TransRate


@hookimpl
def facebench_metrics():
    return [
        FaCe, VarianceCollapse, ClassFairness, FaCeWithSelf, ClassFairnessWithSelf, FaCeLiteral, ClassFairnessLiteral,
        NC2, LEEP, NCE, LogME, HScore, GBC,
        TransRate, NLEEP, SFDA, NCTI, ShrinkageHScore, EnergyScore, PACTranGaussian, PED,
        ParamCount, SourceAccuracy, PretrainEpochs,  # data-free controls (metrics/controls.py)
    ]
