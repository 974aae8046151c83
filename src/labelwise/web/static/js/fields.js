// Shows an item's data by the spec's field types. Every value is shown as text, as
// sanitised Markdown, or as an image whose address is checked first.

import { h } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

const CHAT_ROLES = new Set(["user", "assistant", "system", "human", "bot", "agent", "customer"]);

function asText(value) {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function empty() {
  return h("p", { class: "muted" }, "(empty)");
}

/** An http(s) URL as it is; a relative path (a file of the project) through the item's
 * file route, which lets only those who may see the item have it; else null. */
function imageUrl(value, field, options) {
  if (typeof value !== "string" || !value.trim()) return null;
  const text = value.trim();
  if (/^https?:\/\//i.test(text)) return text;
  if (/^[a-z][a-z0-9+.-]*:/i.test(text) || text.startsWith("/") || text.includes("\\")) return null;
  if (text.split("/").some((p) => p === ".." || p === "." || p === "")) return null;
  if (options.itemId == null) return null;
  const item = `/api/v1/projects/${encodeURIComponent(options.slug)}/items/${encodeURIComponent(options.itemId)}`;
  return `${item}/files/${encodeURIComponent(field.name)}`;
}

function image(value, field, options) {
  const url = imageUrl(value, field, options);
  if (!url) return h("p", { class: "notice error" }, `image not shown: ${asText(value) || "no address"}`);
  const failed = h("p", { class: "notice error", hidden: true }, `the image could not be loaded: ${value}`);
  const img = h("img", { src: url, alt: `${field.title || field.name} of this item`, class: "item-image" });
  img.addEventListener("error", () => { failed.hidden = false; img.hidden = true; });
  return h("div", {}, img, failed);
}

function chat(value) {
  if (!Array.isArray(value)) return h("div", { class: "text" }, asText(value));
  return h("ol", { class: "chat" }, value.map((turn) => {
    const role = typeof turn?.role === "string" ? turn.role : "";
    const kind = CHAT_ROLES.has(role.toLowerCase()) ? role.toLowerCase() : "other";
    const content = turn && typeof turn === "object" && "content" in turn ? turn.content : turn;
    return h("li", { class: `turn turn-${kind}` },
      h("span", { class: "role" }, role || "turn"),
      h("div", { class: "text" }, asText(content)));
  }));
}

function pair(value) {
  const sides = value && typeof value === "object" && !Array.isArray(value) ? value : {};
  return h("div", { class: "pair" }, ["a", "b"].map((side) =>
    h("section", { class: "side", "aria-label": `Response ${side.toUpperCase()}` },
      h("h4", {}, `Response ${side.toUpperCase()}`),
      side in sides ? h("div", { class: "text" }, asText(sides[side])) : empty())));
}

function body(field, value, options) {
  if (value === undefined || value === null || value === "") return empty();
  const surface = options.surfaces?.get(field.name);
  if (surface) return surface.el;
  switch (field.type) {
    case "markdown": return h("div", { class: "md" }, renderMarkdown(asText(value)));
    case "image": return image(value, field, options);
    case "chat": return chat(value);
    case "pair": return pair(value);
    default: return h("div", { class: "text" }, asText(value));
  }
}

/** The item's fields: metadata as a small line on top, then each field under its title. */
export function renderFields(spec, data, options = {}) {
  const metadata = spec.fields.filter((f) => f.type === "metadata" && data[f.name] != null);
  const meta = metadata.length ? h("dl", { class: "meta" }, metadata.map((f) => [
    h("dt", {}, f.title || f.name), h("dd", {}, asText(data[f.name])),
  ])) : null;
  const shown = spec.fields.filter((f) => f.type !== "metadata");
  return [meta, shown.map((field) =>
    h("section", { class: `field field-${field.type}` },
      h("h3", { class: "field-title" }, field.title || field.name),
      body(field, data[field.name], options)))];
}
