// The operators' console: fleet tiles, actions, today's runs, failed ranges,
// queues, browser holders, workers and a 24-hour chart. Refreshes every 5 s.
"use strict";

(() => {
  const { api, toast, confirmAction, el, time, day, num, duration, ago, every, $, TEXT } = Reporter;

  const STATUS_TEXT = TEXT.runStatus;
  const HEALTH_TEXT = { healthy: "bien", degraded: "degradado", unhealthy: "caído" };
  const ORIGIN_TEXT = { schedule: "agenda", manual: "manual", backfill: "recuperada" };
  const hh = (h) => `${String(h).padStart(2, "0")}:00`;

  function fillTable(id, rows, emptyId) {
    $(id).querySelector("tbody").replaceChildren(...rows);
    if (emptyId) $(emptyId).hidden = rows.length > 0;
  }

  function setTile(id, level) {
    $(id).classList.remove("ok", "warn", "bad");
    if (level) $(id).classList.add(level);
  }

  async function refresh() {
    const calls = await Promise.allSettled([
      api("GET", "/api/v1/healthz"),
      api("GET", "/api/reporter/admin/queues"),
      api("GET", "/api/reporter/admin/workers"),
      api("GET", "/api/reporter/admin/semaphore"),
      api("GET", "/api/reporter/admin/runs"),
      api("GET", "/api/reporter/admin/failed-ranges"),
      api("GET", "/api/reporter/admin/activity"),
      api("GET", "/api/reporter/admin/schedule"),
    ]);
    const failed = calls.filter((c) => c.status === "rejected");
    if (failed.length) {
      $("console-error-text").textContent = `Algunos datos no se pudieron cargar: ${failed[0].reason.message}`;
      $("console-error").hidden = false;
    } else {
      $("console-error").hidden = true;
    }
    const [health, queues, workers, sem, runs, failedRanges, activity, schedule] =
      calls.map((c) => (c.status === "fulfilled" ? c.value : null));
    if (health) renderHealth(health);
    if (queues) renderQueues(queues);
    if (workers) renderWorkers(workers);
    if (sem) renderSemaphore(sem);
    if (runs) renderRuns(runs);
    if (failedRanges) renderFailed(failedRanges);
    if (activity) renderChart(activity);
    if (schedule) renderSchedule(schedule);
    $("refreshed-at").textContent = `actualizado a las ${time(new Date().toISOString())}`;
  }

  function renderHealth(h) {
    $("health-value").textContent = HEALTH_TEXT[h.status] || h.status;
    const bad = Object.entries(h.checks || {}).filter(([, p]) => p.status !== "healthy").map(([k]) => k);
    $("health-sub").textContent = bad.length ? `revisar: ${bad.join(", ")}` : "base de datos y Redis";
    setTile("tile-health", h.status === "healthy" ? "ok" : h.status === "degraded" ? "warn" : "bad");
    const beat = h.fleet && h.fleet.beat;
    if (beat) {
      const s = beat.seconds_since_reconcile;
      $("beat-value").textContent = s === null || s === undefined
        ? "nunca"
        : s < 90 ? `hace ${s} s` : `hace ${Math.floor(s / 60)} min`;
      const err = beat.last_error_at && (!beat.last_reconcile_at || beat.last_error_at > beat.last_reconcile_at)
        ? ` · último error: ${beat.last_error}` : "";
      $("beat-sub").textContent = (s === null || s === undefined
        ? "ningún beat ha revisado la agenda" : HEALTH_TEXT[beat.status] || beat.status) + err;
      $("beat-sub").dataset.base = $("beat-sub").textContent;
      setTile("tile-beat", beat.status === "healthy" ? "ok" : beat.status === "degraded" ? "warn" : "bad");
    }
  }

  function renderQueues(qs) {
    fillTable("queues-table", qs.map((q) => el("tr", {},
      el("th", { scope: "row", text: q.queue }),
      el("td", { text: num(q.waiting) }),
      el("td", { text: num(q.scheduled) }),
      el("td", { text: num(q.in_flight) }),
      el("td", { class: q.dead > 0 ? "bad-text" : "", text: num(q.dead) }))));
  }

  function renderWorkers(ws) {
    $("workers-value").textContent = num(ws.length);
    $("workers-sub").textContent = ws.length ? "vistos en el último minuto" : "ninguno";
    setTile("tile-workers", ws.length ? "ok" : "warn");
    fillTable("workers-table", ws.map((w) => el("tr", {},
      el("th", { scope: "row", text: w.worker }),
      el("td", { text: `${w.host} (pid ${w.pid})` }),
      el("td", { text: ago(w.started_at) }),
      el("td", { text: ago(w.last_seen) }),
      el("td", { text: w.doing.length ? w.doing.join(" · ") : "esperando trabajo" }))), "workers-empty");
  }

  function renderSemaphore(s) {
    $("browsers-value").textContent = `${s.in_use} / ${s.limit}`;
    setTile("tile-browsers", s.in_use >= s.limit ? "warn" : "ok");
    fillTable("holders-table", s.holders.map((h) => el("tr", {},
      el("th", { scope: "row", text: h.worker }),
      el("td", { text: h.job }),
      el("td", { text: ago(h.since) }),
      el("td", { text: time(h.expires_at) }))), "holders-empty");
  }

  function renderRuns(day) {
    fillTable("runs-table", day.runs.map((r) => el("tr", { "data-run": String(r.id) },
      el("th", { scope: "row", text: r.hour_label },
        r.report_mode === "shadow" ? el("span", { class: "badge shadow", text: "ensayo" }) : null),
      el("td", {}, el("span", { class: `badge ${r.status}`, text: STATUS_TEXT[r.status] || r.status })),
      el("td", { text: time(r.started_at) }),
      el("td", { text: duration(r.duration_seconds) }),
      el("td", { class: r.late ? "bad-text" : "", text: r.late ? "tarde" : "sí" }),
      el("td", { class: r.late_start ? "bad-text" : "", text: ORIGIN_TEXT[r.origin] + (r.late_start ? " · inicio tardío" : "") }),
      el("td", { text: r.users_failed ? `${r.users} (${r.users_failed} con fallo)` : num(r.users) }),
      el("td", { text: `${r.ranges_completed}/${r.ranges_total}` + (r.ranges_failed ? ` · ${r.ranges_failed} fallidos` : "") }),
      el("td", { text: `${num(r.orders_reported)} de ${num(r.stuck_orders)}` +
        (r.users_shadow ? ` · ensayo: ${num(r.would_report)} se habrían reportado` : "") }))), "runs-empty");
  }

  function renderSchedule(o) {
    const paused = o.pauses.filter((p) => new Date(p.paused_from) <= new Date());
    $("schedule-summary").textContent = `Ventana ${o.window} · se recupera una hora perdida hasta ` +
      (o.catch_up === "rest of the business day" ? "el final de su día" : o.catch_up.replace("minutes", "minutos")) +
      ` · ${o.missed.filter((m) => m.run_id === null).length} horas perdidas sin recuperar` +
      (paused.length ? ` · ${paused.length} pausa(s) activa(s)` : "") +
      (o.last_prune
        ? ` · última limpieza de datos ${time(o.last_prune.finished_at)}: ` +
          (o.last_prune.error ? `con error (${o.last_prune.error})`
            : `${num(Object.values(o.last_prune.tables).reduce((a, b) => a + b, 0))} filas`)
        : " · sin limpieza de datos todavía");
    const list = $("upcoming-list");
    list.replaceChildren(...o.upcoming.map((u) => el("li", { class: u.paused ? "warn" : "" ,
      text: `${time(u.scheduled_at)} · ${u.reservations} cliente(s)` + (u.paused ? " · en pausa" : "") })));
    $("upcoming-empty").hidden = o.upcoming.length > 0;
    fillTable("pauses-table", o.pauses.map((p) => el("tr", { "data-pause": String(p.id) },
      el("th", { scope: "row", text: p.hour === null ? "todas" : hh(p.hour) }),
      el("td", { text: `${day(p.paused_from)} ${time(p.paused_from)}` }),
      el("td", { text: p.paused_until ? `${day(p.paused_until)} ${time(p.paused_until)}` : "hasta reanudar" }),
      el("td", { text: p.note || "—" }),
      el("td", {}, el("button", {
        type: "button",
        "aria-label": `Reanudar ${p.hour === null ? "todas las horas" : hh(p.hour)}`,
        onclick: (e) => resume(p.hour, e.currentTarget),
        text: "Reanudar",
      })))), "pauses-empty");
    fillTable("missed-table", o.missed.map((m) => el("tr", { "data-missed": `${m.business_date} ${m.hour}` },
      el("th", { scope: "row", text: `${m.business_date} ${hh(m.hour)}` }),
      el("td", { text: num(m.reservations) }),
      el("td", { text: `${day(m.recorded_at)} ${time(m.recorded_at)}` }),
      el("td", {}, m.run_id !== null
        ? el("span", { class: "badge completed", text: `recuperada (ejecución ${m.run_id})` })
        : el("button", {
          type: "button",
          class: "backfill",
          "aria-label": `Recuperar ${m.business_date} ${hh(m.hour)}`,
          onclick: (e) => backfill(m.business_date, m.hour, m.reservations, e.currentTarget),
          text: "Recuperar…",
        })))), "missed-empty");
    const tile = $("beat-sub");
    const unrecovered = o.missed.filter((m) => m.run_id === null).length;
    const base = tile.dataset.base || "";
    if (unrecovered) {
      tile.textContent = `${base} · ${unrecovered} hora(s) perdida(s)`;
      setTile("tile-beat", "bad");
    } else if (paused.length) {
      tile.textContent = `${base} · agenda en pausa`;
    } else {
      tile.textContent = base;
    }
  }

  async function resume(hour, button) {
    const what = hour === null ? "todas las horas" : `las ${hh(hour)}`;
    const ok = await confirmAction(`¿Reanudar ${what}?`,
      "Las horas cuyo momento cayó dentro de la pausa siguen sin ejecutarse; las siguientes se ejecutan con normalidad.",
      "Sí, reanudar");
    if (!ok) return;
    button.disabled = true;
    try {
      const r = await api("POST", "/api/reporter/admin/schedule/resume", hour === null ? {} : { hour });
      toast(r.resumed ? `Reanudadas ${r.resumed} pausa(s).` : "No había pausas activas.", "success");
      await refresh();
    } catch (err) {
      toast(err.message, "error");
      button.disabled = false;
    }
  }

  async function backfill(date, hour, customers, button) {
    const ok = await confirmAction(`¿Recuperar las ${hh(hour)} del ${date}?`,
      `Se ejecutará ahora para ${customers} cliente(s), marcada como recuperada. Descarga los pedidos de hoy.`,
      "Sí, recuperar");
    if (!ok) return;
    button.disabled = true;
    try {
      await api("POST", "/api/reporter/admin/schedule/backfill", { date, hour });
      toast(`Recuperación de las ${hh(hour)} del ${date} en cola.`, "success");
      await refresh();
    } catch (err) {
      toast(err.message, "error");
      button.disabled = false;
    }
  }

  $("pause-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const value = $("pause-hour").value;
    const what = value === "" ? "todas las horas" : `las ${hh(Number(value))}`;
    const ok = await confirmAction(`¿Pausar ${what}?`,
      "Mientras dure la pausa esas horas no se ejecutan ni cuentan como perdidas, aunque luego se reanude. Dura hasta que la reanudes.",
      "Sí, pausar");
    if (!ok) return;
    $("pause-button").disabled = true;
    try {
      const body = { note: $("pause-note").value.trim() };
      if (value !== "") body.hour = Number(value);
      await api("POST", "/api/reporter/admin/schedule/pause", body);
      $("pause-status").textContent = `Pausadas ${what}.`;
      $("pause-note").value = "";
      await refresh();
    } catch (err) {
      $("pause-status").textContent = err.message;
    } finally {
      $("pause-button").disabled = false;
    }
  });

  function renderFailed(list) {
    fillTable("failed-table", list.map((f) => el("tr", { "data-range": String(f.range_id) },
      el("th", { scope: "row", text: `#${f.range_id} (${f.range_start}–${f.range_end})` }),
      el("td", { text: `${f.hour_label} · ejecución ${f.run_id}` }),
      el("td", { text: f.email }),
      el("td", { text: `${f.orders_reported} reportados` }),
      el("td", { text: String(f.attempts) }),
      el("td", { class: "error-cell", text: f.error || "—" }),
      el("td", {}, f.screenshot_url
        ? el("a", { href: f.screenshot_url, target: "_blank", rel: "noopener", text: "Ver captura" })
        : el("span", { class: "muted", text: "sin captura" })),
      el("td", {}, el("button", {
        type: "button",
        class: "retry",
        "aria-label": `Reintentar rango ${f.range_id}`,
        onclick: (e) => retry(f.range_id, e.currentTarget),
        text: "Reintentar",
      })))), "failed-empty");
  }

  async function retry(id, button) {
    button.disabled = true;
    try {
      await api("POST", `/api/reporter/admin/ranges/${id}/retry`);
      toast(`Rango ${id} en cola de nuevo.`, "success");
      await refresh();
    } catch (err) {
      toast(err.message, "error");
      button.disabled = false;
    }
  }

  // Bars: reports per hour (left scale). Line: peak browsers (right scale).
  function renderChart(hours) {
    const NS = "http://www.w3.org/2000/svg";
    const W = 720, H = 220, L = 40, R = 30, T = 12, B = 28;
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("aria-hidden", "true");
    const maxReports = Math.max(1, ...hours.map((h) => h.reports));
    const maxBrowsers = Math.max(1, ...hours.map((h) => h.browser_peak));
    const slot = (W - L - R) / Math.max(1, hours.length);
    const y = (v, max) => T + (H - T - B) * (1 - v / max);
    const add = (tag, attrs, text) => {
      const n = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
      if (text !== undefined) n.textContent = text;
      svg.append(n);
      return n;
    };
    add("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" });
    add("text", { x: L - 6, y: T + 8, class: "tick", "text-anchor": "end" }, String(maxReports));
    add("text", { x: L - 6, y: H - B, class: "tick", "text-anchor": "end" }, "0");
    add("text", { x: W - R + 6, y: T + 8, class: "tick" }, String(maxBrowsers));
    const points = [];
    hours.forEach((h, i) => {
      const x = L + i * slot;
      const top = y(h.reports, maxReports);
      const bar = add("rect", { x: x + 2, y: top, width: Math.max(1, slot - 4), height: H - B - top, class: "bar-reports" });
      const tip = document.createElementNS(NS, "title");
      tip.textContent = `${h.hour_label}: ${h.reports} reportes, hasta ${h.browser_peak} navegadores`;
      bar.append(tip);
      points.push(`${x + slot / 2},${y(h.browser_peak, maxBrowsers)}`);
      if (i % 3 === 0) add("text", { x: x + slot / 2, y: H - 8, class: "tick", "text-anchor": "middle" }, h.hour_label);
    });
    add("polyline", { points: points.join(" "), class: "line-browsers" });
    $("chart").replaceChildren(svg);
    const total = hours.reduce((a, h) => a + h.reports, 0);
    const peak = Math.max(0, ...hours.map((h) => h.browser_peak));
    $("chart").setAttribute("aria-label",
      `Últimas 24 horas: ${total} reportes en total; máximo de ${peak} navegadores activos a la vez.`);
  }

  // Defaults to the current hour and date in the reporter's time zone, which
  // is how the API reads them (not necessarily the operator's own zone).
  function fillTriggerForm() {
    const tz = document.querySelector('meta[name="timezone"]')?.content || undefined;
    const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
      timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date()).map((p) => [p.type, p.value]));
    const sel = $("trigger-hour");
    for (let h = 0; h < 24; h++) {
      sel.append(el("option", { value: String(h), text: `${String(h).padStart(2, "0")}:00` }));
    }
    sel.value = String(Number(parts.hour));
    for (let h = 0; h < 24; h++) $("pause-hour").append(el("option", { value: String(h), text: hh(h) }));
    $("trigger-date").value = `${parts.year}-${parts.month}-${parts.day}`;
  }

  $("trigger-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const hour = Number($("trigger-hour").value), date = $("trigger-date").value;
    const shadow = $("trigger-shadow").checked;
    const label = $("trigger-hour").selectedOptions[0].text;
    const ok = shadow
      ? await confirmAction("¿Ensayar la franja ahora?",
        `Se encolará un ensayo de la franja de las ${label} del ${date}: revisa cada orden estancada en el portal sin reportar ninguna.`,
        "Sí, ensayar")
      : await confirmAction("¿Ejecutar la franja ahora?",
        `Se encolará la franja de las ${label} del ${date}. Si ya tiene ejecución, no se crea otra.`,
        "Sí, ejecutar");
    if (!ok) return;
    $("trigger-button").disabled = true;
    $("trigger-status").textContent = "Encolando…";
    try {
      const t = await api("POST", "/api/reporter/admin/trigger-slot", { hour, date, shadow });
      $("trigger-status").textContent = t.shadow
        ? `Ensayo de la franja de las ${t.hour_label} encolado (no reporta nada).`
        : `Franja de las ${t.hour_label} encolada.`;
      await refresh();
    } catch (err) {
      $("trigger-status").textContent = err.message;
    } finally {
      $("trigger-button").disabled = false;
    }
  });

  $("reset-semaphore").addEventListener("click", async () => {
    const ok = await confirmAction("¿Reiniciar el semáforo de navegadores?",
      "Todos los que tienen un navegador lo perderán y sus trabajos se reintentarán. Úsalo solo si el semáforo quedó bloqueado.",
      "Sí, reiniciar");
    if (!ok) return;
    try {
      await api("POST", "/api/reporter/admin/semaphore/reset");
      $("reset-status").textContent = "Semáforo reiniciado.";
      await refresh();
    } catch (err) {
      $("reset-status").textContent = err.message;
    }
  });

  fillTriggerForm();
  every(5000, refresh);
})();

// The hour planner (docs/planner.md): per hour, a bar of the browser-minutes
// its customers are predicted to need against the hour's budget, flagged when
// over, with the customers behind it; and how far the last 14 days'
// predictions were from the runs' real durations. Its own refresh: the plan
// changes only with reservations and daily history, so every 60 s is enough.
(() => {
  const { api, el, $ } = Reporter;
  const mins = (m) => `${Math.round(m)} min`;

  function renderPlan(p) {
    const over = p.hours.filter((h) => h.over_budget);
    $("plan-summary").textContent =
      `Cada hora tiene ${mins(p.available_minutes)} de navegador (${p.max_active_selenium} navegadores × 60 min, ` +
      `con ${Math.round(p.margin * 100)} % de margen). Admisión: ` +
      (p.admission === "time" ? "por tiempo (se rechazan reservas que excedan el presupuesto)" : "por puntos (se avisa al exceder el presupuesto)") +
      `. ${over.length ? `${over.length} ${over.length === 1 ? "hora excede" : "horas exceden"} su presupuesto.` : "Ninguna hora excede su presupuesto."}`;
    const scale = Math.max(1, ...p.hours.map((h) => Math.max(h.predicted_minutes, h.available_minutes)));
    const items = p.hours.map((h) => {
      const pct = (v) => `${Math.min(100, (v / scale) * 100).toFixed(1)}%`;
      const label = `${h.hour_label}: ${mins(h.predicted_minutes)} previstos de ${mins(h.available_minutes)} disponibles` +
        (h.over_budget ? " (excede el presupuesto)" : "");
      const fill = el("span", { class: "plan-fill" });
      fill.style.width = pct(h.predicted_minutes);
      const budget = el("span", { class: "plan-budget", "aria-hidden": "true" });
      budget.style.left = pct(h.available_minutes);
      const customers = h.customers.map((c) =>
        `${c.email} ${mins(c.predicted_minutes)}${c.from_history ? "" : "*"}`).join(" · ");
      return el("li", { class: `plan-hour${h.over_budget ? " over" : ""}`, "data-hour": String(h.hour) },
        el("span", { class: "plan-label" }, h.hour_label),
        el("span", { class: "plan-bar", role: "img", "aria-label": label }, fill, budget),
        el("span", { class: "plan-numbers" },
          `${Math.round(h.predicted_minutes)} / ${Math.round(h.available_minutes)} min`,
          h.over_budget ? el("strong", { class: "plan-flag" }, " excede") : null),
        el("span", { class: "plan-customers muted small" }, customers || "sin reservas"));
    });
    $("plan-hours").replaceChildren(...items);
    $("plan-empty").hidden = items.length > 0;
    const e = p.prediction_error;
    $("plan-error").textContent = e.runs
      ? `Error de predicción (últimos ${e.days} días, ${e.runs} ejecuciones): mediana del error absoluto ${e.median_abs_error_minutes.toFixed(1)} min, ` +
        `sesgo ${e.bias_minutes >= 0 ? "+" : ""}${e.bias_minutes.toFixed(1)} min (${e.bias_minutes >= 0 ? "sobreestima" : "subestima"}).`
      : `Error de predicción (últimos ${e.days} días): aún no hay ejecuciones terminadas con predicción.`;
  }

  async function refreshPlan() {
    try {
      renderPlan(await api("GET", "/api/reporter/admin/plan"));
    } catch (err) {
      $("plan-summary").textContent = `No se pudo cargar el planificador: ${err.message}`;
    }
  }

  Reporter.every(60000, refreshPlan);
})();

// The portal check (docs/portal.md, "Portal check"): a worker logs into a
// customer's portal account and checks the profile's selectors and export
// columns without filing anything; polled until done, shown as a table.
(() => {
  const { api, el, $ } = Reporter;
  const STATUS = { queued: "En cola…", running: "Comprobando…" };
  const STEP = { login: "acceso", export: "exportación", column: "columna", order: "orden" };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function renderReport(r) {
    const rows = r.rows.map((row) => {
      const result = row.found ? "encontrado" : row.required ? "falta" : "falta (opcional)";
      const cls = row.found ? "check-found" : row.required ? "check-missing" : "check-optional";
      return el("tr", { class: cls },
        el("td", {}, STEP[row.step] || row.step),
        el("td", {}, el("code", {}, row.item)),
        el("td", {}, el("strong", {}, result)),
        el("td", { class: "num" }, String(row.ms)),
        el("td", { class: "small" }, row.detail || ""));
    });
    $("portal-check-table").querySelector("tbody").replaceChildren(...rows);
    $("portal-check-wrap").hidden = rows.length === 0;
    const misses = r.rows.filter((row) => row.required && !row.found).length;
    $("portal-check-status").textContent = r.ok
      ? `Todo lo que necesita el reporte está en el portal (${r.email}, perfil ${r.profile}, ${r.elapsed_ms} ms).`
      : `Falla la comprobación de ${r.email}: ${misses} ${misses === 1 ? "elemento falta" : "elementos faltan"}` +
        (r.error ? ` · ${r.error}` : "") + ".";
  }

  $("portal-check-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const email = $("portal-check-email").value.trim();
    $("portal-check-button").disabled = true;
    $("portal-check-wrap").hidden = true;
    $("portal-check-status").textContent = "Encolando…";
    try {
      const q = await api("POST", "/api/reporter/admin/portal-check", { email });
      for (;;) {
        const s = await api("GET", `/api/reporter/admin/portal-check/${q.id}`);
        if (s.status === "done") {
          renderReport(s.report);
          break;
        }
        $("portal-check-status").textContent = STATUS[s.status] || s.status;
        await sleep(1500);
      }
    } catch (err) {
      $("portal-check-status").textContent = err.message;
    } finally {
      $("portal-check-button").disabled = false;
    }
  });
})();
