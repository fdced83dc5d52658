//! The image, where the manifests go without a cluster, the review, and what happens
//! after it (showing generated passwords, saving the answers as a preset).

use super::{Entry, always};
use crate::presets;
use crate::wizard::checks;
use crate::wizard::choices::CredentialChoice;
use crate::wizard::order::Step;
use crate::wizard::question::{Asked, QuestionKind, optional_text, text};
use crate::wizard::review::review_notes;

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
        let label = if s.online() {
            format!(
                "Apply to context `{}`, namespace `{ns}`?",
                s.context().unwrap_or_default()
            )
        } else {
            format!("Write the manifests to `{}`?", s.output_dir())
        };
        Asked::new(
            QuestionKind::Confirm { default: true },
            label,
            "Yes goes ahead. No cancels without changing anything. Esc goes back to change an answer.",
        )
        .with_notes(review_notes(s))
    },
    take: |s, input, _| {
        if input == "false" {
            return Ok(Some(Step::Declined));
        }
        let draft = s.build()?;
        draft.load().map_err(|e| {
            format!(
                "these answers do not make a valid configuration — press Esc to change them:\n{e}"
            )
        })?;
        Ok(None)
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
