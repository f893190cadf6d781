// Builds the UI into dist/ (checked in, embedded by embed.go):
//   app.js                 src/main.js and MapLibre GL JS, bundled (ES module)
//   maplibre-gl-worker.js  MapLibre's worker, loaded by app.js
//   app.css, maplibre-gl.css, index.html
// `node build.mjs --watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const mlDist = join(here, 'node_modules', 'maplibre-gl', 'dist');
const watch = process.argv.includes('--watch');

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

function copyStatic() {
  copyFileSync(join(here, 'src', 'index.html'), join(dist, 'index.html'));
  copyFileSync(join(mlDist, 'maplibre-gl.css'), join(dist, 'maplibre-gl.css'));
  copyFileSync(join(mlDist, 'maplibre-gl-worker.mjs'), join(dist, 'maplibre-gl-worker.js'));
  copyFileSync(join(here, 'node_modules', 'maplibre-gl', 'LICENSE.txt'), join(dist, 'maplibre-gl-LICENSE.txt'));
}

const options = {
  entryPoints: { app: join(here, 'src', 'main.js') },
  outdir: dist,
  entryNames: '[name]',
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome111', 'firefox115', 'safari16.4'],
  minify: true,
  legalComments: 'eof',
  logLevel: 'info',
  plugins: [{
    name: 'static',
    setup(build) {
      build.onEnd(() => copyStatic());
    },
  }],
};

// The stylesheet is a second build, so that it too is named app.
const css = { ...options, entryPoints: { app: join(here, 'src', 'app.css') }, plugins: [] };

if (watch) {
  const ctx = await esbuild.context(options);
  const cctx = await esbuild.context(css);
  await Promise.all([ctx.watch(), cctx.watch()]);
} else {
  await esbuild.build(options);
  await esbuild.build(css);
}
