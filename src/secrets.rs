//! Local secrets kept in the data folder: read if present (refusing a file others can read),
//! otherwise created once with a fresh random value and mode 0600.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The secret in `<data_dir>/<name>`, creating it (32 random bytes as hex) on first use.
pub fn load_or_create(data_dir: &Path, name: &str) -> Result<String, String> {
    let path = data_dir.join(name);
    let fail = |what: &str, e: std::io::Error| format!("{what} {}: {e}", path.display());
    match std::fs::read_to_string(&path) {
        Ok(secret) => {
            let mode = std::fs::metadata(&path)
                .map_err(|e| fail("cannot stat", e))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(format!(
                    "{} is readable by others (mode {:o}); chmod 600 it",
                    path.display(),
                    mode & 0o777
                ));
            }
            Ok(secret.trim().to_owned())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir).map_err(|e| fail("cannot create folder for", e))?;
            let secret = crate::random::random_hex(32);
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| fail("cannot create", e))?;
            file.write_all(secret.as_bytes())
                .map_err(|e| fail("cannot write", e))?;
            tracing::info!(path = %path.display(), "generated a new secret");
            Ok(secret)
        }
        Err(e) => Err(fail("cannot read", e)),
    }
}
