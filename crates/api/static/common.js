// Shared by the pages: calls to the JSON API with the session cookie and the
// CSRF header, Spanish error texts, a toast and a confirmation dialog.
"use strict";

const Reporter = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  class ApiError extends Error {
    constructor(status, code, detail) {
      super(detail);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const init = {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    };
    if (method !== "GET") init.headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, "network", "No hay conexión con el servidor. Revisa tu red e inténtalo de nuevo.");
    }
    if (res.status === 401) {
      // The session ended (logout elsewhere, expiry): back to the login page.
      window.location.assign("/login");
      throw new ApiError(401, "not_authenticated", "Tu sesión terminó. Vuelve a iniciar sesión.");
    }
    if (res.status === 204) return null;
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    if (!res.ok) {
      const detail = data && data.detail ? data.detail : `Error ${res.status}. Inténtalo de nuevo en un momento.`;
      throw new ApiError(res.status, data && data.code ? data.code : "http_" + res.status, detail);
    }
    return data;
  }

  let toastTimer = null;
  function toast(text, kind) {
    const el = document.getElementById("toast");
    if (!el) return;
    el.textContent = text;
    el.className = "toast " + (kind || "info");
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 6000);
  }

  // Resolves true when the user confirms. Uses the page's <dialog>.
  function confirmAction(title, text, okLabel) {
    const dlg = document.getElementById("confirm-dialog");
    document.getElementById("confirm-title").textContent = title;
    document.getElementById("confirm-text").textContent = text;
    document.getElementById("confirm-ok").textContent = okLabel || "Sí";
    return new Promise((resolve) => {
      dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok"), { once: true });
      dlg.returnValue = "cancel";
      dlg.showModal();
      document.getElementById("confirm-cancel").focus();
    });
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  // Times are shown in the reporter's time zone, like the hour labels, so
  // "the 09:00 slot" and "started 09:00:02" agree wherever the reader is.
  const timeZone = document.querySelector('meta[name="timezone"]')?.content || undefined;
  const timeFmt = new Intl.DateTimeFormat("es", { timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const dayFmt = new Intl.DateTimeFormat("es", { timeZone, day: "numeric", month: "short" });
  const dateTimeFmt = new Intl.DateTimeFormat("es", { timeZone, day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const numFmt = new Intl.NumberFormat("es");

  function time(iso) { return iso ? timeFmt.format(new Date(iso)) : "—"; }
  function day(iso) { return iso ? dayFmt.format(new Date(iso)) : "—"; }
  function dateTime(iso) { return iso ? dateTimeFmt.format(new Date(iso)) : "—"; }
  function num(n) { return numFmt.format(n || 0); }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const m = Math.floor(seconds / 60), s = seconds % 60;
    return m > 0 ? `${m} min ${s} s` : `${s} s`;
  }
  function ago(iso) {
    if (!iso) return "—";
    const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
    if (s < 60) return `hace ${s} s`;
    const m = Math.round(s / 60);
    return m < 60 ? `hace ${m} min` : `hace ${Math.round(m / 60)} h`;
  }

  // Sets a role=progressbar element's value (0–100) and text.
  function setBar(bar, pct, text) {
    const v = Math.max(0, Math.min(100, Math.round(pct)));
    bar.setAttribute("aria-valuenow", String(v));
    bar.setAttribute("aria-valuetext", text || `${v}%`);
    bar.querySelector(".bar-fill").style.width = v + "%";
  }

  // Calls fn now and every `ms` while the tab is visible; never overlaps.
  function every(ms, fn) {
    let timer = null, running = false;
    async function tick() {
      if (running) return;
      running = true;
      try { await fn(); } finally {
        running = false;
        clearTimeout(timer);
        if (!document.hidden) timer = setTimeout(tick, ms);
      }
    }
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) tick();
      else clearTimeout(timer);
    });
    tick();
    return { now: tick };
  }

  const $ = (id) => document.getElementById(id);

  // "1 punto", "3 puntos".
  function points(n) { return `${n} ${n === 1 ? "punto" : "puntos"}`; }

  // The Spanish words for the API's status codes, one map per thing they
  // describe (the same code reads differently for each).
  const TEXT = {
    // A run's status, as the console lists it.
    runStatus: { pending: "pendiente", running: "en curso", completed: "completada", failed: "con fallos" },
    // A run's result for the customer (`result` of the summary).
    runResult: {
      waiting: "en espera",
      running: "en curso",
      completed: "completada",
      completed_with_failures: "completada con fallos",
      failed: "fallida",
    },
    // The download-and-compare step of one customer in a run.
    downloadStep: { pending: "pendiente", running: "en curso", completed: "hecho", failed: "falló" },
  };

  return { api, ApiError, toast, confirmAction, el, time, day, dateTime, num, duration, ago, setBar, every, $, points, TEXT };
})();
