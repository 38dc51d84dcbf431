"""``leaderboard.md``: the leaderboard as GitHub-flavoured Markdown (text only, no images).

Best values are ``**bold**``, second best ``<ins>underlined</ins>`` (GitHub strips ``<u>`` but keeps
``<ins>``); details (more statistics, intervals, ground-truth spread) sit in ``<details>`` blocks.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from ..diagnostics import diagnostic
from ..evaluate.correlations import LOWER_IS_BETTER, STATISTICS
from .fmt import MISSING, STAT_LABELS, fmt, fmt_bytes, fmt_interval, fmt_ratio, fmt_seconds, is_num, marks, split_range
from .sensitivity import SensitivityTable
from .tables import BenchmarkData, Leaderboard, RankRow, decision_means
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


def marked(values: Sequence[float], suffixes: Sequence[str] | None = None, lower: bool = False) -> list[str]:
    suffixes = suffixes or [""] * len(values)
    out = []
    for v, mark, suffix in zip(values, marks(values, lower=lower), suffixes):
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


RANKING_NOTE = (
    "Per task first, then over every target. Mean τ_w: against each target's primary ground truth, averaged over "
    "targets with precision weights (a target whose τ_w the resampling shows to be noisy, with few models, few "
    "seeds or a noisy ground truth, counts less; the weights are listed under *Which metrics can be told apart?*). "
    "Letters (from the comparison, which measures each metric on the models it scored, as the tables do): two metrics that share a letter are not significantly different "
    "(step-down max-T over all pairs, 95%); bold: the metrics that share a letter with the first, the ones the data "
    "cannot tell from it. Ranked by coverage (targets with a τ_w), then mean τ_w. Regret@1 (best ground truth minus "
    "that of the metric's top pick) and the top-3 hit rate (a best model among the metric's three top-scored) are "
    "plain means over the targets, against the primary ground truth. Beats the best control: significantly better "
    "(same test) than the best data-free baseline (a metric that needs no target data, such as the model's size); "
    "a metric that does not is not shown to add anything a practitioner could not read off the zoo. The τ_w tables "
    "show, per target, the band of 95% of random rankings: a metric inside it is not shown to rank anything.")


def best_group(rows: list[RankRow]) -> set[str]:
    """The metrics that share a letter with the first-ranked one (all of them when there are no letters)."""
    if not rows:
        return set()
    top = set(rows[0].letters)
    if not top:
        return {rows[0].metric}
    return {r.metric for r in rows if top & set(r.letters)}


def ranking_cells(board: Leaderboard) -> tuple[list[str], list[list[str]], list[bool]]:
    """The Ranking's header, its rows (plain text) and which rows are in the best group."""
    tasks = board.tasks
    task_rows = {task: {r.metric: r for r in rows} for task, rows in board.by_task.items()}
    targets = [t for b in board.benchmarks for t in b.targets]
    verdicts = control_verdicts(board)
    head = (["Rank", "Metric", "Letters", "Mean τ_w", "Targets"]
            + [f"{t}: mean τ_w (rank, letters)" for t in tasks] + ["Mean regret@1", "Top-3 hit rate"]
            + (["Beats the best control"] if verdicts else []))
    best = best_group(board.overall)
    rows, bold = [], []
    for r in board.overall:
        cells = [str(r.rank), r.metric, r.letters or MISSING, fmt(r.mean_tau_w), f"{r.covered}/{r.total}"]
        for task in tasks:
            tr: RankRow | None = task_rows[task].get(r.metric)
            cells.append(f"{fmt(tr.mean_tau_w)} ({tr.rank}{', ' + tr.letters if tr.letters else ''})"
                         if tr and is_num(tr.mean_tau_w) else MISSING)
        decisions = decision_means(targets, r.metric)
        cells += [fmt(decisions["regret1"], 3), fmt(decisions["top3_hit"])]
        if verdicts:
            cells.append(verdicts.get(r.metric, MISSING))
        rows.append(cells)
        bold.append(r.metric in best and is_num(r.mean_tau_w))
    return head, rows, bold


def ranking(board: Leaderboard) -> str:
    if not board.overall:
        return "## Ranking\n\nNo scored benchmark in this store."
    head, rows, bold = ranking_cells(board)
    shown = [[esc(c) if i != 3 or not b else f"**{esc(c)}**" for i, c in enumerate(cells)]
             for cells, b in zip(rows, bold)]
    return "## Ranking\n\n" + table(head, shown) + "\n\n" + RANKING_NOTE


def stat_table(b: BenchmarkData, truth: str, stat: str, *, with_ci: bool = False) -> str:
    targets = [t for t in b.targets if truth in t.truths]
    columns = [[t.value(m, truth, stat) for m in b.metrics] for t in targets]
    columns.append([b.average(m, truth, stat) for m in b.metrics])
    incomplete = [("\\*" if not b.complete(m, truth, stat) and is_num(b.average(m, truth, stat)) else "")
                  for m in b.metrics]
    lower = stat in LOWER_IS_BETTER
    shown = [marked(col, lower=lower) for col in columns[:-1]] + [marked(columns[-1], incomplete, lower=lower)]
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
    if stat == "tau_w" and not with_ci and any(t.chance for t in targets):
        rows.append(["*random ranking: 95% band*"] + [chance_text(t) for t in targets] + [""])
    title = f"**{STAT_LABELS[stat]}** (ground truth: {truth}{', with bootstrap interval' if with_ci else ''})"
    out = title + "\n\n" + table(["Metric"] + [t.target for t in targets] + ["Avg."], rows)
    if any(incomplete):
        out += "\n\n\\* average over the targets where the metric has a value."
    if any(flagged(b, t.target, truth) for t in targets):
        out += "\n\n" + unreliable_note(b)
    return out


STABILITY_NOTE = ("τ_w recomputed on every subset of the zoo that leaves two models out (at most 200 subsets; "
                  "Agostinelli et al., ECCV 2022): its standard deviation, and lowest–highest value. A wide range means "
                  "the verdict on that target rests on single models.")


def stability_cells(b: BenchmarkData, truth: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows (plain text) of the zoo-subset stability of tau_w against ``truth``."""
    targets = [t for t in b.targets if truth in t.truths]
    rows = []
    for m in b.metrics:
        cells = [m]
        for t in targets:
            c = t.cells.get((m, truth))
            st = c.stability if c else None
            cells.append(f"{fmt(st.sd)} ({fmt(st.low)}–{fmt(st.high)})" if st and is_num(st.sd) else MISSING)
        rows.append(cells)
    return ["Metric"] + [f"{t.target}: sd (range)" for t in targets], rows


def stability_table(b: BenchmarkData, truth: str) -> str:
    head, rows = stability_cells(b, truth)
    return (f"**Stability over the zoo** (τ_w against {esc(truth)})\n\n"
            + table(head, [[esc(c) for c in r] for r in rows]) + "\n\n" + STABILITY_NOTE)


def chance_text(t) -> str:
    """The central 95% of random rankings' tau_w on a target (what a metric that knows nothing scores)."""
    c = t.chance
    return fmt_interval(c.low, c.high) if c is not None and is_num(c.low) else MISSING


def control_verdicts(board: Leaderboard) -> dict[str, str]:
    """metric -> "yes" / "no": does it beat the best data-free control significantly (overall comparison)?"""
    c = board.significance
    controls = [m for m in board.controls if c is not None and m in c.mean_tau_w]
    if not controls:
        return {}
    best = max(controls, key=lambda m: c.mean_tau_w[m])
    out = {}
    for m in c.metrics:
        if m in controls:
            out[m] = "control" + (" (best)" if m == best else "")
            continue
        pair = c.pair(m, best)
        out[m] = "yes" if pair is not None and pair.significant and pair.delta > 0 else "no"
    return out


def truth_headings(b: BenchmarkData) -> list[tuple[str, str]]:
    """(ground truth, its heading or "" when the benchmark has one) for each truth of a scored benchmark."""
    if not b.metrics:
        return []
    return [(truth, f"Ground truth: {b.truth_title(truth)}" if len(b.truths) > 1 else "") for truth in b.truths]


def truth_tables(b: BenchmarkData, truth: str, stat_table, stability_table) -> tuple[list[str], list[str]]:
    """A benchmark's tables against one ground truth, in a renderer's own format: the main statistics,
    and the details (the tau_w intervals, the other statistics, the stability over the zoo)."""
    main = [stat_table(b, truth, s) for s in MAIN_STATISTICS]
    details_ = ([stat_table(b, truth, "tau_w", with_ci=True)] + [stat_table(b, truth, s) for s in DETAIL_STATISTICS]
                + [stability_table(b, truth)])
    return main, details_


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


TRUTH_AGREEMENT_HEAD = ["Target", "Primary", "Other ground truth", "Models", "τ_w", "Kendall", "Best by primary",
                        "Best by other", "Largest rank moves (primary → other)"]
TRUTH_AGREEMENT_NOTE = (
    "How far the models' ranking by each further ground truth agrees with the primary one's (the metrics are ranked "
    "by the primary). A low τ_w means the verdict hinges on the primary's recipe or statistic: "
    "accuracy_lr_grid is the best of a learning-rate grid on a validation split (docs/statistics.md).")


def truth_agreement_rows(b: BenchmarkData) -> list[list[str]]:
    """The cells (plain text, :data:`TRUTH_AGREEMENT_HEAD` order) of :meth:`BenchmarkData.truth_agreement`."""
    return [[a.target, a.primary, a.truth, str(a.n_models), fmt(a.tau_w), fmt(a.kendall), a.best_primary,
             a.best_truth, "; ".join(f"{m} {p} → {o}" for m, p, o in a.moved) or "none"]
            for a in b.truth_agreement()]


def truth_agreement_section(b: BenchmarkData) -> str:
    rows = [[esc(c) for c in cells] for cells in truth_agreement_rows(b)]
    return "**Ground truths compared**\n\n" + table(TRUTH_AGREEMENT_HEAD, rows) + "\n\n" + TRUTH_AGREEMENT_NOTE


COST_KINDS_HEAD = ("Where the jobs ran (wall time; largest peak memory of one job; an extraction that only read its "
                   "features from the cache is not counted)")
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
        out += "\n\n" + COST_KINDS_HEAD + "\n\n" + table(
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
        *(esc(text) for text in b.about),
    ]
    if not b.metrics:
        parts.append("No metric has been scored on this benchmark yet.")
    for truth, heading in truth_headings(b):
        if heading:
            parts.append(f"### {esc(heading)}")
        main, details_ = truth_tables(b, truth, stat_table, stability_table)
        parts += main
        more = details_
        parts.append(details("Details: intervals, Spearman, Kendall, top-1, regret@1, top-3 hit rate, stability over the zoo",
                             "\n\n".join(more)))
    if b.reliability:
        parts.append(reliability_section(b))
    if b.truth_agreement():
        parts.append(truth_agreement_section(b))
    if b.truths:
        parts.append(details("Ground truth over seeds", truth_spread(b)))
    if b.metrics:
        parts.append(cost(b))
    parts += [s for s in (diagnostics_section(b), errors_section(b)) if s]
    return "\n\n".join(parts)


SENSITIVITY_NOTE = ("τ_w of each metric for every combination of the parameters it names as worth varying (or "
                    "the run config's `sensitivity:` block names), the others as scored, recomputed from the cached "
                    "features; the row of the parameters this board's scores used is marked default.")


def sensitivity_section(a: SensitivityTable) -> str:
    title = f"### `{esc(a.metric)}` on {esc(a.benchmark)}"
    if not a.targets:
        why = "; ".join(f"{t}: {msg}" for t, msg in a.skipped.items()) or "no target"
        return f"{title}\n\nNot computed: {esc(why)}."
    head = ["Parameters"] + list(a.targets) + ["mean"]
    rows = []
    for v in a.variants:
        label = f"**{esc(v.label)} (default)**" if v.default else esc(v.label)
        rows.append([label] + [fmt(a.tau.get(v, {}).get(t, float("nan"))) for t in a.targets] + [fmt(a.mean(v))])
    out = f"{title}\n\n" + table(head, rows)
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
    if board.sensitivity:
        sections += ["## Sensitivity to parameters", SENSITIVITY_NOTE] + [sensitivity_section(a) for a in board.sensitivity]
    sections += [s for s in (metrics_section(board),) if s]
    return "\n\n".join(sections) + "\n"


# -- ground-truth reliability and metric significance ----------------------------------------
def unreliable_note(b: BenchmarkData) -> str:
    return (f"† measured against a ground truth whose reliability is below {b.reliability_threshold:.2f} or "
            "not measurable (see *Ground-truth reliability*): read it with care.")


RELIABILITY_HEAD = ["Target", "Truth", "Models", "Seeds", "Test samples", "Reliability: all seeds τ_w",
                    "seed halves τ_w (τ)",
                    "τ_w over the splits: lowest–highest", "test resamples τ_w (τ)", "seed + test halves τ_w (τ)",
                    "Noise ceiling τ_w (τ)", "Flag"]
RELIABILITY_NOTE = (
    "Reliability (the flag is on it): the expected agreement (τ_w) of the models' ground-truth ranking between two "
    "independent replications of the whole ground truth with all its seeds, from a noise model calibrated on the "
    "seed halves, so that targets with different seed counts compare under one threshold. Seed halves: the mean "
    "agreement between two independent halves of the seeds, and its lowest and highest value over the splits (they "
    "share seeds: a range of how far one replication pair can differ from another, not a confidence interval); with "
    "stored test predictions also between "
    "independent bootstrap resamples of the test set, and between seed halves evaluated on disjoint halves of the "
    "test set. Noise ceiling: the τ_w a perfect metric would expect against this ground truth (a Gaussian noise "
    "model calibrated on the reliability; docs/statistics.md). A metric's τ_w near the ceiling is as good as this "
    "ground truth can show.")


def reliability_rows(b: BenchmarkData) -> list[tuple[list[str], bool]]:
    """The reliability table's cells (plain text, in :data:`RELIABILITY_HEAD` order) and whether each row is flagged."""
    rows = []
    for t in b.targets:
        for truth in t.truths:
            r = b.reliability.get((t.target, truth))
            if r is None:
                continue
            rows.append(([t.target, truth, str(r.n_models), str(r.n_seeds), str(r.n_test or MISSING),
                          fmt(r.full_tau_w), f"{fmt(r.seeds_tau_w)} ({fmt(r.seeds_kendall)})", split_range(r),
                          f"{fmt(r.test_tau_w)} ({fmt(r.test_kendall)})",
                          f"{fmt(r.both_tau_w)} ({fmt(r.both_kendall)})",
                          f"{fmt(r.ceiling_tau_w)} ({fmt(r.ceiling_kendall)})",
                          flag_text(r, b.reliability_threshold)], r.flagged(b.reliability_threshold)))
    return rows


def reliability_section(b: BenchmarkData) -> str:
    """Per target and ground truth: full-seed and split-half reliability, test-set reliability, noise ceiling, flag."""
    rows = [[esc(c) for c in cells] for cells, _ in reliability_rows(b)]
    notes = "".join(f"\n- {esc(n)}" for n in b.trust_notes)
    return "**Ground-truth reliability**\n\n" + table(RELIABILITY_HEAD, rows) + "\n\n" + RELIABILITY_NOTE + notes


CORRECTION_TEXT = {"maxt": "adjusted by the step-down max-T over all pairs (Romano-Wolf)",
                   "holm": "Holm-adjusted", "none": "not adjusted"}


def significance_note(c) -> str:
    """What the comparison did, and whether its design can reach significance at all."""
    min_p = c.extra.get("min_attainable_p", float("nan"))
    reach = ("" if not is_num(min_p) or min_p < 1 - c.level else
             f" With {c.n_boot} resamples this design cannot reach significance (smallest attainable adjusted p "
             f"{min_p:.3g}): no pair can be told apart here, whatever the data.")
    return (f"Paired bootstrap ({c.n_boot} resamples of the models, the seeds and, where stored, the test samples of "
            "every target; the targets of one zoo share their draw of models) of the difference in mean τ_w against "
            "the primary ground truth (the Ranking's quantity) "
            f"between every two metrics; p-values {CORRECTION_TEXT.get(c.correction, c.correction)}, "
            f"{c.level:.0%} level (smallest attainable adjusted p: {fmt(min_p, 4)}). Two metrics share a letter "
            "exactly when their difference is not significant (a compact letter display). The targets themselves "
            "are not resampled: a difference is established on these targets, and whether it holds on other "
            "targets is what more targets would tell." + reach)


def separated(c) -> str:
    """"k of N pairs differ"."""
    n = sum(p.significant for p in c.pairs)
    return f"{n} of {len(c.pairs)} metric pairs differ significantly"


def power_text(c) -> str:
    """For the top two metrics: separated, or about how many targets of this kind would separate them."""
    top = c.extra.get("top_two")
    if not top:
        return ""
    head = f"Top two: `{esc(top['a'])}` and `{esc(top['b'])}` (Δ {fmt(top['delta'], 3)}, se {fmt(top['se'], 3)})"
    if top["significant"]:
        return head + ": separated."
    need = top["targets_needed"]
    if top["delta"] == 0 or need == float("inf"):
        return head + ": the same τ_w on every target, no difference to separate."
    if not is_num(need):
        return head + "."
    return (head + f": about {int(need)} targets like these ({max(0, int(need) - c.n_targets)} more) would separate "
            "them at this difference and spread (80% power, normal approximation, Bonferroni over the pairs), each "
            "with a zoo of its own: targets of a zoo already here share its draw of models and shrink the spread less.")


def weights_text(c) -> str:
    """The targets' precision weights, as "target 0.12, ..." (empty with equal weights)."""
    weights = c.extra.get("weights") or {}
    if c.extra.get("weighting") != "precision" or not weights:
        return ""
    return "Target weights: " + ", ".join(f"{esc(t)} {w:.2f}" for t, w in weights.items()) + "."


def comparison_table(c) -> str:
    rows = [[str(i + 1), esc(m), fmt(c.mean_tau_w[m]), c.letters[m]] for i, m in enumerate(c.metrics)]
    out = table(["#", "Metric", "Mean τ_w", "Letters"], rows)
    if power_text(c):
        out += "\n\n" + power_text(c)
    if weights_text(c):
        out += "\n\n" + weights_text(c)
    pairs = [[esc(p.a), esc(p.b), fmt(p.delta), fmt_interval(p.low, p.high), fmt(p.p_adjusted, 3),
              "yes" if p.significant else "no"] for p in c.pairs]
    if pairs:
        out += "\n\n" + details(
            "Pairwise Δ mean τ_w", pairwise_note(c) + "\n\n" + table(pairwise_headers(c), pairs))
    return out


def pairwise_headers(c) -> list[str]:
    return ["Metric", "vs", "Δ", f"{c.level:.0%} interval (this pair alone)",
            f"p ({c.correction}, over {len(c.pairs)} pairs)", "Differs"]


def pairwise_note(c) -> str:
    """Why an interval can miss 0 while the pair does not differ: the interval is the pair's own, the
    p-value is adjusted for every comparison of the table."""
    if c.correction == "none":
        return "Each pair on its own: the interval and p-value are not adjusted for the other comparisons."
    return (f"The interval is the pair's own {c.level:.0%} percentile interval, not adjusted for the other "
            f"{len(c.pairs) - 1} comparisons; the p-value and *Differs* are (step-down {c.correction}), so a pair "
            "whose interval misses 0 can still not differ: on its own it would, among all these pairs it does not.")


def significance_section(board: Leaderboard) -> str:
    """Groups of metrics that cannot be told apart, overall and per benchmark."""
    if board.significance is None:
        return ""
    c = board.significance
    parts = ["## Which metrics can be told apart?", significance_note(c),
             f"**All benchmarks** ({c.n_targets} targets; {separated(c)})\n\n" + comparison_table(c)]
    if len(board.task_significance) > 1:
        for task, tc in board.task_significance.items():
            parts.append(f"**Task {esc(task)}** ({tc.n_targets} targets; {separated(tc)})\n\n" + comparison_table(tc))
    for b in board.benchmarks:
        if b.significance is not None:
            parts.append(f"**{esc(b.benchmark)}** ({b.significance.n_targets} targets; {separated(b.significance)})"
                         "\n\n" + comparison_table(b.significance))
    return "\n\n".join(parts)
