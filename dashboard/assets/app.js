// The dashboard's only script (served from this origin; the CSP allows no other): draws the
// overview's charts with the bundled uPlot, keeps runs' and searches' progress live by polling
// the API, submits the emergency-search form with the bearer token, and copies the checklist.
// Every value put into the page goes through textContent, never innerHTML.
'use strict';

(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const getJson = async (url, init) => {
    const r = await fetch(url, init);
    let body = null;
    try {
      body = await r.json();
    } catch {
      body = null;
    }
    return { status: r.status, body };
  };
  const setLive = (root, name, value) => {
    for (const el of $$(`[data-live="${name}"]`, root)) el.textContent = value === null || value === undefined ? '—' : String(value);
  };
  const when = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '—');

  // Charts: one small chart per library, vendored copies and those in an advisory's range.
  function drawCharts() {
    const host = $('#chart');
    if (!host || typeof uPlot === 'undefined') return;
    const data = JSON.parse(host.dataset.chart || '{"libraries":[],"points":[]}');
    if (data.points.length === 0 || data.libraries.length === 0) {
      host.textContent = 'No completed library scan to chart yet.';
      return;
    }
    const xs = data.points.map((_p, i) => i);
    const labels = data.points.map((p) => `run ${p.runId}`);
    const width = () => Math.max(260, Math.min(380, host.clientWidth - 8));
    for (const lib of data.libraries) {
      const box = document.createElement('figure');
      box.className = 'chart';
      const cap = document.createElement('figcaption');
      const last = data.points[data.points.length - 1];
      cap.textContent = `${lib}: ${last.copies[lib] ?? 0} vendored, ${last.affected[lib] ?? 0} in an advisory's range (run ${last.runId})`;
      box.appendChild(cap);
      host.appendChild(box);
      const copies = data.points.map((p) => p.copies[lib] ?? 0);
      const affected = data.points.map((p) => p.affected[lib] ?? 0);
      const opts = {
        width: width(),
        height: 160,
        legend: { live: false },
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] } },
        axes: [{ splits: () => xs, values: (_u, ticks) => ticks.map((t) => labels[t] ?? '') }, { size: 40 }],
        series: [
          { label: 'run', value: (_u, v) => (v === null ? '' : (labels[v] ?? '')) },
          { label: 'vendored', stroke: '#1f5fa8', width: 2 },
          { label: "in an advisory's range", stroke: '#b3261e', width: 2, dash: [6, 4], points: { size: 7 } },
        ],
      };
      new uPlot(opts, [xs, copies, affected], box);
    }
  }

  // Live progress of runs (the runs page and a run's page).
  async function pollRun(el) {
    const id = el.dataset.liveRun;
    const { status, body } = await getJson(`/v1/scans/${id}`);
    if (status !== 200 || !body) return;
    for (const k of ['state', 'scanned', 'skipped', 'notInCache', 'failed', 'pending', 'findings', 'narBytes', 'total']) setLive(el, k, body[k]);
    setLive(el, 'finishedAt', when(body.finishedAt));
    const bar = $('[data-live="bar"]', el) || $('progress', el);
    const total = body.total ?? body.scanned + body.skipped + body.notInCache + body.failed + body.pending;
    if (bar) {
      bar.max = Math.max(total, 1);
      bar.value = total - body.pending;
    }
    if (body.state === 'queued' || body.state === 'running') setTimeout(() => pollRun(el), 1500);
    else setLive(el, 'note', 'Finished: reload for the failure list and coverage.');
  }

  // Live progress of a search's own page.
  async function pollSearchPage(el) {
    const { status, body } = await getJson(`/v1/searches/${el.dataset.liveSearch}?limit=1`);
    if (status !== 200 || !body) return;
    for (const k of ['state', 'scanned', 'notInCache', 'failed', 'matches', 'total']) setLive(el, k, body[k]);
    if (body.state === 'queued' || body.state === 'running') setTimeout(() => pollSearchPage(el), 1500);
  }

  function matchText(m) {
    const s = Array.isArray(m.matches) && m.matches[0]?.strings ? m.matches[0].strings[0] : null;
    return s ? `${s.identifier ?? ''} at ${s.offset ?? '?'}${s.text ? `: ${String(s.text).slice(0, 80)}` : ''}` : '';
  }

  // The emergency-search form: POST with the token, then progress and matches as they arrive.
  function searchForm(form) {
    const status = $('#search-status');
    const error = $('#pattern-error');
    const pattern = $('#pattern');
    const tbody = $('#search-matches tbody');
    const seen = new Set();
    let timer = null;
    const cell = (tr, text, code) => {
      const td = document.createElement('td');
      if (code) {
        const c = document.createElement('code');
        c.textContent = text;
        td.appendChild(c);
      } else td.textContent = text;
      tr.appendChild(td);
    };
    async function poll(id) {
      const { status: st, body } = await getJson(`/v1/searches/${id}?limit=5000`);
      if (st !== 200 || !body) return;
      for (const k of ['state', 'scanned', 'matches', 'total']) setLive(status, k, body[k]);
      const bar = $('#search-progress');
      bar.max = Math.max(body.total ?? 1, 1);
      bar.value = (body.total ?? 0) - body.pending;
      for (const m of body.results) {
        const key = `${m.storePath}\u0000${m.file}\u0000${m.rule}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const tr = document.createElement('tr');
        tr.className = 'match';
        cell(tr, m.storePath, true);
        cell(tr, m.file, true);
        cell(tr, m.rule, false);
        cell(tr, matchText(m), true);
        tbody.appendChild(tr);
      }
      if (body.state === 'queued' || body.state === 'running') timer = setTimeout(() => poll(id), 1000);
    }
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (timer) clearTimeout(timer);
      error.textContent = '';
      pattern.removeAttribute('aria-invalid');
      const data = new FormData(form);
      const kind = String(data.get('kind'));
      const body = { [kind]: String(data.get('pattern') || '') };
      const run = String(data.get('run') || '');
      if (run) body.run = run;
      else
        body.paths = String(data.get('paths') || '')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '');
      const r = await getJson('/v1/searches', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${String(data.get('token') || '')}` },
        body: JSON.stringify(body),
      });
      if (r.status !== 202) {
        const b = r.body || {};
        const where = b.line !== undefined ? `line ${b.line}, column ${b.column}: ` : '';
        const what = r.status === 401 ? 'The token was refused' : b.parameter ? `${b.parameter}` : `HTTP ${r.status}`;
        error.textContent = `${what}: ${where}${b.message || b.error || ''}`;
        if (b.parameter === 'rule' || b.parameter === 'needle' || b.parameter === 'hex') pattern.setAttribute('aria-invalid', 'true');
        (r.status === 401 ? $('#token') : pattern).focus();
        return;
      }
      seen.clear();
      tbody.replaceChildren();
      status.hidden = false;
      const link = $('#search-link');
      link.href = `/searches/${r.body.id}`;
      link.textContent = String(r.body.id);
      setLive(status, 'state', r.body.state);
      poll(r.body.id);
    });
  }

  function copyButtons() {
    for (const b of $$('button[data-copy]')) {
      b.addEventListener('click', async () => {
        const area = document.getElementById(b.dataset.copy);
        const note = b.parentElement ? $('.copied', b.parentElement) : null;
        try {
          await navigator.clipboard.writeText(area.value);
          if (note) note.textContent = 'Copied.';
        } catch {
          area.select();
          if (note) note.textContent = 'Selected: press Ctrl+C to copy.';
        }
      });
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    drawCharts();
    for (const el of $$('[data-live-run]')) setTimeout(() => pollRun(el), 1000);
    for (const el of $$('[data-live-search]')) setTimeout(() => pollSearchPage(el), 1000);
    const form = $('#search-form');
    if (form) searchForm(form);
    copyButtons();
  });
})();
