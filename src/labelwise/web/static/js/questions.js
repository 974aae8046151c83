// One widget per layout the server gives a question type (`q.layout.widget`, from
// labelwise.spec.questions). Each has `el`, a `value` (undefined when unanswered)
// that can be read and set, and `press(index)` for the number keys where that applies.
// Every control is a real, labelled form control, so Tab, arrows and Space work too.

import { h, kbd, newId } from "./dom.js";
import { RankingWidget } from "./ranking.js";
import { digitFor, titleOf } from "./spec.js";

function legend(question) {
  return h("legend", {}, titleOf(question),
    question.required === false ? h("span", { class: "muted" }, " (optional)") : null);
}

/** Radio buttons or checkboxes over a list of (value, label) options. */
class OptionsWidget {
  constructor(question, options, { multiple = false, keys = false, filter = false } = {}) {
    this.question = question;
    this.multiple = multiple;
    const name = newId(`q-${question.name}`);
    this.inputs = options.map(([value, label], i) => {
      const input = h("input", { type: multiple ? "checkbox" : "radio", name, value });
      const key = keys ? digitFor(i) : null;
      const option = h("label", { class: "option" }, input, key ? kbd(key) : null, " ", label);
      return { input, option, value, label };
    });
    this.el = h("fieldset", { class: "question", dataset: { question: question.name } },
      legend(question), filter ? this.filterBox() : null, this.layout(options));
  }

  layout() {
    return h("div", { class: "options" }, this.inputs.map((o) => o.option));
  }

  filterBox() {
    return null;
  }

  get value() {
    const checked = this.inputs.filter((o) => o.input.checked).map((o) => o.value);
    if (this.multiple) return checked.length ? checked : undefined;
    return checked[0];
  }

  set value(value) {
    const wanted = new Set(Array.isArray(value) ? value : value === undefined ? [] : [value]);
    for (const o of this.inputs) o.input.checked = wanted.has(o.value);
  }

  press(index) {
    const option = this.inputs[index];
    if (!option) return false;
    option.input.checked = this.multiple ? !option.input.checked : true;
    option.input.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  focus() {
    (this.inputs.find((o) => o.input.checked) ?? this.inputs[0])?.input.focus();
  }
}

/** A taxonomy: options grouped under their top category, with type-to-filter. */
class TaxonomyWidget extends OptionsWidget {
  constructor(question, options, settings) {
    super(question, options, { ...settings, filter: true });
  }

  layout() {
    const groups = new Map();
    for (const o of this.inputs) {
      const top = this.question.hierarchical ? o.value.split("/")[0] : "";
      if (!groups.has(top)) groups.set(top, []);
      groups.get(top).push(o);
    }
    this.groups = [...groups].map(([top, members]) => {
      const el = h("div", { class: "group", role: "group", "aria-label": top || null },
        top ? h("span", { class: "group-title" }, top) : null,
        h("div", { class: "options" }, members.map((o) => o.option)));
      return { el, members };
    });
    return h("div", { class: "taxonomy" }, this.groups.map((g) => g.el));
  }

  filterBox() {
    this.filter = h("input", {
      type: "search", class: "filter", placeholder: "Type to filter, Enter picks the first",
      "aria-label": `Filter the choices of ${titleOf(this.question)}`, "aria-keyshortcuts": "/",
      oninput: () => this.applyFilter(),
      onkeydown: (event) => this.filterKey(event),
    });
    return h("div", { class: "filter-row" }, this.filter, kbd("/"));
  }

  applyFilter() {
    const words = this.filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const o of this.inputs) {
      const path = o.value.toLowerCase().replace(/_/g, " ");
      o.option.hidden = !words.every((w) => path.includes(w) || o.value.toLowerCase().includes(w));
    }
    for (const g of this.groups) g.el.hidden = g.members.every((o) => o.option.hidden);
  }

  filterKey(event) {
    if (event.key === "Enter") {
      event.preventDefault();
      event.stopPropagation();
      const first = this.inputs.find((o) => !o.option.hidden);
      if (first) {
        first.input.checked = true;
        first.input.dispatchEvent(new Event("change", { bubbles: true }));
        first.input.focus();
      }
    } else if (event.key === "Escape") {
      this.filter.value = "";
      this.applyFilter();
      this.filter.blur();
    }
  }

  focus() {
    this.filter.focus();
  }
}

class InputWidget {
  constructor(question, control, hint) {
    this.question = question;
    this.input = control;
    const id = newId(`q-${question.name}`);
    control.id = id;
    this.el = h("div", { class: "question", dataset: { question: question.name } },
      h("label", { for: id, class: "question-title" }, titleOf(question),
        question.required === false ? h("span", { class: "muted" }, " (optional)") : null,
        hint ? h("span", { class: "muted" }, ` ${hint}`) : null),
      control);
  }

  get value() {
    const text = this.input.value;
    if (this.question.layout.widget === "text") return text.trim() ? text : undefined;
    return text.trim() === "" ? undefined : Number(text);
  }

  set value(value) {
    this.input.value = value === undefined || value === null ? "" : String(value);
  }

  press() {
    return false;
  }

  focus() {
    this.input.focus();
  }
}

function rangeHint(q) {
  if (q.min !== undefined && q.max !== undefined) return `(${q.min} to ${q.max})`;
  if (q.min !== undefined) return `(at least ${q.min})`;
  if (q.max !== undefined) return `(at most ${q.max})`;
  return "";
}

function numberInput(q, integer) {
  return h("input", {
    type: "number", inputmode: integer ? "numeric" : "decimal", step: integer ? "1" : "any",
    min: q.min, max: q.max,
  });
}

function textControl(q) {
  return q.layout.long ? h("textarea", { rows: 3, maxlength: q.max_length })
    : h("input", { type: "text", maxlength: q.max_length, autocomplete: "off" });
}

/**
 * The widget for any question but spans (see spans.js), as the server's layout of its type
 * says: `options` (inline for short scales), `taxonomy`, `ranking` (see ranking.js), `number`
 * or `text`. `keys`: show number-key hints.
 */
export function widgetFor(question, keys) {
  const q = question;
  const layout = q.layout;
  switch (layout.widget) {
    case "options":
    case "taxonomy": {
      const settings = { multiple: layout.multiple ?? false, keys };
      if (layout.widget === "taxonomy") return new TaxonomyWidget(q, layout.options, settings);
      const widget = new OptionsWidget(q, layout.options, settings);
      if (layout.inline) widget.el.classList.add("inline-options");
      return widget;
    }
    case "ranking":
      return new RankingWidget(q, keys);
    case "number":
      return new InputWidget(q, numberInput(q, layout.integer), rangeHint(q));
    default:
      return new InputWidget(q, textControl(q),
        q.max_length ? `(at most ${q.max_length} characters)` : "");
  }
}
