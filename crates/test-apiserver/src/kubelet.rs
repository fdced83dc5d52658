//! Scripted kubelet (placeholder).
use crate::error::ApiError;
use crate::server::{Body, Ctx};
use hyper::Response;

#[derive(Default)]
pub struct Logs;

pub(crate) async fn serve_log(
    _ctx: &Ctx,
    _ns: &str,
    _name: &str,
) -> Result<Response<Body>, ApiError> {
    Err(ApiError::bad_request("not yet"))
}
