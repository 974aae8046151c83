// The items browser, keyboard first: "/" goes to the text search, j and k move through the
// rows' links, Enter (the browser's own) opens the focused item.

const links = () => [...document.querySelectorAll("#item-rows a.item-link")];

function typing(target) {
  return target instanceof HTMLElement && target.closest("input, select, textarea") !== null;
}

function move(step) {
  const rows = links();
  if (rows.length === 0) return;
  const at = rows.indexOf(document.activeElement);
  const next = at < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.min(Math.max(at + step, 0), rows.length - 1);
  rows[next].focus();
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  if (event.key === "/") {
    event.preventDefault();
    document.getElementById("f-q").focus();
  } else if (event.key === "j") {
    move(1);
  } else if (event.key === "k") {
    move(-1);
  }
});
