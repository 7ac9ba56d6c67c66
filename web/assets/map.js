// Coverage map: Leaflet + the coverage PMTiles archive (read with HTTP range requests, so areas
// without coverage cost no request and no 404), over country outlines from basemap/.
(function () {
  "use strict";
  const status = document.getElementById("map-status");
  const map = L.map("map", { minZoom: 1, maxZoom: 15, worldCopyJump: true }).setView([30, 10], 2);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  // Country outlines below the coverage tiles (tilePane is at z-index 200).
  map.createPane("basemap").style.zIndex = "150";

  fetch("basemap/countries.geojson")
    .then((response) => response.json())
    .then((countries) => {
      L.geoJSON(countries, {
        pane: "basemap",
        interactive: false,
        style: { color: "#8a99a8", weight: 1, fillColor: "#ffffff", fillOpacity: 1 },
      }).addTo(map);
      document.body.dataset.basemapReady = "1";
    });

  const archive = new pmtiles.PMTiles("tiles/coverage.pmtiles");
  const CoverageLayer = L.GridLayer.extend({
    createTile: function (coords, done) {
      // A div, so a tile without coverage is an empty box (an <img> without src draws a frame).
      const tile = document.createElement("div");
      archive
        .getZxy(coords.z, coords.x, coords.y)
        .then((found) => {
          if (!found) {
            done(null, tile); // no coverage here
            return;
          }
          const image = document.createElement("img");
          const url = URL.createObjectURL(new Blob([found.data], { type: "image/png" }));
          image.alt = "";
          image.className = "coverage-tile";
          image.onload = () => {
            URL.revokeObjectURL(url);
            done(null, tile);
          };
          image.onerror = () => done(new Error("bad coverage tile"), tile);
          image.src = url;
          tile.appendChild(image);
        })
        .catch((error) => done(error, tile));
      return tile;
    },
  });

  archive
    .getHeader()
    .then((header) => {
      const layer = new CoverageLayer({
        maxNativeZoom: header.maxZoom,
        minZoom: 1,
        maxZoom: 15,
        attribution: "Coverage © OpenLoc contributors",
      });
      layer.addTo(map);
      if (header.centerZoom > 0) {
        // Open on the covered area (the archive's bounds).
        map.fitBounds(
          [
            [header.minLat, header.minLon],
            [header.maxLat, header.maxLon],
          ],
          { maxZoom: 13 }
        );
      }
      status.textContent = "Coverage tiles: zoom " + header.minZoom + "–" + header.maxZoom + ".";
      document.body.dataset.mapReady = "1";
    })
    .catch(() => {
      status.textContent = "No coverage published yet.";
      document.body.dataset.mapReady = "1";
    });
})();
