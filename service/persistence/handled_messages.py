"""Which message ids the service has handled, in memory that does not grow with traffic.

docs/http-api.md: posting a message id again returns its first response and changes nothing, for as
long as the database holds the message. Before handling a message the engine asks its
store for the id's outcome. Keeping every outcome in memory made memory and restart time
grow with every message ever received, so the service's store keeps instead:

- the outcomes not yet known to be durable, and the most recent durable ones: a client's
  retry usually comes within seconds of the first attempt;
- a Bloom filter of every handled id: an id it has never seen, which is what nearly
  every new message is, is known to be new in a fraction of a microsecond;
- for an id the filter may have seen, the outcome read back from the database: a retry
  after hours, or one of the filter's rare false positives, which the read clears.

Only the engine thread calls these methods (the engine asks, and the runtime confirms
what each commit made durable), so nothing here needs a lock.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from rbloom import Bloom

from tidal.engine.core.model import Agent, Conversation, MessageOutcome
from tidal.engine.core.store import InMemoryStore

#: durable outcomes kept in memory for quick retries (a few kB each)
RECENT_OUTCOMES = 10_000
#: ids the first Bloom layer holds at its false-positive rate; later layers double it
FIRST_LAYER_IDS = 1_000_000
#: chance that a new message id costs one database read
FALSE_POSITIVE_RATE = 0.001


class SeenIds:
    """A Bloom filter that grows: when a layer holds its planned number of ids, a new
    layer twice as large takes the next ones (a scalable Bloom filter), so the
    false-positive rate stays near its target however many ids arrive."""

    def __init__(
        self, first_layer: int = FIRST_LAYER_IDS, false_positive_rate: float = FALSE_POSITIVE_RATE
    ) -> None:
        if first_layer < 1:
            raise ValueError("first_layer must be at least 1")
        self._rate = false_positive_rate
        self._layers: list[Bloom] = []
        self._capacity = 0
        self._in_last = 0
        self._add_layer(first_layer)

    def _add_layer(self, capacity: int) -> None:
        # each layer at half the previous one's rate keeps the sum of rates bounded
        rate = self._rate / 2 ** len(self._layers)
        self._layers.append(Bloom(capacity, rate))
        self._capacity, self._in_last = capacity, 0

    def add(self, message_id: str) -> None:
        if self._in_last >= self._capacity:
            self._add_layer(2 * self._capacity)
        self._layers[-1].add(message_id)
        self._in_last += 1

    def __contains__(self, message_id: object) -> bool:
        # a plain loop: asked once per message, and a generator costs more than the test
        for layer in self._layers:  # noqa: SIM110
            if message_id in layer:
                return True
        return False

    @property
    def layers(self) -> int:
        return len(self._layers)

    @property
    def size_in_bytes(self) -> int:
        return sum(layer.size_in_bits for layer in self._layers) // 8


class HandledMessages(InMemoryStore):
    """The engine's store in the service: conversations and agents in memory, message
    outcomes as the module docstring says.

    `read_outcome` reads one message's outcome from the database (None if absent).
    """

    def __init__(
        self,
        read_outcome: Callable[[str], MessageOutcome | None],
        *,
        recent: int = RECENT_OUTCOMES,
        expected_ids: int = 0,
    ) -> None:
        super().__init__()
        if recent < 0:
            raise ValueError("recent must not be negative")
        self._read_outcome = read_outcome
        self._recent_limit = recent
        self._unconfirmed: dict[str, MessageOutcome] = {}
        self._recent: OrderedDict[str, MessageOutcome] = OrderedDict()
        self._seen = SeenIds(max(FIRST_LAYER_IDS, 2 * expected_ids))
        #: ids the filter had seen that were looked up in the database, and how many of
        #: those the database did not hold (false positives)
        self.database_reads = 0
        self.false_positives = 0

    def get_outcome(self, message_id: str) -> MessageOutcome | None:
        found = self._unconfirmed.get(message_id) or self._recent.get(message_id)
        if found is not None or message_id not in self._seen:
            return found
        self.database_reads += 1
        found = self._read_outcome(message_id)
        if found is None:
            self.false_positives += 1
        return found

    def put_outcome(self, outcome: MessageOutcome) -> None:
        """A new outcome; it stays in memory at least until `confirm` says it is durable."""
        message_id = outcome.message_id
        if message_id in self._unconfirmed or message_id in self._recent:
            return
        self._unconfirmed[message_id] = outcome
        self._seen.add(message_id)

    def confirm(self, message_ids: Iterable[str]) -> None:
        """These outcomes are in the database now: memory may let them go."""
        for message_id in message_ids:
            outcome = self._unconfirmed.pop(message_id, None)
            if outcome is not None:
                self._keep_recent(outcome)

    def restore(self, outcome: MessageOutcome) -> None:
        """A durable outcome from the database, recent enough to keep in memory."""
        self._seen.add(outcome.message_id)
        self._keep_recent(outcome)

    def restore_id(self, message_id: str) -> None:
        """A durable message handled before, known by its id alone."""
        self._seen.add(message_id)

    def rewind(
        self,
        conversation_ids: Iterable[str],
        agent_ids: Iterable[str],
        stored_conversations: Iterable[Conversation],
        stored_agents: Iterable[Agent],
    ) -> None:
        """Forget what a failed commit did: the named records become what the database
        holds (removed when it holds none) and outcomes not known to be durable go.

        Their ids stay in the filter; asking for one costs a database read, which
        answers for the database (where a commit that failed in flight may have landed).
        """
        for conversation_id in conversation_ids:
            self._conversations.pop(conversation_id, None)
        for agent_id in agent_ids:
            self._agents.pop(agent_id, None)
        for conversation in stored_conversations:
            self.put_conversation(conversation)
        for agent in stored_agents:
            self.put_agent(agent)
        self._unconfirmed.clear()

    def _keep_recent(self, outcome: MessageOutcome) -> None:
        self._recent[outcome.message_id] = outcome
        self._recent.move_to_end(outcome.message_id)
        while len(self._recent) > self._recent_limit:
            self._recent.popitem(last=False)

    @property
    def outcomes_in_memory(self) -> int:
        return len(self._unconfirmed) + len(self._recent)

    @property
    def filter_bytes(self) -> int:
        return self._seen.size_in_bytes
