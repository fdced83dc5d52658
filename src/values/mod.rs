//! The configuration model: the chart's key tree with our defaults, values files
//! (`-f`), `--set`, presets, merged in order, checked key by key, then typed.

mod addons;
pub mod cron;
pub mod derived;
mod model;
pub mod safety;
mod set;
mod tree;
pub mod validate;

use std::sync::OnceLock;

pub use derived::{Derived, names};
pub use model::*;
pub use set::parse_set;
pub use tree::{Kind, Node, parse as parse_yaml};

use crate::Error;

/// Our defaults: the chart's 0.6.0 tree, corrected, plus our keys.
pub const DEFAULTS_YAML: &str = include_str!("../../assets/defaults.yaml");

/// One layer of configuration, with where it came from (for messages).
#[derive(Debug, Clone)]
pub struct Source {
    /// A file path, `preset quick-start`, or `--set a.b=c`.
    pub origin: String,
    /// Whether `origin` is a file whose lines are meaningful.
    pub has_lines: bool,
    pub tree: Node,
}

impl Source {
    /// A values document (a file, or an embedded preset).
    pub fn yaml(origin: impl Into<String>, text: &str) -> Result<Source, Error> {
        let origin = origin.into();
        let tree = tree::parse(text).map_err(|e| Error::Config(yaml_error(&origin, &e)))?;
        if !matches!(tree.kind, Kind::Map(_)) {
            return Err(Error::Config(format!(
                "{origin}: a values document must be a map of keys (like the chart's values.yaml), not {}",
                tree.type_name()
            )));
        }
        Ok(Source {
            origin,
            has_lines: true,
            tree,
        })
    }

    /// One `--set` argument. Messages show its value only for known keys that hold no
    /// credential: a mistyped `--set externalDatabase.pasword=…` never prints the password.
    pub fn set(arg: &str) -> Result<Source, Error> {
        let shown = set::shown(arg, value_may_be_shown);
        let tree = set::parse_set(arg).map_err(|e| Error::Usage(e.replace(arg, &shown)))?;
        Ok(Source {
            origin: format!("--set {shown}"),
            has_lines: false,
            tree,
        })
    }

    fn at(&self, line: u32) -> String {
        if self.has_lines && line > 0 {
            format!("{}:{line}", self.origin)
        } else {
            self.origin.clone()
        }
    }
}

/// Keys of the values that hold credentials (blanked in the instance record, never shown).
pub const CREDENTIAL_KEYS: &[&str] = &[
    "postgresql.auth.password",
    "externalDatabase.password",
    "minio.auth.rootPassword",
    "externalS3.accessKey",
    "externalS3.secretKey",
    "sessionDb.uri",
    "backend.odoo.masterPassword",
    "backend.initDb.adminPassword",
];

/// Whether the value given for `path` may appear in a message: the key is known (a typo
/// of a credential key is not) and neither holds a credential nor sits in a free-form
/// block or a list where one could hide (env values, annotations).
fn value_may_be_shown(path: &[&str]) -> bool {
    let dotted = path.join(".");
    if CREDENTIAL_KEYS.contains(&dotted.as_str())
        || path
            .iter()
            .any(|p| safety::looks_like_credential(p) || *p == "env" || *p == "annotations")
    {
        return false;
    }
    // Known in the defaults (a list index stops the walk: its items are typed later).
    let mut node = defaults_tree();
    for p in path {
        if p.parse::<usize>().is_ok() {
            return true;
        }
        match node.get(p) {
            Some(n) => node = n,
            None => return false,
        }
    }
    true
}

fn yaml_error(origin: &str, e: &serde_saphyr::Error) -> String {
    let msg = e.to_string();
    let first = msg
        .lines()
        .next()
        .unwrap_or("invalid YAML")
        .trim()
        .to_string();
    match e.location() {
        Some(loc) => format!("{origin}:{}: invalid YAML: {first}", loc.line()),
        None => format!("{origin}: invalid YAML: {first}"),
    }
}

/// The result of loading: typed values, the merged tree, and warnings for stderr.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub values: Values,
    pub merged: serde_json::Value,
    pub warnings: Vec<String>,
}

fn defaults_tree() -> &'static Node {
    static TREE: OnceLock<Node> = OnceLock::new();
    TREE.get_or_init(|| tree::parse(DEFAULTS_YAML).expect("assets/defaults.yaml is valid YAML"))
}

/// The defaults as typed values.
pub fn defaults() -> Values {
    load(&[]).expect("defaults load").values
}

/// Maps whose keys are free-form (checked by their Kubernetes type, not key by key).
const OPAQUE_MAPS: &[&str] = &[
    "annotations",
    "nodeSelector",
    "affinity",
    "resources",
    "podSecurityContext",
    "containerSecurityContext",
    "updateStrategy",
    "ingressNamespaceSelector",
];

/// Keys of chart 0.3.0 (Bitnami subcharts) and where they live now.
const RENAMED: &[(&str, &str)] = &[
    ("postgresql.primary.persistence", "postgresql.persistence"),
    ("postgresql.primary.resources", "postgresql.resources"),
    ("postgresql.primary.nodeSelector", "postgresql.nodeSelector"),
    ("postgresql.primary.tolerations", "postgresql.tolerations"),
    ("postgresql.primary.affinity", "postgresql.affinity"),
];

/// The chart's own defaults that are wrong (floating tags, the wrong uid): a values file
/// that repeats them (e.g. the chart's values.yaml loaded unchanged) keeps ours instead.
const CHART_WRONG_DEFAULTS: &[(&str, &str, &str)] = &[
    ("minio.image.tag", "latest", "floating tag"),
    ("minio.provisioning.image.tag", "latest", "floating tag"),
    ("postgresql.image.tag", "17", "floating tag"),
    (
        "backend.initContainers.waitForDb.image.tag",
        "1.37",
        "floating tag",
    ),
    ("nginx.image.tag", "1.27-alpine", "floating tag"),
    (
        "backend.containerSecurityContext.runAsUser",
        "101",
        "the Odoo image runs as uid 100",
    ),
];

/// Load layers over the defaults, in order: later layers override earlier ones.
pub fn load(sources: &[Source]) -> Result<Loaded, Error> {
    load_layers(None, sources)
}

/// Load `sources` over the values recorded for an instance (`origin` names the record in
/// messages). The record holds every key; only those that differ from the defaults count
/// as set by the user, so a default never warns on a re-run.
pub fn load_over_record(
    origin: &str,
    recorded: &serde_json::Value,
    sources: &[Source],
) -> Result<Loaded, Error> {
    let record = Source {
        origin: origin.to_string(),
        has_lines: false,
        tree: Node::from_json(recorded),
    };
    load_layers(Some(record), sources)
}

/// The defaults as merged JSON (quantities as strings, as a record holds them).
fn defaults_json() -> &'static serde_json::Value {
    static JSON: OnceLock<serde_json::Value> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut json = defaults_tree().to_json();
        validate::quantities_as_strings(&mut json);
        json
    })
}

/// Whether a layer sets `path` (a dotted key). A record counts only where it differs
/// from the defaults.
fn sets(src: &Source, recorded: bool, path: &str) -> bool {
    let segs: Vec<&str> = path.split('.').collect();
    let Some(node) = src.tree.at(&segs) else {
        return false;
    };
    if matches!(node.kind, Kind::Null) {
        return false;
    }
    if !recorded {
        return true;
    }
    let pointer: String = segs.iter().map(|s| format!("/{s}")).collect();
    defaults_json().pointer(&pointer) != Some(&node.to_json())
}

fn load_layers(record: Option<Source>, sources: &[Source]) -> Result<Loaded, Error> {
    let mut merged = defaults_tree().clone();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut prepared = Vec::new();
    let recorded = usize::from(record.is_some());
    for src in record.iter().chain(sources) {
        let mut src = src.clone();
        rename_old_keys(&mut src, &mut warnings);
        drop_chart_wrong_defaults(&mut src, &mut warnings);
        check_keys(
            &src,
            &src.tree,
            defaults_tree(),
            &mut Vec::new(),
            &mut errors,
        );
        prepared.push(src);
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    for src in &prepared {
        merge(&mut merged, &src.tree, defaults_tree());
    }
    let mut json = merged.to_json();
    validate::quantities_as_strings(&mut json);
    let values: Values = match serde_path_to_error::deserialize(json.clone()) {
        Ok(v) => v,
        Err(e) => {
            let path = e.path().to_string();
            return Err(Error::Config(type_error(&prepared, &path, e.inner())));
        }
    };
    let mut problems = validate::validate(&values);
    problems.extend(validate::unknown_nested_fields(&json, &values));
    problems.extend(safety::check(&values, &json));
    let (errs, warns): (Vec<_>, Vec<_>) = problems.into_iter().partition(|p| p.is_error);
    if !errs.is_empty() {
        // A message may quote a value: never let one act on the terminal.
        return Err(Error::Invalid(
            errs.into_iter()
                .map(|p| crate::text::safe_line(&locate(&prepared, &p.path, &p.message)))
                .collect(),
        ));
    }
    // Warn only about what the user set: the defaults alone never warn.
    let user_set = |p: &validate::Problem| {
        p.about().any(|path| {
            prepared
                .iter()
                .enumerate()
                .any(|(i, src)| sets(src, i < recorded, path))
        })
    };
    warnings.extend(warns.into_iter().filter(|p| user_set(p)).map(|p| p.message));
    Ok(Loaded {
        values,
        merged: json,
        warnings,
    })
}

/// Prefix a message with the file and line where the last layer set `path`.
fn locate(sources: &[Source], path: &str, message: &str) -> String {
    let segs: Vec<String> = path
        .split('.')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    for src in sources.iter().rev() {
        if let Some(line) = find_line(&src.tree, &segs) {
            return format!("{}: {message}", src.at(line));
        }
    }
    message.to_string()
}

/// The line of the deepest node along `path` that the tree has (None if it has not the first key).
fn find_line(tree: &Node, path: &[String]) -> Option<u32> {
    let mut node = tree;
    let mut line = None;
    for seg in path {
        let next = match &node.kind {
            Kind::Map(_) => node.get(seg),
            Kind::Seq(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(n) => {
                line = Some(n.line);
                node = n;
            }
            None => break,
        }
    }
    line
}

fn type_error(sources: &[Source], path: &str, e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg);
    locate(sources, path, &format!("`{path}`: {msg}"))
}

fn rename_old_keys(src: &mut Source, warnings: &mut Vec<String>) {
    for (old, new) in RENAMED {
        let old_path: Vec<&str> = old.split('.').collect();
        let (parent_path, last) = old_path.split_at(old_path.len() - 1);
        let Some(value) = take(&mut src.tree, parent_path, last[0]) else {
            continue;
        };
        warnings.push(format!(
            "{}: `{old}` is a chart 0.3.0 key; read as `{new}`",
            src.origin
        ));
        let new_path: Vec<&str> = new.split('.').collect();
        put(&mut src.tree, &new_path, value);
        // Drop an emptied `postgresql.primary`.
        if let Some(parent) = node_at_mut(&mut src.tree, parent_path)
            && matches!(&parent.kind, Kind::Map(e) if e.is_empty())
        {
            let (pp, pl) = parent_path.split_at(parent_path.len() - 1);
            take(&mut src.tree, pp, pl[0]);
        }
    }
}

fn drop_chart_wrong_defaults(src: &mut Source, warnings: &mut Vec<String>) {
    // The chart's default backend image (`odoo:18.0`) floats and lacks the S3 modules.
    let repo = src
        .tree
        .at(&["backend", "image", "repository"])
        .map(|n| n.to_json());
    let tag = src
        .tree
        .at(&["backend", "image", "tag"])
        .map(|n| n.to_json());
    if repo == Some(serde_json::json!("odoo")) && tag == Some(serde_json::json!("18.0")) {
        take(&mut src.tree, &["backend", "image"], "repository");
        take(&mut src.tree, &["backend", "image"], "tag");
        warnings.push(format!(
            "{}: `backend.image` odoo:18.0 is the chart's floating default without the S3 modules; using odoo-tui's pinned image instead",
            src.origin
        ));
    }
    for (path, chart_value, why) in CHART_WRONG_DEFAULTS {
        let segs: Vec<&str> = path.split('.').collect();
        let (parent, last) = segs.split_at(segs.len() - 1);
        let matches = src.tree.at(&segs).is_some_and(|n| match &n.kind {
            Kind::Str(s) => s == chart_value,
            Kind::Int(i) => i.to_string() == *chart_value,
            _ => false,
        });
        if matches {
            take(&mut src.tree, parent, last[0]);
            warnings.push(format!(
                "{}: `{path}: {chart_value}` is the chart's default ({why}); using odoo-tui's default instead",
                src.origin
            ));
        }
    }
}

fn node_at_mut<'a>(node: &'a mut Node, path: &[&str]) -> Option<&'a mut Node> {
    let mut n = node;
    for k in path {
        n = n.get_mut(k)?;
    }
    Some(n)
}

fn take(tree: &mut Node, parent: &[&str], key: &str) -> Option<Node> {
    let p = node_at_mut(tree, parent)?;
    let Kind::Map(entries) = &mut p.kind else {
        return None;
    };
    let i = entries.iter().position(|(k, _)| k == key)?;
    Some(entries.remove(i).1)
}

fn put(tree: &mut Node, path: &[&str], value: Node) {
    let Some((first, rest)) = path.split_first() else {
        *tree = value;
        return;
    };
    if !matches!(tree.kind, Kind::Map(_)) {
        tree.kind = Kind::Map(Vec::new());
    }
    if tree.get(first).is_none()
        && let Kind::Map(entries) = &mut tree.kind
    {
        entries.push((first.to_string(), Node::map()));
    }
    if let Some(child) = tree.get_mut(first) {
        put(child, rest, value);
    }
}

fn is_opaque(key: &str) -> bool {
    OPAQUE_MAPS.contains(&key)
}

/// Check every key of `node` against the defaults tree `schema`.
fn check_keys(
    src: &Source,
    node: &Node,
    schema: &Node,
    path: &mut Vec<String>,
    errors: &mut Vec<String>,
) {
    let Kind::Map(entries) = &node.kind else {
        return;
    };
    for (key, value) in entries {
        path.push(key.clone());
        let dotted = path.join(".");
        match schema.get(key) {
            None => errors.push(unknown_key(src, &dotted, path, value.line, schema)),
            Some(def) => {
                if let Some(msg) = type_mismatch(value, def) {
                    errors.push(format!(
                        "{}: `{dotted}` must be {}, not {} ({msg})",
                        src.at(value.line),
                        def.type_name(),
                        value.type_name(),
                    ));
                } else if matches!(def.kind, Kind::Map(_)) && !is_opaque(key) {
                    check_keys(src, value, def, path, errors);
                }
            }
        }
        path.pop();
    }
}

fn type_mismatch(value: &Node, def: &Node) -> Option<&'static str> {
    use Kind::*;
    match (&value.kind, &def.kind) {
        (Null, _) => None,
        (Str(_) | Int(_) | Float(_) | Bool(_), Str(_)) => None,
        (Int(_), Int(_)) => None,
        (Bool(_), Bool(_)) => None,
        (Seq(_), Seq(_)) => None,
        (Map(_), Map(_)) => None,
        (Str(s), Int(_)) if s.trim().parse::<i64>().is_ok() => None,
        (_, Int(_)) => Some("write a whole number"),
        (_, Bool(_)) => Some("write true or false"),
        (_, Seq(_)) => Some("write a YAML list, or {a,b} with --set"),
        (_, Map(_)) => Some("write nested keys"),
        _ => Some("see the defaults with `odoo-tui render --help`"),
    }
}

fn unknown_key(src: &Source, dotted: &str, path: &[String], line: u32, schema: &Node) -> String {
    let key = path.last().map(String::as_str).unwrap_or_default();
    let parent = path[..path.len() - 1].join(".");
    let siblings: Vec<&str> = match &schema.kind {
        Kind::Map(e) => e.iter().map(|(k, _)| k.as_str()).collect(),
        _ => vec![],
    };
    let best = siblings
        .iter()
        .map(|s| {
            (
                strsim::jaro_winkler(&key.to_lowercase(), &s.to_lowercase()),
                *s,
            )
        })
        .filter(|(score, _)| *score > 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let hint = match best {
        Some((_, s)) if parent.is_empty() => format!(" — did you mean `{s}`?"),
        Some((_, s)) => format!(" — did you mean `{parent}.{s}`?"),
        None if siblings.is_empty() => String::new(),
        None if parent.is_empty() => format!(" — known top-level keys: {}", siblings.join(", ")),
        None => format!(" — known keys under `{parent}`: {}", siblings.join(", ")),
    };
    format!("{}: unknown key `{dotted}`{hint}", src.at(line))
}

/// Deep-merge `over` into `base`, as Helm does: maps merge key by key; lists and
/// scalars replace; `null` keeps what was there.
fn merge(base: &mut Node, over: &Node, schema: &Node) {
    match (&mut base.kind, &over.kind) {
        (_, Kind::Null) => {}
        (Kind::Map(entries), Kind::Map(over_entries)) => {
            for (k, v) in over_entries {
                let sub_schema = schema.get(k).cloned().unwrap_or_else(Node::map);
                match entries.iter_mut().find(|(ek, _)| ek == k) {
                    Some((_, existing)) => merge(existing, v, &sub_schema),
                    None => entries.push((k.clone(), coerce(v, &sub_schema))),
                }
            }
        }
        _ => *base = coerce(over, schema),
    }
}

/// Scalars given for string keys become strings (Helm renders `tag: 18` as "18").
fn coerce(v: &Node, schema: &Node) -> Node {
    match (&v.kind, &schema.kind) {
        (Kind::Int(i), Kind::Str(_)) => Node::new(Kind::Str(i.to_string()), v.line),
        (Kind::Float(f), Kind::Str(_)) => Node::new(Kind::Str(f.to_string()), v.line),
        (Kind::Bool(b), Kind::Str(_)) => Node::new(Kind::Str(b.to_string()), v.line),
        (Kind::Str(s), Kind::Int(_)) => match s.trim().parse::<i64>() {
            Ok(i) => Node::new(Kind::Int(i), v.line),
            Err(_) => v.clone(),
        },
        (Kind::Map(_), Kind::Map(_)) => {
            let mut base = Node::new(Kind::Map(Vec::new()), v.line);
            merge(&mut base, v, schema);
            base
        }
        _ => v.clone(),
    }
}

#[cfg(test)]
mod tests;
