//! odoo-tui: deploy and operate Odoo 18 on Kubernetes.
//!
//! The crate is built from pure cores with thin IO around them:
//! [`values`] (presets, `-f`, `--set`, validation) → [`render`] (typed manifests).

pub mod cli;
pub mod commands;
pub mod credentials;
pub mod error;
pub mod output;
pub mod presets;
pub mod render;
pub mod values;

pub use error::Error;
