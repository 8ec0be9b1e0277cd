// The customer's page: reserve an hour (grid with capacity bars and locks),
// then the dashboard: reservation, portal account, KPIs, live progress of the
// latest run (polled every 2 s) and the orders it reported, the last 30
// days (one row per day) and downloads of the reported orders (xlsx, CSV).
"use strict";

(() => {
  const { api, toast, confirmAction, el, time, day, num, setBar, every, $, points, TEXT } = Reporter;

  const state = {
    me: null,
    config: null,
    reservation: null,
    slots: [],
    mode: "new", // or "change"
    runId: null,
    reportedSeen: -1,
    // Fewer rows on a phone, where each row is a card.
    orders: { page: 1, perPage: window.matchMedia("(max-width: 640px)").matches ? 10 : 20, q: "", status: "" },
    poller: null,
    historyAt: 0, // when the history was last loaded (ms)
  };

  function showError(err) {
    $("page-loading").hidden = true;
    $("page-error-text").textContent = err.message;
    $("page-error").hidden = false;
  }

  function weightFor(orders) {
    for (const t of state.config.weights) {
      if (t.max_monthly_orders === null || orders <= t.max_monthly_orders) return t;
    }
    return state.config.weights[state.config.weights.length - 1];
  }

  function ordersValue() {
    const raw = $("orders").value.trim();
    if (raw === "" || !/^\d+$/.test(raw)) return null;
    return Number(raw);
  }

  async function load() {
    $("page-error").hidden = true;
    $("page-loading").hidden = false;
    try {
      const [me, config, reservation] = await Promise.all([
        api("GET", "/api/me"),
        api("GET", "/api/reporter/config"),
        api("GET", "/api/reporter/reservations"),
      ]);
      Object.assign(state, { me, config, reservation });
      $("page-loading").hidden = true;
      if (reservation) showDashboard();
      else await showReserve("new");
    } catch (err) {
      showError(err);
    }
  }

  // ---- Reservation grid ----------------------------------------------------

  async function showReserve(mode) {
    state.mode = mode;
    $("dashboard").hidden = true;
    $("reserve").hidden = false;
    $("reserve-title").textContent = mode === "new" ? "Reserva tu hora" : "Cambia tu hora";
    $("cancel-change").hidden = mode === "new";
    if (mode === "change") $("orders").value = String(state.reservation.monthly_orders_estimate);
    else if ($("orders").value === "") $("orders").value = String(state.me.monthly_orders_estimate || "");
    updateSize();
    await refreshGrid();
    $("orders").focus();
  }

  function updateSize() {
    const n = ordersValue();
    if (n === null) {
      $("size-label").textContent = "escribe tus pedidos";
      $("size-points").textContent = "";
    } else {
      const t = weightFor(n);
      $("size-label").textContent = t.label;
      $("size-points").textContent = `(${points(t.weight)} de capacidad)`;
    }
    renderGrid();
  }

  async function refreshGrid() {
    $("grid-status").textContent = "Cargando horas…";
    try {
      state.slots = await api("GET", "/api/reporter/slots");
      $("grid-status").textContent = "";
      renderGrid();
    } catch (err) {
      $("grid-status").textContent = err.message;
    }
  }

  function renderGrid() {
    const grid = $("hour-grid");
    grid.replaceChildren();
    const n = ordersValue();
    const weight = n === null ? null : weightFor(n).weight;
    if (!state.slots.length) {
      grid.append(el("li", { class: "empty", text: "No hay horas configuradas en la ventana del reporter." }));
      return;
    }
    for (const s of state.slots) {
      const mine = state.mode === "change" && state.reservation && state.reservation.slot_id === s.id;
      // Moving within the same hour frees our own points first.
      const used = mine ? s.used_points - state.reservation.calculated_weight : s.used_points;
      const fits = weight !== null && used + weight <= s.capacity_points;
      const pct = s.capacity_points > 0 ? (100 * s.used_points) / s.capacity_points : 100;
      const label = `${s.hour_label}: ${s.used_points} de ${s.capacity_points} puntos usados` +
        (mine ? ", tu hora actual" : "") + (fits ? "" : weight === null ? "" : ", sin espacio para tu tamaño");
      const btn = el("button", {
        type: "button",
        class: "hour" + (fits ? "" : " locked") + (mine ? " mine" : ""),
        "aria-label": label,
        "aria-disabled": fits ? null : "true",
        "data-slot": String(s.id),
        "data-hour": s.hour_label,
        onclick: () => { if (fits) pick(s); },
      },
      el("span", { class: "hour-label", text: s.hour_label }),
      el("span", { class: "hour-lock", "aria-hidden": "true" }),
      el("span", { class: "capacity" }, el("span", { class: "capacity-fill" })),
      el("span", { class: "hour-points", text: `${s.used_points}/${s.capacity_points}` }));
      btn.querySelector(".capacity-fill").style.width = Math.min(100, pct) + "%";
      if (!fits) btn.title = weight === null ? "Escribe primero tus pedidos al mes" : "Hora llena para tu tamaño";
      grid.append(el("li", {}, btn));
    }
  }

  async function pick(slot) {
    const n = ordersValue();
    if (n === null) {
      $("grid-status").textContent = "Escribe primero tus pedidos al mes.";
      $("orders").focus();
      return;
    }
    if (state.mode === "change") {
      const from = state.reservation.hour_label;
      const ok = await confirmAction(
        "¿Cambiar tu hora?",
        from === slot.hour_label
          ? `Seguirás a las ${from}, con el nuevo tamaño de tu cuenta.`
          : `Tu reporte diario pasará de las ${from} a las ${slot.hour_label}.`,
        "Sí, cambiar");
      if (!ok) return;
    }
    const buttons = document.querySelectorAll("#hour-grid button");
    buttons.forEach((b) => b.setAttribute("aria-busy", "true"));
    $("grid-status").textContent = `Reservando ${slot.hour_label}…`;
    try {
      const body = { slot_id: slot.id, monthly_orders_estimate: n };
      state.reservation = state.mode === "new"
        ? await api("POST", "/api/reporter/reservations", body)
        : await api("PATCH", "/api/reporter/reservations", body);
      // The planner's warning (an hour predicted past its browser time) is
      // worth more than the plain confirmation.
      toast(`Listo: tu hora es ${state.reservation.hour_label}. ${state.reservation.next_run_note}.` +
        (state.reservation.warning ? ` ${state.reservation.warning}` : ""),
        state.reservation.warning ? "info" : state.reservation.starts_tomorrow ? "info" : "success");
      $("grid-status").textContent = "";
      showDashboard();
    } catch (err) {
      // Lost a race (or the rule refused): say why, show the hours as they are now.
      $("grid-status").textContent = err.message;
      toast(err.message, "error");
      await refreshGrid();
      $("grid-status").textContent = err.message;
    } finally {
      buttons.forEach((b) => b.removeAttribute("aria-busy"));
    }
  }

  // ---- Dashboard -------------------------------------------------------------

  function showDashboard() {
    $("reserve").hidden = true;
    $("dashboard").hidden = false;
    renderAccount();
    initRange();
    loadHistory();
    loadRuns();
    if (!state.poller) state.poller = every(2000, refreshSummary);
    else state.poller.now();
  }

  function renderAccount() {
    const r = state.reservation, me = state.me;
    $("res-hour").textContent = `${r.hour_label} (cada día)`;
    $("res-next").textContent = r.next_run_note || "";
    $("res-next").className = r.starts_tomorrow ? "warn" : "";
    $("res-size").textContent = `${r.size_label} · ${num(r.monthly_orders_estimate)} pedidos al mes · ${points(r.calculated_weight)}`;
    $("res-portal").textContent = me.portal_password_set
      ? `Configurada (${me.portal_email})`
      : "Sin configurar: el bot no podrá entrar al portal";
    $("res-portal").className = me.portal_password_set ? "" : "warn";
    if (!me.portal_password_set) $("portal-details").open = true;
    if (me.portal_email && !$("portal-email").value) $("portal-email").value = me.portal_email;
  }

  const RESULT_TEXT = TEXT.runResult;

  async function refreshSummary() {
    let s;
    try {
      s = await api("GET", "/api/reporter/summary");
    } catch (err) {
      $("progress-live").textContent = `No se pudo actualizar: ${err.message}`;
      return;
    }
    $("kpi-today").textContent = num(s.reports.today);
    $("kpi-7").textContent = num(s.reports.last_7_days);
    $("kpi-30").textContent = num(s.reports.last_30_days);
    const last = s.last_run;
    if (!last) {
      $("kpi-stuck").textContent = "—";
      $("kpi-result").textContent = "todavía ninguna";
      $("progress-empty").hidden = false;
      $("progress-body").hidden = true;
      renderOrdersEmpty("Cuando termine tu primera ejecución verás aquí los pedidos reportados.");
      return;
    }
    $("kpi-stuck").textContent = num(last.total_pending_orders);
    $("kpi-result").textContent = RESULT_TEXT[last.result] || last.result;
    $("progress-empty").hidden = true;
    $("progress-body").hidden = false;
    renderProgress(last);
    $("progress-live").textContent = `Actualizado ${time(new Date().toISOString())}`;
    if (state.runId !== last.run.id || state.reportedSeen !== last.orders_reported) {
      const firstLoad = state.runId !== last.run.id;
      // A run that appears while the page is open (the first one is loaded with the page).
      const newRun = firstLoad && state.runId !== null;
      state.runId = last.run.id;
      state.reportedSeen = last.orders_reported;
      if (firstLoad) state.orders.page = 1;
      await loadOrders();
      if (newRun) loadRuns();
      // While a run files, the day's count moves; a few reads a minute suffice.
      if (newRun || Date.now() - state.historyAt > 30000) loadHistory();
    }
  }

  function renderProgress(last) {
    const run = last.run;
    $("progress-title").textContent = last.result === "running" || last.result === "waiting"
      ? "Ejecución en curso" : "Última ejecución";
    $("run-meta").textContent = `Franja de las ${run.hour_label} del ${day(run.scheduled_at)}` +
      (last.finished_at ? ` · terminó a las ${time(last.finished_at)}` : "");
    $("run-late").hidden = !run.late_start_note;
    $("run-late").textContent = run.late_start_note || "";
    const dc = last.download_compare_status;
    const p1 = dc === "completed" ? 100 : dc === "running" ? 50 : dc === "failed" ? 100 : 0;
    const p1Text = TEXT.downloadStep[dc] || dc;
    $("phase1-state").textContent = p1Text;
    setBar($("phase1-bar"), p1, p1Text);
    $("phase1-bar").classList.toggle("failed", dc === "failed");
    const total = last.total_pending_orders;
    const done = Math.min(last.orders_reported, total);
    const p2 = total > 0 ? (100 * done) / total : dc === "completed" ? 100 : 0;
    const p2Text = dc === "completed" && total === 0
      ? "nada que reportar"
      : `${num(done)} de ${num(total)} pedidos`;
    $("phase2-state").textContent = p2Text;
    setBar($("phase2-bar"), p2, p2Text);
    $("progress-message").textContent = last.error && dc === "failed"
      ? `${last.progress_message} (${last.error})`
      : last.progress_message;
  }

  // ---- Reported orders table -------------------------------------------------

  function renderOrdersEmpty(text) {
    $("orders-table").querySelector("tbody").replaceChildren();
    $("orders-state").textContent = text;
    $("orders-page").textContent = "";
    $("orders-prev").disabled = true;
    $("orders-next").disabled = true;
  }

  async function loadOrders() {
    if (!state.runId) return;
    const o = state.orders;
    const qs = new URLSearchParams({ page: String(o.page), per_page: String(o.perPage) });
    if (o.q) qs.set("q", o.q);
    if (o.status) qs.set("status", o.status);
    $("orders-table").setAttribute("aria-busy", "true");
    try {
      const page = await api("GET", `/api/reporter/runs/${state.runId}/reports?${qs}`);
      renderOrders(page);
    } catch (err) {
      $("orders-state").textContent = `No se pudieron cargar los pedidos: ${err.message}`;
    } finally {
      $("orders-table").removeAttribute("aria-busy");
    }
  }

  function renderOrders(page) {
    const sel = $("orders-status");
    const current = sel.value;
    const known = Array.from(sel.options).map((op) => op.value);
    for (const st of page.statuses) {
      if (!known.includes(st)) sel.append(el("option", { value: st, text: st }));
    }
    sel.value = current;
    const tbody = $("orders-table").querySelector("tbody");
    tbody.replaceChildren(...page.items.map((r) => el("tr", {},
      el("td", { "data-label": "Pedido", text: String(r.order_id) }),
      el("td", { "data-label": "Estado", text: r.status }),
      el("td", { "data-label": "Transportadora", text: r.carrier || "—" }),
      el("td", { "data-label": "Guía", text: r.tracking_number || "—" }),
      el("td", { "data-label": "Ticket", text: r.outcome === "already_reported" ? `${r.ticket || "—"} (ya estaba reportado)` : r.ticket }),
      el("td", { "data-label": "Hora", text: time(r.reported_at) }))));
    const pages = Math.max(1, Math.ceil(page.total / page.per_page));
    const filtered = state.orders.q || state.orders.status;
    if (page.total === 0) {
      $("orders-state").textContent = filtered
        ? "Ningún pedido coincide con el filtro. Prueba con otro texto o estado."
        : "Esta ejecución todavía no ha reportado pedidos.";
    } else {
      $("orders-state").textContent = `${num(page.total)} ${page.total === 1 ? "pedido" : "pedidos"}${filtered ? " con este filtro" : ""}.`;
    }
    $("orders-page").textContent = `Página ${page.page} de ${pages}`;
    $("orders-prev").disabled = page.page <= 1;
    $("orders-next").disabled = page.page >= pages;
  }

  // ---- History: one row per business day, newest first -------------------------

  // Business dates are plain days: formatted in UTC so no zone moves them.
  const dayLabel = new Intl.DateTimeFormat("es", { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" });
  const fmtDay = (iso) => dayLabel.format(new Date(iso + "T00:00:00Z"));

  async function loadHistory() {
    state.historyAt = Date.now();
    $("history-list").setAttribute("aria-busy", "true");
    try {
      renderHistory(await api("GET", "/api/reporter/history?days=30"));
      $("history-state").textContent = "";
    } catch (err) {
      $("history-state").textContent = `No se pudo cargar el historial: ${err.message}`;
    } finally {
      $("history-list").removeAttribute("aria-busy");
    }
  }

  function dayText(d) {
    if (d.runs === 0) return d.reported > 0 ? `${num(d.reported)} reportados` : "sin ejecución";
    if (d.result === "failed" && d.stuck_orders === 0 && d.reported === 0) return "no se pudo descargar tus pedidos";
    const stuck = `${num(d.stuck_orders)} sin movimiento`;
    if (d.result === "running" || d.result === "waiting") return `${stuck} · ${num(d.reported)} reportados (en curso)`;
    return `${stuck} · ${num(d.reported)} reportados`;
  }

  function renderHistory(h) {
    const t = h.totals;
    $("history-summary").textContent =
      `${num(t.reported)} pedidos reportados de ${num(t.stuck_orders)} sin movimiento` +
      (t.failed_days ? ` · ${t.failed_days} ${t.failed_days === 1 ? "día con fallos" : "días con fallos"}` : "") +
      (t.late_days ? ` · ${t.late_days} ${t.late_days === 1 ? "día con inicio tardío" : "días con inicio tardío"}` : "");
    const max = Math.max(1, ...h.days.map((d) => Math.max(d.reported, d.stuck_orders)));
    const rows = h.days.slice().reverse().map((d) => {
      const flags = [];
      if (d.failed) flags.push(el("span", { class: "badge failed", text: "falló" }));
      if (d.late) flags.push(el("span", { class: "badge late", text: "inicio tardío" }));
      const bar = el("span", { class: "day-bar", "aria-hidden": "true" },
        el("span", { class: "day-stuck" }), el("span", { class: "day-fill" }));
      bar.querySelector(".day-stuck").style.width = (100 * d.stuck_orders) / max + "%";
      bar.querySelector(".day-fill").style.width = (100 * d.reported) / max + "%";
      return el("li", {
        class: "day" + (d.failed ? " failed" : "") + (d.late ? " late" : "") + (d.runs === 0 ? " idle" : ""),
        "data-date": d.date,
      },
      el("span", { class: "day-date", text: fmtDay(d.date) }),
      bar,
      el("span", { class: "day-nums", text: dayText(d) }),
      el("span", { class: "day-flags" }, ...flags));
    });
    $("history-list").replaceChildren(...rows);
  }

  // ---- Downloads ---------------------------------------------------------------

  function exportUrl(runId, format) {
    return `/api/reporter/runs/${runId}/reports/export?format=${format}`;
  }

  function setRunLinks(runId) {
    for (const format of ["xlsx", "csv"]) {
      const a = $(`download-run-${format}`);
      if (runId) {
        a.href = exportUrl(runId, format);
        a.removeAttribute("aria-disabled");
      } else {
        a.href = "#";
        a.setAttribute("aria-disabled", "true");
      }
    }
  }

  async function loadRuns() {
    let runs;
    try {
      runs = await api("GET", "/api/reporter/runs?limit=30");
    } catch (err) {
      $("range-status").textContent = `No se pudieron cargar tus ejecuciones: ${err.message}`;
      return;
    }
    const sel = $("download-run");
    const keep = sel.value;
    if (!runs.length) {
      sel.replaceChildren(el("option", { value: "", text: "Todavía no hay ejecuciones" }));
      sel.disabled = true;
      setRunLinks(null);
      return;
    }
    sel.replaceChildren(...runs.map((r) =>
      el("option", { value: String(r.id), text: `${day(r.scheduled_at)} · franja de las ${r.hour_label}` })));
    sel.disabled = false;
    if (runs.some((r) => String(r.id) === keep)) sel.value = keep;
    setRunLinks(sel.value);
  }

  // Today in the reporter's time zone, as YYYY-MM-DD (what the API calls today).
  function todayIso() {
    const tz = document.querySelector('meta[name="timezone"]')?.content || undefined;
    const parts = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })
      .formatToParts(new Date());
    const get = (type) => parts.find((p) => p.type === type).value;
    return `${get("year")}-${get("month")}-${get("day")}`;
  }

  function initRange() {
    if ($("range-to").value) return;
    const today = todayIso();
    const from = new Date(today + "T00:00:00Z");
    from.setUTCDate(from.getUTCDate() - 29);
    $("range-to").value = today;
    $("range-to").max = today;
    $("range-from").max = today;
    $("range-from").value = from.toISOString().slice(0, 10);
  }

  // Fetched rather than followed, so a refusal (dates out of range) shows
  // its Spanish message here instead of replacing the page with JSON.
  async function downloadRange(format) {
    const from = $("range-from").value, to = $("range-to").value;
    const status = $("range-status");
    if (!from || !to) {
      status.textContent = "Elige las dos fechas.";
      return;
    }
    const qs = new URLSearchParams({ from, to, format });
    status.textContent = "Preparando el archivo…";
    const form = $("download-range");
    form.setAttribute("aria-busy", "true");
    try {
      const res = await fetch(`/api/reporter/reports/export?${qs}`, { credentials: "same-origin" });
      if (res.status === 401) { window.location.assign("/login"); return; }
      if (!res.ok) {
        let detail = `Error ${res.status}. Inténtalo de nuevo en un momento.`;
        try { detail = (await res.json()).detail || detail; } catch (e) { /* not JSON */ }
        status.textContent = detail;
        return;
      }
      const name = (/filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "") || [])[1]
        || `reportados.${format}`;
      const url = URL.createObjectURL(await res.blob());
      const a = el("a", { href: url, download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      status.textContent = `Archivo descargado: ${name}`;
    } catch (err) {
      status.textContent = "No hay conexión con el servidor. Revisa tu red e inténtalo de nuevo.";
    } finally {
      form.removeAttribute("aria-busy");
    }
  }

  // ---- Wiring ----------------------------------------------------------------

  $("page-retry").addEventListener("click", load);
  $("orders").addEventListener("input", updateSize);
  $("size-form").addEventListener("submit", (e) => e.preventDefault());
  $("cancel-change").addEventListener("click", showDashboard);
  $("change-hour").addEventListener("click", () => showReserve("change"));
  $("cancel-reservation").addEventListener("click", async () => {
    const ok = await confirmAction(
      "¿Cancelar tu reserva?",
      `Dejarás libre la hora ${state.reservation.hour_label} y el bot dejará de reportar tus pedidos hasta que reserves otra.`,
      "Sí, cancelar reserva");
    if (!ok) return;
    try {
      await api("DELETE", "/api/reporter/reservations");
      state.reservation = null;
      toast("Reserva cancelada.", "success");
      await showReserve("new");
    } catch (err) {
      toast(err.message, "error");
    }
  });
  $("portal-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const status = $("portal-status");
    status.textContent = "Guardando…";
    try {
      state.me = await api("PUT", "/api/me/portal-credentials", {
        email: $("portal-email").value.trim(),
        password: $("portal-password").value,
      });
      $("portal-password").value = "";
      status.textContent = "Cuenta del portal guardada.";
      renderAccount();
    } catch (err) {
      status.textContent = err.message;
    }
  });
  $("orders-filter").addEventListener("submit", (e) => {
    e.preventDefault();
    state.orders.q = $("orders-q").value.trim();
    state.orders.status = $("orders-status").value;
    state.orders.page = 1;
    loadOrders();
  });
  $("download-run").addEventListener("change", () => setRunLinks($("download-run").value));
  for (const format of ["xlsx", "csv"]) {
    $(`download-run-${format}`).addEventListener("click", (e) => {
      if (!$("download-run").value) e.preventDefault();
    });
  }
  $("download-range").addEventListener("submit", (e) => {
    e.preventDefault();
    downloadRange(e.submitter && e.submitter.value === "csv" ? "csv" : "xlsx");
  });
  $("orders-prev").addEventListener("click", () => { state.orders.page -= 1; loadOrders(); });
  $("orders-next").addEventListener("click", () => { state.orders.page += 1; loadOrders(); });

  load();
})();
