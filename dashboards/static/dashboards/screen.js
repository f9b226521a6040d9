/* The big screen: draws once, then asks the data endpoint again every few seconds and redraws
   in place (no page reload). Every figure arrives computed by the server (cases.metrics); this
   script only formats and draws. */
(function () {
  "use strict";
  var stage = document.getElementById("stage");
  var dataUrl = stage.dataset.dataUrl;
  var mapUrl = stage.dataset.mapUrl;
  var mapName = stage.dataset.mapName;
  var refreshMs = (parseInt(stage.dataset.refreshSeconds, 10) || 15) * 1000;
  var charts = {};
  var mapReady = false;
  var updates = 0;
  var COLOURS = { red: "#ff4d4f", yellow: "#ffc53d", green: "#52c41a" };
  var AXIS = { axisLine: { lineStyle: { color: "#33507d" } }, axisLabel: { color: "#9fb5d6", fontSize: 13 },
    splitLine: { lineStyle: { color: "#16304f" } } };

  function fit() {
    var s = Math.min(window.innerWidth / 1920, window.innerHeight / 1080);
    stage.style.transform = s === 1 ? "" : "scale(" + s + ")";
  }
  window.addEventListener("resize", function () {
    fit();
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });
  fit();

  function chart(id) {
    if (!charts[id]) {
      charts[id] = echarts.init(document.getElementById(id), "dark", { renderer: "canvas" });
    }
    return charts[id];
  }

  function num(v) { return v === null || v === undefined ? "—" : String(v); }
  function pct(v) { return v === null || v === undefined ? "—" : v.toFixed(1) + "%"; }
  function signed(v) {
    if (v === null || v === undefined) { return "—"; }
    return (v > 0 ? "+" : v < 0 ? "−" : "") + Math.abs(v).toFixed(2) + "%";
  }
  function setText(id, text, cls) {
    var el = document.getElementById(id);
    if (!el) { return; }
    el.textContent = text;
    if (cls !== undefined) { el.className = cls; }
  }

  function tick() {
    var d = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    setText("clock", d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()));
  }
  setInterval(tick, 1000);
  tick();

  function kpis(k) {
    ["today_received", "open_total", "open_red", "open_yellow", "open_green", "ytd_received", "ytd_resolved",
      "mediation_closed", "mediation_success", "petitions_ytd", "petitions_last_ytd", "police_ytd",
      "police_last_ytd", "visits_today", "workers_today", "disputes_found_today", "hazards_found_today"]
      .forEach(function (key) { setText("kpi-" + key, num(k[key])); });
    setText("kpi-resolution_rate", pct(k.resolution_rate));
    setText("kpi-mediation_success_rate", pct(k.mediation_success_rate));
    ["petitions_yoy", "police_yoy"].forEach(function (key) {
      var v = k[key];
      setText("kpi-" + key, signed(v), v > 0 ? "up" : v < 0 ? "down" : "");
    });
    setText("kpi-safety_index", k.safety_index === null ? "—" : k.safety_index.toFixed(1));
  }

  function freshness(r) {
    var el = document.getElementById("freshness");
    if (!r.watermark) { el.textContent = "汇总表尚未生成"; el.className = "sc-fresh stale"; return; }
    var t = r.watermark.slice(11, 19);
    el.textContent = "数据截至 " + t + "（" + r.age_seconds + " 秒前）";
    el.dataset.ageSeconds = r.age_seconds;
    el.className = r.age_seconds > 60 ? "sc-fresh stale" : "sc-fresh";
  }

  function drawIntake(rows) {
    chart("chart-intake").setOption({
      backgroundColor: "transparent",
      tooltip: { trigger: "item", formatter: "{b}：{c} 件（{d}%）" },
      legend: { type: "scroll", orient: "vertical", right: 0, top: "middle", textStyle: { color: "#b8cbe6", fontSize: 13 } },
      graphic: rows.length ? [] : [{ type: "text", left: "center", top: "middle", style: { text: "今日暂无受理", fill: "#6f89b0", fontSize: 16 } }],
      series: [{ type: "pie", radius: ["38%", "68%"], center: ["36%", "52%"], label: { color: "#d7e3f4", formatter: "{c}" },
        data: rows.map(function (r) { return { name: r.label, value: r.n }; }) }]
    }, true);
  }

  function drawCategories(rows) {
    var r = rows.slice().reverse();
    chart("chart-categories").setOption({
      backgroundColor: "transparent",
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 130, right: 50, top: 10, bottom: 20 },
      xAxis: Object.assign({ type: "value" }, AXIS),
      yAxis: Object.assign({ type: "category", data: r.map(function (x) { return x.label; }) }, AXIS),
      series: [{ type: "bar", data: r.map(function (x) { return x.n; }), barMaxWidth: 22,
        itemStyle: { color: new echarts.graphic.LinearGradient(0, 0, 1, 0, [{ offset: 0, color: "#1f5fbf" }, { offset: 1, color: "#36cfc9" }]) },
        label: { show: true, position: "right", color: "#d7e3f4" } }]
    }, true);
  }

  function drawTrend(rows) {
    chart("chart-trend").setOption({
      backgroundColor: "transparent",
      tooltip: { trigger: "axis" },
      legend: { data: ["受理", "化解"], textStyle: { color: "#b8cbe6" }, right: 10, top: 0 },
      grid: { left: 50, right: 20, top: 30, bottom: 30 },
      xAxis: Object.assign({ type: "category", data: rows.map(function (x) { return x.month.slice(2); }) }, AXIS),
      yAxis: Object.assign({ type: "value" }, AXIS),
      series: [
        { name: "受理", type: "line", smooth: true, data: rows.map(function (x) { return x.received; }), areaStyle: { opacity: 0.15 }, itemStyle: { color: "#4096ff" } },
        { name: "化解", type: "line", smooth: true, data: rows.map(function (x) { return x.resolved; }), itemStyle: { color: "#52c41a" } }
      ]
    }, true);
  }

  function drawOpen(rows) {
    var names = rows.map(function (x) { return x.area; });
    var labels = { red: "红色", yellow: "黄色", green: "绿色" };
    chart("chart-open").setOption({
      backgroundColor: "transparent",
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: ["红色", "黄色", "绿色"], textStyle: { color: "#b8cbe6" }, right: 10, top: 0 },
      grid: { left: 45, right: 10, top: 30, bottom: 60 },
      xAxis: Object.assign({ type: "category", data: names, axisLabel: { color: "#9fb5d6", rotate: names.length > 8 ? 40 : 0, interval: 0 } }, { axisLine: AXIS.axisLine }),
      yAxis: Object.assign({ type: "value" }, AXIS),
      series: ["red", "yellow", "green"].map(function (c) {
        return { name: labels[c], type: "bar", stack: "open", data: rows.map(function (x) { return x[c]; }), itemStyle: { color: COLOURS[c] } };
      })
    }, true);
  }

  function drawGrid(rows) {
    chart("chart-grid").setOption({
      backgroundColor: "transparent",
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: ["走访户次", "走访网格员"], textStyle: { color: "#b8cbe6" }, right: 10, top: 0 },
      grid: { left: 45, right: 10, top: 30, bottom: 60 },
      xAxis: { type: "category", data: rows.map(function (x) { return x.area; }), axisLabel: { color: "#9fb5d6", rotate: rows.length > 8 ? 40 : 0, interval: 0 }, axisLine: AXIS.axisLine },
      yAxis: Object.assign({ type: "value" }, AXIS),
      series: [
        { name: "走访户次", type: "bar", data: rows.map(function (x) { return x.visits; }), itemStyle: { color: "#36cfc9" } },
        { name: "走访网格员", type: "bar", data: rows.map(function (x) { return x.workers; }), itemStyle: { color: "#9254de" } }
      ]
    }, true);
  }

  function drawMap(rows) {
    if (!mapReady) { return; }
    chart("chart-map").setOption({
      backgroundColor: "transparent",
      tooltip: { trigger: "item", formatter: function (p) {
        return p.name + "<br>平安指数：" + (p.value === undefined || isNaN(p.value) ? "尚未计算" : p.value.toFixed(1));
      } },
      visualMap: { min: 0, max: 100, left: 10, bottom: 10, calculable: false, text: ["平安", "风险"],
        textStyle: { color: "#b8cbe6" }, inRange: { color: ["#c62828", "#f9a825", "#2e7d32"] } },
      series: [{ type: "map", map: mapName, roam: false, aspectScale: 0.9,
        label: { show: true, color: "#fff", fontSize: 14, formatter: function (p) { return p.name + (isNaN(p.value) ? "" : "\n" + p.value.toFixed(1)); } },
        itemStyle: { areaColor: "#1b3358", borderColor: "#7fb0ff", borderWidth: 1 },
        emphasis: { label: { color: "#fff" }, itemStyle: { areaColor: "#2f7bff" } },
        data: rows.map(function (x) { return { name: x.name, value: x.value === null ? NaN : x.value }; }) }]
    }, true);
  }

  function drawTicker(rows) {
    var ol = document.getElementById("red-ticker");
    setText("red-count", String(rows.length));
    ol.textContent = "";
    if (!rows.length) {
      var li = document.createElement("li");
      li.className = "t-empty";
      li.textContent = "当前没有红色预警事项";
      ol.appendChild(li);
      return;
    }
    rows.forEach(function (r) {
      var li = document.createElement("li");
      li.dataset.caseId = r.id;
      var no = document.createElement("span"); no.className = "t-no"; no.textContent = r.tracking_no;
      var town = document.createElement("span"); town.className = "t-town"; town.textContent = r.town;
      var title = document.createElement("span"); title.textContent = r.title;
      var why = document.createElement("span"); why.className = "t-reasons"; why.textContent = (r.since ? r.since + " · " : "") + r.reasons.join("；");
      li.appendChild(no); li.appendChild(town); li.appendChild(title); li.appendChild(why);
      ol.appendChild(li);
    });
  }

  function render(d) {
    kpis(d.kpi);
    freshness(d.rollup);
    drawIntake(d.intake_today);
    drawCategories(d.categories);
    drawTrend(d.trend);
    drawOpen(d.open_by_area);
    drawGrid(d.grid_by_area);
    drawMap(d.safety_map);
    drawTicker(d.red_ticker);
    updates += 1;
    stage.dataset.updates = String(updates);
    stage.dataset.generatedAt = d.generated_at;
    document.getElementById("load-error").hidden = true;
    if (mapReady) { document.body.dataset.ready = "1"; }
  }

  function load() {
    return fetch(dataUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 403 || r.status === 302) { window.location.reload(); }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(render)
      .catch(function (e) {
        var el = document.getElementById("load-error");
        el.textContent = "数据刷新失败（" + e.message + "），将自动重试；屏上为上次成功获取的数据。";
        el.hidden = false;
      });
  }

  fetch(mapUrl, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (g) { echarts.registerMap(mapName, g); mapReady = true; })
    .catch(function () { mapReady = true; })
    .then(load)
    .then(function () { setInterval(load, refreshMs); });
}());
