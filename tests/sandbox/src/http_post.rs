//! The one HTTP/1.1 POST every sandbox webhook emitter uses: the sandboxes have no HTTP
//! client among their dependencies, and a webhook delivery needs only the status code back.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest status line read before giving up on a receiver.
const MAX_STATUS_LINE: usize = 8 * 1024;

/// An `http://host[:port]/path` webhook address (the sandboxes deliver to local receivers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpAddress {
    /// `host:port` (port 80 when none is given), for connecting and the `Host` header.
    pub(crate) authority: String,
    /// Starts with `/`.
    pub(crate) path: String,
}

impl HttpAddress {
    pub(crate) fn parse(address: &str) -> Result<HttpAddress, String> {
        let rest = address
            .trim()
            .strip_prefix("http://")
            .ok_or_else(|| format!("`{address}` is not an http:// address"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let valid = |s: &str| !s.is_empty() && !s.bytes().any(|b| b.is_ascii_whitespace());
        if !valid(authority) || !valid(path) {
            return Err(format!("`{address}` has no host or has spaces"));
        }
        let has_port = authority
            .rsplit_once(':')
            .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
        let authority = if has_port { authority.to_string() } else { format!("{authority}:80") };
        Ok(HttpAddress { authority, path: path.to_string() })
    }
}

/// POSTs `body` to `http://{authority}{path}` with `headers` and returns the answer's status
/// code, within `timeout` for the whole exchange.
pub(crate) async fn post(
    authority: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
    timeout: Duration,
) -> Result<u16, String> {
    let exchange = async {
        let mut stream = TcpStream::connect(authority).await.map_err(|e| format!("connect: {e}"))?;
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.map_err(|e| format!("write: {e}"))?;
        stream.write_all(body).await.map_err(|e| format!("write: {e}"))?;
        let mut answer = Vec::new();
        let mut chunk = [0u8; 1024];
        while !answer.windows(2).any(|w| w == b"\r\n") {
            if answer.len() > MAX_STATUS_LINE {
                return Err("the status line is too long".to_string());
            }
            let read = stream.read(&mut chunk).await.map_err(|e| format!("read: {e}"))?;
            if read == 0 {
                return Err("the receiver closed without answering".to_string());
            }
            answer.extend_from_slice(&chunk[..read]);
        }
        status_code(&answer)
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("no answer within {} ms", timeout.as_millis()))?
}

/// The code of an `HTTP/1.x NNN …` status line.
pub(crate) fn status_code(answer: &[u8]) -> Result<u16, String> {
    let line = String::from_utf8_lossy(answer);
    let mut parts = line.split_whitespace();
    let version = parts.next().unwrap_or_default();
    match parts.next().and_then(|c| c.parse().ok()) {
        Some(code) if version.starts_with("HTTP/1.") => Ok(code),
        _ => Err(format!("not an HTTP/1 status line: {:?}", line.lines().next().unwrap_or_default())),
    }
}
