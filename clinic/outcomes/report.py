"""A snapshot read for people: table rows, the durability curve as an SVG, and the CSV.

Only reads the snapshot's JSON (already suppressed by ``clinic.care.outcomes``); formats what it
finds and never recomputes a figure.
"""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pygal
from pygal.style import Style

from clinic.care.outcomes import AE_KINDS, FEWER, SEVERITIES, SUPPRESSED, TIMEPOINTS

ROUTE_LABELS = {
    "iv_ketamine": "IV ketamine",
    "im_ketamine": "IM ketamine",
    "subcutaneous_ketamine": "Subcutaneous ketamine",
    "oral_ketamine": "Oral ketamine",
    "intranasal_esketamine": "Esketamine nasal spray",
}
BAND_LABELS = {"18-39": "Aged 18–39", "40-59": "Aged 40–59", "60+": "Aged 60 and over"}
KIND_LABELS = {
    "dissociation": "Dissociation",
    "raised_blood_pressure": "Raised blood pressure",
    "raised_heart_rate": "Raised heart rate",
    "nausea_vomiting": "Nausea or vomiting",
    "dizziness": "Dizziness",
    "sedation": "Sedation",
    "perceptual_changes": "Perceptual changes",
    "headache": "Headache",
    "anxiety": "Anxiety",
    "respiratory": "Breathing",
    "bladder": "Bladder",
    "other": "Other",
}


def count(value: Any) -> str:
    """A count as shown: the number, or why it is hidden."""
    if value == FEWER:
        return "fewer than 11"
    if value == SUPPRESSED or value is None:
        return "hidden"
    return f"{value:,}" if isinstance(value, int) else str(value)


def percent(value: Any) -> str:
    if not isinstance(value, int | float):
        return "hidden"
    return f"{100 * value:.0f}%"


def interval(value: Any) -> str:
    if not isinstance(value, list) or not all(isinstance(x, int | float) for x in value):
        return "hidden"
    low, high = value
    return f"{100 * low:.0f}–{100 * high:.0f}%"


def weeks(value: Any) -> str:
    if isinstance(value, int):
        return f"{value} weeks"
    if value == SUPPRESSED:
        return "hidden"
    return str(value)


def weeks_interval(value: Any) -> str:
    if isinstance(value, list):
        return f"{weeks(value[0])} to {weeks(value[1])}"
    return weeks(value)


def per_100(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, int | float) else "hidden"


@dataclass(frozen=True)
class TimepointRow:
    label: str
    eligible: str
    with_data: str
    missing: str
    missing_share: str
    assessable: str
    response: str
    response_ci: str
    remission: str
    remission_ci: str


@dataclass(frozen=True)
class SafetyRow:
    label: str
    events: str
    patients: str
    per_100_sessions: str
    indent: bool = False


@dataclass(frozen=True)
class Stratum:
    key: str
    label: str
    withheld: bool
    patients: str
    started: str
    timepoints: list[TimepointRow]
    durability: dict[str, Any]
    curve_svg: str  # a data: URI, or "" when the curve is hidden
    curve_points: list[dict[str, Any]]
    safety: list[SafetyRow]
    sessions: str


def timepoint_rows(block: dict[str, Any]) -> list[TimepointRow]:
    rows = []
    for tp in TIMEPOINTS:
        o = block["outcomes"][tp.key]
        # Nobody due yet (or nobody to count): nothing is hidden, there is nothing to show.
        nobody_due, nobody_counted = o["eligible"] == 0, o["assessable"] == 0
        rows.append(
            TimepointRow(
                label=o["label"],
                eligible=count(o["eligible"]),
                with_data=count(o["with_data"]),
                missing=count(o["missing"]),
                missing_share="—" if nobody_due else percent(o["missing_share"]),
                assessable=count(o["assessable"]),
                response="—" if nobody_counted else percent(o["response"]["rate"]),
                response_ci="—" if nobody_counted else interval(o["response"]["ci95"]),
                remission="—" if nobody_counted else percent(o["remission"]["rate"]),
                remission_ci="—" if nobody_counted else interval(o["remission"]["ci95"]),
            )
        )
    return rows


def safety_rows(block: dict[str, Any]) -> list[SafetyRow]:
    s = block["safety"]
    ae = s["adverse_events"]

    def row(label: str, item: dict[str, Any], *, indent: bool = False) -> SafetyRow:
        return SafetyRow(
            label,
            count(item["events"]),
            count(item["patients"]),
            per_100(item.get("per_100_sessions")),
            indent,
        )

    rows = [row("All adverse events", ae["all"])]
    rows += [row(KIND_LABELS[k], ae["by_kind"][k]["all"], indent=True) for k in AE_KINDS]
    rows += [row(f"{sv.capitalize()} (any kind)", ae["by_severity"][sv], indent=True) for sv in SEVERITIES]
    rows.append(row("Serious adverse events", ae["serious"]))
    rows.append(row("Sessions held for blood pressure", s["held_for_blood_pressure"]))
    rows.append(row("Doses outside the protocol range", s["dose_outside_protocol_range"]))
    acute = s["acute_screens"]
    rows.append(
        SafetyRow("Acute screens during a course", count(acute["events"]), count(acute["patients"]), "—")
    )
    return rows


_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#cbd2d9",
    colors=("#1d4e89", "#7b8794", "#7b8794"),
    font_family="system-ui, sans-serif",
    label_font_size=14,
    major_label_font_size=14,
    legend_font_size=14,
    title_font_size=16,
)


def _steps(points: list[tuple[float, float | None]]) -> list[tuple[float, float | None]]:
    """A step function through the curve's reads: flat until the next read, then down."""
    stepped: list[tuple[float, float | None]] = []
    for i, (x, y) in enumerate(points):
        if i:
            stepped.append((x, points[i - 1][1]))
        stepped.append((x, y))
    return stepped


def curve_svg(curve: list[dict[str, Any]]) -> str:
    """The Kaplan-Meier curve as a server-rendered SVG (pygal), as a ``data:`` URI for an ``img``:
    no script runs and the page's content security policy stays as it is."""
    chart = pygal.XY(
        js=[],
        style=_STYLE,
        width=720,
        height=340,
        explicit_size=True,
        show_dots=False,
        range=(0, 1),
        include_x_axis=True,
        legend_at_bottom=True,
        x_title="Weeks since first response",
        y_title="Still responding",
        value_formatter=lambda y: f"{100 * y:.0f}%",
        disable_xml_declaration=True,
    )
    chart.add("Estimate", _steps([(p["week"], p["survival"]) for p in curve]), stroke_style={"width": 3})
    chart.add(
        "95% interval", _steps([(p["week"], p["lower"]) for p in curve]), stroke_style={"dasharray": "6, 4"}
    )
    chart.add(None, _steps([(p["week"], p["upper"]) for p in curve]), stroke_style={"dasharray": "6, 4"})
    svg = chart.render(is_unicode=True)
    # Nothing of the machine or the day it was drawn, and no script, even one that cannot run.
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r"<script.*?</script>", "", svg, flags=re.S)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def stratum(key: str, label: str, block: dict[str, Any]) -> Stratum:
    d = block["durability"]
    curve = d.get("curve")
    points = curve if isinstance(curve, list) else []
    return Stratum(
        key=key,
        label=label,
        withheld=block["withheld"],
        patients=count(block["cohort"]["patients"]),
        started=count(block["cohort"]["started"]),
        timepoints=timepoint_rows(block),
        durability={
            "responders": count(d["responders"]),
            "relapsed": count(d["relapsed"]),
            "censored": count(d["censored"]),
            "median": weeks(d.get("median_weeks")),
            "median_ci": weeks_interval(d.get("median_ci95_weeks")),
        },
        curve_svg=curve_svg(points) if len(points) > 1 else "",
        curve_points=[
            {
                "week": p["week"],
                "survival": percent(p["survival"]),
                "interval": interval([p["lower"], p["upper"]]) if p["lower"] is not None else "—",
            }
            for p in points
        ],
        safety=safety_rows(block),
        sessions=count(block["safety"]["sessions"]),
    )


def strata(data: dict[str, Any]) -> list[Stratum]:
    """Overall, then every route, then every age band, as the snapshot lists them."""
    found = [stratum("overall", "All patients", data["overall"])]
    found += [stratum(f"route-{k}", ROUTE_LABELS.get(k, k), b) for k, b in data["by_route"].items()]
    found += [stratum(f"age-{k}", BAND_LABELS.get(k, k), b) for k, b in data["by_age_band"].items()]
    return found


def csv_rows(data: dict[str, Any]) -> Iterator[list[str]]:
    """Every published figure, one per line: group, section, measure, figure, value (as shown)."""
    yield ["group", "section", "measure", "figure", "value"]
    groups = [("overall", data["overall"])]
    groups += [(f"route:{k}", b) for k, b in data["by_route"].items()]
    groups += [(f"age_band:{k}", b) for k, b in data["by_age_band"].items()]
    for name, block in groups:
        for section in ("cohort", "outcomes", "durability", "safety"):
            for path, value in _leaves(block[section]):
                if path and path[-1] == "label":
                    continue
                yield [name, section, ".".join(path[:-1]), path[-1] if path else "", _plain(value)]


def _leaves(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, str(k)))
    elif isinstance(node, list) and node and isinstance(node[0], dict):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, str(i)))
    else:
        yield path, node


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return " to ".join(_plain(v) for v in value)
    return "" if value is None else str(value)


def to_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in csv_rows(data):
        writer.writerow(row)
    return out.getvalue()
