// The storefront: home (for you, buy it again, popular, new), product pages (similar, bought together),
// search, and the assistant as a chat panel. Routes live in the URL hash.
'use strict';

(() => {
  const { h, clear, price, hue } = DG;
  const view = document.getElementById('view');
  const USER = 'daogou.user';
  let user = localStorage.getItem(USER) || '';
  let conversation = null;
  const enc = encodeURIComponent;

  // ------------------------------------------------------------------ product cards

  function thumb(p) {
    const label = (p.category || p.title || '?').split('/').pop();
    const t = h('div', { class: 'thumb', 'aria-hidden': 'true' }, label.slice(0, 14));
    t.style.background = `hsl(${hue(p.category || p.title)} 55% 88%)`;
    return t;
  }

  function card(p, extra) {
    const id = p.item || p.id;
    return h(
      'a',
      { class: 'card', href: '#/item/' + enc(id), 'data-item': id, 'data-price': p.price == null ? '' : p.price, 'data-testid': 'product-card' },
      thumb(p),
      h('div', { class: 'title' }, p.title),
      h('div', { class: 'meta' }, [p.brand, p.category].filter(Boolean).join(' · ')),
      h('div', { class: 'price' }, price(p.price)),
      p.reason ? h('div', { class: 'reason' }, p.reason) : null,
      extra || null,
    );
  }

  function shelf(title, testid, picks, empty) {
    return h(
      'section',
      { class: 'shelf', 'data-testid': testid },
      h('h2', {}, title),
      picks.length ? h('div', { class: 'grid' }, picks.map((p) => card(p))) : h('p', { class: 'muted' }, empty || '（暂无 / nothing yet）'),
    );
  }

  async function section(title, testid, path, empty) {
    const box = h('section', { class: 'shelf', 'data-testid': testid }, h('h2', {}, title), h('p', { class: 'muted' }, '…'));
    DG.get(path)
      .then((v) => box.replaceWith(shelf(title, testid, v.items || [], empty)))
      .catch((e) => clear(box, h('h2', {}, title), h('p', { class: 'error' }, e.message)));
    return box;
  }

  // ------------------------------------------------------------------ pages

  async function home() {
    const mine = user
      ? section('为你推荐 / Recommended for you', 'for-you', `/users/${enc(user)}/recommendations?n=12`)
      : section('为你推荐 / Recommended for you (热门 · popular for guests)', 'for-you', '/popular?n=12');
    // the selected user's own purchases, most often and most recently bought first
    const again = user
      ? section('再次购买 / Buy it again', 'buy-again', `/users/${enc(user)}/buy-again?n=6`, '（还没有购买 / no purchases yet）')
      : null;
    clear(
      view,
      await mine,
      again && (await again),
      await section('热门 / Popular', 'popular', '/popular?n=6'),
      await section('新品 / New arrivals', 'new', '/new?n=6'),
      await section('趋势 / Trending (24 h)', 'trending', '/trending?n=6&hours=24'),
    );
  }

  function record(item, kind) {
    if (!user) return Promise.resolve();
    // real time: the next "for you" already reflects it; without the write scope nothing is recorded
    return DG.post('/events', { user, item, kind }).catch(() => {});
  }

  async function product(id) {
    clear(view, h('p', { class: 'muted' }, '…'));
    let it;
    try {
      it = await DG.get('/items/' + enc(id));
    } catch (e) {
      clear(view, h('p', { class: 'error' }, e.message));
      return;
    }
    record(id, 'view');
    const attrs = Object.entries(it.attributes || {}).filter(([k]) => !/^(title_|brand_zh|category_zh|daogou:)/.test(k));
    const done = h('span', { class: 'muted', 'data-testid': 'event-status' });
    const act = (kind, label) =>
      h('button', {
        type: 'button',
        onclick: () => record(id, kind).then(() => (done.textContent = user ? `✓ ${kind}` : '（先选择用户 / pick a user first）')),
      }, label);
    clear(
      view,
      h(
        'article',
        { class: 'product', 'data-testid': 'product', 'data-item': id },
        thumb(it),
        h(
          'div',
          {},
          h('h1', { 'data-testid': 'product-title' }, it.title || id),
          h('div', { class: 'meta' }, [it.brand, it.category, (it.attributes || {}).category_zh].filter(Boolean).join(' · ')),
          h('div', { class: 'price big' }, price(it.price)),
          h('div', { class: 'muted' }, it.available === false || it.stock === 0 ? '缺货 / out of stock' : '有货 / in stock'),
          h('table', { class: 'attrs' }, attrs.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))),
          h('div', { class: 'row' }, act('add_to_cart', '加入购物车 Add to cart'), act('purchase', '购买 Buy'), done),
        ),
      ),
      await section('相似商品 / Similar items', 'similar', `/items/${enc(id)}/similar?n=6`, '（没有相似商品 / none）'),
      await section('一起购买 / Bought together', 'bought-together', `/items/${enc(id)}/bought-together?n=6`, '（暂无 / none）'),
    );
    window.scrollTo(0, 0);
  }

  async function search(q) {
    document.getElementById('search-input').value = q;
    clear(view, h('p', { class: 'muted' }, '…'));
    try {
      const v = await DG.get(`/search?q=${enc(q)}&n=24`);
      clear(view, shelf(`搜索 “${q}” / Search results (${v.items.length})`, 'search-results', v.items, '没有找到 / nothing found'));
    } catch (e) {
      clear(view, h('p', { class: 'error' }, e.message));
    }
  }

  function route() {
    const hash = decodeURIComponent(location.hash.replace(/^#/, ''));
    const m = hash.match(/^\/(item|search)\/(.+)$/);
    if (m && m[1] === 'item') return product(m[2]);
    if (m && m[1] === 'search') return search(m[2]);
    return home();
  }

  // ------------------------------------------------------------------ user switcher

  async function users() {
    const sel = document.getElementById('user-select');
    try {
      const v = await DG.get('/admin/users?n=30');
      for (const u of v.users) sel.append(h('option', { value: u.user }, `${u.user} (${u.items})`));
      if (!user && v.users.length) {
        user = v.users[Math.min(3, v.users.length - 1)].user; // a typical shopper, not the heaviest
        localStorage.setItem(USER, user);
      }
    } catch (_) {
      // without the admin scope the list is not available: the current user stays selectable
    }
    if (user && ![...sel.options].some((o) => o.value === user)) sel.append(h('option', { value: user }, user));
    sel.value = user;
    sel.addEventListener('change', () => {
      user = sel.value;
      localStorage.setItem(USER, user);
      conversation = null;
      route();
    });
  }

  // ------------------------------------------------------------------ assistant

  const log = document.getElementById('chat-log');
  const chat = document.getElementById('chat');

  function chips(parse) {
    const c = [];
    const cur = parse.currency ? ' ' + parse.currency : '';
    if (parse.min_price != null && parse.max_price != null) c.push(['price', `${parse.min_price}–${parse.max_price}${cur}`]);
    else if (parse.max_price != null) c.push(['price', `≤ ${parse.max_price}${cur}`]);
    else if (parse.min_price != null) c.push(['price', `≥ ${parse.min_price}${cur}`]);
    for (const x of parse.categories || []) c.push(['category', x]);
    for (const x of parse.brands || []) c.push(['brand', x]);
    for (const [k, v] of Object.entries(parse.attributes || {})) c.push([k, v]);
    for (const x of parse.exclude_brands || []) c.push(['not', x]);
    for (const x of parse.exclude_categories || []) c.push(['not', x]);
    for (const [k, v] of Object.entries(parse.exclude_attributes || {})) c.push(['not ' + k, v]);
    if (parse.recipient) c.push(['for', parse.recipient]);
    if (parse.occasion) c.push(['occasion', parse.occasion]);
    if (parse.sort) c.push(['sort', parse.sort]);
    if (parse.refinement) c.push(['refine', parse.refinement]);
    for (const x of parse.keywords || []) c.push(['keyword', x]);
    return h('div', { class: 'chips', 'data-testid': 'parse-chips' },
      c.map(([k, v]) => h('span', { class: 'chip', 'data-kind': k }, h('b', {}, k), ' ', String(v))));
  }

  function say(who, ...content) {
    const m = h('div', { class: 'msg ' + who }, content);
    log.append(m);
    log.scrollTop = log.scrollHeight;
    return m;
  }

  async function ask(text) {
    text = text.trim();
    if (!text) return;
    say('me', text);
    const wait = say('bot', '…');
    try {
      const body = { text, n: 6 };
      if (conversation) body.conversation = conversation;
      if (user) body.user = user;
      const a = await DG.post('/assistant', body);
      conversation = a.conversation;
      wait.replaceWith(
        say(
          'bot',
          h('p', { class: 'reply' }, a.reply),
          chips(a.parse),
          h('div', { class: 'answer', 'data-testid': 'answer', 'data-max-price': a.parse.max_price ?? '', 'data-min-price': a.parse.min_price ?? '' },
            a.items.map((p) => card(p))),
        ),
      );
    } catch (e) {
      wait.replaceWith(say('bot error', e.message));
    }
  }

  const HINTS = ['300元以下的跑鞋', 'running shoes under 400 RMB', '便宜点', '换个牌子', '送妈妈的礼物 200元以内', 'not red'];
  function setupChat() {
    const input = document.getElementById('chat-input');
    document.getElementById('chat-toggle').addEventListener('click', () => {
      chat.hidden = !chat.hidden;
      if (!chat.hidden) input.focus();
    });
    document.getElementById('chat-close').addEventListener('click', () => (chat.hidden = true));
    document.getElementById('chat-new').addEventListener('click', () => {
      conversation = null;
      clear(log);
    });
    document.getElementById('chat-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const t = input.value;
      input.value = '';
      ask(t);
    });
    clear(document.getElementById('chat-hints'), HINTS.map((t) => h('button', { type: 'button', class: 'hint', onclick: () => ask(t) }, t)));
  }

  document.getElementById('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const q = document.getElementById('search-input').value.trim();
    if (q) location.hash = '#/search/' + enc(q);
  });
  window.addEventListener('hashchange', route);
  setupChat();
  users().then(route);
})();
