// lote's only script: drag-and-drop onto the upload form, and live
// progress on a batch's page. Everything works without it, by reloading.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload-form");
  if (form) {
    const input = document.getElementById("file");
    for (const ev of ["dragenter", "dragover"]) {
      form.addEventListener(ev, (e) => { e.preventDefault(); form.classList.add("over"); });
    }
    form.addEventListener("dragleave", () => form.classList.remove("over"));
    form.addEventListener("drop", (e) => {
      e.preventDefault();
      form.classList.remove("over");
      if (e.dataTransfer.files.length === 1) {
        input.files = e.dataTransfer.files;
        form.submit();
      }
    });
  }

  const batch = document.getElementById("batch");
  if (!batch) return;
  const live = document.getElementById("live");
  const bar = document.getElementById("bar");
  let sending = batch.dataset.sending === "true";
  const poll = async () => {
    let p;
    try {
      const r = await fetch("/batches/" + batch.dataset.id + "/progress", { headers: { Accept: "application/json" } });
      if (!r.ok) return;
      p = await r.json();
    } catch (e) {
      return;
    }
    document.getElementById("status").textContent = p.label;
    document.getElementById("status").className = "badge " + p.status;
    if (bar && p.total > 0) { bar.max = p.total; bar.value = p.done; }
    const list = document.getElementById("counts");
    list.textContent = "";
    for (const [state, n] of Object.entries(p.counts)) {
      const li = document.createElement("li");
      const s = document.createElement("span");
      s.className = "state " + state;
      s.textContent = (p.states && p.states[state]) || state;
      const v = document.createElement("span");
      v.dataset.state = state;
      v.textContent = n;
      li.append(s, " ", v);
      list.append(li);
    }
    if (live) live.textContent = p.text;
    const now = p.status === "sending";
    if (sending && !now) {
      // Finished or paused: reload once, so the buttons and the rows match.
      window.location.replace(window.location.pathname);
      return;
    }
    sending = now;
  };
  poll();
  if (sending) setInterval(poll, 1000);
});
