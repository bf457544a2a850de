// A counting semaphore: at most `limit` holders at once (requests against one cache, store paths
// being scanned). Urgent waiters (emergency searches) are served before the others.
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** How many of `waiting`, from the front, are urgent. */
  private urgent = 0;

  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }

  async acquire(urgent = false): Promise<() => void> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve) => {
        if (urgent) this.waiting.splice(this.urgent++, 0, resolve);
        else this.waiting.push(resolve);
      });
    }
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      const next = this.waiting.shift();
      if (next && this.urgent > 0) this.urgent--;
      next?.();
    };
  }
}
