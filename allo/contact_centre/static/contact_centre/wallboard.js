// Wallboard: the router pushes the live figures on ws/wallboard/ (at most every second after a
// change, every 5 s anyway); if the WebSocket is unavailable, poll /api/supervision/live every 2 s
// until it comes back.
(function () {
  "use strict";
  var root = document.getElementById("mur");
  if (!root) return;
  var status = document.getElementById("mode");
  var labels = JSON.parse(root.dataset.domains || "{}");
  var alerts = document.getElementById("alertes");
  var text = alloLive.text, escape = alloLive.escape, renderAlerts = alloLive.alertsRenderer(alerts);
  var BADGES = { alert: ["fr-badge--error", "Seuil franchi"], ok: ["fr-badge--success", "Dans les seuils"] };
  function badge(cell, status) {
    var b = BADGES[status] || ["fr-badge--no-icon", "Sans seuil"];
    var html = '<p class="fr-badge fr-badge--sm ' + b[0] + '">' + b[1] + "</p>";
    if (cell && cell.innerHTML !== html) cell.innerHTML = html;
  }
  function render(data) {
    var t = data.today;
    text(root.querySelector('[data-kpi="offered"]'), t.offered);
    text(root.querySelector('[data-kpi="answered"]'), t.answered);
    text(root.querySelector('[data-kpi="abandoned"]'), t.abandoned);
    text(root.querySelector('[data-kpi="service_level"]'), t.service_level === null ? "—" : Math.round(t.service_level * 100) + " %");
    data.queues.forEach(function (q) {
      var row = root.querySelector('tr[data-queue="' + q.name + '"]');
      if (!row) return;
      text(row.querySelector('[data-f="open"]'), q.open ? "Ouvert" : "Fermé");
      text(row.querySelector('[data-f="waiting"]'), q.waiting);
      text(row.querySelector('[data-f="longest_wait_s"]'), q.longest_wait_s + " s");
      text(row.querySelector('[data-f="service_level"]'), q.service_level === null ? "—" : Math.round(q.service_level * 100) + " %");
      text(row.querySelector('[data-f="staffed"]'), q.staffed);
      text(row.querySelector('[data-f="ready"]'), q.ready);
      badge(row.querySelector('[data-f="status"]'), q.status);
    });
    renderAlerts(data.alerts);
    text(root.querySelector('[data-kpi="lost"]'), t.lost);
    Object.keys(data.agents).forEach(function (k) { text(root.querySelector('[data-agents="' + k + '"]'), data.agents[k]); });
    var body = root.querySelector("#transferts tbody");
    var rows = Object.keys(t.transfers).map(function (d) { return "<tr><td>" + (labels[d] || d).replace(/[<>&"]/g, "") + "</td><td>" + Number(t.transfers[d]) + "</td></tr>"; });
    var html = rows.length ? rows.join("") : '<tr><td colspan="2">Aucun</td></tr>';
    if (body.innerHTML !== html) body.innerHTML = html;
    text(document.getElementById("maj"), new Date(data.generated_at).toLocaleTimeString("fr-FR"));
  }
  window.alloLiveFeed({ url: root.dataset.url, ws: root.dataset.ws, status: status, onData: render });
})();
