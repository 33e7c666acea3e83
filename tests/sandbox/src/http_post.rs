//! The one HTTP/1.1 POST every sandbox webhook emitter uses: the sandboxes have no HTTP
//! client among their dependencies, and a webhook delivery needs only the status code back.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest status line read before giving up on a receiver.
const MAX_STATUS_LINE: usize = 8 * 1024;

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
