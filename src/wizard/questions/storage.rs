//! Where attachments (the filestore) go, and the external bucket.

use super::Entry;
use crate::wizard::checks;
use crate::wizard::choices::StorageChoice;
use crate::wizard::question::{Asked, choice, nonempty, optional_text, select, text};
use crate::wizard::state::WizardState;

fn external(s: &WizardState) -> bool {
    s.storage() == StorageChoice::External
}

/// The scenario answers it; asked to customise it from the review, unless the scenario
/// fixes attachments on a volume.
pub(in crate::wizard) const STORAGE: Entry = Entry {
    asked: |s| s.a.customise && !s.storage_fixed(),
    ask: |s| {
        Asked::new(
            select(
                vec![
                    choice(
                        StorageChoice::Minio.key(),
                        "bundled MinIO — an S3 server next to Odoo (for trying out; production should use external S3)",
                    ),
                    choice(
                        StorageChoice::External.key(),
                        "external S3 — an existing bucket (AWS S3, Cloudflare R2, Wasabi, MinIO elsewhere, …)",
                    ),
                    choice(
                        StorageChoice::Pvc.key(),
                        "none — keep attachments on a volume (PVC); limits Odoo to one replica",
                    ),
                ],
                s.storage().key(),
            ),
            "Where do attachments go?",
            "Odoo stores uploaded files and attachments (the filestore) outside the database. On S3, any number of Odoo replicas share them; on a volume, only one replica can mount it.",
        )
    },
    take: |s, input, _| {
        s.a.storage = StorageChoice::from_key(&input);
        Ok(None)
    },
};

pub(in crate::wizard) const ENDPOINT: Entry = Entry {
    asked: external,
    ask: |s| {
        Asked::new(
            text(
                s.a.s3_endpoint
                    .clone()
                    .or(nonempty(&s.pv.external_s3.endpoint)),
            ),
            "S3 endpoint URL",
            "The S3 API's URL, with scheme: e.g. https://s3.amazonaws.com, https://s3.eu-west-1.amazonaws.com, https://<account>.r2.cloudflarestorage.com.",
        )
    },
    take: |s, input, _| {
        s.a.s3_endpoint = Some(checks::url(&input)?);
        Ok(None)
    },
};

pub(in crate::wizard) const BUCKET: Entry = Entry {
    asked: external,
    ask: |s| {
        Asked::new(
            text(s.a.s3_bucket.clone().or(nonempty(&s.pv.external_s3.bucket))),
            "S3 bucket",
            "The bucket that holds Odoo's files. It must exist already; odoo-tui does not create buckets on external S3. 3–63 lowercase letters, digits, '.' and '-'.",
        )
    },
    take: |s, input, _| {
        s.a.s3_bucket = Some(checks::bucket(&input)?);
        Ok(None)
    },
};

pub(in crate::wizard) const REGION: Entry = Entry {
    asked: external,
    ask: |s| {
        Asked::new(
            optional_text(s.a.s3_region.clone().or(nonempty(&s.pv.external_s3.region))),
            "S3 region (optional)",
            "The bucket's region, e.g. eu-west-1. Leave it empty when the provider needs none (MinIO, R2).",
        )
    },
    take: |s, input, _| {
        s.a.s3_region = Some(checks::region(&input)?);
        Ok(None)
    },
};
