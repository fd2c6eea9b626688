// The live figures of the supervision pages (wallboard, floor control): pushed by the router on the
// page's WebSocket (ws/wallboard/); while it is unavailable, polled every 2 s from the page's JSON
// address until it comes back. `status` says which of the two is at work.
window.alloLiveFeed = function (options) {
  "use strict";
  var polling = null;
  function say(message) {
    if (options.status && options.status.textContent !== message) options.status.textContent = message;
  }
  function poll() {
    fetch(options.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) options.onData(data); })
      .catch(function () {});
  }
  function startPolling() {
    if (polling) return;
    say("interrogation toutes les 2 secondes");
    poll();
    polling = setInterval(poll, 2000);
  }
  function connect() {
    if (!("WebSocket" in window)) { startPolling(); return; }
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + options.ws);
    ws.onopen = function () {
      if (polling) { clearInterval(polling); polling = null; }
      say("en direct");
    };
    ws.onmessage = function (event) { options.onData(JSON.parse(event.data)); };
    ws.onclose = function () { startPolling(); setTimeout(connect, 10000); };
  }
  connect();
};

// Shared by both pages: a text written only when it changed (a live region is not re-announced),
// HTML escaped, and the alert of crossed thresholds (role=alert) replaced only when the alerts
// change, so it is announced once.
window.alloLive = {
  text: function (el, value) { if (el && el.textContent !== String(value)) el.textContent = value; },
  escape: function (s) {
    return String(s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  },
  alertsRenderer: function (container) {
    var last = JSON.stringify(Array.from(container.querySelectorAll("li")).map(function (li) { return li.textContent; }));
    return function (list) {
      var key = JSON.stringify(list || []);
      if (key === last) return;
      last = key;
      container.innerHTML = list && list.length ? '<div class="fr-alert fr-alert--error fr-mb-3w" role="alert"><h2 class="fr-alert__title">Seuils franchis</h2><ul>' +
        list.map(function (a) { return "<li>" + window.alloLive.escape(a) + "</li>"; }).join("") + "</ul></div>" : "";
    };
  },
};
