"""``leaderboard.md``: the leaderboard as GitHub-flavoured Markdown (text only, no images).

Best values are ``**bold**``, second best ``<ins>underlined</ins>`` (GitHub strips ``<u>`` but keeps
``<ins>``); details (more statistics, intervals, ground-truth spread) sit in ``<details>`` blocks.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from ..diagnostics import diagnostic
from ..evaluation import STATISTICS
from .fmt import MISSING, STAT_LABELS, fmt, fmt_interval, fmt_seconds, is_num, marks
from .tables import BenchmarkData, Leaderboard, RankRow

MAIN_STATISTICS = ("tau_w", "pearson")
DETAIL_STATISTICS = tuple(s for s in STATISTICS if s not in MAIN_STATISTICS)


def esc(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(header: Sequence[str], rows: Iterable[Sequence[str]], align: Sequence[str] | None = None) -> str:
    align = align or ["l"] + ["r"] * (len(header) - 1)
    sep = ["---:" if a == "r" else ":---:" if a == "c" else ":---" for a in align]
    lines = ["| " + " | ".join(esc(h) for h in header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def marked(values: Sequence[float], suffixes: Sequence[str] | None = None) -> list[str]:
    suffixes = suffixes or [""] * len(values)
    out = []
    for v, mark, suffix in zip(values, marks(values), suffixes):
        s = fmt(v) + suffix if is_num(v) else MISSING
        out.append(f"**{s}**" if mark == "best" else f"<ins>{s}</ins>" if mark == "second" else s)
    return out


def details(summary: str, body: str) -> str:
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


# ---------------------------------------------------------------------------------------------
def header(board: Leaderboard) -> str:
    lines = [
        "# facebench leaderboard",
        "",
        f"Generated {board.date} by facebench {board.version} from `{board.store_path}`.",
        "",
        "Each metric scores every model of a zoo on a target dataset; the table entries say how well "
        "those scores rank the models' fine-tuned results (mean over seeds): τ_w is the weighted "
        "Kendall tau (`scipy.stats.weightedtau`, hyperbolic weights), ρ the Pearson correlation. "
        "**Bold**: best in the column, <ins>underlined</ins>: second best (on the values as shown). "
        f"Intervals: {board.level:.0%} percentile bootstrap over the zoo's models "
        f"({board.n_boot} resamples, seed {board.seed}). {MISSING}: the metric failed or the value is undefined.",
    ]
    if board.config_text.strip():
        lines += ["", details("Config used", f"```yaml\n{board.config_text.strip()}\n```")]
    return "\n".join(lines)


def ranking(board: Leaderboard) -> str:
    if not board.overall:
        return "## Ranking\n\nNo scored benchmark in this store."
    tasks = board.tasks
    task_rows = {task: {r.metric: r for r in rows} for task, rows in board.by_task.items()}
    head = ["Rank", "Metric", "Mean τ_w (all targets)", "Targets"] + [f"{t}: mean τ_w (rank)" for t in tasks]
    # Marks follow the ranking (coverage first), not the raw mean.
    overall_marks = [f"**{fmt(r.mean_tau_w)}**" if r.rank == 1 else f"<ins>{fmt(r.mean_tau_w)}</ins>" if r.rank == 2
                     else fmt(r.mean_tau_w) for r in board.overall]
    rows = []
    for r, shown in zip(board.overall, overall_marks):
        cells = [str(r.rank), esc(r.metric), shown, f"{r.covered}/{r.total}"]
        for task in tasks:
            tr: RankRow | None = task_rows[task].get(r.metric)
            cells.append(f"{fmt(tr.mean_tau_w)} ({tr.rank})" if tr and is_num(tr.mean_tau_w) else MISSING)
        rows.append(cells)
    note = ("Mean τ_w: over every benchmark target (a target with several ground-truth statistics counts "
            "once, their τ_w averaged). Ranked by coverage (targets with a τ_w), then mean τ_w.")
    return "## Ranking\n\n" + table(head, rows) + "\n\n" + note


def stat_table(b: BenchmarkData, truth: str, stat: str, *, with_ci: bool = False) -> str:
    targets = [t for t in b.targets if truth in t.truths]
    columns = [[t.value(m, truth, stat) for m in b.metrics] for t in targets]
    columns.append([b.average(m, truth, stat) for m in b.metrics])
    incomplete = [("\\*" if not b.complete(m, truth, stat) and is_num(b.average(m, truth, stat)) else "")
                  for m in b.metrics]
    shown = [marked(col) for col in columns[:-1]] + [marked(columns[-1], incomplete)]
    rows = []
    for i, m in enumerate(b.metrics):
        cells = [esc(m)]
        for j, t in enumerate(targets):
            cell = shown[j][i]
            if with_ci:
                c = t.cells.get((m, truth))
                iv = c.intervals.get(stat) if c else None
                cell += " " + fmt_interval(iv.low, iv.high) if iv and is_num(iv.low) else ""
            cells.append(cell)
        cells.append(shown[-1][i])
        rows.append(cells)
    title = f"**{STAT_LABELS[stat]}** (ground truth: {truth}{', with bootstrap interval' if with_ci else ''})"
    out = title + "\n\n" + table(["Metric"] + [t.target for t in targets] + ["Avg."], rows)
    if any(incomplete):
        out += "\n\n\\* average over the targets where the metric has a value."
    return out


def truth_spread(b: BenchmarkData) -> str:
    parts = []
    for truth in b.truths:
        targets = [t for t in b.targets if truth in t.truths]
        rows = []
        for model in b.models:
            cells = [esc(model)]
            for t in targets:
                s = t.spread.get(truth, {}).get(model)
                if s is None or s.n == 0:
                    cells.append(MISSING)
                    continue
                std = f" ± {s.std:.4f}" if is_num(s.std) else ""
                cells.append(f"{s.mean:.4f}{std} [{s.low:.4f}, {s.high:.4f}] (n={s.n})")
            rows.append(cells)
        parts.append(f"Ground truth **{truth}** per model: mean ± std (ddof=1) [min, max] over seeds\n\n"
                     + table(["Model"] + [t.target for t in targets], rows))
    return "\n\n".join(parts)


def cost(b: BenchmarkData) -> str:
    rows = [[esc(m)] + [fmt_seconds(t.seconds.get(m, float("nan"))) for t in b.targets]
            + [fmt_seconds(b.metric_seconds(m))] for m in b.metrics]
    out = "**Cost**: scoring time per metric (sum over models)\n\n"
    out += table(["Metric"] + [t.target for t in b.targets] + ["Total"], rows)
    out += (f"\n\nZoo totals: scoring {fmt_seconds(b.scoring_seconds)} (all metrics) · fine-tuning "
            f"{fmt_seconds(b.finetune_seconds)} · feature extraction {fmt_seconds(b.extract_seconds)} · "
            f"pre-training {fmt_seconds(b.pretrain_seconds)}")
    return out


def diagnostic_names(b: BenchmarkData) -> list[str]:
    """The per-epoch diagnostics recorded on any of the benchmark's targets, in first-seen order."""
    return list(dict.fromkeys(name for t in b.targets for name in t.diagnostics))


def diagnostics_section(b: BenchmarkData) -> str:
    parts = []
    for name in diagnostic_names(b):
        spec = diagnostic(name)
        rows = [[esc(t.target), str(len(tr.curves)), str(tr.epochs), fmt(tr.kendall)]
                for t in b.targets if (tr := t.diagnostics.get(name)) is not None]
        figure = f" (the paper's {spec.figure})" if spec.figure else ""
        parts.append(f"**{spec.title}**{figure}: Kendall τ between the models' "
                     f"{spec.quantity.replace(' ', '-')} ranking at epoch 0 (pre-trained) and at the last epoch\n\n"
                     + table(["Target", "Models", "Epochs", "Kendall τ (epoch 0 vs last)"], rows))
    return "\n\n".join(parts)


def errors_section(b: BenchmarkData) -> str:
    items = [f"- `{m}` on {t.target}: {esc(msg)}" for t in b.targets for m in b.metrics for msg in t.errors.get(m, [])]
    return ("**Notes from scoring**\n\n" + "\n".join(items)) if items else ""


def benchmark_section(b: BenchmarkData) -> str:
    seeds = ", ".join(map(str, b.seeds)) or MISSING
    parts = [
        f"## {esc(b.benchmark)}",
        f"Task **{esc(b.task)}** · zoo **{esc(b.zoo)}** · {len(b.models)} models · seeds {seeds} · "
        f"targets: {', '.join(esc(t.target) for t in b.targets)}",
    ]
    if not b.metrics:
        parts.append("No metric has been scored on this benchmark yet.")
    for truth in b.truths if b.metrics else []:
        if len(b.truths) > 1:
            parts.append(f"### Ground truth: {esc(b.truth_title(truth))}")
        parts += [stat_table(b, truth, s) for s in MAIN_STATISTICS]
        more = [stat_table(b, truth, "tau_w", with_ci=True)] + [stat_table(b, truth, s) for s in DETAIL_STATISTICS]
        parts.append(details("Details: intervals, Spearman, Kendall, top-1 relative accuracy", "\n\n".join(more)))
    if b.truths:
        parts.append(details("Ground truth over seeds", truth_spread(b)))
    if b.metrics:
        parts.append(cost(b))
    parts += [s for s in (diagnostics_section(b), errors_section(b)) if s]
    return "\n\n".join(parts)


def render_markdown(board: Leaderboard) -> str:
    sections = [header(board), ranking(board)] + [benchmark_section(b) for b in board.benchmarks]
    return "\n\n".join(sections) + "\n"
