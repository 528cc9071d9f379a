//! `Link` headers of paged lists, for every surface: the request's own absolute URL with some
//! query parameters replaced, and the header that names each with its `rel`.

use axum::extract::OriginalUri;
use axum::http::{Extensions, HeaderValue, Uri, header};
use axum::response::Response;

/// The request's whole URI: a nested router sees only its own part of the path.
pub fn original_uri(extensions: &Extensions, uri: &Uri) -> Uri {
    match extensions.get::<OriginalUri>() {
        Some(OriginalUri(u)) => u.clone(),
        None => uri.clone(),
    }
}

/// The request at `base` with the named query parameters replaced (`Some`) or removed (`None`).
pub fn with_params(base: &str, uri: &Uri, set: &[(&str, Option<&str>)]) -> String {
    let named = |p: &str| set.iter().any(|(k, _)| p.split('=').next() == Some(*k));
    let mut params: Vec<String> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty() && !named(p))
        // `<`, `>` and `"` would end the URL inside `Link: <…>`; a query may carry them raw.
        .map(|p| {
            p.replace('<', "%3C")
                .replace('>', "%3E")
                .replace('"', "%22")
        })
        .collect();
    params.extend(
        set.iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={v}"))),
    );
    let query = if params.is_empty() {
        String::new()
    } else {
        format!("?{}", params.join("&"))
    };
    format!("{base}{}{query}", uri.path())
}

/// Sets `Link: <url>; rel="…", …` on an answer (nothing when there are no links).
pub fn set(res: &mut Response, links: &[(String, &str)]) {
    let value = links
        .iter()
        .map(|(url, rel)| format!("<{url}>; rel=\"{rel}\""))
        .collect::<Vec<_>>()
        .join(", ");
    if !value.is_empty()
        && let Ok(v) = HeaderValue::from_str(&value)
    {
        res.headers_mut().insert(header::LINK, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_params_are_replaced_and_the_rest_kept() {
        let uri: Uri = "/api/v1/timeline/public?limit=2&max_id=9&q=x"
            .parse()
            .unwrap();
        let url = with_params(
            "http://h",
            &uri,
            &[("since_id", Some("5")), ("max_id", None)],
        );
        assert_eq!(
            url,
            "http://h/api/v1/timeline/public?limit=2&q=x&since_id=5"
        );
        let bare: Uri = "/api/feed".parse().unwrap();
        assert_eq!(
            with_params("http://h", &bare, &[("cursor", None)]),
            "http://h/api/feed"
        );
    }
}
