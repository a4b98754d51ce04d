//! Core `set_reply_no_connect()`, `set_forward_no_connect()`, `set_reply_close()`,
//! `set_forward_close()`: how this message's replies and forwarded requests may use TCP
//! (`Ctx::send_flags`, honoured by the send path). Over UDP they change nothing. Each
//! returns 1, as Kamailio's actions do.

use crate::host::Ctx;
use sipvm_vm::{ArgValue, HostError};

pub fn set_reply_no_connect(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    ctx.send_flags.reply_no_connect = true;
    Ok(1)
}

pub fn set_forward_no_connect(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    ctx.send_flags.forward_no_connect = true;
    Ok(1)
}

pub fn set_reply_close(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    ctx.send_flags.reply_close = true;
    Ok(1)
}

pub fn set_forward_close(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    ctx.send_flags.forward_close = true;
    Ok(1)
}
