// Draws a node's boundary and its children's from our own GeoJSON: no tile server, no internet.
(function () {
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  // Leaflet's zoom buttons say "Zoom in" / "Zoom out": in the page's language instead.
  if ((document.documentElement.lang || "").indexOf("zh") === 0) {
    L.Control.Zoom.mergeOptions({ zoomInTitle: "放大", zoomOutTitle: "缩小" });
  }
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
  // The visits due page: buildings with households overdue (red) or due today (orange).
  var dueEl = el.dataset.due && document.getElementById(el.dataset.due);
  var due = dueEl ? JSON.parse(dueEl.textContent) : {};
  function dueText(f) {
    var d = due[f.properties.id];
    if (!d) return f.properties.name;
    var parts = [];
    if (d[0]) parts.push(el.dataset.labelOverdue + " " + d[0] + " " + el.dataset.labelHouseholds);
    if (d[1]) parts.push(el.dataset.labelToday + " " + d[1] + " " + el.dataset.labelHouseholds);
    return f.properties.name + " · " + parts.join(el.dataset.labelSeparator || "，");
  }
  fetch(el.dataset.geojson, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (fc) {
      var layer = L.geoJSON(fc, {
        style: function (f) {
          if (f.properties.self) return { color: "#7f1d1d", weight: 3, fillOpacity: 0.05 };
          var d = due[f.properties.id];
          if (d) {
            var fill = d[0] ? "#dc2626" : "#f59e0b";
            return { color: fill, weight: 2.5, fillColor: fill, fillOpacity: 0.6, className: "due" };
          }
          return { color: "#c2410c", weight: 1.5, fillColor: "#fed7aa", fillOpacity: 0.35 };
        },
        onEachFeature: function (f, l) {
          if (f.properties.self) return;
          // As text: Leaflet would read a string (a grid's name) as HTML.
          var tip = document.createElement("span");
          tip.textContent = dueText(f);
          l.bindTooltip(tip, { permanent: false });
          l.on("click", function () { window.location = "/tree/" + f.properties.code + "/"; });
        }
      }).addTo(map);
      if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [10, 10] });
      else el.hidden = true; // no outline drawn for this place yet: no empty box
      el.dataset.ready = "1";
    });
})();
