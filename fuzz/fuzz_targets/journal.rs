//! Fuzz target `journal`: see `vbx_tokens_fuzz::checks::journal` for what it feeds and checks.

fn main() {
    afl::fuzz!(|data: &[u8]| vbx_tokens_fuzz::checks::journal(data));
}
