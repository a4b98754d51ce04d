//! Kamailio's log levels as the script and modules give them (`L_ERR`, `-1`, `FACILITY.L_DBG`),
//! mapped onto `tracing`'s: one mapping for xlog, pike and whoever logs at a configured level.

/// The `tracing` level a Kamailio level lands on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Err,
    Warn,
    Info,
    Debug,
}

/// A Kamailio level number (`L_ALERT` -5 .. `L_ERR` -1, `L_WARN` 0, `L_NOTICE` 1, `L_INFO` 2,
/// `L_DBG` 3).
pub fn level_of_int(n: i64) -> Level {
    match n {
        i64::MIN..=-1 => Level::Err,
        0 => Level::Warn,
        1 | 2 => Level::Info,
        _ => Level::Debug,
    }
}

/// A level name (optionally `FACILITY.L_X`) or number; anything else is an error level.
pub fn level_of(s: &str) -> Level {
    let l = s.rsplit('.').next().unwrap_or(s);
    match l {
        "L_ALERT" | "L_BUG" | "L_CRIT" | "L_CRIT2" | "L_ERR" => Level::Err,
        "L_WARN" => Level::Warn,
        "L_NOTICE" | "L_INFO" => Level::Info,
        "L_DBG" => Level::Debug,
        n => n.parse::<i64>().map_or(Level::Err, level_of_int),
    }
}

/// Logs `$text` at `$level` (a [`Level`]) with the given `tracing` target.
#[macro_export]
macro_rules! log_at {
    ($target:literal, $level:expr, $text:expr) => {
        match $level {
            $crate::host::log::Level::Err => tracing::error!(target: $target, "{}", $text),
            $crate::host::log::Level::Warn => tracing::warn!(target: $target, "{}", $text),
            $crate::host::log::Level::Info => tracing::info!(target: $target, "{}", $text),
            $crate::host::log::Level::Debug => tracing::debug!(target: $target, "{}", $text),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(level_of("L_DBG"), Level::Debug);
        assert_eq!(level_of("LOG_LOCAL0.L_WARN"), Level::Warn);
        assert_eq!(level_of("2"), Level::Info);
        assert_eq!(level_of("-3"), Level::Err);
        assert_eq!(level_of("what"), Level::Err);
        assert_eq!(level_of_int(0), Level::Warn);
    }
}
