//! Kamailio's reply lumps from the script: headers (`append_to_reply`, `append_time`) and a
//! body (`set_reply_body`) for the replies sipvm itself sends to this request
//! (`sl_send_reply`, `send_reply`, `t_reply`, tm's local replies). They live in the core's
//! per-message slot [`ReplyLumps`], which the local-reply builders read.

use super::hdrs::rfc1123;
use crate::forward::ReplyLumps;
use crate::host::natives::arg_str;
use crate::host::Ctx;
use sipvm_vm::{ArgValue, HostError};

/// `append_to_reply(text)`: `text` (whole header lines, as written) goes into every reply
/// sipvm makes for this request, after the copied headers. -1 for an empty text.
pub(super) fn append_to_reply(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let text = arg_str(args, 0);
    if text.is_empty() {
        return Ok(-1);
    }
    let l = ctx.slots.entry::<ReplyLumps>();
    l.headers.extend_from_slice(text.as_bytes());
    Ok(1)
}

/// `append_time()`: a `Date:` header with the current time (GMT) for the replies.
pub(super) fn append_time(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let line = format!("Date: {}\r\n", rfc1123(now));
    let l = ctx.slots.entry::<ReplyLumps>();
    l.headers.extend_from_slice(line.as_bytes());
    Ok(1)
}

/// `set_reply_body(body, content_type)`: a body and its `Content-Type` for the replies. -1
/// when either is empty, or when a body was set already (Kamailio keeps the second
/// Content-Type line then, and so does sipvm).
pub(super) fn set_reply_body(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (body, ctype) = (arg_str(args, 0), arg_str(args, 1));
    if body.is_empty() || ctype.is_empty() {
        return Ok(-1);
    }
    let l = ctx.slots.entry::<ReplyLumps>();
    l.headers.extend_from_slice(b"Content-Type: ");
    l.headers.extend_from_slice(ctype.as_bytes());
    l.headers.extend_from_slice(b"\r\n");
    if l.body.is_some() {
        return Ok(-1);
    }
    l.body = Some(body.as_bytes().to_vec());
    Ok(1)
}
