"""``facebench plugins`` and ``facebench list``: what the loaded plugins register."""
from __future__ import annotations

import click


@click.command("plugins")
def plugins_cmd() -> None:
    """List loaded plugins, their versions and what each registers."""
    from ..plugins import get_plugins

    plugins = get_plugins()
    for info in plugins.plugin_infos():
        click.echo(f"{info.name}  [{info.version}; {info.source}]")
        for kind, names in info.registers.items():
            click.echo(f"    {kind}: {', '.join(names)}")
    for name, why in plugins.broken.items():
        click.echo(f"facebench: warning: plugin {name} left out, its import failed: {why}", err=True)


@click.command("list")
@click.argument("kind", type=click.Choice(["metrics", "tasks", "zoos", "datasets"]))
@click.option("--verbose", "-v", is_flag=True, help="Metrics: print each metric's card (parameters, source, departures).")
def list_cmd(kind: str, verbose: bool) -> None:
    """List the entries of a registry with a one-line description."""
    from ..output import format_card
    from ..plugins import get_plugins

    plugins = get_plugins()
    entries = plugins.registry(kind).entries()
    width = max((len(e.name) for e in entries), default=0)
    for e in sorted(entries, key=lambda e: e.name):
        click.echo(f"{e.name:<{width}}  {e.summary}  [{e.plugin}]")
        if verbose and kind == "metrics":
            click.echo(format_card(plugins.create_metric(e.name).card(), indent="    ") + "\n")
