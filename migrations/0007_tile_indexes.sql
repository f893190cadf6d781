-- Partial spatial indexes for the map's low zooms, which draw only large
-- mains (gis/tiles: dn >= 600 below zoom 11, dn >= 300 below zoom 12). On a
-- city of a million pipes they cut a zoom-10 tile from ~70 ms to ~7 ms.
-- Imports drop and rebuild every GiST index on the network tables, these
-- included.
CREATE INDEX IF NOT EXISTS pipes_geom_dn300 ON pipes USING gist (geom) WHERE dn >= 300;
CREATE INDEX IF NOT EXISTS pipes_geom_dn600 ON pipes USING gist (geom) WHERE dn >= 600;
