// OxCoin node dashboard: read-only, polls the node's JSON API (/api/v1) and draws with DOM
// nodes only (text is set as textContent, never parsed as markup: memos and addresses are shown as text).
// Errors of this script are kept in <body data-errors> so a headless browser test can read them.
'use strict';

(function () {
  const POLL_MS = 5000;
  const CHART_BLOCKS = 200; // two pages of GET /blocks (limit <= 100)
  const LATEST = 20;
  const GRAINS = 1e8;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  // ---- error recording ---------------------------------------------------------------------
  const errors = [];
  function recordError(message) {
    errors.push(String(message));
    document.body.dataset.errors = errors.join(' | ');
  }
  document.body.dataset.errors = '';
  window.addEventListener('error', (e) => recordError(e.message || 'script error'));
  window.addEventListener('unhandledrejection', (e) => {
    const reason = e.reason && e.reason.message ? e.reason.message : e.reason;
    recordError('unhandled rejection: ' + reason);
  });
  document.addEventListener('securitypolicyviolation', (e) => {
    recordError('content security policy: ' + e.violatedDirective + ' ' + e.blockedURI);
  });

  // ---- small helpers -----------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null) continue;
      if (key === 'text') node.textContent = value;
      else if (key === 'class') node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children || []) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs, children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === 'text') node.textContent = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  function setText(id, text) {
    const node = $(id);
    if (node) node.textContent = text;
  }

  async function api(path) {
    const response = await fetch('/api/v1' + path, { cache: 'no-store', headers: { Accept: 'application/json' } });
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    return { ok: response.ok, status: response.status, body };
  }

  async function apiOk(path) {
    const r = await api(path);
    if (!r.ok) throw new Error(path + ' answered ' + r.status);
    return r.body;
  }

  const nowSeconds = () => Math.floor(Date.now() / 1000);

  function fmtInt(n) {
    return Number(n).toLocaleString('en-US');
  }

  function fmtOxc(grains) {
    const oxc = Number(grains) / GRAINS;
    return oxc.toFixed(8).replace(/\.?0+$/, '') + ' OXC';
  }

  function fmtBytes(n) {
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1024 / 1024).toFixed(2) + ' MiB';
  }

  function fmtRate(hashesPerSecond) {
    if (!isFinite(hashesPerSecond) || hashesPerSecond < 0) return '—';
    const units = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s', 'PH/s', 'EH/s'];
    let value = hashesPerSecond;
    let i = 0;
    while (value >= 1000 && i < units.length - 1) {
      value /= 1000;
      i += 1;
    }
    return value.toFixed(value < 10 ? 2 : 1) + ' ' + units[i];
  }

  function fmtNumber(x) {
    if (!isFinite(x)) return '—';
    if (Math.abs(x) < 1000) return String(Number(x.toPrecision(4)));
    const units = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
    let i = 0;
    while (Math.abs(x) >= 1000 && i < units.length - 1) {
      x /= 1000;
      i += 1;
    }
    return x.toFixed(2) + units[i];
  }

  function fmtDuration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }

  // Short form for chart axes.
  function fmtAxisDuration(seconds) {
    const a = Math.abs(seconds);
    const sign = seconds < 0 ? '-' : '';
    const one = (x) => (x < 10 ? x.toFixed(1).replace(/\.0$/, '') : Math.round(x).toString());
    if (a < 60) return sign + one(a) + ' s';
    if (a < 3600) return sign + one(a / 60) + ' min';
    if (a < 86400) return sign + one(a / 3600) + ' h';
    return sign + one(a / 86400) + ' d';
  }

  function fmtTime(unix) {
    return new Date(unix * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  }

  const short = (hash) => (hash && hash.length > 20 ? hash.slice(0, 10) + '…' + hash.slice(-8) : hash || '');

  function lookupLink(query, text) {
    return el('a', { href: '#q=' + encodeURIComponent(query), class: 'mono', title: query, text: text || query });
  }

  // Target of compact bits as a float: mantissa × 256^(exponent − 3).
  function bitsToTarget(bits) {
    const n = parseInt(bits, 16);
    if (!isFinite(n)) return NaN;
    const exponent = n >>> 24;
    const mantissa = n & 0x007fffff;
    return mantissa * Math.pow(256, exponent - 3);
  }

  function workOf(hex) {
    try {
      return BigInt('0x' + hex);
    } catch (_) {
      return null;
    }
  }

  // ---- state -------------------------------------------------------------------------------
  const blocks = new Map(); // height -> block JSON (best chain, the last CHART_BLOCKS)
  let status = null;
  let shownTip = null;
  let polling = false;

  // ---- blocks ------------------------------------------------------------------------------
  // Fetches heights from..to (inclusive) in pages of at most 100; returns them ascending.
  async function fetchRange(from, to) {
    const found = [];
    for (let start = from; start <= to; start += 100) {
      const limit = Math.min(100, to - start + 1);
      const body = await apiOk('/blocks?from=' + start + '&limit=' + limit);
      found.push(...(body.blocks || []));
    }
    return found;
  }

  // Brings the cache to the last CHART_BLOCKS blocks of the chain ending in (tipHeight, tipHash):
  // only the blocks above the cached ones are fetched, unless they do not link to the cache (a
  // reorg), in which case everything is fetched again.
  async function loadBlocks(tipHeight, tipHash) {
    const oldest = Math.max(0, tipHeight - CHART_BLOCKS + 1);
    for (const height of [...blocks.keys()]) {
      if (height > tipHeight || height < oldest) blocks.delete(height);
    }
    let top = oldest - 1;
    while (blocks.has(top + 1)) top += 1;
    const fresh = await fetchRange(top + 1, tipHeight);
    const links = (block) => {
      const parent = blocks.get(block.height - 1);
      return !parent || parent.hash === block.prev_hash;
    };
    let linked = fresh.every((block, i) => (i === 0 ? links(block) : block.prev_hash === fresh[i - 1].hash));
    for (const block of fresh) blocks.set(block.height, block);
    const tip = blocks.get(tipHeight);
    if (!tip || tip.hash !== tipHash) linked = false;
    if (!linked) {
      blocks.clear();
      for (const block of await fetchRange(oldest, tipHeight)) blocks.set(block.height, block);
    }
  }

  function chainBlocks() {
    return [...blocks.values()].sort((a, b) => a.height - b.height);
  }

  // ---- status cards ------------------------------------------------------------------------
  function renderStatus(s) {
    setText('network', s.network);
    const height = $('height');
    height.textContent = String(s.height);
    height.dataset.value = String(s.height);
    const best = $('best-hash');
    best.replaceChildren(lookupLink(s.best_hash, short(s.best_hash)));
    setText('difficulty', fmtNumber(s.difficulty));
    setText('bits', 'bits ' + s.bits);
    const mining = s.mining || {};
    setText('hashrate-local', mining.enabled ? fmtRate(mining.hashrate) : 'off');
    setText('mining', mining.enabled ? 'mining on ' + mining.threads + ' thread' + (mining.threads === 1 ? '' : 's') : 'not mining');
    const pool = s.mempool || { count: 0, bytes: 0 };
    setText('mempool-count', fmtInt(pool.count));
    setText('mempool-detail', fmtBytes(pool.bytes));
    setText('peer-count', fmtInt(s.peers));
    setText('version', 'oxminer ' + s.version);
    renderSync(s);
  }

  // The sync fields are optional: shown while syncing or behind a peer, hidden when absent or done.
  function renderSync(s) {
    const panel = $('sync');
    const behind = typeof s.target_height === 'number' && s.target_height > s.height;
    if (typeof s.syncing !== 'boolean' || !(s.syncing || behind)) {
      panel.hidden = true;
      return;
    }
    panel.hidden = false;
    setText('sync-title', s.syncing ? 'Syncing' : 'Behind a peer');
    let progress = typeof s.progress === 'number' ? s.progress : NaN;
    if (progress > 1) progress /= 100;
    if (!isFinite(progress) && typeof s.target_height === 'number' && s.target_height > 0) {
      progress = s.height / s.target_height;
    }
    const bar = $('sync-progress');
    if (isFinite(progress)) bar.value = Math.min(1, Math.max(0, progress));
    else bar.removeAttribute('value');
    const target = typeof s.target_height === 'number' ? ' of ' + fmtInt(s.target_height) : '';
    const percent = isFinite(progress) ? ' (' + (progress * 100).toFixed(1) + ' %)' : '';
    setText('sync-text', 'height ' + fmtInt(s.height) + target + percent);
  }

  function tick() {
    const tip = status ? blocks.get(status.height) : null;
    if (!tip) return;
    setText('since', fmtDuration(nowSeconds() - tip.time));
    setText('last-time', fmtTime(tip.time));
  }

  // ---- latest blocks and charts -------------------------------------------------------------
  function renderBlocks() {
    const list = chainBlocks();
    const rows = [];
    for (let i = list.length - 1; i >= 0 && rows.length < LATEST; i -= 1) {
      const block = list[i];
      const parent = blocks.get(block.height - 1);
      const interval = parent ? fmtDuration(block.time - parent.time) : '—';
      rows.push(
        el('tr', {}, [
          el('td', {}, [lookupLink(String(block.height))]),
          el('td', { class: 'mono' }, [lookupLink(block.hash, short(block.hash))]),
          el('td', { class: 'hide-narrow', text: fmtTime(block.time) }),
          el('td', { class: 'num', text: interval }),
          el('td', { class: 'num', text: fmtInt(block.tx_count) }),
          el('td', { class: 'num hide-narrow', text: fmtBytes(block.size) }),
        ]),
      );
    }
    document.querySelector('#blocks tbody').replaceChildren(...rows);
    renderCharts(list);
  }

  function renderCharts(list) {
    // The genesis timestamp is fixed when a network is made: intervals start after block 1.
    const intervals = [];
    for (let i = 1; i < list.length; i += 1) {
      if (list[i].height === list[i - 1].height + 1 && list[i - 1].height > 0) {
        intervals.push({ x: list[i].height, y: list[i].time - list[i - 1].time });
      }
    }
    const mean = intervals.length ? intervals.reduce((a, p) => a + p.y, 0) / intervals.length : NaN;
    const sorted = intervals.map((p) => p.y).sort((a, b) => a - b);
    const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN;
    setText(
      'interval-summary',
      intervals.length ? 'last ' + intervals.length + ': mean ' + fmtDuration(mean) + ', median ' + fmtDuration(median) : '',
    );
    drawChart($('chart-intervals'), intervals, {
      label: 'Seconds between blocks by height',
      format: fmtDuration,
      axis: fmtAxisDuration,
      mean,
      zero: true,
    });

    // Difficulty per block, scaled from the tip's: difficulty is inversely proportional to the target.
    const tip = list[list.length - 1];
    const tipTarget = tip ? bitsToTarget(tip.bits) : NaN;
    const base = status && status.difficulty > 0 ? status.difficulty : 1;
    const difficulty = list
      .map((b) => ({ x: b.height, y: (base * tipTarget) / bitsToTarget(b.bits) }))
      .filter((p) => isFinite(p.y));
    setText('difficulty-summary', difficulty.length ? 'last ' + difficulty.length + ' blocks' : '');
    drawChart($('chart-difficulty'), difficulty, { label: 'Difficulty by height', format: fmtNumber, alt: true });

    // Network hash rate: work added over the time it took, across the loaded blocks (from
    // block 1 at the earliest, for the genesis timestamp's sake).
    let rate = NaN;
    const first = list.find((b) => b.height > 0);
    if (first && tip && tip.height > first.height) {
      const workFirst = workOf(first.chain_work);
      const workLast = workOf(tip.chain_work);
      const seconds = tip.time - first.time;
      if (workFirst !== null && workLast !== null && seconds > 0) rate = Number(workLast - workFirst) / seconds;
    }
    setText('hashrate-net', fmtRate(rate));
  }

  // A line chart of points {x, y} as SVG nodes, with a few grid lines and labels.
  function drawChart(container, points, opts) {
    // Drawn at the container's width in pixels, so text keeps its size on a phone.
    const W = Math.max(280, Math.round(container.clientWidth) || 600);
    const H = 220;
    const left = 64;
    const right = 12;
    const top = 12;
    const bottom = 26;
    const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': opts.label, 'data-points': points.length });
    if (points.length === 0) {
      root.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'none', text: 'waiting for blocks…' }));
      container.replaceChildren(root);
      return;
    }
    const xs = points.map((p) => p.x);
    const ys = points.map((p) => p.y);
    let x0 = Math.min(...xs);
    let x1 = Math.max(...xs);
    let y0 = opts.zero ? Math.min(0, ...ys) : Math.min(...ys);
    let y1 = Math.max(...ys);
    if (x0 === x1) {
      x0 -= 1;
      x1 += 1;
    }
    if (y0 === y1) {
      const pad = Math.abs(y0) * 0.1 || 1;
      y0 = opts.zero ? Math.min(0, y0 - pad) : y0 - pad;
      y1 += pad;
    }
    const sx = (x) => left + ((x - x0) / (x1 - x0)) * (W - left - right);
    const sy = (y) => top + (1 - (y - y0) / (y1 - y0)) * (H - top - bottom);
    for (let i = 0; i <= 4; i += 1) {
      const value = y0 + ((y1 - y0) * i) / 4;
      const y = sy(value).toFixed(1);
      root.append(svg('line', { x1: left, x2: W - right, y1: y, y2: y, class: 'grid-line' }));
      const label = (opts.axis || opts.format)(value);
      root.append(svg('text', { x: left - 6, y: Number(y) + 4, 'text-anchor': 'end', class: 'axis-label', text: label }));
    }
    root.append(svg('text', { x: left, y: H - 6, class: 'axis-label', text: String(Math.min(...xs)) }));
    root.append(svg('text', { x: W - right, y: H - 6, 'text-anchor': 'end', class: 'axis-label', text: String(Math.max(...xs)) }));
    if (isFinite(opts.mean)) {
      const y = sy(opts.mean).toFixed(1);
      root.append(svg('line', { x1: left, x2: W - right, y1: y, y2: y, class: 'mean' }, [svg('title', { text: 'mean ' + opts.format(opts.mean) })]));
    }
    const cls = opts.alt ? ' alt' : '';
    const line = points.map((p) => sx(p.x).toFixed(1) + ',' + sy(p.y).toFixed(1)).join(' ');
    root.append(svg('polyline', { points: line, class: 'series' + cls }));
    for (const p of points) {
      root.append(
        svg('circle', { cx: sx(p.x).toFixed(1), cy: sy(p.y).toFixed(1), r: 2, class: 'point' + cls }, [
          svg('title', { text: 'height ' + p.x + ': ' + opts.format(p.y) }),
        ]),
      );
    }
    container.replaceChildren(root);
  }

  // ---- peers and mempool -------------------------------------------------------------------
  function renderPeers(body) {
    const peers = (body && body.peers) || [];
    const ours = status ? status.height : 0;
    const rows = peers.map((p) => {
      const diff = p.height - ours;
      const mark = diff === 0 ? '' : diff > 0 ? ' (+' + diff + ')' : ' (' + diff + ')';
      return el('tr', {}, [
        el('td', { class: 'mono', text: p.url }),
        el('td', { class: 'num' + (diff > 0 ? ' ahead' : diff < 0 ? ' behind' : ''), text: fmtInt(p.height) + mark }),
        el('td', { class: 'num', text: p.last_seen ? fmtDuration(nowSeconds() - p.last_seen) + ' ago' : '—' }),
      ]);
    });
    document.querySelector('#peers tbody').replaceChildren(...rows);
    $('peers-empty').hidden = rows.length > 0;
  }

  function renderMempool(pool, fees) {
    const transfers = (pool && pool.transfers) || [];
    const total = transfers.reduce((a, t) => a + (t.fee || 0), 0);
    const listed = pool && transfers.length < pool.count ? ' (top ' + transfers.length + ')' : '';
    const parts = [];
    if (pool) parts.push(fmtBytes(pool.bytes), 'fees ' + fmtOxc(total) + listed);
    if (fees) parts.push('suggested ' + fees.suggested_fee_rate + ' grains/B');
    setText('mempool-detail', parts.join(' · '));
    setText('fees', fees ? 'min ' + fees.min_fee_rate + ' grains/B' : '');
    const rows = transfers.slice(0, 10).map((t) =>
      el('tr', {}, [
        el('td', { class: 'mono' }, [lookupLink(t.txid, short(t.txid))]),
        el('td', { class: 'num', text: fmtOxc(t.amount) }),
        el('td', { class: 'num', text: fmtOxc(t.fee || 0) }),
        el('td', { class: 'num', text: Number(t.fee_rate).toFixed(1) }),
      ]),
    );
    document.querySelector('#mempool tbody').replaceChildren(...rows);
    $('mempool-empty').hidden = rows.length > 0;
  }

  // ---- polling -----------------------------------------------------------------------------
  function setConnection(ok, text) {
    const conn = $('conn');
    conn.dataset.ok = ok ? 'yes' : 'no';
    conn.textContent = text;
  }

  async function poll() {
    if (polling) return;
    polling = true;
    try {
      const s = await apiOk('/status');
      status = s;
      renderStatus(s);
      if (shownTip !== s.best_hash) {
        await loadBlocks(s.height, s.best_hash);
        shownTip = s.best_hash;
        renderBlocks();
      }
      tick();
      const [peers, pool, fees] = await Promise.all([
        apiOk('/peers').catch(() => null),
        apiOk('/mempool').catch(() => null),
        apiOk('/fees').catch(() => null),
      ]);
      renderPeers(peers);
      renderMempool(pool, fees);
      setConnection(true, 'live');
      setText('updated', 'updated ' + new Date().toLocaleTimeString());
      document.body.dataset.state = 'live';
    } catch (e) {
      setConnection(false, 'node unreachable: ' + (e && e.message ? e.message : e));
      document.body.dataset.state = 'offline';
    } finally {
      polling = false;
    }
  }

  // ---- lookup ------------------------------------------------------------------------------
  function dl(pairs) {
    const list = el('dl');
    for (const [key, value] of pairs) {
      if (value === undefined || value === null || value === '') continue;
      list.append(el('dt', { text: key }), el('dd', {}, [value]));
    }
    return list;
  }

  function showResult(title, nodes, kind) {
    setText('result-title', title);
    const body = $('result-body');
    body.replaceChildren(...nodes);
    const panel = $('result');
    panel.dataset.kind = kind;
    panel.hidden = false;
  }

  function txTable(rows, columns) {
    const head = el('tr', {}, columns.map((c) => el('th', { class: c.num ? 'num' : undefined, text: c.title })));
    const body = rows.map((row) => el('tr', {}, columns.map((c) => el('td', { class: c.num ? 'num' : undefined }, [c.cell(row)]))));
    return el('div', { class: 'scroll' }, [el('table', {}, [el('thead', {}, [head]), el('tbody', {}, body)])]);
  }

  function blockResult(b) {
    const nodes = [
      dl([
        ['Height', lookupLink(String(b.height))],
        ['Hash', el('span', { class: 'mono', text: b.hash })],
        ['Status', b.invalid ? 'invalid (' + b.invalid + ')' : b.main_chain ? 'best chain' : 'side branch'],
        ['Confirmations', fmtInt(b.confirmations)],
        ['Time', fmtTime(b.time)],
        ['Previous', b.height > 0 ? lookupLink(b.prev_hash) : 'none (genesis)'],
        ['Merkle root', el('span', { class: 'mono', text: b.merkle_root })],
        ['Bits', b.bits],
        ['Nonce', String(b.nonce)],
        ['Size', fmtBytes(b.size)],
        ['Transactions', fmtInt(b.tx_count)],
      ]),
    ];
    const txs = (b.txs || []).slice(0, 100);
    if (txs.length) {
      nodes.push(el('h3', { text: 'Transactions' + (b.txs.length > txs.length ? ' (first ' + txs.length + ')' : '') }));
      nodes.push(
        txTable(txs, [
          { title: 'Txid', cell: (t) => lookupLink(t.txid, short(t.txid)) },
          { title: 'Kind', cell: (t) => t.kind },
          { title: 'To', cell: (t) => lookupLink(t.to, short(t.to)) },
          { title: 'Amount', num: true, cell: (t) => fmtOxc(t.amount) },
        ]),
      );
    }
    showResult('Block ' + b.height, nodes, 'block');
  }

  function txResult(t) {
    showResult('Transaction', [
      dl([
        ['Txid', el('span', { class: 'mono', text: t.txid })],
        ['Kind', t.kind],
        ['Status', t.status + (t.confirmations ? ' (' + fmtInt(t.confirmations) + ' confirmations)' : '')],
        ['Block', t.block_hash ? lookupLink(t.block_hash) : null],
        ['Height', t.height !== undefined && t.height !== null ? lookupLink(String(t.height)) : null],
        ['From', t.from ? lookupLink(t.from) : null],
        ['To', lookupLink(t.to)],
        ['Amount', fmtOxc(t.amount)],
        ['Fee', t.fee !== undefined && t.fee !== null ? fmtOxc(t.fee) : null],
        ['Nonce', t.nonce !== undefined && t.nonce !== null ? String(t.nonce) : null],
        ['Memo', t.memo || null],
        ['Size', fmtBytes(t.size)],
        ['Received', t.received ? fmtTime(t.received) : null],
      ]),
    ], 'tx');
  }

  function addressResult(a, history) {
    const nodes = [
      dl([
        ['Address', el('span', { class: 'mono', text: a.address })],
        ['Balance', fmtOxc(a.balance)],
        ['Immature', fmtOxc(a.immature)],
        ['Pending in', fmtOxc(a.pending_in)],
        ['Pending out', fmtOxc(a.pending_out)],
        ['Nonce', String(a.nonce) + ' (next ' + a.next_nonce + ')'],
      ]),
    ];
    const rows = (history && history.txs) || [];
    nodes.push(el('h3', { text: rows.length ? 'Latest transactions' : 'No transactions yet' }));
    if (rows.length) {
      nodes.push(
        txTable(rows, [
          { title: 'Txid', cell: (r) => lookupLink(r.txid, short(r.txid)) },
          { title: 'Direction', cell: (r) => r.direction },
          { title: 'Amount', num: true, cell: (r) => fmtOxc(r.amount) },
          { title: 'Status', cell: (r) => r.status + (r.height !== null && r.height !== undefined ? ' @' + r.height : '') },
        ]),
      );
    }
    showResult('Address', nodes, 'address');
  }

  function notFound(query, why) {
    showResult('Not found', [
      el('p', { class: 'notfound', text: 'Nothing found for “' + query + '”.' }),
      el('p', { class: 'sub', text: why }),
    ], 'notfound');
  }

  async function lookup(raw) {
    const query = raw.trim();
    if (!query) return;
    $('q').value = query;
    showResult('Looking up…', [el('p', { class: 'sub', text: query })], 'pending');
    try {
      if (/^\d{1,19}$/.test(query)) {
        const r = await api('/blocks/' + query);
        if (r.ok) return blockResult(r.body);
        return notFound(query, status ? 'No block at that height: the tip is ' + status.height + '.' : 'No block at that height.');
      }
      if (/^[0-9a-fA-F]{64}$/.test(query)) {
        const tx = await api('/txs/' + query);
        if (tx.ok) return txResult(tx.body);
        const block = await api('/blocks/' + query);
        if (block.ok) return blockResult(block.body);
        return notFound(query, 'No transaction and no block has this hash.');
      }
      const address = await api('/addresses/' + encodeURIComponent(query));
      if (address.ok) {
        const history = await api('/addresses/' + encodeURIComponent(query) + '/txs?limit=20');
        return addressResult(address.body, history.ok ? history.body : null);
      }
      const message = address.body && address.body.error ? address.body.error.message : '';
      return notFound(query, 'Not an address of this network, a transaction id, a block hash or a height. ' + message);
    } catch (e) {
      showResult('Lookup failed', [el('p', { class: 'notfound', text: 'The node did not answer: ' + (e && e.message ? e.message : e) })], 'error');
    }
  }

  function lookupFromHash() {
    const match = /^#q=(.*)$/.exec(location.hash);
    if (match) lookup(decodeURIComponent(match[1]));
  }

  $('lookup').addEventListener('submit', (e) => {
    e.preventDefault();
    const query = $('q').value.trim();
    if (!query) return;
    const hash = '#q=' + encodeURIComponent(query);
    if (location.hash === hash) lookup(query);
    else location.hash = hash;
  });
  window.addEventListener('hashchange', lookupFromHash);
  $('result-close').addEventListener('click', () => {
    $('result').hidden = true;
    history.replaceState(null, '', location.pathname);
  });

  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => renderCharts(chainBlocks()), 200);
  });

  poll();
  lookupFromHash();
  setInterval(poll, POLL_MS);
  setInterval(tick, 1000);
})();
