// Desk live feed: the router pushes offers and state changes on ws/desk/; the desk reloads to show them.
(function () {
  "use strict";
  var root = document.getElementById("poste");
  if (!root) return;
  var chrono = document.getElementById("chrono");
  if (chrono) {
    var start = Date.now() - 1000 * parseInt(chrono.dataset.elapsed || "0", 10);
    var target = parseInt(chrono.dataset.target, 10);
    setInterval(function () {
      var s = Math.floor((Date.now() - start) / 1000);
      var m = Math.floor(s / 60);
      chrono.textContent = m + " min " + String(s % 60).padStart(2, "0") + " s";
      chrono.classList.toggle("allo-depasse", s > target);
      if (s === target) document.getElementById("annonce").textContent = "Objectif de " + Math.round(target / 60) + " minutes dépassé.";
    }, 1000);
  }
  var shownState = root.dataset.state;
  var shownContact = root.dataset.contact;
  var busy = function () {
    var el = document.activeElement;
    return el && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && el.type !== "radio"));
  };
  function connect(delay) {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + root.dataset.ws);
    ws.onmessage = function (msg) {
      var ev = JSON.parse(msg.data);
      var changed = (ev.type === "Assign" && String(ev.contact) !== shownContact) ||
        (ev.type === "AgentStateChanged" && ev.state !== shownState) ||
        ev.type === "ConsultStarted" || ev.type === "ConsultEnded";
      if (!changed) return;
      if (ev.type === "Assign") document.getElementById("annonce").textContent = "Nouvel appel.";
      if (ev.type === "ConsultStarted") document.getElementById("annonce").textContent = "Consultation.";
      // after a refused wrap-up the page is a POST's answer: reload the desk's own address
      if (ev.type === "Assign" || !busy()) {
        if (root.dataset.reload) location.replace(root.dataset.reload); else location.reload();
      }
    };
    ws.onclose = function () { setTimeout(function () { connect(Math.min(10000, delay * 2)); }, delay); };
  }
  connect(1000);
})();
