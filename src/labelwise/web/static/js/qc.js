// What the review and adjudication screens share: taking the next piece of work with the
// whole item (every annotator's answers), and the "nothing to do" state.

import { api } from "./api.js";
import { h } from "./dom.js";
import { Outbox } from "./outbox.js";
import { button } from "./work.js";

/** The next lease from `queue` ("review" or "adjudication") and its item's detail. */
export async function takeWork(page, queue) {
  const lease = await api("POST", `/projects/${page.slug}/${queue}/next`);
  if (!lease) return null;
  const detail = await api("GET", `/projects/${page.slug}/items/${lease.item.id}`);
  return { lease, detail };
}

export function outboxFor(page, queue) {
  return new Outbox(`labelwise:${queue}:${page.user}:${page.slug}`);
}

export function showEmpty(page, title, text, retry) {
  page.form = null;
  page.itemLabel.textContent = "";
  page.screen.replaceChildren(h("section", { class: "card empty-state" },
    h("h2", {}, title), h("p", {}, text),
    h("p", {}, button("Check now", "R", retry), " ",
      h("a", { href: `/projects/${page.slug}` }, "Back to the project"))));
}

/** Send a decision through the outbox, showing its progress; true once it is saved. */
export async function sendDecision(page, outbox, entry) {
  page.setSave("saving", `Saving ${entry.label}…`);
  try {
    await outbox.deliver(entry, (error, delay) => page.setSave("retrying",
      `Not saved yet (${error.message}); retrying in ${Math.round(delay / 1000)} s.`,
      button("Retry now", null, () => outbox.retryNow())));
  } catch (error) {
    page.setSave("error", "Not saved");
    page.showNotice(`Not saved: ${error.message}`);
    return false;
  }
  page.setSave("saved", `Saved ${entry.label}`);
  page.clearNotice();
  return true;
}

/** Re-send decisions kept from an earlier visit before taking new work. */
export async function flush(page, outbox) {
  for (const entry of outbox.pending) await sendDecision(page, outbox, entry);
}

export function discussLink(page, lease) {
  return h("a", { href: `/projects/${page.slug}/items/${lease.item.id}`, target: "_blank",
    rel: "noopener" }, "Discuss");
}
