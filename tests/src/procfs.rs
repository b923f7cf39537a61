//! Readings from Linux's `/proc` for the benchmarks: CPU time of a process and of the whole
//! machine, a process's memory, the CPU model and the load average.

use std::fmt::Display;

/// Linux reports CPU time in ticks of 1/100 s (`USER_HZ`) on every architecture we run.
pub const TICKS_PER_SECOND: f64 = 100.0;

/// User plus system CPU seconds of a process (`"self"` or a pid), from `/proc/<pid>/stat`.
pub fn cpu_seconds(pid: impl Display) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / TICKS_PER_SECOND)
}

/// A `kB` field of `/proc/<pid>/status`, e.g. `"VmRSS"` or `"VmHWM"`.
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let value = status.lines().find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?;
    value.split_whitespace().next()?.parse().ok()
}

/// Machine-wide CPU time, from the first line of `/proc/stat`.
#[derive(Clone, Copy, Debug)]
pub struct MachineCpu {
    /// Seconds of user, nice, system, irq and softirq time over all cores.
    pub busy: f64,
    /// Seconds the hypervisor gave to others while this machine wanted to run.
    pub steal: f64,
}

impl MachineCpu {
    /// The counters now.
    pub fn now() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let ticks: Vec<u64> = stat.lines().next()?.split_whitespace().skip(1).map(|t| t.parse().unwrap_or(0)).collect();
        let at = |i: usize| ticks.get(i).copied().unwrap_or(0) as f64 / TICKS_PER_SECOND;
        // user nice system idle iowait irq softirq steal
        Some(Self { busy: at(0) + at(1) + at(2) + at(5) + at(6), steal: at(7) })
    }

    /// The time spent between `before` and these counters.
    pub fn since(&self, before: &Self) -> Self {
        Self { busy: self.busy - before.busy, steal: self.steal - before.steal }
    }
}

/// The CPU's model name.
pub fn cpu_model() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

/// Logical cores.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
