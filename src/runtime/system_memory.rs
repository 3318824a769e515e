//! How much memory this machine (or this container) has: the default memory limit of a session
//! is a share of it, as in DuckDB (80% of RAM) and Spark (a fraction of the heap).

/// The share of memory a session may use by default.
pub const DEFAULT_MEMORY_SHARE: f64 = 0.8;

/// The default memory limit: [`DEFAULT_MEMORY_SHARE`] of the memory available to this process
/// (the smaller of physical memory and a cgroup limit), or `None` where that is unknown.
pub fn default_memory_limit() -> Option<usize> {
    available_memory().map(|b| (b as f64 * DEFAULT_MEMORY_SHARE) as usize)
}

/// Physical memory, capped by the cgroup (v2 or v1) memory limit when one is set.
pub fn available_memory() -> Option<usize> {
    let physical = physical_memory();
    let cgroup = cgroup_limit();
    match (physical, cgroup) {
        (Some(p), Some(c)) => Some(p.min(c)),
        (p, c) => p.or(c),
    }
}

/// `MemTotal` from `/proc/meminfo` (Linux).
fn physical_memory() -> Option<usize> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_meminfo(&info)
}

fn parse_meminfo(info: &str) -> Option<usize> {
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The cgroup memory limit, when one is set (`max` and the v1 "no limit" value mean none).
fn cgroup_limit() -> Option<usize> {
    [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())
    .and_then(|s| parse_cgroup_limit(&s))
}

fn parse_cgroup_limit(text: &str) -> Option<usize> {
    let v: u64 = text.trim().parse().ok()?;
    // cgroup v1 reports "no limit" as a huge page-aligned number
    (v < 1 << 60).then_some(v as usize)
}

#[cfg(test)]
mod tests {
    use super::{default_memory_limit, parse_cgroup_limit, parse_meminfo};

    #[test]
    fn reads_meminfo_and_cgroup_limits() {
        let info = "MemTotal:       24576000 kB\nMemFree:         1000 kB\n";
        assert_eq!(parse_meminfo(info), Some(24_576_000 * 1024));
        assert_eq!(parse_meminfo("nothing"), None);
        assert_eq!(parse_cgroup_limit("max\n"), None);
        assert_eq!(parse_cgroup_limit("9223372036854771712\n"), None);
        assert_eq!(parse_cgroup_limit("2147483648\n"), Some(2 << 30));
    }

    #[test]
    fn the_default_limit_is_a_share_of_this_machine() {
        if let Some(limit) = default_memory_limit() {
            assert!(limit > 64 << 20, "{limit}");
        }
    }
}
