// The project spec as the pages need it: leaf choices of taxonomies, titles, key hints.

/** The valid answers of a label question in display order: "hardware/laptop" in a taxonomy. */
function leafPaths(labels, prefix = "") {
  const out = [];
  for (const label of labels ?? []) {
    if (typeof label === "string") out.push(prefix + label);
    else for (const [parent, children] of Object.entries(label)) {
      out.push(...leafPaths(children, `${prefix}${parent}/`));
    }
  }
  return out;
}

/** The spec with `choices` and `hierarchical` worked out on every question. */
export function prepareSpec(spec) {
  for (const q of spec.questions) {
    q.choices = leafPaths(q.labels);
    q.hierarchical = (q.labels ?? []).some((label) => typeof label !== "string");
  }
  return spec;
}

export function titleOf(thing) {
  return thing.title || thing.name;
}

/** The question the number keys answer: the first single-label one (else a preference). */
export function primaryQuestion(spec) {
  return spec.questions.find((q) => q.type === "single_label") ??
    spec.questions.find((q) => q.type === "preference") ?? null;
}

/** The key for the option at `index`: 1-9, then 0 for the tenth; null beyond. */
export function digitFor(index) {
  return index < 9 ? String(index + 1) : index === 9 ? "0" : null;
}

export function indexOfDigit(key) {
  return key === "0" ? 9 : Number(key) - 1;
}
