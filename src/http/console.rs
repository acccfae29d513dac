//! The partner console (`/console`) and GraphiQL (`/graphiql`): static
//! pages and scripts compiled into the binary, so nothing is fetched from
//! outside at run time. Both are clients of the public `/graphql` contract;
//! no route here reads data.
//!
//! The files live in `console/` at the crate root. They are listed by hand
//! in [`ASSETS`] (a test checks the list against the folder) rather than
//! embedded by a crate such as `rust-embed`: a dozen `include_bytes!` lines
//! need no proc macro or build script.
//!
//! Files go gzipped to browsers that accept it, compressed once on first
//! use (flate2, already in the build for Parquet, rather than
//! tower-http's compression layer, whose features would rebuild much of the
//! tree for a handful of static files).

use std::{io::Write as _, sync::OnceLock};

use axum::{
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use flate2::{Compression, write::GzEncoder};
use sha2::{Digest as _, Sha256};

/// One embedded file.
struct Asset {
    /// Its path under `/console/` (and under `console/` in the source tree).
    path: &'static str,
    /// Its bytes.
    body: &'static [u8],
}

macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        &[$(Asset {
            path: $path,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/console/", $path)),
        }),*]
    };
}

/// Every file of `console/`.
static ASSETS: &[Asset] = assets![
    "index.html",
    "graphiql.html",
    "graphiql.js",
    "style.css",
    "app.js",
    "api.js",
    "i18n.js",
    "charts.js",
    "analyst.js",
    "operator.js",
    "reviewer.js",
    "admin.js",
    "benefit-review.js",
    "applying.js",
    "centre.js",
    "calendar.js",
    "basket.js",
    "vendor/preact-htm.module.js",
    "vendor/graphiql/graphiql.min.js",
    "vendor/graphiql/graphiql.min.css",
    "vendor/graphiql/react.production.min.js",
    "vendor/graphiql/react-dom.production.min.js",
    "vendor/licenses/graphiql",
    "vendor/licenses/htm",
    "vendor/licenses/preact",
    "vendor/licenses/react",
    "vendor/licenses/react-dom",
    "vendor/README.md",
];

/// Pages and scripts may load from this server only; GraphiQL's editor
/// sets inline styles and its fonts and icons are data URLs.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     font-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

/// The console's languages; the first is the default.
const LANGUAGES: [&str; 2] = ["zh-CN", "en"];

/// GET /console: the console's page, in the language the browser prefers.
pub(super) async fn page(headers: HeaderMap) -> Response {
    let lang = preferred_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default(),
    );
    let mut response = html_response(page_in(lang).to_vec());
    // The language varies the page, so caches must key on it.
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-language"));
    response
}

/// GET /graphiql: GraphiQL, its scripts served from `/console/vendor/`.
pub(super) async fn graphiql() -> Response {
    html_response(asset("graphiql.html").body.to_vec())
}

/// The console's page in `lang`, built once per language.
fn page_in(lang: &str) -> &'static [u8] {
    static PAGES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    let pages = PAGES.get_or_init(|| {
        let template = String::from_utf8_lossy(asset("index.html").body);
        LANGUAGES
            .iter()
            .map(|lang| template.replace("__LANG__", lang).into_bytes())
            .collect()
    });
    let index = LANGUAGES.iter().position(|l| *l == lang).unwrap_or(0);
    &pages[index]
}

/// GET /console/{*path}: an embedded file, gzipped when the browser takes
/// it, revalidated by its ETag (one per encoding).
pub(super) async fn file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(index) = ASSETS.iter().position(|a| a.path == path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let gzip = accepts_gzip(&headers).then(|| gzipped(index)).flatten();
    let hash = &hashes()[index];
    let etag = match gzip {
        Some(_) => format!("\"{hash}-gz\""),
        None => format!("\"{hash}\""),
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut response = match (fresh, gzip) {
        (true, _) => StatusCode::NOT_MODIFIED.into_response(),
        (false, Some(body)) => body.into_response(),
        (false, None) => ASSETS[index].body.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type(&path));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip.is_some() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

/// Whether `Accept-Encoding` takes gzip: named at a quality above 0, or
/// not named and `*` is.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut any = None;
    let values = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok());
    for (coding, quality) in values.flat_map(weighted) {
        if coding.eq_ignore_ascii_case("gzip") {
            gzip = Some(quality > 0.0);
        } else if coding == "*" {
            any = Some(quality > 0.0);
        }
    }
    gzip.or(any).unwrap_or(false)
}

/// The items of an `Accept-*` header with their quality (1 when not
/// given): one reading for languages and encodings. Two headers need no
/// negotiation crate.
fn weighted(value: &str) -> impl Iterator<Item = (&str, f32)> {
    value.split(',').map(|item| {
        let mut parts = item.trim().split(';');
        let name = parts.next().unwrap_or_default().trim();
        let quality = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        (name, quality)
    })
}

/// Asset `index` gzipped, compressed the first time it is asked for;
/// `None` where compressing failed (the file then goes as it is).
fn gzipped(index: usize) -> Option<&'static [u8]> {
    static GZIPPED: OnceLock<Vec<OnceLock<Option<Vec<u8>>>>> = OnceLock::new();
    let all = GZIPPED.get_or_init(|| ASSETS.iter().map(|_| OnceLock::new()).collect());
    all.get(index)?
        .get_or_init(|| {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
            encoder.write_all(ASSETS.get(index)?.body).ok()?;
            encoder.finish().ok()
        })
        .as_deref()
}

fn asset(path: &str) -> &'static Asset {
    ASSETS
        .iter()
        .find(|a| a.path == path)
        .expect("the page is in ASSETS")
}

/// Each asset's hash (its ETag, with `-gz` for the gzipped form),
/// computed once.
fn hashes() -> &'static [String] {
    static HASHES: OnceLock<Vec<String>> = OnceLock::new();
    HASHES.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| hex::encode(Sha256::digest(a.body))[..16].to_owned())
            .collect()
    })
}

fn html_response(body: Vec<u8>) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn content_type(path: &str) -> HeaderValue {
    HeaderValue::from_static(match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    })
}

/// The supported language the `Accept-Language` header ranks highest
/// (`zh-TW` counts as Chinese, `en-GB` as English); the default when none
/// is supported.
fn preferred_language(accept: &str) -> &'static str {
    let mut best: Option<(f32, &'static str)> = None;
    for (tag, quality) in weighted(accept) {
        let primary = tag.split('-').next().unwrap_or_default();
        let Some(lang) = LANGUAGES.into_iter().find(|l| {
            l.split('-')
                .next()
                .is_some_and(|p| p.eq_ignore_ascii_case(primary))
        }) else {
            continue;
        };
        if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, lang));
        }
    }
    best.map_or(LANGUAGES[0], |(_, lang)| lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_taken_when_named_or_under_a_star() {
        let takes = |accept: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(accept).expect("header"),
            );
            accepts_gzip(&headers)
        };
        for (accept, gzip) in [
            ("gzip, deflate, br, zstd", true),
            ("br;q=1.0, gzip;q=0.8", true),
            ("gzip;q=0", false),
            ("gzip;q=0, *", false),
            ("identity, *;q=0.5", true),
            ("*;q=0", false),
            ("br", false),
            ("", false),
        ] {
            assert_eq!(takes(accept), gzip, "{accept}");
        }
        assert!(!accepts_gzip(&HeaderMap::new()), "nothing asked");
    }

    #[test]
    fn every_file_of_the_console_folder_is_embedded() {
        fn walk(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).expect("the console folder") {
                let path = entry.expect("a readable entry").path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else {
                    let relative = path.strip_prefix(root).expect("under the root");
                    out.push(relative.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("console");
        let mut on_disk = Vec::new();
        walk(&root, &root, &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
    }

    #[test]
    fn the_language_follows_the_header() {
        assert_eq!(preferred_language(""), "zh-CN");
        assert_eq!(preferred_language("en-GB,en;q=0.9"), "en");
        assert_eq!(preferred_language("fr-FR, en;q=0.5, zh;q=0.8"), "zh-CN");
        assert_eq!(preferred_language("zh-TW"), "zh-CN");
        assert_eq!(preferred_language("de, en;q=0"), "zh-CN");
        assert_eq!(preferred_language("EN-us"), "en");
    }
}
