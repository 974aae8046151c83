// The qualification test as the annotator sees it: progress while it runs (its items
// have known answers), then the result with every item's explanation.

import { api } from "./api.js";
import { answerList } from "./answers-view.js";
import { h } from "./dom.js";

export class Qualification {
  constructor(page) {
    this.page = page;
    this.state = null;
  }

  get pending() {
    return this.state?.required && this.state.status === "pending";
  }

  get failed() {
    return this.state?.status === "failed";
  }

  /** Refresh; when the test has just ended, say how it went. */
  async refresh() {
    const before = this.state?.status;
    try {
      this.state = await api("GET", `/projects/${this.page.slug}/qualification`);
    } catch {
      return; // the test is context, not work: labeling goes on without it
    }
    if (before === "pending" && this.state.status === "passed") {
      this.page.showNotice([h("strong", {}, "You passed the qualification test "),
        `(${this.state.correct} of ${this.state.items} right). Real items follow.`,
        this.results()], "ok");
    }
  }

  banner() {
    if (!this.pending) return null;
    const s = this.state;
    return h("div", { class: "notice warn", role: "note" },
      h("strong", {}, `Qualification test: ${s.answered} of ${s.items} answered. `),
      `These items have known answers; you need ${Math.round(s.min_accuracy * 100)}% right ` +
      "before real work starts.");
  }

  failure() {
    const s = this.state;
    return [h("h2", {}, "You did not pass the qualification test"),
      h("p", {}, `${s.correct} of ${s.items} answers matched the known answers; `,
        `${Math.round(s.min_accuracy * 100)}% were needed. Read the explanations below and `,
        "ask a project manager to let you try again."), this.results()];
  }

  results() {
    const results = this.state?.results ?? [];
    if (!results.length) return null;
    return h("details", { class: "results" }, h("summary", {}, "Your answers and the known ones"),
      h("ul", { class: "plain" }, results.map((r) => h("li", {},
        h("p", {}, h("strong", {}, `${r.external_id ?? `#${r.item_id}`}: `),
          r.correct ? "right" : "not right"),
        h("div", { class: "columns" },
          h("div", {}, h("h4", {}, "You"), answerList(this.page.spec, r.answers, {})),
          h("div", {}, h("h4", {}, "Known answer"), answerList(this.page.spec, r.gold, {}))),
        r.explanation ? h("p", { class: "hint" }, r.explanation) : null))));
  }
}
