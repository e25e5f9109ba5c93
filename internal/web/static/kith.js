// Kith's own script. Pages work without it; where it runs it draws the charts
// with Chart.js from the data the server put in each canvas's data-chart
// (a patient's risk level over time) or data-figures attribute (the figures
// pages, and a patient's scores on an instrument against its bands), shows only the fields of the period kind chosen on the figures
// form, and makes the report's Print button work. No inline script: the
// Content-Security-Policy forbids it.
(function () {
  "use strict";

  // Colours of the classifications, as kith.css gives them to the legend.
  var classColours = {
    stable: "#2f6f5e",
    basically_stable: "#c98a12",
    unstable: "#c62828"
  };
  var noClassColour = "#7b8794";

  function drawRiskChart(canvas) {
    var d;
    try {
      d = JSON.parse(canvas.getAttribute("data-chart"));
    } catch (e) {
      return;
    }
    var colours = d.classes.map(function (c) { return classColours[c] || noClassColour; });
    var figure = canvas.closest("figure");
    if (figure) {
      figure.hidden = false;
    }
    // The x axis is time, in day numbers (days since 1970-01-01) on a
    // linear axis labelled with dates: no date adapter needed.
    var dateOf = function (day) { return new Date(day * 86400000).toISOString().slice(0, 10); };
    var days = d.days || d.labels.map(function (l) { return Date.parse(l) / 86400000; });
    var scoreColours = ["#1565c0", "#6a1b9a", "#00838f", "#ef6c00", "#4e342e"];
    var datasets = [{
      label: d.riskLabel,
      data: d.risk.map(function (r, i) { return { x: days[i], y: r }; }),
      yAxisID: "y",
      borderColor: "#5b6b7a",
      borderWidth: 2,
      pointRadius: 6,
      pointHoverRadius: 8,
      pointBackgroundColor: colours,
      pointBorderColor: colours,
      tension: 0
    }];
    (d.scores || []).forEach(function (s, k) {
      var c = scoreColours[k % scoreColours.length];
      datasets.push({
        label: s.label,
        data: s.scores.map(function (v, i) { return { x: s.days[i], y: v }; }),
        yAxisID: "scores",
        borderColor: c,
        backgroundColor: c,
        borderDash: [4, 3],
        borderWidth: 1.5,
        pointRadius: 4,
        pointStyle: "rectRot",
        tension: 0
      });
    });
    var scales = {
      x: {
        type: "linear",
        ticks: { maxTicksLimit: 6, callback: function (v) { return dateOf(v); } }
      },
      y: {
        min: 0,
        max: 5,
        ticks: { stepSize: 1 },
        title: { display: true, text: d.riskLabel }
      }
    };
    if (datasets.length > 1) {
      scales.scores = {
        position: "right",
        min: 0,
        grid: { drawOnChartArea: false },
        title: { display: true, text: d.scoreLabel }
      };
    }
    new window.Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        parsing: true,
        scales: scales,
        plugins: {
          legend: { display: datasets.length > 1 },
          tooltip: {
            callbacks: {
              title: function (items) { return items.length ? dateOf(items[0].parsed.x) : ""; },
              label: function (ctx) { return ctx.dataset.label + ": " + ctx.parsed.y; },
              afterLabel: function (ctx) {
                if (ctx.datasetIndex !== 0) {
                  return "";
                }
                var c = d.classes[ctx.dataIndex];
                return c ? d.classLabel + ": " + (d.classNames[c] || c) : "";
              }
            }
          }
        }
      }
    });
  }

  // A chart of the figures pages: the trend of the main rates (a line
  // each, with the targets as dashed lines), or a distribution (bars or a
  // doughnut, a colour each).
  function drawFiguresChart(canvas) {
    var d;
    try {
      d = JSON.parse(canvas.getAttribute("data-figures"));
    } catch (e) {
      return;
    }
    var figure = canvas.closest("figure");
    if (figure) {
      figure.hidden = false;
    }
    var unit = d.unit || "";
    var config;
    if (d.type === "line") {
      var datasets = d.series.map(function (s) {
        return {
          label: s.label,
          data: s.data,
          borderColor: s.colour,
          backgroundColor: s.colour,
          borderWidth: 2,
          pointRadius: 3,
          tension: 0
        };
      });
      d.series.forEach(function (s) {
        if (s.target === undefined || s.target === null) {
          return;
        }
        datasets.push({
          label: s.label + " · " + d.targetLabel,
          data: d.labels.map(function () { return s.target; }),
          borderColor: s.colour,
          borderWidth: 1,
          borderDash: [6, 4],
          pointRadius: 0,
          pointHitRadius: 0,
          kithTarget: true
        });
      });
      // Level lines, such as where an instrument's bands begin: grey,
      // dotted, left out of the legend like the targets.
      (d.lines || []).forEach(function (l) {
        datasets.push({
          label: l.label,
          data: d.labels.map(function () { return l.value; }),
          borderColor: "#9aa5b1",
          borderWidth: 1,
          borderDash: [2, 3],
          pointRadius: 0,
          pointHitRadius: 0,
          kithTarget: true
        });
      });
      var decimals = typeof d.decimals === "number" ? d.decimals : 2;
      config = {
        type: "line",
        data: { labels: d.labels, datasets: datasets },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          scales: {
            y: {
              min: typeof d.min === "number" ? d.min : 0,
              max: d.max,
              ticks: { precision: decimals === 0 ? 0 : undefined, callback: function (v) { return v + unit; } }
            }
          },
          plugins: {
            legend: {
              labels: {
                filter: function (item, data) { return !data.datasets[item.datasetIndex].kithTarget; }
              }
            },
            tooltip: {
              callbacks: {
                label: function (ctx) {
                  var v = ctx.parsed.y;
                  return ctx.dataset.label + ": " + (v === null ? "—" : v.toFixed(decimals) + unit);
                }
              }
            }
          }
        }
      };
    } else {
      var s = d.series[0];
      config = {
        type: d.type,
        data: {
          labels: d.labels,
          datasets: [{ label: s.label, data: s.data, backgroundColor: s.colours, borderWidth: d.type === "doughnut" ? 1 : 0 }]
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: d.type === "doughnut", position: "right" } },
          scales: d.type === "bar" ? { y: { beginAtZero: true, ticks: { precision: 0 } } } : {}
        }
      };
    }
    new window.Chart(canvas, config);
  }

  // The figures form shows only the fields of the period kind chosen; all
  // of them are there without this script, and the server reads the one
  // the kind names.
  function periodKind(select) {
    var form = select.form;
    function update() {
      form.querySelectorAll("[data-period]").forEach(function (el) {
        el.hidden = el.getAttribute("data-period") !== select.value;
      });
    }
    select.addEventListener("change", update);
    update();
  }

  // Charts are drawn for the screen's width: redraw them for the paper's.
  function resizeCharts() {
    if (typeof window.Chart !== "function") {
      return;
    }
    Object.keys(window.Chart.instances).forEach(function (id) {
      window.Chart.instances[id].resize();
    });
  }

  // A Copy button beside a read-only field (an activation link) copies the
  // field's text; it stays hidden where the clipboard cannot be written.
  function copyButton(b) {
    var field = document.getElementById(b.getAttribute("data-copy"));
    if (!field || !navigator.clipboard) {
      return;
    }
    b.hidden = false;
    var label = b.textContent;
    b.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        b.textContent = b.getAttribute("data-copied");
        setTimeout(function () { b.textContent = label; }, 2000);
      }, function () {
        field.select();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-period-kind]").forEach(periodKind);
    document.querySelectorAll("button[data-print]").forEach(function (b) {
      b.hidden = false;
      b.addEventListener("click", function () { window.print(); });
    });
    document.querySelectorAll("button[data-copy]").forEach(copyButton);
    window.addEventListener("beforeprint", resizeCharts);
    window.addEventListener("afterprint", resizeCharts);
    if (typeof window.Chart !== "function") {
      return;
    }
    document.querySelectorAll("canvas[data-chart]").forEach(drawRiskChart);
    document.querySelectorAll("canvas[data-figures]").forEach(drawFiguresChart);
  });
})();
