// The surges' alert on the supervision pages: fetched again every 30 s (the server finds surges once a
// minute), and replaced only when its text changed, so its role=alert is announced once per change.
(function () {
  "use strict";
  var root = document.getElementById("pics");
  if (!root) return;
  function refresh() {
    fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var next = document.createElement("div");
        next.innerHTML = html;
        if (next.textContent.trim() !== root.textContent.trim()) root.innerHTML = html;
      })
      .catch(function () {});
  }
  setInterval(refresh, 30000);
})();
