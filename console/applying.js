// The brand operator's own application to the programme: where it
// stands, its scorecard (the brand's own figures), its timeline, and the
// steps the API says the brand may take now (`brandSteps`): submit a
// draft, answer a reviewer's question, appeal a rejection; or start one.

import { html, useEffect, useState } from "./vendor/preact-htm.module.js";
import { gql, markReady, mutate } from "./api.js";
import { fmtDateTime, t } from "./i18n.js";
import { EVALUATION_FIELDS, Scorecard, Timeline } from "./reviewer.js";

const OWN_QUERY = `query OwnApplication {
  applications(last: 1) {
    nodes {
      id state version statement dueAt dueKind brandSteps open
      latestEvaluation { ${EVALUATION_FIELDS} }
      events { at actor action fromState toState reasonCodes note }
    }
  }
}`;

const PAYLOAD = `application { id state } userErrors { field message code }`;
const CREATE_MUTATION = `mutation CreateApplication($statement: String!) {
  createApplication(statement: $statement) { ${PAYLOAD} }
}`;
const SUBMIT_MUTATION = `mutation SubmitApplication($id: ID!, $version: Int!) {
  submitApplication(applicationId: $id, expectedVersion: $version) { ${PAYLOAD} }
}`;
const RESPOND_MUTATION = `mutation RespondToInfoRequest($id: ID!, $version: Int!, $text: String!) {
  respondToInfoRequest(applicationId: $id, expectedVersion: $version, answer: $text) { ${PAYLOAD} }
}`;
const APPEAL_MUTATION = `mutation AppealApplication($id: ID!, $version: Int!, $text: String!) {
  appealApplication(applicationId: $id, expectedVersion: $version, note: $text) { ${PAYLOAD} }
}`;

/** The brand's application page. */
export function ApplyingView({ onError }) {
  const [application, setApplication] = useState(undefined);
  const [text, setText] = useState("");
  const [errors, setErrors] = useState([]);
  const load = () => gql(OWN_QUERY)
    .then((d) => { setApplication(d.applications.nodes[0] ?? null); markReady(); })
    .catch(onError);
  useEffect(() => { load(); }, []);
  const run = (query, variables, field) => mutate(query, variables, field, {
    setErrors, onError, onDone: () => { setText(""); load(); },
  });
  if (application === undefined) return html`<p class="muted">${t("app.loading")}</p>`;
  const shown = errors.map((e) => html`<p class="error field-error" role="alert">${e.message}</p>`);
  const textBox = (label) => html`<div class=${"field" + (errors.length ? " invalid" : "")}>
    <label for="applying-text">${label}</label>
    <textarea id="applying-text" rows="4" value=${text} onInput=${(e) => setText(e.target.value)}></textarea>
    ${shown}
  </div>`;
  const a = application;
  const steps = a?.brandSteps ?? [];
  // A new application may start when none is open (the API also applies
  // the cool-down after a refusal, and says so if it refuses).
  const start = !a || !a.open;
  return html`<div class="columns two">
    <section class="panel">
      <h2>${t("ap.title")}</h2>
      ${a ? html`
        <p><span class=${"badge app-" + a.state}>${t("appState." + a.state)}</span>
          ${a.dueAt ? html` <span class="muted">${t("ap.due." + a.dueKind, { at: fmtDateTime(a.dueAt) })}</span>` : ""}</p>
        <blockquote class="statement">${a.statement}</blockquote>
        ${a.latestEvaluation && html`<h3>${t("rv.scorecard")}</h3><${Scorecard} evaluation=${a.latestEvaluation} />`}
        ${steps.includes("SUBMIT") && html`<div class="actions">
          <button class="primary" onClick=${() => run(SUBMIT_MUTATION, { id: a.id, version: a.version }, "submitApplication")}>
            ${t("ap.submit")}</button></div>${shown}`}
        ${steps.includes("RESPOND") && html`<div class="decide">${textBox(t("ap.answer"))}
          <button class="primary" onClick=${() => run(RESPOND_MUTATION, { id: a.id, version: a.version, text }, "respondToInfoRequest")}>
            ${t("ap.sendAnswer")}</button></div>`}
        ${steps.includes("APPEAL") && html`<div class="decide">${textBox(t("ap.appealNote"))}
          <button class="primary" onClick=${() => run(APPEAL_MUTATION, { id: a.id, version: a.version, text }, "appealApplication")}>
            ${t("ap.appeal")}</button></div>`}`
        : html`<p class="muted">${t("ap.none")}</p>`}
      ${start && html`<details class="decide" open=${!a}>
        <summary>${t("ap.new")}</summary>
        ${textBox(t("ap.statement"))}
        <button class="primary" onClick=${() => run(CREATE_MUTATION, { statement: text }, "createApplication")}>
          ${t("ap.start")}</button></details>`}
    </section>
    ${a && html`<section class="panel"><${Timeline} events=${a.events} /></section>`}
  </div>`;
}
