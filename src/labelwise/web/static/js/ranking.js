// The ranking widget: the labeler orders an item's responses best first.
//
// The responses ranked so far stand in order on top, the others below. A number key (the
// response's number, when the number keys answer this question) or a click puts a response
// in the next place, or takes a ranked one out again; when only one is left it takes the
// last place by itself. On a focused response, Alt+↑/↓ move it (its ↑/↓ buttons do the same),
// ↑/↓ move the focus, Space ranks it or takes it out, Delete takes it out.

import { h, kbd } from "./dom.js";
import { digitFor, titleOf } from "./spec.js";

export class RankingWidget {
  constructor(question, keys) {
    this.question = question;
    this.keys = keys;
    this.responses = question.responses; // [[name, title]] in spec order
    this.inputs = this.responses; // what the number keys reach, as the form counts them
    this.order = []; // the names ranked, best first
    this.keyHint = `rank “${titleOf(question)}”: press the responses best first`;
    this.rows = new Map(this.responses.map(([name, title], index) => [name, this.row(name, title, index)]));
    this.ranked = h("ol", { class: "ranking", "aria-label": `${titleOf(question)}: ranked, best first` });
    this.rest = h("ul", { class: "ranking-rest", "aria-label": `${titleOf(question)}: not ranked yet` });
    this.restTitle = h("p", { class: "muted small" }, "Not ranked yet:");
    this.el = h("fieldset", { class: "question ranking-question", dataset: { question: question.name } },
      h("legend", {}, titleOf(question),
        question.required === false ? h("span", { class: "muted" }, " (optional)") : null,
        h("span", { class: "muted" }, keys ? " — press the responses’ numbers, best first"
          : " — click the responses, best first")),
      this.ranked, this.restTitle, this.rest);
    this.el.addEventListener("keydown", (event) => this.onKey(event));
    this.render();
  }

  row(name, title, index) {
    const key = this.keys ? digitFor(index) : null;
    const place = h("span", { class: "place" });
    const moves = h("span", { class: "moves" },
      h("button", { type: "button", class: "move", "aria-label": `Move ${title} up`,
        onclick: (event) => { event.stopPropagation(); this.move(name, -1); } }, "↑"),
      h("button", { type: "button", class: "move", "aria-label": `Move ${title} down`,
        onclick: (event) => { event.stopPropagation(); this.move(name, 1); } }, "↓"),
      h("button", { type: "button", class: "move", "aria-label": `Take ${title} out of the ranking`,
        onclick: (event) => { event.stopPropagation(); this.toggle(name); } }, "×"));
    const el = h("li", { class: "response", tabindex: 0, dataset: { response: name },
      onclick: () => { if (!this.order.includes(name)) this.toggle(name); } },
    place, key ? kbd(key) : null, h("span", { class: "response-title" }, title), moves);
    return { el, place, moves };
  }

  get value() {
    return this.order.length ? [...this.order] : undefined;
  }

  set value(value) {
    const known = new Set(this.responses.map(([name]) => name));
    this.order = Array.isArray(value) ? [...new Set(value)].filter((name) => known.has(name)) : [];
    this.render();
  }

  /** Some responses ranked but not all: not an answer yet. */
  get incomplete() {
    return this.order.length > 0 && this.order.length < this.responses.length;
  }

  press(index) {
    const response = this.responses[index];
    if (!response) return false;
    this.toggle(response[0]);
    return true;
  }

  focus() {
    const first = this.responses.find(([name]) => !this.order.includes(name)) ?? this.responses[0];
    this.rows.get(first[0])?.el.focus();
  }

  /** Rank a response in the next place (the last one left follows), or take it out. */
  toggle(name) {
    if (this.order.includes(name)) {
      this.order = this.order.filter((n) => n !== name);
    } else {
      this.order.push(name);
      const left = this.responses.filter(([n]) => !this.order.includes(n));
      if (left.length === 1) this.order.push(left[0][0]);
    }
    this.changed(name);
  }

  move(name, step) {
    const from = this.order.indexOf(name);
    const to = from + step;
    if (from < 0 || to < 0 || to >= this.order.length) return false;
    [this.order[from], this.order[to]] = [this.order[to], this.order[from]];
    this.changed(name);
    return true;
  }

  changed(name) {
    const focused = this.rows.get(name)?.el === document.activeElement;
    this.render();
    if (focused) this.rows.get(name).el.focus();
    this.el.dispatchEvent(new Event("change", { bubbles: true }));
  }

  render() {
    const ranked = this.order.map((name) => this.rows.get(name));
    const rest = this.responses.filter(([name]) => !this.order.includes(name))
      .map(([name]) => this.rows.get(name));
    ranked.forEach((row, place) => {
      row.place.textContent = `${place + 1}.`;
      row.moves.hidden = false;
      row.el.classList.add("ranked");
    });
    for (const row of rest) {
      row.place.textContent = "·";
      row.moves.hidden = true;
      row.el.classList.remove("ranked");
    }
    this.ranked.replaceChildren(...ranked.map((row) => row.el));
    this.rest.replaceChildren(...rest.map((row) => row.el));
    this.ranked.hidden = !ranked.length;
    this.restTitle.hidden = this.rest.hidden = !rest.length;
  }

  onKey(event) {
    const li = event.target instanceof Element ? event.target.closest("li.response") : null;
    if (!li || event.ctrlKey || event.metaKey) return;
    const name = li.dataset.response;
    let done = true;
    if (event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
      this.move(name, event.key === "ArrowUp" ? -1 : 1);
    } else if (event.altKey) {
      done = false;
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      const shown = [...this.el.querySelectorAll("li.response")];
      shown[shown.indexOf(li) + (event.key === "ArrowUp" ? -1 : 1)]?.focus();
    } else if (event.key === " " && event.target === li) {
      this.toggle(name);
    } else if ((event.key === "Delete" || event.key === "Backspace") && this.order.includes(name)) {
      this.toggle(name);
    } else {
      done = false;
    }
    if (done) event.preventDefault();
  }
}

/** A ranking for reading: the responses' titles in order. */
export function rankingSummary(question, value) {
  const titles = new Map(question.responses.map(([name, title]) => [name, title]));
  return h("ol", { class: "ranking-summary" },
    (Array.isArray(value) ? value : []).map((name) => h("li", {}, titles.get(name) ?? String(name))));
}
