// Turning engine values into words a person reads at a glance.

/** "45 s", "2 min", "2 min 30 s", "1 h 5 min". */
export function formatDuration(seconds) {
  const total = Math.round(Math.abs(seconds));
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  const rest = total % 60;
  if (minutes < 60) return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const restMinutes = minutes % 60;
  return restMinutes ? `${hours} h ${restMinutes} min` : `${hours} h`;
}

/** A clock-face countdown: "0:42", "12:05", "1:02:03" (sign dropped; callers say "overdue"). */
export function formatClock(milliseconds) {
  const total = Math.floor(Math.abs(milliseconds) / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** Wall-clock time of an ISO timestamp, in the reader's own time zone. */
export function formatTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/**
 * How close a deadline is: "ok", "near" (amber) or "past" (red).
 * "Near" is the last quarter of the conversation's own target, but never less than 15 s
 * nor more than 2 min, so a 30 s escalation and a 15 min target both warn sensibly.
 */
export function urgency(remainingMs, targetSeconds) {
  if (remainingMs <= 0) return "past";
  const target = Number.isFinite(targetSeconds) && targetSeconds > 0 ? targetSeconds : 120;
  const warnSeconds = Math.min(120, Math.max(15, target * 0.25));
  return remainingMs <= warnSeconds * 1000 ? "near" : "ok";
}

/** "customer_silent" → "customer silent". Reason codes stay recognisable but readable. */
export function humanize(code) {
  return code ? String(code).replaceAll("_", " ") : "";
}

const STATUS_LABELS = { available: "Available", busy: "Busy", away: "Away", offline: "Offline" };

/** The agent statuses of docs/concepts.md#routing, in the order the desk offers them. */
export const AGENT_STATUSES = Object.keys(STATUS_LABELS);

export function statusLabel(status) {
  return STATUS_LABELS[status] ?? humanize(status);
}
