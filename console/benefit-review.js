// The reviewer's benefit reviews: what waits (a draft sent for review, or
// a live benefit's new revision, as `Benefit.reviewable` says), and one
// benefit with its risk signals, approved or rejected with a note.

import { html, useEffect, useState } from "./vendor/preact-htm.module.js";
import { errorsOn, fieldOf, gql, mutate } from "./api.js";
import { fmtDateTime, fmtMoney, t } from "./i18n.js";
import { DEFINITION, cellText, paramsText, targetingText } from "./operator.js";

const WAITING_QUERY = `query BenefitsToReview($after: String) {
  benefits(first: 50, after: $after, states: [PENDING_REVIEW, APPROVED, ACTIVE, PAUSED]) {
    nodes { id state reviewable revisionPending createdAt brand { name } definition { name kind } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const REVIEW_QUERY = `query BenefitReview($id: ID!) {
  benefit(id: $id) {
    id state version reviewable revisionPending brand { name }
    definition { ${DEFINITION} }
    liveDefinition { name kind value }
    reviewSignals {
      dead exposureCents
      conflicts { kept lost reason }
      losingCells {
        benefitId by
        lower { tier paidMember blackCard }
        higher { tier paidMember blackCard }
      }
    }
  }
}`;

const REVIEW_MUTATION = `mutation ReviewBenefit($id: ID!, $version: Int!, $approve: Boolean!, $note: String) {
  reviewBenefit(benefitId: $id, expectedVersion: $version, approve: $approve, note: $note) {
    benefit { id state } userErrors { field message code }
  }
}`;

/** The benefit reviews page: the list, or one benefit. */
export function BenefitReviewView({ onError, path }) {
  const [, id] = path;
  return id ? html`<${Review} id=${id} onError=${onError} />` : html`<${Waiting} onError=${onError} />`;
}

function Waiting({ onError }) {
  const [rows, setRows] = useState(null);
  const [next, setNext] = useState(null);
  const load = (after, shown) => gql(WAITING_QUERY, { after })
    .then((d) => {
      setRows([...shown, ...d.benefits.nodes.filter((b) => b.reviewable)]);
      setNext(d.benefits.pageInfo.hasNextPage ? d.benefits.pageInfo.endCursor : null);
    })
    .catch(onError);
  useEffect(() => { load(null, []); }, []);
  return html`<section class="panel">
    <h2>${t("br.title")}</h2>
    ${rows && (rows.length === 0
      ? html`<p class="muted">${t("br.none")}</p>`
      : html`<table class="list">
        <thead><tr><th scope="col">${t("rv.brand")}</th><th scope="col">${t("field.name")}</th>
          <th scope="col">${t("op.kind")}</th><th scope="col">${t("op.state")}</th></tr></thead>
        <tbody>${rows.map((b) => html`<tr>
          <td>${b.brand.name}</td>
          <td><a href=${"#/benefit-reviews/" + b.id}>${b.definition.name}</a></td>
          <td>${t("kind." + b.definition.kind)}</td>
          <td><span class=${"badge state-" + b.state}>${t("state." + b.state)}</span>
            ${b.revisionPending ? html` <small class="muted">${t("op.revisionPending")}</small>` : ""}</td>
        </tr>`)}</tbody>
      </table>`)}
    ${next && html`<button class="secondary" onClick=${() => load(next, rows)}>${t("op.more")}</button>`}
  </section>`;
}

function Review({ id, onError }) {
  const [benefit, setBenefit] = useState(null);
  const [note, setNote] = useState("");
  const [errors, setErrors] = useState([]);
  const load = () => gql(REVIEW_QUERY, { id }).then((d) => setBenefit(d.benefit)).catch(onError);
  useEffect(() => { load(); }, [id]);
  if (!benefit) return html`<p class="muted">${t("app.loading")}</p>`;
  const d = benefit.definition;
  const s = benefit.reviewSignals;
  const decide = (approve) => mutate(REVIEW_MUTATION, {
    id, version: benefit.version, approve, note: note.trim() || null,
  }, "reviewBenefit", { setErrors, onError, onDone: load });
  const noteErrors = errorsOn(errors, "note");
  return html`<div class="columns two">
    <section class="panel">
      <p><a href="#/benefit-reviews">← ${t("br.title")}</a></p>
      <h2>${d.name} <span class=${"badge state-" + benefit.state}>${t("state." + benefit.state)}</span></h2>
      <p class="muted">${benefit.brand.name}</p>
      <dl class="facts">
        <dt>${t("op.kind")}</dt><dd>${t("kind." + d.kind)} ${paramsText(d)}</dd>
        ${benefit.liveDefinition && html`<dt>${t("br.live")}</dt><dd>${benefit.liveDefinition.name} · ${benefit.liveDefinition.value ?? "—"}</dd>`}
        <dt>${t("op.targeting")}</dt><dd>${targetingText(d.targeting)}</dd>
        <dt>${t("op.stacking")}</dt><dd>${t("mode." + d.stacking.mode)} · ${t("field.priority")} ${d.stacking.priority}</dd>
        <dt>${t("op.schedule")}</dt><dd>${fmtDateTime(d.schedule.startsAt)} – ${d.schedule.endsAt ? fmtDateTime(d.schedule.endsAt) : "∞"}</dd>
      </dl>
      ${errors.filter((e) => fieldOf(e) !== "note").map((e) => html`<p class="error" role="alert">${e.message}</p>`)}
      ${benefit.reviewable && html`<div class="decide">
        <div class=${"field" + (noteErrors.length ? " invalid" : "")} data-field="note">
          <label for="review-note">${t("br.note")}</label>
          <textarea id="review-note" rows="3" value=${note} onInput=${(e) => setNote(e.target.value)}></textarea>
          ${noteErrors.map((e) => html`<p class="error field-error">${e.message}</p>`)}
        </div>
        <div class="actions">
          <button class="primary" onClick=${() => decide(true)}>${t("br.approve")}</button>
          <button class="secondary danger" onClick=${() => decide(false)}>${t("br.reject")}</button>
        </div>
      </div>`}
    </section>
    <section class="panel signals">
      <h3>${t("br.signals")}</h3>
      <dl class="facts">
        <dt>${t("br.exposure")}</dt>
        <dd>${s.exposureCents == null ? html`<span class="warn">${t("br.unbounded")}</span>` : fmtMoney(s.exposureCents)}</dd>
        <dt>${t("br.dead")}</dt>
        <dd>${s.dead ? html`<span class="error">${t("dead." + s.dead)}</span>` : html`<span class="ok">${t("br.alive")}</span>`}</dd>
      </dl>
      <h3>${t("br.conflicts")}</h3>
      ${s.conflicts.length === 0 ? html`<p class="muted">${t("br.noneFound")}</p>`
        : html`<ul>${s.conflicts.map((c) => html`<li>#${c.kept} ${t("br.beats")} #${c.lost}: ${c.reason}</li>`)}</ul>`}
      <h3>${t("br.losing")}</h3>
      ${s.losingCells.length === 0 ? html`<p class="muted">${t("br.noneFound")}</p>`
        : html`<ul>${s.losingCells.map((c) => html`<li>${t("br.losingCell", {
            higher: cellText(c.higher), lower: cellText(c.lower), benefit: "#" + c.benefitId,
          })}${c.by ? " (" + t("br.by", { by: "#" + c.by }) + ")" : ""}</li>`)}</ul>`}
    </section>
  </div>`;
}
