/* A campaign's progress per grid (ECharts), from the #progress-data JSON the page carries. */
(function () {
  var source = document.getElementById("progress-data");
  var el = document.getElementById("chart-progress");
  if (!source || !el || !window.echarts) return;
  var d = JSON.parse(source.textContent);
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: {trigger: "axis"},
    legend: {top: 0},
    grid: {left: 8, right: 8, top: 36, bottom: 8, containLabel: true},
    xAxis: {type: "category", data: d.grids, axisLabel: {interval: 0, rotate: d.grids.length > 6 ? 40 : 0}},
    yAxis: {type: "value", minInterval: 1},
    series: [
      {name: el.dataset.done, type: "bar", stack: "n", data: d.done, itemStyle: {color: "#15803d"}},
      {name: el.dataset.remaining, type: "bar", stack: "n", data: d.remaining, itemStyle: {color: "#d97706"}}
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
