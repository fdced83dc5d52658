//! Answer validators of the wizard. Each returns the normalised answer or the reason it
//! is refused, phrased for someone who has never seen the Helm chart. They reuse the
//! project's validators (`check_url`, `parse_quantity`, `validate_release`) where those
//! exist and add the few the values layer keeps private or does not need.

use crate::values::validate::{check_url, parse_quantity};

/// The PostgreSQL superuser, which Odoo refuses to run as.
const SUPERUSER: &str = "postgres";

/// A TCP port: 1–65535.
pub fn port(s: &str) -> Result<u16, String> {
    match s.trim().parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(p as u16),
        Ok(p) => Err(format!("port {p} is out of range: a port is 1–65535")),
        Err(_) => Err(format!(
            "`{s}` is not a port number: a port is a whole number from 1 to 65535, e.g. 5432"
        )),
    }
}

/// A host name or an IP address (no scheme, no port, no path).
pub fn host(s: &str) -> Result<String, String> {
    let h = s.trim();
    let refuse = || {
        format!(
            "`{h}` is not a host name or IP address — write just the host, e.g. db.example.com or 10.0.0.5"
        )
    };
    if h.is_empty() {
        return Err("a host is required, e.g. db.example.com".into());
    }
    if h.contains("://") {
        return Err(format!(
            "`{h}` is a URL — write just the host, without scheme, port or path"
        ));
    }
    if h.contains(['/', ':', '@', '?', '#', '[', ']', ' ']) {
        return Err(refuse());
    }
    // `check_url` knows host names and IP addresses; give it a URL around the host.
    check_url(&format!("http://{h}")).map_err(|_| refuse())?;
    Ok(h.to_string())
}

/// A DNS name for an Ingress rule: a host name, optionally a `*.` wildcard.
pub fn domain(s: &str) -> Result<String, String> {
    let h = s.trim();
    let bare = h.strip_prefix("*.").unwrap_or(h);
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return Err(format!(
            "`{h}` is an IP address: an Ingress routes by DNS name — write a domain such as odoo.example.com"
        ));
    }
    host(bare).map_err(|_| {
        format!("`{h}` is not a domain name — write e.g. odoo.example.com (letters, digits, '-' and '.')")
    })?;
    Ok(h.to_ascii_lowercase())
}

/// An http(s) URL, checked with the values layer's `check_url`.
pub fn url(s: &str) -> Result<String, String> {
    let u = s.trim();
    if u.is_empty() {
        return Err("a URL is required, e.g. https://s3.amazonaws.com".into());
    }
    check_url(u).map_err(|e| format!("`{u}` is not a usable URL: {e}"))?;
    Ok(u.trim_end_matches('/').to_string())
}

/// A PostgreSQL identifier (user or database name).
fn pg_identifier(s: &str, what: &str) -> Result<String, String> {
    let v = s.trim();
    let ok = !v.is_empty()
        && v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !v.starts_with(|c: char| c.is_ascii_digit() || c == '-');
    if ok {
        Ok(v.to_string())
    } else {
        Err(format!(
            "`{v}` is not a valid {what}: up to 63 letters, digits, _ and -, starting with a letter or _"
        ))
    }
}

/// The database user: a PostgreSQL identifier other than `postgres`.
pub fn db_user(s: &str) -> Result<String, String> {
    let v = pg_identifier(s, "PostgreSQL user name")?;
    if v == SUPERUSER {
        return Err(
            "`postgres` is the PostgreSQL superuser: Odoo refuses to run as it — use a dedicated user such as `odoo`"
                .into(),
        );
    }
    Ok(v)
}

/// The database name: a PostgreSQL identifier other than the maintenance database.
pub fn db_name(s: &str) -> Result<String, String> {
    let v = pg_identifier(s, "database name")?;
    if v == SUPERUSER {
        return Err(
            "`postgres` is PostgreSQL's maintenance database — give Odoo a dedicated one such as `odoo`"
                .into(),
        );
    }
    Ok(v)
}

/// An S3 bucket name (3–63 lowercase letters, digits, `.` and `-`).
pub fn bucket(s: &str) -> Result<String, String> {
    let b = s.trim();
    let ok = (3..=63).contains(&b.len())
        && b.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && b.starts_with(|c: char| c.is_ascii_alphanumeric())
        && b.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(b.to_string())
    } else {
        Err(format!(
            "`{b}` is not a valid bucket name: 3–63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"
        ))
    }
}

/// An S3 region such as `eu-west-1`; empty means none.
pub fn region(s: &str) -> Result<String, String> {
    let r = s.trim();
    if r.chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        Ok(r.to_string())
    } else {
        Err(format!(
            "`{r}` is not a region name: lowercase letters, digits and '-', e.g. eu-west-1 (or leave it empty)"
        ))
    }
}

/// An e-mail address (used as the Odoo administrator's login).
pub fn email(s: &str) -> Result<String, String> {
    let e = s.trim();
    let refuse = || format!("`{e}` is not an e-mail address — write e.g. you@example.com");
    if e.is_empty() {
        return Err("an e-mail address is required, e.g. you@example.com".into());
    }
    let (local, dom) = e.split_once('@').ok_or_else(refuse)?;
    if local.is_empty()
        || local.chars().any(|c| c.is_whitespace() || c == '@')
        || !dom.contains('.')
        || host(dom).is_err()
    {
        return Err(refuse());
    }
    Ok(e.to_string())
}

/// A DNS-1123 label (namespaces).
pub fn namespace(s: &str) -> Result<String, String> {
    let n = s.trim();
    let ok = !n.is_empty()
        && n.len() <= 63
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(n.to_string())
    } else {
        Err(format!(
            "`{n}` is not a valid namespace name: up to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        ))
    }
}

/// A Kubernetes object name (DNS-1123 subdomain): Secrets, IngressClasses.
pub fn object_name(s: &str, what: &str) -> Result<String, String> {
    let n = s.trim();
    let ok = !n.is_empty()
        && n.len() <= 253
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(n.to_string())
    } else {
        Err(format!(
            "`{n}` is not a valid {what} name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
        ))
    }
}

/// A key inside a Secret.
fn secret_key(k: &str) -> Result<String, String> {
    let ok = !k.is_empty()
        && k.len() <= 253
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(k.to_string())
    } else {
        Err(format!(
            "`{k}` is not a valid Secret key: letters, digits, '-', '_' and '.'"
        ))
    }
}

/// A reference to keys of an existing Secret, written `NAME` (default keys) or
/// `NAME:KEY[,KEY2]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    /// The Secret's name.
    pub name: String,
    /// The keys used, in the order the credential needs them.
    pub keys: Vec<String>,
}

impl SecretRef {
    /// How the reference is written in an answer: keys are omitted when they are the defaults.
    pub fn display(&self, default_keys: &[&str]) -> String {
        if self
            .keys
            .iter()
            .map(String::as_str)
            .eq(default_keys.iter().copied())
        {
            self.name.clone()
        } else {
            format!("{}:{}", self.name, self.keys.join(","))
        }
    }
}

/// Parse `NAME` or `NAME:KEY[,KEY2]`; `default_keys` gives the number and default of keys.
pub fn secret_ref(s: &str, default_keys: &[&str]) -> Result<SecretRef, String> {
    let s = s.trim();
    let (name, keys) = match s.split_once(':') {
        None => (s, default_keys.iter().map(|k| k.to_string()).collect()),
        Some((name, keys)) => {
            let keys: Vec<String> = keys.split(',').map(|k| k.trim().to_string()).collect();
            if keys.len() != default_keys.len() {
                return Err(format!(
                    "`{s}` names {} key(s); this Secret needs {}: write {}:{}",
                    keys.len(),
                    default_keys.len(),
                    name,
                    default_keys.join(",")
                ));
            }
            (name, keys)
        }
    };
    let name = object_name(name, "Secret")?;
    let keys = keys
        .iter()
        .map(|k| secret_key(k))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SecretRef { name, keys })
}

/// A password the wizard creates (bundled database, MinIO, master, admin).
pub fn new_password(s: &str) -> Result<String, String> {
    if s.chars().count() < 8 {
        return Err(
            "this password is too short: use at least 8 characters (MinIO refuses shorter ones, and short passwords are easy to guess)"
                .into(),
        );
    }
    if s.trim() != s {
        return Err("this password starts or ends with a space: remove it".into());
    }
    Ok(s.to_string())
}

/// A credential someone else issued (external database password, S3 keys).
pub fn existing_credential(s: &str, what: &str) -> Result<String, String> {
    if s.is_empty() {
        return Err(format!("the {what} is required"));
    }
    if s.trim() != s {
        return Err(format!("the {what} starts or ends with a space: remove it"));
    }
    Ok(s.to_string())
}

/// A whole number in a range.
pub fn number(s: &str, what: &str, min: i64, max: i64) -> Result<i64, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{}` is not a valid {what}: write a whole number from {min} to {max}",
            s.trim()
        )),
    }
}

/// A memory quantity for the Odoo container (at least 256Mi); returns (text, MiB).
pub fn memory(s: &str) -> Result<(String, f64), String> {
    let q = s.trim();
    let bytes = parse_quantity(q)
        .ok_or_else(|| format!("`{q}` is not a Kubernetes quantity — write e.g. 2Gi or 1536Mi"))?;
    let mib = bytes / (1024.0 * 1024.0);
    if mib < 256.0 {
        return Err(format!(
            "`{q}` is {mib:.0}Mi, too little memory for Odoo — give it at least 256Mi (write e.g. 2Gi)"
        ));
    }
    Ok((q.to_string(), mib))
}

/// An image repository such as `ghcr.io/sergio-bershadsky/odoo` (no tag).
pub fn image_repository(s: &str) -> Result<String, String> {
    let r = s.trim();
    if r.is_empty() {
        return Err("an image repository is required, e.g. ghcr.io/sergio-bershadsky/odoo".into());
    }
    if r.contains('@') {
        return Err(format!(
            "`{r}` contains a digest — write only the repository here"
        ));
    }
    let last = r.rsplit('/').next().unwrap_or(r);
    if last.contains(':') {
        return Err(format!(
            "`{r}` contains a tag — write only the repository here; the tag is the next question"
        ));
    }
    let ok = r
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/:".contains(c))
        && r.starts_with(|c: char| c.is_ascii_alphanumeric());
    if !ok {
        return Err(format!(
            "`{r}` is not an image repository: lowercase letters, digits, '.', '_', '-' and '/', e.g. ghcr.io/sergio-bershadsky/odoo"
        ));
    }
    Ok(r.to_string())
}

/// An image tag pinned to a version (not `latest`).
pub fn image_tag(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t == "latest" {
        return Err(
            "`latest` floats: a restart may run a different Odoo than the one you tested — pin a version tag such as 18.0-20260926"
                .into(),
        );
    }
    let ok = !t.is_empty()
        && t.len() <= 128
        && t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
    if ok {
        Ok(t.to_string())
    } else {
        Err(format!(
            "`{t}` is not an image tag: up to 128 letters, digits, '_', '.' and '-', e.g. 18.0-20260926"
        ))
    }
}

/// A name for a user preset; built-in names are refused (a user preset would hide them).
pub fn preset_name(s: &str, builtin: &[&str]) -> Result<String, String> {
    let n = s.trim();
    let ok = n
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(format!(
            "`{n}` is not a preset name: letters, digits, '-' and '_' only"
        ));
    }
    if builtin.contains(&n) {
        return Err(format!(
            "`{n}` is a built-in preset: choose another name so that the built-in stays available"
        ));
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(port("5432"), Ok(5432));
        assert_eq!(
            port("0").unwrap_err(),
            "port 0 is out of range: a port is 1–65535"
        );
        assert!(port("65536").is_err());
        assert!(port("abc").unwrap_err().contains("not a port number"));
    }

    #[test]
    fn hosts_and_domains() {
        assert!(host("db.example.com").is_ok());
        assert!(host("10.0.0.5").is_ok());
        assert!(host("db.example.com:5432").is_err());
        assert!(host("https://db").unwrap_err().contains("is a URL"));
        assert!(host("bad_host").is_err());
        assert!(domain("*.example.com").is_ok());
        assert!(domain("10.0.0.1").unwrap_err().contains("IP address"));
    }

    #[test]
    fn db_user_and_name() {
        assert!(db_user("odoo").is_ok());
        assert!(db_user("postgres").unwrap_err().contains("superuser"));
        assert!(db_user("1x").is_err());
        assert!(db_name("postgres").unwrap_err().contains("maintenance"));
    }

    #[test]
    fn buckets_emails_regions() {
        assert!(bucket("odoo-filestore").is_ok());
        assert!(bucket("Odoo").is_err());
        assert!(bucket("ab").is_err());
        assert!(email("admin@example.com").is_ok());
        assert!(email("admin").is_err());
        assert!(email("a@b").is_err());
        assert!(region("").is_ok());
        assert!(region("EU West").is_err());
    }

    #[test]
    fn secret_refs() {
        let r = secret_ref("odoo-db", &["password"]).unwrap();
        assert_eq!(r.keys, vec!["password"]);
        assert_eq!(r.display(&["password"]), "odoo-db");
        let r = secret_ref("odoo-db:pass", &["password"]).unwrap();
        assert_eq!(r.display(&["password"]), "odoo-db:pass");
        assert!(secret_ref("odoo-s3:a", &["access-key", "secret-key"]).is_err());
        assert!(secret_ref("Odoo_DB", &["password"]).is_err());
    }

    #[test]
    fn memory_and_images() {
        assert_eq!(memory("2Gi").unwrap().1, 2048.0);
        assert!(memory("2").unwrap_err().contains("too little"));
        assert!(memory("lots").is_err());
        assert!(image_tag("latest").is_err());
        assert!(image_tag("18.0-20260926").is_ok());
        assert!(image_repository("odoo:18").unwrap_err().contains("tag"));
        assert!(image_repository("registry:5000/odoo").is_ok());
    }

    #[test]
    fn passwords() {
        assert!(new_password("short").is_err());
        assert!(new_password("long enough").is_ok());
        assert!(existing_credential("", "access key").is_err());
    }
}
