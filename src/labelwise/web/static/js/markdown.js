// A small, safe Markdown subset rendered straight to DOM nodes: headings, paragraphs,
// lists, block quotes, tables, code, emphasis and http(s)/mailto links. Raw HTML in the source is
// never interpreted; it shows as the text it is.

import { h } from "./dom.js";

const SAFE_URL = /^(https?:|mailto:)/i;
const INLINE = new RegExp(
  [
    "(`+)([^`]|[^`][\\s\\S]*?[^`])\\1(?!`)", // code
    "\\[([^\\]]+)\\]\\(([^)\\s]+)\\)", // [text](url)
    "\\*\\*(\\S(?:[\\s\\S]*?\\S)?)\\*\\*", // **strong**
    "(?<![\\w])__(\\S(?:[\\s\\S]*?\\S)?)__(?![\\w])", // __strong__
    "\\*(\\S(?:[^*]*?\\S)?)\\*", // *em*
    "(?<![\\w])_(\\S(?:[^_]*?\\S)?)_(?![\\w])", // _em_
    "(https?:\\/\\/[^\\s<]*[^\\s<.,;:!?)\\]'\"])", // bare URL
  ].join("|"),
  "g",
);

function link(url, children) {
  if (!SAFE_URL.test(url)) return children;
  return h("a", { href: url, rel: "noopener noreferrer nofollow", target: "_blank" }, children);
}

export function inline(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1]) out.push(h("code", {}, m[2]));
    else if (m[3]) out.push(link(m[4], inline(m[3])));
    else if (m[5] || m[6]) out.push(h("strong", {}, inline(m[5] ?? m[6])));
    else if (m[7] || m[8]) out.push(h("em", {}, inline(m[7] ?? m[8])));
    else out.push(link(m[9], m[9]));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

const FENCE = /^\s*(```|~~~)/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
const QUOTE = /^\s{0,3}>\s?/;
const BULLET = /^\s{0,3}[-*+]\s+/;
const NUMBERED = /^\s{0,3}\d{1,9}[.)]\s+/;
const TABLE_ROW = /^\s{0,3}\|.*\|\s*$/;
const TABLE_RULE = /^\s{0,3}\|(\s*:?-{3,}:?\s*\|)+\s*$/;

/** A table row's cells; `\|` is a literal bar inside a cell. */
function cells(line) {
  return line.trim().slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim().replaceAll("\\|", "|"));
}

function table(header, rows) {
  const row = (tag, values) => h("tr", {}, values.map((v) => h(tag, {}, inline(v))));
  return h("table", { class: "table compact" }, [
    h("thead", {}, row("th", cells(header))),
    h("tbody", {}, rows.map((line) => row("td", cells(line)))),
  ]);
}

function isBlockStart(line) {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) ||
    BULLET.test(line) || NUMBERED.test(line) || TABLE_ROW.test(line);
}

/** The Markdown source as a fragment of safe elements. */
export function renderMarkdown(source) {
  const lines = String(source ?? "").replace(/\r\n?/g, "\n").split("\n");
  const frag = document.createDocumentFragment();
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i += 1;
    } else if (FENCE.test(line)) {
      const fence = line.trim().slice(0, 3);
      const code = [];
      for (i += 1; i < lines.length && !lines[i].trim().startsWith(fence); i += 1) {
        code.push(lines[i]);
      }
      i += 1;
      frag.append(h("pre", {}, h("code", {}, code.join("\n"))));
    } else if (HEADING.test(line)) {
      const [, hashes, text] = line.match(HEADING);
      frag.append(h(`h${hashes.length}`, {}, inline(text)));
      i += 1;
    } else if (TABLE_ROW.test(line) && TABLE_RULE.test(lines[i + 1] ?? "")) {
      const rows = [];
      for (i += 2; i < lines.length && TABLE_ROW.test(lines[i]); i += 1) rows.push(lines[i]);
      frag.append(table(line, rows));
    } else if (RULE.test(line)) {
      frag.append(h("hr"));
      i += 1;
    } else if (QUOTE.test(line)) {
      const quoted = [];
      for (; i < lines.length && QUOTE.test(lines[i]); i += 1) {
        quoted.push(lines[i].replace(QUOTE, ""));
      }
      frag.append(h("blockquote", {}, renderMarkdown(quoted.join("\n"))));
    } else if (BULLET.test(line) || NUMBERED.test(line)) {
      const marker = BULLET.test(line) ? BULLET : NUMBERED;
      const list = h(marker === BULLET ? "ul" : "ol");
      while (i < lines.length && marker.test(lines[i])) {
        const parts = [lines[i].replace(marker, "")];
        for (i += 1; i < lines.length && /^\s{2,}\S/.test(lines[i]) &&
          !marker.test(lines[i]); i += 1) {
          parts.push(lines[i].trim());
        }
        list.append(h("li", {}, inline(parts.join(" "))));
      }
      frag.append(list);
    } else {
      const para = [];
      for (; i < lines.length && lines[i].trim() && !(para.length && isBlockStart(lines[i]));
        i += 1) {
        para.push(lines[i].trim());
      }
      frag.append(h("p", {}, inline(para.join(" "))));
    }
  }
  return frag;
}
