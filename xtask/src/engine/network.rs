//! Telling a download failure apart from every other way cargo can stop.
//!
//! With no network (a workshop room, a train), cargo stops before compiling
//! anything when a dependency is not in its cache yet. What the learner needs
//! then is one sentence and the fix (connect once, `cargo fetch` or `cargo
//! xtask doctor`), not cargo's list of mirrors and retries, and above all not
//! a message that blames a page of the book or their code.

/// Whether cargo stopped because it had to download something and could not.
pub fn needs_network(stderr: &str) -> bool {
    const SIGNS: [&str; 11] = [
        "failed to download",
        "failed to get `",
        "Could not resolve host",
        "Couldn't resolve host",
        "Failed to connect to",
        "spurious network error",
        "failed to query replaced source registry",
        "download of config.json failed",
        "network failure",
        "attempting to make an HTTP request, but --offline was specified",
        "unable to update registry",
    ];
    SIGNS.iter().any(|s| stderr.contains(s))
        || (stderr.contains("no matching package named") && stderr.contains("offline"))
}

/// What to do about it, in one sentence.
pub const FIX: &str = "connect to the network once and run `cargo xtask doctor` \
    (or `cargo fetch`) in the course's folder; after that the course works offline";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_download_is_told_apart_from_a_broken_manifest() {
        assert!(needs_network(
            "error: failed to download `bytes v1.12.2`\nCaused by: …"
        ));
        assert!(needs_network(
            "error: no matching package named `anyhow` found\n\
             As a reminder, you're using offline mode (--offline)"
        ));
        assert!(!needs_network(
            "error: failed to parse manifest at `/x/Cargo.toml`"
        ));
    }
}
