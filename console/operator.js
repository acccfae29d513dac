// The store operator's view: the brand's benefits by state with their
// budgets, one benefit's detail (definition, reach preview, lifecycle
// steps, events), and the form that creates or edits any kind, showing
// the API's userErrors on the field they name.

import { html, useEffect, useState } from "./vendor/preact-htm.module.js";
import { gql, markReady, mutate } from "./api.js";
import { Columns } from "./charts.js";
import {
  addDays, fmtDateTime, fmtDay, fmtInt, fmtMoney, fmtPercent, shanghaiLocal, shanghaiToday, t, valueLabel,
} from "./i18n.js";

const STATES = ["DRAFT", "PENDING_REVIEW", "REJECTED", "APPROVED", "ACTIVE", "PAUSED", "ENDED", "RETIRED"];
/** The growth tiers, lowest first. */
export const TIERS = ["BRONZE", "SILVER", "GOLD", "PLATINUM", "DIAMOND", "BLACK_DIAMOND"];
/** The interest codes, in the contract's order. */
export const INTERESTS = ["BEAUTY", "FASHION", "SPORTS", "OUTDOOR", "DIGITAL", "HOME", "MOTHER_BABY", "PETS",
  "FOOD", "TRAVEL", "BOOKS", "GAMING", "LUXURY", "HEALTH"];
/** The age bands, youngest first. */
export const AGE_BANDS = ["AGE_UNDER_25", "AGE_25_29", "AGE_30_34", "AGE_35_39", "AGE_40_49", "AGE_50_PLUS"];
/** The city tiers, largest first. */
export const CITY_TIERS = ["TIER1", "NEW_TIER1", "TIER2", "TIER3", "TIER4", "TIER5"];
const MODES = ["EXCLUSIVE", "COMBINABLE", "BEST_OF"];

/**
 * Each kind's input field and its parameters as [name, type]: the shapes
 * of `BenefitKindInput`. Types: int, money (entered in yuan, sent in fen),
 * text, lines (one per line), datetime (Asia/Shanghai), interests,
 * prices ("SKU, yuan" per line).
 */
const KINDS = {
  PERCENT_OFF: ["percentOff", [["percent", "int"]]],
  FIXED_COUPON: ["fixedCoupon", [["amountCents", "money"], ["thresholdCents", "money"]]],
  FREE_RETURN_SHIPPING: ["freeReturnShipping", []],
  BIRTHDAY_GIFT: ["birthdayGift", [["gift", "text"], ["daysBefore", "int"], ["daysAfter", "int"]]],
  INTEREST_SERVICE: ["interestService", [["service", "text"], ["interests", "interests"]]],
  OFFLINE_EXPERIENCE: ["offlineExperience", [["title", "text"], ["locations", "lines"],
    ["slotStart", "datetime"], ["slotEnd", "datetime"], ["capacity", "int"]]],
  EARLY_ACCESS: ["earlyAccess", [["hoursEarly", "int"], ["skus", "lines"], ["publicAt", "datetime"]]],
  POINTS_MULTIPLIER: ["pointsMultiplier", [["multiplierTenths", "int"]]],
  MEMBER_PRICE: ["memberPrice", [["prices", "prices"]]],
  ORDER_REBATE: ["orderRebate", [["nthOrder", "int"], ["periodDays", "int"], ["amountCents", "money"]]],
};
const BUDGET_FIELDS = [["totalRedemptions", "int"], ["perMember", "int"], ["perMemberPerDay", "int"],
  ["perMemberPerYear", "int"], ["totalMoneyCents", "money"]];

/** A benefit definition's fields, as the views read them. */
export const DEFINITION = `name description kind value parameters
    targeting { minTier paidMember blackCard interests ageBands cityTiers }
    stacking { mode combinesWith priority }
    upgrade { minTier paidMember blackCard value }
    schedule { startsAt endsAt }
    budget { totalRedemptions perMember perMemberPerDay perMemberPerYear totalMoneyCents }`;

const BENEFITS_QUERY = `query Benefits($states: [BenefitState!], $after: String) {
  benefits(first: 50, after: $after, states: $states) {
    nodes {
      id state redemptions spentCents revisionPending
      definition { name kind budget { totalRedemptions totalMoneyCents } }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

const BENEFIT_QUERY = `query Benefit($id: ID!) {
  benefit(id: $id) {
    id state version redemptions spentCents revisionPending transitions editable
    createdAt activatedAt
    definition { ${DEFINITION} }
    events { at actor action fromState toState note }
  }
}`;

const REACH_QUERY = `query BenefitReach($id: ID!) {
  benefitReachPreview(benefitId: $id) {
    shownMembers
    privacy { epsilonSpent countInterval95 suppressedCells }
  }
}`;

const DAYS_QUERY = `query BenefitRedemptionsByDay($id: ID!, $from: Date!) {
  benefitRedemptionsByDay(benefitId: $id, from: $from, days: 30) { date redemptions spentCents }
}`;
const USAGE_QUERY = `query BenefitUsage($id: ID!) {
  benefitUsage(benefitId: $id) {
    redemptions uniqueRedeemers spentCents measure usageRate policyMinUsageRate periodDays soldOut
    flaggedAt pausesAt policyPausedAt retiresAt graceUntil
  }
}`;

const STACKING_QUERY = `query Stacking($includeDrafts: Boolean!) {
  benefitCellAnalysis(includeDrafts: $includeDrafts) {
    cells {
      tier paidMember blackCard
      applied { benefitId value upgraded }
      overridden { benefitId by reason }
      conflicts { kept lost reason }
    }
    dead { benefitId reason }
    losingCells { benefitId by lower { tier paidMember blackCard } higher { tier paidMember blackCard } }
  }
}`;
const NAMES_QUERY = `query BenefitNames($states: [BenefitState!], $after: String) {
  benefits(first: 100, after: $after, states: $states) {
    nodes { id state definition { name } } pageInfo { hasNextPage endCursor }
  }
}`;

/** Every benefit of the brand in `states` (all when null), page by page: id, state and name. */
export async function allBenefits(states = null) {
  const all = [];
  for (let after = null; ;) {
    const page = (await gql(NAMES_QUERY, { states, after })).benefits;
    all.push(...page.nodes);
    if (!page.pageInfo.hasNextPage) return all;
    after = page.pageInfo.endCursor;
  }
}

/** A lookup from benefit id to name ("#id" for one not listed). */
export function namer(benefits) {
  const names = Object.fromEntries(benefits.map((b) => [b.id, b.definition.name]));
  return (id) => names[id] ?? "#" + id;
}

const PAYLOAD = `benefit { id state version } userErrors { field message code }`;
const CREATE_MUTATION = `mutation CreateBenefit($input: BenefitInput!) {
  createBenefit(input: $input) { ${PAYLOAD} }
}`;
const EDIT_MUTATION = `mutation EditBenefit($id: ID!, $version: Int!, $input: BenefitInput!) {
  editBenefit(benefitId: $id, expectedVersion: $version, input: $input) { ${PAYLOAD} }
}`;
const TRANSITION_MUTATION = `mutation TransitionBenefit($id: ID!, $version: Int!, $action: BenefitTransition!) {
  transitionBenefit(benefitId: $id, expectedVersion: $version, action: $action) { ${PAYLOAD} }
}`;

/** The operator's page: list, detail or form, by the route's tail. */
export function OperatorView({ onError, path, go }) {
  const [, id] = path;
  if (id === "new") return html`<${BenefitForm} onError=${onError} go=${go} />`;
  if (id && path[2] === "edit") return html`<${BenefitForm} id=${id} onError=${onError} go=${go} />`;
  if (id) return html`<${BenefitDetail} id=${id} onError=${onError} go=${go} />`;
  return html`<${BenefitList} onError=${onError} go=${go} />`;
}

function BenefitList({ onError, go }) {
  const [states, setStates] = useState([]);
  const [benefits, setBenefits] = useState(null);
  const [next, setNext] = useState(null);
  const load = (after, shown) => gql(BENEFITS_QUERY, { states: states.length ? states : null, after })
    .then((d) => {
      setBenefits([...shown, ...d.benefits.nodes]);
      setNext(d.benefits.pageInfo.hasNextPage ? d.benefits.pageInfo.endCursor : null);
      markReady();
    })
    .catch(onError);
  useEffect(() => { load(null, []); }, [states]);
  const toggle = (s) => setStates(states.includes(s) ? states.filter((x) => x !== s) : [...states, s]);
  return html`<section class="panel">
    <div class="toolbar">
      <h2>${t("op.benefits")}</h2>
      <button class="primary" onClick=${() => go("benefits/new")}>${t("op.new")}</button>
    </div>
    <div class="chips" role="group" aria-label=${t("op.state")}>
      ${STATES.map((s) => html`<label class="chip">
        <input type="checkbox" checked=${states.includes(s)} onChange=${() => toggle(s)} />${t("state." + s)}
      </label>`)}
    </div>
    ${benefits && (benefits.length === 0
      ? html`<p class="muted">${t("op.none")}</p>`
      : html`<table class="list">
        <thead><tr>
          <th scope="col">${t("field.name")}</th><th scope="col">${t("op.kind")}</th>
          <th scope="col">${t("op.state")}</th><th scope="col">${t("op.redemptions")}</th>
          <th scope="col">${t("op.spent")}</th>
        </tr></thead>
        <tbody>${benefits.map((b) => html`<tr>
          <td><a href=${"#/benefits/" + b.id}>${b.definition.name}</a></td>
          <td>${t("kind." + b.definition.kind)}</td>
          <td><span class=${"badge state-" + b.state}>${t("state." + b.state)}</span>
            ${b.revisionPending ? html` <small class="muted">${t("op.revisionPending")}</small>` : ""}</td>
          <td><${Usage} used=${b.redemptions} limit=${b.definition.budget.totalRedemptions} format=${fmtInt} /></td>
          <td><${Usage} used=${b.spentCents} limit=${b.definition.budget.totalMoneyCents} format=${fmtMoney} /></td>
        </tr>`)}</tbody>
      </table>`)}
    ${next && html`<button class="secondary" onClick=${() => load(next, benefits)}>${t("op.more")}</button>`}
  </section>`;
}

/** Used of a budget: a bar when the budget bounds it, the figure always. */
function Usage({ used, limit, format }) {
  if (limit == null) return html`<span>${format(used)}</span>`;
  const fraction = limit > 0 ? Math.min(1, used / limit) : 1;
  return html`<div class="usage" title=${fmtPercent(fraction)}>
    <span>${format(used)} / ${format(limit)}</span>
    <div class="gauge-track"><div class="gauge-fill" style=${{ width: fraction * 100 + "%" }}></div></div>
  </div>`;
}

function BenefitDetail({ id, onError, go }) {
  const [benefit, setBenefit] = useState(null);
  const [reach, setReach] = useState(null);
  const [stepErrors, setStepErrors] = useState([]);
  const load = () => gql(BENEFIT_QUERY, { id }).then((d) => setBenefit(d.benefit)).catch(onError);
  useEffect(() => { load(); }, [id]);
  if (!benefit) return html`<p class="muted">${t("app.loading")}</p>`;
  const d = benefit.definition;
  const step = (action) => mutate(TRANSITION_MUTATION, { id, version: benefit.version, action }, "transitionBenefit", {
    setErrors: setStepErrors, onError, onDone: load,
  });
  const preview = () => gql(REACH_QUERY, { id })
    .then((r) => setReach(r.benefitReachPreview))
    .catch((e) => setReach({ error: e.message }));
  return html`<div class="columns two">
    <section class="panel">
      <p><a href="#/benefits">← ${t("op.benefits")}</a></p>
      <h2>${d.name} <span class=${"badge state-" + benefit.state}>${t("state." + benefit.state)}</span></h2>
      ${d.description && html`<p>${d.description}</p>`}
      <dl class="facts">
        <dt>${t("op.kind")}</dt><dd>${t("kind." + d.kind)} ${paramsText(d)}</dd>
        <dt>${t("op.targeting")}</dt><dd>${targetingText(d.targeting)}</dd>
        <dt>${t("op.stacking")}</dt><dd>${t("mode." + d.stacking.mode)} · ${t("field.priority")} ${d.stacking.priority}
          ${d.stacking.combinesWith.length > 0 ? " · " + d.stacking.combinesWith.map((k) => t("kind." + k)).join("、") : ""}</dd>
        <dt>${t("op.schedule")}</dt><dd>${fmtDateTime(d.schedule.startsAt)} – ${d.schedule.endsAt ? fmtDateTime(d.schedule.endsAt) : "∞"}</dd>
        <dt>${t("op.redemptions")}</dt><dd><${Usage} used=${benefit.redemptions} limit=${d.budget.totalRedemptions} format=${fmtInt} /></dd>
        <dt>${t("op.spent")}</dt><dd><${Usage} used=${benefit.spentCents} limit=${d.budget.totalMoneyCents} format=${fmtMoney} /></dd>
      </dl>
      <div class="actions">
        ${benefit.editable && html`<button class="secondary" onClick=${() => go(`benefits/${id}/edit`)}>${t("op.edit")}</button>`}
        ${benefit.transitions.map((a) => html`<button class=${a === "SUBMIT" ? "primary" : "secondary"}
          onClick=${() => step(a)}>${t("transition." + a)}</button>`)}
      </div>
      ${stepErrors.map((e) => html`<p class="error" role="alert">${e.message}</p>`)}
    </section>
    <section class="panel">
      <h3>${t("op.reach")}</h3>
      <p class="muted small">${t("op.reachHelp")}</p>
      <button class="secondary" onClick=${preview}>${t("op.preview")}</button>
      ${reach && (reach.error
        ? html`<p class="error">${reach.error}</p>`
        : html`<p class="reach">${t("op.reachResult", {
            members: fmtInt(reach.shownMembers), interval: fmtInt(reach.privacy.countInterval95),
          })}</p>`)}
      <${RedemptionDays} id=${id} />
      <${UsageView} id=${id} />
      <h3>${t("op.events")}</h3>
      <ol class="timeline">${benefit.events.map((e) => html`<li>
        <div><strong>${t("event." + e.action)}</strong> <span class="muted small">${fmtDateTime(e.at)} · ${e.actor}</span></div>
        <div class="small">${t("state." + e.fromState)} → ${t("state." + e.toState)}${e.note ? " · " + e.note : ""}</div>
      </li>`)}</ol>
    </section>
  </div>`;
}

/** Its redemptions per Shanghai day over the last 30 days. */
function RedemptionDays({ id }) {
  const [days, setDays] = useState(null);
  useEffect(() => {
    let current = true;
    gql(DAYS_QUERY, { id, from: addDays(shanghaiToday(), -29) })
      .then((d) => current && setDays(d.benefitRedemptionsByDay))
      .catch((e) => current && setDays({ error: e.message }));
    return () => { current = false; };
  }, [id]);
  if (!days) return null;
  if (days.error) return html`<p class="error">${days.error}</p>`;
  const sum = (key) => days.reduce((total, d) => total + d[key], 0);
  return html`<div class="redemption-days">
    <h3>${t("op.overTime")}</h3>
    <${Columns} title=${t("op.overTime")} format=${fmtInt}
      points=${days.map((d) => ({ label: fmtDay(d.date), value: d.redemptions }))} />
    <p class="muted small">${t("op.overTimeTotal", { n: fmtInt(sum("redemptions")), money: fmtMoney(sum("spentCents")) })}</p>
  </div>`;
}

/**
 * Its usage against the usage policy, with the dates the policy acts on;
 * asked for, as the rates leave through the privacy engine.
 */
function UsageView({ id }) {
  const [usage, setUsage] = useState(null);
  const load = () => gql(USAGE_QUERY, { id })
    .then((d) => setUsage(d.benefitUsage))
    .catch((e) => setUsage({ error: e.message }));
  if (!usage) return html`<h3>${t("op.usage")}</h3>
    <button class="secondary" onClick=${load}>${t("op.showUsage")}</button>`;
  if (usage.error) return html`<h3>${t("op.usage")}</h3><p class="error">${usage.error}</p>`;
  const warnings = [
    ["flaggedAt", usage.flaggedAt], ["pausesAt", usage.pausesAt], ["policyPausedAt", usage.policyPausedAt],
    ["retiresAt", usage.retiresAt], ["graceUntil", usage.graceUntil],
  ].filter(([, at]) => at);
  const low = usage.usageRate != null && usage.usageRate < usage.policyMinUsageRate;
  return html`<div class="usage-report">
    <h3>${t("op.usage")}</h3>
    <dl class="facts">
      <dt>${t("op.usageRate")}</dt>
      <dd class=${low ? "error" : ""}>${usage.usageRate == null ? t("op.usageHidden") : fmtPercent(usage.usageRate)}
        · ${t("op.usageFloor", { rate: fmtPercent(usage.policyMinUsageRate), days: usage.periodDays })}</dd>
      <dt>${t("op.redemptions")}</dt><dd>${fmtInt(usage.redemptions)} · ${t("op.members", { n: fmtInt(usage.uniqueRedeemers) })}</dd>
      ${usage.soldOut && html`<dt></dt><dd>${t("op.soldOut")}</dd>`}
      ${warnings.map(([key, at]) => html`<dt>${t("op." + key)}</dt><dd class="warn">${fmtDateTime(at)}</dd>`)}
    </dl>
  </div>`;
}

/** The stacking matrix: what each programme cell gets, and what loses. */
export function StackingView({ onError }) {
  const [includeDrafts, setIncludeDrafts] = useState(false);
  const [data, setData] = useState(null);
  useEffect(() => {
    Promise.all([gql(STACKING_QUERY, { includeDrafts }), allBenefits()])
      .then(([d, benefits]) => setData({ ...d, name: namer(benefits) }))
      .catch(onError);
  }, [includeDrafts]);
  if (!data) return html`<p class="muted">${t("app.loading")}</p>`;
  const a = data.benefitCellAnalysis;
  const { name } = data;
  const columns = [[false, false], [true, false], [false, true], [true, true]]
    .filter(([paid, black]) => a.cells.some((c) => c.paidMember === paid && c.blackCard === black));
  const most = Math.max(1, ...a.cells.map((c) => c.applied.length));
  const losing = (c) => a.losingCells.some((l) => l.higher.tier === c.tier
    && l.higher.paidMember === c.paidMember && l.higher.blackCard === c.blackCard);
  return html`<section class="panel">
    <div class="toolbar">
      <h2>${t("st.title")}</h2>
      <label><input type="checkbox" checked=${includeDrafts} onChange=${() => setIncludeDrafts(!includeDrafts)} />
        ${t("st.includeDrafts")}</label>
    </div>
    <p class="muted small">${t("st.help")}</p>
    <div class="matrix-scroll"><table class="matrix">
      <thead><tr><th scope="col">${t("dim.GROWTH_TIER")}</th>
        ${columns.map(([paid, black]) => html`<th scope="col">${t(black ? (paid ? "st.paidBlack" : "st.black") : paid ? "st.paid" : "st.free")}</th>`)}
      </tr></thead>
      <tbody>${TIERS.map((tier) => html`<tr>
        <th scope="row">${valueLabel(tier)}</th>
        ${columns.map(([paid, black]) => {
          const c = a.cells.find((c) => c.tier === tier && c.paidMember === paid && c.blackCard === black);
          if (!c) return html`<td class="muted">—</td>`;
          const strength = c.applied.length / most;
          return html`<td class=${"matrix-cell" + (c.conflicts.length ? " conflict" : "") + (losing(c) ? " losing" : "")}
              style=${{ background: `hsl(218, 70%, ${96 - strength * 30}%)` }}
              data-cell=${`${tier}/${paid}/${black}`}>
            ${c.applied.map((b) => html`<div>${name(b.benefitId)}${b.upgraded ? " ↑" : ""}</div>`)}
            ${c.overridden.map((b) => html`<div class="muted small"><s>${name(b.benefitId)}</s></div>`)}
            ${c.conflicts.length > 0 && html`<div class="small error">⚠ ${t("st.conflicts", { n: c.conflicts.length })}</div>`}
            ${losing(c) && html`<div class="small warn">↓ ${t("st.losing")}</div>`}
          </td>`;
        })}
      </tr>`)}</tbody>
    </table></div>
    ${a.dead.length > 0 && html`<h3>${t("st.dead")}</h3>
      <ul>${a.dead.map((d) => html`<li>${name(d.benefitId)}: ${t("dead." + d.reason)}</li>`)}</ul>`}
    ${a.losingCells.length > 0 && html`<h3>${t("br.losing")}</h3>
      <ul>${a.losingCells.map((l) => html`<li>${t("br.losingCell", {
        higher: cellText(l.higher), lower: cellText(l.lower), benefit: name(l.benefitId),
      })}</li>`)}</ul>`}
  </section>`;
}

/** A programme cell in words: tier, paid, black card. */
export function cellText(c) {
  return [valueLabel(c.tier), c.paidMember ? t("dim.PAID_MEMBER") : null, c.blackCard ? t("dim.BLACK_CARD") : null]
    .filter(Boolean).join(" · ");
}

/** The kind's parameters, as entered, in a line. */
export function paramsText(d) {
  const [, fields] = KINDS[d.kind];
  const params = d.parameters || {};
  return fields.map(([name, type]) => {
    const value = params[snake(name)] ?? params[name];
    if (value == null) return "";
    const shown = type === "money" ? fmtMoney(value)
      : type === "interests" ? value.map(valueLabel).join("、")
      : type === "prices" ? value.length + " SKU"
      : Array.isArray(value) ? value.join("、") : String(value);
    return ` · ${t("field." + name)} ${shown}`;
  }).join("");
}

/** Whom it targets, in a line. */
export function targetingText(g) {
  const parts = [];
  if (g.minTier) parts.push(t("field.minTier") + " " + valueLabel(g.minTier));
  if (g.paidMember != null) parts.push(t("dim.PAID_MEMBER") + " " + valueLabel(g.paidMember ? "YES" : "NO"));
  if (g.blackCard != null) parts.push(t("dim.BLACK_CARD") + " " + valueLabel(g.blackCard ? "YES" : "NO"));
  for (const list of [g.interests, g.ageBands, g.cityTiers]) {
    if (list.length) parts.push(list.map(valueLabel).join("、"));
  }
  return parts.length ? parts.join(" · ") : t("op.everyone");
}

const snake = (name) => name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());

/** Yuan typed by a person ("29.9") as integer fen, or null when it isn't one. */
export function toFen(text) {
  const m = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text);
  return m ? Number(m[1]) * 100 + Number((m[2] || "0").padEnd(2, "0")) : null;
}
const fromFen = (fen) => (fen == null ? "" : (fen / 100).toFixed(2).replace(/\.00$/, ""));

/** The form's values, flat and keyed by the input path userErrors name. */
function blankForm() {
  const start = new Date(Date.now() + 86400000);
  return {
    kind: "PERCENT_OFF", name: "", description: "",
    "targeting.minTier": "", "targeting.paidMember": "", "targeting.blackCard": "",
    "targeting.interests": [], "targeting.ageBands": [], "targeting.cityTiers": [],
    "stacking.mode": "EXCLUSIVE", "stacking.combinesWith": [], "stacking.priority": "0",
    "schedule.startsAt": shanghaiLocal(start.toISOString()).slice(0, 11) + "00:00:00",
    "schedule.endsAt": "",
    upgrading: false, "upgrade.minTier": "", "upgrade.paidMember": false, "upgrade.blackCard": false,
    "upgrade.value": "",
  };
}

/** A saved benefit's definition as the form's values. */
function formOf(d) {
  const form = {
    ...blankForm(), kind: d.kind, name: d.name, description: d.description || "",
    "targeting.minTier": d.targeting.minTier || "",
    "targeting.paidMember": d.targeting.paidMember == null ? "" : String(d.targeting.paidMember),
    "targeting.blackCard": d.targeting.blackCard == null ? "" : String(d.targeting.blackCard),
    "targeting.interests": d.targeting.interests, "targeting.ageBands": d.targeting.ageBands,
    "targeting.cityTiers": d.targeting.cityTiers,
    "stacking.mode": d.stacking.mode, "stacking.combinesWith": d.stacking.combinesWith,
    "stacking.priority": String(d.stacking.priority),
    "schedule.startsAt": shanghaiLocal(d.schedule.startsAt), "schedule.endsAt": shanghaiLocal(d.schedule.endsAt),
    upgrading: Boolean(d.upgrade), "upgrade.minTier": d.upgrade?.minTier || "",
    "upgrade.paidMember": Boolean(d.upgrade?.paidMember), "upgrade.blackCard": Boolean(d.upgrade?.blackCard),
    "upgrade.value": d.upgrade ? String(d.upgrade.value) : "",
  };
  for (const [name, type] of BUDGET_FIELDS) {
    const v = d.budget[name];
    form["budget." + name] = v == null ? "" : type === "money" ? fromFen(v) : String(v);
  }
  const [input, fields] = KINDS[d.kind];
  for (const [name, type] of fields) {
    const v = (d.parameters || {})[snake(name)] ?? (d.parameters || {})[name];
    const key = `kind.${input}.${name}`;
    form[key] = type === "money" ? fromFen(v)
      : type === "lines" ? (v || []).join("\n")
      : type === "datetime" ? shanghaiLocal(v)
      : type === "interests" ? v || []
      : type === "prices" ? (v || []).map((p) => `${p.sku}, ${fromFen(p.price_cents ?? p.priceCents)}`).join("\n")
      : v == null ? "" : String(v);
  }
  return form;
}

/**
 * The form as `BenefitInput`, or the fields a person typed that can't be
 * sent (a money amount that isn't one, say) as [path, message] pairs.
 */
function toInput(form) {
  const problems = [];
  const value = (key, type) => {
    const raw = form[key];
    if (type === "interests") return raw || [];
    if (type === "lines") return String(raw || "").split("\n").map((l) => l.trim()).filter(Boolean);
    const text = String(raw ?? "").trim();
    if (text === "") return undefined;
    if (type === "int") {
      if (!/^-?\d+$/.test(text)) { problems.push([key, t("op.wholeNumber")]); return undefined; }
      return Number(text);
    }
    if (type === "money") {
      const fen = toFen(text);
      if (fen == null) problems.push([key, t("op.money")]);
      return fen ?? undefined;
    }
    if (type === "datetime") return text.length === 16 ? text + ":00" : text;
    if (type === "prices") {
      return text.split("\n").map((l) => l.trim()).filter(Boolean).map((line) => {
        const [sku, price] = line.split(/[,，]/).map((p) => p.trim());
        const fen = toFen(price || "");
        if (fen == null) problems.push([key, t("op.priceLine", { line })]);
        return { sku, priceCents: fen ?? 0 };
      });
    }
    return text;
  };
  const [inputName, fields] = KINDS[form.kind];
  let kind;
  if (fields.length === 0) kind = { [inputName]: true };
  else {
    kind = { [inputName]: {} };
    for (const [name, type] of fields) kind[inputName][name] = value(`kind.${inputName}.${name}`, type);
  }
  const tri = (key) => (form[key] === "" ? null : form[key] === "true");
  const budget = {};
  for (const [name, type] of BUDGET_FIELDS) budget[name] = value("budget." + name, type);
  const input = {
    name: form.name.trim(),
    description: form.description.trim() || null,
    kind,
    targeting: {
      minTier: form["targeting.minTier"] || null,
      paidMember: tri("targeting.paidMember"),
      blackCard: tri("targeting.blackCard"),
      interests: form["targeting.interests"],
      ageBands: form["targeting.ageBands"],
      cityTiers: form["targeting.cityTiers"],
    },
    stacking: {
      mode: form["stacking.mode"],
      combinesWith: form["stacking.combinesWith"],
      priority: value("stacking.priority", "int") ?? 0,
    },
    schedule: {
      startsAt: value("schedule.startsAt", "datetime"),
      endsAt: value("schedule.endsAt", "datetime") ?? null,
    },
    upgrade: form.upgrading ? {
      minTier: form["upgrade.minTier"] || null,
      paidMember: form["upgrade.paidMember"],
      blackCard: form["upgrade.blackCard"],
      value: value("upgrade.value", "int"),
    } : null,
    budget,
  };
  return { input, problems };
}

function BenefitForm({ id, onError, go }) {
  const [form, setForm] = useState(id ? null : blankForm());
  const [version, setVersion] = useState(null);
  const [errors, setErrors] = useState([]);
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    if (!id) return;
    gql(BENEFIT_QUERY, { id }).then((d) => {
      setForm(formOf(d.benefit.definition));
      setVersion(d.benefit.version);
    }).catch(onError);
  }, [id]);
  if (!form) return html`<p class="muted">${t("app.loading")}</p>`;
  const set = (key, value) => setForm({ ...form, [key]: value });
  const errorOf = (key) => errors.filter(([path]) => path === key).map(([, m]) => m);
  const known = new Set(Object.keys(form));
  const [inputName, kindFields] = KINDS[form.kind];
  kindFields.forEach(([name]) => known.add(`kind.${inputName}.${name}`));
  BUDGET_FIELDS.forEach(([name]) => known.add("budget." + name));
  const unplaced = errors.filter(([path]) => !known.has(path));

  const save = async (e) => {
    e.preventDefault();
    const { input, problems } = toInput(form);
    if (problems.length) { setErrors(problems); return; }
    setSaving(true);
    try {
      const r = id
        ? (await gql(EDIT_MUTATION, { id, version, input })).editBenefit
        : (await gql(CREATE_MUTATION, { input })).createBenefit;
      const found = r.userErrors.map((u) => [u.field.slice(u.field[0] === "input" ? 1 : 0).join("."), u.message]);
      setErrors(found);
      if (found.length === 0) go("benefits/" + r.benefit.id);
    } catch (e) {
      onError(e);
    } finally {
      setSaving(false);
    }
  };

  const field = (key, label, control) => html`<div class=${"field" + (errorOf(key).length ? " invalid" : "")} data-field=${key}>
    <label for=${"f-" + key}>${label}</label>
    ${control}
    ${errorOf(key).map((m) => html`<p class="error field-error" id=${"e-" + key}>${m}</p>`)}
  </div>`;
  const input = (key, label, type = "text") => field(key, label, html`<input id=${"f-" + key} type=${type}
    step=${type === "datetime-local" ? 1 : null} value=${form[key] ?? ""} aria-invalid=${errorOf(key).length > 0}
    aria-describedby=${errorOf(key).length ? "e-" + key : null}
    onInput=${(e) => set(key, e.target.value)} />`);
  const area = (key, label, hint) => field(key, label, html`<textarea id=${"f-" + key} rows="3" placeholder=${hint}
    value=${form[key] ?? ""} onInput=${(e) => set(key, e.target.value)}></textarea>`);
  const chips = (key, label, codes, text = valueLabel) => field(key, label, html`<div class="chips" id=${"f-" + key}>
    ${codes.map((c) => html`<label class="chip"><input type="checkbox" checked=${(form[key] || []).includes(c)}
      onChange=${() => set(key, (form[key] || []).includes(c) ? form[key].filter((x) => x !== c) : [...(form[key] || []), c])} />
      ${text(c)}</label>`)}
  </div>`);
  const select = (key, label, options) => field(key, label, html`<select id=${"f-" + key} value=${form[key]}
    onChange=${(e) => set(key, e.target.value)}>
    ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
  </select>`);
  const typed = (key, name, type) => {
    const label = t("field." + name);
    if (type === "int") return input(key, label, "number");
    if (type === "money") return input(key, label + " (¥)");
    if (type === "datetime") return input(key, label + " " + t("op.shanghai"), "datetime-local");
    if (type === "lines") return area(key, label, t("op.onePerLine"));
    if (type === "prices") return area(key, label, "SKU-001, 199");
    if (type === "interests") return chips(key, label, INTERESTS);
    return input(key, label);
  };
  const anyYesNo = [["", t("op.either")], ["true", valueLabel("YES")], ["false", valueLabel("NO")]];

  return html`<form class="panel benefit-form" onSubmit=${save} novalidate>
    <p><a href=${id ? "#/benefits/" + id : "#/benefits"}>← ${t("op.back")}</a></p>
    <h2>${id ? t("op.edit") : t("op.new")}</h2>
    ${unplaced.map(([, m]) => html`<p class="error" role="alert">${m}</p>`)}
    <div class="form-grid">
      <fieldset>
        <legend>${t("op.basics")}</legend>
        ${input("name", t("field.name"))}
        ${input("description", t("field.description"))}
        ${select("kind", t("op.kind"), Object.keys(KINDS).map((k) => [k, t("kind." + k)]))}
        ${kindFields.map(([name, type]) => typed(`kind.${inputName}.${name}`, name, type))}
      </fieldset>
      <fieldset>
        <legend>${t("op.targeting")}</legend>
        ${select("targeting.minTier", t("field.minTier"), [["", t("op.anyTier")], ...TIERS.map((c) => [c, valueLabel(c)])])}
        ${select("targeting.paidMember", t("dim.PAID_MEMBER"), anyYesNo)}
        ${select("targeting.blackCard", t("dim.BLACK_CARD"), anyYesNo)}
        ${form.kind !== "INTEREST_SERVICE" && chips("targeting.interests", t("dim.INTEREST"), INTERESTS)}
        ${chips("targeting.ageBands", t("dim.AGE_BAND"), AGE_BANDS)}
        ${chips("targeting.cityTiers", t("dim.CITY_TIER"), CITY_TIERS)}
      </fieldset>
      <fieldset>
        <legend>${t("op.stacking")}</legend>
        ${select("stacking.mode", t("field.mode"), MODES.map((m) => [m, t("mode." + m)]))}
        ${chips("stacking.combinesWith", t("field.combinesWith"), Object.keys(KINDS), (k) => t("kind." + k))}
        ${input("stacking.priority", t("field.priority"), "number")}
        <legend>${t("op.schedule")}</legend>
        ${input("schedule.startsAt", t("field.startsAt") + " " + t("op.shanghai"), "datetime-local")}
        ${input("schedule.endsAt", t("field.endsAt") + " " + t("op.shanghai"), "datetime-local")}
      </fieldset>
      <fieldset>
        <legend>${t("op.budget")}</legend>
        ${BUDGET_FIELDS.map(([name, type]) => typed("budget." + name, name, type))}
        <legend>${t("op.upgrade")}</legend>
        <label class="choice"><input type="checkbox" id="f-upgrading" checked=${form.upgrading}
          onChange=${() => set("upgrading", !form.upgrading)} /> ${t("op.upgradeOn")}</label>
        ${form.upgrading && html`
          ${select("upgrade.minTier", t("field.minTier"), [["", t("op.anyTier")], ...TIERS.map((c) => [c, valueLabel(c)])])}
          <label class="choice"><input type="checkbox" checked=${form["upgrade.paidMember"]}
            onChange=${() => set("upgrade.paidMember", !form["upgrade.paidMember"])} /> ${t("op.upgradePaid")}</label>
          <label class="choice"><input type="checkbox" checked=${form["upgrade.blackCard"]}
            onChange=${() => set("upgrade.blackCard", !form["upgrade.blackCard"])} /> ${t("op.upgradeBlack")}</label>
          ${input("upgrade.value", t("op.upgradeValue"), "number")}`}
      </fieldset>
    </div>
    <button class="primary" type="submit" disabled=${saving}>${id ? t("op.saveEdit") : t("op.create")}</button>
  </form>`;
}
