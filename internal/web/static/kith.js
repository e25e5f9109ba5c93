// Kith's own script. Pages work without it; where it runs it draws the chart
// of a patient's risk level over time with Chart.js, from the data the server
// put in the canvas's data-chart attribute (no inline script: the
// Content-Security-Policy forbids it).
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
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: d.labels,
        datasets: [{
          label: d.riskLabel,
          data: d.risk,
          borderColor: "#5b6b7a",
          borderWidth: 2,
          pointRadius: 6,
          pointHoverRadius: 8,
          pointBackgroundColor: colours,
          pointBorderColor: colours,
          tension: 0
        }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          y: {
            min: 0,
            max: 5,
            ticks: { stepSize: 1 },
            title: { display: true, text: d.riskLabel }
          }
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (ctx) { return d.riskLabel + ": " + ctx.parsed.y; },
              afterLabel: function (ctx) {
                var c = d.classes[ctx.dataIndex];
                return c ? d.classLabel + ": " + (d.classNames[c] || c) : "";
              }
            }
          }
        }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof window.Chart !== "function") {
      return;
    }
    document.querySelectorAll("canvas[data-chart]").forEach(drawRiskChart);
  });
})();
