//! How people reach Odoo: nothing (a port-forward), an Ingress, or nginx with domains.

use super::{Entry, always};
use crate::wizard::checks;
use crate::wizard::choices::Exposure;
use crate::wizard::question::{Asked, choice, nonempty, optional_text, select, text};

const OPEN_HINT: &str =
    "reach it with `odoo-tui open NAME` (a port-forward to http://localhost:8069)";

pub(in crate::wizard) const EXPOSURE: Entry = Entry {
    asked: always,
    ask: |s| {
        let name = s.name();
        Asked::new(
            select(
                vec![
                    choice(
                        Exposure::None.key(),
                        format!(
                            "none — only inside the cluster; {}",
                            OPEN_HINT.replace("NAME", &name)
                        ),
                    ),
                    choice(
                        Exposure::Ingress.key(),
                        "ingress — a public host name through the cluster's ingress controller",
                    ),
                    choice(
                        Exposure::Nginx.key(),
                        "nginx domains — an nginx in front of Odoo (maintenance page, caching headers), with a public and an optional back-office domain",
                    ),
                ],
                s.exposure().key(),
            ),
            "How do people reach Odoo?",
            "An Ingress needs an ingress controller in the cluster (ingress-nginx, Traefik on k3s, …) and a DNS name pointing at it. Without one, `odoo-tui open` forwards a local port to Odoo.",
        )
    },
    take: |s, input, _| {
        s.a.exposure = Exposure::from_key(&input);
        Ok(None)
    },
};

pub(in crate::wizard) const INGRESS_HOST: Entry = Entry {
    asked: |s| s.exposure() == Exposure::Ingress,
    ask: |s| {
        Asked::new(
            text(
                s.a.host
                    .clone()
                    .or_else(|| s.pv.ingress.hosts.first().map(|h| h.host.clone())),
            ),
            "Host name",
            "The DNS name people type to reach Odoo, e.g. odoo.example.com; its DNS record must point at your ingress controller.",
        )
    },
    take: |s, input, _| {
        s.a.host = Some(checks::domain(&input)?);
        Ok(None)
    },
};

pub(in crate::wizard) const PUBLIC_DOMAIN: Entry = Entry {
    asked: |s| s.exposure() == Exposure::Nginx,
    ask: |s| {
        Asked::new(
            text(
                s.a.public_domain
                    .clone()
                    .or(nonempty(&s.pv.nginx.domains.public.host)),
            ),
            "Public domain",
            "The domain of the website and shop, e.g. shop.example.com (DNS pointing at your ingress controller).",
        )
    },
    take: |s, input, _| {
        s.a.public_domain = Some(checks::domain(&input)?);
        Ok(None)
    },
};

pub(in crate::wizard) const BACKOFFICE_DOMAIN: Entry = Entry {
    asked: |s| s.exposure() == Exposure::Nginx,
    ask: |s| {
        Asked::new(
            optional_text(
                s.a.backoffice_domain
                    .clone()
                    .or(nonempty(&s.pv.nginx.domains.backoffice.host)),
            ),
            "Back-office domain (optional)",
            "A second domain for employees (the /web back office), e.g. erp.example.com. Leave it empty to serve everything on the public domain.",
        )
    },
    take: |s, input, _| {
        let d = if input.is_empty() {
            String::new()
        } else {
            checks::domain(&input)?
        };
        if !d.is_empty() && Some(&d) == s.a.public_domain.as_ref() {
            return Err(format!(
                "`{d}` is already the public domain — give the back office another one, or leave it empty"
            ));
        }
        s.a.backoffice_domain = Some(d);
        Ok(None)
    },
};

pub(in crate::wizard) const INGRESS_CLASS: Entry = Entry {
    asked: |s| s.exposure() != Exposure::None,
    ask: |s| {
        Asked::new(
            optional_text(
                s.a.ingress_class
                    .clone()
                    .or(nonempty(&s.pv.ingress.class_name)),
            ),
            "Ingress class (optional)",
            "The IngressClass of your ingress controller, e.g. nginx, or traefik on k3s (`kubectl get ingressclass` lists them). Leave it empty for the cluster's default class.",
        )
    },
    take: |s, input, _| {
        s.a.ingress_class = Some(if input.is_empty() {
            input
        } else {
            checks::object_name(&input, "IngressClass")?
        });
        Ok(None)
    },
};

pub(in crate::wizard) const TLS_SECRET: Entry = Entry {
    asked: |s| s.exposure() != Exposure::None,
    ask: |s| {
        Asked::new(
            optional_text(
                s.a.tls_secret
                    .clone()
                    .or_else(|| s.pv.ingress.tls.first().and_then(|t| t.secret_name.clone())),
            ),
            "TLS certificate Secret (optional)",
            "The name of a Secret of type kubernetes.io/tls with the certificate for the host name(s), e.g. one cert-manager maintains. Leave it empty for plain HTTP or the ingress controller's default certificate.",
        )
    },
    take: |s, input, _| {
        s.a.tls_secret = Some(if input.is_empty() {
            input
        } else {
            checks::object_name(&input, "Secret")?
        });
        Ok(None)
    },
};
