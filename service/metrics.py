"""Prometheus metrics of one service instance (its own registry, so apps don't share).

Request counts and latencies, decisions by action and reason, queue length, agent
loads, timer lag, the size and duration of group commits, the classifier helper
process, and the memory that recognises duplicate messages.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tidal.engine.core.model import Agent, Conversation, State
from tidal.service.persistence.handled_messages import HandledMessages
from tidal.service.persistence.store import CommitBatch

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class _HandledMessagesCollector(Collector):
    """Reads the duplicate-detection memory at scrape time (plain int reads)."""

    def __init__(self, memory: HandledMessages) -> None:
        self._memory = memory

    def collect(self) -> Iterable[Metric]:
        memory = self._memory
        yield GaugeMetricFamily(
            "tidal_message_outcomes_in_memory",
            "Message outcomes kept in memory (not yet durable, or among the latest)",
            value=memory.outcomes_in_memory,
        )
        yield GaugeMetricFamily(
            "tidal_message_id_filter_bytes",
            "Size of the Bloom filter of every handled message id",
            value=memory.filter_bytes,
        )
        yield CounterMetricFamily(
            "tidal_message_id_database_reads",
            "Message ids the filter may have seen, looked up in the database",
            value=memory.database_reads,
        )
        yield CounterMetricFamily(
            "tidal_message_id_false_positives",
            "Database look-ups of message ids that turned out new (filter false positives)",
            value=memory.false_positives,
        )


class Metrics:
    """Every metric the service exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "tidal_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "tidal_http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.decisions = Counter(
            "tidal_decisions",
            "Message decisions by action and reason",
            ["action", "reason"],
            registry=r,
        )
        self.routings = Counter(
            "tidal_routings", "Routing outcomes of messages by reason", ["reason"], registry=r
        )
        self.queue_length = Gauge(
            "tidal_queue_length", "Conversations waiting in the queue", registry=r
        )
        self.agent_load = Gauge(
            "tidal_agent_load", "Assigned conversations per agent", ["agent_id"], registry=r
        )
        self.agent_preferred = Gauge(
            "tidal_agent_preferred_concurrency",
            "Preferred concurrency per agent",
            ["agent_id"],
            registry=r,
        )
        self.agent_max = Gauge(
            "tidal_agent_max_concurrency", "Maximum load per agent", ["agent_id"], registry=r
        )
        self.timer_lag = Histogram(
            "tidal_timer_lag_seconds",
            "How late timers fired after their deadline",
            buckets=(0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 600),
            registry=r,
        )
        self.commit_batch = Histogram(
            "tidal_commit_batch_requests",
            "Engine calls committed per transaction",
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.commit_rows = Histogram(
            "tidal_commit_batch_messages",
            "Messages committed per transaction",
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.commit_seconds = Histogram(
            "tidal_commit_seconds",
            "Duration of one group commit (including fsync)",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.classify_seconds = Histogram(
            "tidal_classify_seconds",
            "Classification time per message",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.writer = Gauge(
            "tidal_writer",
            "1 while this service writes the database (0: a standby, or stopping)",
            registry=r,
        )
        self.classifier_process_up = Gauge(
            "tidal_classifier_process_up",
            "1 while a classifier helper process serves the active rules",
            registry=r,
        )
        self.classifier_process_texts = Counter(
            "tidal_classifier_process_texts",
            "Texts classified by the classifier helper process",
            registry=r,
        )
        self.classifier_process_failures = Counter(
            "tidal_classifier_process_failures",
            "Classifier helper processes given up on (died, stuck or answered garbage)",
            registry=r,
        )
        self.classifier_process_starts = Counter(
            "tidal_classifier_process_starts",
            "Classifier helper processes started and ready (first start, reloads, restarts)",
            registry=r,
        )
        self.sse_streams = Gauge("tidal_sse_streams", "Open event streams", registry=r)
        self._queued: set[str] = set()
        self._lock = threading.Lock()

    def watch_handled_messages(self, memory: HandledMessages) -> None:
        """Export the duplicate-detection memory of the engine's store."""
        self.registry.register(_HandledMessagesCollector(memory))

    def track(self, conversations: Iterable[Conversation], agents: Iterable[Agent]) -> None:
        """Follow the queue and agent loads from snapshots (restore and every commit)."""
        with self._lock:
            for c in conversations:
                if c.state == State.QUEUED:
                    self._queued.add(c.id)
                else:
                    self._queued.discard(c.id)
            self.queue_length.set(len(self._queued))
        for a in agents:
            self.agent_load.labels(a.id).set(a.load)
            self.agent_preferred.labels(a.id).set(a.preferred_concurrency)
            self.agent_max.labels(a.id).set(a.max_concurrency)

    def observe_commit(self, *, group_size: int, batch: CommitBatch) -> None:
        self.commit_batch.observe(group_size)
        self.commit_rows.observe(len(batch.messages))
        # counted per batch: a labelled child costs a lookup and a lock per increment
        decisions: dict[tuple[str, str], int] = {}
        routings: dict[str, int] = {}
        for outcome, _response in batch.messages:
            decision = (outcome.decision.action.value, outcome.decision.reason or "")
            decisions[decision] = decisions.get(decision, 0) + 1
            routings[outcome.routing.reason] = routings.get(outcome.routing.reason, 0) + 1
        for (action, reason), count in decisions.items():
            self.decisions.labels(action, reason).inc(count)
        for routing, count in routings.items():
            self.routings.labels(routing).inc(count)
        self.track(batch.conversations.values(), batch.agents.values())

    def render(self) -> bytes:
        return generate_latest(self.registry)
