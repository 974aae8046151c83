// The guidelines beside the item (current version, its examples and counterexamples) and,
// after a new version, what changed since the one the annotator worked under: the changelog
// notes and the diff, acknowledged once. Guideline text goes through the safe Markdown
// renderer; item data, answers, notes and diff lines only ever become text nodes.

import { api } from "./api.js";
import { answerList } from "./answers-view.js";
import { h, when } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

const DIFF_CLASS = { "+": "diff-add", "-": "diff-del", "@": "diff-hunk" };

function diffClass(line) {
  if (line.startsWith("+++ ") || line.startsWith("--- ")) return "diff-file";
  return DIFF_CLASS[line[0]] ?? null;
}

export class GuidelinesPanel {
  constructor(page) {
    this.page = page;
    this.version = null;
    this.body = h("div", {}, h("p", { class: "muted" }, "Loading the guidelines…"));
    this.title = h("span", {}, "Guidelines");
    this.el = h("details", { class: "card panel", id: "guidelines-panel" },
      h("summary", {}, this.title, " ", h("kbd", {}, "G")),
      page.spec.goal ? h("p", { class: "goal" }, h("strong", {}, "Goal: "), page.spec.goal) : null,
      this.body);
  }

  /** Fetch the current version and the examples; open the panel on wide screens. */
  async load() {
    try {
      const [current, examples] = await Promise.all([
        api("GET", `/projects/${this.page.slug}/guidelines/current`)
          .catch((error) => (error.status === 404 ? null : Promise.reject(error))),
        api("GET", `/projects/${this.page.slug}/guidelines/examples`),
      ]);
      this.render(current, examples);
    } catch (error) {
      this.body.replaceChildren(h("p", { class: "form-error" }, `Could not load the guidelines: ${error.message}`));
    }
  }

  render(current, examples) {
    this.version = current?.number ?? null;
    this.el.dataset.version = this.version ?? "";
    if (!current) {
      this.title.textContent = "Guidelines";
      this.body.replaceChildren(h("p", { class: "muted" }, "This project has no written guidelines yet."));
      return;
    }
    this.title.textContent = `Guidelines · version ${current.number}`;
    this.body.replaceChildren(
      h("p", { class: "muted guidelines-note" }, `Version ${current.number}, ${when(current.published_at)}: ${current.note}`),
      h("div", { class: "md guidelines-body" }, renderMarkdown(current.body)),
      examples.length ? this.examples(examples) : null);
    if (!this.opened && window.innerWidth > 1200) this.el.open = true;
    this.opened = true;
  }

  examples(examples) {
    return h("section", { class: "guideline-examples", "aria-label": "Examples" },
      h("h3", {}, "Examples"),
      h("ul", { class: "plain" }, examples.map((e) => h("li", { class: `example ${e.kind}` },
        h("p", {}, h("strong", {}, e.kind === "counterexample" ? "Counterexample" : "Example"),
          ` · item ${e.external_id ?? `#${e.item_id}`}`),
        this.itemText(e.data),
        h("div", {}, e.kind === "counterexample" ? "Wrong answer: " : "Answer: ",
          answerList(this.page.spec, e.answers, {})),
        h("p", { class: "why" }, h("strong", {}, "Why: "), e.why)))));
  }

  /** The item's text fields, as plain text (never HTML), shortened for the panel. */
  itemText(data) {
    const shown = this.page.spec.fields.filter((f) => f.type !== "metadata" && f.type !== "image");
    return shown.map((f) => {
      const value = data?.[f.name];
      if (value === undefined || value === null) return null;
      const text = typeof value === "string" ? value : JSON.stringify(value);
      return h("blockquote", { class: "example-item" }, text.length > 400 ? `${text.slice(0, 400)}…` : text);
    });
  }

  /**
   * Show what changed since the version the annotator last acknowledged (or worked under),
   * if anything; resolves once they have acknowledged it. The dialog cannot be dismissed
   * without acknowledging, and while it is open the page's keys do nothing else.
   */
  async acknowledgeChanges() {
    const pending = await api("GET", `/projects/${this.page.slug}/guidelines/pending`);
    if (!pending.changes.length) return;
    await this.load();
    await new Promise((resolve) => this.showChanges(pending, resolve));
  }

  showChanges(pending, resolve) {
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const confirm = h("button", { type: "submit", class: "primary-inline", autofocus: true },
      "I have read the changes ", h("kbd", {}, "Enter"));
    const form = h("form", { method: "dialog", class: "stack" },
      h("h2", { id: "guidelines-changed-title" }, `The guidelines changed: version ${pending.current}`),
      h("p", {}, "Read what changed before you continue."),
      h("ul", { class: "guideline-changes" }, pending.changes.map((c) =>
        h("li", {}, h("strong", {}, `Version ${c.number}: `), c.note))),
      h("pre", { class: "guidelines-diff", tabindex: "0", "aria-label": "What changed, line by line" },
        pending.diff.split("\n").filter((line, i, all) => line || i < all.length - 1)
          .map((line) => h("span", { class: diffClass(line) }, `${line}\n`))),
      error,
      h("div", { class: "dialog-buttons" }, confirm));
    const dialog = h("dialog", { id: "guidelines-changed", "aria-labelledby": "guidelines-changed-title" }, form);
    dialog.addEventListener("cancel", (event) => event.preventDefault()); // Esc: not without reading
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      confirm.disabled = true;
      try {
        await api("POST", `/projects/${this.page.slug}/guidelines/acknowledge`, { version: pending.current });
        dialog.close();
        dialog.remove();
        resolve();
      } catch (failure) {
        if (failure.status === 422) { // a newer version came out meanwhile: show that one
          dialog.close();
          dialog.remove();
          this.acknowledgeChanges().then(resolve, resolve);
          return;
        }
        error.textContent = `Not recorded: ${failure.message}. Press Enter to try again.`;
        error.hidden = false;
        confirm.disabled = false;
        confirm.focus();
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    confirm.focus();
  }
}
