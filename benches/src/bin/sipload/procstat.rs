//! CPU time and memory of a server process and all its descendants, from /proc.
//!
//! Kamailio forks its workers, so the server is the process tree under `--server-pid`: the
//! process itself and every process whose parent chain (`ppid` in `/proc/*/stat`) reaches it.
//! A process's `/proc/PID/stat` utime+stime already sums all its threads (live and exited), so
//! a multi-threaded server (sipvm) and a forking one (Kamailio) are measured alike.

use std::collections::{BTreeSet, HashMap};
use std::fs;

/// `(ppid, utime + stime in ticks)` of one process, from its stat line.
fn stat(pid: i32) -> Option<(i32, u64)> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_ascii_whitespace().collect();
    // rest[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
    let ppid = f.get(1)?.parse().ok()?;
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

/// `pid` and all its live descendants.
pub fn tree(pid: i32) -> BTreeSet<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    if let Ok(dir) = fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
                continue;
            };
            if let Some((ppid, _)) = stat(p) {
                children.entry(ppid).or_default().push(p);
            }
        }
    }
    let mut out = BTreeSet::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        if out.insert(p) {
            if let Some(c) = children.get(&p) {
                todo.extend(c);
            }
        }
    }
    out
}

fn clk_tck() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// CPU time (user + system) of each process in `pids`, in microseconds; a process that is gone
/// is left out.
pub fn cpu_us(pids: &BTreeSet<i32>) -> HashMap<i32, u64> {
    let tck = clk_tck();
    pids.iter()
        .filter_map(|&p| stat(p).map(|(_, t)| (p, t * 1_000_000 / tck)))
        .collect()
}

/// CPU microseconds spent between two samples, over the processes of the later sample
/// (a process new since the first sample counts from zero).
pub fn cpu_delta_us(before: &HashMap<i32, u64>, after: &HashMap<i32, u64>) -> u64 {
    after
        .iter()
        .map(|(p, &t)| t.saturating_sub(before.get(p).copied().unwrap_or(0)))
        .sum()
}

/// Memory of the process tree in KiB: the sum of VmRSS (counts shared memory once per process)
/// and the sum of Pss from smaps_rollup (shared pages split between their users; 0 when
/// unreadable).
pub fn memory_kb(pids: &BTreeSet<i32>) -> (u64, u64) {
    let field = |text: &str, name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_ascii_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let mut rss = 0;
    let mut pss = 0;
    for p in pids {
        if let Ok(s) = fs::read_to_string(format!("/proc/{p}/status")) {
            rss += field(&s, "VmRSS:");
        }
        if let Ok(s) = fs::read_to_string(format!("/proc/{p}/smaps_rollup")) {
            pss += field(&s, "Pss:");
        }
    }
    (rss, pss)
}

/// CPU time of this process (all threads), in microseconds.
pub fn self_cpu_us() -> u64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    us(ru.ru_utime) + us(ru.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_itself() {
        let me = std::process::id() as i32;
        let t = tree(me);
        assert!(t.contains(&me));
        assert!(cpu_us(&t).contains_key(&me));
        assert!(memory_kb(&t).0 > 0);
    }
}
