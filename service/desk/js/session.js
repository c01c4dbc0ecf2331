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
 * Find out what the token may do: {role: "agent", agentId} or {role: "supervisor"}.
 * GET /v1/me answers directly when the service has it; otherwise an agent id typed at
 * sign-in is checked with GET /v1/agents/{id}, and without one the queue (supervisors only)
 * tells a supervisor token apart.
 */
export async function discoverIdentity(api, agentIdHint) {
  try {
    const me = await api.me();
    const role = me.role;
    const agentId = me.agent_id ?? me.agentId ?? null;
    if (role === "agent" && agentId) return { role, agentId };
    if (role === "supervisor" || role === "admin") {
      return agentIdHint ? { role: "agent", agentId: agentIdHint, viewer: role } : { role: "supervisor" };
    }
    throw new SignInError(`A ${role} token cannot use the desk: sign in with an agent or supervisor token.`);
  } catch (error) {
    if (error instanceof SignInError) throw error;
    if (!(error instanceof ApiError) || ![404, 405].includes(error.status)) throw explain(error);
  }
  if (agentIdHint) {
    try {
      await api.agent(agentIdHint);
      return { role: "agent", agentId: agentIdHint };
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        throw new SignInError(`No agent "${agentIdHint}" exists yet: ask a supervisor to create it.`);
      }
      throw explain(error);
    }
  }
  try {
    await api.queue();
    return { role: "supervisor" };
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      throw new SignInError("This token is not a supervisor's: enter your agent id as well.");
    }
    throw explain(error);
  }
}

function explain(error) {
  if (error instanceof ApiError && error.status === 401) return new SignInError("The service does not know this token.");
  if (error instanceof ApiError && error.status === 403) return new SignInError("This token may not use this desk.");
  return new SignInError(error.message);
}
