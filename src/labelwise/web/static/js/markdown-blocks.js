// Renders every [data-markdown] element of a server-rendered page (e.g. guidelines).
import { renderMarkdown } from "./markdown.js";

for (const el of document.querySelectorAll("[data-markdown]")) {
  el.replaceChildren(renderMarkdown(el.dataset.markdown));
}
