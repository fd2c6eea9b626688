// htmx "settles" a swap by first giving each new element the attributes of the old element with the
// same id, style included; DSFR's scripts set styles on the elements they drive (an accordion's
// height), and copying one as an attribute is an inline style the CSP refuses (a console error per
// element). The old content is about to go: its style attributes are dropped before the swap.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target) return;
    target.querySelectorAll("[style]").forEach(function (element) { element.removeAttribute("style"); });
  });
})();
