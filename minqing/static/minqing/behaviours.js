/* Small behaviours pages ask for by attribute, so that no page needs inline JavaScript (the
   Content-Security-Policy allows scripts from this site only):
   data-confirm="…" on a form asks before it is sent; data-autosubmit on a field sends its form
   when it changes; data-print on a button prints the page. */
(function () {
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
    }
  });
  document.addEventListener("change", function (e) {
    var field = e.target;
    if (field.dataset && "autosubmit" in field.dataset && field.form) field.form.submit();
  });
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-print]")) window.print();
  });
})();
