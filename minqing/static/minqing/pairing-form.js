/* The pairing form: only the fields the chosen programme asks for (its target and kind). */
(function () {
  var sel = document.getElementById("id_programme");
  function show() {
    var opt = sel.options[sel.selectedIndex];
    var target = opt ? opt.dataset.target : "", kind = opt ? opt.dataset.kind : "";
    document.querySelectorAll("[data-target-field]").forEach(function (el) {
      el.hidden = !!target && el.dataset.targetField !== target;
    });
    document.querySelectorAll("[data-kind-field]").forEach(function (el) {
      var isGroup = el.dataset.kindField === "group";
      el.hidden = !!kind && (kind === "group") !== isGroup;
    });
  }
  sel.addEventListener("change", show);
  show();
})();
