// The agent's desk: its conversations in priority order, its load, and its tools.

import { describeChanges } from "./changes.js";
import { conversationCard, emptyNote, loadMeter } from "./components.js";
import { h, replaceChildrenKeepingFocus } from "./dom.js";
import { AGENT_STATUSES, statusLabel } from "./format.js";

/**
 * The worklist of docs/concepts.md#adaptive-response-timer: reply order, then waiting on customers,
 * then paused apart.
 */
function worklistSections(worklist) {
  return { agent: worklist.awaiting_agent, customer: worklist.awaiting_customer, inactive: worklist.inactive };
}

const SECTION_PHRASES = {
  agent: (id) => `${id} is waiting for your reply`,
  customer: (id) => `${id} is now waiting on the customer`,
  inactive: (id) => `${id} is paused`,
};

export class AgentView {
  /**
   * api: Api; clock: ServerClock; agentId: string;
   * announce(text): speak in the live region; confirmClose(id) → Promise<reason|null>.
   */
  constructor({ api, clock, agentId, announce, confirmClose }) {
    this.api = api;
    this.clock = clock;
    this.agentId = agentId;
    this.announce = announce;
    this.confirmClose = confirmClose;
    this.previousIds = null;
    this.refreshSequence = 0;
  }

  get streamUrl() {
    return `/v1/agents/${encodeURIComponent(this.agentId)}/events`;
  }

  /** Build the static frame once; refresh() fills it. */
  mount(root) {
    this.statusSelect = h(
      "select",
      { id: "agent-status", on: { change: () => this.changeStatus(this.statusSelect.value) } },
      AGENT_STATUSES.map((status) => h("option", { value: status, text: statusLabel(status) })),
    );
    this.loadSlot = h("div", { class: "load-slot" });
    this.takeButton = h("button", {
      type: "button",
      class: "primary",
      id: "take-more",
      text: "Take one more",
      on: { click: () => this.takeMoreWork() },
    });
    this.takeHint = h("p", { class: "hint", id: "take-hint" });
    this.blockedNote = h("p", {
      class: "blocked-note",
      role: "note",
      hidden: true,
      text: "No new work comes to you until you answer your overdue conversation.",
    });
    this.takeButton.setAttribute("aria-describedby", "take-hint");
    this.lists = {
      agent: h("ol", { class: "conv-list", id: "awaiting-agent" }),
      customer: h("ol", { class: "conv-list", id: "awaiting-customer" }),
      inactive: h("ol", { class: "conv-list", id: "inactive" }),
    };
    this.counts = {
      agent: h("span", { class: "count" }),
      customer: h("span", { class: "count" }),
      inactive: h("span", { class: "count" }),
    };
    const section = (key, title, note, extraClass = "") =>
      h(
        "section",
        { class: `panel ${extraClass}`, "aria-labelledby": `heading-${key}` },
        h("h2", { id: `heading-${key}` }, title, " ", this.counts[key]),
        h("p", { class: "panel-note", text: note }),
        this.lists[key],
      );
    root.replaceChildren(
      h(
        "section",
        { class: "agent-bar", "aria-label": "Your status and load" },
        h("div", { class: "bar-item" }, h("h1", { class: "agent-name", text: `Agent ${this.agentId}` })),
        h("div", { class: "bar-item" }, h("label", { for: "agent-status", text: "Status" }), this.statusSelect),
        h("div", { class: "bar-item grow" }, h("span", { class: "bar-label", text: "Load" }), this.loadSlot),
        h("div", { class: "bar-item take" }, this.takeButton, this.takeHint),
        this.blockedNote,
      ),
      h(
        "div",
        { class: "columns" },
        h(
          "div",
          { class: "column main-column" },
          section("agent", "Waiting for you", "Soonest reply deadline first. The deadline follows each customer's own pace."),
          section("customer", "Waiting on the customer", "They go inactive if the customer stays silent."),
        ),
        h("div", { class: "column side-column" }, section("inactive", "Paused", "Inactive: no slot used. They come back to you when the customer writes.", "apart")),
      ),
    );
  }

  async refresh() {
    // Refreshes may overlap (an action's own and an event's): only the latest one renders.
    const sequence = ++this.refreshSequence;
    const [agent, worklist] = await Promise.all([this.api.agent(this.agentId), this.api.worklist(this.agentId)]);
    if (sequence !== this.refreshSequence) return;
    this.renderAgent(agent);
    const sections = worklistSections(worklist);
    const nowMs = this.clock.now();
    const ids = {};
    for (const [key, conversations] of Object.entries(sections)) {
      ids[key] = conversations.map((c) => c.id);
      this.counts[key].textContent = `(${conversations.length})`;
      const cards = conversations.map((c) => conversationCard(c, { nowMs, actions: this.actionsFor(c) }));
      replaceChildrenKeepingFocus(this.lists[key], cards.length ? cards : emptyNote(EMPTY[key]));
    }
    // A desk often sits in a background tab: the title tells how many wait for a reply.
    document.title = ids.agent.length ? `(${ids.agent.length}) Tidal desk` : "Tidal desk";
    const sentences = describeChanges(this.previousIds, ids, SECTION_PHRASES, {
      topSection: "agent",
      leftPhrase: (id) => `${id} left your list`,
    });
    this.previousIds = ids;
    if (sentences.length) this.announce(sentences.join(". ") + ".");
  }

  renderAgent(agent) {
    this.statusSelect.value = agent.status;
    this.statusSelect.closest(".bar-item").dataset.status = agent.status;
    this.loadSlot.replaceChildren(loadMeter(agent));
    const atMaximum = (agent.load ?? 0) >= agent.max_concurrency;
    const offline = agent.status === "offline";
    this.takeButton.disabled = atMaximum || offline;
    this.takeHint.textContent = atMaximum
      ? `You are at your maximum of ${agent.max_concurrency}.`
      : offline
        ? "Go available to take work."
        : `Picks the most urgent queued conversation, up to your maximum of ${agent.max_concurrency}.`;
    this.blockedNote.hidden = !agent.blocked_for_overdue;
    this.renderHeaderStatus(agent);
  }

  /** Status and load in the header too: on a phone the agent's bar scrolls out of view. */
  renderHeaderStatus(agent) {
    const header = document.getElementById("header-status");
    if (!header) return;
    header.dataset.status = agent.status;
    header.replaceChildren(
      h("span", { class: "dot", "aria-hidden": "true" }),
      h("span", { class: "header-status-text", text: statusLabel(agent.status) }),
      h("span", { class: "header-load", text: `${agent.load ?? 0}/${agent.max_concurrency}`, title: "Active conversations / maximum" }),
    );
    header.setAttribute(
      "aria-label",
      `${statusLabel(agent.status)}, ${agent.load ?? 0} active of preferred ${agent.preferred_concurrency}, maximum ${agent.max_concurrency}`,
    );
    header.hidden = false;
  }

  actionsFor(conversation) {
    const actions = [];
    if (conversation.state === "assigned") {
      actions.push({
        label: "Pause",
        title: "Make it inactive now: frees the slot; it comes back when the customer writes",
        focusKey: `pause:${conversation.id}`,
        onClick: () => this.pause(conversation.id),
      });
    }
    actions.push({
      label: "Close",
      title: "Close the conversation with a reason",
      focusKey: `close:${conversation.id}`,
      onClick: () => this.close(conversation.id),
    });
    return actions;
  }

  /** Run one of the agent's actions, say why if it fails, and show its effect at once
   *  (the event stream would too, a moment later). */
  async perform(work, failurePrefix) {
    try {
      await work();
    } catch (error) {
      this.announce(`${failurePrefix}: ${error.message}`, { assertive: true });
    } finally {
      await this.refresh().catch(() => {});
    }
  }

  changeStatus(status) {
    return this.perform(async () => {
      await this.api.setAgentStatus(this.agentId, status);
      this.announce(`Status set to ${statusLabel(status)}`);
    }, "Could not change status");
  }

  pause(conversationId) {
    return this.perform(() => this.api.pauseConversation(conversationId), `Could not pause ${conversationId}`);
  }

  async close(conversationId) {
    const reason = await this.confirmClose(conversationId);
    if (!reason) return;
    await this.perform(async () => {
      await this.api.closeConversation(conversationId, reason);
      this.announce(`${conversationId} closed`);
    }, `Could not close ${conversationId}`);
  }

  takeMoreWork() {
    this.takeButton.disabled = true; // one click, one conversation; refresh() re-enables it
    return this.perform(async () => {
      const { conversation } = await this.api.takeMoreWork(this.agentId);
      if (!conversation) this.announce("Nothing in the queue that you can take right now.");
    }, "Could not take more work");
  }
}

const EMPTY = {
  agent: "Nobody is waiting for you.",
  customer: "No conversation is waiting on a customer.",
  inactive: "No paused conversations.",
};
