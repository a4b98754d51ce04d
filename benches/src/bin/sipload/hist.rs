//! A log-linear latency histogram in nanoseconds: exact below 64 ns, then 32 buckets per power
//! of two (at most 1/32 = 3% relative error), up to about 2^44 ns (4.9 hours).

const SUB_BITS: u32 = 5;
const SUB: usize = 1 << SUB_BITS;
const LINEAR: usize = 2 * SUB;
const MAX_EXP: usize = 44;
const BUCKETS: usize = LINEAR + (MAX_EXP - SUB_BITS as usize - 1) * SUB;

#[derive(Clone)]
pub struct Hist {
    counts: Vec<u64>,
    total: u64,
    sum_ns: u128,
    max_ns: u64,
}

impl Default for Hist {
    fn default() -> Self {
        Hist {
            counts: vec![0; BUCKETS],
            total: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }
}

fn index(v: u64) -> usize {
    if v < LINEAR as u64 {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // >= SUB_BITS + 1
    let sub = ((v >> (e - SUB_BITS)) as usize) & (SUB - 1);
    let i = LINEAR + (e as usize - SUB_BITS as usize - 1) * SUB + sub;
    i.min(BUCKETS - 1)
}

/// The middle of bucket `i`.
fn value(i: usize) -> u64 {
    if i < LINEAR {
        return i as u64;
    }
    let e = (i - LINEAR) / SUB + SUB_BITS as usize + 1;
    let sub = ((i - LINEAR) % SUB) as u64;
    let lo = (1u64 << e) | (sub << (e - SUB_BITS as usize));
    lo + (1u64 << (e - SUB_BITS as usize)) / 2
}

impl Hist {
    pub fn record(&mut self, ns: u64) {
        self.counts[index(ns)] += 1;
        self.total += 1;
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    pub fn merge(&mut self, o: &Hist) {
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += b;
        }
        self.total += o.total;
        self.sum_ns += o.sum_ns;
        self.max_ns = self.max_ns.max(o.max_ns);
    }

    /// The `q`-quantile (0..=1) in nanoseconds; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return value(i).min(self.max_ns);
            }
        }
        self.max_ns
    }

    pub fn mean(&self) -> u64 {
        if self.total == 0 {
            0
        } else {
            (self.sum_ns / u128::from(self.total)) as u64
        }
    }

    pub fn max(&self) -> u64 {
        self.max_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for v in (0..1_000_000u64).step_by(7).chain([1 << 30, 1 << 40]) {
            let i = index(v);
            assert!(i >= last || v < 64);
            last = i;
            let mid = value(i);
            let err = (mid as f64 - v as f64).abs() / (v.max(1) as f64);
            assert!(err <= 1.0 / 32.0 + 1e-9, "v {v} mid {mid}");
        }
    }

    #[test]
    fn quantiles() {
        let mut h = Hist::default();
        for v in 1..=1000u64 {
            h.record(v * 1000);
        }
        let p50 = h.quantile(0.5) as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.04);
        let top = h.quantile(1.0) as f64;
        assert!((top - 1e6).abs() / 1e6 < 0.04);
        assert_eq!(h.total, 1000);
    }
}
