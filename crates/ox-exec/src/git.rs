//! The git state of the directory a run starts in. Never an error: no git, no repository or
//! an unreadable one all mean "no git info".

use std::path::Path;
use std::process::{Command, Stdio};

use ox_core::GitInfo;

/// Commit, branch and dirtiness of the repository containing `cwd`, from one
/// `git status --porcelain=v2 --branch` (untracked files do not make it dirty).
pub fn git_info(cwd: &Path) -> Option<GitInfo> {
    let out = Command::new("git")
        .args([
            "status",
            "--porcelain=v2",
            "--branch",
            "--untracked-files=no",
        ])
        .current_dir(cwd)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    parse_status(&String::from_utf8_lossy(&out.stdout))
}

/// Parses `git status --porcelain=v2 --branch` output.
pub fn parse_status(text: &str) -> Option<GitInfo> {
    let mut commit = None;
    let mut branch = None;
    let mut dirty = false;
    let mut saw_header = false;
    for line in text.lines() {
        if let Some(oid) = line.strip_prefix("# branch.oid ") {
            saw_header = true;
            commit = (oid != "(initial)").then(|| oid.to_string());
        } else if let Some(head) = line.strip_prefix("# branch.head ") {
            saw_header = true;
            branch = (head != "(detached)").then(|| head.to_string());
        } else if !line.starts_with('#') && !line.is_empty() {
            dirty = true;
        }
    }
    saw_header.then_some(GitInfo {
        commit,
        branch,
        dirty,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_clean_dirty_detached_and_initial() {
        let clean = "# branch.oid 1f5020fabc\n# branch.head main\n# branch.upstream origin/main\n";
        assert_eq!(
            parse_status(clean),
            Some(GitInfo {
                commit: Some("1f5020fabc".into()),
                branch: Some("main".into()),
                dirty: false
            })
        );
        let dirty = "# branch.oid abc\n# branch.head (detached)\n1 .M N... 100644 100644 100644 a b src/x.rs\n";
        let d = parse_status(dirty).unwrap();
        assert!(d.dirty);
        assert_eq!(d.branch, None);
        let initial = parse_status("# branch.oid (initial)\n# branch.head main\n").unwrap();
        assert_eq!(initial.commit, None);
        assert_eq!(parse_status(""), None);
    }

    #[test]
    fn outside_a_repository_is_none() {
        let dir = tempfile::tempdir().unwrap();
        // A temp dir could sit inside a repository on some machines; only check when not.
        if !dir.path().ancestors().any(|a| a.join(".git").exists()) {
            assert_eq!(git_info(dir.path()), None);
        }
    }
}
