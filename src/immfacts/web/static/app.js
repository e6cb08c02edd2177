// immfacts — the little JavaScript the pages use (no library). Everything works without it;
// it only makes the explorer's URL clean and shareable, cascades filters on change, and
// switches between numbers and percent without a reload.
(function () {
  "use strict";

  function exploreUrl(form, resetToMetric) {
    var data = new FormData(form);
    var params = new URLSearchParams();
    if (resetToMetric) {
      params.append("metric", data.get("metric"));
      if (data.get("period")) params.append("period", data.get("period"));
      return form.action + "?" + params.toString();
    }
    var dims = data.getAll("wdim"), vals = data.getAll("wval");
    data.forEach(function (value, key) {
      if (key === "wdim" || key === "wval") return;
      if (key === "mode" && value === "number") return;
      if (value !== "") params.append(key, value);
    });
    for (var i = 0; i < dims.length; i++) {
      if (!dims[i]) continue;
      if (vals[i]) params.append("where", dims[i] + "=" + vals[i]);
      else params.append("wdim", dims[i]); // a filter being chosen: keep it so its values load
    }
    return form.action + "?" + params.toString();
  }

  function setupExplorer() {
    var form = document.getElementById("explore-form");
    if (!form) return;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      window.location.assign(exploreUrl(form, false));
    });
    var metric = document.getElementById("f-metric");
    if (metric) metric.addEventListener("change", function () {
      window.location.assign(exploreUrl(form, true));
    });
    form.querySelectorAll("select[data-cascade]").forEach(function (sel) {
      sel.addEventListener("change", function () { window.location.assign(exploreUrl(form, false)); });
    });
  }

  function setupToggle() {
    var results = document.getElementById("results");
    if (!results) return;
    results.querySelectorAll(".toggle button[data-mode]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        var mode = btn.getAttribute("data-mode");
        results.setAttribute("data-mode", mode);
        results.querySelectorAll(".toggle button").forEach(function (b) {
          b.setAttribute("aria-pressed", String(b === btn));
        });
        var hidden = document.getElementById("f-mode");
        if (hidden) hidden.value = mode;
        var url = new URL(window.location.href);
        if (mode === "percent") url.searchParams.set("mode", "percent");
        else url.searchParams.delete("mode");
        window.history.replaceState(null, "", url.toString());
        var share = document.getElementById("share-link");
        if (share) share.setAttribute("href", url.pathname + url.search);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupExplorer();
    setupToggle();
  });
})();
