// Live countdowns to `respond_by`. Cards render a <time data-respond-by> element once; one
// ticker refreshes all of them every second, so re-rendering a list never restarts a timer.

import { h } from "./dom.js";
import { formatClock, formatDuration, urgency } from "./format.js";

/** A countdown element for a conversation's deadline (nothing when it has none); call
 *  refreshCountdown once it is inside its card, so the card takes its colour at once. */
export function countdown(respondBy, targetSeconds) {
  if (!respondBy) return null;
  return h(
    "time",
    { class: "countdown", datetime: respondBy, dataset: { respondBy, targetSeconds: String(targetSeconds ?? "") } },
    // Screen readers get words, not a clock face. Nothing here is live, so it never chatters.
    h("span", { class: "face", "aria-hidden": "true" }),
    h("span", { class: "visually-hidden words" }),
  );
}

/** Bring one countdown element up to date with the engine's `nowMs`. */
export function refreshCountdown(element, nowMs) {
  const remaining = Date.parse(element.dataset.respondBy) - nowMs;
  const level = urgency(remaining, Number(element.dataset.targetSeconds));
  element.dataset.urgency = level;
  element.closest("[data-conversation-id]")?.setAttribute("data-urgency", level);
  const face = formatClock(remaining);
  const words = formatDuration(remaining / 1000);
  element.querySelector(".face").textContent = level === "past" ? `overdue ${face}` : `${face} left`;
  element.querySelector(".words").textContent =
    level === "past" ? `reply overdue by ${words}` : `reply due in ${words}`;
}

/** Refresh every countdown on the page now and then once a second. */
export function startTicker(clock) {
  const tick = () => {
    const now = clock.now();
    for (const element of document.querySelectorAll("time[data-respond-by]")) refreshCountdown(element, now);
  };
  clock.onChange(tick);
  tick();
  return setInterval(tick, 1000);
}
