// The onboarding reviewer's view: the queue with its filters, and an
// application's page: the scorecard of its latest evaluation, its
// qualifications, the event timeline, and claim, release and decide as
// the API says they are allowed (`claimable`, `decisions`).

import { html, useEffect, useState } from "./vendor/preact-htm.module.js";
import { errorsOn, fieldOf, gql, markReady, mutate } from "./api.js";
import { fmtDateTime, fmtDecimal, fmtPercent, t } from "./i18n.js";

const QUEUE_STATES = ["IN_REVIEW", "APPEALED", "NEEDS_INFO", "SUBMITTED", "APPROVED_WITH_CONDITIONS",
  "WATCHLIST", "APPROVED", "REJECTED", "UPHELD", "EXPIRED", "SUSPENDED", "DRAFT"];
const REASONS = ["MARKET_SHARE_LOW", "MENTION_SHARE_LOW", "PRICE_VOLATILE", "DEEP_DISCOUNTING",
  "SUPER_MEMBER_RATIO_LOW", "INCOMPLETE_DATA", "BRAND_RISK", "QUALIFICATION_MISSING", "CONDITION_MISSED", "OTHER"];

/** The decision form's fields: their userErrors show under them. */
const FORM_FIELDS = ["decision", "reasonCodes", "note", "overrideNote", "probationDays", "infoDeadlineDays"];

const QUEUE_QUERY = `query Applications($filter: ApplicationFilterInput, $after: String) {
  applications(first: 30, after: $after, filter: $filter) {
    nodes {
      id state claimedBy dueAt dueKind submittedAt
      brand { name category { code name } }
      latestEvaluation { passed }
    }
    pageInfo { hasNextPage endCursor }
  }
  categories { code name }
}`;

/** What the scorecard reads of an Evaluation. */
export const EVALUATION_FIELDS = `asOf passed policyVersion formulaVersion
  verdicts {
    measure formula value judgedValue judgedOn comparison threshold passed margin whatIf
    undefinedReason categoryPercentile periodFrom periodTo inputs { name value }
  }`;

const APPLICATION_QUERY = `query Application($id: ID!) {
  application(id: $id) {
    id state version statement claimedBy decidedBy appealed dueAt dueKind claimable decisions
    brand { name category { name } }
    latestEvaluation { ${EVALUATION_FIELDS} }
    qualifications { complete gaps { kind problem } }
    events { at actor action fromState toState reasonCodes note }
  }
}`;

const PAYLOAD = `application { id state version } userErrors { field message code }`;
const CLAIM_MUTATION = `mutation ClaimApplication($id: ID!, $version: Int!) {
  claimApplication(applicationId: $id, expectedVersion: $version) { ${PAYLOAD} }
}`;
const RELEASE_MUTATION = `mutation ReleaseApplication($id: ID!, $version: Int!) {
  releaseApplication(applicationId: $id, expectedVersion: $version) { ${PAYLOAD} }
}`;
const DECIDE_MUTATION = `mutation DecideApplication($input: DecideApplicationInput!) {
  decideApplication(input: $input) { ${PAYLOAD} }
}`;

/** The reviewer's page: the queue, or one application. */
export function ReviewerView({ onError, path, go, viewer }) {
  const [, id] = path;
  return id
    ? html`<${ApplicationPage} id=${id} onError=${onError} viewer=${viewer} />`
    : html`<${Queue} onError=${onError} go=${go} />`;
}

function Queue({ onError }) {
  const [states, setStates] = useState(["IN_REVIEW", "APPEALED"]);
  const [claimed, setClaimed] = useState("");
  const [category, setCategory] = useState("");
  const [page, setPage] = useState(null);
  const load = (after, shown) => {
    const filter = {
      states: states.length ? states : null,
      claimed: claimed === "" ? null : claimed === "true",
      category: category || null,
    };
    gql(QUEUE_QUERY, { filter, after })
      .then((d) => setPage({
        rows: [...shown, ...d.applications.nodes],
        next: d.applications.pageInfo.hasNextPage ? d.applications.pageInfo.endCursor : null,
        categories: d.categories,
      }))
      .then(markReady)
      .catch(onError);
  };
  useEffect(() => load(null, []), [states, claimed, category]);
  const toggle = (s) => setStates(states.includes(s) ? states.filter((x) => x !== s) : [...states, s]);
  return html`<section class="panel">
    <h2>${t("rv.queue")}</h2>
    <div class="chips" role="group" aria-label=${t("op.state")}>
      ${QUEUE_STATES.map((s) => html`<label class="chip">
        <input type="checkbox" checked=${states.includes(s)} onChange=${() => toggle(s)} />${t("appState." + s)}
      </label>`)}
    </div>
    <div class="toolbar start">
      <label>${t("rv.claimed")}
        <select value=${claimed} onChange=${(e) => setClaimed(e.target.value)}>
          <option value="">${t("op.either")}</option>
          <option value="false">${t("rv.unclaimed")}</option>
          <option value="true">${t("rv.claimedOnly")}</option>
        </select>
      </label>
      <label>${t("rv.category")}
        <select value=${category} onChange=${(e) => setCategory(e.target.value)}>
          <option value="">${t("op.either")}</option>
          ${(page?.categories ?? []).map((c) => html`<option value=${c.code}>${c.name}</option>`)}
        </select>
      </label>
    </div>
    ${page && (page.rows.length === 0
      ? html`<p class="muted">${t("rv.empty")}</p>`
      : html`<table class="list">
        <thead><tr>
          <th scope="col">${t("rv.brand")}</th><th scope="col">${t("rv.category")}</th>
          <th scope="col">${t("op.state")}</th><th scope="col">${t("rv.screening")}</th>
          <th scope="col">${t("rv.holder")}</th><th scope="col">${t("rv.due")}</th>
        </tr></thead>
        <tbody>${page.rows.map((a) => html`<tr>
          <td><a href=${"#/applications/" + a.id}>${a.brand.name}</a></td>
          <td>${a.brand.category.name}</td>
          <td><span class=${"badge app-" + a.state}>${t("appState." + a.state)}</span></td>
          <td>${a.latestEvaluation ? (a.latestEvaluation.passed ? "✓ " + t("rv.passed") : "✗ " + t("rv.failed")) : "—"}</td>
          <td>${a.claimedBy ?? "—"}</td>
          <td>${a.dueAt ? fmtDateTime(a.dueAt) : "—"}</td>
        </tr>`)}</tbody>
      </table>`)}
    ${page?.next && html`<button class="secondary" onClick=${() => load(page.next, page.rows)}>${t("op.more")}</button>`}
  </section>`;
}

function ApplicationPage({ id, onError, viewer }) {
  const [application, setApplication] = useState(null);
  const [errors, setErrors] = useState([]);
  const load = () => gql(APPLICATION_QUERY, { id }).then((d) => setApplication(d.application)).catch(onError);
  useEffect(() => { load(); }, [id]);
  if (!application) return html`<p class="muted">${t("app.loading")}</p>`;
  const a = application;
  const run = (query, variables, field) => mutate(query, variables, field, { setErrors, onError, onDone: load });
  const mine = a.claimedBy === viewer.subject;
  const evaluation = a.latestEvaluation;
  return html`<div class="columns two">
    <section class="panel">
      <p><a href="#/applications">← ${t("rv.queue")}</a></p>
      <h2>${a.brand.name} <span class=${"badge app-" + a.state}>${t("appState." + a.state)}</span></h2>
      <p class="muted">${a.brand.category.name}${a.claimedBy ? " · " + t("rv.heldBy", { who: a.claimedBy }) : ""}
        ${a.dueAt ? " · " + t("rv.dueAt", { at: fmtDateTime(a.dueAt) }) : ""}</p>
      <blockquote class="statement">${a.statement}</blockquote>
      <h3>${t("rv.scorecard")}</h3>
      ${evaluation
        ? html`<${Scorecard} evaluation=${evaluation} />`
        : html`<p class="muted">${t("rv.noEvaluation")}</p>`}
      <p class=${a.qualifications.complete ? "ok" : "warn"}>
        ${a.qualifications.complete ? t("rv.qualified") : t("rv.gaps", {
          gaps: a.qualifications.gaps.map((g) => `${g.kind} (${g.problem})`).join(", "),
        })}
      </p>
      <div class="actions">
        ${a.claimable && !mine && html`<button class="primary"
          onClick=${() => run(CLAIM_MUTATION, { id, version: a.version }, "claimApplication")}>${t("rv.claim")}</button>`}
        ${mine && html`<button class="secondary"
          onClick=${() => run(RELEASE_MUTATION, { id, version: a.version }, "releaseApplication")}>${t("rv.release")}</button>`}
      </div>
      ${errors.filter((e) => !(mine && FORM_FIELDS.includes(fieldOf(e))))
        .map((e) => html`<p class="error" role="alert">${e.message}</p>`)}
      ${mine && a.decisions.length > 0 && html`<${DecideForm} application=${a} errors=${errors}
        decide=${(input) => run(DECIDE_MUTATION, { input }, "decideApplication")} />`}
    </section>
    <section class="panel">
      <${Timeline} events=${a.events} />
    </section>
  </div>`;
}

/** An application's events, newest first. */
export function Timeline({ events }) {
  return html`<h3>${t("rv.timeline")}</h3>
    <ol class="timeline">${[...events].reverse().map((e) => html`<li>
      <div><strong>${t("action." + e.action)}</strong> <span class="muted small">${fmtDateTime(e.at)} · ${e.actor}</span></div>
      <div class="small">${e.fromState ? t("appState." + e.fromState) + " → " : ""}${t("appState." + e.toState)}
        ${e.reasonCodes.length ? " · " + e.reasonCodes.map((r) => t("reason." + r)).join("、") : ""}</div>
      ${e.note && html`<div class="small muted">${e.note}</div>`}
    </li>`)}</ol>`;
}

/** An evaluation's verdicts, one row per measure. */
export function Scorecard({ evaluation }) {
  return html`<div>
    <p class="muted small">${t("rv.evaluated", {
      asOf: evaluation.asOf, policy: evaluation.policyVersion, formulas: evaluation.formulaVersion,
    })}</p>
    <table class="list scorecard">
      <thead><tr>
        <th scope="col">${t("rv.measure")}</th><th scope="col">${t("rv.value")}</th>
        <th scope="col">${t("rv.threshold")}</th><th scope="col">${t("rv.margin")}</th>
        <th scope="col">${t("rv.percentile")}</th><th scope="col">${t("rv.result")}</th>
      </tr></thead>
      <tbody>${evaluation.verdicts.map((v) => {
        const fmt = (x) => (x == null ? "—" : v.measure === "DEEP_DISCOUNT_DAYS" ? fmtDecimal(x, 0) : fmtPercent(x, 2));
        return html`<tr class=${v.passed ? "" : "failed"}>
          <th scope="row">${t("measure." + v.measure)}
            <details><summary class="small">${t("rv.inputs")}</summary>
              <div class="small formula">${v.formula}</div>
              <ul class="small">${v.inputs.map((i) => html`<li>${i.name}: ${fmtDecimal(i.value, 4)}</li>`)}</ul>
              <div class="small muted">${v.periodFrom} – ${v.periodTo}</div>
            </details>
          </th>
          <td>${fmt(v.value)}${v.judgedOn === "WILSON_LOWER_BOUND_95"
            ? html`<div class="small muted">${t("rv.wilson", { value: fmt(v.judgedValue) })}</div>` : ""}
            ${v.undefinedReason && html`<div class="small warn">${v.undefinedReason}</div>`}</td>
          <td>${v.comparison === "AT_LEAST" ? "≥" : "≤"} ${fmt(v.threshold)}</td>
          <td>${v.margin == null ? "—" : (v.margin >= 0 ? "+" : "") + fmt(v.margin)}</td>
          <td>${v.categoryPercentile == null ? "—" : fmtPercent(v.categoryPercentile, 0)}</td>
          <td>${v.passed ? html`<span class="ok">✓ ${t("rv.passed")}</span>`
            : html`<span class="error">✗ ${t("rv.failed")}</span>${v.whatIf && html`<div class="small">${v.whatIf}</div>`}`}</td>
        </tr>`;
      })}</tbody>
    </table>
  </div>`;
}

function DecideForm({ application, errors, decide }) {
  const [decision, setDecision] = useState(application.decisions[0]);
  const [reasons, setReasons] = useState([]);
  const [note, setNote] = useState("");
  const [overrideNote, setOverrideNote] = useState("");
  const [days, setDays] = useState("");
  const errorOf = (name) => errorsOn(errors, name);
  const submit = (e) => {
    e.preventDefault();
    const whole = /^\d+$/.test(days.trim()) ? Number(days.trim()) : null;
    decide({
      applicationId: application.id,
      expectedVersion: application.version,
      decision,
      reasonCodes: reasons,
      note: note.trim() || null,
      overrideNote: overrideNote.trim() || null,
      probationDays: decision === "APPROVE_WITH_CONDITIONS" ? whole : null,
      infoDeadlineDays: decision === "REQUEST_INFO" ? whole : null,
    });
  };
  const fieldErrors = (name) => errorOf(name).map((e) => html`<p class="error field-error">${e.message}</p>`);
  const refusing = decision === "REJECT" || decision === "UPHOLD";
  return html`<form class="decide" onSubmit=${submit}>
    <h3>${t("rv.decide")}</h3>
    <div class="field">
      <label for="decision">${t("rv.decision")}</label>
      <select id="decision" value=${decision} onChange=${(e) => setDecision(e.target.value)}>
        ${application.decisions.map((d) => html`<option value=${d}>${t("decision." + d)}</option>`)}
      </select>
      ${fieldErrors("decision")}
    </div>
    ${refusing && html`<div class=${"field" + (errorOf("reasonCodes").length ? " invalid" : "")} data-field="reasonCodes">
      <label>${t("rv.reasons")}</label>
      <div class="chips">${REASONS.map((r) => html`<label class="chip">
        <input type="checkbox" checked=${reasons.includes(r)}
          onChange=${() => setReasons(reasons.includes(r) ? reasons.filter((x) => x !== r) : [...reasons, r])} />
        ${t("reason." + r)}</label>`)}</div>
      ${fieldErrors("reasonCodes")}
    </div>`}
    <div class=${"field" + (errorOf("note").length ? " invalid" : "")} data-field="note">
      <label for="note">${t("rv.note." + decision)}</label>
      <textarea id="note" rows="3" value=${note} onInput=${(e) => setNote(e.target.value)}></textarea>
      ${fieldErrors("note")}
    </div>
    ${refusing && html`<div class="field" data-field="overrideNote">
      <label for="override">${t("rv.overrideNote")}</label>
      <textarea id="override" rows="2" value=${overrideNote} onInput=${(e) => setOverrideNote(e.target.value)}></textarea>
      ${fieldErrors("overrideNote")}
    </div>`}
    ${(decision === "APPROVE_WITH_CONDITIONS" || decision === "REQUEST_INFO") && html`<div class="field"
        data-field=${decision === "REQUEST_INFO" ? "infoDeadlineDays" : "probationDays"}>
      <label for="days">${decision === "REQUEST_INFO" ? t("rv.infoDays") : t("rv.probationDays")}</label>
      <input id="days" type="number" value=${days} onInput=${(e) => setDays(e.target.value)} />
      ${fieldErrors(decision === "REQUEST_INFO" ? "infoDeadlineDays" : "probationDays")}
    </div>`}
    <button class="primary" type="submit">${t("rv.submitDecision")}</button>
  </form>`;
}

/** What the at-risk table reads of an AtRiskBrand. */
export const AT_RISK_FIELDS = `brand { id name category { name } }
    policyVersion
    failing { measure value threshold comparison margin whatIf }`;

const AT_RISK_QUERY = `query AtRiskBrands {
  atRiskBrands { ${AT_RISK_FIELDS} }
}`;

/** Admitted brands that fail the policy in force today. */
export function AtRiskView({ onError }) {
  const [rows, setRows] = useState(null);
  useEffect(() => {
    gql(AT_RISK_QUERY).then((d) => { setRows(d.atRiskBrands); markReady(); }).catch(onError);
  }, []);
  if (!rows) return html`<p class="muted">${t("app.loading")}</p>`;
  return html`<section class="panel">
    <h2>${t("risk.title")}</h2>
    <p class="muted small">${t("risk.help")}</p>
    ${rows.length === 0 ? html`<p class="muted">${t("risk.none")}</p>` : html`<${AtRiskTable} rows=${rows} />`}
  </section>`;
}

/** Brands with the measures they fail: value, threshold and what it would take. */
export function AtRiskTable({ rows }) {
  return html`<table class="list at-risk">
    <thead><tr><th scope="col">${t("rv.brand")}</th><th scope="col">${t("rv.category")}</th>
      <th scope="col">${t("risk.failing")}</th></tr></thead>
    <tbody>${rows.map((r) => html`<tr data-brand=${r.brand.id}>
      <td>${r.brand.name}</td><td>${r.brand.category.name}</td>
      <td><ul class="plain">${r.failing.map((v) => html`<li>
        <strong>${t("measure." + v.measure)}</strong> ${v.value == null ? "—" : fmtDecimal(v.value, 4)}
        ${v.comparison === "AT_LEAST" ? " ≥ " : " ≤ "}${fmtDecimal(v.threshold, 4)}
        ${v.whatIf && html`<div class="small muted">${v.whatIf}</div>`}
      </li>`)}</ul></td>
    </tr>`)}</tbody>
  </table>`;
}
