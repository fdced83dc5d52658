//! The in-memory object store: one map per resource type, a global resourceVersion,
//! and a bounded history of change events for watches.

use crate::resources::ResourceType;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
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

pub struct Store {
    objects: HashMap<&'static str, BTreeMap<Key, Value>>,
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
        match self.objects.get(rt.plural) {
            None => vec![],
            Some(m) => m
                .iter()
                .filter(|((n, _), _)| ns.is_none_or(|x| x == n))
                .map(|(_, v)| v)
                .collect(),
        }
    }

    pub fn find_uid(&self, rt: &ResourceType, uid: &str) -> Option<&Value> {
        self.objects
            .get(rt.plural)?
            .values()
            .find(|v| crate::util::uid_of(v) == uid)
    }

    /// Whether any object of any type has this uid.
    pub fn uid_exists(&self, uid: &str) -> bool {
        self.objects
            .values()
            .any(|m| m.values().any(|v| crate::util::uid_of(v) == uid))
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
            .insert(key, obj.clone());
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
        let mut obj = self
            .objects
            .get_mut(rt.plural)?
            .remove(&(ns.to_string(), name.to_string()))?;
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
