//! sipvm proxy
