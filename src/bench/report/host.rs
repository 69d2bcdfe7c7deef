//! The machine a run was measured on, as far as Linux tells an unprivileged process.

use std::path::Path;
use std::process::Command;

/// Where the figures come from: quoted with every report, since latency figures mean nothing
/// without the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    /// `/proc/cpuinfo` "model name" of the first CPU, or `"unknown"`.
    pub cpu_model: String,
    /// CPUs this process may run on (`std::thread::available_parallelism`).
    pub cores_online: usize,
    /// Cores the measured threads were pinned to (empty if unpinned).
    pub cores_used: Vec<usize>,
    /// `/proc/sys/kernel/osrelease`, or `"unknown"`.
    pub kernel: String,
    /// cpu0's `scaling_governor`, if cpufreq is exposed.
    pub governor: Option<String>,
    /// `/sys/devices/system/cpu/isolated` if readable; an empty string means none isolated.
    pub isolated_cores: Option<String>,
    /// `git rev-parse HEAD` in the current directory, if git answers.
    pub git_commit: Option<String>,
}

impl HostInfo {
    /// Reads the host description; anything unreadable becomes `"unknown"` or `None`.
    pub fn detect(cores_used: Vec<usize>) -> HostInfo {
        HostInfo {
            cpu_model: read_trimmed("/proc/cpuinfo")
                .and_then(|text| cpu_model(&text))
                .unwrap_or_else(|| "unknown".to_owned()),
            cores_online: std::thread::available_parallelism().map_or(1, usize::from),
            cores_used,
            kernel: read_trimmed("/proc/sys/kernel/osrelease").unwrap_or_else(|| "unknown".to_owned()),
            governor: read_trimmed("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
            isolated_cores: read_trimmed("/sys/devices/system/cpu/isolated"),
            git_commit: git_head(),
        }
    }
}

/// The first "model name" value in `/proc/cpuinfo` text.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_owned())
    })
}

/// The file's contents without surrounding whitespace, if it can be read.
fn read_trimmed(path: impl AsRef<Path>) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_owned())
}

/// The current commit, if `git` runs and this is a repository.
fn git_head() -> Option<String> {
    let out = Command::new("git").args(["rev-parse", "HEAD"]).output().ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_model_is_the_first_model_name() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\n\
                    processor\t: 1\nmodel name\t: Other\n";
        assert_eq!(cpu_model(text).as_deref(), Some("Intel(R) Xeon(R) Processor"));
        assert_eq!(cpu_model("processor : 0\n"), None);
    }
}
