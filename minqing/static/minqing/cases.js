// Case maps, drawn over our own grid GeoJSON: no tile server, no internet.
//   data-mode="pick"   the quick form: a tap sets the hidden lat/lng inputs (and the grid select
//                      when a grid is tapped); "use my location" asks the phone.
//   data-mode="point"  the case page: the case's point over its grid.
//   data-mode="cases"  the open cases, coloured by lateness, from data-points (JSON).
(function () {
  var el = document.getElementById("case-map");
  if (!el || !window.L) return;
  var mode = el.dataset.mode;
  var COLOURS = { ok: "#15803d", due: "#d97706", late: "#b91c1c" };
  var GRID_LEVEL = 5;
  // Leaflet's zoom buttons say "Zoom in" / "Zoom out": in the page's language instead.
  if ((document.documentElement.lang || "").indexOf("zh") === 0) {
    L.Control.Zoom.mergeOptions({ zoomInTitle: "放大", zoomOutTitle: "缩小" });
  }
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 }).setView([30, 120], 13);
  var zones = L.featureGroup().addTo(map); // planning zones, under the grids
  var areas = L.featureGroup().addTo(map);
  var points = L.featureGroup().addTo(map);
  var ZONE_COLOURS = {
    no_build: "#b91c1c", restricted: "#d97706", buildable: "#15803d", built: "#6b7280"
  };
  var urls = (el.dataset.geojson || "").split(/\s+/).filter(Boolean);

  // Leaflet takes a tooltip's string as HTML: what people typed (a case's title) goes in as
  // text, never as markup.
  function plain(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function msg(name, fallback) {
    return el.getAttribute("data-msg-" + name) || fallback;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  }

  function style(f) {
    var p = f.properties || {};
    return p.level === GRID_LEVEL
      ? { color: "#c2410c", weight: 2, fillColor: "#fed7aa", fillOpacity: 0.3 }
      : { color: "#7f1d1d", weight: 2.5, fillOpacity: 0.04 };
  }

  function fit() {
    var b = areas.getBounds();
    if (points.getLayers().length) {
      b = b.isValid() ? b.extend(points.getBounds()) : points.getBounds();
    }
    if (b.isValid()) map.fitBounds(b, { padding: [12, 12], maxZoom: 17 });
  }

  function drawZones() {
    if (!el.dataset.zoning) return Promise.resolve();
    return getJSON(el.dataset.zoning).then(function (fc) {
      if (!fc || !fc.features) return;
      L.geoJSON(fc, {
        interactive: mode !== "pick", // a tap on the quick form's map places the case
        style: function (f) {
          var c = ZONE_COLOURS[f.properties.zone] || "#6b7280";
          return { color: c, weight: 1, dashArray: "4 3", fillColor: c, fillOpacity: 0.18,
                   className: "zone zone-" + f.properties.zone };
        },
        onEachFeature: function (f, layer) {
          if (mode !== "pick") {
            layer.bindTooltip(plain(f.properties.label + " · " + f.properties.name), { sticky: true });
          }
        }
      }).addTo(zones);
      zones.bringToBack();
    });
  }

  function drawAreas(onFeature) {
    drawZones();
    return Promise.all(urls.map(getJSON)).then(function (collections) {
      collections.forEach(function (fc) {
        if (!fc || !fc.features) return;
        L.geoJSON(fc, {
          style: style,
          onEachFeature: function (f, layer) {
            if (f.properties && f.properties.name) {
              layer.bindTooltip(plain(f.properties.name), { sticky: true });
            }
            if (onFeature) onFeature(f, layer);
          }
        }).addTo(areas);
      });
    });
  }

  function dot(lat, lng, colour) {
    return L.circleMarker([lat, lng], {
      radius: 8, color: "#fff", weight: 2, fillColor: colour, fillOpacity: 0.95
    });
  }

  function ready() { el.dataset.ready = "1"; }

  // --- the quick form: pick a point -------------------------------------------------------
  function pick() {
    var lat = document.getElementById("id_lat");
    var lng = document.getElementById("id_lng");
    var text = document.getElementById("point-text");
    var clear = document.getElementById("clear-point");
    var locate = document.getElementById("locate");
    var grid = document.getElementById("id_grid");
    var marker = null;

    function show(latlng) {
      if (marker) marker.setLatLng(latlng);
      else marker = dot(latlng.lat, latlng.lng, "#1d4ed8").addTo(points);
    }

    function set(latlng) {
      lat.value = latlng.lat.toFixed(6);
      lng.value = latlng.lng.toFixed(6);
      show(latlng);
      if (text) text.textContent = msg("picked", "已标注：") + lat.value + ", " + lng.value;
      if (clear) clear.hidden = false;
    }

    map.on("click", function (e) { set(e.latlng); });
    if (clear) {
      clear.addEventListener("click", function () {
        lat.value = lng.value = "";
        if (marker) { points.removeLayer(marker); marker = null; }
        if (text) text.textContent = msg("none", "未标注");
        clear.hidden = true;
      });
    }
    if (locate) {
      locate.addEventListener("click", function () {
        if (!navigator.geolocation) {
          if (text) text.textContent = msg("nogeo", "此设备不支持定位，请在地图上点选。");
          return;
        }
        if (text) text.textContent = msg("locating", "正在定位……");
        navigator.geolocation.getCurrentPosition(
          function (pos) {
            var ll = L.latLng(pos.coords.latitude, pos.coords.longitude);
            set(ll);
            map.setView(ll, Math.max(map.getZoom(), 16));
          },
          function () {
            if (text) text.textContent = msg("geofail", "无法获取位置，请在地图上点选。");
          },
          { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
        );
      });
    }
    drawAreas(function (f, layer) {
      // Tapping a grid also chooses it in the select (the server re-checks by the point).
      var p = f.properties || {};
      if (p.level !== GRID_LEVEL || !grid) return;
      layer.on("click", function () {
        for (var i = 0; i < grid.options.length; i++) {
          if (grid.options[i].value === p.code) { grid.value = p.code; break; }
        }
      });
    }).then(function () {
      if (lat.value && lng.value && isFinite(+lat.value) && isFinite(+lng.value)) {
        show(L.latLng(+lat.value, +lng.value));
      }
      fit();
      ready();
    });
  }

  // --- the case page: one point -------------------------------------------------------------
  function point() {
    var lat = parseFloat(el.dataset.lat), lng = parseFloat(el.dataset.lng);
    drawAreas().then(function () {
      if (isFinite(lat) && isFinite(lng)) dot(lat, lng, "#1d4ed8").addTo(points);
      if (areas.getLayers().length) fit();
      else if (isFinite(lat) && isFinite(lng)) map.setView([lat, lng], 16);
      ready();
    });
  }

  // --- the map of open cases ----------------------------------------------------------------
  function cases() {
    var count = document.getElementById("map-count");
    Promise.all([drawAreas(), getJSON(el.dataset.points)]).then(function (res) {
      var rows = (res[1] && res[1].cases) || [];
      rows.forEach(function (c) {
        var m = dot(c.lat, c.lng, COLOURS[c.state] || COLOURS.ok).addTo(points);
        m.bindTooltip(plain(c.number + " " + c.title + " · " + c.status));
        m.on("click", function () { window.location = "/cases/" + c.number + "/"; });
      });
      if (count) count.textContent = (msg("count", "共 {n} 件")).replace("{n}", rows.length);
      fit();
      ready();
    });
  }

  if (mode === "pick") pick();
  else if (mode === "point") point();
  else if (mode === "cases") cases();
})();
