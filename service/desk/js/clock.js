// The engine's time, as the desk sees it. Deadlines are the engine's, so countdowns must run
// on the engine's clock, not the browser's: with a live clock we keep the offset between the
// two; with a manual clock (replay, tests) time stands still until someone sets it.

export class ServerClock {
  constructor() {
    this.offsetMs = 0;
    this.manual = false;
    this.frozenMs = null;
    this.listeners = new Set();
  }

  /** Record the engine's `now` (ISO 8601) as reported by a response. */
  update(nowIso, manual) {
    const serverMs = Date.parse(nowIso);
    if (Number.isNaN(serverMs)) return;
    this.manual = Boolean(manual);
    if (this.manual) this.frozenMs = serverMs;
    else this.offsetMs = serverMs - Date.now();
    for (const listener of this.listeners) listener();
  }

  /** The engine's current time in epoch milliseconds. */
  now() {
    return this.manual && this.frozenMs !== null ? this.frozenMs : Date.now() + this.offsetMs;
  }

  onChange(listener) {
    this.listeners.add(listener);
  }
}
