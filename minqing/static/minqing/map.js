// Draws a node's boundary and its children's from our own GeoJSON: no tile server, no internet.
(function () {
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
  fetch(el.dataset.geojson, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (fc) {
      var layer = L.geoJSON(fc, {
        style: function (f) {
          return f.properties.self
            ? { color: "#7f1d1d", weight: 3, fillOpacity: 0.05 }
            : { color: "#c2410c", weight: 1.5, fillColor: "#fed7aa", fillOpacity: 0.35 };
        },
        onEachFeature: function (f, l) {
          if (f.properties.self) return;
          l.bindTooltip(f.properties.name, { permanent: false });
          l.on("click", function () { window.location = "/tree/" + f.properties.code + "/"; });
        }
      }).addTo(map);
      if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [10, 10] });
      else el.hidden = true; // no outline drawn for this place yet: no empty box
      el.dataset.ready = "1";
    });
})();
