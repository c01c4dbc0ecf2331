// Pieces shared by the agent and supervisor views: a conversation card, the priority
// explanation ("why is this one first?") and an agent's load meter.

import { countdown, refreshCountdown } from "./countdown.js";
import { h } from "./dom.js";
import { formatDuration, formatTime, humanize } from "./format.js";

/**
 * The priority explanation of docs/concepts.md#adaptive-response-timer, wherever the API put it.
 */
export function priorityOf(conversation) {
  const priority = conversation.priority ?? {};
  return {
    respondBy: priority.respond_by ?? conversation.respond_by ?? null,
    paceSeconds: priority.pace_seconds ?? conversation.pace_seconds ?? null,
    targetSeconds: priority.target_seconds ?? conversation.target_seconds ?? null,
    boosts: priority.boosts ?? conversation.boosts ?? [],
    awaitingSince: priority.awaiting_since ?? conversation.awaiting_since ?? null,
  };
}

/** "Why": respond-by time, the customer's pace, the target it gives, and any boosts. */
function whyLine(priority) {
  const parts = [];
  if (priority.respondBy) parts.push(h("span", {}, "respond by ", h("strong", { text: formatTime(priority.respondBy) })));
  if (priority.paceSeconds !== null) parts.push(h("span", { text: `customer pace ${formatDuration(priority.paceSeconds)}` }));
  if (priority.targetSeconds !== null) parts.push(h("span", { text: `target ${formatDuration(priority.targetSeconds)}` }));
  const boosts = priority.boosts.map((boost) => h("span", { class: "boost", text: humanize(boost) }));
  return h("p", { class: "why" }, h("span", { class: "why-label", text: "Why: " }), join(parts, " · "), boosts.length ? [" ", boosts] : null);
}

function join(nodes, separator) {
  return nodes.flatMap((node, index) => (index ? [separator, node] : [node]));
}

function metaLine(conversation) {
  const parts = [];
  if (conversation.channel) parts.push(conversation.channel);
  if (conversation.customer_id) parts.push(`customer ${conversation.customer_id}`);
  const skills = [...(conversation.skills ?? [])].map((skill) => h("span", { class: "skill", text: skill }));
  if (!parts.length && !skills.length) return null;
  return h("p", { class: "meta" }, parts.join(" · "), skills.length ? [" ", skills] : null);
}

/** What the customer last wrote, with its intent: how an agent tells conversations apart. */
function saidLine(conversation) {
  if (!conversation.last_inbound_text) return null;
  const intent = conversation.last_inbound_intent;
  return h(
    "p",
    { class: "said" },
    intent ? h("span", { class: "intent", title: "Intent of the customer's latest message", text: humanize(intent) }) : null,
    h("q", { class: "said-text", text: conversation.last_inbound_text }),
  );
}

/** The later of two optional ISO timestamps. */
function latest(a, b) {
  if (!a || !b) return a ?? b ?? null;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

/** What to say under a conversation that is not waiting on the agent. */
function statusLine(conversation) {
  if (conversation.state === "inactive") {
    const parts = ["Paused"];
    if (conversation.inactive_since) parts.push(`since ${formatTime(conversation.inactive_since)}`);
    if (conversation.inactive_reason) parts.push(`· ${humanize(conversation.inactive_reason)}`);
    const lastMessage = latest(conversation.last_inbound_at, conversation.last_outbound_at);
    if (!conversation.inactive_since && lastMessage) parts.push(`· last message ${formatTime(lastMessage)}`);
    return h("p", { class: "status-line", text: parts.join(" ") });
  }
  // The agent's latest message is what handed the turn to the customer.
  const since = conversation.last_outbound_at ?? conversation.awaiting_since;
  return h("p", { class: "status-line", text: `Waiting on the customer${since ? ` since ${formatTime(since)}` : ""}` });
}

/**
 * One conversation as a list item.
 * actions: [{label, title, focusKey, onClick, kind}] rendered as buttons.
 */
export function conversationCard(conversation, { nowMs, actions = [] } = {}) {
  const priority = priorityOf(conversation);
  const waitsOnAgent = conversation.awaiting === "agent" && conversation.state !== "inactive";
  const titleId = `conv-title-${conversation.id}`;
  const deadline = waitsOnAgent ? countdown(priority.respondBy, priority.targetSeconds) : null;
  const item = h(
    "li",
    {
      class: "conv",
      dataset: { conversationId: conversation.id, state: conversation.state ?? "" },
      "aria-labelledby": titleId,
    },
    h(
      "div",
      { class: "conv-head" },
      h("h3", { class: "conv-id", id: titleId, text: conversation.id }),
      deadline,
    ),
    saidLine(conversation),
    metaLine(conversation),
    waitsOnAgent ? whyLine(priority) : statusLine(conversation),
    actions.length
      ? h(
          "div",
          { class: "actions" },
          actions.map((action) =>
            h("button", {
              type: "button",
              class: action.kind ?? "secondary",
              text: action.label,
              "aria-label": `${action.label} ${conversation.id}`,
              title: action.title,
              dataset: { focusKey: action.focusKey },
              // Disabled while its request runs, so a double click does not act twice.
              on: {
                click: async (event) => {
                  const button = event.currentTarget;
                  button.disabled = true;
                  try {
                    await action.onClick();
                  } finally {
                    button.disabled = false;
                  }
                },
              },
            }),
          ),
        )
      : null,
  );
  if (deadline) refreshCountdown(deadline, nowMs);
  return item;
}

/** An agent's load against preferred and maximum, as segments: one per slot up to the max. */
export function loadMeter(agent) {
  const load = agent.load ?? 0;
  const preferred = agent.preferred_concurrency ?? 0;
  const maximum = agent.max_concurrency ?? 0;
  const slots = Math.max(maximum, load);
  const segments = [];
  for (let slot = 0; slot < slots; slot += 1) {
    const classes = ["slot"];
    if (slot < load) classes.push("filled");
    if (slot >= preferred) classes.push("above-preferred");
    if (slot >= maximum) classes.push("above-maximum");
    segments.push(h("span", { class: classes.join(" ") }));
  }
  const level = load >= maximum ? "at-maximum" : load >= preferred ? "at-preferred" : "under";
  const meter = h(
    "div",
    { class: "load", dataset: { level } },
    h(
      "div",
      {
        class: "meter",
        role: "meter",
        "aria-label": `Load of ${agent.id}`,
        "aria-valuemin": 0,
        "aria-valuemax": slots,
        "aria-valuenow": load,
        "aria-valuetext": `${load} active; preferred ${preferred}, maximum ${maximum}`,
      },
      segments,
    ),
    h(
      "p",
      { class: "load-caption" },
      h("strong", { class: "load-value", text: String(load) }),
      ` active · preferred ${preferred} · max ${maximum}`,
    ),
  );
  // Where the preferred tick sits (desk.css); set through CSSOM, which the page's
  // Content-Security-Policy allows, unlike a style attribute.
  const bar = meter.querySelector(".meter");
  bar.style.setProperty("--preferred", String(preferred));
  bar.style.setProperty("--slots", String(slots || 1));
  return meter;
}

/** A short empty-state line for a list. */
export function emptyNote(text) {
  return h("p", { class: "empty", text });
}
