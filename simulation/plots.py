"""PNG plots: wait distributions by customer kind and policy; load and queue over the day."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from tidal.simulation.customers import Kind


def plot_waits(waits: dict[str, dict[str, list[float]]], path: Path) -> Path:
    """Empirical distribution of waits (log scale), one panel per customer kind."""
    kinds = [k.value for k in Kind]
    fig, axes = plt.subplots(1, len(kinds), figsize=(4 * len(kinds), 3.6), sharey=True)
    for ax, kind in zip(axes, kinds, strict=True):
        for policy, by_kind in waits.items():
            values = sorted(max(v, 1.0) for v in by_kind.get(kind, []))
            if not values:
                continue
            share = [(i + 1) / len(values) for i in range(len(values))]
            ax.step(values, share, where="post", label=policy)
        ax.set_xscale("log")
        ax.set_title(kind.replace("_", " "))
        ax.set_xlabel("wait for an agent reply (s)")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("share of waits at most x")
    axes[-1].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_over_time(results: dict[str, dict[str, Any]], path: Path) -> Path:
    """Load against preferred, and queue length, every five minutes of the day."""
    fig, (load_ax, queue_ax) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    for policy, metrics in results.items():
        points = metrics["over_time"]
        hours = [int(p["t"][:2]) + int(p["t"][3:]) / 60 for p in points]
        load_ax.plot(hours, [p["load_ratio"] for p in points], label=policy)
        queue_ax.plot(hours, [p["queue"] for p in points], label=policy)
    load_ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    load_ax.set_ylabel("load / preferred\n(available agents)")
    queue_ax.set_ylabel("queued conversations")
    queue_ax.set_xlabel("hour of the day (UTC)")
    for ax in (load_ax, queue_ax):
        ax.grid(True, alpha=0.3)
    load_ax.set_xlim(6, 24)
    load_ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
