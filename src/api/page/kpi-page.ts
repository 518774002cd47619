/**
 * The page at `/`: a live KPI table over the WebSocket stream. A string rather than a file so it
 * ships inside the compiled module with no copy step; the full dashboard lives in web/.
 * Data is written with textContent only, so symbols from the feed cannot inject markup.
 */
export const KPI_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>StockStream — live KPIs</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; background: #fafbfc; }
  h1 { font-size: 1.2rem; margin: 0 0 .5rem; }
  #state { display: inline-block; padding: .1rem .5rem; border-radius: .6rem; font-size: .8rem; color: #fff; background: #8a8f98; }
  #state.open { background: #1f883d; }
  #state.connecting { background: #bf8700; }
  #state.closed { background: #cf222e; }
  table { border-collapse: collapse; margin-top: 1rem; min-width: 36rem; }
  th, td { padding: .25rem .75rem; border-bottom: 1px solid #d8dee4; text-align: right; font-variant-numeric: tabular-nums; }
  th:first-child, td:first-child { text-align: left; }
  th { background: #eef1f4; cursor: default; }
  .up { color: #1a7f37; } .down { color: #cf222e; }
  #empty { color: #6e7781; margin-top: 1rem; }
</style>
</head>
<body>
<h1>StockStream — live KPIs</h1>
<span id="state" class="connecting">connecting</span> <span id="detail"></span>
<table>
  <thead><tr><th>Symbol</th><th>Last</th><th>Change %</th><th>Volume</th><th>VWAP</th></tr></thead>
  <tbody id="rows"></tbody>
</table>
<p id="empty">Waiting for KPIs…</p>
<script>
(() => {
  const stateEl = document.getElementById('state');
  const detailEl = document.getElementById('detail');
  const rowsEl = document.getElementById('rows');
  const emptyEl = document.getElementById('empty');
  const kpis = new Map();
  const rows = new Map();
  let attempt = 0;
  let renderQueued = false;

  function setState(name, detail) {
    stateEl.className = name;
    stateEl.textContent = name;
    detailEl.textContent = detail || '';
  }

  const fmt = (v, d) => (typeof v === 'number' && isFinite(v) ? v.toLocaleString(undefined, { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');

  function render() {
    renderQueued = false;
    const symbols = [...kpis.keys()].sort();
    emptyEl.style.display = symbols.length ? 'none' : '';
    symbols.forEach((symbol, i) => {
      let tr = rows.get(symbol);
      if (!tr) {
        tr = document.createElement('tr');
        for (let c = 0; c < 5; c++) tr.appendChild(document.createElement('td'));
        rows.set(symbol, tr);
      }
      if (rowsEl.children[i] !== tr) rowsEl.insertBefore(tr, rowsEl.children[i] || null);
      const k = kpis.get(symbol);
      const cells = tr.children;
      cells[0].textContent = symbol;
      cells[1].textContent = fmt(k.last, 2);
      cells[2].textContent = (k.changePct > 0 ? '+' : '') + fmt(k.changePct, 2);
      cells[2].className = k.changePct > 0 ? 'up' : k.changePct < 0 ? 'down' : '';
      cells[3].textContent = fmt(k.volume, 0);
      cells[4].textContent = fmt(k.vwap, 2);
    });
  }

  function onMessage(m) {
    if (m.channel === 'error') { detailEl.textContent = m.data && m.data.message; return; }
    if (m.channel === 'kpis' && m.data) kpis.set(m.symbol, m.data);
  }

  function connect() {
    setState('connecting', attempt ? 'attempt ' + (attempt + 1) : '');
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/stream');
    ws.onopen = () => {
      attempt = 0;
      setState('open');
      ws.send(JSON.stringify({ type: 'subscribe', symbols: ['*'], channels: ['kpis'] }));
    };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (Array.isArray(msg)) msg.forEach(onMessage); else onMessage(msg);
      if (!renderQueued) { renderQueued = true; requestAnimationFrame(render); }
    };
    ws.onclose = () => {
      // Exponential backoff with jitter, capped at 30 s, so a restarting server is not stampeded.
      const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt++;
      setState('closed', 'reconnecting in ' + (delay / 1000).toFixed(1) + ' s');
      setTimeout(connect, delay);
    };
  }
  connect();
})();
</script>
</body>
</html>
`;
