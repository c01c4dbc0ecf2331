// Server-Sent Events over fetch(). EventSource cannot send an Authorization header, so the
// desk reads the stream itself and parses it as the HTML standard describes: `field: value`
// lines, a blank line dispatches, `id` is remembered and sent back as Last-Event-ID when
// reconnecting, so events that happened while the connection was down are replayed.

/** The longest pause between reconnection attempts. */
const MAX_BACKOFF_MS = 5000;

/** Incremental parser: feed text chunks, get complete events back. */
export class SseParser {
  constructor() {
    this.buffer = "";
    this.reset();
    this.lastEventId = "";
    this.retryMs = null;
  }

  reset() {
    this.data = [];
    this.eventType = "";
  }

  /** Returns the events completed by this chunk: {id, type, data}. */
  push(chunk) {
    this.buffer += chunk;
    const events = [];
    // A line ends at \r\n, \n or \r; keep a trailing \r until we know whether \n follows.
    const lines = this.buffer.split(/\r\n|\n|\r(?=.)/s);
    this.buffer = lines.pop() ?? "";
    for (const line of lines) {
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  line(line) {
    if (line === "") {
      if (this.data.length === 0) {
        this.reset();
        return null;
      }
      const event = { id: this.lastEventId, type: this.eventType || "message", data: this.data.join("\n") };
      this.reset();
      return event;
    }
    if (line.startsWith(":")) return null; // comment, e.g. a keep-alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.eventType = value;
    else if (field === "id" && !value.includes("\0")) this.lastEventId = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retryMs = Number(value);
    return null;
  }
}

/**
 * A self-healing event stream.
 * onEvent({id, type, data}) gets each event (data parsed as JSON when it is JSON);
 * onState(state) hears "connecting", "live", "reconnecting" or "denied" (the token was
 * refused: retrying cannot help, so the stream stops).
 */
export class EventStream {
  constructor(url, token, { onEvent, onState }) {
    this.url = url;
    this.token = token;
    this.onEvent = onEvent;
    this.onState = onState;
    this.lastEventId = "";
    this.controller = null;
    this.stopped = true;
    this.failures = 0;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.controller?.abort();
    clearTimeout(this.retryTimer);
  }

  async connect() {
    if (this.stopped) return;
    this.onState(this.failures ? "reconnecting" : "connecting");
    this.controller = new AbortController();
    const headers = { Authorization: `Bearer ${this.token}`, Accept: "text/event-stream" };
    if (this.lastEventId) headers["Last-Event-ID"] = this.lastEventId;
    const parser = new SseParser();
    try {
      const response = await fetch(this.url, { headers, signal: this.controller.signal, cache: "no-store" });
      if (response.status === 401 || response.status === 403) {
        this.stopped = true;
        this.onState("denied");
        return;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      this.failures = 0;
      this.onState("live");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.push(value)) {
          if (event.id) this.lastEventId = event.id;
          this.onEvent({ ...event, data: parseData(event.data) });
        }
      }
    } catch (error) {
      if (this.stopped) return;
    }
    if (this.stopped) return;
    // The stream ended or failed: back off (0.5 s, 1 s, 2 s ... at most 5 s, or what the
    // server asked for), with jitter so a restarted service is not hit by every desk at once.
    this.failures += 1;
    this.onState("reconnecting");
    const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** (this.failures - 1));
    const delay = (parser.retryMs ?? backoff) * (0.75 + Math.random() * 0.5);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}

function parseData(data) {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}
