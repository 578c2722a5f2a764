// The map of the consoles, drawn on a 2D canvas from the server's own road data
// (GET /api/map/roads): roads by class, kecamatan names, hospitals, units,
// incidents and routes. Pan by dragging, zoom with the wheel.
//
// Smooth with the whole region: coordinates are projected once; each road
// class is cut into grid cells, each cell one cached Path2D in map units, so a
// frame strokes only the cells in view and the classes that matter at the zoom
// (minor roads appear as you zoom in).
import { api, triageColor, statusColor, igdColor } from './app.js';

const STYLE = {
  motorway: { w: 4, c: '#e8925c', min: 0 },
  trunk: { w: 3.5, c: '#f0a86a', min: 0 },
  primary: { w: 3, c: '#f6c27a', min: 0 },
  secondary: { w: 2.4, c: '#f8d99a', min: 0 },
  tertiary: { w: 1.8, c: '#ffffff', min: 0 },
  unclassified: { w: 1.3, c: '#ffffff', min: 2500 },
  residential: { w: 1.1, c: '#ffffff', min: 6000 },
  living_street: { w: 1, c: '#f4f4f4', min: 9000 },
  service: { w: 0.8, c: '#f4f4f4', min: 14000 },
  track: { w: 0.8, c: '#d8c8a8', min: 14000 },
};
const GRID = 24;

export class MapView {
  /** `opts`: {compact, onClick(lat, lon), onPick(kind, id)} */
  constructor(canvas, opts = {}) {
    this.c = canvas; this.ctx = canvas.getContext('2d'); this.opts = opts;
    this.lat0 = -7.45; this.k = Math.cos(this.lat0 * Math.PI / 180);
    this.cx = 109.2 * this.k; this.cy = 7.45; this.scale = 1800; // px per map unit (≈ degree)
    this.layers = []; this.kecamatan = []; this.hospitals = new Map();
    this.units = []; this.incidents = []; this.routes = []; this.marker = null; this.hospitalCapacity = new Map();
    this.dirty = true; this.firstDrawAt = null; this.roadsDrawnAt = null; this.featureCount = 0;
    this.fitted = false;
    this.resize();
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.bindInput();
    const loop = () => { if (this.dirty) this.draw(); requestAnimationFrame(loop); };
    requestAnimationFrame(loop);
  }

  // map units: x = lon·cos(lat0), y = -lat
  px(lat, lon) { return [(lon * this.k - this.cx) * this.scale + this.w / 2, (-lat - this.cy) * this.scale + this.hgt / 2]; }
  unpx(x, y) { const mx = (x - this.w / 2) / this.scale + this.cx; const my = (y - this.hgt / 2) / this.scale + this.cy; return [-my, mx / this.k]; }

  resize() {
    const r = this.c.getBoundingClientRect(); const d = window.devicePixelRatio || 1;
    this.w = Math.max(1, r.width); this.hgt = Math.max(1, r.height); this.dpr = d;
    this.c.width = Math.round(this.w * d); this.c.height = Math.round(this.hgt * d);
    this.dirty = true;
  }

  bindInput() {
    let drag = null;
    this.c.addEventListener('pointerdown', (e) => { drag = { x: e.clientX, y: e.clientY, cx: this.cx, cy: this.cy, moved: false }; this.c.setPointerCapture(e.pointerId); });
    this.c.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) drag.moved = true;
      if (drag.moved) { this.cx = drag.cx - dx / this.scale; this.cy = drag.cy - dy / this.scale; this.dirty = true; }
    });
    this.c.addEventListener('pointerup', (e) => {
      const d = drag; drag = null;
      if (!d || d.moved) return;
      const r = this.c.getBoundingClientRect(); const x = e.clientX - r.left, y = e.clientY - r.top;
      const hit = this.hit(x, y);
      if (hit && this.opts.onPick) { this.opts.onPick(hit.kind, hit.id); return; }
      const [lat, lon] = this.unpx(x, y);
      this.opts.onClick?.(lat, lon);
    });
    this.c.addEventListener('wheel', (e) => {
      e.preventDefault();
      const r = this.c.getBoundingClientRect(); const x = e.clientX - r.left, y = e.clientY - r.top;
      const [lat, lon] = this.unpx(x, y);
      this.scale = Math.min(400000, Math.max(300, this.scale * Math.exp(-e.deltaY * 0.0015)));
      const [nx, ny] = this.px(lat, lon); this.cx += (nx - x) / this.scale; this.cy += (ny - y) / this.scale;
      this.dirty = true;
    }, { passive: false });
  }

  hit(x, y) {
    let best = null, bd = 12 * 12;
    const test = (kind, id, lat, lon) => { const [px, py] = this.px(lat, lon); const d = (px - x) ** 2 + (py - y) ** 2; if (d < bd) { bd = d; best = { kind, id }; } };
    for (const i of this.incidents) test('incident', i.id, i.location.lat, i.location.lon);
    for (const u of this.units) { const p = unitPos(u); test('unit', u.id, p.lat, p.lon); }
    return best;
  }

  /** Fetches the road layer and builds the cached paths. */
  async load() {
    const t0 = performance.now();
    const m = await api('/api/map/roads');
    const t1 = performance.now();
    const s = m.scale || 1e-5;
    this.kecamatan = m.kecamatan || [];
    for (const x of m.hospitals || []) this.hospitals.set(x.id, x);
    let n = 0;
    // Classes drawn at the first zoom are built now; the minor ones a class at a
    // time after the first frame, or when a zoom first needs them.
    this.layers = (m.classes || []).map((cls) => {
      for (const line of cls.lines) n += line.length / 2;
      return { name: cls.class, st: STYLE[cls.class] || STYLE.service, lines: cls.lines, grid: null };
    });
    this.layers.filter((L) => L.st.min === 0).forEach((L) => this.build(L, s));
    const rest = this.layers.filter((L) => !L.grid);
    const next = () => { const L = rest.shift(); if (!L) return; if (!L.grid) this.build(L, s); setTimeout(next, 0); };
    setTimeout(next, 50);
    this.unit = s;
    this.points = n;
    this.stats = { fetchMs: Math.round(t1 - t0), buildMs: Math.round(performance.now() - t1), points: n };
    if (m.bounds) this.fit(m.bounds[0], m.bounds[1], m.bounds[2], m.bounds[3]);
    else this.fitPoints();
    this.dirty = true;
    return m;
  }

  /** Cuts one class into grid cells, one Path2D each, in map units. */
  build(L, s = this.unit) {
    const cells = new Map();
    for (const line of L.lines) {
      let lon = line[0], lat = line[1];
      const x0 = lon * s * this.k, y0 = -lat * s;
      const key = `${Math.floor(x0 * GRID)},${Math.floor(y0 * GRID)}`;
      let p = cells.get(key);
      if (!p) { p = new Path2D(); cells.set(key, p); }
      p.moveTo(x0, y0);
      for (let i = 2; i < line.length; i += 2) { lon += line[i]; lat += line[i + 1]; p.lineTo(lon * s * this.k, -lat * s); }
    }
    L.grid = [...cells].map(([key, path]) => { const [gx, gy] = key.split(',').map(Number); return { gx, gy, path }; });
    L.lines = null;
    this.dirty = true;
  }

  fit(minLat, minLon, maxLat, maxLon) {
    this.cx = ((minLon + maxLon) / 2) * this.k; this.cy = -(minLat + maxLat) / 2;
    const sx = this.w / Math.max(1e-6, (maxLon - minLon) * this.k), sy = this.hgt / Math.max(1e-6, maxLat - minLat);
    this.scale = Math.min(sx, sy) * 0.95; this.fitted = true; this.dirty = true;
  }

  fitPoints() {
    const pts = [...this.kecamatan, ...this.hospitals.values()];
    if (!pts.length) return;
    const lats = pts.map((p) => p.lat), lons = pts.map((p) => p.lon);
    this.fit(Math.min(...lats) - 0.02, Math.min(...lons) - 0.02, Math.max(...lats) + 0.02, Math.max(...lons) + 0.02);
  }

  centerOn(lat, lon, scale) { this.cx = lon * this.k; this.cy = -lat; if (scale) this.scale = scale; this.dirty = true; }

  set(data) { Object.assign(this, data); this.dirty = true; }

  draw() {
    this.dirty = false;
    const ctx = this.ctx, d = this.dpr;
    ctx.setTransform(d, 0, 0, d, 0, 0);
    ctx.fillStyle = '#e9eef2'; ctx.fillRect(0, 0, this.w, this.hgt);
    let features = 0;
    // roads: in map units, only visible cells of classes shown at this zoom
    const [maxLat, minLon] = this.unpx(0, 0), [minLat, maxLon] = this.unpx(this.w, this.hgt);
    const gx0 = Math.floor(minLon * this.k * GRID) - 1, gx1 = Math.floor(maxLon * this.k * GRID);
    const gy0 = Math.floor(-maxLat * GRID) - 1, gy1 = Math.floor(-minLat * GRID);
    ctx.save();
    ctx.setTransform(d * this.scale, 0, 0, d * this.scale, d * (this.w / 2 - this.cx * this.scale), d * (this.hgt / 2 - this.cy * this.scale));
    ctx.lineCap = 'round'; ctx.lineJoin = 'round';
    for (let li = this.layers.length - 1; li >= 0; li -= 1) {
      const L = this.layers[li];
      if (this.scale < L.st.min) continue;
      if (!L.grid) this.build(L);
      const zoomW = Math.min(2.2, Math.max(0.6, Math.log2(this.scale / 1500) * 0.35 + 0.8));
      ctx.strokeStyle = li <= 4 ? L.st.c : L.st.c; ctx.lineWidth = (L.st.w * zoomW) / this.scale;
      for (const c of L.grid) {
        if (c.gx < gx0 || c.gx > gx1 || c.gy < gy0 || c.gy > gy1) continue;
        ctx.stroke(c.path); features += 1;
      }
    }
    // major road casing effect: draw the top classes again thinner, darker edges omitted for speed
    ctx.restore();
    ctx.setTransform(d, 0, 0, d, 0, 0);
    // Labels are collected and placed last, most important first, each only where
    // it overprints no label already placed: incidents, then units, hospitals,
    // kecamatan names.
    const labels = [];
    const label = (prio, text, x, y, font, color, align = 'left') => labels.push({ prio, text, x, y, font, color, align });
    for (const k of this.kecamatan) {
      const [x, y] = this.px(k.lat, k.lon);
      if (x < -50 || y < -20 || x > this.w + 50 || y > this.hgt + 20) continue;
      label(3, k.name.toUpperCase(), x, y, '600 12px system-ui, sans-serif', '#5b6770', 'center'); features += 1;
    }
    // routes
    for (const r of this.routes) {
      ctx.strokeStyle = r.color || '#1c7ed6'; ctx.lineWidth = 4; ctx.setLineDash(r.road ? [] : [8, 6]);
      ctx.beginPath();
      r.path.forEach(([la, lo], i) => { const [x, y] = this.px(la, lo); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
      ctx.stroke(); ctx.setLineDash([]); features += 1;
    }
    // hospitals
    ctx.font = '11px system-ui, sans-serif'; ctx.textAlign = 'left';
    for (const x of this.hospitals.values()) {
      const [px, py] = this.px(x.lat, x.lon);
      const cap = this.hospitalCapacity.get(x.id);
      ctx.fillStyle = igdColor(cap?.status); ctx.fillRect(px - 6, py - 6, 12, 12);
      ctx.fillStyle = '#fff'; ctx.fillRect(px - 1.5, py - 4.5, 3, 9); ctx.fillRect(px - 4.5, py - 1.5, 9, 3);
      if (this.scale > (this.opts.compact ? 40000 : 4000)) label(2, x.name, px + 9, py, '11px system-ui, sans-serif', '#333');
      features += 1;
    }
    // incidents
    for (const i of this.incidents) {
      const [x, y] = this.px(i.location.lat, i.location.lon);
      ctx.fillStyle = triageColor(i.triage); ctx.strokeStyle = i.id === this.selected ? '#000' : '#fff'; ctx.lineWidth = i.id === this.selected ? 3 : 2;
      ctx.beginPath(); ctx.moveTo(x, y - 10); ctx.lineTo(x + 9, y + 7); ctx.lineTo(x - 9, y + 7); ctx.closePath(); ctx.fill(); ctx.stroke();
      label(0, `#${i.id}`, x + 11, y - 4, '600 11px system-ui, sans-serif', '#111'); features += 1;
    }
    // units
    ctx.font = '600 10px system-ui, sans-serif';
    for (const u of this.units) {
      const p = unitPos(u); const [x, y] = this.px(p.lat, p.lon);
      if (x < -20 || y < -20 || x > this.w + 20 || y > this.hgt + 20) continue;
      ctx.fillStyle = statusColor(u.status); ctx.strokeStyle = '#fff'; ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.arc(x, y, 6, 0, Math.PI * 2); ctx.fill(); ctx.stroke();
      if (this.scale > 2500 || this.units.length < 15) label(1, u.call_sign, x + 8, y + 3, '600 10px system-ui, sans-serif', '#1b2a35');
      features += 1;
    }
    this.labelsShown = this.placeLabels(labels);
    if (this.marker) {
      const [x, y] = this.px(this.marker.lat, this.marker.lon);
      ctx.strokeStyle = '#d7263d'; ctx.lineWidth = 3; ctx.beginPath(); ctx.arc(x, y, 10, 0, Math.PI * 2); ctx.moveTo(x - 14, y); ctx.lineTo(x + 14, y); ctx.moveTo(x, y - 14); ctx.lineTo(x, y + 14); ctx.stroke();
    }
    this.featureCount = features;
    const now = performance.now();
    if (this.firstDrawAt == null && features > 0) this.firstDrawAt = now;
    if (this.roadsDrawnAt == null && this.layers.length && features > 0) this.roadsDrawnAt = now;
    this.c.dataset.features = String(features);
    this.c.dataset.firstDrawMs = String(Math.round(this.firstDrawAt ?? -1));
  }
}

/** Draws the labels that fit, by priority; returns how many were drawn. */
MapView.prototype.placeLabels = function placeLabels(labels) {
  const ctx = this.ctx;
  const placed = [];
  ctx.textBaseline = 'middle';
  labels.sort((a, b) => a.prio - b.prio);
  for (const l of labels) {
    ctx.font = l.font;
    const w = ctx.measureText(l.text).width, hgt = 12;
    const x0 = l.align === 'center' ? l.x - w / 2 : l.x;
    const r = { x0: x0 - 2, y0: l.y - hgt / 2 - 1, x1: x0 + w + 2, y1: l.y + hgt / 2 + 1 };
    if (placed.some((p) => r.x0 < p.x1 && p.x0 < r.x1 && r.y0 < p.y1 && p.y0 < r.y1)) continue;
    placed.push(r);
    ctx.textAlign = l.align;
    ctx.fillStyle = 'rgba(255,255,255,0.8)'; ctx.fillText(l.text, l.x + 1, l.y + 1);
    ctx.fillStyle = l.color; ctx.fillText(l.text, l.x, l.y);
  }
  this.labelRects = placed;
  return placed.length;
};

/** Where a unit is: its last fix, else its base. */
export function unitPos(u) { return u.last_fix?.at || u.base; }
