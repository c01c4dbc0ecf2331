// The HTTP API of docs/http-api.md, as the desk uses it. Every call carries the bearer token;
// errors arrive as RFC 9457 problem documents and become ApiError.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  async request(method, path, body) {
    const headers = { Authorization: `Bearer ${this.token}`, Accept: "application/json" };
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (cause) {
      throw new ApiError(0, { title: "The service cannot be reached", detail: String(cause) });
    }
    const text = await response.text();
    let parsed = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { title: text.slice(0, 200) };
      }
    }
    if (!response.ok) throw new ApiError(response.status, parsed ?? { title: response.statusText });
    return parsed;
  }

  /** Liveness, and the engine's clock: {status, clock: "wall"|"manual", now}. */
  health() { return this.request("GET", "/healthz"); }
  me() { return this.request("GET", "/v1/me"); }
  agent(agentId) { return this.request("GET", `/v1/agents/${encodeURIComponent(agentId)}`); }
  agents() { return this.request("GET", "/v1/agents"); }
  setAgentStatus(agentId, status) {
    return this.request("PUT", `/v1/agents/${encodeURIComponent(agentId)}`, { status });
  }
  worklist(agentId) {
    return this.request("GET", `/v1/agents/${encodeURIComponent(agentId)}/conversations`);
  }
  takeMoreWork(agentId) {
    return this.request("POST", `/v1/agents/${encodeURIComponent(agentId)}/take`);
  }
  queue() { return this.request("GET", "/v1/queue"); }
  closeConversation(conversationId, reason) {
    return this.request("POST", `/v1/conversations/${encodeURIComponent(conversationId)}/close`, { reason });
  }
  pauseConversation(conversationId) {
    return this.request("POST", `/v1/conversations/${encodeURIComponent(conversationId)}/inactivate`, {
      reason: "agent_paused",
    });
  }
}
