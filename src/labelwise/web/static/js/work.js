// What the labeling, review and adjudication screens share: the page frame, the save
// state, notices, the keyboard dispatcher, the shortcut list and the text prompt.

import { byId, h, isTyping, kbd, newId, pageData } from "./dom.js";
import { keyList } from "./form.js";
import { prepareSpec } from "./spec.js";

export class WorkPage {
  constructor() {
    const { slug, user, spec, layout } = pageData("work");
    this.slug = slug;
    this.user = user;
    this.spec = prepareSpec(spec, layout);
    this.screen = byId("screen");
    this.notice = byId("notice");
    this.saveState = byId("save-state");
    this.itemLabel = byId("item-label");
    this.hints = byId("hints");
    this.form = null; // the AnswerForm that number keys and undo act on
    this.commands = []; // [key, description, run]: letter keys and Enter
    byId("help-button").addEventListener("click", () => this.showHelp());
    document.addEventListener("keydown", (event) => this.onKey(event));
  }

  /**
   * Register what the page's keys do, as [key, description, run, short name]; the same
   * list feeds the ? help and (those with a short name) the footer.
   */
  setCommands(commands) {
    this.commands = commands;
    this.renderHints();
  }

  shortcutLines() {
    return [
      ...this.commands.map(([key, what]) => [key, what]),
      ...(this.form ? this.form.shortcuts() : []),
      ["Tab", "move between answers; arrows and Space choose"],
      ["Esc", "leave a text box, so that keys act again"],
      ["?", "this list"],
    ];
  }

  /** The footer: the commands' short names, the form's keys, and where the rest are. */
  renderHints() {
    const lines = [
      ...this.commands.filter((c) => c[3]).map(([key, , , short]) => [key, short]),
      ...(this.form ? this.form.shortcuts().slice(0, 2) : []),
      ["?", "all shortcuts"],
    ];
    this.hints.replaceChildren(...lines.map(([key, what]) =>
      h("span", { class: "hint" }, kbd(key), " ", what)));
  }

  showHelp() {
    if (document.querySelector("dialog[open]")) return;
    const titleId = newId("help");
    const dialog = h("dialog", { class: "help", "aria-labelledby": titleId },
      h("h2", { id: titleId }, "Keyboard shortcuts"), keyList(this.shortcutLines()),
      h("form", { method: "dialog" }, h("button", { type: "submit", autofocus: true }, "Close")));
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  }

  onKey(event) {
    if (event.defaultPrevented || document.querySelector("dialog[open]")) return;
    const target = event.target;
    const typing = isTyping(target);
    const mod = event.ctrlKey || event.metaKey;
    if (mod && !event.altKey && !event.shiftKey && event.key.toLowerCase() === "z" && !typing) {
      if (this.form?.undo()) event.preventDefault();
      return;
    }
    if (event.key === "Enter" && this.enterSubmits(event)) {
      event.preventDefault();
      this.command("Enter")?.();
      return;
    }
    if (mod || event.altKey) return;
    if (event.key === "Escape" && typing) {
      target.blur();
      return;
    }
    if (typing) return;
    if (this.onExtraKey?.(event)) {
      event.preventDefault();
    } else if (/^[0-9]$/.test(event.key) && this.form) {
      if (this.form.pressDigit(event.key)) event.preventDefault();
    } else if (event.key === "?") {
      event.preventDefault();
      this.showHelp();
    } else if (event.key === "/" && this.form?.focusFilter()) {
      event.preventDefault();
    } else {
      const run = this.command(event.key.toUpperCase());
      if (run) {
        event.preventDefault();
        run();
      }
    }
  }

  /** Enter submits, except where it already means something: buttons, links, text areas. */
  enterSubmits(event) {
    const target = event.target;
    if (event.altKey || event.shiftKey) return false;
    if (target instanceof HTMLTextAreaElement) return event.ctrlKey || event.metaKey;
    if (target instanceof HTMLInputElement && target.type === "search") return false;
    if (event.ctrlKey || event.metaKey) return true;
    return !(target instanceof Element && target.closest("button, a, summary, select"));
  }

  command(key) {
    return this.commands.find(([k]) => k === key)?.[2];
  }

  setSave(state, text, action) {
    this.saveState.className = `save-state ${state}`;
    this.saveState.replaceChildren(text, action ? " " : "", action ?? "");
  }

  showNotice(message, kind = "error") {
    this.notice.className = `notice ${kind}`;
    this.notice.replaceChildren(...(Array.isArray(message) ? message : [message]));
    this.notice.hidden = false;
  }

  /** Hide the notice (only if it is of `kind`, when given). */
  clearNotice(kind) {
    if (!kind || this.notice.classList.contains(kind)) this.notice.hidden = true;
  }

  /** A modal text prompt (never window.prompt): resolves to the text, or null if cancelled. */
  ask({ title, label, submit, multiline = false, suggestions = [], hint = "" }) {
    return new Promise((resolve) => {
      const id = newId("ask");
      const field = multiline
        ? h("textarea", { id, rows: 4, required: true, maxlength: 5000 })
        : h("input", { id, type: "text", required: true, maxlength: 2000, autocomplete: "off",
          list: suggestions.length ? `${id}-list` : null });
      const list = suggestions.length
        ? h("datalist", { id: `${id}-list` }, suggestions.map((s) => h("option", { value: s })))
        : null;
      const error = h("p", { class: "form-error", role: "alert", hidden: true }, "Write something first.");
      const form = h("form", { class: "stack" },
        h("h2", { id: `${id}-title` }, title), h("label", { for: id }, label), field, list,
        hint ? h("p", { class: "hint" }, hint) : null, error,
        h("div", { class: "dialog-buttons" },
          h("button", { type: "submit", class: "primary-inline" }, submit),
          h("button", { type: "button", onclick: () => dialog.close() }, "Cancel")));
      const dialog = h("dialog", { "aria-labelledby": `${id}-title` }, form);
      let answer = null;
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        if (!field.value.trim()) {
          error.hidden = false;
          return;
        }
        answer = field.value.trim();
        dialog.close();
      });
      field.addEventListener("keydown", (event) => {
        if (multiline && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          form.requestSubmit();
        }
      });
      dialog.addEventListener("close", () => {
        dialog.remove();
        resolve(answer);
      });
      document.body.append(dialog);
      dialog.showModal();
      field.focus();
    });
  }
}

/** How an item is named on screen: its external id, else its number. */
export function itemName(lease) {
  return lease.item.external_id ?? `#${lease.item.id}`;
}

export function button(label, key, run, extra = {}) {
  return h("button", { type: "button", onclick: run, "aria-keyshortcuts": key, ...extra },
    label, key ? [" ", kbd(key)] : null);
}
