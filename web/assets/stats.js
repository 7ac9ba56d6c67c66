// Charts of stats.json: observations per day, and stations learned (running totals).
(function () {
  "use strict";

  function chart(element, title, days, series) {
    const x = days.map((d) => Date.parse(d.day + "T00:00:00Z") / 1000);
    const data = [x].concat(series.map((s) => days.map((d) => d[s.field])));
    const options = {
      title: title,
      width: Math.max(320, element.clientWidth || 800),
      height: 280,
      scales: { x: { time: true } },
      series: [{}].concat(
        series.map((s) => ({ label: s.label, stroke: s.colour, width: 2, points: { show: days.length < 60 } }))
      ),
      axes: [{}, { size: 70 }],
    };
    return new uPlot(options, data, element);
  }

  fetch("stats.json", { cache: "no-cache" })
    .then((response) => {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then((stats) => {
      const days = stats.days || [];
      document.getElementById("stats-updated").textContent =
        days.length + " days, updated " + stats.updated + ".";
      chart(document.getElementById("chart-observations"), "Per day", days, [
        { field: "observations", label: "Observations", colour: "#0060c0" },
        { field: "reports", label: "Reports", colour: "#e8590c" },
      ]);
      chart(document.getElementById("chart-stations"), "Stations", days, [
        { field: "wifi", label: "Wi-Fi", colour: "#0060c0" },
        { field: "cell", label: "Cells", colour: "#2b8a3e" },
        { field: "blue", label: "Bluetooth", colour: "#ae3ec9" },
      ]);
      const body = document.querySelector("#stats-table tbody");
      for (const day of days.slice(-14).reverse()) {
        const row = document.createElement("tr");
        const values = [day.day, day.reports, day.observations, day.new_wifi, day.new_blue, day.new_cell];
        values.forEach((value, i) => {
          const td = document.createElement("td");
          td.textContent = i === 0 ? value : Number(value).toLocaleString("en");
          if (i > 0) td.className = "num";
          row.appendChild(td);
        });
        body.appendChild(row);
      }
      document.body.dataset.ready = "1";
    })
    .catch(() => {
      document.getElementById("stats-updated").textContent = "No statistics published yet.";
      document.body.dataset.ready = "1";
    });
})();
