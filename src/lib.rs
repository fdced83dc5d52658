//! odoo-tui: deploy and operate Odoo 18 on Kubernetes.
//!
//! The crate is built from pure cores with thin IO around them:
//! [`values`] (presets, `-f`, `--set`, validation) → [`render`] (typed manifests).

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod credentials;
pub mod error;
pub mod interactive;
pub mod live;
pub mod open;
pub mod ops;
pub mod output;
pub mod plain;
pub mod presets;
pub mod render;
pub mod status;
pub mod text;
pub mod time;
pub mod tui;
pub mod upgrade;
pub mod values;
pub mod wizard;

pub use error::Error;
