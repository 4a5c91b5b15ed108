// Draws the dashboard's chart of the last days from the JSON in the page; the same numbers are
// in the table beside it for readers without JavaScript or a screen.
(() => {
  const data = document.getElementById("chart-data");
  const box = document.getElementById("chart");
  if (!data || !box || typeof uPlot === "undefined") return;
  const chart = JSON.parse(data.textContent);
  const colours = { delivered: "#176d3a", failed: "#a3261b", expired: "#b07800" };
  const series = [{}].concat(chart.series.map((s) => ({
    label: s.label, stroke: colours[s.state], width: 2,
    fill: colours[s.state] + "22", points: { show: true, size: 5 },
  })));
  const lang = document.documentElement.lang || "tr";
  const day = new Intl.DateTimeFormat(lang, { day: "2-digit", month: "2-digit", timeZone: "Europe/Istanbul" });
  const width = () => Math.max(280, box.clientWidth);
  const plot = new uPlot({
    width: width(), height: 240, series,
    scales: { x: { time: true } },
    axes: [{ values: (u, ticks) => ticks.map((t) => day.format(new Date(t * 1000))) }, { size: 56 }],
    legend: { live: false },
  }, [chart.days].concat(chart.series.map((s) => s.values)), box);
  box.classList.add("drawn");
  let pending = 0;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => plot.setSize({ width: width(), height: 240 }));
  });
})();
