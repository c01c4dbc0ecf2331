// The desk's entry point: sign-in, choosing the view for the token's role, and wiring the
// event stream to debounced re-fetches.

import { Api, ApiError } from "./api.js";
import { AgentView } from "./agent_view.js";
import { ServerClock } from "./clock.js";
import { startTicker } from "./countdown.js";
import { formatTime } from "./format.js";
import { Refresher } from "./refresher.js";
import { EventStream } from "./sse.js";
import { clearSession, discoverIdentity, loadSession, saveSession } from "./session.js";
import { SupervisorView } from "./supervisor_view.js";

/** Without a live stream, poll so the desk never silently goes stale. */
const POLL_WHILE_DISCONNECTED_MS = 10000;
/** A manual clock can be moved without any event; a wall clock only drifts. */
const CLOCK_SYNC_MS = { manual: 2000, wall: 60000 };

const $ = (id) => document.getElementById(id);
const clock = new ServerClock();
let current = null; // {api, view, stream, refresher, pollTimer, clockTimer}

function announce(text, { assertive = false } = {}) {
  const region = assertive ? $("alert") : $("announcer");
  // Clearing first makes a repeated sentence be read again.
  region.textContent = "";
  setTimeout(() => {
    region.textContent = text;
  }, 50);
  if (!assertive) $("last-change").textContent = text;
}

const CONNECTION_LABELS = {
  idle: "Not connected",
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  denied: "Stream refused",
};

function setConnection(state) {
  const badge = $("connection");
  badge.dataset.state = state;
  badge.querySelector(".label").textContent = CONNECTION_LABELS[state] ?? state;
  if (!current) return;
  clearInterval(current.pollTimer);
  if (state === "denied") endSession("The service no longer accepts this token: sign in again.");
  else if (state === "live") current.refresher.soon(); // catch up on anything missed meanwhile
  else current.pollTimer = setInterval(() => current?.refresher.soon(), POLL_WHILE_DISCONNECTED_MS);
}

/** Countdowns run on the engine's clock, which /healthz reports (a manual clock moves only
 *  when an operator sets it, so it is re-read on every refresh). */
async function syncClock(api) {
  const health = await api.health();
  if (health?.now) clock.update(health.now, health.clock === "manual");
}

function keepClockInSync(session) {
  session.clockTimer = setTimeout(async () => {
    if (current !== session) return;
    await syncClock(session.api).catch(() => {});
    keepClockInSync(session);
  }, clock.manual ? CLOCK_SYNC_MS.manual : CLOCK_SYNC_MS.wall);
}

async function refreshNow(session) {
  await Promise.all([syncClock(session.api), session.view.refresh()]);
  $("view").setAttribute("aria-busy", "false");
}

function refreshFailed(error) {
  if (error instanceof ApiError && error.status === 401) {
    endSession("The service no longer accepts this token: sign in again.");
  } else {
    announce(`Could not refresh: ${error.message}`, { assertive: true });
  }
}

function showClock() {
  const element = $("engine-clock");
  element.hidden = !clock.manual;
  if (clock.manual) element.textContent = `Manual clock · ${formatTime(new Date(clock.now()).toISOString())}`;
}

function showSignIn(message = "") {
  $("sign-in").hidden = false;
  $("view").hidden = true;
  $("identity").hidden = true;
  $("header-status").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in-error").textContent = message;
  $("token").value = "";
  $("token").focus();
}

async function start(session) {
  const api = new Api(session.token);
  const identity = await discoverIdentity(api, session.agentId);
  saveSession({ token: session.token, agentId: identity.role === "agent" ? identity.agentId : "" });
  const view =
    identity.role === "agent"
      ? new AgentView({ api, clock, agentId: identity.agentId, announce, confirmClose })
      : new SupervisorView({ api, clock, announce });
  const root = $("view");
  root.setAttribute("aria-busy", "true");
  view.mount(root);
  $("sign-in").hidden = true;
  root.hidden = false;
  $("identity").hidden = false;
  $("identity").textContent = identity.role === "agent" ? `Agent ${identity.agentId}` : identity.label ?? "Supervisor";
  $("sign-out").hidden = false;
  document.body.dataset.role = identity.role;
  current = { api, view, stream: null, refresher: null, pollTimer: null, clockTimer: null };
  const live = current;
  live.refresher = new Refresher(() => refreshNow(live), refreshFailed);
  await syncClock(api).catch(() => {}); // without it, countdowns fall back to this computer's clock
  keepClockInSync(current);
  await view.refresh();
  root.setAttribute("aria-busy", "false");
  // Keyboard and screen-reader users start at the desk, not the header; without scrolling,
  // which would slide the agent's own bar under the sticky header on a phone.
  $("main").focus({ preventScroll: true });
  current.stream = new EventStream(view.streamUrl, session.token, {
    onEvent: () => live.refresher.soon(),
    onState: setConnection,
  });
  current.stream.start();
}

function stop() {
  if (!current) return;
  current.stream?.stop();
  current.refresher?.stop();
  clearInterval(current.pollTimer);
  clearTimeout(current.clockTimer);
  current = null;
  setConnection("idle");
  document.title = "Tidal desk";
  delete document.body.dataset.role;
}

/** Leave the desk and show the sign-in form (with why, when it was not the user's choice). */
function endSession(message = "") {
  stop();
  clearSession();
  showSignIn(message);
}

/** Ask for a close reason in a modal dialog; resolves to the reason, or null if cancelled. */
function confirmClose(conversationId) {
  const dialog = $("close-dialog");
  $("close-dialog-title").textContent = `Close ${conversationId}`;
  $("close-reason").value = "resolved";
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => resolve(dialog.returnValue === "confirm" ? $("close-reason").value.trim() || "resolved" : null),
      { once: true },
    );
  });
}

function wire() {
  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    const agentId = $("agent-id").value.trim();
    if (!token) return;
    const button = $("sign-in-button");
    button.disabled = true;
    $("sign-in-error").textContent = "";
    try {
      await start({ token, agentId });
    } catch (error) {
      endSession(error.message);
    } finally {
      button.disabled = false;
    }
  });
  $("sign-out").addEventListener("click", () => {
    $("agent-id").value = "";
    endSession();
  });
  clock.onChange(showClock);
}

async function boot() {
  wire();
  startTicker(clock);
  document.body.classList.add("ready");
  const session = loadSession();
  if (!session) {
    showSignIn();
    return;
  }
  try {
    await start(session);
  } catch (error) {
    endSession(error.message);
  }
}

boot();
