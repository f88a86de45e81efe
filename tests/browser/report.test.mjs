// The HTML file of `daogou report` in headless Chromium: it loads with no request outside the
// file, every chart is drawn (SVG with a non-zero size and bars), and the numbers it shows are
// those of `daogou report --json`. Run by tests/browser/run.sh, which writes the report and its
// JSON and passes their paths in REPORT_HTML and REPORT_JSON.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const file = process.env.REPORT_HTML;
const numbers = JSON.parse(readFileSync(process.env.REPORT_JSON, 'utf8'));
const out = process.env.ARTIFACTS || 'target/browser-artifacts';

const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};
// the page shows 4 decimals
const same = (text, x) => Math.abs(Number(text) - x) <= 0.00005 + 1e-12;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const requests = [];
const problems = [];
page.on('request', (r) => {
  if (!r.url().startsWith('file:')) requests.push(r.url());
});
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
page.on('console', (m) => {
  if (m.type() === 'error') problems.push('console: ' + m.text());
});

try {
  await page.goto(pathToFileURL(file).href);
  for (const id of ['leaderboard', 'distributions', 'popularity', 'beyond-accuracy', 'segments']) {
    check((await page.locator(`section#${id} h2`).count()) === 1, `section ${id} is there`);
  }
  const charts = await page.locator('svg.chart').evaluateAll((svgs) =>
    svgs.map((s) => {
      const box = s.getBoundingClientRect();
      return { id: s.id, width: box.width, height: box.height, marks: s.querySelectorAll('rect.bar, circle').length };
    }),
  );
  for (const id of ['chart-leaderboard', 'chart-differences', 'chart-distributions', 'chart-popularity', 'chart-coverage', 'chart-history']) {
    const c = charts.find((x) => x.id === id);
    check(c && c.width > 100 && c.height > 50 && c.marks > 0, `${id} is drawn (${JSON.stringify(c)})`);
  }
  // bars of non-zero height where the JSON has a non-zero value
  const tallest = await page.locator('#chart-popularity rect.bar').evaluateAll((rs) =>
    Math.max(...rs.map((r) => r.getBoundingClientRect().height)),
  );
  check(tallest > 10, `the popularity chart has visible bars (tallest ${tallest.toFixed(1)} px)`);

  // the leaderboard's numbers are the JSON's
  const k = numbers.k;
  for (const m of numbers.models) {
    for (const key of [`ndcg@${k}`, `recall@${k}`, 'mrr']) {
      const cell = page.locator(`#leaderboard-table td[data-model="${m.model}"][data-metric="${key}"]`);
      const shown = (await cell.innerText()).split('\n')[0].trim();
      check(same(shown, m[key]), `${m.model} ${key}: the page shows ${shown}, --json has ${m[key]}`);
    }
  }
  const second = numbers.models[1];
  if (second) {
    const d = second.vs_first[`ndcg@${k}`];
    const cell = await page.locator(`#leaderboard-table td[data-model="${second.model}"][data-metric="ndcg@${k}"]`).innerText();
    const fmt = (x) => (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(4);
    const m = cell.match(/([+-]\d\.\d{4}) \[([+-]\d\.\d{4}), ([+-]\d\.\d{4})\]/);
    check(
      m && same(m[1], d.diff) && same(m[2], d.ci_low) && same(m[3], d.ci_high),
      `${second.model}'s difference from ${numbers.first} with its interval: ${m && m[0]} vs ${fmt(d.diff)} [${fmt(d.ci_low)}, ${fmt(d.ci_high)}]`,
    );
  }
  check(requests.length === 0, `no request leaves the file (${requests.join(', ')})`);
  check(problems.length === 0, `no script error or blocked content (${problems.join('; ')})`);
  await page.screenshot({ path: join(out, 'report.png'), fullPage: true });
} catch (e) {
  check(false, 'report test threw: ' + e.message);
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(`${failures.length} report check(s) failed`);
  process.exit(1);
}
console.log('report test passed');
