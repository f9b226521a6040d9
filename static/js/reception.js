/* The visitor registration form: returning-visitor lookup, route options, Ctrl+Enter. No framework. */
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form) return;
  var idInput = form.querySelector("[data-lookup=id_number]");
  var phoneInput = form.querySelector("[data-lookup=phone]");
  var nameInput = form.querySelector("input[name=name]");
  var addressInput = form.querySelector("input[name=address]");
  var routeSelect = form.querySelector("select[name=route]");
  var unitSelect = form.querySelector("select[name=unit]");
  var body = document.getElementById("returning-body");
  var hint = document.getElementById("returning-hint");
  var legalUnits = JSON.parse(document.getElementById("legal-unit-ids").textContent);
  var attached = JSON.parse(document.getElementById("attached-ids").textContent);
  var lastQuery = "";
  var timer = null;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function complete() {
    var id = idInput.value.replace(/\s/g, "");
    var phone = phoneInput.value.replace(/\D/g, "");
    return id.length === 18 || id.length === 15 || phone.length >= 11;
  }

  function lookup() {
    if (!complete()) return;
    var q = new URLSearchParams({ id_number: idInput.value.trim(), phone: phoneInput.value.trim() }).toString();
    if (q === lastQuery) return;
    lastQuery = q;
    fetch(form.dataset.lookupUrl + "?" + q, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) render(data); });
  }

  function render(data) {
    body.textContent = "";
    if (!data.found) {
      hint.textContent = data.errors && (data.errors.id_number || data.errors.phone) || "未查到以往来访记录：首次来访。";
      return;
    }
    var p = data.person;
    hint.textContent = "";
    body.appendChild(el("p", { "class": "returning-who", id: "returning-who" },
      "再次来访：" + p.name + "（身份证 " + (p.id_number || "—") + "，电话 " + (p.phone || "—") + "）"));
    if (nameInput.value.trim() === "") nameInput.value = p.name;
    if (addressInput.value.trim() === "" && p.address) addressInput.value = p.address;

    body.appendChild(el("h3", {}, "在办事项（" + data.open_cases.length + "）"));
    if (data.open_cases.length) {
      body.appendChild(el("p", { "class": "muted" }, "勾选（Alt+A）后本次来访并入该事项；分类选「9 并入已有事项」则不另立新事项。"));
      var list = el("ul", { "class": "open-cases" });
      data.open_cases.forEach(function (c, i) {
        var li = el("li");
        var label = el("label", { "class": "attach" });
        var box = el("input", { type: "checkbox", name: "attach", value: String(c.id) });
        if (i === 0) box.setAttribute("data-key", "a");
        if (attached.indexOf(c.id) >= 0) box.checked = true;
        label.appendChild(box);
        label.appendChild(document.createTextNode(" " + c.tracking_no + " " + c.title));
        li.appendChild(label);
        li.appendChild(el("small", { "class": "muted" }, " " + c.kind + " · " + c.status + " · " + c.owner + " · " + c.created));
        list.appendChild(li);
      });
      body.appendChild(list);
    } else {
      body.appendChild(el("p", { "class": "muted" }, "无在办事项。"));
    }
    body.appendChild(el("h3", {}, "以往来访（" + data.visits.length + "）"));
    var visits = el("ul", { "class": "earlier-visits" });
    data.visits.forEach(function (v) {
      visits.appendChild(el("li", {}, v.at + " " + v.center + " · " + v.route + " · " + v.matter +
        (v.cases.length ? "（" + v.cases.join("、") + "）" : "") + " · " + v.people + " 人 · " + v.clerk));
    });
    body.appendChild(visits);
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(lookup, 200);
  }

  function syncRoute() {
    var route = routeSelect.value;
    form.querySelectorAll("[data-routes]").forEach(function (node) {
      node.hidden = node.dataset.routes.split(" ").indexOf(route) < 0;
    });
    if (unitSelect) {
      var legalOnly = route === "consultation" || route === "legal_aid";
      Array.prototype.forEach.call(unitSelect.options, function (opt) {
        opt.hidden = legalOnly && opt.value !== "" && legalUnits.indexOf(Number(opt.value)) < 0;
      });
    }
  }

  idInput.addEventListener("input", schedule);
  phoneInput.addEventListener("input", schedule);
  idInput.addEventListener("blur", lookup);
  phoneInput.addEventListener("blur", lookup);
  routeSelect.addEventListener("change", syncRoute);
  form.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  syncRoute();
  lookup();
})();
