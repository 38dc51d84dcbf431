"""Registers the built-in zoos through the facebench hooks.

* ``embedded-classification`` (offline, CPU-sized; :mod:`facebench.zoos.embedded`);
* the paper's classification zoos ``imagenet-15``, ``multisource-30``, ``homogeneous-21``
  (:mod:`facebench.zoos.paper`; ImageNet weights and source datasets are downloaded when allowed).
"""
from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def facebench_zoos():
    from . import embedded, paper

    return [embedded.ZOO, *paper.ZOOS]
