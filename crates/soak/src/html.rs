//! The soak's report page: one self-contained HTML file (inline SVG and CSS,
//! nothing fetched), readable offline and attachable to a ticket.

use std::fmt::Write;

use crate::faults::FaultKind;
use crate::run::Verdict;

const W: f64 = 760.0;
const H: f64 = 220.0;
const PAD: f64 = 40.0;
const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn x_of(day: usize, days: usize) -> f64 {
    PAD + (W - 2.0 * PAD) * (day as f64 - 0.5) / days.max(1) as f64
}

fn axes(out: &mut String, days: usize, y_max: f64, unit: &str) {
    let _ = write!(
        out,
        r##"<line x1="{PAD}" y1="{b}" x2="{r}" y2="{b}" stroke="#444"/><line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{b}" stroke="#444"/><text x="4" y="{t}" font-size="11">{y_max:.1} {unit}</text><text x="4" y="{b}" font-size="11">0</text>"##,
        b = H - PAD,
        r = W - PAD,
        t = PAD + 4.0,
    );
    let step = (days / 15).max(1);
    for d in (1..=days).step_by(step) {
        let _ = write!(
            out,
            r#"<text x="{x:.1}" y="{y}" font-size="10" text-anchor="middle">{d}</text>"#,
            x = x_of(d, days),
            y = H - PAD + 14.0
        );
    }
}

fn y_of(v: f64, y_max: f64) -> f64 {
    H - PAD - (H - 2.0 * PAD) * (v / y_max.max(f64::MIN_POSITIVE))
}

/// Lines of `series` (name, value per day), one colour each.
fn lines(title: &str, unit: &str, series: &[(String, Vec<f64>)], days: usize) -> String {
    let y_max = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(0.0_f64, f64::max)
        .max(1e-9)
        * 1.1;
    let mut out = format!(
        r#"<h2>{}</h2><svg width="{W}" height="{H}" role="img">"#,
        esc(title)
    );
    axes(&mut out, days, y_max, unit);
    let mut legend = String::new();
    for (i, (name, values)) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(d, v)| format!("{:.1},{:.1}", x_of(d + 1, days), y_of(*v, y_max)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"><title>{}</title></polyline>"#,
            points.join(" "),
            esc(name)
        );
        let _ = write!(
            legend,
            r#"<span class="key" style="background:{colour}"></span>{} "#,
            esc(name)
        );
    }
    out.push_str("</svg>");
    let _ = write!(out, r#"<p class="legend">{legend}</p>"#);
    out
}

fn day_bars(v: &Verdict) -> String {
    let days = v.days.len();
    let y_max = v
        .days
        .iter()
        .map(|d| d.tally.customer_days)
        .max()
        .unwrap_or(1) as f64;
    let mut out =
        format!(r#"<h2>Customer-days per day</h2><svg width="{W}" height="{H}" role="img">"#);
    axes(&mut out, days, y_max, "");
    let bar = ((W - 2.0 * PAD) / days.max(1) as f64 * 0.7).max(2.0);
    for d in &v.days {
        let mut base = 0.0;
        for (n, colour, what) in [
            (d.tally.served, "#2ca02c", "served"),
            (d.tally.late, "#ff7f0e", "late"),
            (d.tally.excused, "#999999", "excused (blocked account)"),
            (d.tally.missed, "#d62728", "missed"),
        ] {
            if n == 0 {
                continue;
            }
            let top = y_of(base + n as f64, y_max);
            let bottom = y_of(base, y_max);
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{top:.1}" width="{bar:.1}" height="{h:.1}" fill="{colour}"><title>day {day}: {n} {what}</title></rect>"#,
                x = x_of(d.day as usize, days) - bar / 2.0,
                h = bottom - top,
                day = d.day,
            );
            base += n as f64;
        }
    }
    out.push_str("</svg>");
    out.push_str(r#"<p class="legend"><span class="key" style="background:#2ca02c"></span>served <span class="key" style="background:#ff7f0e"></span>late <span class="key" style="background:#999"></span>excused <span class="key" style="background:#d62728"></span>missed</p>"#);
    out
}

fn fault_timeline(v: &Verdict) -> String {
    let days = v.days.len();
    let mut out =
        format!(r#"<h2>Fault timeline (day × hour)</h2><svg width="{W}" height="{H}" role="img">"#);
    axes(&mut out, days, 24.0, "h");
    for f in &v.faults {
        let i = FaultKind::ALL
            .iter()
            .position(|k| *k == f.kind)
            .unwrap_or(0);
        let _ = write!(
            out,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="5" fill="{c}"><title>day {d} {h}:00 {label} → {target}: {note}{mid}</title></circle>"#,
            x = x_of(f.day as usize, days),
            y = y_of(f64::from(f.hour), 24.0),
            c = PALETTE[i % PALETTE.len()],
            d = f.day,
            h = f.hour,
            label = esc(f.label),
            target = esc(&f.target),
            note = esc(&f.note),
            mid = if f.mid_run { " (mid-run)" } else { "" },
        );
    }
    out.push_str("</svg><p class=\"legend\">");
    for (i, k) in FaultKind::ALL.iter().enumerate() {
        let _ = write!(
            out,
            r#"<span class="key" style="background:{}"></span>{} "#,
            PALETTE[i % PALETTE.len()],
            esc(k.label())
        );
    }
    out.push_str("</p>");
    out
}

pub fn render(v: &Verdict) -> String {
    let t = &v.totals;
    let days = v.days.len();
    let mut out = String::from(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Reporter soak</title><style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:900px;color:#222}
table{border-collapse:collapse;font-size:12px;display:block;overflow-x:auto}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}.pass{color:#fff;background:#2ca02c;padding:2px 8px}.fail{color:#fff;background:#d62728;padding:2px 8px}
.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}.legend{font-size:12px}</style></head><body>"#,
    );
    let _ = write!(
        out,
        r#"<h1>Reporter soak <span class="{c}">{p}</span></h1><p>{days} days × {cust} customers, faults <b>{faults:?}</b>, seed {seed}, driver {driver:?}, first business day {first}; {wall:.0} s of wall time.</p>"#,
        c = if v.pass { "pass" } else { "fail" },
        p = if v.pass { "PASS" } else { "FAIL" },
        cust = v.customers.len(),
        faults = v.args.faults,
        seed = v.args.seed,
        driver = v.args.driver,
        first = v.first_day,
        wall = t.wall_secs,
    );
    out.push_str("<table><tr><th>customer-days</th><th>served</th><th>late</th><th>excused</th><th>missed</th><th>stuck</th><th>filed</th><th>lost</th><th>unexpected</th><th>duplicates</th><th>runs unfinished</th><th>DB bytes / customer-day</th><th>API p99 ms</th><th>max browser leases</th><th>max portal sessions</th></tr>");
    let _ = write!(
        out,
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0}</td><td>{:.1}</td><td>{} (limit {})</td><td>{}</td></tr></table>",
        t.tally.customer_days, t.tally.served, t.tally.late, t.tally.excused, t.tally.missed,
        t.tally.stuck_orders, t.tally.reported, t.tally.lost_reports, t.tally.unexpected_reports,
        t.tally.duplicate_reports, t.tally.runs_not_finished,
        t.db_growth_bytes_per_customer_day, t.api_p99_ms, t.max_browser_leases, t.session_limit,
        t.max_portal_sessions
    );
    out.push_str(&day_bars(v));
    out.push_str(&fault_timeline(v));
    let db: Vec<f64> = v
        .days
        .iter()
        .map(|d| d.db_bytes as f64 / 1048576.0)
        .collect();
    out.push_str(&lines(
        "Database size",
        "MiB",
        &[("database".into(), db)],
        days,
    ));
    // The simulator keeps every order and report it ever served, so it
    // grows by design; drawn apart so it does not flatten the fleet's lines.
    let (sim, fleet): (Vec<_>, Vec<_>) = v.memory.iter().partition(|m| m.slot == "portal-sim");
    let series = |ms: &[&crate::run::ProcessMemory]| -> Vec<(String, Vec<f64>)> {
        ms.iter()
            .map(|m| {
                (
                    format!("{} ({:+.2} MiB/day)", m.slot, m.slope_mib_per_day),
                    m.mib_per_day.clone(),
                )
            })
            .collect()
    };
    out.push_str(&lines(
        "Resident memory of the fleet",
        "MiB",
        &series(&fleet),
        days,
    ));
    out.push_str(&lines(
        "Resident memory of portal-sim (the test double)",
        "MiB",
        &series(&sim),
        days,
    ));
    let p99: Vec<f64> = v.days.iter().map(|d| d.api_p99_ms).collect();
    out.push_str(&lines(
        "API p99 of GET /api/reporter/slots/",
        "ms",
        &[("p99".into(), p99)],
        days,
    ));
    if !v.differences.is_empty() {
        out.push_str("<h2>Differences from the truth</h2><table><tr><th>day</th><th>customer</th><th>order</th><th>kind</th></tr>");
        for d in v.differences.iter().take(500) {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                d.day,
                esc(&d.customer),
                d.order_id,
                d.kind
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</body></html>\n");
    out
}
