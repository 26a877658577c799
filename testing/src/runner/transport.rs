//! The SDK's own serve endpoint, served on loopback, and the executor's side of the wire.
//!
//! The public API of `nestling-inngest` has no way to run a function from a call request
//! in-process (its `Invocation` can only be built inside the crate), so the runner does what
//! the executor does: it serves the SDK's `ServeEndpoint` over real HTTP on `127.0.0.1:0` and
//! POSTs call requests to it. Every byte a function's steps return goes through the same
//! JSON encoding as in production.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use nestling_inngest::{FunctionRegistry, InngestService, ServeEndpoint};
use nestling_inngest_protocol::CallRequest;
use poem::listener::TcpAcceptor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use crate::TestingError;

/// Where the loopback server mounts the endpoint.
const SERVE_PATH: &str = "/api/inngest";

/// What the endpoint answered to one call request.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) no_retry: Option<bool>,
    pub(crate) retry_after: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// The serve endpoint of one app on a loopback port; stopped when dropped.
pub(crate) struct LoopbackServe {
    addr: SocketAddr,
    url: String,
    stop: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for LoopbackServe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopbackServe")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl LoopbackServe {
    /// Binds `127.0.0.1:0` and serves `ServeEndpoint::new(service, registry)` there.
    pub(crate) async fn start(
        service: Arc<dyn InngestService>,
        registry: FunctionRegistry,
    ) -> Result<Self, TestingError> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(io("binding the loopback serve endpoint"))?;
        let addr = listener
            .local_addr()
            .map_err(io("reading the loopback address"))?;
        let acceptor =
            TcpAcceptor::from_tokio(listener).map_err(io("accepting on the loopback port"))?;

        let route = poem::Route::new().at(SERVE_PATH, ServeEndpoint::new(service, registry));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let signal = async {
                let _ = stopped.await;
            };
            let served = poem::Server::new_with_acceptor(acceptor)
                .run_with_graceful_shutdown(route, signal, Some(Duration::from_secs(1)))
                .await;
            if let Err(error) = served {
                tracing::warn!(target: "nestling_testing::runner", %error, "loopback serve endpoint stopped");
            }
        });

        Ok(Self {
            addr,
            url: format!("http://{addr}{SERVE_PATH}"),
            stop: Some(stop),
        })
    }

    /// The endpoint's URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// POSTs one call request for `fn_id`, targeting `step_id` (`"step"` for discovery).
    ///
    /// A plain HTTP/1.1 exchange on a fresh loopback connection: building a `reqwest`
    /// client loads TLS roots, which costs more than a whole test run here, and nothing but
    /// loopback is ever called.
    pub(crate) async fn call(
        &self,
        fn_id: &str,
        step_id: &str,
        request: &CallRequest,
    ) -> Result<Answer, TestingError> {
        let body = serde_json::to_vec(request).map_err(|err| TestingError::Io {
            what: "serialising the call request".to_owned(),
            source: std::io::Error::other(err),
        })?;
        let head = format!(
            "POST {SERVE_PATH}?fnId={}&stepId={} HTTP/1.1\r\nHost: {}\r\nContent-Type: \
             application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            encode(fn_id),
            encode(step_id),
            self.addr,
            body.len()
        );

        let what = format!("calling {}", self.url);
        let mut stream = TcpStream::connect(self.addr).await.map_err(io(&what))?;
        stream.write_all(head.as_bytes()).await.map_err(io(&what))?;
        stream.write_all(&body).await.map_err(io(&what))?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.map_err(io(&what))?;

        parse_response(&raw).map_err(|reason| TestingError::Io {
            what,
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, reason),
        })
    }
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> TestingError {
    let what = what.to_owned();
    move |source| TestingError::Io { what, source }
}

/// Percent-encodes a query value (function ids and hashed step ids rarely need it).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Splits an HTTP/1.1 response into status, the two headers the executor reads, and the
/// body (de-chunked when needed).
fn parse_response(raw: &[u8]) -> Result<Answer, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the response has no end of headers")?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| "the headers are not UTF-8")?;
    let rest = &raw[split + 4..];

    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or("the status line does not parse")?;
    let mut no_retry = None;
    let mut retry_after = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "x-inngest-no-retry" => no_retry = Some(value.eq_ignore_ascii_case("true")),
            "retry-after" => retry_after = Some(value.to_owned()),
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };

    Ok(Answer {
        status,
        no_retry,
        retry_after,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk size line is cut short")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).map_err(|_| "bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| "bad chunk size")?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = rest.get(..size).ok_or("a chunk is cut short")?;
        body.extend_from_slice(chunk);
        rest = rest.get(size + 2..).ok_or("a chunk is cut short")?;
    }
}

impl Drop for LoopbackServe {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_plain_and_a_chunked_response() {
        let plain = b"HTTP/1.1 206 Partial Content\r\ncontent-length: 2\r\nX-Inngest-No-Retry: false\r\n\r\n[]";
        let answer = parse_response(plain).unwrap();
        assert_eq!(answer.status, 206);
        assert_eq!(answer.no_retry, Some(false));
        assert_eq!(answer.body, b"[]");

        let chunked = b"HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\nretry-after: 30\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n";
        let answer = parse_response(chunked).unwrap();
        assert_eq!(answer.status, 500);
        assert_eq!(answer.retry_after.as_deref(), Some("30"));
        assert_eq!(answer.body, br#"{"a":1}"#);
    }

    #[test]
    fn a_cut_response_is_an_error_not_a_panic() {
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(parse_response(b"garbage\r\n\r\n").is_err());
        let cut = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nff\r\nabc";
        assert!(parse_response(cut).is_err());
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(encode("shop-fulfil-order"), "shop-fulfil-order");
        assert_eq!(encode("a b&c"), "a%20b%26c");
    }
}
