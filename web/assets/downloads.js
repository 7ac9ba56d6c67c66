// Lists the published files of downloads.json (newest first; the newest of each kind is "latest").
(function () {
  "use strict";
  const body = document.querySelector("#downloads tbody");
  const status = document.getElementById("downloads-status");

  function size(bytes) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return (unit === 0 ? value : value.toFixed(1)) + " " + units[unit];
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  fetch("downloads.json", { cache: "no-cache" })
    .then((response) => {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then((manifest) => {
      const files = (manifest.files || []).slice().sort((a, b) => (a.created < b.created ? 1 : -1));
      const seen = new Set();
      for (const file of files) {
        const row = document.createElement("tr");
        if (!seen.has(file.kind)) {
          row.className = "latest";
          seen.add(file.kind);
        }
        const name = document.createElement("td");
        const link = document.createElement("a");
        link.href = "/" + file.path;
        link.textContent = file.path.split("/").pop();
        name.appendChild(link);
        row.appendChild(name);
        row.appendChild(cell(file.kind));
        row.appendChild(cell(file.region || ""));
        row.appendChild(cell(size(file.size || 0), "num"));
        row.appendChild(cell(file.rows == null ? "" : file.rows.toLocaleString("en"), "num"));
        row.appendChild(cell((file.created || "").replace("T", " ").replace("Z", "")));
        const hash = cell((file.sha256 || "").slice(0, 12) + "…", "hash");
        hash.title = file.sha256 || "";
        row.appendChild(hash);
        row.dataset.kind = file.kind;
        row.dataset.path = file.path;
        body.appendChild(row);
      }
      document.getElementById("downloads-updated").textContent = "Updated " + manifest.updated + ".";
      status.textContent = files.length ? "" : "No files published yet.";
      document.body.dataset.ready = "1";
    })
    .catch(() => {
      status.textContent = "No files published yet.";
      document.body.dataset.ready = "1";
    });
})();
