#!/bin/sh
# Copies the pinned npm builds (package-lock.json) and their licences into the Python package.
set -eu
cd "$(dirname "$0")"
out=../src/circulo/web/static/vendor
mkdir -p "$out"
cp node_modules/htmx.org/dist/htmx.min.js "$out/htmx.min.js"
cp node_modules/htmx.org/LICENSE "$out/htmx.LICENSE"
cp node_modules/axe-core/axe.min.js "$out/axe.min.js"
cp node_modules/axe-core/LICENSE "$out/axe-core.LICENSE"
cp node_modules/axe-core/LICENSE-3RD-PARTY.txt "$out/axe-core.LICENSE-3RD-PARTY.txt"
cp node_modules/uplot/dist/uPlot.iife.min.js "$out/uPlot.iife.min.js"
cp node_modules/uplot/dist/uPlot.min.css "$out/uPlot.min.css"
cp node_modules/uplot/LICENSE "$out/uPlot.LICENSE"
v() { node -p "require('$1/package.json').version"; }
echo "vendored htmx.org $(v htmx.org), uplot $(v uplot), axe-core $(v axe-core) into $out"
