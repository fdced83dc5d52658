//! Field sets and managed fields: the bookkeeping behind server-side apply.
//!
//! A [`FieldSet`] is a tree of path elements in the FieldsV1 spelling (`f:spec`,
//! `k:{"name":"odoo"}`, `v:"x"`); a node is `owned` when the manager owns that field
//! itself (a leaf, or a list item's existence, written `.` in FieldsV1).

use crate::schema::{ListType, item_key, list_type};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSet {
    pub owned: bool,
    pub children: BTreeMap<String, FieldSet>,
}

/// A path: a list of FieldsV1 elements.
pub type Path = Vec<String>;

impl FieldSet {
    pub fn is_empty(&self) -> bool {
        !self.owned && self.children.values().all(FieldSet::is_empty)
    }

    /// Fields set in `obj` (an object), skipping server-managed metadata.
    pub fn from_object(obj: &Value) -> FieldSet {
        let mut fs = FieldSet::default();
        if let Some(m) = obj.as_object() {
            for (k, v) in m {
                if k == "apiVersion" || k == "kind" {
                    continue;
                }
                let mut child = FieldSet::default();
                if k == "metadata" {
                    let mut md = v.clone();
                    if let Some(mm) = md.as_object_mut() {
                        for skip in [
                            "name",
                            "namespace",
                            "uid",
                            "resourceVersion",
                            "generation",
                            "creationTimestamp",
                            "managedFields",
                            "deletionTimestamp",
                            "deletionGracePeriodSeconds",
                            "selfLink",
                            "generateName",
                        ] {
                            mm.shift_remove(skip);
                        }
                        if mm.is_empty() {
                            continue;
                        }
                    }
                    collect(&md, &mut child);
                } else {
                    collect_value(k, v, &mut child);
                }
                fs.children.insert(format!("f:{k}"), child);
            }
        }
        fs
    }

    pub fn union(&mut self, other: &FieldSet) {
        self.owned |= other.owned;
        for (k, v) in &other.children {
            self.children.entry(k.clone()).or_default().union(v);
        }
    }

    /// self minus other (owned flags removed where other owns them).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            owned: self.owned && !other.owned,
            children: BTreeMap::new(),
        };
        for (k, v) in &self.children {
            let d = match other.children.get(k) {
                Some(o) => v.difference(o),
                None => v.clone(),
            };
            if !d.is_empty() {
                out.children.insert(k.clone(), d);
            }
        }
        out
    }

    pub fn contains(&self, path: &[String]) -> bool {
        match path.split_first() {
            None => self.owned,
            Some((h, rest)) => self.children.get(h).is_some_and(|c| c.contains(rest)),
        }
    }

    pub fn remove_path(&mut self, path: &[String]) {
        match path.split_first() {
            None => self.owned = false,
            Some((h, rest)) => {
                if let Some(c) = self.children.get_mut(h) {
                    c.remove_path(rest);
                    if c.is_empty() {
                        self.children.remove(h);
                    }
                }
            }
        }
    }

    pub fn insert_path(&mut self, path: &[String]) {
        match path.split_first() {
            None => self.owned = true,
            Some((h, rest)) => self
                .children
                .entry(h.clone())
                .or_default()
                .insert_path(rest),
        }
    }

    /// Every owned path, parents before children.
    pub fn owned_paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        fn walk(fs: &FieldSet, prefix: &mut Path, out: &mut Vec<Path>) {
            if fs.owned && !prefix.is_empty() {
                out.push(prefix.clone());
            }
            for (k, v) in &fs.children {
                prefix.push(k.clone());
                walk(v, prefix, out);
                prefix.pop();
            }
        }
        walk(self, &mut Vec::new(), &mut out);
        out
    }

    /// Remove the paths that no longer exist in `obj`.
    pub fn retain_existing(&mut self, obj: &Value) {
        for p in self.owned_paths() {
            if get_path(obj, &p).is_none() {
                self.remove_path(&p);
            }
        }
    }

    pub fn to_fields_v1(&self) -> Value {
        let mut m = Map::new();
        if self.owned && !self.children.is_empty() {
            m.insert(".".into(), json!({}));
        }
        for (k, v) in &self.children {
            if !v.is_empty() {
                m.insert(k.clone(), v.to_fields_v1());
            }
        }
        Value::Object(m)
    }

    pub fn from_fields_v1(v: &Value) -> FieldSet {
        let mut fs = FieldSet::default();
        if let Some(m) = v.as_object() {
            if m.is_empty() {
                fs.owned = true;
            }
            for (k, c) in m {
                if k == "." {
                    fs.owned = true;
                } else {
                    fs.children.insert(k.clone(), FieldSet::from_fields_v1(c));
                }
            }
        }
        fs
    }
}

fn collect(v: &Value, out: &mut FieldSet) {
    if let Some(m) = v.as_object() {
        for (k, child) in m {
            let entry = out.children.entry(format!("f:{k}")).or_default();
            collect_value(k, child, entry);
        }
    }
}

fn collect_value(name: &str, v: &Value, entry: &mut FieldSet) {
    match v {
        Value::Object(m) if !m.is_empty() => collect(v, entry),
        Value::Array(items) => match list_type(name, items) {
            ListType::Atomic => entry.owned = true,
            ListType::Set => {
                if items.is_empty() {
                    entry.owned = true;
                }
                for i in items {
                    entry.children.entry(format!("v:{i}")).or_default().owned = true;
                }
            }
            ListType::Map(keys) => {
                if items.is_empty() {
                    entry.owned = true;
                }
                for i in items {
                    let key = format!("k:{}", item_key(i, &keys));
                    let item = entry.children.entry(key).or_default();
                    item.owned = true;
                    collect(i, item);
                }
            }
        },
        _ => entry.owned = true,
    }
}

/// Find the list item addressed by `elem` (`k:{..}` or `v:..`).
fn find_item(list: &[Value], name: &str, elem: &str) -> Option<usize> {
    if let Some(k) = elem.strip_prefix("k:") {
        let want: Value = serde_json::from_str(k).ok()?;
        let from_want: Vec<String> = want.as_object()?.keys().cloned().collect();
        let keys: Vec<&str> = match list_type(name, list) {
            ListType::Map(keys) => keys,
            _ => from_want.iter().map(String::as_str).collect(),
        };
        list.iter().position(|i| item_key(i, &keys) == want)
    } else if let Some(v) = elem.strip_prefix("v:") {
        let want: Value = serde_json::from_str(v).ok()?;
        list.iter().position(|i| *i == want)
    } else {
        None
    }
}

/// The value at `path` in `obj`.
pub fn get_path<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = obj;
    let mut last_field = "";
    for elem in path {
        if let Some(f) = elem.strip_prefix("f:") {
            cur = cur.as_object()?.get(f)?;
            last_field = f;
        } else {
            let list = cur.as_array()?;
            cur = &list[find_item(list, last_field, elem)?];
        }
    }
    Some(cur)
}

/// Remove the value at `path`; then drop maps left empty along the way unless `keep`
/// says their own path is owned.
pub fn remove_path(obj: &mut Value, path: &[String], keep: &dyn Fn(&[String]) -> bool) {
    fn rec(
        cur: &mut Value,
        path: &[String],
        depth: usize,
        full: &[String],
        field: &str,
        keep: &dyn Fn(&[String]) -> bool,
    ) {
        let Some((h, rest)) = path.split_first() else {
            return;
        };
        if let Some(f) = h.strip_prefix("f:") {
            let Some(m) = cur.as_object_mut() else { return };
            if rest.is_empty() {
                m.shift_remove(f);
                return;
            }
            if let Some(child) = m.get_mut(f) {
                rec(child, rest, depth + 1, full, f, keep);
                let empty = matches!(child, Value::Object(cm) if cm.is_empty());
                if empty && !keep(&full[..=depth]) {
                    m.shift_remove(f);
                }
            }
        } else if let Some(list) = cur.as_array_mut() {
            let Some(idx) = find_item(list, field, h) else {
                return;
            };
            if rest.is_empty() {
                list.remove(idx);
            } else {
                rec(&mut list[idx], rest, depth + 1, full, field, keep);
            }
        }
    }
    rec(obj, path, 0, path, "", keep);
}

/// Render a path the way conflict messages do: `.spec.containers[name="odoo"].image`.
pub fn path_string(path: &[String]) -> String {
    let mut s = String::new();
    for e in path {
        if let Some(f) = e.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = e.strip_prefix("k:") {
            let v: Value = serde_json::from_str(k).unwrap_or(Value::Null);
            let inner: Vec<String> = v
                .as_object()
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            s.push_str(&format!("[{}]", inner.join(",")));
        } else if let Some(v) = e.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        }
    }
    s
}

/// One managedFields entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedEntry {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    pub time: String,
    pub subresource: Option<String>,
    pub fields: FieldSet,
}

impl ManagedEntry {
    pub fn same_owner(&self, manager: &str, operation: &str, sub: Option<&str>) -> bool {
        self.manager == manager && self.operation == operation && self.subresource.as_deref() == sub
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), json!(self.manager));
        m.insert("operation".into(), json!(self.operation));
        m.insert("apiVersion".into(), json!(self.api_version));
        m.insert("time".into(), json!(self.time));
        m.insert("fieldsType".into(), json!("FieldsV1"));
        m.insert("fieldsV1".into(), self.fields.to_fields_v1());
        if let Some(s) = &self.subresource {
            m.insert("subresource".into(), json!(s));
        }
        Value::Object(m)
    }
}

pub fn read_managed(obj: &Value) -> Vec<ManagedEntry> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| ManagedEntry {
                    manager: e["manager"].as_str().unwrap_or("").into(),
                    operation: e["operation"].as_str().unwrap_or("Update").into(),
                    api_version: e["apiVersion"].as_str().unwrap_or("").into(),
                    time: e["time"].as_str().unwrap_or("").into(),
                    subresource: e["subresource"].as_str().map(String::from),
                    fields: FieldSet::from_fields_v1(&e["fieldsV1"]),
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn write_managed(obj: &mut Value, entries: &[ManagedEntry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(ManagedEntry::to_json)
        .collect();
    let md = crate::util::ensure_obj(obj, &["metadata"]);
    if list.is_empty() {
        md.shift_remove("managedFields");
    } else {
        md.insert("managedFields".into(), Value::Array(list));
    }
}

/// Merge an applied configuration into the live object (server-side apply merge).
pub fn apply_merge(live: &mut Value, cfg: &Value, field: &str) {
    match (live, cfg) {
        (Value::Object(l), Value::Object(c)) => {
            for (k, cv) in c {
                if cv.is_null() {
                    l.shift_remove(k);
                    continue;
                }
                match l.get_mut(k) {
                    Some(lv) => apply_merge(lv, cv, k),
                    None => {
                        l.insert(k.clone(), cv.clone());
                    }
                }
            }
        }
        (Value::Array(l), Value::Array(c)) => match list_type(field, c) {
            ListType::Map(keys) => {
                let mut out = Vec::new();
                let mut used = vec![false; l.len()];
                for ci in c {
                    let key = item_key(ci, &keys);
                    match l.iter().position(|li| item_key(li, &keys) == key) {
                        Some(idx) => {
                            used[idx] = true;
                            let mut merged = l[idx].clone();
                            apply_merge(&mut merged, ci, "");
                            out.push(merged);
                        }
                        None => out.push(ci.clone()),
                    }
                }
                for (i, li) in l.iter().enumerate() {
                    if !used[i] {
                        out.push(li.clone());
                    }
                }
                *l = out;
            }
            ListType::Set => {
                for ci in c {
                    if !l.contains(ci) {
                        l.push(ci.clone());
                    }
                }
            }
            ListType::Atomic => *l = c.clone(),
        },
        (l, c) => *l = c.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fieldsets_use_keys_for_associative_lists() {
        let obj = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "x", "labels": {"app": "odoo"}},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "odoo", "image": "odoo:18", "args": ["a"],
                 "ports": [{"containerPort": 8069}]}]}}}
        });
        let fs = FieldSet::from_object(&obj);
        let v1 = fs.to_fields_v1();
        assert_eq!(
            v1,
            json!({"f:metadata": {"f:labels": {"f:app": {}}},
                   "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                     "k:{\"name\":\"odoo\"}": {".": {}, "f:args": {}, "f:image": {}, "f:name": {},
                        "f:ports": {"k:{\"containerPort\":8069,\"protocol\":\"TCP\"}":
                            {".": {}, "f:containerPort": {}}}}}}}}})
        );
        assert_eq!(FieldSet::from_fields_v1(&v1), fs);
        let img = vec![
            "f:spec".to_string(),
            "f:template".into(),
            "f:spec".into(),
            "f:containers".into(),
            "k:{\"name\":\"odoo\"}".into(),
            "f:image".into(),
        ];
        assert_eq!(get_path(&obj, &img), Some(&json!("odoo:18")));
        assert_eq!(
            path_string(&img),
            ".spec.template.spec.containers[name=\"odoo\"].image"
        );
    }

    #[test]
    fn removing_paths_prunes_empty_maps() {
        let mut obj = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"x": 1}});
        let p = vec!["f:metadata".to_string(), "f:labels".into(), "f:a".into()];
        remove_path(&mut obj, &p, &|_| false);
        assert_eq!(obj, json!({"spec": {"x": 1}}));
    }

    #[test]
    fn merge_by_key() {
        let mut live = json!({"c": [{"name": "a", "image": "1", "x": true}, {"name": "b"}]});
        apply_merge(&mut live, &json!({"c": [{"name": "a", "image": "2"}]}), "");
        // "c" is atomic (unknown list name), so it is replaced.
        assert_eq!(live, json!({"c": [{"name": "a", "image": "2"}]}));
        let mut live =
            json!({"containers": [{"name": "a", "image": "1", "x": true}, {"name": "b"}]});
        apply_merge(
            &mut live,
            &json!({"containers": [{"name": "a", "image": "2"}]}),
            "",
        );
        assert_eq!(
            live,
            json!({"containers": [{"name": "a", "image": "2", "x": true}, {"name": "b"}]})
        );
    }
}
