// The answer form for one item: a widget per question, span surfaces for span questions,
// number keys for the primary question, undo, and the check for missing answers.

import { h, kbd } from "./dom.js";
import { widgetFor } from "./questions.js";
import { SpanSurface } from "./spans.js";
import { indexOfDigit, primaryQuestion, titleOf } from "./spec.js";

const UNDO_DEPTH = 100;

class SpansWidget {
  constructor(question, surface, ownText) {
    this.question = question;
    this.surface = surface;
    this.el = h("fieldset", { class: "question", dataset: { question: question.name } },
      h("legend", {}, titleOf(question),
        h("span", { class: "muted" }, ` — select text in “${question.field}”, then press a key`)),
      ownText ? surface.el : null, surface.legend(), surface.error, surface.list);
  }

  get value() {
    return this.surface.value;
  }

  set value(spans) {
    this.surface.value = spans ?? [];
  }

  press() {
    return false;
  }

  focus() {
    this.surface.el.scrollIntoView({ block: "nearest" });
  }
}

export class AnswerForm {
  /** `data`: the item's data (span questions need their text). */
  constructor(spec, data, { onChange } = {}) {
    this.spec = spec;
    this.onChange = onChange;
    this.surfaces = new Map(); // field name -> the surface shown in place of that field
    this.allSurfaces = [];
    const primary = primaryQuestion(spec);
    this.widgets = spec.questions.map((q) => {
      if (q.layout.widget !== "spans") return widgetFor(q, q === primary);
      const surface = new SpanSurface(q, data[q.field], () => this.recordChange());
      surface.onPending = () => this.showSpanKeys();
      this.allSurfaces.push(surface);
      const shownInField = !this.surfaces.has(q.field);
      if (shownInField) this.surfaces.set(q.field, surface);
      return new SpansWidget(q, surface, !shownInField);
    });
    this.primary = this.widgets.find((w) => w.question === primary) ?? null;
    this.el = h("div", { class: "answers" }, this.widgets.map((w) => w.el));
    this.el.addEventListener("change", () => this.recordChange());
    this.undoStack = [];
    this.last = this.snapshot();
  }

  answers() {
    const out = {};
    for (const w of this.widgets) {
      const value = w.value;
      if (value !== undefined) out[w.question.name] = value;
    }
    return out;
  }

  snapshot() {
    return JSON.stringify(this.answers());
  }

  set(answers) {
    for (const w of this.widgets) w.value = answers?.[w.question.name];
    this.last = this.snapshot();
  }

  recordChange() {
    const now = this.snapshot();
    if (now === this.last) return;
    this.undoStack.push(this.last);
    if (this.undoStack.length > UNDO_DEPTH) this.undoStack.shift();
    this.last = now;
    this.clearErrors();
    this.onChange?.();
  }

  undo() {
    const previous = this.undoStack.pop();
    if (previous === undefined) return false;
    const answers = JSON.parse(previous);
    for (const w of this.widgets) w.value = answers[w.question.name];
    this.last = previous;
    this.onChange?.();
    return true;
  }

  /** Number keys: a span label while text is selected, else the primary question. */
  pressDigit(key) {
    const index = indexOfDigit(key);
    const selecting = this.allSurfaces.find((s) => s.pending);
    if (selecting) return selecting.apply(index);
    return this.primary ? this.primary.press(index) : false;
  }

  showSpanKeys() {
    const active = this.allSurfaces.some((s) => s.pending);
    this.el.classList.toggle("span-keys", active);
  }

  /** Required questions without an answer (an empty span list is an answer: "nothing"),
   * and answers begun but not finished (a ranking of some of the responses). */
  missing() {
    return this.widgets.filter((w) =>
      (w.question.required !== false && w.value === undefined) || w.incomplete);
  }

  showMissing(widgets) {
    for (const w of widgets) w.el.classList.add("missing");
    widgets[0]?.focus();
  }

  clearErrors() {
    for (const w of this.widgets) w.el.classList.remove("missing");
  }

  focusFilter() {
    const widget = this.widgets.find((w) => w.filter);
    widget?.focus();
    return Boolean(widget);
  }

  /** The shortcut lines this form adds to the page's list. */
  shortcuts() {
    const lines = [];
    if (this.primary) {
      const q = this.primary.question;
      const count = Math.min(this.primary.inputs.length, 10);
      const keys = count === 10 ? "1–9, 0" : count > 1 ? `1–${count}` : "1";
      lines.push([keys, this.primary.keyHint ?? `answer “${titleOf(q)}”`]);
    }
    if (this.allSurfaces.length) lines.push(["1–9", "after selecting text: mark it with that label"]);
    if (this.widgets.some((w) => w.filter)) lines.push(["/", "filter the choices of a taxonomy"]);
    if (this.widgets.some((w) => w.question.layout.widget === "ranking")) {
      lines.push(["Alt+↑/↓", "move the focused response of a ranking up or down"]);
      lines.push(["Delete", "take the focused response out of its ranking"]);
    }
    lines.push(["Ctrl+Z", "undo the last change to the answers"]);
    return lines;
  }
}

export function keyList(lines) {
  return h("dl", { class: "keys" }, lines.map(([key, what]) => [h("dt", {}, kbd(key)), h("dd", {}, what)]));
}
