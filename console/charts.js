// Small SVG charts: bars (one breakdown, with each cell's interval and an
// optional reference line such as TGI = 100), a heatmap (two breakdowns),
// lines over epochs, columns over days and a budget gauge. Suppressed cells
// are drawn as such, never as zero; cells where noise dominates are marked
// "few". Hand-written rather than a charting library: five simple shapes,
// and the privacy marks need full control of how a cell is drawn.

import { html, useState } from "./vendor/preact-htm.module.js";
import { t } from "./i18n.js";

const BAR = "#2f6fdf";
let hatches = 0;

/** A hatch pattern id of this chart's own: ids are page-wide. */
function useHatchId() {
  const [id] = useState(() => "hatch-" + ++hatches);
  return id;
}
const FEW = "#9bb7ec";

/** The hatch pattern suppressed cells are filled with. */
function Hatch({ id }) {
  return html`<defs>
    <pattern id=${id} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
      <rect width="6" height="6" fill="#f0f0f0" />
      <line x1="0" y1="0" x2="0" y2="6" stroke="#c8c8c8" stroke-width="2" />
    </pattern>
  </defs>`;
}

/**
 * Horizontal bars. `rows`: [{ label, value, low, high, suppressed, few }];
 * `format` renders a value; `reference` draws a labelled line (TGI 100).
 */
export function Bars({ rows, format, reference, title }) {
  const labelWidth = 150, barWidth = 400, valueWidth = 110, rowHeight = 28, top = 8;
  const extent = Math.max(
    1e-9,
    reference?.value ?? 0,
    ...rows.filter((r) => !r.suppressed).map((r) => Math.max(r.value ?? 0, r.high ?? 0)),
  ) * 1.05;
  const x = (v) => labelWidth + (Math.max(0, v) / extent) * barWidth;
  const height = top + rows.length * rowHeight + (reference ? 26 : 8);
  const width = labelWidth + barWidth + valueWidth;
  const hatch = useHatchId();
  return html`<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label=${title}>
    <${Hatch} id=${hatch} />
    ${rows.map((r, i) => {
      const y = top + i * rowHeight;
      const mid = y + rowHeight / 2;
      const label = html`<text x=${labelWidth - 8} y=${mid + 4} text-anchor="end" class="label">${r.label}</text>`;
      if (r.suppressed) {
        return html`<g class="cell suppressed" data-label=${r.label}>
          ${label}
          <rect x=${labelWidth} y=${y + 4} width=${barWidth} height=${rowHeight - 8} fill=${`url(#${hatch})`} />
          <text x=${labelWidth + 8} y=${mid + 4} class="muted">${t("aud.suppressed")}</text>
        </g>`;
      }
      const whisker = r.low != null && r.high != null
        ? html`<g class="interval" stroke="#333" stroke-width="1.2">
            <line x1=${x(r.low)} x2=${x(r.high)} y1=${mid} y2=${mid} />
            <line x1=${x(r.low)} x2=${x(r.low)} y1=${mid - 5} y2=${mid + 5} />
            <line x1=${x(r.high)} x2=${x(r.high)} y1=${mid - 5} y2=${mid + 5} />
          </g>`
        : null;
      return html`<g class=${"cell" + (r.few ? " few" : "")} data-label=${r.label}>
        ${label}
        <rect x=${labelWidth} y=${y + 4} width=${x(r.value ?? 0) - labelWidth} height=${rowHeight - 8}
          fill=${r.few ? FEW : BAR} stroke=${r.few ? BAR : "none"} stroke-dasharray=${r.few ? "4 3" : null} />
        ${whisker}
        <text x=${labelWidth + barWidth + 6} y=${mid + 4} class="value">
          ${r.few ? "≈ " + t("aud.few") : format(r.value)}
        </text>
      </g>`;
    })}
    ${reference && html`<g class="reference">
      <line x1=${x(reference.value)} x2=${x(reference.value)} y1=${top} y2=${height - 20}
        stroke="#d2452d" stroke-width="1.5" stroke-dasharray="5 3" />
      <text x=${x(reference.value)} y=${height - 6} text-anchor="middle" class="muted">${reference.label}</text>
    </g>`}
  </svg>`;
}

/**
 * A heatmap of two breakdowns. `rows`, `columns`: [{ code, label }];
 * `cell(rowCode, columnCode)` gives { value, suppressed, few } or null.
 */
export function Heatmap({ rows, columns, cell, format, title }) {
  const labelWidth = 130, cellWidth = Math.max(56, Math.min(96, 560 / columns.length)), cellHeight = 30, head = 40;
  const values = [];
  rows.forEach((r) => columns.forEach((c) => {
    const v = cell(r.code, c.code);
    if (v && !v.suppressed && v.value != null) values.push(v.value);
  }));
  const low = Math.min(0, ...values), high = Math.max(1e-9, ...values);
  const shade = (v) => {
    const f = (v - low) / (high - low || 1);
    const light = 95 - f * 55;
    return `hsl(218, 70%, ${light}%)`;
  };
  const width = labelWidth + columns.length * cellWidth;
  const height = head + rows.length * cellHeight + 4;
  const hatch = useHatchId();
  return html`<svg class="chart heatmap" viewBox="0 0 ${width} ${height}" role="img" aria-label=${title}>
    <${Hatch} id=${hatch} />
    ${columns.map((c, j) => html`<text x=${labelWidth + j * cellWidth + cellWidth / 2} y=${head - 10}
      text-anchor="middle" class="label">${c.label}</text>`)}
    ${rows.map((r, i) => html`<g>
      <text x=${labelWidth - 8} y=${head + i * cellHeight + cellHeight / 2 + 4} text-anchor="end" class="label">${r.label}</text>
      ${columns.map((c, j) => {
        const v = cell(r.code, c.code);
        const x = labelWidth + j * cellWidth, y = head + i * cellHeight;
        const suppressed = !v || v.suppressed;
        const dark = !suppressed && !v.few && (v.value - low) / (high - low || 1) > 0.6;
        return html`<g class=${"cell" + (suppressed ? " suppressed" : v.few ? " few" : "")}
            data-label=${r.label + " · " + c.label}>
          <rect x=${x + 1} y=${y + 1} width=${cellWidth - 2} height=${cellHeight - 2}
            fill=${suppressed ? `url(#${hatch})` : v.few ? FEW : shade(v.value)} />
          <text x=${x + cellWidth / 2} y=${y + cellHeight / 2 + 4} text-anchor="middle"
            class=${"value" + (dark ? " on-dark" : "")}>
            ${suppressed ? "—" : v.few ? "≈" : format(v.value)}
          </text>
        </g>`;
      })}
    </g>`)}
  </svg>`;
}

/** A meter of `spent` against `limit`, with its label and note. */
export function Gauge({ label, spent, limit, note }) {
  const fraction = limit > 0 ? Math.min(1, spent / limit) : 1;
  const colour = fraction > 0.9 ? "#d2452d" : fraction > 0.7 ? "#e0a21b" : "#2e9b5f";
  return html`<div class="gauge">
    <div class="gauge-head"><span>${label}</span><span>${note}</span></div>
    <div class="gauge-track" role="meter" aria-label=${label} aria-valuemin="0"
      aria-valuemax=${limit} aria-valuenow=${spent}>
      <div class="gauge-fill" style=${{ width: fraction * 100 + "%", background: colour }}></div>
    </div>
  </div>`;
}

/**
 * One line per series over the data epochs. `points`: the epochs' labels;
 * `series`: [{ label, values }] with null where an epoch has no released
 * value (a gap, not a zero).
 */
export function Lines({ points, series, format, title }) {
  const left = 60, right = 150, top = 10, plot = 360, height = 200;
  const width = left + plot + right;
  const values = series.flatMap((s) => s.values.filter((v) => v != null));
  const high = Math.max(1e-9, ...values) * 1.1;
  const x = (i) => left + (points.length === 1 ? plot / 2 : (i / (points.length - 1)) * plot);
  const y = (v) => top + (1 - v / high) * (height - top - 30);
  const colours = ["#2f6fdf", "#d2452d", "#2e9b5f", "#e0a21b", "#8e44ad", "#16a085", "#7f8c8d"];
  return html`<svg class="chart lines" viewBox="0 0 ${width} ${height}" role="img" aria-label=${title}>
    <line x1=${left} x2=${left + plot} y1=${y(0)} y2=${y(0)} stroke="#ccc" />
    <text x=${left - 6} y=${y(high / 1.1) + 4} text-anchor="end" class="muted">${format(high / 1.1)}</text>
    ${points.map((p, i) => html`<text x=${x(i)} y=${height - 8} text-anchor="middle" class="muted">${p}</text>`)}
    ${series.map((s, k) => {
      const colour = colours[k % colours.length];
      const dots = s.values.map((v, i) => (v == null ? null : [x(i), y(v)]));
      const runs = [];
      dots.forEach((d, i) => {
        if (d && dots[i - 1]) runs.push(html`<line x1=${dots[i - 1][0]} y1=${dots[i - 1][1]} x2=${d[0]} y2=${d[1]}
          stroke=${colour} stroke-width="2" />`);
      });
      const last = dots.map((d, i) => [d, i]).filter(([d]) => d).pop();
      return html`<g class="series" data-label=${s.label}>
        ${runs}
        ${dots.map((d) => d && html`<circle cx=${d[0]} cy=${d[1]} r="3.5" fill=${colour} />`)}
        ${last && html`<text x=${left + plot + 8} y=${last[0][1] + 4} class="label" fill=${colour}>${s.label}</text>`}
      </g>`;
    })}
  </svg>`;
}

/**
 * Vertical columns over consecutive days. `points`: [{ label, value }]
 * (a zero draws no column); every `every`-th label is written.
 */
export function Columns({ points, format, title, every = 7 }) {
  const left = 50, plot = 520, top = 12, base = 150, height = 180;
  const high = Math.max(1, ...points.map((p) => p.value));
  const step = plot / Math.max(1, points.length);
  const h = (v) => (v / high) * (base - top);
  return html`<svg class="chart columns" viewBox="0 0 ${left + plot + 10} ${height}" role="img" aria-label=${title}>
    <line x1=${left} x2=${left + plot} y1=${base} y2=${base} stroke="#ccc" />
    <text x=${left - 6} y=${top + 4} text-anchor="end" class="muted">${format(high)}</text>
    ${points.map((p, i) => html`<g class="column" data-label=${p.label} data-value=${p.value}>
      <title>${p.label}: ${format(p.value)}</title>
      ${p.value > 0 && html`<rect x=${left + i * step + 1} y=${base - h(p.value)} width=${Math.max(1, step - 2)}
        height=${h(p.value)} fill=${BAR} />`}
      ${(i % every === 0 || i === points.length - 1) && html`<text x=${left + i * step + step / 2} y=${base + 16}
        text-anchor="middle" class="muted">${p.label}</text>`}
    </g>`)}
  </svg>`;
}
