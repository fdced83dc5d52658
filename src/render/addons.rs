//! The user's own modules from git (`backend.addons`, README "Your own modules"): two init
//! containers of every Odoo pod (the backend, the init, upgrade and other Odoo Jobs) fetch
//! the sources into an `emptyDir` on `addons_path` and install their Python requirements
//! into another on `PYTHONPATH`, so that every pod runs the same code, before Odoo starts.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, KeyToPath, ProjectedVolumeSource, ResourceRequirements, SecretProjection, Volume,
    VolumeMount, VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::backend::empty_dir;
use super::common::{Ctx, env, restricted_default};
use crate::values::{AddonSource, RepoKind};

/// Where the sources are checked out, one folder per source (`<dir>/<name>`).
pub const ADDONS_DIR: &str = "/mnt/odoo-tui/addons";
/// Where their Python requirements are installed (on `PYTHONPATH`).
pub const PYTHON_DIR: &str = "/mnt/odoo-tui/python";
/// Where the sources' Secrets are projected, one folder per source.
pub const SECRETS_DIR: &str = "/var/run/odoo-tui/addons-secrets";
/// The container fetching the sources.
pub const FETCH_CONTAINER: &str = "fetch-addons";
/// The container installing their Python requirements.
pub const PYTHON_CONTAINER: &str = "addons-python";
/// The user of the fetch container: `nobody`, which the git image's `/etc/passwd` has
/// (Alpine's base), because ssh refuses to run for a uid without an entry there ("No
/// user exists for uid"). What it writes is world-readable (umask 022): Odoo's user
/// reads it.
pub const FETCH_UID: i64 = 65534;
/// The prefix of every failure line the two scripts print (read by the cause classifier).
pub const FAILURE_PREFIX: &str = "odoo-tui addons:";

const VOLUME: &str = "addons";
const PYTHON_VOLUME: &str = "addons-python";
const SECRETS_VOLUME: &str = "addons-secrets";

/// The keys a source's Secret must hold, by the kind of its URL: those of the Kubernetes
/// Secret types `kubernetes.io/basic-auth` and `kubernetes.io/ssh-auth` (plus the host's
/// public key, so that the host is checked).
pub fn secret_keys(kind: RepoKind) -> &'static [&'static str] {
    match kind {
        RepoKind::Https => &["username", "password"],
        RepoKind::Ssh => &["ssh-privatekey", "known_hosts"],
        RepoKind::Git => &[],
    }
}

fn sources<'a>(ctx: &Ctx<'a>) -> &'a [AddonSource] {
    &ctx.v.backend.addons
}

/// The folder of a source that goes on `addons_path`.
pub fn source_dir(s: &AddonSource) -> String {
    if s.path.is_empty() {
        format!("{ADDONS_DIR}/{}", s.name)
    } else {
        format!("{ADDONS_DIR}/{}/{}", s.name, s.path)
    }
}

/// `addons_path` of odoo.conf: `backend.odoo.addonsPath`, then each source in order.
pub fn addons_path(ctx: &Ctx<'_>) -> String {
    let mut parts: Vec<String> = ctx
        .v
        .backend
        .odoo
        .addons_path
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    parts.extend(sources(ctx).iter().map(source_dir));
    parts.join(",")
}

/// One line per source for the fetch script: `name repo ref path secret`, `-` for an empty
/// field (every field is validated to a single word, see `values/addons.rs`).
pub fn sources_env(ctx: &Ctx<'_>) -> String {
    let dash = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    sources(ctx)
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {} {}\n",
                s.name,
                s.repo,
                s.ref_,
                dash(&s.path),
                dash(&s.secret)
            )
        })
        .collect()
}

/// Volumes of an Odoo pod for the sources (none without sources).
pub fn volumes(ctx: &Ctx<'_>) -> Vec<Volume> {
    if sources(ctx).is_empty() {
        return vec![];
    }
    let mut v = vec![empty_dir(VOLUME), empty_dir(PYTHON_VOLUME)];
    let projections: Vec<VolumeProjection> = sources(ctx)
        .iter()
        .filter(|s| !s.secret.is_empty())
        .filter_map(|s| {
            let keys = secret_keys(s.kind()?);
            Some(VolumeProjection {
                secret: Some(SecretProjection {
                    name: s.secret.clone(),
                    items: Some(
                        keys.iter()
                            .map(|k| KeyToPath {
                                key: k.to_string(),
                                path: format!("{}/{k}", s.name),
                                mode: None,
                            })
                            .collect(),
                    ),
                    optional: None,
                }),
                ..Default::default()
            })
        })
        .collect();
    if !projections.is_empty() {
        v.push(Volume {
            name: SECRETS_VOLUME.into(),
            projected: Some(ProjectedVolumeSource {
                sources: Some(projections),
                default_mode: Some(0o440),
            }),
            ..Default::default()
        });
    }
    v
}

fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

/// What Odoo's containers mount: the sources and their Python packages, read-only.
pub fn odoo_mounts(ctx: &Ctx<'_>) -> Vec<VolumeMount> {
    if sources(ctx).is_empty() {
        return vec![];
    }
    vec![
        mount(VOLUME, ADDONS_DIR, true),
        mount(PYTHON_VOLUME, PYTHON_DIR, true),
    ]
}

/// `PYTHONPATH` of Odoo's containers when there are sources.
pub fn odoo_env(ctx: &Ctx<'_>) -> Vec<k8s_openapi::api::core::v1::EnvVar> {
    if sources(ctx).is_empty() {
        return vec![];
    }
    vec![env("PYTHONPATH", PYTHON_DIR)]
}

fn fetch_resources() -> ResourceRequirements {
    let q = |s: &str| Quantity(s.to_string());
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), q("50m")),
            ("memory".to_string(), q("64Mi")),
        ])),
        limits: Some(BTreeMap::from([
            ("cpu".to_string(), q("1")),
            ("memory".to_string(), q("512Mi")),
        ])),
        ..Default::default()
    }
}

/// The two init containers: fetch the sources (the git image, as `nobody`), then
/// install their Python requirements (the Odoo image, as Odoo runs).
pub fn init_containers(ctx: &Ctx<'_>) -> Vec<Container> {
    if sources(ctx).is_empty() {
        return vec![];
    }
    let f = &ctx.v.backend.addons_fetch;
    let mut fetch_mounts = vec![
        mount(VOLUME, ADDONS_DIR, false),
        mount("tmp", "/tmp", false),
    ];
    if sources(ctx).iter().any(|s| !s.secret.is_empty()) {
        fetch_mounts.push(mount(SECRETS_VOLUME, SECRETS_DIR, true));
    }
    let fetch = Container {
        name: FETCH_CONTAINER.into(),
        image: Some(f.image.reference()),
        image_pull_policy: Some(f.image.pull_policy.clone()),
        command: Some(vec!["sh".into(), "-c".into(), FETCH_SCRIPT.into()]),
        env: Some(vec![
            env("ADDONS_SOURCES", sources_env(ctx)),
            env("ADDONS_DIR", ADDONS_DIR),
            env("ADDONS_SECRETS", SECRETS_DIR),
            env("HOME", "/tmp"),
        ]),
        volume_mounts: Some(fetch_mounts),
        security_context: Some(restricted_default(FETCH_UID, 101)),
        resources: Some(fetch_resources()),
        ..Default::default()
    };
    let b = &ctx.v.backend;
    let python = Container {
        name: PYTHON_CONTAINER.into(),
        image: Some(b.image.reference()),
        image_pull_policy: Some(b.image.pull_policy.clone()),
        command: Some(vec!["sh".into(), "-c".into(), PYTHON_SCRIPT.into()]),
        env: Some(vec![
            env("ADDONS_DIR", ADDONS_DIR),
            env("ADDONS_PYTHON", PYTHON_DIR),
            env(
                "PIP_ONLY_BINARY_FLAG",
                if f.pip_only_binary {
                    "--only-binary=:all:"
                } else {
                    ""
                },
            ),
            env("HOME", "/tmp"),
        ]),
        volume_mounts: Some(vec![
            mount(VOLUME, ADDONS_DIR, true),
            mount(PYTHON_VOLUME, PYTHON_DIR, false),
            mount("tmp", "/tmp", false),
        ]),
        security_context: Some(ctx.container_security(&b.container_security_context)),
        resources: Some(b.resources.clone()),
        ..Default::default()
    };
    vec![fetch, python]
}

/// Fetch every source of `ADDONS_SOURCES` at its ref into `ADDONS_DIR/<name>`, check that
/// its folder holds modules and that no module comes from two sources, and write
/// `ADDONS_DIR/.modules` (`module source folder`), `ADDONS_DIR/.sources`
/// (`source ref commit`) and `ADDONS_DIR/.hashes` (`module content-hash version`: what
/// `plan::addons` compares with the hashes recorded at the last `-i`/`-u`). A private source's credential is read from its Secret's files by
/// a git credential helper or handed to ssh as a key file: never on a command line, never
/// printed. Host keys are always checked. Every failure is one line naming the source,
/// after git's own last lines.
pub const FETCH_SCRIPT: &str = r#"set -eu
umask 022
export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
name=""
fail() {
  echo "odoo-tui addons: source $name: $*" >&2
  exit 1
}
# git's own message, last lines, indented (git never prints what a helper gives it).
show() {
  printf '%s\n' "$1" | grep -v '^[[:space:]]*$' | tail -n 4 | sed 's/^/  /' >&2
}
# The content of a module folder: every file's path and SHA-256, compiled Python left out.
module_hash() {
  ( cd "$1" && find . -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 \
      | LC_ALL=C sort -z | xargs -0 -r sha256sum ) | sha256sum | cut -d ' ' -f 1
}
# The manifest's version as written (Odoo adds the series to a short one).
manifest_version() {
  v=$(sed -n "s/.*[\"']version[\"'][[:space:]]*:[[:space:]]*[\"']\([0-9.]*\)[\"'].*/\1/p" "$1" | head -n 1)
  echo "${v:--}"
}
helper="$HOME/git-credential-odoo-tui"
cat > "$helper" <<'EOF'
#!/bin/sh
[ "$1" = get ] || exit 0
printf 'username=%s\n' "$(cat "$ADDON_SECRET_DIR/username")"
printf 'password=%s\n' "$(cat "$ADDON_SECRET_DIR/password")"
EOF
chmod 700 "$helper"
# A restarted init container finds the previous attempt's files: start again from nothing.
find "$ADDONS_DIR" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
modules="$ADDONS_DIR/.modules"
: > "$modules"
: > "$ADDONS_DIR/.sources"
: > "$ADDONS_DIR/.hashes"
while read -r name repo ref folder secret; do
  [ -n "$name" ] || continue
  dest="$ADDONS_DIR/$name"
  git -c init.defaultBranch=odoo-tui init -q "$dest"
  cd "$dest"
  git remote add origin "$repo"
  unset ADDON_SECRET_DIR GIT_SSH_COMMAND || true
  if [ "$secret" != "-" ]; then
    export ADDON_SECRET_DIR="$ADDONS_SECRETS/$name"
    case "$repo" in
      https://*)
        git config credential.helper "$helper" ;;
      *)
        key="$HOME/ssh-$name"
        cp "$ADDON_SECRET_DIR/ssh-privatekey" "$key"
        chmod 600 "$key"
        export GIT_SSH_COMMAND="ssh -i $key -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$ADDON_SECRET_DIR/known_hosts" ;;
    esac
  fi
  if ! out=$(git ls-remote origin 2>&1); then
    show "$out"
    fail "cannot read $repo (is the URL right, is the host reachable, and does the Secret hold a valid credential?)"
  fi
  if printf '%s' "$ref" | grep -Eqx '[0-9a-f]{40}|[0-9a-f]{64}'; then
    kind=commit
    want="$ref"
  elif printf '%s\n' "$out" | awk -v r="refs/tags/$ref" '$2 == r { f = 1 } END { exit !f }'; then
    kind=tag
    want="refs/tags/$ref"
  elif printf '%s\n' "$out" | awk -v r="refs/heads/$ref" '$2 == r { f = 1 } END { exit !f }'; then
    kind=branch
    want="refs/heads/$ref"
    echo "warning: source $name: $ref is a branch of $repo: it floats, so pods started later may run other code; pin a tag or a commit" >&2
  else
    fail "$repo has no tag or branch named $ref (a commit must be given in full, 40 hexadecimal characters)"
  fi
  if ! out=$(git fetch -q --depth 1 origin "$want" 2>&1); then
    show "$out"
    fail "cannot fetch $kind $ref from $repo"
  fi
  git -c advice.detachedHead=false checkout -q --detach FETCH_HEAD
  commit=$(git rev-parse HEAD)
  echo "source $name: $repo $kind $ref at commit $commit"
  echo "$name $ref $commit" >> "$ADDONS_DIR/.sources"
  if [ "$folder" = "-" ]; then
    where="the root of $repo"
    src="$dest"
  else
    where="folder $folder of $repo"
    src="$dest/$folder"
  fi
  [ -d "$src" ] || fail "$repo has no folder $folder at $ref"
  found=0
  for manifest in "$src"/*/__manifest__.py; do
    [ -f "$manifest" ] || continue
    dir=${manifest%/__manifest__.py}
    module=${dir##*/}
    other=$(awk -v m="$module" '$1 == m { print $2 }' "$modules")
    if [ -n "$other" ]; then
      fail "module $module is also in source $other: Odoo would load only one of them; remove it from one source (or set path to a folder without it)"
    fi
    echo "$module $name $dir" >> "$modules"
    echo "$module $(module_hash "$dir") $(manifest_version "$manifest")" >> "$ADDONS_DIR/.hashes"
    found=$((found + 1))
  done
  if [ "$found" = 0 ]; then
    if [ -f "$src/__manifest__.py" ]; then
      fail "$where is itself a module: addons_path needs the folder that holds modules, so put the module in a sub-folder of the repository and set path to that folder"
    fi
    fail "no module in $where at $ref: no sub-folder holds a __manifest__.py (set path to the folder that holds the modules)"
  fi
  echo "source $name: $found module(s) in $where"
done <<SOURCES
$ADDONS_SOURCES
SOURCES
"#;

/// Install the Python requirements of the fetched sources into `ADDONS_PYTHON`: each
/// repository's `requirements.txt`, each module's, and the `external_dependencies.python`
/// of the manifests that the image does not already provide. Wheels only unless
/// `PIP_ONLY_BINARY_FLAG` is empty; a package pip cannot install fails naming it and the
/// way out (a custom image).
pub const PYTHON_SCRIPT: &str = r#"set -eu
find "$ADDONS_PYTHON" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
reqs="$HOME/addons-requirements.txt"
: > "$reqs"
for f in "$ADDONS_DIR"/*/requirements.txt; do
  [ -f "$f" ] && printf -- '-r %s\n' "$f" >> "$reqs"
done
while read -r module source dir; do
  [ -f "$dir/requirements.txt" ] && printf -- '-r %s\n' "$dir/requirements.txt" >> "$reqs"
done < "$ADDONS_DIR/.modules"
python3 - "$ADDONS_DIR/.modules" >> "$reqs" <<'EOF'
import ast, importlib.metadata, importlib.util, sys
seen = set()
for line in open(sys.argv[1]):
    module, source, folder = line.split(" ", 2)
    with open(folder.strip() + "/__manifest__.py") as f:
        manifest = ast.literal_eval(f.read())
    for dep in manifest.get("external_dependencies", {}).get("python", []):
        if dep in seen:
            continue
        seen.add(dep)
        try:
            importlib.metadata.distribution(dep)
            continue
        except importlib.metadata.PackageNotFoundError:
            pass
        if importlib.util.find_spec(dep) is None:
            print(dep)
EOF
if ! grep -q . "$reqs"; then
  echo "the sources need no Python package the image lacks"
  exit 0
fi
echo "installing the sources' Python requirements:"
sed 's/^/  /' "$reqs"
log="$HOME/pip.log"
# shellcheck disable=SC2086
if ! python3 -m pip install --no-input --disable-pip-version-check --no-cache-dir --target "$ADDONS_PYTHON" $PIP_ONLY_BINARY_FLAG -r "$reqs" > "$log" 2>&1; then
  grep -v '^[[:space:]]*$' "$log" | tail -n 6 >&2
  missing=$(sed -n 's/.*No matching distribution found for \([^ ]*\).*/\1/p' "$log" | head -n 1)
  if [ -n "$missing" ]; then
    echo "odoo-tui addons: Python package $missing cannot be installed with pip${PIP_ONLY_BINARY_FLAG:+ as a wheel}: build a custom image with it (README, \"Your own modules\")" >&2
  else
    echo "odoo-tui addons: the sources' Python requirements cannot be installed with pip: build a custom image with them (README, \"Your own modules\")" >&2
  fi
  exit 1
fi
echo "installed into $ADDONS_PYTHON"
"#;
