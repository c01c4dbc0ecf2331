"""The classifier helper process (`tidal.service.classifier.process`), with real processes.

It classifies like the service; a helper that dies, answers garbage or stops
answering is replaced by in-process classification with every message answered and
stored, and by a new helper after a pause; a helper that loaded other files than the
service is not used; a reload starts a new one for the new rules; the service leaves no
helper behind when it stops.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from tests.service.conftest import (
    MODELS_DIR,
    RULES_DIR,
    Api,
    LiveServer,
    helper_processes,
    issue_tokens,
    manual_settings,
)
from tidal.engine.core.intents import Classification, Direction
from tidal.service.classifier import process as classifier_process
from tidal.service.classifier.process import ClassifierProcess
from tidal.service.http.app import TidalApp, create_app
from tidal.service.metrics import Metrics
from tidal.service.persistence import schema
from tidal.service.running.rules import ActiveRules, CachedClassifier, load_active_rules
from tidal.service.running.services import Services
from tidal.service.views import classification_view

pytestmark = pytest.mark.timeout(300)

SAMPLE: list[tuple[Direction, str]] = [
    ("inbound", "thanks!"),
    ("inbound", "ok"),
    ("inbound", "No, that's all, thanks!"),
    ("inbound", "no thanks"),
    ("inbound", "STOP"),
    ("inbound", "this is urgent"),
    ("inbound", "someone used my card without asking"),
    ("inbound", "can I talk to a real person please"),
    ("inbound", "in a meeting, will text you later"),
    ("inbound", "where is my parcel? order 1234"),
    ("inbound", "I was charged twice for invoice 88, can you check"),
    ("inbound", "hello"),
    ("inbound", "yes please"),
    ("inbound", "bye, have a nice day"),
    ("inbound", "mon colis n'est pas arrivé 📦 — où est-il ?"),
    ("inbound", "my package says delivered but it is not here " * 40),
    ("inbound", "!!!"),
    ("outbound", "Is there anything else I can help you with?"),
    ("outbound", "One moment while I check that for you."),
    ("outbound", "Thanks for contacting us, have a great day!"),
    ("outbound", "Hi, this is Dana, how can I help?"),
    ("outbound", "I have refunded the duplicate charge on 7."),
    ("outbound", "Let me look into order 12 for you."),
    ("outbound", "Anything else? Have a great day!"),
]


@pytest.fixture(scope="module")
def shipped_rules() -> ActiveRules:
    return load_active_rules(RULES_DIR, MODELS_DIR, generation=1)


def _in_process(rules: ActiveRules, direction: Direction, text: str) -> Classification:
    classifier = rules.classifier
    assert isinstance(classifier, CachedClassifier)
    return classifier.classifier.classify(text, direction)


def test_the_helper_classifies_like_the_service_in_both_directions(
    shipped_rules: ActiveRules,
) -> None:
    async def ask() -> tuple[list[Classification | None], list[Classification | None]]:
        metrics = Metrics()
        helper = await ClassifierProcess.start(shipped_rules, metrics)
        assert helper is not None
        try:
            one_by_one = [await helper.classify(text, d) for d, text in SAMPLE]
            # asked together: they travel in one frame
            together = await asyncio.gather(*(helper.classify(text, d) for d, text in SAMPLE))
        finally:
            await helper.close()
        assert metrics.classifier_process_texts._value.get() == 2 * len(SAMPLE)
        return one_by_one, list(together)

    one_by_one, together = asyncio.run(ask())
    expected = [_in_process(shipped_rules, d, text) for d, text in SAMPLE]
    assert one_by_one == expected
    assert together == expected
    assert {c.source for c in expected} >= {"rule", "model"}  # both kinds were compared
    assert helper_processes(os.getpid()) == []


# -- in the service ----------------------------------------------------------------------


def _serve(
    tmp_path: Path, rules: ActiveRules, restart_seconds: float = 3600.0
) -> tuple[FastAPI, Api]:
    """The app with a classifier process for `rules` (not started), and how to call it.

    A failed helper is replaced only after `restart_seconds`: by default not within a
    test, so that tests see the in-process fallback."""
    settings = manual_settings(
        tmp_path,
        rules_dir=rules.rules_dir,
        models_dir=rules.models_dir,
        classifier_process=True,
        classifier_restart_seconds=restart_seconds,
    )
    app = create_app(settings, rules=rules)
    return app, Api(httpx.Client(), settings.db_url, issue_tokens(settings.db_url))


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """A copy of the shipped rules that the test may edit."""
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    return target


@contextmanager
def _running(app: FastAPI, api: Api) -> Iterator[tuple[Api, Services]]:
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        yield Api(client, api.db_url, api.tokens), app.state.services


def _metric(api: Api, name: str) -> float:
    for line in api.client.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


def _stored_ids(db_url: str) -> set[str]:
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        ids = {r.message_id for r in conn.execute(sa.select(schema.messages.c.message_id))}
    engine.dispose()
    return ids


def _body(i: int) -> dict[str, Any]:
    # a text of its own per message: the cache in front of the helper never answers
    direction, text = SAMPLE[i % len(SAMPLE)]
    body = {
        "message_id": f"m-{i}",
        "conversation_id": f"c-{i % 17}",
        "direction": direction,
        "text": f"{text} #{i}",
    }
    if direction == "outbound":
        body["agent_id"] = "a-1"
    return body


def test_a_killed_helper_leaves_every_message_answered_and_stored(
    tmp_path: Path, shipped_rules: ActiveRules
) -> None:
    app, unstarted = _serve(tmp_path, shipped_rules)
    # the helper is killed once `kill_after` messages are answered, with the next ones
    # in flight; the last ones wait for the kill, so some are surely classified after it
    total, kill_after, in_flight = 400, 60, 40
    answers: dict[str, dict[str, Any]] = {}
    statuses: list[int] = []
    lock = threading.Lock()
    killed = threading.Event()
    with _running(app, unstarted) as (api, services):
        api.put_agent("a-1", max_concurrency=1000, preferred_concurrency=1000).raise_for_status()
        helper = services.classifier_process
        assert helper is not None and helper_processes(os.getpid()) == [helper.pid]

        def send(worker: int) -> None:
            with httpx.Client(base_url=str(api.client.base_url), timeout=60) as client:
                for i in range(worker, total, 8):
                    if i >= kill_after + in_flight:
                        killed.wait()
                    body = _body(i)
                    response = client.post(
                        "/v1/messages", json=body, headers=api.headers("service")
                    )
                    with lock:
                        statuses.append(response.status_code)
                        if response.status_code == 200:
                            answers[body["message_id"]] = response.json()

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(send, worker) for worker in range(8)]
            while len(statuses) < kill_after and not any(f.done() for f in futures):
                threading.Event().wait(0.005)
            os.kill(helper.pid, signal.SIGKILL)  # mid-traffic: texts are in flight
            killed.set()
            for future in futures:
                future.result()

        assert statuses.count(200) == total, set(statuses)
        assert not helper.alive and services.classifier_process is helper
        assert _metric(api, "tidal_classifier_process_up") == 0
        assert _metric(api, "tidal_classifier_process_failures_total") == 1
        answered_by_helper = _metric(api, "tidal_classifier_process_texts_total")
        assert kill_after <= answered_by_helper < total
        # posted again: the first answer, marked duplicate
        for i in (0, kill_after, total - 1):
            again = api.client.post("/v1/messages", json=_body(i), headers=api.headers("service"))
            assert again.json() == {**answers[f"m-{i}"], "duplicate": True}
    assert _stored_ids(api.db_url) == {f"m-{i}" for i in range(total)}
    for i in range(total):
        direction, text = _body(i)["direction"], _body(i)["text"]
        expected = classification_view(_in_process(shipped_rules, direction, text))
        assert answers[f"m-{i}"]["classification"] == expected, i
    assert helper_processes(os.getpid()) == []


def test_a_failed_helper_is_replaced_after_a_pause(
    tmp_path: Path, shipped_rules: ActiveRules
) -> None:
    app, unstarted = _serve(tmp_path, shipped_rules, restart_seconds=0.2)
    with _running(app, unstarted) as (api, services):
        first = services.classifier_process
        assert first is not None
        os.kill(first.pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while (services.classifier_process is first or services.classifier_process is None
               or not services.classifier_process.alive):  # fmt: skip
            assert time.monotonic() < deadline, "no new classifier process"
            threading.Event().wait(0.05)
        second = services.classifier_process
        assert second.pid != first.pid and not first.alive
        assert helper_processes(os.getpid()) == [second.pid]
        assert _metric(api, "tidal_classifier_process_failures_total") == 1
        assert _metric(api, "tidal_classifier_process_starts_total") == 2
        assert _metric(api, "tidal_classifier_process_up") == 1
        asked = _metric(api, "tidal_classifier_process_texts_total")
        answer = api.message("m-1", "c-1", "where is my parcel? order 9")
        assert answer.json()["classification"] == classification_view(
            _in_process(shipped_rules, "inbound", "where is my parcel? order 9")
        )
        assert _metric(api, "tidal_classifier_process_texts_total") == asked + 1
    assert helper_processes(os.getpid()) == []


def test_no_helper_is_started_once_a_stop_was_asked_for(
    tmp_path: Path, shipped_rules: ActiveRules
) -> None:
    app, unstarted = _serve(tmp_path, shipped_rules, restart_seconds=0.2)
    assert isinstance(app, TidalApp)
    with _running(app, unstarted) as (_api, services):
        first = services.classifier_process
        assert first is not None
        app.begin_stopping()  # what a SIGTERM does first (service.stopping_server)
        os.kill(first.pid, signal.SIGKILL)
        # a replacement would be running well within this time (see the test above)
        threading.Event().wait(3.0)
        assert services.classifier_process is first and not first.alive
        assert helper_processes(os.getpid()) == []


def test_classify_only_requests_are_answered_by_the_helper(
    tmp_path: Path, shipped_rules: ActiveRules
) -> None:
    app, unstarted = _serve(tmp_path, shipped_rules)
    with _running(app, unstarted) as (api, services):
        for number, (direction, text) in enumerate(SAMPLE[:6] + SAMPLE[-3:], start=1):
            answer = api.client.post(
                "/v1/classify",
                json={"text": f"{text} ({number})", "direction": direction},
                headers=api.headers("service"),
            )
            assert answer.status_code == 200, answer.text
            expected = _in_process(shipped_rules, direction, f"{text} ({number})")
            assert answer.json() == classification_view(expected)
            assert _metric(api, "tidal_classifier_process_texts_total") == number
        # the helper gone, the engine thread answers the same
        helper = services.classifier_process
        assert helper is not None
        os.kill(helper.pid, signal.SIGKILL)
        while helper.alive:
            threading.Event().wait(0.01)
        direction, text = SAMPLE[0]
        answer = api.client.post(
            "/v1/classify", json={"text": text, "direction": direction},
            headers=api.headers("service"),
        )  # fmt: skip
        assert answer.json() == classification_view(_in_process(shipped_rules, direction, text))


def test_a_helper_that_loaded_other_files_is_not_used(tmp_path: Path, rules_dir: Path) -> None:
    rules = load_active_rules(rules_dir, MODELS_DIR, generation=1)
    # changed after the service loaded them, before its helper does
    routing = rules_dir / "routing.yaml"
    routing.write_text(routing.read_text() + "\n# edited\n")
    app, unstarted = _serve(tmp_path, rules)
    with _running(app, unstarted) as (api, services):
        assert services.classifier_process is None
        assert helper_processes(os.getpid()) == []
        answer = api.message("m-1", "c-1", "where is my parcel? order 5")
        assert answer.status_code == 200
        assert answer.json()["classification"] == classification_view(
            _in_process(rules, "inbound", "where is my parcel? order 5")
        )
        assert _metric(api, "tidal_classifier_process_up") == 0
        assert _metric(api, "tidal_classifier_process_texts_total") == 0


ZEBRA_RULE = """rules:
  - id: test-zebra
    direction: inbound
    intent: urgent
    scope: anywhere
    description: A rule only this test knows.
    phrases:
      - zebra crossing
"""


def test_a_reload_starts_a_helper_for_the_new_rules(tmp_path: Path, rules_dir: Path) -> None:
    text = "the zebra crossing near order 77 is blocked"
    app, unstarted = _serve(tmp_path, load_active_rules(rules_dir, MODELS_DIR, generation=1))
    with _running(app, unstarted) as (api, services):
        first = services.classifier_process
        assert first is not None and first.generation == 1
        before = api.message("m-1", "c-1", text).json()["classification"]
        assert before["rule_id"] != "test-zebra"

        inbound = rules_dir / "intents" / "inbound.yaml"
        inbound.write_text(inbound.read_text().replace("rules:\n", ZEBRA_RULE, 1))
        reloaded = api.client.post("/v1/admin/rules/reload", headers=api.headers("admin"))
        assert reloaded.status_code == 200, reloaded.text
        assert reloaded.json()["generation"] == 2

        second = services.classifier_process
        assert second is not None and second is not first
        assert second.generation == 2 and second.alive and not first.alive
        assert helper_processes(os.getpid()) == [second.pid]
        asked = _metric(api, "tidal_classifier_process_texts_total")
        after = api.message("m-2", "c-2", text).json()["classification"]
        assert (after["intent"], after["rule_id"]) == ("urgent", "test-zebra")
        # the new helper classified it (the cache of the new generation started empty)
        assert _metric(api, "tidal_classifier_process_texts_total") == asked + 1
        assert _metric(api, "tidal_classifier_process_up") == 1
    assert helper_processes(os.getpid()) == []


def test_an_answer_for_rules_swapped_meanwhile_is_made_again_in_process(
    tmp_path: Path, rules_dir: Path
) -> None:
    text = "the zebra crossing near order 78 is blocked"
    app, unstarted = _serve(tmp_path, load_active_rules(rules_dir, MODELS_DIR, generation=1))
    with _running(app, unstarted) as (api, services), ThreadPoolExecutor(2) as pool:
        first = services.classifier_process
        assert first is not None
        os.kill(first.pid, signal.SIGSTOP)  # it holds the message's text unanswered
        try:
            posted = pool.submit(api.message, "m-1", "c-1", text)
            while first.waiting == 0:
                threading.Event().wait(0.005)
            inbound = rules_dir / "intents" / "inbound.yaml"
            inbound.write_text(inbound.read_text().replace("rules:\n", ZEBRA_RULE, 1))
            reloaded = pool.submit(
                api.client.post, "/v1/admin/rules/reload", headers=api.headers("admin")
            )
            while services.rules.generation == 1:  # swapped; the old helper is closing
                threading.Event().wait(0.005)
        finally:
            os.kill(first.pid, signal.SIGCONT)  # it answers for the old rules, then ends
        assert reloaded.result().status_code == 200
        answer = posted.result().json()["classification"]
        assert _metric(api, "tidal_classifier_process_texts_total") == 1  # the old one's
    assert (answer["intent"], answer["rule_id"]) == ("urgent", "test-zebra")


def test_the_service_leaves_no_helper_when_it_stops(
    tmp_path: Path, shipped_rules: ActiveRules
) -> None:
    app, unstarted = _serve(tmp_path, shipped_rules)
    with _running(app, unstarted) as (api, services):
        helper = services.classifier_process
        assert helper is not None and helper_processes(os.getpid()) == [helper.pid]
        assert api.message("m-1", "c-1", "where is my parcel?").status_code == 200
    assert helper_processes(os.getpid()) == []
    assert not Path(f"/proc/{helper.pid}").exists()  # ended and reaped


# -- a helper that misbehaves ------------------------------------------------------------

#: reads one request, then answers it with `ANSWER` (a Python bytes literal) and waits
#: for its stdin to close
MISBEHAVING = """
import struct, sys
(length,) = struct.unpack(">I", sys.stdin.buffer.read(4))
sys.stdin.buffer.read(length)
answer = {answer}
if answer is not None:
    sys.stdout.buffer.write(struct.pack(">I", len(answer)) + answer)
    sys.stdout.buffer.flush()
sys.stdin.buffer.read()
"""


async def _ask_misbehaving(answer: bytes | None) -> tuple[list[Classification | None], int]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        MISBEHAVING.format(answer=repr(answer)),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    metrics = Metrics()
    helper = ClassifierProcess(1, process, metrics)
    answers = await asyncio.gather(
        helper.classify("ok", "inbound"), helper.classify("no", "inbound")
    )
    later = await helper.classify("thanks", "inbound")  # not even sent
    assert not helper.alive
    assert metrics.classifier_process_failures._value.get() == 1
    await helper.close()
    assert process.returncode is not None
    return [*answers, later], process.returncode


@pytest.mark.parametrize(
    "answer",
    [
        b'[["other", "high", "model", null, null, [], 0.1], null]',  # a confidence in words
        b'[["other", 0.9, "model", null, null, [], 0.1]]',  # one answer for two texts
        b'{"fingerprint": "again"}',
        b"[[",
    ],
    ids=["wrong-type", "too-few", "not-a-list", "not-json"],
)
def test_a_helper_answering_garbage_is_killed_and_not_asked_again(answer: bytes) -> None:
    answers, returncode = asyncio.run(_ask_misbehaving(answer))
    assert answers == [None, None, None]  # each classified in-process by the caller
    assert returncode == -signal.SIGKILL


def test_a_helper_that_stops_answering_is_given_up_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classifier_process, "STALL_SECONDS", 0.2)
    answers, returncode = asyncio.run(_ask_misbehaving(None))
    assert answers == [None, None, None]
    assert returncode == -signal.SIGKILL
