// Who is signed in. The token lives in sessionStorage only (gone when the tab closes, never
// in the URL, never in localStorage), and the role is asked of the service, not assumed.

import { ApiError } from "./api.js";

const TOKEN_KEY = "tidal.desk.token";
const AGENT_KEY = "tidal.desk.agent";

export function loadSession() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { token, agentId: sessionStorage.getItem(AGENT_KEY) || "" } : null;
}

export function saveSession({ token, agentId }) {
  sessionStorage.setItem(TOKEN_KEY, token);
  if (agentId) sessionStorage.setItem(AGENT_KEY, agentId);
  else sessionStorage.removeItem(AGENT_KEY);
}

export function clearSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(AGENT_KEY);
}

/** A sign-in problem worth showing to the person at the keyboard. */
export class SignInError extends Error {}

/**
 * Find out what the token may do: {role: "agent", agentId} or {role: "supervisor", label}
 * (a supervisor or admin who names an agent gets that agent's desk).
 * GET /v1/me answers directly; a service without it is still usable: an agent id typed at
 * sign-in is checked with GET /v1/agents/{id}, and without one the queue (supervisors
 * only) tells a supervisor token apart.
 */
export async function discoverIdentity(api, agentIdHint) {
  try {
    const me = await whoAmI(api);
    if (me) return await identityOf(me, api, agentIdHint);
    if (agentIdHint) {
      await existingAgent(api, agentIdHint);
      return { role: "agent", agentId: agentIdHint };
    }
    await api.queue();
    return { role: "supervisor" };
  } catch (error) {
    throw explain(error);
  }
}

async function whoAmI(api) {
  try {
    return await api.me();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) return null;
    throw error;
  }
}

async function identityOf(me, api, agentIdHint) {
  if (me.role === "agent" && me.agent_id) return { role: "agent", agentId: me.agent_id };
  // An admin may do what a supervisor may: the token printed at first start opens the desk.
  if (me.role === "supervisor" || me.role === "admin") {
    if (!agentIdHint) return { role: "supervisor", label: me.role === "admin" ? "Admin (supervisor view)" : "Supervisor" };
    await existingAgent(api, agentIdHint); // a typo should not open an empty desk
    return { role: "agent", agentId: agentIdHint };
  }
  throw new SignInError(`A ${me.role} token cannot use the desk: sign in with an agent, supervisor or admin token.`);
}

async function existingAgent(api, agentId) {
  try {
    return await api.agent(agentId);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      throw new SignInError(`There is no agent "${agentId}": check the id, or ask a supervisor to create it.`);
    }
    throw error;
  }
}

function explain(error) {
  if (error instanceof SignInError) return error;
  if (error instanceof ApiError && error.status === 401) return new SignInError("The service does not know this token.");
  if (error instanceof ApiError && error.status === 403) {
    return new SignInError("This token may not open this desk (an agent token opens its own agent only).");
  }
  return new SignInError(error.message);
}
