//! Scenarios: what the scripted kubelet does with each container.

use serde::Deserialize;
use serde_json::{Map, Value};

/// A whole scenario file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// Applied to every container no rule matches (and filling what a rule leaves out).
    #[serde(default)]
    pub defaults: Behavior,
    /// The node's allocatable resources; pods requesting more stay Unschedulable.
    #[serde(default)]
    pub node: NodeSize,
    /// Rules matched first, by pod labels.
    #[serde(default)]
    pub pods: Vec<PodRule>,
    /// Rules matched next, by container image (exact, or a prefix ending in `*`).
    #[serde(default)]
    pub images: Map<String, Value>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSize {
    #[serde(default = "default_cpu")]
    pub cpu: String,
    #[serde(default = "default_memory")]
    pub memory: String,
    #[serde(default = "default_pods")]
    pub pods: u32,
}

fn default_cpu() -> String {
    "4".into()
}
fn default_memory() -> String {
    "8Gi".into()
}
fn default_pods() -> u32 {
    110
}

impl Default for NodeSize {
    fn default() -> Self {
        Self {
            cpu: default_cpu(),
            memory: default_memory(),
            pods: default_pods(),
        }
    }
}

/// A rule matched by pod labels (all of `selector` must match); `container` narrows it
/// to one container by name.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodRule {
    pub selector: Map<String, Value>,
    #[serde(default)]
    pub container: Option<String>,
    #[serde(flatten)]
    pub behavior: Behavior,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Pull {
    Ok,
    Fail,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Crash {
    #[serde(default)]
    pub after_seconds: Option<f64>,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub logs: Vec<String>,
}

/// What one container does. Every field is optional; unset ones fall back to the
/// scenario's defaults, then to built-in values.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Behavior {
    /// Seconds from start until the container reports ready (default 1).
    pub ready_after_seconds: Option<f64>,
    /// `fail`: the image never pulls (ErrImagePull, then ImagePullBackOff).
    pub pull: Option<Pull>,
    /// Run for `afterSeconds`, then exit with `exitCode` (default 1), over and over.
    pub crash: Option<Crash>,
    /// Killed for memory (exit 137, reason OOMKilled) after `runSeconds` (default 1).
    pub oom_killed: Option<bool>,
    /// The container exits with this code after `runSeconds` (jobs default to 0).
    pub exit_code: Option<i32>,
    /// How long a container that exits runs (default 1).
    pub run_seconds: Option<f64>,
    /// Log lines the container prints when it starts.
    pub logs: Option<Vec<String>>,
    /// Never becomes ready (a failing readiness probe).
    pub never_ready: Option<bool>,
    /// A different life per attempt: entry N is attempt N (a Job's Nth pod, or a
    /// container's Nth run); each entry falls back to the rule's other fields, and
    /// attempts past the list live by those fields alone.
    pub attempts: Option<Vec<Behavior>>,
}

impl Behavior {
    /// `self` with unset fields taken from `other`.
    pub fn or(&self, other: &Behavior) -> Behavior {
        Behavior {
            ready_after_seconds: self.ready_after_seconds.or(other.ready_after_seconds),
            pull: self.pull.or(other.pull),
            crash: self.crash.clone().or_else(|| other.crash.clone()),
            oom_killed: self.oom_killed.or(other.oom_killed),
            exit_code: self.exit_code.or(other.exit_code),
            run_seconds: self.run_seconds.or(other.run_seconds),
            logs: self.logs.clone().or_else(|| other.logs.clone()),
            never_ready: self.never_ready.or(other.never_ready),
            attempts: self.attempts.clone().or_else(|| other.attempts.clone()),
        }
    }

    /// The behaviour of attempt `n` (1-based).
    pub fn for_attempt(&self, n: u32) -> Behavior {
        let mut base = self.clone();
        base.attempts = None;
        let entry = self
            .attempts
            .as_ref()
            .and_then(|a| a.get((n as usize).saturating_sub(1)));
        match entry {
            Some(a) => {
                let mut a = a.clone();
                a.attempts = None;
                a.or(&base)
            }
            None => base,
        }
    }
}

impl Scenario {
    pub fn from_yaml(s: &str) -> Result<Scenario, String> {
        if s.trim().is_empty() {
            return Ok(Scenario::default());
        }
        let sc: Scenario = serde_saphyr::from_str(s).map_err(|e| e.to_string())?;
        for (k, v) in &sc.images {
            serde_json::from_value::<Behavior>(v.clone())
                .map_err(|e| format!("images.{k:?}: {e}"))?;
        }
        Ok(sc)
    }

    pub fn from_file(path: &std::path::Path) -> Result<Scenario, String> {
        let s = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_yaml(&s)
    }

    /// The behaviour of one container: the first pod rule whose selector matches the
    /// pod's labels, else the image rule, then defaults.
    pub fn behavior_for(
        &self,
        labels: &Map<String, Value>,
        container: &str,
        image: &str,
    ) -> Behavior {
        let pod_rule = self.pods.iter().find(|r| {
            r.container.as_deref().is_none_or(|c| c == container)
                && r.selector.iter().all(|(k, v)| labels.get(k) == Some(v))
        });
        let image_rule = || {
            let exact = self.images.get(image);
            let prefix = || {
                self.images
                    .iter()
                    .filter_map(|(k, v)| {
                        let p = k.strip_suffix('*')?;
                        image.starts_with(p).then_some((p.len(), v))
                    })
                    .max_by_key(|(l, _)| *l)
                    .map(|(_, v)| v)
            };
            exact
                .or_else(prefix)
                .and_then(|v| serde_json::from_value::<Behavior>(v.clone()).ok())
        };
        let chosen = match pod_rule {
            Some(r) => r.behavior.clone(),
            None => image_rule().unwrap_or_default(),
        };
        chosen.or(&self.defaults)
    }
}

/// Parse a Kubernetes quantity into a float of base units (cores or bytes).
pub fn parse_quantity(q: &str) -> Option<f64> {
    let q = q.trim();
    let suffixes: [(&str, f64); 13] = [
        ("Ki", 1024.0),
        ("Mi", 1024f64.powi(2)),
        ("Gi", 1024f64.powi(3)),
        ("Ti", 1024f64.powi(4)),
        ("Pi", 1024f64.powi(5)),
        ("Ei", 1024f64.powi(6)),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
    ];
    for (s, mult) in suffixes {
        if let Some(n) = q.strip_suffix(s) {
            return n.parse::<f64>().ok().map(|x| x * mult);
        }
    }
    q.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SAMPLE: &str = r#"
defaults: {readyAfterSeconds: 1}
node: {cpu: "4", memory: "8Gi"}
pods:
  - selector: {app.kubernetes.io/component: upgrade}
    exitCode: 1
    runSeconds: 2
    logs: ["loading module sale", "ERROR: ..."]
images:
  "odoo:18.0-missing": {pull: fail}
  "odoo:18.0-crash": {crash: {afterSeconds: 1, exitCode: 1, logs: ["Traceback ..."]}}
  "odoo:18.0-oom": {oomKilled: true}
  "odoo:18.0-slow": {readyAfterSeconds: 20}
  "registry.local/*": {readyAfterSeconds: 3}
"#;

    #[test]
    fn parses_the_documented_shape() {
        let s = Scenario::from_yaml(SAMPLE).unwrap();
        assert_eq!(s.node.memory, "8Gi");
        let l = json!({"app.kubernetes.io/component": "upgrade"});
        let b = s.behavior_for(l.as_object().unwrap(), "odoo", "odoo:18.0");
        assert_eq!(b.exit_code, Some(1));
        assert_eq!(b.run_seconds, Some(2.0));
        assert_eq!(b.ready_after_seconds, Some(1.0));
        let none = Map::new();
        assert_eq!(
            s.behavior_for(&none, "c", "odoo:18.0-missing").pull,
            Some(Pull::Fail)
        );
        assert_eq!(
            s.behavior_for(&none, "c", "odoo:18.0-crash")
                .crash
                .unwrap()
                .logs,
            vec!["Traceback ..."]
        );
        assert_eq!(
            s.behavior_for(&none, "c", "odoo:18.0-slow")
                .ready_after_seconds,
            Some(20.0)
        );
        assert_eq!(
            s.behavior_for(&none, "c", "registry.local/x:1")
                .ready_after_seconds,
            Some(3.0)
        );
        assert_eq!(
            s.behavior_for(&none, "c", "other").ready_after_seconds,
            Some(1.0)
        );
    }

    #[test]
    fn example_file_parses() {
        let s = Scenario::from_yaml(include_str!("../examples/scenario.yaml")).unwrap();
        assert_eq!(s.images.len(), 4);
        assert_eq!(s.pods.len(), 1);
    }

    #[test]
    fn attempts_override_the_rule_per_attempt() {
        let s = Scenario::from_yaml(
            r#"
pods:
  - selector: {job: init}
    logs: ["starting"]
    attempts:
      - {exitCode: 2, logs: ["FATAL: password authentication failed"]}
      - {oomKilled: true}
"#,
        )
        .unwrap();
        let l = json!({"job": "init"});
        let b = s.behavior_for(l.as_object().unwrap(), "c", "i");
        let first = b.for_attempt(1);
        assert_eq!(first.exit_code, Some(2));
        assert_eq!(
            first.logs.as_deref(),
            Some(&["FATAL: password authentication failed".to_string()][..])
        );
        let second = b.for_attempt(2);
        assert_eq!(second.oom_killed, Some(true));
        assert_eq!(second.logs.as_deref(), Some(&["starting".to_string()][..]));
        assert_eq!(b.for_attempt(3).exit_code, None);
        assert!(b.for_attempt(3).attempts.is_none());
    }

    #[test]
    fn rejects_unknown_fields() {
        assert!(Scenario::from_yaml("images: {\"a\": {pul: fail}}").is_err());
        assert!(Scenario::from_yaml("bogus: 1").is_err());
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("500m"), Some(0.5));
        assert_eq!(parse_quantity("2"), Some(2.0));
        assert_eq!(parse_quantity("1Gi"), Some(1073741824.0));
        assert_eq!(parse_quantity("1G"), Some(1e9));
    }
}
