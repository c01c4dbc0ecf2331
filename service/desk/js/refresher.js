// When to re-fetch the lists. Events come in bursts (one message may assign, reprioritise and
// requeue) and, on a busy floor, without pause; so: re-fetch shortly after the first event of
// a burst, never more than about once a second, and never two re-fetches at once.

/** Wait this long after an event, so the rest of its burst is covered by the same fetch. */
const SETTLE_MS = 150;
/** At most one re-fetch per this interval, however fast events arrive. */
const MIN_INTERVAL_MS = 1000;

export class Refresher {
  /** refresh(): Promise doing the re-fetch; onError(error) hears failures. */
  constructor(refresh, onError) {
    this.refresh = refresh;
    this.onError = onError;
    this.timer = null;
    this.running = false;
    this.again = false;
    this.lastStart = -Infinity;
    this.stopped = false;
  }

  /** Ask for a re-fetch soon; calls while one is pending or running are merged into it. */
  soon() {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer !== null) return;
    const sinceLast = performance.now() - this.lastStart;
    this.timer = setTimeout(() => this.run(), Math.max(SETTLE_MS, MIN_INTERVAL_MS - sinceLast));
  }

  async run() {
    this.timer = null;
    this.running = true;
    this.lastStart = performance.now();
    try {
      await this.refresh();
    } catch (error) {
      if (!this.stopped) this.onError(error);
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.soon();
      }
    }
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
