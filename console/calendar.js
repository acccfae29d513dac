// The operator's benefit calendar: a month of Shanghai days, each listing
// the benefits whose schedule, early-access window or experience slot
// touches it. Which days a window touches is the API's answer
// (`benefitCalendar`), cut the way the checkout cuts time.

import { html, useEffect, useState } from "./vendor/preact-htm.module.js";
import { gql, markReady } from "./api.js";
import { addDays, fmtMonth, shanghaiToday, t } from "./i18n.js";

const CALENDAR_QUERY = `query BenefitCalendar($from: Date!) {
  benefitCalendar(from: $from, days: 42, states: [DRAFT, PENDING_REVIEW, APPROVED, ACTIVE, PAUSED, ENDED]) {
    benefit { id state definition { name } liveDefinition { name } } occasion startsAt endsAt days
  }
}`;

/** Most entries a day shows before "n more". */
const SHOWN = 4;
const MARKS = { RUNS: "", EARLY_ACCESS: "⏰ ", EXPERIENCE: "★ " };

/** The Monday on or before the first of `month` (`YYYY-MM`): the grid's first day. */
function gridStart(month) {
  const first = month + "-01";
  const weekday = (new Date(first + "T00:00:00Z").getUTCDay() + 6) % 7;
  return addDays(first, -weekday);
}

/** `month` (`YYYY-MM`) moved by `n` months. */
function addMonths(month, n) {
  const d = new Date(month + "-01T00:00:00Z");
  d.setUTCMonth(d.getUTCMonth() + n);
  return d.toISOString().slice(0, 7);
}

/** Six weeks around a month, each day with its entries. */
export function CalendarView({ onError }) {
  const today = shanghaiToday();
  const [month, setMonth] = useState(today.slice(0, 7));
  const [entries, setEntries] = useState(null);
  const from = gridStart(month);
  useEffect(() => {
    // A month asked for before this one may answer after it: ignore it.
    let current = true;
    setEntries(null);
    gql(CALENDAR_QUERY, { from })
      .then((d) => { if (current) { setEntries(d.benefitCalendar); markReady(); } })
      .catch((e) => { if (current) { setEntries([]); onError(e); } });
    return () => { current = false; };
  }, [from]);
  const days = Array.from({ length: 42 }, (_, i) => addDays(from, i));
  return html`<section class="panel">
    <div class="toolbar">
      <h2>${t("cal.title")} · ${fmtMonth(month)}</h2>
      <div class="actions">
        <button class="secondary" onClick=${() => setMonth(addMonths(month, -1))}>← ${t("cal.prev")}</button>
        <button class="secondary" onClick=${() => setMonth(today.slice(0, 7))}>${t("cal.today")}</button>
        <button class="secondary" onClick=${() => setMonth(addMonths(month, 1))}>${t("cal.next")} →</button>
      </div>
    </div>
    <p class="muted small">${t("cal.help")}</p>
    ${!entries ? html`<p class="muted">${t("app.loading")}</p>` : html`<div class="calendar" role="table" aria-label=${t("cal.title")}>
      <div class="calendar-row" role="row">${t("cal.weekdays").split(",").map((w) => html`<div class="calendar-head" role="columnheader">${w}</div>`)}</div>
      ${[0, 1, 2, 3, 4, 5].map((week) => html`<div class="calendar-row" role="row">
        ${days.slice(week * 7, week * 7 + 7).map((day) => {
          const on = entries.filter((e) => e.days.includes(day));
          return html`<div role="cell" data-day=${day}
              class=${"calendar-day" + (day.slice(0, 7) === month ? "" : " other-month") + (day === today ? " today" : "")}>
            <div class="calendar-date">${Number(day.slice(8))}</div>
            ${on.slice(0, SHOWN).map((e) => {
              // The name members meet (the live revision's), as the windows are.
              const name = (e.benefit.liveDefinition ?? e.benefit.definition).name;
              const said = `${name} · ${t("cal." + e.occasion)} · ${t("state." + e.benefit.state)}`;
              return html`<a href=${"#/benefits/" + e.benefit.id} class=${"calendar-entry state-" + e.benefit.state}
                data-occasion=${e.occasion} title=${said} aria-label=${said}>${MARKS[e.occasion]}${name}</a>`;
            })}
            ${on.length > SHOWN && html`<div class="muted small">${t("cal.more", { n: on.length - SHOWN })}</div>`}
          </div>`;
        })}
      </div>`)}
    </div>`}
  </section>`;
}
