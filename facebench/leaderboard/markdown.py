"""``leaderboard.md``: the leaderboard as GitHub-flavoured Markdown (text only, no images).

Best values are ``**bold**``, second best ``<ins>underlined</ins>`` (GitHub strips ``<u>`` but keeps
``<ins>``); details (more statistics, intervals, ground-truth spread) sit in ``<details>`` blocks.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from ..diagnostics import diagnostic
from ..evaluation import STATISTICS
from .fmt import MISSING, STAT_LABELS, fmt, fmt_bytes, fmt_interval, fmt_ratio, fmt_seconds, is_num, marks, split_range
from .ablation import VARIANTS, AblationTable
from .tables import BenchmarkData, Leaderboard, RankRow
from .trust import flag_text, flagged

MAIN_STATISTICS = ("tau_w", "pearson")
UNRELIABLE_MARK = " †"  # after a value measured against a ground truth below the reliability threshold
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
            cell = shown[j][i] + (UNRELIABLE_MARK if flagged(b, t.target, truth) and is_num(columns[j][i]) else "")
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
    if any(flagged(b, t.target, truth) for t in targets):
        out += "\n\n" + unreliable_note(b)
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


COST_RATIO = ("(feature extraction + the metric) / fine-tuning the zoo once (per target and model, the mean over "
              "seeds), all targets together")


def cost(b: BenchmarkData) -> str:
    rows = [[esc(m)] + [fmt_seconds(t.seconds.get(m, float("nan"))) for t in b.targets]
            + [fmt_seconds(b.metric_seconds(m))] for m in b.metrics]
    out = "**Cost**: scoring time per metric (sum over models)\n\n"
    out += table(["Metric"] + [t.target for t in b.targets] + ["Total"], rows)
    out += (f"\n\nZoo totals: scoring {fmt_seconds(b.scoring_seconds)} (all metrics) · fine-tuning "
            f"{fmt_seconds(b.finetune_seconds)} · feature extraction {fmt_seconds(b.extract_seconds)} · "
            f"pre-training {fmt_seconds(b.pretrain_seconds)}")
    out += f"\n\n**Cost ratio** per metric: {COST_RATIO}\n\n" + table(
        ["Metric", "Extraction + metric", "Fine-tuning once", "Cost ratio"],
        [[esc(m), fmt_seconds(b.extract_seconds + b.metric_seconds(m)), fmt_seconds(b.finetune_once_seconds),
          fmt_ratio(b.cost_ratio(m))] for m in b.metrics])
    kinds = b.cost_by_kind()
    if kinds:
        out += "\n\nWhere the jobs ran (wall time; largest peak memory of one job)\n\n" + table(
            ["Job", "Jobs", "Wall time", "Device", "Peak RSS", "Peak GPU"],
            [[k["kind"], str(k["jobs"]), fmt_seconds(k["seconds"]), esc(", ".join(k["devices"])),
              fmt_bytes(k["peak_rss_bytes"]), fmt_bytes(k["peak_gpu_bytes"])] for k in kinds])
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
    if b.reliability:
        parts.append(reliability_section(b))
    if b.truths:
        parts.append(details("Ground truth over seeds", truth_spread(b)))
    if b.metrics:
        parts.append(cost(b))
    parts += [s for s in (diagnostics_section(b), errors_section(b)) if s]
    return "\n\n".join(parts)


def ablation_section(a: AblationTable) -> str:
    if not a.targets:
        why = "; ".join(f"{t}: {msg}" for t, msg in a.skipped.items()) or "no target"
        return f"### FaCe sensitivity ({esc(a.benchmark)})\n\nNot computed: {esc(why)}."
    head = ["F: PCA, covariance, row"] + [f"F {t}" for t in a.targets] + ["F mean"] + \
        [f"FaCe {t}" for t in a.targets] + ["FaCe mean"]
    rows = []
    for v in VARIANTS:
        label = f"**{v.label} (default)**" if v.is_default else v.label
        rows.append([label] + [fmt(a.f_tau.get(v, {}).get(t, float("nan"))) for t in a.targets]
                    + [fmt(a.mean(a.f_tau, v))] + [fmt(a.s_tau.get(v, {}).get(t, float("nan"))) for t in a.targets]
                    + [fmt(a.mean(a.s_tau, v))])
    out = (f"### FaCe sensitivity ({esc(a.benchmark)})\n\nτ_w of the fairness term F (`face-cf`) and of FaCe (`face`) "
           "for each way of fitting the class Gaussians (PCA dimension, diagonal or full covariance) and each reading "
           "of Eq. (6)'s row (j≠i: the other classes, the default; j=i incl.: as printed), recomputed from the cached "
           "features. The default was fixed by a stated rule (GBC's published PCA-64, diagonal), not picked from this "
           "table.\n\n" + table(head, rows))
    if a.skipped:
        out += "\n\nLeft out: " + "; ".join(f"{esc(t)}: {esc(msg)}" for t, msg in a.skipped.items())
    return out


def metrics_section(board: Leaderboard) -> str:
    if not board.cards:
        return ""
    parts = ["## Metrics", "What each metric on this board computes, with the parameters it was scored with, the "
             "source of its formula, the reference code it is compared with, and each way it departs from them."]
    for card in board.cards:
        lines = [f"**`{esc(card.name)}`** — {esc(card.summary)}"] + [f"- {esc(line)}" for line in card.lines()]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def render_markdown(board: Leaderboard) -> str:
    sections = [header(board), ranking(board), significance_section(board)]
    sections += [benchmark_section(b) for b in board.benchmarks]
    if board.ablations:
        sections += ["## Ablation: FaCe's fairness term"] + [ablation_section(a) for a in board.ablations]
    sections += [s for s in (metrics_section(board),) if s]
    return "\n\n".join(sections) + "\n"


# -- ground-truth reliability and metric significance ----------------------------------------
def unreliable_note(b: BenchmarkData) -> str:
    return (f"† measured against a ground truth whose reliability is below {b.reliability_threshold:.2f} or "
            "not measurable (see *Ground-truth reliability*): read it with care.")


def reliability_section(b: BenchmarkData) -> str:
    """Per target and ground truth: split-half reliability, test-set reliability, noise ceiling, flag."""
    rows = []
    for t in b.targets:
        for truth in t.truths:
            r = b.reliability.get((t.target, truth))
            if r is None:
                continue
            flag = flag_text(r, b.reliability_threshold)
            rows.append([esc(t.target), esc(truth), str(r.n_models), str(r.n_seeds), str(r.n_test or MISSING),
                         f"{fmt(r.seeds_tau_w)} ({fmt(r.seeds_kendall)})", split_range(r),
                         f"{fmt(r.test_tau_w)} ({fmt(r.test_kendall)})",
                         f"{fmt(r.both_tau_w)} ({fmt(r.both_kendall)})",
                         f"{fmt(r.ceiling_tau_w)} ({fmt(r.ceiling_kendall)})", flag])
    head = ["Target", "Truth", "Models", "Seeds", "Test samples", "Reliability: seed halves τ_w (τ)",
            "τ_w over the splits: lowest–highest", "test resamples τ_w (τ)", "seed + test halves τ_w (τ)", "Noise ceiling τ_w (τ)", "Flag"]
    note = ("Reliability: mean agreement of the models' ground-truth ranking between two independent halves of "
            "the seeds (the flag is on it), and its lowest and highest value over the splits (they share seeds: "
            "a range of how far one replication pair can differ from another, not a confidence interval); "
            "with stored test predictions also between independent bootstrap "
            "resamples of the test set, and between seed halves evaluated on disjoint halves of the test set. "
            "Noise ceiling: the τ_w a perfect metric would expect against this ground truth (a Gaussian noise "
            "model calibrated on the reliability; `facebench.reliability`). A metric's τ_w near the ceiling is as "
            "good as this ground truth can show.")
    notes = "".join(f"\n- {esc(n)}" for n in b.trust_notes)
    return "**Ground-truth reliability**\n\n" + table(head, rows) + "\n\n" + note + notes


def comparison_table(c) -> str:
    rows = [[str(i + 1), esc(m), fmt(c.mean_tau_w[m]), c.letters[m]] for i, m in enumerate(c.metrics)]
    out = table(["#", "Metric", "Mean τ_w", "Group"], rows)
    pairs = [[esc(p.a), esc(p.b), fmt(p.delta), fmt_interval(p.low, p.high), fmt(p.p_adjusted, 3),
              "yes" if p.significant else "no"] for p in c.pairs]
    if pairs:
        out += "\n\n" + details(
            "Pairwise Δ mean τ_w", table(["Metric", "vs", "Δ", f"{c.level:.0%} interval", f"p ({c.correction})",
                                          "Differs"], pairs))
    return out


def significance_section(board: Leaderboard) -> str:
    """Groups of metrics that cannot be told apart, overall and per benchmark."""
    if board.significance is None:
        return ""
    c = board.significance
    parts = ["## Which metrics can be told apart?",
             f"Paired bootstrap ({c.n_boot} resamples of the models, the seeds and, where stored, the test samples "
             f"of every target) of the difference in mean τ_w between every two metrics; p-values "
             f"{'Holm-adjusted' if c.correction == 'holm' else 'not adjusted'}, {c.level:.0%} level. Metrics that "
             "share a group letter cannot be told apart (the bars of a critical-difference diagram).",
             f"**All benchmarks** ({c.n_targets} targets)\n\n" + comparison_table(c)]
    for b in board.benchmarks:
        if b.significance is not None:
            parts.append(f"**{esc(b.benchmark)}** ({b.significance.n_targets} targets)\n\n"
                         + comparison_table(b.significance))
    return "\n\n".join(parts)
