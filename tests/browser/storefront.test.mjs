// The storefront and dashboard of `daogou serve` in headless Chromium (playwright-core, no
// bundled browser: Debian's /usr/bin/chromium). Run by tests/browser/run.sh, which starts the
// server on the demo shop and passes its address in DAOGOU_URL.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const base = process.env.DAOGOU_URL;
const out = process.env.ARTIFACTS || 'target/browser-artifacts';
if (!base) throw new Error('DAOGOU_URL is not set (run tests/browser/run.sh)');
mkdirSync(out, { recursive: true });

const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
    '--no-first-run', '--disable-component-update', '--disable-sync',
  ],
});
const page = await browser.newPage({ viewport: { width: 1366, height: 900 }, locale: 'zh-CN' });
page.setDefaultTimeout(30_000);
// script errors and blocked content (CSP) fail the test; a 404 answered by the API does not
const problems = [];
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
page.on('console', (m) => {
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push('console: ' + m.text());
});
const shot = (name) => page.screenshot({ path: join(out, name), fullPage: true });

try {
  // ---------------------------------------------------------------- storefront home
  await page.goto(base + '/');
  const forYou = page.locator('[data-testid=for-you] [data-testid=product-card]');
  await forYou.first().waitFor();
  check((await forYou.count()) >= 4, `home shows recommendations for the selected user (${await forYou.count()})`);
  const user = await page.locator('[data-testid=user-select]').inputValue();
  check(user !== '', `a demo user is selected (${user})`);
  const reasons = await page.locator('[data-testid=for-you] .reason').allTextContents();
  check(reasons.length > 0 && reasons.every((r) => r.trim() !== ''), 'every recommendation has a reason');
  await page.locator('[data-testid=popular] [data-testid=product-card]').first().waitFor();
  // buy it again: the selected user's own purchases, each with how often and when
  const again = page.locator('[data-testid=buy-again] [data-testid=product-card]');
  await again.first().waitFor();
  const againReasons = await page.locator('[data-testid=buy-again] .reason').allTextContents();
  check(
    againReasons.length > 0 && againReasons.every((r) => /^bought (on|twice, last on|\d+ times, last on) \d{4}-\d{2}-\d{2}$/.test(r)),
    `buy it again shows the user's purchases with counts and dates (${againReasons.join('; ')})`,
  );
  await shot('storefront.png');

  // ---------------------------------------------------------------- the assistant
  async function ask(question, limit, file) {
    await page.locator('#chat-new').click();
    await page.locator('[data-testid=chat-input]').fill(question);
    await page.locator('[data-testid=chat-send]').click();
    const answer = page.locator('[data-testid=answer]').last();
    await answer.waitFor();
    const prices = (await answer.locator('[data-testid=product-card]').evaluateAll((cs) => cs.map((c) => c.dataset.price)))
      .map((p) => (p === '' ? NaN : Number(p)));
    check(prices.length > 0, `“${question}”: the assistant shows products (${prices.length})`);
    check(prices.every((p) => p <= limit), `“${question}”: every shown price ≤ ${limit} (${prices.join(', ')})`);
    check(Number(await answer.getAttribute('data-max-price')) === limit, `“${question}”: parsed max price ${limit}`);
    const chips = await page.locator('[data-testid=parse-chips]').last().allTextContents();
    check(chips.join(' ').includes(String(limit)), `“${question}”: the parse chips show the limit (${chips.join(' ')})`);
    // the chat panel floats over the page: photograph it with the answer in view
    await answer.scrollIntoViewIfNeeded();
    await page.locator('[data-testid=chat]').screenshot({ path: join(out, file) });
  }
  await page.locator('[data-testid=chat-toggle]').click();
  await ask('300元以下的跑鞋', 300, 'assistant-zh.png');
  await ask('running shoes under 400 RMB', 400, 'assistant-en.png');
  await page.locator('#chat-close').click();

  // ---------------------------------------------------------------- a product page
  const first = forYou.first();
  const id = await first.getAttribute('data-item');
  await first.click();
  await page.locator(`[data-testid=product][data-item="${id}"]`).waitFor();
  const title = await page.locator('[data-testid=product-title]').textContent();
  check(title.trim().length > 0, `clicking a recommendation opens its product page (${id}: ${title})`);
  await page.locator('[data-testid=similar] [data-testid=product-card]').first().waitFor();
  check((await page.locator('[data-testid=similar] [data-testid=product-card]').count()) > 0, 'the product page shows similar items');
  await page.locator('[data-testid=bought-together] h2').waitFor();
  await shot('product.png');

  // buying it puts it on the home page's "buy it again" row at once (real time)
  await page.locator('[data-testid=product] button', { hasText: '购买 Buy' }).click();
  await page.locator('[data-testid=event-status]', { hasText: '✓ purchase' }).waitFor();
  await page.locator('a.logo').click();
  await page.locator('[data-testid=buy-again] [data-testid=product-card]').first().waitFor();
  const shown = await page.locator('[data-testid=buy-again] [data-testid=product-card]').evaluateAll((cs) => cs.map((c) => c.dataset.item));
  const api = async (n) => page.evaluate(async ([u, n]) => (await (await fetch(`/users/${encodeURIComponent(u)}/buy-again?n=${n}`)).json()).items, [user, n]);
  check(JSON.stringify(shown) === JSON.stringify((await api(6)).map((p) => p.item)), `the row shows the API's buy-again list (${shown.join(', ')})`);
  const bought = (await api(200)).find((p) => p.item === id);
  check(bought && /^bought on \d{4}-\d{2}-\d{2}$/.test(bought.reason), `a purchase counts at once: ${id} is in buy it again (${bought && bought.reason})`);
  await shot('buy-again.png');

  // ---------------------------------------------------------------- a running experiment
  // created and started through the API, with traffic: for-you lists for 40 shoppers, a click
  // (by recommendation_id) on the first item of each and a purchase of the second by a few
  const post = (path, data) => page.request.post(base + path, { data, headers: { 'Content-Type': 'application/json' } });
  const made = await post('/admin/experiments', {
    name: 'browser-ab', primary_metric: 'ctr',
    variants: [{ name: 'control', share: 1 }, { name: 'popular', share: 1, popularity_weight: 2 }],
  });
  check(made.status() === 201, `experiment created (${made.status()})`);
  const started = await post('/admin/experiments/browser-ab/start', {});
  check(started.status() === 200 && (await started.json()).status === 'running', `experiment started (${started.status()})`);
  const shoppers = (await (await page.request.get(base + '/admin/users?n=40')).json()).users.map((u) => u.user);
  const seen = new Set();
  for (const [i, u] of shoppers.entries()) {
    const r = await (await page.request.get(`${base}/users/${encodeURIComponent(u)}/recommendations?n=8`)).json();
    seen.add(r.variant);
    if (!r.recommendation_id || r.experiment !== 'browser-ab') check(false, `answer for ${u} carries the experiment keys`);
    const evs = [{ user: u, item: r.items[0].item, kind: 'click', recommendation_id: r.recommendation_id }];
    if (i % 4 === 0) evs.push({ user: u, item: r.items[1].item, kind: 'purchase' });
    await post('/events', evs);
  }
  check(seen.size === 2, `shoppers are split between both variants (${[...seen].join(', ')})`);

  // ---------------------------------------------------------------- dashboard
  await page.goto(base + '/dashboard');
  const exp = page.locator('[data-testid=experiment][data-name=browser-ab][data-status=running]');
  await exp.waitFor();
  await exp.locator('[data-testid=experiment-chart] circle.point').first().waitFor();
  check((await exp.locator('[data-testid=experiment-chart]').count()) === 4, 'the running experiment: a chart per metric');
  const lines = await exp.locator('[data-testid=experiment-chart][data-metric=ctr] path.series').count();
  check(lines === 2, `its CTR chart has a line per variant (${lines})`);
  const vrows = await exp.locator('[data-testid=experiment-variants] tr').count();
  check(vrows === 3, `its table has both variants (${vrows - 1})`);
  const results = await (await page.request.get(base + '/experiments/browser-ab')).json();
  const users = results.variants.reduce((a, v) => a + v.users, 0);
  const clicks = results.variants.reduce((a, v) => a + v.clicks, 0);
  check(users === shoppers.length && clicks === shoppers.length, `results count every shopper and click (${users} users, ${clicks} clicks)`);
  const cells = await exp.locator('[data-testid=experiment-variants] tr').nth(1).locator('td').allTextContents();
  check(cells[2] === String(results.variants[0].users), `the table shows the API's numbers (${cells[2]} users)`);
  check(/Sample ratio OK|Sample-ratio mismatch/.test(await exp.locator('[data-testid=srm]').textContent()), 'the sample-ratio check is shown');
  check((await exp.locator('[data-testid=experiment-comparisons] tr').count()) === 2, 'the variant against the control, with its p-value');
  await exp.screenshot({ path: join(out, 'dashboard-experiment.png') });
  const stopped = await post('/admin/experiments/browser-ab/stop', {});
  check(stopped.status() === 200, 'experiment stopped');
  await page.locator('[data-testid=events-chart] path.series').first().waitFor();
  check((await page.locator('[data-testid=events-chart] path.series').count()) >= 3, 'events over time: one line per event kind');
  await page.locator('[data-testid=tail-chart] path.series').waitFor();
  check(true, 'popularity long tail drawn');
  await page.locator('[data-testid=board-chart] rect').first().waitFor();
  const rows = await page.locator('[data-testid=leaderboard] tr').count();
  check(rows >= 3, `leaderboard from the demo's evaluation (${rows - 1} models)`);
  await page.locator('[data-testid=versions] tr').nth(1).waitFor();
  await page.locator('[data-testid=user-recs] li').first().waitFor();
  check((await page.locator('[data-testid=user-history] tr').count()) > 0, 'per-user page: history');
  await shot('dashboard.png');

  // the retrain button: a new model version appears in the list
  const versions = page.locator('[data-testid=versions] tr');
  const before = await versions.count();
  await page.locator('#retrain-model').selectOption('item-knn');
  await page.locator('[data-testid=retrain]').click();
  await page.locator('#retrain-status', { hasText: '✓' }).waitFor();
  check((await versions.count()) === before + 1, `retrain adds a model version (${before - 1} → ${(await versions.count()) - 1})`);
  check(await page.locator('#importance').isHidden(), 'no feature importance for item-knn');
  // the learned ranker: its feature importance is drawn under the model
  await page.locator('#retrain-model').selectOption('ranker');
  await page.locator('[data-testid=retrain]').click();
  await page.locator('#retrain-status', { hasText: '✓ ranker' }).waitFor({ timeout: 120_000 });
  await page.locator('[data-testid=importance-chart] rect').first().waitFor();
  const bars = await page.locator('[data-testid=importance-chart] rect').count();
  const stats = await (await page.request.get(base + '/stats/model')).json();
  check(bars === Math.min(15, stats.feature_importance.length) && bars > 3, `ranker feature importance on the dashboard (${bars} bars)`);
  await shot('dashboard-ranker.png');

  // ---------------------------------------------------------------- with API keys configured
  const keyed = process.env.DAOGOU_KEYED_URL;
  if (keyed) {
    const p2 = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    await p2.goto(keyed + '/');
    await p2.locator('[data-testid=api-key]').waitFor();
    check(true, 'with API keys the storefront asks for a key');
    await p2.locator('[data-testid=api-key]').fill(process.env.DAOGOU_KEY);
    await p2.locator('[data-testid=api-key]').press('Enter');
    await p2.locator('[data-testid=for-you] [data-testid=product-card]').first().waitFor();
    check((await p2.locator('[data-testid=for-you] [data-testid=product-card]').count()) > 0, 'with the key the storefront shows recommendations');
    await p2.screenshot({ path: join(out, 'storefront-with-key.png') });
    await p2.close();
  }
} catch (e) {
  failures.push(String(e && e.stack ? e.stack : e));
  console.log('FAIL ' + e);
  await shot('failure.png').catch(() => {});
} finally {
  await browser.close();
}
for (const p of problems) failures.push(p);
if (failures.length) {
  console.log(`\n${failures.length} failure(s):\n` + failures.join('\n'));
  process.exit(1);
}
console.log(`\nbrowser test passed; screenshots in ${out}`);
