// Answers on their way to the server. Each is kept in memory and in localStorage until the
// server acknowledges it, and re-sent with the same assignment id (the endpoints are
// idempotent per assignment) after a network or server failure, or after a reload.

import { api, ApiError } from "./api.js";

const MAX_DELAY_MS = 15000;

export class Outbox {
  constructor(key) {
    this.key = key;
    this.entries = [];
    this.stored = true;
    try {
      const stored = JSON.parse(localStorage.getItem(key) ?? "[]");
      if (Array.isArray(stored)) this.entries = stored;
    } catch {
      this.entries = [];
    }
    this.wakers = [];
    window.addEventListener("online", () => this.retryNow());
  }

  save() {
    try {
      if (this.entries.length) localStorage.setItem(this.key, JSON.stringify(this.entries));
      else localStorage.removeItem(this.key);
      this.stored = true;
    } catch {
      this.stored = false; // storage full or disabled: held in memory only, and retried
    }
  }

  /** Answers that closing the tab would lose: unsent ones that storage could not keep. */
  get atRisk() {
    return this.entries.length > 0 && !this.stored;
  }

  put(entry) {
    this.entries = [...this.entries.filter((e) => e.id !== entry.id), entry];
    this.save();
  }

  drop(id) {
    this.entries = this.entries.filter((e) => e.id !== id);
    this.save();
  }

  get pending() {
    return [...this.entries];
  }

  retryNow() {
    const wakers = this.wakers;
    this.wakers = [];
    for (const wake of wakers) wake();
  }

  wait(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakers.push(() => { clearTimeout(timer); resolve(); });
    });
  }

  /**
   * POST `entry.body` to `entry.path` until the server answers. `onRetry(error, delayMs)`
   * hears of each failure. A refusal (4xx) is thrown and the entry dropped, except 401
   * (logged out), which keeps it for after the next login.
   */
  async deliver(entry, onRetry) {
    this.put(entry);
    let delay = 1000;
    for (;;) {
      try {
        const result = await api("POST", entry.path, entry.body);
        this.drop(entry.id);
        return result;
      } catch (error) {
        if (!(error instanceof ApiError) || error.status === 401) throw error;
        if (!error.retryable) {
          this.drop(entry.id);
          throw error;
        }
        onRetry?.(error, delay);
        await this.wait(delay);
        delay = Math.min(delay * 2, MAX_DELAY_MS);
      }
    }
  }
}
