//! OpenAPI: kubectl's `--validate` reads /openapi/v3; see the README for what is served.

use crate::error::ApiError;
use crate::server::{Body, err};
use hyper::Response;

pub fn v3_root() -> Response<Body> {
    not_found()
}

pub fn v3_doc(_path: &str) -> Response<Body> {
    not_found()
}

fn not_found() -> Response<Body> {
    err(&ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    ))
}
