// The escalation queue: answering a question sends it to the annotator and the item back
// to the pool, through the same API endpoint as scripts use.

import { api } from "./api.js";
import { byId, h } from "./dom.js";

const { slug } = byId("escalations").dataset;

for (const form of document.querySelectorAll("form.answer-escalation")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = form.elements.answer.value.trim();
    const error = form.querySelector(".form-error");
    if (!answer) return;
    try {
      await api("POST", `/projects/${slug}/escalations/${form.dataset.escalation}/answer`, { answer });
      form.replaceWith(h("p", { class: "notice ok", role: "status" },
        h("strong", {}, "Answered: "), answer));
    } catch (failure) {
      error.textContent = `Not sent: ${failure.message}`;
      error.hidden = false;
    }
  });
}
