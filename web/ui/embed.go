// Package ui holds the map UI, built into dist/ (checked in, so that the Go
// build needs no Node.js) and embedded in the binary. Rebuild it with
// `npm ci && npm run build` in this directory (see README.md).
package ui

import (
	"embed"
	"io/fs"
)

// Dist is the built UI; its files are under "dist/".
//
//go:embed dist
var Dist embed.FS

// FS returns the built UI rooted at dist/: index.html, app.js, app.css,
// maplibre-gl.css, maplibre-gl-worker.js.
func FS() fs.FS {
	sub, err := fs.Sub(Dist, "dist")
	if err != nil {
		panic(err) // cannot happen: dist is embedded
	}
	return sub
}
