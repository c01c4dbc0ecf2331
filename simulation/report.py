"""docs/simulation.md from a comparison's metrics.json (and the speed figures, if any).

Run: .venv/bin/python -m tidal.simulation.report docs/simulation/metrics.json > docs/simulation.md
(`scripts/simulation-report` runs the simulation first, then this.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tidal.simulation.compare import TABLE_HEADER, table_rows
from tidal.simulation.customers import BILLING_SHARE, PROFILES
from tidal.simulation.staffing import BILLING_AGENT_SHARE, BREAKS, COHORTS, SHIFT_HOURS

COMMAND = "scripts/simulation-report"


def render(
    report: dict[str, Any], speed: dict[str, Any] | None, high: dict[str, Any] | None = None
) -> str:
    c = report["comparison"]
    policies = report["policies"]
    base, cand = c["baseline"], c["candidate"]
    plain = next(name for name in policies if name not in (base, cand))
    lines = [
        "# Simulation: FIFO against the adaptive response timer",
        "",
        "A seeded contact-center day run through Tidal's real engine (manual clock) and real",
        "classifier (every message is real text, classified as in production). Regenerate",
        "this page, its figures and plots with one command:",
        "",
        f"    {COMMAND}",
        "",
        f"which runs `tidal simulate --seed {report['seed']} --conversations "
        f"{report['conversations']} --agents {report['agents']} --compare {base},{cand} "
        "--out docs/simulation` and renders this page from `docs/simulation/metrics.json`.",
        "",
        "## Results",
        "",
        f"Seed {report['seed']}: {report['conversations']:,} conversations, "
        f"{report['agents']} agents ({policies[base]['agent_hours']:,.0f} agent-hours on shift, "
        f"breaks excluded). `{plain}` is `{cand}` without the inactive state, run for the "
        "resolved-per-agent-hour ratio.",
        "",
        _markdown_table(TABLE_HEADER, table_rows(policies)),
        "",
        "The command ends with this line:",
        "",
        "    " + json.dumps({k: v for k, v in c.items() if k not in ("baseline", "candidate")}),
        "",
        "### Against the targets",
        "",
        _markdown_table(["target", "figure", "met"], _targets(c)),
        "",
        _discussion(report, base, cand, plain),
        "",
        "![Wait distributions by customer kind and policy](simulation/waits.png)",
        "",
        "![Agent load against preferred, and queue length, over the day]"
        "(simulation/load_and_queue.png)",
        "",
        _other_figures(policies, base, cand, plain),
        "",
        _high_occupancy(high),
        "",
        _performance(speed),
        "",
        _assumptions(),
    ]
    return "\n".join(lines) + "\n"


def _targets(c: dict[str, Any]) -> list[list[str]]:
    def row(
        name: str, value: float | None, at_most: float | None, at_least: float | None
    ) -> list[str]:
        ok = value is not None and (
            (at_most is None or value <= at_most) and (at_least is None or value >= at_least)
        )
        return [name, "-" if value is None else f"{value:.3f}", "yes" if ok else "**no**"]

    return [
        row(
            "engaged median wait, adaptive / FIFO ≤ 0.5", c["engaged_median_wait_ratio"], 0.5, None
        ),
        row("worst kind's p95 wait, adaptive / FIFO ≤ 1.1", c["p95_wait_ratio"], 1.1, None),
        row(
            "resolved per agent-hour, with / without inactive ≥ 1.3",
            c["resolved_per_agent_hour_ratio"],
            None,
            1.3,
        ),
        row("agent load at saturation / preferred ≥ 0.95", c["utilization"], None, 0.95),
    ]


def _discussion(report: dict[str, Any], base: str, cand: str, plain: str) -> str:
    p = report["policies"]
    w_base = p[base]["wait_seconds"]["engaged"]
    w_cand = p[cand]["wait_seconds"]["engaged"]
    c = report["comparison"]
    parts = ["### Reading the figures", ""]
    if c["engaged_median_wait_ratio"] is not None and c["engaged_median_wait_ratio"] > 0.5:
        choice = p[cand]["picks_with_a_choice"]
        writing = p[cand]["agent_time_writing"]
        parts += [
            f"**Engaged median wait: missed.** The engaged customers' median wait is "
            f"{w_cand['median']:.0f} s under `{cand}` and {w_base['median']:.0f} s under "
            f"`{base}`. A wait runs from the customer's message to the agent's reply, and "
            "most of it is the agent reading and writing that reply (about 45 s here). "
            "Ordering only matters when an agent finishing a reply has more than one "
            f"conversation awaiting it: that was the case for {choice:.0%} of the replies. "
            f"Agents spent {writing:.0%} of their time on shift reading and writing: with "
            "three conversations each, slots run out long before agents' time does (slow "
            "customers hold the slots while the agent waits), so conversations queue but "
            "agents rarely face a choice. New conversations all start at the default pace "
            "(2 minutes), so the queue itself is first come, first served under both "
            "policies until a customer's pace is known. What would change the figure: more "
            "contention at the agent (higher concurrency, see the high-occupancy run below; "
            "slower replies), or counting the wait only until the agent starts on the reply "
            f"(measured too: engaged median {_pickup(p, cand)} under `{cand}` against "
            f"{_pickup(p, base)} under `{base}`"
            + (
                ": most messages found their agent idle"
                if p[cand]["wait_until_pickup_seconds"]["engaged"]["median"] == 0
                else ""
            )
            + "). A wait cannot drop below the time it takes "
            "to write the reply, which bounds what any ordering can gain. The model was not "
            "changed to get there.",
            "",
        ]
    parts += [
        f"**No starvation.** The worst kind's p95 ratio is {c['p95_wait_ratio']}: a slow "
        "customer's `respond_by` is at most `target_max` (15 minutes) after its wait began, "
        "so deadline order cannot push it back indefinitely.",
        "",
        f"**Inactive state.** Without it (`{plain}`), a quiet conversation keeps its agent's "
        "slot: customers who go dark for an hour, answer in long breaks, or never answer the "
        "offer of more help hold capacity until they come back or the agent closes the "
        "conversation by hand after an hour of quiet (30 minutes of slot time more than "
        "the inactivity timeout, for every quiet conversation). When slots are what runs "
        "out, that lost slot time is lost throughput and the queue grows through the day. "
        f"Resolved per agent-hour: {p[cand]['resolved_per_agent_hour']:.2f} with, "
        f"{p[plain]['resolved_per_agent_hour']:.2f} without (ratio "
        f"{c['resolved_per_agent_hour_ratio']}).",
        "",
        f"**Load at saturation.** While conversations were queued, available agents held "
        f"{c['utilization']:.3f}× their preferred load on average (returning customers may take "
        "an agent above preferred, up to its maximum).",
    ]
    return "\n".join(parts)


def _pickup(policies: dict[str, Any], name: str) -> str:
    median = policies[name]["wait_until_pickup_seconds"]["engaged"]["median"]
    return "-" if median is None else f"{median:.1f} s"


def _other_figures(policies: dict[str, Any], base: str, cand: str, plain: str) -> str:
    rows = []
    for name, m in policies.items():
        rows.append(
            [
                name,
                f"{m['resolved']:,}",
                str(m["queue_max"]),
                f"{m['saturated_share_of_day']:.2f}",
                f"{m['agent_time_writing']:.0%}",
                f"{m['picks_with_a_choice']:.0%}",
                str(m["questions_ignored_by_workflow"]),
                ", ".join(f"{k} {v}" for k, v in m["closed_by"].items()),
            ]
        )
    return "\n".join(
        [
            "### More figures",
            "",
            _markdown_table(
                [
                    "policy",
                    "resolved",
                    "max queue",
                    "share of the day with a queue",
                    "agents' time writing",
                    "replies with a choice",
                    "questions the workflow ignored",
                    "closed by",
                ],
                rows,
            ),
            "",
            '"Questions the workflow ignored" are customer follow-ups the classifier took for '
            "an acknowledgement or a thanks, which the workflow ignores: some are misread "
            'requests ("Alright. Please reserve this car for me."), some are SGD selections '
            'that do read as an acknowledgement ("That sounds good to me."). No agent is '
            "prompted and the customer, who expected an answer, waits in silence until the "
            "conversation is paused or closed, unresolved. That is what the misclassification "
            "would do in production, kept in the simulation on purpose, and the same under "
            "every policy.",
        ]
    )


def _high_occupancy(report: dict[str, Any] | None) -> str:
    parts = ["## Higher concurrency, higher occupancy", ""]
    if report is None:
        parts.append(f"Not run yet: run `{COMMAND}`.")
        return "\n".join(parts)
    c = report["comparison"]
    policies = report["policies"]
    cand = policies[c["candidate"]]
    parts += [
        f"The same seed with {report['agents']} agents for {report['conversations']:,} "
        f"conversations and agents allowed more conversations at once (`{c['baseline']}` "
        f"against `{c['candidate']}`): agents spend {cand['agent_time_writing']:.0%} of their "
        f"time writing and {cand['picks_with_a_choice']:.0%} of replies are a choice "
        "between conversations, so ordering has more to decide (engaged median until an "
        f"agent starts on the reply: {_pickup(policies, c['candidate'])} against "
        f"{_pickup(policies, c['baseline'])}):",
        "",
        _markdown_table(TABLE_HEADER, table_rows(policies)),
        "",
        "    " + json.dumps({k: v for k, v in c.items() if k not in ("baseline", "candidate")}),
        "",
        "![Waits at higher concurrency](simulation/high-occupancy/waits.png)",
    ]
    return "\n".join(parts)


def _performance(speed: dict[str, Any] | None) -> str:
    parts = ["## Speed", ""]
    if speed is None:
        parts.append("Not measured yet: run `.venv/bin/python -m bench.simulate_speed`.")
        return "\n".join(parts)
    parts += [
        "Measured with `.venv/bin/python -m bench.simulate_speed` on the 2-core machine the "
        "project runs on (shared with other jobs, so figures move between runs), one policy "
        f"(`adaptive`) per day. The classifier first classified every pool text once "
        f"({speed.get('texts', 0):,} texts in {speed.get('warm_classifier_seconds', 0):.1f} s); "
        "the days reuse those results, as `tidal simulate` does through its cache. The "
        "100-agent day is badly understaffed for 20,000 conversations (most customers wait "
        "in the queue all day), hence its fewer messages.",
        "",
        _markdown_table(
            ["day", "conversations", "agents", "engine messages", "wall seconds"],
            [
                [
                    d["name"],
                    f"{d['conversations']:,}",
                    str(d["agents"]),
                    f"{d['messages']:,}",
                    f"{d['seconds']:.1f}",
                ]
                for d in speed["days"]
            ],
        ),
    ]
    return "\n".join(parts)


def _assumptions() -> str:
    kinds = [
        [
            kind.value,
            f"{profile.share:.0%}",
            f"{profile.questions[0]}–{profile.questions[1]}",
            f"{profile.delay_median:.0f} s",
            ", ".join(f"{e.value} {share:.0%}" for e, share in profile.endings.items()),
        ]
        for kind, profile in PROFILES.items()
    ]
    cohorts = ", ".join(f"{start:05.2f} h ({share:.0%})" for start, share in COHORTS)
    breaks = ", ".join(f"{length * 60:.0f} min at +{at:.0f} h" for at, length in BREAKS)
    return "\n".join(
        [
            "## The model and its assumptions",
            "",
            "**Text.** Customer and agent turns are real: SGD train-split turns "
            "(`simulation/data/`, CC BY-SA 4.0) and Tidal's own contact-center examples "
            "(`training/data`). Openings are first turns and Tidal's request examples; "
            "follow-ups are later SGD customer turns; agents answer with SGD system turns, "
            "offer more help and close with SGD and Tidal phrasings. The classifier decides "
            "what each means; the simulation never passes a label.",
            "",
            "**Customers** (reply delays log-normal around the median):",
            "",
            _markdown_table(["kind", "share", "questions", "median reply delay", "endings"], kinds),
            "",
            "Intermittent customers' delays spread widely (σ 0.9), so a few exceed the "
            "30-minute inactivity timeout. A customer who goes dark disappears for 45–90 "
            "minutes after one of the agent's answers, half of them saying so first "
            '("brb", "give me an hour"). A returning customer is silent after the offer '
            "of more help, then asks something new 1–4 hours later. Arrivals follow an "
            "hourly curve from 07:00 to 21:00 with late-morning and afternoon peaks. "
            f"{BILLING_SHARE:.0%} of conversations need the `billing` skill.",
            "",
            f"**Agents.** Shifts of {SHIFT_HOURS} h in four cohorts starting at {cohorts}, "
            f"each start spread over a quarter hour; breaks ({breaks}) as `away`; "
            f"{BILLING_AGENT_SHARE:.0%} have `billing`. An agent writes one reply at a time: it "
            "takes the top conversation awaiting it in the engine's worklist order, reads the "
            "customer's unread words (230 words a minute), looks up and thinks (log-normal, "
            "median 20 s) and types the reply (40 words a minute), all scaled by a personal "
            "speed factor between 0.8 and 1.25. Breaks and shift ends wait for the reply in "
            "hand. An agent closes a conversation it holds by hand once it has waited on the "
            "customer for an hour with nothing said on either side, under every policy alike "
            "(with the inactive state such a conversation was usually paused at 30 minutes "
            "and is off the agent's list by then); a customer who comes back later reopens "
            "it, sticky within the 24-hour reopen window.",
            "",
            "**Policies** are configuration only (`simulation/policies.py`): `fifo` gives "
            "everyone the same target (`target_min` = `target_max` = `hold_grace` = 5m), so "
            "`respond_by` is the start of the wait plus 5 minutes and every ordering is by "
            "waiting time; `adaptive` is `rules/routing.yaml` as shipped; `-no-inactive` sets "
            "`inactivity_timeout` beyond the day and turns the workflow rule "
            "`pause-when-customer-away` into `ignore`; `-P-M` sets preferred and maximum "
            "concurrency.",
            "",
            "**Measures.** A wait runs from a customer message that the engine set to await "
            "the agent, to the agent's next message in that conversation; waits still open at "
            "midnight count with the time waited so far. Resolved: every question of the "
            "customer (a returning customer's new one included) answered by an offer of more "
            "help, per agent-hour on shift (breaks excluded). Load at saturation: the mean, "
            "over five-minute samples with a non-empty queue, of available agents' load "
            "divided by their preferred concurrency. Reactivations to the same agent: "
            "returning conversations (reactivated or reopened) whose next assignment went to "
            "their last agent.",
        ]
    )


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tidal.simulation.report METRICS_JSON", file=sys.stderr)
        return 2
    path = Path(argv[0])
    report = json.loads(path.read_text(encoding="utf-8"))
    if "comparison" not in report:
        print(f"{path}: not a comparison (run tidal simulate --compare)", file=sys.stderr)
        return 2
    speed_path = path.with_name("speed.json")
    speed = json.loads(speed_path.read_text(encoding="utf-8")) if speed_path.is_file() else None
    high_path = path.parent / "high-occupancy" / "metrics.json"
    high = json.loads(high_path.read_text(encoding="utf-8")) if high_path.is_file() else None
    sys.stdout.write(render(report, speed, high))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
