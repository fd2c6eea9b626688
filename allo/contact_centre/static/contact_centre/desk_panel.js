// The desk's knowledge-base panel (htmx does the swapping): "Utiliser pour la clôture" ticks the open
// fiche in the wrap-up form's « Fiche(s) utilisée(s) » (adding it there if the list lacks it), without
// leaving the fiche.
(function () {
  "use strict";
  var live = document.getElementById("annonce-kb");

  function say(text) {
    if (!live) return;
    live.textContent = "";
    // a new text in a cleared region: screen readers announce it even when it repeats
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function wrapUpList() {
    return document.getElementById("choix-fiches");
  }

  function box(list, id) {
    var found = null;
    list.querySelectorAll("input[name=fiches]").forEach(function (input) {
      if (input.value === id) found = input;
    });
    return found;
  }

  function refresh(root) {
    var list = wrapUpList();
    (root || document).querySelectorAll("[data-use-fiche]").forEach(function (button) {
      // without a call in progress there is no wrap-up to fill: the button stays hidden
      button.hidden = !list;
      var input = list && box(list, button.getAttribute("data-use-fiche"));
      if (input && input.checked) button.textContent = "Fiche notée pour la clôture";
    });
  }

  function add(list, id, title) {
    var input = box(list, id);
    if (input) {
      input.checked = true;
      return;
    }
    var empty = document.getElementById("aucune-fiche");
    if (empty) empty.remove();
    var element = document.createElement("div");
    element.className = "fr-fieldset__element";
    var group = document.createElement("div");
    group.className = "fr-checkbox-group fr-checkbox-group--sm";
    input = document.createElement("input");
    input.type = "checkbox";
    input.name = "fiches";
    input.value = id;
    input.id = "fiche-cochee-" + id;
    input.checked = true;
    var label = document.createElement("label");
    label.className = "fr-label";
    label.htmlFor = input.id;
    label.textContent = (title || id) + " ";
    var hint = document.createElement("span");
    hint.className = "fr-hint-text";
    hint.textContent = id;
    label.appendChild(hint);
    group.appendChild(input);
    group.appendChild(label);
    element.appendChild(group);
    list.insertBefore(element, list.firstChild);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-use-fiche]");
    var list = wrapUpList();
    if (!button || !list) return;
    var id = button.getAttribute("data-use-fiche");
    add(list, id, button.getAttribute("data-fiche-title"));
    button.textContent = "Fiche notée pour la clôture";
    say("Fiche " + id + " cochée dans les fiches utilisées de la clôture.");
  });

  document.body.addEventListener("htmx:load", function (event) { refresh(event.detail.elt); });
  refresh(document);
})();
