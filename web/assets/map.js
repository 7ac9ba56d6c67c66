// Coverage map: Leaflet + the coverage PMTiles archive (read with HTTP range requests, so areas
// without coverage cost no request and no 404), over a base layer: the raster tiles the deployment
// configures in config.json (streets and labels), or else country outlines from basemap/ (nothing
// loaded from another host).
(function () {
  "use strict";
  const status = document.getElementById("map-status");
  const map = L.map("map", { minZoom: 1, maxZoom: 15, worldCopyJump: true }).setView([30, 10], 2);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  // The base layer below the coverage tiles (tilePane is at z-index 200).
  map.createPane("basemap").style.zIndex = "150";

  function escapeHtml(text) {
    const span = document.createElement("span");
    span.textContent = String(text);
    return span.innerHTML.replace(/"/g, "&quot;");
  }

  // The attribution is plain text (escaped), linked when the configuration gives an http(s) link.
  function attribution(basemap) {
    const text = escapeHtml(basemap.attribution);
    const link = basemap.attributionUrl;
    return typeof link === "string" && /^https?:\/\//.test(link)
      ? '<a href="' + escapeHtml(link) + '">' + text + "</a>"
      : text;
  }

  function rasterBasemap(basemap) {
    document.body.dataset.basemap = "raster";
    const layer = L.tileLayer(basemap.url, {
      pane: "basemap",
      maxNativeZoom: basemap.maxZoom,
      maxZoom: 15,
      attribution: attribution(basemap),
    });
    layer.once("load", () => {
      document.body.dataset.basemapReady = "1";
    });
    layer.addTo(map);
  }

  function countryOutlines() {
    document.body.dataset.basemap = "outlines";
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
  }

  const configured = fetch("config.json")
    .then((response) => (response.ok ? response.json() : {}))
    .catch(() => ({}));

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

  const opened = archive
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

  // The base layer once the map shows its first view: no tile of the world view is fetched from
  // the tile server only to be dropped when the map moves to the covered area.
  Promise.all([configured, opened]).then(([config]) => {
    const basemap = config && config.basemap;
    if (basemap && typeof basemap.url === "string" && typeof basemap.attribution === "string") {
      rasterBasemap(basemap);
    } else {
      countryOutlines();
    }
  });
})();
