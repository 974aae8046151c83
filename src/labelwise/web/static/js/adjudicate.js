// The adjudication screen: every annotator's answer side by side, disagreements marked;
// the adjudicator takes one annotator's answer (Shift+number) or sets the final one.

import { compareTable, disagreements } from "./answers-view.js";
import { h, kbd } from "./dom.js";
import { renderFields } from "./fields.js";
import { AnswerForm } from "./form.js";
import { GuidelinesPanel } from "./guidelines.js";
import { discussLink, flush, outboxFor, sendDecision, showEmpty, takeWork } from "./qc.js";
import { VisibleTimer } from "./timer.js";
import { button, itemName, WorkPage } from "./work.js";

const page = new WorkPage();
const outbox = outboxFor(page, "adjudication");
const timer = new VisibleTimer();
const guidelines = new GuidelinesPanel(page); // the rules the final answer follows
let work = null;
let busy = false;

/** What all annotators agree on, as the starting point of the final answer. */
function agreed(annotations) {
  const differ = disagreements(page.spec, annotations.map((a) => a.answers));
  const out = {};
  for (const q of page.spec.questions) {
    if (!differ.has(q.name) && annotations[0]?.answers[q.name] !== undefined) {
      out[q.name] = annotations[0].answers[q.name];
    }
  }
  return out;
}

function use(index) {
  const annotation = work?.detail.annotations[index];
  if (!annotation) return false;
  page.form.set(annotation.answers);
  page.form.recordChange();
  page.setSave("", `Took ${annotation.annotator}'s answer; Enter makes it final`);
  return true;
}

function render() {
  const { lease, detail } = work;
  const form = new AnswerForm(page.spec, detail.data);
  form.set(agreed(detail.annotations));
  page.form = form;
  const cols = detail.annotations.map((a, i) => ({
    title: a.annotator,
    answers: a.answers,
    extra: h("div", {}, button(`Use this`, null, () => use(i), { class: "small-button" }),
      i < 9 ? h("span", { class: "muted small" }, " ", kbd(`Shift+${i + 1}`)) : null),
  }));
  page.screen.replaceChildren(
    h("section", { class: "card item-card", tabindex: "-1", "aria-label": "Item" },
      renderFields(page.spec, detail.data, { slug: page.slug, itemId: detail.id, surfaces: form.surfaces })),
    h("div", { class: "answer-column" },
      h("section", { class: "card", "aria-label": "Annotators' answers" },
        h("h2", {}, "What the annotators said"), compareTable(page.spec, detail.data, cols)),
      h("section", { class: "card answer-card" },
        h("h2", {}, "Final answer"),
        h("p", { class: "muted" }, "Filled in where the annotators agree; settle the rest."),
        form.el,
        h("div", { class: "actions" },
          button("Make final", "Enter", submit, { class: "primary-inline" }),
          discussLink(page, lease))),
      guidelines.el));
  page.itemLabel.textContent = `Item ${itemName(lease)}`;
  page.renderHints();
  timer.restart();
}

async function submit() {
  if (!work || busy) return;
  const missing = page.form.missing();
  if (missing.length) {
    page.form.showMissing(missing);
    page.showNotice("Settle every required question first.");
    return;
  }
  busy = true;
  const { lease } = work;
  const entry = { id: lease.assignment_id, path: `/assignments/${lease.assignment_id}/submit`,
    body: { answers: page.form.answers(), time_ms: timer.ms }, label: itemName(lease) };
  try {
    if (await sendDecision(page, outbox, entry)) await next();
  } finally {
    busy = false;
  }
}

async function next() {
  try {
    work = await takeWork(page, "adjudication");
  } catch (error) {
    page.showNotice(`Could not load the next item: ${error.message}`);
    return;
  }
  if (work) render();
  else {
    showEmpty(page, "Nothing to adjudicate right now",
      "No item with disagreeing annotators is waiting for someone who did not label it.", next);
  }
}

page.onExtraKey = (event) => {
  const match = /^Digit([1-9])$/.exec(event.code);
  return Boolean(event.shiftKey && match && use(Number(match[1]) - 1));
};
page.setCommands([
  ["Enter", "make the answer final and show the next item", submit, "make final"],
  ["Shift+1–9", "take that annotator's answer", () => {}, "take an answer"],
  ["R", "check again (when there is nothing)", () => work || next()],
  ["G", "show or hide the guidelines", () => { guidelines.el.open = !guidelines.el.open; }],
]);
await Promise.all([flush(page, outbox), guidelines.load()]);
await next();
