// The project spec as the pages need it: each question with the layout the server gives its
// type (labelwise.spec.questions), titles, key hints.

/**
 * The spec with each question's `layout` (its widget and options; `keys`: the number keys
 * answer it), `choices` (leaf paths of a taxonomy, a span question's labels), `hierarchical`
 * and `responses` (a ranking's, as [field name, field title]).
 */
export function prepareSpec(spec, layout) {
  const fields = new Map(spec.fields.map((f) => [f.name, f]));
  for (const q of spec.questions) {
    q.layout = layout[q.name];
    q.choices = q.layout.choices ?? [];
    q.hierarchical = q.layout.hierarchical ?? false;
    q.responses = (q.layout.responses ?? []).map((name) => [name, titleOf(fields.get(name) ?? { name })]);
  }
  return spec;
}

export function titleOf(thing) {
  return thing.title || thing.name;
}

/** The question the number keys answer (the server picks it: the first single-label one,
 * else the first preference, else the first ranking). */
export function primaryQuestion(spec) {
  return spec.questions.find((q) => q.layout.keys) ?? null;
}

/** The key for the option at `index`: 1-9, then 0 for the tenth; null beyond. */
export function digitFor(index) {
  return index < 9 ? String(index + 1) : index === 9 ? "0" : null;
}

export function indexOfDigit(key) {
  return key === "0" ? 9 : Number(key) - 1;
}
