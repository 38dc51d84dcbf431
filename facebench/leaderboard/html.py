"""``leaderboard.html``: one self-contained static page (inline CSS, PNGs as base64 data URIs).

It opens offline from disk: no external stylesheet, script, font or image. Same content as the
Markdown, plus the figures of :mod:`.plots` (Fig. 4 scatter grids, Fig. 1 NC traces, ranking).
"""
from __future__ import annotations

import base64
from html import escape
from typing import Callable, Iterable, Sequence

from ..diagnostics import diagnostic
from ..evaluate.correlations import LOWER_IS_BETTER
from . import plots
from .fmt import MISSING, STAT_LABELS, fmt, fmt_bytes, fmt_interval, fmt_ratio, fmt_seconds, is_num, marks, split_range
from .sensitivity import SensitivityTable
from .cd_plot import cd_diagram
from .markdown import (COST_KINDS_HEAD, COST_RATIO, RANKING_NOTE, RELIABILITY_HEAD, RELIABILITY_NOTE, SENSITIVITY_NOTE,
                       STABILITY_NOTE, TRUTH_AGREEMENT_HEAD, TRUTH_AGREEMENT_NOTE, chance_text, diagnostic_names,
                       pairwise_headers, pairwise_note, power_text, ranking_cells, reliability_rows, separated,
                       significance_note, stability_cells, truth_agreement_rows, truth_headings, truth_tables,
                       weights_text)
from .tables import BenchmarkData, Leaderboard
from .trust import flag_text, flagged

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #1f2328; line-height: 1.45; }
h1 { border-bottom: 2px solid #d0d7de; padding-bottom: .3em; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: 14px; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child, table.ranking td:nth-child(2), table.ranking th:nth-child(2) { text-align: left; }
thead th { background: #f6f8fa; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 4px 0; white-space: nowrap; }
td.best { font-weight: 700; background: #dafbe1; }
td.second { text-decoration: underline; background: #f1f8ff; }
.meta { color: #59636e; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #eaeef2; }
figcaption { color: #59636e; font-size: 13px; }
pre { background: #f6f8fa; padding: 1em; overflow-x: auto; font-size: 13px; }
details { margin: .6em 0; } summary { cursor: pointer; font-weight: 600; }
td.unreliable { color: #8c959f; }
td.flag { color: #9a6700; font-weight: 600; }
"""


def img(png: bytes, alt: str, caption: str = "") -> str:
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{escape(alt)}" src="data:image/png;base64,{data}">{cap}</figure>'


def table(caption: str, header: Sequence[str], rows: Iterable[Sequence[tuple[str, str]]], cls: str = "") -> str:
    """rows: sequences of (html text, css class)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="{c}">{t}</td>' if c else f"<td>{t}</td>" for t, c in row) + "</tr>"
        for row in rows
    )
    cap = f"<caption>{caption}</caption>" if caption else ""
    return f'<table class="{cls}">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def marked_cells(values: Sequence[float], text: Callable[[int], str] | None = None,
                 lower: bool = False) -> list[tuple[str, str]]:
    out = []
    for i, (v, mark) in enumerate(zip(values, marks(values, lower=lower))):
        s = escape(text(i)) if text else (fmt(v) if is_num(v) else MISSING)
        out.append((s, mark))
    return out


def stat_table(b: BenchmarkData, truth: str, stat: str, *, with_ci: bool = False) -> str:
    targets = [t for t in b.targets if truth in t.truths]
    cols = []
    for t in targets:
        values = [t.value(m, truth, stat) for m in b.metrics]

        def text(i: int, t=t, values=values) -> str:
            c = t.cells.get((b.metrics[i], truth))
            iv = c.intervals.get(stat) if c else None
            base = fmt(values[i])
            return base + (" " + fmt_interval(iv.low, iv.high) if with_ci and iv and is_num(iv.low) else "")

        cells = marked_cells(values, text, lower=stat in LOWER_IS_BETTER)
        if flagged(b, t.target, truth):
            cells = [(txt, f"{cls} unreliable".strip()) for txt, cls in cells]
        cols.append(cells)
    if stat == "tau_w" and not with_ci and any(t.chance for t in targets):
        chance_row = [(escape("random ranking: 95% band"), "")] + [(escape(chance_text(t)), "") for t in targets] + [("", "")]
    else:
        chance_row = None
    avgs = [b.average(m, truth, stat) for m in b.metrics]
    cols.append(marked_cells(avgs, lambda i: fmt(avgs[i]) + ("*" if is_num(avgs[i]) and not b.complete(b.metrics[i], truth, stat) else ""),
                             lower=stat in LOWER_IS_BETTER))
    rows = [[(escape(m), "")] + [col[i] for col in cols] for i, m in enumerate(b.metrics)]
    if chance_row:
        rows.append(chance_row)
    caption = f"{escape(STAT_LABELS[stat])} — ground truth: {escape(truth)}" + (" (bootstrap interval)" if with_ci else "")
    out = table(caption, ["Metric"] + [t.target for t in targets] + ["Avg."], rows, "stat")
    if any(is_num(a) and not b.complete(m, truth, stat) for m, a in zip(b.metrics, avgs)):
        out += "<p class='meta'>* average over the targets where the metric has a value.</p>"
    if any(flagged(b, t.target, truth) for t in targets):
        out += (f"<p class='meta'>Greyed: measured against a ground truth whose reliability is below "
                f"{b.reliability_threshold:.2f} or not measurable (see Ground-truth reliability).</p>")
    return out


def ranking_section(board: Leaderboard, figures: bool) -> str:
    if not board.overall:
        return "<h2>Ranking</h2><p>No scored benchmark in this store.</p>"
    head, rows, bold = ranking_cells(board)
    cells = [[(escape(c), "best" if i == 3 and b else "") for i, c in enumerate(row)] for row, b in zip(rows, bold)]
    return ("<h2>Ranking</h2>" + table("", head, cells, "ranking") + f"<p class='meta'>{escape(RANKING_NOTE)}</p>"
            + (img(plots.figure_png(plots.ranking_plot, board.overall), "ranking of the metrics by mean tau_w")
               if figures else ""))


def scatter_jobs(b: BenchmarkData) -> list[tuple]:
    """The (target, truth, metrics, title) of every scatter grid of a benchmark, in the board's order."""
    return [(t, truth, b.metrics, f"{b.benchmark} · {t.target}: score vs {truth}")
            for truth in b.truths for t in b.targets if truth in t.truths]


def trace_jobs(b: BenchmarkData) -> list[tuple]:
    """The (trace, title, quantity) of every per-epoch diagnostic figure of a benchmark, in the board's order."""
    return [(t.diagnostics[name], f"{b.benchmark} · {t.target}", diagnostic(name).quantity)
            for name in diagnostic_names(b) for t in b.targets if name in t.diagnostics]


def data_figures(board: Leaderboard) -> list[plots.FigureJob]:
    """The figures that need only the board's scores (:func:`.tables.load_leaderboard`): the scatter
    grids, then the diagnostic traces (the dearest first: drawn in that order)."""
    return ([(plots.scatter_grid, job) for b in board.benchmarks for job in scatter_jobs(b)]
            + [(plots.trace_plot, job) for b in board.benchmarks for job in trace_jobs(b)])


def verdict_figures(board: Leaderboard) -> list[plots.FigureJob]:
    """The figures that need the verdict (:func:`.trust.attach_trust`): the ranking plot and the
    critical-difference diagrams."""
    jobs: list[plots.FigureJob] = [(plots.ranking_plot, (board.overall,))] if board.overall else []
    return jobs + [(cd_diagram, (c, title)) for c, title in comparisons(board) if len(c.metrics) >= 2]


def stability_html(b: BenchmarkData, truth: str) -> str:
    head, rows = stability_cells(b, truth)
    return (table(f"Stability over the zoo — τ_w against {escape(truth)}", head, [[(escape(c), "") for c in r] for r in rows],
                  "stability") + f"<p class='meta'>{escape(STABILITY_NOTE)}</p>")


def benchmark_section(b: BenchmarkData, figures: bool) -> str:
    out = [f"<h2 id='{escape(b.benchmark)}'>{escape(b.benchmark)}</h2>",
           f"<p class='meta'>Task <b>{escape(b.task)}</b> · zoo <b>{escape(b.zoo)}</b> · {len(b.models)} models · "
           f"seeds {escape(', '.join(map(str, b.seeds)) or MISSING)} · targets: "
           f"{escape(', '.join(t.target for t in b.targets))}</p>",
           *(f"<p>{escape(text)}</p>" for text in b.about)]
    if not b.metrics:
        out.append("<p>No metric has been scored on this benchmark yet.</p>")
    for truth, heading in truth_headings(b):
        if heading:
            out.append(f"<h3>{escape(heading)}</h3>")
        main, more = truth_tables(b, truth, stat_table, stability_html)
        out += main
        out.append("<details><summary>Details: intervals, Spearman, Kendall, top-1, regret@1, top-3 hit rate, stability over the zoo</summary>"
                   + "".join(more) + "</details>")
        if figures:
            for t in b.targets:
                if truth in t.truths:
                    title = f"{b.benchmark} · {t.target}: score vs {truth}"
                    png = plots.figure_png(plots.scatter_grid, t, truth, b.metrics, title)
                    out.append(img(png, f"scatter {b.benchmark} {t.target} {truth}",
                                   "Each point is a model: its zoo score (x) and mean fine-tuned result (y, bars: std over seeds)."))
    if b.reliability:
        out.append(reliability_section(b))
    if b.truth_agreement():
        rows = [[(escape(c), "") for c in cells] for cells in truth_agreement_rows(b)]
        out.append("<h3>Ground truths compared</h3>" + table("", TRUTH_AGREEMENT_HEAD, rows, "truths")
                   + f"<p class='meta'>{escape(TRUTH_AGREEMENT_NOTE)}</p>")
    if b.truths:
        out.append("<details><summary>Ground truth over seeds</summary>" + truth_spread(b) + "</details>")
    if b.metrics:
        out.append(cost(b))
    out.append(diagnostics_section(b, figures))
    notes = [f"<li><code>{escape(m)}</code> on {escape(t.target)}: {escape(msg)}</li>"
             for t in b.targets for m in b.metrics for msg in t.errors.get(m, [])]
    if notes:
        out.append("<h3>Notes from scoring</h3><ul>" + "".join(notes) + "</ul>")
    return "\n".join(out)


def truth_spread(b: BenchmarkData) -> str:
    parts = []
    for truth in b.truths:
        targets = [t for t in b.targets if truth in t.truths]
        rows = []
        for model in b.models:
            row = [(escape(model), "")]
            for t in targets:
                s = t.spread.get(truth, {}).get(model)
                if s is None or s.n == 0:
                    row.append((MISSING, ""))
                else:
                    std = f" ± {s.std:.4f}" if is_num(s.std) else ""
                    row.append((f"{s.mean:.4f}{std} [{s.low:.4f}, {s.high:.4f}] (n={s.n})", ""))
            rows.append(row)
        parts.append(table(f"{escape(truth)}: mean ± std (ddof=1) [min, max] over seeds",
                           ["Model"] + [t.target for t in targets], rows, "truth"))
    return "".join(parts)


def cost(b: BenchmarkData) -> str:
    rows = [[(escape(m), "")] + [(fmt_seconds(t.seconds.get(m, float("nan"))), "") for t in b.targets]
            + [(fmt_seconds(b.metric_seconds(m)), "")] for m in b.metrics]
    totals = [[("scoring (all metrics)", ""), (fmt_seconds(b.scoring_seconds), "")],
              [("fine-tuning", ""), (fmt_seconds(b.finetune_seconds), "")],
              [("feature extraction", ""), (fmt_seconds(b.extract_seconds), "")],
              [("pre-training", ""), (fmt_seconds(b.pretrain_seconds), "")]]
    ratios = [[(escape(m), ""), (fmt_seconds(b.extract_seconds + b.metric_seconds(m)), ""),
               (fmt_seconds(b.finetune_once_seconds), ""), (fmt_ratio(b.cost_ratio(m)), "")] for m in b.metrics]
    out = ("<h3>Cost</h3>"
           + table("Scoring time per metric (sum over models)", ["Metric"] + [t.target for t in b.targets] + ["Total"], rows, "cost")
           + table("Zoo totals", ["Job", "Time"], totals, "totals")
           + table(f"Cost ratio per metric: {COST_RATIO}",
                   ["Metric", "Extraction + metric", "Fine-tuning once", "Cost ratio"], ratios, "ratio"))
    kinds = b.cost_by_kind()
    if kinds:
        out += table(COST_KINDS_HEAD,
                     ["Job", "Jobs", "Wall time", "Device", "Peak RSS", "Peak GPU"],
                     [[(escape(k["kind"]), ""), (str(k["jobs"]), ""), (fmt_seconds(k["seconds"]), ""),
                       (escape(", ".join(k["devices"])), ""), (fmt_bytes(k["peak_rss_bytes"]), ""),
                       (fmt_bytes(k["peak_gpu_bytes"]), "")] for k in kinds], "devices")
    return out


def diagnostics_section(b: BenchmarkData, figures: bool) -> str:
    out = []
    for name in diagnostic_names(b):
        spec = diagnostic(name)
        with_trace = [(t, t.diagnostics[name]) for t in b.targets if name in t.diagnostics]
        rows = [[(escape(t.target), ""), (str(len(tr.curves)), ""), (str(tr.epochs), ""), (fmt(tr.kendall), "")]
                for t, tr in with_trace]
        figure = f" ({spec.figure})" if spec.figure else ""
        out += [f"<h3>{escape(spec.title)}{escape(figure)}</h3>",
                table(f"Kendall τ between the {escape(spec.quantity.replace(' ', '-'))} ranking at epoch 0 (pre-trained) and at the last epoch",
                      ["Target", "Models", "Epochs", "Kendall τ"], rows, "nc")]
        if figures:
            out += [img(plots.figure_png(plots.trace_plot, tr, f"{b.benchmark} · {t.target}", spec.quantity),
                        f"{name} trace {b.benchmark} {t.target}") for t, tr in with_trace]
    return "".join(out)


def sensitivity_section(a: SensitivityTable) -> str:
    title = f"<h3><code>{escape(a.metric)}</code> on {escape(a.benchmark)}</h3>"
    if not a.targets:
        why = "; ".join(f"{t}: {msg}" for t, msg in a.skipped.items()) or "no target"
        return title + f"<p class='meta'>Not computed: {escape(why)}.</p>"
    head = ["Parameters"] + list(a.targets) + ["mean"]
    rows = []
    for v in a.variants:
        rows.append([(escape(v.label + (" (default)" if v.default else "")), "best" if v.default else "")]
                    + [(fmt(a.tau.get(v, {}).get(t, float("nan"))), "") for t in a.targets] + [(fmt(a.mean(v)), "")])
    skipped = ("<p class='meta'>Left out: " + escape("; ".join(f"{t}: {m}" for t, m in a.skipped.items())) + "</p>"
               if a.skipped else "")
    return title + table("", head, rows, "sensitivity") + skipped


def metrics_section(board: Leaderboard) -> str:
    if not board.cards:
        return ""
    items = []
    for card in board.cards:
        lines = [f"<li>{escape(line)}</li>" for line in card.lines()]
        items.append(f"<h3><code>{escape(card.name)}</code></h3><p>{escape(card.summary)}</p><ul>{''.join(lines)}</ul>")
    return ("<h2 id='metrics'>Metrics</h2><p class='meta'>What each metric on this board computes, with the parameters "
            "it was scored with, the source of its formula, the reference code it is compared with, and each way it "
            "departs from them.</p>" + "".join(items))


def render_html(board: Leaderboard, *, figures: bool = True) -> str:
    config = ""
    if board.config_text.strip():
        config = f"<details><summary>Config used</summary><pre>{escape(board.config_text.strip())}</pre></details>"
    toc = "".join(f"<li><a href='#{escape(b.benchmark)}'>{escape(b.benchmark)}</a></li>" for b in board.benchmarks)
    body = [
        "<h1>facebench leaderboard</h1>",
        f"<p class='meta'>Generated {escape(board.date)} by facebench {escape(board.version)} from "
        f"<code>{escape(board.store_path)}</code>. τ_w: weighted Kendall tau (scipy.stats.weightedtau), ρ: Pearson, "
        f"of the metric scores against the models' mean fine-tuned result over seeds. <b>Bold</b>: best in the "
        f"column, <u>underlined</u>: second best (values as shown). Intervals: {board.level:.0%} percentile bootstrap "
        f"over the zoo's models ({board.n_boot} resamples, seed {board.seed}). {MISSING}: failed or undefined.</p>",
        config,
        f"<ul>{toc}</ul>" if toc else "",
    ]
    try:
        if figures:  # collected from the background (build.load started them) or drawn on every core now
            plots.draw_all(data_figures(board) + verdict_figures(board))
        body += [ranking_section(board, figures), significance_section(board, figures)]
        body += [benchmark_section(b, figures) for b in board.benchmarks]
    finally:
        plots.forget()
    if board.sensitivity:
        body += ["<h2 id='sensitivity'>Sensitivity to parameters</h2>", f"<p class='meta'>{escape(SENSITIVITY_NOTE)}</p>"] + \
            [sensitivity_section(a) for a in board.sensitivity]
    body.append(metrics_section(board))
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>facebench leaderboard</title><style>{CSS}</style></head>\n<body>\n"
            + "\n".join(p for p in body if p) + "\n</body></html>\n")



# -- ground-truth reliability and metric significance ----------------------------------------
def reliability_section(b: BenchmarkData) -> str:
    """Per target and ground truth: full-seed and split-half reliability, test-set reliability, noise ceiling, flag."""
    rows = [[(escape(c), "") for c in cells[:-1]] + [(escape(cells[-1]), "flag" if bad else "")]
            for cells, bad in reliability_rows(b)]
    notes = "".join(f"<li>{escape(n)}</li>" for n in b.trust_notes)
    return ("<h3>Ground-truth reliability</h3>" + table("", RELIABILITY_HEAD, rows, "reliability")
            + f"<p class='meta'>{escape(RELIABILITY_NOTE)}</p>" + (f"<ul class='meta'>{notes}</ul>" if notes else ""))


def comparison_block(c, title: str, figures: bool) -> str:
    rows = [[(str(i + 1), ""), (escape(m), ""), (fmt(c.mean_tau_w[m]), ""), (escape(c.letters[m]), "")]
            for i, m in enumerate(c.metrics)]
    out = [f"<h3>{escape(title)}</h3>", table(f"{c.n_targets} targets; {separated(c)}",
                                               ["#", "Metric", "Mean τ_w", "Letters"], rows, "groups")]
    if weights_text(c):
        out.append(f"<p class='meta'>{escape(weights_text(c))}</p>")
    if power_text(c):
        out.append(f"<p class='meta'>{escape(power_text(c).replace('`', ''))}</p>")
    if figures and len(c.metrics) >= 2:
        out.append(img(plots.figure_png(cd_diagram, c, title), f"critical difference diagram {title}"))
    pairs = [[(escape(p.a), ""), (escape(p.b), ""), (fmt(p.delta), ""), (fmt_interval(p.low, p.high), ""),
              (fmt(p.p_adjusted, 3), ""), ("yes" if p.significant else "no", "")] for p in c.pairs]
    if pairs:
        out.append("<details><summary>Pairwise Δ mean τ_w</summary>"
                   + f"<p class='meta'>{escape(pairwise_note(c).replace('*', ''))}</p>"
                   + table("", pairwise_headers(c), pairs, "pairs") + "</details>")
    return "".join(out)


def significance_section(board: Leaderboard, figures: bool) -> str:
    """Groups of metrics that cannot be told apart, overall and per benchmark, with CD diagrams."""
    c = board.significance
    if c is None:
        return ""
    return "".join(["<h2>Which metrics can be told apart?</h2>", f"<p class='meta'>{escape(significance_note(c))}</p>"]
                   + [comparison_block(comparison, title, figures) for comparison, title in comparisons(board)])


def comparisons(board: Leaderboard) -> list[tuple]:
    """The board's metric comparisons and their titles, in its order: overall, per task (if several), per benchmark."""
    if board.significance is None:
        return []
    out = [(board.significance, "All benchmarks")]
    if len(board.task_significance) > 1:
        out += [(tc, f"Task {task}") for task, tc in board.task_significance.items()]
    return out + [(b.significance, b.benchmark) for b in board.benchmarks if b.significance is not None]
