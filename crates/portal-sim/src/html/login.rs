//! The login page.

use super::{escape, layout};

/// The login form; `error` is shown in `div#login-error` after a failed try,
/// and `email` refills the field like real portals do.
pub fn login_page(error: Option<&str>, email: &str) -> String {
    let error_html = error
        .map(|msg| {
            format!(
                "<div id=\"login-error\" role=\"alert\">{}</div>\n",
                escape(msg)
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"<h1>Portal de Proveedores</h1>
<h2>Iniciar sesión</h2>
{error_html}<form id="login-form" method="post" action="/login">
<p><label for="email">Correo electrónico</label><br>
<input type="email" id="email" name="email" value="{email}" autocomplete="username" required></p>
<p><label for="password">Contraseña</label><br>
<input type="password" id="password" name="password" autocomplete="current-password" required></p>
<p><button type="submit" id="login-submit">Ingresar</button></p>
</form>"#,
        email = escape(email),
    );
    layout("Iniciar sesión", &body)
}
