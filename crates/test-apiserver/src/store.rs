//! The in-memory object store: one map per resource type, a global resourceVersion,
//! and a bounded history of change events for watches.

use crate::resources::ResourceType;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::{Notify, broadcast};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One stored change.
#[derive(Debug)]
pub struct StoredEvent {
    pub rv: u64,
    pub rt: &'static ResourceType,
    pub etype: EventType,
    pub object: Value,
    /// The object before the change (for MODIFIED), so watches with selectors can
    /// tell objects that stop matching.
    pub old: Option<Value>,
}

pub type Key = (String, String);

/// Where an object lives: its resource (plural) and key.
pub type Loc = (&'static str, Key);

pub struct Store {
    /// Per resource, ordered by (namespace, name): one namespace is a range.
    objects: HashMap<&'static str, BTreeMap<Key, Value>>,
    /// uid → where the object is.
    uids: HashMap<String, Loc>,
    /// Owner uid → the objects whose ownerReferences name it.
    dependents: HashMap<String, BTreeSet<Loc>>,
    /// `uid:<involvedObject.uid>` and `name:<namespace>/<involvedObject.name>` → the
    /// Events about that object.
    involved: HashMap<String, BTreeSet<Key>>,
    rv: u64,
    history: VecDeque<Arc<StoredEvent>>,
    history_cap: usize,
    /// Events up to and including this version are no longer in the history.
    compacted: u64,
    tx: broadcast::Sender<Arc<StoredEvent>>,
    pub changed: Arc<Notify>,
}

impl Store {
    pub fn new(history_cap: usize) -> Self {
        let (tx, _) = broadcast::channel(4096);
        Self {
            objects: HashMap::new(),
            uids: HashMap::new(),
            dependents: HashMap::new(),
            involved: HashMap::new(),
            rv: 1000,
            history: VecDeque::new(),
            history_cap: history_cap.max(1),
            compacted: 1000,
            tx,
            changed: Arc::new(Notify::new()),
        }
    }

    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    pub fn compacted(&self) -> u64 {
        self.compacted
    }

    pub fn get(&self, rt: &ResourceType, ns: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(rt.plural)?
            .get(&(ns.to_string(), name.to_string()))
    }

    /// All objects of a type, in one namespace or all.
    pub fn list(&self, rt: &ResourceType, ns: Option<&str>) -> Vec<&Value> {
        let Some(m) = self.objects.get(rt.plural) else {
            return vec![];
        };
        match ns {
            None => m.values().collect(),
            Some(ns) => m
                .range((ns.to_string(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(_, v)| v)
                .collect(),
        }
    }

    pub fn find_uid(&self, rt: &ResourceType, uid: &str) -> Option<&Value> {
        let (plural, key) = self.uids.get(uid)?;
        if *plural != rt.plural {
            return None;
        }
        self.objects.get(plural)?.get(key)
    }

    /// Whether any object of any type has this uid.
    pub fn uid_exists(&self, uid: &str) -> bool {
        self.uids.contains_key(uid)
    }

    /// The objects whose ownerReferences name `uid` (any resource), with their plural.
    pub fn dependents(&self, uid: &str) -> Vec<(&'static str, &Value)> {
        let Some(locs) = self.dependents.get(uid) else {
            return vec![];
        };
        locs.iter()
            .filter_map(|(p, k)| Some((*p, self.objects.get(p)?.get(k)?)))
            .collect()
    }

    /// Owner uids that some object refers to but no object has.
    pub fn missing_owners(&self) -> Vec<String> {
        self.dependents
            .keys()
            .filter(|u| !self.uids.contains_key(*u))
            .cloned()
            .collect()
    }

    /// The Events whose `involvedObject.uid` is `uid`.
    pub fn events_about(&self, uid: &str) -> Vec<&Value> {
        self.events_by(&format!("uid:{uid}"))
    }

    /// The Events in namespace `ns` whose `involvedObject.name` is `name`.
    pub fn events_naming(&self, ns: &str, name: &str) -> Vec<&Value> {
        self.events_by(&format!("name:{ns}/{name}"))
    }

    fn events_by(&self, index_key: &str) -> Vec<&Value> {
        let Some(keys) = self.involved.get(index_key) else {
            return vec![];
        };
        let Some(m) = self.objects.get("events") else {
            return vec![];
        };
        keys.iter().filter_map(|k| m.get(k)).collect()
    }

    fn index(&mut self, plural: &'static str, key: &Key, obj: &Value) {
        let uid = crate::util::uid_of(obj);
        if !uid.is_empty() {
            self.uids.insert(uid.to_string(), (plural, key.clone()));
        }
        for owner in owner_uids(obj) {
            self.dependents
                .entry(owner.to_string())
                .or_default()
                .insert((plural, key.clone()));
        }
        for k in involved_keys(plural, key, obj) {
            self.involved.entry(k).or_default().insert(key.clone());
        }
    }

    fn unindex(&mut self, plural: &'static str, key: &Key, obj: &Value) {
        let uid = crate::util::uid_of(obj);
        if self
            .uids
            .get(uid)
            .is_some_and(|(p, k)| *p == plural && k == key)
        {
            self.uids.remove(uid);
        }
        for owner in owner_uids(obj) {
            if let Some(set) = self.dependents.get_mut(owner) {
                set.remove(&(plural, key.clone()));
                if set.is_empty() {
                    self.dependents.remove(owner);
                }
            }
        }
        for k in involved_keys(plural, key, obj) {
            if let Some(set) = self.involved.get_mut(&k) {
                set.remove(key);
                if set.is_empty() {
                    self.involved.remove(&k);
                }
            }
        }
    }

    pub fn all(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        self.objects
            .iter()
            .flat_map(|(p, m)| m.values().map(move |v| (*p, v)))
    }

    /// Store `obj` with a new resourceVersion, emitting ADDED or MODIFIED.
    pub fn put(&mut self, rt: &'static ResourceType, mut obj: Value) -> Value {
        self.rv += 1;
        let rv = self.rv;
        crate::util::set(
            &mut obj,
            &["metadata", "resourceVersion"],
            Value::String(rv.to_string()),
        );
        let key = (
            crate::util::namespace_of(&obj).to_string(),
            crate::util::name_of(&obj).to_string(),
        );
        let old = self
            .objects
            .entry(rt.plural)
            .or_default()
            .insert(key.clone(), obj.clone());
        if let Some(o) = &old {
            self.unindex(rt.plural, &key, o);
        }
        self.index(rt.plural, &key, &obj);
        let etype = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.emit(StoredEvent {
            rv,
            rt,
            etype,
            object: obj.clone(),
            old,
        });
        obj
    }

    /// Remove an object, emitting DELETED with a new resourceVersion.
    pub fn remove(&mut self, rt: &'static ResourceType, ns: &str, name: &str) -> Option<Value> {
        let key = (ns.to_string(), name.to_string());
        let mut obj = self.objects.get_mut(rt.plural)?.remove(&key)?;
        self.unindex(rt.plural, &key, &obj);
        self.rv += 1;
        let rv = self.rv;
        crate::util::set(
            &mut obj,
            &["metadata", "resourceVersion"],
            Value::String(rv.to_string()),
        );
        self.emit(StoredEvent {
            rv,
            rt,
            etype: EventType::Deleted,
            object: obj.clone(),
            old: None,
        });
        Some(obj)
    }

    fn emit(&mut self, ev: StoredEvent) {
        let ev = Arc::new(ev);
        self.history.push_back(ev.clone());
        while self.history.len() > self.history_cap {
            if let Some(old) = self.history.pop_front() {
                self.compacted = old.rv;
            }
        }
        let _ = self.tx.send(ev);
        self.changed.notify_one();
    }

    /// Subscribe to changes after `since`: the events already in the history and a
    /// receiver for the rest. `None` when `since` is older than the history holds.
    #[allow(clippy::type_complexity)]
    pub fn watch_from(
        &self,
        since: u64,
    ) -> Option<(Vec<Arc<StoredEvent>>, broadcast::Receiver<Arc<StoredEvent>>)> {
        if since < self.compacted {
            return None;
        }
        let past = self
            .history
            .iter()
            .filter(|e| e.rv > since)
            .cloned()
            .collect();
        Some((past, self.tx.subscribe()))
    }
}

fn owner_uids(obj: &Value) -> impl Iterator<Item = &str> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("uid").and_then(Value::as_str))
}

fn involved_keys(plural: &str, key: &Key, obj: &Value) -> Vec<String> {
    if plural != "events" {
        return vec![];
    }
    let mut out = Vec::new();
    if let Some(u) = obj.pointer("/involvedObject/uid").and_then(Value::as_str) {
        out.push(format!("uid:{u}"));
    }
    if let Some(n) = obj.pointer("/involvedObject/name").and_then(Value::as_str) {
        out.push(format!("name:{}/{n}", key.0));
    }
    out
}
