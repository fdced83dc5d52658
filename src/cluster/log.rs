//! What `-v` shows on stderr: one line per API request (method, path, status, time) and
//! the apply engine's decisions (waves, what is kept, recreated or pruned); `-vv` adds
//! the requests' query strings. Never a body, a header value or a token: the request
//! line is built from the method, the path and the query only. While a full-screen
//! view is up, lines are held back and printed when it closes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

static LEVEL: AtomicU8 = AtomicU8::new(0);
static HELD: Mutex<Option<Vec<String>>> = Mutex::new(None);

/// Set the verbosity (the `-v` count).
pub fn set_level(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
}

/// Whether lines of `level` are shown.
pub fn enabled(level: u8) -> bool {
    LEVEL.load(Ordering::Relaxed) >= level
}

/// Show `line()` when the verbosity is at least `level`.
pub fn say(level: u8, line: impl FnOnce() -> String) {
    if !enabled(level) {
        return;
    }
    let line = line();
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    match held.as_mut() {
        Some(lines) => lines.push(line),
        None => eprintln!("{line}"),
    }
}

/// Holds lines back until dropped (while a full-screen view owns the terminal).
pub struct Hold(());

/// Hold lines back until the returned guard is dropped, then print them.
pub fn hold() -> Hold {
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    held.get_or_insert_with(Vec::new);
    Hold(())
}

impl Drop for Hold {
    fn drop(&mut self) {
        let lines = HELD
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_default();
        for l in lines {
            eprintln!("{l}");
        }
    }
}

/// The line of one API request; `query` only at `-vv`.
pub fn request_line(
    method: &str,
    path: &str,
    query: Option<&str>,
    status: Option<u16>,
    took: Duration,
) -> String {
    let query = query
        .filter(|_| enabled(2))
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let status = status.map_or("failed".to_string(), |s| s.to_string());
    format!(
        "api: {method} {path}{query} {status} {}ms",
        took.as_millis()
    )
}

/// The tower layer that logs every request of a client.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestLog;

impl<S> tower::Layer<S> for RequestLog {
    type Service = Logged<S>;

    fn layer(&self, inner: S) -> Logged<S> {
        Logged { inner }
    }
}

/// A client service that logs each request once it is answered.
#[derive(Debug, Clone)]
pub struct Logged<S> {
    inner: S,
}

impl<S, B, R> tower::Service<http::Request<B>> for Logged<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    R: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if !enabled(1) {
            return Box::pin(self.inner.call(req));
        }
        let method = req.method().to_string();
        let path = req.uri().path().to_string();
        let query = req.uri().query().map(str::to_string);
        let started = Instant::now();
        let answer = self.inner.call(req);
        Box::pin(async move {
            let res = answer.await;
            let status = res.as_ref().ok().map(|r| r.status().as_u16());
            say(1, || {
                request_line(&method, &path, query.as_deref(), status, started.elapsed())
            });
            res
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_line_has_method_path_status_and_time() {
        let line = request_line(
            "GET",
            "/api/v1/namespaces/shop/pods",
            None,
            Some(200),
            Duration::from_millis(12),
        );
        assert_eq!(line, "api: GET /api/v1/namespaces/shop/pods 200 12ms");
        let failed = request_line("PATCH", "/x", None, None, Duration::ZERO);
        assert_eq!(failed, "api: PATCH /x failed 0ms");
    }
}
