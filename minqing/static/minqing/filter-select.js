// A filter box above each <select data-filter="placeholder"> (one or several choices): typing narrows the
// options to those whose data-keys (text, pinyin, initials) contain every typed word. Chosen
// options always stay visible, so a filter never hides what will be submitted. In a list of
// several choices a click picks or drops one option and keeps the others (no Ctrl key, which
// nobody knows to hold and a tablet does not have).
(function () {
  function attach(select) {
    if (select.dataset.filterReady) return;
    select.dataset.filterReady = "1";
    var box = document.createElement("input");
    box.type = "search";
    box.className = "input filter-select";
    box.placeholder = select.dataset.filter;
    box.setAttribute("aria-label", select.dataset.filter);
    box.setAttribute("autocomplete", "off");
    var count = document.createElement("span");
    count.className = "small muted filter-select-count";
    count.setAttribute("aria-live", "polite");
    select.parentNode.insertBefore(box, select);
    select.parentNode.insertBefore(count, select.nextSibling);

    function apply() {
      var words = box.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      Array.prototype.forEach.call(select.options, function (option) {
        var keys = (option.dataset.keys || option.text).toLowerCase();
        var match = words.every(function (w) { return keys.indexOf(w) !== -1; });
        option.hidden = !(match || option.selected);
        if (!option.hidden) shown += 1;
      });
      count.textContent = words.length ? shown + " / " + select.options.length : "";
    }
    box.addEventListener("input", apply);
    if (select.multiple) {
      select.addEventListener("mousedown", function (e) {
        var option = e.target;
        if (option.tagName !== "OPTION" || option.disabled) return;
        e.preventDefault();
        var top = select.scrollTop;
        option.selected = !option.selected;
        select.focus();
        select.scrollTop = top;  // focusing may scroll the list back to its first choice
        select.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }
    // Enter in the box must not submit the form half-filled.
    box.addEventListener("keydown", function (e) {
      if (e.key === "Enter") e.preventDefault();
    });
  }

  function attachAll(root) {
    (root || document).querySelectorAll("select[data-filter]").forEach(attach);
  }
  document.addEventListener("DOMContentLoaded", function () { attachAll(); });
  document.addEventListener("htmx:afterSwap", function (e) { attachAll(e.target); });
})();
