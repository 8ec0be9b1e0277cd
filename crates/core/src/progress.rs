//! The friendly Spanish progress messages customers read on their run.

pub fn queued() -> String {
    "⏳ En cola: tu reporte empieza en breve…".into()
}

pub fn downloading() -> String {
    "⏳ Descargando archivos…".into()
}

pub fn waiting_browser() -> String {
    "⏳ Esperando un navegador libre…".into()
}

pub fn comparing() -> String {
    "Comparando órdenes…".into()
}

pub fn retrying(attempt: u32, max_retries: u32) -> String {
    format!("⚠️ El portal no respondió bien; reintentando ({attempt}/{max_retries})…")
}

pub fn baseline_only() -> String {
    "✅ Listo: primer día, guardamos tus órdenes como referencia (nada que reportar hoy)".into()
}

pub fn nothing_stuck() -> String {
    "✅ Listo: no hay órdenes sin movimiento hoy".into()
}

pub fn reporting(start: i32, end: i32, total: i32) -> String {
    format!("Reportando órdenes {start}–{end} de {total}…")
}

/// A shadow part's range (operators only: customers never see shadow parts).
pub fn checking(start: i32, end: i32, total: i32) -> String {
    format!("Ensayo: revisando órdenes {start}–{end} de {total} (sin reportar)…")
}

/// A shadow part's end: what a live run would have filed.
pub fn shadow_done(would_report: i32, total: i32, failures: bool) -> String {
    if failures {
        format!("⚠️ Ensayo terminado con errores: se habrían reportado {would_report} de {total} órdenes; no se reportó ninguna")
    } else {
        format!("🔍 Ensayo terminado: se habrían reportado {would_report} de {total} órdenes; no se reportó ninguna")
    }
}

pub fn done(total: i32) -> String {
    format!("✅ Listo: {total} órdenes reportadas")
}

pub fn done_with_failures(reported: i32, total: i32) -> String {
    format!("⚠️ Terminado con errores: {reported} de {total} órdenes reportadas")
}

pub fn missing_credentials() -> String {
    "No pudimos entrar al portal: faltan tus credenciales del portal".into()
}

pub fn invalid_credentials() -> String {
    "No pudimos entrar al portal: credenciales inválidas".into()
}

pub fn blocked_account() -> String {
    "No pudimos entrar al portal: la cuenta está bloqueada".into()
}

pub fn download_failed() -> String {
    "❌ No pudimos descargar tus órdenes del portal; lo revisaremos".into()
}
