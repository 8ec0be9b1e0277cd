//! Static files compiled into the binary (no CDN, no files to ship beside
//! it). Revalidated by ETag so a deploy is picked up on the next load.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../static/app.css"),
    },
    Asset {
        name: "common.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/common.js"),
    },
    Asset {
        name: "customer.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/customer.js"),
    },
    Asset {
        name: "console.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/console.js"),
    },
    Asset {
        name: "lock.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../static/lock.svg"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../static/favicon.svg"),
    },
];

fn etags() -> &'static Vec<String> {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| format!("\"{}\"", &hex::encode(Sha256::digest(a.body))[..16]))
            .collect()
    })
}

pub async fn serve(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let Some(i) = ASSETS.iter().position(|a| a.name == name.as_str()) else {
        return Err(ApiError::not_found("not_found", "Ese archivo no existe"));
    };
    let (asset, etag) = (&ASSETS[i], &etags()[i]);
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag.clone()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Content-Type-Options", "nosniff"));
    if fresh {
        return Ok(res.finish());
    }
    Ok(res
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .body(asset.body))
}
