/* Small behaviours pages ask for by attribute, so that no page needs inline JavaScript (the
   Content-Security-Policy allows scripts from this site only):
   data-confirm="…" on a form (or on one of its submit buttons, for that button only) asks
   before it is sent; data-busy="…" on a form whose answer
   takes seconds (an import, building a campaign's list) greys its buttons and shows the text
   once it is sent, so nobody clicks twice or thinks it stalled; data-autosubmit on a field
   sends its form when it changes; data-print on a button prints the page; a list's filter
   form whose hx-trigger names "filters-changed" hears every one of its drop-downs, and shows
   the address's filters again when Back restores an earlier search. */
(function () {
  function busy(form) {
    form.setAttribute("aria-busy", "true");
    form.querySelectorAll("button, input[type=submit]").forEach(function (button) {
      button.dataset.idleText = button.tagName === "INPUT" ? button.value : button.textContent;
      button.disabled = true;
      if (button.type === "submit") {
        if (button.tagName === "INPUT") button.value = form.dataset.busy;
        else button.textContent = form.dataset.busy;
      }
    });
  }
  function idle(form) {
    form.removeAttribute("aria-busy");
    form.querySelectorAll("button, input[type=submit]").forEach(function (button) {
      if (!("idleText" in button.dataset)) return;
      if (button.tagName === "INPUT") button.value = button.dataset.idleText;
      else button.textContent = button.dataset.idleText;
      delete button.dataset.idleText;
      button.disabled = false;
    });
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.dataset) return;
    var ask = (e.submitter && e.submitter.dataset.confirm) || form.dataset.confirm;
    if (ask && !window.confirm(ask)) e.preventDefault();
    // After the form's fields are taken: a button disabled now would drop its own name=value.
    if (form.dataset.busy && !e.defaultPrevented) {
      if (form.getAttribute("aria-busy") === "true") e.preventDefault();
      else window.setTimeout(busy, 0, form);
    }
  });
  // Back to a page kept by the browser (back/forward cache): its forms are idle again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[aria-busy=true]").forEach(idle);
  });
  // The header's sections scroll sideways on a phone: this page's section is brought into
  // view, and while more sections lie to either side the strip says so (data-more, a fade).
  function navFits(nav) {
    var right = nav.scrollLeft + nav.clientWidth < nav.scrollWidth - 2;
    var left = nav.scrollLeft > 2;
    var more = left && right ? "both" : left ? "left" : right ? "right" : "";
    if (more) nav.setAttribute("data-more", more);
    else nav.removeAttribute("data-more");
  }
  document.addEventListener("DOMContentLoaded", function () {
    var nav = document.getElementById("nav");
    if (!nav) return;
    var here = nav.querySelector("[aria-current=page]");
    if (here && nav.scrollWidth > nav.clientWidth) {
      nav.scrollLeft = here.offsetLeft - nav.offsetLeft - (nav.clientWidth - here.offsetWidth) / 2;
    }
    navFits(nav);
    nav.addEventListener("scroll", function () { navFits(nav); }, { passive: true });
    window.addEventListener("resize", function () { navFits(nav); });
  });
  document.addEventListener("change", function (e) {
    var field = e.target;
    if (field.dataset && "autosubmit" in field.dataset && field.form) field.form.submit();
    // A list's filter form refreshes its results when any of its drop-downs changes
    // (hx-trigger "filters-changed"; htmx's "from:find select" heard the first one only).
    if (field.tagName === "SELECT" && field.form && window.htmx &&
        (field.form.getAttribute("hx-trigger") || "").indexOf("filters-changed") >= 0) {
      window.htmx.trigger(field.form, "filters-changed");
    }
  });
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-print]")) window.print();
  });
  // A refusal the server addressed to its place (HX-Retarget: a reveal form's message) is
  // shown; htmx drops 4xx answers, and nothing happened. Other error pages (an expired CSRF
  // token's 403) are still not swapped into a small target.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.status < 500 && xhr.getResponseHeader("HX-Retarget")) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
  // Back to an earlier search: htmx puts back the page as it was kept, but a field keeps
  // what was typed only in the browser's memory, so the boxes showed the later search over
  // the earlier one's results. The filters are read again from the address.
  document.addEventListener("htmx:historyRestore", function () {
    var params = new URLSearchParams(window.location.search);
    document.querySelectorAll("form.filters[hx-push-url]").forEach(function (form) {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!field.name || field.type === "hidden" || field.type === "submit") return;
        var value = params.get(field.name) || "";
        if (field.type === "checkbox" || field.type === "radio") {
          field.checked = params.getAll(field.name).indexOf(field.value) >= 0;
        } else {
          field.value = value;
        }
      });
    });
  });
})();
