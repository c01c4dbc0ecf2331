// The supervisor's desk: the queue in priority order, and every agent's load and status.

import { describeChanges } from "./changes.js";
import { conversationCard, emptyNote, loadMeter } from "./components.js";
import { h, replaceChildrenKeepingFocus } from "./dom.js";
import { statusLabel } from "./format.js";

const STATUS_ORDER = { available: 0, busy: 1, away: 2, offline: 3 };

export class SupervisorView {
  /** api: Api; clock: ServerClock; announce(text): speak in the live region. */
  constructor({ api, clock, announce }) {
    this.api = api;
    this.clock = clock;
    this.announce = announce;
    this.previousIds = null;
    this.refreshSequence = 0;
  }

  get streamUrl() {
    return "/v1/events";
  }

  mount(root) {
    this.queueList = h("ol", { class: "conv-list", id: "queue" });
    this.queueCount = h("span", { class: "count" });
    this.agentRows = h("tbody", { id: "agent-rows" });
    this.agentCount = h("span", { class: "count" });
    this.summary = h("p", { class: "summary", id: "summary" });
    root.replaceChildren(
      h("section", { class: "agent-bar", "aria-label": "Overview" }, h("div", { class: "bar-item" }, h("h1", { text: "Supervisor" })), h("div", { class: "bar-item grow" }, this.summary)),
      h(
        "div",
        { class: "columns" },
        h(
          "div",
          { class: "column main-column" },
          h(
            "section",
            { class: "panel", "aria-labelledby": "heading-queue" },
            h("h2", { id: "heading-queue" }, "Queue ", this.queueCount),
            h("p", { class: "panel-note", text: "Waiting for an agent, soonest reply deadline first." }),
            this.queueList,
          ),
        ),
        h(
          "div",
          { class: "column side-column wide" },
          h(
            "section",
            { class: "panel", "aria-labelledby": "heading-agents" },
            h("h2", { id: "heading-agents" }, "Agents ", this.agentCount),
            h("p", { class: "panel-note", text: "Load against preferred concurrency (new work) and maximum (returning work)." }),
            h(
              "table",
              { class: "agents" },
              h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Agent" }), h("th", { scope: "col", text: "Status" }), h("th", { scope: "col", text: "Load" }))),
              this.agentRows,
            ),
          ),
        ),
      ),
    );
  }

  async refresh() {
    // Refreshes may overlap (an action's own and an event's): only the latest one renders.
    const sequence = ++this.refreshSequence;
    const [queueBody, agentsBody] = await Promise.all([this.api.queue(), this.api.agents()]);
    if (sequence !== this.refreshSequence) return;
    const queue = queueBody.conversations;
    const agents = [...agentsBody.agents].sort(
      (a, b) => (STATUS_ORDER[a.status] ?? 9) - (STATUS_ORDER[b.status] ?? 9) || a.id.localeCompare(b.id),
    );
    const nowMs = this.clock.now();
    this.queueCount.textContent = `(${queue.length})`;
    replaceChildrenKeepingFocus(
      this.queueList,
      queue.length ? queue.map((c) => conversationCard(c, { nowMs })) : emptyNote("The queue is empty."),
    );
    this.agentCount.textContent = `(${agents.length})`;
    replaceChildrenKeepingFocus(
      this.agentRows,
      agents.map((agent) =>
        h(
          "tr",
          { dataset: { agentId: agent.id } },
          h("th", { scope: "row", class: "agent-id" }, agent.id, agent.skills?.length ? h("span", { class: "meta" }, " ", [...agent.skills].map((s) => h("span", { class: "skill", text: s }))) : null),
          h(
            "td",
            {},
            h("span", { class: "status-badge", dataset: { status: agent.status }, text: statusLabel(agent.status) }),
            agent.blocked_for_overdue ? h("span", { class: "blocked-badge", text: "overdue reply" }) : null,
          ),
          h("td", {}, loadMeter(agent)),
        ),
      ),
    );
    const available = agents.filter((a) => a.status === "available").length;
    const load = agents.reduce((sum, a) => sum + (a.load ?? 0), 0);
    const preferred = agents.filter((a) => a.status !== "offline").reduce((sum, a) => sum + (a.preferred_concurrency ?? 0), 0);
    this.summary.textContent = `${queue.length} waiting in the queue · ${available} of ${agents.length} agents available · ${load} active of ${preferred} preferred slots`;
    const sentences = describeChanges(this.previousIds, { queue: queue.map((c) => c.id) }, { queue: (id) => `${id} joined the queue` }, {
      topSection: "queue",
      leftPhrase: (id) => `${id} left the queue`,
    });
    this.previousIds = { queue: queue.map((c) => c.id) };
    if (sentences.length) this.announce(sentences.join(". ") + ".");
  }
}
