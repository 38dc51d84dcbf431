"""Metric cards for a board: what each metric on it computes, with the parameters it was scored with.

The parameters come from the store (recorded with every score); the source, reference code and
departures from the metric's own card (:meth:`facebench.metrics.base.Metric.card`), rebuilt with
those parameters by the installed plugin. A metric whose plugin is not loaded where the board is
built gets its stored parameters and a line saying that its card is unavailable.
"""
from __future__ import annotations

import json
from typing import Any

import yaml

from ..config import parse_verdict
from ..errors import ConfigError
from ..metrics.base import MetricCard
from ..plugins import Plugins, get_plugins
from ..store import ResultsStore


def recorded_configs(store: ResultsStore) -> list[dict[str, Any]]:
    """The configs recorded with the store's runs, oldest first, as mappings (unreadable ones left out)."""
    out = []
    for run in store.runs():
        try:
            raw = yaml.safe_load(run.get("config") or "") or {}
        except yaml.YAMLError:
            continue
        if isinstance(raw, dict):
            out.append(raw)
    return out


def verdict_settings(store: ResultsStore) -> dict[str, Any]:
    """The ``verdict:`` block of the latest recorded config that has a valid one (else {})."""
    out: dict[str, Any] = {}
    for raw in recorded_configs(store):
        try:
            settings = parse_verdict(raw.get("verdict"), "recorded config")
        except ConfigError:
            continue
        if settings:
            out = settings
    return out


def attach_about(board, store: ResultsStore, plugins: Plugins) -> None:
    """Each benchmark's ``about``: its zoo's registered summary, then the recorded config's ``notes`` for it
    (the latest run's config that names it)."""
    notes: dict[str, str] = {}
    for raw in recorded_configs(store):
        for b in raw.get("benchmarks") or []:
            if isinstance(b, dict) and isinstance(b.get("notes"), str):
                notes[f"{b.get('task')}/{b.get('zoo')}"] = " ".join(b["notes"].split())
    for b in board.benchmarks:
        zoo = plugins.zoos.get(b.zoo) if b.zoo in plugins.zoos else None
        b.about = [text for text in (f"Zoo: {zoo.summary}." if zoo is not None and zoo.summary else "",
                                     notes.get(b.benchmark, "")) if text]


def _plugin_modules(store: ResultsStore) -> tuple[str, ...]:
    """Extra plugin modules named by the configs recorded in the store (best effort)."""
    modules: list[str] = []
    for raw in recorded_configs(store):
        modules += [str(m) for m in raw.get("plugins") or [] if str(m) not in modules]
    return tuple(modules)


def store_plugins(store: ResultsStore) -> Plugins:
    """The plugins a board of ``store`` uses: the installed ones and the modules its configs named."""
    try:
        return get_plugins(_plugin_modules(store))
    except Exception:  # noqa: BLE001 - a plugin that no longer imports must not stop the board
        return get_plugins()


def metric_cards(store: ResultsStore, metrics: list[str], plugins: Plugins | None = None) -> list[MetricCard]:
    """One card per (metric, distinct parameter set) scored in the store, in ``metrics`` order."""
    plugins = plugins or store_plugins(store)
    cards = []
    for name in metrics:
        for params_json in store.metric_params(name):
            params: dict[str, Any] = json.loads(params_json) if params_json else {}
            try:
                card = plugins.create_metric(name, **params).card()
            except Exception as exc:  # noqa: BLE001 - unknown metric or changed signature
                card = MetricCard(name=name, summary="", params=params,
                                  departures=(f"card unavailable where this board was built: {exc}",))
            else:
                card = MetricCard(card.name, card.summary, params, card.source, card.reference_code, card.departures)
            cards.append(card)
    return cards
