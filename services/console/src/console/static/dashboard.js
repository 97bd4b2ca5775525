// Manager dashboard: draws the ECharts from the figures the page carries as JSON; redraws when the
// figures are swapped in by a live update.
(function () {
  "use strict";
  var charts = {};
  function draw() {
    var holder = document.getElementById("kpi-data");
    if (!holder || !window.echarts) return;
    var data = JSON.parse(holder.textContent);
    var names = JSON.parse(document.getElementById("kpi-names").textContent);
    var c = data.charts, L = data.labels;
    var name = function (k) { return names[k] || k; };
    var opts = {
      backlog: { tooltip: {}, xAxis: { type: "category", data: c.backlog.labels.map(name), axisLabel: { interval: 0, rotate: 20 } }, yAxis: { type: "value", minInterval: 1 },
                 series: [{ type: "bar", data: c.backlog.values, itemStyle: { color: "#1f5fbf" } }], grid: { left: 40, right: 10, bottom: 50, top: 10 } },
      satisfaction: { tooltip: { trigger: "axis" }, legend: { top: 0 }, xAxis: { type: "category", data: c.satisfaction.labels }, yAxis: { type: "value", min: -100, max: 100 },
                      series: [{ name: L.csat, type: "line", data: c.satisfaction.csat, connectNulls: true }, { name: L.nps, type: "line", data: c.satisfaction.nps, connectNulls: true }],
                      grid: { left: 40, right: 10, bottom: 30, top: 30 } },
      technicians: { tooltip: { trigger: "axis" }, legend: { top: 0 }, xAxis: { type: "category", data: c.technicians.labels, axisLabel: { interval: 0, rotate: 30 } },
                     yAxis: [{ type: "value", minInterval: 1 }, { type: "value", max: 100 }],
                     series: [{ name: L.jobs, type: "bar", data: c.technicians.jobs }, { name: L.csat, type: "line", yAxisIndex: 1, data: c.technicians.csat, connectNulls: true }],
                     grid: { left: 40, right: 40, bottom: 60, top: 30 } },
      kinds: { tooltip: { trigger: "item" }, series: [{ type: "pie", radius: ["35%", "70%"], data: c.kinds.labels.map(function (k, i) { return { name: name(k), value: c.kinds.values[i] }; }) }] }
    };
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var key = el.dataset.chart;
      if (charts[key] && charts[key].getDom() !== el) { charts[key].dispose(); charts[key] = null; }
      charts[key] = charts[key] || echarts.init(el, null, { renderer: "svg" });
      charts[key].setOption(opts[key], true);
      el.dataset.drawn = "true";
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
  window.addEventListener("load", draw);
  document.addEventListener("htmx:afterSwap", function (e) { if (e.detail.target.id === "figures") draw(); });
  window.addEventListener("resize", function () { Object.values(charts).forEach(function (ch) { if (ch) ch.resize(); }); });
})();
