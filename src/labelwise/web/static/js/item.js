// The item page: its data, every annotation (with each one's revisions and reviews on
// demand), questions asked about it, and its discussion thread.

import { api } from "./api.js";
import { answerList, compareTable } from "./answers-view.js";
import { byId, h, pageData, when } from "./dom.js";
import { renderFields } from "./fields.js";
import { prepareSpec } from "./spec.js";

const { slug, item: itemId, spec: rawSpec, layout } = pageData("item-page");
const spec = prepareSpec(rawSpec, layout);
const base = `/projects/${slug}/items/${itemId}`;

function historyButton(annotation, data) {
  const target = h("div", { class: "history" });
  const toggle = h("button", { type: "button", class: "small-button", "aria-expanded": "false",
    onclick: async () => {
      if (toggle.getAttribute("aria-expanded") === "true") {
        target.replaceChildren();
        toggle.setAttribute("aria-expanded", "false");
        return;
      }
      toggle.setAttribute("aria-expanded", "true");
      try {
        const history = await api("GET", `/annotations/${annotation.id}/history`);
        target.replaceChildren(renderHistory(history, data));
      } catch (error) {
        target.replaceChildren(h("p", { class: "form-error" }, error.message));
      }
    } }, `History of ${annotation.annotator}'s answer`);
  return h("div", {}, toggle, target);
}

function renderHistory({ revisions, annotation }, data) {
  const reviews = annotation.reviews;
  return h("ol", { class: "plain timeline" }, revisions.map((r) => h("li", {},
    h("p", {}, h("strong", {}, `Revision ${r.revision}`), ` · ${when(r.created_at)}`,
      r.time_ms ? ` · ${(r.time_ms / 1000).toFixed(1)} s` : ""),
    answerList(spec, r.answers, data),
    reviews.filter((v) => v.revision === r.revision).map((v) => h("p", { class: `review verdict-${v.verdict}` },
      h("strong", {}, `${v.verdict} by ${v.reviewer}`), ` · ${when(v.created_at)}`,
      v.feedback ? [": ", h("q", {}, v.feedback)] : "")))));
}

function renderAnswers(detail) {
  const parts = [];
  if (detail.final_answers) {
    parts.push(h("h3", {}, "Final answer"), answerList(spec, detail.final_answers, detail.data));
  }
  if (!detail.annotations.length) {
    parts.push(h("p", { class: "muted" }, "No annotations yet."));
  } else {
    parts.push(compareTable(spec, detail.data, detail.annotations.map((a) => ({
      title: h("span", {}, a.annotator,
        h("span", { class: "muted small" }, ` rev. ${a.revision}, ${a.review_status}`)),
      answers: a.answers,
    }))));
    parts.push(h("div", { class: "history-list" },
      detail.annotations.map((a) => historyButton(a, detail.data))));
  }
  byId("item-answers").replaceChildren(...parts);
}

function renderEscalations(escalations) {
  byId("item-escalations-card").hidden = !escalations.length;
  byId("item-escalations").replaceChildren(h("ul", { class: "plain" }, escalations.map((e) =>
    h("li", {}, h("p", {}, h("strong", {}, `${e.asked_by}: `), e.question),
      e.answer ? h("p", {}, h("strong", {}, `${e.answered_by}: `), e.answer)
        : h("p", { class: "muted" }, "Not answered yet.")))));
}

function renderThread(comments) {
  byId("thread").replaceChildren(...(comments.length ? comments.map((c) => h("li", { class: "comment" },
    h("p", { class: "muted small" }, h("strong", {}, c.author), ` · ${when(c.created_at)}`),
    h("p", { class: "comment-body" }, c.body))) : [h("li", { class: "muted" }, "No comments yet.")]));
}

const form = document.getElementById("comment-form");
form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = form.elements.body.value.trim();
  const error = form.querySelector(".form-error");
  if (!body) return;
  try {
    await api("POST", `${base}/comments`, { body });
    form.reset();
    error.hidden = true;
    renderThread(await api("GET", `${base}/comments`));
  } catch (failure) {
    error.textContent = `Not posted: ${failure.message}`;
    error.hidden = false;
  }
});

try {
  const detail = await api("GET", base);
  byId("item-fields").replaceChildren(...renderFields(spec, detail.data, { slug, itemId: detail.id }).flat().filter(Boolean));
  renderAnswers(detail);
  renderEscalations(detail.escalations);
  renderThread(detail.comments);
} catch (error) {
  byId("item-answers").replaceChildren(h("p", { class: "form-error" }, error.message));
}
