//! The image, where the manifests go without a cluster, the review, and what happens
//! after it (showing generated passwords, saving the answers as a preset).

use super::{Entry, always};
use crate::presets;
use crate::wizard::checks;
use crate::wizard::choices::{CredentialChoice, DbChoice, StorageChoice};
use crate::wizard::order::Step;
use crate::wizard::question::{Asked, QuestionKind, choice, optional_text, select, text};
use crate::wizard::review::review_notes;
use crate::wizard::state::WizardState;

/// The review's choices.
const APPLY: &str = "apply";
const CUSTOMISE: &str = "customise";
const CANCEL: &str = "cancel";

fn db_now(s: &WizardState) -> &'static str {
    match s.db() {
        DbChoice::Bundled => "a bundled PostgreSQL",
        DbChoice::External => "an external PostgreSQL",
    }
}

fn storage_now(s: &WizardState) -> &'static str {
    match s.storage() {
        StorageChoice::Minio => "attachments in a bundled MinIO",
        StorageChoice::External => "attachments in an external S3 bucket",
        StorageChoice::Pvc => "attachments on a volume",
    }
}

pub(in crate::wizard) const IMAGE_REPOSITORY: Entry = Entry {
    asked: always,
    ask: |s| {
        Asked::new(
            text(Some(s.image().0)),
            "Odoo image repository",
            "The container image to run, without tag. The default carries the S3 filestore modules and session_db; the official `odoo` image lacks them (attachments then go to a volume).",
        )
    },
    take: |s, input, _| {
        s.a.image_repository = Some(checks::image_repository(&input)?);
        Ok(None)
    },
};

pub(in crate::wizard) const IMAGE_TAG: Entry = Entry {
    asked: always,
    ask: |s| {
        Asked::new(
            text(Some(s.image().1)),
            "Image tag",
            "A pinned version tag of that image (not `latest`, which changes under you), e.g. 18.0-20260926.",
        )
    },
    take: |s, input, _| {
        s.a.image_tag = Some(checks::image_tag(&input)?);
        Ok(None)
    },
};

pub(in crate::wizard) const OUTPUT_DIR: Entry = Entry {
    asked: |s| !s.online(),
    ask: |s| {
        Asked::new(
            text(Some(s.output_dir())),
            "Folder for the manifests",
            "No cluster is reachable, so the manifests (Secrets included: keep the folder private) are written here. Apply them later with `kubectl apply --server-side -f FOLDER`.",
        )
    },
    take: |s, input, _| {
        s.a.output_dir = Some(input);
        Ok(None)
    },
};

pub(in crate::wizard) const REVIEW: Entry = Entry {
    asked: always,
    ask: |s| {
        let (ns, _) = s.namespace();
        let (label, apply) = if s.online() {
            let context = s.context().unwrap_or_default();
            (
                format!("Apply to context `{context}`, namespace `{ns}`?"),
                format!("yes — apply to context `{context}`, namespace `{ns}`"),
            )
        } else {
            (
                format!("Write the manifests to `{}`?", s.output_dir()),
                format!("yes — write the manifests to `{}`", s.output_dir()),
            )
        };
        let customise = if s.storage_fixed() {
            format!(
                "customise — choose where the database runs (now: {})",
                db_now(s)
            )
        } else {
            format!(
                "customise — choose where the database runs and where attachments go (now: {}; {})",
                db_now(s),
                storage_now(s)
            )
        };
        Asked::new(
            select(
                vec![
                    choice(APPLY, apply),
                    choice(CUSTOMISE, customise),
                    choice(CANCEL, "no — cancel; nothing is changed"),
                ],
                APPLY,
            ),
            label,
            "Yes goes ahead. Customise asks what the scenario chose for you, then comes back here. No cancels without changing anything. Esc goes back to change an answer.",
        )
        .with_notes(review_notes(s))
    },
    take: |s, input, _| match input.as_str() {
        CANCEL => Ok(Some(Step::Declined)),
        CUSTOMISE => {
            s.a.customise = true;
            s.revisit = true;
            Ok(Some(Step::Database))
        }
        _ => {
            let draft = s.build()?;
            draft.load().map_err(|e| {
                format!("these answers do not make a valid configuration — press Esc to change them:\n{e}")
            })?;
            Ok(None)
        }
    },
};

pub(in crate::wizard) const SHOW_CREDENTIALS: Entry = Entry {
    asked: |s| s.cred_mode() == CredentialChoice::Generate,
    ask: |s| {
        Asked::new(
            QuestionKind::Confirm {
                default: s.a.show_credentials.unwrap_or(true),
            },
            "Show the generated passwords once at the end?",
            "The administrator password is needed for the first login. They are kept in a Kubernetes Secret either way, and never shown again by odoo-tui.",
        )
    },
    take: |s, input, _| {
        s.a.show_credentials = Some(input == "true");
        Ok(None)
    },
};

pub(in crate::wizard) const SAVE_PRESET: Entry = Entry {
    asked: always,
    ask: |s| {
        Asked::new(
            optional_text(s.a.save_as.clone()),
            "Save these answers as a preset? (name, or empty to skip)",
            "Saved presets appear in the scenario list next time and work with `--preset NAME`. Passwords you typed are not saved; Secret names are.",
        )
    },
    take: |s, input, _| {
        let builtin: Vec<&str> = presets::BUILTIN.iter().map(|(n, _, _)| *n).collect();
        s.a.save_as = Some(if input.is_empty() {
            input
        } else {
            checks::preset_name(&input, &builtin)?
        });
        Ok(None)
    },
};
