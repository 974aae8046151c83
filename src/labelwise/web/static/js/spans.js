// Span marking on a text field: select with the mouse, press a label's number key (or
// click the label). Overlapping spans stay visible as stacked underlines; clicking a
// highlight, or the × in the list, removes a span.
//
// Offsets are code points, as the server counts them (Python str indices); JS strings
// count UTF-16 units, so text is handled as Array.from(text) throughout.

import { h, kbd } from "./dom.js";

const FILL = ["#ffe08a", "#a8e6cf", "#c4d8ff", "#ffc9d6", "#ddd0ff", "#ffd6b0", "#c9f1f7", "#e8e8b0"];
const LINE = ["#8a6500", "#1b7a50", "#2a5db0", "#b02a4d", "#6442c0", "#a85a10", "#17798a", "#6b6b10"];

export function spanColor(index) {
  return { fill: FILL[index % FILL.length], line: LINE[index % LINE.length] };
}

export class SpanSurface {
  /** `question` is a spans question; `changed()` is called after every change (undo). */
  constructor(question, text, changed) {
    this.question = question;
    this.chars = Array.from(typeof text === "string" ? text : "");
    this.labels = question.choices;
    this.spans = [];
    this.pending = null;
    this.changed = changed;
    this.error = h("p", { class: "form-error", role: "alert", hidden: true });
    this.el = h("div", {
      class: "text span-text",
      "aria-label": `text to mark for ${question.title || question.name}: select with the mouse`,
      onmouseup: () => this.capture(),
      onclick: (event) => this.clickMark(event),
    });
    this.list = h("ul", { class: "span-list", "aria-label": "marked spans" });
    this.paint();
  }

  /** Called on selection changes: remember a selection inside this text, trimmed. */
  capture() {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return this.setPending(null);
    const range = selection.getRangeAt(0);
    if (!this.el.contains(range.startContainer) || !this.el.contains(range.endContainer)) {
      return this.setPending(null);
    }
    let start = this.offset(range.startContainer, range.startOffset);
    let end = this.offset(range.endContainer, range.endOffset);
    while (start < end && /\s/.test(this.chars[start])) start += 1;
    while (end > start && /\s/.test(this.chars[end - 1])) end -= 1;
    return this.setPending(end > start ? { start, end } : null);
  }

  offset(node, offset) {
    const range = document.createRange();
    range.setStart(this.el, 0);
    range.setEnd(node, offset);
    return Math.min(Array.from(range.toString()).length, this.chars.length);
  }

  setPending(pending) {
    this.pending = pending;
    this.el.classList.toggle("selecting", Boolean(pending));
    this.onPending?.(pending);
    return pending;
  }

  /** Mark the pending selection with label number `index`; false if nothing was selected. */
  apply(index) {
    if (!this.pending || index < 0 || index >= this.labels.length) return false;
    const span = { ...this.pending, label: this.labels[index] };
    const same = (s) => s.start === span.start && s.end === span.end && s.label === span.label;
    const overlaps = (s) => s.start < span.end && span.start < s.end;
    if (this.spans.some(same)) return this.refuse("that span is already marked");
    if (this.question.allow_overlap === false && this.spans.some(overlaps)) {
      return this.refuse("spans may not overlap in this question");
    }
    this.spans = [...this.spans, span].sort((a, b) => a.start - b.start || b.end - a.end);
    window.getSelection()?.removeAllRanges();
    this.setPending(null);
    this.paint();
    this.changed();
    return true;
  }

  refuse(message) {
    this.error.textContent = message;
    this.error.hidden = false;
    return true;
  }

  remove(span) {
    this.spans = this.spans.filter((s) => s !== span);
    this.paint();
    this.changed();
  }

  /** A click on a highlight (not the end of a selection) removes its innermost span. */
  clickMark(event) {
    const mark = event.target.closest?.("mark");
    if (!mark || !window.getSelection()?.isCollapsed) return;
    const at = Number(mark.dataset.start);
    const covering = this.spans.filter((s) => s.start <= at && at < s.end);
    covering.sort((a, b) => (a.end - a.start) - (b.end - b.start));
    if (covering.length) this.remove(covering[0]);
  }

  get value() {
    return this.spans.map(({ start, end, label }) => ({ start, end, label }));
  }

  set value(spans) {
    const valid = Array.isArray(spans) ? spans.filter((s) => s && Number.isInteger(s.start)) : [];
    this.spans = valid.map(({ start, end, label }) => ({ start, end, label }));
    this.paint();
  }

  textOf(span) {
    return this.chars.slice(span.start, span.end).join("");
  }

  /** Split the text at every span boundary; colour each piece by the spans covering it. */
  paint() {
    this.error.hidden = true;
    const cuts = new Set([0, this.chars.length]);
    for (const s of this.spans) cuts.add(s.start).add(s.end);
    const points = [...cuts].sort((a, b) => a - b);
    const pieces = [];
    for (let i = 0; i + 1 < points.length; i += 1) {
      const [a, b] = [points[i], points[i + 1]];
      const text = this.chars.slice(a, b).join("");
      const covering = this.spans.filter((s) => s.start <= a && b <= s.end);
      pieces.push(covering.length ? this.mark(text, a, covering) : text);
    }
    this.el.replaceChildren(...pieces);
    this.list.replaceChildren(...this.spans.map((span) => this.listEntry(span)));
  }

  mark(text, start, covering) {
    covering.sort((x, y) => (x.end - x.start) - (y.end - y.start));
    const names = covering.map((s) => s.label).join(", ");
    const el = h("mark", {
      class: `span-mark layers-${Math.min(covering.length, 4)}`,
      dataset: { start: String(start) },
      title: `${names} (click to remove ${covering[0].label})`,
    }, text);
    const [inner, ...outer] = covering.map((s) => spanColor(this.labels.indexOf(s.label)));
    el.style.backgroundColor = inner.fill;
    el.style.boxShadow = [inner, ...outer]
      .map((c, depth) => `inset 0 -${3 * (depth + 1)}px 0 ${c.line}`).join(", ");
    return el;
  }

  listEntry(span) {
    const color = spanColor(this.labels.indexOf(span.label));
    const chip = h("span", { class: "chip" }, span.label);
    chip.style.backgroundColor = color.fill;
    chip.style.borderColor = color.line;
    return h("li", {}, chip, " ", h("q", {}, this.textOf(span)),
      h("button", {
        type: "button", class: "link", onclick: () => this.remove(span),
        "aria-label": `remove ${span.label} “${this.textOf(span)}”`,
      }, "×"));
  }

  /** The label buttons with their keys; keys act only while text is selected. */
  legend() {
    return h("div", { class: "span-labels" }, this.labels.map((label, i) => {
      const button = h("button", {
        type: "button", class: "chip-button", onmousedown: (e) => e.preventDefault(),
        onclick: () => this.apply(i) || this.refuse("select some text first, then pick a label"),
      }, i < 9 ? kbd(String(i + 1)) : null, " ", label);
      button.style.borderColor = spanColor(i).line;
      button.style.backgroundColor = spanColor(i).fill;
      return button;
    }));
  }
}
