(() => {
  const rows = [...document.querySelectorAll("tr[data-id]")];
  const counter = document.getElementById("selected");
  let cur = -1, last = null;
  const pick = r => r.querySelector("input.pick");
  const update = () => {
    let n = 0;
    for (const r of rows) {
      const on = !!(pick(r) && pick(r).checked);
      n += on;
      r.classList.toggle("picked", on);
    }
    if (counter) counter.textContent = n;
  };
  const focusRow = i => {
    if (!rows.length) return;
    cur = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach((r, j) => r.classList.toggle("cur", j === cur));
    rows[cur].scrollIntoView({ block: "nearest" });
  };
  document.addEventListener("click", e => {
    const box = e.target.closest("input.pick");
    if (box) {
      const i = rows.indexOf(box.closest("tr"));
      if (e.shiftKey && last !== null) {
        for (let j = Math.min(last, i); j <= Math.max(last, i); j++) {
          if (pick(rows[j])) pick(rows[j]).checked = box.checked;
        }
      }
      last = i; cur = i; focusRow(i);
    }
    const all = e.target.closest("input.pick-all");
    if (all) {
      const boxes = all.closest("table").querySelectorAll("input.pick");
      boxes.forEach(b => { b.checked = all.checked; });
    }
    if (box || all) update();
  });
  document.addEventListener("keydown", e => {
    const t = e.target;
    if (t.matches("input[type=text], input[type=search], input[type=password], textarea, select")) {
      if (e.key === "Escape") t.blur();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    // Enter and space keep their meaning on a focused button, link or checkbox.
    if ((e.key === "Enter" || e.key === " ") && t.matches("button, a, input")) return;
    const row = rows[cur];
    const click = sel => { const b = row && row.querySelector(sel); if (b) b.click(); };
    switch (e.key) {
      case "j": case "ArrowDown": focusRow(cur + 1); break;
      case "k": case "ArrowUp": focusRow(cur - 1); break;
      case "x": case " ":
        if (row && pick(row)) { pick(row).checked = !pick(row).checked; update(); }
        break;
      case "e": click("button.erp"); break;
      case "s": click("button.shop"); break;
      case "o": case "Enter": click("a.open"); break;
      case "/": { const s = document.getElementById("search"); if (s) s.focus(); break; }
      default: return;
    }
    e.preventDefault();
  });
  update();
})();
