//! Where the instance goes: the kubeconfig context and the namespace.

use super::Entry;
use crate::wizard::checks;
use crate::wizard::choices::NEW_NAMESPACE;
use crate::wizard::question::{Asked, Choice, choice, select, text};

pub(in crate::wizard) const CONTEXT: Entry = Entry {
    asked: |s| s.defaults.context.is_none() && !s.cluster.contexts.is_empty(),
    ask: |s| {
        let current = s.cluster.current.clone().unwrap_or_default();
        let default = s.a.context.clone().unwrap_or(current.clone());
        let options = s
            .cluster
            .contexts
            .iter()
            .map(|c| {
                let mark = if *c == current { " (current)" } else { "" };
                choice(c, format!("{c}{mark}"))
            })
            .collect();
        Asked::new(
            select(options, &default),
            "Which cluster?",
            "The Kubernetes cluster to install into, by its context name in your kubeconfig (as `kubectl config get-contexts` lists them).",
        )
    },
    take: |s, input, probe| {
        s.a.context = Some(input.clone());
        s.connect(probe, Some(&input));
        Ok(None)
    },
};

pub(in crate::wizard) const NAMESPACE: Entry = Entry {
    asked: |s| s.defaults.namespace.is_none(),
    ask: |s| match s.ns_list() {
        Some(list) => {
            let default = s.a.namespace.clone().unwrap_or_else(|| {
                if s.a.namespace_new {
                    NEW_NAMESPACE.into()
                } else {
                    s.default_namespace()
                }
            });
            // The context's namespace first (kubectl's `default` when the context names
            // none), also when it does not exist yet: choosing it creates it.
            let first = s.default_namespace();
            let whose = if s.cluster.context_namespace.is_some() {
                "the context's namespace"
            } else {
                "the context names none: kubectl's default"
            };
            let first_label = if list.contains(&first) {
                format!("{first} ({whose})")
            } else {
                format!("{first} ({whose}; it does not exist yet and is created)")
            };
            let mut options: Vec<Choice> = vec![choice(&first, first_label)];
            options.extend(
                list.iter()
                    .filter(|n| **n != first)
                    .map(|n| choice(n, n.clone())),
            );
            options.push(choice(NEW_NAMESPACE, "create a new namespace…"));
            Asked::new(
                select(options, &default),
                "Which namespace?",
                "The namespace (a folder of the cluster) that holds this instance's objects; the first is the one your kubeconfig's context names. A namespace of its own keeps instances apart; other applications' objects in it are left alone. A namespace odoo-tui creates enforces the Pod Security Standard \"restricted\".",
            )
        }
        None => Asked::new(
            text(Some(
                s.a.namespace
                    .clone()
                    .unwrap_or_else(|| s.default_namespace()),
            )),
            "Namespace",
            "The namespace (a folder of the cluster) for this instance's objects; it is created when it does not exist yet. Lowercase letters, digits and '-'.",
        ),
    },
    take: |s, input, _| {
        if s.ns_list().is_some() {
            let new = input == NEW_NAMESPACE;
            s.a.namespace_new = new;
            if !new {
                s.a.namespace = Some(input);
            }
        } else {
            s.a.namespace = Some(checks::namespace(&input)?);
        }
        Ok(None)
    },
};

pub(in crate::wizard) const NEW_NAMESPACE_NAME: Entry = Entry {
    asked: |s| s.defaults.namespace.is_none() && s.ns_list().is_some() && s.a.namespace_new,
    ask: |s| {
        Asked::new(
            text(Some(
                s.a.new_namespace.clone().unwrap_or_else(|| "odoo".into()),
            )),
            "Name of the new namespace",
            "It is created before anything else. Lowercase letters, digits and '-', e.g. acme or odoo-prod.",
        )
    },
    take: |s, input, _| {
        s.a.new_namespace = Some(checks::namespace(&input)?);
        Ok(None)
    },
};
