//! The answers hyper writes by itself, before any of our code runs (a request line over 64 KB,
//! headers too large, bytes that are not HTTP), in the API's JSON error shape instead of an
//! empty body.
//!
//! hyper offers no hook for them, so the listener hands hyper a connection that looks at what
//! hyper writes: a bare `400`, `414` or `431` head with `content-length: 0` and no
//! `content-type` is hyper's own (every answer of ours has a content type) and is sent as a
//! JSON error instead. Anything else passes through untouched.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Accepts like a [`TcpListener`], with connections that rewrite hyper's own error answers.
pub struct JsonErrorListener(pub TcpListener);

impl axum::serve::Listener for JsonErrorListener {
    type Io = JsonErrorIo<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.0).await;
        (JsonErrorIo::new(io), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// The address a connection came from, for handlers that take `ConnectInfo<Peer>` (the sign-in
/// throttle, the setup page's loopback check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub std::net::SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, JsonErrorListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, JsonErrorListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// A connection whose bare error answers from hyper go out as JSON.
pub struct JsonErrorIo<S> {
    inner: S,
    /// The rewritten answer still to be written; hyper was told it went out already.
    pending: Vec<u8>,
    written: usize,
}

impl<S> JsonErrorIo<S> {
    pub fn new(inner: S) -> Self {
        JsonErrorIo {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

/// The JSON answer for a head hyper wrote by itself, if `head` is one.
fn rewrite(head: &[u8]) -> Option<Vec<u8>> {
    if head.len() > 1024 {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    if !body.is_empty() {
        return None;
    }
    let mut lines = head.split("\r\n");
    let status = lines.next()?.strip_prefix("HTTP/1.1 ")?;
    let (code, message) = match status.get(..3)? {
        "400" => ("bad_request", "The request is not valid HTTP."),
        "414" => (
            "uri_too_long",
            "The address is longer than the server accepts (64 KB).",
        ),
        "431" => (
            "headers_too_large",
            "The request's headers are larger, or more, than the server accepts.",
        ),
        _ => return None,
    };
    let mut bare = false;
    for line in lines {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("content-type:") {
            return None;
        }
        bare |= lower.replace(' ', "") == "content-length:0";
    }
    if !bare {
        return None;
    }
    let json = serde_json::json!({"error": {"code": code, "message": message, "details": null}})
        .to_string();
    Some(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\nx-content-type-options: nosniff\r\n\r\n{json}",
            json.len()
        )
        .into_bytes(),
    )
}

impl<S: AsyncWrite + Unpin> JsonErrorIo<S> {
    /// Writes what is left of a rewritten answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonErrorIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonErrorIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if let Some(answer) = rewrite(buf) {
            this.pending = answer;
            this.written = 0;
            // hyper is told its bytes went out; ours go in their place, before anything else.
            let _ = this.poll_pending(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        // hyper's own answers have no body: the head alone, as one buffer.
        let mut filled = bufs.iter().filter(|b| !b.is_empty());
        if let (Some(only), None) = (filled.next(), filled.next())
            && let Some(answer) = rewrite(only)
        {
            this.pending = answer;
            this.written = 0;
            let _ = this.poll_pending(cx)?;
            return Poll::Ready(Ok(only.len()));
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn hypers_bare_error_heads_become_json_errors() {
        let answer = rewrite(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Tue, 01 Dec 2026 22:00:00 GMT\r\n\r\n")
            .expect("rewritten");
        let text = String::from_utf8(answer).expect("UTF-8");
        assert!(text.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{text}");
        assert!(text.contains("content-type: application/json\r\n"));
        let body = text.split_once("\r\n\r\n").expect("body").1;
        let json: serde_json::Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(json["error"]["code"], "uri_too_long");
        assert!(text.contains(&format!("content-length: {}\r\n", body.len())));
    }

    #[test]
    fn answers_of_our_own_pass_through() {
        // Ours always have a content type, and most a body.
        assert!(rewrite(b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(rewrite(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(rewrite(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 5\r\n\r\nhello").is_none());
        assert!(
            rewrite(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 12\r\n\r\n")
                .is_none()
        );
        assert!(rewrite(b"not a response").is_none());
    }
}
