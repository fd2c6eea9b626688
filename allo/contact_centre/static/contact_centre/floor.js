// Floor control (« Pilotage du plateau »): the router pushes the live figures on ws/wallboard/ (as for
// the wallboard); each push (at most one a second) fetches the server-rendered floor again, so the
// actions stay plain forms. Without the WebSocket, poll every 2 s until it comes back. The part is
// not replaced while the keyboard focus is inside it (it is when the focus leaves), and the alert of
// crossed thresholds (role=alert) only when the alerts change, so it is announced once.
(function () {
  "use strict";
  var root = document.getElementById("plateau");
  if (!root) return;
  var status = document.getElementById("mode");
  var alerts = document.getElementById("alertes");
  var deferred = false, timer = null, last = 0;
  var renderAlerts = alloLive.alertsRenderer(alerts);
  function focused() { return root.contains(document.activeElement) && document.activeElement !== root; }
  function refresh() {
    if (focused()) { deferred = true; return; }
    last = Date.now();
    fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        if (focused()) { deferred = true; return; }
        root.innerHTML = html;
      })
      .catch(function () {});
  }
  function schedule() {
    if (timer) return;
    timer = setTimeout(function () { timer = null; refresh(); }, Math.max(0, 1000 - (Date.now() - last)));
  }
  root.addEventListener("focusout", function () { if (deferred) { deferred = false; setTimeout(schedule, 0); } });
  function update(data) { if (data.alerts) renderAlerts(data.alerts); schedule(); }
  window.alloLiveFeed({ url: root.dataset.live, ws: root.dataset.ws, status: status, onData: update });
})();
