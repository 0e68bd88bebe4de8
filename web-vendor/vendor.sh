#!/usr/bin/env bash
# Copy the pinned front-end builds (web-vendor/package-lock.json) into the
# app's static folder with their licences, so serving the app needs no Node
# and no CDN. Run by `make vendor`; commit what it changes.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --silent --no-audit --no-fund
out=../practice/web/static/vendor
rm -rf "$out"
mkdir -p "$out"/{event-calendar,htmx,pico,axe-core}
nm=node_modules
cp $nm/@event-calendar/build/dist/event-calendar.min.{js,css} "$out/event-calendar/"
cp $nm/htmx.org/dist/htmx.min.js $nm/htmx.org/LICENSE "$out/htmx/"
cp $nm/@picocss/pico/css/pico.min.css "$out/pico/"
cp $nm/@picocss/pico/LICENSE.md "$out/pico/LICENSE.md"
cp $nm/axe-core/axe.min.js $nm/axe-core/LICENSE "$out/axe-core/"
# @event-calendar/build ships its licence only in package.json: write it out.
node -e '
const p = require("./node_modules/@event-calendar/build/package.json");
const year = new Date().getFullYear();
process.stdout.write(`${p.name} ${p.version}\nLicence: ${p.license} (declared in its package.json)\nAuthor: ${typeof p.author === "object" ? p.author.name : (p.author || "Vlad Kurko")}\nSource: ${(p.repository && (p.repository.url || p.repository)) || "github.com/vkurko/calendar"}\n`);
' > "$out/event-calendar/LICENSE.txt"
cat >> "$out/event-calendar/LICENSE.txt" <<'MIT'

MIT License

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
MIT
node -e '
const fs = require("fs");
const lock = require("./package-lock.json");
const lines = Object.entries(lock.packages).filter(([k]) => k).map(([k, v]) => `${k.replace("node_modules/", "")} ${v.version} ${v.license || ""}`);
fs.writeFileSync("'"$out"'/VERSIONS.txt", "Pinned by web-vendor/package-lock.json; refreshed by make vendor.\n" + lines.join("\n") + "\n");
'
echo "vendor files in practice/web/static/vendor:"; find "$out" -type f | sort
