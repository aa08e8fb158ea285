// Bounds work that runs on libuv's thread pool (scrypt): at most `active` at once and `queued`
// waiting. Past that, enter() answers null at once, so a flood is refused instead of queueing
// without bound in front of every other pool user (fs, dns) and of real users' logins.

export type Release = () => void;

export class ConcurrencyGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly active: number,
    private readonly queued: number,
  ) {}

  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** A slot (resolve when it is yours; call the release exactly once), or null when the queue is full too. */
  enter(): Promise<Release> | null {
    if (this.running < this.active) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.queued) return null;
    return new Promise((resolve) => this.waiting.push(() => resolve(this.releaser())));
  }

  private releaser(): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so running stays at its bound.
      if (next) next();
      else this.running--;
    };
  }
}
