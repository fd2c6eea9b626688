// The desk's knowledge-base panel (htmx does the swapping): "Utiliser pour la clôture" puts the open
// fiche's id into the wrap-up form's « Fiche(s) utilisée(s) », without leaving the fiche.
(function () {
  "use strict";
  var live = document.getElementById("annonce-kb");

  function say(text) {
    if (!live) return;
    live.textContent = "";
    // a new text in a cleared region: screen readers announce it even when it repeats
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function wrapUpField() {
    return document.getElementById("fiches");
  }

  function listed(field) {
    return field.value.split(/[,;]/).map(function (id) { return id.trim(); }).filter(Boolean);
  }

  function refresh(root) {
    var field = wrapUpField();
    (root || document).querySelectorAll("[data-use-fiche]").forEach(function (button) {
      // without a call in progress there is no wrap-up to fill: the button stays hidden
      button.hidden = !field;
      if (field && listed(field).indexOf(button.getAttribute("data-use-fiche")) !== -1) {
        button.textContent = "Fiche notée pour la clôture";
      }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-use-fiche]");
    var field = wrapUpField();
    if (!button || !field) return;
    var id = button.getAttribute("data-use-fiche");
    var ids = listed(field);
    if (ids.indexOf(id) === -1) ids.push(id);
    field.value = ids.join(", ");
    button.textContent = "Fiche notée pour la clôture";
    say("Fiche " + id + " ajoutée aux fiches utilisées de la clôture.");
  });

  document.body.addEventListener("htmx:load", function (event) { refresh(event.detail.elt); });
  refresh(document);
})();
