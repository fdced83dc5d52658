//! Generated credentials: strong, random, URL-safe. The only randomness of the crate,
//! kept out of the renderer.

use base64::Engine;

use crate::render::Credentials;

/// 32 URL-safe characters from 24 random bytes (192 bits), never starting with `-`:
/// a leading `-` is read as a flag by command-line tools (mc, psql) that a password may
/// reach; such a draw is simply made again.
pub fn random_password() -> String {
    loop {
        let mut bytes = [0u8; 24];
        getrandom::fill(&mut bytes).expect("the operating system's random source is available");
        let pw = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        if !pw.starts_with('-') {
            return pw;
        }
    }
}

/// Fill every credential `needed` asks for (`Some`) with a fresh random one.
pub fn generate(needed: &Credentials) -> Credentials {
    let fill = |o: &Option<String>| o.as_ref().map(|_| random_password());
    Credentials {
        db_password: fill(&needed.db_password),
        minio_root_password: fill(&needed.minio_root_password),
        master_password: fill(&needed.master_password),
        admin_password: fill(&needed.admin_password),
    }
}

/// Every credential `needed` asks for: the one the user typed (the wizard's, when not
/// empty), else a fresh random one.
pub fn typed_or_generated(needed: &Credentials, typed: &Credentials) -> Credentials {
    let fresh = generate(needed);
    let pick = |need: &Option<String>, t: &Option<String>, f: &Option<String>| {
        need.as_ref()
            .and(t.clone().filter(|s| !s.is_empty()).or_else(|| f.clone()))
    };
    Credentials {
        db_password: pick(&needed.db_password, &typed.db_password, &fresh.db_password),
        minio_root_password: pick(
            &needed.minio_root_password,
            &typed.minio_root_password,
            &fresh.minio_root_password,
        ),
        master_password: pick(
            &needed.master_password,
            &typed.master_password,
            &fresh.master_password,
        ),
        admin_password: pick(
            &needed.admin_password,
            &typed.admin_password,
            &fresh.admin_password,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_url_safe_and_different() {
        let a = random_password();
        let b = random_password();
        assert_eq!(a.len(), 32);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a, b);
    }

    #[test]
    fn no_password_starts_with_a_dash() {
        // One draw in 64 would start with `-` without the guard: 5000 draws find it.
        for _ in 0..5000 {
            let pw = random_password();
            assert!(!pw.starts_with('-'), "{pw}");
            assert_eq!(pw.len(), 32);
        }
    }

    #[test]
    fn generates_only_what_is_needed() {
        let needed = Credentials {
            db_password: Some(String::new()),
            ..Default::default()
        };
        let c = generate(&needed);
        assert!(c.db_password.is_some());
        assert!(
            c.admin_password.is_none()
                && c.master_password.is_none()
                && c.minio_root_password.is_none()
        );
    }

    #[test]
    fn typed_credentials_stand_in_for_generated_ones_where_needed() {
        let needed = Credentials {
            db_password: Some(String::new()),
            admin_password: Some(String::new()),
            ..Default::default()
        };
        let typed = Credentials {
            db_password: Some("typed".into()),
            admin_password: Some(String::new()),
            master_password: Some("not needed".into()),
            ..Default::default()
        };
        let c = typed_or_generated(&needed, &typed);
        assert_eq!(c.db_password.as_deref(), Some("typed"));
        assert_eq!(c.admin_password.as_ref().map(String::len), Some(32));
        assert_eq!(c.master_password, None);
        assert_eq!(c.minio_root_password, None);
    }
}
