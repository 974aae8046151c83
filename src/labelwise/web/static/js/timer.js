// Time on an item: only while the page is visible, so a lunch break in another tab does
// not count as labeling time.

export class VisibleTimer {
  constructor() {
    this.restart();
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) this.pause();
      else this.resume();
    });
  }

  restart() {
    this.total = 0;
    this.since = document.hidden ? null : performance.now();
  }

  pause() {
    if (this.since !== null) this.total += performance.now() - this.since;
    this.since = null;
  }

  resume() {
    if (this.since === null) this.since = performance.now();
  }

  get ms() {
    const running = this.since === null ? 0 : performance.now() - this.since;
    return Math.round(this.total + running);
  }
}
