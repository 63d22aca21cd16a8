//! Fuzz target `token`: see `vbx_tokens_fuzz::checks::token` for what it feeds and checks.

fn main() {
    afl::fuzz!(|data: &[u8]| vbx_tokens_fuzz::checks::token(data));
}
