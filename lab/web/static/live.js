// The live parts of a biglab page: when the lab's feed says something changed (server-sent
// events), re-fetch every [data-fragment] and [data-svg] of the page. Forms post with fetch.
(function () {
  const live = document.getElementById("live");
  async function refresh() {
    for (const el of document.querySelectorAll("[data-fragment]")) {
      const r = await fetch(el.dataset.fragment);
      if (r.ok) el.innerHTML = await r.text();
    }
    for (const el of document.querySelectorAll("[data-svg]")) {
      const r = await fetch(el.dataset.svg);
      if (r.ok) el.innerHTML = await r.text();
    }
  }
  let busy = false, again = false;
  async function changed() {
    if (busy) { again = true; return; }
    busy = true;
    try { await refresh(); } finally { busy = false; }
    if (again) { again = false; changed(); }
  }
  if (live) {
    const es = new EventSource(live.dataset.events);
    es.addEventListener("change", (e) => { live.textContent = "live #" + e.data; changed(); });
    es.onerror = () => { live.textContent = "reconnecting"; };
  }
  for (const form of document.querySelectorAll("form[data-action]")) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const out = document.getElementById("fault-result");
      const r = await fetch(form.dataset.action, {method: "POST", body: new FormData(form)});
      const body = await r.json();
      if (out) { out.textContent = body.ok ? body.message : body.error; out.className = body.ok ? "" : "error"; }
    });
  }
})();
