"""What a simulation shows a person: the policy-vs-FIFO table in the terminal (Rich) and a
self-contained HTML page with inline SVG charts (no scripts, no fonts or styles fetched), in
Spanish or English."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from circulo.i18n import say, t
from circulo.routing.erlang import Prediction
from circulo.routing.simulator import Comparison, RunResult, Segment, Tally, segments_of

POLICY_COLOUR = "#0b6bcb"
FIFO_COLOUR = "#d9822b"


def number(value: float | None, lang: str, digits: int = 1) -> str:
    """``85.7`` in English, ``85,7`` in Spanish; a dash when there is nothing to show."""
    if value is None:
        return "–"
    text = f"{value:,.{digits}f}"
    if lang == "es":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def segment_label(segment: Segment, lang: str) -> str:
    dimension, value = segment
    name = t(f"sim.dim.{dimension}", lang)
    return name if dimension == "all" else f"{name}: {value}"


def _rows(comparison: Comparison) -> list[tuple[Segment, Tally, Tally]]:
    return [(s, comparison.policy.tally(*s), comparison.fifo.tally(*s))
            for s in segments_of(comparison.scenario)]


def _threshold(comparison: Comparison) -> tuple[float, float]:
    """The service-level threshold and target most calls are held to (the first queue's)."""
    queue = comparison.scenario.routing.queues[comparison.scenario.reasons[0].queue]
    return queue.sl_seconds, queue.sl_target


def _styled(policy: float | None, fifo: float | None, lang: str, higher_is_better: bool
            ) -> str:
    text = number(policy, lang)
    if policy is None or fifo is None or abs(policy - fifo) < 0.05:
        return text
    better = policy > fifo if higher_is_better else policy < fifo
    return f"[green]{text}[/green]" if better else f"[yellow]{text}[/yellow]"


# -- terminal ------------------------------------------------------------------------------

def print_comparison(console: Console, comparison: Comparison, lang: str,
                     reference: Prediction | None = None) -> None:
    scenario = comparison.scenario
    console.print(say("sim.title", lang, name=scenario.name), style="bold")
    console.print(say("sim.run", lang, days=comparison.days, seed=comparison.seed,
                      calls=number(comparison.policy.calls, lang, 0)))
    policy, fifo = t("sim.policy", lang), t("sim.fifo", lang)
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False,
                  collapse_padding=True)
    table.add_column(t("sim.segment", lang), no_wrap=True)
    table.add_column(t("sim.offered", lang), justify="right", no_wrap=True)
    for short in ("sim.sl_short", "sim.asa_short", "sim.abandon_short"):
        table.add_column(f"{t(short, lang)}\n{policy}", justify="right", no_wrap=True)
        table.add_column(f"{t(short, lang)}\n{fifo}", justify="right", no_wrap=True)
    for segment, mine, base in _rows(comparison):
        table.add_row(
            segment_label(segment, lang), number(mine.offered, lang, 0),
            _styled(mine.service_level, base.service_level, lang, True),
            number(base.service_level, lang),
            _styled(mine.asa, base.asa, lang, False), number(base.asa, lang),
            _styled(mine.abandon_rate, base.abandon_rate, lang, False),
            number(base.abandon_rate, lang),
            end_section=segment[0] == "all",
        )
    console.print(table)
    seconds, _ = _threshold(comparison)
    console.print(say("sim.sl_note", lang, threshold=f"{number(seconds, lang, 0)} s"))
    console.print(say("sim.occupancy", lang,
                      policy=_percent(comparison.policy.occupancy(), lang),
                      fifo=_percent(comparison.fifo.occupancy(), lang)))
    if reference is not None:
        console.print(erlang_line(reference, lang))
    elapsed = comparison.policy.seconds + comparison.fifo.seconds
    if elapsed > 0:
        rate = (comparison.policy.calls + comparison.fifo.calls) / elapsed
        console.print(say("sim.speed", lang, rate=number(rate, lang, 0)), style="dim")


def erlang_line(reference: Prediction, lang: str) -> str:
    return say("sim.erlang", lang, agents=reference.agents,
               load=number(reference.load, lang),
               sl=_percent(100 * reference.service_level, lang),
               asa=f"{number(reference.asa, lang)} s",
               wait=_percent(100 * reference.wait_probability, lang))


def _percent(value: float | None, lang: str, digits: int = 1) -> str:
    text = number(value, lang, digits)
    return f"{text} %" if lang == "es" else f"{text}%"


# -- HTML ------------------------------------------------------------------------------------

def write_html(path: Path, comparison: Comparison, lang: str,
               reference: Prediction | None = None) -> None:
    path.write_text(render_html(comparison, lang, reference), encoding="utf-8")


def render_html(comparison: Comparison, lang: str, reference: Prediction | None = None) -> str:
    scenario = comparison.scenario
    esc = html.escape
    seconds, target = _threshold(comparison)
    rows = _rows(comparison)
    labels = [segment_label(s, lang) for s, _, _ in rows]
    charts = [
        _bars(f"{t('sim.sl', lang)} (%)", labels,
              [(m.service_level, b.service_level) for _, m, b in rows], lang,
              limit=100.0, target=target),
        _bars(f"{t('sim.asa', lang)} (s)", labels, [(m.asa, b.asa) for _, m, b in rows], lang),
        _bars(f"{t('sim.abandon', lang)} (%)", labels,
              [(m.abandon_rate, b.abandon_rate) for _, m, b in rows], lang),
        _by_interval(comparison, lang, target),
    ]
    extra = f"<p>{esc(erlang_line(reference, lang))}</p>" if reference else ""
    policy, fifo = esc(t("sim.policy", lang)), esc(t("sim.fifo", lang))
    head = "".join(f"<th>{esc(t(k, lang))} {who}</th>" for k in
                   ("sim.sl_short", "sim.asa_short", "sim.abandon_short")
                   for who in (policy, fifo))
    body = "".join(
        f"<tr><td>{esc(label)}</td><td>{number(m.offered, lang, 0)}</td>"
        + "".join(f"<td>{number(v, lang)}</td>" for v in
                  (m.service_level, b.service_level, m.asa, b.asa, m.abandon_rate,
                   b.abandon_rate))
        + "</tr>"
        for label, (_, m, b) in zip(labels, rows, strict=True))
    return f"""<!doctype html>
<html lang="{esc(lang)}"><head><meta charset="utf-8">
<title>{esc(say("sim.title", lang, name=scenario.name))}</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d2430;
max-width:900px}}
h1{{font-size:1.4rem}} h2{{font-size:1.05rem;margin:1.6rem 0 .4rem}}
table{{border-collapse:collapse;font-size:.88rem}}
th,td{{padding:.25rem .6rem;border-bottom:1px solid #e3e6eb;text-align:right}}
th:first-child,td:first-child{{text-align:left}}
.legend span{{display:inline-block;width:.9rem;height:.9rem;margin:0 .3rem 0 1rem;
vertical-align:middle}}
svg text{{font-size:12px;fill:#1d2430}}
</style></head><body>
<h1>{esc(say("sim.title", lang, name=scenario.name))}</h1>
<p>{esc(say("sim.run", lang, days=comparison.days, seed=comparison.seed,
            calls=number(comparison.policy.calls, lang, 0)))}</p>
<p>{esc(say("sim.occupancy", lang, policy=_percent(comparison.policy.occupancy(), lang),
            fifo=_percent(comparison.fifo.occupancy(), lang)))}</p>
{extra}
<p class="legend"><span style="background:{POLICY_COLOUR}"></span>{policy}
<span style="background:{FIFO_COLOUR}"></span>{fifo}</p>
{"".join(charts)}
<h2>{esc(t("sim.segment", lang))}</h2>
<table><tr><th>{esc(t("sim.segment", lang))}</th><th>{esc(t("sim.offered", lang))}</th>{head}</tr>
{body}</table>
<p>{esc(say("sim.sl_note", lang, threshold=f"{number(seconds, lang, 0)} s"))}</p>
</body></html>
"""


def _bars(title: str, labels: Sequence[str], values: Sequence[tuple[float | None, float | None]],
          lang: str, limit: float | None = None, target: float | None = None) -> str:
    """Horizontal bars, policy above FIFO, one pair per segment."""
    width, left, right, row = 860, 190, 60, 34
    top = 8
    height = top + row * len(labels) + 24
    scale_max = limit or max((v for pair in values for v in pair if v is not None),
                             default=1.0) or 1.0
    span = width - left - right

    def x(value: float) -> float:
        return left + span * min(value, scale_max) / scale_max

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{html.escape(title)}">']
    for i, (label, pair) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        parts.append(f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">'
                     f'{html.escape(label)}</text>')
        for j, (value, colour) in enumerate(zip(pair, (POLICY_COLOUR, FIFO_COLOUR),
                                                strict=True)):
            if value is None:
                continue
            bar_y = y + 3 + j * 13
            parts.append(f'<rect x="{left}" y="{bar_y}" width="{x(value) - left:.1f}" '
                         f'height="12" fill="{colour}"/>')
            parts.append(f'<text x="{x(value) + 4:.1f}" y="{bar_y + 10}">'
                         f'{number(value, lang)}</text>')
    axis_y = top + row * len(labels)
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{axis_y}" stroke="#8a93a3"/>')
    if target is not None:
        parts.append(f'<line x1="{x(target):.1f}" y1="{top}" x2="{x(target):.1f}" '
                     f'y2="{axis_y}" stroke="#c0392b" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{x(target):.1f}" y="{axis_y + 16}" text-anchor="middle">'
                     f'{html.escape(say("sim.target", lang, target=_percent(target, lang, 0)))}'
                     '</text>')
    parts.append("</svg>")
    return f"<h2>{html.escape(title)}</h2>" + "".join(parts)


def _by_interval(comparison: Comparison, lang: str, target: float) -> str:
    """Service level across the day for both runs, over the calls offered (light bars)."""
    scenario = comparison.scenario
    count = len(scenario.calls_per_hour)
    width, height, left, right, top, bottom = 860, 310, 48, 20, 12, 50
    span_x, span_y = width - left - right, height - top - bottom
    step = span_x / count
    offered = [tally.offered for tally in comparison.policy.intervals]
    most = max(offered, default=0) or 1

    def y(value: float) -> float:
        return top + span_y * (1 - value / 100)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{html.escape(t("sim.interval_sl", lang))}">']
    for i, calls in enumerate(offered):
        bar = span_y * calls / most
        parts.append(f'<rect x="{left + i * step + 1:.1f}" y="{top + span_y - bar:.1f}" '
                     f'width="{max(step - 2, 1):.1f}" height="{bar:.1f}" fill="#e6e9ef"/>')
    for level in range(0, 101, 20):
        parts.append(f'<line x1="{left}" y1="{y(level):.1f}" x2="{width - right}" '
                     f'y2="{y(level):.1f}" stroke="#eef0f3"/>')
        parts.append(f'<text x="{left - 6}" y="{y(level) + 4:.1f}" text-anchor="end">'
                     f"{level}%</text>")
    caption = say("sim.calls_axis", lang, most=number(most, lang, 0))
    parts.append(f'<text x="{left}" y="{height - 8}">{html.escape(caption)}</text>')
    parts.append(f'<line x1="{left}" y1="{y(target):.1f}" x2="{width - right}" '
                 f'y2="{y(target):.1f}" stroke="#c0392b" stroke-dasharray="4 3"/>')
    every = max(1, round(count / 12))
    for i in range(0, count, every):
        parts.append(f'<text x="{left + i * step:.1f}" y="{height - bottom + 16}" '
                     f'text-anchor="middle">{scenario.clock(i * scenario.interval)}</text>')
    for result, colour in ((comparison.fifo, FIFO_COLOUR), (comparison.policy, POLICY_COLOUR)):
        parts.extend(_line(result, step, left, y, colour))
    parts.append("</svg>")
    return f"<h2>{html.escape(t('sim.interval_sl', lang))}</h2>" + "".join(parts)


def _line(result: RunResult, step: float, left: float, y: Callable[[float], float],
          colour: str) -> list[str]:
    """A polyline per stretch of intervals that answered calls (a gap where none did)."""
    stretches: list[list[str]] = [[]]
    for i, tally in enumerate(result.intervals):
        level = tally.service_level
        if level is None:
            stretches.append([])
            continue
        stretches[-1].append(f"{left + (i + 0.5) * step:.1f},{y(level):.1f}")
    return [f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
            f'stroke-width="2"/>' for points in stretches if points]
