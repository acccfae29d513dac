// The operator's member centre: the benefits each growth tier's page
// shows, in order, and the preview of what each programme cell sees
// (shown after stacking, or hidden because that cell does not get it).

import { html, useEffect, useState } from "./vendor/preact-htm.module.js";
import { gql, markReady, mutate } from "./api.js";
import { t, valueLabel } from "./i18n.js";
import { TIERS, allBenefits, cellText, namer } from "./operator.js";

const CENTRE_QUERY = `query MemberCentre {
  memberCentre { tier benefitIds }
  memberCentrePreview { tier paidMember blackCard shown { benefitId value upgraded } hidden }
}`;
/** The states a member centre may show (or an operator may be about to). */
const LISTABLE = ["ACTIVE", "APPROVED", "PAUSED", "DRAFT", "PENDING_REVIEW"];

const SET_MUTATION = `mutation SetMemberCentre($tier: GrowthTier!, $benefitIds: [ID!]!) {
  setMemberCentre(tier: $tier, benefitIds: $benefitIds) {
    tiers { tier benefitIds } userErrors { field message code }
  }
}`;

/** The member centre editor and its per-cell preview. */
export function CentreView({ onError }) {
  const [data, setData] = useState(null);
  const [tier, setTier] = useState("GOLD");
  const [draft, setDraft] = useState([]);
  const [adding, setAdding] = useState("");
  const [errors, setErrors] = useState([]);
  const load = () => Promise.all([gql(CENTRE_QUERY), allBenefits(LISTABLE)])
    .then(([d, benefits]) => { setData({ ...d, benefits }); markReady(); })
    .catch(onError);
  useEffect(() => { load(); }, []);
  useEffect(() => {
    if (data) setDraft(data.memberCentre.find((c) => c.tier === tier)?.benefitIds ?? []);
    setErrors([]);
  }, [data, tier]);
  if (!data) return html`<p class="muted">${t("app.loading")}</p>`;
  const name = namer(data.benefits);
  const move = (i, by) => {
    const next = [...draft];
    [next[i], next[i + by]] = [next[i + by], next[i]];
    setDraft(next);
  };
  const save = () => mutate(SET_MUTATION, { tier, benefitIds: draft }, "setMemberCentre", {
    setErrors, onError, onDone: load,
  });
  const cells = data.memberCentrePreview.filter((c) => c.tier === tier);
  return html`<div class="columns two">
    <section class="panel">
      <div class="toolbar">
        <h2>${t("mc.title")}</h2>
        <label>${t("dim.GROWTH_TIER")}
          <select value=${tier} onChange=${(e) => setTier(e.target.value)}>
            ${TIERS.map((c) => html`<option value=${c}>${valueLabel(c)}</option>`)}
          </select>
        </label>
      </div>
      <ol class="centre">${draft.map((id, i) => html`<li data-benefit=${id}>
        <span>${name(id)}</span>
        <span class="row-actions">
          <button class="link" aria-label=${t("mc.up")} disabled=${i === 0} onClick=${() => move(i, -1)}>↑</button>
          <button class="link" aria-label=${t("mc.down")} disabled=${i === draft.length - 1} onClick=${() => move(i, 1)}>↓</button>
          <button class="link" onClick=${() => setDraft(draft.filter((x) => x !== id))}>${t("aud.remove")}</button>
        </span>
      </li>`)}</ol>
      ${draft.length === 0 && html`<p class="muted">${t("mc.empty")}</p>`}
      <div class="inline">
        <label class="sr-only" for="centre-add">${t("mc.add")}</label>
        <select id="centre-add" value=${adding} onChange=${(e) => setAdding(e.target.value)}>
          <option value="">${t("mc.add")}</option>
          ${data.benefits.filter((b) => !draft.includes(b.id)).map((b) => html`<option value=${b.id}>
            ${b.definition.name} (${t("state." + b.state)})</option>`)}
        </select>
        <button class="secondary" disabled=${!adding} onClick=${() => { setDraft([...draft, adding]); setAdding(""); }}>
          ${t("mc.addButton")}</button>
      </div>
      ${errors.map((e) => html`<p class="error" role="alert">${e.message}</p>`)}
      <div class="actions"><button class="primary" onClick=${save}>${t("mc.save", { tier: valueLabel(tier) })}</button></div>
    </section>
    <section class="panel">
      <h3>${t("mc.preview")}</h3>
      <p class="muted small">${t("mc.previewHelp")}</p>
      ${cells.map((c) => html`<div class="preview-cell" data-cell=${`${c.tier}/${c.paidMember}/${c.blackCard}`}>
        <strong>${cellText(c)}</strong>
        <ul>${c.shown.map((b) => html`<li>${name(b.benefitId)}${b.upgraded ? " ↑" : ""}</li>`)}</ul>
        ${c.hidden.length > 0 && html`<div class="small muted">${t("mc.hidden")}: ${c.hidden.map(name).join("、")}</div>`}
      </div>`)}
    </section>
  </div>`;
}
