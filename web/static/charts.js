// Draws every <canvas data-chart> on the page with Chart.js (served from
// this binary, never a CDN). A canvas carries its data as JSON in
// data-labels and data-series: [{"label": "…", "data": [numbers]}, …];
// data-stacked stacks the bars, data-kind="line" draws lines.
(function () {
  var colors = ["#c0392b", "#e67e22", "#27ae60", "#2980b9", "#8e44ad", "#7f8c8d"];
  document.querySelectorAll("canvas[data-chart]").forEach(function (el) {
    var labels = JSON.parse(el.dataset.labels || "[]");
    var series = JSON.parse(el.dataset.series || "[]");
    var stacked = el.dataset.stacked === "1";
    new Chart(el, {
      type: el.dataset.kind === "line" ? "line" : "bar",
      data: {
        labels: labels,
        datasets: series.map(function (s, i) {
          return { label: s.label, data: s.data, backgroundColor: colors[i % colors.length], borderColor: colors[i % colors.length] };
        })
      },
      options: {
        animation: false,
        responsive: true,
        scales: { x: { stacked: stacked }, y: { stacked: stacked, beginAtZero: true } }
      }
    });
  });
})();
