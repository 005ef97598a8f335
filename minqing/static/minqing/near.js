/* "按距离排序": the phone's position appended to the list's address (#near's data-base). */
(function () {
  var b = document.getElementById("near");
  if (!b) return;
  b.addEventListener("click", function () {
    var msg = document.getElementById("near-msg");
    if (!navigator.geolocation) { msg.hidden = false; return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      var base = b.dataset.base.replace(/&amp;/g, "&");
      window.location = base + (base.length > 1 ? "&" : "") + "lat=" + p.coords.latitude.toFixed(6) + "&lng=" + p.coords.longitude.toFixed(6);
    }, function () { msg.hidden = false; }, { enableHighAccuracy: true, timeout: 10000 });
  });
})();
