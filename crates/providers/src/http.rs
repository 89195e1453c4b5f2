//! The transport every HTTP provider shares: post a JSON body, time it, keep what came back, and sort failures into retryable or not.

use std::time::{Duration, Instant, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::types::{CallError, CallFailure, Exchange, MAX_RAW_RESPONSE_BYTES};

/// Bodies beyond this are refused rather than buffered: no chat answer is this large, and a
/// misbehaving server should not exhaust memory.
const MAX_BODY_BYTES: usize = 16 * MAX_RAW_RESPONSE_BYTES;

/// A 2xx answer whose body is JSON.
pub(crate) struct Reply {
    pub exchange: Exchange,
    pub body: Value,
}

/// Builds a header value that reqwest will never print, for keys.
pub(crate) fn secret_header(value: &str) -> Result<HeaderValue, CallError> {
    let mut header = HeaderValue::from_str(value).map_err(|_| CallError::Auth {
        status: 0,
        message: "the API key contains characters that cannot be sent in an HTTP header".to_owned(),
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// POSTs `body` as JSON to `url`; a 2xx JSON reply comes back whole, everything else as a
/// classified failure that still carries the exchange.
pub(crate) async fn post_json(
    client: &reqwest::Client,
    url: &str,
    headers: HeaderMap,
    body: Value,
) -> Result<Reply, CallFailure> {
    let started = Instant::now();
    let mut exchange = Exchange {
        request: body,
        url: url.to_owned(),
        http_status: None,
        raw_response: String::new(),
        latency_ms: 0,
    };
    let sent = client
        .post(url)
        .headers(headers)
        .json(&exchange.request)
        .send()
        .await;
    let mut response = match sent {
        Ok(response) => response,
        Err(error) => {
            exchange.latency_ms = elapsed_ms(started);
            tracing::debug!(url, error = %describe(&error), "provider call failed to send");
            return Err(CallFailure::new(transport_error(&error), Some(exchange)));
        }
    };
    let status = response.status();
    exchange.http_status = Some(status.as_u16());
    let response_headers = response.headers().clone();

    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                    exchange.latency_ms = elapsed_ms(started);
                    exchange.raw_response = capped_text(&bytes);
                    let error = CallError::Protocol(format!(
                        "the response body is larger than {} MiB",
                        MAX_BODY_BYTES / MAX_RAW_RESPONSE_BYTES
                    ));
                    return Err(CallFailure::new(error, Some(exchange)));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(error) => {
                exchange.latency_ms = elapsed_ms(started);
                exchange.raw_response = capped_text(&bytes);
                let error = if error.is_timeout() {
                    CallError::Timeout
                } else if error.is_decode() {
                    CallError::Protocol(describe(&error))
                } else {
                    CallError::Connect(format!(
                        "the connection broke while reading the response: {}",
                        describe(&error)
                    ))
                };
                return Err(CallFailure::new(error, Some(exchange)));
            }
        }
    }
    exchange.latency_ms = elapsed_ms(started);
    exchange.raw_response = capped_text(&bytes);
    tracing::debug!(
        url,
        status = status.as_u16(),
        latency_ms = exchange.latency_ms,
        "provider call"
    );

    let parsed = serde_json::from_slice::<Value>(&bytes);
    if !status.is_success() {
        let error = status_error(
            status,
            &response_headers,
            parsed.ok().as_ref(),
            &exchange.raw_response,
        );
        return Err(CallFailure::new(error, Some(exchange)));
    }
    match parsed {
        Ok(body) => Ok(Reply { exchange, body }),
        Err(error) => Err(CallFailure::new(
            CallError::Protocol(format!("the response is not JSON: {error}")),
            Some(exchange),
        )),
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The body as text, cut at a character boundary within [`MAX_RAW_RESPONSE_BYTES`].
pub(crate) fn capped_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() <= MAX_RAW_RESPONSE_BYTES {
        return text.into_owned();
    }
    let mut cut = MAX_RAW_RESPONSE_BYTES;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].to_owned()
}

/// An error with its causes: reqwest's own message ("error sending request") says little
/// without them.
fn describe(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !message.contains(&cause_text) {
            message.push_str(": ");
            message.push_str(&cause_text);
        }
        source = cause.source();
    }
    message
}

fn transport_error(error: &reqwest::Error) -> CallError {
    if error.is_timeout() {
        CallError::Timeout
    } else {
        CallError::Connect(describe(error))
    }
}

/// Sorts a non-2xx status into retryable or not.
pub(crate) fn status_error(
    status: StatusCode,
    headers: &HeaderMap,
    body: Option<&Value>,
    raw: &str,
) -> CallError {
    let code = status.as_u16();
    match code {
        401 | 403 => CallError::Auth {
            status: code,
            message: error_message(body, raw),
        },
        429 => CallError::RateLimited {
            retry_after: retry_after(headers, SystemTime::now()).or_else(|| body_retry_delay(body)),
        },
        408 | 409 | 500..=599 => CallError::Server {
            status: code,
            retry_after: retry_after(headers, SystemTime::now()).or_else(|| body_retry_delay(body)),
        },
        300..=399 => CallError::Rejected {
            status: code,
            message: match headers
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
            {
                Some(location) => {
                    format!("redirect to {location} not followed; check the base URL")
                }
                None => "redirect not followed; check the base URL".to_owned(),
            },
        },
        _ => CallError::Rejected {
            status: code,
            message: error_message(body, raw),
        },
    }
}

/// The human part of an error body: `error.message` in all three wire formats, else the text.
pub(crate) fn error_message(body: Option<&Value>, raw: &str) -> String {
    let from_json = body.and_then(|body| {
        let error = body.get("error")?;
        error
            .get("message")
            .and_then(Value::as_str)
            .or_else(|| error.as_str())
            .map(str::to_owned)
    });
    let message = from_json.unwrap_or_else(|| raw.trim().to_owned());
    if message.is_empty() {
        return "no details given".to_owned();
    }
    const LIMIT: usize = 500;
    match message.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message,
    }
}

/// `retry-after-ms` (OpenAI) first, then `retry-after` in seconds or as an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &'static str| {
        headers
            .get(HeaderName::from_static(name))
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = header("retry-after-ms").and_then(|text| text.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let text = header("retry-after")?;
    if let Ok(seconds) = text.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let at = parse_http_date(text)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Gemini puts its wait in the body: `error.details[].retryDelay = "13s"`.
fn body_retry_delay(body: Option<&Value>) -> Option<Duration> {
    let details = body?.get("error")?.get("details")?.as_array()?;
    details.iter().find_map(|detail| {
        let text = detail.get("retryDelay")?.as_str()?;
        let seconds = text.strip_suffix('s')?.parse::<f64>().ok()?;
        (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
    })
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form RFC 9110 lets servers send.
pub(crate) fn parse_http_date(text: &str) -> Option<SystemTime> {
    let mut parts = text.split_whitespace();
    let _weekday = parts.next()?.strip_suffix(',')?;
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut clock = parts
        .next()?
        .split(':')
        .map(|part| part.parse::<u64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    let seconds = days.checked_mul(86_400)? + hour * 3600 + minute * 60 + second;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm); `None` before the epoch.
fn days_from_civil(year: i64, month: u64, day: u64) -> Option<u64> {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::try_from(month).ok()?;
    let day = i64::try_from(day).ok()?;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    u64::try_from(era * 146_097 + day_of_era - 719_468).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    #[test]
    fn retry_after_ms_is_preferred_over_retry_after() {
        let map = headers(&[("retry-after-ms", "1500"), ("retry-after", "9")]);
        assert_eq!(
            retry_after(&map, SystemTime::now()),
            Some(Duration::from_millis(1500))
        );
    }

    #[test]
    fn retry_after_accepts_whole_and_fractional_seconds() {
        let now = SystemTime::now();
        assert_eq!(
            retry_after(&headers(&[("retry-after", "20")]), now),
            Some(Duration::from_secs(20))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "0.5")]), now),
            Some(Duration::from_millis(500))
        );
    }

    #[test]
    fn retry_after_accepts_an_http_date() {
        let now = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").expect("valid date");
        let map = headers(&[("retry-after", "Sun, 06 Nov 1994 08:50:07 GMT")]);
        assert_eq!(retry_after(&map, now), Some(Duration::from_secs(30)));
    }

    #[test]
    fn an_http_date_in_the_past_means_retry_now() {
        let now = parse_http_date("Mon, 07 Nov 1994 00:00:00 GMT").expect("valid date");
        let map = headers(&[("retry-after", "Sun, 06 Nov 1994 08:50:07 GMT")]);
        assert_eq!(retry_after(&map, now), Some(Duration::ZERO));
    }

    #[test]
    fn http_dates_convert_to_the_right_unix_time() {
        let at = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").expect("valid date");
        let secs = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("after epoch")
            .as_secs();
        assert_eq!(secs, 784_111_777);
        let leap = parse_http_date("Thu, 29 Feb 2024 12:00:00 GMT").expect("valid date");
        let secs = leap
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("after epoch")
            .as_secs();
        assert_eq!(secs, 1_709_208_000);
    }

    #[test]
    fn garbage_retry_after_values_are_ignored() {
        let now = SystemTime::now();
        for value in ["soon", "-3", "Sun, 06 Nov 1994 08:49:37 PST", "NaN"] {
            let mut map = HeaderMap::new();
            map.insert("retry-after", HeaderValue::from_str(value).expect("ascii"));
            assert_eq!(retry_after(&map, now), None, "{value}");
        }
    }

    #[test]
    fn statuses_are_sorted_into_retryable_and_final() {
        let none = HeaderMap::new();
        let classify = |code: u16| {
            status_error(
                StatusCode::from_u16(code).expect("valid"),
                &none,
                None,
                "oops",
            )
        };
        for code in [408, 409, 429, 500, 502, 503, 529] {
            assert!(classify(code).is_retryable(), "{code} should be retried");
        }
        for code in [400, 401, 403, 404, 422, 302] {
            assert!(
                !classify(code).is_retryable(),
                "{code} should not be retried"
            );
        }
        assert!(classify(401).is_auth());
        assert!(classify(403).is_auth());
        assert!(!classify(400).is_auth());
    }

    #[test]
    fn gemini_retry_delay_in_the_body_is_honoured() {
        let body = json!({"error": {"code": 429, "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "13s"}
        ]}});
        let error = status_error(
            StatusCode::TOO_MANY_REQUESTS,
            &HeaderMap::new(),
            Some(&body),
            "",
        );
        assert_eq!(error.retry_after(), Some(Duration::from_secs(13)));
    }

    #[test]
    fn error_messages_come_from_the_json_error_object() {
        let body = json!({"error": {"message": "Invalid model", "type": "invalid_request_error"}});
        assert_eq!(error_message(Some(&body), "ignored"), "Invalid model");
        assert_eq!(error_message(None, "  plain text  "), "plain text");
        assert_eq!(error_message(None, ""), "no details given");
    }

    #[test]
    fn raw_responses_are_capped_at_a_character_boundary() {
        let text = "é".repeat(MAX_RAW_RESPONSE_BYTES);
        let capped = capped_text(text.as_bytes());
        assert!(capped.len() <= MAX_RAW_RESPONSE_BYTES);
        assert!(capped.len() > MAX_RAW_RESPONSE_BYTES - 2);
    }
}
