"""``facebench pack`` and ``facebench unpack``: a finished benchmark in one file (:mod:`facebench.pack`)."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import FacebenchError


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


def print_unpacked(unpacked, pack: str, err: bool = False) -> None:
    """Where the unpacked store is, and the commands that score a metric on it and build its board."""
    how = "already unpacked, verified" if unpacked.reused else "verified and unpacked"
    click.echo(f"{pack}: {how} into {unpacked.root}", err=err)
    click.echo(f"store: {unpacked.store}", err=err)
    score, board = unpacked.commands()
    click.echo(f"score a metric:  {score}", err=err)
    click.echo(f"build the board: {board}", err=err)


@click.command("pack")
@click.option("--store", "store_path", type=click.Path(dir_okay=False), default=None,
              help="Results store (default: the config's store, else .facebench/results.sqlite).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Config whose store to pack; its text is recorded in the manifest.")
@click.option("--output", "-o", "out", type=click.Path(dir_okay=False), required=True,
              help="The pack file to write (.fbpack).")
@click.option("--metric", "-m", "metrics", multiple=True,
              help="Keep only this metric's scores (repeatable); default: every metric the store holds.")
def pack_cmd(store_path, config_path, out, metrics) -> None:
    """Write a finished benchmark (features, ground truth per seed, test predictions, configs,
    scores, checksums) to one file that 'facebench unpack' or 'facebench score --pack' reads."""
    from ..pack import write_pack
    from ..runner.run_lock import RunLock

    config_text = None
    if config_path:
        from ..config import load_config

        cfg = load_config(config_path)
        store_path = store_path or cfg.store
        config_text = Path(config_path).read_text()
    store_path = store_path or ".facebench/results.sqlite"
    if not Path(store_path).is_file():
        raise FacebenchError(f"{store_path}: no such results store (run 'facebench run' first)")
    with RunLock(store_path, command="facebench pack"):  # not while a run or a scoring writes to it
        summary = write_pack(store_path, out, config_text=config_text, metrics=list(metrics) or None)
    click.echo(f"wrote {summary.path} ({_mb(summary.size)}): {len(summary.benchmarks)} benchmark(s), "
               f"{summary.targets} target(s), {summary.models} model(s), {summary.features} feature file(s), "
               f"{summary.predictions} prediction file(s); scores of {', '.join(summary.metrics) or 'no metric'}")


@click.command("unpack")
@click.argument("pack", type=click.Path(dir_okay=False))
@click.option("--into", type=click.Path(file_okay=False), default=None,
              help="Where to unpack (default: .facebench/packs/<pack name>/).")
def unpack_cmd(pack, into) -> None:
    """Verify a pack (versions, every member's size and SHA-256) and unpack it: a results store
    to score metrics on ('facebench score --store') and build the full board from."""
    from ..pack import unpack

    print_unpacked(unpack(pack, into), pack)
