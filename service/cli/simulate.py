"""`tidal simulate`: a seeded contact-center day on the real engine and classifier.

Runs one policy, or several on the same traffic with `--compare fifo,adaptive`, writes
`metrics.json` and PNG plots to `--out`, prints a table, and with `--compare` ends with
one JSON line of the headline ratios (candidate against baseline). Same seed, same
figures.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from tidal.service.cli.rules import MODELS_OPTION, RULES_OPTION, load_for_cli


def simulate(
    seed: Annotated[int, typer.Option(help="Seed of the traffic and all behaviour.")] = 7,
    conversations: Annotated[
        int, typer.Option(min=1, help="Conversations arriving over the day.")
    ] = 20_000,
    agents: Annotated[int, typer.Option(min=1, help="Agents on the roster.")] = 400,
    policy: Annotated[
        str, typer.Option(help="The policy for a single run (see --compare).")
    ] = "adaptive",
    compare: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated policies on the same traffic, baseline first: "
            "fifo | adaptive, optionally -no-inactive and -PREFERRED-MAX "
            "(e.g. fifo,adaptive,adaptive-2-4)."
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Directory for metrics.json and the plots.", file_okay=False)
    ] = Path("simulation-out"),
    plots: Annotated[bool, typer.Option(help="Write the PNG plots.")] = True,
    training_data: Annotated[
        Path,
        typer.Option(help="Tidal's training data (contact-center examples).", file_okay=False),
    ] = Path("training/data"),
    sgd: Annotated[
        Path | None,
        typer.Option(
            help="An sgd-workflow directory to draw from instead of the shipped extract "
            "(its train split only).",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    rules: RULES_OPTION = Path("rules"),
    models: MODELS_OPTION = Path("models"),
) -> None:
    """Simulate a contact-center day; compare routing policies on the same traffic."""
    from tidal.simulation.compare import policies_for
    from tidal.simulation.policies import UnknownPolicy

    names = [n.strip() for n in (compare or policy).split(",") if n.strip()]
    if compare is not None and len(names) < 2:
        raise typer.BadParameter(
            "give at least two policies, e.g. fifo,adaptive", param_hint="--compare"
        )
    try:
        chosen = policies_for(names)
    except UnknownPolicy as exc:
        hint = "--compare" if compare is not None else "--policy"
        raise typer.BadParameter(str(exc), param_hint=hint) from None
    results, waits = _run(seed, conversations, agents, chosen, training_data, sgd, rules, models)
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "seed": seed,
        "conversations": conversations,
        "agents": agents,
        "policies": results,
    }
    line = None
    if compare is not None:
        from tidal.simulation.compare import bench_line

        line = bench_line(results, names)
        report["comparison"] = {"baseline": names[0], "candidate": names[1], **line}
    (out / "metrics.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if plots:
        from tidal.simulation.plots import plot_over_time, plot_waits

        plot_waits(waits, out / "waits.png")
        plot_over_time(results, out / "load_and_queue.png")
    _print_table(results)
    typer.echo(f"wrote {out / 'metrics.json'}" + (" and plots" if plots else ""), err=True)
    if line is not None:
        typer.echo(json.dumps(line))


def _run(
    seed: int,
    conversations: int,
    agents: int,
    chosen: list[Any],
    training_data: Path,
    sgd: Path | None,
    rules: Path,
    models: Path,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, list[float]]]]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tidal.simulation.classifying import CachedClassifier
    from tidal.simulation.compare import run_policies
    from tidal.simulation.texts import TextsMissing, load_pools
    from tidal.simulation.traffic import generate

    rule_set, classifier = load_for_cli(rules, models)
    try:
        texts = load_pools(training_data, sgd)
    except TextsMissing as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    traffic = generate(seed, conversations, agents, texts)
    classify = CachedClassifier(classifier)
    started: dict[str, float] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} simulated hours"),
        TimeElapsedColumn(),
        console=Console(stderr=True),  # standard output stays the table and the JSON line
    ) as progress:

        def track(name: str) -> Callable[[float], None]:
            task = progress.add_task(name, total=traffic.end / 3600)
            started[name] = time.perf_counter()
            return lambda seconds: progress.advance(task, seconds / 3600)

        results, waits = run_policies(
            traffic,
            chosen,
            rule_set.engine.routing,
            rule_set.engine.workflow,
            texts,
            classify,
            track,
        )
    finished = time.perf_counter()
    names = list(started)
    for i, name in enumerate(names):
        end = started[names[i + 1]] if i + 1 < len(names) else finished
        typer.echo(f"{name}: simulated the day in {end - started[name]:.1f} s", err=True)
    return results, waits


def _print_table(results: dict[str, dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    from tidal.simulation.compare import TABLE_HEADER, table_rows

    table = Table(title="Waits for an agent reply (median / p95) and throughput by policy")
    for column in TABLE_HEADER:
        table.add_column(column, overflow="fold")
    for row in table_rows(results):
        table.add_row(*row)
    Console(width=200).print(table)
