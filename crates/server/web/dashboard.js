// The dashboard: data statistics with charts, the model leaderboard, model versions with a
// retrain button, and a per-user page (history, recommendations and reasons).
'use strict';

(() => {
  const { h, clear, price, fixed } = DG;
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;
  const fail = (node) => (e) => clear(node, h('p', { class: 'error' }, e.message));

  async function overview() {
    const v = await DG.get('/stats/overview');
    const card = (label, value) => h('div', { class: 'card stat' }, h('div', { class: 'muted' }, label), h('div', { class: 'big' }, value));
    const span = v.first_timestamp ? `${DG.day(v.first_timestamp)} → ${DG.day(v.last_timestamp)}` : '–';
    clear(
      $('cards'),
      card('用户 Users', v.users.toLocaleString()),
      card('商品 Items', v.items.toLocaleString()),
      card('事件 Events', v.events.toLocaleString()),
      card('购买 Purchases', (v.events_by_kind.purchase || 0).toLocaleString()),
      card('时间 Period', span),
    );
    const kinds = v.kinds.filter((k) => v.daily.some((d) => d.counts[k]));
    DG.lineChart(
      $('events-chart'),
      v.daily.map((d) => DG.day(d.day).slice(5)),
      kinds.map((k) => ({ name: k, values: v.daily.map((d) => d.counts[k] || 0) })),
      { label: 'events per day by kind' },
    );
    const lt = v.long_tail;
    $('tail-note').textContent =
      `商品按用户数排序 / items by distinct users, most popular first (log scale). ` +
      `Top 10% of items: ${(100 * lt.top_10pct_share).toFixed(1)}% of user–item pairs; top 20%: ${(100 * lt.top_20pct_share).toFixed(1)}%; ` +
      `${lt.items_without_interactions} items without any.`;
    DG.areaChart($('tail-chart'), lt.users_per_item, { log: true, xlabel: 'item rank →', label: 'popularity long tail' });
    const cats = Object.entries(v.items_by_category).sort((a, b) => b[1] - a[1]);
    DG.barChart($('category-chart'), cats.map(([label, value]) => ({ label, value })), { labelWidth: 170, colorBy: true, label: 'items by category' });
  }

  async function leaderboard() {
    const v = await DG.get('/stats/leaderboard');
    $('evaluate-status').textContent = v.evaluating ? '评估中… / evaluating…' : v.last_error ? 'failed: ' + v.last_error : '';
    const b = v.leaderboard;
    if (!b) {
      $('board-note').textContent = '还没有评估结果 / no evaluation yet: run `daogou demo`, or press “Evaluate now”.';
      clear($('board-chart'));
      clear($('board-table'));
      return v;
    }
    $('board-note').textContent =
      `${b.source}, ${DG.time(b.created)} UTC · trained before ${DG.time(b.cut)}, tested on the rest (new items only) · ` +
      `${b.train_interactions.toLocaleString()} / ${b.test_interactions.toLocaleString()} interactions · k = ${b.k}`;
    const ok = b.rows.filter((r) => !r.error);
    DG.barChart($('board-chart'), ok.map((r) => ({ label: r.model, value: r.metrics.ndcg, note: 'NDCG ' + fixed(r.metrics.ndcg) })), {
      max: Math.max(...ok.map((r) => r.metrics.ndcg), 1e-9) * 1.15,
      colorBy: true,
      label: 'NDCG by model',
    });
    const cols = ['precision', 'recall', 'ndcg', 'hit_rate', 'coverage'];
    clear(
      $('board-table'),
      h(
        'table',
        { class: 'data', 'data-testid': 'leaderboard' },
        h('tr', {}, h('th', {}, 'model'), cols.map((c) => h('th', {}, `${c}@${b.k}`)), h('th', {}, 'fit s')),
        b.rows.map((r) =>
          h('tr', {}, h('td', {}, r.model),
            r.error ? h('td', { colspan: cols.length + 1, class: 'error' }, r.error)
              : [cols.map((c) => h('td', { class: 'num' }, fixed(r.metrics[c]))), h('td', { class: 'num' }, fixed(r.fit_seconds, 2))])),
      ),
    );
    return v;
  }

  async function models() {
    const v = await DG.get('/stats/model');
    const cur = v.current || {};
    clear(
      $('model-current'),
      h('p', {}, h('b', {}, `${cur.model} v${cur.version}`),
        ` · ${cur.users} users × ${cur.items} items · ${cur.interactions} interactions` + (cur.params && cur.params.length ? ' · ' + cur.params.join(', ') : '')),
      v.last_retrain ? h('p', { class: 'muted' }, 'last retrain: ' + (v.last_retrain.status === 'ok' ? `ok, v${v.last_retrain.model_version}` : v.last_retrain.error)) : null,
    );
    const imp = (v.feature_importance || []).slice(0, 15);
    $('importance').hidden = !imp.length;
    if (imp.length) {
      const total = v.feature_importance.reduce((a, f) => a + f.gain, 0) || 1;
      DG.barChart($('importance-chart'), imp.map((f) => ({ label: f.feature, value: f.gain, note: (100 * f.gain / total).toFixed(1) + '%' })), {
        labelWidth: 220,
        label: 'feature importance',
      });
    } else clear($('importance-chart'));
    const sel = $('retrain-model');
    if (!sel.options.length) for (const m of v.models) sel.append(h('option', { value: m }, m));
    sel.value = cur.model;
    clear(
      $('versions'),
      h('table', { class: 'data', 'data-testid': 'versions' },
        h('tr', {}, ['version', 'model', 'params', 'users', 'items', 'interactions', 'since (UTC)'].map((c) => h('th', {}, c))),
        v.versions.map((e) => h('tr', {}, h('td', {}, 'v' + e.version), h('td', {}, e.model), h('td', {}, e.params.join(', ')),
          h('td', { class: 'num' }, e.users), h('td', { class: 'num' }, e.items), h('td', { class: 'num' }, e.interactions), h('td', {}, DG.time(e.since))))),
    );
  }

  const METRICS = [
    ['ctr', '点击率 CTR', 4],
    ['add_to_cart_rate', '加购率 Add-to-cart rate', 4],
    ['conversion_rate', '转化率 Conversion rate', 3],
    ['revenue_per_user', '人均收入 Revenue per user', 2],
  ];
  const pct = (x) => (x == null ? '–' : (100 * x).toFixed(2) + '%');
  const interval = (e, d) => (e ? `${fixed(e.value, d)} [${fixed(e.ci_low, d)}, ${fixed(e.ci_high, d)}]` : '–');

  // One experiment: status, sample-ratio check, variants with intervals, each variant against
  // the control (always-valid p), and every metric over time per variant (95 % bands).
  function experiment(v) {
    const names = v.variants.map((x) => x.name);
    const labels = v.timeline.map((p) => DG.time(p.at).slice(5));
    const srm = v.srm;
    const charts = METRICS.map(([key, title, digits]) => {
      const node = h('div', { class: 'chart', 'data-testid': 'experiment-chart', 'data-metric': key });
      const series = names.map((name, i) => {
        const m = v.timeline.map((p) => p.variants[i].metrics[key]);
        return { name, values: m.map((e) => (e ? e.value : null)), lo: m.map((e) => (e ? e.ci_low : null)), hi: m.map((e) => (e ? e.ci_high : null)) };
      });
      DG.bandChart(node, labels, series, { digits, label: `${key} over time by variant` });
      return h('div', {}, h('h3', {}, title + (key === v.primary_metric ? ' ★' : '')), node);
    });
    return h('div', { class: 'experiment', 'data-testid': 'experiment', 'data-name': v.name, 'data-status': v.status },
      h('h3', {}, `${v.name} · `, h('span', { class: 'status-' + v.status }, v.status),
        ` · primary ${v.primary_metric} · window ${v.attribution_window_hours} h` + (v.started_at ? ` · since ${DG.time(v.started_at)} UTC` : '')),
      h('p', { class: srm.alarm ? 'error' : 'muted', 'data-testid': 'srm' },
        srm.alarm
          ? `⚠ 样本比例失衡 Sample-ratio mismatch: users ${srm.observed.join(' / ')} against expected ${srm.expected.map((e) => e.toFixed(0)).join(' / ')} (p = ${srm.p_value.toExponential(2)}); the assignment or logging is broken, do not trust the metrics.`
          : `样本比例 Sample ratio OK: users ${srm.observed.join(' / ')} (χ² p = ${fixed(srm.p_value, 3)})`),
      h('table', { class: 'data', 'data-testid': 'experiment-variants' },
        h('tr', {}, ['variant', 'share', 'users', 'lists', 'impressions', ...METRICS.map((m) => m[0] + ' [95% CI]')].map((c) => h('th', {}, c))),
        v.variants.map((x) => h('tr', {}, h('td', {}, x.name), h('td', { class: 'num' }, pct(x.share)), h('td', { class: 'num' }, x.users),
          h('td', { class: 'num' }, x.lists), h('td', { class: 'num' }, x.impressions),
          METRICS.map(([key, , d]) => h('td', { class: 'num' }, interval(x.metrics[key], d)))))),
      h('table', { class: 'data', 'data-testid': 'experiment-comparisons' },
        h('tr', {}, ['variant vs control', 'metric', 'difference [95% CI]', 'relative', 'always-valid p', ''].map((c) => h('th', {}, c))),
        v.comparisons.map((c) => h('tr', {}, h('td', {}, c.variant), h('td', {}, c.metric), h('td', { class: 'num' }, interval(c.diff, 4)),
          h('td', { class: 'num' }, c.relative == null ? '–' : (c.relative >= 0 ? '+' : '') + pct(c.relative)),
          h('td', { class: 'num' }, fixed(c.p_value, 4)), h('td', {}, c.significant ? '✓ significant' : 'not yet')))),
      h('div', { class: 'two' }, charts.slice(0, 2)),
      h('div', { class: 'two' }, charts.slice(2)),
    );
  }

  async function experiments() {
    const v = await DG.get('/experiments');
    const list = v.experiments.slice().sort((a, b) => (a.status === 'running' ? -1 : 0) - (b.status === 'running' ? -1 : 0) || b.created_at - a.created_at);
    $('experiments-note').textContent = list.length
      ? `${list.filter((e) => e.status === 'running').length} running, ${list.length} in all (POST /admin/experiments to create one). p-values stay valid however often you look (mSPRT).`
      : '还没有实验 / no experiments yet: create one with POST /admin/experiments and start it with POST /admin/experiments/{name}/start.';
    const shown = await Promise.all(list.slice(0, 3).map((e) => DG.get('/experiments/' + enc(e.name))));
    clear($('experiments'), shown.map(experiment));
  }

  async function showUser(id) {
    $('user-id').value = id;
    const hist = $('user-history');
    const recs = $('user-recs');
    clear(hist, '…');
    clear(recs, '…');
    DG.get('/admin/users/' + enc(id))
      .then((v) =>
        clear(hist,
          h('p', { class: 'muted' }, `${v.events} events · ` + Object.entries(v.events_by_kind).map(([k, n]) => `${k} ${n}`).join(' · ') +
            (v.known_to_model ? '' : ' · unknown to the model')),
          h('table', { class: 'data' }, v.history.map((e) =>
            h('tr', {}, h('td', {}, DG.time(e.timestamp)), h('td', {}, e.verb), h('td', {}, e.title || (e.query ? `“${e.query}”` : e.item || '')),
              h('td', { class: 'num' }, price(e.price))))),
        ))
      .catch(fail(hist));
    DG.get(`/users/${enc(id)}/recommendations?n=10`)
      .then((v) =>
        clear(recs,
          h('p', { class: 'muted' }, `${v.model} v${v.model_version}` + (v.realtime ? ' · real time' : '') + (v.known_user ? '' : ' · new user')),
          h('ol', { class: 'recs' }, v.items.map((p) => h('li', {}, h('b', {}, p.title), ' ', h('span', { class: 'price' }, price(p.price)),
            h('div', { class: 'reason' }, p.reason)))),
        ))
      .catch(fail(recs));
  }

  async function users() {
    const sel = $('user-pick');
    try {
      const v = await DG.get('/admin/users?n=30');
      clear(sel, v.users.map((u) => h('option', { value: u.user }, `${u.user} (${u.items} items)`)));
      if (v.users.length) showUser(v.users[0].user);
    } catch (e) {
      sel.hidden = true;
    }
    sel.addEventListener('change', () => showUser(sel.value));
    $('user-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const id = $('user-id').value.trim();
      if (id) showUser(id);
    });
  }

  async function poll(check, every, tries) {
    for (let i = 0; i < tries; i++) {
      await new Promise((r) => setTimeout(r, every));
      if (await check()) return true;
    }
    return false;
  }

  $('evaluate').addEventListener('click', async () => {
    $('evaluate-status').textContent = '评估中… / evaluating…';
    try {
      await DG.post('/admin/evaluate');
      await poll(async () => !(await leaderboard()).evaluating, 1000, 600);
    } catch (e) {
      $('evaluate-status').textContent = e.message;
    }
  });

  $('retrain-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const status = $('retrain-status');
    status.textContent = '训练中… / fitting…';
    try {
      const v = await DG.post('/admin/retrain?wait=true', { model: $('retrain-model').value });
      // the tick once the version list shows the new model (it raced the list's reload)
      await models();
      status.textContent = `✓ ${v.model} v${v.model_version}`;
    } catch (err) {
      status.textContent = err.message;
    }
  });

  overview().catch(fail($('events-chart')));
  leaderboard().catch(fail($('board-table')));
  models().catch(fail($('model-current')));
  experiments().catch(fail($('experiments')));
  users();
})();
