//! odoo-tui: deploy and operate Odoo 18 on Kubernetes.
//!
//! Pure cores ([`values`], [`render`], [`status`], [`plan`], the [`wizard`]'s state
//! machine, [`tui`]'s state and views) with thin IO around them: [`cluster`] talks to
//! the API server, [`instance`] does what every command does to one instance, [`cmd`]
//! holds one file per subcommand. The dependency rule and a map of the files are in
//! docs/ARCHITECTURE.md.

pub mod cli;
pub mod cluster;
pub mod cmd;
pub mod credentials;
pub mod error;
pub mod instance;
pub mod output;
pub mod plain;
pub mod plan;
pub mod presets;
pub mod render;
pub mod status;
pub mod text;
pub mod time;
pub mod tui;
pub mod values;
pub mod wizard;

pub use error::Error;
