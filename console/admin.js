// The platform admin's view of credentials: who holds which, issuing one
// (its token shown once, never stored) and revoking one.

import { html, useEffect, useState } from "./vendor/preact-htm.module.js";
import { errorsOn, fieldOf, gql, markReady, mutate } from "./api.js";
import { fmtDateTime, fmtDecimal, fmtPercent, t } from "./i18n.js";
import { AT_RISK_FIELDS, AtRiskTable } from "./reviewer.js";

const ROLES = ["BRAND_ANALYST", "BRAND_OPERATOR", "REVIEWER", "ADMIN", "SERVICE"];
const BRAND_ROLES = ["BRAND_ANALYST", "BRAND_OPERATOR"];

const CREDENTIALS_QUERY = `query Credentials($brandId: ID, $includeRevoked: Boolean!) {
  credentials(brandId: $brandId, includeRevoked: $includeRevoked, first: 100) {
    id subject role brandId issuedAt expiresAt revokedAt
  }
}`;
const ISSUE_MUTATION = `mutation IssueCredential($input: IssueCredentialInput!) {
  issueCredential(input: $input) { credential { id } token userErrors { field message code } }
}`;
const REVOKE_MUTATION = `mutation RevokeCredential($id: ID!) {
  revokeCredential(id: $id) { credential { id revokedAt } userErrors { field message code } }
}`;

/** The admin's page. */
export function AdminView({ onError }) {
  const [brandId, setBrandId] = useState("");
  const [includeRevoked, setIncludeRevoked] = useState(false);
  const [credentials, setCredentials] = useState(null);
  const [issued, setIssued] = useState(null);
  const [errors, setErrors] = useState([]);
  const load = () => gql(CREDENTIALS_QUERY, { brandId: brandId.trim() || null, includeRevoked })
    .then((d) => { setCredentials(d.credentials); markReady(); })
    .catch(onError);
  useEffect(() => { load(); }, [brandId, includeRevoked]);
  const revoke = (id) => mutate(REVOKE_MUTATION, { id }, "revokeCredential", { setErrors, onError, onDone: load });
  return html`<div class="columns two">
    <section class="panel">
      <h2>${t("ad.credentials")}</h2>
      <div class="toolbar start">
        <label>${t("ad.brandId")}
          <input type="text" inputmode="numeric" size="6" value=${brandId} onInput=${(e) => setBrandId(e.target.value)} />
        </label>
        <label><input type="checkbox" checked=${includeRevoked}
          onChange=${() => setIncludeRevoked(!includeRevoked)} /> ${t("ad.includeRevoked")}</label>
      </div>
      ${errors.map((e) => html`<p class="error" role="alert">${e.message}</p>`)}
      ${credentials && html`<table class="list credentials">
        <thead><tr>
          <th scope="col">${t("ad.subject")}</th><th scope="col">${t("ad.role")}</th>
          <th scope="col">${t("ad.brand")}</th><th scope="col">${t("ad.expires")}</th><th scope="col"></th>
        </tr></thead>
        <tbody>${credentials.map((c) => html`<tr data-subject=${c.subject}>
          <td>${c.subject}</td><td>${t("role." + c.role)}</td><td>${c.brandId ?? "—"}</td>
          <td>${c.revokedAt ? t("ad.revokedAt", { at: fmtDateTime(c.revokedAt) }) : fmtDateTime(c.expiresAt)}</td>
          <td>${!c.revokedAt && html`<button class="secondary danger" onClick=${() => revoke(c.id)}>${t("ad.revoke")}</button>`}</td>
        </tr>`)}</tbody>
      </table>`}
    </section>
    <section class="panel">
      <${IssueForm} onError=${onError} onIssued=${(token) => { setIssued(token); load(); }} />
      ${issued && html`<div class="issued" role="status">
        <p><strong>${t("ad.tokenOnce")}</strong></p>
        <textarea readonly rows="4" class="token">${issued}</textarea>
      </div>`}
    </section>
  </div>`;
}

function IssueForm({ onError, onIssued }) {
  const [role, setRole] = useState("BRAND_ANALYST");
  const [brandId, setBrandId] = useState("");
  const [subject, setSubject] = useState("");
  const [hours, setHours] = useState("24");
  const [errors, setErrors] = useState([]);
  const errorOf = (name) => errorsOn(errors, name);
  const submit = async (e) => {
    e.preventDefault();
    const validHours = /^\d+$/.test(hours.trim()) ? Number(hours.trim()) : 0;
    const input = {
      role, subject, validHours, brandId: BRAND_ROLES.includes(role) ? brandId.trim() || null : null,
    };
    await mutate(ISSUE_MUTATION, { input }, "issueCredential", {
      setErrors, onError, onDone: (r) => onIssued(r.token),
    });
  };
  const shown = (name) => errorOf(name).map((e) => html`<p class="error field-error">${e.message}</p>`);
  const known = ["role", "brandId", "subject", "validHours"];
  return html`<form onSubmit=${submit}>
    <h2>${t("ad.issue")}</h2>
    ${errors.filter((e) => !known.includes(fieldOf(e)))
      .map((e) => html`<p class="error" role="alert">${e.message}</p>`)}
    <div class="field"><label for="issue-role">${t("ad.role")}</label>
      <select id="issue-role" value=${role} onChange=${(e) => setRole(e.target.value)}>
        ${ROLES.map((r) => html`<option value=${r}>${t("role." + r)}</option>`)}
      </select>${shown("role")}</div>
    ${BRAND_ROLES.includes(role) && html`<div class="field" data-field="brandId"><label for="issue-brand">${t("ad.brandId")}</label>
      <input id="issue-brand" type="text" inputmode="numeric" value=${brandId} onInput=${(e) => setBrandId(e.target.value)} />
      ${shown("brandId")}</div>`}
    <div class="field" data-field="subject"><label for="issue-subject">${t("ad.subject")}</label>
      <input id="issue-subject" type="text" value=${subject} onInput=${(e) => setSubject(e.target.value)} />
      ${shown("subject")}</div>
    <div class="field" data-field="validHours"><label for="issue-hours">${t("ad.hours")}</label>
      <input id="issue-hours" type="number" value=${hours} onInput=${(e) => setHours(e.target.value)} />
      ${shown("validHours")}</div>
    <button class="primary" type="submit">${t("ad.issueButton")}</button>
  </form>`;
}

/** Each threshold of a policy: its field and whether it is a share (shown in %). */
const THRESHOLDS = [
  ["minMarketShare", true], ["minVoluntaryMentionShare", true], ["maxPriceVolatility", true],
  ["minSuperMemberRatio", true], ["maxDeepDiscountDays", true], ["reapplyCooldownDays", false],
];

const POLICY_FIELDS = `category version minMarketShare minVoluntaryMentionShare maxPriceVolatility
  minSuperMemberRatio maxDeepDiscountDays reapplyCooldownDays requiredDocuments createdBy createdAt`;

const POLICIES_QUERY = `query CriteriaPolicies($category: String!) {
  categories { code name }
  criteriaPolicy(category: $category) { ${POLICY_FIELDS} }
  criteriaPolicyHistory(category: $category) { ${POLICY_FIELDS} }
}`;

const PREVIEW_QUERY = `query PreviewCriteriaPolicy($input: PreviewCriteriaPolicyInput!) {
  previewCriteriaPolicy(input: $input) {
    currentVersion
    newlyFailing { ${AT_RISK_FIELDS} }
    newlyPassing { id name }
    userErrors { field message code }
  }
}`;

const SET_POLICY_MUTATION = `mutation SetCriteriaPolicy($input: SetCriteriaPolicyInput!) {
  setCriteriaPolicy(input: $input) { policy { version } userErrors { field message code } }
}`;

/** The admin's criteria policies: a category's versions, newest first, and a new one. */
export function PolicyView({ onError }) {
  const [category, setCategory] = useState("BEAUTY");
  const [data, setData] = useState(null);
  const [form, setForm] = useState({});
  const [errors, setErrors] = useState([]);
  const [shownPreview, setPreview] = useState(null);
  const load = () => gql(POLICIES_QUERY, { category }).then((d) => {
    setPreview(null);
    setData(d);
    const current = d.criteriaPolicy;
    setForm(Object.fromEntries(THRESHOLDS.map(([name, share]) => [
      name, String(share ? +(current[name] * 100).toFixed(4) : current[name]),
    ])));
    setErrors([]);
  }).catch(onError);
  useEffect(() => { load(); }, [category]);
  if (!data) return html`<p class="muted">${t("app.loading")}</p>`;
  const current = data.criteriaPolicy;
  // The built-in default (version 0) has no history row of its own.
  const history = data.criteriaPolicyHistory.length ? data.criteriaPolicyHistory : [current];
  // The form's thresholds as the API takes them; a blank keeps the one in force.
  const thresholds = () => Object.fromEntries(THRESHOLDS.map(([name, share]) => {
    const text = (form[name] || "").trim();
    return [name, text === "" ? current[name] : share ? Number(text) / 100 : Number(text)];
  }));
  const save = async (e) => {
    e.preventDefault();
    const input = { category, expectedVersion: current.version, ...thresholds() };
    await mutate(SET_POLICY_MUTATION, { input }, "setCriteriaPolicy", { setErrors, onError, onDone: load });
  };
  const preview = async () => {
    const { reapplyCooldownDays: _, ...measures } = thresholds();
    setPreview(null);
    await mutate(PREVIEW_QUERY, { input: { category, ...measures } }, "previewCriteriaPolicy", {
      setErrors, onError, onDone: setPreview,
    });
  };
  const errorOf = (name) => errorsOn(errors, name);
  return html`<div class="columns two">
    <section class="panel">
      <div class="toolbar">
        <h2>${t("po.title")}</h2>
        <label>${t("rv.category")}
          <select value=${category} onChange=${(e) => setCategory(e.target.value)}>
            ${data.categories.map((c) => html`<option value=${c.code}>${c.name}</option>`)}
          </select>
        </label>
      </div>
      <div class="matrix-scroll"><table class="list policies">
        <thead><tr><th scope="col">${t("po.version")}</th>
          ${THRESHOLDS.map(([name]) => html`<th scope="col">${t("po." + name)}</th>`)}
          <th scope="col">${t("po.setBy")}</th></tr></thead>
        <tbody>${history.map((p) => html`<tr>
          <td>v${p.version}</td>
          ${THRESHOLDS.map(([name, share]) => html`<td>${share ? fmtPercent(p[name], 2) : p[name]}</td>`)}
          <td>${p.createdBy}${p.createdAt ? html`<div class="small muted">${fmtDateTime(p.createdAt)}</div>` : ""}</td>
        </tr>`)}</tbody>
      </table></div>
    </section>
    <form class="panel" onSubmit=${save}>
      <h2>${t("po.new")}</h2>
      ${errors.filter((e) => !THRESHOLDS.some(([n]) => n === fieldOf(e)))
        .map((e) => html`<p class="error" role="alert">${e.message}</p>`)}
      ${THRESHOLDS.map(([name, share]) => html`<div class=${"field" + (errorOf(name).length ? " invalid" : "")} data-field=${name}>
        <label for=${"po-" + name}>${t("po." + name)}${share ? " (%)" : ""}</label>
        <input id=${"po-" + name} type="number" step="any" value=${form[name] ?? ""}
          onInput=${(e) => setForm({ ...form, [name]: e.target.value })} />
        ${errorOf(name).map((e) => html`<p class="error field-error">${e.message}</p>`)}
      </div>`)}
      <div class="actions">
        <button class="secondary" type="button" onClick=${preview}>${t("po.preview")}</button>
        <button class="primary" type="submit">${t("po.save", { version: current.version + 1 })}</button>
      </div>
      ${shownPreview && html`<div class="policy-preview" role="status">
        <h3>${t("po.previewTitle", { version: shownPreview.currentVersion ?? 0 })}</h3>
        <h4>${t("po.newlyFailing", { n: shownPreview.newlyFailing.length })}</h4>
        ${shownPreview.newlyFailing.length > 0 && html`<${AtRiskTable} rows=${shownPreview.newlyFailing} />`}
        <h4>${t("po.newlyPassing", { n: shownPreview.newlyPassing.length })}</h4>
        <ul class="plain newly-passing">${shownPreview.newlyPassing.map((b) => html`<li>${b.name}</li>`)}</ul>
      </div>`}
    </form>
  </div>`;
}

const BRANDS_QUERY = `query Brands($filter: BrandFilterInput, $after: String) {
  categories { code name }
  brands(first: 50, after: $after, filter: $filter) {
    nodes { id name status createdAt category { code name } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const CREATE_BRAND_MUTATION = `mutation CreateBrand($input: CreateBrandInput!) {
  createBrand(input: $input) { brand { id name } userErrors { field message code } }
}`;

const STATUSES = ["PROSPECT", "ACTIVE", "WATCHLIST", "SUSPENDED"];

const SPLIT_MUTATION = `mutation SetPrivacySplit($brandId: ID!, $analystShare: Float!) {
  setPrivacySplit(brandId: $brandId, analystShare: $analystShare) {
    budgets { pool dailyLimit rollingLimit } userErrors { field message code }
  }
}`;

/** How a brand's privacy budget is split between its analysts and its operators. */
function PrivacySplit({ brands, onError }) {
  const [brandId, setBrandId] = useState("");
  const [percent, setPercent] = useState("80");
  const [errors, setErrors] = useState([]);
  const [budgets, setBudgets] = useState(null);
  // The brand chosen, while the list (filtered above) still holds it.
  const chosen = brands.some((b) => b.id === brandId) ? brandId : brands[0]?.id || "";
  const save = async (e) => {
    e.preventDefault();
    setBudgets(null);
    const share = percent.trim() === "" ? NaN : Number(percent);
    if (!Number.isFinite(share)) {
      setErrors([{ field: ["analystShare"], message: t("ps.number") }]);
      return;
    }
    await mutate(SPLIT_MUTATION, { brandId: chosen, analystShare: share / 100 }, "setPrivacySplit", {
      setErrors, onError, onDone: (r) => setBudgets(r.budgets),
    });
  };
  const errorOf = (field) => errorsOn(errors, field);
  return html`<form class="panel" onSubmit=${save}>
    <h2>${t("ps.title")}</h2>
    <p class="muted small">${t("ps.help")}</p>
    ${errors.filter((e) => fieldOf(e) !== "analystShare").map((e) => html`<p class="error" role="alert">${e.message}</p>`)}
    <div class="field">
      <label for="split-brand">${t("rv.brand")}</label>
      <select id="split-brand" value=${chosen} onChange=${(e) => setBrandId(e.target.value)}>
        ${brands.map((b) => html`<option value=${b.id}>${b.name}</option>`)}
      </select>
    </div>
    <div class=${"field" + (errorOf("analystShare").length ? " invalid" : "")} data-field="analystShare">
      <label for="split-share">${t("ps.share")}</label>
      <input id="split-share" type="number" step="any" value=${percent} onInput=${(e) => setPercent(e.target.value)} />
      ${errorOf("analystShare").map((e) => html`<p class="error field-error">${e.message}</p>`)}
    </div>
    <button class="primary" type="submit">${t("ps.save")}</button>
    ${budgets && html`<table class="list split-budgets" role="status">
      <thead><tr><th scope="col">${t("ps.pool")}</th><th scope="col">${t("budget.day")}</th>
        <th scope="col">${t("budget.rolling")}</th></tr></thead>
      <tbody>${budgets.map((b) => html`<tr data-pool=${b.pool}>
        <td>${t("ps." + b.pool)}</td><td>ε ${fmtDecimal(b.dailyLimit, 3)}</td><td>ε ${fmtDecimal(b.rollingLimit, 3)}</td>
      </tr>`)}</tbody>
    </table>`}
  </form>`;
}

/** The admin's brands: by category and status, and a new one. */
export function BrandsView({ onError }) {
  const [category, setCategory] = useState("");
  const [status, setStatus] = useState("");
  const [page, setPage] = useState(null);
  const [name, setName] = useState("");
  const [newCategory, setNewCategory] = useState("");
  const [errors, setErrors] = useState([]);
  const [created, setCreated] = useState(null);
  const load = (after, shown) => gql(BRANDS_QUERY, {
    filter: { category: category || null, status: status || null }, after,
  }).then((d) => setPage({
    categories: d.categories,
    rows: [...shown, ...d.brands.nodes],
    next: d.brands.pageInfo.hasNextPage ? d.brands.pageInfo.endCursor : null,
  })).catch(onError);
  useEffect(() => { load(null, []); }, [category, status]);
  const create = async (e) => {
    e.preventDefault();
    const input = { name, category: newCategory || page?.categories[0]?.code || "" };
    setCreated(null);
    await mutate(CREATE_BRAND_MUTATION, { input }, "createBrand", {
      setErrors, onError, onDone: (r) => { setCreated(r.brand); setName(""); load(null, []); },
    });
  };
  const errorOf = (field) => errorsOn(errors, field);
  if (!page) return html`<p class="muted">${t("app.loading")}</p>`;
  return html`<div class="columns two">
    <section class="panel">
      <div class="toolbar start">
        <h2>${t("bd.title")}</h2>
        <label>${t("rv.category")}
          <select value=${category} onChange=${(e) => setCategory(e.target.value)}>
            <option value="">${t("op.either")}</option>
            ${page.categories.map((c) => html`<option value=${c.code}>${c.name}</option>`)}
          </select></label>
        <label>${t("op.state")}
          <select value=${status} onChange=${(e) => setStatus(e.target.value)}>
            <option value="">${t("op.either")}</option>
            ${STATUSES.map((st) => html`<option value=${st}>${t("bd." + st)}</option>`)}
          </select></label>
      </div>
      <table class="list brands">
        <thead><tr><th scope="col">ID</th><th scope="col">${t("rv.brand")}</th>
          <th scope="col">${t("rv.category")}</th><th scope="col">${t("op.state")}</th></tr></thead>
        <tbody>${page.rows.map((b) => html`<tr>
          <td>${b.id}</td><td>${b.name}</td><td>${b.category.name}</td><td>${t("bd." + b.status)}</td>
        </tr>`)}</tbody>
      </table>
      ${page.next && html`<button class="secondary" onClick=${() => load(page.next, page.rows)}>${t("op.more")}</button>`}
    </section>
    <form class="panel" onSubmit=${create}>
      <h2>${t("bd.new")}</h2>
      ${errors.filter((e) => !["name", "category"].includes(fieldOf(e)))
        .map((e) => html`<p class="error" role="alert">${e.message}</p>`)}
      <div class=${"field" + (errorOf("name").length ? " invalid" : "")} data-field="name">
        <label for="brand-name">${t("field.name")}</label>
        <input id="brand-name" type="text" value=${name} onInput=${(e) => setName(e.target.value)} />
        ${errorOf("name").map((e) => html`<p class="error field-error">${e.message}</p>`)}
      </div>
      <div class="field" data-field="category">
        <label for="brand-category">${t("rv.category")}</label>
        <select id="brand-category" value=${newCategory || page.categories[0]?.code}
          onChange=${(e) => setNewCategory(e.target.value)}>
          ${page.categories.map((c) => html`<option value=${c.code}>${c.name}</option>`)}
        </select>
        ${errorOf("category").map((e) => html`<p class="error field-error">${e.message}</p>`)}
      </div>
      <button class="primary" type="submit">${t("bd.create")}</button>
      ${created && html`<p class="ok" role="status">${t("bd.created", { name: created.name, id: created.id })}</p>`}
    </form>
    <${PrivacySplit} brands=${page.rows} onError=${onError} />
  </div>`;
}
