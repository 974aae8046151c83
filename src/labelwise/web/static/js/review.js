// The review screen: the annotation under review beside every other answer to the same
// item, disagreements marked; accept (A), reject with feedback (R) or correct (C).

import { compareTable } from "./answers-view.js";
import { h } from "./dom.js";
import { renderFields } from "./fields.js";
import { AnswerForm } from "./form.js";
import { GuidelinesPanel } from "./guidelines.js";
import { discussLink, flush, outboxFor, sendDecision, showEmpty, takeWork } from "./qc.js";
import { button, itemName, WorkPage } from "./work.js";

const page = new WorkPage();
const outbox = outboxFor(page, "review");
const guidelines = new GuidelinesPanel(page); // the rules the annotation is judged by
let work = null;
let busy = false;

const VIEW_COMMANDS = [
  ["A", "accept the annotation", () => decide({ verdict: "accept" }), "accept"],
  ["R", "reject it with feedback to the annotator", reject, "reject"],
  ["C", "correct it yourself", () => correcting(true), "correct"],
  ["G", "show or hide the guidelines", () => { guidelines.el.open = !guidelines.el.open; }, "guidelines"],
];
const CORRECT_COMMANDS = [
  ["Enter", "save the correction", saveCorrection, "save correction"],
  ["X", "cancel the correction", () => correcting(false), "cancel"],
];

function columns() {
  const { lease, detail } = work;
  return detail.annotations.map((a) => {
    const current = a.id === lease.annotation_id;
    return {
      title: h("span", {}, a.annotator, h("span", { class: "muted small" }, ` ${a.review_status}`)),
      answers: current ? lease.answers : a.answers,
      current,
      extra: current ? h("span", { class: "badge" }, "under review") : null,
    };
  });
}

function render(form = null) {
  const { lease, detail } = work;
  page.form = form;
  const itemCard = h("section", { class: "card item-card", tabindex: "-1", "aria-label": "Item" },
    renderFields(page.spec, detail.data, { slug: page.slug, itemId: detail.id, surfaces: form?.surfaces }));
  const decision = form
    ? h("section", { class: "card answer-card" }, h("h2", {}, "Your correction"), form.el,
      h("div", { class: "actions" },
        button("Save correction", "Enter", saveCorrection, { class: "primary-inline" }),
        button("Cancel", "X", () => correcting(false))))
    : h("div", { class: "actions" },
      button("Accept", "A", () => decide({ verdict: "accept" }), { class: "primary-inline" }),
      button("Reject with feedback", "R", reject),
      button("Correct", "C", () => correcting(true)),
      discussLink(page, lease));
  page.screen.replaceChildren(itemCard, h("div", { class: "answer-column" },
    h("section", { class: "card", "aria-label": "Answers" },
      h("h2", {}, "Answers to this item"), compareTable(page.spec, detail.data, columns()),
      form ? null : decision),
    form ? decision : null, guidelines.el));
  page.setCommands(form ? CORRECT_COMMANDS : VIEW_COMMANDS);
  page.itemLabel.textContent = `Item ${itemName(lease)}`;
  (form ? form.widgets[0]?.el : itemCard)?.focus?.({ preventScroll: true });
}

function correcting(on) {
  if (!work) return;
  if (!on) return render();
  const form = new AnswerForm(page.spec, work.detail.data);
  form.set(work.lease.answers);
  return render(form);
}

async function decide(body) {
  if (!work || busy) return;
  busy = true;
  const { lease } = work;
  const entry = { id: lease.assignment_id, path: `/assignments/${lease.assignment_id}/verdict`,
    body, label: itemName(lease) };
  try {
    if (await sendDecision(page, outbox, entry)) await next();
  } finally {
    busy = false;
  }
}

async function reject() {
  if (!work) return;
  const feedback = await page.ask({
    title: `Reject the annotation of ${itemName(work.lease)}`,
    label: "Feedback for the annotator: what to fix, and why", submit: "Reject and send back",
    multiline: true, hint: "The annotator gets the item back with this text. Ctrl+Enter sends.",
  });
  if (feedback) await decide({ verdict: "reject", feedback });
}

async function saveCorrection() {
  const missing = page.form?.missing() ?? [];
  if (missing.length) {
    page.form.showMissing(missing);
    return;
  }
  await decide({ verdict: "correct", answers: page.form.answers() });
}

async function next() {
  try {
    work = await takeWork(page, "review");
  } catch (error) {
    page.showNotice(`Could not load the next annotation: ${error.message}`);
    return;
  }
  if (work) render();
  else {
    showEmpty(page, "Nothing to review right now",
      "No submitted annotation is waiting for a reviewer other than its author.", next);
    page.setCommands([["R", "check again", next, "check again"]]);
  }
}

await Promise.all([flush(page, outbox), guidelines.load()]);
await next();
