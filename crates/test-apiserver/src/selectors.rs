//! Label selectors (equality- and set-based, string and object form) and field selectors.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
enum Req {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector {
    reqs: Vec<Req>,
    /// A selector object with no requirements but marked "nothing" (a null selector).
    nothing: bool,
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
}

impl LabelSelector {
    pub fn everything() -> Self {
        Self::default()
    }

    /// Parse the string form used in `?labelSelector=`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        let s = s.trim();
        if s.is_empty() {
            return Ok(Self::default());
        }
        // Split on commas that are not inside parentheses.
        let mut parts = Vec::new();
        let mut depth = 0;
        let mut cur = String::new();
        for c in s.chars() {
            match c {
                '(' => {
                    depth += 1;
                    cur.push(c)
                }
                ')' => {
                    depth -= 1;
                    cur.push(c)
                }
                ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        parts.push(cur);
        for part in parts {
            let p = part.trim();
            let bad = || format!("unable to parse requirement: {p:?}");
            if let Some(rest) = p.strip_prefix('!') {
                let k = rest.trim();
                if !valid_key(k) {
                    return Err(bad());
                }
                reqs.push(Req::NotExists(k.to_string()));
            } else if let Some((k, v)) = p.split_once("!=") {
                reqs.push(Req::NotEq(k.trim().into(), v.trim().into()));
            } else if let Some((k, v)) = p.split_once("==") {
                reqs.push(Req::Eq(k.trim().into(), v.trim().into()));
            } else if let Some((k, v)) = p.split_once('=') {
                reqs.push(Req::Eq(k.trim().into(), v.trim().into()));
            } else if let Some(idx) = find_op(p, " notin ") {
                let (k, vals) = (p[..idx].trim(), set_values(&p[idx + 7..]).ok_or_else(bad)?);
                reqs.push(Req::NotIn(k.into(), vals));
            } else if let Some(idx) = find_op(p, " in ") {
                let (k, vals) = (p[..idx].trim(), set_values(&p[idx + 4..]).ok_or_else(bad)?);
                reqs.push(Req::In(k.into(), vals));
            } else if valid_key(p) {
                reqs.push(Req::Exists(p.to_string()));
            } else {
                return Err(bad());
            }
        }
        for r in &reqs {
            let k = match r {
                Req::Eq(k, _)
                | Req::NotEq(k, _)
                | Req::In(k, _)
                | Req::NotIn(k, _)
                | Req::Exists(k)
                | Req::NotExists(k) => k,
            };
            if !valid_key(k) {
                return Err(format!("invalid label key {k:?}"));
            }
        }
        Ok(Self {
            reqs,
            nothing: false,
        })
    }

    /// Build from a `metav1.LabelSelector` object (`matchLabels`, `matchExpressions`).
    /// A missing selector (`None`) selects nothing, like the controllers treat it.
    pub fn from_object(v: Option<&Value>) -> Result<Self, String> {
        let Some(v) = v else {
            return Ok(Self {
                reqs: vec![],
                nothing: true,
            });
        };
        let mut reqs = Vec::new();
        if let Some(ml) = v.get("matchLabels").and_then(Value::as_object) {
            for (k, val) in ml {
                reqs.push(Req::Eq(k.clone(), val.as_str().unwrap_or("").to_string()));
            }
        }
        if let Some(me) = v.get("matchExpressions").and_then(Value::as_array) {
            for e in me {
                let key = e
                    .get("key")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let values: Vec<String> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                match e.get("operator").and_then(Value::as_str).unwrap_or("") {
                    "In" => reqs.push(Req::In(key, values)),
                    "NotIn" => reqs.push(Req::NotIn(key, values)),
                    "Exists" => reqs.push(Req::Exists(key)),
                    "DoesNotExist" => reqs.push(Req::NotExists(key)),
                    op => return Err(format!("{op:?} is not a valid label selector operator")),
                }
            }
        }
        Ok(Self {
            reqs,
            nothing: false,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty() && !self.nothing
    }

    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        if self.nothing {
            return false;
        }
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.reqs.iter().all(|r| match r {
            Req::Eq(k, v) => get(k) == Some(v.as_str()),
            Req::NotEq(k, v) => get(k) != Some(v.as_str()),
            Req::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Req::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Req::Exists(k) => get(k).is_some(),
            Req::NotExists(k) => get(k).is_none(),
        })
    }

    /// The string form (used for the scale subresource's `status.selector`).
    pub fn to_string_form(&self) -> String {
        self.reqs
            .iter()
            .map(|r| match r {
                Req::Eq(k, v) => format!("{k}={v}"),
                Req::NotEq(k, v) => format!("{k}!={v}"),
                Req::In(k, vs) => format!("{k} in ({})", vs.join(",")),
                Req::NotIn(k, vs) => format!("{k} notin ({})", vs.join(",")),
                Req::Exists(k) => k.clone(),
                Req::NotExists(k) => format!("!{k}"),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn find_op(p: &str, op: &str) -> Option<usize> {
    p.find(op)
}

fn set_values(s: &str) -> Option<Vec<String>> {
    let s = s.trim();
    let inner = s.strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
    )
}

/// A parsed field selector (`a=b,c!=d`).
#[derive(Debug, Clone, Default)]
pub struct FieldSelector {
    reqs: Vec<(String, bool, String)>,
}

impl FieldSelector {
    /// Parse and check the fields against what the real server supports for `plural`.
    pub fn parse(s: &str, plural: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, neg, v) = if let Some((k, v)) = part.split_once("!=") {
                (k, true, v)
            } else if let Some((k, v)) = part.split_once("==") {
                (k, false, v)
            } else if let Some((k, v)) = part.split_once('=') {
                (k, false, v)
            } else {
                return Err(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                ));
            };
            let k = k.trim();
            let supported = matches!(k, "metadata.name" | "metadata.namespace")
                || match plural {
                    "pods" => matches!(
                        k,
                        "spec.nodeName"
                            | "spec.restartPolicy"
                            | "spec.schedulerName"
                            | "spec.serviceAccountName"
                            | "status.phase"
                            | "status.podIP"
                            | "status.nominatedNodeName"
                    ),
                    "events" => {
                        k.starts_with("involvedObject.")
                            || matches!(k, "reason" | "type" | "source" | "reportingComponent")
                    }
                    "secrets" => k == "type",
                    "namespaces" => k == "status.phase",
                    "jobs" => k == "status.successful",
                    _ => false,
                };
            if !supported {
                return Err(format!("field label not supported: {k}"));
            }
            reqs.push((k.to_string(), neg, v.trim().to_string()));
        }
        Ok(Self { reqs })
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.reqs.iter().all(|(k, neg, v)| {
            let mut cur = Some(obj);
            for p in k.split('.') {
                cur = cur.and_then(|c| c.get(p));
            }
            let actual = match cur {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::Bool(b)) => b.to_string(),
                _ => String::new(),
            };
            (actual == *v) != *neg
        })
    }

    /// The name this selector pins, if it has `metadata.name=x`.
    pub fn name(&self) -> Option<&str> {
        self.equals("metadata.name")
    }

    /// The value `field` must equal, if the selector has `field=x`.
    pub fn equals(&self, field: &str) -> Option<&str> {
        self.reqs
            .iter()
            .find(|(k, neg, _)| k == field && !neg)
            .map(|(_, _, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn equality_and_set_based() {
        let l = labels(json!({"app": "odoo", "tier": "web", "env": "prod"}));
        let ok = [
            "",
            "app=odoo",
            "app==odoo",
            "app=odoo,tier!=db",
            "tier in (web, db)",
            "env notin (dev,test)",
            "app",
            "!missing",
            "app=odoo,tier in (web),!missing",
        ];
        for s in ok {
            assert!(LabelSelector::parse(s).unwrap().matches(&l), "{s}");
        }
        let no = [
            "app=pg",
            "tier notin (web)",
            "missing",
            "!app",
            "tier in (db)",
        ];
        for s in no {
            assert!(!LabelSelector::parse(s).unwrap().matches(&l), "{s}");
        }
        assert!(LabelSelector::parse("a in b").is_err());
        assert!(LabelSelector::parse("a b").is_err());
    }

    #[test]
    fn object_form() {
        let sel = json!({"matchLabels": {"app": "odoo"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]},
                                 {"key": "x", "operator": "DoesNotExist"}]});
        let s = LabelSelector::from_object(Some(&sel)).unwrap();
        assert!(s.matches(&labels(json!({"app": "odoo", "tier": "web"}))));
        assert!(!s.matches(&labels(json!({"app": "odoo", "tier": "web", "x": "1"}))));
        assert!(
            !LabelSelector::from_object(None)
                .unwrap()
                .matches(&Map::new())
        );
        assert_eq!(
            LabelSelector::from_object(Some(&json!({"matchLabels": {"app": "a"}})))
                .unwrap()
                .to_string_form(),
            "app=a"
        );
    }

    #[test]
    fn field_selectors() {
        let pod =
            json!({"metadata": {"name": "p", "namespace": "n"}, "status": {"phase": "Running"}});
        assert!(
            FieldSelector::parse("metadata.name=p", "pods")
                .unwrap()
                .matches(&pod)
        );
        assert!(
            !FieldSelector::parse("metadata.name!=p", "pods")
                .unwrap()
                .matches(&pod)
        );
        assert!(
            FieldSelector::parse("status.phase=Running", "pods")
                .unwrap()
                .matches(&pod)
        );
        assert!(FieldSelector::parse("status.phase=Running", "deployments").is_err());
        assert_eq!(
            FieldSelector::parse("metadata.name=p", "x").unwrap().name(),
            Some("p")
        );
    }
}
