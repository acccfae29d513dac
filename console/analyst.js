// The analyst's view: build a question, see what it would cost before
// asking, ask, and read the released answer as a chart, a table or a CSV;
// beside it, the analysts' privacy budget and its spend history.

import { html, useEffect, useMemo, useState } from "./vendor/preact-htm.module.js";
import { gql, markReady } from "./api.js";
import { Bars, Gauge, Heatmap, Lines } from "./charts.js";
import {
  fmtDateTime, fmtDecimal, fmtInt, fmtMoney, fmtPercent, t, valueLabel,
} from "./i18n.js";

const DIMENSIONS_QUERY = `query AudienceDimensions {
  audienceDimensions { dimension values multiValued }
}`;

const BUDGET_QUERY = `query PrivacyBudget {
  privacyBudget {
    epsilonLeft dailyLimit dailySpent dailyResetsAt rollingLimit rollingSpent
  }
  privacySpends(last: 10) { nodes { id at epsilon question } }
}`;

const COST_QUERY = `query AudienceCost($question: AudienceQuestion!) {
  audienceCost(question: $question) { epsilon affordable budget { epsilonLeft } }
}`;

const AUDIENCE_QUERY = `query Audience($question: AudienceQuestion!) {
  audience(question: $question) {
    cells {
      key { dimension value }
      suppressed members membersInterval95 noiseDominates share
      paidMemberShare paidMemberShareInterval95
      blackCardShare blackCardShareInterval95
      meanAnnualSpendCents tgi
    }
    shownMembers overlapping populationMembers
    privacy {
      epsilonSpent platformReleaseEpsilon countInterval95
      suppressedCells minimumCellSize dataEpoch
    }
  }
}`;

const TREND_QUERY = `query AudienceTrend($question: AudienceQuestion!) {
  audienceTrend(question: $question, epochs: 6) {
    dataEpoch asOf
    answer { cells { key { dimension value } suppressed members noiseDominates } }
  }
}`;

const POPULATIONS = ["PLATFORM", "STORE", "PROSPECTS"];
const SAVED_KEY = "brand-gateway.saved-questions";
const METRICS = ["PAID_MEMBER_SHARE", "BLACK_CARD_SHARE", "MEAN_ANNUAL_SPEND", "TGI"];

/** What each chartable measure reads from a cell, and how it is shown. */
const MEASURES = {
  MEMBERS: {
    value: (c) => c.members,
    interval: (c) => c.membersInterval95,
    format: fmtInt,
  },
  SHARE: { value: (c) => c.share, format: (v) => fmtPercent(v) },
  PAID_MEMBER_SHARE: {
    value: (c) => c.paidMemberShare,
    interval: (c) => c.paidMemberShareInterval95,
    format: (v) => fmtPercent(v),
  },
  BLACK_CARD_SHARE: {
    value: (c) => c.blackCardShare,
    interval: (c) => c.blackCardShareInterval95,
    format: (v) => fmtPercent(v),
  },
  MEAN_ANNUAL_SPEND: { value: (c) => c.meanAnnualSpendCents, format: fmtMoney },
  TGI: { value: (c) => c.tgi, format: (v) => fmtDecimal(v, 0), reference: 100 },
};

/** The question as the contract's `AudienceQuestion`. */
function toQuestion(state) {
  return {
    population: state.population,
    filters: state.filters.filter((f) => f.values.length > 0),
    breakdown: state.breakdown.filter(Boolean),
    metrics: state.metrics.filter((m) => m !== "TGI" || state.population === "STORE"),
  };
}

/** The analyst's page. */
export function AnalystView({ onError }) {
  const [dimensions, setDimensions] = useState([]);
  const [state, setState] = useState({
    population: "PLATFORM",
    filters: [],
    breakdown: ["GROWTH_TIER", null],
    metrics: [],
  });
  const [cost, setCost] = useState(null);
  const [answer, setAnswer] = useState(null);
  const [asking, setAsking] = useState(false);
  const [budget, setBudget] = useState(null);
  const [chartOf, setChartOf] = useState("MEMBERS");
  // Bumped by each answer, so the cost line is asked again (a repeat is free).
  const [asked, setAsked] = useState(0);
  const question = useMemo(() => toQuestion(state), [state]);

  const loadBudget = () => gql(BUDGET_QUERY).then(setBudget).catch(onError);
  useEffect(() => {
    Promise.all([
      gql(DIMENSIONS_QUERY).then((d) => setDimensions(d.audienceDimensions)),
      loadBudget(),
    ]).then(markReady).catch(onError);
  }, []);
  useEffect(() => {
    setCost(null);
    const timer = setTimeout(() => {
      gql(COST_QUERY, { question })
        .then((d) => setCost(d.audienceCost))
        .catch((e) => setCost({ error: e.message }));
    }, 250);
    return () => clearTimeout(timer);
  }, [question, asked]);

  const ask = async () => {
    setAsking(true);
    try {
      const d = await gql(AUDIENCE_QUERY, { question });
      setAnswer({ question, result: d.audience });
      if (!question.metrics.includes(chartOf) && !["MEMBERS", "SHARE"].includes(chartOf)) {
        setChartOf("MEMBERS");
      }
      setAsked(asked + 1);
      loadBudget();
    } catch (e) {
      onError(e);
    } finally {
      setAsking(false);
    }
  };

  return html`<div class="columns">
    <section class="panel builder" aria-labelledby="builder-title">
      <h2 id="builder-title">${t("aud.builder")}</h2>
      <${SavedQuestions} state=${state} setState=${setState} />
      <${QuestionBuilder} dimensions=${dimensions} state=${state} setState=${setState} />
      <${CostLine} cost=${cost} />
      <button class="primary" onClick=${ask} disabled=${asking || (cost && cost.affordable === false)}>
        ${asking ? t("aud.asking") : t("aud.ask")}
      </button>
    </section>
    <section class="panel answer" aria-labelledby="answer-title">
      <h2 id="answer-title">${t("aud.answer")}</h2>
      ${answer
        ? html`<${AnswerView} answer=${answer} chartOf=${chartOf} setChartOf=${setChartOf} />`
        : html`<p class="muted">${t("aud.noAnswer")}</p>`}
    </section>
    <aside class="panel budget" aria-labelledby="budget-title">
      <h2 id="budget-title">${t("budget.title")}</h2>
      ${budget && html`<${BudgetView} budget=${budget} />`}
    </aside>
  </div>`;
}

/**
 * Questions kept by name in this browser (localStorage), to ask again
 * later: asking a question released this epoch again is free.
 */
function SavedQuestions({ state, setState }) {
  const read = () => JSON.parse(localStorage.getItem(SAVED_KEY) || "[]");
  const [saved, setSaved] = useState(read());
  const [name, setName] = useState("");
  const keep = (list) => { localStorage.setItem(SAVED_KEY, JSON.stringify(list)); setSaved(list); };
  const save = () => {
    const label = name.trim();
    if (!label) return;
    keep([...saved.filter((q) => q.name !== label), { name: label, state }]);
    setName("");
  };
  return html`<fieldset class="saved">
    <legend>${t("aud.saved")}</legend>
    ${saved.length > 0 && html`<label class="stacked"><span class="sr-only">${t("aud.saved")}</span>
      <select value="" onChange=${(e) => {
        const found = saved.find((q) => q.name === e.target.value);
        if (found) setState(found.state);
      }}>
        <option value="">${t("aud.load")}</option>
        ${saved.map((q) => html`<option value=${q.name}>${q.name}</option>`)}
      </select></label>`}
    <div class="inline">
      <label class="sr-only" for="save-name">${t("aud.saveName")}</label>
      <input id="save-name" type="text" placeholder=${t("aud.saveName")} value=${name}
        onInput=${(e) => setName(e.target.value)} />
      <button class="secondary" type="button" onClick=${save} disabled=${!name.trim()}>${t("aud.save")}</button>
    </div>
  </fieldset>`;
}

function QuestionBuilder({ dimensions, state, setState }) {
  const update = (patch) => setState({ ...state, ...patch });
  const codes = (dimension) => dimensions.find((d) => d.dimension === dimension)?.values ?? [];
  const multiValued = (dimension) => dimensions.find((d) => d.dimension === dimension)?.multiValued;
  const setFilter = (i, filter) => update({ filters: state.filters.map((f, j) => (j === i ? filter : f)) });
  const toggle = (i, filter, code) => {
    const has = filter.values.includes(code);
    const values = multiValued(filter.dimension)
      ? (has ? [] : [code])
      : has ? filter.values.filter((v) => v !== code) : [...filter.values, code];
    setFilter(i, { ...filter, values });
  };
  const unused = dimensions.map((d) => d.dimension).filter((d) => !state.filters.some((f) => f.dimension === d));
  return html`
    <fieldset>
      <legend>${t("aud.population")}</legend>
      ${POPULATIONS.map((p) => html`<label class="choice">
        <input type="radio" name="population" value=${p} checked=${state.population === p}
          onChange=${() => update({ population: p })} />
        ${t("pop." + p)}
      </label>`)}
    </fieldset>
    <fieldset>
      <legend>${t("aud.filters")}</legend>
      ${state.filters.map((f, i) => html`<div class="filter">
        <label>
          <span class="sr-only">${t("aud.filters")} ${i + 1}</span>
          <select value=${f.dimension} onChange=${(e) => setFilter(i, { dimension: e.target.value, values: [] })}>
            ${[f.dimension, ...unused].map((d) => html`<option value=${d}>${t("dim." + d)}</option>`)}
          </select>
        </label>
        <div class="chips">
          ${codes(f.dimension).map((code) => html`<label class="chip">
            <input type="checkbox" checked=${f.values.includes(code)} onChange=${() => toggle(i, f, code)} />
            ${valueLabel(code)}
          </label>`)}
        </div>
        <button class="link" onClick=${() => update({ filters: state.filters.filter((_, j) => j !== i) })}>
          ${t("aud.remove")}
        </button>
      </div>`)}
      ${unused.length > 0 && html`<button class="secondary" onClick=${() =>
        update({ filters: [...state.filters, { dimension: unused[0], values: [] }] })}>
        ${t("aud.addFilter")}
      </button>`}
    </fieldset>
    <fieldset class="breakdown">
      <legend>${t("aud.breakdown")}</legend>
      ${[0, 1].map((slot) => html`<label class="stacked">
        <span class="sr-only">${t("aud.breakdown")} ${slot + 1}</span>
        <select value=${state.breakdown[slot] ?? ""} disabled=${slot === 1 && !state.breakdown[0]}
          onChange=${(e) => {
            const breakdown = [...state.breakdown];
            breakdown[slot] = e.target.value || null;
            if (!breakdown[0]) breakdown[1] = null;
            update({ breakdown });
          }}>
          <option value="">${t("aud.none")}</option>
          ${dimensions
            .filter((d) => d.dimension !== state.breakdown[1 - slot])
            .map((d) => html`<option value=${d.dimension}>${t("dim." + d.dimension)}</option>`)}
        </select>
      </label>`)}
    </fieldset>
    <fieldset>
      <legend>${t("aud.metrics")}</legend>
      ${METRICS.filter((m) => m !== "TGI" || state.population === "STORE").map((m) => html`<label class="choice">
        <input type="checkbox" checked=${state.metrics.includes(m)} onChange=${() => update({
          metrics: state.metrics.includes(m) ? state.metrics.filter((x) => x !== m) : [...state.metrics, m],
        })} />
        ${t("metric." + m)}
      </label>`)}
    </fieldset>`;
}

function CostLine({ cost }) {
  if (!cost) return html`<p class="cost muted" aria-live="polite">${t("aud.costing")}</p>`;
  if (cost.error) return html`<p class="cost error" aria-live="polite">${cost.error}</p>`;
  const epsilon = fmtDecimal(cost.epsilon, 3);
  if (!cost.affordable) {
    return html`<p class="cost error" aria-live="polite">
      ${t("aud.unaffordable", { epsilon, left: fmtDecimal(cost.budget.epsilonLeft, 3) })}</p>`;
  }
  return html`<p class=${"cost" + (cost.epsilon === 0 ? " free" : "")} aria-live="polite">
    ${cost.epsilon === 0 ? t("aud.free") : t("aud.cost", { epsilon })}</p>`;
}

/** A cell's label: its breakdown values joined, or "All". */
function cellLabel(cell) {
  return cell.key.length ? cell.key.map((k) => valueLabel(k.value)).join(" · ") : t("aud.total");
}

function AnswerView({ answer, chartOf, setChartOf }) {
  const { question, result } = answer;
  const p = result.privacy;
  const choices = ["MEMBERS", "SHARE", ...question.metrics];
  const measure = MEASURES[chartOf] ?? MEASURES.MEMBERS;
  return html`<div>
    <p class="summary">
      <span>${t("aud.epoch", { epoch: p.dataEpoch })}</span>
      <span>${p.epsilonSpent > 0 ? t("aud.spent", { epsilon: fmtDecimal(p.epsilonSpent, 3) }) : t("aud.spentFree")}</span>
      <span>${t("aud.shown", { members: fmtInt(result.shownMembers) })}</span>
      <span>${t("aud.interval", { interval: fmtInt(p.countInterval95) })}</span>
      ${p.suppressedCells > 0 && html`<span>${t("aud.suppressedCells", {
        count: p.suppressedCells, minimum: fmtInt(p.minimumCellSize),
      })}</span>`}
    </p>
    <div class="toolbar">
      <label>${t("aud.chartOf")}
        <select value=${chartOf} onChange=${(e) => setChartOf(e.target.value)}>
          ${choices.map((m) => html`<option value=${m}>${t("metric." + m)}</option>`)}
        </select>
      </label>
      <button class="secondary" onClick=${() => downloadCsv(answer)}>${t("aud.csv")}</button>
    </div>
    <${AnswerChart} question=${question} result=${result} measure=${measure} title=${t("metric." + chartOf)} />
    <p class="legend muted">
      <span class="swatch few"></span>${t("aud.noiseDominates")}
      <span class="swatch suppressed"></span>${t("aud.suppressed")}
      ${measure.reference && html`<span class="swatch reference"></span>${t("aud.tgiLine")}`}
    </p>
    <${AnswerTable} question=${question} result=${result} />
    ${question.population !== "PLATFORM" && html`<${Compare} question=${question} result=${result} />`}
    <${Trend} question=${question} />
  </div>`;
}

/**
 * The answer's shares beside the platform's for the same filters and
 * breakdown (counts only, so usually a free slice of the platform
 * release; the cost is shown before asking).
 */
function Compare({ question, result }) {
  const platform = useMemo(() => ({ ...question, population: "PLATFORM", metrics: [] }), [question]);
  const [cost, setCost] = useState(null);
  const [other, setOther] = useState(null);
  useEffect(() => {
    setOther(null);
    gql(COST_QUERY, { question: platform }).then((d) => setCost(d.audienceCost)).catch(() => setCost(null));
  }, [platform]);
  const ask = () => gql(AUDIENCE_QUERY, { question: platform })
    .then((d) => setOther(d.audience))
    .catch((e) => setOther({ error: e.message }));
  if (!other) {
    const price = cost == null ? "" : cost.epsilon === 0 ? t("aud.compareFree")
      : t("aud.cost", { epsilon: fmtDecimal(cost.epsilon, 3) });
    return html`<p><button class="secondary" onClick=${ask} disabled=${cost && !cost.affordable}>
      ${t("aud.compare")}</button> <span class="muted small">${price}</span></p>`;
  }
  if (other.error) return html`<p class="error">${other.error}</p>`;
  const rows = (answer) => answer.cells.map((c) => ({
    label: cellLabel(c), value: c.share, suppressed: c.suppressed || c.share == null, few: c.noiseDominates,
  }));
  const share = (v) => fmtPercent(v);
  return html`<div class="compare">
    <h3>${t("aud.compare")}</h3>
    <div class="side-by-side">
      <figure><figcaption>${t("pop." + question.population)}</figcaption>
        <${Bars} rows=${rows(result)} format=${share} title=${t("pop." + question.population)} /></figure>
      <figure><figcaption>${t("pop.PLATFORM")}</figcaption>
        <${Bars} rows=${rows(other)} format=${share} title=${t("pop.PLATFORM")} /></figure>
    </div>
  </div>`;
}

/** The question across recent data epochs, as released to you (free). */
function Trend({ question }) {
  const [trend, setTrend] = useState(null);
  useEffect(() => setTrend(null), [question]);
  const load = () => gql(TREND_QUERY, { question })
    .then((d) => setTrend(d.audienceTrend))
    .catch((e) => setTrend({ error: e.message }));
  if (!trend) return html`<button class="secondary trend-button" onClick=${load}>${t("aud.trend")}</button>`;
  if (trend.error) return html`<p class="error">${trend.error}</p>`;
  const epochs = [...trend].reverse();
  const labels = [];
  epochs.forEach((p) => (p.answer?.cells ?? []).forEach((c) => {
    const label = cellLabel(c);
    if (!labels.includes(label)) labels.push(label);
  }));
  const series = labels.map((label) => ({
    label,
    values: epochs.map((p) => {
      const c = (p.answer?.cells ?? []).find((c) => cellLabel(c) === label);
      return c && !c.suppressed && !c.noiseDominates ? c.members : null;
    }),
  }));
  return html`<div class="trend">
    <h3>${t("aud.trend")}</h3>
    <p class="muted small">${t("aud.trendHelp")}</p>
    <${Lines} points=${epochs.map((p) => p.asOf)} series=${series} format=${fmtInt} title=${t("aud.trend")} />
  </div>`;
}

function AnswerChart({ question, result, measure, title }) {
  const [first, second] = question.breakdown;
  if (second) {
    const axis = (dimension) => {
      const seen = [];
      result.cells.forEach((c) => {
        const v = c.key.find((k) => k.dimension === dimension)?.value;
        if (v && !seen.includes(v)) seen.push(v);
      });
      return seen.map((code) => ({ code, label: valueLabel(code) }));
    };
    const find = (a, b) => {
      const c = result.cells.find((c) =>
        c.key.some((k) => k.dimension === first && k.value === a) &&
        c.key.some((k) => k.dimension === second && k.value === b));
      return c && { value: measure.value(c), suppressed: c.suppressed || measure.value(c) == null, few: c.noiseDominates };
    };
    return html`<${Heatmap} rows=${axis(first)} columns=${axis(second)} cell=${find}
      format=${measure.format} title=${title} />`;
  }
  const rows = result.cells.map((c) => {
    const value = measure.value(c);
    const half = measure.interval?.(c);
    return {
      label: cellLabel(c),
      value,
      low: half != null && value != null ? value - half : null,
      high: half != null && value != null ? value + half : null,
      suppressed: c.suppressed || value == null,
      few: c.noiseDominates,
    };
  });
  const reference = measure.reference != null ? { value: measure.reference, label: "TGI 100" } : null;
  return html`<${Bars} rows=${rows} format=${measure.format} reference=${reference} title=${title} />`;
}

function AnswerTable({ question, result }) {
  const columns = ["MEMBERS", "SHARE", ...question.metrics];
  return html`<details class="cells">
    <summary>${t("aud.table")}</summary>
    <table>
      <thead><tr><th scope="col">${t("aud.cell")}</th>
        ${columns.map((m) => html`<th scope="col">${t("metric." + m)}</th>`)}</tr></thead>
      <tbody>${result.cells.map((c) => html`<tr class=${c.suppressed ? "suppressed" : ""}>
        <th scope="row">${cellLabel(c)}</th>
        ${columns.map((m) => {
          const measure = MEASURES[m];
          if (c.suppressed) return html`<td class="muted">${t("aud.suppressed")}</td>`;
          const value = measure.value(c);
          const half = measure.interval?.(c);
          return html`<td>${measure.format(value)}${half != null ? html` <small>±${measure.format(half)}</small>` : ""}
            ${m === "MEMBERS" && c.noiseDominates ? html` <small class="warn">${t("aud.few")}</small>` : ""}</td>`;
        })}
      </tr>`)}</tbody>
    </table>
  </details>`;
}

/** Saves the released answer as CSV: codes, not labels, for machines. */
function downloadCsv({ question, result }) {
  const header = [
    ...question.breakdown, "suppressed", "members", "members_interval95", "noise_dominates", "share",
    "paid_member_share", "paid_member_share_interval95", "black_card_share", "black_card_share_interval95",
    "mean_annual_spend_cents", "tgi",
  ];
  const lines = result.cells.map((c) => [
    ...question.breakdown.map((d) => c.key.find((k) => k.dimension === d)?.value ?? ""),
    c.suppressed, c.members, c.membersInterval95, c.noiseDominates, c.share,
    c.paidMemberShare, c.paidMemberShareInterval95, c.blackCardShare, c.blackCardShareInterval95,
    c.meanAnnualSpendCents, c.tgi,
  ].map((v) => (v == null ? "" : String(v))).join(","));
  const csv = [header.join(","), ...lines].join("\r\n") + "\r\n";
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
  link.download = `audience-epoch-${result.privacy.dataEpoch}-${question.population.toLowerCase()}.csv`;
  link.click();
  URL.revokeObjectURL(link.href);
}

function BudgetView({ budget }) {
  const b = budget.privacyBudget;
  const spends = [...budget.privacySpends.nodes].reverse();
  return html`<div>
    <${Gauge} label=${t("budget.day")} spent=${b.dailySpent} limit=${b.dailyLimit}
      note=${`${fmtDecimal(b.dailySpent, 3)} / ${fmtDecimal(b.dailyLimit, 3)}`} />
    <p class="muted small">${t("budget.resets", { at: fmtDateTime(b.dailyResetsAt) })}</p>
    <${Gauge} label=${t("budget.rolling")} spent=${b.rollingSpent} limit=${b.rollingLimit}
      note=${`${fmtDecimal(b.rollingSpent, 3)} / ${fmtDecimal(b.rollingLimit, 3)}`} />
    <p class="left">${t("budget.left", { left: fmtDecimal(b.epsilonLeft, 3) })}</p>
    <h3>${t("budget.history")}</h3>
    ${spends.length === 0
      ? html`<p class="muted">${t("budget.noSpends")}</p>`
      : html`<ol class="spends">${spends.map((s) => html`<li>
          <div class="spend-head"><span>${fmtDateTime(s.at)}</span><strong>ε ${fmtDecimal(s.epsilon, 3)}</strong></div>
          <div class="muted small">${s.question}</div>
        </li>`)}</ol>`}
  </div>`;
}
