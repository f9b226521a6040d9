/* The report page's daily trend chart (figures come computed from the server). */
(function () {
  "use strict";
  var el = document.getElementById("trend-chart");
  var data = JSON.parse(document.getElementById("trend-data").textContent);
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: ["受理", "化解"], top: 0 },
    grid: { left: 40, right: 20, top: 30, bottom: 30 },
    xAxis: { type: "category", data: data.map(function (d) { return d.day.slice(5); }) },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: "受理", type: "bar", data: data.map(function (d) { return d.received; }), itemStyle: { color: "#1f5fbf" } },
      { name: "化解", type: "line", data: data.map(function (d) { return d.resolved; }), itemStyle: { color: "#1e8e3e" } }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
}());
