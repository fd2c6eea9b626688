// Wallboard: refresh the figures from /api/supervision/live every two seconds, without reloading.
(function () {
  "use strict";
  var root = document.getElementById("mur");
  if (!root) return;
  function text(el, value) { if (el && el.textContent !== String(value)) el.textContent = value; }
  function refresh() {
    fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        var t = data.today;
        text(root.querySelector('[data-kpi="offered"]'), t.offered);
        text(root.querySelector('[data-kpi="answered"]'), t.answered);
        text(root.querySelector('[data-kpi="abandoned"]'), t.abandoned);
        text(root.querySelector('[data-kpi="service_level"]'), t.service_level === null ? "—" : Math.round(t.service_level * 100) + " %");
        data.queues.forEach(function (q) {
          var row = root.querySelector('tr[data-queue="' + q.name + '"]');
          if (!row) return;
          text(row.querySelector('[data-f="waiting"]'), q.waiting);
          text(row.querySelector('[data-f="longest_wait_s"]'), q.longest_wait_s + " s");
        });
        Object.keys(data.agents).forEach(function (k) { text(root.querySelector('[data-agents="' + k + '"]'), data.agents[k]); });
        var body = root.querySelector("#transferts tbody");
        var rows = Object.keys(t.transfers).map(function (d) { return "<tr><td>" + d.replace(/[<>&"]/g, "") + "</td><td>" + Number(t.transfers[d]) + "</td></tr>"; });
        var html = rows.length ? rows.join("") : '<tr><td colspan="2">Aucun</td></tr>';
        if (body.innerHTML !== html) body.innerHTML = html;
        text(document.getElementById("maj"), new Date(data.generated_at).toLocaleTimeString("fr-FR"));
      })
      .catch(function () {});
  }
  setInterval(refresh, 2000);
})();
