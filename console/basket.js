// "Try a basket": what a member the operator makes up would get in the
// store now. The API prices it (`sampleQuote`) with the checkout's own
// engine and budgets, so the answer is what a real member in that cell who
// has used none of the benefits would be granted.

import { html, useEffect, useState } from "./vendor/preact-htm.module.js";
import { gql, markReady } from "./api.js";
import { fmtMoney, t, valueLabel } from "./i18n.js";
import { AGE_BANDS, CITY_TIERS, INTERESTS, TIERS, allBenefits, namer, toFen } from "./operator.js";

const QUOTE_QUERY = `query SampleQuote($input: SampleQuoteInput!) {
  sampleQuote(input: $input) {
    subtotalCents discountCents totalCents
    lines { sku quantity subtotalCents discountCents totalCents }
    benefits { benefitId kind outcome overriddenBy reason value upgraded amountCents }
  }
}`;

const blankLine = () => ({ sku: "", quantity: "1", unit: "" });

/** A whole number typed by a person, or -1 when it isn't one (the API then says what is wrong). */
const whole = (text) => (/^\s*-?\d{1,9}\s*$/.test(text) ? Number(text) : -1);

/** The member and basket form, and the quote it gets. */
export function BasketView({ onError }) {
  const [member, setMember] = useState({
    tier: "GOLD", paidMember: false, blackCard: false, ageBand: "", cityTier: "",
    interests: [], birthDate: "", recentStoreOrders: "0",
  });
  const [lines, setLines] = useState([{ sku: "SKU-1", quantity: "1", unit: "299" }]);
  const [name, setNamer] = useState(() => namer([]));
  const [quote, setQuote] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    allBenefits(["ACTIVE"])
      .then((benefits) => { setNamer(() => namer(benefits)); markReady(); })
      .catch(onError);
  }, []);
  const set = (key, value) => setMember({ ...member, [key]: value });
  const setLine = (i, key, value) => setLines(lines.map((l, j) => (j === i ? { ...l, [key]: value } : l)));
  const toggle = (code) => set("interests", member.interests.includes(code)
    ? member.interests.filter((c) => c !== code) : [...member.interests, code]);
  const ask = async (e) => {
    e.preventDefault();
    const input = {
      member: {
        tier: member.tier, paidMember: member.paidMember, blackCard: member.blackCard,
        ageBand: member.ageBand || null, cityTier: member.cityTier || null, interests: member.interests,
        birthDate: member.birthDate || null, recentStoreOrders: whole(member.recentStoreOrders),
      },
      // A price the person typed that is not yuan goes as -1: the API says what is wrong with it.
      lines: lines.map((l) => ({ sku: l.sku, quantity: whole(l.quantity), unitCents: toFen(l.unit) ?? -1 })),
    };
    try {
      setQuote((await gql(QUOTE_QUERY, { input })).sampleQuote);
      setError(null);
    } catch (err) {
      if (err.code === "BAD_USER_INPUT") { setError(err.message); setQuote(null); } else onError(err);
    }
  };
  // Age band and city tier may stay unknown: a benefit targeting them then does not reach the member.
  const select = (key, label, options) => html`<label for=${"bk-" + key}>${t(label)}</label>
    <select id=${"bk-" + key} value=${member[key]} onChange=${(e) => set(key, e.target.value)}>
      <option value="">${t("bk.unknown")}</option>
      ${options.map((o) => html`<option value=${o}>${valueLabel(o)}</option>`)}
    </select>`;
  return html`<div class="columns two">
    <form class="panel" onSubmit=${ask}>
      <h2>${t("bk.title")}</h2>
      <p class="muted small">${t("bk.help")}</p>
      <fieldset><legend>${t("bk.member")}</legend>
        <div class="field">
          <label for="bk-tier">${t("dim.GROWTH_TIER")}</label>
          <select id="bk-tier" value=${member.tier} onChange=${(e) => set("tier", e.target.value)}>
            ${TIERS.map((o) => html`<option value=${o}>${valueLabel(o)}</option>`)}
          </select>
        </div>
        <label><input id="bk-paid" type="checkbox" checked=${member.paidMember}
          onChange=${() => set("paidMember", !member.paidMember)} /> ${t("bk.paid")}</label>
        <label><input id="bk-black" type="checkbox" checked=${member.blackCard}
          onChange=${() => set("blackCard", !member.blackCard)} /> ${t("bk.black")}</label>
        <div class="field">${select("ageBand", "dim.AGE_BAND", AGE_BANDS)}</div>
        <div class="field">${select("cityTier", "dim.CITY_TIER", CITY_TIERS)}</div>
        <div class="chips" role="group" aria-label=${t("bk.interests")}>
          ${INTERESTS.map((c) => html`<label class="chip">
            <input type="checkbox" checked=${member.interests.includes(c)} onChange=${() => toggle(c)} />${valueLabel(c)}
          </label>`)}
        </div>
        <div class="field"><label for="bk-birthDate">${t("bk.birthDate")}</label>
          <input id="bk-birthDate" type="date" value=${member.birthDate} onInput=${(e) => set("birthDate", e.target.value)} /></div>
        <div class="field"><label for="bk-orders">${t("bk.orders")}</label>
          <input id="bk-orders" type="number" min="0" max="1000" value=${member.recentStoreOrders}
            onInput=${(e) => set("recentStoreOrders", e.target.value)} /></div>
      </fieldset>
      <fieldset><legend>${t("bk.basket")}</legend>
        <table class="list basket-lines">
          <thead><tr><th scope="col">${t("bk.sku")}</th><th scope="col">${t("bk.quantity")}</th>
            <th scope="col">${t("bk.unit")}</th><th></th></tr></thead>
          <tbody>${lines.map((l, i) => html`<tr>
            <td><input id=${"bk-sku-" + i} aria-label=${t("bk.sku")} value=${l.sku} onInput=${(e) => setLine(i, "sku", e.target.value)} /></td>
            <td><input id=${"bk-quantity-" + i} aria-label=${t("bk.quantity")} type="number" min="1" value=${l.quantity}
              onInput=${(e) => setLine(i, "quantity", e.target.value)} /></td>
            <td><input id=${"bk-unit-" + i} aria-label=${t("bk.unit")} inputmode="decimal" value=${l.unit}
              onInput=${(e) => setLine(i, "unit", e.target.value)} /></td>
            <td>${lines.length > 1 && html`<button type="button" class="secondary"
              aria-label=${`${t("bk.removeLine")} ${i + 1}`}
              onClick=${() => setLines(lines.filter((_, j) => j !== i))}>${t("bk.removeLine")}</button>`}</td>
          </tr>`)}</tbody>
        </table>
        <button type="button" class="secondary" onClick=${() => setLines([...lines, blankLine()])}>${t("bk.addLine")}</button>
      </fieldset>
      <div class="actions"><button class="primary" type="submit">${t("bk.quote")}</button></div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </form>
    ${quote && html`<section class="panel quote">
      <dl class="facts">
        <dt>${t("bk.subtotal")}</dt><dd>${fmtMoney(quote.subtotalCents)}</dd>
        <dt>${t("bk.discount")}</dt><dd class="discount">${fmtMoney(quote.discountCents)}</dd>
        <dt>${t("bk.total")}</dt><dd class="total"><strong>${fmtMoney(quote.totalCents)}</strong></dd>
      </dl>
      <table class="list quoted">
        <thead><tr><th scope="col">${t("bk.benefit")}</th><th scope="col">${t("bk.outcome")}</th>
          <th scope="col">${t("bk.amount")}</th></tr></thead>
        <tbody>${quote.benefits.map((b) => html`<tr data-benefit=${b.benefitId} data-outcome=${b.outcome}>
          <td>${name(b.benefitId)}${b.upgraded ? " ↑" : ""}</td>
          <td>${t("outcome." + b.outcome)}${b.overriddenBy ? html`<div class="muted small">${t("bk.lostTo", {
            name: name(b.overriddenBy), reason: t("override." + b.reason),
          })}</div>` : ""}</td>
          <td>${b.amountCents ? fmtMoney(b.amountCents) : "—"}</td>
        </tr>`)}</tbody>
      </table>
      <table class="list">
        <thead><tr><th scope="col">${t("bk.sku")}</th><th scope="col">${t("bk.quantity")}</th>
          <th scope="col">${t("bk.subtotal")}</th><th scope="col">${t("bk.discount")}</th><th scope="col">${t("bk.total")}</th></tr></thead>
        <tbody>${quote.lines.map((l) => html`<tr><td>${l.sku}</td><td>${l.quantity}</td><td>${fmtMoney(l.subtotalCents)}</td>
          <td>${fmtMoney(l.discountCents)}</td><td>${fmtMoney(l.totalCents)}</td></tr>`)}</tbody>
      </table>
    </section>`}
  </div>`;
}
