//! What keeps other web pages from steering a Rowbench: the `Host` allowlist (against DNS
//! rebinding), the same-origin check on every state-changing request (against cross-site form
//! posts and fetches), and the security headers on every response (CSP with a per-request nonce
//! shared with Leptos, framing, sniffing, referrer).
//!
//! A request goes through three gates, in order:
//!
//! 1. its `Host` must be one the server answers to, else `421 unknown_host`. Allowed: the bound
//!    address itself; when bound to loopback or to all interfaces, `localhost`, `127.0.0.1` and
//!    `[::1]` with the bound port; and every `ROWBENCH_ALLOWED_HOSTS` entry. `/healthz` is no
//!    exception (a load balancer that checks by IP lists that IP);
//! 2. a method other than GET, HEAD or OPTIONS must come from the server's own origin, else
//!    `403 cross_origin`: an `Origin` header must name the request's own `Host` (`null` never
//!    does), and without one a `Sec-Fetch-Site` header must say `same-origin` or `none`. With
//!    neither header (curl, scripts) the request passes: browsers send at least one on every
//!    cross-site POST;
//! 3. every answer, refusals included, gets the headers of [`security_headers`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use leptos::nonce::Nonce;
use serde_json::json;

use crate::config::AllowedHost;
use crate::routes::api_error::ApiError;

/// The host names one server answers to, and how its pages may be extended in development.
#[derive(Debug, Clone)]
pub struct Policy {
    allowed: Vec<AllowedHost>,
    /// `cargo leptos watch` reloads pages over a WebSocket on another port.
    live_reload: bool,
    /// `ROWBENCH_PUBLIC_URL`'s origin: behind a proxy that rewrites `Host`, the browser's
    /// `Origin` names this instead.
    public_origin: Option<String>,
}

impl Policy {
    /// The policy of a server bound to `bound` (its real port, not a configured 0).
    pub fn new(bound: SocketAddr, extra: &[AllowedHost]) -> Self {
        let port = Some(bound.port());
        let mut allowed = Vec::new();
        let ip = bound.ip();
        if !ip.is_unspecified() {
            allowed.push(AllowedHost {
                host: host_of(ip),
                port,
            });
        }
        // Bound to all interfaces, the server is on loopback too.
        if ip.is_loopback() || ip.is_unspecified() {
            for name in [
                "localhost".to_string(),
                host_of(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                host_of(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            ] {
                let entry = AllowedHost { host: name, port };
                if !allowed.contains(&entry) {
                    allowed.push(entry);
                }
            }
        }
        allowed.extend(extra.iter().cloned());
        Policy {
            allowed,
            live_reload: std::env::var_os("LEPTOS_WATCH").is_some(),
            public_origin: None,
        }
    }

    /// Also takes changes from pages of `origin` (`https://rowbench.example.com`).
    pub fn with_public_origin(mut self, origin: Option<String>) -> Self {
        self.public_origin = origin;
        self
    }

    fn allows_host(&self, host: &AllowedHost) -> bool {
        self.allowed.iter().any(|entry| entry.matches(host))
    }

    /// The Content-Security-Policy of one response. Scripts: the app's own files and the inline
    /// ones Leptos writes with this response's nonce (hydration, resources, streamed Suspense);
    /// `'wasm-unsafe-eval'` lets the page compile its wasm and nothing else. Styles need
    /// `'unsafe-inline'` for the `style` attributes of progress bars (a nonce would switch it
    /// off); a style can change looks, not run code.
    fn content_security_policy(&self, nonce: &str) -> String {
        let connect = if self.live_reload {
            "connect-src 'self' ws: wss:"
        } else {
            "connect-src 'self'"
        };
        format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; {connect}; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        )
    }
}

/// The nonce of the request being answered, for [`provide_nonce`] to hand to Leptos.
#[derive(Debug, Clone)]
struct RequestNonce(Nonce);

/// Puts the security gates and headers in front of `router`; they run before anything else,
/// sessions included, so a refused request leaves nothing behind.
pub fn protect(router: Router, policy: Policy) -> Router {
    router.layer(middleware::from_fn_with_state(Arc::new(policy), guard))
}

/// Makes Leptos sign its inline scripts with the nonce the response's CSP header names; call it
/// in the Leptos context closure. Leptos draws a nonce of its own per render, which the header
/// cannot know, so this one replaces it.
pub fn provide_nonce() {
    use leptos::prelude::{provide_context, use_context};
    if let Some(parts) = use_context::<axum::http::request::Parts>()
        && let Some(RequestNonce(nonce)) = parts.extensions.get::<RequestNonce>()
    {
        provide_context(nonce.clone());
    }
}

async fn guard(State(policy): State<Arc<Policy>>, mut request: Request, next: Next) -> Response {
    let nonce = Nonce::new();
    let mut response = match check(&policy, &request) {
        Ok(()) => {
            request.extensions_mut().insert(RequestNonce(nonce.clone()));
            next.run(request).await
        }
        Err(refusal) => {
            tracing::warn!(
                method = %request.method(),
                path = %request.uri().path(),
                code = refusal.code,
                "refused: {}",
                refusal.message
            );
            refusal.into_response()
        }
    };
    security_headers(response.headers_mut(), &policy, &nonce);
    response
}

fn check(policy: &Policy, request: &Request) -> Result<(), ApiError> {
    let host = request_host(request);
    let parsed = host.as_deref().and_then(|h| h.parse::<AllowedHost>().ok());
    match &parsed {
        Some(parsed) if policy.allows_host(parsed) => {}
        _ => return Err(unknown_host(host.as_deref())),
    }
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return Ok(());
    }
    let headers = request.headers();
    // A bearer token is sent only by code that holds it, never by a browser on its own.
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
    {
        return Ok(());
    }
    let origin = headers.get(header::ORIGIN);
    let fetch_site = headers.get("sec-fetch-site");
    let same_origin = match (origin, fetch_site) {
        (Some(origin), _) => {
            let text = origin.to_str().ok();
            policy
                .public_origin
                .as_deref()
                .is_some_and(|public| text == Some(public))
                || text
                    .and_then(origin_authority)
                    .and_then(|o| o.parse::<AllowedHost>().ok())
                    .is_some_and(|o| Some(&o) == parsed.as_ref())
        }
        (None, Some(site)) => matches!(site.as_bytes(), b"same-origin" | b"none"),
        (None, None) => true,
    };
    if same_origin {
        Ok(())
    } else {
        Err(cross_origin(request.method(), origin, fetch_site))
    }
}

/// The `Host` header, or the URI's authority when the request has none (HTTP/2).
fn request_host(request: &Request) -> Option<String> {
    match request.headers().get(header::HOST) {
        Some(value) => Some(String::from_utf8_lossy(value.as_bytes()).into_owned()),
        None => request.uri().authority().map(|a| a.as_str().to_string()),
    }
}

/// `host[:port]` of a serialised origin such as `http://localhost:3000`; `None` for `null` and
/// anything that is not `scheme://authority`.
fn origin_authority(origin: &str) -> Option<&str> {
    let (scheme, rest) = origin.split_once("://")?;
    if scheme.is_empty() || rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
        return None;
    }
    Some(rest)
}

fn host_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// A header value quoted in a message, cut short: it comes from whoever sent the request.
fn shown(value: &str) -> String {
    value.chars().take(200).collect()
}

fn unknown_host(host: Option<&str>) -> ApiError {
    let message = match host {
        Some(host) => format!(
            "This Rowbench does not answer to the host \"{}\". If that name is yours (a reverse \
             proxy or a LAN name), add it to ROWBENCH_ALLOWED_HOSTS (host or host:port, \
             comma-separated) and restart the server.",
            shown(host)
        ),
        None => "The request names no host (no Host header); Rowbench answers only to the \
                 hosts it knows."
            .to_string(),
    };
    ApiError::new(StatusCode::MISDIRECTED_REQUEST, "unknown_host", message)
        .with_details(json!({ "host": host.map(shown) }))
}

fn cross_origin(
    method: &Method,
    origin: Option<&HeaderValue>,
    fetch_site: Option<&HeaderValue>,
) -> ApiError {
    let text =
        |value: Option<&HeaderValue>| value.map(|v| shown(&String::from_utf8_lossy(v.as_bytes())));
    let (origin, fetch_site) = (text(origin), text(fetch_site));
    let from = match (&origin, &fetch_site) {
        (Some(origin), _) => format!("the origin \"{origin}\""),
        (None, Some(site)) => format!("a {site} page"),
        (None, None) => "another site".to_string(),
    };
    ApiError::new(
        StatusCode::FORBIDDEN,
        "cross_origin",
        format!(
            "Refused a {method} from {from}: Rowbench takes changes only from its own pages. \
             Scripts and command-line tools can send the request without an Origin header."
        ),
    )
    .with_details(json!({ "origin": origin, "sec_fetch_site": fetch_site }))
}

/// The headers every response carries, refusals and static files included.
fn security_headers(headers: &mut HeaderMap, policy: &Policy, nonce: &Nonce) {
    let csp = HeaderValue::from_str(&policy.content_security_policy(nonce))
        // A nonce is URL-safe base64, so this is never needed; if it were, no script runs.
        .unwrap_or_else(|_| {
            HeaderValue::from_static(
                "default-src 'self'; script-src 'none'; frame-ancestors 'none'",
            )
        });
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Not `no-referrer`: under it browsers send `Origin: null` on the app's own POSTs, which
    // the same-origin check would then refuse.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(bound: &str, extra: &[&str]) -> Policy {
        let extra: Vec<AllowedHost> = extra.iter().map(|h| h.parse().expect("host")).collect();
        Policy::new(bound.parse().expect("address"), &extra)
    }

    fn allows(policy: &Policy, host: &str) -> bool {
        policy.allows_host(&host.parse().expect("host"))
    }

    #[test]
    fn a_loopback_server_answers_to_the_loopback_names_with_its_port_only() {
        let p = policy("127.0.0.1:4000", &[]);
        for host in [
            "127.0.0.1:4000",
            "localhost:4000",
            "LOCALHOST:4000",
            "[::1]:4000",
        ] {
            assert!(allows(&p, host), "{host}");
        }
        for host in [
            "localhost:4001",
            "localhost",
            "evil.example:4000",
            "0.0.0.0:4000",
        ] {
            assert!(!allows(&p, host), "{host}");
        }
    }

    #[test]
    fn a_server_on_all_interfaces_answers_on_loopback_and_to_listed_names_only() {
        let p = policy("0.0.0.0:3000", &["rowbench.lan", "192.168.1.20:3000"]);
        assert!(allows(&p, "localhost:3000"));
        assert!(allows(&p, "rowbench.lan"));
        assert!(allows(&p, "rowbench.lan:8080"));
        assert!(allows(&p, "192.168.1.20:3000"));
        assert!(!allows(&p, "192.168.1.21:3000"));
        assert!(!allows(&p, "0.0.0.0:3000"));
    }

    #[test]
    fn a_server_on_a_lan_address_answers_to_that_address_but_not_to_localhost() {
        let p = policy("192.168.1.20:3000", &[]);
        assert!(allows(&p, "192.168.1.20:3000"));
        assert!(!allows(&p, "localhost:3000"));
    }

    #[test]
    fn an_origin_is_its_authority_and_null_or_anything_odd_is_none() {
        assert_eq!(
            origin_authority("http://localhost:3000"),
            Some("localhost:3000")
        );
        assert_eq!(
            origin_authority("https://rowbench.lan"),
            Some("rowbench.lan")
        );
        for odd in [
            "null",
            "",
            "localhost:3000",
            "http://",
            "http://a/b",
            "http://u@a",
        ] {
            assert_eq!(origin_authority(odd), None, "{odd}");
        }
    }

    #[test]
    fn the_policy_signs_scripts_with_the_nonce_and_forbids_framing() {
        let csp = policy("127.0.0.1:3000", &[]).content_security_policy("abc");
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("'unsafe-eval'"), "{csp}");
    }
}
