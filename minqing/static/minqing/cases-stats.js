/* The statistics page's charts (ECharts), from the #stats-data JSON the page carries. */
(function () {
  var source = document.getElementById("stats-data");
  if (!source || !window.echarts) return;
  var d = JSON.parse(source.textContent);
  var monthsEl = document.getElementById("chart-months");
  var pieEl = document.getElementById("chart-satisfaction");
  var bars = echarts.init(monthsEl);
  bars.setOption({
    tooltip: {trigger: "axis"},
    legend: {top: 0},
    grid: {left: 8, right: 8, top: 36, bottom: 8, containLabel: true},
    xAxis: {type: "category", data: d.months},
    yAxis: {type: "value", minInterval: 1},
    series: [
      {name: monthsEl.dataset.accepted, type: "bar", data: d.accepted, itemStyle: {color: "#1d4ed8"}},
      {name: monthsEl.dataset.closed, type: "bar", data: d.closed, itemStyle: {color: "#15803d"}}
    ]
  });
  var pie = echarts.init(pieEl);
  var rated = d.satisfaction.reduce(function (n, s) { return n + s.value; }, 0);
  pie.setOption({
    title: rated ? undefined : {text: pieEl.dataset.empty, left: "center", top: "middle", textStyle: {color: "#64748b", fontSize: 14}},
    tooltip: {trigger: "item", formatter: pieEl.dataset.tip},
    legend: {bottom: 0},
    color: ["#15803d", "#d97706", "#b91c1c"],
    series: [{type: "pie", radius: ["35%", "62%"], center: ["50%", "45%"], data: d.satisfaction,
              label: {formatter: "{b}\n{c}"}}]
  });
  window.addEventListener("resize", function () { bars.resize(); pie.resize(); });
})();
