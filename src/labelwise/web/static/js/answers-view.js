// Answers shown for reading: one answer as text, and several annotators' answers side by
// side with the questions where they differ marked (by colour and by the word "differs").

import { h } from "./dom.js";
import { rankingSummary } from "./ranking.js";
import { spanColor } from "./spans.js";
import { titleOf } from "./spec.js";

function spanList(question, spans, data) {
  const chars = Array.from(typeof data?.[question.field] === "string" ? data[question.field] : "");
  if (!spans.length) return h("span", { class: "muted" }, "no spans");
  return h("ul", { class: "span-summary" }, spans.map((s) => {
    const chip = h("span", { class: "chip" }, s.label);
    chip.style.backgroundColor = spanColor(question.choices.indexOf(s.label)).fill;
    return h("li", {}, chip, " ", h("q", {}, chars.slice(s.start, s.end).join("")),
      h("span", { class: "muted small" }, ` ${s.start}–${s.end}`));
  }));
}

/** One answer to one question, readable, as its layout (from the server) draws it. */
function formatAnswer(question, value, data) {
  if (value === undefined || value === null) return h("span", { class: "muted" }, "—");
  const layout = question.layout;
  if (layout.widget === "spans") return spanList(question, Array.isArray(value) ? value : [], data);
  if (layout.widget === "ranking") return rankingSummary(question, value);
  if (layout.multiple) return Array.isArray(value) ? value.join(", ") : String(value);
  if (layout.names) return layout.names[value] ?? String(value);
  if (layout.widget === "text") return h("span", { class: "free-text" }, String(value));
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** All of an answer set as a small definition list. */
export function answerList(spec, answers, data) {
  return h("dl", { class: "answer-list" }, spec.questions.map((q) => [
    h("dt", {}, titleOf(q)), h("dd", {}, formatAnswer(q, answers?.[q.name], data)),
  ]));
}

function key(value) {
  return value === undefined ? "—" : JSON.stringify(value);
}

/** The questions on which the answer sets differ. */
export function disagreements(spec, answerSets) {
  return new Set(spec.questions
    .filter((q) => new Set(answerSets.map((a) => key(a?.[q.name]))).size > 1)
    .map((q) => q.name));
}

/**
 * A table: one row per question, one column per answer set.
 * columns: [{ title: Node|string, answers, current?: bool, extra?: Node }]
 */
export function compareTable(spec, data, columns) {
  const differ = disagreements(spec, columns.map((c) => c.answers));
  const head = h("tr", {}, h("th", { scope: "col" }, "Question"), columns.map((c) =>
    h("th", { scope: "col", class: c.current ? "current" : null }, c.title, c.extra ?? null)));
  const rows = spec.questions.map((q) => {
    const differs = differ.has(q.name);
    return h("tr", { class: differs ? "disagree" : null },
      h("th", { scope: "row" }, titleOf(q),
        differs ? h("span", { class: "differs" }, "differs") : null),
      columns.map((c) => h("td", { class: c.current ? "current" : null },
        formatAnswer(q, c.answers?.[q.name], data))));
  });
  const summary = differ.size
    ? `${columns.length} answers; they differ on ${differ.size} of ${spec.questions.length} questions`
    : `${columns.length} answers; they agree on every question`;
  return h("div", { class: "compare-wrap" },
    h("p", { class: differ.size ? "differs-summary" : "muted" }, summary),
    h("table", { class: "compare" }, h("thead", {}, head), h("tbody", {}, rows)));
}
