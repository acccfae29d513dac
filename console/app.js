// The console's shell: sign-in, the signed-in header (who, language,
// GraphiQL, sign out), the views the caller's role has, and each view's
// "Show GraphQL" panel.

import { html, render, useEffect, useState } from "./vendor/preact-htm.module.js";
import {
  clearOperations, gql, onOperations, openInGraphiql, operations, session,
} from "./api.js";
import { LANGUAGES, language, setLanguage, t } from "./i18n.js";
import { AnalystView } from "./analyst.js";
import { OperatorView, StackingView } from "./operator.js";
import { AtRiskView, ReviewerView } from "./reviewer.js";
import { AdminView, BrandsView, PolicyView } from "./admin.js";
import { BenefitReviewView } from "./benefit-review.js";
import { ApplyingView } from "./applying.js";
import { CentreView } from "./centre.js";
import { CalendarView } from "./calendar.js";
import { BasketView } from "./basket.js";

const VIEWER_QUERY = `query Viewer { viewer { subject role brand { id name } } }`;

/** The views each role has, as [route, title key, component]. */
const VIEWS = {
  BRAND_ANALYST: [["audience", "nav.audience", AnalystView]],
  BRAND_OPERATOR: [
    ["benefits", "nav.benefits", OperatorView],
    ["stacking", "nav.stacking", StackingView],
    ["calendar", "nav.calendar", CalendarView],
    ["basket", "nav.basket", BasketView],
    ["centre", "nav.centre", CentreView],
    ["application", "nav.applying", ApplyingView],
  ],
  REVIEWER: [
    ["applications", "nav.applications", ReviewerView],
    ["benefit-reviews", "nav.benefitReviews", BenefitReviewView],
    ["at-risk", "nav.atRisk", AtRiskView],
  ],
  ADMIN: [
    ["credentials", "nav.credentials", AdminView],
    ["policies", "nav.policies", PolicyView],
    ["brands", "nav.brands", BrandsView],
    ["applications", "nav.applications", ReviewerView],
    ["at-risk", "nav.atRisk", AtRiskView],
  ],
};

/** The route as path segments: `#/benefits/12/edit` → ["benefits", "12", "edit"]. */
const routeOf = () => location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);

/** Moves to `route` (e.g. "benefits/12"). */
const go = (route) => { location.hash = "#/" + route; };

// A sign-in link carries its token in the fragment (#token=…), which the
// browser never sends to a server, so no access log holds it; it moves to
// session storage and leaves the address bar at once.
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get("token")) {
  session.signIn(fragment.get("token"));
  history.replaceState(null, "", location.pathname);
}

function App() {
  const [viewer, setViewer] = useState(null);
  const [checking, setChecking] = useState(Boolean(session.token()));
  const [, setLang] = useState(language());
  const [error, setError] = useState(null);

  const signIn = async () => {
    setChecking(true);
    try {
      const d = await gql(VIEWER_QUERY);
      setViewer(d.viewer);
      setError(null);
    } catch (e) {
      session.signOut();
      setViewer(null);
      setError(t("signIn.failed", { message: e.message }));
    } finally {
      setChecking(false);
    }
  };
  useEffect(() => {
    if (session.token()) signIn();
    const out = () => setViewer(null);
    window.addEventListener("brand-gateway:signed-out", out);
    return () => window.removeEventListener("brand-gateway:signed-out", out);
  }, []);

  const switchLanguage = (code) => {
    setLanguage(code);
    setLang(code);
  };
  const header = html`<header class="top">
    <h1>${t("app.title")}</h1>
    <div class="top-actions">
      <label>${t("app.language")}
        <select value=${language()} onChange=${(e) => switchLanguage(e.target.value)}>
          ${LANGUAGES.map(([code, name]) => html`<option value=${code}>${name}</option>`)}
        </select>
      </label>
      ${viewer && html`<span class="who">${viewer.brand ? viewer.brand.name + " · " : ""}${t("role." + viewer.role)}</span>
        <a href="/graphiql" target="_blank">${t("app.graphiql")}</a>
        <button class="link" onClick=${() => { session.signOut(); setViewer(null); }}>${t("app.signOut")}</button>`}
    </div>
  </header>`;

  if (checking) return html`${header}<main><p class="muted">${t("app.loading")}</p></main>`;
  if (!viewer) return html`${header}<main><${SignIn} error=${error} onSignIn=${(token) => {
    session.signIn(token);
    signIn();
  }} /></main>`;
  return html`${header}<${Views} viewer=${viewer} />`;
}

function SignIn({ error, onSignIn }) {
  const [token, setToken] = useState("");
  return html`<form class="panel sign-in" onSubmit=${(e) => { e.preventDefault(); onSignIn(token.trim()); }}>
    <h2>${t("signIn.title")}</h2>
    <p class="muted">${t("signIn.help")}</p>
    <label for="token">${t("signIn.token")}</label>
    <textarea id="token" rows="4" value=${token} onInput=${(e) => setToken(e.target.value)}
      autocomplete="off" spellcheck="false" required></textarea>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <button class="primary" type="submit" disabled=${!token.trim()}>${t("signIn.submit")}</button>
  </form>`;
}

function Views({ viewer }) {
  const views = VIEWS[viewer.role] ?? [];
  const [path, setPath] = useState(routeOf());
  const [error, setError] = useState(null);
  useEffect(() => {
    const moved = () => { clearOperations(); setError(null); setPath(routeOf()); };
    window.addEventListener("hashchange", moved);
    return () => window.removeEventListener("hashchange", moved);
  }, []);
  const current = views.find(([r]) => r === path[0]) ?? views[0];
  if (!current) {
    return html`<main><section class="panel">
      <h2>${t("home.title", { subject: viewer.subject })}</h2>
      <p>${t("home.noViews")}</p>
    </section></main>`;
  }
  const [, , View] = current;
  return html`<nav class="tabs" aria-label="views">
      ${views.map(([r, title]) => html`<a href=${"#/" + r} aria-current=${r === current[0] ? "page" : null}>${t(title)}</a>`)}
    </nav>
    <main>
      ${error && html`<p class="error banner" role="alert">${
        error.code === "UNAUTHENTICATED" ? t("error.UNAUTHENTICATED") : t("error.generic", { message: error.message })
      }</p>`}
      <${View} key=${current[0]} onError=${setError} path=${path[0] === current[0] ? path : [current[0]]} go=${go}
        viewer=${viewer} />
      <${ShowGraphql} />
    </main>`;
}

/** The operations this view ran, as a partner would send them. */
function ShowGraphql() {
  const [open, setOpen] = useState(false);
  const [ops, setOps] = useState(operations());
  useEffect(() => onOperations((list) => setOps([...list])), []);
  return html`<section class="panel graphql">
    <button class="secondary" aria-expanded=${open} onClick=${() => setOpen(!open)}>
      ${open ? t("graphql.hide") : t("graphql.show")}
    </button>
    ${open && (ops.length === 0
      ? html`<p class="muted">${t("graphql.none")}</p>`
      : ops.map((o) => html`<div class="operation">
          <div class="operation-head"><strong>${o.name}</strong>
            <button class="link" onClick=${() => openInGraphiql(o)}>${t("graphql.open")}</button></div>
          <pre><code>${o.query}</code></pre>
          ${Object.keys(o.variables || {}).length > 0 && html`<pre><code>${JSON.stringify(o.variables, null, 2)}</code></pre>`}
        </div>`))}
  </section>`;
}

const root = document.getElementById("app");
root.textContent = "";
render(html`<${App} />`, root);
