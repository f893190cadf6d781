// Coordinates in the deployment's CRS (GET api/config: srid), computed in
// the browser for the projected systems utilities use: CGCS2000
// Gauss-Krüger zones (EPSG:4491–4554, 3° and 6°, with and without the zone
// prefix), WGS84 UTM (326xx/327xx), ETRS89 UTM (258xx) and Web Mercator.
// Another CRS shows lon/lat only (projected() returns null).

const CGCS2000 = { a: 6378137, f: 1 / 298.257222101 };
const WGS84 = { a: 6378137, f: 1 / 298.257223563 };

// tmParams returns the transverse Mercator parameters of an EPSG code, or
// null when the code is not one of the systems above.
export function tmParams(srid) {
  const s = Number(srid);
  if (s >= 4491 && s <= 4501) { // CGCS2000 6° zones 13–23, zone prefix
    const zone = s - 4478;
    return { ell: CGCS2000, lon0: zone * 6 - 3, k0: 1, fe: zone * 1e6 + 500000, fn: 0 };
  }
  if (s >= 4502 && s <= 4512) { // CGCS2000 6°, CM 75°E–135°E
    return { ell: CGCS2000, lon0: 75 + (s - 4502) * 6, k0: 1, fe: 500000, fn: 0 };
  }
  if (s >= 4513 && s <= 4533) { // CGCS2000 3° zones 25–45, zone prefix
    const zone = s - 4488;
    return { ell: CGCS2000, lon0: zone * 3, k0: 1, fe: zone * 1e6 + 500000, fn: 0 };
  }
  if (s >= 4534 && s <= 4554) { // CGCS2000 3°, CM 75°E–135°E
    return { ell: CGCS2000, lon0: 75 + (s - 4534) * 3, k0: 1, fe: 500000, fn: 0 };
  }
  if ((s >= 32601 && s <= 32660) || (s >= 32701 && s <= 32760)) {
    const zone = s % 100;
    return { ell: WGS84, lon0: zone * 6 - 183, k0: 0.9996, fe: 500000, fn: s >= 32701 ? 10000000 : 0 };
  }
  if (s >= 25828 && s <= 25838) { // ETRS89 / UTM (GRS80 ≈ WGS84 at this precision)
    return { ell: WGS84, lon0: (s - 25800) * 6 - 183, k0: 0.9996, fe: 500000, fn: 0 };
  }
  return null;
}

// tm is the transverse Mercator forward projection (Snyder 1987, 8-9/8-10;
// millimetre-accurate within a zone).
function tm(lon, lat, p) {
  const { a, f } = p.ell;
  const e2 = f * (2 - f);
  const ep2 = e2 / (1 - e2);
  const rad = Math.PI / 180;
  const phi = lat * rad;
  const lam = (lon - p.lon0) * rad;
  const sin = Math.sin(phi);
  const cos = Math.cos(phi);
  const tan = Math.tan(phi);
  const N = a / Math.sqrt(1 - e2 * sin * sin);
  const T = tan * tan;
  const C = ep2 * cos * cos;
  const A = lam * cos;
  const e4 = e2 * e2;
  const e6 = e4 * e2;
  const M = a * ((1 - e2 / 4 - 3 * e4 / 64 - 5 * e6 / 256) * phi
    - (3 * e2 / 8 + 3 * e4 / 32 + 45 * e6 / 1024) * Math.sin(2 * phi)
    + (15 * e4 / 256 + 45 * e6 / 1024) * Math.sin(4 * phi)
    - (35 * e6 / 3072) * Math.sin(6 * phi));
  const x = p.k0 * N * (A + (1 - T + C) * A ** 3 / 6 + (5 - 18 * T + T * T + 72 * C - 58 * ep2) * A ** 5 / 120);
  const y = p.k0 * (M + N * tan * (A * A / 2 + (5 - T + 9 * C + 4 * C * C) * A ** 4 / 24
    + (61 - 58 * T + T * T + 600 * C - 330 * ep2) * A ** 6 / 720));
  return [x + p.fe, y + p.fn];
}

// projected returns [easting, northing] of lon/lat in the CRS srid, or
// null when the browser cannot compute it.
export function projected(srid, lon, lat) {
  if (Number(srid) === 3857 || Number(srid) === 900913) {
    const r = 6378137;
    return [r * lon * Math.PI / 180, r * Math.log(Math.tan(Math.PI / 4 + lat * Math.PI / 360))];
  }
  const p = tmParams(srid);
  return p ? tm(lon, lat, p) : null;
}

// formatCoords: "117.012345, 36.671234 · E 500123.45 N 4060456.78 (EPSG:4548)".
export function formatCoords(srid, lon, lat) {
  const ll = `${lon.toFixed(6)}, ${lat.toFixed(6)}`;
  const xy = projected(srid, lon, lat);
  if (!xy || Number(srid) === 4326) return ll;
  return `${ll} · E ${xy[0].toFixed(2)} N ${xy[1].toFixed(2)} (EPSG:${srid})`;
}
