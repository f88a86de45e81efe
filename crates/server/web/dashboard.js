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
      status.textContent = `✓ ${v.model} v${v.model_version}`;
      await models();
    } catch (err) {
      status.textContent = err.message;
    }
  });

  overview().catch(fail($('events-chart')));
  leaderboard().catch(fail($('board-table')));
  models().catch(fail($('model-current')));
  users();
})();
