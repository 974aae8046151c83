// The labeling page. Enter sends the answers and, as soon as the server has them, asks
// for the next item and shows it without a page load. Answers not yet acknowledged stay
// in the outbox (memory and localStorage) and are re-sent with the same assignment id.

import { api } from "./api.js";
import { answerList } from "./answers-view.js";
import { h, when } from "./dom.js";
import { renderFields } from "./fields.js";
import { AnswerForm } from "./form.js";
import { GuidelinesPanel } from "./guidelines.js";
import { Outbox } from "./outbox.js";
import { Qualification } from "./qualification.js";
import { titleOf } from "./spec.js";
import { VisibleTimer } from "./timer.js";
import { button, itemName, WorkPage } from "./work.js";

const SKIP_REASONS = [
  "None of the labels fit",
  "The item is unreadable, empty or broken",
  "I am not sure: it needs an expert",
  "Duplicate of another item",
];
const POLL_EMPTY_MS = 20000;
const FEEDBACK_EVERY = 10;

const page = new WorkPage();
const outbox = new Outbox(`labelwise:outbox:${page.user}:${page.slug}`);
const timer = new VisibleTimer();
const qualification = new Qualification(page);
let lease = null;
let busy = false;
let saved = 0;
let pollTimer = null;
let lastSuggestion = null; // shown above the next item (prelabels: after_submit)

const itemCard = h("section", { class: "card item-card", tabindex: "-1", "aria-label": "Item" });
const answerCard = h("section", { class: "card answer-card", "aria-label": "Your answers" });
// The panels sit under the item, beside the questions, and stay across items.
const guidelinesPanel = new GuidelinesPanel(page);
const guidelines = guidelinesPanel.el;
const feedbackBody = h("div", { "aria-live": "polite" });
const feedbackTitle = h("span", {}, "Feedback and answers");
const feedback = h("details", { class: "card panel", id: "feedback-panel" },
  h("summary", {}, feedbackTitle, " ", h("kbd", {}, "F")), feedbackBody);
feedback.addEventListener("toggle", () => feedback.open && loadFeedback());

/** The model's suggestion the form is pre-filled with, marked as a model's. */
function suggestionNote(suggestion) {
  const scores = Object.entries(suggestion.scores ?? {})
    .filter(([, score]) => typeof score === "number")
    .map(([question, score]) => `${question} ${Math.round(score * 100)}%`);
  return h("div", { class: "notice info suggestion", role: "note", id: "suggestion",
    dataset: { model: suggestion.model } },
  h("strong", {}, "Pre-filled by a model: "), h("code", { class: "model-name" }, suggestion.model),
  scores.length ? ` (confidence: ${scores.join(", ")})` : "",
  ". Check each answer and change what is wrong before you submit.");
}

/** After an answer sent blind: what the model had suggested for that item. */
function afterSubmitNote({ suggestion, label }) {
  return h("div", { class: "notice info suggestion-after", role: "note", id: "suggestion-after",
    dataset: { model: suggestion.model } },
  h("p", {}, h("strong", {}, `On item ${label} the model `),
    h("code", { class: "model-name" }, suggestion.model), h("strong", {}, " had suggested:")),
  answerList(page.spec, suggestion.answers, {}));
}

function show(next) {
  lease = next;
  page.form = new AnswerForm(page.spec, lease.item.data);
  const suggested = lease.suggestion && !lease.answers ? lease.suggestion : null;
  if (lease.answers) page.form.set(lease.answers);
  else if (suggested) page.form.set(suggested.answers);
  page.form.el.classList.toggle("prefilled", Boolean(suggested));
  const after = lastSuggestion ? afterSubmitNote(lastSuggestion) : null;
  lastSuggestion = null;
  const rework = lease.feedback
    ? h("div", { class: "notice warn rework", role: "note" },
      h("strong", {}, "Returned for rework. "), "The reviewer wrote: ",
      h("q", { class: "feedback-text" }, lease.feedback))
    : null;
  itemCard.classList.remove("leaving");
  itemCard.dataset.assignment = String(lease.assignment_id);
  itemCard.replaceChildren(...renderFields(page.spec, lease.item.data,
    { slug: page.slug, itemId: lease.item.id, surfaces: page.form.surfaces }).flat().filter(Boolean));
  answerCard.replaceChildren(qualification.banner() ?? "", rework ?? "", after ?? "",
    suggested ? suggestionNote(suggested) : "", page.form.el,
    h("div", { class: "actions" },
      button("Submit", "Enter", submit, { class: "primary-inline", id: "submit" }),
      button("Skip", "S", skip),
      button("Ask a question", "Q", escalate),
      h("a", { href: `/projects/${page.slug}/items/${lease.item.id}`, target: "_blank",
        rel: "noopener" }, "Discuss")));
  page.itemLabel.textContent = `Item ${itemName(lease)}${lease.feedback ? " · rework" : ""}`;
  page.screen.replaceChildren(h("div", { class: "item-column" }, itemCard, guidelines, feedback),
    h("div", { class: "answer-column" }, answerCard));
  page.renderHints();
  timer.restart();
  itemCard.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function showEmpty() {
  lease = null;
  page.form = null;
  page.itemLabel.textContent = "";
  const why = qualification.failed ? qualification.failure() : [
    h("h2", {}, "Nothing to label right now"),
    h("p", {}, "Every item open to you is taken by someone else, finished, or waiting for ",
      "an answer to a question. This page checks again every 20 seconds.")];
  const after = lastSuggestion ? afterSubmitNote(lastSuggestion) : "";
  lastSuggestion = null;
  page.screen.replaceChildren(h("section", { class: "card empty-state" }, after, why,
    h("p", {}, button("Check now", "R", loadNext), " ",
      h("a", { href: `/projects/${page.slug}` }, "Back to the project"))),
  h("div", { class: "item-column" }, guidelines, feedback));
  page.renderHints();
  clearTimeout(pollTimer);
  pollTimer = setTimeout(loadNext, POLL_EMPTY_MS);
}

/** Ask for the next item; show it once `before` (if given) has finished too. */
async function loadNext(before = null) {
  clearTimeout(pollTimer);
  try {
    const [next] = await Promise.all([api("POST", `/projects/${page.slug}/next`), before]);
    page.clearNotice("error");
    if (next) show(next);
    else showEmpty();
  } catch (error) {
    itemCard.classList.remove("leaving");
    page.showNotice([`Could not load the next item: ${error.message}. `,
      button("Try again", null, loadNext)]);
  }
}

function retrying(error, delay) {
  page.setSave("retrying",
    `Not saved yet (${error.message}); retrying in ${Math.round(delay / 1000)} s. ` +
    "Your answer is kept in this browser.",
    button("Retry now", null, () => outbox.retryNow()));
}

/** A refusal the outbox gives up on: say exactly what happened to the answer. */
function refused(error, entry) {
  itemCard.classList.remove("leaving");
  if (error.status === 401) {
    page.setSave("error", "You are logged out. Your answer is kept in this browser and is " +
      "sent when you are back.", h("a", { href: `/login?next=${location.pathname}` }, "Log in"));
  } else if (error.status === 409 || error.status === 404) {
    page.showNotice(`Your answer to item ${entry.label} was not saved: ${error.message}`);
    page.setSave("error", `Item ${entry.label} not saved`);
    return loadNext();
  } else {
    page.setSave("error", "Not saved: correct the answer and press Enter again");
    page.showNotice(`Not saved: ${error.message}`);
  }
  return null;
}

async function send(entry) {
  page.setSave("saving", `Saving ${entry.label}…`);
  const result = await outbox.deliver(entry, retrying);
  if (result?.suggestion) lastSuggestion = { suggestion: result.suggestion, label: entry.label };
  saved += 1;
  page.setSave("saved", `Saved ${entry.label} · ${saved} this session`);
  if (qualification.pending) await qualification.refresh();
  if (saved % FEEDBACK_EVERY === 0 || feedback.open) loadFeedback();
}

async function submit() {
  if (!lease || busy) return;
  const missing = page.form.missing();
  if (missing.length) {
    page.form.showMissing(missing);
    page.showNotice(`Answer ${missing.map((w) => `“${titleOf(w.question)}”`).join(", ")} first.`);
    return;
  }
  page.clearNotice();
  busy = true;
  const entry = {
    id: lease.assignment_id,
    path: `/assignments/${lease.assignment_id}/submit`,
    body: { answers: page.form.answers(), time_ms: timer.ms },
    label: itemName(lease),
  };
  itemCard.classList.add("leaving");
  try {
    await send(entry);
    // A new guidelines version is shown, and acknowledged, before the next item appears: from
    // the moment it does, it takes the keys (busy ends in the same turn). A failed check is not
    // a failed answer (the next submit checks again).
    await loadNext(guidelinesPanel.acknowledgeChanges().catch(() => null));
  } catch (error) {
    await refused(error, entry);
  } finally {
    busy = false;
  }
}

async function leave(path, body, what) {
  if (!lease || busy) return;
  busy = true;
  try {
    await api("POST", path, body);
    page.setSave("saved", what);
    await loadNext();
  } catch (error) {
    page.showNotice(`${error.message}`);
  } finally {
    busy = false;
  }
}

async function skip() {
  if (!lease || busy) return;
  const reason = await page.ask({
    title: `Skip item ${itemName(lease)}`, label: "Why do you skip it?", submit: "Skip item",
    suggestions: SKIP_REASONS, hint: "Pick a suggestion or write your own; the reason helps fix the guidelines.",
  });
  if (reason) await leave(`/assignments/${lease.assignment_id}/skip`, { reason }, `Skipped ${itemName(lease)}`);
}

async function escalate() {
  if (!lease || busy) return;
  const question = await page.ask({
    title: `Ask about item ${itemName(lease)}`, label: "Your question to the project managers",
    submit: "Send question", multiline: true,
    hint: "The item leaves your queue until they answer; the answer appears under Feedback. Ctrl+Enter sends.",
  });
  if (question) {
    await leave(`/assignments/${lease.assignment_id}/escalate`, { question }, "Question sent");
  }
}

async function loadFeedback() {
  try {
    const found = await api("GET", `/projects/${page.slug}/feedback`);
    renderFeedback(found);
  } catch (error) {
    feedbackBody.replaceChildren(h("p", { class: "form-error" }, `Could not load: ${error.message}`));
  }
}

function renderFeedback({ reviews, escalations }) {
  const answered = escalations.filter((e) => e.answer).length;
  feedbackTitle.textContent = `Feedback and answers (${reviews.length + answered})`;
  const reviewItems = [...reviews].reverse().map((r) => h("li", { class: `review verdict-${r.verdict}` },
    h("p", {}, h("strong", {}, r.verdict === "reject" ? "Sent back" : "Corrected"),
      ` by ${r.reviewer}, ${when(r.created_at)}`),
    r.feedback ? h("q", { class: "feedback-text" }, r.feedback) : null,
    r.corrected_answers ? answerList(page.spec, r.corrected_answers, {}) : null));
  const questionItems = [...escalations].reverse().map((e) => h("li", { class: "escalation" },
    h("p", {}, h("strong", {}, `Your question on ${e.external_id ?? `#${e.item_id}`}: `), e.question),
    e.answer ? h("p", {}, h("strong", {}, `${e.answered_by}: `), e.answer)
      : h("p", { class: "muted" }, "Waiting for an answer.")));
  feedbackBody.replaceChildren(
    h("h3", {}, "From reviewers"),
    reviewItems.length ? h("ul", { class: "plain" }, reviewItems) : h("p", { class: "muted" }, "Nothing yet."),
    h("h3", {}, "Your questions"),
    questionItems.length ? h("ul", { class: "plain" }, questionItems) : h("p", { class: "muted" }, "None asked."));
}

/** Answers kept from an earlier visit (a failed network, a closed tab) go first. */
async function flushOutbox() {
  for (const entry of outbox.pending) {
    try {
      await send(entry);
    } catch (error) {
      if (error.status === 401) throw error;
      page.showNotice(`A kept answer to item ${entry.label} was not saved: ${error.message}`);
    }
  }
}

page.setCommands([
  ["Enter", "submit and show the next item", submit, "submit"],
  ["S", "skip (asks why)", skip, "skip"],
  ["Q", "ask a question about the item", escalate, "ask"],
  ["G", "show or hide the guidelines", () => { guidelines.open = !guidelines.open; }, "guidelines"],
  ["F", "show or hide feedback and answers", () => { feedback.open = !feedback.open; }, "feedback"],
  ["R", "check again for an item (when there is none)", () => lease || loadNext()],
]);
window.addEventListener("beforeunload", (event) => {
  if (outbox.atRisk) event.preventDefault();
});

try {
  await Promise.all([qualification.refresh(), guidelinesPanel.load()]);
  await guidelinesPanel.acknowledgeChanges().catch((error) => {
    if (error.status === 401) throw error;
  });
  await flushOutbox();
  await loadNext();
  loadFeedback();
} catch (error) {
  refused(error, { label: "kept from before" });
}
